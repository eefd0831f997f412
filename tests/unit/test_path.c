/*
 * test_path.c - canonical file names (jp_path.h): symlinks, "..", files
 * that do not exist yet, dangling links, loops, and the within test the
 * sandbox's roots rely on.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_path.h"
#include "unit.h"

static char base[PATH_MAX];

static const char *canon(const char *path, int flags)
{
    static char out[PATH_MAX + 1];
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_path_canon(path, flags, out, sizeof out, &err)) {
        snprintf(out, sizeof out, "error: %s", err.msg);
    }
    return out;
}

static const char *at(const char *rel)
{
    static char buf[4][2 * PATH_MAX];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s%s%s", base, *rel ? "/" : "", rel);
    return buf[k];
}

static void touch(const char *rel)
{
    FILE *f = fopen(at(rel), "w");
    if (f) fclose(f);
}

static void setup(void)
{
    mkdir(at("root"), 0700);
    mkdir(at("root/sub"), 0700);
    mkdir(at("out"), 0700);
    touch("root/a.txt");
    touch("out/secret");
    CHECK(symlink(at("out/secret"), at("root/link_out")) == 0);
    CHECK(symlink("a.txt", at("root/link_in")) == 0);
    CHECK(symlink("../../out", at("root/sub/up")) == 0);
    CHECK(symlink(at("out/new"), at("root/dangling")) == 0);
    CHECK(symlink("loop2", at("root/loop1")) == 0);
    CHECK(symlink("loop1", at("root/loop2")) == 0);
}

static void test_resolving(void)
{
    CHECK_STR(canon(at("root/a.txt"), 0), at("root/a.txt"));
    CHECK_STR(canon(at("root/./sub/../a.txt"), 0), at("root/a.txt"));
    CHECK_STR(canon(at("root//sub///"), 0), at("root/sub"));
    CHECK_STR(canon(at("root/link_out"), 0), at("out/secret"));
    CHECK_STR(canon(at("root/link_out"), JP_PATH_NOFOLLOW), at("root/link_out"));
    CHECK_STR(canon(at("root/link_in"), 0), at("root/a.txt"));
    CHECK_STR(canon(at("root/sub/up/secret"), 0), at("out/secret"));
    /* ".." after a symlinked directory is the parent of its target */
    CHECK_STR(canon(at("root/sub/up/../root/a.txt"), 0), at("root/a.txt"));
    CHECK_STR(canon(at("root/../out/secret"), 0), at("out/secret"));
    CHECK(strncmp(canon(at("root/loop1"), 0), "error: ", 7) == 0);
    CHECK(strncmp(canon("", 0), "error: ", 7) == 0);
    CHECK_STR(canon("/", 0), "/");
    CHECK_STR(canon("/..", 0), "/");
}

static void test_not_yet_there(void)
{
    CHECK_STR(canon(at("root/new.txt"), 0), at("root/new.txt"));
    CHECK_STR(canon(at("root/no/such/dir/x"), 0), at("root/no/such/dir/x"));
    CHECK_STR(canon(at("root/no/../link_out"), 0), at("out/secret"));
    CHECK_STR(canon(at("root/no/../../out/x"), 0), at("out/x"));
    /* a dangling link is followed: creating through it creates the target */
    CHECK_STR(canon(at("root/dangling"), 0), at("out/new"));
    CHECK_STR(canon(at("root/dangling"), JP_PATH_NOFOLLOW), at("root/dangling"));
}

static void test_relative(void)
{
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) != NULL && chdir(at("root")) == 0);
    CHECK_STR(canon("a.txt", 0), at("root/a.txt"));
    CHECK_STR(canon("sub/up/secret", 0), at("out/secret"));
    CHECK_STR(canon("..", 0), base);
    CHECK(chdir(cwd) == 0);
}

static void test_within(void)
{
    CHECK(jp_path_within("/a/b", "/a"));
    CHECK(jp_path_within("/a", "/a"));
    CHECK(!jp_path_within("/ab", "/a"));
    CHECK(!jp_path_within("/a", "/a/b"));
    CHECK(jp_path_within("/x", "/"));
}

int main(void)
{
    char tmpl[] = "/tmp/jp_path_XXXXXX";
    char *d = mkdtemp(tmpl);
    /* the base itself may sit under a symlink (/tmp on some systems) */
    if (!d || !realpath(d, base)) {
        printf("# cannot make a temporary directory\n");
        return 1;
    }
    RUN(setup);
    RUN(test_resolving);
    RUN(test_not_yet_there);
    RUN(test_relative);
    RUN(test_within);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    if (system(cmd) != 0) printf("# could not remove %s\n", d);
    return unit_done();
}
