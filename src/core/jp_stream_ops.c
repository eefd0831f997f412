/*
 * jp_stream_ops.c - more consumers of the streaming executor (jp_stream.c):
 * a column's reductions (col:sum(), mean, min, max, counts) over a chain,
 * batch by batch, without loading the column; every row to a function.
 *
 * Bit-identity with the whole-file way comes from doing the same steps in
 * the same row order: the compensated sum's two terms and the running
 * minimum and maximum are carried from batch to batch, and a batch only
 * continues what the loop over the whole column would have done.
 *
 * And every row of a chain to a caller's function, batch by batch (the
 * bindings run filters and mutations by Lua functions this way).
 *
 * Owns: jp_stream_column_summary, jp_col_summary_* and jp_stream_rows.  Must never: modify
 * the datasets of the chain, keep a batch past its callback, print.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "jp_csv.h"
#include "jp_keys.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_stream_int.h"

/* ---- a column's reductions ----------------------------------------------------- */

typedef struct sumstate {
    size_t field;
    bool typed;
    jp_col_summary_t s;
} sumstate_t;

void jp_col_summary_free(jp_col_summary_t *s)
{
    jp_column_unref(s->min);
    jp_column_unref(s->max);
    memset(s, 0, sizeof *s);
}

static jp_status_t s_reset(void *ctx, jp_error_t *err)
{
    sumstate_t *st = ctx;
    (void)err;
    jp_col_summary_free(&st->s);
    st->typed = false;
    return JP_OK;
}

/* Is cell i of c a better extreme than cell j of b?  The comparisons of
 * jp_vec_min / jp_vec_max: a NaN never wins, ties keep the earlier. */
static bool better(const jp_column_t *c, size_t i, const jp_column_t *b, size_t j, bool mx)
{
    if (c->type == JP_TYPE_NUMBER) return mx ? c->v.d[i] > b->v.d[j] : c->v.d[i] < b->v.d[j];
    if (c->type == JP_TYPE_INT) return mx ? c->v.i[i] > b->v.i[j] : c->v.i[i] < b->v.i[j];
    int r = jp_column_cmp_cells(c, i, b, j);
    return mx ? r > 0 : r < 0;
}

/* The first minimum and the first maximum of a batch's numbers (*lo, *hi;
 * JP_NO_ROW when it has none), skipping nulls and NaN.  The extremes are
 * kept in registers; a comparison with a NaN is false, so once there is a
 * candidate a NaN never wins and needs no test of its own. */
#define EXTREMES_LOOP(T, v, skip, skip_first)                                                      \
    do {                                                                                           \
        size_t i_ = 0, n_ = c->len;                                                                \
        while (i_ < n_ && (skip_first)) i_++;                                                      \
        if (i_ == n_) break;                                                                       \
        size_t l_ = i_, h_ = i_;                                                                   \
        T lv_ = v[i_], hv_ = v[i_];                                                                \
        for (i_++; i_ < n_; i_++) {                                                                \
            T x_ = v[i_];                                                                          \
            if (skip) continue;                                                                    \
            if (x_ < lv_) {                                                                        \
                lv_ = x_;                                                                          \
                l_ = i_;                                                                           \
            }                                                                                      \
            if (x_ > hv_) {                                                                        \
                hv_ = x_;                                                                          \
                h_ = i_;                                                                           \
            }                                                                                      \
        }                                                                                          \
        *lo = l_;                                                                                  \
        *hi = h_;                                                                                  \
    } while (0)

static void extremes_num(const jp_column_t *c, size_t *lo, size_t *hi)
{
    const double *v = c->v.d;
    const uint8_t *nu = c->nulls;
    *lo = *hi = JP_NO_ROW;
    if (nu)
        EXTREMES_LOOP(double, v, nu[i_], nu[i_] || isnan(v[i_]));
    else
        EXTREMES_LOOP(double, v, false, isnan(v[i_]));
}

static void extremes_int(const jp_column_t *c, size_t *lo, size_t *hi)
{
    const int64_t *v = c->v.i;
    const uint8_t *nu = c->nulls;
    *lo = *hi = JP_NO_ROW;
    if (nu)
        EXTREMES_LOOP(int64_t, v, nu[i_], nu[i_]);
    else
        EXTREMES_LOOP(int64_t, v, false, false);
}

#undef EXTREMES_LOOP

/* The batch's best cell bi against the running extreme *held (earlier
 * rows: it keeps ties); *held is replaced by a one-row copy when the
 * batch wins. */
