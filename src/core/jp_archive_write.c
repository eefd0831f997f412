/*
 * jp_archive_write.c - exporting datasets to an archive: serialising each
 * dataset (data through the format registry, schema through the YAML
 * module), the manifest and checksum file, and the reproducible tar or zip
 * container around them, written atomically.  Must never leave a partial
 * file at the target path and never let anything but the inputs (and
 * SOURCE_DATE_EPOCH) influence the bytes.
 */
#include "jp_archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "jp_archive_gz.h"
#include "jp_archive_int.h"
#include "jp_archive_name.h"
#include "jp_csv.h"
#include "jp_file.h"
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

/* ---- entries -------------------------------------------------------------- */

typedef struct ent {
    char *rel; /* path below the top directory */
    bool is_dir;
    jp_buf_t data;
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

/* New entry; takes the buffer's contents. */
static jp_status_t ents_add(ents_t *e, const char *rel, bool is_dir, jp_buf_t *data,
                            jp_error_t *err)
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
    x->rel = jp_strdup(rel);
    if (!x->rel) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    x->is_dir = is_dir;
    if (data) {
        x->data = *data;
        memset(data, 0, sizeof *data);
        jp_status_t st = jp_sha256(x->data.data ? x->data.data : "", x->data.len, x->sha, err);
        if (st) {
            jp_free(x->rel);
            x->data.len = 0;
            jp_buf_free(&x->data);
            return st;
        }
    }
    e->n++;
    return JP_OK;
}

