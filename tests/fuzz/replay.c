/*
 * replay.c - runs a fuzz harness over committed inputs without libFuzzer, so
 * that make test (release and sanitizer builds, gcc) covers every seed and
 * every past finding.
 *
 *   replay_NAME DIR...     each regular file of each DIR, in name order
 *
 * A directory named "regressions" is reported one case per input (each is a
 * past finding); any other directory (the seed corpus) is one case, failed
 * when it is missing or empty.  Output follows tests/README.md.  A
 * harness that crashes on an input ends the program: the input is named on
 * stderr first.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

static int seq, passed, failed;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one input; 0 when it could be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    /* libFuzzer hands over exactly n bytes: a copy of that size lets ASan
     * see a read past the end */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replaying %s\n", path);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static void report(int ok, const char *name)
{
    if (ok)
        passed++;
    else
        failed++;
    printf("%sok %d - %s\n", ok ? "" : "not ", ++seq, name);
    fflush(stdout);
}

static void run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        /* no findings yet is normal; a missing seed corpus is not */
        if (!strstr(dir, "regressions")) {
            char label[600];
            snprintf(label, sizeof label, "corpus %s is missing", dir);
            report(0, label);
        }
        return;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    for (struct dirent *e; names && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **nn = realloc(names, (cap *= 2) * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!names) return;
    qsort(names, n, sizeof *names, by_name);
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    /* the parent's name says which: tests/fuzz/regressions/NAME */
    int per_input = strstr(dir, "regressions") != NULL;
    int bad = 0, ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!names[i] || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        int rc = run_file(path);
        ran++;
        if (rc) printf("# cannot read %s\n", path);
        if (per_input) {
            char label[600];
            snprintf(label, sizeof label, "regression %s", names[i]);
            report(rc == 0, label);
        }
        bad += rc != 0;
    }
    if (!per_input) {
        char label[600];
        snprintf(label, sizeof label, "corpus %s (%d inputs)", base, ran);
        report(bad == 0 && ran > 0, label);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) run_dir(argv[i]);
    printf("# passed %d failed %d\n", passed, failed);
    return failed ? 1 : 0;
}
