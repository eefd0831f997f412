/*
 * jp_xsort.h - the full sort of a chain that streams, within a memory
 * budget: runs that fit are sorted and written to temporary files, then
 * merged into the consumer (jp_xsort.c).  Internal to the core: the CSV
 * writer and the sort node call it.
 */
#ifndef JP_XSORT_H
#define JP_XSORT_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"

/* What reading the file in batches takes, and the smallest budget a sort
 * in runs accepts. */
#define JP_XSORT_RESERVE    ((size_t)256 << 20)
#define JP_XSORT_MIN_BUDGET ((size_t)320 << 20)

/*
 * The budget of a sort: `memory` (the sort's option; 0: none), else
 * JINPU_MAX_MEMORY (jp_mem_limit), else a quarter of the machine's RAM;
 * never more than jp_mem_limit when one is set.
 */
size_t jp_xsort_budget(size_t memory);

/*
 * jp_csv_write of ds, a sort plan of every row over a chain that streams:
 * the rows go to the file in order, merged from sorted runs when they do
 * not fit the budget.  *fallback (JP_OK, nothing written) when ds is not
 * such a plan: the caller writes it the loaded way.
 */
jp_status_t jp_xsort_write_csv(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                               bool *fallback, jp_error_t *err);

/*
 * Fill every column of the sort node ds (over `in`, keys kidx/desc) the
 * same way; ds->nrows set.  *fallback when `in` does not stream or has no
 * rows.  A key that cannot be written to a run (a period) keeps every row
 * in memory.  Both: the file's and the chain's errors come under "sort: ".
 */
jp_status_t jp_xsort_collect(jp_dataset_t *ds, jp_dataset_t *in, const long *kidx, const bool *desc,
                             size_t nkeys, size_t memory, bool *fallback, jp_error_t *err);

/* Runs written to disk since the start (for tests). */
size_t jp_xsort_runs_written(void);

/* Testing: runs of at most this many bytes whatever the budget (0: the
 * budget's).  Not thread-safe: call before sorting. */
void jp_xsort_set_run_bytes(size_t bytes);

#endif
