/*
 * jp_verbs.h - the analyst's verbs: filter, select/drop/rename, mutate,
 * sort, group_by + agg, join, head/tail/slice, distinct, concat, pivot,
 * unpivot, convert, and vector operations on columns.
 *
 * Ownership: every verb takes its input(s) by borrowed pointer and returns
 * a NEW dataset with one reference owned by the caller (NULL on error, with
 * err filled).  Inputs are never modified, except that a lazy input may be
 * loaded (jp_dataset_need) - which changes no value.  Outputs share the
 * unchanged columns of their input.
 *
 * Lazy inputs: filter with an expression, mutate with expressions,
 * select/drop/rename, take, head/slice on a lazy dataset return lazy
 * datasets (jp_plan.h) that load only what their consumer needs; every
 * other verb loads the columns it reads.  Errors found while loading name
 * the verb that planned the work.
 *
 * Errors name the verb and the field: "sum: field 'crop' is a string",
 * "join: key 'year' is integer in the left dataset but string in the right
 * ('yr')", and expression errors name the token and its column.
 *
 * Nulls and qualifiers: see docs/verbs.md (each verb documents its rule
 * there and in its comment below).
 */
#ifndef JP_VERBS_H
#define JP_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_value.h"

/* ---- rows ------------------------------------------------------------------ */

/* Rows where the expression is true (null counts as false). */
jp_dataset_t *jp_filter(jp_dataset_t *ds, const char *expr, jp_error_t *err);
/* Rows idx[0..n) in that order (indices < nrows; repeats allowed). */
jp_dataset_t *jp_take(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err);
/* The first / last n rows (fewer when the dataset is shorter). */
jp_dataset_t *jp_head(jp_dataset_t *ds, size_t n, jp_error_t *err);
jp_dataset_t *jp_tail(jp_dataset_t *ds, size_t n, jp_error_t *err);
/* Rows [from, from + n), clipped to the dataset. */
jp_dataset_t *jp_slice(jp_dataset_t *ds, size_t from, size_t n, jp_error_t *err);

/* ---- fields ---------------------------------------------------------------- */

/* Only these fields, in this order (a name may not repeat). */
jp_dataset_t *jp_select(jp_dataset_t *ds, const char *const *names, size_t n, jp_error_t *err);
/* The same dataset under another name (its metadata otherwise kept; the
 * columns shared, a lazy input staying lazy): what export calls it. */
jp_dataset_t *jp_named(jp_dataset_t *ds, const char *name, jp_error_t *err);
/* All fields but these. */
jp_dataset_t *jp_drop(jp_dataset_t *ds, const char *const *names, size_t n, jp_error_t *err);
/* Rename from[k] to to[k]; the order of fields is kept. */
jp_dataset_t *jp_rename(jp_dataset_t *ds, const char *const *from, const char *const *to, size_t n,
                        jp_error_t *err);

/*
 * A new or replaced field: from an expression (`expr`) or a ready column
 * (`col`, borrowed, nrows long; the verb takes its own reference) with an
 * optional unit.  A replaced field keeps its position; new fields are
 * appended in order.  With `sequential`, each expression sees the fields
 * made before it in the same call; otherwise only the input's fields.  An
 * expression's result takes the unit it derives (jp_expr_unit), or the
 * per-row unit field of its inputs (jp_expr_unit_field: `round(value, 1)`
 * keeps the link of `value` to its unit column).  A numeric column without
 * a unit that replaces a numeric field is taken to be in that field's unit:
 * the field keeps its unit (or its unit_field).
 */
typedef struct jp_mutation {
    const char *name;
    const char *expr;
    jp_column_t *col;
    const char *unit;
} jp_mutation_t;

jp_dataset_t *jp_mutate(jp_dataset_t *ds, const jp_mutation_t *m, size_t n, bool sequential,
                        jp_error_t *err);

/*
 * Group-wise mutate and filter (group_by(keys):mutate / :filter): the
 * aggregates and window functions in the expressions (sum(x), lag(x),
 * rank(x), ... see docs/verbs.md) work within each group of the key fields,
 * in the dataset's row order; row-wise expressions and Lua functions are
 * unaffected.  The output is an ordinary dataset (rows in their order, the
 * groups forgotten).  With no keys these are jp_mutate and jp_filter, where
 * the whole dataset is one group.  The input is loaded whole.
 */
jp_dataset_t *jp_mutate_by(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const jp_mutation_t *m, size_t n, bool sequential, jp_error_t *err);
jp_dataset_t *jp_filter_by(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const char *expr, jp_error_t *err);

