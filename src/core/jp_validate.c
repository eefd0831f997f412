/*
 * jp_validate.c - the validation report: its rules, its issues, thresholds,
 * and the message of each issue.
 *
 * Owns the bookkeeping every check shares.  Messages are built when asked
 * for (jp_report_message), not when an issue is recorded, so that a column
 * of a million failing cells costs a million small records and no text.
 * Never prints; the checks live in jp_validate_check.c and
 * jp_validate_expr.c, the output forms in jp_validate_out.c.
 */
#include "jp_validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_validate_int.h"

static const char *const status_names[] = {"passed", "failed", "tolerated", "skipped", "broken"};

const char *jp_rule_status_name(jp_rule_status_t s)
{
    return (unsigned)s < 5 ? status_names[s] : "?";
}

const char *jp_severity_name(jp_severity_t s)
{
    return s == JP_SEV_WARNING ? "warning" : "error";
}

bool jp_severity_from_name(const char *name, jp_severity_t *out)
{
    if (!name) return false;
    if (!strcmp(name, "error"))
        *out = JP_SEV_ERROR;
    else if (!strcmp(name, "warning") || !strcmp(name, "warn"))
        *out = JP_SEV_WARNING;
    else
        return false;
    return true;
}

jp_report_t *jp_report_new(jp_dataset_t *ds, jp_error_t *err)
{
    if (jp_dataset_need_all(ds, err) != JP_OK) return NULL;
    return jpv_report_over(ds, err);
}

jp_report_t *jpv_report_over(jp_dataset_t *ds, jp_error_t *err)
{
    jp_report_t *r = jp_calloc(1, sizeof *r);
    if (!r) goto nomem;
    r->ds = jp_dataset_ref(ds);
    r->nrows = ds->nrows;
    r->name = jp_strdup(ds->meta.name ? ds->meta.name : "");
    if (!r->name) goto nomem;
    if (ds->origin && !(r->file = jp_strdup(ds->origin))) goto nomem;
    r->approx_tolerance = JP_APPROX_TOLERANCE;
    return r;
nomem:
    jp_report_free(r);
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

static void rule_free(jp_rule_info_t *ri)
{
    jp_free(ri->name);
    jp_free(ri->kind);
    jp_free(ri->field);
    jp_free(ri->detail);
    jp_free(ri->where);
    jp_free(ri->reason);
    jp_free(ri->message);
    jp_free(ri->bound);
    jp_free(ri->cols);
}

void jp_report_free(jp_report_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_rules; i++) rule_free(&r->rules[i]);
    jp_free(r->rules);
    jp_free(r->issues);
    jp_free(r->order);
    jp_free(r->rule_start);
    jp_buf_free(&r->texts);
    for (size_t i = 0; r->untyped && i < r->ds->schema.n_fields; i++) jp_free(r->untyped[i]);
    jp_free(r->untyped);
    jp_free(r->lines);
    jp_free(r->name);
    jp_free(r->file);
    jp_dataset_unref(r->ds);
    jp_free(r);
}

/* ---- rules and issues ------------------------------------------------------ */

static bool dup_opt(char **dst, const char *s)
{
    *dst = NULL;
    return !s || (*dst = jp_strdup(s)) != NULL;
}

jp_status_t jpv_rule(jp_report_t *r, const char *kind, const char *field, const char *detail,
                     const char *defname, const jp_rule_opts_t *o, uint32_t *id)
{
    static const jp_rule_opts_t none = JP_RULE_OPTS_INIT;
    if (!o) o = &none;
    if (r->finished) return JP_ERR_ARG;
    if (r->n_rules == r->cap_rules) {
        size_t cap = r->cap_rules ? r->cap_rules * 2 : 16;
        jp_rule_info_t *nr = jp_realloc_array(r->rules, cap, sizeof *nr);
        if (!nr) return JP_ERR_NOMEM;
        r->rules = nr;
        r->cap_rules = cap;
    }
    jp_rule_info_t *ri = &r->rules[r->n_rules];
    memset(ri, 0, sizeof *ri);
    const char *name = o->name && o->name[0] ? o->name : defname;
    char fallback[32];
    if (!name || !name[0]) {
        snprintf(fallback, sizeof fallback, "rule %zu", r->n_rules + 1);
        name = fallback;
    }
    if (!dup_opt(&ri->name, name) || !dup_opt(&ri->kind, kind) || !dup_opt(&ri->field, field) ||
        !dup_opt(&ri->detail, detail) || !dup_opt(&ri->where, o->where) ||
        !dup_opt(&ri->reason, o->reason)) {
        rule_free(ri);
        return JP_ERR_NOMEM;
    }
    ri->severity = o->severity;
    ri->mostly = o->mostly > 0 && o->mostly <= 1 ? o->mostly : 1.0;
    ri->status = JP_RULE_PASSED;
    *id = (uint32_t)r->n_rules++;
    return JP_OK;
}

