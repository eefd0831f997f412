/*
 * jp_archive_read.c - opening, verifying and loading from archives
 * (.tar.gz, .tar, .zip).  Owns the scan of every entry (names checked,
 * data hashed, resource limits enforced), the manifest and checksum-file
 * parsers, and the reassembly of datasets from their data and schema
 * members.  Never extracts to disk and never trusts a size or name it has
 * not checked; memory stays bounded by the members actually loaded.
 */
#include "jp_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>
#include "jp_archive_int.h"
#include "jp_file.h"
#include "jp_mem.h"
#include "jp_sha256.h"
#include "jp_tar.h"
#include "jp_yaml.h"
#include "jp_zip.h"

#define TEXT_MAX ((uint64_t)64 << 20) /* manifest and checksum file */

void jp_archive_limits_init(jp_archive_limits_t *l)
{
    l->max_total = (uint64_t)16 << 30;
    l->max_member = (uint64_t)4 << 30;
    l->max_entries = 100000;
    l->max_ratio = 1000.0;
}

typedef struct aent {
    char *name; /* full, normalised */
    const char *rel;
    bool is_dir;
    uint64_t size;
    unsigned char sha[JP_SHA256_LEN];
    char hex[JP_SHA256_HEX];
    char *damage; /* zip: why its data could not be read, or NULL */
    size_t zi;    /* zip: index in the central directory */
} aent_t;

typedef struct mqual {
    char *field, *column;
} mqual_t;

typedef struct mds {
    char *name, *title, *source, *source_file, *origin, *period, *license, *format, *data, *schema;
    long long rows, fields;
    mqual_t *q;
    size_t nq;
} mds_t;

typedef struct mfile {
    char *path;
    uint64_t size;
    char sha[JP_SHA256_HEX];
} mfile_t;

struct jp_archive {
    char *path;
    jp_archive_kind_t kind;
    jp_archive_limits_t lim;
    int fd;
    jp_zip_t zip;
    bool zip_open;
    aent_t *ents;
    size_t n, cap;
    char *top;
    /* manifest */
    bool has_manifest;
    char *manifest_error;
    char *version, *created;
    mds_t *ds;
    size_t nds;
    mfile_t *files;
    size_t nfiles;
    /* sha256sums.txt */
    bool has_sums;
    mfile_t *sums; /* size unused */
    size_t nsums;
    char **sums_errors;
    size_t nsums_errors;
    /* archives without a manifest: readable members by stem */
    char **foreign;      /* dataset names */
    size_t *foreign_ent; /* their entries */
    size_t nforeign;
};

/* ---- byte sources ----------------------------------------------------------- */

typedef struct src {
    int fd;
    const char *archive;
    const jp_archive_limits_t *lim;
    bool gz;
    z_stream z;
    bool z_inited, eof_in, finished;
    unsigned char in[65536];
    uint64_t in_total, out_total;
} src_t;

static jp_status_t fill(src_t *s, jp_error_t *err)
{
    if (s->eof_in) return JP_OK;
    if (s->z.avail_in && s->z.next_in != s->in) {
        memmove(s->in, s->z.next_in, s->z.avail_in);
    }
    s->z.next_in = s->in;
    for (;;) {
        ssize_t r = read(s->fd, s->in + s->z.avail_in, sizeof s->in - s->z.avail_in);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", s->archive);
        if (r == 0) s->eof_in = true;
        s->z.avail_in += (uInt)r;
        s->in_total += (uint64_t)r;
        return JP_OK;
    }
}

static jp_status_t check_limits(src_t *s, jp_error_t *err)
{
    if (s->out_total > s->lim->max_total)
        return jp_error_set(err, JP_ERR_LIMIT,
                            "%s: more than %llu bytes uncompressed (refused: raise the limit if "
                            "this is really wanted)",
                            s->archive, (unsigned long long)s->lim->max_total);
    if (s->gz && s->out_total > (1u << 20) &&
        (double)s->out_total > s->lim->max_ratio * (double)(s->in_total ? s->in_total : 1))
        return jp_error_set(err, JP_ERR_LIMIT,
                            "%s: compression ratio over %.0f (refused: a decompression bomb?)",
                            s->archive, s->lim->max_ratio);
    return JP_OK;
}

static jp_status_t src_read(void *ctx, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    src_t *s = ctx;
    *got = 0;
    jp_status_t st;
    if (!s->gz) {
        for (;;) {
            ssize_t r = read(s->fd, buf, n);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", s->archive);
            *got = (size_t)r;
            s->out_total += (uint64_t)r;
            return check_limits(s, err);
        }
    }
    while (*got == 0 && !s->finished && n) {
        if (s->z.avail_in == 0 && (st = fill(s, err))) return st;
        s->z.next_out = buf;
        s->z.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
        uInt before = s->z.avail_out;
        int r = inflate(&s->z, Z_NO_FLUSH);
        size_t k = before - s->z.avail_out;
        *got = k;
        s->out_total += k;
        if ((st = check_limits(s, err))) return st;
        if (r == Z_STREAM_END) {
            if (s->z.avail_in < 2 && (st = fill(s, err))) return st;
            if (s->z.avail_in == 0 && s->eof_in) {
                s->finished = true;
            } else if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
                inflateReset(&s->z); /* another gzip member follows */
            } else {
                return jp_error_set(err, JP_ERR_ARCHIVE,
                                    "%s: bytes after the end of the gzip data (refused)",
                                    s->archive);
            }
        } else if (r == Z_BUF_ERROR || r == Z_OK) {
            if (k == 0 && s->z.avail_in == 0 && s->eof_in)
                return jp_error_set(err, JP_ERR_ARCHIVE, "%s: truncated: the gzip data ends early",
                                    s->archive);
        } else {
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: corrupt gzip data (%s)", s->archive,
                                s->z.msg ? s->z.msg : "inflate failed");
        }
    }
    return JP_OK;
}

static void src_end(src_t *s)
{
    if (s->z_inited) inflateEnd(&s->z);
    s->z_inited = false;
}

static jp_status_t src_begin(src_t *s, jp_archive_t *a, jp_error_t *err)
{
    memset(s, 0, sizeof *s);
    s->fd = a->fd;
    s->archive = a->path;
    s->lim = &a->lim;
    s->gz = a->kind == JP_ARCHIVE_TGZ;
    if (lseek(a->fd, 0, SEEK_SET) < 0)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", a->path);
    if (s->gz) {
        if (inflateInit2(&s->z, 15 + 16) != Z_OK)
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory (inflate)");
        s->z_inited = true;
    }
    return JP_OK;
}

