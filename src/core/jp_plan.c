/*
 * jp_plan.c - lazy plan nodes: a node maps requested output fields to the
 * input fields they read, asks its input for all of them at once, then
 * builds just the requested columns (passing through, gathering selected
 * rows, or evaluating expressions).
 *
 * Owns: the plan node (jp_lazy_t) and its need/need_rows/free.  Must
 * never: modify the input dataset's values, keep a column of its own
 * output outside ds->cols, print.
 */
#include "jp_plan.h"

#include <stdio.h>
#include <string.h>
#include "jp_expr.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_par.h"
#include "jp_stream.h"
#include "jp_stream_int.h"

enum rows_kind { ROWS_ALL, ROWS_PRED, ROWS_LIST, ROWS_RANGE };

typedef struct pfield {
    long src;
    char *expr_src;
    jp_expr_t *parsed;   /* names only, for the inputs */
    jp_expr_t *compiled; /* once the inputs have types */
    jp_column_t *ready;
} pfield_t;

typedef struct plan {
    jp_lazy_t base; /* first: the dataset holds &base */
    char *verb;
    jp_dataset_t *in;
    pfield_t *f;
    size_t nf;
    int rows_kind;
    char *pred_src;
    jp_expr_t *pred_parsed;
    bool rows_done;
    size_t *rows; /* selected input rows (PRED, LIST) */
    size_t nsel;
    size_t from, count; /* RANGE */
    bool tail;
    bool rows_ascending; /* LIST: strictly ascending, so a batch's share is a run of it */
    bool streamed;       /* RANGE: the rows came from a prefix of the file (head_need) */
    /* convert: field conv_f to conv_to, by conv_cv or from the units of
       field conv_uf (>= 0); a node over a batch points to the node it was
       made from (orig), whose conv_number says that integers overflowed
       (numbers then) and conv_retry that the batches must come again */
    char *conv_to;
    size_t conv_f;
    long conv_uf;
    jp_unit_conv_t conv_cv;
    bool conv_number, conv_retry;
    struct plan *orig;
    size_t row0;
} plan_t;

static void plan_free(jp_lazy_t *lz)
{
    plan_t *p = (plan_t *)lz;
    for (size_t i = 0; i < p->nf; i++) {
        jp_free(p->f[i].expr_src);
        jp_expr_free(p->f[i].parsed);
        jp_expr_free(p->f[i].compiled);
        jp_column_unref(p->f[i].ready);
    }
    jp_free(p->f);
    jp_expr_free(p->pred_parsed);
    jp_free(p->pred_src);
    jp_free(p->rows);
    jp_free(p->conv_to);
    jp_free(p->verb);
    jp_dataset_unref(p->in);
    jp_free(p);
}

/* Add the input fields a compiled-or-parsed expression reads. */
static void add_inputs(const jp_expr_t *e, bool *want)
{
    const size_t *idx;
    size_t n = jp_expr_inputs(e, &idx);
    for (size_t k = 0; k < n; k++) want[idx[k]] = true;
}

static jp_status_t verb_error(plan_t *p, jp_error_t *err, jp_status_t st)
{
    if (err && st != JP_ERR_NOMEM) jp_error_prefix(err, "%s", p->verb);
    return st;
}

/* Compile against the (now typed) input schema; errors name the verb. */
/* A field made by expression e takes the unit e derives, or its per-row unit field. */
static jp_status_t set_expr_unit(jp_field_t *fd, const jp_expr_t *e)
{
    const char *u = jp_expr_unit(e), *uf = jp_expr_unit_field(e);
    jp_free(fd->unit);
    jp_free(fd->unit_field);
    fd->unit = u ? jp_strdup(u) : NULL;
    fd->unit_field = uf ? jp_strdup(uf) : NULL;
    return (u && !fd->unit) || (uf && !fd->unit_field) ? JP_ERR_NOMEM : JP_OK;
}

static jp_expr_t *compile_now(plan_t *p, const char *src, jp_error_t *err)
{
    jp_expr_t *e = jp_expr_compile(src, &p->in->schema, err);
    if (!e && err) verb_error(p, err, err->code);
    return e;
}

/* Settle which input rows the node keeps. */
static jp_status_t settle_rows(plan_t *p, jp_error_t *err)
{
    if (p->rows_done) return JP_OK;
    jp_status_t st;
    switch (p->rows_kind) {
    case ROWS_ALL:
    case ROWS_LIST:
        break;
    case ROWS_PRED: {
        jp_expr_t *e = compile_now(p, p->pred_src, err);
        if (!e) return err ? err->code : JP_ERR_EXPR;
        if (jp_expr_type(e) != JP_TYPE_BOOL) {
            st = jp_error_set(err, JP_ERR_EXPR, "%s: \"%s\" is a %s expression, not a condition",
                              p->verb, p->pred_src, jp_type_name(jp_expr_type(e)));
            jp_expr_free(e);
            return st;
        }
        st = jp_expr_select_cols(e, p->in->cols, p->in->nrows, &p->rows, &p->nsel, err);
        jp_expr_free(e);
        if (st) return verb_error(p, err, st);
        break;
    }
    case ROWS_RANGE: {
        size_t n = p->in->nrows;
        if (p->tail) {
            p->from = p->count < n ? n - p->count : 0;
        }
        if (p->from > n) p->from = n;
        if (p->count > n - p->from) p->count = n - p->from;
        p->nsel = p->count;
        break;
    }
    }
    p->rows_done = true;
    return JP_OK;
}