jp_status_t jpv_issue(jp_report_t *r, uint32_t rule, size_t row, long field, jp_vcheck_t check,
                      bool doubtful, size_t other, size_t msg)
{
    if (r->n_issues == r->cap_issues) {
        size_t cap = r->cap_issues ? r->cap_issues * 2 : 64;
        jp_issue_t *ni = jp_realloc_array(r->issues, cap, sizeof *ni);
        if (!ni) return JP_ERR_NOMEM;
        r->issues = ni;
        r->cap_issues = cap;
    }
    jp_issue_t *is = &r->issues[r->n_issues++];
    is->row = row;
    is->other = other;
    is->rule = rule;
    is->field = (int32_t)field;
    is->check = (uint8_t)check;
    is->doubtful = doubtful;
    is->severity = (uint8_t)(doubtful ? JP_SEV_WARNING : r->rules[rule].severity);
    is->msg = msg;
    jp_rule_info_t *ri = &r->rules[rule];
    if (doubtful)
        ri->doubtful++;
    else
        ri->failed++;
    return JP_OK;
}

jp_status_t jpv_text(jp_report_t *r, const char *s, size_t *msg)
{
    size_t at = r->texts.len;
    if (jp_buf_append(&r->texts, s, strlen(s) + 1) != JP_OK) return JP_ERR_NOMEM;
    *msg = at + 1;
    return JP_OK;
}

jp_status_t jpv_broken(jp_report_t *r, uint32_t rule, const char *fmt, ...)
{
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return jp_report_rule_broken(r, rule, buf);
}

jp_status_t jp_report_add_rule(jp_report_t *r, const char *kind, const char *field,
                               const char *detail, const jp_rule_opts_t *o, uint32_t *id,
                               jp_error_t *err)
{
    jp_status_t st = jpv_rule(r, kind ? kind : "function", field, detail, detail, o, id);
    if (st == JP_ERR_ARG) return jp_error_set(err, st, "the report is already finished");
    if (st != JP_OK) return jp_error_set(err, st, "out of memory");
    return JP_OK;
}

