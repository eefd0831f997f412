/*
 * jp_sort.c - stable multi-key sorting of datasets, lazily: a sort is a plan
 * node that computes its order when a consumer first needs a column, so
 * that a head (or slice) taken from it is a top-N that never sorts the
 * whole input.
 *
 * The order comes from jp_sortkey.c: keys packed into one or two words,
 * one run per core radix-sorted, the runs merged (for a top-N, each run
 * keeps only its N first rows).  Keys that do not pack (more than two
 * words of distinct bits) sort by one stable LSD radix pass per key, last
 * key first, on one core.
 *
 * Nulls go last whatever the direction, NaN after every number and before
 * nulls; strings by byte order (the rank of each dictionary code); equal
 * keys keep their input order.
 *
 * Owns: jp_sort, jp_sort_plan, jp_sort_order, jp_sort_top, the sort node.
 * Must never: modify its input.
 */
#include <math.h>
#include <string.h>
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_sortkey.h"
#include "jp_stream.h"
#include "jp_stream_sort.h"
#include "jp_verbs.h"
#include "jp_xsort.h"

/* ---- the fallback: one stable LSD radix pass per key ------------------------------ */

typedef struct kv {
    uint64_t k;
    size_t v;
} kv_t;

#define RBITS    11
#define RBUCKETS (1u << RBITS)
#define RPASSES  ((64 + RBITS - 1) / RBITS)

static jp_status_t radix_sort(kv_t *a, size_t n)
{
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            kv_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1].k > x.k) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return JP_OK;
    }
    size_t(*hist)[RBUCKETS] = jp_calloc(RPASSES, sizeof *hist);
    kv_t *tmp = jp_malloc_array(n, sizeof *tmp);
    if (!hist || !tmp) {
        jp_free(hist);
        jp_free(tmp);
        return JP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].k;
        for (int d = 0; d < RPASSES; d++) hist[d][(k >> (RBITS * d)) & (RBUCKETS - 1)]++;
    }
    kv_t *src = a, *dst = tmp;
    for (int d = 0; d < RPASSES; d++) {
        size_t *h = hist[d];
        unsigned shift = RBITS * (unsigned)d;
        if (h[(src[0].k >> shift) & (RBUCKETS - 1)] == n) continue; /* one value: nothing moves */
        size_t sum = 0;
        for (unsigned b = 0; b < RBUCKETS; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            dst[h[(src[i].k >> shift) & (RBUCKETS - 1)]++] = src[i];
            if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
        }
        kv_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
    jp_free(hist);
    jp_free(tmp);
    return JP_OK;
}

/* Stable sort of perm[0..n) by one key field (its ranks made by
 * jp_sortkeys_init): the values radix-sorted, then NaN, then nulls, each
 * in their current order. */
static jp_status_t sort_pass(size_t *perm, size_t n, const jp_skfield_t *f)
{
    const jp_column_t *c = f->col;
    kv_t *a = jp_malloc_array(n ? n : 1, sizeof *a);
    size_t *rest = jp_malloc_array(n ? n : 1, sizeof *rest); /* NaN, then nulls */
    if (!a || !rest) {
        jp_free(a);
        jp_free(rest);
        return JP_ERR_NOMEM;
    }
    size_t m = 0, nnan = 0, nnull = 0;
    if (c->type == JP_TYPE_NUMBER)
        for (size_t p = 0; p < n; p++)
            if (!jp_column_is_null(c, perm[p]) && isnan(c->v.d[perm[p]])) nnan++;
    size_t q = 0;
    for (size_t p = 0; p < n; p++) {
        size_t i = perm[p];
        if (jp_column_is_null(c, i)) {
            rest[nnan + nnull++] = i;
            continue;
        }
        uint64_t k;
        if (c->type == JP_TYPE_NUMBER && isnan(c->v.d[i])) {
            rest[q++] = i;
            continue;
        }
        if (c->type == JP_TYPE_STRING)
            k = f->rank[c->v.s[i]];
        else if (c->type == JP_TYPE_PERIOD)
            k = f->prank[i];
        else
            k = jp_sortkey_word(c, i);
        a[m].k = f->desc ? ~k : k;
        a[m].v = i;
        m++;
    }
    jp_status_t st = radix_sort(a, m);
    if (!st) {
        for (size_t k = 0; k < m; k++) perm[k] = a[k].v;
        memcpy(perm + m, rest, (nnan + nnull) * sizeof *perm);
    }
    jp_free(a);
    jp_free(rest);
    return st;
}

