/*
 * jp_path.c - canonical file names (jp_path.h).  Walks the path one
 * component at a time with lstat/readlink, so it can go on past the point
 * where the file system ends; never opens, creates or changes anything.
 */
#include "jp_path.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

/* Drop the last component of canonical `out` (len *n); "/" stays "/". */
static void pop_component(char *out, size_t *n)
{
    while (*n > 1 && out[*n - 1] != '/') (*n)--;
    if (*n > 1) (*n)--;
    out[*n] = '\0';
}

jp_status_t jp_path_canon(const char *path, int flags, char *buf, size_t size, jp_error_t *err)
{
    if (!path || !*path) return jp_error_set(err, JP_ERR_ARG, "empty file name");
    /* `rest` holds what is still to walk; a symlink's target is put in
       front of it.  Twice PATH_MAX leaves room for a target plus the tail. */
    char rest[2 * PATH_MAX + 2], out[PATH_MAX + 1];
    size_t n = 0;
    if (path[0] == '/') {
        if (strlen(path) >= sizeof rest) goto too_long;
        strcpy(rest, path);
        out[n++] = '/';
    } else {
        if (!getcwd(out, sizeof out))
            return jp_error_errno(err, JP_ERR_IO, errno, "cannot read the working directory");
        n = strlen(out);
        if (strlen(path) >= sizeof rest) goto too_long;
        strcpy(rest, path);
    }
    out[n] = '\0';
    int links = 0;
    size_t missing = 0; /* components appended past the end of the file system */
    char *p = rest;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *next = p + len;
        while (*next == '/') next++;
        bool last = *next == '\0';
        if (len == 1 && p[0] == '.') {
            p = next;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            /* `out` holds no symlink, so its parent is the lexical one */
            pop_component(out, &n);
            if (missing) missing--;
            p = next;
            continue;
        }
        if (n + 1 + len >= sizeof out) goto too_long;
        size_t before = n;
        if (n > 1) out[n++] = '/';
        memcpy(out + n, p, len);
        n += len;
        out[n] = '\0';
        if (missing) {
            missing++;
            p = next;
            continue;
        }
        struct stat st;
        if (lstat(out, &st) != 0) {
            missing = 1; /* ENOENT, ENOTDIR, EACCES: nothing more to resolve */
            p = next;
            continue;
        }
        if (!S_ISLNK(st.st_mode) || (last && (flags & JP_PATH_NOFOLLOW))) {
            p = next;
            continue;
        }
        if (++links > MAX_LINKS)
            return jp_error_set(err, JP_ERR_LIMIT, "%s: too many levels of symbolic links", path);
        char target[PATH_MAX + 1];
        ssize_t k = readlink(out, target, sizeof target - 1);
        if (k < 0) return jp_error_errno(err, JP_ERR_IO, errno, "cannot read link %s", out);
        target[k] = '\0';
        /* rest := target "/" remaining */
        size_t tail = strlen(next);
        if ((size_t)k + 1 + tail >= sizeof rest) goto too_long;
        memmove(rest + k + 1, next, tail + 1);
        memcpy(rest, target, (size_t)k);
        rest[k] = '/';
        p = rest;
        n = before; /* the link's directory */
        out[n] = '\0';
        if (target[0] == '/') {
            n = 1;
            out[1] = '\0';
        }
    }
    if (n + 1 > size) goto too_long;
    memcpy(buf, out, n + 1);
    return JP_OK;
too_long:
    return jp_error_set(err, JP_ERR_LIMIT, "file name too long: %.200s", path);
}

bool jp_path_within(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return path[0] == '/';
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
