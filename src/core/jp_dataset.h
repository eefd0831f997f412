/*
 * jp_dataset.h - a dataset: schema + columns + metadata.
 *
 * Ownership: datasets are reference-counted like columns.  A dataset is built
 * by its creator (jp_dataset_new, jp_dataset_add_column, metadata setters)
 * and is immutable once shared: transforms return new datasets that share
 * the unchanged columns.  jp_dataset_add_column takes ownership of the
 * caller's reference to the column.
 *
 * Lazy datasets: a dataset may carry a plan (`lazy`) instead of some of its
 * columns, for example a CSV file not yet parsed followed by filters.  Its
 * `cols[i]` may then be NULL and `nrows` unknown; every consumer first calls
 * jp_dataset_need() with the columns it is about to read (the plan then
 * loads just those), or jp_dataset_need_all().  Eager datasets return JP_OK
 * at once.
 */
#ifndef JP_DATASET_H
#define JP_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_column.h"
#include "jp_error.h"
#include "jp_schema.h"

typedef struct jp_meta {
    char *name;  /* short identifier: "cherry" */
    char *title; /* one line for people */
    char *description;
    char *source;      /* where the figures come from (article, section) */
    char *source_file; /* the source document, if any */
    char *period;      /* the period the dataset covers, as text */
    char *license;
    char **notes;
    size_t n_notes;
    /* provenance: the plugins whose readers or verbs produced the rows, as
     * "NAME VERSION" (sorted, distinct); verbs carry them on, archive
     * manifests record them.  Not part of the content (jp_dataset_equal
     * ignores them). */
    char **plugins;
    size_t n_plugins;
} jp_meta_t;

typedef struct jp_lazy jp_lazy_t; /* jp_lazy.h */

typedef struct jp_dataset {
    int refs;
    jp_meta_t meta;
    jp_schema_t schema;
    jp_column_t **cols; /* schema.n_fields entries */
    size_t cols_cap;
    size_t nrows;       /* valid when !lazy or lazy has settled it */
    char *origin;       /* file the rows were read from, or NULL */
    jp_column_t *lines; /* INT: line in `origin` where each row starts, or NULL */
    long first_line;    /* when lines is NULL: row i starts on line first_line + i
                           (0 = unknown); saves a column for plain CSV files */
    jp_lazy_t *lazy;    /* NULL for an eager dataset */
} jp_dataset_t;

/* Readers: what code outside the core uses instead of the members. */
static inline size_t jp_dataset_nrows(const jp_dataset_t *ds)
{
    return ds->nrows; /* settled: after jp_dataset_need_rows for a lazy one */
}
static inline size_t jp_dataset_nfields(const jp_dataset_t *ds)
{
    return ds->schema.n_fields;
}
static inline const jp_field_t *jp_dataset_field(const jp_dataset_t *ds, size_t i)
{
    return &ds->schema.fields[i];
}
/* Column i: NULL in a lazy dataset until jp_dataset_need loads it. */
static inline jp_column_t *jp_dataset_col(const jp_dataset_t *ds, size_t i)
{
    return ds->cols[i];
}
static inline const jp_schema_t *jp_dataset_schema(const jp_dataset_t *ds)
{
    return &ds->schema;
}
static inline const jp_meta_t *jp_dataset_meta(const jp_dataset_t *ds)
{
    return &ds->meta;
}
static inline bool jp_dataset_is_lazy(const jp_dataset_t *ds)
{
    return ds->lazy != NULL;
}
static inline const char *jp_dataset_origin(const jp_dataset_t *ds)
{
    return ds->origin;
}

jp_dataset_t *jp_dataset_new(void);
jp_dataset_t *jp_dataset_ref(jp_dataset_t *ds);
void jp_dataset_unref(jp_dataset_t *ds);

/*
 * Add a field and its column (takes ownership of the caller's reference to
 * col, also on failure).  The first column fixes nrows; later ones must
 * have the same length and the field's type.  The field is deep-copied.
 */
jp_status_t jp_dataset_add_column(jp_dataset_t *ds, const jp_field_t *field, jp_column_t *col,
                                  jp_error_t *err);
/* Convenience: a field with just a name, type and unit (unit may be NULL). */
jp_status_t jp_dataset_add(jp_dataset_t *ds, const char *name, jp_column_t *col, const char *unit,
                           jp_error_t *err);
/* For the dataset's creator, before it is shared: its metadata to fill,
 * the row count of a dataset without columns (one with columns has their
 * length), and its keys, copied from those of `keys` (its fields are not
 * looked at) in place of any it had (JP_ERR_NOMEM, ds unchanged). */
static inline jp_meta_t *jp_dataset_meta_edit(jp_dataset_t *ds)
{
    return &ds->meta;
}
void jp_dataset_set_nrows(jp_dataset_t *ds, size_t n);
jp_status_t jp_dataset_set_keys(jp_dataset_t *ds, const jp_schema_t *keys);
/* Set origin and (taking ownership of) the per-row line column. */
void jp_dataset_set_origin(jp_dataset_t *ds, const char *origin, jp_column_t *lines);
/* Line in `origin` where row i (0-based) starts, or 0 when unknown. */
long jp_dataset_row_line(const jp_dataset_t *ds, size_t i);

long jp_dataset_find(const jp_dataset_t *ds, const char *name);
/* Column by name, or NULL (after jp_dataset_need for lazy datasets). */
jp_column_t *jp_dataset_column(const jp_dataset_t *ds, const char *name);
/* Column by name with a clear JP_ERR_ARG message naming the dataset, the
 * verb (may be NULL) and the field when it does not exist. */
jp_status_t jp_dataset_lookup(const jp_dataset_t *ds, const char *name, const char *verb,
                              long *index, jp_error_t *err);

jp_status_t jp_dataset_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err);
jp_status_t jp_dataset_need_all(jp_dataset_t *ds, jp_error_t *err);
/* Settle nrows (runs filters of a lazy plan, loads only what they need). */
jp_status_t jp_dataset_need_rows(jp_dataset_t *ds, jp_error_t *err);
/* nrows when it is settled, else -1 (a lazy plan not yet run): for a message
 * that must not run the plan to say how big it is. */
long jp_dataset_rows_known(const jp_dataset_t *ds);

/*
 * A new dataset with the same schema and metadata holding rows idx[0..n)
 * (JP_NO_ROW -> a row of nulls).  Carries origin/lines along.  The input
 * must be settled (need_all).
 */
jp_dataset_t *jp_dataset_gather(const jp_dataset_t *ds, const size_t *idx, size_t n,
                                jp_error_t *err);
/* Same schema and metadata, no columns yet (for verbs that build them). */
jp_dataset_t *jp_dataset_new_like(const jp_dataset_t *ds, bool copy_schema, jp_error_t *err);

jp_status_t jp_meta_copy(jp_meta_t *dst, const jp_meta_t *src);
void jp_meta_free(jp_meta_t *m);
/* Replace a metadata string (value may be NULL); returns JP_ERR_NOMEM. */
jp_status_t jp_meta_set(char **slot, const char *value);
jp_status_t jp_meta_add_note(jp_meta_t *m, const char *note);
/* Record that plugin NAME VERSION produced the rows (kept sorted; a repeat
 * is a no-op); JP_ERR_NOMEM. */
jp_status_t jp_meta_add_plugin(jp_meta_t *m, const char *name, const char *version);

/* Deep equality of schema, metadata and every cell; on difference `why`
 * (>= 256 bytes, may be NULL) names the first one. */
bool jp_dataset_equal(jp_dataset_t *a, jp_dataset_t *b, char *why, size_t size);

#endif