/* ---- walking the entries ------------------------------------------------------ */

/* What to do with one file entry's bytes. */
typedef struct take {
    bool hash;
    jp_buf_t *capture; /* or NULL */
    uint64_t limit;    /* capture limit */
} take_t;

typedef struct visitor {
    /* before the data of a file entry (dirs are reported with size 0) */
    jp_status_t (*begin)(struct visitor *v, const char *name, bool is_dir, uint64_t size, take_t *t,
                         jp_error_t *err);
    /* after; damage is set (and sha undefined) when a zip entry's data is bad */
    jp_status_t (*end)(struct visitor *v, const char *name, const unsigned char *sha,
                       const char *damage, jp_error_t *err);
    bool stop;
} visitor_t;

typedef struct sink {
    take_t *t;
    jp_sha256_t h;
    const char *archive, *name;
} sink_t;

static jp_status_t sink_put(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    sink_t *k = ctx;
    if (k->t->hash) jp_sha256_update(&k->h, p, n);
    if (k->t->capture) {
        if (k->t->capture->len + n > k->t->limit)
            return jp_error_set(err, JP_ERR_LIMIT, "%s: entry '%s' is larger than %llu bytes",
                                k->archive, k->name, (unsigned long long)k->t->limit);
        if (jp_buf_append(k->t->capture, p, n))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", k->name);
    }
    return JP_OK;
}

static void name_context(jp_error_t *err, const char *name)
{
    if (!err || !name || strstr(err->msg, name)) return;
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (in entry '%s')", name);
}

static jp_status_t walk_tar(jp_archive_t *a, visitor_t *v, jp_error_t *err)
{
    src_t s;
    jp_status_t st = src_begin(&s, a, err);
    if (st) return st;
    jp_tar_reader_t r;
    jp_tar_reader_init(&r, src_read, &s, a->path, a->lim.max_entries);
    unsigned char *buf = jp_malloc(131072);
    if (!buf) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    while (!st && !v->stop) {
        const jp_tar_entry_t *e;
        if ((st = jp_tar_next(&r, &e, err))) break;
        if (!e) break;
        take_t t = {false, NULL, 0};
        if ((st = v->begin(v, e->name, e->is_dir, e->size, &t, err))) break;
        sink_t k = {&t, {NULL}, a->path, e->name};
        if (t.hash && (st = jp_sha256_init(&k.h, err))) break;
        if (t.hash || t.capture) {
            for (;;) {
                size_t got;
                if ((st = jp_tar_read(&r, buf, 131072, &got, err))) break;
                if (!got) break;
                if ((st = sink_put(&k, buf, got, err))) break;
            }
        }
        unsigned char sha[JP_SHA256_LEN] = {0};
        if (t.hash) jp_sha256_final(&k.h, sha);
        if (st) {
            name_context(err, e->name);
            break;
        }
        st = v->end(v, e->name, sha, NULL, err);
    }
    jp_free(buf);
    jp_tar_reader_free(&r);
    src_end(&s);
    return st;
}

static jp_status_t walk_zip(jp_archive_t *a, visitor_t *v, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < a->zip.n && !st && !v->stop; i++) {
        jp_zip_entry_t *e = &a->zip.ents[i];
        take_t t = {false, NULL, 0};
        if ((st = v->begin(v, e->name, e->is_dir, e->usize, &t, err))) break;
        sink_t k = {&t, {NULL}, a->path, e->name};
        if (t.hash && (st = jp_sha256_init(&k.h, err))) break;
        jp_error_t e2;
        jp_error_clear(&e2);
        jp_status_t x = JP_OK;
        if (!e->is_dir && (t.hash || t.capture)) x = jp_zip_extract(&a->zip, i, sink_put, &k, &e2);
        unsigned char sha[JP_SHA256_LEN] = {0};
        if (t.hash) jp_sha256_final(&k.h, sha);
        if (x == JP_ERR_ARCHIVE) {
            st = v->end(v, e->name, sha, e2.msg, err);
        } else if (x) {
            if (err) *err = e2;
            st = x;
        } else {
            st = v->end(v, e->name, sha, NULL, err);
        }
    }
    return st;
}

static jp_status_t walk(jp_archive_t *a, visitor_t *v, jp_error_t *err)
{
    return a->kind == JP_ARCHIVE_ZIP ? walk_zip(a, v, err) : walk_tar(a, v, err);
}

/* ---- scanning at open ---------------------------------------------------------- */

typedef struct scan {
    visitor_t v;
    jp_archive_t *a;
    jp_buf_t cur_text; /* manifest / sums candidates */
    jp_buf_t manifest, sums;
    char *manifest_name, *sums_name;
    bool capturing;
} scan_t;

static bool is_named(const char *name, const char *base)
{
    /* "base" or "X/base" with one directory level */
    size_t n = strlen(name), k = strlen(base);
    if (n < k || strcmp(name + n - k, base) != 0) return false;
    if (n == k) return true;
    if (name[n - k - 1] != '/') return false;
    const char *slash = strchr(name, '/');
    return slash == name + n - k - 1;
}

static jp_status_t scan_begin(visitor_t *v, const char *name, bool is_dir, uint64_t size, take_t *t,
                              jp_error_t *err)
{
    scan_t *s = (scan_t *)v;
    jp_archive_t *a = s->a;
    s->capturing = false;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        aent_t *e = jp_realloc_array(a->ents, cap, sizeof *e);
        if (!e) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        a->ents = e;
        a->cap = cap;
    }
    aent_t *e = &a->ents[a->n];
    memset(e, 0, sizeof *e);
    e->name = jp_strdup(name);
    if (!e->name) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    e->is_dir = is_dir;
    e->size = size;
    e->zi = a->n;
    a->n++;
    if (is_dir) return JP_OK;
    t->hash = true;
    s->capturing = is_named(name, JP_ARCHIVE_MANIFEST) || is_named(name, JP_ARCHIVE_SUMS);
    if (s->capturing) {
        jp_buf_reset(&s->cur_text);
        t->capture = &s->cur_text;
        t->limit = TEXT_MAX;
        if (size > TEXT_MAX)
            return jp_error_set(err, JP_ERR_LIMIT, "%s: entry '%s' of %llu bytes is too large",
                                a->path, name, (unsigned long long)size);
    }
    return JP_OK;
}

