/*
 * jp_gzip.h - a streaming gzip writer that compresses on several cores.
 *
 * The input is cut into fixed blocks (JP_GZIP_BLOCK bytes); each block is
 * deflated on its own by a worker (libdeflate) and ended on a byte boundary
 * with an empty stored block, so the compressed blocks concatenate into one
 * deflate stream.  The result is ONE standard gzip
 * member (RFC 1952) with no name and a zero timestamp, its CRC-32 combined
 * from the blocks' CRCs: `gzip -t`, `zcat` and zlib read it.  The bytes
 * depend only on the input and the level, never on the thread count or the
 * way the input was split across jp_gzip_write calls.
 *
 * Ownership: the writer does not own `out`; only the thread that calls
 * jp_gzip_write/jp_gzip_close writes to it.  jp_gzip_close and
 * jp_gzip_abort free the writer (whatever happens, exactly one of them is
 * called).  Memory: about 2 * threads + 2 blocks of input and output.
 */
#ifndef JP_GZIP_H
#define JP_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "jp_error.h"

#define JP_GZIP_BLOCK ((size_t)1 << 20)

typedef struct jp_gzip_writer jp_gzip_writer_t;

/* level 1..9 (0 = 6); threads 0 = as many as cores.  Writes the header. */
jp_gzip_writer_t *jp_gzip_open(FILE *out, int level, int threads, jp_error_t *err);
jp_status_t jp_gzip_write(jp_gzip_writer_t *w, const void *data, size_t n, jp_error_t *err);
/* Compress what is left, write the trailer, free w.  crc and size (of the
 * uncompressed input; either may be NULL) are set on success. */
jp_status_t jp_gzip_close(jp_gzip_writer_t *w, uint32_t *crc, uint64_t *size, jp_error_t *err);
/* Stop the workers and free w without finishing the member. */
void jp_gzip_abort(jp_gzip_writer_t *w);

#endif
