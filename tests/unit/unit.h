/*
 * unit.h - the smallest test harness that does the job.
 *
 * Each test program calls CHECK/CHECK_EQ_* as often as it likes and ends
 * main() with `return unit_done();`, which prints "# passed N failed M" for
 * tests/run.sh and returns non-zero when anything failed.  A failed check
 * prints the file, line and the expression.
 */
#ifndef UNIT_H
#define UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int unit_pass, unit_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            unit_pass++;                                                                           \
        else {                                                                                     \
            unit_fail++;                                                                           \
            printf("not ok %s:%d: %s\n", __FILE__, __LINE__, #cond);                               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            unit_pass++;                                                                           \
        else {                                                                                     \
            unit_fail++;                                                                           \
            printf("not ok %s:%d: %s: ", __FILE__, __LINE__, #cond);                               \
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

static inline int unit_done(void)
{
    printf("# passed %d failed %d\n", unit_pass, unit_fail);
    return unit_fail ? 1 : 0;
}

#endif
