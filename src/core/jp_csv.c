/*
 * jp_csv.c - the CSV format: options, the header, explicit schemas, the
 * column selection, lazy loading, and the registry entries.  The parsing
 * itself is the pass engine (jp_csv_pass.c, jp_csv_scan.c, jp_csv_store.c,
 * jp_csv_cell.c; see jp_csv_scan.h); writing is jp_csv_write.c.
 *
 * A read builds a "plan" (where the text is, its layout, and for each
 * field of the dataset the file column and how to read it).  Eager reads
 * run the plan at once for every field; lazy reads attach it to the
 * dataset and run it for the columns jp_dataset_need asks for.  The plan
 * owns copies of everything it points to; it never keeps a file open.
 */
#include "jp_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_csv_int.h"
#include "jp_file.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_unit.h"

typedef struct csv_plan {
    jp_lazy_t base;
    csv_src_t src;
    char *path;
    csv_layout_t lay;
    size_t nf;
    csv_colspec_t *cs; /* per dataset field (names and units owned) */
    bool origin_set;
    char *spool; /* the copy of a stream, removed with the plan */
} csv_plan_t;

static void plan_free(csv_plan_t *p)
{
    if (!p) return;
    if (p->spool) {
        unlink(p->spool);
        jp_tmp_untrack(p->spool);
        jp_free(p->spool);
    }
    jp_free(p->path);
    for (size_t i = 0; i < p->lay.nnulls; i++) jp_free(p->lay.nulls[i]);
    jp_free(p->lay.nulls);
    jp_free(p->lay.null_lens);
    if (p->cs)
        for (size_t i = 0; i < p->nf; i++) {
            jp_free((char *)p->cs[i].name);
            jp_free((char *)p->cs[i].unit);
        }
    jp_free(p->cs);
    jp_free(p);
}

static void lazy_free(jp_lazy_t *lz)
{
    plan_free((csv_plan_t *)lz);
}

/* Load fields idx[0..n) (those still missing) of ds from the plan; with
 * cells listed, every field of idx is read (those already there are read
 * again, and dropped) so that the list is the one a whole read gives. */
static jp_status_t plan_load(csv_plan_t *p, jp_dataset_t *ds, const size_t *idx, size_t n,
                             jp_dataset_t **rejects, jp_cell_errors_t *cells, jp_error_t *err)
{
    csv_colspec_t *cs = jp_malloc_array(n ? n : 1, sizeof *cs);
    size_t *which = jp_malloc_array(n ? n : 1, sizeof *which);
    unsigned char *asked = jp_calloc(p->nf ? p->nf : 1, 1); /* wide files: no n^2 */
    if (!cs || !which || !asked) {
        jp_free(cs);
        jp_free(which);
        jp_free(asked);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        size_t f = idx[k];
        if (f >= p->nf || (ds->cols[f] && !cells) || asked[f]) continue;
        asked[f] = 1;
        cs[m] = p->cs[f];
        which[m++] = f;
    }
    jp_free(asked);
    csv_result_t res;
    csv_how_t how = {.cell_errors = cells};
    jp_status_t st = jp_csv_pass(&p->src, &p->lay, cs, m, cells ? &how : NULL, &res, err);
    if (!st && ds->lazy && ds->lazy->rows_known && res.nrows != ds->nrows) {
        st = jp_error_set(err, JP_ERR_IO, "%s changed since it was opened; read it again", p->path);
    }
    if (!st) {
        for (size_t j = 0; j < m; j++) {
            if (ds->cols[which[j]]) continue; /* read again for its cells */
            ds->cols[which[j]] = res.cols[j];
            ds->schema.fields[which[j]].type = res.cols[j]->type;
            res.cols[j] = NULL;
        }
        ds->nrows = res.nrows;
        p->lay.rows_hint = res.nrows; /* later passes size their columns exactly */
        if (!p->origin_set) {
            jp_dataset_set_origin(ds, p->path, res.lines);
            res.lines = NULL;
            ds->first_line = ds->lines ? 0 : p->lay.data_line;
            p->origin_set = true;
        }
        if (rejects) {
            *rejects = res.rejects;
            res.rejects = NULL;
        }
    }
    jp_csv_result_free(&res, m);
    jp_free(cs);
    jp_free(which);
    return st;
}

static jp_status_t lazy_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    return plan_load((csv_plan_t *)ds->lazy, ds, idx, n, NULL, NULL, err);
}

/* Fields idx[0..n) of rows[0..m) only: one pass that reads every cell (so
 * types are those of the whole column) and keeps just those rows. */
