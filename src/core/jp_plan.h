/*
 * jp_plan.h - lazy plan nodes for the verbs (filter, mutate, select/drop/
 * rename, take, head/tail/slice, convert) over lazy inputs.
 *
 * A node is a jp_lazy_t of a new dataset that holds a reference to its
 * input.  When a consumer needs some of the node's fields, the node works
 * out which input fields that takes (its own expressions' inputs plus the
 * passed-through fields), asks its input for exactly those in one call, and
 * builds only the requested columns; a chain of nodes over a lazy CSV file
 * therefore parses just the columns the whole pipeline reads, once.
 *
 * Names are checked when a node is made (lazy datasets know their field
 * names); expressions are type-checked as soon as their inputs have types,
 * which for a CSV file is when the columns are parsed.  Errors found then
 * are prefixed with the verb that planned the work.
 *
 * Ownership: constructors take a borrowed input (they take their own
 * reference) and return a dataset with one reference owned by the caller.
 * Only the verbs (jp_verbs*.c) call these; they are used when the input is
 * lazy.
 */
#ifndef JP_PLAN_H
#define JP_PLAN_H

#include <stddef.h>
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_unit.h"

/* One output field of a node: an input field (src >= 0), an expression
 * over the input's fields, or a ready column (borrowed; nrows long). */
typedef struct jp_plan_field {
    const char *name;
    long src;
    const char *expr;
    jp_column_t *col;
    const char *unit;       /* for ready columns */
    const char *unit_field; /* for ready columns: their per-row unit */
} jp_plan_field_t;

/*
 * A node with fields `f` over rows of `in` chosen by an expression (`pred`,
 * may be NULL: every row).  For a mutate, f lists the input's fields
 * (src) with the new and replaced ones.
 */
jp_dataset_t *jp_plan_map(jp_dataset_t *in, const char *verb, const jp_plan_field_t *f, size_t n,
                          const char *pred, jp_error_t *err);

/* Every field of `in`, rows idx[0..n) (copied). */
jp_dataset_t *jp_plan_take(jp_dataset_t *in, const char *verb, const size_t *idx, size_t n,
                           jp_error_t *err);

/* Every field of `in`, a range of rows: from the start (tail false) or
 * counted back from the end (tail true, `from` ignored). */
jp_dataset_t *jp_plan_range(jp_dataset_t *in, const char *verb, size_t from, size_t n, bool tail,
                            jp_error_t *err);

/* Like jp_dataset_gather (rows without JP_NO_ROW, an eager dataset), the
 * columns gathered on all cores. */
jp_dataset_t *jp_plan_gather(const jp_dataset_t *ds, const size_t *rows, size_t n, jp_error_t *err);

/* dst[c] = rows[0..n) of src[c], new columns gathered on all cores (no
 * JP_NO_ROW among the rows).  JP_ERR_NOMEM leaves no column behind. */
jp_status_t jp_plan_gather_cols(jp_column_t *const *src, jp_column_t **dst, size_t ncols,
                                const size_t *rows, size_t n);

/*
 * Sort nodes (jp_sort.c): jp_sort_plan makes one; a head taken from one is
 * a node of the same sort that keeps `limit` (>= 1) rows - a top-N, which
 * never sorts the whole input.
 */
bool jp_sort_is_plan(const jp_dataset_t *ds);
jp_dataset_t *jp_sort_limit(jp_dataset_t *ds, size_t limit, jp_error_t *err);
/* What a sort node is: its input, keys, limit (0: every row) and budget. */
bool jp_sort_plan_spec(const jp_dataset_t *ds, jp_dataset_t **in, const long **idx,
                       const bool **desc, size_t *nkeys, size_t *limit, size_t *memory);
/* The distinct row numbers order[0..n) in ascending order: rows[r] the
 * r-th smallest, at[q] where order[q] landed (rows[at[q]] == order[q]), so
 * that rows read in file order can be put back in order's order.  rows and
 * at are the caller's, n each. */
jp_status_t jp_sort_rows_ascending(const size_t *order, size_t n, size_t *rows, size_t *at,
                                   jp_error_t *err);

