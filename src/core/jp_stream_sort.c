/*
 * jp_stream_sort.c - the top n rows of a sort over a chain that streams,
 * found batch by batch: memory holds a pool of at most 2n candidate rows
 * and one batch, whatever the size of the file.
 *
 * The first call: the key fields and the fields asked for go through the
 * chain batch by batch; the batch's own first n rows (jp_sort_top, the
 * engine of the whole-file sort) join the pool with their row numbers at
 * the chain's top; a pool of 2n rows is cut back to its first n.  A row
 * among the first n of the file is among the first n of its batch, and the
 * pool keeps the batches in file order, so a stable sort of the pool gives
 * exactly the whole-file result, ties in file order.  Once the pool has
 * been cut to n rows, its n-th row bounds the rest: a batch's rows are
 * compared with it, key by key, and only those ordered strictly before it
 * can join the pool (no sort of the batch, the usual case).
 *
 * When no node of the chain drops rows or goes by position, a row at the
 * top is the file's row: the first pass builds only the keys, checks the
 * other fields asked for (their types, their errors: jp_csv_stream_checked)
 * and keeps each pool row's record offset; the n records are then read
 * alone, with the whole file's types, and run through the chain.
 *
 * Fields asked for later, for the same rows: when no node of the chain
 * drops rows, a row at the top is the file's row of that number, and the
 * lazy file's take reads those rows alone (with the whole file's types)
 * for the chain to run over; otherwise a second stream keeps those rows.
 *
 * Owns: jp_stream_top_*.  Must never: modify the chain's datasets, keep a
 * batch's columns after its callback, print.
 */
#include "jp_stream_sort.h"

#include <string.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_lazy.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_sortkey.h"
#include "jp_stream_int.h"
#include "jp_verbs.h"

struct jp_stream_top {
    size_t *rows; /* row numbers at the chain's top, in sorted order */
    size_t m;
    bool filters; /* the chain drops rows: the numbers are not the file's */
};

void jp_stream_top_free(jp_stream_top_t *t)
{
    if (!t) return;
    jp_free(t->rows);
    jp_free(t);
}

/* ---- columns of a few rows ------------------------------------------------------ */

/* A new empty column of c's type (strings with a dictionary of their own). */
static jp_column_t *empty_like(const jp_column_t *c)
{
    return jp_column_new(c->type, 16);
}

/* Append rows[0..m) of src to dst.  Strings are interned one by one, so
 * that dst's dictionary holds its own rows' strings, not a batch's. */
static jp_status_t append_rows(jp_column_t *dst, const jp_column_t *src, const size_t *rows,
                               size_t m, const char *name, jp_error_t *err)
{
    if (dst->type != src->type)
        return jp_error_set(err, JP_ERR_INTERNAL, "streaming: field '%s' changed type", name);
    if (src->type != JP_TYPE_STRING) {
        jp_column_t *part = jp_column_gather(src, rows, m);
        if (!part) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_status_t st = jp_column_append(dst, part, err);
        jp_column_unref(part);
        return st;
    }
    size_t n0 = dst->len;
    for (size_t q = 0; q < m; q++) {
        size_t len;
        const char *s = jp_column_is_null(src, rows[q]) ? NULL : jp_column_str(src, rows[q], &len);
        if (s ? jp_column_push_str(dst, s, len) : jp_column_push_null(dst))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (src->quals) {
        if (jp_column_alloc_quals(dst)) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t q = 0; q < m; q++) dst->quals[n0 + q] = src->quals[rows[q]];
    }
    return JP_OK;
}

/* rows[0..m) of src as a new compact column. */
static jp_column_t *pick(const jp_column_t *src, const size_t *rows, size_t m, jp_error_t *err)
{
    if (src->type != JP_TYPE_STRING) {
        jp_column_t *c = jp_column_gather(src, rows, m);
        if (!c) jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return c;
    }
    jp_column_t *c = empty_like(src);
    if (!c) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (append_rows(c, src, rows, m, "", err)) {
        jp_column_unref(c);
        return NULL;
    }
    return c;
}

/* ---- the first pass: the pool of candidates ---------------------------------------- */

/* The pool's n-th row once the pool has been cut to n rows: each key's
 * class (0 a value, 1 NaN, 2 null: the sort's order whatever the
 * direction) and value.  A later row can reach the first n only if it is
 * ordered strictly before it: n rows already come before a row that ties
 * with it, since ties go in file order. */