static jp_status_t scan_end(visitor_t *v, const char *name, const unsigned char *sha,
                            const char *damage, jp_error_t *err)
{
    scan_t *s = (scan_t *)v;
    aent_t *e = &s->a->ents[s->a->n - 1];
    if (damage) {
        e->damage = jp_strdup(damage);
        if (!e->damage) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return JP_OK;
    }
    memcpy(e->sha, sha, JP_SHA256_LEN);
    jp_sha256_hex(sha, e->hex);
    if (s->capturing) {
        bool man = is_named(name, JP_ARCHIVE_MANIFEST);
        jp_buf_t *dst = man ? &s->manifest : &s->sums;
        char **nm = man ? &s->manifest_name : &s->sums_name;
        if (*nm) {
            /* two candidates at different places: neither can be trusted */
            jp_free(*nm);
            *nm = jp_strdup("");
        } else {
            *nm = jp_strdup(name);
            jp_buf_free(dst);
            *dst = s->cur_text;
            memset(&s->cur_text, 0, sizeof s->cur_text);
        }
        if (!*nm) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    return JP_OK;
}

/* ---- manifest ---------------------------------------------------------------- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool dup_opt(char **dst, yaml_node_t *n)
{
    const char *s = scalar(n);
    if (!s) return true;
    *dst = jp_strdup(s);
    return *dst != NULL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static void set_manifest_error(jp_archive_t *a, const char *fmt, const char *detail)
{
    if (a->manifest_error) return;
    char buf[512];
    snprintf(buf, sizeof buf, fmt, detail ? detail : "");
    a->manifest_error = jp_strdup(buf);
}

static void parse_manifest(jp_archive_t *a, const jp_buf_t *text)
{
    yaml_parser_t p;
    yaml_document_t d;
    if (!yaml_parser_initialize(&p)) {
        set_manifest_error(a, "out of memory%s", NULL);
        return;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(text->data ? text->data : ""),
                                 text->len);
    if (!yaml_parser_load(&p, &d)) {
        char where[300];
        snprintf(where, sizeof where, "line %zu: %s", p.problem_mark.line + 1,
                 p.problem ? p.problem : "malformed YAML");
        set_manifest_error(a, "unreadable: %s", where);
        yaml_parser_delete(&p);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    const char *layout = scalar(map_get(&d, root, "jinpu_archive"));
    if (!root || root->type != YAML_MAPPING_NODE || !layout) {
        set_manifest_error(a, "not a jinpu archive manifest (no 'jinpu_archive' key)%s", NULL);
        goto done;
    }
    if (strcmp(layout, "1") != 0) {
        set_manifest_error(a, "archive layout version %s is newer than this jinpu reads", layout);
        goto done;
    }
    if (!dup_opt(&a->version, map_get(&d, root, "jinpu_version")) ||
        !dup_opt(&a->created, map_get(&d, root, "created")))
        goto nomem;
    yaml_node_t *dl = map_get(&d, root, "datasets");
    yaml_node_t *fl = map_get(&d, root, "files");
    if (!dl || dl->type != YAML_SEQUENCE_NODE || !fl || fl->type != YAML_SEQUENCE_NODE) {
        set_manifest_error(a, "'datasets' and 'files' must be lists%s", NULL);
        goto done;
    }
    size_t nd = (size_t)(dl->data.sequence.items.top - dl->data.sequence.items.start);
    size_t nf = (size_t)(fl->data.sequence.items.top - fl->data.sequence.items.start);
    a->ds = jp_calloc(nd ? nd : 1, sizeof *a->ds);
    a->files = jp_calloc(nf ? nf : 1, sizeof *a->files);
    if (!a->ds || !a->files) goto nomem;
    for (size_t i = 0; i < nd; i++) {
        yaml_node_t *m = yaml_document_get_node(&d, dl->data.sequence.items.start[i]);
        mds_t *x = &a->ds[a->nds];
        const char *name = scalar(map_get(&d, m, "name"));
        const char *data = scalar(map_get(&d, m, "data"));
        const char *schema = scalar(map_get(&d, m, "schema"));
        if (!name || !data || !schema) {
            set_manifest_error(a, "dataset %s lacks name, data or schema",
                               name ? name : "(unnamed)");
            goto done;
        }
        a->nds++;
        if (!dup_opt(&x->name, map_get(&d, m, "name")) ||
            !dup_opt(&x->title, map_get(&d, m, "title")) ||
            !dup_opt(&x->source, map_get(&d, m, "source")) ||
            !dup_opt(&x->source_file, map_get(&d, m, "source_file")) ||
            !dup_opt(&x->origin, map_get(&d, m, "origin")) ||
            !dup_opt(&x->period, map_get(&d, m, "period")) ||
            !dup_opt(&x->license, map_get(&d, m, "license")) ||
            !dup_opt(&x->format, map_get(&d, m, "format")) ||
            !dup_opt(&x->data, map_get(&d, m, "data")) ||
            !dup_opt(&x->schema, map_get(&d, m, "schema")))
            goto nomem;
        uint64_t u;
        x->rows = parse_u64(scalar(map_get(&d, m, "rows")), &u) ? (long long)u : -1;
        x->fields = parse_u64(scalar(map_get(&d, m, "fields")), &u) ? (long long)u : -1;
        yaml_node_t *ql = map_get(&d, m, "qualifier_columns");
        if (ql && ql->type == YAML_SEQUENCE_NODE) {
            size_t nq = (size_t)(ql->data.sequence.items.top - ql->data.sequence.items.start);
            x->q = jp_calloc(nq ? nq : 1, sizeof *x->q);
            if (!x->q) goto nomem;
            for (size_t k = 0; k < nq; k++) {
                yaml_node_t *qm = yaml_document_get_node(&d, ql->data.sequence.items.start[k]);
                if (!scalar(map_get(&d, qm, "field")) || !scalar(map_get(&d, qm, "column"))) {
                    set_manifest_error(a, "dataset %s: malformed qualifier_columns", x->name);
                    goto done;
                }
                if (!dup_opt(&x->q[x->nq].field, map_get(&d, qm, "field")) ||
                    !dup_opt(&x->q[x->nq].column, map_get(&d, qm, "column")))
                    goto nomem;
                x->nq++;
            }
        }
    }
    for (size_t i = 0; i < nf; i++) {
        yaml_node_t *m = yaml_document_get_node(&d, fl->data.sequence.items.start[i]);
        const char *path = scalar(map_get(&d, m, "path"));
        const char *sha = scalar(map_get(&d, m, "sha256"));
        uint64_t size;
        if (!path || !sha || !jp_sha256_is_hex(sha) ||
            !parse_u64(scalar(map_get(&d, m, "size")), &size)) {
            set_manifest_error(a, "file entry %s lacks a path, a size or a SHA-256",
                               path ? path : "(unnamed)");
            goto done;
        }
        mfile_t *f = &a->files[a->nfiles];
        f->path = jp_strdup(path);
        if (!f->path) goto nomem;
        a->nfiles++;
        f->size = size;
        for (int k = 0; k < 65; k++)
            f->sha[k] = (char)(sha[k] >= 'A' && sha[k] <= 'F' ? sha[k] + 32 : sha[k]);
    }
    goto done;
nomem:
    set_manifest_error(a, "out of memory%s", NULL);
done:
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
}

static void parse_sums(jp_archive_t *a, const jp_buf_t *text)
{
    const char *s = text->data ? text->data : "";
    size_t lines = 1;
    for (size_t i = 0; i < text->len; i++) lines += s[i] == '\n';
    a->sums = jp_calloc(lines, sizeof *a->sums);
    a->sums_errors = jp_calloc(lines, sizeof *a->sums_errors);
    if (!a->sums || !a->sums_errors) return;
    size_t i = 0, lineno = 0;
    while (i < text->len) {
        size_t j = i;
        while (j < text->len && s[j] != '\n') j++;
        lineno++;
        size_t len = j - i;
        const char *l = s + i;
        i = j + 1;
        if (len == 0) continue;
        /* "HEX  path" (text mode) or "HEX *path" (binary mode) */
        if (len < 67 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*')) {
            char buf[128];
            snprintf(buf, sizeof buf, "line %zu is not '<sha256>  <file>'", lineno);
            a->sums_errors[a->nsums_errors++] = jp_strdup(buf);
            continue;
        }
        char hex[JP_SHA256_HEX];
        memcpy(hex, l, 64);
        hex[64] = '\0';
        if (!jp_sha256_is_hex(hex)) {
            char buf[128];
            snprintf(buf, sizeof buf, "line %zu has a malformed digest", lineno);
            a->sums_errors[a->nsums_errors++] = jp_strdup(buf);
            continue;
        }
        mfile_t *f = &a->sums[a->nsums];
        f->path = jp_strndup(l + 66, len - 66);
        if (!f->path) return;
        for (int k = 0; k < 65; k++)
            f->sha[k] = (char)(hex[k] >= 'A' && hex[k] <= 'F' ? hex[k] + 32 : hex[k]);
        a->nsums++;
    }
}

