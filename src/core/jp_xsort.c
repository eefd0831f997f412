/*
 * jp_xsort.c - external merge sort: the full sort of a chain that streams
 * (a lazy CSV file under filter, mutate by expressions, select/drop/
 * rename), in runs that fit a memory budget.
 *
 * The batches go through the chain into a pool of columns.  When the pool
 * (with what sorting it takes) would pass half the budget, it is sorted by
 * the whole-file engine (jp_sort_order) and written, row by row in that
 * order, to a temporary file in $TMPDIR: a record is a key whose bytes
 * compare like the rows (memcmp) - each key a class byte (value, NaN,
 * null: nulls last whatever the direction) and its value big-endian,
 * inverted when descending, strings escaped so that a shorter prefix sorts
 * first - then the row's number, so that equal keys keep their order, then
 * the row's cells.  At the end the runs are merged by a heap on those
 * bytes into the consumer, a batch of rows at a time.  A pool that never
 * filled is sorted in memory, as jp_sort would.
 *
 * Temporary files are registered with jp_tmp_track (removed on errors,
 * limits and signals) and removed as soon as the merge is done.
 *
 * Owns: jp_xsort_*.  Must never: modify the chain's datasets, leave a
 * temporary file behind, print.
 */
#include "jp_xsort.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_sortkey.h"
#include "jp_stream_int.h"
#include "jp_stream_sort.h"
#include "jp_verbs.h"

#define OUT_ROWS 65536      /* rows handed to the consumer at a time */
#define IO_BYTES (1u << 20) /* write and read buffer per run */
#define ROW_SORT 48         /* bytes a row costs while its run is sorted */
#define NO_NULL  0xFEu      /* cell tag: a qualifier below this; null at 0xFF */
#define TAG_NULL 0xFFu

static _Atomic size_t runs_written;
static size_t run_bytes_test;

void jp_xsort_set_run_bytes(size_t bytes)
{
    run_bytes_test = bytes;
}

size_t jp_xsort_runs_written(void)
{
    return runs_written;
}

size_t jp_xsort_budget(size_t memory)
{
    size_t lim = jp_mem_limit(), b = memory;
    if (!b) b = lim;
    if (!b) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        b = pages > 0 && size > 0 ? (size_t)pages / 4 * (size_t)size : (size_t)1 << 30;
    }
    if (lim && b > lim) b = lim;
    return b;
}

/* ---- runs on disk --------------------------------------------------------------- */

typedef struct run {
    char *path;
    int fd;
    /* reading */
    unsigned char *buf;
    size_t cap, pos, len;
    bool eof;
    const unsigned char *key, *cells; /* the current record */
    uint32_t klen, clen;
} run_t;

static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static void run_close(run_t *r)
{
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    if (r->path) {
        unlink(r->path);
        jp_tmp_untrack(r->path);
        jp_free(r->path);
        r->path = NULL;
    }
    jp_free(r->buf);
    r->buf = NULL;
}

static jp_status_t io_error(int e, jp_error_t *err)
{
    if (e == ENOSPC || e == EDQUOT)
        return jp_error_set(err, JP_ERR_IO,
                            "sort: the temporary directory '%s' is full (a sorted run did not "
                            "fit); set TMPDIR to a directory with more room, or give the sort "
                            "more memory",
                            tmp_dir());
    return jp_error_set(err, JP_ERR_IO, "sort: a temporary file in '%s': %s", tmp_dir(),
                        strerror(e));
}

static jp_status_t run_open(run_t *r, jp_error_t *err)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    const char *dir = tmp_dir();
    size_t n = strlen(dir) + 32;
    if (!(r->path = jp_malloc(n))) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    snprintf(r->path, n, "%s/jinpu-sort-XXXXXX", dir);
    r->fd = mkstemp(r->path);
    if (r->fd < 0) {
        int e = errno;
        jp_free(r->path);
        r->path = NULL;
        return io_error(e, err);
    }
    jp_tmp_track(r->path); /* a full table: still removed on the normal paths */
    return JP_OK;
}

static jp_status_t write_all(int fd, const void *p, size_t n, jp_error_t *err)
{
#ifdef JP_TEST_HOOKS
    /* JINPU_TEST_SORT_ENOSPC=1: the temporary directory is full */
    const char *full = getenv("JINPU_TEST_SORT_ENOSPC");
    if (full && *full == '1') return io_error(ENOSPC, err);
#endif
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return io_error(w < 0 ? errno : ENOSPC, err);
        c += w;
        n -= (size_t)w;
    }
    return JP_OK;
}

