/*
 * jp_tar.h - the tar format (POSIX ustar with pax extended headers):
 * deterministic headers for writing, and a strict streaming reader.
 *
 * Writing: jp_tar_put_header appends the header block(s) of one entry to a
 * buffer: fixed owner 0/0 "root"/"root", mode 0644 (files) or 0755
 * (directories), the given mtime, and a pax 'x' header first when the
 * path does not fit ustar's name/prefix split or the size does not fit 11
 * octal digits.  The caller then writes the data and jp_tar_pad_len zero
 * bytes, and ends the archive with jp_tar_end_len zero bytes.
 *
 * Reading: a jp_tar_reader_t pulls bytes from a callback (a file, or an
 * inflating gzip stream) and yields one entry at a time.  It accepts only
 * regular files and directories (ustar, GNU and pax forms) and refuses, with
 * an error naming the archive and the entry: links, devices, FIFOs, sparse
 * and unknown entry types, bad header checksums, malformed numbers, names
 * that climb out (see jp_archive_name.h), duplicate names, data that ends
 * before its header's size, and anything but zero blocks after the end
 * marker.  The reader owns the current entry's name until the next call.
 */
#ifndef JP_TAR_H
#define JP_TAR_H

#include <stdbool.h>
#include <stdint.h>
#include "jp_buf.h"
#include "jp_error.h"

#define JP_TAR_BLOCK  512
#define JP_TAR_RECORD 10240

jp_status_t jp_tar_put_header(jp_buf_t *out, const char *path, uint64_t size, bool is_dir,
                              int64_t mtime, jp_error_t *err);
/* A file's header whose length does not depend on size (for an entry
 * whose size is known only after its data is streamed): a size past 8 GiB
 * goes into the header in GNU base-256, which GNU tar, bsdtar and this
 * reader read, instead of a pax record. */
jp_status_t jp_tar_put_header_sized(jp_buf_t *out, const char *path, uint64_t size, int64_t mtime,
                                    jp_error_t *err);
/* Zero bytes that follow `size` bytes of data. */
size_t jp_tar_pad_len(uint64_t size);
/* Zero bytes that end an archive of `total` bytes so far (two zero blocks,
 * then up to a whole 10240-byte record, as tar itself writes). */
size_t jp_tar_end_len(uint64_t total);

/* Read up to n bytes into buf; *got < n only at the end of the input. */
typedef jp_status_t (*jp_tar_source_fn)(void *ctx, void *buf, size_t n, size_t *got,
                                        jp_error_t *err);

typedef struct jp_tar_entry {
    char *name;    /* normalised (jp_archive_name_check); owned by the reader */
    uint64_t size; /* data bytes (0 for directories) */
    bool is_dir;
} jp_tar_entry_t;

typedef struct jp_tar_reader {
    jp_tar_source_fn src;
    void *ctx;
    const char *archive; /* for messages (not owned) */
    jp_tar_entry_t cur;
    uint64_t left; /* data bytes of `cur` not yet read */
    uint64_t pad;  /* padding after them */
    bool done;
    uint64_t max_entries, n_entries;
    /* names seen, for duplicate detection: open-addressing set */
    char **seen;
    size_t seen_cap, seen_n;
} jp_tar_reader_t;

void jp_tar_reader_init(jp_tar_reader_t *r, jp_tar_source_fn src, void *ctx, const char *archive,
                        uint64_t max_entries);
void jp_tar_reader_free(jp_tar_reader_t *r);
/* Next entry (skipping the unread data of the previous one).  *e is NULL at
 * the end of the archive. */
jp_status_t jp_tar_next(jp_tar_reader_t *r, const jp_tar_entry_t **e, jp_error_t *err);
/* Up to n bytes of the current entry's data; *got == 0 at its end. */
jp_status_t jp_tar_read(jp_tar_reader_t *r, void *buf, size_t n, size_t *got, jp_error_t *err);

#endif
