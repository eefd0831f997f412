/*
 * jp_par.c - a fork-join helper over pthreads for the verbs' bulk loops.
 *
 * Owns: thread start and join for one parallel loop at a time.  Must
 * never: keep threads alive between calls, allocate with anything but the
 * stack (a failed start only means less parallelism).
 */
#include "jp_par.h"

#include <pthread.h>
#include <unistd.h>
#include "jp_limit.h"

typedef struct part {
    void (*fn)(void *ctx, int k, int n);
    void *ctx;
    int k, n;
} part_t;

static void *run_part(void *arg)
{
    part_t *p = arg;
    p->fn(p->ctx, p->k, p->n);
    return NULL;
}

static long cores;
static pthread_once_t cores_once = PTHREAD_ONCE_INIT;

static void count_cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    cores = c < 1 ? 1 : c > 8 ? 8 : c;
}

int jp_par_parts(size_t work, size_t min_per_part)
{
    pthread_once(&cores_once, count_cores);
    if (!min_per_part) min_per_part = 1;
    size_t parts = work / min_per_part;
    if (parts < 1) parts = 1;
    return (int)(parts < (size_t)cores ? parts : (size_t)cores);
}

void jp_par_run(int n, void (*fn)(void *ctx, int k, int n), void *ctx)
{
    if (n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    if (n > 8) n = 8;
    pthread_t tid[8];
    part_t parts[8];
    int started[8] = {0};
    for (int k = 1; k < n; k++) {
        parts[k] = (part_t){fn, ctx, k, n};
        started[k] = jp_thread_create(&tid[k], run_part, &parts[k]) == 0;
    }
    fn(ctx, 0, n);
    for (int k = 1; k < n; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        else
            fn(ctx, k, n); /* could not start: do it here */
    }
}