static size_t out_rows(const plan_t *p)
{
    switch (p->rows_kind) {
    case ROWS_ALL:
        return p->in->nrows;
    default:
        return p->nsel;
    }
}

static jp_column_t *pick_rows(plan_t *p, jp_column_t *c)
{
    switch (p->rows_kind) {
    case ROWS_ALL:
        return jp_column_ref(c);
    case ROWS_RANGE:
        if (p->from == 0 && p->count == c->len) return jp_column_ref(c);
        return jp_column_slice(c, p->from, p->count);
    default:
        return jp_column_gather(c, p->rows, p->nsel);
    }
}

/* Row lines of the node's rows, once the rows are settled. */
static jp_status_t settle_origin(plan_t *p, jp_dataset_t *ds)
{
    const jp_dataset_t *in = p->in;
    if (!in->origin || ds->origin) return JP_OK;
    if (p->rows_kind == ROWS_ALL) {
        jp_plan_copy_origin(ds, in);
        return JP_OK;
    }
    jp_column_t *lines = NULL;
    long first = 0;
    if (p->rows_kind == ROWS_RANGE) {
        if (in->lines) {
            if (!(lines = jp_column_slice(in->lines, p->from, p->count))) return JP_ERR_NOMEM;
        } else if (in->first_line)
            first = in->first_line + (long)p->from;
    } else if (in->lines) {
        if (!(lines = jp_column_gather(in->lines, p->rows, p->nsel))) return JP_ERR_NOMEM;
    } else if (in->first_line) {
        if (!(lines = jp_column_new(JP_TYPE_INT, p->nsel))) return JP_ERR_NOMEM;
        for (size_t k = 0; k < p->nsel; k++) lines->v.i[k] = in->first_line + (long)p->rows[k];
        jp_column_set_len(lines, p->nsel);
    }
    jp_dataset_set_origin(ds, in->origin, lines);
    ds->first_line = first;
    return JP_OK;
}

/* Gathering selected rows of several columns at once, on all cores. */
typedef struct gjob {
    jp_column_t *const *src;
    jp_column_t **dst;
    size_t ncols;
    const size_t *rows;
    size_t n;
} gjob_t;

static void gather_part(void *ctx, int k, int parts)
{
    const gjob_t *j = ctx;
    size_t from = j->n * (size_t)k / (size_t)parts, to = j->n * (size_t)(k + 1) / (size_t)parts;
    const size_t *r = j->rows;
    for (size_t c = 0; c < j->ncols; c++) {
        const jp_column_t *s = j->src[c];
        jp_column_t *d = j->dst[c];
        switch (jp_type_width(s->type)) {
        case 8: {
            const uint64_t *a = s->v.raw;
            uint64_t *b = d->v.raw;
            for (size_t q = from; q < to; q++) b[q] = a[r[q]];
            break;
        }
        case 4: {
            const uint32_t *a = s->v.raw;
            uint32_t *b = d->v.raw;
            for (size_t q = from; q < to; q++) b[q] = a[r[q]];
            break;
        }
        case 1: {
            const uint8_t *a = s->v.raw;
            uint8_t *b = d->v.raw;
            for (size_t q = from; q < to; q++) b[q] = a[r[q]];
            break;
        }
        default: {
            size_t w = jp_type_width(s->type);
            for (size_t q = from; q < to; q++)
                memcpy((char *)d->v.raw + q * w, (const char *)s->v.raw + r[q] * w, w);
        }
        }
        if (s->nulls)
            for (size_t q = from; q < to; q++) d->nulls[q] = s->nulls[r[q]];
        if (s->quals)
            for (size_t q = from; q < to; q++) d->quals[q] = s->quals[r[q]];
    }
}

/* dst[c] = rows of src[c] (no JP_NO_ROW among them). */
static jp_status_t gather_many(jp_column_t *const *src, jp_column_t **dst, size_t ncols,
                               const size_t *rows, size_t n)
{
    for (size_t c = 0; c < ncols; c++) dst[c] = NULL;
    for (size_t c = 0; c < ncols; c++) {
        const jp_column_t *s = src[c];
        jp_column_t *d = s->type == JP_TYPE_STRING ? jp_column_new_with_dict(s->dict, n)
                                                   : jp_column_new(s->type, n);
        if (!d || (s->nulls && jp_column_alloc_nulls(d)) ||
            (s->quals && jp_column_alloc_quals(d)) || jp_column_set_len(d, n)) {
            jp_column_unref(d);
            for (size_t q = 0; q < c; q++) jp_column_unref(dst[q]);
            return JP_ERR_NOMEM;
        }
        dst[c] = d;
    }
    gjob_t j = {src, dst, ncols, rows, n};
    jp_par_run(jp_par_parts(n * ncols, (size_t)1 << 19), gather_part, &j);
    return JP_OK;
}

