/*
 * jp_stream_sort.h - sort(...):head(n) over a chain that streams (a lazy
 * CSV file under filter, mutate by expressions, select/drop/rename): the
 * first n rows found batch by batch, so that memory holds n rows and one
 * batch whatever the file's size (jp_stream_sort.c).  Internal to the
 * core: the sort node (jp_sort.c) calls it.
 */
#ifndef JP_STREAM_SORT_H
#define JP_STREAM_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_dataset.h"
#include "jp_error.h"

/* What a first call found (the rows of the result), for later calls. */
typedef struct jp_stream_top jp_stream_top_t;

/*
 * Fill ds->cols[idx[k]] (ds has the fields of `in`) with the first `limit`
 * (>= 1) rows of `in` sorted by its fields kidx[0..nkeys) (desc[q]:
 * descending), as jp_sort_top orders them, and set ds->nrows.  The first
 * call streams the chain and keeps what it found in *state (NULL before);
 * later calls read only the fields still missing.  *fallback (JP_OK, ds
 * unchanged) when `in` does not stream or the file has no rows: the caller
 * sorts the loaded columns instead.
 */
jp_status_t jp_stream_top_need(jp_dataset_t *ds, jp_dataset_t *in, const long *kidx,
                               const bool *desc, size_t nkeys, size_t limit,
                               jp_stream_top_t **state, const size_t *idx, size_t n, bool *fallback,
                               jp_error_t *err);
void jp_stream_top_free(jp_stream_top_t *t);

/* A dataset with no rows and the fields idx[0..n) of top (a batch at the
 * chain's top: the fields typed by its columns, no constraints), each
 * column with room for cap rows: a pool that batches' rows go into. */
jp_dataset_t *jp_stream_empty_like(const jp_dataset_t *top, const size_t *idx, size_t n, size_t cap,
                                   jp_error_t *err);

#endif
