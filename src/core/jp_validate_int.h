/*
 * jp_validate_int.h - what the validator's files share and nobody else
 * needs: adding rules and issues, row subsets, cell text for messages.
 */
#ifndef JP_VALIDATE_INT_H
#define JP_VALIDATE_INT_H

#include "jp_validate.h"

/* What a report over one batch of a stream carries over the batches: per
 * rule, the key values seen so far (unique, keys); where the batch starts;
 * whether a rule cannot be checked batch by batch. */
typedef struct jpv_keys jpv_keys_t;
typedef struct jpv_carry {
    jpv_keys_t **keys; /* by rule id (NULL: none) */
    size_t n_keys;
    size_t row0;  /* the batch's first row, in the stream's rows */
    bool refused; /* a rule reads more than its row */
} jpv_carry_t;
void jpv_carry_clear(jpv_carry_t *c);
/* The line of row `row` (a stream's), the first of a value rule `rule`
 * saw, or 0. */
long jpv_carry_line(const jpv_carry_t *c, uint32_t rule, size_t row);

/* A report over ds, without settling it (jp_report_new settles it). */
jp_report_t *jpv_report_over(jp_dataset_t *ds, jp_error_t *err);

/* Add a rule (name defaults to `defname`); *id its index. */
jp_status_t jpv_rule(jp_report_t *r, const char *kind, const char *field, const char *detail,
                     const char *defname, const jp_rule_opts_t *o, uint32_t *id);
/* One issue. msg: 1 + offset in r->texts, or 0. */
jp_status_t jpv_issue(jp_report_t *r, uint32_t rule, size_t row, long field, jp_vcheck_t check,
                      bool doubtful, size_t other, size_t msg);
/* Store a message text once; its handle (1 + offset) in *msg. */
jp_status_t jpv_text(jp_report_t *r, const char *s, size_t *msg);
/* Mark broken with a printf message. */
jp_status_t jpv_broken(jp_report_t *r, uint32_t rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The rows a rule applies to: NULL mask = every row.  A `where` that does
 * not compile or is not a condition marks rule `id` broken and sets
 * *broken.  The mask (jp_free) has one byte per row, 1 = applies.
 */
jp_status_t jpv_where(jp_report_t *r, uint32_t id, const char *where, uint8_t **mask, bool *broken,
                      jp_error_t *err);

/* The text of a cell for messages: 'text' quoted and cut for strings, the
 * qualifier symbol before figures, "null" for nulls. */
jp_status_t jpv_cell_repr(jp_buf_t *out, const jp_column_t *c, size_t i);

static inline bool jpv_applies(const uint8_t *mask, size_t i)
{
    return !mask || mask[i];
}

/* Mark the cell at row `row` of field f as not of its type when read
 * (jp_report_type_error without the issue). */
jp_status_t jpv_untyped_set(jp_report_t *r, long f, size_t row);

/* Was the cell at row i of field fi not of its type when read?  (It is
 * reported under its type rule, not again as missing.) */
static inline bool jpv_untyped(const jp_report_t *r, long fi, size_t i)
{
    return r->untyped && fi >= 0 && r->untyped[fi] && r->untyped[fi][i];
}

#endif
