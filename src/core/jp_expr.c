/*
 * jp_expr.c - expressions in Lua's syntax over a dataset's fields: lexer,
 * parser (Lua's own operator priorities), type checker with constant
 * folding and unit derivation, a register bytecode, and its evaluator.
 *
 * Evaluation is column-at-a-time: the program runs over batches of BATCH
 * rows; each instruction is one tight loop over typed arrays with a null
 * mask (NULL = no nulls in this batch).  Field loads are views into the
 * columns, never copies.  Registers are single-assignment; a register's
 * arrays live in a slot that later registers reuse once it is dead, so a
 * register may point into a column, a constant or its own slot, never into
 * another register's (those values are copied).
 *
 * Nothing recurses over the tree: the parser keeps operators on an explicit
 * stack and recurses only into parentheses and calls (JP_EXPR_MAX_DEPTH
 * deep); checking runs over the node array, which is in post-order; code
 * generation walks with an explicit stack.
 *
 * Owns: the expression language.  Must never: modify an input column or
 * dataset, print, call Lua, keep a pointer to the schema it compiled
 * against.
 */
#include "jp_expr.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_mem.h"
#include "jp_unit.h"

#define BATCH 1024
/* constants with broadcast arrays made at compile time (see const_reg) */
#define STATIC_CONSTS 256

/* ---- tokens --------------------------------------------------------------- */

enum tok_kind {
    T_EOF,
    T_INT,
    T_FLT,
    T_STR,
    T_NAME,
    T_AND,
    T_OR,
    T_NOT,
    T_NIL,
    T_TRUE,
    T_FALSE,
    T_LP,
    T_RP,
    T_COMMA,
    /* binary / unary operators */
    T_ADD,
    T_SUB,
    T_MUL,
    T_DIV,
    T_IDIV,
    T_MOD,
    T_POW,
    T_LEN,
    T_CONCAT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE
};

typedef struct token {
    int kind;
    size_t pos, len; /* byte span in the source */
    int64_t i;
    double d;
    char *s; /* T_STR / T_NAME: unescaped text (jp_malloc'd) */
    size_t slen;
} token_t;

/* ---- AST ------------------------------------------------------------------ */

enum node_kind { N_CONST, N_FIELD, N_UNARY, N_BINARY, N_AND, N_OR, N_CALL };

/* jp_type_t plus the type of `nil` */
#define TY_NIL ((jp_type_t)100)

enum fn_id {
    F_ABS,
    F_FLOOR,
    F_CEIL,
    F_ROUND,
    F_SQRT,
    F_LOG,
    F_EXP,
    F_MIN,
    F_MAX,
    F_LOWER,
    F_UPPER,
    F_LEN,
    F_SUBSTR,
    F_COALESCE,
    F_IF_ELSE,
    F_TOSTRING,
    F_YEAR,
    F_MONTH,
    F_DAY
};

static const struct fn_desc {
    const char *name;
    int id, min_args, max_args; /* max -1: any */
} fns[] = {{"abs", F_ABS, 1, 1},         {"floor", F_FLOOR, 1, 1},
           {"ceil", F_CEIL, 1, 1},       {"round", F_ROUND, 1, 2},
           {"sqrt", F_SQRT, 1, 1},       {"log", F_LOG, 1, 2},
           {"exp", F_EXP, 1, 1},         {"min", F_MIN, 1, -1},
           {"max", F_MAX, 1, -1},        {"lower", F_LOWER, 1, 1},
           {"upper", F_UPPER, 1, 1},     {"len", F_LEN, 1, 1},
           {"substr", F_SUBSTR, 2, 3},   {"coalesce", F_COALESCE, 1, -1},
           {"if_else", F_IF_ELSE, 3, 3}, {"tostring", F_TOSTRING, 1, 1},
           {"year", F_YEAR, 1, 1},       {"month", F_MONTH, 1, 1},
           {"day", F_DAY, 1, 1}};
#define NFNS (sizeof fns / sizeof fns[0])

typedef struct node {
    int kind;
    int op;          /* token kind of the operator, or fn id */
    size_t pos, end; /* source span */
    size_t op_pos;   /* the operator / function name token */
    jp_type_t type;  /* after checking; TY_NIL for nil */
    int field;       /* N_FIELD */
    int kids[3];     /* node indices; N_CALL uses args/nargs */
    int *args;
    int nargs;
    /* N_CONST */
    bool is_null;
    int64_t i;
    double d;
    char *s;
    size_t slen;
    char unit[64]; /* derived unit ("" = none) */
    int reg;       /* code generation */
    int parent;    /* -1 for the root */
    int need;      /* registers its code holds at once (Sethi-Ullman) */
    bool konst;    /* no field below: the value is known at compile time */
    bool chain;    /* a '..' whose parent is a '..' (one n-ary concatenation) */
} node_t;

/* ---- program -------------------------------------------------------------- */

enum op {
    OP_LOAD,
    OP_I2D,
    OP_ADD_I,
    OP_ADD_D,
    OP_SUB_I,
    OP_SUB_D,
    OP_MUL_I,
    OP_MUL_D,
    OP_DIV_D,
    OP_IDIV_I,
    OP_IDIV_D,
    OP_MOD_I,
    OP_MOD_D,
    OP_POW_D,
    OP_NEG_I,
    OP_NEG_D,
    OP_CMP_I,
    OP_CMP_D,
    OP_CMP_B,
    OP_CMP_T,
    OP_CMP_S,
    OP_ISNULL,
    OP_NOTNULL,
    OP_TRUTHY,
    OP_NOT,
    OP_SELECT,
    OP_ABS_I,
    OP_ABS_D,
    OP_FLOOR_D,
    OP_CEIL_D,
    OP_ROUND_D,
    OP_SQRT_D,
    OP_LOG_D,
    OP_LOGB_D,
    OP_EXP_D,
    OP_MINMAX_I,
    OP_MINMAX_D,
    OP_MINMAX_T,
    OP_MINMAX_S,
    OP_LOWER,
    OP_UPPER,
    OP_LEN_S,
    OP_SUBSTR,
    OP_TOSTR_I,
    OP_TOSTR_D,
    OP_TOSTR_B,
    OP_TOSTR_T,
    OP_YMD,
    OP_CONST,
    OP_CAT_BEGIN,
    OP_CAT_ADD,
    OP_CAT_END
};

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

/* Does comparison `sub` hold for a three-way result cr (<0, 0, >0)? */
static inline uint8_t cmp_holds(int sub, int cr)
{
    switch (sub) {
    case C_EQ:
        return cr == 0;
    case C_NE:
        return cr != 0;
    case C_LT:
        return cr < 0;
    case C_LE:
        return cr <= 0;
    case C_GT:
        return cr > 0;
    default:
        return cr >= 0;
    }
}

typedef struct ins {
    uint8_t op;
    uint8_t sub; /* cmp kind, min(0)/max(1), year(0)/month(1)/day(2) */
    int32_t dst, a, b, c;
    int32_t field;
    double k; /* round: digits */
} ins_t;

typedef struct reg_info {
    jp_type_t type;
    bool is_const;
    bool cnull;          /* const: nil */
    bool dyn_dict;       /* owns a dictionary that grows during evaluation */
    bool builder;        /* a concatenation in progress: one growing string per row */
    int32_t slot;        /* its buffers (-1: a view of a column or constant) */
    int64_t ci;          /* const integer, boolean or date */
    double cd;           /* const number */
    void *cval;          /* static const: BATCH broadcast values (NULL: OP_CONST fills it) */
    uint8_t *cnul;       /* static const: BATCH null bytes or NULL */
    jp_strdict_t *cdict; /* const string: its dictionary */
} reg_info_t;

struct jp_expr {
    char *src;
    jp_type_t type;
    char *unit;
    size_t *inputs;
    size_t n_inputs;
    bool bound;
    ins_t *code;
    size_t n_code;
    reg_info_t *regs;
    size_t n_regs;
    size_t n_slots;  /* buffers, shared by registers whose lives do not overlap */
    size_t n_static; /* constants with broadcast arrays */
    int result;
};

/* ---- compiler state ------------------------------------------------------- */

typedef struct cstate {
    const char *src;
    size_t srclen;
    const jp_schema_t *schema;
    bool defer_types; /* fields of type NONE are accepted (lazy inputs) */
    jp_error_t *err;
    jp_status_t st;
    token_t tok; /* current token */
    size_t p;    /* lexer position */
    node_t *nodes;
    size_t n_nodes, cap_nodes;
    size_t n_tokens;
    int depth; /* parentheses and calls open (the parser's C recursion) */
    /* the operator-precedence parser's stacks, shared by all nesting levels */
    struct pending {
        int op;
        size_t pos;
        int right; /* right priority: what binds tighter goes into its operand */
        bool unary;
    } * ops;
    size_t n_ops, cap_ops;
    int *vals, *walk;
    size_t n_vals, cap_vals, n_walk, cap_walk;
    jp_expr_t *e;
    size_t cap_code, cap_regs, cap_inputs;
    int statics[STATIC_CONSTS]; /* constant registers with broadcast arrays */
    size_t n_statics;
} cstate_t;

static void tok_free(token_t *t)
{
    jp_free(t->s);
    t->s = NULL;
}

/* The source quoted for messages, shortened when long. */
static void quote_src(const cstate_t *cs, char *buf, size_t size)
{
    if (cs->srclen > 60)
        snprintf(buf, size, "\"%.57s...\"", cs->src);
    else
        snprintf(buf, size, "\"%s\"", cs->src);
}

static jp_status_t cerr(cstate_t *cs, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static jp_status_t cerr(cstate_t *cs, size_t pos, const char *fmt, ...)
{
    if (cs->st) return cs->st; /* keep the first error */
    char msg[700], q[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    quote_src(cs, q, sizeof q);
    cs->st = jp_error_set(cs->err, JP_ERR_EXPR, "%s in %s", msg, q);
    if (cs->err) cs->err->col = (long)pos + 1;
    return cs->st;
}

static jp_status_t cnomem(cstate_t *cs)
{
    if (!cs->st) cs->st = jp_error_set(cs->err, JP_ERR_NOMEM, "out of memory");
    return cs->st;
}

/* ---- lexer ---------------------------------------------------------------- */

static bool is_name_start(int c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}
static bool is_name_char(int c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

static const char *tok_text(int kind)
{
    switch (kind) {
    case T_ADD:
        return "+";
    case T_SUB:
        return "-";
    case T_MUL:
        return "*";
    case T_DIV:
        return "/";
    case T_IDIV:
        return "//";
    case T_MOD:
        return "%";
    case T_POW:
        return "^";
    case T_LEN:
        return "#";
    case T_CONCAT:
        return "..";
    case T_EQ:
        return "==";
    case T_NE:
        return "~=";
    case T_LT:
        return "<";
    case T_LE:
        return "<=";
    case T_GT:
        return ">";
    case T_GE:
        return ">=";
    case T_AND:
        return "and";
    case T_OR:
        return "or";
    case T_NOT:
        return "not";
    default:
        return "?";
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static jp_status_t lex_string(cstate_t *cs, token_t *t)
{
    const char *s = cs->src;
    char q = s[cs->p];
    size_t start = cs->p++;
    jp_buf_t b = JP_BUF_INIT;
    for (;;) {
        if (cs->p >= cs->srclen) {
            jp_buf_free(&b);
            return cerr(cs, start, "unterminated string starting at column %zu", start + 1);
        }
        char c = s[cs->p];
        if (c == q) {
            cs->p++;
            break;
        }
        if (c == '\\') {
            size_t epos = cs->p;
            char e = cs->p + 1 < cs->srclen ? s[cs->p + 1] : '\0';
            cs->p += 2;
            int v;
            switch (e) {
            case 'n':
                v = '\n';
                break;
            case 't':
                v = '\t';
                break;
            case 'r':
                v = '\r';
                break;
            case 'a':
                v = '\a';
                break;
            case 'b':
                v = '\b';
                break;
            case 'f':
                v = '\f';
                break;
            case 'v':
                v = '\v';
                break;
            case '\\':
                v = '\\';
                break;
            case '"':
                v = '"';
                break;
            case '\'':
                v = '\'';
                break;
            case 'x': {
                int h1 = cs->p < cs->srclen ? hexval((unsigned char)s[cs->p]) : -1;
                int h2 = cs->p + 1 < cs->srclen ? hexval((unsigned char)s[cs->p + 1]) : -1;
                if (h1 < 0 || h2 < 0) {
                    jp_buf_free(&b);
                    return cerr(cs, epos, "bad escape '\\x' at column %zu", epos + 1);
                }
                v = h1 * 16 + h2;
                cs->p += 2;
                break;
            }
            default:
                if (e >= '0' && e <= '9') {
                    v = e - '0';
                    for (int k = 0; k < 2 && cs->p < cs->srclen && isdigit((unsigned char)s[cs->p]);
                         k++)
                        v = v * 10 + (s[cs->p++] - '0');
                    if (v > 255) {
                        jp_buf_free(&b);
                        return cerr(cs, epos, "bad escape at column %zu (decimal above 255)",
                                    epos + 1);
                    }
                } else {
                    jp_buf_free(&b);
                    return cerr(cs, epos, "bad escape '\\%c' at column %zu", e ? e : ' ', epos + 1);
                }
            }
            if (jp_buf_putc(&b, (char)v)) {
                jp_buf_free(&b);
                return cnomem(cs);
            }
            continue;
        }
        if (jp_buf_putc(&b, c)) {
            jp_buf_free(&b);
            return cnomem(cs);
        }
        cs->p++;
    }
    if (!b.data && jp_buf_reserve(&b, 1)) return cnomem(cs);
    t->kind = T_STR;
    t->slen = b.len;
    t->s = jp_buf_detach(&b, NULL);
    return JP_OK;
}

static jp_status_t lex_number(cstate_t *cs, token_t *t)
{
    const char *s = cs->src;
    size_t start = cs->p;
    if (s[cs->p] == '0' && (s[cs->p + 1] == 'x' || s[cs->p + 1] == 'X')) {
        cs->p += 2;
        uint64_t v = 0;
        size_t nd = 0;
        while (cs->p < cs->srclen && hexval((unsigned char)s[cs->p]) >= 0) {
            v = v * 16 + (uint64_t)hexval((unsigned char)s[cs->p++]);
            nd++;
        }
        if (!nd || (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p])))
            return cerr(cs, start, "malformed number at column %zu", start + 1);
        t->kind = T_INT;
        t->i = (int64_t)v; /* wraps around like Lua's hexadecimal integers */
        return JP_OK;
    }
    bool flt = false;
    while (cs->p < cs->srclen) {
        char c = s[cs->p];
        if (isdigit((unsigned char)c))
            cs->p++;
        else if (c == '.' && !(cs->p + 1 < cs->srclen && s[cs->p + 1] == '.')) {
            flt = true;
            cs->p++;
        } else if ((c == 'e' || c == 'E')) {
            flt = true;
            cs->p++;
            if (cs->p < cs->srclen && (s[cs->p] == '+' || s[cs->p] == '-')) cs->p++;
        } else
            break;
    }
    if (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p]))
        return cerr(cs, start, "malformed number at column %zu", start + 1);
    size_t n = cs->p - start;
    char buf[128];
    if (n >= sizeof buf) return cerr(cs, start, "number too long at column %zu", start + 1);
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    if (!flt) {
        errno = 0;
        char *endp;
        unsigned long long v = strtoull(buf, &endp, 10);
        if (!errno && *endp == '\0' && v <= (unsigned long long)INT64_MAX) {
            t->kind = T_INT;
            t->i = (int64_t)v;
            return JP_OK;
        }
    }
    char *endp;
    double d = strtod(buf, &endp);
    if (*endp != '\0' || endp == buf)
        return cerr(cs, start, "malformed number '%s' at column %zu", buf, start + 1);
    t->kind = T_FLT;
    t->d = d;
    return JP_OK;
}

/* Read the next token into cs->tok. */
static jp_status_t next(cstate_t *cs)
{
    token_t *t = &cs->tok;
    tok_free(t);
    memset(t, 0, sizeof *t);
    const char *s = cs->src;
    while (cs->p < cs->srclen && isspace((unsigned char)s[cs->p])) cs->p++;
    t->pos = cs->p;
    if (cs->p >= cs->srclen) {
        t->kind = T_EOF;
        return JP_OK;
    }
    if (++cs->n_tokens > JP_EXPR_MAX_TOKENS)
        return cerr(cs, t->pos, "expression too long at column %zu (more than %d tokens)",
                    t->pos + 1, JP_EXPR_MAX_TOKENS);
    unsigned char c = (unsigned char)s[cs->p];
    char c1 = cs->p + 1 < cs->srclen ? s[cs->p + 1] : '\0';
    jp_status_t st = JP_OK;
    if (is_name_start(c)) {
        size_t start = cs->p;
        while (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p])) cs->p++;
        size_t n = cs->p - start;
#define KW(w, k)                                                                                   \
    if (n == sizeof(w) - 1 && memcmp(s + start, w, n) == 0) {                                      \
        t->kind = k;                                                                               \
        goto done;                                                                                 \
    }
        KW("and", T_AND)
        KW("or", T_OR)
        KW("not", T_NOT)
        KW("nil", T_NIL)
        KW("true", T_TRUE)
        KW("false", T_FALSE)
#undef KW
        t->kind = T_NAME;
        if (!(t->s = jp_strndup(s + start, n))) return cnomem(cs);
        t->slen = n;
        goto done;
    }
    if (c == '`') {
        size_t start = cs->p++;
        const char *q = memchr(s + cs->p, '`', cs->srclen - cs->p);
        if (!q) return cerr(cs, start, "unterminated `name` starting at column %zu", start + 1);
        size_t n = (size_t)(q - (s + cs->p));
        if (!n) return cerr(cs, start, "empty `` name at column %zu", start + 1);
        t->kind = T_NAME;
        if (!(t->s = jp_strndup(s + cs->p, n))) return cnomem(cs);
        t->slen = n;
        cs->p += n + 1;
        goto done;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)c1))) {
        st = lex_number(cs, t);
        goto done;
    }
    if (c == '\'' || c == '"') {
        st = lex_string(cs, t);
        goto done;
    }
    cs->p++;
    switch (c) {
    case '(':
        t->kind = T_LP;
        break;
    case ')':
        t->kind = T_RP;
        break;
    case ',':
        t->kind = T_COMMA;
        break;
    case '+':
        t->kind = T_ADD;
        break;
    case '-':
        if (c1 == '-') return cerr(cs, t->pos, "comments are not allowed (column %zu)", t->pos + 1);
        t->kind = T_SUB;
        break;
    case '*':
        t->kind = T_MUL;
        break;
    case '/':
        if (c1 == '/') {
            cs->p++;
            t->kind = T_IDIV;
        } else
            t->kind = T_DIV;
        break;
    case '%':
        t->kind = T_MOD;
        break;
    case '^':
        t->kind = T_POW;
        break;
    case '#':
        t->kind = T_LEN;
        break;
    case '.':
        if (c1 == '.') {
            cs->p++;
            t->kind = T_CONCAT;
        } else
            return cerr(cs, t->pos, "unexpected '.' at column %zu", t->pos + 1);
        break;
    case '=':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_EQ;
        } else
            return cerr(cs, t->pos, "unexpected '=' at column %zu (use == to compare)", t->pos + 1);
        break;
    case '~':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_NE;
        } else
            return cerr(cs, t->pos,
                        "unexpected '~' at column %zu (bitwise operators are not "
                        "supported; ~= means 'not equal')",
                        t->pos + 1);
        break;
    case '!':
        if (c1 == '=')
            return cerr(cs, t->pos, "unexpected '!=' at column %zu (use ~= for 'not equal')",
                        t->pos + 1);
        return cerr(cs, t->pos, "unexpected '!' at column %zu (use 'not')", t->pos + 1);
    case '&':
        return cerr(cs, t->pos, "unexpected '%s' at column %zu (use 'and')", c1 == '&' ? "&&" : "&",
                    t->pos + 1);
    case '|':
        return cerr(cs, t->pos, "unexpected '%s' at column %zu (use 'or')", c1 == '|' ? "||" : "|",
                    t->pos + 1);
    case '<':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_LE;
        } else if (c1 == '<') {
            return cerr(cs, t->pos,
                        "unexpected '<<' at column %zu (bitwise operators are not "
                        "supported)",
                        t->pos + 1);
        } else if (c1 == '>') {
            return cerr(cs, t->pos, "unexpected '<>' at column %zu (use ~= for 'not equal')",
                        t->pos + 1);
        } else
            t->kind = T_LT;
        break;
    case '>':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_GE;
        } else if (c1 == '>') {
            return cerr(cs, t->pos,
                        "unexpected '>>' at column %zu (bitwise operators are not "
                        "supported)",
                        t->pos + 1);
        } else
            t->kind = T_GT;
        break;
    default:
        if (isprint(c)) return cerr(cs, t->pos, "unexpected '%c' at column %zu", c, t->pos + 1);
        return cerr(cs, t->pos, "unexpected byte 0x%02x at column %zu", c, t->pos + 1);
    }
