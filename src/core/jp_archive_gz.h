/*
 * jp_archive_gz.h - the compression the archive writer needs, in one
 * place: a gzip stream (for .tar.gz) and raw deflate of one buffer (for a
 * zip entry).  Both go through the shared parallel gzip writer
 * (jp_gzip.h); this file only adapts interfaces and must not grow a
 * deflate engine of its own.  Output depends only on the input and the
 * level, never on the thread count.
 */
#ifndef JP_ARCHIVE_GZ_H
#define JP_ARCHIVE_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "jp_buf.h"
#include "jp_error.h"

typedef struct jp_arc_gz jp_arc_gz_t;

/* A gzip member written to fp (which stays the caller's). */
jp_status_t jp_arc_gz_open(jp_arc_gz_t **out, FILE *fp, int level, int threads, jp_error_t *err);
jp_status_t jp_arc_gz_write(jp_arc_gz_t *g, const void *p, size_t n, jp_error_t *err);
/* A hole for bytes known later, and its fill (jp_gzip_hole, jp_gzip_fill). */
jp_status_t jp_arc_gz_hole(jp_arc_gz_t *g, size_t n, FILE *spill, const char *spill_name,
                           jp_error_t *err);
jp_status_t jp_arc_gz_fill(jp_arc_gz_t *g, const void *p, jp_error_t *err);
/* Compress the rest and write the trailer; frees g whatever the outcome. */
jp_status_t jp_arc_gz_finish(jp_arc_gz_t *g, jp_error_t *err);
void jp_arc_gz_free(jp_arc_gz_t *g);

/* Raw deflate of p[0..n) appended to out, and its CRC-32 (the body and
 * trailer of a gzip member from the shared writer). */
jp_status_t jp_arc_deflate(const void *p, size_t n, int level, int threads, jp_buf_t *out,
                           uint32_t *crc, jp_error_t *err);

#endif
