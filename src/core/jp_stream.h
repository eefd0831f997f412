/*
 * jp_stream.h - streaming execution of lazy plans over CSV files: the rows
 * go through the plan one batch at a time and are not kept (jp_stream.c).
 *
 * The verbs call these when their input is a chain that can stream (a lazy
 * CSV file under filter, mutate by expressions, select/drop/rename,
 * convert, head) and fall back to loading the columns otherwise.  Results
 * are those of the whole-file way, bit for bit.
 */
#ifndef JP_STREAM_H
#define JP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"
#include "jp_verbs.h"

/* Is ds a lazy CSV file, or plan nodes over one, that can run batch by batch? */
bool jp_stream_possible(const jp_dataset_t *ds);

/* Can this group_by + agg stream (the chain, and aggregates that carry
 * over batches: count, sum, mean, min, max, first, last)? */
bool jp_stream_group_ok(const jp_dataset_t *ds, const jp_agg_t *aggs, size_t naggs);

/*
 * jp_group_agg's result, streaming: kidx are the key fields of ds, aidx the
 * aggregated fields (-1: none), names already checked.  *fallback (NULL
 * returned, no error) when the whole-file way must be taken instead (the
 * file has no rows).  A new dataset with one reference for the caller.
 */
jp_dataset_t *jp_stream_group_agg(jp_dataset_t *ds, const long *kidx, size_t nkeys,
                                  const long *aidx, const jp_agg_t *aggs, size_t naggs,
                                  bool *fallback, jp_error_t *err);

/*
 * jp_csv_write of ds, streaming: each batch's rows are appended to the
 * file as they come; the file is committed at the end, and removed on any
 * error.  *fallback (JP_OK returned, nothing written) when the whole-file
 * way must be taken instead.
 */
jp_status_t jp_stream_write_csv(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                                bool *fallback, jp_error_t *err);

/*
 * One column of a streamable chain reduced in one pass (jp_stream_ops.c):
 * what col:sum(), mean(), min(), max(), count(), null_count(), nulls(),
 * qualified() and #col give on the loaded column, gathered batch by batch
 * in row order without loading it.
 */
typedef struct jp_col_summary {
    jp_type_t type;         /* the column's type, as a full load gives it */
    size_t rows, nulls;     /* cells, null cells */
    size_t qualified;       /* cells with a qualifier other than exact */
    jp_qual_t qual;         /* the non-null cells' qualifiers combined */
    bool overflow;          /* an integer column's sum overflowed */
    int64_t isum;           /* an integer column's sum */
    double sum, comp;       /* compensated sum of the non-null values, as doubles */
    jp_column_t *min, *max; /* one row: the first smallest / largest value (NULL: none) */
} jp_col_summary_t;

typedef enum jp_vec_op { JP_VEC_SUM, JP_VEC_MEAN, JP_VEC_MIN, JP_VEC_MAX } jp_vec_op_t;

/* Field `field` of ds (a chain jp_stream_possible accepts) summarised.
 * *fallback (JP_OK, nothing filled) when the whole-file way must be taken
 * instead (no rows). */
jp_status_t jp_stream_column_summary(jp_dataset_t *ds, size_t field, jp_col_summary_t *out,
                                     bool *fallback, jp_error_t *err);
void jp_col_summary_free(jp_col_summary_t *s);
/* jp_vec_sum / mean / min / max of the summarised column: the same value,
 * bit for bit, and the same errors ("what" names the field, may be NULL).
 * A string value points into s. */
jp_status_t jp_col_summary_get(const jp_col_summary_t *s, jp_vec_op_t op, const char *what,
                               jp_value_t *out, jp_error_t *err);

/*
 * Every row of ds (a chain jp_stream_possible accepts), in order, batch by
 * batch: fn gets a dataset with the fields of ds that fields[] marks (NULL:
 * every field) over the batch's rows (borrowed: it takes a reference to
 * keep it), the first being row row0 of ds.  reset says that the batches
 * so far are void: the file's types changed late, and the batches come
 * again from the first.  A status from fn stops the stream; the error
 * reported is then the whole file's (a malformed record further on comes
 * first, as a full read gives it) unless stopped (may be NULL) says that
 * fn chose to stop.
 */
typedef jp_status_t (*jp_stream_rows_fn)(void *ctx, jp_dataset_t *batch, size_t row0,
                                         jp_error_t *err);
/* Is ds's file large enough that work done row by row outside the core (a
 * Lua function) had better stream than load it: JP_STREAM_ROWS_BYTES of
 * text or more (a gzip file counts four times its size), a quarter of the
 * memory limit, or a size unknown?  Loading is faster when the file fits:
 * one read serves every verb that follows.  jp_stream_set_rows_bytes
 * changes the size (0: the default; for tests). */
#define JP_STREAM_ROWS_BYTES ((uint64_t)512 << 20)
bool jp_stream_rows_worth(const jp_dataset_t *ds);
void jp_stream_set_rows_bytes(uint64_t bytes);
jp_status_t jp_stream_rows(jp_dataset_t *ds, const bool *fields, jp_stream_rows_fn fn,
                           void (*reset)(void *ctx), bool (*stopped)(void *ctx), void *ctx,
                           jp_error_t *err);

/* A chain under a head (head(n), slice(i, j)) reads a prefix of its file:
 * JP_STREAM_HEAD_BYTES of text, four times as much each time the head's
 * input got fewer rows than it takes.  jp_stream_set_head_bytes changes the
 * first prefix (0: the default; for tests). */
#define JP_STREAM_HEAD_BYTES ((uint64_t)4 << 20)
void jp_stream_set_head_bytes(uint64_t bytes);

/*
 * Progress of streams, for a front end to show (NULL, the default: none).
 * Called on the thread that runs the stream: once at its start, after each
 * batch (bytes: text read from the file's start; total: the file's size,
 * 0 when unknown, as for gzip; rows: rows read so far), and once at its end
 * with done set, whatever the outcome.  It must not call back into jinpu.
 */
typedef void (*jp_stream_progress_fn)(const char *path, uint64_t bytes, uint64_t total,
                                      uint64_t rows, bool done);
void jp_stream_set_progress(jp_stream_progress_fn fn);
jp_stream_progress_fn jp_stream_progress(void);

/* How many batches have gone through chains since the start (for tests). */
size_t jp_stream_batches(void);

#endif
