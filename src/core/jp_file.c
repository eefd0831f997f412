/*
 * jp_file.c - atomic durable file replacement, bounded whole-file reads,
 * path helpers.  Owns the process's view of the umask (read once, never
 * changed: umask() is process-wide, and setting it to read it races with
 * every thread creating a file) and the permissions of replaced files.
 */
#include "jp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_limit.h"
#include "jp_mem.h"

/* ---- the umask, read once ------------------------------------------------- */

static mode_t the_umask = 022;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
    /* Linux reports it without changing it; elsewhere the set-and-restore
       dance runs once, from jp_file_init, before any thread exists */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        unsigned m;
        if (sscanf(line, "Umask: %o", &m) == 1) {
            the_umask = (mode_t)(m & 0777);
            fclose(f);
            return;
        }
    }
    if (f) fclose(f);
    mode_t m = umask(0);
    umask(m);
    the_umask = m;
}

void jp_file_init(void)
{
    pthread_once(&umask_once, read_umask);
}

mode_t jp_file_umask(void)
{
    pthread_once(&umask_once, read_umask);
    return the_umask;
}

/* ---- atomic replacement ----------------------------------------------------- */

/* The new file gets what the one it replaces had: its permission bits and,
 * as far as this process may give them, its owner and group.  A new file
 * gets 0666 less the umask, as open(O_CREAT) would give it. */
static void take_over_mode(int fd, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fchmod(fd, 0666 & ~jp_file_umask());
        return;
    }
    struct stat mine;
    bool other = fstat(fd, &mine) == 0 && (mine.st_uid != st.st_uid || mine.st_gid != st.st_gid);
    /* another owner is root's to give; a group we belong to is ours; else the
       file stays ours, with the old mode */
    if (other && fchown(fd, st.st_uid, st.st_gid) != 0 && mine.st_gid != st.st_gid)
        (void)fchown(fd, (uid_t)-1, st.st_gid);
    /* after chown, which may clear set-id bits */
    fchmod(fd, st.st_mode & 07777);
}

jp_status_t jp_atomic_open(jp_atomic_t *af, const char *path, jp_error_t *err)
{
    memset(af, 0, sizeof *af);
    af->fd = -1;
    size_t n = strlen(path);
    af->path = jp_strdup(path);
    af->tmp_path = jp_malloc(n + 32);
    if (!af->path || !af->tmp_path) {
        jp_free(af->path);
        jp_free(af->tmp_path);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    /* same directory, so rename() stays on one file system */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    memcpy(af->tmp_path, path, dirlen);
    memcpy(af->tmp_path + dirlen, ".", 1);
    memcpy(af->tmp_path + dirlen + 1, path + dirlen, n - dirlen);
    memcpy(af->tmp_path + n + 1, ".tmp-XXXXXX", 12);
    af->fd = mkstemp(af->tmp_path);
    if (af->fd < 0) {
        int e = errno;
        jp_error_errno(err, JP_ERR_IO, e, "cannot create %s", path);
        jp_free(af->path);
        jp_free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return JP_ERR_IO;
    }
    /* a hard stop (time limit, signal) removes it; a failure here only means
       it would be left behind then */
    jp_tmp_track(af->tmp_path);
    /* mkstemp makes 0600 */
    take_over_mode(af->fd, path);
    af->fp = fdopen(af->fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(af->fd);
        unlink(af->tmp_path);
        jp_tmp_untrack(af->tmp_path);
        jp_free(af->path);
        jp_free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return jp_error_errno(err, JP_ERR_IO, e, "cannot write %s", path);
    }
    jp_tmp_track(af->tmp_path); /* a hard stop removes it (a full table: it may stay) */
    return JP_OK;
}

static void atomic_release(jp_atomic_t *af)
{
    if (af->tmp_path) jp_tmp_untrack(af->tmp_path);
    jp_free(af->path);
    jp_free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    af->fp = NULL;
    af->fd = -1;
}

void jp_atomic_abort(jp_atomic_t *af)
{
    if (!af->tmp_path) return;
    if (af->fp) fclose(af->fp);
    unlink(af->tmp_path);
    atomic_release(af);
}

jp_status_t jp_atomic_commit(jp_atomic_t *af, jp_error_t *err)
{
    if (!af->fp) return jp_error_set(err, JP_ERR_INTERNAL, "commit without open");
    int e = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) e = errno ? errno : EIO;
    if (!e && fsync(af->fd) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (!e && rename(af->tmp_path, af->path) != 0) e = errno;
    if (e) {
        jp_error_errno(err, JP_ERR_IO, e, "cannot write %s", af->path);
        unlink(af->tmp_path);
        atomic_release(af);
        return JP_ERR_IO;
    }
    /* make the rename itself durable */
    char *dir = jp_strdup(af->path);
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        jp_free(dir);
    }
    atomic_release(af);
    return JP_OK;
}

