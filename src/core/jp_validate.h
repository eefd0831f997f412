/*
 * jp_validate.h - checking a dataset against constraints and rules, and the
 * report that says where every problem is.
 *
 * A report is made for one dataset (jp_report_new), filled by the checks
 * below (each adds one or more *rules* to it and one *issue* per failing
 * cell or row), closed with jp_report_finish (which applies `mostly`
 * thresholds and counts), and then read: issues, per-rule and per-field
 * counts, the text and JSON forms, and the failing rows as a dataset.
 *
 * What the checks mean (docs/validation.md says why):
 *   - constraints carry the Frictionless Table Schema names; `pattern` must
 *     match the whole value; lengths count UTF-8 code points; `unique`
 *     reports every row after the first with a value, citing the first;
 *     nulls are only the business of `required`.
 *   - minimum/maximum respect qualifiers: an issue is an error when the
 *     figure violates the bound whatever its exact value (more_than 400
 *     against maximum 400), a warning when an approximate figure's printed
 *     value is beyond the bound but within the approximation tolerance, and
 *     nothing when the bound may or may not be crossed by a one-sided figure
 *     (at_least 400 against maximum 1000).
 *   - a rule that cannot run (unknown field, bad pattern, an expression
 *     that does not compile, bounds of the wrong type) is marked BROKEN with
 *     a message naming it; it is not a data error.  The check functions
 *     return JP_OK in that case: a non-OK status means the validator itself
 *     could not go on (out of memory).
 *
 * Rows in issues are 0-based here (JP_NO_ROW for the dataset as a whole);
 * the text and JSON forms number rows from 1, as jp_error_t does.
 *
 * Ownership: the report holds a reference to its dataset and owns its
 * rules, issues and texts; jp_report_free releases all of it.  Strings
 * passed in are copied.  Nothing here keeps a pointer to a caller's
 * constraints or options after the call returns.
 */
#ifndef JP_VALIDATE_H
#define JP_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_buf.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_schema.h"

typedef enum jp_severity { JP_SEV_ERROR = 0, JP_SEV_WARNING = 1 } jp_severity_t;

/* What an issue says failed; it picks the message built for it. */
typedef enum jp_vcheck {
    JP_VC_REQUIRED = 0,
    JP_VC_UNIQUE,
    JP_VC_MINIMUM,
    JP_VC_MAXIMUM,
    JP_VC_MIN_LENGTH,
    JP_VC_MAX_LENGTH,
    JP_VC_PATTERN,
    JP_VC_ENUM,
    JP_VC_TYPE,        /* the value is not of the field's (declared) type */
    JP_VC_UNIT,        /* a per-row unit that is unknown or missing */
    JP_VC_KEY_REPEAT,  /* primary key combination repeats an earlier row */
    JP_VC_KEY_NULL,    /* a primary key field is null */
    JP_VC_FOREIGN_KEY, /* no such row in the referenced dataset */
    JP_VC_EXPR,        /* a row expression is false */
    JP_VC_CUSTOM       /* the message was given with the issue */
} jp_vcheck_t;

typedef enum jp_rule_status {
    JP_RULE_PASSED = 0, /* no failure */
    JP_RULE_FAILED,     /* failures beyond its threshold */
    JP_RULE_TOLERATED,  /* failures within its `mostly` threshold (reported as warnings) */
    JP_RULE_SKIPPED,    /* not applicable (e.g. a dataset it needs was not given) */
    JP_RULE_BROKEN      /* the rule itself is malformed or raised an error */
} jp_rule_status_t;

/* "passed", "failed", "tolerated", "skipped", "broken". */
const char *jp_rule_status_name(jp_rule_status_t s);
/* "error", "warning". */
const char *jp_severity_name(jp_severity_t s);
bool jp_severity_from_name(const char *name, jp_severity_t *out);

/* How a caller describes a rule it adds. */
typedef struct jp_rule_opts {
    const char *name;       /* default: built from the field and check ("value.minimum") */
    const char *where;      /* expression: the rule applies to the rows where it is true */
    const char *reason;     /* why the rule holds, for people (may be NULL) */
    jp_severity_t severity; /* what a failure is (default error) */
    double mostly;          /* fraction of checked rows that must pass, (0, 1]; 0 = 1 */
} jp_rule_opts_t;

#define JP_RULE_OPTS_INIT                                                                          \
    {                                                                                              \
        NULL, NULL, NULL, JP_SEV_ERROR, 0                                                          \
    }

typedef struct jp_rule_info {
    char *name;
    char *kind;   /* "constraint", "type", "unit", "primary_key", "foreign_key",
                     "expression", "function", "dataset" */
    char *field;  /* field name(s), "a, b" for keys; NULL for row rules */
    char *detail; /* what is checked, e.g. "maximum 400", "value <= 100" */
    char *where;  /* the row subset, or NULL */
    char *reason;
    char *message; /* BROKEN: what is wrong with the rule; SKIPPED: why */
    jp_severity_t severity;
    double mostly;
    size_t checked;  /* rows (or cells) the rule looked at */
    size_t failed;   /* of those, how many failed for sure */
    size_t doubtful; /* approximate figures that may fail (always warnings) */
    jp_rule_status_t status;
    size_t errors, warnings; /* its issues by final severity (once finished) */
    /* for messages: the bound as text ("400"), the enum list, the
     * referenced key ("subsidy (degree)"); and the schema indices of the
     * fields a key or expression reads */
    char *bound;
    long *cols;
    size_t n_cols;
} jp_rule_info_t;

