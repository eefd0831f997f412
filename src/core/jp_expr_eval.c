/*
 * jp_expr_eval.c - the expression evaluator: runs a compiled program over
 * one batch of rows.  Each instruction is one tight loop over typed arrays
 * with a null mask (NULL = no nulls in this batch) and a qualifier array
 * (NULL = all exact); string work is memoised per dictionary code, so it is
 * done once per distinct string.
 *
 * Owns the semantics of every operation on values, nulls and qualifiers.
 * Must never: write into a column or another register's slot, or keep a
 * pointer into a slot it does not own (values are copied instead).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_mem.h"
#include "jp_regex.h"

void jpx_ectx_free(ectx_t *x)
{
    if (!x->r) return;
    for (size_t i = 0; i < x->e->n_regs; i++) {
        vreg_t *r = &x->r[i];
        jp_strdict_unref(r->own);
        jp_free(r->memo);
        jp_free(r->memo2);
        jp_regex_free(r->re);
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

jp_status_t jpx_ectx_init(ectx_t *x, const jp_expr_t *e, jp_column_t *const *cols)
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
    jpx_ectx_free(x);
    return JP_ERR_NOMEM;
}

/* Give the register its own null bytes (copying the current ones). */
uint8_t *jpx_own_nulls(vreg_t *d, const uint8_t *from, size_t n)
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
void jpx_take_nulls(vreg_t *d, const vreg_t *a, size_t n)
{
    if (a && a->nul && a->nul == a->nbuf)
        jpx_own_nulls(d, a->nul, n);
    else
        d->nul = a ? a->nul : NULL;
}

void jpx_merge_nulls(vreg_t *d, const vreg_t *a, const vreg_t *b, size_t n)
{
    if (!a->nul)
        jpx_take_nulls(d, b, n);
    else if (!b || !b->nul)
        jpx_take_nulls(d, a, n);
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
jp_status_t jpx_memo_fit(uint32_t **memo, size_t *n, const jp_strdict_t **for_dict,
                         const jp_strdict_t *d)
{
    if (!d) return JP_OK; /* an all-null batch without a dictionary: nothing to look up */
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
    if (jpx_memo_fit(memo, mn, mfor, from)) return JP_ERR_NOMEM;
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

/* ---- the operations ------------------------------------------------------------ */

static jp_status_t op_load(const step_t *s)
{
    const jp_column_t *c = s->x->cols[s->in->field];
    vreg_t *d = s->d;
    d->v = (char *)c->v.raw + s->start * jp_type_width(c->type);
    d->nul = c->nulls ? c->nulls + s->start : NULL;
    d->qual = c->quals ? c->quals + s->start : NULL;
    d->dict = c->dict;
    return JP_OK;
}

static jp_status_t op_const(const step_t *s)
{
    const reg_info_t *ri = &s->x->e->regs[s->in->dst];
    vreg_t *d = s->d;
    size_t n = s->n;
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
    return JP_OK;
}

static jp_status_t op_i2d(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    const int64_t *p = VI(a);
    double *o = d->buf;
    for (size_t k = 0; k < s->n; k++) o[k] = (double)p[k];
    d->v = o;
    jpx_take_nulls(d, a, s->n);
    return take_quals(d, a, s->n);
}

/* The qualifiers of an arithmetic result (qarith) where an operand has some. */
static jp_status_t arith_quals(const step_t *s, bool isint)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b;
    if (!a->qual && !b->qual) return JP_OK;
    uint8_t *qo = get_qbuf(d);
    if (!qo) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) {
        uint8_t qa = a->qual ? a->qual[k] : 0, qb = b->qual ? b->qual[k] : 0;
        if (!qa && !qb) {
            qo[k] = 0;
            continue;
        }
        double xv = isint ? (double)VI(a)[k] : VD(a)[k];
        double yv = isint ? (double)VI(b)[k] : VD(b)[k];
        qo[k] = qarith(s->in->op, xv, yv, qa, qb);
    }
    d->qual = qo;
    return JP_OK;
}

