/*
 * jp_validate_stream.c - validation of a lazy pipeline batch by batch: a
 * consumer of a stream pass (jp_stream_int.h) that runs the rules over each
 * batch and merges the batches' reports into one.
 *
 * Owns the merge: rules taken from the first batch (every batch must give
 * the same ones), issues renumbered to the stream's rows with their lines
 * and messages made while the batch is at hand, then put in the order the
 * whole file gives (by rule, in row order within one).  What crosses
 * batches is what `unique` and keys must see (jp_validate_check.c holds
 * it, in a jpv_carry_t); nothing else of a batch is kept.  A file read
 * for validation (jp_csv_cells_deferred) also gives each batch's cells that
 * are not of their type: they are marked in the batch's report (so that no
 * rule reports them again as missing) and become the `<field>.type` rules
 * that the whole-file way puts before every other rule
 * (lua/jinpu/validate.lua, add_cell_errors), with the same cap on how many
 * are listed.  Must never load the pipeline; never prints.
 */
#include <stdio.h>
#include <string.h>
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_stream_int.h"
#include "jp_validate.h"
#include "jp_validate_int.h"

typedef struct vstream {
    jp_dataset_t *ds;
    const char *name;
    double tol;
    jp_validate_batch_fn fn;
    void *ctx;
    jp_report_t *out; /* the merged report; NULL until the first batch */
    jpv_carry_t carry;
    size_t rows; /* rows of the batches so far */
    size_t cap_lines;
    bool refused; /* the whole-file way must be taken */
    bool failed;  /* fn or the merge stopped the pass */
    jp_buf_t msg;
    /* the file's cells not of their type (want_cells): the reader's list,
       emptied at each batch; the type rules and their issues so far (NULL:
       none yet), each field's rule (id + 1, 0: none), their lines; how
       many cells are listed (at most JP_CELL_ERRORS_MAX) and in all */
    bool want_cells;
    jp_cell_errors_t cells;
    jp_report_t *types;
    uint32_t *type_rule;
    size_t cap_tlines;
    size_t kept, total;
} vstream_t;

bool jp_validate_streams(const jp_dataset_t *ds)
{
    return ds->lazy && jp_stream_possible(ds) && ds->schema.n_foreign_keys == 0;
}

static bool dup_str(char **dst, const char *s)
{
    *dst = NULL;
    return !s || (*dst = jp_strdup(s)) != NULL;
}