static const char *rel_of(const jp_archive_t *a, const char *name)
{
    size_t t = strlen(a->top);
    if (t && strncmp(name, a->top, t) == 0 && name[t] == '/') return name + t + 1;
    if (t && strcmp(name, a->top) == 0) return "";
    return name;
}

/* Foreign archives: members that a registered format reads from memory. */
static void find_foreign(jp_archive_t *a)
{
    a->foreign = jp_calloc(a->n ? a->n : 1, sizeof *a->foreign);
    a->foreign_ent = jp_calloc(a->n ? a->n : 1, sizeof *a->foreign_ent);
    if (!a->foreign || !a->foreign_ent) return;
    for (size_t i = 0; i < a->n; i++) {
        if (a->ents[i].is_dir || a->ents[i].damage) continue;
        const jp_format_t *f = jp_format_for_path(a->ents[i].name);
        if (!f || !f->read_mem || f == &jp_format_archive) continue;
        char stem[256];
        jp_path_stem(a->ents[i].name, stem, sizeof stem);
        bool dup = false;
        for (size_t k = 0; k < a->nforeign; k++) dup |= strcmp(a->foreign[k], stem) == 0;
        if (dup) continue;
        a->foreign[a->nforeign] = jp_strdup(stem);
        if (!a->foreign[a->nforeign]) return;
        a->foreign_ent[a->nforeign++] = i;
    }
}

