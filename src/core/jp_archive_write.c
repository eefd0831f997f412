/*
 * jp_archive_write.c - exporting datasets to an archive: the entries and
 * their order, the manifest and checksum file, and the reproducible tar or
 * zip container around them, written atomically.
 *
 * Entries are written in order, each produced when its turn comes: a CSV
 * data entry streams from its dataset (jp_archive_stream.c) a batch at a
 * time, and its size and digest are known only at its end.  The size a tar
 * header needs first is filled in afterwards: into a hole of the gzip
 * stream (.tar.gz: the blocks after it are compressed meanwhile, jp_gzip.h),
 * by seeking back (.tar); a zip entry is spooled, then deflated, then
 * copied.  Memory holds a batch and the compressor's blocks, never an
 * entry.  Must never leave a partial file at the target path and never let
 * anything but the inputs (and SOURCE_DATE_EPOCH) influence the bytes.
 */
#include "jp_archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>
#include "jp_archive_gz.h"
#include "jp_archive_int.h"
#include "jp_archive_name.h"
#include "jp_file.h"
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_sha256.h"
#include "jp_tar.h"
#include "jp_version.h"
#include "jp_yaml.h"
#include "jp_zip.h"

void jp_export_opts_init(jp_export_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->mtime = -1;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n > k && strcasecmp(s + n - k, suf) == 0;
}

jp_archive_kind_t jp_archive_kind_for_path(const char *path)
{
    if (ends_with(path, ".tar.gz") || ends_with(path, ".tgz")) return JP_ARCHIVE_TGZ;
    if (ends_with(path, ".zip")) return JP_ARCHIVE_ZIP;
    if (ends_with(path, ".tar")) return JP_ARCHIVE_TAR;
    return JP_ARCHIVE_NONE;
}

/* ---- datasets ---------------------------------------------------------------- */

typedef struct dsrec {
    jp_dataset_t *ds;
    char *name;
    char *stem;
    char *data_rel, *schema_rel;
    const char *format;
    bool stream;            /* CSV data, streamed when its entry is written */
    jp_arc_sidecols_t side; /* its qualifier side columns (CSV) */
} dsrec_t;

static void dsrec_free(dsrec_t *r)
{
    jp_free(r->name);
    jp_free(r->stem);
    jp_free(r->data_rel);
    jp_free(r->schema_rel);
    jp_arc_sidecols_free(&r->side);
}

/* ---- entries -------------------------------------------------------------------- */

typedef enum { E_DIR, E_DATA, E_SCHEMA, E_MANIFEST, E_SUMS } ekind_t;

typedef struct ent {
    char *rel; /* path below the top directory */
    ekind_t kind;
    dsrec_t *r;    /* E_DATA, E_SCHEMA */
    jp_buf_t data; /* the content, once made (a streamed entry has none) */
    bool made;     /* size and sha are known */
    uint64_t size;
    unsigned char sha[JP_SHA256_LEN];
} ent_t;

typedef struct ents {
    ent_t *v;
    size_t n, cap;
} ents_t;

static void ents_free(ents_t *e)
{
    for (size_t i = 0; i < e->n; i++) {
        jp_free(e->v[i].rel);
        jp_buf_free(&e->v[i].data);
    }
    jp_free(e->v);
    memset(e, 0, sizeof *e);
}

static jp_status_t ents_add(ents_t *e, const char *rel, ekind_t kind, dsrec_t *r, jp_error_t *err)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        ent_t *v = jp_realloc_array(e->v, cap, sizeof *v);
        if (!v) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        e->v = v;
        e->cap = cap;
    }
    ent_t *x = &e->v[e->n];
    memset(x, 0, sizeof *x);
    if (!(x->rel = jp_strdup(rel))) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    x->kind = kind;
    x->r = r;
    e->n++;
    return JP_OK;
}

/* The content is in x->data: its size and digest. */
static jp_status_t made(ent_t *x, jp_error_t *err)
{
    x->size = x->data.len;
    x->made = true;
    return jp_sha256(x->data.data ? x->data.data : "", x->data.len, x->sha, err);
}