/*
 * Row functions (jp_plan_fn.c): a filter or a mutation by a function the
 * front end gives (a Lua function), over an input that streams.  The node
 * runs nothing when made.  A consumer that streams runs the function over
 * each batch, in row order, on the thread that runs the pass; one that
 * loads runs it once over the whole input and keeps the result.
 *
 * call() runs the function over the rows of `in` (rows row0.. of the
 * node's input) and gives, for a filter, the rows it keeps (*rows, a new
 * array of *nkept ascending row numbers of `in`), for a mutation one new
 * column per field (cols[k], in->nrows values; NULL when every value so
 * far in the pass was nil).  `batch`: `in` holds only the fields marked
 * in reads[] (in's n_fields entries); reading another marks it, sets
 * *more and returns JP_OK with nothing made, and the pass starts again
 * with it.  Otherwise the function
 * may read any field (`in` loads it) and marks what it read.  row0 == 0
 * starts a pass (the function's state, such as the type a mutation's
 * first value fixed, starts again).  free(ctx) when the node goes.
 */
typedef struct jp_rowfn {
    jp_status_t (*call)(void *ctx, jp_dataset_t *in, size_t row0, bool batch, bool *reads,
                        bool *more, size_t **rows, size_t *nkept, jp_column_t **cols,
                        jp_error_t *err);
    void (*free)(void *ctx);
    void *ctx;
} jp_rowfn_t;

/* A filter (names NULL, n 0) or a mutation of fields names[0..n) (new ones
 * appended, existing ones replaced), by fn over `in`, which must stream
 * (jp_stream_possible).  fn is the node's from then on, also on failure. */
jp_dataset_t *jp_plan_fn(jp_dataset_t *in, const char *verb, const char *const *names, size_t n,
                         jp_rowfn_t fn, jp_error_t *err);
/* A field of the node's input the function is likely to read (the front
 * end may know from the function's text): the first pass reads it from
 * the start instead of starting again when the function first reads it. */
void jp_plan_fn_hint(jp_dataset_t *ds, size_t field);
/* ---- order ------------------------------------------------------------------ */

typedef struct jp_sort_key {
    const char *field;
    bool desc;
} jp_sort_key_t;

/* Stable multi-key sort; nulls last whatever the direction; strings by
 * byte order; NaN after every number and before nulls.  Parallel: one
 * radix-sorted run per core, merged.  The result is eager for an eager
 * input and lazy for a lazy one. */
jp_dataset_t *jp_sort(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, jp_error_t *err);
/* The same, always lazy: the order is computed when a column is first
 * needed, and jp_head/jp_slice of it are top-N (only the first rows are
 * ever ordered).  Field names are checked now. */
jp_dataset_t *jp_sort_plan(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, jp_error_t *err);
/* The memory budget of a sort plan (bytes; 0: JINPU_MAX_MEMORY, else a
 * quarter of the RAM): a full sort of a lazy file larger than that sorts
 * runs that fit and merges them from temporary files in $TMPDIR.  No-op on
 * a dataset that is not a sort plan. */
void jp_sort_set_memory(jp_dataset_t *ds, size_t bytes);
/* The permutation only: (*order)[k] is the input row at output position k
 * (jp_malloc'd, nrows entries). */
jp_status_t jp_sort_order(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, size_t **order,
                          jp_error_t *err);
/* The first `limit` entries of that permutation (0: all); *m of them. */
jp_status_t jp_sort_top(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, size_t limit,
                        size_t **order, size_t *m, jp_error_t *err);

/* ---- groups ----------------------------------------------------------------- */

typedef enum jp_agg_kind {
    JP_AGG_COUNT, /* field NULL: rows; else non-null values */
    JP_AGG_SUM,   /* numbers; nulls ignored; all-null group -> null */
    JP_AGG_MEAN,  /* numbers -> number */
    JP_AGG_MIN,   /* numbers, strings, dates, booleans, periods */
    JP_AGG_MAX,
    JP_AGG_MEDIAN,         /* numbers -> number */
    JP_AGG_QUANTILE,       /* numbers -> number, p in [0, 1], linear interpolation */
    JP_AGG_COUNT_DISTINCT, /* any type -> integer; nulls not counted */
    JP_AGG_FIRST,          /* first / last non-null value, any type */
    JP_AGG_LAST
} jp_agg_kind_t;

typedef struct jp_agg {
    const char *name; /* output field */
    jp_agg_kind_t kind;
    const char *field; /* input field (NULL only for count) */
    double p;          /* quantile */
} jp_agg_t;

/* "count", "sum", ... and back; false when unknown. */
const char *jp_agg_name(jp_agg_kind_t k);
bool jp_agg_from_name(const char *name, jp_agg_kind_t *out);

/*
 * One row per distinct combination of the key fields (nulls form a group),
 * in order of first appearance: the key fields, then the aggregates in the
 * order given.  With no keys, one row over the whole dataset (also when it
 * is empty).
 */
jp_dataset_t *jp_group_agg(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const jp_agg_t *aggs, size_t naggs, jp_error_t *err);

/* Distinct combinations of `fields` (all fields when n == 0), first
 * occurrence kept, in order; keep_all keeps every field of those rows. */
jp_dataset_t *jp_distinct(jp_dataset_t *ds, const char *const *fields, size_t n, bool keep_all,
                          jp_error_t *err);

/* ---- joins ------------------------------------------------------------------ */

