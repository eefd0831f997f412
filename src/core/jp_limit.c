/*
 * jp_limit.c - the stop flag with its deadline timer, worker threads that
 * leave signals to the host, the registry of temporary files, and the
 * syntax of the limits' values, and how a verb says it ran out under the
 * limit (jp_limit.h).  The memory budget lives in
 * jp_mem.c.
 *
 * Owns: one timer thread (started by the first jp_stop_set_deadline, never
 * joined) and a fixed table of paths.  Must never: allocate or lock in what
 * a signal handler calls (jp_stop_request, jp_stop_pending,
 * jp_tmp_remove_all), install signal handlers (the host's business), or
 * read the clock in jp_stop_pending.
 */
#include "jp_limit.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the stop flag ---- */

static atomic_int stop_reason;

void jp_stop_request(int reason)
{
    int none = JP_STOP_NONE;
    if (reason != JP_STOP_NONE) atomic_compare_exchange_strong(&stop_reason, &none, reason);
}

int jp_stop_pending(void)
{
    return atomic_load_explicit(&stop_reason, memory_order_relaxed);
}

void jp_stop_reset(void)
{
    atomic_store(&stop_reason, JP_STOP_NONE);
}

/* ---- the deadline: a thread that sleeps until it, then sets the flag ---- */

static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dl_cv;
static pthread_once_t dl_once = PTHREAD_ONCE_INIT;
static struct timespec dl_at; /* CLOCK_MONOTONIC */
static int dl_armed;
static int dl_thread; /* 1 started, -1 could not start */
static double dl_limit;

static void dl_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&dl_cv, &a);
    pthread_condattr_destroy(&a);
}

static int reached(const struct timespec *at)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > at->tv_sec || (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

static void *dl_watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&dl_mu);
    for (;;) {
        if (!dl_armed) {
            pthread_cond_wait(&dl_cv, &dl_mu);
            continue;
        }
        pthread_cond_timedwait(&dl_cv, &dl_mu, &dl_at);
        if (dl_armed && reached(&dl_at)) {
            dl_armed = 0;
            jp_stop_request(JP_STOP_TIME);
        }
    }
    return NULL;
}

void jp_stop_set_deadline(double seconds)
{
    pthread_once(&dl_once, dl_init);
    pthread_mutex_lock(&dl_mu);
    dl_limit = seconds > 0 ? seconds : 0;
    dl_armed = seconds > 0;
    if (dl_armed) {
        clock_gettime(CLOCK_MONOTONIC, &dl_at);
        double whole = (double)(time_t)seconds;
        dl_at.tv_sec += (time_t)whole;
        dl_at.tv_nsec += (long)((seconds - whole) * 1e9);
        if (dl_at.tv_nsec >= 1000000000L) {
            dl_at.tv_sec++;
            dl_at.tv_nsec -= 1000000000L;
        }
        if (!dl_thread) {
            pthread_t th;
            dl_thread = jp_thread_create(&th, dl_watch, NULL) == 0 ? 1 : -1;
            if (dl_thread == 1) pthread_detach(th);
        }
    }
    pthread_cond_broadcast(&dl_cv);
    pthread_mutex_unlock(&dl_mu);
}

double jp_stop_time_limit(void)
{
    pthread_mutex_lock(&dl_mu);
    double s = dl_limit;
    pthread_mutex_unlock(&dl_mu);
    return s;
}

jp_status_t jp_stop_check(jp_error_t *err)
{
    switch (jp_stop_pending()) {
    case JP_STOP_NONE:
        return JP_OK;
    case JP_STOP_TIME:
        return jp_error_set(err, JP_ERR_TIMEOUT, "time limit of %g s exceeded",
                            jp_stop_time_limit());
    case JP_STOP_TERM:
        return jp_error_set(err, JP_ERR_INTERRUPTED, "terminated");
    default:
        return jp_error_set(err, JP_ERR_INTERRUPTED, "interrupted");
    }
}

int jp_thread_create(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* ---- temporary files ---- */

/* A slot is FREE, BUSY (its path being written), USED, or HELD (its
 * complete path being compared by jp_tmp_untrack: still to be removed on a
 * hard stop).  The pid keeps a forked child's handler from removing its
 * parent's files. */
enum { SLOT_FREE, SLOT_BUSY, SLOT_USED, SLOT_HELD };
#define TMP_SLOTS    64
#define TMP_PATH_MAX 1024

static struct {
    atomic_int state;
    pid_t pid;
    char path[TMP_PATH_MAX];
} tmp_slot[TMP_SLOTS];

int jp_tmp_track(const char *path)
{
    size_t n = strlen(path);
    if (n >= TMP_PATH_MAX) return -1;
    for (int i = 0; i < TMP_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&tmp_slot[i].state, &expect, SLOT_BUSY)) continue;
        memcpy(tmp_slot[i].path, path, n + 1);
        tmp_slot[i].pid = getpid();
        atomic_store(&tmp_slot[i].state, SLOT_USED);
        return 0;
    }
    return -1;
}

