/*
 * jp_expr_parse.c - the expression parser: tokens to nodes, with Lua 5.4's
 * operator priorities over two explicit stacks, so that chains of operators
 * of any length take no C stack; only parentheses and calls recurse, at
 * most JP_EXPR_MAX_DEPTH deep.  Field names are resolved here (with "did
 * you mean"), functions are found in the table and their arity checked.
 *
 * Owns the grammar and the function table.  Must never: look at types (the
 * checker does), keep a pointer to the schema after compiling.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_mem.h"
#include "jp_suggest.h"

const fn_desc_t jpx_fns[] = {
    {"abs", F_ABS, 1, 1},
    {"floor", F_FLOOR, 1, 1},
    {"ceil", F_CEIL, 1, 1},
    {"round", F_ROUND, 1, 2},
    {"sqrt", F_SQRT, 1, 1},
    {"log", F_LOG, 1, 2},
    {"exp", F_EXP, 1, 1},
    {"min", F_MIN, 1, -1},
    {"max", F_MAX, 1, -1},
    {"lower", F_LOWER, 1, 1},
    {"upper", F_UPPER, 1, 1},
    {"len", F_LEN, 1, 1},
    {"substr", F_SUBSTR, 2, 3},
    {"coalesce", F_COALESCE, 1, -1},
    {"if_else", F_IF_ELSE, 3, 3},
    {"tostring", F_TOSTRING, 1, 1},
    {"year", F_YEAR, 1, 1},
    {"month", F_MONTH, 1, 1},
    {"day", F_DAY, 1, 1},
    {"one_of", F_ONE_OF, 2, -1},
    {"contains", F_CONTAINS, 2, 2},
    {"starts_with", F_STARTS_WITH, 2, 2},
    {"ends_with", F_ENDS_WITH, 2, 2},
    {"trim", F_TRIM, 1, 1},
    {"sub", F_SUBSTR, 2, 3},
    {"matches", F_MATCHES, 2, 2},
    {"sum", F_SUM, 1, 1},
    {"mean", F_MEAN, 1, 1},
    {"count", F_COUNT, 0, 1},
    {"median", F_MEDIAN, 1, 1},
    {"first", F_FIRST, 1, 1},
    {"last", F_LAST, 1, 1},
    {"lag", F_LAG, 1, 3},
    {"lead", F_LEAD, 1, 3},
    {"cumsum", F_CUMSUM, 1, 1},
    {"cumprod", F_CUMPROD, 1, 1},
    {"cummean", F_CUMMEAN, 1, 1},
    {"cummax", F_CUMMAX, 1, 1},
    {"cummin", F_CUMMIN, 1, 1},
    {"row_number", F_ROW_NUMBER, 0, 0},
    {"rank", F_RANK, 1, 1},
    {"dense_rank", F_DENSE_RANK, 1, 1},
};
const size_t JPX_NFNS = sizeof jpx_fns / sizeof jpx_fns[0];

/* ---- parser (Lua 5.4's priority table, iterative) ------------------------- */