typedef struct jp_issue {
    size_t row;       /* 0-based; JP_NO_ROW = the dataset as a whole */
    size_t other;     /* UNIQUE / KEY_REPEAT: the first row with the value */
    uint32_t rule;    /* index into rules */
    int32_t field;    /* schema index, or -1 */
    uint8_t check;    /* jp_vcheck_t */
    uint8_t severity; /* jp_severity_t, final once the report is finished */
    uint8_t doubtful; /* an approximate figure: the bound may not really be crossed */
    size_t msg;       /* CUSTOM / TYPE: 1 + offset of the text in `texts`; 0 = none */
} jp_issue_t;

typedef struct jp_report {
    jp_dataset_t *ds; /* reference */
    char *name;       /* the dataset's name, or "" */
    char *file;       /* where its rows came from, or NULL */
    jp_rule_info_t *rules;
    size_t n_rules, cap_rules;
    jp_issue_t *issues;
    size_t n_issues, cap_issues;
    jp_buf_t texts; /* messages of issues that carry their own (NUL-separated) */
    double approx_tolerance;
    /* per field, one byte per row: the cell was not of its type when read
     * (jp_report_type_error); NULL = no such cell */
    uint8_t **untyped;
    size_t nrows; /* rows validated (ds's, or a stream's) */
    /* a streamed report (jp_validate_stream): each issue's line (0:
     * unknown), its message kept as text; NULL otherwise */
    long *lines;
    /* a report over one batch of a stream: what carries over batches */
    struct jpv_carry *carry;
    /* after jp_report_finish: */
    bool finished;
    size_t n_errors, n_warnings, n_broken;
    size_t *order;      /* issue indices grouped by rule, in row order within */
    size_t *rule_start; /* rule k's issues are order[rule_start[k] .. rule_start[k+1]) */
} jp_report_t;

/* Default relative tolerance of approximate figures (see docs). */
#define JP_APPROX_TOLERANCE 0.05

/*
 * A report for ds (takes a new reference; settles a lazy dataset).  NULL
 * and err on failure.
 */
jp_report_t *jp_report_new(jp_dataset_t *ds, jp_error_t *err);
void jp_report_free(jp_report_t *r);

/*
 * Validation of a lazy pipeline that streams (jp_stream.h), batch by batch
 * (jp_validate_stream.c): for each batch, fn adds the rules to `batch`, a
 * report over the batch's rows (with the name and tolerance given), with
 * the check functions below; its issues, rows numbered from the file's
 * first, their messages and lines, go into the report returned (a new,
 * unfinished report over ds, which stays lazy), in the order the whole
 * file gives them.  What a rule must carry from batch to batch (the values
 * seen by `unique` and keys) is held; every other check holds one batch.
 * *fallback (NULL returned, no error) when the whole-file way must be taken
 * instead: ds does not stream, has no rows, or a rule reads more than a
 * row (an expression with aggregates or window functions) or gives
 * batches different rules.  A status from fn stops the pass with its
 * error.  name may be NULL (ds's).
 */
typedef jp_status_t (*jp_validate_batch_fn)(void *ctx, jp_report_t *batch, jp_error_t *err);
bool jp_validate_streams(const jp_dataset_t *ds);
jp_report_t *jp_validate_stream(jp_dataset_t *ds, const char *name, double approx_tolerance,
                                jp_validate_batch_fn fn, void *ctx, bool *fallback,
                                jp_error_t *err);

/* ---- checks ------------------------------------------------------------ */

/* Look a dataset up by name, for foreign keys; NULL when unknown. */
typedef jp_dataset_t *(*jp_dataset_resolver_t)(void *ctx, const char *name);

/*
 * Everything the dataset's own schema says: each field's constraints, the
 * per-row units of `unit_field` fields (known, and present where there is a
 * value), the primary key and the foreign keys (resolved by `resolve`; a
 * key whose dataset cannot be found is a broken rule).
 */
jp_status_t jp_validate_schema(jp_report_t *r, jp_dataset_resolver_t resolve, void *ctx,
                               jp_error_t *err);

/* One field's constraints (one rule per constraint set in c). */
jp_status_t jp_validate_field(jp_report_t *r, const char *field, const jp_constraints_t *c,
                              const jp_rule_opts_t *o, jp_error_t *err);

/*
 * The values of `field` must be of type `type`: a column stored as another
 * type (text read loosely, numbers that should be whole) is checked cell by
 * cell; each cell that does not convert is an issue.
 */
jp_status_t jp_validate_type(jp_report_t *r, const char *field, jp_type_t type,
                             const jp_rule_opts_t *o, jp_error_t *err);