/*
 * Streaming (jp_stream.c).  jp_plan_stream_input: the input of a node that
 * can work on a batch of its input's rows at a time (every row, a filter,
 * or a list of rows in order; fields passed through, computed by
 * expressions, or ready columns), else NULL.  jp_plan_stream_inputs: set
 * in_want[j] for each input field the node reads to make the fields with
 * want[i] set (and its filter's inputs).  jp_plan_stream_positional: does
 * the node go by row position (a list of rows, a ready column), so that
 * rebinding it needs the batch's first row?  jp_plan_rebind: the same node
 * over `in`, a dataset with the fields of the node's input (a batch of its
 * rows, the first being row row0 of the input).  jp_plan_stream_filters:
 * does such a node drop rows (a filter), or keep each input row as it is?
 */
jp_dataset_t *jp_plan_stream_input(const jp_dataset_t *ds);
bool jp_plan_stream_filters(const jp_dataset_t *ds);
void jp_plan_stream_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want);
bool jp_plan_stream_positional(const jp_dataset_t *ds);
jp_dataset_t *jp_plan_rebind(const jp_dataset_t *ds, jp_dataset_t *in, size_t row0,
                             jp_error_t *err);
/* Is ds a head (a range of rows from the start: head, slice), and how many
 * rows of its input does it take at most (SIZE_MAX: every row from `from`)?
 * A stream through such a node needs only a prefix of the file. */
bool jp_plan_stream_head(const jp_dataset_t *ds, size_t *rows);

/* Row function nodes (jp_plan_fn.c; made by jp_plan_fn, jp_verbs.h). */
bool jp_plan_fn_is(const jp_dataset_t *ds);
jp_dataset_t *jp_plan_fn_input(const jp_dataset_t *ds);
bool jp_plan_fn_filters(const jp_dataset_t *ds);
void jp_plan_fn_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want);
bool jp_plan_fn_retry(const jp_dataset_t *ds, bool clear);
jp_dataset_t *jp_plan_fn_rebind(const jp_dataset_t *ds, jp_dataset_t *in, size_t row0,
                                jp_error_t *err);

/* Join nodes (jp_join_plan.c) stream too: the left rows, a batch at a
 * time, each probing the right side held whole.  The jp_plan_stream_*
 * functions and jp_plan_rebind hand them over to these. */
bool jp_join_is_plan(const jp_dataset_t *ds);
jp_dataset_t *jp_join_stream_input(const jp_dataset_t *ds);
void jp_join_stream_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want);
jp_dataset_t *jp_join_rebind(const jp_dataset_t *ds, jp_dataset_t *in, jp_error_t *err);
/*
 * Convert (jp_verbs.c makes the node when its input streams): every field
 * of `in`, field fi converted to the unit `to` (canonical) by cv, or, with
 * a unit field uf (>= 0), row by row from each row's unit, the unit field
 * then saying `to`.  The conversion of a column is jp_convert_column (a new
 * column: integers stay integers when allow_int, the factor is whole and
 * nothing overflows, *overflow when something did) and jp_convert_rows
 * (numbers, and the new unit column; errors name the row, counted from
 * row0 + 1, and its line in ds's origin).
 */
jp_dataset_t *jp_plan_convert(jp_dataset_t *in, size_t fi, long uf, const char *to,
                              const jp_unit_conv_t *cv, jp_error_t *err);
jp_column_t *jp_convert_column(const jp_column_t *c, const jp_unit_conv_t *cv, bool allow_int,
                               bool *overflow, jp_error_t *err);
jp_status_t jp_convert_rows(const jp_dataset_t *ds, const jp_column_t *c, const jp_column_t *uc,
                            const char *field, const char *unit_field, const char *to, size_t row0,
                            jp_column_t **out, jp_column_t **units, jp_error_t *err);
/* Does a node over a batch name its rows' lines in errors, so that the
 * batch should carry them?  Has a node asked for the batches to come
 * again since the pass began (its batches are made another way now: a
 * conversion whose integers overflowed makes numbers)?  `clear` resets it. */
bool jp_plan_stream_lines(const jp_dataset_t *ds);
bool jp_plan_stream_retry(const jp_dataset_t *ds, bool clear);

/* Carry the origin file and row lines of `src` over to `dst` (same rows). */
void jp_plan_copy_origin(jp_dataset_t *dst, const jp_dataset_t *src);

#endif
