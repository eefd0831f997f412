/*
 * jp_stream_concat.c - concat of pipelines over files that stream: a lazy
 * dataset whose rows are each part's in turn.  Loaded, it is jp_concat of
 * the loaded parts; streamed (the bottom of a chain, jp_stream_int.h),
 * each part's batches go through the nodes above it into the consumer, in
 * the first part's field order, with the types jp_concat gives: each part
 * is read with its whole file's types, integer and number fields widen to
 * number, and when a later part widens a field the earlier parts went out
 * as integers, the consumer starts again with numbers from the first part.
 *
 * Owns: the concat node.  Must never: modify the parts, keep a batch,
 * print.
 */
#include <string.h>
#include "jp_lazy.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_stream.h"
#include "jp_stream_int.h"

typedef struct cat {
    jp_lazy_t base;
    jp_dataset_t **parts;
    size_t n;
    long *map; /* map[d * nf + i]: field i of the first part in part d */
} cat_t;

static jp_status_t cat_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    (void)idx;
    (void)n;
    cat_t *k = (cat_t *)ds->lazy;
    jp_dataset_t *r = jp_concat_loaded(k->parts, k->n, err);
    if (!r) return err ? err->code : JP_ERR_NOMEM;
    for (size_t i = 0; i < ds->schema.n_fields; i++) {
        if (ds->cols[i]) continue;
        ds->cols[i] = jp_column_ref(r->cols[i]);
        ds->schema.fields[i].type = r->cols[i]->type;
    }
    ds->nrows = r->nrows;
    ds->lazy->rows_known = true;
    jp_dataset_unref(r);
    return JP_OK;
}

static jp_status_t cat_need_rows(jp_dataset_t *ds, jp_error_t *err)
{
    return cat_need(ds, NULL, 0, err);
}

static void cat_free(jp_lazy_t *lz)
{
    cat_t *k = (cat_t *)lz;
    for (size_t d = 0; d < k->n; d++) jp_dataset_unref(k->parts[d]);
    jp_free(k->parts);
    jp_free(k->map);
    jp_free(k);
}

static const jp_lazy_ops_t cat_ops = {"concat", cat_need, cat_need_rows, cat_free, NULL, NULL};

bool jp_stream_concat_is(const jp_dataset_t *ds)
{
    return ds->lazy && ds->lazy->ops == &cat_ops;
}

jp_dataset_t *jp_stream_concat_plan(jp_dataset_t *const *list, size_t n, jp_error_t *err)
{
    size_t nf = list[0]->schema.n_fields;
    cat_t *k = jp_calloc(1, sizeof *k);
    jp_dataset_t *ds = NULL;
    if (!k || !(k->parts = jp_calloc(n, sizeof *k->parts)) ||
        !(k->map = jp_malloc_array((nf ? nf : 1) * n, sizeof *k->map)))
        goto nomem;
    k->base.ops = &cat_ops;
    if (jp_concat_check(list, n, k->map, err)) goto fail;
    for (size_t d = 0; d < n; d++) k->parts[d] = jp_dataset_ref(list[d]);
    k->n = n;
    if (!(ds = jp_dataset_new_like(list[0], true, err))) goto fail;
    /* a type known in every part: what jp_concat makes of it */
    for (size_t i = 0; i < nf; i++) {
        jp_type_t t = list[0]->schema.fields[i].type;
        for (size_t d = 1; d < n && t != JP_TYPE_NONE; d++) {
            jp_type_t u = list[d]->schema.fields[k->map[d * nf + i]].type;
            if (u == JP_TYPE_NONE)
                t = JP_TYPE_NONE;
            else if (u != t)
                t = JP_TYPE_NUMBER;
        }
        ds->schema.fields[i].type = t;
    }
    ds->lazy = &k->base;
    return ds;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    if (k) cat_free(&k->base);
    return NULL;
}

/* ---- a pass: each part in turn ------------------------------------------------ */

typedef struct cpass {
    const jp_stream_chain_t *c; /* the chain above the concat */
    const jp_stream_consumer_t *cb;
    const cat_t *k;
    size_t d, nf;
    size_t *top_idx, ntop;
    size_t *all;      /* every field of the concat, in order */
    jp_type_t *first; /* each field's type in the first part */
    jp_type_t *type;  /* each field's type so far, over the parts */
    bool *out;        /* did batches go out with that type? */
    bool again;       /* a later part widened a field: from the first part again */
    long hk;          /* the head nearest the concat (-1: none), and the rows it takes */
    size_t head_rows;
    bool enough; /* that head has its rows: the pass ends */
    jp_column_t **cols;
} cpass_t;

