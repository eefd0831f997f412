/*
 * lua_fs.c - `jinpu.sys`, files: the file-system calls of the batch runner
 * that Lua lacks.  SHA-256 of a file read in pieces, the regular files
 * below a directory with their sizes, creating and removing directory
 * trees, publishing a directory by rename (replacing an older one without a
 * moment where a half-written one is visible), glob, stat, listing and a
 * durable rename.
 *
 * Every function returns nil and a message naming the path on failure
 * instead of raising: the runner decides what a failure means for a job.
 * Nothing here follows a symbolic link when it removes or walks a tree.
 */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_sha256.h"
#include "jpl.h"

static int fail(lua_State *L, const char *path, const char *what, int e)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s: %s", path, what, strerror(e));
    return 2;
}

/* sys.sha256_file(path) -> hex, bytes | nil, message */
static int l_sha256_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    unsigned char d[JP_SHA256_LEN];
    char hex[JP_SHA256_HEX];
    unsigned long long bytes = 0;
    jp_error_t err;
    if (jp_sha256_file(path, d, &bytes, &err) != JP_OK) {
        lua_pushnil(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushstring(L, jp_sha256_hex(d, hex));
    lua_pushinteger(L, (lua_Integer)bytes);
    return 2;
}

/* sys.sha256(string) -> hex */
static int l_sha256(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char d[JP_SHA256_LEN];
    char hex[JP_SHA256_HEX];
    jp_error_t err;
    if (jp_sha256(s, n, d, &err) != JP_OK) return luaL_error(L, "%s", err.msg);
    lua_pushstring(L, jp_sha256_hex(d, hex));
    return 1;
}

/* sys.stat(path) -> "file"|"dir"|"link"|"other", size | nil (does not follow
 * a symbolic link) */
static int l_stat(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (lstat(path, &st) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, S_ISREG(st.st_mode)   ? "file"
                      : S_ISDIR(st.st_mode) ? "dir"
                      : S_ISLNK(st.st_mode) ? "link"
                                            : "other");
    lua_pushinteger(L, (lua_Integer)st.st_size);
    return 2;
}

/* ---- walking a tree ---------------------------------------------------------------- */

/* One pass of nftw fills these; nftw's callback cannot carry a context. */
static struct {
    char **paths;
    long long *sizes;
    size_t n, cap;
    size_t skip;    /* length of the root prefix to strip */
    char bad[4096]; /* the first entry that is not a file or a directory */
    int err;
} walk;

static bool walk_add(const char *s, long long size);

static int walk_one(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_D || type == FTW_DP) return 0;
    if (type != FTW_F || !S_ISREG(sb->st_mode)) {
        snprintf(walk.bad, sizeof walk.bad, "%s", fpath);
        return 1;
    }
    const char *rel = fpath + walk.skip;
    while (*rel == '/') rel++;
    if (!walk_add(rel, (long long)sb->st_size)) {
        walk.err = ENOMEM;
        return 1;
    }
    return 0;
}

static void walk_free(void)
{
    for (size_t i = 0; i < walk.n; i++) free(walk.paths[i]);
    free(walk.paths);
    free(walk.sizes);
    memset(&walk, 0, sizeof walk);
}

/* Keep a copy of s in the walk list; false when out of memory. */
static bool walk_add(const char *s, long long size)
{
    if (walk.n == walk.cap) {
        size_t cap = walk.cap ? walk.cap * 2 : 16;
        char **p = realloc(walk.paths, cap * sizeof *p);
        if (p) walk.paths = p;
        long long *z = realloc(walk.sizes, cap * sizeof *z);
        if (z) walk.sizes = z;
        if (!p || !z) return false;
        walk.cap = cap;
    }
    char *copy = strdup(s);
    if (!copy) return false;
    walk.paths[walk.n] = copy;
    walk.sizes[walk.n++] = size;
    return true;
}