static int ent_cmp(const void *a, const void *b)
{
    const ent_t *x = a, *y = b;
    /* directories sort as "name/" so they precede their contents */
    const char *p = x->rel, *q = y->rel;
    while (*p && *p == *q) p++, q++;
    if (!*p && !*q) return 0;
    if (!*p && x->is_dir && *q == '/') return -1;
    if (!*q && y->is_dir && *p == '/') return 1;
    unsigned char c = (unsigned char)*p, d = (unsigned char)*q;
    if (!c && x->is_dir) c = '/';
    if (!d && y->is_dir) d = '/';
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

/* ---- per dataset ----------------------------------------------------------- */

typedef struct dsrec {
    jp_dataset_t *ds;
    char *name;
    char *stem;
    char *data_rel, *schema_rel;
    const char *format;
    char **qfield, **qcol; /* side columns: field -> column */
    size_t nq;
} dsrec_t;

static void dsrec_free(dsrec_t *r)
{
    jp_free(r->name);
    jp_free(r->stem);
    jp_free(r->data_rel);
    jp_free(r->schema_rel);
    for (size_t i = 0; i < r->nq; i++) {
        jp_free(r->qfield[i]);
        jp_free(r->qcol[i]);
    }
    jp_free(r->qfield);
    jp_free(r->qcol);
}

/* The dataset plus one string column per qualified numeric field
 * (jp_csv_qualifier_columns), and which column belongs to which field for
 * the manifest. */
static jp_status_t with_qual_columns(dsrec_t *r, jp_dataset_t **out, jp_error_t *err)
{
    const jp_dataset_t *ds = r->ds;
    size_t nq = 0;
    jp_status_t st = jp_csv_qualifier_columns(r->ds, out, &nq, err);
    if (st || nq == 0) return st;
    r->qfield = jp_calloc(nq, sizeof *r->qfield);
    r->qcol = jp_calloc(nq, sizeof *r->qcol);
    size_t nf = ds->schema.n_fields;
    for (size_t i = 0; i < nf && r->qfield && r->qcol && r->nq < nq; i++) {
        const jp_column_t *c = ds->cols[i];
        if (!jp_type_is_numeric(c->type) || !jp_column_has_quals(c)) continue;
        r->qfield[r->nq] = jp_strdup(ds->schema.fields[i].name);
        r->qcol[r->nq] = jp_strdup((*out)->schema.fields[nf + r->nq].name);
        r->nq++;
        if (!r->qfield[r->nq - 1] || !r->qcol[r->nq - 1]) break;
    }
    if (r->nq == nq && r->qfield[nq - 1] && r->qcol[nq - 1]) return JP_OK;
    jp_dataset_unref(*out);
    *out = NULL;
    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
}

static jp_status_t serialise(dsrec_t *r, const jp_export_opts_t *o, const jp_format_t *f,
                             ents_t *ents, jp_error_t *err)
{
    jp_status_t st = jp_dataset_need_all(r->ds, err);
    if (!st) st = jp_arc_text_check(r->ds, err);
    bool csv = strcasecmp(f->name, "csv") == 0;
    if (!st && csv && o->inline_qualifiers) st = jp_arc_inline_check(r->ds, err);
    if (st) {
        jp_error_prefix(err, "dataset '%s'", r->name);
        return st;
    }
    jp_dataset_t *x = NULL;
    if (csv && !o->inline_qualifiers)
        st = with_qual_columns(r, &x, err);
    else
        x = jp_dataset_ref(r->ds);
    if (st) return st;
    jp_write_opts_t wo;
    jp_write_opts_init(&wo);
    wo.format = f->name;
    wo.level = o->level;
    wo.threads = o->threads;
    wo.spreadsheet_safe = o->spreadsheet_safe;
    wo.qualifiers = csv && o->inline_qualifiers;
    jp_buf_t data = JP_BUF_INIT, schema = JP_BUF_INIT;
    st = f->write_mem(x, &wo, &data, err);
    jp_dataset_unref(x);
    if (!st) st = jp_yaml_write_buf(r->ds, false, &schema, err);
    if (!st) st = ents_add(ents, r->data_rel, false, &data, err);
    if (!st) st = ents_add(ents, r->schema_rel, false, &schema, err);
    jp_buf_free(&data);
    jp_buf_free(&schema);
    if (st) jp_error_prefix(err, "dataset '%s'", r->name);
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
        if (!st && r->nq) st = jp_buf_puts(b, "    qualifier_columns:\n");
        for (size_t k = 0; k < r->nq && !st; k++) {
            st = ykv(b, "      - ", "field", r->qfield[k]);
            if (!st) st = ykv(b, "        ", "column", r->qcol[k]);
        }
    }
    if (!st) st = jp_buf_puts(b, "files:\n");
    for (size_t i = 0; i < ents->n && !st; i++) {
        const ent_t *e = &ents->v[i];
        if (e->is_dir) continue;
        char hex[JP_SHA256_HEX];
        st = ykv(b, "  - ", "path", e->rel);
        if (!st)
            st = jp_buf_printf(b, "    size: %zu\n    sha256: \"%s\"\n", e->data.len,
                               jp_sha256_hex(e->sha, hex));
    }
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

/* ---- the container ---------------------------------------------------------- */

typedef struct outfile {
    jp_atomic_t af;
    uint64_t stream; /* archive bytes so far (before gzip) */
    uint64_t fail_after;
    const char *path;
    const jp_export_opts_t *o;
} outfile_t;

/* Account for n more bytes of the archive stream: test hook and progress. */
static jp_status_t account(outfile_t *of, size_t n, jp_error_t *err)
{
    if (of->fail_after && of->stream + n >= of->fail_after)
        return jp_error_set(err, JP_ERR_IO, "cannot write %s: stopped after %llu bytes (test hook)",
                            of->path, (unsigned long long)of->fail_after);
    uint64_t before = of->stream;
    of->stream += n;
    if (of->o->progress && (before >> 20) != (of->stream >> 20))
        of->o->progress(of->o->progress_ctx, of->stream);
    return JP_OK;
}

static jp_status_t file_sink(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    outfile_t *o = ctx;
    if (n && fwrite(p, 1, n, o->af.fp) != n)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot write %s", o->path);
    return JP_OK;
}

typedef struct tarw {
    jp_arc_gz_t *gz; /* NULL: plain tar */
    outfile_t *of;
    uint64_t total;
} tarw_t;

static jp_status_t tar_put(tarw_t *t, const void *p, size_t n, jp_error_t *err)
{
    const char *s = p;
    while (n) {
        /* pieces of 1 MiB keep progress and the test hook fine-grained */
        size_t k = n < ((size_t)1 << 20) ? n : ((size_t)1 << 20);
        jp_status_t st = account(t->of, k, err);
        if (!st) st = t->gz ? jp_arc_gz_write(t->gz, s, k, err) : file_sink(t->of, s, k, err);
        if (st) return st;
        t->total += k;
        s += k;
        n -= k;
    }
    return JP_OK;
}

static jp_status_t write_tar(const ents_t *ents, const char *top, int64_t mtime, tarw_t *t,
                             jp_error_t *err)
{
    static const char zeros[JP_TAR_RECORD + 2 * JP_TAR_BLOCK];
    jp_buf_t h = JP_BUF_INIT, full = JP_BUF_INIT;
    jp_status_t st = JP_OK;
    if (*top) {
        st = jp_buf_printf(&full, "%s/", top);
        if (!st) st = jp_tar_put_header(&h, full.data, 0, true, mtime, err);
        if (!st) st = tar_put(t, h.data, h.len, err);
    }
    for (size_t i = 0; i < ents->n && !st; i++) {
        const ent_t *e = &ents->v[i];
        jp_buf_reset(&full);
        jp_buf_reset(&h);
        st = jp_buf_printf(&full, "%s%s%s%s", top, *top ? "/" : "", e->rel, e->is_dir ? "/" : "");
        if (st) break;
        st = jp_tar_put_header(&h, full.data, e->data.len, e->is_dir, mtime, err);
        if (!st) st = tar_put(t, h.data, h.len, err);
        if (!st && e->data.len) st = tar_put(t, e->data.data, e->data.len, err);
        if (!st) st = tar_put(t, zeros, jp_tar_pad_len(e->data.len), err);
    }
    if (!st) st = tar_put(t, zeros, jp_tar_end_len(t->total), err);
    jp_buf_free(&h);
    jp_buf_free(&full);
    return st;
}

static jp_status_t zip_sink(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    jp_status_t st = account(ctx, n, err);
    return st ? st : file_sink(ctx, p, n, err);
}

static jp_status_t write_zip(const ents_t *ents, const char *top, int64_t mtime,
                             const jp_export_opts_t *o, outfile_t *of, int level, jp_error_t *err)
{
    jp_zip_writer_t w;
    jp_zip_writer_init(&w, zip_sink, of, mtime);
    w.force_zip64 = o->zip64;
    jp_buf_t full = JP_BUF_INIT, z = JP_BUF_INIT;
    jp_status_t st = JP_OK;
    if (*top) {
        st = jp_buf_printf(&full, "%s/", top);
        if (!st) st = jp_zip_add(&w, full.data, true, 0, NULL, 0, 0, 0, err);
    }
    for (size_t i = 0; i < ents->n && !st; i++) {
        const ent_t *e = &ents->v[i];
        jp_buf_reset(&full);
        jp_buf_reset(&z);
        st = jp_buf_printf(&full, "%s%s%s%s", top, *top ? "/" : "", e->rel, e->is_dir ? "/" : "");
        if (st) break;
        if (e->is_dir) {
            st = jp_zip_add(&w, full.data, true, 0, NULL, 0, 0, 0, err);
            continue;
        }
        uint32_t crc = 0;
        st = jp_arc_deflate(e->data.data ? e->data.data : "", e->data.len, level, o->threads, &z,
                            &crc, err);
        if (st) break;
        /* deflate only when it pays, as zip tools do; the choice is deterministic */
        if (z.len < e->data.len)
            st = jp_zip_add(&w, full.data, false, 8, z.data, z.len, crc, e->data.len, err);
        else
            st = jp_zip_add(&w, full.data, false, 0, e->data.data, e->data.len, crc, e->data.len,
                            err);
    }
    if (!st) st = jp_zip_finish(&w, err);
    jp_zip_writer_free(&w);
    jp_buf_free(&full);
    jp_buf_free(&z);
    return st;
}

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

jp_status_t jp_archive_export(const char *path, jp_dataset_t *const *ds, size_t n,
                              const jp_export_opts_t *opts, jp_error_t *err)
{
    jp_export_opts_t defaults;
    if (!opts) {
        jp_export_opts_init(&defaults);
        opts = &defaults;
    }
    jp_formats_init();
    jp_archive_kind_t kind = opts->kind ? opts->kind : jp_archive_kind_for_path(path);
    if (kind == JP_ARCHIVE_NONE)
        return jp_error_set(err, JP_ERR_ARG,
                            "%s: cannot tell the archive kind from the name (use .tar.gz, .tgz, "
                            ".tar or .zip)",
                            path);
    int level = opts->level ? opts->level : 6;
    if (level < 1 || level > 9)
        return jp_error_set(err, JP_ERR_ARG, "compression level %d (use 1..9)", opts->level);
    if (opts->threads < 0) return jp_error_set(err, JP_ERR_ARG, "threads must be >= 0");
    int threads = opts->threads ? opts->threads : jp_ncpus();
    const char *fmt = opts->format ? opts->format : "csv";
    const jp_format_t *f = jp_format_find(fmt);
    if (!f) return jp_error_set(err, JP_ERR_FORMAT, "unknown data format '%s'", fmt);
    if (!f->write_mem || !f->read_mem)
        return jp_error_set(err, JP_ERR_FORMAT,
                            "format '%s' cannot be written to and read from memory, so it "
                            "cannot go into an archive",
                            fmt);
    if (n == 0) return jp_error_set(err, JP_ERR_ARG, "%s: no datasets to export", path);
    int64_t mtime = 0;
    jp_status_t st = resolve_mtime(opts, &mtime, err);
    if (st) return st;

    char stem[256];
    jp_buf_t topb = JP_BUF_INIT;
    if (opts->top)
        st = jp_buf_puts(&topb, opts->top);
    else
        st = jp_buf_puts(&topb, jp_path_stem(path, stem, sizeof stem));
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (topb.len) {
        char *norm = NULL;
        bool d;
        jp_error_t e2;
        if (jp_archive_name_check(path, topb.data, topb.len, &norm, &d, &e2) || !norm ||
            strchr(norm, '/')) {
            jp_free(norm);
            jp_buf_free(&topb);
            return jp_error_set(err, JP_ERR_ARG,
                                "top directory '%s' must be one plain name (no '/', '..')",
                                opts->top ? opts->top : "");
        }
        jp_buf_reset(&topb);
        st = jp_buf_puts(&topb, norm);
        jp_free(norm);
        if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    const char *top = topb.data ? topb.data : "";
    const char *ext = f->extensions && f->extensions[0] ? f->extensions[0] : ".dat";

    dsrec_t *recs = jp_calloc(n, sizeof *recs);
    ents_t ents = {0};
    jp_buf_t man = JP_BUF_INIT, sums = JP_BUF_INIT;
    if (!recs) {
        jp_buf_free(&topb);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    st = ents_add(&ents, "data", true, NULL, err);
    for (size_t i = 0; i < n && !st; i++) {
        dsrec_t *r = &recs[i];
        r->ds = ds[i];
        r->format = f->name;
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
        if (!st) st = serialise(r, opts, f, &ents, err);
    }
    if (!st) {
        qsort(ents.v, ents.n, sizeof *ents.v, ent_cmp);
        st = manifest_text(recs, n, &ents, mtime, &man, err);
    }
    if (!st) {
        /* sha256sum -c input: every file so far plus the manifest */
        unsigned char d[JP_SHA256_LEN];
        char hex[JP_SHA256_HEX];
        st = jp_sha256(man.data, man.len, d, err);
        for (size_t i = 0; i < ents.n && !st; i++)
            if (!ents.v[i].is_dir)
                st = jp_buf_printf(&sums, "%s  %s\n", jp_sha256_hex(ents.v[i].sha, hex),
                                   ents.v[i].rel);
        if (!st) st = jp_buf_printf(&sums, "%s  %s\n", jp_sha256_hex(d, hex), JP_ARCHIVE_MANIFEST);
        if (!st) st = ents_add(&ents, JP_ARCHIVE_MANIFEST, false, &man, err);
        if (!st) st = ents_add(&ents, JP_ARCHIVE_SUMS, false, &sums, err);
        if (!st) qsort(ents.v, ents.n, sizeof *ents.v, ent_cmp);
    }
    if (!st) {
        outfile_t of;
        memset(&of, 0, sizeof of);
        of.path = path;
        of.fail_after = opts->fail_after;
        of.o = opts;
        st = jp_atomic_open(&of.af, path, err);
        if (!st) {
            if (kind == JP_ARCHIVE_ZIP) {
                st = write_zip(&ents, top, mtime, opts, &of, level, err);
            } else {
                tarw_t t = {NULL, &of, 0};
                if (kind == JP_ARCHIVE_TGZ)
                    st = jp_arc_gz_open(&t.gz, of.af.fp, level, threads, err);
                if (!st) st = write_tar(&ents, top, mtime, &t, err);
                if (t.gz) {
                    if (!st)
                        st = jp_arc_gz_finish(t.gz, err);
                    else
                        jp_arc_gz_free(t.gz);
                }
            }
            if (!st)
                st = jp_atomic_commit(&of.af, err);
            else
                jp_atomic_abort(&of.af);
        }
    }
    for (size_t i = 0; i < n; i++) dsrec_free(&recs[i]);
    jp_free(recs);
    ents_free(&ents);
    jp_buf_free(&man);
    jp_buf_free(&sums);
    jp_buf_free(&topb);
    return st;
}