/* The first batch's rule k, as the merged report's rule k (no counts). */
static jp_status_t copy_rule(jp_report_t *out, const jp_rule_info_t *ri)
{
    jp_rule_opts_t o = JP_RULE_OPTS_INIT;
    o.name = ri->name;
    o.where = ri->where;
    o.reason = ri->reason;
    o.severity = ri->severity;
    o.mostly = ri->mostly;
    uint32_t id;
    if (jpv_rule(out, ri->kind, ri->field, ri->detail, ri->name, &o, &id) != JP_OK)
        return JP_ERR_NOMEM;
    jp_rule_info_t *d = &out->rules[id];
    d->status = ri->status;
    if (!dup_str(&d->message, ri->message) || !dup_str(&d->bound, ri->bound)) return JP_ERR_NOMEM;
    if (ri->n_cols) {
        if (!(d->cols = jp_malloc_array(ri->n_cols, sizeof *d->cols))) return JP_ERR_NOMEM;
        memcpy(d->cols, ri->cols, ri->n_cols * sizeof *d->cols);
        d->n_cols = ri->n_cols;
    }
    return JP_OK;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Does batch b give the rules of the batches before? */
static bool same_rules(const jp_report_t *out, const jp_report_t *b)
{
    if (out->n_rules != b->n_rules) return false;
    for (size_t k = 0; k < b->n_rules; k++) {
        const jp_rule_info_t *x = &out->rules[k], *y = &b->rules[k];
        if (x->status != y->status || !same_str(x->name, y->name) ||
            !same_str(x->message, y->message))
            return false;
    }
    return true;
}

/* Batch b's rules and issues into the merged report. */
static jp_status_t merge(vstream_t *s, jp_report_t *b, jp_error_t *err)
{
    if (!s->out) {
        if (!(s->out = jpv_report_over(s->ds, err))) return err->code;
        jp_report_t *o = s->out;
        char *n = jp_strdup(b->name);
        if (!n) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_free(o->name);
        o->name = n;
        /* the file the rows came from, as the loaded pipeline names it */
        char *f = NULL;
        if (b->file && !(f = jp_strdup(b->file)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_free(o->file);
        o->file = f;
        o->approx_tolerance = s->tol;
        for (size_t k = 0; k < b->n_rules; k++)
            if (copy_rule(o, &b->rules[k]) != JP_OK)
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    } else if (!same_rules(s->out, b)) {
        s->refused = true; /* a rule that depends on the batch's data */
        return jp_error_set(err, JP_ERR_INVALID, "validate: the batches give different rules");
    }
    jp_report_t *o = s->out;
    for (size_t k = 0; k < b->n_rules; k++) o->rules[k].checked += b->rules[k].checked;
    if (o->n_issues + b->n_issues > s->cap_lines) {
        size_t cap = s->cap_lines ? s->cap_lines : 64;
        while (cap < o->n_issues + b->n_issues) cap *= 2;
        long *l = jp_realloc_array(o->lines, cap, sizeof *l);
        if (!l) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        o->lines = l;
        s->cap_lines = cap;
    }
    for (size_t i = 0; i < b->n_issues; i++) {
        const jp_issue_t *is = &b->issues[i];
        jp_buf_reset(&s->msg);
        size_t msg = 0;
        jp_status_t st = jp_report_message(b, i, &s->msg);
        if (st == JP_OK) st = jp_buf_putc(&s->msg, '\0');
        if (st == JP_OK) st = jpv_text(o, s->msg.data, &msg);
        size_t row = is->row == JP_NO_ROW ? JP_NO_ROW : s->rows + is->row;
        if (st == JP_OK)
            st = jpv_issue(o, is->rule, row, is->field, (jp_vcheck_t)is->check, is->doubtful,
                           is->other, msg);
        if (st != JP_OK) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        o->lines[o->n_issues - 1] = jp_report_line(b, i);
    }
    return JP_OK;
}

/* Field f's type rule, as add_cell_errors makes it (its name, reason and
 * detail), the first time one of its cells is met. */
static jp_status_t type_rule(vstream_t *s, const jp_dataset_t *top, long f, uint32_t *id)
{
    size_t nf = s->ds->schema.n_fields;
    if (!s->type_rule && !(s->type_rule = jp_calloc(nf ? nf : 1, sizeof *s->type_rule)))
        return JP_ERR_NOMEM;
    if (s->type_rule[f]) {
        *id = s->type_rule[f] - 1;
        return JP_OK;
    }
    const char *field = top->schema.fields[f].name;
    char detail[64];
    snprintf(detail, sizeof detail, "type %s", jp_type_name(top->schema.fields[f].type));
    jp_buf_t name = JP_BUF_INIT;
    jp_status_t st = jp_buf_printf(&name, "%s.type", field);
    jp_rule_opts_t o = JP_RULE_OPTS_INIT;
    o.name = name.data;
    o.reason = "every value is of its field's type, and a figure in its unit";
    if (st == JP_OK) st = jpv_rule(s->types, "type", field, detail, detail, &o, id);
    jp_buf_free(&name);
    if (st == JP_OK) s->type_rule[f] = *id + 1;
    return st;
}

/* One more issue of the type rules, and its line. */
static jp_status_t type_issue(vstream_t *s, uint32_t id, size_t row, long f, const char *msg,
                              long line)
{
    jp_report_t *t = s->types;
    size_t h = 0;
    if (t->n_issues == s->cap_tlines) {
        size_t cap = s->cap_tlines ? s->cap_tlines * 2 : 64;
        long *l = jp_realloc_array(t->lines, cap, sizeof *l);
        if (!l) return JP_ERR_NOMEM;
        t->lines = l;
        s->cap_tlines = cap;
    }
    jp_status_t st = jpv_text(t, msg, &h);
    if (st == JP_OK) st = jpv_issue(t, id, row, f, JP_VC_CUSTOM, false, JP_NO_ROW, h);
    if (st == JP_OK) t->lines[t->n_issues - 1] = line;
    return st;
}

/* The batch's cells that are not of their type (the reader's list, which
 * it then empties): each marked in the batch's report b and, while fewer
 * than JP_CELL_ERRORS_MAX are listed, an issue of its field's type rule,
 * its message naming the cell's line when the row starts on another (as
 * v:type_error does). */
static jp_status_t take_cells(vstream_t *s, const jp_dataset_t *top, jp_report_t *b,
                              jp_error_t *err)
{
    jp_status_t st = JP_OK;
    s->total += s->cells.total;
    for (size_t i = 0; i < s->cells.n && st == JP_OK && s->kept < JP_CELL_ERRORS_MAX; i++) {
        const jp_cell_error_t *c = &s->cells.v[i];
        long f = jp_schema_find(&top->schema, c->field);
        size_t row = c->row > 0 ? (size_t)c->row - 1 : 0;
        if (f < 0 || row < s->rows || row - s->rows >= top->nrows) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "validate: a cell outside its batch");
            break;
        }
        size_t at = row - s->rows;
        if (!s->types && !(s->types = jpv_report_over(s->ds, err))) {
            st = err->code;
            break;
        }
        long line = jp_dataset_row_line(top, at);
        jp_buf_reset(&s->msg);
        uint32_t id = 0;
        st = type_rule(s, top, f, &id);
        if (st == JP_OK)
            st = c->line > 0 && c->line != line
                     ? jp_buf_printf(&s->msg, "%s, at line %ld", c->msg, c->line)
                     : jp_buf_puts(&s->msg, c->msg);
        if (st == JP_OK) st = type_issue(s, id, row, f, s->msg.data, line);
        if (st == JP_OK) st = jpv_untyped_set(b, f, at);
        if (st != JP_OK) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        s->kept++;
    }
    jp_cell_errors_free(&s->cells);
    return st;
}

static jp_status_t vs_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    vstream_t *s = ctx;
    if (!top->nrows) return JP_OK;
    jp_report_t *b = jpv_report_over(top, err);
    if (!b) {
        s->failed = true;
        return err->code;
    }
    jp_status_t st = JP_OK;
    if (s->name) {
        char *n = jp_strdup(s->name);
        if (!n) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else {
            jp_free(b->name);
            b->name = n;
        }
    }
    b->approx_tolerance = s->tol;
    b->carry = &s->carry;
    s->carry.row0 = s->rows;
    if (st == JP_OK && s->want_cells) st = take_cells(s, top, b, err);
    if (st == JP_OK) st = s->fn(s->ctx, b, err);
    if (st == JP_OK && s->carry.refused) {
        s->refused = true;
        st = jp_error_set(err, JP_ERR_INVALID, "validate: a rule reads more than its row");
    }
    if (st == JP_OK) st = merge(s, b, err);
    jp_report_free(b);
    s->rows += top->nrows;
    s->failed = st != JP_OK;
    return st;
}

