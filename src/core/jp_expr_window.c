/*
 * jp_expr_window.c - aggregates and window functions inside expressions,
 * over whole columns: sum(x), mean(x), ... broadcast to every row of their
 * group; lag/lead, the running cum* functions, row_number, rank and
 * dense_rank within the group, in the rows' order.  The groups come from
 * the caller (group_by keys); without them the whole dataset is one group.
 *
 * Each function is one or two passes over typed arrays.  The partition is
 * made once per evaluation: group numbers per row, and the rows listed
 * group by group (a counting sort, so each group keeps the dataset's order).
 *
 * Qualifiers: aggregates follow the aggregate rules (jp_agg_column); lag,
 * lead, cummax and cummin return one of the values with its own qualifier;
 * cumsum and cummean combine the qualifiers of the values so far, as sum
 * does; cumprod is approximate once a bounded value has entered it; counts,
 * row numbers and ranks are exact.
 *
 * Owns the semantics of these functions.  Must never: modify its inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_keys.h"
#include "jp_mem.h"

static jp_column_t *nomem(jp_error_t *err)
{
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

/* ---- the partition ------------------------------------------------------------ */

void jpx_part_init(jpx_part_t *p, const jp_expr_groups_t *g, size_t nrows)
{
    memset(p, 0, sizeof *p);
    p->nrows = nrows;
    p->gid = g && g->gid ? g->gid : NULL;
    p->ngroups = p->gid ? g->ngroups : 1;
}

void jpx_part_free(jpx_part_t *p)
{
    jp_free(p->zeros);
    jp_free(p->order);
    jp_free(p->start);
    memset(p, 0, sizeof *p);
}

/* Group numbers per row (zeros when the whole dataset is one group). */
static const uint32_t *part_gid(jpx_part_t *p)
{
    if (p->gid) return p->gid;
    if (!p->zeros) p->zeros = jp_calloc(p->nrows ? p->nrows : 1, sizeof *p->zeros);
    return p->zeros;
}

/* The rows group by group, each group in row order: group g is
 * order[start[g] .. start[g + 1]). */
static jp_status_t part_order(jpx_part_t *p)
{
    if (p->order) return JP_OK;
    size_t n = p->nrows, ng = p->ngroups;
    p->order = jp_malloc_array(n ? n : 1, sizeof *p->order);
    p->start = jp_calloc(ng + 1, sizeof *p->start);
    if (!p->order || !p->start) return JP_ERR_NOMEM;
    if (!p->gid) {
        for (size_t i = 0; i < n; i++) p->order[i] = i;
        p->start[1] = n;
        return JP_OK;
    }
    for (size_t i = 0; i < n; i++) p->start[p->gid[i] + 1]++;
    for (size_t g = 0; g < ng; g++) p->start[g + 1] += p->start[g];
    size_t *at = jp_malloc_array(ng ? ng : 1, sizeof *at);
    if (!at) return JP_ERR_NOMEM;
    memcpy(at, p->start, ng * sizeof *at);
    for (size_t i = 0; i < n; i++) p->order[at[p->gid[i]]++] = i;
    jp_free(at);
    return JP_OK;
}

/* ---- aggregates: one value per group, on every row of the group ----------------- */

static jp_agg_kind_t agg_kind(int fn)
{
    switch (fn) {
    case F_SUM:
        return JP_AGG_SUM;
    case F_MEAN:
        return JP_AGG_MEAN;
    case F_COUNT:
        return JP_AGG_COUNT;
    case F_MEDIAN:
        return JP_AGG_MEDIAN;
    case F_FIRST:
        return JP_AGG_FIRST;
    case F_LAST:
        return JP_AGG_LAST;
    case F_AGG_MIN:
        return JP_AGG_MIN;
    default:
        return JP_AGG_MAX;
    }
}

static jp_column_t *aggregate(const stage_t *st, const jp_column_t *x, jpx_part_t *p,
                              jp_error_t *err)
{
    const uint32_t *gid = part_gid(p);
    if (!gid) return nomem(err);
    jp_column_t *per =
        jp_agg_column(agg_kind(st->fn), x, st->what, 0, gid, p->nrows, p->ngroups, err);
    if (!per) return NULL;
    size_t *idx = jp_malloc_array(p->nrows ? p->nrows : 1, sizeof *idx);
    if (!idx) {
        jp_column_unref(per);
        return nomem(err);
    }
    for (size_t i = 0; i < p->nrows; i++) idx[i] = gid[i];
    jp_column_t *out = jp_column_gather(per, idx, p->nrows);
    jp_free(idx);
    jp_column_unref(per);
    return out ? out : nomem(err);
}

