/*
 * test_limit.c - the limits that cover C work (jp_limit.h): the memory
 * budget shared by the core's allocator and foreign ones, the stop flag and
 * its deadline, and the registry of temporary files.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>
#include "jp_error.h"
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "unit.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_budget_charges_core_blocks(void)
{
    size_t base = jp_mem_in_use();
    char *p = jp_malloc(1000);
    CHECK(p != NULL);
    CHECK(jp_mem_in_use() >= base + 1000);
    CHECK(jp_mem_in_use() <= base + 1000 + 64); /* the header is small */
    p = jp_realloc(p, 100000);
    CHECK(p != NULL);
    CHECK(jp_mem_in_use() >= base + 100000);
    p = jp_realloc(p, 10);
    CHECK(jp_mem_in_use() < base + 1000);
    jp_free(p);
    CHECK_INT(jp_mem_in_use(), base);

    int *z = jp_calloc(1000, sizeof *z);
    CHECK(z != NULL && z[0] == 0 && z[999] == 0);
    CHECK(jp_mem_in_use() >= base + 4000);
    jp_free(z);
    char *s = jp_strdup("cherry");
    CHECK_STR(s, "cherry");
    jp_free(s);
    CHECK_INT(jp_mem_in_use(), base);
    CHECK(jp_mem_peak() >= base + 100000);
}

static void test_budget_refuses_past_the_limit(void)
{
    size_t base = jp_mem_in_use();
    jp_mem_clear_refused();
    jp_mem_set_limit(base + (1 << 20));
    CHECK_INT(jp_mem_limit(), base + (1 << 20));
    char *a = jp_malloc(512 << 10);
    CHECK(a != NULL);
    CHECK(!jp_mem_refused());
    char *b = jp_malloc(600 << 10); /* would pass the limit */
    CHECK(b == NULL);
    CHECK(jp_mem_refused());
    jp_mem_clear_refused();
    /* growing past it fails and keeps the block */
    a[0] = 'x';
    char *g = jp_realloc(a, 2 << 20);
    CHECK(g == NULL);
    CHECK(a[0] == 'x');
    CHECK(jp_mem_refused());
    /* a foreign allocator's bytes share the budget */
    CHECK(!jp_mem_reserve(600 << 10));
    CHECK(jp_mem_reserve(100 << 10));
    CHECK(jp_mem_in_use() >= base + (612 << 10));
    jp_mem_unreserve(100 << 10);
    jp_mem_clear_refused();
    CHECK(!jp_mem_try_reserve(600 << 10));
    CHECK(!jp_mem_refused()); /* a retrying allocator's refusal is not recorded */
    /* overflowing sizes are refused, not wrapped */
    CHECK(jp_malloc(SIZE_MAX - 4) == NULL);
    CHECK(jp_malloc_array(SIZE_MAX / 2, 3) == NULL);
    CHECK(jp_calloc(SIZE_MAX / 2, 3) == NULL);
    CHECK(!jp_mem_reserve(SIZE_MAX));
    jp_free(a);
    CHECK_INT(jp_mem_in_use(), base);
    jp_mem_set_limit(0);
    jp_mem_clear_refused();
    b = jp_malloc(2 << 20);
    CHECK(b != NULL);
    jp_free(b);
}

static void test_zlib_hooks_charge(void)
{
    size_t base = jp_mem_in_use();
    void *p = jp_zalloc(NULL, 100, 64);
    CHECK(p != NULL);
    CHECK(jp_mem_in_use() >= base + 6400);
    jp_zfree(NULL, p);
    CHECK_INT(jp_mem_in_use(), base);
}