jp_status_t jp_plan_gather_cols(jp_column_t *const *src, jp_column_t **dst, size_t ncols,
                                const size_t *rows, size_t n)
{
    return gather_many(src, dst, ncols, rows, n);
}

static bool has_exprs(const plan_t *p)
{
    for (size_t i = 0; i < p->nf; i++)
        if (p->f[i].expr_src) return true;
    return false;
}

/* plan_need, 4a: the pass-through columns among idx[0..n) of the rows a
 * filter or a list keeps, gathered together, in parallel. */
static jp_status_t gather_kept(plan_t *p, jp_dataset_t *ds, const size_t *idx, size_t n,
                               jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    jp_column_t **src = jp_malloc_array(n ? n : 1, sizeof *src);
    jp_column_t **dst = jp_malloc_array(n ? n : 1, sizeof *dst);
    size_t *at = jp_malloc_array(n ? n : 1, sizeof *at);
    size_t m2 = 0;
    jp_status_t st = JP_OK;
    if (!src || !dst || !at) {
        jp_free(src);
        jp_free(dst);
        jp_free(at);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        bool dup = false;
        for (size_t q = 0; q < m2 && !dup; q++) dup = at[q] == i;
        if (ds->cols[i] || p->f[i].src < 0 || dup) continue;
        src[m2] = in->cols[p->f[i].src];
        at[m2++] = i;
    }
    /* An input held by this node alone (a lazy file whose Lua value is
       gone) can re-load a column if ever asked again: let each go as
       soon as its rows are gathered, so the two never fill memory at
       once. */
    bool release = in->refs == 1 && in->lazy && !has_exprs(p);
    for (size_t q = 0; q < m2 && !st; q++) {
        if (gather_many(&src[q], &dst[q], 1, p->rows, p->nsel)) {
            for (size_t r = 0; r < q; r++) jp_column_unref(dst[r]);
            m2 = 0;
            st = JP_ERR_NOMEM;
            break;
        }
        if (release) {
            long f = p->f[at[q]].src;
            bool again = false;
            for (size_t r = q + 1; r < m2 && !again; r++) again = src[r] == src[q];
            if (!again) {
                jp_column_unref(in->cols[f]);
                in->cols[f] = NULL;
            }
        }
    }
    for (size_t q = 0; q < m2 && !st; q++) {
        size_t i = at[q];
        ds->cols[i] = dst[q];
        ds->schema.fields[i].type = dst[q]->type;
        const jp_field_t *sf = &in->schema.fields[p->f[i].src];
        jp_field_t *fd = &ds->schema.fields[i];
        if (!fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit))) st = JP_ERR_NOMEM;
    }
    jp_free(src);
    jp_free(dst);
    jp_free(at);
    if (st) jp_error_set(err, st, "out of memory");
    return st;
}

/* plan_need, 4b: field i (not passed through a filter's gather): its
 * input's column, a ready column, or its expression, over the rows kept. */
static jp_status_t make_field(plan_t *p, jp_dataset_t *ds, size_t i, jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    pfield_t *f = &p->f[i];
    jp_column_t *c = NULL;
    jp_field_t *fd = &ds->schema.fields[i];
    if (f->src >= 0) {
        c = pick_rows(p, in->cols[f->src]);
        if (!c) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        /* the input's field is settled now: take its type (and unit) */
        const jp_field_t *sf = &in->schema.fields[f->src];
        fd->type = c->type;
        if (!fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit))) {
            jp_column_unref(c);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    } else if (f->ready) {
        c = pick_rows(p, f->ready);
        if (!c) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        fd->type = c->type;
    } else {
        jp_expr_t *e = f->compiled ? f->compiled : compile_now(p, f->expr_src, err);
        f->compiled = NULL;
        if (!e) return err ? err->code : JP_ERR_EXPR;
        jp_column_t *full = jp_expr_eval_cols(e, in->cols, in->nrows, err);
        if (!full) {
            jp_status_t st = verb_error(p, err, err ? err->code : JP_ERR_NOMEM);
            jp_expr_free(e);
            return st;
        }
        c = pick_rows(p, full);
        jp_column_unref(full);
        fd->type = jp_expr_type(e);
        if (set_expr_unit(fd, e) || !c) {
            jp_column_unref(c);
            jp_expr_free(e);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        jp_expr_free(e);
    }
    ds->cols[i] = c;
    return JP_OK;
}

/* Is field i made by a conversion (the converted field, its unit field)? */
static bool is_conv(const plan_t *p, size_t i)
{
    return p->conv_to && (i == p->conv_f || (p->conv_uf >= 0 && i == (size_t)p->conv_uf));
}

static void conv_inputs(const plan_t *p, bool *want)
{
    want[p->conv_f] = true;
    if (p->conv_uf >= 0) want[p->conv_uf] = true;
}