/* ---- lag and lead ------------------------------------------------------------------ */

/* Row i of out takes src's row j: value, null and qualifier (not strings). */
static jp_status_t copy_cell(jp_column_t *out, size_t i, const jp_column_t *src, size_t j)
{
    if (jp_column_is_null(src, j)) {
        if (jp_column_alloc_nulls(out)) return JP_ERR_NOMEM;
        out->nulls[i] = 1;
        return JP_OK;
    }
    size_t w = jp_type_width(out->type);
    memcpy((char *)out->v.raw + i * w, (const char *)src->v.raw + j * w, w);
    if (out->nulls) out->nulls[i] = 0;
    jp_qual_t q = jp_column_qual(src, j);
    if (q || out->quals) {
        if (jp_column_alloc_quals(out)) return JP_ERR_NOMEM;
        out->quals[i] = (uint8_t)q;
    }
    return JP_OK;
}

/* Strings from two columns (two dictionaries): a new column, cell by cell. */
static jp_column_t *pick_strings(const jp_column_t *x, const jp_column_t *d, const size_t *idx,
                                 size_t n)
{
    jp_column_t *out = jp_column_new(JP_TYPE_STRING, n);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        const jp_column_t *c = idx[i] == JP_NO_ROW ? d : x;
        size_t j = idx[i] == JP_NO_ROW ? i : idx[i];
        jp_status_t st;
        if (jp_column_is_null(c, j))
            st = jp_column_push_null(out);
        else {
            size_t len;
            const char *s = jp_column_str(c, j, &len);
            st = jp_column_push_str(out, s, len);
        }
        if (st) {
            jp_column_unref(out);
            return NULL;
        }
    }
    return out;
}

static jp_column_t *lag_lead(const stage_t *st, const jp_column_t *x, const jp_column_t *dflt,
                             jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    size_t n = p->nrows;
    size_t *idx = jp_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return nomem(err);
    uint64_t off = (uint64_t)st->offset;
    bool lead = st->fn == F_LEAD;
    for (size_t g = 0; g < p->ngroups; g++) {
        size_t s = p->start[g], e = p->start[g + 1];
        for (size_t t = s; t < e; t++) {
            bool in = lead ? (uint64_t)(e - 1 - t) >= off : (uint64_t)(t - s) >= off;
            idx[p->order[t]] = in ? p->order[lead ? t + off : t - off] : JP_NO_ROW;
        }
    }
    jp_column_t *out;
    if (dflt && x->type == JP_TYPE_STRING && dflt->dict != x->dict)
        out = pick_strings(x, dflt, idx, n);
    else {
        out = jp_column_gather(x, idx, n);
        for (size_t i = 0; out && dflt && i < n; i++)
            if (idx[i] == JP_NO_ROW && copy_cell(out, i, dflt, i)) {
                jp_column_unref(out);
                out = NULL;
            }
    }
    jp_free(idx);
    return out ? out : nomem(err);
}

/* ---- running functions --------------------------------------------------------------- */

static inline double xval(const jp_column_t *x, size_t r)
{
    return x->type == JP_TYPE_INT ? (double)x->v.i[r] : x->v.d[r];
}

/* A column of n values of type t, nulls and qualifiers ready to fill. */
static jp_column_t *fresh(jp_type_t t, size_t n, bool nulls, bool quals)
{
    jp_column_t *out = jp_column_new(t, n);
    if (!out || jp_column_set_len(out, n) || (nulls && jp_column_alloc_nulls(out)) ||
        (quals && jp_column_alloc_quals(out))) {
        jp_column_unref(out);
        return NULL;
    }
    return out;
}

/* cumsum and cummean: sums with Neumaier's compensation, qualifiers
 * combined as sum combines them; a null row is null and the sum goes on. */