static jp_status_t lazy_take(jp_dataset_t *ds, const size_t *idx, size_t n, const size_t *rows,
                             size_t m, jp_column_t **out, jp_error_t *err)
{
    csv_plan_t *p = (csv_plan_t *)ds->lazy;
    csv_colspec_t *cs = jp_malloc_array(n ? n : 1, sizeof *cs);
    size_t *which = jp_malloc_array(n ? n : 1, sizeof *which);
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < n; k++) out[k] = NULL;
    if (!cs || !which) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t nm = 0;
    for (size_t k = 0; k < n && !st; k++) {
        size_t f = idx[k];
        if (f >= p->nf) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "take: no field %zu", f);
        } else if (ds->cols[f]) { /* loaded already: its rows */
            if (!(out[k] = jp_column_gather(ds->cols[f], rows, m)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else {
            cs[nm] = p->cs[f];
            which[nm++] = k;
        }
    }
    if (st || !nm) goto done;
    csv_result_t res;
    csv_how_t how = {.sel = rows, .nsel = m};
    st = jp_csv_pass(&p->src, &p->lay, cs, nm, &how, &res, err);
    if (!st && res.nrows != m)
        st = jp_error_set(err, JP_ERR_IO, "%s changed since it was opened; read it again", p->path);
    if (!st)
        for (size_t j = 0; j < nm; j++) {
            out[which[j]] = res.cols[j];
            ds->schema.fields[idx[which[j]]].type = res.cols[j]->type;
            res.cols[j] = NULL;
        }
    jp_csv_result_free(&res, nm);
done:
    if (st)
        for (size_t k = 0; k < n; k++) {
            jp_column_unref(out[k]);
            out[k] = NULL;
        }
    jp_free(cs);
    jp_free(which);
    return st;
}

static jp_status_t lazy_stream(jp_dataset_t *ds, bool *quals, jp_lazy_batch_fn fn, void *ctx,
                               jp_error_t *err);

static const jp_lazy_ops_t csv_lazy_ops = {"csv",     lazy_need, NULL,
                                           lazy_free, lazy_take, lazy_stream};

/* ---- the header ---------------------------------------------------------------- */

typedef struct names {
    char **v;
    size_t n, cap;
    jp_strdict_t *index; /* name -> column, made by the first lookup */
} names_t;

static void names_free(names_t *nm)
{
    for (size_t i = 0; i < nm->n; i++) jp_free(nm->v[i]);
    jp_free(nm->v);
    jp_strdict_unref(nm->index);
    memset(nm, 0, sizeof *nm);
}

static bool names_add(names_t *nm, const char *s, size_t n)
{
    if (nm->n == nm->cap) {
        size_t cap = nm->cap ? nm->cap * 2 : 16;
        char **v = jp_realloc_array(nm->v, cap, sizeof *v);
        if (!v) return false;
        nm->v = v;
        nm->cap = cap;
    }
    char *c = jp_strndup(s, n);
    if (!c) return false;
    nm->v[nm->n++] = c;
    return true;
}

/* Error at byte `pos` of the text b (whose first byte is on line 1). */
static jp_status_t text_error(jp_error_t *err, const char *path, const char *b, size_t pos,
                              jp_status_t code, const char *msg)
{
    long line = 1;
    const char *l0 = b;
    for (size_t i = 0; i < pos; i++)
        if (b[i] == '\n') {
            line++;
            l0 = b + i + 1;
        }
    jp_error_set(err, code, "%s", msg);
    jp_error_at(err, path, line, jp_csv_char_col(l0, b + pos));
    return code;
}

/*
 * The first record of b[from..n): 1 done (*end after its line end), 0 more
 * text needed, -1 error.  Cells go to nm.
 */
static int first_record(const char *path, const char *b, size_t from, size_t n, bool eof,
                        char delim, names_t *nm, size_t *end, jp_error_t *err)
{
    jp_buf_t cell = JP_BUF_INIT;
    size_t i = from;
    int rc = -1;
    for (;;) {
        jp_buf_reset(&cell);
        bool quoted = false;
        if (i < n && b[i] == '"') {
            quoted = true;
            size_t q0 = i++;
            for (;;) {
                if (i >= n) {
                    if (!eof) {
                        rc = 0;
                        goto out;
                    }
                    text_error(err, path, b, q0, JP_ERR_PARSE, "unterminated quoted field");
                    goto out;
                }
                char c = b[i];
                if (c == '"') {
                    if (i + 1 >= n && !eof) {
                        rc = 0;
                        goto out;
                    }
                    if (i + 1 < n && b[i + 1] == '"') {
                        if (jp_buf_putc(&cell, '"')) goto nomem;
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (c == '\0') {
                    text_error(err, path, b, i, JP_ERR_PARSE,
                               "NUL byte (is the file UTF-16 or binary?)");
                    goto out;
                }
                if (jp_buf_putc(&cell, c)) goto nomem;
                i++;
            }
        }
        size_t s0 = i;
        while (i < n && b[i] != delim && b[i] != '\n') {
            if (b[i] == '"') {
                text_error(err, path, b, i, JP_ERR_PARSE,
                           quoted ? "unexpected text after a closing quote"
                                  : "quote inside an unquoted field");
                goto out;
            }
            if (b[i] == '\0') {
                text_error(err, path, b, i, JP_ERR_PARSE,
                           "NUL byte (is the file UTF-16 or binary?)");
                goto out;
            }
            i++;
        }
        if (i >= n && !eof) {
            rc = 0;
            goto out;
        }
        size_t e = i;
        bool eol = i >= n || b[i] == '\n';
        if (eol && e > s0 && b[e - 1] == '\r') e--;
        if (quoted && e > s0) {
            text_error(err, path, b, s0, JP_ERR_PARSE, "unexpected text after a closing quote");
            goto out;
        }
        if (!quoted && jp_buf_append(&cell, b + s0, e - s0)) goto nomem;
        if (!names_add(nm, cell.data ? cell.data : "", cell.len)) goto nomem;
        if (eol) {
            *end = i < n ? i + 1 : n;
            rc = 1;
            goto out;
        }
        i++; /* the delimiter */
    }
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
out:
    jp_buf_free(&cell);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* What the format options and the path say about the text. */
static char pick_delim(const jp_read_opts_t *o, const char *path, const char *b, size_t n)
{
    if (o->delimiter) return o->delimiter;
    if (ends_with(path, ".tsv") || ends_with(path, ".tsv.gz")) return '\t';
    const char *nl = memchr(b, '\n', n);
    size_t m = nl ? (size_t)(nl - b) : n;
    bool comma = memchr(b, ',', m) != NULL;
    if (!comma) {
        if (memchr(b, ';', m)) return ';';
        if (memchr(b, '\t', m)) return '\t';
    }
    return ',';
}

typedef struct head {
    names_t names;
    char delim;
    uint64_t data_off;
    long data_line;
} head_t;

/* Read the header (or the first record, to count the columns). */
static jp_status_t read_head(const csv_src_t *src, const jp_read_opts_t *o, head_t *h,
                             jp_error_t *err)
{
    csv_reader_t *r;
    jp_status_t st = jp_csv_reader_open(src, NULL, &r, err);
    if (st) return st;
    jp_buf_t b = JP_BUF_INIT;
    size_t want = 65536;
    bool eof = false;
    for (;;) {
        if (jp_buf_reserve(&b, want)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        size_t got;
        if ((st = jp_csv_reader_read(r, b.data + b.len, want, &got, err))) break;
        b.len += got;
        eof = got < want;
        size_t bom = b.len >= 3 && memcmp(b.data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        if (eof && b.len == bom) {
            st = jp_error_set(err, JP_ERR_PARSE, "%s is empty (no header row)", src->path);
            jp_error_at(err, src->path, 1, 1);
            break;
        }
        h->delim = pick_delim(o, src->path, b.data + bom, b.len - bom);
        size_t end = 0;
        names_free(&h->names);
        int rc = first_record(src->path, b.data, bom, b.len, eof, h->delim, &h->names, &end, err);
        if (rc < 0) {
            st = err ? err->code : JP_ERR_PARSE;
            break;
        }
        if (rc == 1) {
            long lines = 0;
            for (size_t i = bom; i < end; i++) lines += b.data[i] == '\n';
            if (o->header) {
                h->data_off = end;
                h->data_line = 1 + lines;
            } else {
                h->data_off = bom;
                h->data_line = 1;
            }
            break;
        }
        if (b.len > JP_CSV_MAX_RECORD) {
            st = jp_error_set(err, JP_ERR_LIMIT, "the first record is longer than %zu bytes",
                              (size_t)JP_CSV_MAX_RECORD);
            jp_error_at(err, src->path, 1, 1);
            break;
        }
        want *= 2;
    }
    jp_buf_free(&b);
    jp_csv_reader_close(r);
    if (st) names_free(&h->names);
    return st;
}

/* "a, b, c" for messages (truncated). */
static void list_names(char *const *v, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k + 40 < size; i++) {
        int w = snprintf(buf + k, size - k, "%s%s", i ? ", " : "", v[i]);
        if (w > 0) k += (size_t)w;
    }
    if (k + 40 >= size && k < size) snprintf(buf + k, size - k, ", ...");
}

/* The column named s, or -1 (or -2 when out of memory).  The names are
 * known to be distinct (field_names), so their codes are their columns. */
static long find_name(names_t *nm, const char *s)
{
    if (!nm->index) {
        nm->index = jp_strdict_new(nm->n);
        for (size_t i = 0; nm->index && i < nm->n; i++) {
            uint32_t code;
            if (jp_strdict_intern(nm->index, nm->v[i], strlen(nm->v[i]), &code) || code != i) {
                jp_strdict_unref(nm->index);
                nm->index = NULL;
            }
        }
        if (!nm->index) return -2;
    }
    uint32_t code;
    return jp_strdict_find(nm->index, s, strlen(s), &code) ? (long)code : -1;
}

static int mode_for(jp_type_t t, const char *unit)
{
    switch (t) {
    case JP_TYPE_INT:
        return CM_INT;
    case JP_TYPE_NUMBER:
        return CM_NUMBER;
    case JP_TYPE_STRING:
        return CM_STRING;
    case JP_TYPE_BOOL:
        return CM_BOOL;
    case JP_TYPE_DATE:
        return CM_DATE;
    case JP_TYPE_PERIOD:
        return CM_PERIOD;
    default:
        return unit ? CM_NUMBER : CM_INFER;
    }
}

/* ---- reading ------------------------------------------------------------------- */

static jp_status_t nomem(jp_error_t *err)
{
    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
}

static jp_status_t check_read_opts(const char *path, const jp_read_opts_t *o, jp_error_t *err)
{
    if (o->delimiter == '"' || o->delimiter == '\n' || o->delimiter == '\r')
        return jp_error_set(err, JP_ERR_ARG, "%s: the delimiter cannot be a quote or a line end",
                            path);
    if (o->format && strcasecmp(o->format, "csv") != 0 && strcasecmp(o->format, "csv.gz") != 0 &&
        strcasecmp(o->format, "tsv") != 0)
        return jp_error_set(err, JP_ERR_FORMAT, "%s: the CSV reader cannot read format '%s'", path,
                            o->format);
    return JP_OK;
}

/* Wait until fd can be read without blocking (data, or its end), checking
 * the stop flag: a FIFO nobody writes to waits for a writer as `cat` would,
 * but Ctrl-C and the time limit still end the wait. */
static jp_status_t wait_readable(int fd, jp_error_t *err)
{
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        int rc = poll(&pf, 1, 200);
        if (rc > 0) return JP_OK;
        if (rc < 0 && errno != EINTR) return JP_OK; /* let read() say what is wrong */
        jp_status_t st = jp_stop_check(err);
        if (st) return st;
    }
}

/*
 * A stream (a pipe, a FIFO, a terminal, "-" for standard input) can be read
 * only once, but a read looks at the text more than once (the header, the
 * passes).  Copy it, 1 MB at a time, to a temporary file in $TMPDIR (or
 * /tmp) that lives as long as the plan and is removed on every way out.
 */
static jp_status_t spool_stream(csv_plan_t *p, const char *path, int fd, jp_error_t *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    size_t dl = strlen(dir);
    p->spool = jp_malloc(dl + 32);
    if (!p->spool) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    snprintf(p->spool, dl + 32, "%s/jinpu-stream-XXXXXX", dir);
    int out = mkstemp(p->spool);
    if (out < 0) {
        int e = errno;
        jp_free(p->spool);
        p->spool = NULL;
        return jp_error_errno(err, JP_ERR_IO, e, "cannot copy %s: no temporary file in %s", path,
                              dir);
    }
    jp_tmp_track(p->spool);
    const size_t bs = (size_t)1 << 20;
    char *buf = jp_malloc(bs);
    jp_status_t st = buf ? JP_OK : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    while (!st) {
        if ((st = wait_readable(fd, err))) break;
        ssize_t k = read(fd, buf, bs);
        if (k == 0) break;
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            st = jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", path);
            break;
        }
        for (ssize_t w = 0; w < k && !st;) {
            ssize_t d = write(out, buf + w, (size_t)(k - w));
            if (d < 0 && errno == EINTR) continue;
            if (d <= 0)
                st = jp_error_errno(err, JP_ERR_IO, d < 0 ? errno : ENOSPC,
                                    "cannot copy %s to a temporary file in %s", path, dir);
            else
                w += d;
        }
    }
    jp_free(buf);
    if (close(out) != 0 && !st)
        st = jp_error_errno(err, JP_ERR_IO, errno, "cannot copy %s to a temporary file in %s", path,
                            dir);
    return st; /* on failure plan_free removes the copy */
}

/* Where the plan's text comes from: memory (gzip data is inflated as it is
 * read, like a file's), or the file, whose identity is noted so that a later
 * pass notices a change, or a stream copied to a file.  *disk_size is the
 * file's size (0 for memory). */
static jp_status_t open_source(csv_plan_t *p, const char *path, const char *mem, size_t mem_len,
                               uint64_t *disk_size, jp_error_t *err)
{
    *disk_size = 0;
    if (mem) {
        p->src.gz = mem_len >= 2 && (unsigned char)mem[0] == 0x1f && (unsigned char)mem[1] == 0x8b;
        p->src.mem = mem;
        p->src.mem_len = mem_len;
        return JP_OK;
    }
    struct stat sb;
    bool is_stdin = strcmp(path, "-") == 0; /* named "stdin" in messages */
    if (is_stdin ? fstat(0, &sb) != 0 : stat(path, &sb) != 0) {
        int e = errno;
        return jp_error_errno(err, e == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, e, "cannot open %s",
                              p->src.path);
    }
    if (S_ISDIR(sb.st_mode)) return jp_error_set(err, JP_ERR_IO, "%s is a directory", path);
    if (is_stdin || !S_ISREG(sb.st_mode)) {
        /* O_NONBLOCK: opening a FIFO waits for a writer, uninterruptibly */
        int fd = is_stdin ? dup(0) : open(path, O_RDONLY | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            return jp_error_errno(err, JP_ERR_IO, e, "cannot open %s", p->src.path);
        }
        jp_status_t st = spool_stream(p, p->src.path, fd, err);
        close(fd);
        if (st) return st;
        p->src.file = p->spool;
        path = p->spool;
        if (stat(path, &sb) != 0)
            return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", p->src.path);
    }
    /* gzip by its magic bytes, whatever the name says */
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return jp_error_errno(err, JP_ERR_IO, e, "cannot open %s", path);
    }
    unsigned char mg[2] = {0, 0};
    size_t k = fread(mg, 1, 2, f);
    fclose(f);
    p->src.gz = k == 2 && mg[0] == 0x1f && mg[1] == 0x8b;
    p->lay.have_id = true;
    p->lay.dev = (uint64_t)sb.st_dev;
    p->lay.ino = (uint64_t)sb.st_ino;
    p->lay.size = (uint64_t)sb.st_size;
    p->lay.mtime_s = (int64_t)sb.st_mtim.tv_sec;
    p->lay.mtime_ns = (int64_t)sb.st_mtim.tv_nsec;
    *disk_size = (uint64_t)sb.st_size;
    return JP_OK;
}

/* The field names: column1, column2, ... without a header; otherwise the
 * header's, each non-empty, valid UTF-8 and used once. */
static jp_status_t field_names(const char *path, const jp_read_opts_t *o, names_t *nm,
                               jp_error_t *err)
{
    if (!o->header) {
        size_t nc = nm->n;
        names_free(nm);
        for (size_t i = 0; i < nc; i++) {
            char nb[32];
            int w = snprintf(nb, sizeof nb, "column%zu", i + 1);
            if (!names_add(nm, nb, (size_t)w)) return nomem(err);
        }
        return JP_OK;
    }
    /* duplicate names through a dictionary: a header may be wide */
    jp_strdict_t *seen = jp_strdict_new(nm->n);
    if (!seen) return nomem(err);
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < nm->n && !st; i++) {
        size_t bad;
        uint32_t first;
        if (!nm->v[i][0]) {
            st = jp_error_set(err, JP_ERR_PARSE, "header: column %zu has an empty name", i + 1);
            jp_error_at(err, path, 1, 0);
        } else if (!jp_csv_utf8_ok(nm->v[i], strlen(nm->v[i]), &bad)) {
            st = jp_error_set(err, JP_ERR_PARSE, "header: column %zu: invalid UTF-8", i + 1);
            jp_error_at(err, path, 1, 0);
        } else if (jp_strdict_intern(seen, nm->v[i], strlen(nm->v[i]), &first)) {
            st = nomem(err);
        } else if (seen->count != i + 1) {
            /* names are interned in column order, so a repeat's code is
               the column where it first appeared */
            st = jp_error_set(err, JP_ERR_PARSE, "header: column %zu is named '%s' like column %u",
                              i + 1, nm->v[i], (unsigned)first + 1);
            jp_error_at(err, path, 1, 0);
            jp_error_field(err, nm->v[i]);
        }
    }
    jp_strdict_unref(seen);
    return st;
}

/* The layout every pass shares: what the header said and the options. */
static jp_status_t set_layout(csv_plan_t *p, const head_t *h, const jp_read_opts_t *o,
                              jp_error_t *err)
{
    p->lay.delim = h->delim;
    p->lay.ncols = h->names.n;
    p->lay.data_off = h->data_off;
    p->lay.data_line = h->data_line;
    /* the null option replaces the default markers; "" is null anyway */
    p->lay.markers = !o->null_text && !o->null_list;
    size_t most = 1 + o->n_null_list;
    p->lay.nulls = jp_calloc(most, sizeof *p->lay.nulls);
    p->lay.null_lens = jp_calloc(most, sizeof *p->lay.null_lens);
    if (!p->lay.nulls || !p->lay.null_lens) return nomem(err);
    for (size_t i = 0; i < most; i++) {
        const char *t = i ? o->null_list[i - 1] : o->null_text;
        if (!t || !t[0]) continue;
        if (!(p->lay.nulls[p->lay.nnulls] = jp_strdup(t))) return nomem(err);
        p->lay.null_lens[p->lay.nnulls++] = strlen(t);
    }
    p->lay.keep_rejects = o->keep_rejects;
    p->lay.threads = o->threads;
    return JP_OK;
}

/* What the read makes of the file's columns: for each file column, the
 * schema field that types it (or -1); for each dataset field, its file
 * column.  Both arrays are the caller's to free, also on failure. */
typedef struct selection {
    long *explicit_of; /* per file column */
    size_t *fcol;      /* per dataset field */
    size_t nf;
} selection_t;

static void selection_free(selection_t *sel)
{
    jp_free(sel->explicit_of);
    jp_free(sel->fcol);
    memset(sel, 0, sizeof *sel);
}

/* Every field an explicit schema names must be in the file, with a known unit
 * (with `subset`, an optional field the file lacks is left out). */
static jp_status_t match_schema(const char *path, const jp_schema_t *sc, bool subset, names_t *nm,
                                const char *list, selection_t *sel, jp_error_t *err)
{
    sel->explicit_of = jp_malloc_array(nm->n ? nm->n : 1, sizeof *sel->explicit_of);
    if (!sel->explicit_of) return nomem(err);
    for (size_t i = 0; i < nm->n; i++) sel->explicit_of[i] = -1;
    for (size_t i = 0; sc && i < sc->n_fields; i++) {
        const jp_field_t *f = &sc->fields[i];
        long c = find_name(nm, f->name);
        if (c == -2) return nomem(err);
        if (c < 0 && subset && !f->constraints.required) continue;
        if (c < 0) {
            jp_error_set(err, JP_ERR_ARG,
                         "schema names field '%s', which %s does not have (fields: %s)", f->name,
                         path, list);
            jp_error_field(err, f->name);
            return JP_ERR_ARG;
        }
        jp_unit_info_t ui;
        if (f->unit && !jp_unit_resolve(f->unit, &ui)) {
            char hint[96];
            jp_error_set(err, JP_ERR_UNIT, "schema: field '%s' has an unknown unit '%s'%s", f->name,
                         f->unit, jp_unit_hint(f->unit, hint, sizeof hint));
            jp_error_field(err, f->name);
            return JP_ERR_UNIT;
        }
        sel->explicit_of[c] = (long)i;
    }
    return JP_OK;
}

/* The fields of the dataset: the columns asked for, in the order asked,
 * or all of them. */
static jp_status_t select_columns(const char *path, const jp_read_opts_t *o, names_t *nm,
                                  const char *list, selection_t *sel, jp_error_t *err)
{
    sel->nf = o->columns ? o->n_columns : nm->n;
    sel->fcol = jp_malloc_array(sel->nf ? sel->nf : 1, sizeof *sel->fcol);
    if (!sel->fcol) return nomem(err);
    if (!o->columns) {
        for (size_t k = 0; k < sel->nf; k++) sel->fcol[k] = k;
        return JP_OK;
    }
    unsigned char *taken = jp_calloc(nm->n ? nm->n : 1, 1);
    if (!taken) return nomem(err);
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < sel->nf && !st; k++) {
        const char *want = o->columns[k];
        long c = want ? find_name(nm, want) : -1;
        if (c == -2) {
            st = nomem(err);
        } else if (c < 0) {
            st = jp_error_set(err, JP_ERR_ARG, "columns: no field '%s' in %s (fields: %s)",
                              want ? want : "(null)", path, list);
            jp_error_field(err, want);
        } else if (taken[c]) {
            st = jp_error_set(err, JP_ERR_ARG, "columns: field '%s' is named twice", want);
            jp_error_field(err, want);
        } else {
            taken[c] = 1;
            sel->fcol[k] = (size_t)c;
        }
    }
    jp_free(taken);
    return st;
}