/* plan_need, 4b for a conversion: both its fields at once. */
static jp_status_t make_conv(plan_t *p, jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    plan_t *o = p->orig ? p->orig : p;
    const jp_column_t *c = in->cols[p->conv_f];
    jp_field_t *fd = &ds->schema.fields[p->conv_f];
    if (!jp_type_is_numeric(c->type)) {
        jp_error_set(err, JP_ERR_TYPE, "convert: field '%s' is %s, not a number", fd->name,
                     jp_type_name(c->type));
        jp_error_field(err, fd->name);
        return JP_ERR_TYPE;
    }
    jp_column_t *out = NULL, *units = NULL;
    if (p->conv_uf < 0) {
        bool overflow;
        if (!(out = jp_convert_column(c, &p->conv_cv, !o->conv_number, &overflow, err)))
            return err ? err->code : JP_ERR_NOMEM;
        if (overflow && p->orig) {
            /* batches went out with integers: they come again as numbers */
            jp_column_unref(out);
            o->conv_number = o->conv_retry = true;
            return jp_error_set(err, JP_ERR_INTERNAL,
                                "convert: field '%s' overflows as integers: read again", fd->name);
        }
    } else {
        jp_field_t *uf = &ds->schema.fields[p->conv_uf];
        jp_status_t st = jp_convert_rows(in, c, in->cols[p->conv_uf], fd->name, uf->name,
                                         p->conv_to, p->row0, &out, &units, err);
        if (st) return st;
        jp_column_unref(ds->cols[p->conv_uf]);
        ds->cols[p->conv_uf] = units;
        uf->type = JP_TYPE_STRING;
    }
    jp_column_unref(ds->cols[p->conv_f]);
    ds->cols[p->conv_f] = out;
    fd->type = out->type;
    return JP_OK;
}

/* plan_need of a head over a chain that streams: its rows are the first
 * of a prefix of the file (jp_stream_chain_pass), never the whole file's.
 * *fallback when the input does not stream after all (no rows). */
static jp_status_t head_need(plan_t *p, jp_dataset_t *ds, const size_t *idx, size_t n,
                             bool *fallback, jp_error_t *err)
{
    size_t *miss = jp_malloc_array(n ? n : 1, sizeof *miss);
    jp_column_t **cols = jp_calloc(n ? n : 1, sizeof *cols);
    size_t m = 0, nrows = 0;
    jp_status_t st = JP_OK;
    if (!miss || !cols) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        bool dup = false;
        for (size_t q = 0; q < m && !dup; q++) dup = miss[q] == idx[k];
        if (!ds->cols[idx[k]] && !dup) miss[m++] = idx[k];
    }
    if (!m && p->rows_done) goto done;
    if ((st = jp_stream_collect(ds, miss, m, cols, &nrows, fallback, err)) || *fallback) goto done;
    if (p->rows_done && nrows != ds->nrows) {
        st = jp_error_set(err, JP_ERR_IO, "%s changed since it was opened; read it again",
                          p->in->origin ? p->in->origin : "the file");
        goto done;
    }
    if (!p->rows_done) {
        /* the rows' lines are not known without reading them: the file only */
        if (p->in->origin && !ds->origin) jp_dataset_set_origin(ds, p->in->origin, NULL);
        ds->nrows = p->nsel = nrows;
        p->rows_done = true;
    }
    for (size_t k = 0; k < m; k++) {
        size_t i = miss[k];
        jp_field_t *fd = &ds->schema.fields[i];
        const jp_field_t *sf = &p->in->schema.fields[p->f[i].src];
        ds->cols[i] = cols[k];
        cols[k] = NULL;
        fd->type = ds->cols[i]->type;
        if (!fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit))) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
    }
done:
    for (size_t k = 0; cols && k < m; k++) jp_column_unref(cols[k]);
    jp_free(cols);
    jp_free(miss);
    return st;
}

static jp_status_t plan_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    plan_t *p = (plan_t *)ds->lazy;
    jp_dataset_t *in = p->in;
    if (p->rows_kind == ROWS_RANGE && !p->tail && (p->streamed || jp_stream_possible(in))) {
        bool fallback = false;
        jp_status_t hs = head_need(p, ds, idx, n, &fallback, err);
        if (hs || !fallback) {
            p->streamed = !hs;
            return hs;
        }
    }
    size_t nin = in->schema.n_fields;
    bool *want = jp_calloc(nin ? nin : 1, sizeof *want);
    size_t *list = jp_malloc_array(nin ? nin : 1, sizeof *list);
    jp_status_t st = JP_OK;
    size_t m = 0;
    if (!want || !list) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* 1. which input fields */
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        if (ds->cols[i]) continue;
        pfield_t *f = &p->f[i];
        if (f->src >= 0)
            want[f->src] = true;
        else if (f->parsed)
            add_inputs(f->parsed, want);
        if (is_conv(p, i)) conv_inputs(p, want);
    }
    if (!p->rows_done && p->pred_parsed) add_inputs(p->pred_parsed, want);
    for (size_t i = 0; i < nin; i++)
        if (want[i]) list[m++] = i;
    /* 2. one request to the input: a lazy CSV parses them in one pass */
    if (m)
        st = jp_dataset_need(in, list, m, err);
    else
        st = jp_dataset_need_rows(in, err);
    if (st) goto done;
    /* 3. rows */
    if ((st = settle_rows(p, err))) goto done;
    if ((st = settle_origin(p, ds))) {
        jp_error_set(err, st, "out of memory");
        goto done;
    }
    ds->nrows = out_rows(p);
    /* 4a. pass-through columns of selected rows: gathered together, in parallel */
    if ((p->rows_kind == ROWS_PRED || p->rows_kind == ROWS_LIST) &&
        (st = gather_kept(p, ds, idx, n, err)))
        goto done;
    /* 4b. the other requested columns */
    for (size_t k = 0; k < n && !st; k++)
        if (!ds->cols[idx[k]])
            st = is_conv(p, idx[k]) ? make_conv(p, ds, err) : make_field(p, ds, idx[k], err);