/* Make sure n bytes of the run are in its buffer from pos. */
static jp_status_t run_fill(run_t *r, size_t n, jp_error_t *err)
{
    if (r->len - r->pos >= n) return JP_OK;
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
    if (n > r->cap) {
        size_t cap = r->cap;
        while (cap < n) cap *= 2;
        unsigned char *b = jp_realloc(r->buf, cap);
        if (!b) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        r->buf = b;
        r->cap = cap;
    }
    while (r->len < n && !r->eof) {
        ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return io_error(errno, err);
        if (got == 0) r->eof = true;
        r->len += (size_t)got;
    }
    return JP_OK;
}

/* The next record of r into key/cells; key NULL at the end. */
static jp_status_t run_next(run_t *r, jp_error_t *err)
{
    r->key = NULL;
    jp_status_t st = run_fill(r, 8, err);
    if (st) return st;
    if (r->len - r->pos < 8) {
        if (r->len != r->pos)
            return jp_error_set(err, JP_ERR_IO, "sort: a temporary file was cut short");
        return JP_OK;
    }
    memcpy(&r->klen, r->buf + r->pos, 4);
    memcpy(&r->clen, r->buf + r->pos + 4, 4);
    size_t n = 8 + (size_t)r->klen + r->clen;
    if ((st = run_fill(r, n, err))) return st;
    if (r->len - r->pos < n)
        return jp_error_set(err, JP_ERR_IO, "sort: a temporary file was cut short");
    r->key = r->buf + r->pos + 8;
    r->cells = r->key + r->klen;
    r->pos += n;
    return JP_OK;
}

