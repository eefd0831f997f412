/*
 * jp_file.h - file helpers: atomic, durable replacement of a file, and
 * reading a whole (bounded) file into memory.
 *
 * jp_atomic_open creates a temporary file next to the target; the caller
 * writes through `fp` (or `fd`); jp_atomic_commit flushes, fsyncs, renames
 * over the target and fsyncs the directory; jp_atomic_abort removes the
 * temporary file.  Until commit, the target is untouched, so an interrupted
 * or failed write leaves the old file (or none), never part of a new one.
 * Exactly one of commit/abort must be called; both release everything.
 * The new file keeps the permissions (and, where the process may set them,
 * the owner and group) of the file it replaces; a new one gets 0666 less
 * the umask.  The temporary file is registered with jp_tmp_track until
 * commit or abort, so that a hard stop removes it.
 */
#ifndef JP_FILE_H
#define JP_FILE_H

#include <stdio.h>
#include <sys/types.h>
#include "jp_buf.h"
#include "jp_error.h"

typedef struct jp_atomic {
    FILE *fp;
    int fd;
    char *tmp_path;
    char *path;
} jp_atomic_t;

/* Read the process's umask once, without changing it (call before threads
 * start; jp_formats_init does).  jp_file_umask returns it. */
void jp_file_init(void);
mode_t jp_file_umask(void);

jp_status_t jp_atomic_open(jp_atomic_t *af, const char *path, jp_error_t *err);
jp_status_t jp_atomic_commit(jp_atomic_t *af, jp_error_t *err);
void jp_atomic_abort(jp_atomic_t *af);
/* Write a whole buffer atomically. */
jp_status_t jp_file_write_atomic(const char *path, const void *data, size_t n, jp_error_t *err);

/*
 * A spool: a temporary file for writing and reading back, in $TMPDIR (or
 * /tmp: jp_spool_dir, for messages).  It has no name (O_TMPFILE; where that
 * is missing, a named file unlinked as soon as it is made and registered
 * with jp_tmp_track meanwhile), so no exit path - error, signal, even
 * SIGKILL - can leave it behind; fclose releases it.  NULL (err set,
 * naming the directory) when it cannot be made.
 */
const char *jp_spool_dir(void);
FILE *jp_spool_open(jp_error_t *err);

/* Read a whole file (up to max_bytes; JP_ERR_LIMIT beyond) into buf. */
jp_status_t jp_file_read_all(const char *path, size_t max_bytes, jp_buf_t *buf, jp_error_t *err);

/* The last path component without its extension(s): "a/b/cherry.yaml" ->
 * "cherry", "d.csv.gz" -> "d".  Writes to buf. */
const char *jp_path_stem(const char *path, char *buf, size_t size);
/* Number of online CPUs (>= 1). */
int jp_ncpus(void);

#endif
