/*
 * jp_expr_gen.c - the expression code generator: checked nodes to a
 * register bytecode, walking the tree with an explicit stack (the more
 * demanding operand first), constants as broadcast arrays or per-batch
 * fills, chains of '..' as one appending builder, and the slots that let
 * registers whose lives do not overlap share buffers.
 *
 * Owns the instruction selection and the register lifetimes.  Must never:
 * change a node's type (the checker decides) or touch data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_mem.h"

/* ---- code generation ------------------------------------------------------ */

static int new_reg(cstate_t *cs, jp_type_t t)
{
    jp_expr_t *e = cs->e;
    if (e->n_regs == cs->cap_regs) {
        size_t cap = cs->cap_regs ? cs->cap_regs * 2 : 16;
        reg_info_t *r = jp_realloc_array(e->regs, cap, sizeof *r);
        if (!r) {
            jpx_nomem(cs);
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
            jpx_nomem(cs);
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
    in->aux = -1;
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
            jpx_nomem(cs);
            return -1;
        }
    }
    if (cs->n_statics < STATIC_CONSTS) {
        if (!const_arrays(ri)) {
            jpx_nomem(cs);
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
    if (jpx_is_num(a->type) && jpx_is_num(b->type))
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

/* A new aux entry of the program; its index, or -1 (out of memory). */
static int new_aux(cstate_t *cs)
{
    jp_expr_t *e = cs->e;
    aux_t *a = jp_realloc_array(e->aux, e->n_aux + 1, sizeof *a);
    if (!a) {
        jpx_nomem(cs);
        return -1;
    }
    e->aux = a;
    memset(&a[e->n_aux], 0, sizeof *a);
    return (int)e->n_aux++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct sv_pair {
    char *s;
    size_t l;
} sv_pair_t;

static int cmp_pair(const void *a, const void *b)
{
    const sv_pair_t *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->l < y->l ? x->l : y->l);
    if (c) return c;
    return (x->l > y->l) - (x->l < y->l);
}

/* Sort the strings of a set by bytes (as pairs, to move both arrays). */
static bool sort_strings(aux_t *a)
{
    sv_pair_t *p = jp_malloc_array(a->n ? a->n : 1, sizeof *p);
    if (!p) return false;
    for (size_t k = 0; k < a->n; k++) p[k] = (sv_pair_t){a->sv[k], a->sl[k]};
    qsort(p, a->n, sizeof *p, cmp_pair);
    for (size_t k = 0; k < a->n; k++) {
        a->sv[k] = p[k].s;
        a->sl[k] = p[k].l;
    }
    jp_free(p);
    return true;
}

/* one_of's set: its literal values (args 1..) as type t, sorted. */
static int new_set(cstate_t *cs, const node_t *n, jp_type_t t)
{
    int ai = new_aux(cs);
    if (ai < 0) return -1;
    aux_t *a = &cs->e->aux[ai];
    size_t m = (size_t)n->nargs - 1;
    a->type = t;
    bool ok;
    if (t == JP_TYPE_STRING)
        ok = (a->sv = jp_calloc(m, sizeof *a->sv)) && (a->sl = jp_calloc(m, sizeof *a->sl));
    else if (t == JP_TYPE_NUMBER)
        ok = (a->dv = jp_calloc(m, sizeof *a->dv)) != NULL;
    else
        ok = (a->iv = jp_calloc(m, sizeof *a->iv)) != NULL;
    for (size_t k = 0; ok && k < m; k++) {
        const node_t *v = &cs->nodes[n->args[k + 1]];
        if (t == JP_TYPE_STRING) {
            ok = (a->sv[a->n] = jp_strndup(v->s, v->slen)) != NULL;
            a->sl[a->n++] = v->slen;
        } else if (t == JP_TYPE_NUMBER) {
            double d = v->type == JP_TYPE_INT ? (double)v->i : v->d;
            if (d == d) a->dv[a->n++] = d; /* NaN equals nothing */
        } else
            a->iv[a->n++] = v->i;
    }
    if (ok && t == JP_TYPE_STRING) ok = sort_strings(a);
    if (!ok) {
        jpx_nomem(cs);
        return -1;
    }
    if (t == JP_TYPE_NUMBER) qsort(a->dv, a->n, sizeof *a->dv, cmp_dbl);
    if (a->iv) qsort(a->iv, a->n, sizeof *a->iv, cmp_i64);
    return ai;
}

/* emit, and set the instruction's aux entry */
static int emit_aux(cstate_t *cs, int op, int sub, int dst, int a, int aux)
{
    if (aux < 0) return -1;
    int r = emit(cs, op, sub, dst, a, -1, -1);
    if (r >= 0) cs->e->code[cs->e->n_code - 1].aux = aux;
    return r;
}

static int gen_one_of(cstate_t *cs, const node_t *n)
{
    jp_type_t t = cs->nodes[n->args[0]].type;
    for (int k = 1; k < n->nargs; k++)
        if (cs->nodes[n->args[k]].type == JP_TYPE_NUMBER) t = JP_TYPE_NUMBER;
    int x = kid_reg(cs, n->args[0], t);
    if (x < 0) return -1;
    return emit_aux(cs, OP_ONE_OF, 0, new_reg(cs, JP_TYPE_BOOL), x, new_set(cs, n, t));
}

static int gen_matches(cstate_t *cs, const node_t *n)
{
    int x = kid_reg(cs, n->args[0], JP_TYPE_STRING);
    if (x < 0) return -1;
    int ai = new_aux(cs);
    if (ai < 0) return -1;
    const node_t *p = &cs->nodes[n->args[1]];
    aux_t *a = &cs->e->aux[ai];
    a->type = JP_TYPE_STRING;
    if (!(a->pattern = jp_strndup(p->s, p->slen))) {
        jpx_nomem(cs);
        return -1;
    }
    return emit_aux(cs, OP_MATCH, 0, new_reg(cs, JP_TYPE_BOOL), x, ai);
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
    case F_UPPER:
    case F_TRIM: {
        int x = kid_reg(cs, args[0], JP_TYPE_STRING);
        int d = new_reg(cs, JP_TYPE_STRING);
        if (d >= 0) cs->e->regs[d].dyn_dict = true;
        return emit(cs,
                    n->op == F_LOWER   ? OP_LOWER
                    : n->op == F_UPPER ? OP_UPPER
                                       : OP_TRIM,
                    0, d, x, -1, -1);
    }
    case F_LEN: { /* characters (sub 1); '#' counts bytes */
        int x = kid_reg(cs, args[0], JP_TYPE_STRING);
        return emit(cs, OP_LEN_S, 1, new_reg(cs, JP_TYPE_INT), x, -1, -1);
    }
    case F_CONTAINS:
    case F_STARTS_WITH:
    case F_ENDS_WITH: {
        int x = kid_reg(cs, args[0], JP_TYPE_STRING), y = kid_reg(cs, args[1], JP_TYPE_STRING);
        if (x < 0 || y < 0) return -1;
        return emit(cs, OP_STRPRED, n->op - F_CONTAINS, new_reg(cs, JP_TYPE_BOOL), x, y, -1);
    }
    case F_MATCHES:
        return gen_matches(cs, n);
    case F_ONE_OF:
        return gen_one_of(cs, n);
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
        bool period = cs->nodes[args[0]].type == JP_TYPE_PERIOD;
        int x = kid_reg(cs, args[0], period ? JP_TYPE_PERIOD : JP_TYPE_DATE);
        return emit(cs, period ? OP_YMD_P : OP_YMD, n->op - F_YEAR, new_reg(cs, JP_TYPE_INT), x, -1,
                    -1);
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
        if (jpx_is_window(n->op)) {
            /* computed before the program runs: a column to load */
            int r = emit(cs, OP_LOAD, 0, new_reg(cs, t), -1, -1, -1);
            if (r >= 0)
                cs->e->code[cs->e->n_code - 1].field =
                    (int32_t)(cs->schema->n_fields + (size_t)n->stage);
            return r;
        }
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
    return jpx_push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, what) &&
           jpx_push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, id) &&
           jpx_push_int(cs, &cs->walk, &cs->n_walk, &cs->cap_walk, aux);
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
    if (!jpx_push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, root)) return false;
    while (cs->n_vals) {
        int id = cs->vals[--cs->n_vals];
        const node_t *n = &cs->nodes[id];
        if (id == root || (is_concat(n) && n->chain)) {
            if (!jpx_push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, n->kids[0]) ||
                !jpx_push_int(cs, &cs->vals, &cs->n_vals, &cs->cap_vals, n->kids[1]))
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
    if (n->kind == N_CALL && jpx_is_window(n->op)) return true; /* its arguments are a stage's */
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
static int gen_tree(cstate_t *cs, int root, jp_type_t want)
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
    return kid_reg(cs, root, want);
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
        return jpx_nomem(cs);
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
                jpx_err(cs, 0,
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
static jp_status_t gen_program(cstate_t *cs, int root, jp_type_t want)
{
    int r = gen_tree(cs, root, want);
    if (!cs->st && r < 0) jpx_nomem(cs);
    if (cs->st) return cs->st;
    cs->e->result = r;
    return assign_slots(cs);
}

jp_status_t jpx_gen_program(cstate_t *cs, int root)
{
    return gen_program(cs, root, JP_TYPE_NONE);
}

/* A program of its own for the tree below root (a stage's argument),
 * converted to `want`: compiled with the state of cs, which is put back. */
static jp_expr_t *gen_sub(cstate_t *cs, int root, jp_type_t want)
{
    jp_expr_t *sub = jp_calloc(1, sizeof *sub);
    if (!sub) {
        jpx_nomem(cs);
        return NULL;
    }
    sub->result = -1;
    jp_expr_t *saved = cs->e;
    size_t cc = cs->cap_code, cr = cs->cap_regs, ns = cs->n_statics;
    int statics[STATIC_CONSTS];
    memcpy(statics, cs->statics, sizeof statics);
    cs->e = sub;
    cs->cap_code = cs->cap_regs = 0;
    cs->n_statics = 0;
    gen_program(cs, root, want);
    cs->e = saved;
    cs->cap_code = cc;
    cs->cap_regs = cr;
    cs->n_statics = ns;
    memcpy(cs->statics, statics, sizeof statics);
    if (cs->st) {
        jpx_program_free(sub);
        jp_free(sub);
        return NULL;
    }
    sub->bound = true;
    return sub;
}

/*
 * A stage for every aggregate and window call, in post-order (so a call
 * inside another's argument is computed first and loaded by it): the
 * programs of its arguments, converted to the type the function works in.
 */
jp_status_t jpx_gen_stages(cstate_t *cs)
{
    jp_expr_t *e = cs->e;
    for (size_t id = 0; id < cs->n_nodes && !cs->st; id++) {
        node_t *n = &cs->nodes[id];
        if (n->kind != N_CALL || !jpx_is_window(n->op)) continue;
        stage_t *st = jp_realloc_array(e->stages, e->n_stages + 1, sizeof *st);
        if (!st) return jpx_nomem(cs);
        e->stages = st;
        st = &e->stages[e->n_stages];
        memset(st, 0, sizeof *st);
        n->stage = (int)e->n_stages++;
        st->fn = n->op;
        st->type = n->type;
        bool lagged = n->op == F_LAG || n->op == F_LEAD;
        if (lagged) st->offset = n->nargs >= 2 ? cs->nodes[n->args[1]].i : 1;
        if (n->nargs) {
            const node_t *a = &cs->nodes[n->args[0]];
            if (!(st->what = jp_strndup(cs->src + a->pos, a->end - a->pos))) return jpx_nomem(cs);
            st->arg = gen_sub(cs, n->args[0], lagged ? n->type : JP_TYPE_NONE);
            if (!st->arg) return cs->st;
        }
        if (lagged && n->nargs == 3 && !(st->dflt = gen_sub(cs, n->args[2], n->type)))
            return cs->st;
    }
    return cs->st;
}

void jpx_stages_free(jp_expr_t *e)
{
    for (size_t k = 0; k < e->n_stages; k++) {
        stage_t *st = &e->stages[k];
        if (st->arg) jpx_program_free(st->arg);
        if (st->dflt) jpx_program_free(st->dflt);
        jp_free(st->arg);
        jp_free(st->dflt);
        jp_free(st->what);
    }
    jp_free(e->stages);
    e->stages = NULL;
    e->n_stages = 0;
}

/* Free what a program holds (its constants, registers and code). */
void jpx_program_free(jp_expr_t *e)
{
    for (size_t i = 0; i < e->n_regs; i++) {
        jp_free(e->regs[i].cval);
        jp_free(e->regs[i].cnul);
        jp_strdict_unref(e->regs[i].cdict);
    }
    jp_free(e->regs);
    jp_free(e->code);
    for (size_t i = 0; i < e->n_aux; i++) jpx_aux_free(&e->aux[i]);
    jp_free(e->aux);
    e->aux = NULL;
    e->n_aux = 0;
}
