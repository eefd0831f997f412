/*
 * jp_gzip.h - gzip: a streaming writer that compresses on several cores,
 * and a streaming, bounded reader (below).
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

/*
 * A hole: n bytes (at most JP_GZIP_BLOCK) at the current position whose
 * content is known only later (a tar header that needs the size of the
 * data after it).  Writing goes on; the blocks holding the hole wait
 * uncompressed, and the blocks after them are compressed as usual (on
 * every core) but kept in `spill` (an empty, seekable file of the
 * caller's, reused) until jp_gzip_fill gives the hole's bytes; then
 * everything is written in order.  The bytes are exactly those writing the
 * same content straight through gives.  One hole at a time; it must be
 * filled before jp_gzip_close.  spill_name (may be NULL) says what the
 * spill is in messages (a failed write to it: a full temporary directory).
 */
jp_status_t jp_gzip_hole(jp_gzip_writer_t *w, size_t n, FILE *spill, const char *spill_name,
                         jp_error_t *err);
jp_status_t jp_gzip_fill(jp_gzip_writer_t *w, const void *p, jp_error_t *err);

/*
 * Reading (jp_gunzip.c): a streaming reader with bounded memory (64 KiB of
 * input and zlib's window) for gzip data in a file or in memory.  It reads
 * every member of a multi-member file and refuses, with a message naming
 * the source: corrupt or truncated data, bytes after the last member that
 * do not start another one, more than max_out bytes out, and output more
 * than max_ratio times the input consumed (checked once past 1 MiB out: a
 * decompression bomb).  The archive reader and the CSV reader both read
 * through it.  It honours jp_stop_pending().
 *
 * Ownership: the reader does not own the fd or the memory, which must
 * outlive it; jp_gunzip_close frees the reader.
 */
#define JP_GUNZIP_MAX_OUT   ((uint64_t)16 << 30)
#define JP_GUNZIP_MAX_RATIO 1000.0

typedef struct jp_gunzip_limits {
    uint64_t max_out; /* bytes out in all; 0 = no limit */
    double max_ratio; /* out / in; 0 = no limit */
} jp_gunzip_limits_t;

void jp_gunzip_limits_init(jp_gunzip_limits_t *l); /* the defaults above */

typedef struct jp_gunzip jp_gunzip_t;

/* From fd's current offset, or from p[0..n); lim NULL = the defaults; name
 * starts the messages (NULL: the caller names the source itself).  NULL
 * (and err set) when out of memory. */
jp_gunzip_t *jp_gunzip_open_fd(int fd, const char *name, const jp_gunzip_limits_t *lim,
                               jp_error_t *err);
jp_gunzip_t *jp_gunzip_open_mem(const void *p, size_t n, const char *name,
                                const jp_gunzip_limits_t *lim, jp_error_t *err);
/* Up to n bytes; *got < n only at the end of the last member.  Errors:
 * JP_ERR_PARSE (corrupt, truncated, trailing bytes), JP_ERR_LIMIT, JP_ERR_IO,
 * JP_ERR_NOMEM, or the stop flag's status. */
jp_status_t jp_gunzip_read(jp_gunzip_t *g, void *buf, size_t n, size_t *got, jp_error_t *err);
/* Compressed bytes consumed so far. */
uint64_t jp_gunzip_in(const jp_gunzip_t *g);
void jp_gunzip_close(jp_gunzip_t *g);

#endif
