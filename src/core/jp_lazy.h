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

typedef struct jp_lazy_ops {
    const char *name; /* "csv", "filter", ... for messages and debugging */
    jp_status_t (*need)(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err);
    /* Settle ds->nrows only; NULL means: need the plan's own inputs. */
    jp_status_t (*need_rows)(jp_dataset_t *ds, jp_error_t *err);
    void (*free)(jp_lazy_t *lz);
} jp_lazy_ops_t;

struct jp_lazy {
    const jp_lazy_ops_t *ops;
    bool rows_known; /* ds->nrows is valid */
};

#endif