/* The order of every row by keys that do not pack: LSD by key, one core. */
static jp_status_t order_by_passes(const jp_sortkeys_t *k, size_t **order, jp_error_t *err)
{
    size_t rows = k->nrows;
    size_t *perm = jp_malloc_array(rows ? rows : 1, sizeof *perm);
    if (!perm) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) perm[r] = r;
    for (size_t q = k->nf; q-- > 0;) {
        if (sort_pass(perm, rows, &k->f[q])) {
            jp_free(perm);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        if (jp_stop_pending()) {
            jp_free(perm);
            return jp_stop_check(err);
        }
    }
    *order = perm;
    return JP_OK;
}

/* ---- orders ---------------------------------------------------------------------------- */

/* Look the key fields up (errors name the verb and suggest). */
static jp_status_t key_fields(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, long *idx,
                              jp_error_t *err)
{
    for (size_t q = 0; q < n; q++)
        if (jp_dataset_lookup(ds, keys[q].field, "sort", &idx[q], err))
            return err ? err->code : JP_ERR_ARG;
    return JP_OK;
}

/* The order of the `limit` first rows (0: all) of ds (its key columns
 * loaded) by keys idx/desc; *m rows. */
static jp_status_t order_of(jp_dataset_t *ds, const long *idx, const bool *desc, size_t n,
                            size_t limit, size_t **order, size_t *m, jp_error_t *err)
{
    size_t rows = ds->nrows;
    *order = NULL;
    *m = 0;
    if (n == 0 || rows < 2) {
        size_t want = limit && limit < rows ? limit : rows;
        size_t *o = jp_malloc_array(want ? want : 1, sizeof *o);
        if (!o) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < want; r++) o[r] = r;
        *order = o;
        *m = want;
        return JP_OK;
    }
    jp_column_t *cols[JP_SORTKEY_MAX_FIELDS];
    size_t nk = n <= JP_SORTKEY_MAX_FIELDS ? n : 0; /* 0: too many keys to pack */
    for (size_t q = 0; q < nk; q++) cols[q] = ds->cols[idx[q]];
    jp_sortkeys_t k;
    jp_status_t st;
    if (nk) {
        st = jp_sortkeys_init(&k, cols, desc, nk, rows, err);
        if (st) return st;
        if (k.nwords) {
            st = jp_sortkeys_order(&k, limit, order, m, err);
            jp_sortkeys_free(&k);
            return st;
        }
        st = order_by_passes(&k, order, err);
        jp_sortkeys_free(&k);
    } else {
        /* more keys than a packed key holds: each key is its own pass */
        jp_sortkeys_t one;
        size_t *perm = jp_malloc_array(rows, sizeof *perm);
        if (!perm) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < rows; r++) perm[r] = r;
        st = JP_OK;
        for (size_t q = n; q-- > 0 && !st;) {
            jp_column_t *c = ds->cols[idx[q]];
            if ((st = jp_sortkeys_init(&one, &c, &desc[q], 1, rows, err))) break;
            if (sort_pass(perm, rows, &one.f[0]))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            jp_sortkeys_free(&one);
            if (!st && jp_stop_pending()) st = jp_stop_check(err);
        }
        if (st) {
            jp_free(perm);
            return st;
        }
        *order = perm;
    }
    if (st) return st;
    *m = limit && limit < rows ? limit : rows;
    return JP_OK;
}

jp_status_t jp_sort_top(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, size_t limit,
                        size_t **order, size_t *m, jp_error_t *err)
{
    *order = NULL;
    *m = 0;
    long *idx = jp_malloc_array(n ? n : 1, sizeof *idx);
    bool *desc = jp_malloc_array(n ? n : 1, sizeof *desc);
    size_t *need = jp_malloc_array(n ? n : 1, sizeof *need);
    jp_status_t st = JP_OK;
    if (!idx || !desc || !need) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) st = key_fields(ds, keys, n, idx, err);
    for (size_t q = 0; q < n && !st; q++) {
        need[q] = (size_t)idx[q];
        desc[q] = keys[q].desc;
    }
    if (!st) st = jp_dataset_need(ds, need, n, err);
    if (!st) st = jp_dataset_need_rows(ds, err);
    if (!st) st = order_of(ds, idx, desc, n, limit, order, m, err);
    jp_free(idx);
    jp_free(desc);
    jp_free(need);
    return st;
}