typedef struct bound {
    bool set;
    uint8_t *cls;
    uint64_t *word;    /* integers, numbers, booleans, dates: jp_sortkey_word */
    jp_buf_t *text;    /* strings */
    jp_period_t *per;  /* periods */
    int8_t **code_cmp; /* per string key: each code of the batch against the bound */
    size_t *code_cap;
} bound_t;

typedef struct pass1 {
    size_t *top_idx, ntop;  /* top fields kept in the pool */
    jp_sort_key_t *keys;    /* over the top's (and the pool's) field names */
    const long *kidx;       /* the keys' fields at the top */
    size_t *kpool;          /* the keys' fields in the pool */
    const jp_column_t **kc; /* a batch's key columns */
    size_t nkeys, limit;
    jp_dataset_t *pool;       /* NULL until the first batch */
    size_t *prow;             /* the pool rows' numbers at the top */
    bool at;                  /* by offset: the rows' other fields read at the end by offset */
    int64_t *poff;            /* by offset: their records' offsets in the file's text */
    const jp_column_t *boffs; /* by offset: the batch's */
    size_t pcap;
    size_t seen; /* top rows before this batch */
    bound_t bound;
    size_t *cand; /* a batch's rows before the bound */
    size_t ccap;
} pass1_t;

static jp_status_t p1_reset(void *ctx, jp_error_t *err)
{
    pass1_t *t = ctx;
    (void)err;
    jp_dataset_unref(t->pool);
    t->pool = NULL;
    t->seen = 0;
    t->bound.set = false;
    return JP_OK;
}

/* ---- the bound ---------------------------------------------------------------------- */

static bool bound_init(bound_t *b, size_t nkeys)
{
    size_t n = nkeys ? nkeys : 1;
    memset(b, 0, sizeof *b);
    b->cls = jp_calloc(n, sizeof *b->cls);
    b->word = jp_calloc(n, sizeof *b->word);
    b->text = jp_calloc(n, sizeof *b->text);
    b->per = jp_calloc(n, sizeof *b->per);
    b->code_cmp = jp_calloc(n, sizeof *b->code_cmp);
    b->code_cap = jp_calloc(n, sizeof *b->code_cap);
    return b->cls && b->word && b->text && b->per && b->code_cmp && b->code_cap;
}

static void bound_free(bound_t *b, size_t nkeys)
{
    for (size_t q = 0; q < nkeys; q++) {
        if (b->text) jp_buf_free(&b->text[q]);
        if (b->code_cmp) jp_free(b->code_cmp[q]);
    }
    jp_free(b->cls);
    jp_free(b->word);
    jp_free(b->text);
    jp_free(b->per);
    jp_free(b->code_cmp);
    jp_free(b->code_cap);
    memset(b, 0, sizeof *b);
}

/* The class of row i of c: 0 a value, 1 NaN, 2 null. */
static inline int cell_class(const jp_column_t *c, size_t i)
{
    if (c->nulls && c->nulls[i]) return 2;
    return c->type == JP_TYPE_NUMBER && c->v.d[i] != c->v.d[i];
}