static jp_column_t *cumsum(const stage_t *st, const jp_column_t *x, jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    bool ints = x->type == JP_TYPE_INT && st->fn == F_CUMSUM;
    jp_column_t *out =
        fresh(ints ? JP_TYPE_INT : JP_TYPE_NUMBER, p->nrows, x->nulls != NULL, x->quals != NULL);
    if (!out) return nomem(err);
    for (size_t g = 0; g < p->ngroups; g++) {
        int64_t si = 0;
        double s = 0, c = 0;
        size_t cnt = 0;
        jp_qual_t q = JP_Q_EXACT;
        for (size_t t = p->start[g]; t < p->start[g + 1]; t++) {
            size_t r = p->order[t];
            if (jp_column_is_null(x, r)) {
                out->nulls[r] = 1;
                continue;
            }
            if (x->quals) {
                q = jp_qual_combine(q, (jp_qual_t)x->quals[r]);
                out->quals[r] = (uint8_t)q;
            }
            cnt++;
            if (ints) {
                if (__builtin_add_overflow(si, x->v.i[r], &si)) {
                    jp_column_unref(out);
                    jp_error_set(err, JP_ERR_RANGE,
                                 "cumsum(%s): the running sum overflows at row %zu (use a number)",
                                 st->what, r + 1);
                    return NULL;
                }
                out->v.i[r] = si;
                continue;
            }
            double v = xval(x, r), t2 = s + v;
            c += fabs(s) >= fabs(v) ? (s - t2) + v : (v - t2) + s;
            s = t2;
            out->v.d[r] = st->fn == F_CUMMEAN ? (s + c) / (double)cnt : s + c;
        }
    }
    return out;
}

static jp_column_t *cumprod(const jp_column_t *x, jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    jp_column_t *out = fresh(JP_TYPE_NUMBER, p->nrows, x->nulls != NULL, x->quals != NULL);
    if (!out) return nomem(err);
    for (size_t g = 0; g < p->ngroups; g++) {
        double prod = 1;
        bool bounded = false;
        for (size_t t = p->start[g]; t < p->start[g + 1]; t++) {
            size_t r = p->order[t];
            if (jp_column_is_null(x, r)) {
                out->nulls[r] = 1;
                continue;
            }
            prod *= xval(x, r);
            out->v.d[r] = prod;
            if (x->quals) {
                bounded |= x->quals[r] != JP_Q_EXACT;
                out->quals[r] = bounded ? (uint8_t)JP_Q_APPROX : 0;
            }
        }
    }
    return out;
}

/* Is row a's value beyond row b's (above for max, below for min)?  NaN never is. */
static bool beyond(const jp_column_t *x, const uint32_t *rank, size_t a, size_t b, bool max)
{
    switch (x->type) {
    case JP_TYPE_INT:
        return max ? x->v.i[a] > x->v.i[b] : x->v.i[a] < x->v.i[b];
    case JP_TYPE_NUMBER: {
        double u = x->v.d[a], w = x->v.d[b];
        if (isnan(w)) return !isnan(u);
        return max ? u > w : u < w;
    }
    case JP_TYPE_DATE:
        return max ? x->v.date[a] > x->v.date[b] : x->v.date[a] < x->v.date[b];
    case JP_TYPE_BOOL:
        return max ? x->v.b[a] > x->v.b[b] : x->v.b[a] < x->v.b[b];
    default: /* strings, by their rank in byte order */
        return max ? rank[x->v.s[a]] > rank[x->v.s[b]] : rank[x->v.s[a]] < rank[x->v.s[b]];
    }
}

/* cummax and cummin: the running extreme's row, gathered (its value and
 * qualifier); a null row is null. */
static jp_column_t *cumext(const stage_t *st, const jp_column_t *x, jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    uint32_t *rank = NULL;
    if (x->type == JP_TYPE_STRING && jp_strdict_ranks(x->dict, &rank)) return nomem(err);
    size_t *idx = jp_malloc_array(p->nrows ? p->nrows : 1, sizeof *idx);
    if (!idx) {
        jp_free(rank);
        return nomem(err);
    }
    bool max = st->fn == F_CUMMAX;
    for (size_t g = 0; g < p->ngroups; g++) {
        size_t best = JP_NO_ROW;
        for (size_t t = p->start[g]; t < p->start[g + 1]; t++) {
            size_t r = p->order[t];
            if (jp_column_is_null(x, r)) {
                idx[r] = JP_NO_ROW;
                continue;
            }
            if (best == JP_NO_ROW || beyond(x, rank, r, best, max)) best = r;
            idx[r] = best;
        }
    }
    jp_column_t *out = jp_column_gather(x, idx, p->nrows);
    jp_free(idx);
    jp_free(rank);
    return out ? out : nomem(err);
}

/* ---- positions and ranks -------------------------------------------------------------- */