const char *jp_spool_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

FILE *jp_spool_open(jp_error_t *err)
{
    const char *d = jp_spool_dir();
    int fd = -1, e = 0;
#ifdef O_TMPFILE
    fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    e = errno;
#endif
    if (fd < 0 && e != ENOENT && e != ENOTDIR && e != EACCES && e != ENOSPC) {
        /* no O_TMPFILE here: a named file, unlinked at once, and tracked
           for the moment it has a name so that no exit path leaves it */
        size_t n = strlen(d);
        char *t = jp_malloc(n + 32);
        if (t) {
            memcpy(t, d, n);
            memcpy(t + n, "/jinpu-spool-XXXXXX", 20);
            fd = mkstemp(t);
            e = errno;
            if (fd >= 0) {
                jp_tmp_track(t);
                unlink(t);
                jp_tmp_untrack(t);
            }
            jp_free(t);
        } else {
            e = ENOMEM;
        }
    }
    if (fd < 0) {
        jp_error_errno(err, JP_ERR_IO, e ? e : EIO, "cannot make a temporary file in %s (TMPDIR)",
                       d);
        return NULL;
    }
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        e = errno;
        close(fd);
        jp_error_errno(err, JP_ERR_IO, e, "cannot make a temporary file in %s (TMPDIR)", d);
    }
    return f;
}

jp_status_t jp_file_write_atomic(const char *path, const void *data, size_t n, jp_error_t *err)
{
    jp_atomic_t af;
    jp_status_t st = jp_atomic_open(&af, path, err);
    if (st) return st;
    if (n && fwrite(data, 1, n, af.fp) != n) {
        int e = errno;
        jp_atomic_abort(&af);
        return jp_error_errno(err, JP_ERR_IO, e, "cannot write %s", path);
    }
    return jp_atomic_commit(&af, err);
}

jp_status_t jp_file_read_all(const char *path, size_t max_bytes, jp_buf_t *buf, jp_error_t *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        return jp_error_errno(err, e == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, e, "cannot open %s",
                              path);
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return jp_error_set(err, JP_ERR_IO, "%s is a directory", path);
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes) {
        close(fd);
        return jp_error_set(err, JP_ERR_LIMIT, "%s is larger than %zu bytes", path, max_bytes);
    }
    for (;;) {
        if (jp_buf_reserve(buf, 65536)) {
            close(fd);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", path);
        }
        ssize_t r = read(fd, buf->data + buf->len, buf->cap - buf->len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return jp_error_errno(err, JP_ERR_IO, e, "cannot read %s", path);
        }
        if (r == 0) break;
        buf->len += (size_t)r;
        buf->data[buf->len] = '\0';
        if (buf->len > max_bytes) {
            close(fd);
            return jp_error_set(err, JP_ERR_LIMIT, "%s is larger than %zu bytes", path, max_bytes);
        }
    }
    close(fd);
    return JP_OK;
}

const char *jp_path_stem(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strchr(base, '.');
    if (dot && dot != base) n = (size_t)(dot - base);
    if (n >= size) n = size - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
    return buf;
}

int jp_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