done:
    t->len = cs->p - t->pos;
    return st;
}

/* ---- parser (Lua 5.4's priority table, iterative) ------------------------- */

static int new_node(cstate_t *cs, int kind, size_t pos)
{
    if (cs->n_nodes == cs->cap_nodes) {
        size_t cap = cs->cap_nodes ? cs->cap_nodes * 2 : 32;
        node_t *n = jp_realloc_array(cs->nodes, cap, sizeof *n);
        if (!n) {
            cnomem(cs);
            return -1;
        }
        cs->nodes = n;
        cs->cap_nodes = cap;
    }
    node_t *n = &cs->nodes[cs->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->pos = n->op_pos = pos;
    n->end = pos;
    n->field = -1;
    n->reg = -1;
    n->kids[0] = n->kids[1] = n->kids[2] = -1;
    return (int)cs->n_nodes++;
}

static const struct {
    int left, right;
} prio[] = {
    /* indexed by kind - T_ADD */
    {10, 10}, /* + */
    {10, 10}, /* - */
    {11, 11}, /* * */
    {11, 11}, /* / */
    {11, 11}, /* // */
    {11, 11}, /* % */
    {14, 13}, /* ^ (right associative) */
    {0, 0},   /* # is unary only */
    {9, 8},   /* .. (right associative) */
    {3, 3},   /* == */
    {3, 3},   /* ~= */
    {3, 3},   /* < */
    {3, 3},   /* <= */
    {3, 3},   /* > */
    {3, 3},   /* >= */
};
#define UNARY_PRIORITY 12

static bool binop_prio(int kind, int *left, int *right)
{
    if (kind == T_AND) {
        *left = *right = 2;
        return true;
    }
    if (kind == T_OR) {
        *left = *right = 1;
        return true;
    }
    if (kind >= T_ADD && kind <= T_GE && kind != T_LEN) {
        *left = prio[kind - T_ADD].left;
        *right = prio[kind - T_ADD].right;
        return true;
    }
    return false;
}

/* Enter a nesting level (a parenthesis or a call): the parser recurses there. */
static bool enter(cstate_t *cs, size_t pos)
{
    if (++cs->depth <= JP_EXPR_MAX_DEPTH) return true;
    cerr(cs, pos,
         "expression nested too deeply at column %zu (more than %d levels of parentheses and "
         "function calls)",
         pos + 1, JP_EXPR_MAX_DEPTH);
    return false;
}

static int parse_expr(cstate_t *cs);

static int call_expr(cstate_t *cs, char *name, size_t pos)
{
    const struct fn_desc *f = NULL;
    for (size_t k = 0; k < NFNS; k++)
        if (strcmp(fns[k].name, name) == 0) f = &fns[k];
    if (!f) {
        cerr(cs, pos,
             "unknown function '%s' at column %zu (functions: abs, floor, ceil, "
             "round, sqrt, log, exp, min, max, lower, upper, len, substr, "
             "coalesce, if_else, tostring, year, month, day)",
             name, pos + 1);
        jp_free(name);
        return -1;
    }
    jp_free(name);
    if (!enter(cs, pos) || next(cs)) return -1;
    int *args = NULL;
    int nargs = 0;
    if (cs->tok.kind != T_RP) {
        for (;;) {
            int a = parse_expr(cs);
            if (a < 0) {
                jp_free(args);
                return -1;
            }
            int *na = jp_realloc_array(args, (size_t)nargs + 1, sizeof *na);
            if (!na) {
                jp_free(args);
                cnomem(cs);
                return -1;
            }
            args = na;
            args[nargs++] = a;
            if (cs->tok.kind != T_COMMA) break;
            if (next(cs)) {
                jp_free(args);
                return -1;
            }
        }
    }
    cs->depth--;
    if (cs->tok.kind != T_RP) {
        jp_free(args);
        cerr(cs, cs->tok.pos, "expected ')' or ',' in the arguments of %s() at column %zu", f->name,
             cs->tok.pos + 1);
        return -1;
    }
    if (nargs < f->min_args || (f->max_args >= 0 && nargs > f->max_args)) {
        jp_free(args);
        if (f->min_args == f->max_args)
            cerr(cs, pos, "%s() takes %d argument%s, not %d (column %zu)", f->name, f->min_args,
                 f->min_args == 1 ? "" : "s", nargs, pos + 1);
        else if (f->max_args < 0)
            cerr(cs, pos, "%s() takes at least %d argument%s (column %zu)", f->name, f->min_args,
                 f->min_args == 1 ? "" : "s", pos + 1);
        else
            cerr(cs, pos, "%s() takes %d to %d arguments, not %d (column %zu)", f->name,
                 f->min_args, f->max_args, nargs, pos + 1);
        return -1;
    }
    /* made after its arguments: every node comes after the nodes below it */
    int id = new_node(cs, N_CALL, pos);
    if (id < 0) {
        jp_free(args);
        return -1;
    }
    cs->nodes[id].op = f->id;
    cs->nodes[id].args = args;
    cs->nodes[id].nargs = nargs;
    cs->nodes[id].end = cs->tok.pos + 1;
    return next(cs) ? -1 : id;
}

static int field_expr(cstate_t *cs, char *name, size_t pos, size_t end)
{
    long fi = jp_schema_find(cs->schema, name);
    if (fi < 0) {
        const char *sug = jp_schema_suggest(cs->schema, name);
        char hint[200] = "";
        if (sug) snprintf(hint, sizeof hint, " (did you mean '%s'?)", sug);
        cerr(cs, pos, "unknown field '%s' at column %zu%s", name, pos + 1, "");
        if (cs->err) {
            /* the hint goes after the quoted source */
            size_t l = strlen(cs->err->msg);
            snprintf(cs->err->msg + l, sizeof cs->err->msg - l, "%s", hint);
            jp_error_field(cs->err, name);
        }
        jp_free(name);
        return -1;
    }
    jp_free(name);
    int id = new_node(cs, N_FIELD, pos);
    if (id < 0) return -1;
    cs->nodes[id].field = (int)fi;
    cs->nodes[id].end = end;
    return id;
}

static int simpleexp(cstate_t *cs)
{
    token_t *t = &cs->tok;
    int id;
    switch (t->kind) {
    case T_INT:
    case T_FLT:
    case T_STR:
    case T_NIL:
    case T_TRUE:
    case T_FALSE: {
        if ((id = new_node(cs, N_CONST, t->pos)) < 0) return -1;
        node_t *n = &cs->nodes[id];
        n->end = t->pos + t->len;
        if (t->kind == T_INT) {
            n->type = JP_TYPE_INT;
            n->i = t->i;
        } else if (t->kind == T_FLT) {
            n->type = JP_TYPE_NUMBER;
            n->d = t->d;
        } else if (t->kind == T_STR) {
            n->type = JP_TYPE_STRING;
            n->s = t->s;
            n->slen = t->slen;
            t->s = NULL;
        } else if (t->kind == T_NIL) {
            n->type = TY_NIL;
            n->is_null = true;
        } else {
            n->type = JP_TYPE_BOOL;
            n->i = t->kind == T_TRUE;
        }
        return next(cs) ? -1 : id;
    }
    case T_LP: {
        size_t pos = t->pos;
        if (!enter(cs, pos) || next(cs)) return -1;
        int e = parse_expr(cs);
        if (e < 0) return -1;
        cs->depth--;
        if (cs->tok.kind != T_RP) {
            cerr(cs, cs->tok.pos, "expected ')' to close '(' at column %zu, found %s at column %zu",
                 pos + 1, cs->tok.kind == T_EOF ? "the end" : "another token", cs->tok.pos + 1);
            return -1;
        }
        cs->nodes[e].pos = pos;
        cs->nodes[e].end = cs->tok.pos + 1;
        return next(cs) ? -1 : e;
    }
    case T_NAME: {
        size_t pos = t->pos;
        char *name = t->s;
        t->s = NULL;
        size_t end = t->pos + t->len;
        if (next(cs)) {
            jp_free(name);
            return -1;
        }
        if (cs->tok.kind == T_LP) return call_expr(cs, name, pos);
        return field_expr(cs, name, pos, end);
    }
    case T_EOF:
        cerr(cs, t->pos, "unexpected end of expression at column %zu", t->pos + 1);
        return -1;
    default:
        cerr(cs, t->pos, "unexpected '%.*s' at column %zu", (int)t->len, cs->src + t->pos,
             t->pos + 1);
        return -1;
    }
}

static bool push_op(cstate_t *cs, int op, size_t pos, int right, bool unary)
{
    if (cs->n_ops == cs->cap_ops) {
        size_t cap = cs->cap_ops ? cs->cap_ops * 2 : 16;
        struct pending *p = jp_realloc_array(cs->ops, cap, sizeof *p);
        if (!p) {
            cnomem(cs);
            return false;
        }
        cs->ops = p;
        cs->cap_ops = cap;
    }
    cs->ops[cs->n_ops++] = (struct pending){op, pos, right, unary};
    return true;
}

static bool push_int(cstate_t *cs, int **arr, size_t *n, size_t *cap, int v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        int *p = jp_realloc_array(*arr, c, sizeof *p);
        if (!p) {
            cnomem(cs);
            return false;
        }
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return true;
}

/* Apply the operator on top of the stack to the operand(s) on top of the
 * value stack. */
static bool reduce(cstate_t *cs)
{
    struct pending p = cs->ops[--cs->n_ops];
    int b = cs->vals[cs->n_vals - 1];
    if (p.unary) {
        int e = new_node(cs, N_UNARY, p.pos);
        if (e < 0) return false;
        cs->nodes[e].op = p.op;
        cs->nodes[e].kids[0] = b;
        cs->nodes[e].end = cs->nodes[b].end;
        cs->vals[cs->n_vals - 1] = e;
        return true;
    }
    int a = cs->vals[cs->n_vals - 2];
    int kind = p.op == T_AND ? N_AND : p.op == T_OR ? N_OR : N_BINARY;
    int e = new_node(cs, kind, cs->nodes[a].pos);
    if (e < 0) return false;
    node_t *n = &cs->nodes[e];
    n->op = p.op;
    n->op_pos = p.pos;
    n->kids[0] = a;
    n->kids[1] = b;
    n->end = cs->nodes[b].end;
    cs->n_vals--;
    cs->vals[cs->n_vals - 1] = e;
    return true;
}

/*
 * One expression, by operator precedence over two explicit stacks (the
 * priorities are Lua 5.4's subexpr table, so the trees are the ones Lua
 * builds): chains of operators of any length take no C stack, and only
 * parentheses and calls recurse, JP_EXPR_MAX_DEPTH deep at most.  Nodes are
 * made after their operands, so the node array is in post-order.
 */
static int parse_expr(cstate_t *cs)
{
    size_t ops_base = cs->n_ops;
    for (;;) {
        while (cs->tok.kind == T_NOT || cs->tok.kind == T_SUB || cs->tok.kind == T_LEN) {
            if (!push_op(cs, cs->tok.kind, cs->tok.pos, UNARY_PRIORITY, true) || next(cs))
                return -1;
        }
        int a = simpleexp(cs);
        if (a < 0 || !push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, a)) return -1;
        int left, right, op = cs->tok.kind;
        if (!binop_prio(op, &left, &right)) break;
        while (cs->n_ops > ops_base && cs->ops[cs->n_ops - 1].right >= left)
            if (!reduce(cs)) return -1;
        if (!push_op(cs, op, cs->tok.pos, right, false) || next(cs)) return -1;
    }
    while (cs->n_ops > ops_base)
        if (!reduce(cs)) return -1;
    return cs->vals[--cs->n_vals];
}