/* Dataset field k from file column c: the schema's field when one types
 * it (with its unit in canonical form), else an inferred one; and the
 * plan's instructions for reading it. */
static jp_status_t add_field(csv_plan_t *p, jp_dataset_t *ds, size_t k, size_t c, const char *name,
                             const jp_field_t *ef, jp_error_t *err)
{
    jp_field_t f;
    char canon[64];
    const char *unit = ef && ef->unit ? jp_unit_canonical(ef->unit, canon, sizeof canon) : NULL;
    if (ef) {
        if (jp_field_copy(&f, ef)) return nomem(err);
    } else {
        jp_field_init(&f);
        if (!(f.name = jp_strdup(name))) return nomem(err);
    }
    if (unit && (!f.unit || strcmp(f.unit, unit) != 0)) {
        jp_free(f.unit);
        if (!(f.unit = jp_strdup(unit))) {
            jp_field_free(&f);
            return nomem(err);
        }
    }
    int mode = mode_for(ef ? ef->type : JP_TYPE_NONE, unit);
    f.type = mode == CM_INFER ? JP_TYPE_NONE : ef && ef->type ? ef->type : JP_TYPE_NUMBER;
    jp_status_t st = jp_schema_add(&ds->schema, &f, err);
    jp_field_free(&f);
    if (st) return st;
    p->cs[k].fcol = c;
    p->cs[k].mode = mode;
    if (!(p->cs[k].name = jp_strdup(name))) return nomem(err);
    if ((mode == CM_INT || mode == CM_NUMBER) && unit && !(p->cs[k].unit = jp_strdup(unit)))
        return nomem(err);
    return JP_OK;
}