/* The file's types changed late: the batches come again from the first. */
static jp_status_t vs_reset(void *ctx, jp_error_t *err)
{
    vstream_t *s = ctx;
    (void)err;
    jp_report_free(s->out);
    s->out = NULL;
    s->cap_lines = 0;
    jpv_carry_clear(&s->carry);
    s->rows = 0;
    jp_cell_errors_free(&s->cells);
    jp_report_free(s->types);
    s->types = NULL;
    if (s->type_rule) memset(s->type_rule, 0, s->ds->schema.n_fields * sizeof *s->type_rule);
    s->cap_tlines = 0;
    s->kept = s->total = 0;
    return JP_OK;
}

static bool vs_stopped(void *ctx)
{
    vstream_t *s = ctx;
    return s->failed;
}

/* The merged issues in the whole file's order: by rule (a stable counting
 * sort keeps each rule's in row order), their lines along. */
static jp_status_t order_issues(jp_report_t *o)
{
    size_t n = o->n_issues, nr = o->n_rules;
    if (!n) return JP_OK;
    size_t *start = jp_calloc(nr + 1, sizeof *start);
    jp_issue_t *is = jp_malloc_array(n, sizeof *is);
    long *lines = jp_malloc_array(n, sizeof *lines);
    if (!start || !is || !lines) {
        jp_free(start);
        jp_free(is);
        jp_free(lines);
        return JP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) start[o->issues[i].rule + 1]++;
    for (size_t k = 0; k < nr; k++) start[k + 1] += start[k];
    for (size_t i = 0; i < n; i++) {
        size_t at = start[o->issues[i].rule]++;
        is[at] = o->issues[i];
        lines[at] = o->lines[i];
    }
    jp_free(start);
    jp_free(o->issues);
    jp_free(o->lines);
    o->issues = is;
    o->cap_issues = n;
    o->lines = lines;
    return JP_OK;
}

/* The type rules before every other rule of the merged report o (their
 * issues first, the others' rule ids moved along), each checked over
 * every row; and, when more cells were met than listed, the rule that
 * says how many more (add_cell_errors' "type"). */