jp_status_t jp_archive_open(const char *path, const jp_archive_limits_t *lim, jp_archive_t **out,
                            jp_error_t *err)
{
    *out = NULL;
    jp_formats_init();
    jp_archive_t *a = jp_calloc(1, sizeof *a);
    if (!a) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    a->fd = -1;
    a->path = jp_strdup(path);
    if (!a->path) {
        jp_free(a);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (lim)
        a->lim = *lim;
    else
        jp_archive_limits_init(&a->lim);
    jp_status_t st = JP_OK;
    a->fd = open(path, O_RDONLY);
    if (a->fd < 0) {
        int e = errno;
        st = jp_error_errno(err, e == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, e, "cannot open %s",
                            path);
        goto fail;
    }
    unsigned char head[512];
    ssize_t hn = pread(a->fd, head, sizeof head, 0);
    if (hn < 0) {
        st = jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", path);
        goto fail;
    }
    if (hn >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        a->kind = JP_ARCHIVE_TGZ;
    else if (hn >= 4 && head[0] == 'P' && head[1] == 'K' &&
             ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        a->kind = JP_ARCHIVE_ZIP;
    else if (hn == 512 && memcmp(head + 257, "ustar", 5) == 0)
        a->kind = JP_ARCHIVE_TAR;
    else {
        jp_archive_kind_t k = jp_archive_kind_for_path(path);
        if (k == JP_ARCHIVE_NONE || hn == 0) {
            st = jp_error_set(err, JP_ERR_FORMAT,
                              "%s: not an archive jinpu reads (.tar.gz, .tgz, .tar or .zip)%s",
                              path, hn == 0 ? " (the file is empty)" : "");
            goto fail;
        }
        /* named like one but not one: corrupt rather than foreign */
        st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: does not start like a %s archive (corrupt?)",
                          path,
                          k == JP_ARCHIVE_ZIP   ? "zip"
                          : k == JP_ARCHIVE_TAR ? "tar"
                                                : "gzip");
        goto fail;
    }
    if (a->kind == JP_ARCHIVE_ZIP) {
        jp_zip_limits_t zl = {a->lim.max_entries, a->lim.max_total, a->lim.max_ratio};
        if ((st = jp_zip_open(&a->zip, a->fd, a->path, &zl, err))) goto fail;
        a->zip_open = true;
    }
    scan_t s;
    memset(&s, 0, sizeof s);
    s.v.begin = scan_begin;
    s.v.end = scan_end;
    s.a = a;
    st = walk(a, &s.v, err);
    jp_buf_free(&s.cur_text);
    if (!st) {
        /* the top directory: where the manifest is, else a common first component */
        const char *mn = s.manifest_name && *s.manifest_name ? s.manifest_name : NULL;
        a->has_manifest = mn != NULL;
        if (mn) {
            const char *sl = strchr(mn, '/');
            a->top = jp_strndup(mn, sl ? (size_t)(sl - mn) : 0);
        } else {
            const char *first = a->n ? a->ents[0].name : "";
            const char *sl = strchr(first, '/');
            size_t tl = sl ? (size_t)(sl - first) : strlen(first);
            bool common = a->n > 0;
            for (size_t i = 0; i < a->n && common; i++) {
                const char *nm = a->ents[i].name;
                common = strncmp(nm, first, tl) == 0 &&
                         (nm[tl] == '/' || (nm[tl] == 0 && a->ents[i].is_dir));
            }
            a->top = jp_strndup(first, common ? tl : 0);
        }
        if (!a->top) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        if (s.manifest_name && !*s.manifest_name)
            set_manifest_error(a, "more than one manifest.yaml%s", NULL);
        if (mn) parse_manifest(a, &s.manifest);
        a->has_sums = s.sums_name && *s.sums_name;
        if (a->has_sums) {
            const char *sl = strchr(s.sums_name, '/');
            size_t tl = sl ? (size_t)(sl - s.sums_name) : 0;
            if (a->top && (strlen(a->top) != tl || strncmp(a->top, s.sums_name, tl) != 0))
                a->has_sums = false; /* not beside the manifest */
            else
                parse_sums(a, &s.sums);
        }
        for (size_t i = 0; a->top && i < a->n; i++) a->ents[i].rel = rel_of(a, a->ents[i].name);
        if (!st && !a->has_manifest) find_foreign(a);
    }
    jp_buf_free(&s.manifest);
    jp_buf_free(&s.sums);
    jp_free(s.manifest_name);
    jp_free(s.sums_name);
    if (st) goto fail;
    *out = a;
    return JP_OK;
fail:
    jp_archive_close(a);
    return st;
}

void jp_archive_close(jp_archive_t *a)
{
    if (!a) return;
    if (a->zip_open) jp_zip_close(&a->zip);
    if (a->fd >= 0) close(a->fd);
    for (size_t i = 0; i < a->n; i++) {
        jp_free(a->ents[i].name);
        jp_free(a->ents[i].damage);
    }
    jp_free(a->ents);
    for (size_t i = 0; i < a->nds; i++) {
        mds_t *x = &a->ds[i];
        jp_free(x->name), jp_free(x->title), jp_free(x->source), jp_free(x->source_file);
        jp_free(x->origin), jp_free(x->period), jp_free(x->license), jp_free(x->format);
        jp_free(x->data), jp_free(x->schema);
        for (size_t k = 0; k < x->nq; k++) jp_free(x->q[k].field), jp_free(x->q[k].column);
        jp_free(x->q);
    }
    jp_free(a->ds);
    for (size_t i = 0; i < a->nfiles; i++) jp_free(a->files[i].path);
    jp_free(a->files);
    for (size_t i = 0; i < a->nsums; i++) jp_free(a->sums[i].path);
    jp_free(a->sums);
    for (size_t i = 0; i < a->nsums_errors; i++) jp_free(a->sums_errors[i]);
    jp_free(a->sums_errors);
    for (size_t i = 0; i < a->nforeign; i++) jp_free(a->foreign[i]);
    jp_free(a->foreign);
    jp_free(a->foreign_ent);
    jp_free(a->manifest_error);
    jp_free(a->version);
    jp_free(a->created);
    jp_free(a->top);
    jp_free(a->path);
    jp_free(a);
}

/* ---- accessors ----------------------------------------------------------------- */

jp_archive_kind_t jp_archive_kind(const jp_archive_t *a)
{
    return a->kind;
}

size_t jp_archive_count(const jp_archive_t *a)
{
    return a->has_manifest ? a->nds : a->nforeign;
}

const char *jp_archive_name(const jp_archive_t *a, size_t i)
{
    if (i >= jp_archive_count(a)) return NULL;
    return a->has_manifest ? a->ds[i].name : a->foreign[i];
}

const char *jp_archive_version(const jp_archive_t *a)
{
    return a->version;
}
const char *jp_archive_created(const jp_archive_t *a)
{
    return a->created;
}
const char *jp_archive_top(const jp_archive_t *a)
{
    return a->top ? a->top : "";
}

size_t jp_archive_file_count(const jp_archive_t *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) k += !a->ents[i].is_dir;
    return k;
}

static const mfile_t *find_file(const mfile_t *v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].path, path) == 0) return &v[i];
    return NULL;
}

void jp_archive_file_at(const jp_archive_t *a, size_t i, jp_archive_file_info_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < a->n; k++) {
        if (a->ents[k].is_dir) continue;
        if (i-- == 0) {
            const aent_t *e = &a->ents[k];
            out->path = e->rel;
            out->size = e->size;
            out->sha256 = e->damage ? "" : e->hex;
            out->listed = find_file(a->files, a->nfiles, e->rel) ||
                          find_file(a->sums, a->nsums, e->rel) ||
                          (a->has_sums && strcmp(e->rel, JP_ARCHIVE_SUMS) == 0);
            return;
        }
    }
}

void jp_archive_dataset_at(const jp_archive_t *a, size_t i, jp_archive_ds_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->rows = out->fields = -1;
    if (i >= jp_archive_count(a)) return;
    if (!a->has_manifest) {
        out->name = a->foreign[i];
        out->data = a->ents[a->foreign_ent[i]].rel;
        return;
    }
    const mds_t *x = &a->ds[i];
    out->name = x->name;
    out->title = x->title;
    out->source = x->source;
    out->source_file = x->source_file;
    out->origin = x->origin;
    out->format = x->format;
    out->data = x->data;
    out->schema = x->schema;
    out->rows = x->rows;
    out->fields = x->fields;
}

/* ---- verify ---------------------------------------------------------------------- */