done:
    /* a window holds whole columns of its input: out of memory says so */
    for (size_t k = 0; st == JP_ERR_NOMEM && k <= n; k++) {
        const jp_expr_t *e = k < n ? p->f[idx[k]].parsed : p->pred_parsed;
        if (e && jp_expr_is_window(e))
            st = jp_mem_explain(err, p->verb ? p->verb : "mutate", jp_dataset_rows_known(in),
                                ", or select fewer fields first",
                                "the %zu field%s its window and aggregate functions read", m,
                                m == 1 ? "" : "s");
    }
    jp_free(want);
    jp_free(list);
    return st;
}

static jp_status_t plan_need_rows(jp_dataset_t *ds, jp_error_t *err)
{
    plan_t *p = (plan_t *)ds->lazy;
    bool counted = false;
    if (p->rows_kind == ROWS_PRED && !p->rows_done) {
        jp_status_t st = jp_stream_count(ds, &counted, err);
        if (st || counted) return st;
    }
    return plan_need(ds, NULL, 0, err);
}

static const jp_lazy_ops_t plan_ops = {"plan", plan_need, plan_need_rows, plan_free, NULL, NULL};

void jp_plan_copy_origin(jp_dataset_t *dst, const jp_dataset_t *src)
{
    if (!src->origin) return;
    jp_dataset_set_origin(dst, src->origin, jp_column_ref(src->lines));
    dst->first_line = src->first_line;
}

/* A new lazy dataset with the input's metadata and the node's fields. */
static jp_dataset_t *new_node(plan_t *p, const jp_plan_field_t *f, size_t n, jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    jp_dataset_t *ds = jp_dataset_new_like(in, false, err);
    if (!ds) return NULL;
    ds->cols = jp_calloc(n ? n : 1, sizeof *ds->cols);
    if (!ds->cols) goto nomem;
    ds->cols_cap = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        jp_field_t fd;
        if (f[i].src >= 0) {
            if (jp_field_copy(&fd, &in->schema.fields[f[i].src])) goto nomem;
            if (strcmp(fd.name, f[i].name) != 0) {
                jp_free(fd.name);
                if (!(fd.name = jp_strdup(f[i].name))) {
                    jp_field_free(&fd);
                    goto nomem;
                }
            }
            if (fd.unit_field) {
                /* the per-row unit follows its field's new name; without
                   that field (not loaded yet) the unit is unknown */
                long us = jp_dataset_find(in, fd.unit_field);
                jp_free(fd.unit_field);
                fd.unit_field = NULL;
                for (size_t k = 0; k < n && us >= 0; k++)
                    if (f[k].src == us && !(fd.unit_field = jp_strdup(f[k].name))) {
                        jp_field_free(&fd);
                        goto nomem;
                    }
            }
        } else {
            jp_field_init(&fd);
            fd.name = jp_strdup(f[i].name);
            fd.type = f[i].col ? f[i].col->type : JP_TYPE_NONE;
            fd.unit = f[i].col && f[i].unit ? jp_strdup(f[i].unit) : NULL;
            fd.unit_field = f[i].col && f[i].unit_field ? jp_strdup(f[i].unit_field) : NULL;
            if (!fd.name || (f[i].col && f[i].unit && !fd.unit) ||
                (f[i].col && f[i].unit_field && !fd.unit_field)) {
                jp_field_free(&fd);
                goto nomem;
            }
        }
        jp_status_t st = jp_schema_add(&ds->schema, &fd, err);
        jp_field_free(&fd);
        if (st) {
            jp_dataset_unref(ds);
            return NULL;
        }
    }
    ds->lazy = &p->base;
    return ds;
nomem:
    jp_dataset_unref(ds);
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

static plan_t *plan_new(jp_dataset_t *in, const char *verb, size_t nf)
{
    plan_t *p = jp_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->base.ops = &plan_ops;
    p->verb = jp_strdup(verb);
    p->f = jp_calloc(nf ? nf : 1, sizeof *p->f);
    p->nf = p->f ? nf : 0;
    p->in = jp_dataset_ref(in);
    if (!p->verb || !p->f) {
        plan_free(&p->base);
        return NULL;
    }
    for (size_t i = 0; i < nf; i++) p->f[i].src = -1;
    return p;
}

