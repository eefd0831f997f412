/*
 * jp_archive_name.h - the rules an entry name of an archive must obey
 * before jinpu looks at its bytes, shared by the tar and zip readers.
 *
 * A name is refused when it could address anything outside the archive's
 * own tree if someone extracted it: absolute paths, ".." components,
 * backslashes, drive letters, control characters, empty names.  Accepted
 * names are normalised ("./a//b" -> "a/b", a trailing '/' marks a
 * directory and is removed) so that duplicates are found however they
 * are spelt.
 */
#ifndef JP_ARCHIVE_NAME_H
#define JP_ARCHIVE_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"

#define JP_ARCHIVE_NAME_MAX 4096

/*
 * Check and normalise the n bytes at s (may contain NULs: refused).  On
 * success *out is a new string (jp_free) and *is_dir tells whether the
 * name ended in '/'.  On failure JP_ERR_ARCHIVE with a message naming the
 * entry and `archive`.
 */
jp_status_t jp_archive_name_check(const char *archive, const char *s, size_t n, char **out,
                                  bool *is_dir, jp_error_t *err);

/* A dataset name made safe for a file name inside the archive: bytes other
 * than letters, digits, '-', '_', '.' and UTF-8 sequences become '_'; a
 * leading '.' becomes '_'; empty names become "dataset".  Caller frees. */
char *jp_archive_file_stem(const char *name);

#endif
