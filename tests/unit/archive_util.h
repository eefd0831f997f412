/*
 * archive_util.h - helpers the archive tests share: a temporary directory,
 * files in and out of it, tar archives built and rebuilt in memory (so a
 * test can drop, add or edit one entry of an exported archive), and a
 * memory source for the tar reader.  Test code only: everything is static.
 */
#ifndef ARCHIVE_UTIL_H
#define ARCHIVE_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_buf.h"
#include "jp_file.h"
#include "jp_mem.h"
#include "jp_tar.h"

static char tmpdir[256];

static inline int tmp_setup(const char *stem)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             stem);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline void tmp_cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
}

static inline const char *tmp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static inline void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(p, 1, n, f);
    fclose(f);
}

typedef struct memsrc {
    const char *p;
    size_t n, off;
} memsrc_t;

static inline jp_status_t mem_read(void *ctx, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    (void)err;
    memsrc_t *m = ctx;
    size_t k = m->n - m->off < n ? m->n - m->off : n;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    *got = k;
    return JP_OK;
}

static inline void tar_add_n(jp_buf_t *b, const char *name, const char *data, size_t n, bool dir)
{
    jp_tar_put_header(b, name, n, dir, 315532800, NULL);
    if (n) jp_buf_append(b, data, n);
    static const char z[512];
    jp_buf_append(b, z, jp_tar_pad_len(n));
}

static inline void tar_add(jp_buf_t *b, const char *name, const char *data, bool dir)
{
    tar_add_n(b, name, data, data ? strlen(data) : 0, dir);
}

static inline void tar_end(jp_buf_t *b)
{
    static const char z[JP_TAR_RECORD + 2 * JP_TAR_BLOCK];
    jp_buf_append(b, z, jp_tar_end_len(b->len));
}

/* The entries of a tar held in memory, to be edited and written again. */
typedef struct tent {
    char name[512]; /* directories end in '/' */
    jp_buf_t data;
} tent_t;

typedef struct tents {
    tent_t v[64];
    size_t n;
} tents_t;

static inline bool tents_read(tents_t *t, const char *path)
{
    memset(t, 0, sizeof *t);
    jp_buf_t b = JP_BUF_INIT;
    if (jp_file_read_all(path, 1 << 30, &b, NULL)) return false;
    memsrc_t m = {b.data, b.len, 0};
    jp_tar_reader_t r;
    jp_tar_reader_init(&r, mem_read, &m, path, 0);
    const jp_tar_entry_t *e;
    bool ok = true;
    while ((ok = jp_tar_next(&r, &e, NULL) == JP_OK) && e && t->n < 64) {
        tent_t *x = &t->v[t->n++];
        snprintf(x->name, sizeof x->name, "%s%s", e->name, e->is_dir ? "/" : "");
        char buf[4096];
        size_t got;
        while (jp_tar_read(&r, buf, sizeof buf, &got, NULL) == JP_OK && got)
            jp_buf_append(&x->data, buf, got);
    }
    jp_tar_reader_free(&r);
    jp_buf_free(&b);
    return ok;
}

static inline tent_t *tents_find(tents_t *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0) return &t->v[i];
    return NULL;
}

static inline void tents_drop(tents_t *t, const char *name)
{
    tent_t *x = tents_find(t, name);
    if (!x) return;
    jp_buf_free(&x->data);
    size_t i = (size_t)(x - t->v);
    memmove(x, x + 1, (t->n - i - 1) * sizeof *x);
    t->n--;
}

static inline tent_t *tents_add(tents_t *t, const char *name, const char *data)
{
    if (t->n == 64) return NULL;
    tent_t *x = &t->v[t->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    if (data) jp_buf_append(&x->data, data, strlen(data));
    return x;
}

/* Replace the first `from` in an entry's data by `to` (same length or not). */
static inline bool tents_edit(tents_t *t, const char *name, const char *from, const char *to)
{
    tent_t *x = tents_find(t, name);
    if (!x || !x->data.data) return false;
    char *at = strstr(x->data.data, from);
    if (!at) return false;
    jp_buf_t n = JP_BUF_INIT;
    jp_buf_append(&n, x->data.data, (size_t)(at - x->data.data));
    jp_buf_append(&n, to, strlen(to));
    size_t rest = strlen(from) + (size_t)(at - x->data.data);
    jp_buf_append(&n, x->data.data + rest, x->data.len - rest);
    jp_buf_free(&x->data);
    x->data = n;
    return true;
}

static inline void tents_write(const tents_t *t, const char *path)
{
    jp_buf_t b = JP_BUF_INIT;
    for (size_t i = 0; i < t->n; i++) {
        const tent_t *x = &t->v[i];
        size_t nl = strlen(x->name);
        bool dir = nl && x->name[nl - 1] == '/';
        tar_add_n(&b, x->name, x->data.data, x->data.len, dir);
    }
    tar_end(&b);
    write_file(path, b.data, b.len);
    jp_buf_free(&b);
}

static inline void tents_free(tents_t *t)
{
    for (size_t i = 0; i < t->n; i++) jp_buf_free(&t->v[i].data);
    t->n = 0;
}

#endif