/* ---- records ---------------------------------------------------------------------- */

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* Bytes into b, whose room was reserved (row_bound). */
static inline void put(jp_buf_t *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* At most the bytes of row i's record (header, key, number, cells). */
static size_t row_bound(jp_column_t *const *kc, size_t nk, jp_column_t *const *cols, size_t n,
                        size_t i)
{
    size_t m = 8 + 8;
    for (size_t q = 0; q < nk; q++) {
        size_t len = 0;
        if (kc[q]->type == JP_TYPE_STRING && !jp_column_is_null(kc[q], i))
            jp_column_str(kc[q], i, &len);
        m += 9 + 2 * len + 2;
    }
    for (size_t f = 0; f < n; f++) {
        const jp_column_t *c = cols[f];
        size_t len = 0;
        if (c->type == JP_TYPE_STRING && !jp_column_is_null(c, i)) jp_column_str(c, i, &len);
        m += 1 + 4 + len + jp_type_width(c->type);
    }
    return m;
}

/* The key bytes of row i of the key columns, then its number. */
static void key_bytes(jp_buf_t *b, jp_column_t *const *kc, const bool *desc, size_t nk, size_t i,
                      uint64_t seq)
{
    unsigned char w[9];
    for (size_t q = 0; q < nk; q++) {
        const jp_column_t *c = kc[q];
        if (jp_column_is_null(c, i)) {
            w[0] = 2;
            put(b, w, 1);
            continue;
        }
        if (c->type == JP_TYPE_NUMBER && isnan(c->v.d[i])) {
            w[0] = 1;
            put(b, w, 1);
            continue;
        }
        if (c->type == JP_TYPE_STRING) {
            size_t len, at = b->len;
            const unsigned char *s = (const unsigned char *)jp_column_str(c, i, &len);
            unsigned char *o = (unsigned char *)b->data + b->len;
            *o++ = 0;
            /* 0 -> 0 FF; the end 0 0: a prefix sorts first */
            for (size_t k = 0; k < len; k++) {
                *o++ = s[k];
                if (!s[k]) *o++ = 0xFF;
            }
            *o++ = 0;
            *o++ = 0;
            b->len = (size_t)(o - (unsigned char *)b->data);
            if (desc[q])
                for (size_t k = at + 1; k < b->len; k++) b->data[k] = (char)~b->data[k];
            continue;
        }
        uint64_t u = jp_sortkey_word(c, i); /* periods never reach a run */
        w[0] = 0;
        put_be64(w + 1, desc[q] ? ~u : u);
        put(b, w, 9);
    }
    unsigned char s8[8];
    put_be64(s8, seq);
    put(b, s8, 8);
}

/* The cells of row i: a tag (a qualifier, or null) and the value. */
static void cell_bytes(jp_buf_t *b, jp_column_t *const *cols, size_t n, size_t i)
{
    for (size_t f = 0; f < n; f++) {
        const jp_column_t *c = cols[f];
        unsigned char tag = jp_column_is_null(c, i) ? TAG_NULL : c->quals ? c->quals[i] : 0;
        put(b, &tag, 1);
        if (tag == TAG_NULL) continue;
        if (c->type == JP_TYPE_STRING) {
            size_t len;
            const char *s = jp_column_str(c, i, &len);
            uint32_t l = (uint32_t)len;
            put(b, &l, 4);
            put(b, s, len);
        } else {
            size_t wd = jp_type_width(c->type);
            put(b, (const char *)c->v.raw + i * wd, wd);
        }
    }
}

/* Append one record's cells to the columns. */
static jp_status_t cells_push(jp_column_t **cols, size_t n, const unsigned char *p)
{
    for (size_t f = 0; f < n; f++) {
        jp_column_t *c = cols[f];
        unsigned char tag = *p++;
        jp_status_t st;
        if (tag == TAG_NULL) {
            st = jp_column_push_null(c);
        } else if (c->type == JP_TYPE_STRING) {
            uint32_t l;
            memcpy(&l, p, 4);
            st = jp_column_push_str(c, (const char *)p + 4, l);
            p += 4 + (size_t)l;
        } else {
            size_t wd = jp_type_width(c->type);
            union {
                int64_t i;
                double d;
                int32_t date;
                uint8_t b;
                jp_period_t per;
            } v;
            memcpy(&v, p, wd);
            p += wd;
            switch (c->type) {
            case JP_TYPE_INT:
                st = jp_column_push_int(c, v.i, (jp_qual_t)tag);
                break;
            case JP_TYPE_NUMBER:
                st = jp_column_push_number(c, v.d, (jp_qual_t)tag);
                break;
            case JP_TYPE_DATE:
                st = jp_column_push_date(c, v.date);
                break;
            case JP_TYPE_BOOL:
                st = jp_column_push_bool(c, v.b != 0);
                break;
            case JP_TYPE_PERIOD:
                st = jp_column_push_period(c, &v.per);
                break;
            default:
                st = JP_ERR_TYPE;
            }
            if (!st && tag && c->type != JP_TYPE_INT && c->type != JP_TYPE_NUMBER) {
                if (jp_column_alloc_quals(c)) return JP_ERR_NOMEM;
                c->quals[c->len - 1] = tag;
            }
        }
        if (st) return st;
    }
    return JP_OK;
}

/* ---- the sort ------------------------------------------------------------------------ */

/* Where the sorted rows go: a batch of rows at a time, in order. */
typedef jp_status_t (*emit_fn)(void *ctx, jp_dataset_t *rows, jp_error_t *err);

typedef struct xsort {
    size_t *top_idx, ntop; /* the fields sorted and handed on */
    size_t *kpos;          /* the keys among them */
    const bool *desc;
    size_t nkeys;
    jp_sort_key_t *keys; /* over the pool's field names */
    size_t run_bytes;    /* a pool this large is written out */
    size_t budget;
    bool too_small; /* the budget cannot hold a run's minimum */
    bool pause;     /* a test hook: wait for a stop after the first run */
    jp_dataset_t *pool;
    jp_dataset_t *proto; /* the fields and their types, no rows */
    bool can_spill;      /* every key can be written to a run (not a period) */
    size_t pool_seq;     /* the number of the pool's first row */
    size_t seen;
    run_t *runs;
    size_t nruns, cap;
    jp_buf_t rec;
} xsort_t;

static void x_clear(xsort_t *x)
{
    jp_dataset_unref(x->pool);
    x->pool = NULL;
    jp_dataset_unref(x->proto);
    x->proto = NULL;
    for (size_t r = 0; r < x->nruns; r++) run_close(&x->runs[r]);
    x->nruns = 0;
    x->seen = 0;
}

static jp_status_t x_reset(void *ctx, jp_error_t *err)
{
    (void)err;
    x_clear(ctx);
    return JP_OK;
}

/* What the pool holds, with what sorting it takes. */
static size_t pool_cost(const jp_dataset_t *pool)
{
    size_t n = pool->nrows, bytes = n * ROW_SORT;
    for (size_t k = 0; k < pool->schema.n_fields; k++) {
        const jp_column_t *c = pool->cols[k];
        bytes += c->cap * (jp_type_width(c->type) + (c->nulls ? 1 : 0) + (c->quals ? 1 : 0));
        if (c->type == JP_TYPE_STRING)
            bytes += c->dict->bytes_cap + c->dict->offs_cap * sizeof(size_t) +
                     (c->dict->slot_mask + 1) * 2 * sizeof(uint32_t);
    }
    return bytes;
}

/* Empty columns of the top's fields, typed by a batch. */
static jp_status_t fields_of(const xsort_t *x, const jp_dataset_t *top, jp_dataset_t **out,
                             jp_error_t *err)
{
    *out = jp_stream_empty_like(top, x->top_idx, x->ntop, 1024, err);
    return *out ? JP_OK : err ? err->code : JP_ERR_NOMEM;
}

static jp_status_t pool_start(xsort_t *x, const jp_dataset_t *top, jp_error_t *err)
{
    jp_status_t st = fields_of(x, top, &x->pool, err);
    if (!st && !x->proto) {
        st = fields_of(x, top, &x->proto, err);
        x->can_spill = true;
        for (size_t q = 0; q < x->nkeys && !st; q++)
            if (x->proto->cols[x->kpos[q]]->type == JP_TYPE_PERIOD) x->can_spill = false;
    }
    x->pool_seq = x->seen;
    return st;
}

/* Write the pool, sorted, as a run. */
static jp_status_t spill(xsort_t *x, jp_error_t *err)
{
    jp_dataset_t *pool = x->pool;
    size_t *order = NULL;
    jp_status_t st = jp_sort_order(pool, x->keys, x->nkeys, &order, err);
    if (st) return st;
    if (x->nruns == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        run_t *r = jp_realloc_array(x->runs, cap, sizeof *r);
        if (!r) {
            jp_free(order);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        x->runs = r;
        x->cap = cap;
    }
    run_t *r = &x->runs[x->nruns];
    if ((st = run_open(r, err))) {
        jp_free(order);
        return st;
    }
    x->nruns++;
    /* a slice of rows at a time gathered in order (column by column, on
       every core), then written out row by row from memory read in order */
    jp_column_t **g = jp_calloc(x->ntop ? x->ntop : 1, sizeof *g);
    jp_column_t *kc[JP_STREAM_MAX_CHAIN];
    jp_buf_t *b = &x->rec;
    jp_buf_reset(b);
    if (!g) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t from = 0; from < pool->nrows && !st; from += OUT_ROWS) {
        size_t n = pool->nrows - from < OUT_ROWS ? pool->nrows - from : OUT_ROWS;
        if (jp_plan_gather_cols(pool->cols, g, x->ntop, order + from, n)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t q = 0; q < x->nkeys; q++) kc[q] = g[x->kpos[q]];
        for (size_t i = 0; i < n && !st; i++) {
            size_t at = b->len;
            uint32_t hdr[2] = {0, 0};
            if (jp_buf_reserve(b, row_bound(kc, x->nkeys, g, x->ntop, i))) {
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                break;
            }
            put(b, hdr, 8);
            key_bytes(b, kc, x->desc, x->nkeys, i, x->pool_seq + order[from + i]);
            size_t kend = b->len;
            cell_bytes(b, g, x->ntop, i);
            hdr[0] = (uint32_t)(kend - at - 8);
            hdr[1] = (uint32_t)(b->len - kend);
            memcpy(b->data + at, hdr, 8);
            if (b->len >= IO_BYTES) {
                st = write_all(r->fd, b->data, b->len, err);
                jp_buf_reset(b);
            }
        }
        for (size_t k = 0; k < x->ntop; k++) {
            jp_column_unref(g[k]);
            g[k] = NULL;
        }
        if (!st && jp_stop_pending()) st = jp_stop_check(err);
    }
    jp_free(g);
    if (!st && b->len) st = write_all(r->fd, b->data, b->len, err);
    jp_buf_reset(b);
    jp_free(order);
    if (!st) runs_written++;
    while (!st && x->pause && !jp_stop_pending()) usleep(10000);
    if (!st && jp_stop_pending()) st = jp_stop_check(err);
    jp_dataset_unref(x->pool);
    x->pool = NULL;
    return st;
}

static jp_status_t x_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    xsort_t *x = ctx;
    jp_status_t st = JP_OK;
    if (!x->pool) st = pool_start(x, top, err);
    for (size_t k = 0; k < x->ntop && !st; k++) {
        const jp_column_t *c = top->cols[x->top_idx[k]];
        if (c->type != x->pool->cols[k]->type)
            st = jp_error_set(err, JP_ERR_INTERNAL, "streaming: field '%s' changed type",
                              x->pool->schema.fields[k].name);
        else
            st = jp_column_append(x->pool->cols[k], c, err);
    }
    if (!st) {
        x->pool->nrows += top->nrows;
        x->seen += top->nrows;
        if (x->can_spill && pool_cost(x->pool) > x->run_bytes)
            st = x->too_small
                     ? jp_error_set(err, JP_ERR_LIMIT,
                                    "sort: the rows do not fit the memory budget of %zu MB, "
                                    "which is too small to sort in runs (at least %zu MB: %zu "
                                    "for reading the file in batches, the rest for a run)",
                                    x->budget >> 20, JP_XSORT_MIN_BUDGET >> 20,
                                    JP_XSORT_RESERVE >> 20)
                     : spill(x, err);
    }
    return st;
}

