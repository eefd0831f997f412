/*
 * jp_par.h - running a loop's parts on several threads.  Internal to the
 * core.
 *
 * jp_par_run calls fn(ctx, k, n) for every k in [0, n): parts 1..n-1 on
 * threads of their own, part 0 on the caller's, and returns when all are
 * done.  If a thread cannot be started its part runs on the caller's
 * thread, so the work always completes.  fn must not take or drop
 * references to shared columns or datasets (their counts are not atomic).
 */
#ifndef JP_PAR_H
#define JP_PAR_H

#include <stddef.h>

/* How many parts to split `work` items into: 1 below `min_per_part` items
 * per part, otherwise up to the number of cores (at most 8). */
int jp_par_parts(size_t work, size_t min_per_part);
void jp_par_run(int n, void (*fn)(void *ctx, int k, int n), void *ctx);

#endif