static jp_status_t problem(jp_archive_problems_t *p, const char *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static jp_status_t problem(jp_archive_problems_t *p, const char *entry, const char *fmt, ...)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        jp_archive_problem_t *v = jp_realloc_array(p->v, cap, sizeof *v);
        if (!v) return JP_ERR_NOMEM;
        p->v = v;
        p->cap = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->v[p->n].entry = jp_strdup(entry ? entry : "");
    p->v[p->n].msg = jp_strdup(msg);
    if (!p->v[p->n].entry || !p->v[p->n].msg) {
        jp_free(p->v[p->n].entry);
        jp_free(p->v[p->n].msg);
        return JP_ERR_NOMEM;
    }
    p->n++;
    return JP_OK;
}

void jp_archive_problems_free(jp_archive_problems_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        jp_free(p->v[i].entry);
        jp_free(p->v[i].msg);
    }
    jp_free(p->v);
    memset(p, 0, sizeof *p);
}

static const aent_t *find_ent(const jp_archive_t *a, const char *rel)
{
    for (size_t i = 0; i < a->n; i++)
        if (!a->ents[i].is_dir && strcmp(a->ents[i].rel, rel) == 0) return &a->ents[i];
    return NULL;
}

static jp_status_t check_list(const jp_archive_t *a, const mfile_t *v, size_t n, const char *by,
                              bool sizes, jp_archive_problems_t *p)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && !st; i++) {
        const aent_t *e = find_ent(a, v[i].path);
        if (!e) {
            st = problem(p, v[i].path, "listed in %s but missing from the archive", by);
            continue;
        }
        if (e->damage) continue; /* reported once, below */
        if (sizes && e->size != v[i].size)
            st = problem(p, v[i].path, "size %llu bytes, but %s says %llu",
                         (unsigned long long)e->size, by, (unsigned long long)v[i].size);
        if (!st && strcmp(e->hex, v[i].sha) != 0)
            st = problem(p, v[i].path,
                         "SHA-256 mismatch: %s says %.16s..., the contents hash to %.16s...", by,
                         v[i].sha, e->hex);
    }
    return st;
}

jp_status_t jp_archive_verify(jp_archive_t *a, jp_archive_problems_t *out, jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < a->n && !st; i++)
        if (a->ents[i].damage) st = problem(out, a->ents[i].rel, "%s", a->ents[i].damage);
    if (!st && !a->has_manifest)
        st = problem(out, JP_ARCHIVE_MANIFEST,
                     a->manifest_error ? "%s"
                                       : "missing: not a jinpu archive, nothing to check "
                                         "against%s",
                     a->manifest_error ? a->manifest_error : "");
    else if (!st && a->manifest_error)
        st = problem(out, JP_ARCHIVE_MANIFEST, "%s", a->manifest_error);
    if (!st && !a->has_sums) st = problem(out, JP_ARCHIVE_SUMS, "missing");
    for (size_t i = 0; i < a->nsums_errors && !st; i++)
        st = problem(out, JP_ARCHIVE_SUMS, "%s",
                     a->sums_errors[i] ? a->sums_errors[i] : "malformed line");
    if (!st) st = check_list(a, a->files, a->nfiles, JP_ARCHIVE_MANIFEST, true, out);
    if (!st) st = check_list(a, a->sums, a->nsums, JP_ARCHIVE_SUMS, false, out);
    for (size_t i = 0; i < a->n && !st; i++) {
        const aent_t *e = &a->ents[i];
        if (e->is_dir) continue;
        if (e->rel == e->name && *a->top) {
            st = problem(out, e->name, "outside the top directory '%s'", a->top);
            continue;
        }
        bool is_man = strcmp(e->rel, JP_ARCHIVE_MANIFEST) == 0;
        bool is_sums = strcmp(e->rel, JP_ARCHIVE_SUMS) == 0;
        if (a->has_manifest && !a->manifest_error && !is_man && !is_sums &&
            !find_file(a->files, a->nfiles, e->rel))
            st = problem(out, e->rel, "not listed in %s", JP_ARCHIVE_MANIFEST);
        if (!st && a->has_sums && !is_sums && !find_file(a->sums, a->nsums, e->rel))
            st = problem(out, e->rel, "not listed in %s", JP_ARCHIVE_SUMS);
    }
    for (size_t i = 0; i < a->nds && !st; i++) {
        const mds_t *x = &a->ds[i];
        if (!find_file(a->files, a->nfiles, x->data))
            st = problem(out, x->data, "data of dataset '%s' is not in the file list", x->name);
        if (!st && !find_file(a->files, a->nfiles, x->schema))
            st = problem(out, x->schema, "schema of dataset '%s' is not in the file list", x->name);
    }
    if (st) {
        jp_archive_problems_free(out);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    return JP_OK;
}

/* ---- load -------------------------------------------------------------------------- */

typedef struct grab {
    visitor_t v;
    jp_archive_t *a;
    const char *want[2];
    jp_buf_t got[2];
    unsigned char sha[2][JP_SHA256_LEN];
    bool have[2];
    int cur, left;
} grab_t;

static jp_status_t grab_begin(visitor_t *v, const char *name, bool is_dir, uint64_t size, take_t *t,
                              jp_error_t *err)
{
    grab_t *g = (grab_t *)v;
    g->cur = -1;
    if (is_dir) return JP_OK;
    const char *rel = rel_of(g->a, name);
    for (int i = 0; i < 2; i++) {
        if (g->want[i] && !g->have[i] && strcmp(rel, g->want[i]) == 0) {
            if (size > g->a->lim.max_member)
                return jp_error_set(err, JP_ERR_LIMIT,
                                    "%s: entry '%s' is %llu bytes, over the %llu-byte limit for "
                                    "one member",
                                    g->a->path, name, (unsigned long long)size,
                                    (unsigned long long)g->a->lim.max_member);
            g->cur = i;
            t->hash = true;
            t->capture = &g->got[i];
            t->limit = g->a->lim.max_member;
            /* the declared size may lie: reserve a bounded amount, grow as data comes */
            size_t want = size < ((uint64_t)64 << 20) ? (size_t)size + 1 : (size_t)64 << 20;
            if (jp_buf_reserve(&g->got[i], want))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", name);
        }
    }
    return JP_OK;
}

static jp_status_t grab_end(visitor_t *v, const char *name, const unsigned char *sha,
                            const char *damage, jp_error_t *err)
{
    grab_t *g = (grab_t *)v;
    if (g->cur < 0) return JP_OK;
    if (damage) return jp_error_set(err, JP_ERR_ARCHIVE, "%s", damage);
    (void)name;
    memcpy(g->sha[g->cur], sha, JP_SHA256_LEN);
    g->have[g->cur] = true;
    if (--g->left == 0) v->stop = true;
    return JP_OK;
}