/* ---- type checking -------------------------------------------------------- */

static const char *ty_name(jp_type_t t)
{
    return t == TY_NIL ? "nil" : jp_type_name(t);
}

/* "string 'crop'", "number 3", "number (a + b)" for messages. */
static const char *describe(cstate_t *cs, int id, char *buf, size_t size)
{
    node_t *n = &cs->nodes[id];
    if (n->kind == N_FIELD)
        snprintf(buf, size, "%s '%s'", ty_name(n->type), cs->schema->fields[n->field].name);
    else if (n->type == TY_NIL)
        snprintf(buf, size, "nil");
    else {
        size_t len = n->end - n->pos;
        if (len > 40)
            snprintf(buf, size, "%s %.37s...", ty_name(n->type), cs->src + n->pos);
        else
            snprintf(buf, size, "%s %.*s", ty_name(n->type), (int)len, cs->src + n->pos);
    }
    return buf;
}

static bool is_num(jp_type_t t)
{
    return t == JP_TYPE_INT || t == JP_TYPE_NUMBER;
}

/* Common type of two branches (or/if_else/coalesce/min/max); NONE if none. */
static jp_type_t unify(jp_type_t a, jp_type_t b)
{
    if (a == TY_NIL) return b;
    if (b == TY_NIL) return a;
    if (a == b) return a;
    if (is_num(a) && is_num(b)) return JP_TYPE_NUMBER;
    return JP_TYPE_NONE;
}

static bool unit_is(const char *u, const char *v)
{
    return u[0] && strcmp(u, v) == 0;
}

static void derive_unit(cstate_t *cs, node_t *n)
{
    n->unit[0] = '\0';
    const jp_schema_t *s = cs->schema;
    if (!is_num(n->type)) return;
    node_t *a = n->kids[0] >= 0 ? &cs->nodes[n->kids[0]] : NULL;
    node_t *b = n->kids[1] >= 0 ? &cs->nodes[n->kids[1]] : NULL;
    switch (n->kind) {
    case N_FIELD:
        if (s->fields[n->field].unit)
            snprintf(n->unit, sizeof n->unit, "%s", s->fields[n->field].unit);
        return;
    case N_UNARY:
        if (n->op == T_SUB) memcpy(n->unit, a->unit, sizeof n->unit);
        return;
    case N_OR:
        if (strcmp(a->unit, b->unit) == 0 || b->kind == N_CONST)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (a->type == TY_NIL)
            memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case N_AND:
        memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case N_BINARY:
        break;
    case N_CALL: {
        /* functions that keep their argument's unit */
        if (n->op == F_ABS || n->op == F_FLOOR || n->op == F_CEIL || n->op == F_ROUND) {
            memcpy(n->unit, cs->nodes[n->args[0]].unit, sizeof n->unit);
        } else if (n->op == F_MIN || n->op == F_MAX || n->op == F_COALESCE || n->op == F_IF_ELSE) {
            int from = n->op == F_IF_ELSE ? 1 : 0;
            const char *u = NULL;
            for (int k = from; k < n->nargs; k++) {
                node_t *x = &cs->nodes[n->args[k]];
                if (x->type == TY_NIL) continue;
                if (!u)
                    u = x->unit;
                else if (strcmp(u, x->unit) != 0)
                    return;
            }
            if (u) snprintf(n->unit, sizeof n->unit, "%s", u);
        }
        return;
    }
    default:
        return;
    }
    bool ac = a->kind == N_CONST, bc = b->kind == N_CONST;
    switch (n->op) {
    case T_ADD:
    case T_SUB:
        if (unit_is(a->unit, b->unit) || (a->unit[0] && bc))
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (b->unit[0] && ac)
            memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case T_MUL: {
        if (a->unit[0] && bc)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (b->unit[0] && ac)
            memcpy(n->unit, b->unit, sizeof n->unit);
        else if (a->unit[0] && b->unit[0]) {
            /* (X/Y) * Y = X */
            const node_t *p = a, *q = b;
            for (int k = 0; k < 2; k++) {
                const char *sl = strchr(p->unit, '/');
                if (sl && strcmp(sl + 1, q->unit) == 0) {
                    snprintf(n->unit, sizeof n->unit, "%.*s", (int)(sl - p->unit), p->unit);
                    return;
                }
                p = b;
                q = a;
            }
        }
        return;
    }
    case T_DIV:
    case T_IDIV:
        if (a->unit[0] && bc)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (a->unit[0] && b->unit[0] && strcmp(a->unit, b->unit) != 0 &&
                 !strchr(a->unit, '/') && !strchr(b->unit, '/')) {
            char text[140], buf[64];
            snprintf(text, sizeof text, "%s/%s", a->unit, b->unit);
            const char *c = jp_unit_canonical(text, buf, sizeof buf);
            if (c) snprintf(n->unit, sizeof n->unit, "%s", c);
        }
        return;
    default:
        return;
    }
}

static jp_status_t fold(cstate_t *cs, int id);

/* A constant operand the checker must see as a value (round's digits, a
 * date literal): fold it now rather than with its enclosing constant part. */
static jp_status_t ensure_const(cstate_t *cs, int id)
{
    if (cs->nodes[id].kind != N_CONST && cs->nodes[id].konst) return fold(cs, id);
    return JP_OK;
}

static const char *fn_name(int id)
{
    for (size_t k = 0; k < NFNS; k++)
        if (fns[k].id == id) return fns[k].name;
    return "?";
}

static jp_status_t check_call(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    char d1[120];
    const char *name = fn_name(n->op);
    jp_type_t t0 = cs->nodes[n->args[0]].type;
#define ARGT(k) (cs->nodes[n->args[k]].type)
#define BAD_ARG(k, want)                                                                           \
    return cerr(cs, cs->nodes[n->args[k]].pos, "%s() needs %s, not %s (column %zu)", name, want,   \
                describe(cs, n->args[k], d1, sizeof d1), cs->nodes[n->args[k]].pos + 1)
    switch (n->op) {
    case F_ABS:
        if (!is_num(t0)) BAD_ARG(0, "a number");
        n->type = t0;
        break;
    case F_FLOOR:
    case F_CEIL:
        if (!is_num(t0)) BAD_ARG(0, "a number");
        n->type = JP_TYPE_INT;
        break;
    case F_ROUND:
        if (!is_num(t0)) BAD_ARG(0, "a number");
        if (n->nargs == 2) {
            if (ensure_const(cs, n->args[1])) return cs->st;
            node_t *dg = &cs->nodes[n->args[1]];
            if (dg->kind != N_CONST || dg->type != JP_TYPE_INT || dg->i < -15 || dg->i > 15)
                return cerr(cs, dg->pos,
                            "round() needs a whole number of digits from -15 to 15 (column %zu)",
                            dg->pos + 1);
        }
        n->type = JP_TYPE_NUMBER;
        break;
    case F_SQRT:
    case F_EXP:
        if (!is_num(t0)) BAD_ARG(0, "a number");
        n->type = JP_TYPE_NUMBER;
        break;
    case F_LOG:
        if (!is_num(t0)) BAD_ARG(0, "a number");
        if (n->nargs == 2 && !is_num(ARGT(1))) BAD_ARG(1, "a number as the base");
        n->type = JP_TYPE_NUMBER;
        break;
    case F_MIN:
    case F_MAX: {
        jp_type_t t = TY_NIL;
        for (int k = 0; k < n->nargs; k++) {
            jp_type_t tk = ARGT(k);
            if (tk != TY_NIL && tk != JP_TYPE_INT && tk != JP_TYPE_NUMBER && tk != JP_TYPE_STRING &&
                tk != JP_TYPE_DATE)
                BAD_ARG(k, "numbers, strings or dates");
            jp_type_t u = unify(t, tk);
            if (u == JP_TYPE_NONE)
                return cerr(cs, cs->nodes[n->args[k]].pos,
                            "%s() cannot mix %s with %s (column %zu)", name, ty_name(t),
                            describe(cs, n->args[k], d1, sizeof d1), cs->nodes[n->args[k]].pos + 1);
            t = u;
        }
        if (t == TY_NIL)
            return cerr(cs, n->pos, "%s() of nil has no type (column %zu)", name, n->pos + 1);
        n->type = t;
        break;
    }
    case F_COALESCE: {
        jp_type_t t = TY_NIL;
        for (int k = 0; k < n->nargs; k++) {
            jp_type_t u = unify(t, ARGT(k));
            if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD)
                return cerr(cs, cs->nodes[n->args[k]].pos,
                            "coalesce() cannot mix %s with %s (column %zu)", ty_name(t),
                            describe(cs, n->args[k], d1, sizeof d1), cs->nodes[n->args[k]].pos + 1);
            t = u;
        }
        if (t == TY_NIL)
            return cerr(cs, n->pos, "coalesce() of nil has no type (column %zu)", n->pos + 1);
        n->type = t;
        break;
    }
    case F_IF_ELSE: {
        jp_type_t u = unify(ARGT(1), ARGT(2));
        if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD) {
            char d2[120];
            return cerr(cs, n->pos, "if_else() branches differ: %s and %s (column %zu)",
                        describe(cs, n->args[1], d1, sizeof d1),
                        describe(cs, n->args[2], d2, sizeof d2), n->pos + 1);
        }
        if (u == TY_NIL)
            return cerr(cs, n->pos, "if_else() of nil has no type (column %zu)", n->pos + 1);
        n->type = u;
        break;
    }
    case F_LOWER:
    case F_UPPER:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        n->type = JP_TYPE_STRING;
        break;
    case F_LEN:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        n->type = JP_TYPE_INT;
        break;
    case F_SUBSTR:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        if (ARGT(1) != JP_TYPE_INT) BAD_ARG(1, "an integer position");
        if (n->nargs == 3 && ARGT(2) != JP_TYPE_INT) BAD_ARG(2, "an integer position");
        n->type = JP_TYPE_STRING;
        break;
    case F_TOSTRING:
        if (t0 != JP_TYPE_INT && t0 != JP_TYPE_NUMBER && t0 != JP_TYPE_STRING &&
            t0 != JP_TYPE_BOOL && t0 != JP_TYPE_DATE)
            BAD_ARG(0, "a number, string, boolean or date");
        n->type = JP_TYPE_STRING;
        break;
    case F_YEAR:
    case F_MONTH:
    case F_DAY:
        if (t0 != JP_TYPE_DATE) BAD_ARG(0, "a date");
        n->type = JP_TYPE_INT;
        break;
    default:
        return cerr(cs, n->pos, "internal: unknown function");
    }
#undef ARGT
#undef BAD_ARG
    return JP_OK;
}

/* A string literal compared with a date: read it as a date now. */
static jp_status_t str_to_date(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    int32_t d;
    if (!jp_date_parse(n->s, n->slen, &d))
        return cerr(cs, n->pos, "'%.*s' at column %zu is not a date (YYYY-MM-DD)", (int)n->slen,
                    n->s, n->pos + 1);
    jp_free(n->s);
    n->s = NULL;
    n->type = JP_TYPE_DATE;
    n->i = d;
    return JP_OK;
}

/* Check one node whose operands are checked (the node array is in
 * post-order, so a loop over it checks every operand first). */