/* sys.listdir(path) -> {names} (without . and .., unsorted) | nil, message */
static int l_listdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    walk_free();
    DIR *d = opendir(path);
    if (!d) return fail(L, path, "cannot list", errno);
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            ok = walk_add(e->d_name, 0);
    closedir(d);
    if (!ok) {
        walk_free();
        return fail(L, path, "cannot list", ENOMEM);
    }
    /* a memory error while pushing leaves the names to the next call */
    lua_createtable(L, (int)walk.n, 0);
    for (size_t i = 0; i < walk.n; i++) {
        lua_pushstring(L, walk.paths[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    walk_free();
    return 1;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * sys.walk(dir) -> paths, sizes | nil, message
 * The regular files below dir, as paths relative to it ("a.csv",
 * "sub/b.csv") in bytewise order, and their sizes.  A symbolic link, a
 * device or a fifo anywhere below dir is an error naming it: the outputs
 * of a job are plain files.
 */
static int l_walk(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    walk_free();
    walk.skip = strlen(dir);
    int rc = nftw(dir, walk_one, 16, FTW_PHYS);
    int e = rc < 0 ? errno : walk.err;
    if (rc != 0 || e) {
        char bad[sizeof walk.bad];
        snprintf(bad, sizeof bad, "%s", walk.bad);
        walk_free();
        if (e) return fail(L, dir, "cannot list", e);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: not a regular file (an output must be a plain file)", bad);
        return 2;
    }
    if (walk.n > 1) qsort(walk.paths, walk.n, sizeof *walk.paths, cmp_path);
    /* a memory error while pushing leaves the copies to the next call */
    size_t n = walk.n;
    lua_createtable(L, (int)n, 0);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, walk.paths[i]);
        lua_rawseti(L, -3, (lua_Integer)i + 1);
        lua_pushinteger(L, walk.sizes[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    walk_free();
    return 2;
}

static int remove_one(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(fpath) : unlink(fpath);
    if (rc != 0 && errno != ENOENT) {
        walk.err = errno;
        snprintf(walk.bad, sizeof walk.bad, "%s", fpath);
        return 1;
    }
    return 0;
}

/* sys.rmtree(path) -> true | nil, message (a missing path is fine) */
static int l_rmtree(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    /* the common cases in one call: gone already, an empty directory, a file */
    if (rmdir(path) == 0 || errno == ENOENT || (errno == ENOTDIR && unlink(path) == 0)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) return fail(L, path, "cannot remove", errno);
    walk_free();
    int rc = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != 0) {
        int e = rc < 0 ? errno : walk.err;
        char bad[sizeof walk.bad];
        snprintf(bad, sizeof bad, "%s", walk.bad[0] ? walk.bad : path);
        walk_free();
        return fail(L, bad, "cannot remove", e);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* mkdir -p, from the end: one mkdir when the parent exists (the common
 * case), climbing only as far as needed.  p is modified and restored. */
static int mkdir_p(char *p, int depth)
{
    if (mkdir(p, 0777) == 0) return 0;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        errno = ENOTDIR;
        return -1;
    }
    if (errno != ENOENT || depth > 256) return -1;
    char *slash = strrchr(p, '/');
    while (slash && slash > p && slash[1] == '\0') { /* trailing slashes */
        *slash = '\0';
        slash = strrchr(p, '/');
    }
    if (!slash || slash == p) return -1;
    *slash = '\0';
    int rc = mkdir_p(p, depth + 1);
    *slash = '/';
    if (rc != 0) return rc;
    return mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* sys.mkdirs(path) -> true | nil, message: like mkdir -p */
static int l_mkdirs(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    char *p = lua_newuserdatauv(L, n + 1, 0);
    memcpy(p, path, n + 1);
    if (mkdir_p(p, 0) != 0) return fail(L, path, "cannot create", errno);
    lua_pushboolean(L, 1);
    return 1;
}

/*
 * sys.publish(src, dst) -> true | nil, message
 * Moves directory src to dst.  When dst exists it is swapped with src in
 * one step (renameat2 RENAME_EXCHANGE) and the old tree, now at src, is
 * removed: a reader sees the old directory or the new one, never neither
 * and never a mix.  Two processes publishing the same bytes race
 * harmlessly: the last swap wins.
 */
static int l_publish(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    const char *dst = luaL_checkstring(L, 2);
    for (int tries = 0; tries < 8; tries++) {
        if (rename(src, dst) == 0) {
            lua_pushboolean(L, 1);
            return 1;
        }
        if (errno != ENOTEMPTY && errno != EEXIST) return fail(L, dst, "cannot publish", errno);
        if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) == 0) {
            lua_settop(L, 1);
            return l_rmtree(L); /* the old tree, now at src */
        }
        if (errno == ENOENT) continue; /* dst vanished meanwhile: rename again */
        if (errno != EINVAL && errno != ENOSYS) return fail(L, dst, "cannot publish", errno);
        /* no exchange on this file system: move the old tree aside first */
        size_t n = strlen(dst);
        char *old = lua_newuserdatauv(L, n + 16, 0);
        snprintf(old, n + 16, "%s.old.%d", dst, (int)getpid());
        if (rename(dst, old) != 0 && errno != ENOENT) return fail(L, dst, "cannot publish", errno);
        if (rename(src, dst) != 0) return fail(L, dst, "cannot publish", errno);
        lua_settop(L, 0);
        lua_pushstring(L, old);
        return l_rmtree(L);
    }
    return fail(L, dst, "cannot publish", EBUSY);
}

/* sys.glob(pattern) -> {paths} (sorted; none matched: empty) | nil, message */
static int l_glob(lua_State *L)
{
    const char *pat = luaL_checkstring(L, 1);
    /* static: a memory error while pushing the names leaves them to be
     * freed by the next call instead of leaking them */
    static glob_t g;
    static bool held;
    if (held) globfree(&g);
    held = false;
    memset(&g, 0, sizeof g);
    int rc = glob(pat, 0, NULL, &g);
    held = true;
    if (rc != 0 && rc != GLOB_NOMATCH) {
        globfree(&g);
        held = false;
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", pat,
                        rc == GLOB_NOSPACE ? "out of memory" : "a directory cannot be read");
        return 2;
    }
    /* copy out before anything can raise, then free */
    size_t n = rc == 0 ? g.gl_pathc : 0;
    lua_createtable(L, n < 1u << 20 ? (int)n : 0, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, g.gl_pathv[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    globfree(&g);
    held = false;
    return 1;
}

/* sys.commit(tmp, path) -> true | nil, message: fsync tmp, rename it over
 * path, fsync the directory: after a crash, the old file or the new one. */
static int l_commit(lua_State *L)
{
    const char *tmp = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(L, tmp, "cannot open", errno);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL) return fail(L, tmp, "cannot sync", e);
    if (rename(tmp, path) != 0) return fail(L, path, "cannot rename into place", errno);
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    char *dir = lua_newuserdatauv(L, n + 1, 0);
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    if (n == 0) strcpy(dir, "/");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.realpath(path) -> absolute path | nil, message */
static int l_realpath(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char buf[PATH_MAX];
    if (!realpath(path, buf)) return fail(L, path, "cannot resolve", errno);
    lua_pushstring(L, buf);
    return 1;
}

void jpl_open_fs(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"sha256_file", l_sha256_file}, {"sha256", l_sha256},     {"stat", l_stat},
        {"listdir", l_listdir},         {"walk", l_walk},         {"rmtree", l_rmtree},
        {"mkdirs", l_mkdirs},           {"publish", l_publish},   {"glob", l_glob},
        {"commit", l_commit},           {"realpath", l_realpath}, {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
