/*
 * jp_path.h - canonical file names, for deciding whether a path lies
 * inside a directory (the sandbox's roots).
 *
 * jp_path_canon resolves like realpath(3) -- absolute, every symlink
 * followed, no "." or ".." left -- but also names files that do not exist
 * yet: the existing part of the path is resolved and the rest appended
 * (a name that does not exist cannot be a symlink).  A dangling symlink is
 * followed to where it points, since creating a file through it would
 * create the target.  With JP_PATH_NOFOLLOW the last component is not
 * resolved (removing or renaming a link acts on the link itself).
 *
 * The answer describes the file system at the moment of the call; it is
 * a check, not a handle (another process may change a directory between
 * the check and an open).
 */
#ifndef JP_PATH_H
#define JP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"

#define JP_PATH_NOFOLLOW 1

/* Canonical absolute form of `path` into buf (size >= 2).  JP_ERR_ARG for
 * an empty path, JP_ERR_LIMIT for one longer than `size` or a symlink
 * loop, JP_ERR_IO when the working directory cannot be read. */
jp_status_t jp_path_canon(const char *path, int flags, char *buf, size_t size, jp_error_t *err);

/* Is canonical `path` the canonical `root` itself or inside it? */
bool jp_path_within(const char *path, const char *root);

#endif