/* Do all the fields the expression reads have a type yet? */
static bool typed(const jp_dataset_t *in, const jp_expr_t *e)
{
    const size_t *idx;
    size_t n = jp_expr_inputs(e, &idx);
    for (size_t k = 0; k < n; k++)
        if (in->schema.fields[idx[k]].type == JP_TYPE_NONE) return false;
    return true;
}

/* Check names now; keep the parsed form for its inputs. */
static jp_expr_t *parse_names(jp_dataset_t *in, const char *verb, const char *src, jp_error_t *err)
{
    jp_expr_t *e = jp_expr_parse(src, &in->schema, err);
    if (!e && err && err->code != JP_ERR_NOMEM) jp_error_prefix(err, "%s", verb);
    return e;
}

jp_dataset_t *jp_plan_map(jp_dataset_t *in, const char *verb, const jp_plan_field_t *f, size_t n,
                          const char *pred, jp_error_t *err)
{
    plan_t *p = plan_new(in, verb, n);
    if (!p) goto nomem;
    for (size_t i = 0; i < n; i++) {
        p->f[i].src = f[i].src;
        if (f[i].expr) {
            if (!(p->f[i].expr_src = jp_strdup(f[i].expr))) goto nomem;
            if (!(p->f[i].parsed = parse_names(in, verb, f[i].expr, err))) goto fail;
        } else if (f[i].col)
            p->f[i].ready = jp_column_ref(f[i].col);
    }
    if (pred) {
        p->rows_kind = ROWS_PRED;
        if (!(p->pred_src = jp_strdup(pred))) goto nomem;
        if (!(p->pred_parsed = parse_names(in, verb, pred, err))) goto fail;
    }
    jp_dataset_t *ds = new_node(p, f, n, err);
    if (!ds) goto fail;
    /* inputs already typed (or no inputs): type-check now, not at need time */
    for (size_t i = 0; i < n; i++) {
        pfield_t *pf = &p->f[i];
        if (!pf->parsed || !typed(in, pf->parsed)) continue;
        if (!(pf->compiled = compile_now(p, pf->expr_src, err))) {
            jp_dataset_unref(ds);
            return NULL;
        }
        jp_field_t *fd = &ds->schema.fields[i];
        fd->type = jp_expr_type(pf->compiled);
        if (set_expr_unit(fd, pf->compiled)) {
            jp_dataset_unref(ds);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
    }
    if (p->pred_parsed && typed(in, p->pred_parsed)) {
        jp_expr_t *e = compile_now(p, p->pred_src, err);
        jp_status_t st = JP_OK;
        if (!e)
            st = err ? err->code : JP_ERR_EXPR;
        else if (jp_expr_type(e) != JP_TYPE_BOOL)
            st = jp_error_set(err, JP_ERR_EXPR, "%s: \"%s\" is a %s expression, not a condition",
                              p->verb, p->pred_src, jp_type_name(jp_expr_type(e)));
        jp_expr_free(e);
        if (st) {
            jp_dataset_unref(ds);
            return NULL;
        }
    }
    return ds;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    if (p) plan_free(&p->base);
    return NULL;
}

static jp_dataset_t *all_fields(plan_t *p, jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    size_t n = in->schema.n_fields;
    jp_plan_field_t *f = jp_calloc(n ? n : 1, sizeof *f);
    if (!f) {
        plan_free(&p->base);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        f[i].name = in->schema.fields[i].name;
        f[i].src = (long)i;
        p->f[i].src = (long)i;
    }
    jp_dataset_t *ds = new_node(p, f, n, err);
    jp_free(f);
    if (!ds) plan_free(&p->base);
    return ds;
}

jp_dataset_t *jp_plan_take(jp_dataset_t *in, const char *verb, const size_t *idx, size_t n,
                           jp_error_t *err)
{
    plan_t *p = plan_new(in, verb, in->schema.n_fields);
    if (!p || !(p->rows = jp_malloc_array(n ? n : 1, sizeof *p->rows))) {
        if (p) plan_free(&p->base);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (n) memcpy(p->rows, idx, n * sizeof *idx);
    p->nsel = n;
    p->rows_kind = ROWS_LIST;
    p->rows_ascending = true;
    for (size_t k = 1; k < n && p->rows_ascending; k++) p->rows_ascending = idx[k - 1] < idx[k];
    p->rows_done = true;
    return all_fields(p, err);
}

jp_dataset_t *jp_plan_range(jp_dataset_t *in, const char *verb, size_t from, size_t n, bool tail,
                            jp_error_t *err)
{
    plan_t *p = plan_new(in, verb, in->schema.n_fields);
    if (!p) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->rows_kind = ROWS_RANGE;
    p->from = from;
    p->count = n;
    p->tail = tail;
    return all_fields(p, err);
}

jp_dataset_t *jp_plan_convert(jp_dataset_t *in, size_t fi, long uf, const char *to,
                              const jp_unit_conv_t *cv, jp_error_t *err)
{
    plan_t *p = plan_new(in, "convert", in->schema.n_fields);
    if (!p || !(p->conv_to = jp_strdup(to))) {
        if (p) plan_free(&p->base);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->conv_f = fi;
    p->conv_uf = uf;
    p->conv_cv = *cv;
    jp_dataset_t *ds = all_fields(p, err);
    if (!ds) return NULL;
    /* the converted field: its new unit (or still its unit field); its
       type once its values are seen (integers may stay integers) */
    jp_field_t *fd = &ds->schema.fields[fi];
    jp_free(fd->unit);
    fd->unit = NULL;
    if (uf < 0 && !(fd->unit = jp_strdup(to))) {
        jp_dataset_unref(ds);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (fd->type != JP_TYPE_NUMBER) fd->type = uf < 0 ? JP_TYPE_NONE : JP_TYPE_NUMBER;
    jp_constraints_free(&fd->constraints);
    jp_constraints_init(&fd->constraints);
    if (uf >= 0) {
        jp_field_t *uq = &ds->schema.fields[uf];
        jp_constraints_free(&uq->constraints);
        jp_constraints_init(&uq->constraints);
    }
    return ds;
}

jp_dataset_t *jp_plan_gather(const jp_dataset_t *ds, const size_t *rows, size_t n, jp_error_t *err)
{
    if (ds->lazy) {
        jp_error_set(err, JP_ERR_INTERNAL, "gather on a lazy dataset");
        return NULL;
    }
    size_t nf = ds->schema.n_fields;
    if (nf == 0 || n < 4096) return jp_dataset_gather(ds, rows, n, err);
    jp_dataset_t *out = jp_dataset_new_like(ds, true, err);
    if (!out) return NULL;
    if (gather_many(ds->cols, out->cols, nf, rows, n)) {
        jp_dataset_unref(out);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    out->nrows = n;
    if (ds->origin) {
        jp_column_t *lines = NULL;
        if (ds->lines) {
            if (gather_many(&ds->lines, &lines, 1, rows, n)) lines = NULL, n = 0;
        } else if (ds->first_line && (lines = jp_column_new(JP_TYPE_INT, n))) {
            for (size_t k = 0; k < n; k++) lines->v.i[k] = ds->first_line + (long)rows[k];
            jp_column_set_len(lines, n);
        }
        if (!lines && (ds->lines || ds->first_line)) {
            jp_dataset_unref(out);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        jp_dataset_set_origin(out, ds->origin, lines);
    }
    return out;
}

/* ---- streaming (jp_stream.c) ------------------------------------------------ */

jp_dataset_t *jp_plan_stream_input(const jp_dataset_t *ds)
{
    if (jp_join_is_plan(ds)) return jp_join_stream_input(ds);
    if (jp_plan_fn_is(ds)) return jp_plan_fn_input(ds);
    if (!ds->lazy || ds->lazy->ops != &plan_ops) return NULL;
    const plan_t *p = (const plan_t *)ds->lazy;
    /* rows kept by a list (a filter by a function) stream when the list
       is in order, and a range from the start (a head, a slice) takes the
       rows as they come; a tail or a shuffled list needs the count first */
    if (p->rows_kind == ROWS_LIST) return p->rows_ascending ? p->in : NULL;
    if (p->rows_kind == ROWS_RANGE) return p->tail ? NULL : p->in;
    if (p->rows_kind != ROWS_ALL && p->rows_kind != ROWS_PRED) return NULL;
    /* a ready column (a mutation by a function) goes by row position; an
       aggregate or a window needs every row */
    for (size_t i = 0; i < p->nf; i++)
        if ((p->f[i].src < 0 && !p->f[i].expr_src && !p->f[i].ready) ||
            (p->f[i].parsed && jp_expr_is_window(p->f[i].parsed)))
            return NULL;
    if (p->pred_parsed && jp_expr_is_window(p->pred_parsed)) return NULL;
    return p->in;
}

bool jp_plan_stream_filters(const jp_dataset_t *ds)
{
    if (jp_join_is_plan(ds)) return true; /* its rows are not its input's, one for one */
    if (jp_plan_fn_is(ds)) return jp_plan_fn_filters(ds);
    int k = ((const plan_t *)ds->lazy)->rows_kind;
    return k == ROWS_PRED || k == ROWS_LIST || k == ROWS_RANGE;
}

bool jp_plan_stream_head(const jp_dataset_t *ds, size_t *rows)
{
    if (!ds->lazy || ds->lazy->ops != &plan_ops) return false;
    const plan_t *p = (const plan_t *)ds->lazy;
    if (p->rows_kind != ROWS_RANGE || p->tail) return false;
    *rows = p->count < SIZE_MAX - p->from ? p->from + p->count : SIZE_MAX;
    return true;
}

void jp_plan_stream_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want)
{
    if (jp_join_is_plan(ds)) {
        jp_join_stream_inputs(ds, want, in_want);
        return;
    }
    if (jp_plan_fn_is(ds)) {
        jp_plan_fn_inputs(ds, want, in_want);
        return;
    }
    const plan_t *p = (const plan_t *)ds->lazy;
    for (size_t i = 0; i < p->nf; i++) {
        if (!want[i]) continue;
        if (p->f[i].src >= 0)
            in_want[p->f[i].src] = true;
        else if (p->f[i].parsed)
            add_inputs(p->f[i].parsed, in_want);
        if (is_conv(p, i)) conv_inputs(p, in_want);
    }
    if (p->pred_parsed) add_inputs(p->pred_parsed, in_want);
}

bool jp_plan_stream_lines(const jp_dataset_t *ds)
{
    if (jp_join_is_plan(ds) || jp_plan_fn_is(ds)) return false;
    const plan_t *p = (const plan_t *)ds->lazy;
    return p->conv_to && p->conv_uf >= 0;
}

bool jp_plan_stream_retry(const jp_dataset_t *ds, bool clear)
{
    if (jp_join_is_plan(ds)) return false;
    if (jp_plan_fn_is(ds)) return jp_plan_fn_retry(ds, clear);
    plan_t *p = (plan_t *)ds->lazy;
    bool r = p->conv_retry;
    if (clear) p->conv_retry = false;
    return r;
}

bool jp_plan_stream_positional(const jp_dataset_t *ds)
{
    if (jp_join_is_plan(ds)) return false;
    if (jp_plan_fn_is(ds)) return true; /* its errors name rows */
    const plan_t *p = (const plan_t *)ds->lazy;
    if (p->rows_kind == ROWS_LIST || p->rows_kind == ROWS_RANGE) return true;
    if (p->conv_to && p->conv_uf >= 0) return true; /* its errors name rows */
    for (size_t i = 0; i < p->nf; i++)
        if (p->f[i].ready) return true;
    return false;
}

/* The node's list, rows row0.. of its input held by `in`: a new take. */
static jp_dataset_t *rebind_list(const plan_t *p, jp_dataset_t *in, size_t row0, jp_error_t *err)
{
    size_t lo = 0, hi = p->nsel, end = row0 + in->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->rows[mid] < row0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t m = 0;
    while (lo + m < p->nsel && p->rows[lo + m] < end) m++;
    size_t *rel = jp_malloc_array(m ? m : 1, sizeof *rel);
    if (!rel) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t k = 0; k < m; k++) rel[k] = p->rows[lo + k] - row0;
    jp_dataset_t *out = jp_plan_take(in, p->verb, rel, m, err);
    jp_free(rel);
    return out;
}

jp_dataset_t *jp_plan_rebind(const jp_dataset_t *ds, jp_dataset_t *in, size_t row0, jp_error_t *err)
{
    if (jp_join_is_plan(ds)) return jp_join_rebind(ds, in, err);
    if (jp_plan_fn_is(ds)) return jp_plan_fn_rebind(ds, in, row0, err);
    const plan_t *p = (const plan_t *)ds->lazy;
    if (p->rows_kind == ROWS_LIST) return rebind_list(p, in, row0, err);
    if (p->conv_to) {
        jp_dataset_t *out =
            jp_plan_convert(in, p->conv_f, p->conv_uf, p->conv_to, &p->conv_cv, err);
        if (out) {
            plan_t *q = (plan_t *)out->lazy;
            q->orig = (plan_t *)p; /* outlives the batch */
            q->row0 = row0;
        }
        return out;
    }
    if (p->rows_kind == ROWS_RANGE) {
        /* the batch's share of [from, from + count) */
        size_t end = p->count < SIZE_MAX - p->from ? p->from + p->count : SIZE_MAX;
        size_t lo = p->from > row0 ? p->from - row0 : 0, hi = end - row0;
        if (end < row0) hi = 0;
        if (hi > in->nrows) hi = in->nrows;
        if (lo > hi) lo = hi;
        return jp_plan_range(in, p->verb, lo, hi - lo, false, err);
    }
    jp_plan_field_t *f = jp_calloc(p->nf ? p->nf : 1, sizeof *f);
    jp_dataset_t *out = NULL;
    if (!f) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->nf; i++) {
        f[i].name = ds->schema.fields[i].name;
        f[i].src = p->f[i].src;
        f[i].expr = p->f[i].expr_src;
        if (!p->f[i].ready) continue;
        /* a ready column holds a value per input row: this batch's share */
        const jp_field_t *fd = &ds->schema.fields[i];
        f[i].unit = fd->unit;
        f[i].unit_field = fd->unit_field;
        if (p->f[i].ready->len < row0 + in->nrows) {
            jp_error_set(err, JP_ERR_INTERNAL, "streaming: column '%s' is shorter than its rows",
                         fd->name);
            goto done;
        }
        if (!(f[i].col = jp_column_slice(p->f[i].ready, row0, in->nrows))) {
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    out = jp_plan_map(in, p->verb, f, p->nf, p->rows_kind == ROWS_PRED ? p->pred_src : NULL, err);
done:
    for (size_t i = 0; i < p->nf; i++) jp_column_unref(f[i].col);
    jp_free(f);
    return out;
}