static jp_column_t *row_number(jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    jp_column_t *out = fresh(JP_TYPE_INT, p->nrows, false, false);
    if (!out) return nomem(err);
    for (size_t g = 0; g < p->ngroups; g++)
        for (size_t t = p->start[g]; t < p->start[g + 1]; t++)
            out->v.i[p->order[t]] = (int64_t)(t - p->start[g] + 1);
    return out;
}

/* A row to rank: its value as a number that orders like the value. */
typedef struct rkey {
    double d;  /* numbers (NaN after every number) */
    int64_t i; /* integers, dates, booleans, string ranks */
    size_t row;
} rkey_t;

static int cmp_rkey_i(const void *a, const void *b)
{
    const rkey_t *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_rkey_d(const void *a, const void *b)
{
    const rkey_t *x = a, *y = b;
    bool nx = isnan(x->d), ny = isnan(y->d);
    if (nx != ny) return nx ? 1 : -1;
    if (!nx && x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static bool same_key(const rkey_t *a, const rkey_t *b, bool dbl)
{
    if (!dbl) return a->i == b->i;
    return a->d == b->d || (isnan(a->d) && isnan(b->d));
}

/* rank (1, 1, 3: ties share the lowest, gaps follow) and dense_rank (1, 1,
 * 2) of x within each group; null values have no rank. */
static jp_column_t *ranking(const stage_t *st, const jp_column_t *x, jpx_part_t *p, jp_error_t *err)
{
    if (part_order(p)) return nomem(err);
    uint32_t *srank = NULL;
    if (x->type == JP_TYPE_STRING && jp_strdict_ranks(x->dict, &srank)) return nomem(err);
    rkey_t *keys = jp_malloc_array(p->nrows ? p->nrows : 1, sizeof *keys);
    jp_column_t *out = fresh(JP_TYPE_INT, p->nrows, x->nulls != NULL, false);
    if (!keys || !out) {
        jp_free(srank);
        jp_free(keys);
        jp_column_unref(out);
        return nomem(err);
    }
    bool dbl = x->type == JP_TYPE_NUMBER, dense = st->fn == F_DENSE_RANK;
    for (size_t g = 0; g < p->ngroups; g++) {
        size_t m = 0;
        for (size_t t = p->start[g]; t < p->start[g + 1]; t++) {
            size_t r = p->order[t];
            if (jp_column_is_null(x, r)) {
                out->nulls[r] = 1;
                continue;
            }
            rkey_t *k = &keys[m++];
            k->row = r;
            k->d = dbl ? x->v.d[r] : 0;
            switch (x->type) {
            case JP_TYPE_INT:
                k->i = x->v.i[r];
                break;
            case JP_TYPE_DATE:
                k->i = x->v.date[r];
                break;
            case JP_TYPE_BOOL:
                k->i = x->v.b[r];
                break;
            case JP_TYPE_STRING:
                k->i = srank[x->v.s[r]];
                break;
            default:
                k->i = 0;
                break;
            }
        }
        qsort(keys, m, sizeof *keys, dbl ? cmp_rkey_d : cmp_rkey_i);
        int64_t rk = 0, distinct = 0;
        for (size_t k = 0; k < m; k++) {
            if (k == 0 || !same_key(&keys[k], &keys[k - 1], dbl)) {
                rk = (int64_t)k + 1;
                distinct++;
            }
            out->v.i[keys[k].row] = dense ? distinct : rk;
        }
    }
    jp_free(keys);
    jp_free(srank);
    return out;
}

/* ---- the entry point ------------------------------------------------------------------- */

jp_column_t *jpx_window(const stage_t *st, const jp_column_t *x, const jp_column_t *dflt,
                        jpx_part_t *p, jp_error_t *err)
{
    switch (st->fn) {
    case F_SUM:
    case F_MEAN:
    case F_COUNT:
    case F_MEDIAN:
    case F_FIRST:
    case F_LAST:
    case F_AGG_MIN:
    case F_AGG_MAX:
        return aggregate(st, x, p, err);
    case F_LAG:
    case F_LEAD:
        return lag_lead(st, x, dflt, p, err);
    case F_CUMSUM:
    case F_CUMMEAN:
        return cumsum(st, x, p, err);
    case F_CUMPROD:
        return cumprod(x, p, err);
    case F_CUMMAX:
    case F_CUMMIN:
        return cumext(st, x, p, err);
    case F_ROW_NUMBER:
        return row_number(p, err);
    case F_RANK:
    case F_DENSE_RANK:
        return ranking(st, x, p, err);
    default:
        jp_error_set(err, JP_ERR_INTERNAL, "unknown window function");
        return NULL;
    }
}
