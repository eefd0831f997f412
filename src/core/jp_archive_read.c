/*
 * jp_archive_read.c - opening archives (.tar.gz, .tar, .zip): the byte
 * sources, the walk over every entry (names checked, data hashed, resource
 * limits enforced), the scan at open that finds the checksum files and
 * indexes the entries, the accessors, the description for people and the
 * registry format.  Checking is jp_archive_check.c's, loading
 * jp_archive_load.c's.  Never extracts to disk and never trusts a size or
 * name it has not checked; memory stays bounded by the members being read.
 */
#include "jp_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_archive_int.h"
#include "jp_file.h"
#include "jp_gzip.h"
#include "jp_mem.h"
#include "jp_sha256.h"
#include "jp_tar.h"
#include "jp_zip.h"

#define TEXT_MAX ((uint64_t)64 << 20) /* manifest and checksum file */

void jp_archive_limits_init(jp_archive_limits_t *l)
{
    memset(l, 0, sizeof *l);
    l->max_total = (uint64_t)16 << 30;
    l->max_member = (uint64_t)4 << 30;
    l->max_entries = 100000;
    l->max_ratio = 1000.0;
}
/* ---- byte sources ----------------------------------------------------------- */

typedef struct src {
    int fd;
    const char *archive;
    const jp_archive_limits_t *lim;
    jp_gunzip_t *gz; /* .tar.gz: the shared gzip reader, with the same limits */
    uint64_t out_total;
} src_t;

static jp_status_t src_read(void *ctx, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    src_t *s = ctx;
    *got = 0;
    if (s->gz) {
        jp_status_t st = jp_gunzip_read(s->gz, buf, n, got, err);
        if (st != JP_ERR_PARSE) return st;
        if (err) err->code = JP_ERR_ARCHIVE; /* the archive is what is corrupt */
        return JP_ERR_ARCHIVE;
    }
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", s->archive);
        *got = (size_t)r;
        s->out_total += (uint64_t)r;
        if (s->out_total > s->lim->max_total)
            return jp_error_set(err, JP_ERR_LIMIT,
                                "%s: more than %llu bytes uncompressed (refused)", s->archive,
                                (unsigned long long)s->lim->max_total);
        return JP_OK;
    }
}

static void src_end(src_t *s)
{
    jp_gunzip_close(s->gz);
    s->gz = NULL;
}

static jp_status_t src_begin(src_t *s, jp_archive_t *a, jp_error_t *err)
{
    memset(s, 0, sizeof *s);
    s->fd = a->fd;
    s->archive = a->path;
    s->lim = &a->lim;
    if (lseek(a->fd, 0, SEEK_SET) < 0)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", a->path);
    if (a->kind == JP_ARCHIVE_TGZ) {
        jp_gunzip_limits_t gl = {a->lim.max_total, a->lim.max_ratio};
        if (!(s->gz = jp_gunzip_open_fd(a->fd, a->path, &gl, err)))
            return err ? err->code : JP_ERR_NOMEM;
    }
    return JP_OK;
}

/* ---- walking the entries ------------------------------------------------------ */