/* The bound becomes the pool's row r (the pool cut, r = limit - 1). */
static jp_status_t bound_set(pass1_t *t, size_t r, jp_error_t *err)
{
    bound_t *b = &t->bound;
    for (size_t q = 0; q < t->nkeys; q++) {
        const jp_column_t *c = t->pool->cols[t->kpool[q]];
        b->cls[q] = (uint8_t)cell_class(c, r);
        if (b->cls[q]) continue;
        if (c->type == JP_TYPE_STRING) {
            size_t len;
            const char *s = jp_column_str(c, r, &len);
            jp_buf_reset(&b->text[q]);
            if (jp_buf_append(&b->text[q], s, len))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else if (c->type == JP_TYPE_PERIOD) {
            b->per[q] = c->v.p[r];
        } else {
            b->word[q] = jp_sortkey_word(c, r);
        }
    }
    b->set = true;
    return JP_OK;
}

/* Each string of a batch's key column q against the bound's, in the byte
 * order the sort ranks strings by. */
static jp_status_t bound_codes(bound_t *b, size_t q, const jp_column_t *c, jp_error_t *err)
{
    const jp_strdict_t *d = c->dict;
    size_t n = d->count ? d->count : 1;
    if (b->code_cap[q] < n) {
        int8_t *v = jp_realloc(b->code_cmp[q], n);
        if (!v) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        b->code_cmp[q] = v;
        b->code_cap[q] = n;
    }
    const char *bs = b->text[q].data ? b->text[q].data : "";
    size_t bl = b->text[q].len;
    for (uint32_t code = 0; code < d->count; code++) {
        size_t len;
        const char *s = jp_strdict_get(d, code, &len);
        int r = memcmp(s, bs, len < bl ? len : bl);
        if (!r) r = len < bl ? -1 : len > bl;
        b->code_cmp[q][code] = (int8_t)(r < 0 ? -1 : r > 0);
    }
    return JP_OK;
}

/* Row i of the batch against the bound on key q: < 0 before, > 0 after. */
static inline int bound_cmp(const bound_t *b, size_t q, const jp_column_t *c, bool desc, size_t i)
{
    int cls = cell_class(c, i);
    if (cls != b->cls[q]) return cls < b->cls[q] ? -1 : 1;
    if (cls) return 0;
    int r;
    if (c->type == JP_TYPE_STRING) {
        r = b->code_cmp[q][c->v.s[i]];
    } else if (c->type == JP_TYPE_PERIOD) {
        r = jp_period_cmp(&c->v.p[i], &b->per[q]);
    } else {
        uint64_t w = jp_sortkey_word(c, i);
        r = (w > b->word[q]) - (w < b->word[q]);
    }
    return desc ? -r : r;
}

/* The batch's rows ordered before the bound, ascending, into t->cand;
 * *m > limit (and the list cut short) when there are more than limit. */
static jp_status_t below_bound(pass1_t *t, const jp_dataset_t *top, size_t *m, jp_error_t *err)
{
    bound_t *b = &t->bound;
    const jp_column_t **kc = t->kc;
    size_t nk = t->nkeys;
    for (size_t q = 0; q < nk; q++) {
        kc[q] = top->cols[t->kidx[q]];
        if (kc[q]->type == JP_TYPE_STRING && !b->cls[q]) {
            jp_status_t st = bound_codes(b, q, kc[q], err);
            if (st) return st;
        }
    }
    if (t->ccap < t->limit + 1) {
        size_t *v = jp_realloc_array(t->cand, t->limit + 1, sizeof *v);
        if (!v) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        t->cand = v;
        t->ccap = t->limit + 1;
    }
    size_t n = top->nrows, k = 0;
    for (size_t i = 0; i < n; i++) {
        int r = 0;
        for (size_t q = 0; q < nk && !r; q++) r = bound_cmp(b, q, kc[q], t->keys[q].desc, i);
        if (r >= 0) continue;
        t->cand[k++] = i;
        if (k > t->limit) break;
    }
    *m = k;
    return JP_OK;
}

jp_dataset_t *jp_stream_empty_like(const jp_dataset_t *top, const size_t *idx, size_t n, size_t cap,
                                   jp_error_t *err)
{
    jp_dataset_t *pool = jp_dataset_new();
    if (!pool) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        const jp_column_t *c = top->cols[idx[k]];
        jp_field_t f;
        if (jp_field_copy(&f, &top->schema.fields[idx[k]])) {
            jp_dataset_unref(pool);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        jp_constraints_free(&f.constraints);
        jp_constraints_init(&f.constraints);
        f.type = c->type;
        jp_column_t *e = jp_column_new(c->type, cap);
        jp_status_t st = e ? jp_dataset_add_column(pool, &f, e, err)
                           : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_field_free(&f);
        if (st) {
            jp_dataset_unref(pool);
            return NULL;
        }
    }
    pool->nrows = 0;
    return pool;
}

/* The pool's fields, typed by the first batch. */
static jp_status_t pool_new(pass1_t *t, const jp_dataset_t *top, jp_error_t *err)
{
    t->pool = jp_stream_empty_like(top, t->top_idx, t->ntop, 16, err);
    return t->pool ? JP_OK : err ? err->code : JP_ERR_NOMEM;
}

/* Cut the pool back to its first `limit` rows, in order. */
static jp_status_t pool_cut(pass1_t *t, jp_error_t *err)
{
    jp_dataset_t *pool = t->pool;
    size_t *ord = NULL, m = 0;
    jp_status_t st = jp_sort_top(pool, t->keys, t->nkeys, t->limit, &ord, &m, err);
    if (st) return st;
    jp_column_t **nc = jp_calloc(t->ntop ? t->ntop : 1, sizeof *nc);
    size_t *nrow = jp_malloc_array(m ? m : 1, sizeof *nrow);
    int64_t *noff = t->at ? jp_malloc_array(m ? m : 1, sizeof *noff) : NULL;
    if (!nc || !nrow || (t->at && !noff)) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < t->ntop && !st; k++)
        if (!(nc[k] = pick(pool->cols[k], ord, m, err))) st = err ? err->code : JP_ERR_NOMEM;
    if (!st) {
        for (size_t k = 0; k < t->ntop; k++) {
            jp_column_unref(pool->cols[k]);
            pool->cols[k] = nc[k];
        }
        for (size_t q = 0; q < m; q++) nrow[q] = t->prow[ord[q]];
        jp_free(t->prow);
        t->prow = nrow;
        if (noff) {
            for (size_t q = 0; q < m; q++) noff[q] = t->poff[ord[q]];
            jp_free(t->poff);
            t->poff = noff;
            noff = NULL;
        }
        t->pcap = m ? m : 1;
        pool->nrows = m;
        nrow = NULL;
        if (m == t->limit) st = bound_set(t, m - 1, err);
    } else if (nc) {
        for (size_t k = 0; k < t->ntop; k++) jp_column_unref(nc[k]);
    }
    jp_free(nc);
    jp_free(nrow);
    jp_free(noff);
    jp_free(ord);
    return st;
}

