/*
 * jp_validate_out.c - what a finished report looks like to people (grouped
 * text), to machines (JSON) and to the next step of a pipeline (the
 * failing rows as a dataset of their own).
 *
 * Owns the JSON encoding (strings escaped, UTF-8 checked, numbers in their
 * shortest round-trip form) and the text layout.  Reads the report, never
 * changes it; writes only into the caller's buffer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_validate.h"
#include "jp_validate_int.h"

/* ---- JSON ------------------------------------------------------------------------ */

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

jp_status_t jp_json_string(jp_buf_t *out, const char *s, size_t n)
{
    if (jp_buf_reserve(out, n + 2) != JP_OK) return JP_ERR_NOMEM;
    jp_status_t st = jp_buf_putc(out, '"');
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n && st == JP_OK) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            st = jp_buf_append(out, esc, 2);
            i++;
        } else if (c < 0x20) {
            const char *e = c == '\n'   ? "\\n"
                            : c == '\t' ? "\\t"
                            : c == '\r' ? "\\r"
                            : c == '\b' ? "\\b"
                            : c == '\f' ? "\\f"
                                        : NULL;
            st = e ? jp_buf_puts(out, e) : jp_buf_printf(out, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            /* copy the run of plain ASCII at once */
            size_t j = i;
            while (j < n && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' && u[j] != '\\') j++;
            st = jp_buf_append(out, s + i, j - i);
            i = j;
        } else {
            size_t len = utf8_seq(u + i, n - i);
            if (len) {
                st = jp_buf_append(out, s + i, len);
                i += len;
            } else {
                st = jp_buf_puts(out, "\\ufffd");
                i++;
            }
        }
    }
    if (st == JP_OK) st = jp_buf_putc(out, '"');
    return st;
}

jp_status_t jp_json_number(jp_buf_t *out, double d)
{
    if (!isfinite(d)) return jp_buf_puts(out, "null");
    char buf[40];
    int n = jp_format_double(d, buf, sizeof buf);
    /* jp_format_double may write "1e+22": valid JSON; "inf"/"nan" are
     * excluded above */
    return jp_buf_append(out, buf, (size_t)n);
}

static jp_status_t json_str_or_null(jp_buf_t *out, const char *s)
{
    return s ? jp_json_string(out, s, strlen(s)) : jp_buf_puts(out, "null");
}

/* ---- one issue ---------------------------------------------------------------------- */

/* "file:line: row R, field 'f': " (the parts that are known). */
static jp_status_t issue_where(const jp_report_t *r, size_t i, jp_buf_t *out)
{
    const jp_issue_t *is = &r->issues[i];
    long line = jp_report_line(r, i);
    const char *field = jp_report_field(r, i);
    jp_status_t st = JP_OK;
    if (r->file) {
        st = jp_buf_puts(out, r->file);
        if (st == JP_OK && line > 0) st = jp_buf_printf(out, ":%ld", line);
        if (st == JP_OK) st = jp_buf_puts(out, ": ");
    } else if (r->name[0]) {
        st = jp_buf_printf(out, "%s: ", r->name);
    }
    if (st != JP_OK) return st;
    if (is->row != JP_NO_ROW && field)
        return jp_buf_printf(out, "row %zu, field '%s': ", is->row + 1, field);
    if (is->row != JP_NO_ROW) return jp_buf_printf(out, "row %zu: ", is->row + 1);
    if (field) return jp_buf_printf(out, "field '%s': ", field);
    return JP_OK;
}

/* ---- text ------------------------------------------------------------------------------ */

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static size_t count_issues(const jp_report_t *r, uint32_t rule, int sev)
{
    const jp_rule_info_t *ri = &r->rules[rule];
    if (r->finished)
        return sev == JP_SEV_ERROR     ? ri->errors
               : sev == JP_SEV_WARNING ? ri->warnings
                                       : ri->errors + ri->warnings;
    size_t n = 0;
    for (size_t i = 0; i < r->n_issues; i++)
        if (r->issues[i].rule == rule && (sev < 0 || r->issues[i].severity == sev)) n++;
    return n;
}