jp_status_t jp_sort_order(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, size_t **order,
                          jp_error_t *err)
{
    size_t m;
    return jp_sort_top(ds, keys, n, 0, order, &m, err);
}

/* ---- the sort node ------------------------------------------------------------------- */

typedef struct sortnode {
    jp_lazy_t base; /* first: the dataset holds &base */
    jp_dataset_t *in;
    long *idx;
    bool *desc;
    size_t nkeys;
    size_t limit; /* 0: every row */
    size_t *order;
    size_t norder;
    bool ordered;
    jp_stream_top_t *top; /* a top-N found by streaming its input */
    size_t memory;        /* the budget asked for (0: the default) */
} sortnode_t;

static void node_free(jp_lazy_t *lz)
{
    sortnode_t *p = (sortnode_t *)lz;
    jp_dataset_unref(p->in);
    jp_free(p->idx);
    jp_free(p->desc);
    jp_free(p->order);
    jp_stream_top_free(p->top);
    jp_free(p);
}

static size_t node_rows(const sortnode_t *p)
{
    size_t n = p->in->nrows;
    return p->limit && p->limit < n ? p->limit : n;
}

/* The row lines of the sorted rows, once the order is known. */
static jp_status_t node_origin(sortnode_t *p, jp_dataset_t *ds)
{
    const jp_dataset_t *in = p->in;
    if (!in->origin || ds->origin) return JP_OK;
    jp_column_t *lines = NULL;
    if (in->lines) {
        if (!(lines = jp_column_gather(in->lines, p->order, p->norder))) return JP_ERR_NOMEM;
    } else if (in->first_line) {
        if (!(lines = jp_column_new(JP_TYPE_INT, p->norder ? p->norder : 1))) return JP_ERR_NOMEM;
        for (size_t q = 0; q < p->norder; q++) lines->v.i[q] = in->first_line + (long)p->order[q];
        jp_column_set_len(lines, p->norder);
    }
    jp_dataset_set_origin(ds, in->origin, lines);
    return JP_OK;
}

jp_status_t jp_sort_rows_ascending(const size_t *order, size_t n, size_t *rows, size_t *at,
                                   jp_error_t *err)
{
    size_t *pos = jp_malloc_array(n ? n : 1, sizeof *pos);
    if (!pos) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    /* positions sorted by their row: a merge sort (n is a top-N's), at
       serving as its scratch */
    for (size_t q = 0; q < n; q++) pos[q] = q;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) at[o++] = order[pos[j]] < order[pos[i]] ? pos[j++] : pos[i++];
            while (i < mid) at[o++] = pos[i++];
            while (j < hi) at[o++] = pos[j++];
        }
        memcpy(pos, at, n * sizeof *pos);
    }
    for (size_t r = 0; r < n; r++) {
        rows[r] = order[pos[r]];
        at[pos[r]] = r;
    }
    jp_free(pos);
    return JP_OK;
}

/* Fields list[0..m) of the rows order[0..n) of a lazy input through its
 * take op: cols[] get the rows in ascending row order, and (*at)[q] is
 * where order[q] landed among them. */
static jp_status_t take_rows(jp_dataset_t *in, const size_t *list, size_t m, const size_t *order,
                             size_t n, jp_column_t **cols, size_t **at, jp_error_t *err)
{
    size_t *rows = jp_malloc_array(n ? n : 1, sizeof *rows);
    size_t *back = jp_malloc_array(n ? n : 1, sizeof *back);
    jp_status_t st = rows && back ? jp_sort_rows_ascending(order, n, rows, back, err)
                                  : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) st = in->lazy->ops->take(in, list, m, rows, n, cols, err);
    jp_free(rows);
    if (st) {
        jp_free(back);
        return st;
    }
    *at = back;
    return JP_OK;
}

/* A top-N over an input that streams: its rows found batch by batch, so
 * memory holds the N rows, not the input's key columns. */