static jp_status_t p1_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    pass1_t *t = ctx;
    jp_status_t st = JP_OK;
    size_t *ord = NULL, m = 0;
    if (!t->pool && (st = pool_new(t, top, err))) goto done;
    if (t->bound.set && (st = below_bound(t, top, &m, err))) goto done;
    if (t->bound.set && m <= t->limit) {
        /* the usual case once the pool is full: few rows, no sort */
        ord = t->cand;
    } else if ((st = jp_sort_top(top, t->keys, t->nkeys, t->limit, &ord, &m, err))) {
        goto done;
    }
    jp_dataset_t *pool = t->pool;
    if (pool->nrows + m > t->pcap) {
        size_t cap = t->pcap ? t->pcap : 16;
        while (cap < pool->nrows + m) cap *= 2;
        size_t *p = jp_realloc_array(t->prow, cap, sizeof *p);
        if (!p) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto done;
        }
        t->prow = p;
        if (t->at) {
            int64_t *o = jp_realloc_array(t->poff, cap, sizeof *o);
            if (!o) {
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                goto done;
            }
            t->poff = o;
        }
        t->pcap = cap;
    }
    for (size_t k = 0; k < t->ntop && !st; k++)
        st = append_rows(pool->cols[k], top->cols[t->top_idx[k]], ord, m,
                         pool->schema.fields[k].name, err);
    if (st) goto done;
    for (size_t q = 0; q < m; q++) t->prow[pool->nrows + q] = t->seen + ord[q];
    if (t->at)
        for (size_t q = 0; q < m; q++) t->poff[pool->nrows + q] = t->boffs->v.i[ord[q]];
    pool->nrows += m;
    t->seen += top->nrows;
    if (pool->nrows >= (t->bound.set ? 2 * t->limit : t->limit)) st = pool_cut(t, err);
done:
    if (ord != t->cand) jp_free(ord);
    return st;
}

/* A batch with its records' offsets (the top's rows are the file's). */
static jp_status_t p1_batch_at(void *ctx, jp_dataset_t *top, const jp_column_t *offsets,
                               jp_error_t *err)
{
    pass1_t *t = ctx;
    if (!offsets || offsets->len != top->nrows)
        return jp_error_set(err, JP_ERR_INTERNAL, "streaming: no record offsets");
    t->boffs = offsets;
    jp_status_t st = p1_batch(ctx, top, err);
    t->boffs = NULL;
    return st;
}

/* ---- the other fields of the rows found ------------------------------------------------ */

typedef struct pass2 {
    const size_t *top_idx;
    size_t ntop;
    const size_t *want; /* top row numbers, ascending */
    size_t m, next;     /* want[next] is the next to keep */
    jp_column_t **acc;  /* the rows kept, per field (NULL until the first batch) */
    jp_field_t *fields; /* their fields, from the first batch */
    size_t seen;
} pass2_t;