/* The dataset, with its fields and no columns yet, and the plan's column list. */
static jp_status_t build_dataset(csv_plan_t *p, const char *path, const jp_read_opts_t *o,
                                 const names_t *nm, const selection_t *sel, jp_dataset_t **out,
                                 jp_error_t *err)
{
    size_t nf = sel->nf;
    jp_dataset_t *ds = jp_dataset_new();
    *out = ds;
    p->cs = jp_calloc(nf ? nf : 1, sizeof *p->cs);
    if (!ds || !p->cs) return nomem(err);
    p->nf = nf;
    ds->cols = jp_calloc(nf ? nf : 1, sizeof *ds->cols);
    ds->cols_cap = nf;
    char stem[256];
    if (!ds->cols ||
        jp_meta_set(&ds->meta.name, o->name ? o->name : jp_path_stem(path, stem, sizeof stem)))
        return nomem(err);
    for (size_t k = 0; k < nf; k++) {
        size_t c = sel->fcol[k];
        long e = sel->explicit_of[c];
        jp_status_t st =
            add_field(p, ds, k, c, nm->v[c], e >= 0 ? &o->schema->fields[e] : NULL, err);
        if (st) return st;
    }
    return JP_OK;
}

/* Read every column of ds now (the set-aside records to *rejects). */
static jp_status_t load_all(csv_plan_t *p, jp_dataset_t *ds, const jp_read_opts_t *o,
                            jp_error_t *err)
{
    size_t nf = p->nf;
    size_t *all = jp_malloc_array(nf ? nf : 1, sizeof *all);
    if (!all) return nomem(err);
    for (size_t k = 0; k < nf; k++) all[k] = k;
    jp_dataset_t *rej = NULL;
    jp_status_t st = plan_load(p, ds, all, nf, &rej, o->cell_errors, err);
    jp_free(all);
    if (st) return st;
    if (o->rejects)
        *o->rejects = rej;
    else
        jp_dataset_unref(rej);
    return JP_OK;
}