typedef enum jp_join_how {
    JP_JOIN_INNER, /* matching pairs, left order, then right order */
    JP_JOIN_LEFT,  /* every left row; nulls where nothing matches */
    JP_JOIN_ANTI,  /* left rows with no match (left fields only) */
    JP_JOIN_SEMI,  /* left rows with a match, once each (left fields only) */
    JP_JOIN_RIGHT, /* every right row, in right order (matching left rows in left order);
                      nulls in the left fields where nothing matches, the keys from the right */
    JP_JOIN_FULL   /* the left join's rows, then the right rows nothing matched (as RIGHT) */
} jp_join_how_t;

bool jp_join_from_name(const char *name, jp_join_how_t *out);

/*
 * Join on left_keys[k] == right_keys[k] (right_keys NULL: the same names).
 * Null keys never match.  Strings compare by content across dictionaries;
 * integer and number keys compare as numbers; other type mismatches are an
 * error naming both fields and types.  The output holds the left fields,
 * then the right's non-key fields; a right field whose name is taken gets
 * `suffix` appended (NULL: "_right").  Left columns are shared, not copied,
 * when every left row matches exactly one right row.  Parallel.  An
 * inner, left, semi or anti join of a lazy `left` is a lazy node
 * (jp_join_plan.c) that streams left's rows when left is a file pipeline;
 * `right` is loaded now.
 */
jp_dataset_t *jp_join(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                      const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                      const char *suffix, jp_error_t *err);
/* The same, but an inner, left, semi or anti join of rows in memory is a
 * lazy node too: the work waits for a consumer, and a streaming one takes
 * the left rows in slices through what follows, never holding the joined
 * columns whole (the Lua binding's ds:join). */
jp_dataset_t *jp_join_lazy(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                           const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                           const char *suffix, jp_error_t *err);

/* ---- shapes ------------------------------------------------------------------ */

/*
 * Rows of all datasets one after the other.  Every dataset has the same
 * field names (any order; the first dataset's order is used); integer and
 * number fields widen to number; strings merge their dictionaries; units
 * must agree.  Metadata comes from the first.
 */
jp_dataset_t *jp_concat(jp_dataset_t *const *list, size_t n, jp_error_t *err);

/*
 * Long -> wide: one row per distinct combination of id_cols (default: every
 * field but names_from and values_from), one new field per distinct value
 * of names_from (named by its text), holding values_from.  The new fields
 * come in sorted order of those values - numbers, years and dates by value,
 * text that reads as numbers by value and before other text, other text by
 * bytes, the null name (NA) last - or in order of first appearance with
 * keep_order.  Several values for one cell are an error unless values_fn
 * says how to combine them (has_fn).
 */
typedef struct jp_pivot_opts {
    const char *const *id_cols;
    size_t n_id_cols;
    const char *names_from;
    const char *values_from;
    bool has_fn;
    jp_agg_kind_t values_fn;
    const char *names_prefix; /* prepended to the new field names, or NULL */
    bool keep_order;          /* new fields in order of first appearance, not sorted */
} jp_pivot_opts_t;

jp_dataset_t *jp_pivot(jp_dataset_t *ds, const jp_pivot_opts_t *o, jp_error_t *err);

/*
 * Wide -> long: for each input row and each of `cols` (in order), one row
 * with the other fields (id fields), names_to = the column's name and
 * values_to = its value.  The columns must share a type (integer and number
 * widen); units kept when they agree; qualifiers kept.  drop_nulls skips
 * null values.
 */
typedef struct jp_unpivot_opts {
    const char *const *cols;
    size_t n_cols;
    const char *names_to;  /* default "name" */
    const char *values_to; /* default "value" */
    bool drop_nulls;
} jp_unpivot_opts_t;

jp_dataset_t *jp_unpivot(jp_dataset_t *ds, const jp_unpivot_opts_t *o, jp_error_t *err);

/*
 * Convert a numeric field to `unit` (jp_unit_factor).  An integer field
 * stays integer when the factor is a whole number and nothing overflows,
 * else becomes number.  When the field's unit comes from a per-row unit
 * field (field.unit_field), every row converts from its own unit and the
 * unit field is set to `unit`; a row whose unit does not convert is an
 * error naming the row.  Qualifiers are kept.
 */
jp_dataset_t *jp_convert(jp_dataset_t *ds, const char *field, const char *unit, jp_error_t *err);

/* ---- columns ----------------------------------------------------------------- */

/*
 * Vector operations.  Nulls are ignored; with no values the result is a
 * null value (count: 0).  sum of integers is an integer (JP_ERR_RANGE on
 * overflow) carrying the combined qualifier (jp_qual_combine); mean is a
 * number with the same qualifier; min/max return the chosen value with its
 * own qualifier (strings point into the column's dictionary).  `what`
 * names the column in messages (may be NULL).
 */
jp_status_t jp_vec_sum(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err);
jp_status_t jp_vec_mean(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err);
jp_status_t jp_vec_min(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err);
jp_status_t jp_vec_max(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err);
size_t jp_vec_count(const jp_column_t *c); /* non-null values */

#endif