static int ent_cmp(const void *a, const void *b)
{
    const ent_t *x = a, *y = b;
    bool xd = x->kind == E_DIR, yd = y->kind == E_DIR;
    /* directories sort as "name/" so they precede their contents */
    const char *p = x->rel, *q = y->rel;
    while (*p && *p == *q) p++, q++;
    if (!*p && !*q) return 0;
    if (!*p && xd && *q == '/') return -1;
    if (!*q && yd && *p == '/') return 1;
    unsigned char c = (unsigned char)*p, d = (unsigned char)*q;
    if (!c && xd) c = '/';
    if (!d && yd) d = '/';
    return c < d ? -1 : c > d;
}

/* ---- YAML text ------------------------------------------------------------ */

static jp_status_t yq(jp_buf_t *b, const char *s)
{
    /* a double-quoted YAML scalar: safe for any UTF-8 text */
    jp_status_t st = jp_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; !st && *p; p++) {
        if (*p == '"' || *p == '\\') {
            st = jp_buf_putc(b, '\\');
            if (!st) st = jp_buf_putc(b, (char)*p);
        } else if (*p == '\n')
            st = jp_buf_puts(b, "\\n");
        else if (*p == '\t')
            st = jp_buf_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            st = jp_buf_printf(b, "\\x%02x", *p);
        else if (p[0] == 0xC2 && p[1] == 0x85) /* NEL: a line break to YAML */
            st = jp_buf_puts(b, "\\N"), p++;
        else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
            st = jp_buf_puts(b, p[2] == 0xA8 ? "\\L" : "\\P"), p += 2; /* LS, PS */
        else if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) /* BOM: readers may drop it */
            st = jp_buf_puts(b, "\\uFEFF"), p += 2;
        else
            st = jp_buf_putc(b, (char)*p);
    }
    if (!st) st = jp_buf_putc(b, '"');
    return st;
}

static jp_status_t ykv(jp_buf_t *b, const char *indent, const char *key, const char *val)
{
    if (!val) return JP_OK;
    jp_status_t st = jp_buf_printf(b, "%s%s: ", indent, key);
    if (!st) st = yq(b, val);
    if (!st) st = jp_buf_putc(b, '\n');
    return st;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The plugins whose readers or verbs produced a dataset ("NAME VERSION"
 * entries of its metadata): provenance the manifest keeps. */
static jp_status_t plugins_text(jp_buf_t *b, const jp_meta_t *m)
{
    jp_status_t st = jp_buf_puts(b, "    plugins:\n");
    for (size_t i = 0; i < m->n_plugins && !st; i++) {
        const char *e = m->plugins[i], *sp = strchr(e, ' ');
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(sp ? (size_t)(sp - e) : strlen(e)), e);
        st = ykv(b, "      - ", "name", name);
        if (!st && sp) st = ykv(b, "        ", "version", sp + 1);
    }
    return st;
}

