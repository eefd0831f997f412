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
 * it, in a jpv_carry_t); nothing else of a batch is kept.  Must never load
 * the pipeline; never prints.
 */
#include <string.h>
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
    jp_buf_free(&s.msg);
    jp_report_t *out = s.out;
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
