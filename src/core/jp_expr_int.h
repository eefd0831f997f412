/*
 * jp_expr_int.h - the expression compiler's and evaluator's own types,
 * shared by its files (never included outside them):
 *
 *   jp_expr_lex.c    tokens, and the compile-error helpers
 *   jp_expr_parse.c  the parser: source -> nodes (in post-order)
 *   jp_expr_check.c  types, units, constant parts
 *   jp_expr_gen.c    nodes -> register bytecode, slots
 *   jp_expr_eval.c   the bytecode over a batch of rows
 *   jp_expr_str.c    its string, membership and pattern operations
 *   jp_expr.c        the public face: compile, fold, evaluate whole columns
 *
 * Ownership: a cstate_t lives for one compilation and owns its nodes and
 * tokens; the program it builds (code, registers, constants) belongs to the
 * jp_expr_t; an ectx_t owns the buffers of one evaluation.
 */
#ifndef JP_EXPR_INT_H
#define JP_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_buf.h"
#include "jp_expr.h"

#define BATCH 1024
/* constants with broadcast arrays made at compile time (see const_reg) */
#define STATIC_CONSTS 256
/* first byte of a node's unit that names a per-row unit field, not a unit */
#define JPX_UNIT_FIELD_MARK '\x01'

/* ---- tokens ---------------------------------------------------------------- */

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
    F_DAY,
    F_ONE_OF,
    F_CONTAINS,
    F_STARTS_WITH,
    F_ENDS_WITH,
    F_TRIM,
    F_MATCHES,
    /* aggregates over the row's group (jp_expr_window.c) */
    F_SUM,
    F_MEAN,
    F_COUNT,
    F_MEDIAN,
    F_FIRST,
    F_LAST,
    F_AGG_MIN, /* min(x) and max(x) of one argument */
    F_AGG_MAX,
    /* window functions within the group, in row order */
    F_LAG,
    F_LEAD,
    F_CUMSUM,
    F_CUMPROD,
    F_CUMMEAN,
    F_CUMMAX,
    F_CUMMIN,
    F_ROW_NUMBER,
    F_RANK,
    F_DENSE_RANK
};

/* Aggregates and window functions see whole columns, not one row. */
static inline bool jpx_is_window(int fn)
{
    return fn >= F_SUM;
}

typedef struct fn_desc {
    const char *name;
    int id, min_args, max_args; /* max -1: any */
} fn_desc_t;

extern const fn_desc_t jpx_fns[];
extern const size_t JPX_NFNS;

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
    int stage;     /* a window call: its stage in the expression (-1 otherwise) */
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
    OP_YMD_P, /* of a period: nil unless it lies within one year / month / day */
    OP_ONE_OF,
    OP_STRPRED, /* contains(0), starts_with(1), ends_with(2) */
    OP_TRIM,
    OP_MATCH,
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
    int32_t aux; /* OP_ONE_OF, OP_MATCH: its entry in the program's aux (-1 otherwise) */
    double k;    /* round: digits */
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

/*
 * A window or aggregate call, computed over whole columns before the
 * expression's program runs: its arguments' programs give columns, the
 * function (jpx_window) gives a column, which the program then loads as
 * input n_fields + k.
 */
typedef struct stage {
    int fn;          /* F_SUM .. F_DENSE_RANK */
    jp_expr_t *arg;  /* the value argument's program, or NULL (count(), row_number()) */
    jp_expr_t *dflt; /* lag/lead: the default's program, or NULL */
    int64_t offset;  /* lag/lead */
    jp_type_t type;  /* of the result */
    char *what;      /* the argument's text, for messages */
} stage_t;

/* What an instruction needs besides registers: one_of()'s set of values,
 * matches()'s pattern (each evaluation compiles its own matcher). */
typedef struct aux {
    jp_type_t type; /* the set's values (INT, NUMBER, STRING, BOOL, DATE) */
    size_t n;
    int64_t *iv;   /* INT, BOOL, DATE: sorted */
    double *dv;    /* NUMBER: sorted, no NaN */
    char **sv;     /* STRING: sorted by bytes */
    size_t *sl;    /* their lengths */
    char *pattern; /* matches() */
} aux_t;

struct jp_expr {
    char *src;
    jp_type_t type;
    char *unit;
    char *unit_field; /* the result is in the unit each row of this field gives */
    size_t *inputs;
    size_t n_inputs;
    bool bound;
    bool windowed; /* holds an aggregate or window call (known from parsing) */
    ins_t *code;
    size_t n_code;
    reg_info_t *regs;
    size_t n_regs;
    size_t n_slots;  /* buffers, shared by registers whose lives do not overlap */
    stage_t *stages; /* windows and aggregates, in the order they are computed */
    size_t n_stages;
    size_t n_fields; /* of the schema: stage k's column is input n_fields + k */
    size_t n_static; /* constants with broadcast arrays */
    aux_t *aux;
    size_t n_aux;
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

static inline bool jpx_is_num(jp_type_t t)
{
    return t == JP_TYPE_INT || t == JP_TYPE_NUMBER;
}

/* ---- evaluation state ----------------------------------------------------- */

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
    slot_t *slot;      /* NULL for views and static constants */
    jp_strdict_t *own; /* dyn_dict registers */
    jp_buf_t *rows;    /* builder registers: BATCH strings */
    /* memo for string ops keyed by the input's code: out code + 1 (0 unknown) */
    uint32_t *memo;
    size_t memo_n;
    const jp_strdict_t *memo_for;
    uint32_t *memo2; /* SELECT/MINMAX: second input */
    size_t memo2_n;
    const jp_strdict_t *memo2_for;
    struct jp_regex *re; /* OP_MATCH: this evaluation's matcher */
} vreg_t;

