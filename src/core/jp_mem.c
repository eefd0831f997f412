/*
 * jp_mem.c - allocation wrappers with failure injection for tests.
 */
#include "jp_mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

void *jp_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *jp_calloc(size_t count, size_t size)
{
    if (should_fail()) return NULL;
    if (!count || !size) count = size = 1;
    return calloc(count, size);
}

void *jp_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
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
    free(p);
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