static jp_status_t extreme_hold(const jp_column_t *c, size_t bi, bool mx, jp_column_t **held)
{
    if (bi == JP_NO_ROW || (*held && !better(c, bi, *held, 0, mx))) return JP_OK;
    jp_column_t *one = jp_column_gather(c, &bi, 1);
    if (!one) return JP_ERR_NOMEM;
    jp_column_unref(*held);
    *held = one;
    return JP_OK;
}

/* The running extreme continued over this batch, cell by cell (the types
 * without a loop of their own). */
static jp_status_t extreme_step(const jp_column_t *c, bool mx, jp_column_t **held)
{
    const jp_column_t *bc = *held;
    size_t bi = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (jp_column_is_null(c, i)) continue;
        if (!bc || better(c, i, bc, bi, mx)) {
            bc = c;
            bi = i;
        }
    }
    return bc == c ? extreme_hold(c, bi, mx, held) : JP_OK;
}

/* The running minimum and maximum continued over this batch. */
static jp_status_t extremes_step(const jp_column_t *c, jp_col_summary_t *s)
{
    size_t lo, hi;
    if (c->type == JP_TYPE_NUMBER || c->type == JP_TYPE_INT) {
        if (c->type == JP_TYPE_NUMBER)
            extremes_num(c, &lo, &hi);
        else
            extremes_int(c, &lo, &hi);
        if (extreme_hold(c, lo, false, &s->min) || extreme_hold(c, hi, true, &s->max))
            return JP_ERR_NOMEM;
        return JP_OK;
    }
    if (extreme_step(c, false, &s->min) || extreme_step(c, true, &s->max)) return JP_ERR_NOMEM;
    return JP_OK;
}

/* One batch's cells added: the loops of jp_vec_* (jp_verbs.c), carried on. */
static jp_status_t summary_add(jp_col_summary_t *s, const jp_column_t *c)
{
    size_t n = c->len;
    s->rows += n;
    s->nulls += jp_column_null_count(c);
    if (c->quals)
        for (size_t i = 0; i < n; i++) {
            s->qualified += c->quals[i] != JP_Q_EXACT;
            if (c->quals[i] && !jp_column_is_null(c, i))
                s->qual = jp_qual_combine(s->qual, (jp_qual_t)c->quals[i]);
        }
    if (c->type == JP_TYPE_NUMBER && !c->nulls) {
        /* the common case, without the tests per cell */
        const double *v = c->v.d;
        double sum = s->sum, comp = s->comp;
        for (size_t i = 0; i < n; i++) {
            double x = v[i], t = sum + x;
            if (fabs(sum) >= fabs(x))
                comp += (sum - t) + x;
            else
                comp += (x - t) + sum;
            sum = t;
        }
        s->sum = sum;
        s->comp = comp;
    } else if (jp_type_is_numeric(c->type)) {
        bool isint = c->type == JP_TYPE_INT;
        double sum = s->sum, comp = s->comp;
        for (size_t i = 0; i < n; i++) {
            if (jp_column_is_null(c, i)) continue;
            double x = isint ? (double)c->v.i[i] : c->v.d[i], t = sum + x;
            if (fabs(sum) >= fabs(x))
                comp += (sum - t) + x;
            else
                comp += (x - t) + sum;
            sum = t;
            if (isint && !s->overflow && __builtin_add_overflow(s->isum, c->v.i[i], &s->isum))
                s->overflow = true;
        }
        s->sum = sum;
        s->comp = comp;
    }
    if (c->type == JP_TYPE_NONE) return JP_OK;
    return extremes_step(c, s);
}

static jp_status_t s_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    sumstate_t *st = ctx;
    const jp_column_t *c = top->cols[st->field];
    jp_status_t rc = JP_OK;
    if (!st->typed) {
        st->s.type = c->type;
        st->typed = true;
    } else if (c->type != st->s.type) {
        rc = jp_error_set(err, JP_ERR_INTERNAL, "streaming: field '%s' changed type",
                          top->schema.fields[st->field].name);
    }
    if (!rc && summary_add(&st->s, c)) rc = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return rc;
}