/* A dataset of the consumer's fields over these columns (taking them). */
static jp_dataset_t *out_rows(const jp_dataset_t *proto, jp_column_t **cols, size_t n, size_t rows,
                              jp_error_t *err)
{
    jp_dataset_t *ds = jp_dataset_new();
    if (!ds) {
        for (size_t k = 0; k < n; k++) jp_column_unref(cols[k]);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < n; k++) {
        if (!st)
            st = jp_dataset_add_column(ds, &proto->schema.fields[k], cols[k], err);
        else
            jp_column_unref(cols[k]);
        cols[k] = NULL;
    }
    if (st) {
        jp_dataset_unref(ds);
        return NULL;
    }
    ds->nrows = rows;
    return ds;
}

/* Everything in one pool: sorted in memory, handed on in batches. */
static jp_status_t emit_pool(xsort_t *x, emit_fn emit, void *ectx, jp_error_t *err)
{
    jp_dataset_t *pool = x->pool;
    size_t *order = NULL;
    jp_status_t st = jp_sort_order(pool, x->keys, x->nkeys, &order, err);
    if (st) return st;
    jp_column_t **cols = jp_calloc(x->ntop ? x->ntop : 1, sizeof *cols);
    if (!cols) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t from = 0; !st && (from < pool->nrows || from == 0); from += OUT_ROWS) {
        size_t n = pool->nrows - from < OUT_ROWS ? pool->nrows - from : OUT_ROWS;
        if (jp_plan_gather_cols(pool->cols, cols, x->ntop, order + from, n)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        jp_dataset_t *rows = out_rows(pool, cols, x->ntop, n, err);
        if (!rows) {
            st = err ? err->code : JP_ERR_NOMEM;
            break;
        }
        st = emit(ectx, rows, err);
        jp_dataset_unref(rows);
        if (!pool->nrows) break;
    }
    jp_free(cols);
    jp_free(order);
    return st;
}