/* + - * on integers wrap around, as Lua's do (computed unsigned). */
static jp_status_t op_arith_i(const step_t *s)
{
    vreg_t *d = s->d;
    const int64_t *p = VI(s->a), *q = VI(s->b);
    int64_t *o = d->buf;
    size_t n = s->n;
    switch (s->in->op) {
    case OP_ADD_I:
        for (size_t k = 0; k < n; k++) o[k] = (int64_t)((uint64_t)p[k] + (uint64_t)q[k]);
        break;
    case OP_SUB_I:
        for (size_t k = 0; k < n; k++) o[k] = (int64_t)((uint64_t)p[k] - (uint64_t)q[k]);
        break;
    default:
        for (size_t k = 0; k < n; k++) o[k] = (int64_t)((uint64_t)p[k] * (uint64_t)q[k]);
        break;
    }
    d->v = o;
    jpx_merge_nulls(d, s->a, s->b, n);
    return arith_quals(s, true);
}

static jp_status_t op_arith_d(const step_t *s)
{
    vreg_t *d = s->d;
    const double *p = VD(s->a), *q = VD(s->b);
    double *o = d->buf;
    size_t n = s->n;
    switch (s->in->op) {
    case OP_ADD_D:
        for (size_t k = 0; k < n; k++) o[k] = p[k] + q[k];
        break;
    case OP_SUB_D:
        for (size_t k = 0; k < n; k++) o[k] = p[k] - q[k];
        break;
    case OP_MUL_D:
        for (size_t k = 0; k < n; k++) o[k] = p[k] * q[k];
        break;
    case OP_DIV_D:
        for (size_t k = 0; k < n; k++) o[k] = p[k] / q[k];
        break;
    case OP_POW_D:
        for (size_t k = 0; k < n; k++) o[k] = pow(p[k], q[k]);
        break;
    case OP_IDIV_D:
        for (size_t k = 0; k < n; k++) o[k] = floor(p[k] / q[k]);
        break;
    default: /* OP_MOD_D: floored, as Lua's */
        for (size_t k = 0; k < n; k++) {
            double m = fmod(p[k], q[k]);
            if ((m > 0) ? q[k] < 0 : (m < 0 && q[k] != m)) m += q[k];
            o[k] = m;
        }
        break;
    }
    d->v = o;
    jpx_merge_nulls(d, s->a, s->b, n);
    return arith_quals(s, false);
}

