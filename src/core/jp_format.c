/*
 * jp_format.c - the registry of readers and writers, and the two entry
 * points that dispatch through it.  The only place that maps file names to
 * formats.
 */
#include "jp_format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include "jp_file.h"
#include "jp_mem.h"

#define MAX_FORMATS 64

static const jp_format_t *formats[MAX_FORMATS];
static size_t nformats;

void jp_read_opts_init(jp_read_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->header = true;
}

jp_status_t jp_cell_errors_add(jp_cell_errors_t *e, const jp_error_t *err)
{
    e->total++;
    if (e->n == JP_CELL_ERRORS_MAX) return JP_OK;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        jp_cell_error_t *v = jp_realloc_array(e->v, cap, sizeof *v);
        if (!v) return JP_ERR_NOMEM;
        e->v = v;
        e->cap = cap;
    }
    jp_cell_error_t *c = &e->v[e->n];
    c->code = err->code;
    c->line = err->line;
    c->col = err->col;
    c->row = err->row;
    c->field = jp_strdup(err->field);
    c->msg = jp_strdup(err->msg);
    if (!c->field || !c->msg) {
        jp_free(c->field);
        jp_free(c->msg);
        return JP_ERR_NOMEM;
    }
    e->n++;
    return JP_OK;
}

void jp_cell_errors_free(jp_cell_errors_t *e)
{
    for (size_t i = 0; i < e->n; i++) {
        jp_free(e->v[i].field);
        jp_free(e->v[i].msg);
    }
    jp_free(e->v);
    e->v = NULL;
    e->n = e->cap = e->total = 0;
}

void jp_write_opts_init(jp_write_opts_t *o)
{
    memset(o, 0, sizeof *o);
}

jp_status_t jp_format_register(const jp_format_t *f, jp_error_t *err)
{
    for (size_t i = 0; i < nformats; i++)
        if (strcmp(formats[i]->name, f->name) == 0)
            return jp_error_set(err, JP_ERR_ARG, "format '%s' is already registered", f->name);
    if (nformats == MAX_FORMATS) return jp_error_set(err, JP_ERR_LIMIT, "too many formats");
    formats[nformats++] = f;
    return JP_OK;
}

const jp_format_t *jp_format_find(const char *name)
{
    for (size_t i = 0; i < nformats; i++)
        if (strcasecmp(formats[i]->name, name) == 0) return formats[i];
    return NULL;
}

const jp_format_t *jp_format_at(size_t i)
{
    return i < nformats ? formats[i] : NULL;
}

const jp_format_t *jp_format_for_path(const char *path)
{
    const jp_format_t *best = NULL;
    size_t bestlen = 0, n = strlen(path);
    for (size_t i = 0; i < nformats; i++) {
        for (const char *const *e = formats[i]->extensions; e && *e; e++) {
            size_t k = strlen(*e);
            if (k > bestlen && k < n && strcasecmp(path + n - k, *e) == 0) {
                best = formats[i];
                bestlen = k;
            }
        }
    }
    return best;
}

static const jp_format_t *sniff(const char *path)
{
    /* a stream (pipe, FIFO, terminal) read here would lose these bytes, and
       opening a FIFO waits for a writer: name its format instead */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char head[512];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    for (size_t i = 0; i < nformats; i++)
        if (formats[i]->sniff && formats[i]->sniff(head, n)) return formats[i];
    return NULL;
}

jp_status_t jp_dataset_load(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                            jp_error_t *err)
{
    jp_read_opts_t defaults;
    if (!o) {
        jp_read_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    const jp_format_t *f = NULL;
    if (o->format) {
        f = jp_format_find(o->format);
        if (!f) return jp_error_set(err, JP_ERR_FORMAT, "unknown format '%s'", o->format);
    } else {
        f = jp_format_for_path(path);
        if (!f) f = sniff(path);
    }
    if (!f) {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            int e = errno;
            return jp_error_errno(err, e == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, e,
                                  "cannot open %s", path);
        }
        if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            return jp_error_set(err, JP_ERR_FORMAT,
                                "%s is a stream, not a file: name its format (jp.read_csv "
                                "reads CSV from a pipe, a FIFO or \"-\", standard input)",
                                path);
        return jp_error_set(err, JP_ERR_FORMAT,
                            "%s: unknown format (name it with a known extension or the format "
                            "option)",
                            path);
    }
    if (!f->read) return jp_error_set(err, JP_ERR_FORMAT, "format '%s' cannot be read", f->name);
    return f->read(path, o, out, err);
}

jp_status_t jp_dataset_save(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                            jp_error_t *err)
{
    jp_write_opts_t defaults;
    if (!o) {
        jp_write_opts_init(&defaults);
        o = &defaults;
    }
    const jp_format_t *f = o->format ? jp_format_find(o->format) : jp_format_for_path(path);
    if (!f)
        return jp_error_set(err, JP_ERR_FORMAT, "%s: no writer for %s", path,
                            o->format ? o->format : "this file name");
    if (f->write) return f->write(ds, path, o, err);
    if (!f->write_mem)
        return jp_error_set(err, JP_ERR_FORMAT, "format '%s' cannot be written", f->name);
    jp_buf_t b = JP_BUF_INIT;
    jp_status_t st = f->write_mem(ds, o, &b, err);
    if (!st) st = jp_file_write_atomic(path, b.data, b.len, err);
    jp_buf_free(&b);
    return st;
}
