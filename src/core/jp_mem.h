/*
 * jp_mem.h - the core's allocator.
 *
 * All core allocations go through these wrappers so that tests can make the
 * n-th allocation fail (error-injection for out-of-memory paths) and so that
 * what the core holds is charged to the memory budget of jp_limit.h.  They
 * never abort: a NULL return (out of memory, or over the budget) is
 * reported upwards as JP_ERR_NOMEM.  Thread-safe.
 *
 * A block from these functions is released with jp_free only, never with
 * free() (it carries a size header); and jp_free takes only such blocks.
 */
#ifndef JP_MEM_H
#define JP_MEM_H

#include <stddef.h>

void *jp_malloc(size_t n);
void *jp_calloc(size_t count, size_t size);
void *jp_realloc(void *p, size_t n);
/* n * size with overflow check; NULL on overflow or failure. */
void *jp_malloc_array(size_t count, size_t size);
void *jp_realloc_array(void *p, size_t count, size_t size);
void jp_free(void *p);
char *jp_strdup(const char *s);            /* NULL in, NULL out */
char *jp_strndup(const char *s, size_t n); /* always NUL-terminates */

/* zlib's allocator hooks, charged to the budget:
 *   z.zalloc = jp_zalloc; z.zfree = jp_zfree; z.opaque = NULL; */
void *jp_zalloc(void *opaque, unsigned items, unsigned size);
void jp_zfree(void *opaque, void *p);

/*
 * Testing: make the allocation `n` calls from now fail (n >= 1); every
 * later allocation fails too while `sticky` is set.  n <= 0 disables.
 */
void jp_mem_fail_after(long n, int sticky);

#endif