typedef struct sink {
    jp_arc_take_t *t;
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

static jp_status_t walk_tar(jp_archive_t *a, jp_arc_visitor_t *v, jp_error_t *err)
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
        jp_arc_take_t t = {false, NULL, 0};
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

static jp_status_t walk_zip(jp_archive_t *a, jp_arc_visitor_t *v, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < a->zip.n && !st && !v->stop; i++) {
        jp_zip_entry_t *e = &a->zip.ents[i];
        jp_arc_take_t t = {false, NULL, 0};
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

jp_status_t jp_arc_walk(jp_archive_t *a, jp_arc_visitor_t *v, jp_error_t *err)
{
    return a->kind == JP_ARCHIVE_ZIP ? walk_zip(a, v, err) : walk_tar(a, v, err);
}

/* ---- scanning at open ---------------------------------------------------------- */

typedef struct scan {
    jp_arc_visitor_t v;
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

static jp_status_t scan_begin(jp_arc_visitor_t *v, const char *name, bool is_dir, uint64_t size,
                              jp_arc_take_t *t, jp_error_t *err)
{
    scan_t *s = (scan_t *)v;
    jp_archive_t *a = s->a;
    s->capturing = false;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        jp_arc_ent_t *e = jp_realloc_array(a->ents, cap, sizeof *e);
        if (!e) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        a->ents = e;
        a->cap = cap;
    }
    jp_arc_ent_t *e = &a->ents[a->n];
    memset(e, 0, sizeof *e);
    e->name = jp_strdup(name);
    if (!e->name) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    e->is_dir = is_dir;
    e->size = size;
    a->n++;
    if (is_dir) return JP_OK;
    t->hash = true;
    bool man = is_named(name, JP_ARCHIVE_MANIFEST);
    s->capturing = man || is_named(name, JP_ARCHIVE_SUMS);
    if (s->capturing) {
        char **nm = man ? &s->manifest_name : &s->sums_name;
        if (*nm)
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: %s appears twice, as '%s' and '%s' (refused: which one is "
                                "meant?)",
                                a->path, man ? JP_ARCHIVE_MANIFEST : JP_ARCHIVE_SUMS, *nm, name);
        if (!(*nm = jp_strdup(name))) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_buf_reset(&s->cur_text);
        t->capture = &s->cur_text;
        t->limit = TEXT_MAX;
        if (size > TEXT_MAX)
            return jp_error_set(err, JP_ERR_LIMIT, "%s: entry '%s' of %llu bytes is too large",
                                a->path, name, (unsigned long long)size);
    }
    return JP_OK;
}

static jp_status_t scan_end(jp_arc_visitor_t *v, const char *name, const unsigned char *sha,
                            const char *damage, jp_error_t *err)
{
    scan_t *s = (scan_t *)v;
    jp_arc_ent_t *e = &s->a->ents[s->a->n - 1];
    if (damage) {
        e->damage = jp_strdup(damage);
        if (!e->damage) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return JP_OK;
    }
    memcpy(e->sha, sha, JP_SHA256_LEN);
    jp_sha256_hex(sha, e->hex);
    if (s->capturing) {
        jp_buf_t *dst = is_named(name, JP_ARCHIVE_MANIFEST) ? &s->manifest : &s->sums;
        jp_buf_free(dst);
        *dst = s->cur_text;
        memset(&s->cur_text, 0, sizeof s->cur_text);
    }
    return JP_OK;
}

const char *jp_arc_rel(const jp_archive_t *a, const char *name)
{
    size_t t = strlen(a->top);
    if (t && strncmp(name, a->top, t) == 0 && name[t] == '/') return name + t + 1;
    if (t && strcmp(name, a->top) == 0) return "";
    return name;
}

/* Foreign archives: members that a registered format reads from memory. */
typedef struct cand {
    char *stem;
    size_t ent;
} cand_t;

static int cand_cmp(const void *x, const void *y)
{
    const cand_t *p = x, *q = y;
    int c = strcmp(p->stem, q->stem);
    return c ? c : (p->ent < q->ent ? -1 : p->ent > q->ent);
}

/*
 * Archives without a manifest: the members a registered format reads from
 * memory, offered by stem in entry order.  A stem two members share is
 * offered once and refused on loading (which one is meant?).
 */
static jp_status_t find_foreign(jp_archive_t *a, jp_error_t *err)
{
    size_t n = a->n ? a->n : 1;
    a->foreign = jp_calloc(n, sizeof *a->foreign);
    a->foreign_ent = jp_calloc(n, sizeof *a->foreign_ent);
    a->foreign_twice = jp_calloc(n, sizeof *a->foreign_twice);
    cand_t *c = jp_calloc(n, sizeof *c);
    unsigned char *pick = jp_calloc(n, 1); /* 1: offered, 2: offered, stem shared */
    size_t nc = 0;
    jp_status_t st = JP_OK;
    if (!a->foreign || !a->foreign_ent || !a->foreign_twice || !c || !pick) goto nomem;
    for (size_t i = 0; i < a->n; i++) {
        const jp_arc_ent_t *e = &a->ents[i];
        if (e->is_dir || e->damage) continue;
        const jp_format_t *f = jp_format_for_path(e->name);
        if (!f || !f->read_mem || f == &jp_format_archive) continue;
        size_t len = strlen(e->name);
        if (len >= 12 && strcmp(e->name + len - 12, ".schema.yaml") == 0) continue; /* no rows */
        char stem[256];
        jp_path_stem(e->name, stem, sizeof stem);
        if (!(c[nc].stem = jp_strdup(stem))) goto nomem;
        c[nc++].ent = i;
    }
    qsort(c, nc, sizeof *c, cand_cmp);
    for (size_t i = 0; i < nc; i++) {
        if (i && strcmp(c[i - 1].stem, c[i].stem) == 0) continue;
        bool twice = i + 1 < nc && strcmp(c[i + 1].stem, c[i].stem) == 0;
        pick[c[i].ent] = twice ? 2 : 1;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!pick[i]) continue;
        char stem[256];
        jp_path_stem(a->ents[i].name, stem, sizeof stem);
        if (!(a->foreign[a->nforeign] = jp_strdup(stem))) goto nomem;
        a->foreign_twice[a->nforeign] = pick[i] == 2;
        a->foreign_ent[a->nforeign++] = i;
    }
    goto done;
nomem:
    st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
done:
    for (size_t i = 0; i < nc; i++) jp_free(c[i].stem);
    jp_free(c);
    jp_free(pick);
    return st;
}

static int rel_cmp(const void *x, const void *y)
{
    const jp_arc_ent_t *const *p = x, *const *q = y;
    return strcmp((*p)->rel, (*q)->rel);
}

static int name_cmp(const void *x, const void *y)
{
    const jp_arc_ent_t *const *p = x, *const *q = y;
    return strcmp((*p)->name, (*q)->name);
}

/* Compare `name` with `parent` + "/": 0 when name lies under parent. */
static int under_cmp(const char *name, const char *parent)
{
    size_t n = strlen(parent);
    int c = strncmp(name, parent, n);
    if (c) return c;
    unsigned char d = (unsigned char)name[n];
    return d < '/' ? -1 : d > '/';
}

/*
 * The entries' index by rel (for the integrity check and loading), and the
 * refusal of a file that stands where another entry needs a directory
 * ("a" and "a/b"): extracted, one would replace or hide the other.
 */
static jp_status_t index_entries(jp_archive_t *a, jp_error_t *err)
{
    a->by_rel = jp_calloc(a->n ? a->n : 1, sizeof *a->by_rel);
    jp_arc_ent_t **all = jp_calloc(a->n ? a->n : 1, sizeof *all);
    if (!a->by_rel || !all) {
        jp_free(all);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->n; i++) {
        all[i] = &a->ents[i];
        if (!a->ents[i].is_dir) a->by_rel[a->nfiles_ent++] = &a->ents[i];
    }
    qsort(a->by_rel, a->nfiles_ent, sizeof *a->by_rel, rel_cmp);
    qsort(all, a->n, sizeof *all, name_cmp);
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < a->n && !st; i++) {
        if (all[i]->is_dir) continue;
        /* the first name at or after "name/" */
        size_t lo = i + 1, hi = a->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (under_cmp(all[mid]->name, all[i]->name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < a->n && under_cmp(all[lo]->name, all[i]->name) == 0)
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s' is a file, but entry '%s' lies under it (refused: "
                              "one would hide the other)",
                              a->path, all[i]->name, all[lo]->name);
    }
    jp_free(all);
    return st;
}