static jp_status_t report_fail(jp_report_t *r, uint32_t id, size_t row, const char *field,
                               const char *message, bool doubtful, jp_error_t *err)
{
    if (r->finished || id >= r->n_rules)
        return jp_error_set(err, JP_ERR_ARG, "no such rule, or the report is finished");
    if (row != JP_NO_ROW && row >= r->ds->nrows)
        return jp_error_set(err, JP_ERR_ARG, "row %zu is out of range (the dataset has %zu rows)",
                            row + 1, r->ds->nrows);
    long f = field ? jp_schema_find(&r->ds->schema, field) : -1;
    size_t msg = 0;
    if (message && jpv_text(r, message, &msg) != JP_OK)
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (jpv_issue(r, id, row, f, JP_VC_CUSTOM, doubtful, JP_NO_ROW, msg) != JP_OK)
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

jp_status_t jp_report_fail(jp_report_t *r, uint32_t id, size_t row, const char *field,
                           const char *message, jp_error_t *err)
{
    return report_fail(r, id, row, field, message, false, err);
}

jp_status_t jp_report_doubt(jp_report_t *r, uint32_t id, size_t row, const char *field,
                            const char *message, jp_error_t *err)
{
    return report_fail(r, id, row, field, message, true, err);
}

jp_status_t jp_report_type_error(jp_report_t *r, uint32_t id, size_t row, const char *field,
                                 const char *message, jp_error_t *err)
{
    jp_status_t st = report_fail(r, id, row, field, message, false, err);
    long f = field ? jp_schema_find(&r->ds->schema, field) : -1;
    if (st != JP_OK || f < 0 || row == JP_NO_ROW) return st;
    if (jpv_untyped_set(r, f, row) != JP_OK)
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

jp_status_t jpv_untyped_set(jp_report_t *r, long f, size_t row)
{
    if (f < 0 || (size_t)f >= r->ds->schema.n_fields || row >= r->ds->nrows) return JP_ERR_ARG;
    if (!r->untyped && !(r->untyped = jp_calloc(r->ds->schema.n_fields, sizeof *r->untyped)))
        return JP_ERR_NOMEM;
    if (!r->untyped[f] && !(r->untyped[f] = jp_calloc(r->ds->nrows, 1))) return JP_ERR_NOMEM;
    r->untyped[f][row] = 1;
    return JP_OK;
}

void jp_report_checked(jp_report_t *r, uint32_t id, size_t n)
{
    if (id < r->n_rules) r->rules[id].checked += n;
}

static jp_status_t set_status(jp_report_t *r, uint32_t id, jp_rule_status_t st, const char *msg)
{
    if (id >= r->n_rules) return JP_ERR_ARG;
    jp_rule_info_t *ri = &r->rules[id];
    /* broken wins over everything: a rule that raised halfway has no verdict */
    if (ri->status == JP_RULE_BROKEN) return JP_OK;
    char *m = msg ? jp_strdup(msg) : NULL;
    if (msg && !m) return JP_ERR_NOMEM;
    jp_free(ri->message);
    ri->message = m;
    ri->status = st;
    return JP_OK;
}

jp_status_t jp_report_rule_broken(jp_report_t *r, uint32_t id, const char *message)
{
    return set_status(r, id, JP_RULE_BROKEN, message);
}

jp_status_t jp_report_rule_skipped(jp_report_t *r, uint32_t id, const char *message)
{
    return set_status(r, id, JP_RULE_SKIPPED, message);
}

/* ---- thresholds ------------------------------------------------------------ */

void jp_report_finish(jp_report_t *r)
{
    if (r->finished) return;
    r->finished = true;
    for (size_t k = 0; k < r->n_rules; k++) {
        jp_rule_info_t *ri = &r->rules[k];
        if (ri->status == JP_RULE_BROKEN) {
            r->n_broken++;
            continue;
        }
        if (ri->status == JP_RULE_SKIPPED) continue;
        if (!ri->failed) continue;
        /* Great Expectations' reading of `mostly`: the rule holds when the
         * passing share of the rows it looked at reaches it.  Integer
         * arithmetic on (checked - failed) >= mostly * checked, with a
         * small slack so that 0.95 of 100 rows allows exactly 5. */
        size_t checked = ri->checked < ri->failed ? ri->failed : ri->checked;
        double pass = (double)(checked - ri->failed);
        if (ri->mostly < 1.0 && pass + 1e-9 * (double)checked >= ri->mostly * (double)checked)
            ri->status = JP_RULE_TOLERATED;
        else
            ri->status = JP_RULE_FAILED;
    }
    for (size_t i = 0; i < r->n_issues; i++) {
        jp_issue_t *is = &r->issues[i];
        jp_rule_info_t *ri = &r->rules[is->rule];
        if (ri->status == JP_RULE_TOLERATED || ri->status == JP_RULE_BROKEN)
            is->severity = JP_SEV_WARNING;
        if (is->severity == JP_SEV_ERROR)
            r->n_errors++, ri->errors++;
        else
            r->n_warnings++, ri->warnings++;
    }
    /* group the issues by rule (a counting sort keeps each rule's in the
     * order they were found): the text form reads a rule's issues without
     * scanning all of them.  Without memory the forms fall back to scans. */
    r->rule_start = jp_calloc(r->n_rules + 1, sizeof *r->rule_start);
    r->order = jp_malloc_array(r->n_issues ? r->n_issues : 1, sizeof *r->order);
    if (!r->rule_start || !r->order) {
        jp_free(r->rule_start);
        jp_free(r->order);
        r->rule_start = r->order = NULL;
        return;
    }
    for (size_t k = 0; k < r->n_rules; k++)
        r->rule_start[k + 1] = r->rule_start[k] + r->rules[k].errors + r->rules[k].warnings;
    size_t *fill = jp_malloc_array(r->n_rules ? r->n_rules : 1, sizeof *fill);
    if (!fill) {
        jp_free(r->rule_start);
        jp_free(r->order);
        r->rule_start = r->order = NULL;
        return;
    }
    memcpy(fill, r->rule_start, r->n_rules * sizeof *fill);
    for (size_t i = 0; i < r->n_issues; i++) r->order[fill[r->issues[i].rule]++] = i;
    jp_free(fill);
}

bool jp_report_ok(const jp_report_t *r)
{
    return r->finished && r->n_errors == 0 && r->n_broken == 0;
}

/* ---- messages ---------------------------------------------------------------- */

size_t jp_utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

/* Cut s to at most max bytes on a character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

jp_status_t jpv_cell_repr(jp_buf_t *out, const jp_column_t *c, size_t i)
{
    if (jp_column_is_null(c, i)) return jp_buf_puts(out, "null");
    char buf[96];
    const char *p;
    size_t n = jp_column_cell_text(c, i, buf, sizeof buf, &p);
    if (c->type == JP_TYPE_STRING) {
        size_t cut = utf8_cut(p, n, 60);
        jp_status_t st = jp_buf_putc(out, '\'');
        if (st == JP_OK) st = jp_buf_append(out, p, cut);
        if (st == JP_OK && cut < n) st = jp_buf_puts(out, "...");
        if (st == JP_OK) st = jp_buf_putc(out, '\'');
        return st;
    }
    jp_status_t st = jp_buf_puts(out, jp_qual_symbol(jp_column_qual(c, i)));
    if (st == JP_OK) st = jp_buf_append(out, p, n);
    return st;
}

static const jp_column_t *issue_col(const jp_report_t *r, const jp_issue_t *is)
{
    if (is->field < 0 || (size_t)is->field >= r->ds->schema.n_fields) return NULL;
    return r->ds->cols[is->field];
}

/* "(a, b, 2021)" or "'a'" for a one-field key. */
static jp_status_t key_repr(jp_buf_t *out, const jp_report_t *r, const jp_rule_info_t *ri,
                            size_t row)
{
    jp_status_t st = JP_OK;
    if (ri->n_cols != 1) st = jp_buf_putc(out, '(');
    for (size_t k = 0; k < ri->n_cols && st == JP_OK; k++) {
        if (k) st = jp_buf_puts(out, ", ");
        if (st == JP_OK) st = jpv_cell_repr(out, r->ds->cols[ri->cols[k]], row);
    }
    if (st == JP_OK && ri->n_cols != 1) st = jp_buf_putc(out, ')');
    return st;
}

/* "row R (line L)" of an earlier row with the value rule `rule` found
 * again (a stream's row in a report over one batch). */
static jp_status_t row_ref(jp_buf_t *out, const jp_report_t *r, uint32_t rule, size_t row)
{
    long line = r->carry ? jpv_carry_line(r->carry, rule, row) : jp_dataset_row_line(r->ds, row);
    if (line > 0) return jp_buf_printf(out, "row %zu (line %ld)", row + 1, line);
    return jp_buf_printf(out, "row %zu", row + 1);
}

static bool is_nan_cell(const jp_column_t *c, size_t i)
{
    return c && c->type == JP_TYPE_NUMBER && !jp_column_is_null(c, i) && isnan(c->v.d[i]);
}

jp_status_t jp_report_message(const jp_report_t *r, size_t i, jp_buf_t *out)
{
    if (i >= r->n_issues) return JP_ERR_ARG;
    const jp_issue_t *is = &r->issues[i];
    const jp_rule_info_t *ri = &r->rules[is->rule];
    const jp_column_t *c = issue_col(r, is);
    const char *bound = ri->bound ? ri->bound : "?";
    jp_status_t st = JP_OK;
    if (is->msg) return jp_buf_puts(out, r->texts.data + is->msg - 1);
    switch ((jp_vcheck_t)is->check) {
    case JP_VC_REQUIRED:
        return jp_buf_puts(out, "missing value (required)");
    case JP_VC_UNIQUE:
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK) st = jp_buf_puts(out, " repeats ");
        if (st == JP_OK) st = row_ref(out, r, is->rule, is->other);
        if (st == JP_OK) st = jp_buf_puts(out, " (unique)");
        return st;
    case JP_VC_MINIMUM:
    case JP_VC_MAXIMUM: {
        bool min = is->check == JP_VC_MINIMUM;
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st != JP_OK) return st;
        if (is_nan_cell(c, is->row))
            return jp_buf_printf(out, " cannot be compared with the %s %s",
                                 min ? "minimum" : "maximum", bound);
        st = jp_buf_printf(out, " is %s the %s %s", min ? "below" : "above",
                           min ? "minimum" : "maximum", bound);
        jp_qual_t q = c ? jp_column_qual(c, is->row) : JP_Q_EXACT;
        if (st == JP_OK && is->doubtful && q == JP_Q_APPROX)
            st = jp_buf_printf(out,
                               " (an approximate figure: the true value may be within %g%% of "
                               "it, so this is not certain)",
                               r->approx_tolerance * 100);
        else if (st == JP_OK && is->doubtful)
            st = jp_buf_printf(out, " as printed (%s: the true value may still be within it)",
                               jp_qual_name(q));
        else if (st == JP_OK && q != JP_Q_EXACT)
            st = jp_buf_printf(out, " whatever its exact value (%s)", jp_qual_name(q));
        return st;
    }
    case JP_VC_MIN_LENGTH:
    case JP_VC_MAX_LENGTH: {
        size_t len = 0;
        if (c && c->type == JP_TYPE_STRING) {
            size_t n;
            const char *s = jp_column_str(c, is->row, &n);
            len = jp_utf8_length(s, n);
        } else if (c) {
            char buf[96];
            const char *p;
            size_t n = jp_column_cell_text(c, is->row, buf, sizeof buf, &p);
            len = jp_utf8_length(p, n);
        }
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK)
            st = jp_buf_printf(out, " has %zu character%s, %s than %s %s", len, len == 1 ? "" : "s",
                               is->check == JP_VC_MIN_LENGTH ? "fewer" : "more",
                               is->check == JP_VC_MIN_LENGTH ? "minLength" : "maxLength", bound);
        return st;
    }
    case JP_VC_PATTERN:
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK)
            st = jp_buf_printf(out, " does not match the pattern %s (the whole value must match)",
                               bound);
        return st;
    case JP_VC_ENUM:
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK) st = jp_buf_printf(out, " is not one of %s", bound);
        return st;
    case JP_VC_TYPE:
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK) st = jp_buf_printf(out, " is not a valid %s", bound);
        return st;
    case JP_VC_UNIT:
        if (c && jp_column_is_null(c, is->row)) {
            st = jp_buf_puts(out, "no unit for the value");
            if (st == JP_OK && ri->n_cols == 1) {
                st = jp_buf_puts(out, " ");
                if (st == JP_OK) st = jpv_cell_repr(out, r->ds->cols[ri->cols[0]], is->row);
            }
            return st;
        }
        if (c) st = jpv_cell_repr(out, c, is->row);
        if (st == JP_OK) st = jp_buf_puts(out, " is not a known unit");
        return st;
    case JP_VC_KEY_REPEAT:
        st = jp_buf_puts(out, "key ");
        if (st == JP_OK) st = key_repr(out, r, ri, is->row);
        if (st == JP_OK) st = jp_buf_puts(out, " repeats ");
        if (st == JP_OK) st = row_ref(out, r, is->rule, is->other);
        return st;
    case JP_VC_KEY_NULL:
        return jp_buf_printf(out, "the key (%s) is null", ri->field ? ri->field : "");
    case JP_VC_FOREIGN_KEY:
        st = key_repr(out, r, ri, is->row);
        if (st == JP_OK) st = jp_buf_printf(out, " is not found in %s", bound);
        return st;
    case JP_VC_EXPR:
        st = jp_buf_printf(out, "`%s` is false", ri->detail ? ri->detail : "?");
        for (size_t k = 0; k < ri->n_cols && st == JP_OK; k++) {
            st = jp_buf_printf(out, "%s%s = ", k ? ", " : " (",
                               r->ds->schema.fields[ri->cols[k]].name);
            if (st == JP_OK) st = jpv_cell_repr(out, r->ds->cols[ri->cols[k]], is->row);
            if (st == JP_OK && k + 1 == ri->n_cols) st = jp_buf_putc(out, ')');
        }
        return st;
    case JP_VC_CUSTOM:
        return jp_buf_puts(out, ri->detail ? ri->detail : "the rule does not hold");
    }
    return jp_buf_puts(out, "invalid");
}

long jp_report_line(const jp_report_t *r, size_t i)
{
    if (i >= r->n_issues || r->issues[i].row == JP_NO_ROW) return 0;
    if (r->lines) return r->lines[i];
    return jp_dataset_row_line(r->ds, r->issues[i].row);
}

const char *jp_report_field(const jp_report_t *r, size_t i)
{
    if (i >= r->n_issues) return NULL;
    int32_t f = r->issues[i].field;
    if (f < 0 || (size_t)f >= r->ds->schema.n_fields) return NULL;
    return r->ds->schema.fields[f].name;
}