static bool heap_less(const run_t *a, const run_t *b)
{
    uint32_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    return c ? c < 0 : a->klen < b->klen;
}

static void sift_down(run_t *runs, size_t *heap, size_t nh, size_t c)
{
    for (;;) {
        size_t l = 2 * c + 1, s = c;
        if (l < nh && heap_less(&runs[heap[l]], &runs[heap[s]])) s = l;
        if (l + 1 < nh && heap_less(&runs[heap[l + 1]], &runs[heap[s]])) s = l + 1;
        if (s == c) return;
        size_t t = heap[c];
        heap[c] = heap[s];
        heap[s] = t;
        c = s;
    }
}

/* The runs merged into the consumer; proto names the fields and types. */
static jp_status_t merge(xsort_t *x, const jp_dataset_t *proto, emit_fn emit, void *ectx,
                         jp_error_t *err)
{
    size_t nr = x->nruns, nh = 0, nf = x->ntop;
    size_t *heap = jp_malloc_array(nr ? nr : 1, sizeof *heap);
    jp_column_t **cols = jp_calloc(nf ? nf : 1, sizeof *cols);
    jp_status_t st = JP_OK;
    if (!heap || !cols) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < nr && !st; r++) {
        run_t *rn = &x->runs[r];
        if (lseek(rn->fd, 0, SEEK_SET) < 0) {
            st = io_error(errno, err);
            break;
        }
        if (!(rn->buf = jp_malloc(IO_BYTES))) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        rn->cap = IO_BYTES;
        if ((st = run_next(rn, err))) break;
        if (rn->key) heap[nh++] = r;
    }
    for (size_t c = nh / 2; !st && c-- > 0;) sift_down(x->runs, heap, nh, c);
    size_t rows = 0;
    bool any = false;
    while (!st && (nh || !any)) {
        if (!cols[0])
            for (size_t f = 0; f < nf && !st; f++)
                if (!(cols[f] = jp_column_new(proto->schema.fields[f].type, OUT_ROWS)))
                    st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        if (st) break;
        if (nh) {
            run_t *top = &x->runs[heap[0]];
            if (cells_push(cols, nf, top->cells)) {
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                break;
            }
            rows++;
            if ((st = run_next(top, err))) break;
            if (!top->key) heap[0] = heap[--nh];
            sift_down(x->runs, heap, nh, 0);
        }
        if (rows == OUT_ROWS || !nh) {
            jp_dataset_t *ds = out_rows(proto, cols, nf, rows, err);
            if (!ds) {
                st = err ? err->code : JP_ERR_NOMEM;
                break;
            }
            st = emit(ectx, ds, err);
            jp_dataset_unref(ds);
            rows = 0;
            any = true;
            if (!st && jp_stop_pending()) st = jp_stop_check(err);
        }
    }
    if (cols)
        for (size_t f = 0; f < nf; f++) jp_column_unref(cols[f]);
    jp_free(cols);
    jp_free(heap);
    return st;
}