/* A file opened as far as its header and the options: what every read
 * and a profile start from. */
typedef struct opened {
    csv_plan_t *p;
    head_t h;
    selection_t sel;
    uint64_t disk_size;
} opened_t;

static void opened_free(opened_t *op)
{
    selection_free(&op->sel);
    names_free(&op->h.names);
    plan_free(op->p);
    op->p = NULL;
}

static jp_status_t open_head(const char *path, const char *mem, size_t mem_len,
                             const jp_read_opts_t *o, opened_t *op, jp_error_t *err)
{
    memset(op, 0, sizeof *op);
    jp_status_t st = check_read_opts(path, o, err);
    if (st) return st;
    csv_plan_t *p = op->p = jp_calloc(1, sizeof *p);
    bool is_stdin = !mem && strcmp(path, "-") == 0;
    if (!p || !(p->path = jp_strdup(is_stdin ? "stdin" : path))) return nomem(err);
    p->src.path = p->path;
    if ((st = open_source(p, path, mem, mem_len, &op->disk_size, err))) return st;
    path = p->path;
    if ((st = read_head(&p->src, o, &op->h, err)) ||
        (st = field_names(path, o, &op->h.names, err)) || (st = set_layout(p, &op->h, o, err)))
        return st;
    char list[600];
    list_names(op->h.names.v, op->h.names.n, list, sizeof list);
    if ((st = match_schema(path, o->schema, o->schema_subset, &op->h.names, list, &op->sel, err)) ||
        (st = select_columns(path, o, &op->h.names, list, &op->sel, err)))
        return st;
    return JP_OK;
}