static void p2_clear(pass2_t *t)
{
    for (size_t k = 0; k < t->ntop; k++) {
        jp_column_unref(t->acc[k]);
        t->acc[k] = NULL;
        jp_field_free(&t->fields[k]);
    }
    t->next = t->seen = 0;
}

static jp_status_t p2_reset(void *ctx, jp_error_t *err)
{
    (void)err;
    p2_clear(ctx);
    return JP_OK;
}

static jp_status_t p2_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    pass2_t *t = ctx;
    jp_status_t st = JP_OK;
    size_t n = top->nrows, from = t->next;
    size_t *local = NULL;
    if (!t->acc[0])
        for (size_t k = 0; k < t->ntop && !st; k++) {
            const jp_column_t *c = top->cols[t->top_idx[k]];
            if (!(t->acc[k] = empty_like(c)) ||
                jp_field_copy(&t->fields[k], &top->schema.fields[t->top_idx[k]]))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    while (t->next < t->m && t->want[t->next] < t->seen + n) t->next++;
    size_t k = t->next - from;
    if (!st && k && !(local = jp_malloc_array(k, sizeof *local)))
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t q = 0; q < k && !st; q++) local[q] = t->want[from + q] - t->seen;
    for (size_t f = 0; f < t->ntop && !st && k; f++)
        st = append_rows(t->acc[f], top->cols[t->top_idx[f]], local, k, t->fields[f].name, err);
    t->seen += n;
    jp_free(local);
    return st;
}

/* ---- filling the sort node ----------------------------------------------------------- */