void jp_tmp_untrack(const char *path)
{
    for (int i = 0; i < TMP_SLOTS; i++) {
        int expect = SLOT_USED;
        if (!atomic_compare_exchange_strong(&tmp_slot[i].state, &expect, SLOT_HELD)) continue;
        if (strcmp(tmp_slot[i].path, path) != 0) {
            atomic_store(&tmp_slot[i].state, SLOT_USED);
            continue;
        }
        atomic_store(&tmp_slot[i].state, SLOT_FREE);
        return;
    }
}

void jp_tmp_remove_all(void)
{
    pid_t me = getpid();
    for (int i = 0; i < TMP_SLOTS; i++) {
        int s = atomic_load(&tmp_slot[i].state);
        if ((s == SLOT_USED || s == SLOT_HELD) && tmp_slot[i].pid == me) unlink(tmp_slot[i].path);
    }
}

/* Digits with an optional fraction ("60", "0.5", "1.5"): the value, and
 * where it ends; NULL when there is no digit or more than 30 (nothing a
 * limit needs, and a bound on the rounding). */
static const char *scan_decimal(const char *s, double *out)
{
    double v = 0;
    int digits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++) v = v * 10 + (*p - '0');
    if (*p == '.') {
        p++;
        for (double f = 0.1; *p >= '0' && *p <= '9'; p++, digits++, f /= 10) v += (*p - '0') * f;
    }
    if (digits == 0 || digits > 30) return NULL;
    *out = v;
    return p;
}

/* A byte count: the number, then optionally K, M, G or T (powers of 1024)
 * and an optional B or iB, in either case: 1048576, 512M, 512mb, 1.5GiB.
 * Nothing else -- no spaces, signs, exponents, hex, nan -- and not zero or
 * past 2^63. */
bool jp_parse_size(const char *s, size_t *out)
{
    double v, scale = 1;
    const char *p = scan_decimal(s, &v);
    if (!p) return false;
    int c = *p & ~0x20; /* upper case; 0 for the end and for ' ' */
    const char *units = "KMGT", *u = c ? strchr(units, c) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++) scale *= 1024;
        p++;
        if (p[0] == 'i' && (p[1] == 'B' || p[1] == 'b'))
            p += 2;
        else if (p[0] == 'B' || p[0] == 'b')
            p++;
    } else if (*p == 'B' || *p == 'b') {
        p++;
    }
    v *= scale;
    if (*p || !(v >= 1) || v >= 9223372036854775808.0 || (double)SIZE_MAX < v) return false;
    *out = (size_t)v;
    return true;
}

bool jp_parse_seconds(const char *s, double *out)
{
    double v;
    const char *p = scan_decimal(s, &v);
    if (!p || *p || !(v > 0) || v > 1e7) return false;
    *out = v;
    return true;
}

/* Fractions only below 1024 of a unit: "1.5G", never "97656.25K". */
const char *jp_size_format(size_t n, char *buf, size_t size)
{
    static const char units[] = "TGMK";
    for (int u = 0; u < 4; u++) {
        double v = (double)n;
        for (int k = u; k < 4; k++) v /= 1024;
        if (v < 1) continue;
        for (int dec = 0; dec <= (v < 1024 ? 3 : 0); dec++) {
            size_t back;
            snprintf(buf, size, "%.*f%c", dec, v, units[u]);
            if (jp_parse_size(buf, &back) && back == n) return buf;
        }
    }
    snprintf(buf, size, "%zu", n);
    return buf;
}

/* 5000000 -> "5,000,000": row counts people read at a glance. */
static const char *thousands(unsigned long long v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

jp_status_t jp_mem_explain(jp_error_t *err, const char *verb, long rows, const char *advice,
                           const char *what, ...)
{
    if (!err) return JP_ERR_NOMEM;
    size_t lim = jp_mem_limit();
    if (err->code != JP_ERR_NOMEM || !lim || strstr(err->msg, " within JINPU_MAX_MEMORY="))
        return err->code;
    char holds[256], n[32], where[600] = "", size[32];
    va_list ap;
    va_start(ap, what);
    vsnprintf(holds, sizeof holds, what, ap);
    va_end(ap);
    if (rows >= 0)
        snprintf(where, sizeof where, " (%s row%s)",
                 thousands((unsigned long long)rows, n, sizeof n), rows == 1 ? "" : "s");
    else if (err->row > 0 && err->file[0])
        snprintf(where, sizeof where, " (memory ran out at row %s of %s)",
                 thousands((unsigned long long)err->row, n, sizeof n), err->file);
    err->line = err->col = err->row = 0;
    err->file[0] = err->field[0] = '\0';
    return jp_error_set(err, JP_ERR_NOMEM,
                        "%s: out of memory holding %s%s within JINPU_MAX_MEMORY=%s; raise the "
                        "limit%s",
                        verb, holds, where, jp_size_format(lim, size, sizeof size),
                        advice ? advice : "");
}