jp_status_t jp_stream_column_summary(jp_dataset_t *ds, size_t field, jp_col_summary_t *out,
                                     bool *fallback, jp_error_t *err)
{
    jp_stream_chain_t ch;
    sumstate_t st;
    memset(&st, 0, sizeof st);
    memset(out, 0, sizeof *out);
    *fallback = false;
    if (field >= ds->schema.n_fields || !jp_stream_chain_of(ds, &ch)) {
        *fallback = true;
        return JP_OK;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_calloc(nf, sizeof *want);
    if (!want) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    want[field] = true;
    st.field = field;
    jp_stream_consumer_t cb = {s_batch, s_reset, &st, NULL};
    jp_status_t rc = jp_stream_chain_pass(&ch, want, &cb, err);
    jp_free(want);
    if (!rc && !st.typed) *fallback = true; /* no rows: the whole-file way says what that gives */
    if (rc || *fallback) {
        jp_col_summary_free(&st.s);
        return rc;
    }
    *out = st.s;
    return JP_OK;
}

jp_status_t jp_col_summary_get(const jp_col_summary_t *s, jp_vec_op_t op, const char *what,
                               jp_value_t *out, jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    size_t cnt = s->rows - s->nulls;
    jp_status_t rc;
    switch (op) {
    case JP_VEC_SUM:
        if ((rc = jp_vec_need_numeric(s->type, "sum", what, err))) return rc;
        out->type = s->type;
        if (s->type == JP_TYPE_INT) {
            if (s->overflow) return jp_vec_overflow(what, err);
            out->u.i = s->isum;
        } else
            out->u.d = s->sum + s->comp;
        break;
    case JP_VEC_MEAN:
        if ((rc = jp_vec_need_numeric(s->type, "mean", what, err))) return rc;
        out->type = JP_TYPE_NUMBER;
        out->u.d = cnt ? (s->sum + s->comp) / (double)cnt : 0;
        break;
    case JP_VEC_MIN:
    case JP_VEC_MAX: {
        const jp_column_t *c = op == JP_VEC_MIN ? s->min : s->max;
        out->type = s->type;
        out->is_null = true;
        if (c) jp_column_get(c, 0, out);
        return JP_OK;
    }
    }
    out->is_null = cnt == 0;
    out->qual = out->is_null ? JP_Q_EXACT : s->qual;
    return JP_OK;
}

/* ---- group aggregates that pick a row --------------------------------------------- */

bool jp_stream_pick_kind(jp_agg_kind_t kind)
{
    return kind == JP_AGG_MIN || kind == JP_AGG_MAX || kind == JP_AGG_FIRST || kind == JP_AGG_LAST;
}

/* jp_group.c's agg_pick, continued: each group's winner so far is either a
 * row of this batch (win[g]) or its held cell.  As there, a NaN never wins
 * a min or a max, ties keep the earlier row, first and last skip nulls. */
jp_status_t jp_stream_pick(jp_agg_kind_t kind, jp_column_t **held, const jp_column_t *c,
                           const uint32_t *gid, size_t nrows, size_t ng)
{
    jp_column_t *h = *held;
    while (h->len < ng)
        if (jp_column_push_null(h)) return JP_ERR_NOMEM;
    size_t *win = jp_malloc_array(ng ? ng : 1, sizeof *win);
    if (!win) return JP_ERR_NOMEM;
    for (size_t g = 0; g < ng; g++) win[g] = JP_NO_ROW;
    bool mx = kind == JP_AGG_MAX, pick = kind == JP_AGG_MIN || mx;
    bool isnum = c->type == JP_TYPE_NUMBER;
    for (size_t i = 0; i < nrows; i++) {
        if (jp_column_is_null(c, i)) continue;
        uint32_t g = gid[i];
        if (kind == JP_AGG_LAST)
            win[g] = i;
        else if (kind == JP_AGG_FIRST) {
            if (win[g] == JP_NO_ROW && jp_column_is_null(h, g)) win[g] = i;
        } else if (pick && !(isnum && isnan(c->v.d[i]))) {
            bool take = win[g] != JP_NO_ROW       ? better(c, i, c, win[g], mx)
                        : jp_column_is_null(h, g) ? true
                                                  : better(c, i, h, g, mx);
            if (take) win[g] = i;
        }
    }
    /* the new winners appended after the held cells, then each group's
       cell gathered from its place */
    size_t m = 0, base = h->len;
    size_t *rows = jp_malloc_array(ng ? ng : 1, sizeof *rows);
    size_t *map = jp_malloc_array(ng ? ng : 1, sizeof *map);
    jp_status_t st = rows && map ? JP_OK : JP_ERR_NOMEM;
    for (size_t g = 0; !st && g < ng; g++)
        if (win[g] == JP_NO_ROW)
            map[g] = g;
        else {
            map[g] = base + m;
            rows[m++] = win[g];
        }
    if (!st && m) {
        jp_column_t *part = jp_column_gather(c, rows, m);
        jp_error_t e;
        jp_error_clear(&e);
        jp_column_t *next = NULL;
        if (!part || jp_column_append(h, part, &e) || !(next = jp_column_gather(h, map, ng)))
            st = JP_ERR_NOMEM;
        jp_column_unref(part);
        if (next) {
            jp_column_unref(h);
            *held = next;
        }
    }
    jp_free(rows);
    jp_free(map);
    jp_free(win);
    return st;
}

/* ---- group aggregates that hold their values --------------------------------------- */

struct jp_stream_held {
    jp_column_t *vals;
    uint32_t *gid;
    size_t n, cap;
};

bool jp_stream_hold_kind(jp_agg_kind_t kind)
{
    return kind == JP_AGG_MEDIAN || kind == JP_AGG_QUANTILE || kind == JP_AGG_COUNT_DISTINCT;
}

jp_stream_held_t *jp_stream_held_new(jp_type_t type)
{
    jp_stream_held_t *h = jp_calloc(1, sizeof *h);
    if (h && !(h->vals = jp_column_new(type, 16))) {
        jp_free(h);
        return NULL;
    }
    return h;
}

void jp_stream_held_free(jp_stream_held_t *h)
{
    if (!h) return;
    jp_column_unref(h->vals);
    jp_free(h->gid);
    jp_free(h);
}

jp_status_t jp_stream_held_add(jp_stream_held_t *h, const jp_column_t *c, const uint32_t *gid,
                               size_t nrows, jp_error_t *err)
{
    if (h->n + nrows > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->n + nrows) cap *= 2;
        uint32_t *g = jp_realloc_array(h->gid, cap, sizeof *g);
        if (!g) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        h->gid = g;
        h->cap = cap;
    }
    if (nrows) memcpy(h->gid + h->n, gid, nrows * sizeof *gid);
    h->n += nrows;
    return jp_column_append(h->vals, c, err);
}