static jp_status_t types_first(vstream_t *s, jp_report_t *o)
{
    jp_report_t *t = s->types;
    size_t nf = t->n_rules;
    for (size_t k = 0; k < nf; k++) t->rules[k].checked = s->rows;
    if (s->total > s->kept) {
        jp_rule_opts_t ro = JP_RULE_OPTS_INIT;
        ro.name = "type";
        ro.reason = "every value is of its field's type";
        uint32_t id;
        jp_buf_reset(&s->msg);
        jp_status_t st = jpv_rule(t, "type", NULL, "cells kept", "cells kept", &ro, &id);
        if (st == JP_OK)
            st = jp_buf_printf(&s->msg,
                               "%zu more cells are not of their field's type (the first %zu are "
                               "listed)",
                               s->total - s->kept, s->kept);
        if (st == JP_OK) st = type_issue(s, id, JP_NO_ROW, -1, s->msg.data, 0);
        if (st != JP_OK) return JP_ERR_NOMEM;
    }
    size_t nt = t->n_rules, n = t->n_issues + o->n_issues;
    jp_rule_info_t *rules = jp_realloc_array(o->rules, o->n_rules + nt, sizeof *rules);
    if (!rules) return JP_ERR_NOMEM;
    o->rules = rules;
    o->cap_rules = o->n_rules + nt;
    jp_issue_t *is = jp_malloc_array(n, sizeof *is);
    long *lines = jp_malloc_array(n, sizeof *lines);
    size_t off = o->texts.len;
    if (!is || !lines || (t->texts.len && jp_buf_append(&o->texts, t->texts.data, t->texts.len))) {
        jp_free(is);
        jp_free(lines);
        return JP_ERR_NOMEM;
    }
    memmove(rules + nt, rules, o->n_rules * sizeof *rules);
    memcpy(rules, t->rules, nt * sizeof *rules);
    o->n_rules += nt;
    t->n_rules = 0; /* o's now */
    for (size_t i = 0; i < t->n_issues; i++) {
        is[i] = t->issues[i];
        if (is[i].msg) is[i].msg += off;
        lines[i] = t->lines[i];
    }
    for (size_t i = 0; i < o->n_issues; i++) {
        is[t->n_issues + i] = o->issues[i];
        is[t->n_issues + i].rule += (uint32_t)nt;
        lines[t->n_issues + i] = o->lines[i];
    }
    jp_free(o->issues);
    jp_free(o->lines);
    o->issues = is;
    o->lines = lines;
    o->n_issues = o->cap_issues = n;
    return JP_OK;
}

jp_report_t *jp_validate_stream(jp_dataset_t *ds, const char *name, double approx_tolerance,
                                jp_validate_batch_fn fn, void *ctx, bool *fallback, jp_error_t *err)
{
    *fallback = false;
    jp_stream_chain_t ch;
    if (!jp_validate_streams(ds) || !jp_stream_chain_of(ds, &ch)) {
        *fallback = true;
        return NULL;
    }
    ch.want_lines = true; /* issues name the rows' lines */
    vstream_t s;
    memset(&s, 0, sizeof s);
    s.want_cells = jp_csv_cells_deferred(ds);
    if (s.want_cells) ch.cells = &s.cells;
    s.ds = ds;
    s.name = name;
    s.tol = approx_tolerance;
    s.fn = fn;
    s.ctx = ctx;
    size_t nf = ds->schema.n_fields;
    bool *want = jp_malloc_array(nf ? nf : 1, sizeof *want);
    if (!want) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nf; i++) want[i] = true;
    jp_stream_consumer_t cb = {vs_batch, vs_reset, &s, vs_stopped};
    jp_status_t st = jp_stream_chain_pass(&ch, want, &cb, err);
    jp_free(want);
    jpv_carry_clear(&s.carry);
    jp_cell_errors_free(&s.cells);
    jp_free(s.type_rule);
    jp_report_t *out = s.out;
    if (!st && !s.refused && out && s.types) {
        out->nrows = s.rows;
        if (types_first(&s, out) != JP_OK) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    jp_report_free(s.types);
    jp_buf_free(&s.msg);
    if (st || s.refused || !out) {
        jp_report_free(out);
        if (s.refused || (!st && !out)) { /* refused, or no rows */
            *fallback = true;
            jp_error_clear(err);
        }
        return NULL;
    }
    out->nrows = s.rows;
    if (order_issues(out) != JP_OK) {
        jp_report_free(out);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return out;
}