static jp_status_t check_node(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    char d1[120], d2[120];
    switch (n->kind) {
    case N_CONST:
        return JP_OK;
    case N_FIELD: {
        jp_type_t t = cs->schema->fields[n->field].type;
        if (t == JP_TYPE_NONE && !cs->defer_types)
            return cerr(cs, n->pos, "field '%s' at column %zu has no type yet",
                        cs->schema->fields[n->field].name, n->pos + 1);
        n->type = t;
        derive_unit(cs, n);
        return JP_OK;
    }
    default:
        break;
    }
    if (cs->defer_types) return JP_OK;
    n = &cs->nodes[id]; /* (nodes do not move while checking, but be safe) */
    node_t *a = n->kids[0] >= 0 ? &cs->nodes[n->kids[0]] : NULL;
    node_t *b = n->kids[1] >= 0 ? &cs->nodes[n->kids[1]] : NULL;
    switch (n->kind) {
    case N_UNARY:
        if (n->op == T_NOT)
            n->type = JP_TYPE_BOOL;
        else if (n->op == T_SUB) {
            if (!is_num(a->type))
                return cerr(cs, n->pos, "cannot negate %s at column %zu",
                            describe(cs, n->kids[0], d1, sizeof d1), n->pos + 1);
            n->type = a->type;
        } else { /* # */
            if (a->type != JP_TYPE_STRING)
                return cerr(cs, n->pos, "cannot take the length (#) of %s at column %zu",
                            describe(cs, n->kids[0], d1, sizeof d1), n->pos + 1);
            n->type = JP_TYPE_INT;
        }
        break;
    case N_AND:
        if (a->type == TY_NIL) {
            n->type = b->type == TY_NIL ? TY_NIL : b->type;
        } else
            n->type = b->type;
        if (n->type == TY_NIL)
            return cerr(cs, n->op_pos, "'and' of nil has no type (column %zu)", n->op_pos + 1);
        if (n->type == JP_TYPE_PERIOD)
            return cerr(cs, n->op_pos, "'and' cannot yield a period (column %zu)", n->op_pos + 1);
        break;
    case N_OR: {
        jp_type_t u = unify(a->type, b->type);
        if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD)
            return cerr(cs, n->op_pos, "cannot mix %s with %s in 'or' at column %zu",
                        describe(cs, n->kids[0], d1, sizeof d1),
                        describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
        if (u == TY_NIL)
            return cerr(cs, n->op_pos, "'or' of nil has no type (column %zu)", n->op_pos + 1);
        n->type = u;
        break;
    }
    case N_BINARY: {
        int op = n->op;
        jp_type_t ta = a->type, tb = b->type;
        switch (op) {
        case T_ADD:
        case T_SUB:
        case T_MUL:
        case T_DIV:
        case T_IDIV:
        case T_MOD:
        case T_POW: {
            static const char *const verbs[] = {"add",    "subtract", "multiply",
                                                "divide", "divide",   "take the remainder of",
                                                "raise"};
            if (!is_num(ta) || !is_num(tb)) {
                int bad = !is_num(ta) ? n->kids[0] : n->kids[1];
                (void)bad;
                return cerr(cs, n->op_pos, "cannot %s %s and %s (operator '%s' at column %zu)",
                            verbs[op - T_ADD], describe(cs, n->kids[0], d1, sizeof d1),
                            describe(cs, n->kids[1], d2, sizeof d2), tok_text(op), n->op_pos + 1);
            }
            if (op == T_DIV || op == T_POW)
                n->type = JP_TYPE_NUMBER;
            else
                n->type = (ta == JP_TYPE_INT && tb == JP_TYPE_INT) ? JP_TYPE_INT : JP_TYPE_NUMBER;
            break;
        }
        case T_CONCAT: {
            jp_type_t ok[] = {JP_TYPE_STRING, JP_TYPE_INT, JP_TYPE_NUMBER};
            bool oka = false, okb = false;
            for (int k = 0; k < 3; k++) {
                oka |= ta == ok[k];
                okb |= tb == ok[k];
            }
            if (!oka || !okb)
                return cerr(cs, n->op_pos,
                            "cannot concatenate %s and %s (operator '..' at column "
                            "%zu; use tostring())",
                            describe(cs, n->kids[0], d1, sizeof d1),
                            describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
            n->type = JP_TYPE_STRING;
            break;
        }
        default: { /* comparisons */
            bool eq = op == T_EQ || op == T_NE;
            /* a date compared with a string literal reads the literal as a date */
            if (ta == JP_TYPE_DATE && tb == JP_TYPE_STRING && b->konst) {
                if (ensure_const(cs, n->kids[1]) || str_to_date(cs, n->kids[1])) return cs->st;
                tb = JP_TYPE_DATE;
            } else if (tb == JP_TYPE_DATE && ta == JP_TYPE_STRING && a->konst) {
                if (ensure_const(cs, n->kids[0]) || str_to_date(cs, n->kids[0])) return cs->st;
                ta = JP_TYPE_DATE;
            }
            bool okt;
            if (ta == TY_NIL || tb == TY_NIL)
                okt = eq;
            else if (is_num(ta) && is_num(tb))
                okt = true;
            else if (ta != tb)
                okt = false;
            else if (ta == JP_TYPE_STRING || ta == JP_TYPE_DATE)
                okt = true;
            else if (ta == JP_TYPE_BOOL)
                okt = eq;
            else
                okt = false;
            if (!okt) {
                if ((ta == TY_NIL || tb == TY_NIL) && !eq)
                    return cerr(cs, n->op_pos,
                                "cannot order nil with '%s' at column %zu (use == "
                                "nil or ~= nil)",
                                tok_text(op), n->op_pos + 1);
                if (ta == tb)
                    return cerr(cs, n->op_pos, "cannot %s %s values with '%s' at column %zu",
                                eq ? "compare" : "order", ty_name(ta), tok_text(op), n->op_pos + 1);
                return cerr(cs, n->op_pos, "cannot compare %s with %s at column %zu",
                            describe(cs, n->kids[0], d1, sizeof d1),
                            describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
            }
            n->type = JP_TYPE_BOOL;
        }
        }
        break;
    }
    case N_CALL:
        if (check_call(cs, id)) return cs->st;
        break;
    default:
        break;
    }
    derive_unit(cs, &cs->nodes[id]);
    return JP_OK;
}

/* Each node's parent, whether it is constant, whether it continues a chain
 * of '..', and how many registers its code needs (to generate the hungrier
 * operand first): one pass, operands before their nodes. */
static void annotate(cstate_t *cs)
{
    for (size_t id = 0; id < cs->n_nodes; id++) {
        node_t *n = &cs->nodes[id];
        n->parent = -1;
        n->chain = false;
        n->konst = n->kind == N_CONST;
        n->need = 0;
        if (n->kind == N_CONST || n->kind == N_FIELD) continue;
        bool k = true;
        int need = 0, held = 0;
        for (int j = 0; j < 3 + n->nargs; j++) {
            int c = j < 3 ? n->kids[j] : n->args[j - 3];
            if (c < 0) continue;
            node_t *kid = &cs->nodes[c];
            kid->parent = (int)id;
            k &= kid->konst;
            if (n->kind == N_BINARY && n->op == T_CONCAT && kid->kind == N_BINARY &&
                kid->op == T_CONCAT)
                kid->chain = true;
            if (kid->need + held > need) need = kid->need + held;
            if (kid->need > 0 && held < 1000000) held++;
        }
        n->konst = k;
        /* binary nodes generate the hungrier side first */
        if (n->kids[1] >= 0 && n->kind != N_UNARY) {
            int na = cs->nodes[n->kids[0]].need, nb = cs->nodes[n->kids[1]].need;
            need = na == nb ? na + 1 : (na > nb ? na : nb);
        }
        n->need = (need > held ? need : held) + 1;
    }
}

/* Check every node, operands first, folding each constant part once: at
 * its top, where its parent is not constant. */
static jp_status_t check_tree(cstate_t *cs)
{
    annotate(cs);
    for (size_t id = 0; id < cs->n_nodes; id++) {
        if (check_node(cs, (int)id)) return cs->st;
        node_t *n = &cs->nodes[id];
        if (!cs->defer_types && n->konst && n->kind != N_CONST &&
            (n->parent < 0 || !cs->nodes[n->parent].konst) && fold(cs, (int)id))
            return cs->st;
    }
    return JP_OK;
}

/* ---- code generation ------------------------------------------------------ */

static int new_reg(cstate_t *cs, jp_type_t t)
{
    jp_expr_t *e = cs->e;
    if (e->n_regs == cs->cap_regs) {
        size_t cap = cs->cap_regs ? cs->cap_regs * 2 : 16;
        reg_info_t *r = jp_realloc_array(e->regs, cap, sizeof *r);
        if (!r) {
            cnomem(cs);
            return -1;
        }
        e->regs = r;
        cs->cap_regs = cap;
    }
    reg_info_t *r = &e->regs[e->n_regs];
    memset(r, 0, sizeof *r);
    r->type = t;
    r->slot = -1;
    return (int)e->n_regs++;
}

static int emit(cstate_t *cs, int op, int sub, int dst, int a, int b, int c)
{
    jp_expr_t *e = cs->e;
    if (dst < 0) return -1;
    if (e->n_code == cs->cap_code) {
        size_t cap = cs->cap_code ? cs->cap_code * 2 : 16;
        ins_t *n = jp_realloc_array(e->code, cap, sizeof *n);
        if (!n) {
            cnomem(cs);
            return -1;
        }
        e->code = n;
        cs->cap_code = cap;
    }
    ins_t *in = &e->code[e->n_code++];
    memset(in, 0, sizeof *in);
    in->op = (uint8_t)op;
    in->sub = (uint8_t)sub;
    in->dst = dst;
    in->a = a;
    in->b = b;
    in->c = c;
    in->field = -1;
    return dst;
}

static bool same_const(const reg_info_t *r, jp_type_t t, bool is_null, int64_t i, double d,
                       const char *s, size_t slen)
{
    if (r->type != t || r->cnull != is_null) return false;
    if (is_null) return true;
    if (t == JP_TYPE_NUMBER) return memcmp(&r->cd, &d, sizeof d) == 0;
    if (t == JP_TYPE_STRING) {
        size_t len;
        const char *v = jp_strdict_get(r->cdict, 0, &len);
        return len == slen && memcmp(v, s, slen) == 0;
    }
    return r->ci == i;
}

/* Broadcast the constant of register r over BATCH rows, once, at compile time. */
static bool const_arrays(reg_info_t *ri)
{
    jp_type_t t = ri->type;
    if (!(ri->cval = jp_calloc(BATCH, jp_type_width(t)))) return false;
    if (ri->cnull) {
        if (!(ri->cnul = jp_malloc(BATCH))) return false;
        memset(ri->cnul, 1, BATCH);
        return true;
    }
    switch (t) {
    case JP_TYPE_INT:
        for (int k = 0; k < BATCH; k++) ((int64_t *)ri->cval)[k] = ri->ci;
        break;
    case JP_TYPE_NUMBER:
        for (int k = 0; k < BATCH; k++) ((double *)ri->cval)[k] = ri->cd;
        break;
    case JP_TYPE_BOOL:
        memset(ri->cval, (int)ri->ci, BATCH);
        break;
    case JP_TYPE_DATE:
        for (int k = 0; k < BATCH; k++) ((int32_t *)ri->cval)[k] = (int32_t)ri->ci;
        break;
    default:
        break; /* strings: code 0 of the constant's dictionary */
    }
    return true;
}

/*
 * A constant register.  The first STATIC_CONSTS distinct constants get
 * broadcast arrays made once and shared by every use; past that, each use
 * is filled by OP_CONST per batch, so that memory stays bounded whatever
 * the number of literals.
 */
static int const_reg(cstate_t *cs, jp_type_t t, bool is_null, int64_t i, double d, const char *s,
                     size_t slen)
{
    if (t == TY_NIL) t = JP_TYPE_INT; /* an all-null register; its type does not matter */
    if (t == JP_TYPE_BOOL) i = i != 0;
    if (t == JP_TYPE_NUMBER || is_null) i = 0;
    if (t != JP_TYPE_NUMBER || is_null) d = 0;
    for (size_t k = 0; k < cs->n_statics; k++)
        if (same_const(&cs->e->regs[cs->statics[k]], t, is_null, i, d, s, slen))
            return cs->statics[k];
    int r = new_reg(cs, t);
    if (r < 0) return -1;
    reg_info_t *ri = &cs->e->regs[r];
    ri->is_const = true;
    ri->cnull = is_null;
    ri->ci = i;
    ri->cd = d;
    if (t == JP_TYPE_STRING) {
        uint32_t code;
        if (!(ri->cdict = jp_strdict_new(1)) ||
            (!is_null && jp_strdict_intern(ri->cdict, s, slen, &code))) {
            cnomem(cs);
            return -1;
        }
    }
    if (cs->n_statics < STATIC_CONSTS) {
        if (!const_arrays(ri)) {
            cnomem(cs);
            return -1;
        }
        cs->statics[cs->n_statics++] = r;
        return r;
    }
    return emit(cs, OP_CONST, 0, r, -1, -1, -1);
}

static int to_type(cstate_t *cs, int r, jp_type_t from, jp_type_t want)
{
    if (r < 0) return -1;
    if (want == JP_TYPE_NONE || want == from || from == TY_NIL) return r;
    if (from == JP_TYPE_INT && want == JP_TYPE_NUMBER)
        return emit(cs, OP_I2D, 0, new_reg(cs, JP_TYPE_NUMBER), r, -1, -1);
    if (want == JP_TYPE_STRING) {
        int op = from == JP_TYPE_INT      ? OP_TOSTR_I
                 : from == JP_TYPE_NUMBER ? OP_TOSTR_D
                 : from == JP_TYPE_BOOL   ? OP_TOSTR_B
                 : from == JP_TYPE_DATE   ? OP_TOSTR_T
                                          : -1;
        if (op < 0) return r;
        int d = new_reg(cs, JP_TYPE_STRING);
        if (d < 0) return -1;
        cs->e->regs[d].dyn_dict = true;
        return emit(cs, op, 0, d, r, -1, -1);
    }
    return r;
}

/* A register for a nil of type t (all nulls). */
static int nil_reg(cstate_t *cs, jp_type_t t)
{
    return const_reg(cs, t, true, 0, 0, NULL, 0);
}

/* The register of an operand already generated (constants are made here),
 * converted to `want` (JP_TYPE_NONE: as it is). */
static int kid_reg(cstate_t *cs, int id, jp_type_t want)
{
    const node_t *n = &cs->nodes[id];
    if (n->kind == N_CONST) {
        if (n->type == TY_NIL) return nil_reg(cs, want == JP_TYPE_NONE ? JP_TYPE_INT : want);
        if (n->type == JP_TYPE_INT && want == JP_TYPE_NUMBER)
            return const_reg(cs, JP_TYPE_NUMBER, n->is_null, 0, (double)n->i, NULL, 0);
        return to_type(cs, const_reg(cs, n->type, n->is_null, n->i, n->d, n->s, n->slen), n->type,
                       want);
    }
    return to_type(cs, n->reg, n->type, want);
}

static int gen_select(cstate_t *cs, int mask, int a, int b, jp_type_t t)
{
    int d = new_reg(cs, t);
    if (d < 0) return -1;
    if (t == JP_TYPE_STRING) cs->e->regs[d].dyn_dict = true; /* may need to merge dictionaries */
    return emit(cs, OP_SELECT, 0, d, mask, a, b);
}

static int gen_compare(cstate_t *cs, const node_t *n)
{
    static const int cmpk[] = {C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE};
    const node_t *a = &cs->nodes[n->kids[0]], *b = &cs->nodes[n->kids[1]];
    int ck = cmpk[n->op - T_EQ];
    if (a->type == TY_NIL || b->type == TY_NIL) {
        int other = a->type == TY_NIL ? n->kids[1] : n->kids[0];
        if (cs->nodes[other].type == TY_NIL) /* nil == nil */
            return const_reg(cs, JP_TYPE_BOOL, false, ck == C_EQ, 0, NULL, 0);
        int x = kid_reg(cs, other, JP_TYPE_NONE);
        return emit(cs, ck == C_EQ ? OP_ISNULL : OP_NOTNULL, 0, new_reg(cs, JP_TYPE_BOOL), x, -1,
                    -1);
    }
    jp_type_t ct = a->type;
    if (is_num(a->type) && is_num(b->type))
        ct = (a->type == JP_TYPE_INT && b->type == JP_TYPE_INT) ? JP_TYPE_INT : JP_TYPE_NUMBER;
    int x = kid_reg(cs, n->kids[0], ct), y = kid_reg(cs, n->kids[1], ct);
    int o = ct == JP_TYPE_INT      ? OP_CMP_I
            : ct == JP_TYPE_NUMBER ? OP_CMP_D
            : ct == JP_TYPE_BOOL   ? OP_CMP_B
            : ct == JP_TYPE_DATE   ? OP_CMP_T
                                   : OP_CMP_S;
    return emit(cs, o, ck, new_reg(cs, JP_TYPE_BOOL), x, y, -1);
}

static int gen_arith(cstate_t *cs, const node_t *n)
{
    int op = n->op;
    jp_type_t t = n->type;
    jp_type_t ot = (op == T_DIV || op == T_POW) ? JP_TYPE_NUMBER : t;
    int x = kid_reg(cs, n->kids[0], ot), y = kid_reg(cs, n->kids[1], ot);
    bool i = ot == JP_TYPE_INT;
    int o;
    switch (op) {
    case T_ADD:
        o = i ? OP_ADD_I : OP_ADD_D;
        break;
    case T_SUB:
        o = i ? OP_SUB_I : OP_SUB_D;
        break;
    case T_MUL:
        o = i ? OP_MUL_I : OP_MUL_D;
        break;
    case T_DIV:
        o = OP_DIV_D;
        break;
    case T_IDIV:
        o = i ? OP_IDIV_I : OP_IDIV_D;
        break;
    case T_MOD:
        o = i ? OP_MOD_I : OP_MOD_D;
        break;
    default:
        o = OP_POW_D;
        break;
    }
    return emit(cs, o, 0, new_reg(cs, t), x, y, -1);
}

static int gen_call(cstate_t *cs, const node_t *n)
{
    const int *args = n->args;
    jp_type_t t = n->type;
    int r = -1;
    switch (n->op) {
    case F_ABS: {
        int x = kid_reg(cs, args[0], t);
        return emit(cs, t == JP_TYPE_INT ? OP_ABS_I : OP_ABS_D, 0, new_reg(cs, t), x, -1, -1);
    }
    case F_FLOOR:
    case F_CEIL: {
        if (cs->nodes[args[0]].type == JP_TYPE_INT) return kid_reg(cs, args[0], JP_TYPE_INT);
        int x = kid_reg(cs, args[0], JP_TYPE_NUMBER);
        return emit(cs, n->op == F_FLOOR ? OP_FLOOR_D : OP_CEIL_D, 0, new_reg(cs, JP_TYPE_INT), x,
                    -1, -1);
    }
    case F_ROUND: {
        int x = kid_reg(cs, args[0], JP_TYPE_NUMBER);
        r = emit(cs, OP_ROUND_D, 0, new_reg(cs, JP_TYPE_NUMBER), x, -1, -1);
        if (r >= 0)
            cs->e->code[cs->e->n_code - 1].k = n->nargs == 2 ? (double)cs->nodes[args[1]].i : 0;
        return r;
    }
    case F_SQRT:
    case F_EXP: {
        int x = kid_reg(cs, args[0], JP_TYPE_NUMBER);
        return emit(cs, n->op == F_SQRT ? OP_SQRT_D : OP_EXP_D, 0, new_reg(cs, JP_TYPE_NUMBER), x,
                    -1, -1);
    }
    case F_LOG: {
        int x = kid_reg(cs, args[0], JP_TYPE_NUMBER);
        if (n->nargs == 2) {
            int y = kid_reg(cs, args[1], JP_TYPE_NUMBER);
            return emit(cs, OP_LOGB_D, 0, new_reg(cs, JP_TYPE_NUMBER), x, y, -1);
        }
        return emit(cs, OP_LOG_D, 0, new_reg(cs, JP_TYPE_NUMBER), x, -1, -1);
    }
    case F_MIN:
    case F_MAX: {
        int o = t == JP_TYPE_INT      ? OP_MINMAX_I
                : t == JP_TYPE_NUMBER ? OP_MINMAX_D
                : t == JP_TYPE_DATE   ? OP_MINMAX_T
                                      : OP_MINMAX_S;
        r = kid_reg(cs, args[0], t);
        for (int k = 1; k < n->nargs && r >= 0; k++) {
            int y = kid_reg(cs, args[k], t);
            int d = new_reg(cs, t);
            if (d >= 0 && t == JP_TYPE_STRING) cs->e->regs[d].dyn_dict = true;
            r = emit(cs, o, n->op == F_MAX, d, r, y, -1);
        }
        return r;
    }
    case F_COALESCE: {
        r = kid_reg(cs, args[n->nargs - 1], t);
        for (int k = n->nargs - 2; k >= 0 && r >= 0; k--) {
            int x = kid_reg(cs, args[k], t);
            int m = emit(cs, OP_NOTNULL, 0, new_reg(cs, JP_TYPE_BOOL), x, -1, -1);
            if (m < 0) return -1;
            r = gen_select(cs, m, x, r, t);
        }
        return r;
    }
    case F_IF_ELSE: {
        int c = kid_reg(cs, args[0], JP_TYPE_NONE);
        int m = emit(cs, OP_TRUTHY, 0, new_reg(cs, JP_TYPE_BOOL), c, -1, -1);
        int x = kid_reg(cs, args[1], t), y = kid_reg(cs, args[2], t);
        if (m < 0 || x < 0 || y < 0) return -1;
        return gen_select(cs, m, x, y, t);
    }
    case F_LOWER:
    case F_UPPER: {
        int x = kid_reg(cs, args[0], JP_TYPE_STRING);
        int d = new_reg(cs, JP_TYPE_STRING);
        if (d >= 0) cs->e->regs[d].dyn_dict = true;
        return emit(cs, n->op == F_LOWER ? OP_LOWER : OP_UPPER, 0, d, x, -1, -1);
    }
    case F_LEN: {
        int x = kid_reg(cs, args[0], JP_TYPE_STRING);
        return emit(cs, OP_LEN_S, 0, new_reg(cs, JP_TYPE_INT), x, -1, -1);
    }
    case F_SUBSTR: {
        int x = kid_reg(cs, args[0], JP_TYPE_STRING);
        int i = kid_reg(cs, args[1], JP_TYPE_INT);
        int j = n->nargs == 3 ? kid_reg(cs, args[2], JP_TYPE_INT)
                              : const_reg(cs, JP_TYPE_INT, false, -1, 0, NULL, 0);
        int d = new_reg(cs, JP_TYPE_STRING);
        if (d >= 0) cs->e->regs[d].dyn_dict = true;
        return emit(cs, OP_SUBSTR, 0, d, x, i, j);
    }
    case F_TOSTRING:
        return kid_reg(cs, args[0], JP_TYPE_STRING);
    case F_YEAR:
    case F_MONTH:
    case F_DAY: {
        int x = kid_reg(cs, args[0], JP_TYPE_DATE);
        return emit(cs, OP_YMD, n->op - F_YEAR, new_reg(cs, JP_TYPE_INT), x, -1, -1);
    }
    default:
        return -1;
    }
}

/* The code of one node whose operands have their registers. */
static int gen_node(cstate_t *cs, int id)
{
    const node_t *n = &cs->nodes[id];
    jp_type_t t = n->type;
    switch (n->kind) {
    case N_FIELD: {
        int r = emit(cs, OP_LOAD, 0, new_reg(cs, t), -1, -1, -1);
        if (r >= 0) cs->e->code[cs->e->n_code - 1].field = n->field;
        return r;
    }
    case N_UNARY: {
        if (n->op == T_NOT) {
            int x = kid_reg(cs, n->kids[0], JP_TYPE_NONE);
            return emit(cs, OP_NOT, 0, new_reg(cs, JP_TYPE_BOOL), x, -1, -1);
        }
        if (n->op == T_SUB) {
            int x = kid_reg(cs, n->kids[0], t);
            return emit(cs, t == JP_TYPE_INT ? OP_NEG_I : OP_NEG_D, 0, new_reg(cs, t), x, -1, -1);
        }
        int x = kid_reg(cs, n->kids[0], JP_TYPE_NONE);
        return emit(cs, OP_LEN_S, 0, new_reg(cs, JP_TYPE_INT), x, -1, -1);
    }
    case N_AND: {
        /* a and b: b where a is truthy, else a (false/nil) when boolean, nil otherwise */
        int x = kid_reg(cs, n->kids[0], JP_TYPE_NONE);
        int m = emit(cs, OP_TRUTHY, 0, new_reg(cs, JP_TYPE_BOOL), x, -1, -1);
        int y = kid_reg(cs, n->kids[1], t);
        int z;
        if (t == JP_TYPE_BOOL && cs->nodes[n->kids[0]].type == JP_TYPE_BOOL)
            z = x;
        else
            z = nil_reg(cs, t);
        if (m < 0 || y < 0 || z < 0) return -1;
        return gen_select(cs, m, y, z, t);
    }
    case N_OR: {
        int x = kid_reg(cs, n->kids[0], t);
        int m = emit(cs, OP_TRUTHY, 0, new_reg(cs, JP_TYPE_BOOL), x, -1, -1);
        int y = kid_reg(cs, n->kids[1], t);
        if (m < 0 || y < 0) return -1;
        return gen_select(cs, m, x, y, t);
    }
    case N_BINARY:
        return n->op >= T_EQ ? gen_compare(cs, n) : gen_arith(cs, n);
    case N_CALL:
        return gen_call(cs, n);
    default:
        return -1;
    }
}

static bool is_concat(const node_t *n)
{
    return n->kind == N_BINARY && n->op == T_CONCAT;
}

/* Steps of the code generator's walk. */
enum { W_EXPAND, W_GEN, W_CAT_BEGIN, W_CAT_ADD, W_CAT_END };

static bool walk_push(cstate_t *cs, int what, int id, int aux)
{
    return push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, what) &&
           push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, id) &&
           push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, aux);
}