jp_status_t jp_report_text(const jp_report_t *r, size_t max_per_rule, jp_buf_t *out)
{
    jp_status_t st = JP_OK;
    size_t passed = 0, skipped = 0;
    const char *title = r->name[0] ? r->name : "dataset";
    st = jp_buf_printf(out, "%s", title);
    if (st == JP_OK && r->file) st = jp_buf_printf(out, " (%s)", r->file);
    const char *verdict = r->n_broken ? "RULE ERRORS" : r->n_errors ? "FAILED" : "valid";
    if (st == JP_OK)
        st = jp_buf_printf(out, ": %zu %s, %zu %s: %s", r->nrows, plural(r->nrows, "row", "rows"),
                           r->n_rules, plural(r->n_rules, "rule", "rules"), verdict);
    if (st == JP_OK && (r->n_errors || r->n_warnings || r->n_broken)) {
        const char *sep = " (";
        if (r->n_errors) {
            st = jp_buf_printf(out, "%s%zu %s", sep, r->n_errors,
                               plural(r->n_errors, "error", "errors"));
            sep = ", ";
        }
        if (st == JP_OK && r->n_warnings) {
            st = jp_buf_printf(out, "%s%zu %s", sep, r->n_warnings,
                               plural(r->n_warnings, "warning", "warnings"));
            sep = ", ";
        }
        if (st == JP_OK && r->n_broken)
            st = jp_buf_printf(out, "%s%zu broken %s", sep, r->n_broken,
                               plural(r->n_broken, "rule", "rules"));
        if (st == JP_OK) st = jp_buf_putc(out, ')');
    }
    if (st == JP_OK) st = jp_buf_putc(out, '\n');
    /* broken rules first: until they are fixed the verdict means little */
    for (int pass = 0; pass < 3 && st == JP_OK; pass++) {
        for (uint32_t k = 0; k < r->n_rules && st == JP_OK; k++) {
            const jp_rule_info_t *ri = &r->rules[k];
            size_t nerr = count_issues(r, k, JP_SEV_ERROR), nall = count_issues(r, k, -1);
            if (pass == 0) {
                if (ri->status == JP_RULE_PASSED && !nall) passed++;
                if (ri->status == JP_RULE_SKIPPED) skipped++;
            }
            bool show = pass == 0   ? ri->status == JP_RULE_BROKEN
                        : pass == 1 ? ri->status != JP_RULE_BROKEN && nerr > 0
                                    : ri->status != JP_RULE_BROKEN && nerr == 0 && nall > 0;
            if (!show) continue;
            const char *tag = pass == 0 ? "BROKEN " : pass == 1 ? "ERROR  " : "WARNING";
            st = jp_buf_printf(out, "  %s %s", tag, ri->name);
            if (st == JP_OK && ri->detail && strcmp(ri->detail, ri->name) != 0) {
                st = jp_buf_printf(out, ": %s", ri->detail);
                if (st == JP_OK && ri->field && ri->kind && !strcmp(ri->kind, "constraint"))
                    st = jp_buf_printf(out, " on '%s'", ri->field);
            }
            if (st == JP_OK && ri->where) st = jp_buf_printf(out, " where %s", ri->where);
            if (st == JP_OK && pass == 0)
                st = jp_buf_printf(out, "\n      %s\n", ri->message ? ri->message : "broken");
            if (pass == 0) continue;
            if (st == JP_OK) {
                if (ri->failed && ri->checked)
                    st = jp_buf_printf(out, " (%zu of %zu %s %s", ri->failed, ri->checked,
                                       plural(ri->checked, "row", "rows"),
                                       plural(ri->failed, "fails", "fail"));
                else
                    st = jp_buf_printf(out, " (%zu %s", nall, plural(nall, "issue", "issues"));
                if (st == JP_OK && ri->status == JP_RULE_TOLERATED)
                    st = jp_buf_printf(out, ", within mostly %g", ri->mostly);
                else if (st == JP_OK && ri->mostly < 1)
                    st = jp_buf_printf(out, ", more than mostly %g allows", ri->mostly);
                if (st == JP_OK) st = jp_buf_puts(out, ")\n");
            }
            if (st == JP_OK && ri->reason) st = jp_buf_printf(out, "      why: %s\n", ri->reason);
            size_t shown = 0;
            size_t from = r->order ? r->rule_start[k] : 0;
            size_t to = r->order ? r->rule_start[k + 1] : r->n_issues;
            for (size_t j = from; j < to && st == JP_OK; j++) {
                size_t i = r->order ? r->order[j] : j;
                if (r->issues[i].rule != k) continue;
                if (max_per_rule && shown == max_per_rule) {
                    st = jp_buf_printf(out, "      ... and %zu more\n", nall - shown);
                    break;
                }
                shown++;
                st = jp_buf_puts(out, "      ");
                if (st == JP_OK) st = issue_where(r, i, out);
                if (st == JP_OK) st = jp_report_message(r, i, out);
                if (st == JP_OK && r->issues[i].severity == JP_SEV_WARNING && pass == 1)
                    st = jp_buf_puts(out, " [warning]");
                if (st == JP_OK) st = jp_buf_putc(out, '\n');
            }
        }
    }
    if (st == JP_OK) {
        st = jp_buf_printf(out, "  passed: %zu %s", passed, plural(passed, "rule", "rules"));
        if (st == JP_OK && skipped) st = jp_buf_printf(out, "; skipped: %zu", skipped);
        size_t nskip = 0;
        for (uint32_t k = 0; k < r->n_rules && st == JP_OK; k++)
            if (r->rules[k].status == JP_RULE_SKIPPED)
                st = jp_buf_printf(out, "%s%s (%s)", nskip++ ? ", " : " ", r->rules[k].name,
                                   r->rules[k].message ? r->rules[k].message : "not applicable");
        if (st == JP_OK) st = jp_buf_putc(out, '\n');
    }
    return st;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static jp_status_t json_issue(const jp_report_t *r, size_t i, jp_buf_t *out)
{
    const jp_issue_t *is = &r->issues[i];
    const jp_rule_info_t *ri = &r->rules[is->rule];
    jp_status_t st = jp_buf_puts(out, "{\"row\":");
    if (st == JP_OK)
        st = is->row == JP_NO_ROW ? jp_buf_puts(out, "null")
                                  : jp_buf_printf(out, "%zu", is->row + 1);
    long line = jp_report_line(r, i);
    if (st == JP_OK) st = jp_buf_puts(out, ",\"line\":");
    if (st == JP_OK) st = line > 0 ? jp_buf_printf(out, "%ld", line) : jp_buf_puts(out, "null");
    if (st == JP_OK) st = jp_buf_puts(out, ",\"file\":");
    if (st == JP_OK) st = json_str_or_null(out, r->file);
    if (st == JP_OK) st = jp_buf_puts(out, ",\"field\":");
    if (st == JP_OK) st = json_str_or_null(out, jp_report_field(r, i));
    if (st == JP_OK) st = jp_buf_puts(out, ",\"rule\":");
    if (st == JP_OK) st = json_str_or_null(out, ri->name);
    if (st == JP_OK)
        st = jp_buf_printf(out, ",\"severity\":\"%s\",\"message\":",
                           jp_severity_name((jp_severity_t)is->severity));
    if (st == JP_OK) {
        jp_buf_t m = JP_BUF_INIT;
        st = jp_report_message(r, i, &m);
        if (st == JP_OK) st = jp_json_string(out, m.data ? m.data : "", m.len);
        jp_buf_free(&m);
    }
    if (st == JP_OK && is->other != JP_NO_ROW)
        st = jp_buf_printf(out, ",\"first_row\":%zu", is->other + 1);
    if (st == JP_OK) st = jp_buf_putc(out, '}');
    return st;
}

static jp_status_t json_issues(const jp_report_t *r, int sev, jp_buf_t *out)
{
    jp_status_t st = jp_buf_putc(out, '[');
    bool first = true;
    for (size_t i = 0; i < r->n_issues && st == JP_OK; i++) {
        if (r->issues[i].severity != sev) continue;
        if (!first) st = jp_buf_putc(out, ',');
        first = false;
        if (st == JP_OK) st = json_issue(r, i, out);
    }
    if (st == JP_OK) st = jp_buf_putc(out, ']');
    return st;
}

/* {"field": n, ...} over the fields of issues, in schema order. */
static jp_status_t json_by_field(const jp_report_t *r, jp_buf_t *out)
{
    size_t nf = r->ds->schema.n_fields;
    size_t *counts = jp_calloc(nf ? nf : 1, sizeof *counts);
    if (!counts) return JP_ERR_NOMEM;
    for (size_t i = 0; i < r->n_issues; i++)
        if (r->issues[i].field >= 0 && (size_t)r->issues[i].field < nf)
            counts[r->issues[i].field]++;
    jp_status_t st = jp_buf_putc(out, '{');
    bool first = true;
    for (size_t k = 0; k < nf && st == JP_OK; k++) {
        if (!counts[k]) continue;
        if (!first) st = jp_buf_putc(out, ',');
        first = false;
        if (st == JP_OK) st = json_str_or_null(out, r->ds->schema.fields[k].name);
        if (st == JP_OK) st = jp_buf_printf(out, ":%zu", counts[k]);
    }
    if (st == JP_OK) st = jp_buf_putc(out, '}');
    jp_free(counts);
    return st;
}

jp_status_t jp_report_json(const jp_report_t *r, jp_buf_t *out)
{
    jp_status_t st = jp_buf_puts(out, "{\"dataset\":");
    if (st == JP_OK) st = json_str_or_null(out, r->name);
    if (st == JP_OK) st = jp_buf_puts(out, ",\"file\":");
    if (st == JP_OK) st = json_str_or_null(out, r->file);
    if (st == JP_OK)
        st = jp_buf_printf(out,
                           ",\"rows\":%zu,\"ok\":%s,\"counts\":{\"errors\":%zu,\"warnings\":%zu,"
                           "\"rule_errors\":%zu,\"rules\":%zu,\"by_rule\":{",
                           r->nrows, jp_report_ok(r) ? "true" : "false", r->n_errors, r->n_warnings,
                           r->n_broken, r->n_rules);
    bool first = true;
    for (uint32_t k = 0; k < r->n_rules && st == JP_OK; k++) {
        size_t n = count_issues(r, k, -1);
        if (!n) continue;
        if (!first) st = jp_buf_putc(out, ',');
        first = false;
        if (st == JP_OK) st = json_str_or_null(out, r->rules[k].name);
        if (st == JP_OK) st = jp_buf_printf(out, ":%zu", n);
    }
    if (st == JP_OK) st = jp_buf_puts(out, "},\"by_field\":");
    if (st == JP_OK) st = json_by_field(r, out);
    if (st == JP_OK) st = jp_buf_puts(out, "},\"rules\":[");
    for (uint32_t k = 0; k < r->n_rules && st == JP_OK; k++) {
        const jp_rule_info_t *ri = &r->rules[k];
        if (k) st = jp_buf_putc(out, ',');
        if (st == JP_OK) st = jp_buf_puts(out, "{\"name\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->name);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"kind\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->kind);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"field\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->field);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"detail\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->detail);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"where\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->where);
        if (st == JP_OK)
            st = jp_buf_printf(out, ",\"status\":\"%s\",\"severity\":\"%s\",\"mostly\":",
                               jp_rule_status_name(ri->status), jp_severity_name(ri->severity));
        if (st == JP_OK) st = jp_json_number(out, ri->mostly);
        if (st == JP_OK)
            st = jp_buf_printf(out, ",\"checked\":%zu,\"failed\":%zu,\"doubtful\":%zu,\"reason\":",
                               ri->checked, ri->failed, ri->doubtful);
        if (st == JP_OK) st = json_str_or_null(out, ri->reason);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"message\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->message);
        if (st == JP_OK) st = jp_buf_putc(out, '}');
    }
    if (st == JP_OK) st = jp_buf_puts(out, "],\"errors\":");
    if (st == JP_OK) st = json_issues(r, JP_SEV_ERROR, out);
    if (st == JP_OK) st = jp_buf_puts(out, ",\"warnings\":");
    if (st == JP_OK) st = json_issues(r, JP_SEV_WARNING, out);
    if (st == JP_OK) st = jp_buf_puts(out, ",\"rule_errors\":[");
    first = true;
    for (uint32_t k = 0; k < r->n_rules && st == JP_OK; k++) {
        const jp_rule_info_t *ri = &r->rules[k];
        if (ri->status != JP_RULE_BROKEN) continue;
        if (!first) st = jp_buf_putc(out, ',');
        first = false;
        if (st == JP_OK) st = jp_buf_puts(out, "{\"rule\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->name);
        if (st == JP_OK) st = jp_buf_puts(out, ",\"message\":");
        if (st == JP_OK) st = json_str_or_null(out, ri->message);
        if (st == JP_OK) st = jp_buf_putc(out, '}');
    }
    if (st == JP_OK) st = jp_buf_puts(out, "]}");
    return st;
}

/* ---- quarantine ------------------------------------------------------------------------------ */

typedef struct row_rule {
    size_t row;
    uint32_t rule;
} row_rule_t;

static int cmp_row_rule(const void *a, const void *b)
{
    const row_rule_t *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

jp_dataset_t *jp_report_quarantine(const jp_report_t *r, bool warnings, jp_error_t *err)
{
    /* a streamed report's rows are read again (jp_validate_stream) */
    if (jp_dataset_need_all(r->ds, err) != JP_OK) return NULL;
    row_rule_t *rr = jp_malloc_array(r->n_issues ? r->n_issues : 1, sizeof *rr);
    size_t n = 0;
    if (!rr) goto nomem;
    for (size_t i = 0; i < r->n_issues; i++) {
        const jp_issue_t *is = &r->issues[i];
        if (is->row == JP_NO_ROW) continue;
        if (is->severity == JP_SEV_WARNING && !warnings) continue;
        rr[n].row = is->row;
        rr[n].rule = is->rule;
        n++;
    }
    qsort(rr, n, sizeof *rr, cmp_row_rule);
    size_t *rows = jp_malloc_array(n ? n : 1, sizeof *rows);
    jp_column_t *crow = jp_column_new(JP_TYPE_INT, n), *cline = jp_column_new(JP_TYPE_INT, n);
    jp_column_t *crules = jp_column_new(JP_TYPE_STRING, n);
    jp_buf_t names = JP_BUF_INIT;
    jp_dataset_t *out = NULL;
    size_t nrows = 0;
    if (!rows || !crow || !cline || !crules) goto fail_nomem;
    for (size_t k = 0; k < n;) {
        size_t row = rr[k].row;
        jp_buf_reset(&names);
        uint32_t last = UINT32_MAX;
        for (; k < n && rr[k].row == row; k++) {
            if (rr[k].rule == last) continue;
            last = rr[k].rule;
            if (names.len && jp_buf_puts(&names, "; ") != JP_OK) goto fail_nomem;
            if (jp_buf_puts(&names, r->rules[rr[k].rule].name) != JP_OK) goto fail_nomem;
        }
        rows[nrows++] = row;
        long line = jp_dataset_row_line(r->ds, row);
        if (jp_column_push_int(crow, (int64_t)row + 1, JP_Q_EXACT) != JP_OK ||
            (line > 0 ? jp_column_push_int(cline, line, JP_Q_EXACT) : jp_column_push_null(cline)) !=
                JP_OK ||
            jp_column_push_str(crules, names.data ? names.data : "", names.len) != JP_OK)
            goto fail_nomem;
    }
    out = jp_dataset_gather(r->ds, rows, nrows, err);
    if (!out) goto fail;
    if (jp_dataset_add(out, "_row", crow, NULL, err) != JP_OK) {
        crow = NULL;
        goto fail;
    }
    crow = NULL;
    if (jp_dataset_add(out, "_line", cline, NULL, err) != JP_OK) {
        cline = NULL;
        goto fail;
    }
    cline = NULL;
    if (jp_dataset_add(out, "_rules", crules, NULL, err) != JP_OK) {
        crules = NULL;
        goto fail;
    }
    crules = NULL;
    if (jp_meta_add_note(&out->meta, "Rows that failed validation: _row and _line say where each "
                                     "came from, _rules which rules it failed.") != JP_OK)
        goto fail_nomem;
    jp_free(rr);
    jp_free(rows);
    jp_buf_free(&names);
    return out;
fail_nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    jp_free(rr);
    jp_free(rows);
    jp_column_unref(crow);
    jp_column_unref(cline);
    jp_column_unref(crules);
    jp_buf_free(&names);
    jp_dataset_unref(out);
    return NULL;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}
