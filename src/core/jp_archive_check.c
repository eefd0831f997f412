/*
 * jp_archive_check.c - the integrity of an open archive: parsing
 * manifest.yaml and sha256sums.txt, and the one check that holds every
 * file against both (jp_arc_check).  Its findings are made once, at open;
 * jp_archive_verify reports them and jp_archive_load refuses while there is
 * any, so what loads is exactly what verifies.  Reads nothing itself:
 * works on what the scan saw.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "jp_archive_int.h"
#include "jp_mem.h"

static int file_cmp(const void *x, const void *y)
{
    return strcmp(((const jp_arc_file_t *)x)->path, ((const jp_arc_file_t *)y)->path);
}

const jp_arc_file_t *jp_arc_find_file(const jp_arc_file_t *v, size_t n, const char *path)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].path, path);
        if (c == 0) return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const jp_arc_ent_t *jp_arc_find_ent(const jp_archive_t *a, const char *rel)
{
    size_t lo = 0, hi = a->nfiles_ent;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const jp_arc_ent_t *e = a->by_rel[mid];
        int c = strcmp(e->rel, rel);
        if (c == 0) return e;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- manifest.yaml ------------------------------------------------------------- */

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
    if (!a->manifest_error) a->oom = true;
}

jp_status_t jp_arc_parse_manifest(jp_archive_t *a, const jp_buf_t *text)
{
    yaml_parser_t p;
    yaml_document_t d;
    jp_status_t st = JP_OK;
    if (!yaml_parser_initialize(&p)) return JP_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)(text->data ? text->data : ""),
                                 text->len);
    if (!yaml_parser_load(&p, &d)) {
        char where[300];
        snprintf(where, sizeof where, "line %zu: %s", p.problem_mark.line + 1,
                 p.problem ? p.problem : "malformed YAML");
        set_manifest_error(a, "unreadable: %s", where);
        yaml_parser_delete(&p);
        return a->manifest_error ? JP_OK : JP_ERR_NOMEM;
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
        jp_arc_ds_t *x = &a->ds[a->nds];
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
        jp_arc_file_t *f = &a->files[a->nfiles];
        f->path = jp_strdup(path);
        if (!f->path) goto nomem;
        a->nfiles++;
        f->size = size;
        for (int k = 0; k < 65; k++)
            f->sha[k] = (char)(sha[k] >= 'A' && sha[k] <= 'F' ? sha[k] + 32 : sha[k]);
    }
    goto done;
nomem:
    st = JP_ERR_NOMEM;
done:
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
    if (a->oom) st = JP_ERR_NOMEM;
    if (!st && a->nfiles) qsort(a->files, a->nfiles, sizeof *a->files, file_cmp);
    return st;
}

/* ---- sha256sums.txt ------------------------------------------------------------- */

jp_status_t jp_arc_parse_sums(jp_archive_t *a, const jp_buf_t *text)
{
    const char *s = text->data ? text->data : "";
    size_t lines = 1;
    for (size_t i = 0; i < text->len; i++) lines += s[i] == '\n';
    a->sums = jp_calloc(lines, sizeof *a->sums);
    a->sums_errors = jp_calloc(lines, sizeof *a->sums_errors);
    if (!a->sums || !a->sums_errors) return JP_ERR_NOMEM;
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
            if (!(a->sums_errors[a->nsums_errors++] = jp_strdup(buf))) return JP_ERR_NOMEM;
            continue;
        }
        char hex[JP_SHA256_HEX];
        memcpy(hex, l, 64);
        hex[64] = '\0';
        if (!jp_sha256_is_hex(hex)) {
            char buf[128];
            snprintf(buf, sizeof buf, "line %zu has a malformed digest", lineno);
            if (!(a->sums_errors[a->nsums_errors++] = jp_strdup(buf))) return JP_ERR_NOMEM;
            continue;
        }
        jp_arc_file_t *f = &a->sums[a->nsums];
        f->path = jp_strndup(l + 66, len - 66);
        if (!f->path) return JP_ERR_NOMEM;
        f->line = lineno;
        for (int k = 0; k < 65; k++)
            f->sha[k] = (char)(hex[k] >= 'A' && hex[k] <= 'F' ? hex[k] + 32 : hex[k]);
        a->nsums++;
    }
    qsort(a->sums, a->nsums, sizeof *a->sums, file_cmp);
    return JP_OK;
}

/* ---- the check ------------------------------------------------------------------- */

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

/* Two lines for one file: which one is meant?  (The list is sorted.) */
static jp_status_t check_twice(const jp_arc_file_t *v, size_t n, const char *by,
                               jp_archive_problems_t *p)
{
    jp_status_t st = JP_OK;
    for (size_t i = 1; i < n && !st; i++) {
        if (strcmp(v[i - 1].path, v[i].path) != 0) continue;
        size_t l1 = v[i - 1].line, l2 = v[i].line;
        if (l1)
            st = problem(p, v[i].path, "listed twice in %s (lines %zu and %zu)", by,
                         l1 < l2 ? l1 : l2, l1 < l2 ? l2 : l1);
        else
            st = problem(p, v[i].path, "listed twice in %s", by);
    }
    return st;
}