static jp_status_t csv_open(const char *path, const char *mem, size_t mem_len,
                            const jp_read_opts_t *o, jp_dataset_t **out, jp_error_t *err)
{
    jp_read_opts_t defaults;
    if (!o) {
        jp_read_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    if (o->rejects) *o->rejects = NULL;
    csv_tuning_t tune;
    jp_csv_tuning_get(&tune);
    jp_dataset_t *ds = NULL;
    opened_t op;
    jp_status_t st = open_head(path, mem, mem_len, o, &op, err);
    if (op.p && op.p->path) path = op.p->path; /* "-" is "stdin" */
    if (st || (st = build_dataset(op.p, path, o, &op.h.names, &op.sel, &ds, err))) goto fail;
    csv_plan_t *p = op.p;
    p->base.ops = &csv_lazy_ops;
    if (o->lazy && !mem && !o->keep_rejects && (!o->cell_errors || o->defer_cells) &&
        op.disk_size >= tune.lazy_bytes) {
        p->lay.cells_null = o->cell_errors != NULL;
        op.p = NULL; /* the dataset's now */
        opened_free(&op);
        ds->lazy = &p->base;
        jp_dataset_set_origin(ds, path, NULL);
        ds->first_line = p->lay.data_line;
        *out = ds;
        return JP_OK;
    }
    if ((st = load_all(p, ds, o, err))) goto fail;
    opened_free(&op);
    *out = ds;
    return JP_OK;
fail:
    if (err && !err->file[0]) jp_error_at(err, path, 0, 0);
    opened_free(&op); /* path may be the plan's */
    jp_dataset_unref(ds);
    return st;
}

/* ---- a profile ---------------------------------------------------------------------- */

static int mode_of_type(jp_type_t t)
{
    return t == JP_TYPE_STRING || t == JP_TYPE_NONE ? CM_STRING : mode_for(t, NULL);
}

bool jp_csv_is_lazy(const jp_dataset_t *ds)
{
    return ds->lazy && ds->lazy->ops == &csv_lazy_ops;
}

bool jp_csv_cells_deferred(const jp_dataset_t *ds)
{
    return jp_csv_is_lazy(ds) && ((const csv_plan_t *)ds->lazy)->lay.cells_null;
}

jp_status_t jp_csv_cell_errors(jp_dataset_t *ds, jp_cell_errors_t *cells, jp_error_t *err)
{
    if (!jp_csv_cells_deferred(ds))
        return jp_error_set(err, JP_ERR_INTERNAL, "not a CSV file read for validation");
    csv_plan_t *p = (csv_plan_t *)ds->lazy;
    size_t *all = jp_malloc_array(p->nf ? p->nf : 1, sizeof *all);
    if (!all) return nomem(err);
    for (size_t k = 0; k < p->nf; k++) all[k] = k;
    jp_status_t st = plan_load(p, ds, all, p->nf, NULL, cells, err);
    jp_free(all);
    if (st) return st;
    /* every field is here: an eager dataset, as jp_dataset_need leaves it */
    plan_free(p);
    ds->lazy = NULL;
    return JP_OK;
}

uint64_t jp_csv_lazy_size(const jp_dataset_t *ds, bool *gz)
{
    const csv_plan_t *p = (const csv_plan_t *)ds->lazy;
    *gz = p->src.gz;
    return p->lay.have_id ? p->lay.size : 0;
}

/* Between the pass and the consumer: the types the batches went out with,
 * and whether the consumer failed. */
typedef struct stream_tap {
    const jp_csv_stream_cb_t *cb;
    jp_type_t *seen; /* per column */
    size_t n;
    bool failed;
    jp_stream_progress_fn progress;
    const char *path;
    uint64_t total, rows;
} stream_tap_t;

static jp_status_t tap_batch(void *ctx, jp_column_t *const *cols, size_t nrows, uint64_t bytes,
                             const jp_column_t *lines, jp_error_t *err)
{
    stream_tap_t *t = ctx;
    for (size_t k = 0; k < t->n; k++)
        if (t->seen[k] == JP_TYPE_NONE) t->seen[k] = cols[k]->type;
    if ((t->failed = t->cb->batch(t->cb->ctx, cols, nrows, lines, err) != JP_OK)) return err->code;
    t->rows += nrows;
    if (t->progress) t->progress(t->path, bytes, t->total, t->rows, false);
    return JP_OK;
}

jp_status_t jp_csv_stream(jp_dataset_t *ds, const size_t *idx, size_t n,
                          const jp_csv_stream_cb_t *cb, jp_error_t *err)
{
    return jp_csv_stream_checked(ds, idx, n, NULL, 0, false, NULL, cb, err);
}

jp_status_t jp_csv_stream_checked(jp_dataset_t *ds, const size_t *idx, size_t n, const size_t *cidx,
                                  size_t nc, bool offsets, jp_type_t *types,
                                  const jp_csv_stream_cb_t *cb, jp_error_t *err)
{
    if (!jp_csv_is_lazy(ds)) return jp_error_set(err, JP_ERR_INTERNAL, "not a CSV plan");
    csv_plan_t *p = (csv_plan_t *)ds->lazy;
    size_t nt = n + nc;
    csv_colspec_t *cs = jp_malloc_array(nt ? nt : 1, sizeof *cs);
    jp_type_t *seen = jp_calloc(n ? n : 1, sizeof *seen);
    jp_error_t *saved = jp_malloc(sizeof *saved);
    if (!cs || !seen || !saved) {
        jp_free(cs);
        jp_free(seen);
        jp_free(saved);
        return nomem(err);
    }
    bool inferred = false;
    for (size_t k = 0; k < nt; k++) {
        size_t f = k < n ? idx[k] : cidx[k - n];
        if (f >= p->nf) {
            jp_free(cs);
            jp_free(seen);
            jp_free(saved);
            return jp_error_set(err, JP_ERR_INTERNAL, "stream: no field %zu", f);
        }
        cs[k] = p->cs[f];
        if (k < n) inferred |= cs[k].mode == CM_INFER;
    }
    /* a prefix of the file reads as if the file ended there: its passes,
       the profile's too, give the prefix's types and errors */
    csv_src_t src = p->src;
    src.limit = cb->limit;
    if (cb->typed_first && inferred) {
        csv_how_t prof = {.profile = true};
        csv_result_t pr;
        jp_status_t ps = jp_csv_pass(&src, &p->lay, cs, n, &prof, &pr, err);
        if (ps) {
            jp_free(cs);
            jp_free(seen);
            jp_free(saved);
            return ps;
        }
        for (size_t k = 0; k < n; k++)
            if (cs[k].mode == CM_INFER) cs[k].mode = mode_of_type(pr.stats[k].type);
        jp_csv_result_free(&pr, n);
        inferred = false;
    }
    stream_tap_t tap = {cb, seen, n, false, jp_stream_progress(), p->path, 0, 0};
    /* the size on disk is the text's only for a plain file */
    if (!p->src.gz && p->lay.have_id) tap.total = p->lay.size;
    if (tap.progress) tap.progress(p->path, 0, tap.total, 0, false);
    csv_how_t how = {.emit = tap_batch,
                     .emit_ctx = &tap,
                     .ncheck = nc,
                     .offsets = offsets,
                     .emit_lines = cb->lines,
                     .cell_errors = p->lay.cells_null ? cb->cells : NULL};
    csv_result_t res;
    memset(&res, 0, sizeof res);
    jp_status_t st = jp_csv_pass(&src, &p->lay, cs, nt, &how, &res, err);
    bool chose = st && tap.failed && cb->stopped && cb->stopped(cb->ctx);
    if ((!st && res.retype) || (st && tap.failed && inferred && !chose)) {
        /* Either a column changed type after batches went out (text after
           numbers, decimals after integers, values after nulls), or the
           consumer failed on types that later rows might still change (and
           a full read would first report a bad record further on).  A
           profile pass gives the whole file's types and its first error. */
        bool failed = st != JP_OK;
        *saved = *err;
        jp_csv_result_free(&res, nt);
        csv_how_t prof = {.profile = true};
        csv_result_t pr;
        st = jp_csv_pass(&src, &p->lay, cs, nt, &prof, &pr, err);
        if (!st) {
            bool same = true;
            for (size_t k = 0; k < nt; k++)
                if (cs[k].mode == CM_INFER) {
                    if (k < n) same &= seen[k] == JP_TYPE_NONE || seen[k] == pr.stats[k].type;
                    cs[k].mode = mode_of_type(pr.stats[k].type);
                }
            jp_csv_result_free(&pr, nt);
            if (failed && same) {
                *err = *saved; /* the consumer's error stands */
                st = err->code;
            } else {
                cb->reset(cb->ctx);
                tap.failed = false;
                tap.rows = 0;
                st = jp_csv_pass(&src, &p->lay, cs, nt, &how, &res, err);
                if (!st && res.retype)
                    st = jp_error_set(err, JP_ERR_INTERNAL, "%s: types changed with types fixed",
                                      p->path);
            }
        }
    }
    if (!st && types)
        for (size_t k = 0; k < nt; k++) types[k] = res.stats ? res.stats[k].type : JP_TYPE_NONE;
    jp_csv_result_free(&res, nt);
    if (tap.progress) tap.progress(p->path, 0, tap.total, tap.rows, true);
    jp_free(cs);
    jp_free(seen);
    jp_free(saved);
    return st;
}

/* ---- records taken by their offsets -------------------------------------------------- */

/* A reader over the file's text that goes forward to given offsets. */
typedef struct at_reader {
    const char *path; /* for errors */
    csv_reader_t *r;
    char *buf;
    size_t len, at; /* buf[at..len) not used yet */
    uint64_t pos;   /* the text offset of buf[at] */
    bool eof;
} at_reader_t;

#define AT_BUF ((size_t)64 << 10)

static jp_status_t at_fill(at_reader_t *a, jp_error_t *err)
{
    size_t got;
    jp_status_t st = jp_csv_reader_read(a->r, a->buf, AT_BUF, &got, err);
    if (st) return st;
    a->len = got;
    a->at = 0;
    a->eof = got == 0;
    return JP_OK;
}

/* The record that starts at text offset `off` (>= where the reader is),
 * its line end included, appended to out; max: the longest record. */
static jp_status_t at_record(at_reader_t *a, uint64_t off, size_t max, jp_buf_t *out,
                             jp_error_t *err)
{
    jp_status_t st;
    if (off - a->pos >= a->len - a->at) {
        /* not in the buffer: go there */
        uint64_t end = a->pos + (a->len - a->at);
        if ((st = jp_csv_reader_forward(a->r, end, off, err))) return st;
        a->pos = off;
        a->len = a->at = 0;
    } else {
        a->at += (size_t)(off - a->pos);
        a->pos = off;
    }
    bool inq = false;
    size_t taken = 0;
    for (;;) {
        if (a->at == a->len && (st = at_fill(a, err))) return st;
        if (a->eof) return jp_buf_putc(out, '\n') ? nomem(err) : JP_OK; /* the last record */
        size_t i = a->at, e = a->len;
        for (; i < e; i++) {
            char c = a->buf[i];
            if (c == '"') inq = !inq;
            if (c == '\n' && !inq) break;
        }
        size_t k = (i < e ? i + 1 : e) - a->at;
        if (jp_buf_append(out, a->buf + a->at, k)) return nomem(err);
        a->at += k;
        a->pos += k;
        taken += k;
        if (i < e) return JP_OK;
        if (taken > max)
            return jp_error_set(err, JP_ERR_IO, "%s changed since it was read; read it again",
                                a->path);
    }
}

jp_status_t jp_csv_take_at(jp_dataset_t *ds, const size_t *idx, size_t n, const jp_type_t *types,
                           const int64_t *off, size_t m, jp_column_t **out, jp_error_t *err)
{
    if (!jp_csv_is_lazy(ds)) return jp_error_set(err, JP_ERR_INTERNAL, "not a CSV plan");
    csv_plan_t *p = (csv_plan_t *)ds->lazy;
    csv_tuning_t tune;
    jp_csv_tuning_get(&tune);
    for (size_t k = 0; k < n; k++) out[k] = NULL;
    at_reader_t a;
    memset(&a, 0, sizeof a);
    a.path = p->path;
    jp_buf_t text = JP_BUF_INIT;
    csv_colspec_t *cs = jp_malloc_array(n ? n : 1, sizeof *cs);
    a.buf = jp_malloc(AT_BUF);
    jp_status_t st = cs && a.buf ? jp_csv_reader_open(&p->src, &p->lay, &a.r, err) : nomem(err);
    for (size_t q = 0; q < m && !st; q++) {
        if (off[q] < 0 || (uint64_t)off[q] < a.pos)
            st = jp_error_set(err, JP_ERR_INTERNAL, "take: record offsets out of order");
        else
            st = at_record(&a, (uint64_t)off[q], tune.max_record, &text, err);
    }
    if (a.r) jp_csv_reader_close(a.r);
    jp_free(a.buf);
    for (size_t k = 0; k < n && !st; k++) {
        if (idx[k] >= p->nf) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "take: no field %zu", idx[k]);
            break;
        }
        cs[k] = p->cs[idx[k]];
        if (cs[k].mode == CM_INFER) cs[k].mode = mode_of_type(types[k]);
    }
    if (!st) {
        /* the records alone, read with the whole file's types */
        csv_src_t src = {.path = p->path, .mem = text.data ? text.data : "", .mem_len = text.len};
        csv_layout_t lay = p->lay;
        lay.data_off = 0;
        lay.rows_hint = m;
        lay.have_id = false;
        lay.threads = 1;
        csv_result_t res;
        st = jp_csv_pass(&src, &lay, cs, n, NULL, &res, err);
        if (!st && res.nrows != m)
            st = jp_error_set(err, JP_ERR_IO, "%s changed since it was read; read it again",
                              p->path);
        for (size_t k = 0; k < n && !st; k++) {
            out[k] = res.cols[k];
            res.cols[k] = NULL;
        }
        jp_csv_result_free(&res, n);
    }
    jp_buf_free(&text);
    jp_free(cs);
    return st;
}