/*
 * A chain of '..' is one concatenation: a builder register receives each
 * operand in turn (OP_CAT_ADD), so that only the builder and one operand are
 * alive at a time whatever the chain's length.  The steps are pushed in
 * reverse: begin, then each operand's code and its append, then the end.
 */
static bool expand_concat(cstate_t *cs, int root)
{
    if (!walk_push(cs, W_CAT_END, root, 0)) return false;
    /* the chain's operands right to left, found with a stack of our own
     * (cs->vals is free once parsing is over) */
    cs->n_vals = 0;
    if (!push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, root)) return false;
    while (cs->n_vals) {
        int id = cs->vals[--cs->n_vals];
        const node_t *n = &cs->nodes[id];
        if (id == root || (is_concat(n) && n->chain)) {
            if (!push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, n->kids[0]) ||
                !push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, n->kids[1]))
                return false;
            continue;
        }
        if (!walk_push(cs, W_CAT_ADD, id, root) || !walk_push(cs, W_EXPAND, id, 0)) return false;
    }
    return walk_push(cs, W_CAT_BEGIN, root, 0);
}

static bool expand(cstate_t *cs, int id)
{
    const node_t *n = &cs->nodes[id];
    if (n->kind == N_CONST) return true; /* made where it is used */
    if (is_concat(n)) return expand_concat(cs, id);
    if (!walk_push(cs, W_GEN, id, 0)) return false;
    if (n->kind == N_CALL) {
        for (int k = n->nargs - 1; k >= 0; k--)
            if (!walk_push(cs, W_EXPAND, n->args[k], 0)) return false;
        return true;
    }
    int a = n->kids[0], b = n->kids[1];
    if (b >= 0 && cs->nodes[b].need > cs->nodes[a].need) {
        int t = a; /* the hungrier operand first: fewer registers alive at once */
        a = b;
        b = t;
    }
    if (b >= 0 && !walk_push(cs, W_EXPAND, b, 0)) return false;
    return a < 0 || walk_push(cs, W_EXPAND, a, 0);
}

/* The code of the tree below `root`, with no recursion; its register. */
static int gen_tree(cstate_t *cs, int root)
{
    cs->n_walk = 0;
    if (!walk_push(cs, W_EXPAND, root, 0)) return -1;
    while (cs->n_walk && !cs->st) {
        cs->n_walk -= 3;
        int what = cs->walk[cs->n_walk], id = cs->walk[cs->n_walk + 1];
        int aux = cs->walk[cs->n_walk + 2];
        node_t *n = &cs->nodes[id];
        switch (what) {
        case W_EXPAND:
            if (!expand(cs, id)) return -1;
            break;
        case W_GEN:
            n->reg = gen_node(cs, id);
            break;
        case W_CAT_BEGIN: {
            int d = new_reg(cs, JP_TYPE_STRING);
            if (d >= 0) cs->e->regs[d].builder = true;
            n->reg = emit(cs, OP_CAT_BEGIN, 0, d, -1, -1, -1);
            break;
        }
        case W_CAT_ADD: {
            int b = cs->nodes[aux].reg;
            emit(cs, OP_CAT_ADD, 0, b, b, kid_reg(cs, id, JP_TYPE_STRING), -1);
            break;
        }
        case W_CAT_END: {
            int d = new_reg(cs, JP_TYPE_STRING);
            if (d >= 0) cs->e->regs[d].dyn_dict = true;
            n->reg = emit(cs, OP_CAT_END, 0, d, n->reg, -1, -1);
            break;
        }
        default:
            break;
        }
    }
    if (cs->st) return -1;
    return kid_reg(cs, root, JP_TYPE_NONE);
}

/* The registers every instruction reads. */
static size_t operands(const ins_t *in, int32_t *out)
{
    size_t n = 0;
    if (in->a >= 0) out[n++] = in->a;
    if (in->b >= 0) out[n++] = in->b;
    if (in->c >= 0) out[n++] = in->c;
    return n;
}

/*
 * Give the registers that need buffers a slot, reusing the slots of
 * registers no longer read (linear scan).  An instruction's destination
 * never shares a slot with its operands, and no register keeps a pointer
 * into another's slot (the evaluator copies instead), so a slot is free as
 * soon as its register's last reader has run.
 */
static jp_status_t assign_slots(cstate_t *cs)
{
    jp_expr_t *e = cs->e;
    size_t nr = e->n_regs ? e->n_regs : 1;
    int32_t *last = jp_malloc_array(nr, sizeof *last), *freel = jp_malloc_array(nr, sizeof *freel);
    if (!last || !freel) {
        jp_free(last);
        jp_free(freel);
        return cnomem(cs);
    }
    for (size_t r = 0; r < e->n_regs; r++) last[r] = -1;
    int32_t ops[3];
    for (size_t pc = 0; pc < e->n_code; pc++) {
        size_t k = operands(&e->code[pc], ops);
        for (size_t j = 0; j < k; j++) last[ops[j]] = (int32_t)pc;
    }
    if (e->result >= 0) last[e->result] = INT32_MAX;
    size_t nfree = 0;
    e->n_slots = 0;
    for (size_t pc = 0; pc < e->n_code && !cs->st; pc++) {
        const ins_t *in = &e->code[pc];
        reg_info_t *d = &e->regs[in->dst];
        if (in->op != OP_LOAD && d->slot < 0 && !d->cval) {
            if (nfree)
                d->slot = freel[--nfree];
            else if (e->n_slots < JP_EXPR_MAX_SLOTS)
                d->slot = (int32_t)e->n_slots++;
            else
                cerr(cs, 0,
                     "expression too large: it needs more than %d intermediate results at once",
                     JP_EXPR_MAX_SLOTS);
        }
        size_t k = operands(in, ops);
        for (size_t j = 0; j < k; j++) {
            int32_t r = ops[j];
            if (last[r] == (int32_t)pc && e->regs[r].slot >= 0 && r != in->dst) {
                freel[nfree++] = e->regs[r].slot;
                last[r] = -2; /* once, even when read twice here */
            }
        }
        if (last[in->dst] == -1 && d->slot >= 0) {
            freel[nfree++] = d->slot; /* never read */
            last[in->dst] = -2;
        }
    }
    jp_free(last);
    jp_free(freel);
    return cs->st;
}

/* Code for the tree below root into cs->e, with its result and slots. */
static jp_status_t gen_program(cstate_t *cs, int root)
{
    int r = gen_tree(cs, root);
    if (!cs->st && r < 0) cnomem(cs);
    if (cs->st) return cs->st;
    cs->e->result = r;
    return assign_slots(cs);
}

/* ---- evaluation ----------------------------------------------------------- */

/* Buffers for one batch of a register's values, shared over time by
 * registers whose lives do not overlap (assign_slots). */
typedef struct slot {
    void *buf;
    uint8_t *nbuf, *qbuf; /* qbuf made on first use */
} slot_t;

typedef struct vreg {
    void *v;
    uint8_t *nul;  /* NULL: no nulls */
    uint8_t *qual; /* NULL: all exact */
    jp_strdict_t *dict;
    void *buf;         /* its slot's buffers (NULL for views) */
    uint8_t *nbuf;     /* */
    slot_t *slot;      /* */
    jp_strdict_t *own; /* dyn_dict registers */
    jp_buf_t *rows;    /* builder registers: BATCH strings */
    /* memo for string ops keyed by the input's code: out code + 1 (0 unknown) */
    uint32_t *memo;
    size_t memo_n;
    const jp_strdict_t *memo_for;
    uint32_t *memo2; /* SELECT/MINMAX: second input */
    size_t memo2_n;
    const jp_strdict_t *memo2_for;
} vreg_t;

typedef struct ectx {
    const jp_expr_t *e;
    jp_column_t *const *cols; /* by schema index */
    vreg_t *r;
    slot_t *slots;
    jp_buf_t scratch;
} ectx_t;

static void ectx_free(ectx_t *x)
{
    if (!x->r) return;
    for (size_t i = 0; i < x->e->n_regs; i++) {
        vreg_t *r = &x->r[i];
        jp_strdict_unref(r->own);
        jp_free(r->memo);
        jp_free(r->memo2);
        if (r->rows)
            for (size_t k = 0; k < BATCH; k++) jp_buf_free(&r->rows[k]);
        jp_free(r->rows);
    }
    for (size_t i = 0; x->slots && i < x->e->n_slots; i++) {
        jp_free(x->slots[i].buf);
        jp_free(x->slots[i].nbuf);
        jp_free(x->slots[i].qbuf);
    }
    jp_free(x->slots);
    jp_free(x->r);
    jp_buf_free(&x->scratch);
    x->r = NULL;
}

static jp_status_t ectx_init(ectx_t *x, const jp_expr_t *e, jp_column_t *const *cols)
{
    memset(x, 0, sizeof *x);
    x->e = e;
    x->cols = cols;
    x->r = jp_calloc(e->n_regs ? e->n_regs : 1, sizeof *x->r);
    x->slots = jp_calloc(e->n_slots ? e->n_slots : 1, sizeof *x->slots);
    if (!x->r || !x->slots) goto nomem;
    for (size_t i = 0; i < e->n_slots; i++) {
        slot_t *s = &x->slots[i];
        s->buf = jp_malloc_array(BATCH, sizeof(int64_t)); /* the widest type */
        s->nbuf = jp_malloc(BATCH);
        if (!s->buf || !s->nbuf) goto nomem;
    }
    for (size_t i = 0; i < e->n_regs; i++) {
        const reg_info_t *ri = &e->regs[i];
        vreg_t *r = &x->r[i];
        if (ri->cval) {
            r->v = ri->cval;
            r->nul = ri->cnul;
            r->dict = ri->cdict;
            continue;
        }
        if (ri->slot >= 0) {
            r->slot = &x->slots[ri->slot];
            r->v = r->buf = r->slot->buf;
            r->nbuf = r->slot->nbuf;
        }
        if (ri->dyn_dict && !(r->own = jp_strdict_new(64))) goto nomem;
    }
    return JP_OK;
nomem:
    ectx_free(x);
    return JP_ERR_NOMEM;
}