/* Each file a list names: present, of the size and digest listed. */
static jp_status_t check_list(const jp_archive_t *a, const jp_arc_file_t *v, size_t n,
                              const char *by, bool sizes, jp_archive_problems_t *p)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (i && strcmp(v[i - 1].path, v[i].path) == 0) continue; /* check_twice */
        const jp_arc_ent_t *e = jp_arc_find_ent(a, v[i].path);
        if (!e) {
            st = problem(p, v[i].path, "listed in %s but missing from the archive", by);
            continue;
        }
        if (e->damage) continue; /* reported once, on its own */
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

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The datasets: each name once, each dataset's files listed. */
static jp_status_t check_datasets(const jp_archive_t *a, jp_archive_problems_t *p)
{
    jp_status_t st = JP_OK;
    const char **names = jp_calloc(a->nds ? a->nds : 1, sizeof *names);
    if (!names) return JP_ERR_NOMEM;
    for (size_t i = 0; i < a->nds; i++) names[i] = a->ds[i].name;
    qsort(names, a->nds, sizeof *names, str_cmp);
    for (size_t i = 1; i < a->nds && !st; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = problem(p, JP_ARCHIVE_MANIFEST, "dataset '%s' is listed twice", names[i]);
    jp_free(names);
    for (size_t i = 0; i < a->nds && !st; i++) {
        const jp_arc_ds_t *x = &a->ds[i];
        if (!jp_arc_find_file(a->files, a->nfiles, x->data))
            st = problem(p, x->data, "data of dataset '%s' is not in the file list", x->name);
        if (!st && !jp_arc_find_file(a->files, a->nfiles, x->schema))
            st = problem(p, x->schema, "schema of dataset '%s' is not in the file list", x->name);
    }
    return st;
}

jp_status_t jp_arc_check(jp_archive_t *a, jp_error_t *err)
{
    jp_archive_problems_t *out = &a->problems;
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < a->n && !st; i++)
        if (a->ents[i].damage) st = problem(out, a->ents[i].rel, "%s", a->ents[i].damage);
    if (!st && !a->has_manifest) {
        a->waivable[a->unverifiable++] = out->n;
        st = problem(out, JP_ARCHIVE_MANIFEST,
                     "missing: not a jinpu archive, nothing to check against");
    } else if (!st && a->manifest_error) {
        st = problem(out, JP_ARCHIVE_MANIFEST, "%s", a->manifest_error);
    }
    if (!st && !a->has_sums) {
        a->waivable[a->unverifiable++] = out->n;
        st = problem(out, JP_ARCHIVE_SUMS, "missing");
    }
    for (size_t i = 0; i < a->nsums_errors && !st; i++)
        st = problem(out, JP_ARCHIVE_SUMS, "%s", a->sums_errors[i]);
    if (!st) st = check_twice(a->files, a->nfiles, JP_ARCHIVE_MANIFEST, out);
    if (!st) st = check_twice(a->sums, a->nsums, JP_ARCHIVE_SUMS, out);
    if (!st) st = check_list(a, a->files, a->nfiles, JP_ARCHIVE_MANIFEST, true, out);
    if (!st) st = check_list(a, a->sums, a->nsums, JP_ARCHIVE_SUMS, false, out);
    for (size_t i = 0; i < a->n && !st; i++) {
        const jp_arc_ent_t *e = &a->ents[i];
        if (e->is_dir) continue;
        if (e->rel == e->name && *a->top) {
            st = problem(out, e->name, "outside the top directory '%s'", a->top);
            continue;
        }
        bool is_man = strcmp(e->rel, JP_ARCHIVE_MANIFEST) == 0;
        bool is_sums = strcmp(e->rel, JP_ARCHIVE_SUMS) == 0;
        if (a->has_manifest && !a->manifest_error && !is_man && !is_sums &&
            !jp_arc_find_file(a->files, a->nfiles, e->rel))
            st = problem(out, e->rel, "not listed in %s", JP_ARCHIVE_MANIFEST);
        if (!st && a->has_sums && !is_sums && !jp_arc_find_file(a->sums, a->nsums, e->rel))
            st = problem(out, e->rel, "not listed in %s", JP_ARCHIVE_SUMS);
    }
    if (!st) st = check_datasets(a, out);
    if (st) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

jp_status_t jp_archive_verify(jp_archive_t *a, jp_archive_problems_t *out, jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < a->problems.n; i++) {
        const jp_archive_problem_t *x = &a->problems.v[i];
        if (problem(out, x->entry, "%s", x->msg)) {
            jp_archive_problems_free(out);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    }
    return JP_OK;
}
