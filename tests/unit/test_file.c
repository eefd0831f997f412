/*
 * test_file.c - atomic replacement keeps what the replaced file had (its
 * mode; the owner as far as we may), creates new files with the umask,
 * never changes the umask (another thread creating a file meanwhile would
 * get the wrong mode: counted here by wrapping umask itself), and registers its temporary file so
 * that a hard stop removes it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "archive_util.h"
#include "jp_file.h"
#include "jp_limit.h"
#include "unit.h"

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static int temp_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp-")) n++;
    if (d) closedir(d);
    return n;
}

static void test_keeps_mode(void)
{
    const mode_t modes[] = {0600, 0640, 0444, 0755};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *p = tmp("kept.csv");
        write_file(p, "old\n", 4);
        chmod(p, modes[i]);
        jp_error_t err;
        CHECK_MSG(jp_file_write_atomic(p, "new\n", 4, &err) == JP_OK, "%s", err.msg);
        CHECK_MSG(mode_of(p) == modes[i], "mode %o became %o", (unsigned)modes[i],
                  (unsigned)mode_of(p));
        unlink(p);
    }
    /* a new file: 0666 less the umask (027 here, set in main) */
    const char *p = tmp("new.csv");
    CHECK(jp_file_write_atomic(p, "x", 1, NULL) == JP_OK);
    CHECK_INT(mode_of(p), 0640);
    /* the owner stays (here, trivially, ours) */
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_uid == geteuid());
    CHECK_INT(temp_files(), 0);
}

static void test_umask_read_once(void)
{
    CHECK_INT(jp_file_umask(), 027);
    mode_t now = umask(027);
    CHECK_INT(now, 027); /* unchanged */
}

/* umask() is process-wide: setting it to read it (umask(0); umask(m))
 * would, for a moment, give files another thread creates the wrong mode.
 * Every umask() call in this program, the library's included, comes here
 * (the definition in the program takes precedence over the C library's). */
static int umask_calls;

mode_t umask(mode_t m)
{
    umask_calls++;
    return (mode_t)syscall(SYS_umask, m);
}

static void test_umask_never_set(void)
{
    int before = umask_calls;
    for (int i = 0; i < 50; i++) {
        jp_atomic_t af;
        CHECK(jp_atomic_open(&af, tmp("u.txt"), NULL) == JP_OK);
        jp_atomic_abort(&af);
    }
    CHECK(jp_file_write_atomic(tmp("u.txt"), "x", 1, NULL) == JP_OK);
    CHECK_INT(umask_calls - before, 0);
    CHECK_INT(mode_of(tmp("u.txt")), 0640);
}

/* A hard stop removes the temporary file of a write in progress. */
static void test_temporary_tracked(void)
{
    jp_atomic_t af;
    CHECK(jp_atomic_open(&af, tmp("t.csv"), NULL) == JP_OK);
    CHECK_INT(temp_files(), 1);
    jp_tmp_remove_all();
    CHECK_INT(temp_files(), 0);
    jp_atomic_abort(&af);
    /* committed or aborted, nothing is left registered to remove */
    CHECK(jp_atomic_open(&af, tmp("t.csv"), NULL) == JP_OK);
    CHECK(jp_atomic_commit(&af, NULL) == JP_OK);
    CHECK(access(tmp("t.csv"), F_OK) == 0);
    jp_tmp_remove_all();
    CHECK(access(tmp("t.csv"), F_OK) == 0);
}

int main(void)
{
    umask(027);
    jp_file_init();
    if (tmp_setup("jp-file")) return 2;
    RUN(test_keeps_mode);
    RUN(test_umask_read_once);
    RUN(test_umask_never_set);
    RUN(test_temporary_tracked);
    tmp_cleanup();
    return unit_done();
}