/* The gzip writer puts libdeflate on the budget: a compressor is charged. */
static void test_libdeflate_is_charged(void)
{
    FILE *null = fopen("/dev/null", "wb");
    CHECK(null != NULL);
    if (!null) return;
    jp_error_t err;
    jp_error_clear(&err);
    jp_gzip_writer_t *w = jp_gzip_open(null, 6, 1, &err);
    CHECK(w != NULL);
    if (w) {
        CHECK_INT(jp_gzip_write(w, "cherry", 6, &err), JP_OK);
        CHECK_INT(jp_gzip_close(w, NULL, NULL, &err), JP_OK);
    }
    fclose(null);
    size_t base = jp_mem_in_use();
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    CHECK(c != NULL);
    CHECK_MSG(jp_mem_in_use() > base + 100000, "a compressor charged %zu bytes",
              jp_mem_in_use() - base);
    libdeflate_free_compressor(c);
    CHECK_INT(jp_mem_in_use(), base);
    /* and refused past the limit */
    jp_mem_set_limit(base + 4096);
    CHECK(libdeflate_alloc_compressor(6) == NULL);
    jp_mem_set_limit(0);
    jp_mem_clear_refused();
}

static void test_stop_flag(void)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_stop_reset();
    CHECK_INT(jp_stop_pending(), JP_STOP_NONE);
    CHECK_INT(jp_stop_check(&err), JP_OK);
    jp_stop_request(JP_STOP_INTERRUPT);
    jp_stop_request(JP_STOP_TERM); /* the first reason wins */
    CHECK_INT(jp_stop_pending(), JP_STOP_INTERRUPT);
    CHECK_INT(jp_stop_check(&err), JP_ERR_INTERRUPTED);
    CHECK_STR(err.msg, "interrupted");
    jp_stop_reset();
    jp_stop_request(JP_STOP_TERM);
    CHECK_INT(jp_stop_check(&err), JP_ERR_INTERRUPTED);
    CHECK_STR(err.msg, "terminated");
    /* loops look every 65536 iterations */
    CHECK(jp_stop_due(0));
    CHECK(!jp_stop_due(1));
    CHECK(jp_stop_due(65536));
    jp_stop_reset();
    CHECK(!jp_stop_due(0));
    CHECK_STR(jp_status_name(JP_ERR_TIMEOUT), "time limit exceeded");
    CHECK_STR(jp_status_name(JP_ERR_INTERRUPTED), "interrupted");
}

static void test_deadline(void)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_stop_reset();
    double t0 = now();
    jp_stop_set_deadline(0.2);
    CHECK_DBL(jp_stop_time_limit(), 0.2);
    CHECK_INT(jp_stop_pending(), JP_STOP_NONE);
    while (!jp_stop_pending() && now() - t0 < 5) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    double took = now() - t0;
    CHECK_INT(jp_stop_pending(), JP_STOP_TIME);
    CHECK_MSG(took >= 0.19 && took < 2, "took %g s", took);
    CHECK_INT(jp_stop_check(&err), JP_ERR_TIMEOUT);
    CHECK_STR(err.msg, "time limit of 0.2 s exceeded");
    jp_stop_reset();

    /* re-armed later, then disarmed before it passes: no stop */
    jp_stop_set_deadline(0.1);
    jp_stop_set_deadline(0);
    struct timespec ts = {0, 250000000};
    nanosleep(&ts, NULL);
    CHECK_INT(jp_stop_pending(), JP_STOP_NONE);
    CHECK_DBL(jp_stop_time_limit(), 0);
}

static void *set_flag(void *arg)
{
    (void)arg;
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    return sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) ? (void *)1 : NULL;
}

static void test_threads_leave_signals_to_the_host(void)
{
    pthread_t th;
    void *blocked = NULL;
    CHECK_INT(jp_thread_create(&th, set_flag, NULL), 0);
    pthread_join(th, &blocked);
    CHECK(blocked == (void *)1);
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    CHECK(!sigismember(&cur, SIGINT)); /* the caller's mask is restored */
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void touch(const char *p)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) close(fd);
}