/*
 * The whole sort of the chain's top `top` (its fields fields[0..nf), keys
 * kidx/desc) into emit.  *fallback when it cannot run this way.
 */
static jp_status_t xsort_run(jp_dataset_t *top, const long *kidx, const bool *desc, size_t nkeys,
                             size_t memory, emit_fn emit, void *ectx, bool *fallback,
                             jp_error_t *err)
{
    jp_stream_chain_t ch;
    *fallback = false;
    if (!jp_stream_chain_of(top, &ch) || nkeys > JP_STREAM_MAX_CHAIN) {
        *fallback = true;
        return JP_OK;
    }
    size_t budget = jp_xsort_budget(memory);
    size_t nf = top->schema.n_fields;
    xsort_t x;
    memset(&x, 0, sizeof x);
    /* the reader's batches (two of text, one of columns) come first; a
       budget too small for that still sorts in memory what fits half of it */
    x.budget = budget;
    x.too_small = budget < JP_XSORT_MIN_BUDGET;
    x.run_bytes = x.too_small ? budget / 2 : (budget - JP_XSORT_RESERVE) / 3 * 2;
    if (run_bytes_test) x.run_bytes = run_bytes_test, x.too_small = false;
#ifdef JP_TEST_HOOKS
    /* JINPU_TEST_SORT_RUN_BYTES=N: runs of N bytes whatever the budget;
       JINPU_TEST_SORT_PAUSE=1: after the first run is written, wait for a
       stop (a signal), so that a test can stop a sort with runs on disk */
    const char *rb = getenv("JINPU_TEST_SORT_RUN_BYTES");
    if (rb && *rb) x.run_bytes = strtoull(rb, NULL, 10), x.too_small = false;
    const char *pause = getenv("JINPU_TEST_SORT_PAUSE");
    x.pause = pause && *pause == '1';
#endif
    bool *want = jp_malloc_array(nf ? nf : 1, sizeof *want);
    x.top_idx = jp_malloc_array(nf ? nf : 1, sizeof *x.top_idx);
    x.kpos = jp_malloc_array(nkeys ? nkeys : 1, sizeof *x.kpos);
    x.keys = jp_malloc_array(nkeys ? nkeys : 1, sizeof *x.keys);
    jp_status_t st = JP_OK;
    if (!want || !x.top_idx || !x.kpos || !x.keys) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        want[i] = true;
        x.top_idx[i] = i;
    }
    x.ntop = nf;
    for (size_t q = 0; q < nkeys; q++) {
        x.kpos[q] = (size_t)kidx[q];
        x.keys[q].field = top->schema.fields[kidx[q]].name;
        x.keys[q].desc = desc[q];
    }
    x.nkeys = nkeys;
    x.desc = desc;
    jp_stream_consumer_t cb = {x_batch, x_reset, &x, NULL};
    if ((st = jp_stream_chain_pass(&ch, want, &cb, err))) goto done;
    if (!x.pool && !x.nruns) { /* no rows: the loaded way says what that gives */
        *fallback = true;
        goto done;
    }
    if (!x.nruns) {
        st = emit_pool(&x, emit, ectx, err);
        goto done;
    }
    if (x.pool && x.pool->nrows && (st = spill(&x, err))) goto done;
    st = merge(&x, x.proto, emit, ectx, err);