/* The values of the string field `field` must be known units. */
jp_status_t jp_validate_units(jp_report_t *r, const char *field, const char *value_field,
                              const jp_rule_opts_t *o, jp_error_t *err);

/* The combination of fields must be unique and (primary) without nulls. */
jp_status_t jp_validate_key(jp_report_t *r, const char *const *fields, size_t n, bool primary,
                            const jp_rule_opts_t *o, jp_error_t *err);

/*
 * Every row whose `fields` are all non-null must match a row of ref (NULL =
 * the report's own dataset) on `ref_fields`.  ref_name names it in messages.
 */
jp_status_t jp_validate_foreign_key(jp_report_t *r, const char *const *fields, size_t n,
                                    jp_dataset_t *ref, const char *ref_name,
                                    const char *const *ref_fields, const jp_rule_opts_t *o,
                                    jp_error_t *err);

/* A row rule: the boolean expression `src` (jp_expr.h syntax) must be true.
 * A null result means "does not apply" and is not counted. */
jp_status_t jp_validate_expr(jp_report_t *r, const char *src, const jp_rule_opts_t *o,
                             jp_error_t *err);

/* ---- rules checked elsewhere (Lua functions, cross-dataset rules) ------- */

/* Add a rule; its index in *id.  kind: "function", "dataset", ... */
jp_status_t jp_report_add_rule(jp_report_t *r, const char *kind, const char *field,
                               const char *detail, const jp_rule_opts_t *o, uint32_t *id,
                               jp_error_t *err);
/* A failure of rule `id` at row (0-based or JP_NO_ROW) and field (may be
 * NULL or unknown: then no field), with its message. */
jp_status_t jp_report_fail(jp_report_t *r, uint32_t id, size_t row, const char *field,
                           const char *message, jp_error_t *err);
/* The same for a failure that is not certain (a bound that qualified or
 * approximate figures may or may not cross): always a warning, and not
 * counted as a failure of the rule. */
jp_status_t jp_report_doubt(jp_report_t *r, uint32_t id, size_t row, const char *field,
                            const char *message, jp_error_t *err);
/*
 * A cell that was not of its field's type (or unit) when the data was read,
 * and so is null in the dataset: a failure of rule `id` (kind "type") at
 * row and field, with the reader's message.  That cell is then not reported
 * again as missing (`required`, a unit field's "no unit") and its row is
 * left out of key checks over the field: its value is unknown, not null.
 */
jp_status_t jp_report_type_error(jp_report_t *r, uint32_t id, size_t row, const char *field,
                                 const char *message, jp_error_t *err);
/* Count rows looked at by rule `id`. */
void jp_report_checked(jp_report_t *r, uint32_t id, size_t n);
/* Mark rule `id` broken or skipped, with why (copied). */
jp_status_t jp_report_rule_broken(jp_report_t *r, uint32_t id, const char *message);
jp_status_t jp_report_rule_skipped(jp_report_t *r, uint32_t id, const char *message);

/*
 * Apply thresholds and count.  A rule whose failures stay within
 * (1 - mostly) of the rows it checked is TOLERATED and its issues become
 * warnings; a rule of severity warning reports warnings.  Idempotent; the
 * add/fail functions refuse (JP_ERR_ARG) once it has run.
 */
void jp_report_finish(jp_report_t *r);
/* No errors and no broken rules (finished reports only). */
bool jp_report_ok(const jp_report_t *r);

/* ---- reading the report -------------------------------------------------- */

/* Append issue i's message (without position) to out. */
jp_status_t jp_report_message(const jp_report_t *r, size_t i, jp_buf_t *out);
/* 1-based line in r->file where issue i's row starts, or 0. */
long jp_report_line(const jp_report_t *r, size_t i);
/* Field name of issue i, or NULL. */
const char *jp_report_field(const jp_report_t *r, size_t i);

/*
 * The report for people: a heading with the verdict, then the failing and
 * broken rules, each with its issues as "file:line: row R, field 'f':
 * message" (at most max_per_rule of them, 0 = all; the rest counted).
 */
jp_status_t jp_report_text(const jp_report_t *r, size_t max_per_rule, jp_buf_t *out);
/* The report as one JSON object (schema in docs/validation.md). */
jp_status_t jp_report_json(const jp_report_t *r, jp_buf_t *out);

/*
 * The rows with issues (errors only, or warnings too) as a new dataset: the
 * original fields plus `_row` (1-based), `_line` (null when unknown) and
 * `_rules` (the failing rules' names, "; "-separated).
 */
jp_dataset_t *jp_report_quarantine(const jp_report_t *r, bool warnings, jp_error_t *err);

/* ---- JSON text ------------------------------------------------------------ */

/* Append s[0..n) as a JSON string (quoted, escaped; valid UTF-8 passes
 * through, invalid bytes become U+FFFD). */
jp_status_t jp_json_string(jp_buf_t *out, const char *s, size_t n);
/* Append a number (shortest round-trip form; non-finite as null). */
jp_status_t jp_json_number(jp_buf_t *out, double d);

/* Number of UTF-8 code points in s[0..n) (invalid bytes count one each). */
size_t jp_utf8_length(const char *s, size_t n);

#endif