jp_column_t *jp_stream_held_result(jp_stream_held_t *h, const jp_agg_t *ag, const char *what,
                                   size_t ng, jp_error_t *err)
{
    return jp_agg_column(ag->kind, h->vals, what, ag->p, h->gid ? h->gid : (uint32_t[]){0}, h->n,
                         ng, err);
}

/* ---- every row to a function ---------------------------------------------------- */

static uint64_t rows_bytes; /* 0: JP_STREAM_ROWS_BYTES */

void jp_stream_set_rows_bytes(uint64_t bytes)
{
    rows_bytes = bytes;
}

bool jp_stream_rows_worth(const jp_dataset_t *ds)
{
    jp_stream_chain_t ch;
    if (!jp_stream_chain_of(ds, &ch)) return false;
    if (jp_stream_concat_is(ch.src)) return true; /* parts in turn: sizes unknown */
    if (!jp_csv_is_lazy(ch.src)) return false;    /* rows in memory: no file */
    bool gz = false;
    uint64_t size = jp_csv_lazy_size(ch.src, &gz), lim = jp_mem_limit();
    if (gz) size = size > UINT64_MAX / 4 ? UINT64_MAX : size * 4;
    return !size || size >= (rows_bytes ? rows_bytes : JP_STREAM_ROWS_BYTES) ||
           (lim && size >= lim / 4);
}

typedef struct rowstate {
    size_t rows; /* rows of the top before this batch */
    jp_stream_rows_fn fn;
    void (*reset)(void *ctx);
    bool (*stopped)(void *ctx);
    void *ctx;
} rowstate_t;

static jp_status_t r_reset(void *ctx, jp_error_t *err)
{
    rowstate_t *r = ctx;
    (void)err;
    r->rows = 0;
    r->reset(r->ctx);
    return JP_OK;
}

static bool r_stopped(void *ctx)
{
    rowstate_t *r = ctx;
    return r->stopped && r->stopped(r->ctx);
}

static jp_status_t r_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    rowstate_t *r = ctx;
    jp_status_t st = r->fn(r->ctx, top, r->rows, err);
    r->rows += top->nrows;
    return st;
}

jp_status_t jp_stream_rows(jp_dataset_t *ds, const bool *fields, jp_stream_rows_fn fn,
                           void (*reset)(void *ctx), bool (*stopped)(void *ctx), void *ctx,
                           jp_error_t *err)
{
    jp_stream_chain_t ch;
    if (!jp_stream_chain_of(ds, &ch)) return jp_error_set(err, JP_ERR_INTERNAL, "not a stream");
    rowstate_t r = {0, fn, reset, stopped, ctx};
    size_t nf = ds->schema.n_fields;
    bool *want = jp_malloc_array(nf ? nf : 1, sizeof *want);
    if (!want) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nf; i++) want[i] = !fields || fields[i];
    jp_stream_consumer_t cb = {r_batch, r_reset, &r, r_stopped};
    jp_status_t st = jp_stream_chain_pass(&ch, want, &cb, err);
    jp_free(want);
    return st;
}