/* ds's field i takes column c (a new reference for ds) and the type and unit of f. */
static jp_status_t fill(jp_dataset_t *ds, size_t i, jp_column_t *c, const jp_field_t *f,
                        jp_error_t *err)
{
    jp_field_t *fd = &ds->schema.fields[i];
    ds->cols[i] = c;
    fd->type = c->type;
    if (!fd->unit && f->unit && !(fd->unit = jp_strdup(f->unit)))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

/* The top fields g[0..ng) of the rows found, read alone through the
 * file's take (a top row is the file's row: no node drops rows) and run
 * through the chain; asc: the rows in file order, inv: where each went.
 * With `at` (their records' offsets, in file order) and `types` (the
 * file's fields' types, from a checked first pass), the records are read
 * by offset instead (jp_csv_take_at). */
static jp_status_t fetch_taken(jp_dataset_t *ds, const jp_stream_chain_t *ch, const bool *want,
                               const size_t *g, size_t ng, const size_t *asc, const size_t *inv,
                               size_t m, const int64_t *at, const jp_type_t *types, jp_error_t *err)
{
    size_t *read_idx = NULL, nread = 0;
    jp_status_t st = jp_stream_chain_inputs(ch, want, &read_idx, &nread, err);
    if (st) return st;
    jp_column_t **cols = jp_calloc(nread ? nread : 1, sizeof *cols);
    jp_type_t *rt = at ? jp_malloc_array(nread ? nread : 1, sizeof *rt) : NULL;
    jp_dataset_t *top = NULL;
    if (!cols || (at && !rt)) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < nread && at && !st; k++)
        if ((rt[k] = types[read_idx[k]]) == JP_TYPE_NONE)
            st = jp_error_set(err, JP_ERR_INTERNAL, "streaming: a field neither read nor checked");
    if (!st)
        st = at ? jp_csv_take_at(ch->src, read_idx, nread, rt, at, m, cols, err)
                : ch->src->lazy->ops->take(ch->src, read_idx, nread, asc, m, cols, err);
    if (!st && !(top = jp_stream_run_chain(ch, cols, read_idx, nread, m, g, ng, err)))
        st = err ? err->code : JP_ERR_NOMEM;
    for (size_t q = 0; q < ng && !st; q++) {
        jp_column_t *c = jp_column_gather(top->cols[g[q]], inv, m);
        st = c ? fill(ds, g[q], c, &top->schema.fields[g[q]], err)
               : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (cols)
        for (size_t k = 0; k < nread; k++) jp_column_unref(cols[k]);
    jp_free(cols);
    jp_free(rt);
    jp_dataset_unref(top);
    jp_free(read_idx);
    return st;
}

/* The same, when a filter in the chain drops rows: the chain streamed
 * again, keeping those rows. */
static jp_status_t fetch_streamed(jp_dataset_t *ds, const jp_stream_chain_t *ch, const bool *want,
                                  const size_t *g, size_t ng, const size_t *asc, const size_t *inv,
                                  size_t m, jp_error_t *err)
{
    pass2_t p2;
    memset(&p2, 0, sizeof p2);
    p2.top_idx = g;
    p2.ntop = ng;
    p2.want = asc;
    p2.m = m;
    p2.acc = jp_calloc(ng ? ng : 1, sizeof *p2.acc);
    p2.fields = jp_calloc(ng ? ng : 1, sizeof *p2.fields);
    jp_status_t st = JP_OK;
    if (!p2.acc || !p2.fields) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    jp_stream_consumer_t cb = {p2_batch, p2_reset, &p2, NULL};
    if ((st = jp_stream_chain_pass(ch, want, &cb, err))) goto done;
    if (p2.next != m || (ng && !p2.acc[0])) {
        const char *path = jp_dataset_origin(ch->src);
        st = jp_error_set(err, JP_ERR_IO, "%s changed since it was read; read it again",
                          path ? path : "the input");
        goto done;
    }
    for (size_t q = 0; q < ng && !st; q++) {
        jp_column_t *c = jp_column_gather(p2.acc[q], inv, m);
        st = c ? fill(ds, g[q], c, &p2.fields[q], err)
               : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
done:
    if (p2.acc) p2_clear(&p2);
    jp_free(p2.acc);
    jp_free(p2.fields);
    return st;
}

/* The top fields want[] of the rows found, read again and put in order.
 * off (may be NULL): their records' offsets, in the rows' sorted order,
 * and types the file's fields' types, from a checked first pass: the
 * records are read by offset. */
static jp_status_t fetch(jp_dataset_t *ds, const jp_stream_chain_t *ch, const jp_stream_top_t *s,
                         const bool *want, const int64_t *off, const jp_type_t *types,
                         jp_error_t *err)
{
    size_t nf = ds->schema.n_fields, m = s->m, ng = 0;
    size_t *g = jp_malloc_array(nf ? nf : 1, sizeof *g);
    size_t *asc = jp_malloc_array(m ? m : 1, sizeof *asc);
    size_t *inv = jp_malloc_array(m ? m : 1, sizeof *inv);
    int64_t *at = off ? jp_malloc_array(m ? m : 1, sizeof *at) : NULL;
    jp_status_t st = g && asc && inv && (at || !off)
                         ? jp_sort_rows_ascending(s->rows, m, asc, inv, err)
                         : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) {
        for (size_t i = 0; i < nf; i++)
            if (want[i]) g[ng++] = i;
        /* the offsets ascend with the rows */
        for (size_t q = 0; q < m && at; q++) at[inv[q]] = off[q];
        st = at || (!s->filters && ch->src->lazy->ops->take)
                 ? fetch_taken(ds, ch, want, g, ng, asc, inv, m, at, types, err)
                 : fetch_streamed(ds, ch, want, g, ng, asc, inv, m, err);
    }
    jp_free(g);
    jp_free(asc);
    jp_free(inv);
    jp_free(at);
    return st;
}

/* The first pass: *out gets the rows found; the pool's fields fill ds. */
static jp_status_t first_pass(jp_dataset_t *ds, const jp_stream_chain_t *ch, const long *kidx,
                              const bool *desc, size_t nkeys, size_t limit, bool *want,
                              jp_stream_top_t **out, bool *fallback, jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    bool filters = false;
    for (size_t k = 0; k < ch->n; k++) filters |= jp_plan_stream_filters(ch->node[k]);
    pass1_t t;
    memset(&t, 0, sizeof t);
    jp_type_t *types = NULL; /* by offset: the file's fields' types */
    bool *kept = jp_calloc(nf ? nf : 1, sizeof *kept);
    t.top_idx = jp_malloc_array(nf ? nf : 1, sizeof *t.top_idx);
    t.keys = jp_malloc_array(nkeys ? nkeys : 1, sizeof *t.keys);
    t.kpool = jp_malloc_array(nkeys ? nkeys : 1, sizeof *t.kpool);
    t.kc = jp_malloc_array(nkeys ? nkeys : 1, sizeof *t.kc);
    jp_status_t st = JP_OK;
    if (!bound_init(&t.bound, nkeys) || !kept || !t.top_idx || !t.keys || !t.kpool || !t.kc) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t q = 0; q < nkeys; q++) {
        kept[kidx[q]] = true;
        t.keys[q].field = ds->schema.fields[kidx[q]].name;
        t.keys[q].desc = desc[q];
    }
    /* When each row at the top is a row of the file (no node drops rows
       or goes by position), only the keys are built; the other fields
       asked for are checked in the same pass (types, errors) and read at
       the end for the n rows alone, by their records' offsets.  Otherwise
       the keys and the fields asked for are built in one pass. */
    t.at = !filters && jp_csv_is_lazy(ch->src) && ch->src->schema.n_fields > 0;
    for (size_t k = 0; k < ch->n; k++) t.at &= !jp_plan_stream_positional(ch->node[k]);
    bool others = false;
    for (size_t i = 0; i < nf; i++) others |= want[i] && !kept[i];
    t.at &= others;
    if (!t.at)
        for (size_t i = 0; i < nf; i++) kept[i] |= want[i];
    for (size_t i = 0; i < nf; i++)
        if (kept[i]) t.top_idx[t.ntop++] = i;
    for (size_t q = 0; q < nkeys; q++)
        for (size_t k = 0; k < t.ntop; k++)
            if (t.top_idx[k] == (size_t)kidx[q]) t.kpool[q] = k;
    t.kidx = kidx;
    t.nkeys = nkeys;
    t.limit = limit;
    jp_stream_consumer_t cb = {p1_batch, p1_reset, &t, NULL};
    if (t.at) {
        if (!(types = jp_malloc_array(ch->src->schema.n_fields, sizeof *types))) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto done;
        }
        st = jp_stream_chain_pass_checked(ch, kept, want, types, &cb, p1_batch_at, err);
    } else {
        st = jp_stream_chain_pass(ch, kept, &cb, err);
    }
    if (st) goto done;
    if (!t.pool) { /* no rows in the file: the loaded way says what that gives */
        *fallback = true;
        goto done;
    }
    if ((st = pool_cut(&t, err))) goto done;
    jp_stream_top_t *s = jp_calloc(1, sizeof *s);
    if (!s) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    s->rows = t.prow;
    s->m = t.pool->nrows;
    s->filters = filters;
    t.prow = NULL;
    *out = s;
    ds->nrows = s->m;
    for (size_t k = 0; k < t.ntop && !st; k++) {
        size_t i = t.top_idx[k];
        if (ds->cols[i]) continue;
        st = fill(ds, i, jp_column_ref(t.pool->cols[k]), &t.pool->schema.fields[k], err);
        want[i] = false;
    }
    bool more = false;
    for (size_t i = 0; i < nf; i++) more |= want[i];
    if (!st && t.at && more) {
        st = fetch(ds, ch, s, want, t.poff, types, err);
        for (size_t i = 0; i < nf; i++) want[i] = false;
    }