static jp_status_t check_member(jp_archive_t *a, const char *rel, const jp_buf_t *b,
                                const unsigned char *sha, jp_error_t *err)
{
    const mfile_t *f = find_file(a->files, a->nfiles, rel);
    char hex[JP_SHA256_HEX];
    jp_sha256_hex(sha, hex);
    if (!f)
        return jp_error_set(err, JP_ERR_INVALID, "%s: entry '%s' is not in the manifest", a->path,
                            rel);
    if (f->size != b->len || strcmp(f->sha, hex) != 0)
        return jp_error_set(err, JP_ERR_INVALID,
                            "%s: entry '%s' does not match the manifest's %s (refusing to load "
                            "it; run jinpu verify)",
                            a->path, rel, f->size != b->len ? "size" : "SHA-256");
    return JP_OK;
}

static jp_status_t assemble(jp_archive_t *a, const mds_t *x, jp_dataset_t *sds, jp_dataset_t *dds,
                            jp_dataset_t **out, jp_error_t *err)
{
    jp_dataset_t *r = jp_dataset_new();
    if (!r) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = jp_meta_copy(&r->meta, &sds->meta);
    if (st) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < sds->schema.n_fields && !st; i++) {
        const jp_field_t *fd = &sds->schema.fields[i];
        long k = jp_dataset_find(dds, fd->name);
        if (k < 0) {
            st =
                jp_error_set(err, JP_ERR_ARCHIVE, "%s: dataset '%s': field '%s' is missing from %s",
                             a->path, x->name, fd->name, x->data);
            break;
        }
        jp_column_t *c = dds->cols[k];
        if (c->type != fd->type) {
            c = jp_column_cast(c, fd->type, err);
            if (!c) {
                st = err ? err->code : JP_ERR_TYPE;
                break;
            }
        } else {
            c = jp_column_ref(c);
        }
        for (size_t q = 0; q < x->nq && !st; q++) {
            if (strcmp(x->q[q].field, fd->name) != 0) continue;
            long qi = jp_dataset_find(dds, x->q[q].column);
            if (qi < 0 || dds->cols[qi]->type != JP_TYPE_STRING) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: dataset '%s': qualifier column '%s' is missing", a->path,
                                  x->name, x->q[q].column);
                break;
            }
            const jp_column_t *qc = dds->cols[qi];
            jp_column_t *cp = jp_column_copy(c);
            jp_column_unref(c);
            c = cp;
            if (!c || jp_column_alloc_quals(c)) {
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t row = 0; row < c->len && !st; row++) {
                if (jp_column_is_null(qc, row)) continue;
                size_t len;
                const char *s = jp_column_str(qc, row, &len);
                char nm[32];
                jp_qual_t ql;
                snprintf(nm, sizeof nm, "%.*s", (int)(len < 31 ? len : 31), s);
                if (len == 0) continue;
                if (!jp_qual_from_name(nm, &ql)) {
                    st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: unknown qualifier '%s'", x->data,
                                      nm);
                    jp_error_row(err, (long)row + 1);
                    jp_error_field(err, x->q[q].column);
                    break;
                }
                c->quals[row] = (uint8_t)ql;
            }
        }
        if (st) {
            if (c) jp_column_unref(c);
            break;
        }
        st = jp_dataset_add_column(r, fd, c, err);
    }
    if (!st) {
        /* keys live in the schema beside the fields: move a copy's over */
        jp_schema_t ks = JP_SCHEMA_INIT;
        if (jp_schema_copy(&ks, &sds->schema)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else {
            r->schema.primary_key = ks.primary_key;
            r->schema.n_primary_key = ks.n_primary_key;
            r->schema.foreign_keys = ks.foreign_keys;
            r->schema.n_foreign_keys = ks.n_foreign_keys;
            ks.primary_key = NULL;
            ks.n_primary_key = 0;
            ks.foreign_keys = NULL;
            ks.n_foreign_keys = 0;
            jp_schema_free(&ks);
        }
    }
    if (st) {
        jp_dataset_unref(r);
        return st;
    }
    *out = r;
    return JP_OK;
}

static const mds_t *find_ds(const jp_archive_t *a, const char *name)
{
    for (size_t i = 0; i < a->nds; i++)
        if (strcmp(a->ds[i].name, name) == 0) return &a->ds[i];
    return NULL;
}

static jp_status_t no_such(const jp_archive_t *a, const char *name, jp_error_t *err)
{
    char list[512] = "";
    size_t k = 0;
    for (size_t i = 0; i < jp_archive_count(a) && k + 2 < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
                              jp_archive_name(a, i));
    if (k >= sizeof list) k = sizeof list - 1;
    if (!name)
        return jp_error_set(err, JP_ERR_ARG,
                            "%s holds %zu datasets (%s): name the one to load (member option)",
                            a->path, jp_archive_count(a), list);
    return jp_error_set(err, JP_ERR_NOTFOUND, "%s: no dataset '%s' in the archive (it holds: %s)",
                        a->path, name, *list ? list : "nothing");
}

static jp_status_t load_foreign(jp_archive_t *a, const char *name, jp_dataset_t **out,
                                jp_error_t *err)
{
    size_t i = 0;
    if (!name) {
        if (a->nforeign != 1) return no_such(a, NULL, err);
    } else {
        while (i < a->nforeign && strcmp(a->foreign[i], name) != 0) i++;
        if (i == a->nforeign) return no_such(a, name, err);
    }
    const aent_t *e = &a->ents[a->foreign_ent[i]];
    grab_t g;
    memset(&g, 0, sizeof g);
    g.v.begin = grab_begin;
    g.v.end = grab_end;
    g.a = a;
    g.want[0] = e->rel;
    g.left = 1;
    jp_status_t st = walk(a, &g.v, err);
    if (!st && !g.have[0])
        st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s' vanished", a->path, e->name);
    if (!st && memcmp(g.sha[0], e->sha, JP_SHA256_LEN) != 0)
        st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s' changed while reading", a->path,
                          e->name);
    if (!st) {
        const jp_format_t *f = jp_format_for_path(e->name);
        char where[1024];
        snprintf(where, sizeof where, "%s#%s", a->path, e->rel);
        jp_read_opts_t ro;
        jp_read_opts_init(&ro);
        ro.name = a->foreign[i];
        st = f->read_mem(where, g.got[0].data ? g.got[0].data : "", g.got[0].len, &ro, out, err);
    }
    jp_buf_free(&g.got[0]);
    return st;
}

