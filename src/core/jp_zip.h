/*
 * jp_zip.h - the zip format: a reproducible writer and a strict reader.
 *
 * Writing: the caller compresses each entry itself (raw deflate, or
 * stored) and hands the bytes, CRC-32 and sizes to jp_zip_add; the writer
 * emits local headers, the central directory and the end records through
 * a sink.  Every varying field is fixed: one DOS time for all entries
 * (from the mtime given), Unix "made by" with modes 0644/0755, the UTF-8
 * name flag, no extra fields except zip64 ones when a size or offset
 * needs them (then version 4.5 is required).
 *
 * Reading: jp_zip_open reads the central directory of an open file and
 * checks it against every local header before any data is trusted:
 * encryption, methods other than stored/deflate, links, devices, names
 * that climb out, duplicate names, local headers that disagree with the
 * central directory, entries that overlap (the "overlapping files" bomb) or
 * reach past the directory, and declared sizes beyond the limits are all
 * refused with an error naming the archive and the entry.  jp_zip_extract
 * then inflates one entry, stopping the moment it produces more than the
 * directory declared, and checks size and CRC-32 at the end.
 *
 * Ownership: a jp_zip_t owns its entry table and names; the caller owns
 * the file descriptor.
 */
#ifndef JP_ZIP_H
#define JP_ZIP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "jp_error.h"

/* ---- writing ------------------------------------------------------------- */

typedef jp_status_t (*jp_zip_sink_fn)(void *ctx, const void *p, size_t n, jp_error_t *err);

typedef struct jp_zip_wentry {
    char *name;
    uint32_t crc;
    uint64_t csize, usize, offset;
    uint16_t method;
    bool is_dir;
    bool zip64; /* sizes in a zip64 extra field */
} jp_zip_wentry_t;

typedef struct jp_zip_writer {
    jp_zip_sink_fn sink;
    void *ctx;
    uint64_t offset;
    jp_zip_wentry_t *ents;
    size_t n, cap;
    uint16_t dos_time, dos_date;
    bool force_zip64; /* tests: use zip64 records even when not needed */
} jp_zip_writer_t;

void jp_zip_writer_init(jp_zip_writer_t *w, jp_zip_sink_fn sink, void *ctx, int64_t mtime);
/* method 0 (stored) or 8 (raw deflate); data holds csize bytes. */
jp_status_t jp_zip_add(jp_zip_writer_t *w, const char *name, bool is_dir, int method,
                       const void *data, uint64_t csize, uint32_t crc, uint64_t usize,
                       jp_error_t *err);
/* The same for a file entry whose csize bytes are in src, from its current
 * position (a spool): copied in pieces, never held whole. */
jp_status_t jp_zip_add_from(jp_zip_writer_t *w, const char *name, int method, FILE *src,
                            uint64_t csize, uint32_t crc, uint64_t usize, jp_error_t *err);
jp_status_t jp_zip_finish(jp_zip_writer_t *w, jp_error_t *err);
void jp_zip_writer_free(jp_zip_writer_t *w);

/* ---- reading ------------------------------------------------------------- */

typedef struct jp_zip_limits {
    uint64_t max_entries;
    uint64_t max_total; /* sum of the entries' uncompressed sizes */
    double max_ratio;   /* uncompressed / compressed, for entries past 1 MiB */
} jp_zip_limits_t;

typedef struct jp_zip_entry {
    char *name; /* normalised */
    bool is_dir;
    uint16_t method;
    uint32_t crc;
    uint64_t csize, usize;
    uint64_t header_off, data_off;
} jp_zip_entry_t;

typedef struct jp_zip {
    int fd;
    const char *archive; /* for messages (not owned) */
    uint64_t file_size;
    jp_zip_entry_t *ents; /* in central-directory order */
    size_t n;
} jp_zip_t;

jp_status_t jp_zip_open(jp_zip_t *z, int fd, const char *archive, const jp_zip_limits_t *lim,
                        jp_error_t *err);
void jp_zip_close(jp_zip_t *z);

typedef jp_status_t (*jp_zip_data_fn)(void *ctx, const void *p, size_t n, jp_error_t *err);
/* Stream entry i's bytes to fn, verifying its size and CRC-32. */
jp_status_t jp_zip_extract(jp_zip_t *z, size_t i, jp_zip_data_fn fn, void *ctx, jp_error_t *err);

#endif
