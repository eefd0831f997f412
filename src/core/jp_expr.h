/*
 * jp_expr.h - expressions over a dataset's fields, in Lua's own syntax:
 *   "crop == 'cherry' and output_t > 100"      "output_t / area_mu"
 * compiled once against a schema (names and types are checked then) and
 * evaluated column-at-a-time in C.
 *
 * Ownership: jp_expr_compile returns an expression the caller frees with
 * jp_expr_free; it keeps no pointer to the schema it was compiled against.
 * Evaluation never modifies its input dataset.
 */
#ifndef JP_EXPR_H
#define JP_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_error.h"

typedef struct jp_expr jp_expr_t;

/*
 * Limits (docs/verbs.md), each refused with JP_ERR_EXPR and the column where
 * it was reached: parentheses and function calls nested deeper than
 * JP_EXPR_MAX_DEPTH, more than JP_EXPR_MAX_TOKENS tokens, and code that needs
 * more than JP_EXPR_MAX_SLOTS intermediate results at once.  Chains of
 * operators (a 60,000-term sum) are not nesting: they take no C stack.
 */
#define JP_EXPR_MAX_DEPTH  200
#define JP_EXPR_MAX_TOKENS 200000
#define JP_EXPR_MAX_SLOTS  4096

/*
 * Compile `src` against `schema`.  Errors (JP_ERR_EXPR) name the offending
 * token and its 1-based column in `src`, and the field when one is
 * unknown or of the wrong type.
 */
jp_expr_t *jp_expr_compile(const char *src, const jp_schema_t *schema, jp_error_t *err);
void jp_expr_free(jp_expr_t *e);

/* Result type (JP_TYPE_BOOL for predicates). */
jp_type_t jp_expr_type(const jp_expr_t *e);
/* The unit of the result when it can be derived (e.g. "CNY/t"), or NULL. */
const char *jp_expr_unit(const jp_expr_t *e);
/* When the result is in the unit that each row of a field gives (its inputs'
 * unit_field: round(value, 1), value * 2, ...), that field's name; else NULL
 * (jp_expr_unit is then NULL). */
const char *jp_expr_unit_field(const jp_expr_t *e);
/* The schema indices of the fields the expression reads. */
size_t jp_expr_inputs(const jp_expr_t *e, const size_t **idx);
/* The source text. */
const char *jp_expr_source(const jp_expr_t *e);

/*
 * Groups for the aggregates and window functions of an expression
 * (sum(x), lag(x), rank(x), ...): gid[i] is row i's group, from 0 to
 * ngroups - 1; the rows of a group are taken in row order.  Without groups
 * (NULL, or gid NULL) the whole dataset is one group.
 */
typedef struct jp_expr_groups {
    const uint32_t *gid;
    size_t ngroups;
} jp_expr_groups_t;

/* Does the expression hold aggregates or window functions (a row's value
 * then depends on other rows)?  Known for a parsed expression too. */
bool jp_expr_is_window(const jp_expr_t *e);

/* Evaluate for every row of ds (whose schema matches the compiled one):
 * a new column of ds->nrows values (one reference, owned by the caller). */
jp_column_t *jp_expr_eval(const jp_expr_t *e, jp_dataset_t *ds, jp_error_t *err);

/* For a JP_TYPE_BOOL expression: the rows where it is true (null counts as
 * false), as a jp_malloc'd array of row indices the caller frees. */
jp_status_t jp_expr_select(const jp_expr_t *e, jp_dataset_t *ds, size_t **rows, size_t *n,
                           jp_error_t *err);

/*
 * For lazy inputs whose fields may not have a type yet (JP_TYPE_NONE): check
 * the syntax and the field names only.  The result cannot be evaluated
 * (jp_expr_is_bound is false, jp_expr_type is JP_TYPE_NONE); it tells which
 * fields the expression reads.  Compile again once the types are known.
 */
jp_expr_t *jp_expr_parse(const char *src, const jp_schema_t *schema, jp_error_t *err);
bool jp_expr_is_bound(const jp_expr_t *e);

/* The same as jp_expr_eval / jp_expr_select over columns indexed like the
 * compiled schema (only the inputs need to be present), nrows long each. */
jp_column_t *jp_expr_eval_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                               jp_error_t *err);
jp_status_t jp_expr_select_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                size_t **rows, size_t *n, jp_error_t *err);

/* The same within groups (g may be NULL: one group). */
jp_column_t *jp_expr_eval_groups(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                 const jp_expr_groups_t *g, jp_error_t *err);
jp_status_t jp_expr_select_groups(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                  const jp_expr_groups_t *g, size_t **rows, size_t *n,
                                  jp_error_t *err);

#endif