jp_status_t jp_archive_load(jp_archive_t *a, const char *name, jp_dataset_t **out, jp_error_t *err)
{
    *out = NULL;
    if (!a->has_manifest) return load_foreign(a, name, out, err);
    if (a->manifest_error)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: %s: %s", a->path, JP_ARCHIVE_MANIFEST,
                            a->manifest_error);
    const mds_t *x = NULL;
    if (!name && a->nds == 1)
        x = &a->ds[0];
    else if (name)
        x = find_ds(a, name);
    if (!x) return no_such(a, name, err);
    const jp_format_t *f = jp_format_find(x->format ? x->format : "csv");
    if (!f || !f->read_mem)
        return jp_error_set(err, JP_ERR_FORMAT,
                            "%s: dataset '%s' is stored as '%s', which this "
                            "jinpu cannot read from memory",
                            a->path, x->name, x->format ? x->format : "?");
    grab_t g;
    memset(&g, 0, sizeof g);
    g.v.begin = grab_begin;
    g.v.end = grab_end;
    g.a = a;
    g.want[0] = x->schema;
    g.want[1] = x->data;
    g.left = 2;
    jp_dataset_t *sds = NULL, *dds = NULL;
    jp_schema_t rs = JP_SCHEMA_INIT;
    jp_status_t st = walk(a, &g.v, err);
    for (int i = 0; i < 2 && !st; i++)
        if (!g.have[i])
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s' of dataset '%s' is missing",
                              a->path, g.want[i], x->name);
    for (int i = 0; i < 2 && !st; i++) st = check_member(a, g.want[i], &g.got[i], g.sha[i], err);
    char where[1024];
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->schema);
        jp_read_opts_t so;
        jp_read_opts_init(&so);
        st = jp_yaml_read_mem(where, g.got[0].data ? g.got[0].data : "", g.got[0].len, &so, &sds,
                              err);
    }
    if (!st) {
        /* the data is read with the stored schema, plus the qualifier columns as text */
        if (jp_schema_copy(&rs, &sds->schema))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t q = 0; q < x->nq && !st; q++) {
            jp_field_t fq;
            jp_field_init(&fq);
            fq.name = x->q[q].column;
            fq.type = JP_TYPE_STRING;
            st = jp_schema_add(&rs, &fq, err);
        }
    }
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->data);
        jp_read_opts_t ro;
        jp_read_opts_init(&ro);
        ro.schema = &rs;
        ro.name = x->name;
        ro.format = f->name;
        st = f->read_mem(where, g.got[1].data ? g.got[1].data : "", g.got[1].len, &ro, &dds, err);
        if (!st) st = jp_dataset_need_all(dds, err);
    }
    jp_buf_free(&g.got[0]);
    jp_buf_free(&g.got[1]);
    if (!st) st = assemble(a, x, sds, dds, out, err);
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->name);
        jp_dataset_set_origin(*out, where, dds->lines ? jp_column_ref(dds->lines) : NULL);
        (*out)->first_line = dds->first_line;
    }
    jp_schema_free(&rs);
    if (sds) jp_dataset_unref(sds);
    if (dds) jp_dataset_unref(dds);
    return st;
}

/* ---- describe ----------------------------------------------------------------------- */

jp_status_t jp_archive_describe(jp_archive_t *a, jp_buf_t *b, jp_error_t *err)
{
    static const char *const kinds[] = {"?", "tar.gz", "tar", "zip"};
    jp_status_t st = jp_buf_printf(b, "%s: %s archive", a->path, kinds[a->kind]);
    if (!st && a->version) st = jp_buf_printf(b, " written by jinpu %s", a->version);
    if (!st && a->created) st = jp_buf_printf(b, ", entries dated %s", a->created);
    if (!st) st = jp_buf_putc(b, '\n');
    if (!st && a->top && *a->top) st = jp_buf_printf(b, "  top directory: %s/\n", a->top);
    if (!st && !a->has_manifest) st = jp_buf_puts(b, "  no manifest.yaml: not written by jinpu\n");
    if (!st && a->manifest_error) st = jp_buf_printf(b, "  manifest: %s\n", a->manifest_error);
    if (!st) st = jp_buf_printf(b, "  datasets: %zu\n", jp_archive_count(a));
    for (size_t i = 0; i < jp_archive_count(a) && !st; i++) {
        jp_archive_ds_info_t d;
        jp_archive_dataset_at(a, i, &d);
        st = jp_buf_printf(b, "    %s", d.name);
        if (!st && d.rows >= 0) st = jp_buf_printf(b, ": %lld rows, %lld fields", d.rows, d.fields);
        if (!st && d.format) st = jp_buf_printf(b, ", %s", d.format);
        if (!st && d.title) st = jp_buf_printf(b, " - %s", d.title);
        if (!st) st = jp_buf_putc(b, '\n');
        if (!st && d.source) st = jp_buf_printf(b, "      source: %s\n", d.source);
    }
    size_t nf = jp_archive_file_count(a);
    if (!st) st = jp_buf_printf(b, "  files: %zu\n", nf);
    for (size_t i = 0; i < nf && !st; i++) {
        jp_archive_file_info_t fi;
        jp_archive_file_at(a, i, &fi);
        st = jp_buf_printf(b, "    %-40s %12llu bytes  sha256 %.16s%s\n", fi.path,
                           (unsigned long long)fi.size, *fi.sha256 ? fi.sha256 : "(unreadable)",
                           *fi.sha256 ? "..." : "");
    }
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

/* ---- the registry format ------------------------------------------------------------- */

static jp_status_t archive_read(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                                jp_error_t *err)
{
    jp_archive_t *a;
    *out = NULL;
    jp_status_t st = jp_archive_open(path, NULL, &a, err);
    if (st) return st;
    st = jp_archive_load(a, o ? o->member : NULL, out, err);
    jp_archive_close(a);
    return st;
}

static bool archive_sniff(const unsigned char *head, size_t n)
{
    /* gzip is left to the extension: .csv.gz is gzip too */
    return (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) ||
           (n >= 262 && memcmp(head + 257, "ustar", 5) == 0);
}

static const char *const archive_exts[] = {".tar.gz", ".tgz", ".tar", ".zip", NULL};

const jp_format_t jp_format_archive = {
    "archive",
    archive_exts,
    "jinpu archive (.tar.gz, .tgz, .tar, .zip): datasets with manifest",
    archive_sniff,
    archive_read,
    NULL,
    NULL,
    NULL};