done:
    jp_dataset_unref(t.pool);
    jp_free(t.prow);
    jp_free(t.poff);
    jp_free(types);
    jp_free(t.top_idx);
    jp_free(t.keys);
    jp_free(t.kpool);
    jp_free(t.kc);
    jp_free(t.cand);
    bound_free(&t.bound, nkeys);
    jp_free(kept);
    return st;
}

jp_status_t jp_stream_top_need(jp_dataset_t *ds, jp_dataset_t *in, const long *kidx,
                               const bool *desc, size_t nkeys, size_t limit,
                               jp_stream_top_t **state, const size_t *idx, size_t n, bool *fallback,
                               jp_error_t *err)
{
    jp_stream_chain_t ch;
    *fallback = false;
    if (!limit || !jp_stream_chain_of(in, &ch)) {
        *fallback = true;
        return JP_OK;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_calloc(nf ? nf : 1, sizeof *want);
    if (!want) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++)
        if (!ds->cols[idx[k]]) want[idx[k]] = true;
    jp_status_t st = JP_OK;
    if (!*state) st = first_pass(ds, &ch, kidx, desc, nkeys, limit, want, state, fallback, err);
    bool more = false;
    for (size_t i = 0; i < nf; i++) more |= want[i];
    if (!st && !*fallback && more) st = fetch(ds, &ch, *state, want, NULL, NULL, err);
    jp_free(want);
    return st;
}