/* Records end at a line feed outside quotes: inside a quoted field every
 * quote is doubled, so a line feed after an even number of quotes (counted
 * from a record's start) ends a record.  A stray quote in an unquoted field
 * is an error the read reports at its own record, before any cut made
 * after it. */
jp_status_t jp_csv_prefix_end(const jp_dataset_t *ds, uint64_t bytes, uint64_t *end, bool *whole,
                              jp_error_t *err)
{
    const csv_plan_t *p = (const csv_plan_t *)ds->lazy;
    uint64_t from = p->lay.data_off, upto = bytes < UINT64_MAX - from ? from + bytes : UINT64_MAX;
    *end = 0;
    *whole = !p->src.gz && p->lay.have_id && upto >= p->lay.size;
    if (*whole) return JP_OK;
    csv_reader_t *r = NULL;
    jp_status_t st = jp_csv_reader_open(&p->src, &p->lay, &r, err);
    if (st) return st;
    size_t cap = (size_t)1 << 20;
    char *buf = jp_malloc(cap);
    if (!buf) {
        jp_csv_reader_close(r);
        return nomem(err);
    }
    uint64_t at = 0, cut = 0; /* at: the offset of buf[0] */
    bool odd = false, done = false;
    while (!done) {
        size_t got;
        if ((st = jp_csv_reader_read(r, buf, cap, &got, err))) break;
        if (!got) {
            *whole = true;
            break;
        }
        const char *b = buf, *e = buf + got;
        if (at < from) b += from - at < got ? (size_t)(from - at) : got;
        while (b < e && !done) {
            const char *q = memchr(b, '"', (size_t)(e - b));
            if (odd) { /* inside quotes: line feeds are data */
                if (!q) break;
                odd = false;
                b = q + 1;
                continue;
            }
            /* b..q holds no quote: its line feeds end records; the last
               within the prefix, else the first after it */
            const char *stop = q ? q : e;
            uint64_t lim = upto > at ? upto - at : 0; /* buf offsets below lim are in it */
            const char *mid = lim < (uint64_t)(b - buf)      ? b
                              : lim < (uint64_t)(stop - buf) ? buf + lim
                                                             : stop;
            for (const char *t = mid; t > b; t--)
                if (t[-1] == '\n') {
                    cut = at + (uint64_t)(t - buf);
                    break;
                }
            if (mid < stop) {
                if (!cut) {
                    const char *nl = memchr(mid, '\n', (size_t)(stop - mid));
                    if (nl) cut = at + (uint64_t)(nl - buf) + 1;
                }
                done = cut != 0;
            }
            if (!q) break;
            odd = true;
            b = q + 1;
        }
        at += got;
    }
    if (!st && !*whole) *end = cut;
    jp_free(buf);
    jp_csv_reader_close(r);
    return st;
}

/* Between a pass and an export: each batch with its first row's number. */
typedef struct row_tap {
    jp_lazy_batch_fn fn;
    void *ctx;
    size_t row0;
} row_tap_t;

static jp_status_t row_tap_batch(void *ctx, jp_column_t *const *cols, size_t nrows, uint64_t bytes,
                                 const jp_column_t *lines, jp_error_t *err)
{
    (void)bytes;
    (void)lines;
    row_tap_t *t = ctx;
    jp_status_t st = t->fn(t->ctx, t->row0, nrows, cols, err);
    t->row0 += nrows;
    return st;
}

/* Every row in batches, for an export: a profile settles the types (and
 * which fields are qualified: the archive's columns depend on it before
 * the first row), then a pass reads each field with the type the profile
 * found (what a full read gives, so no batch is ever retyped) and hands the
 * batches on as it reads them. */
static jp_status_t lazy_stream(jp_dataset_t *ds, bool *quals, jp_lazy_batch_fn fn, void *ctx,
                               jp_error_t *err)
{
    csv_plan_t *p = (csv_plan_t *)ds->lazy;
    csv_colspec_t *cs = jp_malloc_array(p->nf ? p->nf : 1, sizeof *cs);
    if (!cs) return nomem(err);
    memcpy(cs, p->cs, p->nf * sizeof *cs);
    /* small batches: what a stream holds at a time */
    csv_how_t how = {.profile = true, .batch_bytes = (size_t)4 << 20};
    csv_result_t res;
    memset(&res, 0, sizeof res);
    jp_status_t st = jp_csv_pass(&p->src, &p->lay, cs, p->nf, &how, &res, err);
    row_tap_t tap = {fn, ctx, 0};
    if (!st) {
        for (size_t f = 0; f < p->nf; f++) {
            jp_type_t t = res.stats[f].type == JP_TYPE_NONE ? JP_TYPE_STRING : res.stats[f].type;
            if (cs[f].mode == CM_INFER) cs[f].mode = mode_of_type(t);
            ds->schema.fields[f].type = t;
            quals[f] = res.stats[f].qualified > 0;
        }
        jp_csv_result_free(&res, p->nf);
        memset(&res, 0, sizeof res);
        csv_how_t how2 = {.emit = row_tap_batch, .emit_ctx = &tap, .batch_bytes = how.batch_bytes};
        st = jp_csv_pass(&p->src, &p->lay, cs, p->nf, &how2, &res, err);
        if (!st && res.retype)
            st = jp_error_set(err, JP_ERR_INTERNAL, "%s: types changed with types fixed", p->path);
        jp_free(res.stats);
        res.stats = NULL;
    }
    if (!st) {
        if (ds->lazy->rows_known && res.nrows != ds->nrows)
            st = jp_error_set(err, JP_ERR_IO, "%s changed since it was opened; read it again",
                              p->path);
        ds->nrows = res.nrows;
        ds->lazy->rows_known = true;
    }
    jp_free(cs);
    return st;
}