/* Give the register its own null bytes (copying the current ones). */
static uint8_t *own_nulls(vreg_t *d, const uint8_t *from, size_t n)
{
    if (from) {
        if (from != d->nbuf) memcpy(d->nbuf, from, n);
    } else
        memset(d->nbuf, 0, n);
    d->nul = d->nbuf;
    return d->nbuf;
}

/* d's nulls are a's: shared when they belong to a column or a constant,
 * copied when they are in a's slot, which a later register may reuse. */
static void take_nulls(vreg_t *d, const vreg_t *a, size_t n)
{
    if (a && a->nul && a->nul == a->nbuf)
        own_nulls(d, a->nul, n);
    else
        d->nul = a ? a->nul : NULL;
}

static void merge_nulls(vreg_t *d, const vreg_t *a, const vreg_t *b, size_t n)
{
    if (!a->nul)
        take_nulls(d, b, n);
    else if (!b || !b->nul)
        take_nulls(d, a, n);
    else {
        for (size_t k = 0; k < n; k++) d->nbuf[k] = a->nul[k] | b->nul[k];
        d->nul = d->nbuf;
    }
}

static uint8_t *get_qbuf(vreg_t *d)
{
    if (!d->slot->qbuf) d->slot->qbuf = jp_malloc(BATCH);
    return d->slot->qbuf;
}

/* d's qualifiers are a's (shared or copied, as take_nulls). */
static jp_status_t take_quals(vreg_t *d, const vreg_t *a, size_t n)
{
    if (a->qual && a->slot && a->qual == a->slot->qbuf) {
        uint8_t *q = get_qbuf(d);
        if (!q) return JP_ERR_NOMEM;
        memcpy(q, a->qual, n);
        d->qual = q;
    } else
        d->qual = a->qual;
    return JP_OK;
}

static inline uint8_t qflip(uint8_t q)
{
    switch (q) {
    case JP_Q_AT_LEAST:
        return JP_Q_AT_MOST;
    case JP_Q_AT_MOST:
        return JP_Q_AT_LEAST;
    case JP_Q_MORE_THAN:
        return JP_Q_LESS_THAN;
    case JP_Q_LESS_THAN:
        return JP_Q_MORE_THAN;
    default:
        return q;
    }
}

static inline uint8_t qweak(uint8_t q)
{
    if (q == JP_Q_MORE_THAN) return JP_Q_AT_LEAST;
    if (q == JP_Q_LESS_THAN) return JP_Q_AT_MOST;
    return q;
}

/* Qualifier of an arithmetic result from its operands' (see docs/verbs.md). */
static inline uint8_t qarith(int op, double x, double y, uint8_t qa, uint8_t qb)
{
    switch (op) {
    case OP_ADD_I:
    case OP_ADD_D:
        return (uint8_t)jp_qual_combine((jp_qual_t)qa, (jp_qual_t)qb);
    case OP_SUB_I:
    case OP_SUB_D:
        return (uint8_t)jp_qual_combine((jp_qual_t)qa, (jp_qual_t)qflip(qb));
    case OP_MUL_I:
    case OP_MUL_D:
        if (!qb) return x == 0 && qa == 0 ? 0 : (y > 0 ? qa : y < 0 ? qflip(qa) : 0);
        if (!qa) return x > 0 ? qb : x < 0 ? qflip(qb) : 0;
        return x > 0 && y > 0 ? (uint8_t)jp_qual_combine((jp_qual_t)qa, (jp_qual_t)qb)
                              : (uint8_t)JP_Q_APPROX;
    case OP_DIV_D:
        if (!qb) return y > 0 ? qa : y < 0 ? qflip(qa) : (uint8_t)JP_Q_APPROX;
        if (!qa) return x > 0 ? qflip(qb) : x < 0 ? qb : 0;
        return x > 0 && y > 0 ? (uint8_t)jp_qual_combine((jp_qual_t)qa, (jp_qual_t)qflip(qb))
                              : (uint8_t)JP_Q_APPROX;
    default:
        return JP_Q_APPROX;
    }
}

static int str_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c < 0 ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

/* Grow a memo to cover every code of dict d (the dict may have grown). */
static jp_status_t memo_fit(uint32_t **memo, size_t *n, const jp_strdict_t **for_dict,
                            const jp_strdict_t *d)
{
    if (*for_dict != d) {
        jp_free(*memo);
        *memo = NULL;
        *n = 0;
        *for_dict = d;
    }
    if (*n >= d->count) return JP_OK;
    size_t cap = d->count + 16;
    uint32_t *m = jp_realloc_array(*memo, cap, sizeof *m);
    if (!m) return JP_ERR_NOMEM;
    memset(m + *n, 0, (cap - *n) * sizeof *m);
    *memo = m;
    *n = cap;
    return JP_OK;
}

/* Re-intern a string of dictionary `from` into `to`, with a memo. */
static jp_status_t remap(uint32_t **memo, size_t *mn, const jp_strdict_t **mfor,
                         const jp_strdict_t *from, uint32_t code, jp_strdict_t *to, uint32_t *out)
{
    if (memo_fit(memo, mn, mfor, from)) return JP_ERR_NOMEM;
    uint32_t m = (*memo)[code];
    if (m) {
        *out = m - 1;
        return JP_OK;
    }
    size_t len;
    const char *s = jp_strdict_get(from, code, &len);
    if (jp_strdict_intern(to, s, len, out)) return JP_ERR_NOMEM;
    (*memo)[code] = *out + 1;
    return JP_OK;
}

/* Lua's tostring() of a float: %.14g, with ".0" when it reads as an integer. */
static size_t lua_num_text(double v, char *buf, size_t size)
{
    int n;
    if (isinf(v))
        n = snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
    else if (isnan(v))
        n = snprintf(buf, size, "%s", "nan");
    else {
        n = snprintf(buf, size, "%.14g", v);
        if (n > 0 && (size_t)n < size - 3 && strspn(buf, "-0123456789") == (size_t)n) {
            buf[n++] = '.';
            buf[n++] = '0';
            buf[n] = '\0';
        }
    }
    return n > 0 ? (size_t)n : 0;
}

/* Comparisons are never null: nil == nil, nil ~= anything else, and order
 * tests with a nil are false. */
static void cmp_nulls(vreg_t *d, const vreg_t *a, const vreg_t *b, int sub, size_t n)
{
    uint8_t *o = d->buf;
    d->v = o;
    d->nul = NULL;
    if (!a->nul && !b->nul) return;
    const uint8_t *na = a->nul, *nb = b->nul;
    for (size_t k = 0; k < n; k++) {
        uint8_t x1 = na ? na[k] : 0, x2 = nb ? nb[k] : 0;
        if (x1 | x2) {
            if (sub == C_EQ)
                o[k] = x1 & x2;
            else if (sub == C_NE)
                o[k] = (uint8_t)(x1 ^ x2);
            else
                o[k] = 0;
        }
    }
}

#define VI(r) ((int64_t *)(r)->v)
#define VD(r) ((double *)(r)->v)
#define VB(r) ((uint8_t *)(r)->v)
#define VT(r) ((int32_t *)(r)->v)
#define VS(r) ((uint32_t *)(r)->v)