static jp_status_t node_stream(sortnode_t *p, jp_dataset_t *ds, const size_t *idx, size_t n,
                               bool *fallback, jp_error_t *err)
{
    jp_status_t st = jp_stream_top_need(ds, p->in, p->idx, p->desc, p->nkeys, p->limit, &p->top,
                                        idx, n, fallback, err);
    if (st && err && st != JP_ERR_NOMEM && st != JP_ERR_TIMEOUT && st != JP_ERR_INTERRUPTED)
        jp_error_prefix(err, "sort");
    if (!st && !*fallback) {
        p->ordered = true;
        p->norder = ds->nrows;
    }
    return st;
}

static jp_status_t node_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    sortnode_t *p = (sortnode_t *)ds->lazy;
    jp_dataset_t *in = p->in;
    if (p->limit && (p->top || (!p->ordered && jp_stream_possible(in)))) {
        bool fallback;
        jp_status_t st = node_stream(p, ds, idx, n, &fallback, err);
        if (!fallback) return st;
    }
    if (!p->limit && !p->ordered && n == ds->schema.n_fields && jp_stream_possible(in)) {
        /* every field of every row, from an input that streams: sorted in
           runs that fit the budget, merged from temporary files */
        bool fallback;
        jp_status_t st =
            jp_xsort_collect(ds, in, p->idx, p->desc, p->nkeys, p->memory, &fallback, err);
        if (!fallback) {
            if (!st) {
                p->ordered = true;
                p->norder = ds->nrows;
            }
            return st;
        }
    }
    size_t nin = in->schema.n_fields;
    size_t *list = jp_malloc_array(nin + p->nkeys + 1, sizeof *list);
    jp_status_t st = JP_OK;
    if (!list) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!p->ordered) {
        /* the keys and, unless this is a top-N (whose other columns are
           only wanted for a few rows), the requested columns: one request,
           so a lazy file is read once */
        size_t m = 0;
        for (size_t q = 0; q < p->nkeys; q++) list[m++] = (size_t)p->idx[q];
        if (!p->limit)
            for (size_t q = 0; q < n; q++)
                if (!ds->cols[idx[q]]) list[m++] = idx[q];
        st = m ? jp_dataset_need(in, list, m, err) : jp_dataset_need_rows(in, err);
        if (!st) st = jp_dataset_need_rows(in, err);
        if (!st) st = order_of(in, p->idx, p->desc, p->nkeys, p->limit, &p->order, &p->norder, err);
        if (st) {
            if (err && st != JP_ERR_NOMEM && st != JP_ERR_TIMEOUT && st != JP_ERR_INTERRUPTED)
                jp_error_prefix(err, "sort");
            goto done;
        }
        p->ordered = true;
        if (node_origin(p, ds)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    ds->nrows = p->norder;
    /* the requested columns: loaded from the input, rows gathered in order */
    size_t m = 0;
    for (size_t q = 0; q < n; q++) {
        bool dup = false;
        for (size_t r = 0; r < m && !dup; r++) dup = list[r] == idx[q];
        if (!ds->cols[idx[q]] && !dup) list[m++] = idx[q];
    }
    if (!m) goto done;
    jp_column_t **src = jp_calloc(m, sizeof *src);
    jp_column_t **dst = jp_malloc_array(m, sizeof *dst);
    size_t *at = NULL;
    bool taken = false;
    if (!src || !dst) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    } else if (p->limit && in->lazy && in->lazy->ops->take && p->norder <= in->nrows / 4) {
        /* a top-N of a lazy file: its other columns are read for these rows
           only (in file order), then put in sorted order */
        st = take_rows(in, list, m, p->order, p->norder, src, &at, err);
        taken = true;
    } else {
        st = jp_dataset_need(in, list, m, err);
        for (size_t q = 0; q < m && !st; q++) src[q] = in->cols[list[q]];
    }
    if (st) {
        /* nothing to gather */
    } else if (jp_plan_gather_cols(src, dst, m, taken ? at : p->order, p->norder)) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    } else {
        for (size_t q = 0; q < m && !st; q++) {
            size_t i = list[q];
            jp_field_t *fd = &ds->schema.fields[i];
            const jp_field_t *sf = &in->schema.fields[i];
            ds->cols[i] = dst[q];
            fd->type = dst[q]->type;
            if (!fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    }
    if (taken && src)
        for (size_t q = 0; q < m; q++) jp_column_unref(src[q]);
    jp_free(src);
    jp_free(dst);
    jp_free(at);
done:
    if (st == JP_ERR_NOMEM)
        jp_mem_explain(err, "sort", jp_dataset_rows_known(in),
                       ", or ask for fewer fields (written with write_csv or collected whole, "
                       "a sort spills runs to disk)",
                       "its keys and the fields asked for");
    jp_free(list);
    return st;
}

static jp_status_t node_need_rows(jp_dataset_t *ds, jp_error_t *err)
{
    sortnode_t *p = (sortnode_t *)ds->lazy;
    if (p->ordered) {
        ds->nrows = p->norder;
        return JP_OK;
    }
    jp_status_t st = jp_dataset_need_rows(p->in, err);
    if (!st) ds->nrows = node_rows(p);
    return st;
}

static const jp_lazy_ops_t sort_ops = {"sort", node_need, node_need_rows, node_free, NULL, NULL};

/* A sort node over `in` by keys idx/desc, keeping `limit` rows (0: all). */
static jp_dataset_t *node_new(jp_dataset_t *in, const long *idx, const bool *desc, size_t n,
                              size_t limit, jp_error_t *err)
{
    sortnode_t *p = jp_calloc(1, sizeof *p);
    jp_dataset_t *ds = NULL;
    if (!p || !(p->idx = jp_malloc_array(n ? n : 1, sizeof *p->idx)) ||
        !(p->desc = jp_malloc_array(n ? n : 1, sizeof *p->desc)))
        goto nomem;
    p->base.ops = &sort_ops;
    if (n) {
        memcpy(p->idx, idx, n * sizeof *idx);
        memcpy(p->desc, desc, n * sizeof *desc);
    }
    p->nkeys = n;
    p->limit = limit;
    p->in = jp_dataset_ref(in);
    if (!(ds = jp_dataset_new_like(in, true, err))) {
        node_free(&p->base);
        return NULL;
    }
    ds->lazy = &p->base;
    if (!in->lazy || in->lazy->rows_known) {
        ds->nrows = node_rows(p);
        p->base.rows_known = true;
    }
    return ds;
nomem:
    if (p) {
        jp_free(p->idx);
        jp_free(p->desc);
        jp_free(p);
    }
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

jp_dataset_t *jp_sort_plan(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, jp_error_t *err)
{
    long *idx = jp_malloc_array(n ? n : 1, sizeof *idx);
    bool *desc = jp_malloc_array(n ? n : 1, sizeof *desc);
    jp_dataset_t *out = NULL;
    if (!idx || !desc)
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    else if (!key_fields(ds, keys, n, idx, err)) {
        for (size_t q = 0; q < n; q++) desc[q] = keys[q].desc;
        out = node_new(ds, idx, desc, n, 0, err);
    }
    jp_free(idx);
    jp_free(desc);
    return out;
}

jp_dataset_t *jp_sort(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, jp_error_t *err)
{
    jp_dataset_t *out = jp_sort_plan(ds, keys, n, err);
    /* an eager input gets an eager result, as every eager verb gives */
    if (out && !ds->lazy && jp_dataset_need_all(out, err)) {
        jp_dataset_unref(out);
        return NULL;
    }
    return out;
}

bool jp_sort_is_plan(const jp_dataset_t *ds)
{
    return ds->lazy && ds->lazy->ops == &sort_ops;
}

jp_dataset_t *jp_sort_limit(jp_dataset_t *ds, size_t limit, jp_error_t *err)
{
    sortnode_t *p = (sortnode_t *)ds->lazy;
    size_t lim = p->limit && p->limit < limit ? p->limit : limit;
    jp_dataset_t *out = node_new(p->in, p->idx, p->desc, p->nkeys, lim, err);
    if (out) ((sortnode_t *)out->lazy)->memory = p->memory;
    return out;
}

void jp_sort_set_memory(jp_dataset_t *ds, size_t bytes)
{
    if (jp_sort_is_plan(ds)) ((sortnode_t *)ds->lazy)->memory = bytes;
}

bool jp_sort_plan_spec(const jp_dataset_t *ds, jp_dataset_t **in, const long **idx,
                       const bool **desc, size_t *nkeys, size_t *limit, size_t *memory)
{
    if (!jp_sort_is_plan(ds)) return false;
    const sortnode_t *p = (const sortnode_t *)ds->lazy;
    *in = p->in;
    *idx = p->idx;
    *desc = p->desc;
    *nkeys = p->nkeys;
    *limit = p->limit;
    *memory = p->memory;
    return true;
}
