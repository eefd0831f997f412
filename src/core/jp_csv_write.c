/*
 * jp_csv_write.c - datasets out as CSV text: to memory, to a file, or to a
 * gzip member compressed on all cores (jp_gzip.h).
 *
 * The rows are cut into blocks; threads format blocks into their own
 * buffers and the calling thread hands the buffers, in order, to the sink
 * (buffer, FILE or gzip writer), so the bytes do not depend on the thread
 * count.  Files are written through jp_atomic_open/commit: never a half
 * written file.  Never modifies the dataset (a lazy one is loaded first).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_csv_int.h"
#include "jp_file.h"
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_xsort.h"
#include "jp_stream.h"
#include "jp_stream_int.h"

#define BLOCK_ROWS 16384

typedef struct wcol {
    const jp_column_t *c;
    uint8_t *flags; /* per dictionary code: QUOTE | GUARD, or NULL */
} wcol_t;

enum { W_QUOTE = 1, W_GUARD = 2 };

typedef struct wctx {
    const jp_dataset_t *ds;
    wcol_t *cols;
    size_t ncols;
    char delim;
    bool quals, guard;
} wctx_t;

static uint8_t text_flags(const wctx_t *w, const char *s, size_t n)
{
    uint8_t f = 0;
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') f |= W_QUOTE;
    for (size_t i = 0; i < n && !(f & W_QUOTE); i++) {
        char c = s[i];
        if (c == w->delim || c == '"' || c == '\n' || c == '\r') f |= W_QUOTE;
    }
    if (w->guard && n &&
        (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
        f |= W_GUARD;
    return f;
}

/* Numbers, dates, periods, booleans and qualifier symbols are written as
 * they are, unquoted: a delimiter that can occur in them (a digit, a letter,
 * - + . < = > ~ ? or a space), a quote, a line end, another control byte
 * or a byte of a UTF-8 sequence would make the file ambiguous.  A tab or
 * any other ASCII punctuation is safe: text holding it is quoted. */
bool jp_csv_delim_writable(char c)
{
    unsigned char u = (unsigned char)c;
    if (u == '\t') return true;
    if (u <= 0x20 || u >= 0x7F) return false;
    if ((u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z')) return false;
    return strchr("\"'+-.<=>?~", u) == NULL;
}

/* ---- numbers ------------------------------------------------------------------ */

static const double p10[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

static char *put_u64(char *o, uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *o++ = t[--n];
    return o;
}

static char *put_i64(char *o, int64_t v)
{
    if (v < 0) {
        *o++ = '-';
        return put_u64(o, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(o, (uint64_t)v);
}

/* Text of m with k decimals (m >= 0). */
static char *put_fixed(char *o, uint64_t m, int k)
{
    char t[24];
    char *e = put_u64(t, m);
    int len = (int)(e - t);
    if (k == 0) {
        memcpy(o, t, (size_t)len);
        o += len;
        *o++ = '.';
        *o++ = '0';
    } else if (len > k) {
        memcpy(o, t, (size_t)(len - k));
        o += len - k;
        *o++ = '.';
        memcpy(o, t + len - k, (size_t)k);
        o += k;
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int z = 0; z < k - len; z++) *o++ = '0';
        memcpy(o, t, (size_t)len);
        o += len;
    }
    return o;
}

/*
 * Exactly jp_format_double's text, then ".0" when the text is an integer,
 * so a number column reads back as numbers.  jp_format_double looks for the
 * smallest k <= 9 with nearbyint(d * 10^k) / 10^k == d.  For 1e-7 <= |d| <
 * 1e6, d * 10^9 is within 0.5 of m_k * 10^(9-k), so rounding it and
 * stripping trailing zeros finds that same k at once; one division checks
 * it.  Anything else is left to jp_format_double.
 */
static char *put_double(char *o, double d)
{
    double ad = fabs(d);
    if (ad >= 1e-7 && ad < 1e6) {
        /* round to nearest even without a libm call: |x| < 2^52 */
        double x = ad * 1e9;
        double r = (x + 4503599627370496.0) - 4503599627370496.0;
        uint64_t m = (uint64_t)r;
        int k = 9;
        while (k > 0 && m % 10 == 0) {
            m /= 10;
            k--;
        }
        if ((double)m / p10[k] == ad) {
            if (d < 0) *o++ = '-';
            return put_fixed(o, m, k);
        }
    }
    char *start = o;
    int n = jp_format_double(d, o, 40);
    if (n < 0) n = 0;
    o += n;
    bool plain = true;
    for (char *p = start; p < o; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '-')) plain = false;
    if (plain) {
        *o++ = '.';
        *o++ = '0';
    }
    return o;
}

static char *put_date(char *o, int32_t days)
{
    int y, m, d;
    jp_date_to_ymd(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        char buf[16];
        jp_date_format(days, buf);
        size_t n = strlen(buf);
        memcpy(o, buf, n);
        return o + n;
    }
    o[0] = (char)('0' + y / 1000);
    o[1] = (char)('0' + y / 100 % 10);
    o[2] = (char)('0' + y / 10 % 10);
    o[3] = (char)('0' + y % 10);
    o[4] = '-';
    o[5] = (char)('0' + m / 10);
    o[6] = (char)('0' + m % 10);
    o[7] = '-';
    o[8] = (char)('0' + d / 10);
    o[9] = (char)('0' + d % 10);
    return o + 10;
}

/* ---- rows ----------------------------------------------------------------------- */

static jp_status_t put_text(jp_buf_t *b, const char *s, size_t n, uint8_t f)
{
    if (b->len + 2 * n + 5 > b->cap && jp_buf_reserve(b, 2 * n + 4)) return JP_ERR_NOMEM;
    char *o = b->data + b->len;
    if (f & W_QUOTE) *o++ = '"';
    if (f & W_GUARD) *o++ = '\'';
    if (f & W_QUOTE) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"') *o++ = '"';
            *o++ = s[i];
        }
    } else {
        memcpy(o, s, n);
        o += n;
    }
    if (f & W_QUOTE) *o++ = '"';
    b->len = (size_t)(o - b->data);
    return JP_OK;
}

static inline jp_status_t room(jp_buf_t *b, size_t n)
{
    return b->len + n + 1 <= b->cap ? JP_OK : jp_buf_reserve(b, n);
}

static jp_status_t format_rows(const wctx_t *w, size_t from, size_t to, jp_buf_t *b)
{
    for (size_t r = from; r < to; r++) {
        for (size_t k = 0; k < w->ncols; k++) {
            const jp_column_t *c = w->cols[k].c;
            if (room(b, 96)) return JP_ERR_NOMEM;
            char *o = b->data + b->len;
            if (k) *o++ = w->delim;
            b->len = (size_t)(o - b->data);
            if (jp_column_is_null(c, r)) continue;
            if (w->quals && c->quals && c->quals[r]) {
                const char *sym = jp_qual_symbol((jp_qual_t)c->quals[r]);
                size_t sl = strlen(sym);
                memcpy(o, sym, sl);
                o += sl;
            }
            switch (c->type) {
            case JP_TYPE_INT:
                o = put_i64(o, c->v.i[r]);
                break;
            case JP_TYPE_NUMBER:
                o = put_double(o, c->v.d[r]);
                break;
            case JP_TYPE_BOOL:
                if (c->v.b[r]) {
                    memcpy(o, "true", 4);
                    o += 4;
                } else {
                    memcpy(o, "false", 5);
                    o += 5;
                }
                break;
            case JP_TYPE_DATE:
                o = put_date(o, c->v.date[r]);
                break;
            case JP_TYPE_PERIOD: {
                char pb[64];
                jp_period_format(&c->v.p[r], pb, sizeof pb);
                size_t n = strlen(pb);
                memcpy(o, pb, n);
                o += n;
                break;
            }
            case JP_TYPE_STRING: {
                b->len = (size_t)(o - b->data);
                size_t n;
                const char *s = jp_column_str(c, r, &n);
                uint32_t code = c->v.s[r];
                uint8_t f = w->cols[k].flags ? w->cols[k].flags[code] : text_flags(w, s, n);
                if (!f && room(b, n + 1) == JP_OK) {
                    memcpy(b->data + b->len, s, n);
                    b->len += n;
                } else if (put_text(b, s, n, f)) {
                    return JP_ERR_NOMEM;
                }
                continue;
            }
            default:
                break;
            }
            b->len = (size_t)(o - b->data);
        }
        if (room(b, 1)) return JP_ERR_NOMEM;
        b->data[b->len++] = '\n';
    }
    if (b->data) b->data[b->len] = '\0';
    return JP_OK;
}

/* ---- sinks and threads ------------------------------------------------------------ */

typedef struct sink {
    jp_buf_t *mem;
    FILE *fp;
    jp_gzip_writer_t *gz;
    const char *path;
} sink_t;

static jp_status_t sink_put(sink_t *s, const char *p, size_t n, jp_error_t *err)
{
    if (!n) return JP_OK;
    if (s->mem) {
        if (jp_buf_append(s->mem, p, n)) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return JP_OK;
    }
    if (s->gz) return jp_gzip_write(s->gz, p, n, err);
    if (fwrite(p, 1, n, s->fp) != n)
        return jp_error_set(err, JP_ERR_IO, "cannot write %s", s->path);
    return JP_OK;
}

typedef struct job {
    const wctx_t *w;
    size_t from, to;
    jp_buf_t buf;
    jp_status_t st;
    pthread_t th;
    bool started;
} job_t;

static void *job_main(void *arg)
{
    job_t *j = arg;
    j->st = format_rows(j->w, j->from, j->to, &j->buf);
    return NULL;
}

/* The header row: ds's field names. */
static jp_status_t write_head(const wctx_t *w, const jp_dataset_t *ds, sink_t *s, jp_error_t *err)
{
    jp_buf_t head = JP_BUF_INIT;
    for (size_t k = 0; k < w->ncols; k++) {
        const char *name = ds->schema.fields[k].name;
        size_t n = strlen(name);
        if ((k && jp_buf_putc(&head, w->delim)) ||
            put_text(&head, name, n, text_flags(w, name, n) & W_QUOTE)) {
            jp_buf_free(&head);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    }
    jp_status_t st = JP_OK;
    if (jp_buf_putc(&head, '\n')) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) st = sink_put(s, head.data, head.len, err);
    jp_buf_free(&head);
    return st;
}

static jp_status_t write_rows(wctx_t *w, int threads, sink_t *s, jp_error_t *err)
{
    const jp_dataset_t *ds = w->ds;
    jp_status_t st = JP_OK;
    size_t nrows = ds->nrows;
    if (threads <= 0) threads = jp_ncpus();
    if (threads > 32) threads = 32;
    if (nrows < 2 * BLOCK_ROWS) threads = 1;
    job_t *jobs = jp_calloc((size_t)threads, sizeof *jobs);
    if (!jobs) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < nrows && !st && !(st = jp_stop_check(err));) {
        int nj = 0;
        for (; nj < threads && r < nrows; nj++) {
            job_t *j = &jobs[nj];
            j->w = w;
            j->from = r;
            j->to = r + BLOCK_ROWS < nrows ? r + BLOCK_ROWS : nrows;
            j->st = JP_OK;
            jp_buf_reset(&j->buf);
            r = j->to;
            j->started = nj > 0 && jp_thread_create(&j->th, job_main, j) == 0;
        }
        job_main(&jobs[0]);
        for (int i = 1; i < nj; i++) {
            if (jobs[i].started)
                pthread_join(jobs[i].th, NULL);
            else
                job_main(&jobs[i]);
        }
        for (int i = 0; i < nj && !st; i++) {
            if (jobs[i].st)
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            else
                st = sink_put(s, jobs[i].buf.data, jobs[i].buf.len, err);
        }
    }
    for (int i = 0; i < threads; i++) jp_buf_free(&jobs[i].buf);
    jp_free(jobs);
    return st;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The options: delimiter, qualifiers, guard. */
static jp_status_t prepare_opts(const jp_write_opts_t *o, const char *path, wctx_t *w,
                                jp_error_t *err)
{
    memset(w, 0, sizeof *w);
    w->delim = o->delimiter                                                      ? o->delimiter
               : path && (ends_with(path, ".tsv") || ends_with(path, ".tsv.gz")) ? '\t'
                                                                                 : ',';
    if (!jp_csv_delim_writable(w->delim)) {
        char shown[8];
        unsigned char d = (unsigned char)w->delim;
        if (d > 0x20 && d < 0x7F)
            snprintf(shown, sizeof shown, "'%c'", d);
        else
            snprintf(shown, sizeof shown, "0x%02X", d);
        return jp_error_set(err, JP_ERR_ARG,
                            "the delimiter %s would make the file ambiguous (it can occur in "
                            "numbers, dates, qualifiers, quoting or UTF-8): use a tab or a "
                            "punctuation mark such as , ; | :",
                            shown);
    }
    w->quals = o->qualifiers;
    w->guard = o->spreadsheet_safe;
    return JP_OK;
}

static void wctx_free_cols(wctx_t *w)
{
    if (w->cols)
        for (size_t k = 0; k < w->ncols; k++) jp_free(w->cols[k].flags);
    jp_free(w->cols);
    w->cols = NULL;
}

/* The columns of ds (loaded when lazy), with quoting decided per string. */
static jp_status_t prepare_cols(jp_dataset_t *ds, wctx_t *w, jp_error_t *err)
{
    wctx_free_cols(w);
    jp_status_t st = jp_dataset_need_all(ds, err);
    if (st) return st;
    w->ds = ds;
    w->ncols = ds->schema.n_fields;
    w->cols = jp_calloc(w->ncols ? w->ncols : 1, sizeof *w->cols);
    if (!w->cols) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < w->ncols; k++) {
        const jp_column_t *c = ds->cols[k];
        w->cols[k].c = c;
        /* decide quoting once per distinct string, when that is cheaper */
        if (c->type == JP_TYPE_STRING && c->dict->count <= ds->nrows) {
            uint8_t *f = jp_malloc(c->dict->count ? c->dict->count : 1);
            if (!f) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            for (uint32_t i = 0; i < c->dict->count; i++) {
                size_t n;
                const char *s = jp_strdict_get(c->dict, i, &n);
                f[i] = text_flags(w, s, n);
            }
            w->cols[k].flags = f;
        }
    }
    return JP_OK;
}

jp_status_t jp_csv_write_mem(jp_dataset_t *ds, const jp_write_opts_t *o, jp_buf_t *out,
                             jp_error_t *err)
{
    jp_write_opts_t defaults;
    if (!o) {
        jp_write_opts_init(&defaults);
        o = &defaults;
    }
    wctx_t w;
    jp_status_t st = prepare_opts(o, NULL, &w, err);
    if (!st) st = prepare_cols(ds, &w, err);
    sink_t s = {out, NULL, NULL, "(memory)"};
    if (!st) st = write_head(&w, ds, &s, err);
    if (!st) st = write_rows(&w, o->threads, &s, err);
    wctx_free_cols(&w);
    return st;
}

/* ---- a file written in parts (streaming) ------------------------------------------- */

struct jp_csv_out {
    wctx_t w;
    jp_atomic_t af;
    sink_t s;
    bool gz, open;
    int level, threads;
    char *path;
    char *head; /* the header row, to write again after a restart */
    size_t head_len;
};

static bool is_gz_path(const char *path, const jp_write_opts_t *o)
{
    return ends_with(path, ".gz") || (o->format && strcasecmp(o->format, "csv.gz") == 0);
}

void jp_csv_out_abort(jp_csv_out_t *co)
{
    if (!co) return;
    if (co->s.gz) jp_gzip_abort(co->s.gz);
    if (co->open) jp_atomic_abort(&co->af);
    wctx_free_cols(&co->w);
    jp_free(co->path);
    jp_free(co->head);
    jp_free(co);
}

jp_status_t jp_csv_out_open(const char *path, const jp_write_opts_t *o, const jp_dataset_t *ds,
                            jp_csv_out_t **out, jp_error_t *err)
{
    jp_write_opts_t defaults;
    if (!o) {
        jp_write_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    bool gz = is_gz_path(path, o);
    if (gz && (o->level < 0 || o->level > 9))
        return jp_error_set(err, JP_ERR_ARG, "gzip level must be 1..9, not %d", o->level);
    jp_csv_out_t *co = jp_calloc(1, sizeof *co);
    if (!co || !(co->path = jp_strdup(path))) {
        jp_free(co);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    co->gz = gz;
    co->level = o->level;
    co->threads = o->threads;
    jp_status_t st = prepare_opts(o, path, &co->w, err);
    if (!st) {
        /* the header, kept as text */
        jp_buf_t hb = JP_BUF_INIT;
        sink_t hs = {&hb, NULL, NULL, "(memory)"};
        co->w.ncols = ds->schema.n_fields;
        st = write_head(&co->w, ds, &hs, err);
        co->head = jp_buf_detach(&hb, &co->head_len);
        if (!st && !co->head) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (!st && !(st = jp_atomic_open(&co->af, path, err))) {
        co->open = true;
        setvbuf(co->af.fp, NULL, _IOFBF, 1 << 16);
        co->s.fp = co->af.fp;
        co->s.path = co->path;
        if (gz && !(co->s.gz = jp_gzip_open(co->af.fp, co->level, co->threads, err)))
            st = err ? err->code : JP_ERR_NOMEM;
        if (!st) st = sink_put(&co->s, co->head, co->head_len, err);
    }
    if (st) {
        jp_csv_out_abort(co);
        if (err && !err->file[0]) jp_error_at(err, path, 0, 0);
        return st;
    }
    *out = co;
    return JP_OK;
}

jp_status_t jp_csv_out_rows(jp_csv_out_t *co, jp_dataset_t *ds, jp_error_t *err)
{
    if (ds->schema.n_fields != co->w.ncols)
        return jp_error_set(err, JP_ERR_INTERNAL, "%s: rows with other fields", co->path);
    jp_status_t st = prepare_cols(ds, &co->w, err);
    if (!st) st = write_rows(&co->w, co->threads, &co->s, err);
    wctx_free_cols(&co->w);
    co->w.ncols = ds->schema.n_fields;
    if (st && err && !err->file[0]) jp_error_at(err, co->path, 0, 0);
    return st;
}

jp_status_t jp_csv_out_restart(jp_csv_out_t *co, jp_error_t *err)
{
    if (co->s.gz) {
        jp_gzip_abort(co->s.gz);
        co->s.gz = NULL;
    }
    if (fflush(co->af.fp) || ftruncate(fileno(co->af.fp), 0) || fseeko(co->af.fp, 0, SEEK_SET))
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", co->path);
    if (co->gz && !(co->s.gz = jp_gzip_open(co->af.fp, co->level, co->threads, err)))
        return err ? err->code : JP_ERR_NOMEM;
    return sink_put(&co->s, co->head, co->head_len, err);
}

jp_status_t jp_csv_out_close(jp_csv_out_t *co, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    if (co->s.gz) {
        st = jp_gzip_close(co->s.gz, NULL, NULL, err);
        co->s.gz = NULL;
    }
    if (!st) {
        st = jp_atomic_commit(&co->af, err);
        co->open = false; /* committed, or removed by the failed commit */
    }
    if (st && err && !err->file[0]) jp_error_at(err, co->path, 0, 0);
    jp_csv_out_abort(co);
    return st;
}

jp_status_t jp_csv_write(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                         jp_error_t *err)
{
    jp_write_opts_t defaults;
    if (!o) {
        jp_write_opts_init(&defaults);
        o = &defaults;
    }
    if (jp_sort_is_plan(ds)) {
        /* a sort of every row of a lazy file: in runs that fit the budget */
        bool fallback;
        jp_status_t st = jp_xsort_write_csv(ds, path, o, &fallback, err);
        if (!fallback) return st;
    }
    if (jp_stream_possible(ds)) {
        /* a lazy file: its rows in batches, never all of them at once */
        bool fallback;
        jp_status_t st = jp_stream_write_csv(ds, path, o, &fallback, err);
        if (!fallback) return st;
    }
    bool gz = is_gz_path(path, o);
    if (gz && (o->level < 0 || o->level > 9))
        return jp_error_set(err, JP_ERR_ARG, "gzip level must be 1..9, not %d", o->level);
    wctx_t w;
    jp_status_t st = prepare_opts(o, path, &w, err);
    if (!st) st = prepare_cols(ds, &w, err);
    if (st) {
        wctx_free_cols(&w);
        if (err && !err->file[0]) jp_error_at(err, path, 0, 0);
        return st;
    }
    jp_atomic_t af;
    if ((st = jp_atomic_open(&af, path, err))) {
        wctx_free_cols(&w);
        return st;
    }
    setvbuf(af.fp, NULL, _IOFBF, 1 << 16);
    sink_t s = {NULL, af.fp, NULL, path};
    if (gz && !(s.gz = jp_gzip_open(af.fp, o->level, o->threads, err)))
        st = err ? err->code : JP_ERR_NOMEM;
    if (!st) st = write_head(&w, ds, &s, err);
    if (!st) st = write_rows(&w, o->threads, &s, err);
    if (s.gz) {
        if (!st)
            st = jp_gzip_close(s.gz, NULL, NULL, err);
        else
            jp_gzip_abort(s.gz);
    }
    if (!st)
        st = jp_atomic_commit(&af, err);
    else
        jp_atomic_abort(&af);
    wctx_free_cols(&w);
    if (st && err && !err->file[0]) jp_error_at(err, path, 0, 0);
    return st;
}

/* One text column for the qualifiers of c: the qualifier's name, null
 * where the figure is exact. */
static jp_column_t *qual_column(const jp_column_t *c)
{
    jp_column_t *q = jp_column_new(JP_TYPE_STRING, c->len);
    for (size_t k = 0; q && k < c->len; k++) {
        jp_qual_t ql = jp_column_qual(c, k);
        const char *s = ql == JP_Q_EXACT ? NULL : jp_qual_name(ql);
        if (s ? jp_column_push_str(q, s, strlen(s)) : jp_column_push_null(q)) {
            jp_column_unref(q);
            return NULL;
        }
    }
    return q;
}

/* Can a pipeline that streams from a lazy CSV file hold a qualified figure?
 * Only when the file was read with explicit numeric fields (inferred
 * columns never are qualified); their types are known before loading.
 * A concat of such pipelines may when one of its parts may. */
static bool stream_may_qualify(const jp_dataset_t *ds)
{
    while (ds && !jp_csv_is_lazy(ds)) {
        if (jp_join_is_plan(ds)) return true; /* the right dataset may be qualified */
        jp_dataset_t *const *parts;
        size_t n;
        if (jp_stream_concat_parts(ds, &parts, &n)) {
            /* a concat's field is qualified where a part's is */
            for (size_t d = 0; d < n; d++)
                if (stream_may_qualify(parts[d])) return true;
            return false;
        }
        ds = jp_plan_stream_input(ds);
    }
    if (!ds) return true;
    for (size_t i = 0; i < ds->schema.n_fields; i++)
        if (jp_type_is_numeric(ds->schema.fields[i].type)) return true;
    return false;
}

jp_status_t jp_csv_qualifier_columns(jp_dataset_t *ds, jp_dataset_t **out, size_t *n_added,
                                     jp_error_t *err)
{
    *out = NULL;
    if (n_added) *n_added = 0;
    const jp_dataset_t *base = ds; /* a sort of a stream streams its rows too */
    jp_dataset_t *sin;
    const long *kidx;
    const bool *kdesc;
    size_t nk, lim, mem;
    if (jp_sort_plan_spec(ds, &sin, &kidx, &kdesc, &nk, &lim, &mem)) base = sin;
    if (jp_stream_possible(base) && !stream_may_qualify(base)) {
        *out = jp_dataset_ref(ds); /* it streams, one batch at a time */
        return JP_OK;
    }
    jp_status_t st = jp_dataset_need_all(ds, err);
    if (st) return st;
    size_t nf = ds->schema.n_fields;
    bool *which = jp_calloc(nf ? nf : 1, sizeof *which);
    if (!which) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nf; i++) which[i] = jp_column_has_quals(ds->cols[i]);
    st = jp_csv_qualifier_columns_for(ds, which, out, n_added, err);
    jp_free(which);
    return st;
}

jp_status_t jp_csv_qualifier_columns_for(jp_dataset_t *ds, const bool *qualified,
                                         jp_dataset_t **out, size_t *n_added, jp_error_t *err)
{
    *out = NULL;
    if (n_added) *n_added = 0;
    size_t nf = ds->schema.n_fields, nq = 0;
    for (size_t i = 0; i < nf; i++) nq += qualified[i] && jp_type_is_numeric(ds->cols[i]->type);
    if (nq == 0) {
        *out = jp_dataset_ref(ds);
        return JP_OK;
    }
    jp_dataset_t *x = jp_dataset_new();
    if (!x) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = jp_meta_copy(&x->meta, &ds->meta)
                         ? jp_error_set(err, JP_ERR_NOMEM, "out of memory")
                         : JP_OK;
    for (size_t i = 0; i < nf && !st; i++)
        st = jp_dataset_add_column(x, &ds->schema.fields[i], jp_column_ref(ds->cols[i]), err);
    for (size_t i = 0; i < nf && !st; i++) {
        const jp_column_t *c = ds->cols[i];
        if (!qualified[i] || !jp_type_is_numeric(c->type)) continue;
        jp_buf_t nm = JP_BUF_INIT;
        st = jp_buf_printf(&nm, "%s_qualifier", ds->schema.fields[i].name);
        while (!st && jp_dataset_find(x, nm.data) >= 0) st = jp_buf_putc(&nm, '_');
        jp_column_t *q = st ? NULL : qual_column(c);
        if (!st && !q) st = JP_ERR_NOMEM;
        if (st)
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        else
            st = jp_dataset_add(x, nm.data, q, NULL, err); /* takes q */
        jp_buf_free(&nm);
    }
    if (st) {
        jp_dataset_unref(x);
        return st;
    }
    if (n_added) *n_added = nq;
    *out = x;
    return JP_OK;
}