static jp_status_t run_batch(ectx_t *x, size_t start, size_t n)
{
    const jp_expr_t *e = x->e;
    for (size_t pc = 0; pc < e->n_code; pc++) {
        const ins_t *in = &e->code[pc];
        vreg_t *d = &x->r[in->dst];
        vreg_t *a = in->a >= 0 ? &x->r[in->a] : NULL;
        vreg_t *b = in->b >= 0 ? &x->r[in->b] : NULL;
        d->qual = NULL;
        switch (in->op) {
        case OP_LOAD: {
            const jp_column_t *c = x->cols[in->field];
            d->v = (char *)c->v.raw + start * jp_type_width(c->type);
            d->nul = c->nulls ? c->nulls + start : NULL;
            d->qual = c->quals ? c->quals + start : NULL;
            d->dict = c->dict;
            break;
        }
        case OP_I2D: {
            const int64_t *s = VI(a);
            double *o = d->buf;
            for (size_t k = 0; k < n; k++) o[k] = (double)s[k];
            d->v = o;
            take_nulls(d, a, n);
            if (take_quals(d, a, n)) return JP_ERR_NOMEM;
            break;
        }
#define ARITH_I(EXPR)                                                                              \
    {                                                                                              \
        const int64_t *p = VI(a), *q = VI(b);                                                      \
        int64_t *o = d->buf;                                                                       \
        for (size_t k = 0; k < n; k++) {                                                           \
            uint64_t u = (uint64_t)p[k], w = (uint64_t)q[k];                                       \
            o[k] = (int64_t)(EXPR);                                                                \
        }                                                                                          \
        d->v = o;                                                                                  \
        merge_nulls(d, a, b, n);                                                                   \
    }                                                                                              \
    goto arith_quals;
#define ARITH_D(EXPR)                                                                              \
    {                                                                                              \
        const double *p = VD(a), *q = VD(b);                                                       \
        double *o = d->buf;                                                                        \
        for (size_t k = 0; k < n; k++) {                                                           \
            double u = p[k], w = q[k];                                                             \
            o[k] = (EXPR);                                                                         \
        }                                                                                          \
        d->v = o;                                                                                  \
        merge_nulls(d, a, b, n);                                                                   \
    }                                                                                              \
    goto arith_quals;
        case OP_ADD_I:
            ARITH_I(u + w)
        case OP_SUB_I:
            ARITH_I(u - w)
        case OP_MUL_I:
            ARITH_I(u * w)
        case OP_ADD_D:
            ARITH_D(u + w)
        case OP_SUB_D:
            ARITH_D(u - w)
        case OP_MUL_D:
            ARITH_D(u * w)
        case OP_DIV_D:
            ARITH_D(u / w)
        case OP_POW_D:
            ARITH_D(pow(u, w))
        case OP_IDIV_D:
            ARITH_D(floor(u / w))
        case OP_MOD_D: {
            const double *p = VD(a), *q = VD(b);
            double *o = d->buf;
            for (size_t k = 0; k < n; k++) {
                double m = fmod(p[k], q[k]);
                if ((m > 0) ? q[k] < 0 : (m < 0 && q[k] != m)) m += q[k];
                o[k] = m;
            }
            d->v = o;
            merge_nulls(d, a, b, n);
            goto arith_quals;
        }
        case OP_IDIV_I:
        case OP_MOD_I: {
            const int64_t *p = VI(a), *q = VI(b);
            int64_t *o = d->buf;
            uint8_t *nb = NULL;
            bool mod = in->op == OP_MOD_I;
            for (size_t k = 0; k < n; k++) {
                int64_t u = p[k], w = q[k], r;
                if (w == 0) {
                    /* integer division by zero is null (Lua would raise) */
                    if (!nb) {
                        merge_nulls(d, a, b, n);
                        nb = own_nulls(d, d->nul, n);
                    }
                    nb[k] = 1;
                    r = 0;
                } else if (w == -1) {
                    r = mod ? 0 : (int64_t)(0 - (uint64_t)u);
                } else if (mod) {
                    r = u % w;
                    if (r != 0 && ((r ^ w) < 0)) r += w;
                } else {
                    r = u / w;
                    if ((u % w != 0) && ((u ^ w) < 0)) r -= 1;
                }
                o[k] = r;
            }
            d->v = o;
            if (!nb) merge_nulls(d, a, b, n);
            goto arith_quals;
        }
        arith_quals:
            if (a->qual || b->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                bool isint = in->op == OP_ADD_I || in->op == OP_SUB_I || in->op == OP_MUL_I ||
                             in->op == OP_IDIV_I || in->op == OP_MOD_I;
                for (size_t k = 0; k < n; k++) {
                    uint8_t qa = a->qual ? a->qual[k] : 0, qb = b->qual ? b->qual[k] : 0;
                    if (!qa && !qb) {
                        qo[k] = 0;
                        continue;
                    }
                    double xv = isint ? (double)VI(a)[k] : VD(a)[k];
                    double yv = isint ? (double)VI(b)[k] : VD(b)[k];
                    qo[k] = qarith(in->op, xv, yv, qa, qb);
                }
                d->qual = qo;
            }
            break;
        case OP_NEG_I: {
            const int64_t *p = VI(a);
            int64_t *o = d->buf;
            for (size_t k = 0; k < n; k++) o[k] = (int64_t)(0 - (uint64_t)p[k]);
            d->v = o;
            take_nulls(d, a, n);
            goto unary_flip;
        }
        case OP_NEG_D: {
            const double *p = VD(a);
            double *o = d->buf;
            for (size_t k = 0; k < n; k++) o[k] = -p[k];
            d->v = o;
            take_nulls(d, a, n);
            goto unary_flip;
        }
        unary_flip:
            if (a->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                for (size_t k = 0; k < n; k++) qo[k] = qflip(a->qual[k]);
                d->qual = qo;
            }
            break;
        case OP_CMP_I:
        case OP_CMP_D:
        case OP_CMP_B:
        case OP_CMP_T: {
            uint8_t *o = d->buf;
#define CMPLOOP(T, ARR)                                                                            \
    {                                                                                              \
        const T *p = ARR(a), *q = ARR(b);                                                          \
        switch (in->sub) {                                                                         \
        case C_EQ:                                                                                 \
            for (size_t k = 0; k < n; k++) o[k] = p[k] == q[k];                                    \
            break;                                                                                 \
        case C_NE:                                                                                 \
            for (size_t k = 0; k < n; k++) o[k] = p[k] != q[k];                                    \
            break;                                                                                 \
        case C_LT:                                                                                 \
            for (size_t k = 0; k < n; k++) o[k] = p[k] < q[k];                                     \
            break;                                                                                 \
        case C_LE:                                                                                 \
            for (size_t k = 0; k < n; k++) o[k] = p[k] <= q[k];                                    \
            break;                                                                                 \
        case C_GT:                                                                                 \
            for (size_t k = 0; k < n; k++) o[k] = p[k] > q[k];                                     \
            break;                                                                                 \
        default:                                                                                   \
            for (size_t k = 0; k < n; k++) o[k] = p[k] >= q[k];                                    \
            break;                                                                                 \
        }                                                                                          \
    }
            if (in->op == OP_CMP_I)
                CMPLOOP(int64_t, VI)
            else if (in->op == OP_CMP_D)
                CMPLOOP(double, VD)
            else if (in->op == OP_CMP_B)
                CMPLOOP(uint8_t, VB)
            else
                CMPLOOP(int32_t, VT)
#undef CMPLOOP
            cmp_nulls(d, a, b, in->sub, n);
            break;
        }
        case OP_CMP_S: {
            uint8_t *o = d->buf;
            const uint32_t *p = VS(a), *q = VS(b);
            bool bconst = e->regs[in->b].is_const, aconst = e->regs[in->a].is_const;
            if (a->dict == b->dict && (in->sub == C_EQ || in->sub == C_NE)) {
                if (in->sub == C_EQ)
                    for (size_t k = 0; k < n; k++) o[k] = p[k] == q[k];
                else
                    for (size_t k = 0; k < n; k++) o[k] = p[k] != q[k];
            } else if ((bconst && b->nul) || (aconst && a->nul)) {
                memset(o, 0, n); /* a nil string constant: settled by cmp_nulls */
            } else if (bconst || aconst) {
                /* one side is a literal: compare each distinct string once */
                vreg_t *v = bconst ? a : b, *c = bconst ? b : a;
                const uint32_t *codes = VS(v);
                size_t ll;
                const char *lit = jp_strdict_get(c->dict, 0, &ll);
                const jp_strdict_t *vd = v->dict;
                for (size_t k = 0; k < n; k++) {
                    if (v->nul && v->nul[k]) {
                        o[k] = 0;
                        continue;
                    }
                    uint32_t code = codes[k];
                    if (code >= d->memo_n || d->memo_for != vd) {
                        if (memo_fit(&d->memo, &d->memo_n, &d->memo_for, vd)) return JP_ERR_NOMEM;
                    }
                    uint32_t m = d->memo[code];
                    if (!m) {
                        size_t sl;
                        const char *s = jp_strdict_get(vd, code, &sl);
                        int cr = bconst ? str_cmp(s, sl, lit, ll) : str_cmp(lit, ll, s, sl);
                        m = (uint32_t)(cr + 2);
                        d->memo[code] = m;
                    }
                    int cr = (int)m - 2;
                    o[k] = cmp_holds(in->sub, cr);
                }
            } else {
                for (size_t k = 0; k < n; k++) {
                    if ((a->nul && a->nul[k]) || (b->nul && b->nul[k])) {
                        o[k] = 0;
                        continue;
                    }
                    size_t la, lb;
                    const char *sa = jp_strdict_get(a->dict, p[k], &la);
                    const char *sb = jp_strdict_get(b->dict, q[k], &lb);
                    int cr = str_cmp(sa, la, sb, lb);
                    o[k] = cmp_holds(in->sub, cr);
                }
            }
            cmp_nulls(d, a, b, in->sub, n);
            break;
        }
        case OP_ISNULL:
        case OP_NOTNULL: {
            uint8_t *o = d->buf;
            uint8_t want = in->op == OP_ISNULL;
            if (a->nul)
                for (size_t k = 0; k < n; k++) o[k] = a->nul[k] == want;
            else
                memset(o, !want, n);
            d->v = o;
            d->nul = NULL;
            break;
        }
        case OP_TRUTHY:
        case OP_NOT: {
            uint8_t *o = d->buf;
            bool isb = e->regs[in->a].type == JP_TYPE_BOOL;
            uint8_t flip = in->op == OP_NOT;
            for (size_t k = 0; k < n; k++) {
                uint8_t t = (uint8_t)(!(a->nul && a->nul[k]) && (!isb || VB(a)[k]));
                o[k] = t ^ flip;
            }
            d->v = o;
            d->nul = NULL;
            break;
        }
        case OP_SELECT: {
            const uint8_t *m = VB(a);
            vreg_t *y = &x->r[in->c];
            vreg_t *xv = b;
            jp_type_t t = e->regs[in->dst].type;
            size_t w = jp_type_width(t);
            bool xnil = xv->nul && e->regs[in->b].is_const && e->regs[in->b].cnull;
            bool ynil = y->nul && e->regs[in->c].is_const && e->regs[in->c].cnull;
            if (t == JP_TYPE_STRING && !(xv->dict == y->dict || xnil || ynil)) {
                /* two dictionaries: re-intern into our own */
                uint32_t *o = d->buf;
                for (size_t k = 0; k < n; k++) {
                    vreg_t *src = m[k] ? xv : y;
                    if (src->nul && src->nul[k]) {
                        o[k] = 0;
                        continue;
                    }
                    jp_status_t st = m[k] ? remap(&d->memo, &d->memo_n, &d->memo_for, xv->dict,
                                                  VS(xv)[k], d->own, &o[k])
                                          : remap(&d->memo2, &d->memo2_n, &d->memo2_for, y->dict,
                                                  VS(y)[k], d->own, &o[k]);
                    if (st) return st;
                }
                d->v = o;
                d->dict = d->own;
            } else {
                char *o = d->buf;
                const char *pa = xv->v, *pb = y->v;
                if (w == 8) {
                    for (size_t k = 0; k < n; k++)
                        ((uint64_t *)(void *)o)[k] = m[k] ? ((const uint64_t *)(const void *)pa)[k]
                                                          : ((const uint64_t *)(const void *)pb)[k];
                } else if (w == 4) {
                    for (size_t k = 0; k < n; k++)
                        ((uint32_t *)(void *)o)[k] = m[k] ? ((const uint32_t *)(const void *)pa)[k]
                                                          : ((const uint32_t *)(const void *)pb)[k];
                } else if (w == 1) {
                    for (size_t k = 0; k < n; k++) o[k] = m[k] ? pa[k] : pb[k];
                } else {
                    for (size_t k = 0; k < n; k++) memcpy(o + k * w, (m[k] ? pa : pb) + k * w, w);
                }
                d->v = o;
                d->dict = xnil ? y->dict : xv->dict;
                if (t == JP_TYPE_STRING && !d->dict) d->dict = d->own;
            }
            if (xv->nul || y->nul) {
                for (size_t k = 0; k < n; k++)
                    d->nbuf[k] = m[k] ? (xv->nul ? xv->nul[k] : 0) : (y->nul ? y->nul[k] : 0);
                d->nul = d->nbuf;
            } else
                d->nul = NULL;
            if (xv->qual || y->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                for (size_t k = 0; k < n; k++)
                    qo[k] = m[k] ? (xv->qual ? xv->qual[k] : 0) : (y->qual ? y->qual[k] : 0);
                d->qual = qo;
            }
            break;
        }
        case OP_ABS_I: {
            const int64_t *p = VI(a);
            int64_t *o = d->buf;
            for (size_t k = 0; k < n; k++) o[k] = p[k] < 0 ? (int64_t)(0 - (uint64_t)p[k]) : p[k];
            d->v = o;
            take_nulls(d, a, n);
            goto abs_quals;
        }
        case OP_ABS_D: {
            const double *p = VD(a);
            double *o = d->buf;
            for (size_t k = 0; k < n; k++) o[k] = fabs(p[k]);
            d->v = o;
            take_nulls(d, a, n);
            goto abs_quals;
        }
        abs_quals:
            if (a->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                bool isint = in->op == OP_ABS_I;
                for (size_t k = 0; k < n; k++) {
                    double v = isint ? (double)VI(a)[k] : VD(a)[k];
                    qo[k] = v < 0 ? qflip(a->qual[k]) : a->qual[k];
                }
                d->qual = qo;
            }
            break;
        case OP_FLOOR_D:
        case OP_CEIL_D: {
            const double *p = VD(a);
            int64_t *o = d->buf;
            uint8_t *nb = NULL;
            bool fl = in->op == OP_FLOOR_D;
            for (size_t k = 0; k < n; k++) {
                double v = fl ? floor(p[k]) : ceil(p[k]);
                if (v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
                    o[k] = (int64_t)v;
                } else {
                    /* NaN, infinities and values past int64 have no integer */
                    if (!nb) nb = own_nulls(d, a->nul, n);
                    nb[k] = 1;
                    o[k] = 0;
                }
            }
            d->v = o;
            if (!nb) take_nulls(d, a, n);
            goto weak_quals;
        }
        case OP_ROUND_D: {
            const double *p = VD(a);
            double *o = d->buf;
            double f = pow(10.0, in->k);
            for (size_t k = 0; k < n; k++) {
                if (in->k == 0)
                    o[k] = round(p[k]);
                else {
                    double v = round(p[k] * f) / f;
                    o[k] = isfinite(v) ? v : p[k];
                }
            }
            d->v = o;
            take_nulls(d, a, n);
            goto weak_quals;
        }
        weak_quals:
            if (a->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                for (size_t k = 0; k < n; k++) qo[k] = qweak(a->qual[k]);
                d->qual = qo;
            }
            break;
        case OP_SQRT_D:
        case OP_LOG_D:
        case OP_EXP_D: {
            const double *p = VD(a);
            double *o = d->buf;
            if (in->op == OP_SQRT_D)
                for (size_t k = 0; k < n; k++) o[k] = sqrt(p[k]);
            else if (in->op == OP_LOG_D)
                for (size_t k = 0; k < n; k++) o[k] = log(p[k]);
            else
                for (size_t k = 0; k < n; k++) o[k] = exp(p[k]);
            d->v = o;
            take_nulls(d, a, n);
            /* increasing functions keep the bound */
            if (take_quals(d, a, n)) return JP_ERR_NOMEM;
            break;
        }
        case OP_LOGB_D: {
            const double *p = VD(a), *q = VD(b);
            double *o = d->buf;
            for (size_t k = 0; k < n; k++) {
                if (q[k] == 2.0)
                    o[k] = log2(p[k]);
                else if (q[k] == 10.0)
                    o[k] = log10(p[k]);
                else
                    o[k] = log(p[k]) / log(q[k]);
            }
            d->v = o;
            merge_nulls(d, a, b, n);
            if (a->qual || b->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                for (size_t k = 0; k < n; k++)
                    qo[k] =
                        (b->qual && b->qual[k]) ? (uint8_t)JP_Q_APPROX : (a->qual ? a->qual[k] : 0);
                d->qual = qo;
            }
            break;
        }
        case OP_MINMAX_I:
        case OP_MINMAX_D:
        case OP_MINMAX_T:
        case OP_MINMAX_S: {
            /* nulls are skipped: min(nil, 3) is 3 */
            bool mx = in->sub == 1;
            if (jp_buf_reserve(&x->scratch, BATCH)) return JP_ERR_NOMEM;
            uint8_t *pick = (uint8_t *)x->scratch.data; /* 1 = take b */
            for (size_t k = 0; k < n; k++) {
                bool na = a->nul && a->nul[k], nb = b->nul && b->nul[k];
                bool tb;
                if (na || nb)
                    tb = na && !nb;
                else if (in->op == OP_MINMAX_I)
                    tb = mx ? VI(b)[k] > VI(a)[k] : VI(b)[k] < VI(a)[k];
                else if (in->op == OP_MINMAX_D)
                    tb = mx ? VD(b)[k] > VD(a)[k] : VD(b)[k] < VD(a)[k];
                else if (in->op == OP_MINMAX_T)
                    tb = mx ? VT(b)[k] > VT(a)[k] : VT(b)[k] < VT(a)[k];
                else {
                    size_t la, lb;
                    const char *sa = jp_strdict_get(a->dict, VS(a)[k], &la);
                    const char *sb = jp_strdict_get(b->dict, VS(b)[k], &lb);
                    int c = str_cmp(sb, lb, sa, la);
                    tb = mx ? c > 0 : c < 0;
                }
                pick[k] = tb;
            }
            size_t w = jp_type_width(e->regs[in->dst].type);
            char *o = d->buf;
            for (size_t k = 0; k < n; k++) {
                vreg_t *src = pick[k] ? b : a;
                if (in->op == OP_MINMAX_S) {
                    uint32_t code = 0;
                    if (!(src->nul && src->nul[k])) {
                        jp_status_t st = pick[k] ? remap(&d->memo2, &d->memo2_n, &d->memo2_for,
                                                         b->dict, VS(b)[k], d->own, &code)
                                                 : remap(&d->memo, &d->memo_n, &d->memo_for,
                                                         a->dict, VS(a)[k], d->own, &code);
                        if (st) return st;
                    }
                    ((uint32_t *)(void *)o)[k] = code;
                } else
                    memcpy(o + k * w, (char *)src->v + k * w, w);
                d->nbuf[k] = src->nul ? src->nul[k] : 0;
            }
            d->v = o;
            d->dict = d->own;
            d->nul = (a->nul || b->nul) ? d->nbuf : NULL;
            if (a->qual || b->qual) {
                uint8_t *qo = get_qbuf(d);
                if (!qo) return JP_ERR_NOMEM;
                for (size_t k = 0; k < n; k++) {
                    vreg_t *src = pick[k] ? b : a;
                    qo[k] = src->qual ? src->qual[k] : 0;
                }
                d->qual = qo;
            }
            break;
        }
        case OP_LOWER:
        case OP_UPPER: {
            uint32_t *o = d->buf;
            bool up = in->op == OP_UPPER;
            for (size_t k = 0; k < n; k++) {
                if (a->nul && a->nul[k]) {
                    o[k] = 0;
                    continue;
                }
                uint32_t code = VS(a)[k];
                if (memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
                if (!d->memo[code]) {
                    size_t len;
                    const char *s = jp_strdict_get(a->dict, code, &len);
                    jp_buf_reset(&x->scratch);
                    if (jp_buf_append(&x->scratch, s, len)) return JP_ERR_NOMEM;
                    for (size_t j = 0; j < len; j++) {
                        unsigned char ch = (unsigned char)x->scratch.data[j];
                        if (ch < 0x80) x->scratch.data[j] = (char)(up ? toupper(ch) : tolower(ch));
                    }
                    uint32_t oc;
                    if (jp_strdict_intern(d->own, x->scratch.data, len, &oc)) return JP_ERR_NOMEM;
                    d->memo[code] = oc + 1;
                }
                o[k] = d->memo[code] - 1;
            }
            d->v = o;
            d->dict = d->own;
            take_nulls(d, a, n);
            break;
        }
        case OP_LEN_S: {
            int64_t *o = d->buf;
            for (size_t k = 0; k < n; k++) {
                size_t len = 0;
                if (!(a->nul && a->nul[k])) jp_strdict_get(a->dict, VS(a)[k], &len);
                o[k] = (int64_t)len;
            }
            d->v = o;
            take_nulls(d, a, n);
            break;
        }
        case OP_SUBSTR: {
            /* string.sub semantics: 1-based, negative from the end, inclusive */
            vreg_t *c = &x->r[in->c];
            uint32_t *o = d->buf;
            merge_nulls(d, a, b, n);
            if (c->nul) {
                own_nulls(d, d->nul, n);
                for (size_t k = 0; k < n; k++) d->nbuf[k] |= c->nul[k];
            }
            for (size_t k = 0; k < n; k++) {
                if (d->nul && d->nul[k]) {
                    o[k] = 0;
                    continue;
                }
                size_t len;
                const char *s = jp_strdict_get(a->dict, VS(a)[k], &len);
                int64_t l = (int64_t)len, i = VI(b)[k], j = VI(c)[k];
                if (i < 0)
                    i = (i < -l) ? 1 : l + i + 1;
                else if (i == 0)
                    i = 1;
                if (j < 0)
                    j = (j < -l) ? 0 : l + j + 1;
                else if (j > l)
                    j = l;
                size_t from = 0, cnt = 0;
                if (i <= j) {
                    from = (size_t)(i - 1);
                    cnt = (size_t)(j - i + 1);
                }
                if (jp_strdict_intern(d->own, s + from, cnt, &o[k])) return JP_ERR_NOMEM;
            }
            d->v = o;
            d->dict = d->own;
            break;
        }
        case OP_CAT_BEGIN:
            if (!d->rows && !(d->rows = jp_calloc(BATCH, sizeof *d->rows))) return JP_ERR_NOMEM;
            for (size_t k = 0; k < n; k++) jp_buf_reset(&d->rows[k]);
            memset(d->nbuf, 0, n);
            break;
        case OP_CAT_ADD:
            /* d is a, the builder: appends b's strings; a nil operand makes the row nil */
            for (size_t k = 0; k < n; k++) {
                if (d->nbuf[k]) continue;
                if (b->nul && b->nul[k]) {
                    d->nbuf[k] = 1;
                    continue;
                }
                size_t len;
                const char *p = jp_strdict_get(b->dict, VS(b)[k], &len);
                if (jp_buf_append(&d->rows[k], p, len)) return JP_ERR_NOMEM;
            }
            break;
        case OP_CAT_END: {
            uint32_t *o = d->buf;
            bool any = false;
            for (size_t k = 0; k < n; k++) {
                d->nbuf[k] = a->nbuf[k];
                if (a->nbuf[k]) {
                    o[k] = 0;
                    any = true;
                    continue;
                }
                const jp_buf_t *rb = &a->rows[k];
                if (jp_strdict_intern(d->own, rb->data ? rb->data : "", rb->len, &o[k]))
                    return JP_ERR_NOMEM;
            }
            d->v = o;
            d->dict = d->own;
            d->nul = any ? d->nbuf : NULL;
            break;
        }
        case OP_CONST: {
            const reg_info_t *ri = &e->regs[in->dst];
            switch (ri->type) {
            case JP_TYPE_INT:
                for (size_t k = 0; k < n; k++) VI(d)[k] = ri->ci;
                break;
            case JP_TYPE_NUMBER:
                for (size_t k = 0; k < n; k++) VD(d)[k] = ri->cd;
                break;
            case JP_TYPE_BOOL:
                memset(d->buf, (int)ri->ci, n);
                break;
            case JP_TYPE_DATE:
                for (size_t k = 0; k < n; k++) VT(d)[k] = (int32_t)ri->ci;
                break;
            default:
                memset(d->buf, 0, n * sizeof(uint32_t));
                break;
            }
            d->v = d->buf;
            d->dict = ri->cdict;
            d->nul = ri->cnull ? memset(d->nbuf, 1, n) : NULL;
            break;
        }
        case OP_TOSTR_I:
        case OP_TOSTR_D:
        case OP_TOSTR_B:
        case OP_TOSTR_T: {
            uint32_t *o = d->buf;
            char buf[64];
            for (size_t k = 0; k < n; k++) {
                if (a->nul && a->nul[k]) {
                    o[k] = 0;
                    continue;
                }
                size_t len;
                switch (in->op) {
                case OP_TOSTR_I:
                    len = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)VI(a)[k]);
                    break;
                case OP_TOSTR_D:
                    len = lua_num_text(VD(a)[k], buf, sizeof buf);
                    break;
                case OP_TOSTR_B:
                    len = (size_t)snprintf(buf, sizeof buf, "%s", VB(a)[k] ? "true" : "false");
                    break;
                default:
                    jp_date_format(VT(a)[k], buf);
                    len = strlen(buf);
                    break;
                }
                if (jp_strdict_intern(d->own, buf, len, &o[k])) return JP_ERR_NOMEM;
            }
            d->v = o;
            d->dict = d->own;
            take_nulls(d, a, n);
            break;
        }
        case OP_YMD: {
            int64_t *o = d->buf;
            for (size_t k = 0; k < n; k++) {
                int y, m, dd;
                jp_date_to_ymd(VT(a)[k], &y, &m, &dd);
                o[k] = in->sub == 0 ? y : in->sub == 1 ? m : dd;
            }
            d->v = o;
            take_nulls(d, a, n);
            break;
        }
        default:
            return JP_ERR_INTERNAL;
        }
    }
    return JP_OK;
}