typedef struct ectx {
    const jp_expr_t *e;
    jp_column_t *const *cols; /* by schema index */
    vreg_t *r;
    slot_t *slots;
    jp_buf_t scratch;
} ectx_t;

#define VI(r) ((int64_t *)(r)->v)
#define VD(r) ((double *)(r)->v)
#define VB(r) ((uint8_t *)(r)->v)
#define VT(r) ((int32_t *)(r)->v)
#define VS(r) ((uint32_t *)(r)->v)

/* One instruction over the n rows of a batch starting at row `start`: its
 * destination d and operands a, b, c (NULL when unused). */
typedef struct step {
    ectx_t *x;
    const ins_t *in;
    vreg_t *d, *a, *b, *c;
    size_t start, n;
} step_t;

/* ---- between the files ---------------------------------------------------- */

/* lexer and diagnostics (jp_expr_lex.c) */
jp_status_t jpx_next(cstate_t *cs); /* read the next token into cs->tok */
void jpx_tok_free(token_t *t);
const char *jpx_tok_text(int kind);
jp_status_t jpx_err(cstate_t *cs, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
jp_status_t jpx_nomem(cstate_t *cs);

/* parser (jp_expr_parse.c): one expression from cs->tok on; its node or -1 */
int jpx_parse_expr(cstate_t *cs);
bool jpx_push_int(cstate_t *cs, int **arr, size_t *n, size_t *cap, int v);

/* type checker (jp_expr_check.c): every node, folding constant parts */
jp_status_t jpx_check_tree(cstate_t *cs);

/* code generator (jp_expr_gen.c): the code of the tree below root into
 * cs->e, with its result register and slots */
jp_status_t jpx_gen_program(cstate_t *cs, int root);
void jpx_program_free(jp_expr_t *e);

/* constant folding (jp_expr.c): run a constant part, make it a constant */
jp_status_t jpx_fold(cstate_t *cs, int id);

/* window and aggregate functions (jp_expr_window.c) over a partition of the
 * rows into groups, each group in row order */
typedef struct jpx_part {
    const uint32_t *gid; /* NULL: one group */
    size_t ngroups, nrows;
    uint32_t *zeros; /* gid when there is one group (made on demand) */
    size_t *order;   /* rows group by group (made on demand) */
    size_t *start;   /* group g is order[start[g] .. start[g + 1]) */
} jpx_part_t;

void jpx_part_init(jpx_part_t *p, const jp_expr_groups_t *g, size_t nrows);
void jpx_part_free(jpx_part_t *p);
/* The column of a stage from its arguments' columns (x may be NULL for
 * count() and row_number(); dflt NULL but for lag/lead with a default). */
jp_column_t *jpx_window(const stage_t *st, const jp_column_t *x, const jp_column_t *dflt,
                        jpx_part_t *p, jp_error_t *err);

/* code generator, for the stages: their argument programs */
jp_status_t jpx_gen_stages(cstate_t *cs);
void jpx_stages_free(jp_expr_t *e);

/* evaluator (jp_expr_eval.c) */
jp_status_t jpx_ectx_init(ectx_t *x, const jp_expr_t *e, jp_column_t *const *cols);
void jpx_ectx_free(ectx_t *x);
jp_status_t jpx_run_batch(ectx_t *x, size_t start, size_t n);
/* the evaluator's helpers the string operations share */
jp_status_t jpx_memo_fit(uint32_t **memo, size_t *n, const jp_strdict_t **for_dict,
                         const jp_strdict_t *d);
uint8_t *jpx_own_nulls(vreg_t *d, const uint8_t *from, size_t n);
void jpx_take_nulls(vreg_t *d, const vreg_t *a, size_t n);
void jpx_merge_nulls(vreg_t *d, const vreg_t *a, const vreg_t *b, size_t n);

/* string, membership and pattern operations (jp_expr_str.c) */
jp_status_t jpx_op_strmap(const step_t *s); /* OP_LOWER, OP_UPPER, OP_TRIM */
jp_status_t jpx_op_len(const step_t *s);
jp_status_t jpx_op_substr(const step_t *s);
jp_status_t jpx_op_strpred(const step_t *s);
jp_status_t jpx_op_match(const step_t *s);
jp_status_t jpx_op_one_of(const step_t *s);
void jpx_aux_free(aux_t *a);

#endif
