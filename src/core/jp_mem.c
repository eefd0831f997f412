/*
 * jp_mem.c - the core's allocator and the process-wide memory budget
 * (jp_limit.h): every block carries its size in a small header so that
 * jp_free can give back exactly what was charged; failure injection for
 * tests.
 *
 * Owns: the budget counters.  Must never: take a lock (the hot paths
 * allocate big column arrays from several threads: one relaxed atomic add
 * per allocation is the whole cost), or hand out a block that plain free()
 * could release (the header would leak the charge and corrupt the heap:
 * always jp_free).
 */
#include "jp_limit.h"
#include "jp_mem.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define JP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JP_ASAN 1
#endif
#endif
#ifdef JP_ASAN
#include <sanitizer/asan_interface.h>
#define HDR_POISON(b)   ASAN_POISON_MEMORY_REGION((b), HDR)
#define HDR_UNPOISON(b) ASAN_UNPOISON_MEMORY_REGION((b), HDR)
#else
#define HDR_POISON(b)   ((void)(b))
#define HDR_UNPOISON(b) ((void)(b))
#endif

/* The header keeps the user block aligned as malloc's would be. */
#define HDR ((size_t)alignof(max_align_t))

/* ---- the budget ---- */

static atomic_size_t mem_limit; /* 0 = none */
static atomic_size_t mem_used;
static atomic_size_t mem_peak;
static atomic_bool mem_refused;

void jp_mem_set_limit(size_t bytes)
{
    atomic_store(&mem_limit, bytes);
}

size_t jp_mem_limit(void)
{
    return atomic_load_explicit(&mem_limit, memory_order_relaxed);
}

size_t jp_mem_in_use(void)
{
    return atomic_load_explicit(&mem_used, memory_order_relaxed);
}

size_t jp_mem_peak(void)
{
    return atomic_load_explicit(&mem_peak, memory_order_relaxed);
}

bool jp_mem_refused(void)
{
    return atomic_load_explicit(&mem_refused, memory_order_relaxed);
}

void jp_mem_clear_refused(void)
{
    atomic_store(&mem_refused, false);
}

static void note_refused(void)
{
    atomic_store_explicit(&mem_refused, true, memory_order_relaxed);
}

/* Add first and take back on overshoot: two threads racing for the last
 * bytes may both be refused, never both admitted past the limit. */
static bool charge(size_t n, bool record)
{
    size_t lim = atomic_load_explicit(&mem_limit, memory_order_relaxed);
    if (lim && n > lim) {
        if (record) note_refused();
        return false;
    }
    size_t now = atomic_fetch_add_explicit(&mem_used, n, memory_order_relaxed) + n;
    if (lim && now > lim) {
        atomic_fetch_sub_explicit(&mem_used, n, memory_order_relaxed);
        if (record) note_refused();
        return false;
    }
    size_t peak = atomic_load_explicit(&mem_peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &mem_peak, &peak, now, memory_order_relaxed, memory_order_relaxed)) {
    }
    return true;
}

bool jp_mem_reserve(size_t n)
{
    return charge(n, true);
}

bool jp_mem_try_reserve(size_t n)
{
    return charge(n, false);
}

void jp_mem_unreserve(size_t n)
{
    atomic_fetch_sub_explicit(&mem_used, n, memory_order_relaxed);
}

/* ---- failure injection (tests) ---- */

static atomic_long fail_countdown; /* 0 = off */
static atomic_int fail_sticky;
static atomic_int failing;

static int should_fail(void)
{
    if (atomic_load_explicit(&failing, memory_order_relaxed)) return 1;
    long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (c <= 0) return 0;
    if (atomic_fetch_sub(&fail_countdown, 1) == 1) {
        if (atomic_load(&fail_sticky)) atomic_store(&failing, 1);
        return 1;
    }
    return 0;
}

void jp_mem_fail_after(long n, int sticky)
{
    atomic_store(&failing, 0);
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, n > 0 ? n : 0);
}

/* ---- blocks with a size header ---- */

static void *finish(char *base, size_t n)
{
    memcpy(base, &n, sizeof n);
    HDR_POISON(base);
    return base + HDR;
}

static size_t block_size(char *base)
{
    size_t n;
    HDR_UNPOISON(base);
    memcpy(&n, base, sizeof n);
    return n;
}

static void *alloc(size_t n, int zero)
{
    if (should_fail()) return NULL;
    if (n > SIZE_MAX - HDR) {
        note_refused();
        return NULL;
    }
    if (!charge(n + HDR, true)) return NULL;
    char *base = zero ? calloc(1, n + HDR) : malloc(n + HDR);
    if (!base) {
        jp_mem_unreserve(n + HDR);
        note_refused();
        return NULL;
    }
    return finish(base, n);
}

void *jp_malloc(size_t n)
{
    return alloc(n, 0);
}

void *jp_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return alloc(count * size, 1);
}

void *jp_realloc(void *p, size_t n)
{
    if (!p) return alloc(n, 0);
    if (should_fail()) return NULL;
    if (n > SIZE_MAX - HDR) {
        note_refused();
        return NULL;
    }
    char *base = (char *)p - HDR;
    size_t old = block_size(base);
    if (n > old && !charge(n - old, true)) {
        HDR_POISON(base);
        return NULL;
    }
    char *nb = realloc(base, n + HDR);
    if (!nb) {
        if (n > old) {
            jp_mem_unreserve(n - old);
            note_refused();
        }
        HDR_POISON(base);
        return NULL;
    }
    if (n < old) jp_mem_unreserve(old - n);
    return finish(nb, n);
}

void *jp_malloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return jp_malloc(count * size);
}

void *jp_realloc_array(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return jp_realloc(p, count * size);
}

void jp_free(void *p)
{
    if (!p) return;
    char *base = (char *)p - HDR;
    jp_mem_unreserve(block_size(base) + HDR);
    free(base);
}

char *jp_strdup(const char *s)
{
    return s ? jp_strndup(s, strlen(s)) : NULL;
}

char *jp_strndup(const char *s, size_t n)
{
    char *p = jp_malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *jp_zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return jp_malloc_array(items, size);
}

void jp_zfree(void *opaque, void *p)
{
    (void)opaque;
    jp_free(p);
}