static void test_tmp_registry(void)
{
    char dir[] = "/tmp/jp-limit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "%s/a.tmp", dir);
    snprintf(b, sizeof b, "%s/b.tmp", dir);
    snprintf(c, sizeof c, "%s/c.tmp", dir);
    touch(a);
    touch(b);
    touch(c);
    CHECK_INT(jp_tmp_track(a), 0);
    CHECK_INT(jp_tmp_track(b), 0);
    CHECK_INT(jp_tmp_track(c), 0);
    jp_tmp_untrack(b); /* committed: must survive */
    jp_tmp_remove_all();
    CHECK(!exists(a));
    CHECK(exists(b));
    CHECK(!exists(c));
    jp_tmp_untrack(a);
    jp_tmp_untrack(c);
    /* the table is bounded, and a full table is reported, not overrun */
    int full = 0;
    for (int i = 0; i < 100; i++) full |= jp_tmp_track(b) != 0;
    CHECK(full);
    for (int i = 0; i < 100; i++) jp_tmp_untrack(b);
    char longp[2048];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    CHECK_INT(jp_tmp_track(longp), -1);
    /* freed slots are reused */
    CHECK_INT(jp_tmp_track(a), 0);
    jp_tmp_untrack(a);
    unlink(b);
    rmdir(dir);
}

/* A breaker's out of memory under a limit names the verb, what it holds
 * and the limit; without a limit, or for another error, nothing changes. */
static void test_explain_out_of_memory(void)
{
    char b[32];
    CHECK_STR(jp_size_format((size_t)64 << 20, b, sizeof b), "64M");
    CHECK_STR(jp_size_format((size_t)3 << 29, b, sizeof b), "1.5G");
    CHECK_STR(jp_size_format(100000000, b, sizeof b), "100000000");
    CHECK_STR(jp_size_format(512, b, sizeof b), "512");
    jp_error_t e;
    jp_error_clear(&e);
    jp_error_set(&e, JP_ERR_NOMEM, "out of memory");
    jp_error_at(&e, "big.csv", 12, 1);
    jp_error_row(&e, 11);
    jp_mem_set_limit(0);
    CHECK_INT(jp_mem_explain(&e, "distinct", 5, NULL, "the %d fields it compares", 3),
              JP_ERR_NOMEM);
    CHECK_STR(e.msg, "out of memory"); /* no limit: a real malloc failure, said as it is */
    CHECK_INT(e.line, 12);
    jp_mem_set_limit((size_t)64 << 20);
    jp_mem_explain(&e, "distinct", -1, ", or select fewer fields first",
                   "the %d fields it compares", 3);
    CHECK_STR(e.msg, "distinct: out of memory holding the 3 fields it compares (memory ran out at "
                     "row 11 of big.csv) within JINPU_MAX_MEMORY=64M; raise the limit, or select "
                     "fewer fields first");
    CHECK_INT(e.line, 0);
    CHECK_INT(e.row, 0);
    CHECK_STR(e.file, "");
    /* an outer verb leaves the inner one's word as it is */
    jp_mem_explain(&e, "join", 7, NULL, "the build side");
    CHECK(strncmp(e.msg, "distinct: ", 10) == 0);
    jp_error_clear(&e);
    jp_error_set(&e, JP_ERR_NOMEM, "out of memory");
    jp_mem_explain(&e, "pivot", 5000000, NULL, "the %d fields it reads", 4);
    CHECK_STR(e.msg, "pivot: out of memory holding the 4 fields it reads (5,000,000 rows) within "
                     "JINPU_MAX_MEMORY=64M; raise the limit");
    jp_error_set(&e, JP_ERR_ARG, "pivot: no such field");
    jp_mem_explain(&e, "pivot", 5, NULL, "x");
    CHECK_STR(e.msg, "pivot: no such field");
    CHECK_INT(jp_mem_explain(NULL, "pivot", 5, NULL, "x"), JP_ERR_NOMEM);
    jp_mem_set_limit(0);
}

int main(void)
{
    RUN(test_budget_charges_core_blocks);
    RUN(test_budget_refuses_past_the_limit);
    RUN(test_zlib_hooks_charge);
    RUN(test_libdeflate_is_charged);
    RUN(test_stop_flag);
    RUN(test_deadline);
    RUN(test_threads_leave_signals_to_the_host);
    RUN(test_tmp_registry);
    RUN(test_explain_out_of_memory);
    return unit_done();
}