/* The preview: the first rows of the first k fields, each read with the
 * type the profile found (so that it shows what a full read would). */
static jp_status_t profile_preview(opened_t *op, const jp_read_opts_t *o, csv_colspec_t *cs,
                                   jp_csv_profile_t *pr, size_t k, size_t rows, jp_error_t *err)
{
    jp_dataset_t *ds = pr->preview = jp_dataset_new();
    if (!ds || jp_meta_set(&ds->meta.name, pr->name)) return nomem(err);
    csv_result_t res;
    memset(&res, 0, sizeof res);
    jp_status_t st = JP_OK;
    if (rows && k) {
        for (size_t j = 0; j < k; j++)
            if (!pr->fields[j].typed) cs[j].mode = mode_of_type(pr->fields[j].type);
        csv_how_t how = {.profile = false, .max_rows = rows};
        if ((st = jp_csv_pass(&op->p->src, &op->p->lay, cs, k, &how, &res, err))) return st;
    }
    for (size_t j = 0; j < k && !st; j++) {
        const jp_csv_field_profile_t *f = &pr->fields[j];
        long e = op->sel.explicit_of[op->sel.fcol[j]];
        jp_field_t fd;
        if (e >= 0) {
            st = jp_field_copy(&fd, &o->schema->fields[e]) ? nomem(err) : JP_OK;
        } else {
            jp_field_init(&fd);
            fd.name = (char *)f->name; /* copied by jp_dataset_add_column */
        }
        fd.type = f->type;
        if (e >= 0 && !st && f->unit && (!fd.unit || strcmp(fd.unit, f->unit) != 0)) {
            jp_free(fd.unit);
            fd.unit = jp_strdup(f->unit); /* canonical, as a read gives it */
            if (!fd.unit) st = nomem(err);
        }
        jp_column_t *col = res.cols ? res.cols[j] : jp_column_new(f->type, 1);
        if (res.cols) res.cols[j] = NULL;
        if (!st && !col) st = nomem(err);
        if (!st)
            st = jp_dataset_add_column(ds, &fd, col, err);
        else
            jp_column_unref(col);
        if (e >= 0) jp_field_free(&fd);
    }
    jp_csv_result_free(&res, k);
    return st;
}

jp_status_t jp_csv_profile(const char *path, const jp_read_opts_t *o, size_t preview_rows,
                           size_t preview_fields, jp_csv_profile_t *pr, jp_error_t *err)
{
    memset(pr, 0, sizeof *pr);
    jp_read_opts_t oo;
    if (o)
        oo = *o;
    else
        jp_read_opts_init(&oo);
    oo.keep_rejects = false; /* a profile reports the first malformed record */
    oo.rejects = NULL;
    o = &oo;
    opened_t op;
    csv_colspec_t *cs = NULL;
    csv_result_t res;
    memset(&res, 0, sizeof res);
    jp_status_t st = open_head(path, NULL, 0, &oo, &op, err);
    if (op.p && op.p->path) path = op.p->path; /* "-" is "stdin" */
    if (st) goto out;
    size_t nf = op.sel.nf;
    char stem[256];
    pr->name = jp_strdup(o->name ? o->name : jp_path_stem(path, stem, sizeof stem));
    cs = jp_calloc(nf ? nf : 1, sizeof *cs);
    pr->fields = jp_calloc(nf ? nf : 1, sizeof *pr->fields);
    if (!pr->name || !cs || !pr->fields) {
        st = nomem(err);
        goto out;
    }
    /* the names move from the header to the profile */
    pr->names_ = op.h.names.v;
    pr->nnames_ = op.h.names.n;
    op.h.names.v = NULL;
    op.h.names.n = 0;
    for (size_t k = 0; k < nf; k++) {
        size_t c = op.sel.fcol[k];
        long e = op.sel.explicit_of[c];
        const jp_field_t *ef = e >= 0 ? &o->schema->fields[e] : NULL;
        char canon[64];
        const char *unit = ef && ef->unit ? jp_unit_canonical(ef->unit, canon, sizeof canon) : NULL;
        jp_csv_field_profile_t *f = &pr->fields[k];
        f->name = pr->names_[c];
        f->typed = ef != NULL;
        if (unit && !(f->unit = jp_strdup(unit))) {
            st = nomem(err);
            goto out;
        }
        cs[k].fcol = c;
        cs[k].mode = mode_for(ef ? ef->type : JP_TYPE_NONE, unit);
        cs[k].name = f->name;
        if (cs[k].mode == CM_INT || cs[k].mode == CM_NUMBER) cs[k].unit = f->unit;
    }
    pr->nfields = nf;
    csv_how_t how = {.profile = true};
    if ((st = jp_csv_pass(&op.p->src, &op.p->lay, cs, nf, &how, &res, err))) goto out;
    pr->nrows = res.nrows;
    for (size_t k = 0; k < nf; k++) {
        jp_csv_field_profile_t *f = &pr->fields[k];
        const csv_colstat_t *s = &res.stats[k];
        f->type = s->type;
        f->nulls = s->nulls;
        f->qualified = s->qualified;
        f->text_row = s->why_row;
        f->text_line = s->why_line;
        f->text_col = s->why_col;
        f->text_cell = s->why_cell;
        res.stats[k].why_cell = NULL;
    }
    st = profile_preview(&op, o, cs, pr, preview_fields < nf ? preview_fields : nf, preview_rows,
                         err);
out:
    if (st && err && !err->file[0]) jp_error_at(err, path, 0, 0);
    jp_csv_result_free(&res, cs ? op.sel.nf : 0);
    jp_free(cs);
    opened_free(&op); /* path may be the plan's */
    if (st) jp_csv_profile_free(pr);
    return st;
}

void jp_csv_profile_free(jp_csv_profile_t *pr)
{
    if (!pr) return;
    for (size_t k = 0; pr->fields && k < pr->nfields; k++) {
        jp_free((char *)pr->fields[k].unit);
        jp_free((char *)pr->fields[k].text_cell);
    }
    jp_free(pr->fields);
    for (size_t i = 0; i < pr->nnames_; i++) jp_free(pr->names_[i]);
    jp_free(pr->names_);
    jp_free(pr->name);
    jp_dataset_unref(pr->preview);
    memset(pr, 0, sizeof *pr);
}

jp_status_t jp_csv_read(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                        jp_error_t *err)
{
    return csv_open(path, NULL, 0, o, out, err);
}

jp_status_t jp_csv_read_mem(const char *name, const char *data, size_t n, const jp_read_opts_t *o,
                            jp_dataset_t **out, jp_error_t *err)
{
    return csv_open(name ? name : "(memory)", data ? data : "", data ? n : 0, o, out, err);
}

/* ---- the registry entries ------------------------------------------------------------- */

static jp_status_t fmt_write(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                             jp_error_t *err)
{
    return jp_csv_write(ds, path, o, err);
}

static const char *const csv_exts[] = {".csv", ".tsv", NULL};
static const char *const csv_gz_exts[] = {".csv.gz", ".tsv.gz", NULL};

const jp_format_t jp_format_csv = {
    "csv",     csv_exts,        "comma-separated values (RFC 4180); tab-separated for .tsv",
    NULL,      jp_csv_read,     jp_csv_read_mem,
    fmt_write, jp_csv_write_mem};

const jp_format_t jp_format_csv_gz = {
    "csv.gz",  csv_gz_exts, "gzip-compressed CSV (one member, written on all cores)",
    NULL,      jp_csv_read, jp_csv_read_mem,
    fmt_write, NULL};