/* // and % on integers, floored; by zero they are null (Lua would raise). */
static jp_status_t op_divmod_i(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b;
    const int64_t *p = VI(a), *q = VI(b);
    int64_t *o = d->buf;
    uint8_t *nb = NULL;
    bool mod = s->in->op == OP_MOD_I;
    size_t n = s->n;
    for (size_t k = 0; k < n; k++) {
        int64_t u = p[k], w = q[k], r;
        if (w == 0) {
            if (!nb) {
                jpx_merge_nulls(d, a, b, n);
                nb = jpx_own_nulls(d, d->nul, n);
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
    if (!nb) jpx_merge_nulls(d, a, b, n);
    return arith_quals(s, true);
}

/* d's qualifiers are a's, each passed through f. */
static jp_status_t map_quals(const step_t *s, uint8_t (*f)(uint8_t))
{
    if (!s->a->qual) return JP_OK;
    uint8_t *qo = get_qbuf(s->d);
    if (!qo) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) qo[k] = f(s->a->qual[k]);
    s->d->qual = qo;
    return JP_OK;
}

static jp_status_t op_neg(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    if (s->in->op == OP_NEG_I) {
        const int64_t *p = VI(a);
        int64_t *o = d->buf;
        for (size_t k = 0; k < s->n; k++) o[k] = (int64_t)(0 - (uint64_t)p[k]);
    } else {
        const double *p = VD(a);
        double *o = d->buf;
        for (size_t k = 0; k < s->n; k++) o[k] = -p[k];
    }
    d->v = d->buf;
    jpx_take_nulls(d, a, s->n);
    return map_quals(s, qflip);
}

#define CMPLOOP(T, ARR)                                                                            \
    do {                                                                                           \
        const T *p = ARR(s->a), *q = ARR(s->b);                                                    \
        switch (s->in->sub) {                                                                      \
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
    } while (0)

/* Comparisons of integers, numbers, booleans and dates. */
static jp_status_t op_cmp(const step_t *s)
{
    uint8_t *o = s->d->buf;
    size_t n = s->n;
    if (s->in->op == OP_CMP_I)
        CMPLOOP(int64_t, VI);
    else if (s->in->op == OP_CMP_D)
        CMPLOOP(double, VD);
    else if (s->in->op == OP_CMP_B)
        CMPLOOP(uint8_t, VB);
    else
        CMPLOOP(int32_t, VT);
    cmp_nulls(s->d, s->a, s->b, s->in->sub, n);
    return JP_OK;
}
#undef CMPLOOP

/* A string compared with a literal: each distinct string of v's dictionary
 * is compared once (the memo holds the three-way result + 2). */
static jp_status_t cmp_literal(const step_t *s, vreg_t *v, const vreg_t *lit, bool lit_right)
{
    vreg_t *d = s->d;
    uint8_t *o = d->buf;
    const uint32_t *codes = VS(v);
    size_t ll;
    const char *ls = jp_strdict_get(lit->dict, 0, &ll);
    const jp_strdict_t *vd = v->dict;
    for (size_t k = 0; k < s->n; k++) {
        if (v->nul && v->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = codes[k];
        if ((code >= d->memo_n || d->memo_for != vd) &&
            jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, vd))
            return JP_ERR_NOMEM;
        uint32_t m = d->memo[code];
        if (!m) {
            size_t sl;
            const char *str = jp_strdict_get(vd, code, &sl);
            int cr = lit_right ? str_cmp(str, sl, ls, ll) : str_cmp(ls, ll, str, sl);
            m = (uint32_t)(cr + 2);
            d->memo[code] = m;
        }
        o[k] = cmp_holds(s->in->sub, (int)m - 2);
    }
    return JP_OK;
}

static jp_status_t op_cmp_s(const step_t *s)
{
    const jp_expr_t *e = s->x->e;
    vreg_t *a = s->a, *b = s->b;
    uint8_t *o = s->d->buf;
    const uint32_t *p = VS(a), *q = VS(b);
    size_t n = s->n;
    int sub = s->in->sub;
    bool bconst = e->regs[s->in->b].is_const, aconst = e->regs[s->in->a].is_const;
    if (a->dict == b->dict && (sub == C_EQ || sub == C_NE)) {
        if (sub == C_EQ)
            for (size_t k = 0; k < n; k++) o[k] = p[k] == q[k];
        else
            for (size_t k = 0; k < n; k++) o[k] = p[k] != q[k];
    } else if ((bconst && b->nul) || (aconst && a->nul)) {
        memset(o, 0, n); /* a nil string constant: settled by cmp_nulls */
    } else if (bconst || aconst) {
        jp_status_t st = bconst ? cmp_literal(s, a, b, true) : cmp_literal(s, b, a, false);
        if (st) return st;
    } else {
        for (size_t k = 0; k < n; k++) {
            if ((a->nul && a->nul[k]) || (b->nul && b->nul[k])) {
                o[k] = 0;
                continue;
            }
            size_t la, lb;
            const char *sa = jp_strdict_get(a->dict, p[k], &la);
            const char *sb = jp_strdict_get(b->dict, q[k], &lb);
            o[k] = cmp_holds(sub, str_cmp(sa, la, sb, lb));
        }
    }
    cmp_nulls(s->d, a, b, sub, n);
    return JP_OK;
}

static jp_status_t op_isnull(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    uint8_t *o = d->buf;
    uint8_t want = s->in->op == OP_ISNULL;
    if (a->nul)
        for (size_t k = 0; k < s->n; k++) o[k] = a->nul[k] == want;
    else
        memset(o, !want, s->n);
    d->v = o;
    d->nul = NULL;
    return JP_OK;
}

/* Lua's truthiness (nil and false are false), or its negation (not). */
static jp_status_t op_truthy(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    uint8_t *o = d->buf;
    bool isb = s->x->e->regs[s->in->a].type == JP_TYPE_BOOL;
    uint8_t flip = s->in->op == OP_NOT;
    for (size_t k = 0; k < s->n; k++) {
        uint8_t t = (uint8_t)(!(a->nul && a->nul[k]) && (!isb || VB(a)[k]));
        o[k] = t ^ flip;
    }
    d->v = o;
    d->nul = NULL;
    return JP_OK;
}

/* Strings from two dictionaries: re-intern each chosen one into our own. */
static jp_status_t select_strings(const step_t *s, const uint8_t *m, vreg_t *xv, vreg_t *y)
{
    vreg_t *d = s->d;
    uint32_t *o = d->buf;
    for (size_t k = 0; k < s->n; k++) {
        vreg_t *src = m[k] ? xv : y;
        if (src->nul && src->nul[k]) {
            o[k] = 0;
            continue;
        }
        jp_status_t st =
            m[k] ? remap(&d->memo, &d->memo_n, &d->memo_for, xv->dict, VS(xv)[k], d->own, &o[k])
                 : remap(&d->memo2, &d->memo2_n, &d->memo2_for, y->dict, VS(y)[k], d->own, &o[k]);
        if (st) return st;
    }
    d->v = o;
    d->dict = d->own;
    return JP_OK;
}

/* Values of the same width picked by the mask, whatever their type. */
static void select_values(const step_t *s, const uint8_t *m, const vreg_t *xv, const vreg_t *y,
                          size_t w)
{
    char *o = s->d->buf;
    const char *pa = xv->v, *pb = y->v;
    size_t n = s->n;
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
    s->d->v = o;
}

/* mask a ? b : c, with the chosen value's null and qualifier. */
static jp_status_t op_select(const step_t *s)
{
    const jp_expr_t *e = s->x->e;
    const ins_t *in = s->in;
    vreg_t *d = s->d, *xv = s->b, *y = s->c;
    const uint8_t *m = VB(s->a);
    jp_type_t t = e->regs[in->dst].type;
    size_t n = s->n;
    bool xnil = xv->nul && e->regs[in->b].is_const && e->regs[in->b].cnull;
    bool ynil = y->nul && e->regs[in->c].is_const && e->regs[in->c].cnull;
    if (t == JP_TYPE_STRING && !(xv->dict == y->dict || xnil || ynil)) {
        jp_status_t st = select_strings(s, m, xv, y);
        if (st) return st;
    } else {
        select_values(s, m, xv, y, jp_type_width(t));
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
    return JP_OK;
}

static jp_status_t op_abs(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    bool isint = s->in->op == OP_ABS_I;
    size_t n = s->n;
    if (isint) {
        const int64_t *p = VI(a);
        int64_t *o = d->buf;
        for (size_t k = 0; k < n; k++) o[k] = p[k] < 0 ? (int64_t)(0 - (uint64_t)p[k]) : p[k];
    } else {
        const double *p = VD(a);
        double *o = d->buf;
        for (size_t k = 0; k < n; k++) o[k] = fabs(p[k]);
    }
    d->v = d->buf;
    jpx_take_nulls(d, a, n);
    if (!a->qual) return JP_OK;
    /* a bound on a negative value turns around */
    uint8_t *qo = get_qbuf(d);
    if (!qo) return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        double v = isint ? (double)VI(a)[k] : VD(a)[k];
        qo[k] = v < 0 ? qflip(a->qual[k]) : a->qual[k];
    }
    d->qual = qo;
    return JP_OK;
}

static jp_status_t op_floor_ceil(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    const double *p = VD(a);
    int64_t *o = d->buf;
    uint8_t *nb = NULL;
    bool fl = s->in->op == OP_FLOOR_D;
    for (size_t k = 0; k < s->n; k++) {
        double v = fl ? floor(p[k]) : ceil(p[k]);
        if (v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
            o[k] = (int64_t)v;
        } else {
            /* NaN, infinities and values past int64 have no integer */
            if (!nb) nb = jpx_own_nulls(d, a->nul, s->n);
            nb[k] = 1;
            o[k] = 0;
        }
    }
    d->v = o;
    if (!nb) jpx_take_nulls(d, a, s->n);
    return map_quals(s, qweak);
}

static jp_status_t op_round(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    const double *p = VD(a);
    double *o = d->buf;
    double dg = s->in->k, f = pow(10.0, dg);
    for (size_t k = 0; k < s->n; k++) {
        if (dg == 0)
            o[k] = round(p[k]);
        else {
            double v = round(p[k] * f) / f;
            o[k] = isfinite(v) ? v : p[k];
        }
    }
    d->v = o;
    jpx_take_nulls(d, a, s->n);
    return map_quals(s, qweak);
}

/* sqrt, log, exp: increasing functions keep the bound */
static jp_status_t op_math(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    const double *p = VD(a);
    double *o = d->buf;
    size_t n = s->n;
    if (s->in->op == OP_SQRT_D)
        for (size_t k = 0; k < n; k++) o[k] = sqrt(p[k]);
    else if (s->in->op == OP_LOG_D)
        for (size_t k = 0; k < n; k++) o[k] = log(p[k]);
    else
        for (size_t k = 0; k < n; k++) o[k] = exp(p[k]);
    d->v = o;
    jpx_take_nulls(d, a, n);
    return take_quals(d, a, n);
}

static jp_status_t op_logb(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b;
    const double *p = VD(a), *q = VD(b);
    double *o = d->buf;
    size_t n = s->n;
    for (size_t k = 0; k < n; k++) {
        if (q[k] == 2.0)
            o[k] = log2(p[k]);
        else if (q[k] == 10.0)
            o[k] = log10(p[k]);
        else
            o[k] = log(p[k]) / log(q[k]);
    }
    d->v = o;
    jpx_merge_nulls(d, a, b, n);
    if (!a->qual && !b->qual) return JP_OK;
    uint8_t *qo = get_qbuf(d);
    if (!qo) return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++)
        qo[k] = (b->qual && b->qual[k]) ? (uint8_t)JP_Q_APPROX : (a->qual ? a->qual[k] : 0);
    d->qual = qo;
    return JP_OK;
}

/* For min/max: 1 where b is the pick (nulls are skipped: min(nil, 3) is 3). */
static void minmax_pick(const step_t *s, uint8_t *pick)
{
    const vreg_t *a = s->a, *b = s->b;
    bool mx = s->in->sub == 1;
    int op = s->in->op;
    for (size_t k = 0; k < s->n; k++) {
        bool na = a->nul && a->nul[k], nb = b->nul && b->nul[k];
        bool tb;
        if (na || nb)
            tb = na && !nb;
        else if (op == OP_MINMAX_I)
            tb = mx ? VI(b)[k] > VI(a)[k] : VI(b)[k] < VI(a)[k];
        else if (op == OP_MINMAX_D)
            tb = mx ? VD(b)[k] > VD(a)[k] : VD(b)[k] < VD(a)[k];
        else if (op == OP_MINMAX_T)
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
}

static jp_status_t op_minmax(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b;
    size_t n = s->n;
    if (jp_buf_reserve(&s->x->scratch, BATCH)) return JP_ERR_NOMEM;
    uint8_t *pick = (uint8_t *)s->x->scratch.data;
    minmax_pick(s, pick);
    size_t w = jp_type_width(s->x->e->regs[s->in->dst].type);
    char *o = d->buf;
    for (size_t k = 0; k < n; k++) {
        vreg_t *src = pick[k] ? b : a;
        if (s->in->op == OP_MINMAX_S) {
            uint32_t code = 0;
            if (!(src->nul && src->nul[k])) {
                jp_status_t st = pick[k] ? remap(&d->memo2, &d->memo2_n, &d->memo2_for, b->dict,
                                                 VS(b)[k], d->own, &code)
                                         : remap(&d->memo, &d->memo_n, &d->memo_for, a->dict,
                                                 VS(a)[k], d->own, &code);
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
    if (!a->qual && !b->qual) return JP_OK;
    uint8_t *qo = get_qbuf(d);
    if (!qo) return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        vreg_t *src = pick[k] ? b : a;
        qo[k] = src->qual ? src->qual[k] : 0;
    }
    d->qual = qo;
    return JP_OK;
}

/* A concatenation: the builder d holds one growing string per row. */
static jp_status_t op_cat_begin(const step_t *s)
{
    vreg_t *d = s->d;
    if (!d->rows && !(d->rows = jp_calloc(BATCH, sizeof *d->rows))) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) jp_buf_reset(&d->rows[k]);
    memset(d->nbuf, 0, s->n);
    return JP_OK;
}

/* d is a, the builder: appends b's strings; a nil operand makes the row nil */
static jp_status_t op_cat_add(const step_t *s)
{
    vreg_t *d = s->d, *b = s->b;
    for (size_t k = 0; k < s->n; k++) {
        if (d->nbuf[k]) continue;
        if (b->nul && b->nul[k]) {
            d->nbuf[k] = 1;
            continue;
        }
        size_t len;
        const char *p = jp_strdict_get(b->dict, VS(b)[k], &len);
        if (jp_buf_append(&d->rows[k], p, len)) return JP_ERR_NOMEM;
    }
    return JP_OK;
}

static jp_status_t op_cat_end(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    uint32_t *o = d->buf;
    bool any = false;
    for (size_t k = 0; k < s->n; k++) {
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
    return JP_OK;
}

static jp_status_t op_tostr(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    uint32_t *o = d->buf;
    char buf[64];
    for (size_t k = 0; k < s->n; k++) {
        if (a->nul && a->nul[k]) {
            o[k] = 0;
            continue;
        }
        size_t len;
        switch (s->in->op) {
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
    jpx_take_nulls(d, a, s->n);
    return JP_OK;
}

/* year(0), month(1) or day(2) of a date */
static jp_status_t op_ymd(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    int64_t *o = d->buf;
    for (size_t k = 0; k < s->n; k++) {
        int y, m, dd;
        jp_date_to_ymd(VT(a)[k], &y, &m, &dd);
        o[k] = s->in->sub == 0 ? y : s->in->sub == 1 ? m : dd;
    }
    d->v = o;
    jpx_take_nulls(d, a, s->n);
    return JP_OK;
}

/* year(0), month(1) or day(2) of a period: nil unless the period has both
 * ends and they fall in the same year (month, day), so that the part is
 * the period's, not one end's. */
static jp_status_t op_ymd_p(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    int64_t *o = d->buf;
    const jp_period_t *p = a->v;
    uint8_t *nul = jpx_own_nulls(d, a->nul, s->n);
    for (size_t k = 0; k < s->n; k++) {
        o[k] = 0;
        if (nul[k]) continue;
        int y1, m1, d1, y2, m2, d2;
        if (p[k].kind != JP_PERIOD_SPAN) {
            nul[k] = 1;
            continue;
        }
        jp_date_to_ymd(p[k].from, &y1, &m1, &d1);
        jp_date_to_ymd(p[k].to, &y2, &m2, &d2);
        bool one = y1 == y2 && (s->in->sub < 1 || m1 == m2) && (s->in->sub < 2 || d1 == d2);
        if (one)
            o[k] = s->in->sub == 0 ? y1 : s->in->sub == 1 ? m1 : d1;
        else
            nul[k] = 1;
    }
    d->v = o;
    return JP_OK;
}

typedef jp_status_t (*op_fn)(const step_t *s);

static const op_fn ops[] = {
    [OP_LOAD] = op_load,
    [OP_CONST] = op_const,
    [OP_I2D] = op_i2d,
    [OP_ADD_I] = op_arith_i,
    [OP_SUB_I] = op_arith_i,
    [OP_MUL_I] = op_arith_i,
    [OP_ADD_D] = op_arith_d,
    [OP_SUB_D] = op_arith_d,
    [OP_MUL_D] = op_arith_d,
    [OP_DIV_D] = op_arith_d,
    [OP_POW_D] = op_arith_d,
    [OP_IDIV_D] = op_arith_d,
    [OP_MOD_D] = op_arith_d,
    [OP_IDIV_I] = op_divmod_i,
    [OP_MOD_I] = op_divmod_i,
    [OP_NEG_I] = op_neg,
    [OP_NEG_D] = op_neg,
    [OP_CMP_I] = op_cmp,
    [OP_CMP_D] = op_cmp,
    [OP_CMP_B] = op_cmp,
    [OP_CMP_T] = op_cmp,
    [OP_CMP_S] = op_cmp_s,
    [OP_ISNULL] = op_isnull,
    [OP_NOTNULL] = op_isnull,
    [OP_TRUTHY] = op_truthy,
    [OP_NOT] = op_truthy,
    [OP_SELECT] = op_select,
    [OP_ABS_I] = op_abs,
    [OP_ABS_D] = op_abs,
    [OP_FLOOR_D] = op_floor_ceil,
    [OP_CEIL_D] = op_floor_ceil,
    [OP_ROUND_D] = op_round,
    [OP_SQRT_D] = op_math,
    [OP_LOG_D] = op_math,
    [OP_EXP_D] = op_math,
    [OP_LOGB_D] = op_logb,
    [OP_MINMAX_I] = op_minmax,
    [OP_MINMAX_D] = op_minmax,
    [OP_MINMAX_T] = op_minmax,
    [OP_MINMAX_S] = op_minmax,
    [OP_LOWER] = jpx_op_strmap,
    [OP_UPPER] = jpx_op_strmap,
    [OP_LEN_S] = jpx_op_len,
    [OP_SUBSTR] = jpx_op_substr,
    [OP_TOSTR_I] = op_tostr,
    [OP_TOSTR_D] = op_tostr,
    [OP_TOSTR_B] = op_tostr,
    [OP_TOSTR_T] = op_tostr,
    [OP_YMD] = op_ymd,
    [OP_CAT_BEGIN] = op_cat_begin,
    [OP_CAT_ADD] = op_cat_add,
    [OP_CAT_END] = op_cat_end,
    [OP_YMD_P] = op_ymd_p,
    [OP_ONE_OF] = jpx_op_one_of,
    [OP_STRPRED] = jpx_op_strpred,
    [OP_TRIM] = jpx_op_strmap,
    [OP_MATCH] = jpx_op_match,
};

jp_status_t jpx_run_batch(ectx_t *x, size_t start, size_t n)
{
    const jp_expr_t *e = x->e;
    for (size_t pc = 0; pc < e->n_code; pc++) {
        const ins_t *in = &e->code[pc];
        step_t s = {x,
                    in,
                    &x->r[in->dst],
                    in->a >= 0 ? &x->r[in->a] : NULL,
                    in->b >= 0 ? &x->r[in->b] : NULL,
                    in->c >= 0 ? &x->r[in->c] : NULL,
                    start,
                    n};
        if (in->op >= sizeof ops / sizeof ops[0] || !ops[in->op]) return JP_ERR_INTERNAL;
        s.d->qual = NULL;
        jp_status_t st = ops[in->op](&s);
        if (st) return st;
    }
    return JP_OK;
}