static jp_status_t cp_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    cpass_t *p = ctx;
    size_t nf = p->nf;
    jp_status_t st = JP_OK;
    size_t made = 0;
    for (size_t i = 0; i < nf && !st; i++, made++) {
        jp_column_t *c = top->cols[p->k->map[p->d * nf + i]];
        jp_type_t t = c->type;
        if (p->d == 0) p->first[i] = t;
        if (p->type[i] == JP_TYPE_NONE) p->type[i] = t;
        if (t != p->type[i]) {
            if (!jp_type_is_numeric(t) || !jp_type_is_numeric(p->type[i])) {
                const char *name = p->c->src->schema.fields[i].name;
                st = jp_error_set(err, JP_ERR_TYPE,
                                  "concat: field '%s' is %s in dataset 1 but %s in dataset %zu",
                                  name, jp_type_name(p->first[i]), jp_type_name(t), p->d + 1);
                jp_error_field(err, name);
                break;
            }
            if (p->type[i] == JP_TYPE_INT) {
                p->type[i] = JP_TYPE_NUMBER;
                if (p->out[i]) {
                    p->again = true;
                    st = jp_error_set(err, JP_ERR_INTERNAL, "concat: read again with numbers");
                    break;
                }
            }
        }
        p->cols[i] = t == p->type[i] ? jp_column_ref(c) : jp_column_cast(c, p->type[i], err);
        if (!p->cols[i]) st = err ? err->code : JP_ERR_NOMEM;
    }
    jp_dataset_t *out = NULL;
    if (!st)
        out = jp_stream_run_chain(p->c, p->cols, p->all, nf, top->nrows, p->top_idx, p->ntop, err);
    for (size_t i = 0; i < made && i < nf; i++) {
        jp_column_unref(p->cols[i]);
        p->cols[i] = NULL;
    }
    if (st) return st;
    if (!out) {
        /* a node above makes its batches another way now (a function's
           column that changed type): everything comes again */
        for (size_t q = 0; q < p->c->n; q++) p->again |= jp_plan_stream_retry(p->c->node[q], true);
        return err ? err->code : JP_ERR_NOMEM;
    }
    for (size_t i = 0; i < nf; i++) p->out[i] = true;
    st = p->cb->batch(p->cb->ctx, out, err);
    jp_dataset_unref(out);
    if (!st && p->hk >= 0 && p->c->at[p->hk] >= p->head_rows) {
        /* the parts are read with their final types: no later row counts */
        p->enough = true;
        st = jp_error_set(err, JP_ERR_INTERNAL, "concat: the head has its rows");
    }
    return st;
}

/* A part read again from its start (a node asked for it): the earlier
 * parts' batches went out already, so everything comes again. */
static jp_status_t cp_reset(void *ctx, jp_error_t *err)
{
    cpass_t *p = ctx;
    p->again = true;
    return jp_error_set(err, JP_ERR_INTERNAL, "concat: read again");
}

static bool cp_stopped(void *ctx)
{
    cpass_t *p = ctx;
    return p->again || p->enough || (p->cb->stopped && p->cb->stopped(p->cb->ctx));
}

jp_status_t jp_stream_concat_pass(const jp_stream_chain_t *c, const bool *want_top,
                                  const jp_stream_consumer_t *cb, jp_error_t *err)
{
    const cat_t *k = (const cat_t *)c->src->lazy;
    size_t nf = c->src->schema.n_fields, ntf = c->n ? c->node[0]->schema.n_fields : nf;
    cpass_t p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.cb = cb;
    p.k = k;
    p.nf = nf;
    /* every field is read: jp_concat checks the types of them all */
    p.all = jp_malloc_array(nf ? nf : 1, sizeof *p.all);
    p.top_idx = jp_malloc_array(ntf ? ntf : 1, sizeof *p.top_idx);
    p.first = jp_calloc(nf ? nf : 1, sizeof *p.first);
    p.type = jp_calloc(nf ? nf : 1, sizeof *p.type);
    p.out = jp_calloc(nf ? nf : 1, sizeof *p.out);
    p.cols = jp_calloc(nf ? nf : 1, sizeof *p.cols);
    bool *want = NULL;
    size_t wmax = 1;
    for (size_t d = 0; d < k->n; d++)
        if (k->parts[d]->schema.n_fields > wmax) wmax = k->parts[d]->schema.n_fields;
    want = jp_calloc(wmax, sizeof *want);
    jp_status_t st = JP_OK;
    if (!p.all || !p.top_idx || !p.first || !p.type || !p.out || !p.cols || !want) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nf; i++) p.all[i] = i;
    p.hk = -1;
    for (size_t q = c->n; q-- > 0 && p.hk < 0;)
        if (jp_plan_stream_head(c->node[q], &p.head_rows)) p.hk = (long)q;
    for (size_t i = 0; i < ntf; i++)
        if (want_top[i]) p.top_idx[p.ntop++] = i;
    for (;;) {
        memset(c->at, 0, sizeof c->at_rows);
        memset(p.out, 0, nf * sizeof *p.out);
        p.again = p.enough = false;
        for (p.d = 0; p.d < k->n && !st; p.d++) {
            jp_stream_chain_t sub;
            if (!jp_stream_chain_of(k->parts[p.d], &sub)) {
                st = jp_error_set(err, JP_ERR_INTERNAL, "concat: a part does not stream");
                break;
            }
            memset(want, 0, wmax * sizeof *want);
            for (size_t i = 0; i < nf; i++) want[k->map[p.d * nf + i]] = true;
            jp_stream_consumer_t scb = {cp_batch, cp_reset, &p, cp_stopped};
            sub.typed_first = true;
            st = jp_stream_chain_pass(&sub, want, &scb, err);
            if (p.again) break;
            if (p.enough) {
                st = JP_OK;
                break;
            }
        }
        if (!p.again) break;
        /* from the first part again, with the types found so far */
        if (err) jp_error_clear(err);
        if ((st = cb->reset(cb->ctx, err))) break;
        st = JP_OK;
    }
done:
    jp_free(p.all);
    jp_free(p.top_idx);
    jp_free(p.first);
    jp_free(p.type);
    jp_free(p.out);
    jp_free(p.cols);
    jp_free(want);
    return st;
}
