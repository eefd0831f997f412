/*
 * jp_archive_gz.c - adapter between the archive writer and the shared
 * parallel gzip writer.  A zip entry's raw deflate data is the body of a
 * gzip member: the writer's fixed 10-byte header (no name, no time, no
 * extra) is dropped and the CRC-32 taken from its trailer.
 */
#include "jp_archive_gz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"

struct jp_arc_gz {
    jp_gzip_writer_t *w;
};

jp_status_t jp_arc_gz_open(jp_arc_gz_t **out, FILE *fp, int level, int threads, jp_error_t *err)
{
    *out = NULL;
    jp_arc_gz_t *g = jp_calloc(1, sizeof *g);
    if (!g) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    g->w = jp_gzip_open(fp, level, threads, err);
    if (!g->w) {
        jp_free(g);
        return err && err->code ? err->code : JP_ERR_NOMEM;
    }
    *out = g;
    return JP_OK;
}

jp_status_t jp_arc_gz_write(jp_arc_gz_t *g, const void *p, size_t n, jp_error_t *err)
{
    return jp_gzip_write(g->w, p, n, err);
}

jp_status_t jp_arc_gz_hole(jp_arc_gz_t *g, size_t n, FILE *spill, const char *spill_name,
                           jp_error_t *err)
{
    return jp_gzip_hole(g->w, n, spill, spill_name, err);
}

jp_status_t jp_arc_gz_fill(jp_arc_gz_t *g, const void *p, jp_error_t *err)
{
    return jp_gzip_fill(g->w, p, err);
}

jp_status_t jp_arc_gz_finish(jp_arc_gz_t *g, jp_error_t *err)
{
    jp_status_t st = jp_gzip_close(g->w, NULL, NULL, err);
    jp_free(g);
    return st;
}

void jp_arc_gz_free(jp_arc_gz_t *g)
{
    if (!g) return;
    jp_gzip_abort(g->w);
    jp_free(g);
}

jp_status_t jp_arc_deflate(const void *p, size_t n, int level, int threads, jp_buf_t *out,
                           uint32_t *crc, jp_error_t *err)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&mem, &len);
    if (!fp) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_gzip_writer_t *w = jp_gzip_open(fp, level, threads, err);
    jp_status_t st = w ? JP_OK : (err && err->code ? err->code : JP_ERR_NOMEM);
    if (!st) st = jp_gzip_write(w, p, n, err);
    if (w) {
        if (!st)
            st = jp_gzip_close(w, crc, NULL, err);
        else
            jp_gzip_abort(w);
    }
    if (fclose(fp) != 0 && !st) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    /* the C library's buffer is outside the budget: count it while it lives */
    bool charged = !st && jp_mem_reserve(len);
    if (!st && !charged) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!st) {
        const unsigned char *m = (const unsigned char *)mem;
        if (len < 18 || m[0] != 0x1f || m[1] != 0x8b || m[2] != 8 || m[3] != 0)
            st = jp_error_set(err, JP_ERR_INTERNAL, "unexpected gzip header from the writer");
        else if (jp_buf_append(out, mem + 10, len - 18))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    free(mem); /* open_memstream's buffer comes from malloc */
    if (charged) jp_mem_unreserve(len);
    return st;
}