static int new_node(cstate_t *cs, int kind, size_t pos)
{
    if (cs->n_nodes == cs->cap_nodes) {
        size_t cap = cs->cap_nodes ? cs->cap_nodes * 2 : 32;
        node_t *n = jp_realloc_array(cs->nodes, cap, sizeof *n);
        if (!n) {
            jpx_nomem(cs);
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
    n->stage = -1;
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
    jpx_err(cs, pos,
            "expression nested too deeply at column %zu (more than %d levels of parentheses and "
            "function calls)",
            pos + 1, JP_EXPR_MAX_DEPTH);
    return false;
}

int jpx_parse_expr(cstate_t *cs);

static int call_expr(cstate_t *cs, char *name, size_t pos)
{
    const struct fn_desc *f = NULL;
    for (size_t k = 0; k < JPX_NFNS; k++)
        if (strcmp(jpx_fns[k].name, name) == 0) f = &jpx_fns[k];
    if (!f) {
        jp_suggest_t sg;
        jp_suggest_init(&sg, name);
        for (size_t k = 0; k < JPX_NFNS; k++) jp_suggest_add(&sg, jpx_fns[k].name);
        const char *best = jp_suggest_best(&sg);
        if (best)
            jpx_err(cs, pos, "unknown function '%s' at column %zu (did you mean '%s'?)", name,
                    pos + 1, best);
        else
            jpx_err(cs, pos,
                    "unknown function '%s' at column %zu (docs/verbs.md lists the functions)", name,
                    pos + 1);
        jp_free(name);
        return -1;
    }
    jp_free(name);
    if (!enter(cs, pos) || jpx_next(cs)) return -1;
    int *args = NULL;
    int nargs = 0;
    if (cs->tok.kind != T_RP) {
        for (;;) {
            int a = jpx_parse_expr(cs);
            if (a < 0) {
                jp_free(args);
                return -1;
            }
            int *na = jp_realloc_array(args, (size_t)nargs + 1, sizeof *na);
            if (!na) {
                jp_free(args);
                jpx_nomem(cs);
                return -1;
            }
            args = na;
            args[nargs++] = a;
            if (cs->tok.kind != T_COMMA) break;
            if (jpx_next(cs)) {
                jp_free(args);
                return -1;
            }
        }
    }
    cs->depth--;
    if (cs->tok.kind != T_RP) {
        jp_free(args);
        jpx_err(cs, cs->tok.pos, "expected ')' or ',' in the arguments of %s() at column %zu",
                f->name, cs->tok.pos + 1);
        return -1;
    }
    if (nargs < f->min_args || (f->max_args >= 0 && nargs > f->max_args)) {
        jp_free(args);
        if (f->min_args == f->max_args)
            jpx_err(cs, pos, "%s() takes %d argument%s, not %d (column %zu)", f->name, f->min_args,
                    f->min_args == 1 ? "" : "s", nargs, pos + 1);
        else if (f->max_args < 0)
            jpx_err(cs, pos, "%s() takes at least %d argument%s (column %zu)", f->name, f->min_args,
                    f->min_args == 1 ? "" : "s", pos + 1);
        else
            jpx_err(cs, pos, "%s() takes %d to %d arguments, not %d (column %zu)", f->name,
                    f->min_args, f->max_args, nargs, pos + 1);
        return -1;
    }
    /* made after its arguments: every node comes after the nodes below it */
    int id = new_node(cs, N_CALL, pos);
    if (id < 0) {
        jp_free(args);
        return -1;
    }
    /* min(x) and max(x) of one argument are the group's, as in SQL and dplyr */
    cs->nodes[id].op = nargs == 1 && f->id == F_MIN   ? F_AGG_MIN
                       : nargs == 1 && f->id == F_MAX ? F_AGG_MAX
                                                      : f->id;
    cs->nodes[id].args = args;
    cs->nodes[id].nargs = nargs;
    cs->nodes[id].end = cs->tok.pos + 1;
    return jpx_next(cs) ? -1 : id;
}

static int field_expr(cstate_t *cs, char *name, size_t pos, size_t end)
{
    long fi = jp_schema_find(cs->schema, name);
    if (fi < 0) {
        const char *sug = jp_schema_suggest(cs->schema, name);
        char hint[200] = "";
        if (sug) snprintf(hint, sizeof hint, " (did you mean '%s'?)", sug);
        jpx_err(cs, pos, "unknown field '%s' at column %zu%s", name, pos + 1, "");
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
        return jpx_next(cs) ? -1 : id;
    }
    case T_LP: {
        size_t pos = t->pos;
        if (!enter(cs, pos) || jpx_next(cs)) return -1;
        int e = jpx_parse_expr(cs);
        if (e < 0) return -1;
        cs->depth--;
        if (cs->tok.kind != T_RP) {
            jpx_err(cs, cs->tok.pos,
                    "expected ')' to close '(' at column %zu, found %s at column %zu", pos + 1,
                    cs->tok.kind == T_EOF ? "the end" : "another token", cs->tok.pos + 1);
            return -1;
        }
        cs->nodes[e].pos = pos;
        cs->nodes[e].end = cs->tok.pos + 1;
        return jpx_next(cs) ? -1 : e;
    }
    case T_NAME: {
        size_t pos = t->pos;
        char *name = t->s;
        t->s = NULL;
        size_t end = t->pos + t->len;
        if (jpx_next(cs)) {
            jp_free(name);
            return -1;
        }
        if (cs->tok.kind == T_LP) return call_expr(cs, name, pos);
        return field_expr(cs, name, pos, end);
    }
    case T_EOF:
        jpx_err(cs, t->pos, "unexpected end of expression at column %zu", t->pos + 1);
        return -1;
    default:
        jpx_err(cs, t->pos, "unexpected '%.*s' at column %zu", (int)t->len, cs->src + t->pos,
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
            jpx_nomem(cs);
            return false;
        }
        cs->ops = p;
        cs->cap_ops = cap;
    }
    cs->ops[cs->n_ops++] = (struct pending){op, pos, right, unary};
    return true;
}

bool jpx_push_int(cstate_t *cs, int **arr, size_t *n, size_t *cap, int v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        int *p = jp_realloc_array(*arr, c, sizeof *p);
        if (!p) {
            jpx_nomem(cs);
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
int jpx_parse_expr(cstate_t *cs)
{
    size_t ops_base = cs->n_ops;
    for (;;) {
        while (cs->tok.kind == T_NOT || cs->tok.kind == T_SUB || cs->tok.kind == T_LEN) {
            if (!push_op(cs, cs->tok.kind, cs->tok.pos, UNARY_PRIORITY, true) || jpx_next(cs))
                return -1;
        }
        int a = simpleexp(cs);
        if (a < 0 || !jpx_push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, a)) return -1;
        int left, right, op = cs->tok.kind;
        if (!binop_prio(op, &left, &right)) break;
        while (cs->n_ops > ops_base && cs->ops[cs->n_ops - 1].right >= left)
            if (!reduce(cs)) return -1;
        if (!push_op(cs, op, cs->tok.pos, right, false) || jpx_next(cs)) return -1;
    }
    while (cs->n_ops > ops_base)
        if (!reduce(cs)) return -1;
    return cs->vals[--cs->n_vals];
}