done:
    if (st == JP_ERR_NOMEM && x.too_small) {
        char min[32], advice[96];
        snprintf(advice, sizeof advice, " to %s or more, where a sort spills runs to disk",
                 jp_size_format(JP_XSORT_MIN_BUDGET, min, sizeof min));
        jp_mem_explain(err, "sort", -1, advice,
                       "every row in memory: %zu MB is too small a budget to sort in runs",
                       budget >> 20);
    } else if (st == JP_ERR_NOMEM)
        jp_mem_explain(err, "sort", -1, NULL, "a run of %zu MB and the batches it reads",
                       x.run_bytes >> 20);
    /* the reader's and the chain's errors said under the sort, once */
    if (st && err && st != JP_ERR_NOMEM && st != JP_ERR_TIMEOUT && st != JP_ERR_INTERRUPTED &&
        strncmp(err->msg, "sort: ", 6) != 0)
        jp_error_prefix(err, "sort");
    x_clear(&x);
    jp_free(x.runs);
    jp_buf_free(&x.rec);
    jp_free(want);
    jp_free(x.top_idx);
    jp_free(x.kpos);
    jp_free(x.keys);
    return st;
}

/* ---- consumers ---------------------------------------------------------------------- */

static jp_status_t emit_csv(void *ctx, jp_dataset_t *rows, jp_error_t *err)
{
    return jp_csv_out_rows(ctx, rows, err);
}

jp_status_t jp_xsort_write_csv(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                               bool *fallback, jp_error_t *err)
{
    jp_dataset_t *in;
    const long *kidx;
    const bool *desc;
    size_t nkeys, limit, memory;
    *fallback = true;
    if (!jp_sort_plan_spec(ds, &in, &kidx, &desc, &nkeys, &limit, &memory) || limit ||
        !jp_stream_chain_of(in, &(jp_stream_chain_t){0}))
        return JP_OK;
    jp_csv_out_t *out = NULL;
    jp_status_t st = jp_csv_out_open(path, o, ds, &out, err);
    if (st) {
        *fallback = false;
        return st;
    }
    st = xsort_run(in, kidx, desc, nkeys, memory, emit_csv, out, fallback, err);
    if (st || *fallback) {
        jp_csv_out_abort(out);
        return st;
    }
    return jp_csv_out_close(out, err);
}

typedef struct collect {
    jp_column_t **cols;
    size_t nf, rows;
} collect_t;

static jp_status_t emit_collect(void *ctx, jp_dataset_t *rows, jp_error_t *err)
{
    collect_t *c = ctx;
    for (size_t f = 0; f < c->nf; f++) {
        jp_column_t *src = rows->cols[f];
        if (!c->cols[f]) {
            if (!(c->cols[f] = jp_column_new(src->type, src->len ? src->len : 1)))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        jp_status_t st = jp_column_append(c->cols[f], src, err);
        if (st) return st;
    }
    c->rows += rows->nrows;
    return JP_OK;
}

jp_status_t jp_xsort_collect(jp_dataset_t *ds, jp_dataset_t *in, const long *kidx, const bool *desc,
                             size_t nkeys, size_t memory, bool *fallback, jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    collect_t c = {jp_calloc(nf ? nf : 1, sizeof *c.cols), nf, 0};
    if (!c.cols) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = xsort_run(in, kidx, desc, nkeys, memory, emit_collect, &c, fallback, err);
    for (size_t f = 0; f < nf && !st && !*fallback; f++) {
        jp_field_t *fd = &ds->schema.fields[f];
        const jp_field_t *sf = &in->schema.fields[f];
        if (ds->cols[f]) continue;
        ds->cols[f] = c.cols[f];
        c.cols[f] = NULL;
        fd->type = ds->cols[f]->type;
        if (!fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit)))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (!st && !*fallback) ds->nrows = c.rows;
    for (size_t f = 0; f < nf; f++) jp_column_unref(c.cols[f]);
    jp_free(c.cols);
    return st;
}