/* After the scan: the top directory, the checksum files, the check. */
static jp_status_t finish_open(jp_archive_t *a, scan_t *s, jp_error_t *err)
{
    /* the top directory: where the manifest is, else a common first component */
    const char *mn = s->manifest_name;
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
    if (!a->top) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->n; i++) a->ents[i].rel = jp_arc_rel(a, a->ents[i].name);
    jp_status_t st = index_entries(a, err);
    if (st) return st;
    if (mn && jp_arc_parse_manifest(a, &s->manifest))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (s->sums_name) {
        const char *sl = strchr(s->sums_name, '/');
        size_t tl = sl ? (size_t)(sl - s->sums_name) : 0;
        /* only beside the manifest (or at the top) does it count */
        a->has_sums = strlen(a->top) == tl && strncmp(a->top, s->sums_name, tl) == 0;
        if (a->has_sums && jp_arc_parse_sums(a, &s->sums))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if ((st = jp_arc_check(a, err))) return st;
    return a->has_manifest ? JP_OK : find_foreign(a, err);
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
    st = jp_arc_walk(a, &s.v, err);
    jp_buf_free(&s.cur_text);
    if (!st) st = finish_open(a, &s, err);
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
        jp_arc_ds_t *x = &a->ds[i];
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
    jp_free(a->foreign_twice);
    jp_free(a->by_rel);
    jp_archive_problems_free(&a->problems);
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

void jp_archive_file_at(const jp_archive_t *a, size_t i, jp_archive_file_info_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < a->n; k++) {
        if (a->ents[k].is_dir) continue;
        if (i-- == 0) {
            const jp_arc_ent_t *e = &a->ents[k];
            out->path = e->rel;
            out->size = e->size;
            out->sha256 = e->damage ? "" : e->hex;
            out->listed = jp_arc_find_file(a->files, a->nfiles, e->rel) ||
                          jp_arc_find_file(a->sums, a->nsums, e->rel) ||
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
    const jp_arc_ds_t *x = &a->ds[i];
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
