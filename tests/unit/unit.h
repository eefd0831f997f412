/*
 * unit.h - the smallest test harness that does the job.
 *
 * A test program groups its checks into cases and ends main() with
 * `return unit_done();`:
 *
 *     static void test_parse(void) { CHECK(...); CHECK_INT(n, 3); }
 *     int main(void)
 *     {
 *         RUN(test_parse);                       case named "test_parse"
 *         CASE("sweep of the empty file") sweep("", 0);
 *         CASE("refusals") { CHECK(...); CHECK(...); }
 *         return unit_done();
 *     }
 *
 * A case passes when none of the checks it ran failed, and counts once
 * however many checks it ran (a check in a loop of a million rows is still
 * one case).  A check outside any case counts once per source line: a line
 * passes when every time it ran it held.  Do not `return`, `break` or
 * `goto` out of a CASE block: the case would never end.
 *
 * Output, read by tests/run.sh (TAP-like):
 *     ok 3 - test_parse
 *     not ok 4 - refusals
 *     # test_x.c:12: n == 3: 2 != 3            why a check failed
 *     # passed N failed M                       last line: cases and lines
 * The program exits non-zero when anything failed.
 *
 * `unit_fail++` by hand (a failure found without a CHECK) still fails the
 * running case, or, outside a case, one extra item.
 */
#ifndef UNIT_H
#define UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* failed and passed checks, raw (code may bump unit_fail itself) */
static int unit_pass, unit_fail;

enum { UNIT_SHOWN = 10, UNIT_LINES = 4096 };

static struct {
    const char *name;  /* the running case, NULL outside one */
    int fail_at_start; /* unit_fail when the case began */
    int shown;         /* failed checks printed in this case */
    int seq;           /* number of the last reported item */
    int passed, failed;
    int case_fails; /* failed checks made inside cases */
    int line_fails; /* failed checks made outside any case */
} unit_;

/* checks outside a case, one slot per source line */
static struct unit_line {
    const char *file;
    int line;
    int fails;
} unit_lines[UNIT_LINES];

static inline void unit_report(int ok, const char *name)
{
    if (ok)
        unit_.passed++;
    else
        unit_.failed++;
    printf("%sok %d - %s\n", ok ? "" : "not ", ++unit_.seq, name);
}

static inline struct unit_line *unit_line_slot(const char *file, int line)
{
    size_t h = ((size_t)line * 2654435761u) % UNIT_LINES;
    for (int probe = 0; probe < UNIT_LINES; probe++, h = (h + 1) % UNIT_LINES) {
        struct unit_line *s = &unit_lines[h];
        if (!s->file) {
            s->file = file;
            s->line = line;
            return s;
        }
        if (s->line == line && strcmp(s->file, file) == 0) return s;
    }
    return NULL; /* more distinct lines than slots: counted in unit_done */
}

/* Records one check; true when its failure should be printed. */
static inline int unit_check(int ok, const char *file, int line)
{
    if (ok)
        unit_pass++;
    else
        unit_fail++;
    if (unit_.name) return !ok && unit_.shown++ < UNIT_SHOWN;
    struct unit_line *s = unit_line_slot(file, line);
    if (ok) return 0;
    unit_.line_fails++;
    if (!s) return 1;
    return s->fails++ < UNIT_SHOWN;
}

static inline int unit_begin(const char *name)
{
    if (unit_.name) {
        printf("# case '%s' inside case '%s': cases do not nest\n", name, unit_.name);
        unit_fail++;
    }
    unit_.name = name;
    unit_.fail_at_start = unit_fail;
    unit_.shown = 0;
    return 1;
}

static inline int unit_end(void)
{
    int failed = unit_fail - unit_.fail_at_start;
    if (unit_.shown > UNIT_SHOWN)
        printf("# ... and %d more failed checks in this case\n", unit_.shown - UNIT_SHOWN);
    unit_report(failed == 0, unit_.name);
    unit_.case_fails += failed;
    unit_.name = NULL;
    return 0;
}

#define CASE(name) for (int unit_once_ = unit_begin(name); unit_once_; unit_once_ = unit_end())
#define RUN(fn)    CASE(#fn) fn()

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (unit_check((cond) ? 1 : 0, __FILE__, __LINE__))                                        \
            printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (unit_check((cond) ? 1 : 0, __FILE__, __LINE__)) {                                      \
            printf("# %s:%d: %s: ", __FILE__, __LINE__, #cond);                                    \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    CHECK_MSG((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))
#define CHECK_DBL(a, b)                                                                            \
    CHECK_MSG((a) == (b) || fabs((double)(a) - (double)(b)) <= 1e-9 * fabs((double)(b)),           \
              "%.17g != %.17g", (double)(a), (double)(b))
static inline int unit_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}
static inline const char *unit_show(const char *a)
{
    return a ? a : "(null)";
}
#define CHECK_STR(a, b) CHECK_MSG(unit_streq((a), (b)), "'%s' != '%s'", unit_show(a), unit_show(b))

/* ---- a scratch directory, for tests that write files ----------------------
 * main() makes it first (`if (unit_tmpdir("jp_test_x")) return 1;`: under
 * $TMPDIR, else /tmp, a fresh name) and removes it, with all it holds,
 * before unit_done().  unit_path("a.csv") names a file in it; the last
 * eight names it returned stay valid. */
static char unit_dir[256];

static inline int unit_tmpdir(const char *prefix)
{
    const char *t = getenv("TMPDIR");
    snprintf(unit_dir, sizeof unit_dir, "%s/%s_XXXXXX", t && *t ? t : "/tmp", prefix);
    if (mkdtemp(unit_dir)) return 0;
    printf("# cannot make a directory %s\n", unit_dir);
    return 1;
}

static inline const char *unit_path(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", unit_dir, name);
    return b;
}

static inline void unit_tmpdir_remove(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", unit_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", unit_dir);
}

static inline int unit_line_cmp(const void *a, const void *b)
{
    const struct unit_line *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static inline int unit_done(void)
{
    if (unit_.name) {
        printf("# case '%s' never ended (return or break inside CASE)\n", unit_.name);
        unit_fail++;
        unit_end();
    }
    /* the lines in source order, so that every run lists them alike */
    int n = 0, recorded = 0;
    for (int i = 0; i < UNIT_LINES; i++)
        if (unit_lines[i].file) unit_lines[n++] = unit_lines[i];
    qsort(unit_lines, (size_t)n, sizeof unit_lines[0], unit_line_cmp);
    for (int i = 0; i < n; i++) {
        char name[300];
        const char *base = strrchr(unit_lines[i].file, '/');
        snprintf(name, sizeof name, "%s:%d", base ? base + 1 : unit_lines[i].file,
                 unit_lines[i].line);
        unit_report(unit_lines[i].fails == 0, name);
        recorded += unit_lines[i].fails;
    }
    /* a failure no line slot holds: more distinct lines than slots */
    if (unit_.line_fails > recorded) unit_report(0, "checks outside a case");
    /* unit_fail bumped by hand outside any case */
    if (unit_fail - unit_.case_fails - unit_.line_fails > 0)
        unit_report(0, "failures counted outside CHECK");
    printf("# passed %d failed %d\n", unit_.passed, unit_.failed);
    return unit_.failed ? 1 : 0;
}

#endif