/* Every entry but the manifest and the checksum file is written already. */
static jp_status_t manifest_text(const dsrec_t *recs, size_t n, const ents_t *ents, int64_t mtime,
                                 jp_buf_t *b, jp_error_t *err)
{
    char when[32];
    time_t t = (time_t)mtime;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jp_status_t st = jp_buf_printf(b,
                                   "# jinpu archive manifest: the datasets, and every file of the "
                                   "archive\n# but this one and sha256sums.txt with its size in "
                                   "bytes and SHA-256.\n"
                                   "jinpu_archive: %d\njinpu_version: \"%s\"\ncreated: \"%s\"\n"
                                   "datasets:\n",
                                   JP_ARCHIVE_LAYOUT_VERSION, JP_VERSION, when);
    for (size_t i = 0; i < n && !st; i++) {
        const dsrec_t *r = &recs[i];
        const jp_meta_t *m = &r->ds->meta;
        st = jp_buf_puts(b, "  - name: ");
        if (!st) st = yq(b, r->name);
        if (!st) st = jp_buf_putc(b, '\n');
        if (!st) st = ykv(b, "    ", "title", m->title);
        if (!st) st = ykv(b, "    ", "source", m->source);
        if (!st) st = ykv(b, "    ", "source_file", m->source_file);
        if (!st && r->ds->origin) st = ykv(b, "    ", "origin", base_name(r->ds->origin));
        if (!st) st = ykv(b, "    ", "period", m->period);
        if (!st) st = ykv(b, "    ", "license", m->license);
        if (!st && m->n_plugins) st = plugins_text(b, m);
        if (!st)
            st = jp_buf_printf(b, "    rows: %zu\n    fields: %zu\n", r->ds->nrows,
                               r->ds->schema.n_fields);
        if (!st) st = ykv(b, "    ", "format", r->format);
        if (!st) st = ykv(b, "    ", "data", r->data_rel);
        if (!st) st = ykv(b, "    ", "schema", r->schema_rel);
        if (!st && r->side.n) st = jp_buf_puts(b, "    qualifier_columns:\n");
        for (size_t k = 0; k < r->side.n && !st; k++) {
            st = ykv(b, "      - ", "field", r->side.field[k]);
            if (!st) st = ykv(b, "        ", "column", r->side.column[k]);
        }
    }
    if (!st) st = jp_buf_puts(b, "files:\n");
    for (size_t i = 0; i < ents->n && !st; i++) {
        const ent_t *e = &ents->v[i];
        if (e->kind == E_DIR || e->kind == E_MANIFEST || e->kind == E_SUMS) continue;
        char hex[JP_SHA256_HEX];
        st = ykv(b, "  - ", "path", e->rel);
        if (!st)
            st = jp_buf_printf(b, "    size: %llu\n    sha256: \"%s\"\n",
                               (unsigned long long)e->size, jp_sha256_hex(e->sha, hex));
    }
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

/* sha256sum -c input: every file, the manifest last. */
static jp_status_t sums_text(const ents_t *ents, jp_buf_t *b, jp_error_t *err)
{
    const ent_t *man = NULL;
    jp_status_t st = JP_OK;
    char hex[JP_SHA256_HEX];
    for (size_t i = 0; i < ents->n && !st; i++) {
        const ent_t *e = &ents->v[i];
        if (e->kind == E_MANIFEST) man = e;
        if (e->kind == E_DIR || e->kind == E_MANIFEST || e->kind == E_SUMS) continue;
        st = jp_buf_printf(b, "%s  %s\n", jp_sha256_hex(e->sha, hex), e->rel);
    }
    if (!st && man)
        st = jp_buf_printf(b, "%s  %s\n", jp_sha256_hex(man->sha, hex), JP_ARCHIVE_MANIFEST);
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

/* ---- the output ------------------------------------------------------------------- */

typedef struct out {
    jp_atomic_t af;
    jp_archive_kind_t kind;
    const char *path, *top;
    const jp_export_opts_t *o;
    int level, threads;
    int64_t mtime;
    uint64_t stream; /* archive bytes so far (before gzip) */
    jp_arc_gz_t *gz; /* .tar.gz */
    jp_zip_writer_t zip;
    FILE *spill;          /* .tar.gz: the blocks written while a header waits */
    FILE *spool[2];       /* zip: an entry's bytes, and them deflated */
    char spool_name[300]; /* "a temporary file in DIR (TMPDIR)", for messages */
    uint64_t tar_len;     /* tar bytes so far */
} out_t;

/* Account for n more bytes of the archive stream: test hook and progress. */
static jp_status_t account(out_t *w, size_t n, jp_error_t *err)
{
    if (w->o->fail_after && w->stream + n >= w->o->fail_after)
        return jp_error_set(err, JP_ERR_IO, "cannot write %s: stopped after %llu bytes (test hook)",
                            w->path, (unsigned long long)w->o->fail_after);
    uint64_t before = w->stream;
    w->stream += n;
    if (w->o->progress && (before >> 20) != (w->stream >> 20))
        w->o->progress(w->o->progress_ctx, w->stream);
    return JP_OK;
}

static jp_status_t file_put(out_t *w, const void *p, size_t n, jp_error_t *err)
{
    if (n && fwrite(p, 1, n, w->af.fp) != n)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", w->path);
    return JP_OK;
}

/* Tar bytes: to the gzip stream or the file. */
static jp_status_t tar_put(out_t *w, const void *p, size_t n, jp_error_t *err)
{
    const char *s = p;
    while (n) {
        /* pieces of 1 MiB keep progress and the test hook fine-grained */
        size_t k = n < ((size_t)1 << 20) ? n : ((size_t)1 << 20);
        jp_status_t st = account(w, k, err);
        if (!st) st = w->gz ? jp_arc_gz_write(w->gz, s, k, err) : file_put(w, s, k, err);
        if (st) return st;
        w->tar_len += k;
        s += k;
        n -= k;
    }
    return JP_OK;
}

static jp_status_t tar_pad(out_t *w, uint64_t size, jp_error_t *err)
{
    static const char zeros[JP_TAR_BLOCK];
    return tar_put(w, zeros, jp_tar_pad_len(size), err);
}

static jp_status_t full_name(const out_t *w, const ent_t *e, jp_buf_t *b)
{
    return jp_buf_printf(b, "%s%s%s%s", w->top, *w->top ? "/" : "", e->rel,
                         e->kind == E_DIR ? "/" : "");
}

/* A streamed entry's bytes: counted and hashed, then to `to`. */
typedef struct counted {
    out_t *w;
    jp_sha256_t h;
    uint64_t size;
    uint32_t crc; /* zip */
    jp_status_t (*to)(struct counted *c, const void *p, size_t n, jp_error_t *err);
} counted_t;

static jp_status_t counted_put(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    counted_t *c = ctx;
    jp_sha256_update(&c->h, p, n);
    c->size += n;
    return c->to(c, p, n, err);
}

static jp_status_t to_tar(counted_t *c, const void *p, size_t n, jp_error_t *err)
{
    return tar_put(c->w, p, n, err);
}

static jp_status_t to_spool(counted_t *c, const void *p, size_t n, jp_error_t *err)
{
    c->crc = (uint32_t)crc32(c->crc, p, (uInt)n); /* n < 4 GiB: a batch */
    if (n && fwrite(p, 1, n, c->w->spool[0]) != n)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", c->w->spool_name);
    return JP_OK;
}

/* Stream a CSV data entry through c (already pointed at its destination). */
static jp_status_t stream_data(ent_t *e, counted_t *c, jp_error_t *err)
{
    jp_status_t st = jp_sha256_init(&c->h, err);
    if (st) return st;
    st = jp_arc_stream_csv(e->r->ds, c->w->o, &e->r->side, counted_put, c, err);
    unsigned char sha[JP_SHA256_LEN];
    jp_sha256_final(&c->h, sha);
    if (st) {
        jp_error_prefix(err, "dataset '%s'", e->r->name);
        return st;
    }
    memcpy(e->sha, sha, JP_SHA256_LEN);
    e->size = c->size;
    e->made = true;
    return JP_OK;
}

/* A streamed tar entry: its header waits in a hole (.tar.gz) or is
 * written over its placeholder (.tar) once the size is known. */
static jp_status_t tar_stream_entry(out_t *w, ent_t *e, const char *name, jp_error_t *err)
{
    jp_buf_t h = JP_BUF_INIT;
    jp_status_t st = jp_tar_put_header_sized(&h, name, 0, w->mtime, err);
    if (st) return st;
    size_t hlen = h.len;
    long at = 0;
    if (w->gz) {
        if (!w->spill && !(w->spill = jp_spool_open(err))) st = err ? err->code : JP_ERR_IO;
        if (!st) st = account(w, hlen, err);
        if (!st) st = jp_arc_gz_hole(w->gz, hlen, w->spill, w->spool_name, err);
        w->tar_len += hlen;
    } else {
        at = ftell(w->af.fp);
        st = tar_put(w, h.data, hlen, err);
    }
    counted_t c = {w, {NULL}, 0, 0, to_tar};
    if (!st) st = stream_data(e, &c, err);
    jp_buf_reset(&h);
    if (!st) st = jp_tar_put_header_sized(&h, name, e->size, w->mtime, err);
    if (!st && h.len != hlen)
        st = jp_error_set(err, JP_ERR_INTERNAL, "a tar header changed length");
    if (!st) {
        if (w->gz) {
            st = jp_arc_gz_fill(w->gz, h.data, err);
        } else if (at < 0 || fseek(w->af.fp, at, SEEK_SET) != 0 || file_put(w, h.data, hlen, err) ||
                   fseek(w->af.fp, 0, SEEK_END) != 0) {
            st = jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", w->path);
        }
    }
    if (!st) st = tar_pad(w, e->size, err);
    jp_buf_free(&h);
    return st;
}

/* Deflate the first spool (from its start) into the second, as a gzip
 * member: the same deflate as an entry in memory.  *zlen: the member's
 * length; an I/O error writing it names the temporary directory. */
static jp_status_t spool_deflate(out_t *w, uint32_t *crc, long *zlen, jp_error_t *err)
{
    jp_gzip_writer_t *g = jp_gzip_open(w->spool[1], w->level, w->threads, err);
    if (!g) return err ? err->code : JP_ERR_NOMEM;
    unsigned char *buf = jp_malloc((size_t)1 << 20);
    jp_status_t st = buf ? JP_OK : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    bool reading = false; /* the error is the first spool's */
    for (size_t k; !st && (k = fread(buf, 1, (size_t)1 << 20, w->spool[0])) > 0;) {
        if (jp_stop_pending()) st = jp_stop_check(err);
        if (!st) st = jp_gzip_write(g, buf, k, err);
    }
    jp_free(buf);
    if (!st && ferror(w->spool[0])) {
        reading = true;
        st = jp_error_set(err, JP_ERR_IO, "cannot read back %s", w->spool_name);
    }
    if (!st)
        st = jp_gzip_close(g, crc, NULL, err);
    else
        jp_gzip_abort(g);
    /* stdio may keep the last bytes until the flush: a full disk shows here */
    if (!st && fflush(w->spool[1]) != 0) st = jp_error_errno(err, JP_ERR_IO, errno, "cannot write");
    if (st == JP_ERR_IO && !reading) jp_error_prefix(err, "%s", w->spool_name);
    *zlen = st ? 0 : ftell(w->spool[1]);
    if (!st && *zlen < 18) st = jp_error_set(err, JP_ERR_IO, "cannot read back %s", w->spool_name);
    return st;
}

/* A CSV data entry into a zip: spooled, deflated into a second spool
 * (stored instead when that is not smaller, as for every entry), copied. */
static jp_status_t zip_stream_entry(out_t *w, ent_t *e, const char *name, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    for (int i = 0; i < 2 && !st; i++) {
        if (!w->spool[i] && !(w->spool[i] = jp_spool_open(err)))
            st = err ? err->code : JP_ERR_IO;
        else if (fseek(w->spool[i], 0, SEEK_SET) != 0 || ftruncate(fileno(w->spool[i]), 0) != 0)
            st = jp_error_errno(err, JP_ERR_IO, errno, "cannot reuse %s", w->spool_name);
    }
    counted_t c = {w, {NULL}, 0, (uint32_t)crc32(0L, Z_NULL, 0), to_spool};
    if (!st) st = stream_data(e, &c, err);
    if (!st && fflush(w->spool[0]) != 0)
        st = jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", w->spool_name);
    if (!st && fseek(w->spool[0], 0, SEEK_SET) != 0)
        st = jp_error_errno(err, JP_ERR_IO, errno, "cannot read back %s", w->spool_name);
    uint32_t crc = 0;
    long zlen = 0;
    if (!st) st = spool_deflate(w, &crc, &zlen, err);
    if (!st && crc != c.crc) st = jp_error_set(err, JP_ERR_INTERNAL, "CRC-32 of a spooled entry");
    uint64_t csize = st ? 0 : (uint64_t)zlen - 18;
    if (!st) {
        bool deflate = csize < e->size;
        FILE *src = w->spool[deflate ? 1 : 0];
        if (fseek(src, deflate ? 10 : 0, SEEK_SET) != 0)
            st = jp_error_errno(err, JP_ERR_IO, errno, "cannot read back %s", w->spool_name);
        else
            st = jp_zip_add_from(&w->zip, name, deflate ? 8 : 0, src, deflate ? csize : e->size,
                                 crc, e->size, err);
    }
    return st;
}

/* Make a small entry's content when its turn comes. */
static jp_status_t make_content(ent_t *e, const dsrec_t *recs, size_t n, const ents_t *ents,
                                int64_t mtime, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    if (e->made || e->kind == E_DIR) return JP_OK;
    switch (e->kind) {
    case E_SCHEMA:
        st = jp_arc_schema_text(e->r->ds, &e->data, err);
        if (st) jp_error_prefix(err, "dataset '%s'", e->r->name);
        break;
    case E_MANIFEST:
        st = manifest_text(recs, n, ents, mtime, &e->data, err);
        break;
    case E_SUMS:
        st = sums_text(ents, &e->data, err);
        break;
    default:
        st = jp_error_set(err, JP_ERR_INTERNAL, "an entry without content");
    }
    return st ? st : made(e, err);
}

static jp_status_t write_entries(out_t *w, ents_t *ents, const dsrec_t *recs, size_t n,
                                 jp_error_t *err)
{
    jp_buf_t full = JP_BUF_INIT, h = JP_BUF_INIT, z = JP_BUF_INIT;
    jp_status_t st = JP_OK;
    bool zip = w->kind == JP_ARCHIVE_ZIP;
    if (*w->top) {
        st = jp_buf_printf(&full, "%s/", w->top);
        if (!st && zip) st = jp_zip_add(&w->zip, full.data, true, 0, NULL, 0, 0, 0, err);
        if (!st && !zip) st = jp_tar_put_header(&h, full.data, 0, true, w->mtime, err);
        if (!st && !zip) st = tar_put(w, h.data, h.len, err);
    }
    for (size_t i = 0; i < ents->n && !st; i++) {
        ent_t *e = &ents->v[i];
        jp_buf_reset(&full);
        jp_buf_reset(&h);
        if ((st = full_name(w, e, &full))) break;
        if (jp_stop_pending()) {
            st = jp_stop_check(err);
            break;
        }
        if (e->kind == E_DATA && e->r->stream) {
            st = zip ? zip_stream_entry(w, e, full.data, err)
                     : tar_stream_entry(w, e, full.data, err);
            continue;
        }
        if ((st = make_content(e, recs, n, ents, w->mtime, err))) break;
        bool dir = e->kind == E_DIR;
        const char *p = e->data.data ? e->data.data : "";
        if (zip) {
            if (dir) {
                st = jp_zip_add(&w->zip, full.data, true, 0, NULL, 0, 0, 0, err);
                continue;
            }
            uint32_t crc = 0;
            jp_buf_reset(&z);
            st = jp_arc_deflate(p, e->data.len, w->level, w->threads, &z, &crc, err);
            /* deflate only when it pays, as zip tools do; the choice is deterministic */
            if (!st && z.len < e->data.len)
                st = jp_zip_add(&w->zip, full.data, false, 8, z.data, z.len, crc, e->data.len, err);
            else if (!st)
                st =
                    jp_zip_add(&w->zip, full.data, false, 0, p, e->data.len, crc, e->data.len, err);
            continue;
        }
        st = jp_tar_put_header(&h, full.data, e->data.len, dir, w->mtime, err);
        if (!st) st = tar_put(w, h.data, h.len, err);
        if (!st && e->data.len) st = tar_put(w, p, e->data.len, err);
        if (!st) st = tar_pad(w, e->data.len, err);
    }
    if (!st && !zip) {
        static const char zeros[JP_TAR_RECORD + 2 * JP_TAR_BLOCK];
        st = tar_put(w, zeros, jp_tar_end_len(w->tar_len), err);
    }
    jp_buf_free(&full);
    jp_buf_free(&h);
    jp_buf_free(&z);
    return st;
}

static jp_status_t zip_sink(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    jp_status_t st = account(ctx, n, err);
    return st ? st : file_put(ctx, p, n, err);
}

/* Open the target (atomically), write every entry, commit. */
static jp_status_t write_archive(out_t *w, ents_t *ents, const dsrec_t *recs, size_t n,
                                 jp_error_t *err)
{
    jp_status_t st = jp_atomic_open(&w->af, w->path, err);
    if (st) return st;
    if (w->kind == JP_ARCHIVE_ZIP) {
        jp_zip_writer_init(&w->zip, zip_sink, w, w->mtime);
        w->zip.force_zip64 = w->o->zip64;
        st = write_entries(w, ents, recs, n, err);
        if (!st) st = jp_zip_finish(&w->zip, err);
        jp_zip_writer_free(&w->zip);
    } else {
        if (w->kind == JP_ARCHIVE_TGZ)
            st = jp_arc_gz_open(&w->gz, w->af.fp, w->level, w->threads, err);
        if (!st) st = write_entries(w, ents, recs, n, err);
        if (w->gz) {
            if (!st)
                st = jp_arc_gz_finish(w->gz, err);
            else
                jp_arc_gz_free(w->gz);
            w->gz = NULL;
        }
    }
    if (w->spill) fclose(w->spill);
    for (int i = 0; i < 2; i++)
        if (w->spool[i]) fclose(w->spool[i]);
    if (!st)
        st = jp_atomic_commit(&w->af, err);
    else
        jp_atomic_abort(&w->af);
    return st;
}

/* ---- export --------------------------------------------------------------------------- */

static jp_status_t resolve_mtime(const jp_export_opts_t *o, int64_t *out, jp_error_t *err)
{
    if (o->mtime >= 0) {
        *out = o->mtime;
        return JP_OK;
    }
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (!s || !*s) {
        *out = JP_ARCHIVE_DEFAULT_MTIME;
        return JP_OK;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0 || v > 253402300799LL)
        return jp_error_set(err, JP_ERR_ARG,
                            "SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970", s);
    *out = v;
    return JP_OK;
}

/* The top directory: one plain name, or none. */
static jp_status_t top_dir(const char *path, const jp_export_opts_t *o, jp_buf_t *topb,
                           jp_error_t *err)
{
    char stem[256];
    jp_status_t st = jp_buf_puts(topb, o->top ? o->top : jp_path_stem(path, stem, sizeof stem));
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!topb->len) return JP_OK;
    char *norm = NULL;
    bool d;
    jp_error_t e2;
    if (jp_archive_name_check(path, topb->data, topb->len, &norm, &d, &e2) || !norm ||
        strchr(norm, '/')) {
        jp_free(norm);
        return jp_error_set(err, JP_ERR_ARG,
                            "top directory '%s' must be one plain name (no '/', '..')",
                            o->top ? o->top : "");
    }
    jp_buf_reset(topb);
    st = jp_buf_puts(topb, norm);
    jp_free(norm);
    return st ? jp_error_set(err, JP_ERR_NOMEM, "out of memory") : JP_OK;
}

/* A dataset's data in memory (formats other than CSV): checked, serialised. */
static jp_status_t data_in_memory(dsrec_t *r, const jp_export_opts_t *o, const jp_format_t *f,
                                  ent_t *e, jp_error_t *err)
{
    jp_status_t st = jp_dataset_need_all(r->ds, err);
    if (!st) st = jp_arc_cells_check(r->ds, 0, err);
    jp_write_opts_t wo;
    jp_write_opts_init(&wo);
    wo.format = f->name;
    wo.level = o->level;
    wo.threads = o->threads;
    wo.spreadsheet_safe = o->spreadsheet_safe;
    if (!st) st = f->write_mem(r->ds, &wo, &e->data, err);
    if (!st) st = made(e, err);
    if (st) jp_error_prefix(err, "dataset '%s'", r->name);
    return st;
}

/* Names, files and checks of each dataset, before anything is written. */
static jp_status_t plan(const char *path, jp_dataset_t *const *ds, size_t n,
                        const jp_export_opts_t *o, const jp_format_t *f, dsrec_t *recs,
                        ents_t *ents, jp_error_t *err)
{
    const char *ext = f->extensions && f->extensions[0] ? f->extensions[0] : ".dat";
    bool csv = strcasecmp(f->name, "csv") == 0;
    jp_status_t st = ents_add(ents, "data", E_DIR, NULL, err);
    for (size_t i = 0; i < n && !st; i++) {
        dsrec_t *r = &recs[i];
        r->ds = ds[i];
        r->format = f->name;
        r->stream = csv;
        char dflt[32];
        snprintf(dflt, sizeof dflt, "dataset%zu", i + 1);
        r->name = jp_strdup(ds[i]->meta.name && *ds[i]->meta.name ? ds[i]->meta.name : dflt);
        r->stem = r->name ? jp_archive_file_stem(r->name) : NULL;
        jp_buf_t a = JP_BUF_INIT, b = JP_BUF_INIT;
        if (!r->stem || jp_buf_printf(&a, "data/%s%s", r->stem, ext) ||
            jp_buf_printf(&b, "data/%s.schema.yaml", r->stem)) {
            jp_buf_free(&a);
            jp_buf_free(&b);
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        r->data_rel = jp_buf_detach(&a, NULL);
        r->schema_rel = jp_buf_detach(&b, NULL);
        for (size_t k = 0; k < i && !st; k++)
            if (strcmp(recs[k].name, r->name) == 0 || strcmp(recs[k].stem, r->stem) == 0)
                st = jp_error_set(err, JP_ERR_ARG,
                                  "%s: datasets %zu and %zu are both named '%s' (a dataset made "
                                  "from another keeps its name; member names must differ)",
                                  path, k + 1, i + 1, r->name);
        if (!st && (st = jp_arc_meta_check(r->ds, err)))
            jp_error_prefix(err, "dataset '%s'", r->name);
        if (!st) st = ents_add(ents, r->data_rel, E_DATA, r, err);
        if (!st && !r->stream) st = data_in_memory(r, o, f, &ents->v[ents->n - 1], err);
        if (!st) st = ents_add(ents, r->schema_rel, E_SCHEMA, r, err);
    }
    if (!st) st = ents_add(ents, JP_ARCHIVE_MANIFEST, E_MANIFEST, NULL, err);
    if (!st) st = ents_add(ents, JP_ARCHIVE_SUMS, E_SUMS, NULL, err);
    if (!st) qsort(ents->v, ents->n, sizeof *ents->v, ent_cmp);
    return st;
}

jp_status_t jp_archive_export(const char *path, jp_dataset_t *const *ds, size_t n,
                              const jp_export_opts_t *opts, jp_error_t *err)
{
    jp_export_opts_t defaults;
    if (!opts) {
        jp_export_opts_init(&defaults);
        opts = &defaults;
    }
    jp_formats_init();
    out_t w;
    memset(&w, 0, sizeof w);
    w.path = path;
    w.o = opts;
    snprintf(w.spool_name, sizeof w.spool_name, "a temporary file in %s (TMPDIR)", jp_spool_dir());
    w.kind = opts->kind ? opts->kind : jp_archive_kind_for_path(path);
    if (w.kind == JP_ARCHIVE_NONE)
        return jp_error_set(err, JP_ERR_ARG,
                            "%s: cannot tell the archive kind from the name (use .tar.gz, .tgz, "
                            ".tar or .zip)",
                            path);
    w.level = opts->level ? opts->level : 6;
    if (w.level < 1 || w.level > 9)
        return jp_error_set(err, JP_ERR_ARG, "compression level %d (use 1..9)", opts->level);
    if (opts->threads < 0) return jp_error_set(err, JP_ERR_ARG, "threads must be >= 0");
    w.threads = opts->threads ? opts->threads : jp_ncpus();
    const char *fmt = opts->format ? opts->format : "csv";
    const jp_format_t *f = jp_format_find(fmt);
    if (!f) return jp_error_set(err, JP_ERR_FORMAT, "unknown data format '%s'", fmt);
    if (!f->write_mem || !f->read_mem)
        return jp_error_set(err, JP_ERR_FORMAT,
                            "format '%s' cannot be written to and read from memory, so it "
                            "cannot go into an archive",
                            fmt);
    if (n == 0) return jp_error_set(err, JP_ERR_ARG, "%s: no datasets to export", path);
    jp_status_t st = resolve_mtime(opts, &w.mtime, err);
    if (st) return st;
    jp_buf_t topb = JP_BUF_INIT;
    if ((st = top_dir(path, opts, &topb, err))) {
        jp_buf_free(&topb);
        return st;
    }
    w.top = topb.data ? topb.data : "";
    dsrec_t *recs = jp_calloc(n, sizeof *recs);
    ents_t ents = {0};
    if (!recs) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) st = plan(path, ds, n, opts, f, recs, &ents, err);
    if (!st) st = write_archive(&w, &ents, recs, n, err);
    for (size_t i = 0; recs && i < n; i++) dsrec_free(&recs[i]);
    jp_free(recs);
    ents_free(&ents);
    jp_buf_free(&topb);
    return st;
}