/* ---- compile: driver -------------------------------------------------------- */

/* Run the code of a constant subtree on one row and replace it by its value. */
/* Free what a program holds (its constants, registers and code). */
static void program_free(jp_expr_t *e)
{
    for (size_t i = 0; i < e->n_regs; i++) {
        jp_free(e->regs[i].cval);
        jp_free(e->regs[i].cnul);
        jp_strdict_unref(e->regs[i].cdict);
    }
    jp_free(e->regs);
    jp_free(e->code);
}

/* The value of a constant node from register r of a finished evaluation. */
static jp_status_t take_value(cstate_t *cs, node_t *n, const vreg_t *v)
{
    n->is_null = v->nul && v->nul[0];
    switch (n->type) {
    case JP_TYPE_INT:
        n->i = VI(v)[0];
        break;
    case JP_TYPE_NUMBER:
        n->d = VD(v)[0];
        break;
    case JP_TYPE_BOOL:
        n->i = VB(v)[0];
        break;
    case JP_TYPE_DATE:
        n->i = VT(v)[0];
        break;
    case JP_TYPE_STRING:
        if (!n->is_null) {
            size_t len;
            const char *s = jp_strdict_get(v->dict, VS(v)[0], &len);
            if (!(n->s = jp_strndup(s, len))) return cnomem(cs);
            n->slen = len;
        }
        break;
    default:
        break;
    }
    n->kind = N_CONST;
    return JP_OK;
}

/* Run the code of a constant part on one row and replace it by its value. */
static jp_status_t fold(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    if (n->kind == N_CONST || !n->konst || n->type == TY_NIL) return JP_OK;
    jp_expr_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.result = -1;
    jp_expr_t *saved = cs->e;
    size_t cc = cs->cap_code, cr = cs->cap_regs, ns = cs->n_statics;
    int statics[STATIC_CONSTS];
    memcpy(statics, cs->statics, sizeof statics);
    /* restored below, before returning */
    /* cppcheck-suppress autoVariables */
    cs->e = &tmp;
    cs->cap_code = cs->cap_regs = 0;
    cs->n_statics = 0;
    jp_status_t st = gen_program(cs, id);
    ectx_t x;
    if (!st) {
        if (ectx_init(&x, &tmp, NULL))
            st = cnomem(cs);
        else {
            if (run_batch(&x, 0, 1))
                st = cnomem(cs);
            else
                st = take_value(cs, &cs->nodes[id], &x.r[tmp.result]);
            ectx_free(&x);
        }
    }
    program_free(&tmp);
    cs->e = saved;
    cs->cap_code = cc;
    cs->cap_regs = cr;
    cs->n_statics = ns;
    memcpy(cs->statics, statics, sizeof statics);
    return st;
}

/* The fields the expression reads, in order of first appearance. */
static jp_status_t find_inputs(cstate_t *cs)
{
    jp_expr_t *e = cs->e;
    size_t nf = cs->schema->n_fields;
    bool *seen = jp_calloc(nf ? nf : 1, sizeof *seen);
    if (!seen) return cnomem(cs);
    for (size_t k = 0; k < cs->n_nodes; k++) {
        const node_t *n = &cs->nodes[k];
        if (n->kind != N_FIELD || seen[n->field]) continue;
        seen[n->field] = true;
        if (e->n_inputs == cs->cap_inputs) {
            size_t cap = cs->cap_inputs ? cs->cap_inputs * 2 : 8;
            size_t *p = jp_realloc_array(e->inputs, cap, sizeof *p);
            if (!p) {
                jp_free(seen);
                return cnomem(cs);
            }
            e->inputs = p;
            cs->cap_inputs = cap;
        }
        e->inputs[e->n_inputs++] = (size_t)n->field;
    }
    jp_free(seen);
    return JP_OK;
}

static jp_expr_t *compile(const char *src, const jp_schema_t *schema, bool defer, jp_error_t *err)
{
    cstate_t cs;
    memset(&cs, 0, sizeof cs);
    cs.src = src ? src : "";
    cs.srclen = strlen(cs.src);
    cs.schema = schema;
    cs.err = err;
    cs.defer_types = defer;
    jp_expr_t *e = jp_calloc(1, sizeof *e);
    if (!e || !(e->src = jp_strdup(cs.src))) {
        jp_free(e);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->result = -1;
    cs.e = e;
    int root = -1;
    if (!next(&cs)) {
        if (cs.tok.kind == T_EOF)
            cerr(&cs, 0, "empty expression");
        else
            root = parse_expr(&cs);
    }
    if (root >= 0 && !cs.st && cs.tok.kind != T_EOF) {
        if (cs.tok.kind == T_RP)
            cerr(&cs, cs.tok.pos, "unexpected ')' at column %zu (no matching '(')", cs.tok.pos + 1);
        else
            cerr(&cs, cs.tok.pos,
                 "unexpected '%.*s' at column %zu (expected an operator or the end)",
                 (int)cs.tok.len, cs.src + cs.tok.pos, cs.tok.pos + 1);
    }
    if (!cs.st && root >= 0) find_inputs(&cs);
    if (!cs.st && root >= 0) check_tree(&cs);
    if (!cs.st && root >= 0 && !defer) {
        node_t *rn = &cs.nodes[root];
        if (rn->type == TY_NIL)
            cerr(&cs, 0, "the expression is always nil and has no type");
        else if (rn->type == JP_TYPE_PERIOD && rn->kind != N_FIELD)
            cerr(&cs, 0, "period values can only be tested with == nil / ~= nil");
        else {
            e->type = rn->type;
            if (rn->unit[0] && !(e->unit = jp_strdup(rn->unit))) cnomem(&cs);
            gen_program(&cs, root);
            e->bound = !cs.st;
        }
    }
    tok_free(&cs.tok);
    for (size_t k = 0; k < cs.n_nodes; k++) {
        jp_free(cs.nodes[k].s);
        jp_free(cs.nodes[k].args);
    }
    jp_free(cs.nodes);
    jp_free(cs.ops);
    jp_free(cs.vals);
    jp_free(cs.walk);
    if (cs.st) {
        jp_expr_free(e);
        return NULL;
    }
    return e;
}

jp_expr_t *jp_expr_compile(const char *src, const jp_schema_t *schema, jp_error_t *err)
{
    return compile(src, schema, false, err);
}

jp_expr_t *jp_expr_parse(const char *src, const jp_schema_t *schema, jp_error_t *err)
{
    return compile(src, schema, true, err);
}

bool jp_expr_is_bound(const jp_expr_t *e)
{
    return e->bound;
}

void jp_expr_free(jp_expr_t *e)
{
    if (!e) return;
    program_free(e);
    jp_free(e->inputs);
    jp_free(e->unit);
    jp_free(e->src);
    jp_free(e);
}

jp_type_t jp_expr_type(const jp_expr_t *e)
{
    return e->type;
}

const char *jp_expr_unit(const jp_expr_t *e)
{
    return e->unit;
}

size_t jp_expr_inputs(const jp_expr_t *e, const size_t **idx)
{
    if (idx) *idx = e->inputs;
    return e->n_inputs;
}

const char *jp_expr_source(const jp_expr_t *e)
{
    return e->src;
}

/* ---- evaluation: drivers -------------------------------------------------- */

static jp_status_t check_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                              jp_error_t *err)
{
    if (!e->bound)
        return jp_error_set(err, JP_ERR_INTERNAL, "expression \"%s\" is not compiled", e->src);
    for (size_t k = 0; k < e->n_inputs; k++) {
        const jp_column_t *c = cols[e->inputs[k]];
        if (!c || c->len != nrows)
            return jp_error_set(err, JP_ERR_INTERNAL, "expression \"%s\": input column missing",
                                e->src);
    }
    for (size_t pc = 0; pc < e->n_code; pc++) {
        const ins_t *in = &e->code[pc];
        if (in->op == OP_LOAD && cols[in->field]->type != e->regs[in->dst].type)
            return jp_error_set(err, JP_ERR_TYPE,
                                "expression \"%s\" was compiled for another schema", e->src);
    }
    return JP_OK;
}

jp_column_t *jp_expr_eval_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                               jp_error_t *err)
{
    if (check_cols(e, cols, nrows, err)) return NULL;
    /* a plain field: share its column */
    if (e->n_code == 1 && e->code[0].op == OP_LOAD) return jp_column_ref(cols[e->code[0].field]);
    const reg_info_t *ri = &e->regs[e->result];
    jp_column_t *out;
    ectx_t x;
    if (ectx_init(&x, e, cols)) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ri->type == JP_TYPE_STRING) {
        /* the result's dictionary is known once the first batch ran; build later */
        out = NULL;
    } else
        out = jp_column_new(ri->type, nrows);
    uint32_t *codes = NULL;
    uint8_t *nulls = NULL, *quals = NULL;
    const jp_strdict_t *rdict = NULL;
    size_t w = jp_type_width(ri->type);
    if (ri->type == JP_TYPE_STRING) {
        codes = jp_malloc_array(nrows ? nrows : 1, sizeof *codes);
        if (!codes) goto nomem;
    } else if (!out)
        goto nomem;
    for (size_t start = 0; start < nrows; start += BATCH) {
        size_t n = nrows - start < BATCH ? nrows - start : BATCH;
        jp_status_t st = run_batch(&x, start, n);
        if (st) goto nomem;
        vreg_t *r = &x.r[e->result];
        if (ri->type == JP_TYPE_STRING) {
            rdict = r->dict;
            memcpy(codes + start, r->v, n * sizeof *codes);
        } else
            memcpy((char *)out->v.raw + start * w, r->v, n * w);
        if (r->nul) {
            if (!nulls && !(nulls = jp_calloc(nrows, 1))) goto nomem;
            memcpy(nulls + start, r->nul, n);
        }
        if (r->qual) {
            if (!quals && !(quals = jp_calloc(nrows, 1))) goto nomem;
            memcpy(quals + start, r->qual, n);
        }
    }
    if (ri->type == JP_TYPE_STRING) {
        if (!rdict || ri->is_const) {
            /* a constant (or no rows): a private copy of its dictionary */
            jp_strdict_t *nd = jp_strdict_new(2);
            uint32_t code = 0;
            if (!nd) goto nomem;
            if (ri->cdict && ri->cdict->count) {
                size_t len;
                const char *s = jp_strdict_get(ri->cdict, 0, &len);
                if (jp_strdict_intern(nd, s, len, &code)) {
                    jp_strdict_unref(nd);
                    goto nomem;
                }
            }
            out = jp_column_new_with_dict(nd, nrows);
            jp_strdict_unref(nd);
        } else
            out = jp_column_new_with_dict((jp_strdict_t *)rdict, nrows);
        if (!out) goto nomem;
        if (nrows) memcpy(out->v.s, codes, nrows * sizeof *codes);
        jp_free(codes);
        codes = NULL;
    }
    jp_column_set_len(out, nrows);
    if (nulls) {
        if (jp_column_alloc_nulls(out)) goto nomem;
        memcpy(out->nulls, nulls, nrows);
        for (size_t k = 0; k < nrows; k++)
            if (nulls[k] && quals) quals[k] = 0;
    }
    if (quals) {
        if (jp_column_alloc_quals(out)) goto nomem;
        memcpy(out->quals, quals, nrows);
    }
    jp_free(nulls);
    jp_free(quals);
    ectx_free(&x);
    return out;
nomem:
    jp_free(codes);
    jp_free(nulls);
    jp_free(quals);
    jp_column_unref(out);
    ectx_free(&x);
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

jp_status_t jp_expr_select_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                size_t **rows, size_t *nsel, jp_error_t *err)
{
    *rows = NULL;
    *nsel = 0;
    if (check_cols(e, cols, nrows, err)) return err ? err->code : JP_ERR_INTERNAL;
    if (e->type != JP_TYPE_BOOL)
        return jp_error_set(err, JP_ERR_EXPR, "\"%s\" is a %s expression, not a condition", e->src,
                            jp_type_name(e->type));
    size_t *out = jp_malloc_array(nrows ? nrows : 1, sizeof *out);
    ectx_t x;
    if (!out || ectx_init(&x, e, cols)) {
        jp_free(out);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t start = 0; start < nrows; start += BATCH) {
        size_t n = nrows - start < BATCH ? nrows - start : BATCH;
        if (run_batch(&x, start, n)) {
            jp_free(out);
            ectx_free(&x);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        vreg_t *r = &x.r[e->result];
        const uint8_t *v = r->v, *nl = r->nul;
        /* branch-free append: write always, advance when selected */
        if (nl)
            for (size_t k = 0; k < n; k++) {
                out[m] = start + k;
                m += (size_t)(v[k] & !nl[k]);
            }
        else
            for (size_t k = 0; k < n; k++) {
                out[m] = start + k;
                m += (size_t)(v[k] != 0);
            }
    }
    ectx_free(&x);
    if (m < nrows) {
        size_t *shr = jp_realloc_array(out, m ? m : 1, sizeof *out);
        if (shr) out = shr;
    }
    *rows = out;
    *nsel = m;
    return JP_OK;
}

/* Load (for lazy datasets) the columns the expression reads. */
static jp_status_t need_inputs(const jp_expr_t *e, jp_dataset_t *ds, jp_error_t *err)
{
    jp_status_t st = jp_dataset_need(ds, e->inputs, e->n_inputs, err);
    if (st) return st;
    if (!e->n_inputs) return jp_dataset_need_rows(ds, err);
    return JP_OK;
}

jp_column_t *jp_expr_eval(const jp_expr_t *e, jp_dataset_t *ds, jp_error_t *err)
{
    if (need_inputs(e, ds, err)) return NULL;
    return jp_expr_eval_cols(e, ds->cols, ds->nrows, err);
}

jp_status_t jp_expr_select(const jp_expr_t *e, jp_dataset_t *ds, size_t **rows, size_t *n,
                           jp_error_t *err)
{
    *rows = NULL;
    *n = 0;
    jp_status_t st = need_inputs(e, ds, err);
    if (st) return st;
    return jp_expr_select_cols(e, ds->cols, ds->nrows, rows, n, err);
}
