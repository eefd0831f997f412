/*
 * jp_lazy.h - the hook by which a dataset defers work until it is needed.
 *
 * A lazy dataset holds a jp_lazy_t (owned by the dataset, freed with it).
 * jp_dataset_need() forwards to ops->need, which must fill ds->cols[idx[k]]
 * for every requested index (each with one reference owned by the dataset),
 * set ds->nrows, and may fill more columns than asked.  When every column is
 * present the dataset drops its plan and becomes eager.
 */
#ifndef JP_LAZY_H
#define JP_LAZY_H

#include "jp_dataset.h"

/* One batch of a stream (see jp_lazy_ops_t.stream). */
typedef jp_status_t (*jp_lazy_batch_fn)(void *ctx, size_t row0, size_t nrows,
                                        jp_column_t *const *cols, jp_error_t *err);

typedef struct jp_lazy_ops {
    const char *name; /* "csv", "filter", ... for messages and debugging */
    jp_status_t (*need)(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err);
    /* Settle ds->nrows only; NULL means: need the plan's own inputs. */
    jp_status_t (*need_rows)(jp_dataset_t *ds, jp_error_t *err);
    void (*free)(jp_lazy_t *lz);
    /*
     * Optional (NULL: not offered): new columns out[0..n) holding fields
     * idx[0..n) of rows[0..m) only (ascending, distinct, < ds->nrows, which
     * is known), without keeping whole columns - a top-N's few rows of a
     * large file.  The values and types are those a full load would give.
     * ds is not changed but for field types becoming known.
     */
    jp_status_t (*take)(jp_dataset_t *ds, const size_t *idx, size_t n, const size_t *rows, size_t m,
                        jp_column_t **out, jp_error_t *err);
    /*
     * Optional (NULL: not offered): every row, in order, to fn in batches,
     * without keeping whole columns (memory: about one batch) - an export
     * of a large file.  First the field types are settled in ds->schema and
     * quals[k] (schema.n_fields entries) says whether field k holds any
     * qualified value, both as a full load would find them; then fn gets
     * each batch: one column per field, rows row0.. of the dataset.  A
     * status from fn stops the stream.  ds->nrows is settled at the end.
     */
    jp_status_t (*stream)(jp_dataset_t *ds, bool *quals, jp_lazy_batch_fn fn, void *ctx,
                          jp_error_t *err);
} jp_lazy_ops_t;

struct jp_lazy {
    const jp_lazy_ops_t *ops;
    bool rows_known; /* ds->nrows is valid */
};

#endif
