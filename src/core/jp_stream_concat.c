/*
 * jp_stream_concat.c - concat of pipelines over files that stream: a lazy
 * dataset whose rows are each part's in turn.  Loaded, it is jp_concat of
 * the loaded parts; streamed (the bottom of a chain, jp_stream_int.h),
 * each part's batches go through the nodes above it into the consumer, in
 * the first part's field order, with the types jp_concat gives: integer
 * and number fields widen to number, and when a later part widens a field
 * the earlier parts went out as integers (or a part's reader retypes a
 * column), the consumer starts again with numbers from the first part.
 * Parts that are files have their fields the consumer does not use
 * checked, not built; their types clash as jp_concat says, after every
 * part's own errors, as loading the parts first gives them.
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

bool jp_stream_concat_parts(const jp_dataset_t *ds, jp_dataset_t *const **parts, size_t *n)
{
    if (!jp_stream_concat_is(ds)) return false;
    const cat_t *k = (const cat_t *)ds->lazy;
    *parts = k->parts;
    *n = k->n;
    return true;
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

/* When every part is a lazy CSV file itself and no head stops the pass
 * early ("checked"), a part's fields that the chain above does not read
 * are only checked (jp_stream_chain_pass_checked): their whole file's
 * types come at the part's end, and its errors as a full read raises
 * them, at a fraction of the cost of building them.  Otherwise every
 * field of every part is read (under a head, each part typed first). */
typedef struct cpass {
    const jp_stream_chain_t *c; /* the chain above the concat */
    const jp_stream_consumer_t *cb;
    const cat_t *k;
    size_t d, nf;
    size_t *top_idx, ntop;
    size_t *ridx, nr; /* the concat's fields read, in order */
    jp_type_t *first; /* each field's type in the first part */
    jp_type_t *type;  /* each field's type so far, over the parts */
    bool *out;        /* did batches go out with that type? */
    bool again;       /* a later part widened a field: from the first part again */
    bool checked;     /* the fields not read are checked only */
    bool clash;       /* checked: a field's types differ (clash_error says how) */
    bool *typed;      /* checked: part d reads its types first (it was retyped) */
    long hk;          /* the head nearest the concat (-1: none), and the rows it takes */
    size_t head_rows;
    bool enough; /* that head has its rows: the pass ends */
    jp_column_t **cols;
} cpass_t;

static jp_status_t type_clash(const cpass_t *p, size_t i, jp_type_t t, jp_error_t *err)
{
    const char *name = p->c->src->schema.fields[i].name;
    jp_error_set(err, JP_ERR_TYPE, "concat: field '%s' is %s in dataset 1 but %s in dataset %zu",
                 name, jp_type_name(p->first[i]), jp_type_name(t), p->d + 1);
    jp_error_field(err, name);
    return JP_ERR_TYPE;
}

/* Field i of part p->d has type t: the type so far widens, or the types
 * clash.  JP_ERR_INTERNAL with p->again: batches went out with integers. */
static jp_status_t cp_type(cpass_t *p, size_t i, jp_type_t t, jp_error_t *err)
{
    if (p->d == 0) p->first[i] = t;
    if (p->type[i] == JP_TYPE_NONE) p->type[i] = t;
    if (t == p->type[i]) return JP_OK;
    if (!jp_type_is_numeric(t) || !jp_type_is_numeric(p->type[i])) {
        if (!p->checked) return type_clash(p, i, t, err);
        p->clash = true;
        return jp_error_set(err, JP_ERR_INTERNAL, "concat: the types clash");
    }
    if (p->type[i] == JP_TYPE_INT) {
        p->type[i] = JP_TYPE_NUMBER;
        if (p->out[i]) {
            p->again = true;
            return jp_error_set(err, JP_ERR_INTERNAL, "concat: read again with numbers");
        }
    }
    return JP_OK;
}

static jp_status_t cp_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    cpass_t *p = ctx;
    size_t nf = p->nf;
    jp_status_t st = JP_OK;
    size_t made = 0;
    for (size_t r = 0; r < p->nr && !st; r++, made++) {
        size_t i = p->ridx[r];
        jp_column_t *c = top->cols[p->k->map[p->d * nf + i]];
        jp_type_t t = c->type;
        if ((st = cp_type(p, i, t, err))) break;
        p->cols[r] = t == p->type[i] ? jp_column_ref(c) : jp_column_cast(c, p->type[i], err);
        if (!p->cols[r]) st = err ? err->code : JP_ERR_NOMEM;
    }
    jp_dataset_t *out = NULL;
    if (!st)
        out = jp_stream_run_chain(p->c, p->cols, p->ridx, p->nr, top->nrows, p->top_idx, p->ntop,
                                  err);
    for (size_t r = 0; r < made && r < p->nr; r++) {
        jp_column_unref(p->cols[r]);
        p->cols[r] = NULL;
    }
    if (st) return st;
    if (!out) {
        /* a node above makes its batches another way now (a function's
           column that changed type): everything comes again */
        for (size_t q = 0; q < p->c->n; q++) p->again |= jp_plan_stream_retry(p->c->node[q], true);
        return err ? err->code : JP_ERR_NOMEM;
    }
    for (size_t r = 0; r < p->nr; r++) p->out[p->ridx[r]] = true;
    st = p->cb->batch(p->cb->ctx, out, err);
    jp_dataset_unref(out);
    if (!st && p->hk >= 0 && p->c->at[p->hk] >= p->head_rows) {
        /* the parts are read with their final types: no later row counts */
        p->enough = true;
        st = jp_error_set(err, JP_ERR_INTERNAL, "concat: the head has its rows");
    }
    return st;
}

/* A part read again from its start (a node asked for it, or the reader
 * met a type that changed a column): the earlier parts' batches went out
 * already, so everything comes again, that part typed first. */
static jp_status_t cp_reset(void *ctx, jp_error_t *err)
{
    cpass_t *p = ctx;
    p->again = true;
    if (p->typed) p->typed[p->d] = true;
    return jp_error_set(err, JP_ERR_INTERNAL, "concat: read again");
}

static bool cp_stopped(void *ctx)
{
    cpass_t *p = ctx;
    return p->again || p->enough || p->clash || (p->cb->stopped && p->cb->stopped(p->cb->ctx));
}

static jp_status_t none_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    (void)ctx;
    (void)top;
    (void)err;
    return JP_OK;
}

static jp_status_t none_reset(void *ctx, jp_error_t *err)
{
    (void)ctx;
    (void)err;
    return JP_OK;
}

/* The types of two parts clash (checked): the error the loaded parts give.
 * Those load every part first, so a later part's bad record comes before
 * any type; then the first clash in part order, field order.  ptypes[d]
 * (wmax entries a part) holds part d's file types for d < known; the
 * others are checked now, every field. */
static jp_status_t clash_error(cpass_t *p, jp_type_t *ptypes, size_t wmax, size_t known, bool *chk,
                               jp_error_t *err)
{
    const cat_t *k = p->k;
    size_t nf = p->nf;
    jp_status_t st = JP_OK;
    if (err) jp_error_clear(err);
    for (size_t d = known; d < k->n && !st; d++) {
        jp_stream_chain_t sub;
        if (!jp_stream_chain_of(k->parts[d], &sub))
            return jp_error_set(err, JP_ERR_INTERNAL, "concat: a part does not stream");
        memset(chk, 0, wmax * sizeof *chk);
        for (size_t i = 0; i < nf; i++) chk[k->map[d * nf + i]] = true;
        /* nothing read: the want is all false, the same size */
        bool *none = chk + wmax;
        memset(none, 0, wmax * sizeof *none);
        jp_stream_consumer_t scb = {none_batch, none_reset, NULL, NULL};
        st = jp_stream_chain_pass_checked(&sub, none, chk, ptypes + d * wmax, &scb, NULL, err);
    }
    if (st) return st;
    for (size_t d = 1; d < k->n; d++)
        for (size_t i = 0; i < nf; i++) {
            jp_type_t a = ptypes[k->map[i]], b = ptypes[d * wmax + k->map[d * nf + i]];
            if (a != b && a != JP_TYPE_NONE && b != JP_TYPE_NONE &&
                !(jp_type_is_numeric(a) && jp_type_is_numeric(b))) {
                p->d = d;
                p->first[i] = a;
                return type_clash(p, i, b, err);
            }
        }
    return jp_error_set(err, JP_ERR_INTERNAL, "concat: types that clash, then do not");
}

/* Part p->d in turn: its fields the chain above reads (and, checked, the
 * others checked), each batch to cp_batch; ptypes (wmax entries) gets the
 * part's file types when checked. */
static jp_status_t part_pass(cpass_t *p, bool *want, bool *chk, size_t wmax, jp_type_t *ptypes,
                             jp_error_t *err)
{
    const cat_t *k = p->k;
    size_t nf = p->nf, d = p->d;
    jp_stream_chain_t sub;
    if (!jp_stream_chain_of(k->parts[d], &sub))
        return jp_error_set(err, JP_ERR_INTERNAL, "concat: a part does not stream");
    memset(want, 0, wmax * sizeof *want);
    memset(chk, 0, wmax * sizeof *chk);
    for (size_t r = 0; r < p->nr; r++) want[k->map[d * nf + p->ridx[r]]] = true;
    for (size_t i = 0; i < nf; i++)
        if (!want[k->map[d * nf + i]]) chk[k->map[d * nf + i]] = true;
    jp_stream_consumer_t scb = {cp_batch, cp_reset, p, cp_stopped};
    /* a part typed first when its reader retyped a column last time, and
       under a head, whose rows are final once it has them */
    sub.typed_first = p->typed[d] || p->hk >= 0;
    if (!p->checked) return jp_stream_chain_pass(&sub, want, &scb, err);
    jp_status_t st = jp_stream_chain_pass_checked(&sub, want, chk, ptypes, &scb, NULL, err);
    /* the whole part's types: the fields only checked (and those of a
       part without rows) widen here, or clash */
    for (size_t i = 0; i < nf && !st; i++) {
        jp_type_t t = ptypes[k->map[d * nf + i]];
        if (t != JP_TYPE_NONE) st = cp_type(p, i, t, err);
    }
    return st;
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
    size_t wmax = 1;
    for (size_t d = 0; d < k->n; d++)
        if (k->parts[d]->schema.n_fields > wmax) wmax = k->parts[d]->schema.n_fields;
    p.top_idx = jp_malloc_array(ntf ? ntf : 1, sizeof *p.top_idx);
    p.first = jp_calloc(nf ? nf : 1, sizeof *p.first);
    p.type = jp_calloc(nf ? nf : 1, sizeof *p.type);
    p.out = jp_calloc(nf ? nf : 1, sizeof *p.out);
    p.cols = jp_calloc(nf ? nf : 1, sizeof *p.cols);
    p.typed = jp_calloc(k->n, sizeof *p.typed);
    bool *want = jp_calloc(wmax, sizeof *want), *chk = jp_calloc(2 * wmax, sizeof *chk);
    jp_type_t *ptypes = jp_calloc(k->n * wmax, sizeof *ptypes);
    jp_status_t st = JP_OK;
    if (!p.top_idx || !p.first || !p.type || !p.out || !p.cols || !p.typed || !want || !chk ||
        !ptypes) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    p.hk = -1;
    for (size_t q = c->n; q-- > 0 && p.hk < 0;)
        if (jp_plan_stream_head(c->node[q], &p.head_rows)) p.hk = (long)q;
    p.checked = p.hk < 0;
    for (size_t d = 0; d < k->n; d++) p.checked &= jp_csv_is_lazy(k->parts[d]);
    for (size_t i = 0; i < ntf; i++)
        if (want_top[i]) p.top_idx[p.ntop++] = i;
    for (;;) {
        /* the fields read: those the chain above needs, when the others
           are checked; else every one (jp_concat checks all their types) */
        jp_free(p.ridx);
        p.ridx = NULL;
        if (p.checked) {
            if ((st = jp_stream_chain_inputs(c, want_top, &p.ridx, &p.nr, err))) break;
        } else if (!(p.ridx = jp_malloc_array(nf ? nf : 1, sizeof *p.ridx))) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        } else {
            for (size_t i = 0; i < nf; i++) p.ridx[i] = i;
            p.nr = nf;
        }
        memset(c->at, 0, sizeof c->at_rows);
        memset(p.out, 0, (nf ? nf : 1) * sizeof *p.out);
        p.again = p.enough = p.clash = false;
        for (p.d = 0; p.d < k->n && !st; p.d++) {
            st = part_pass(&p, want, chk, wmax, ptypes + p.d * wmax, err);
            if (p.clash) {
                st = clash_error(&p, ptypes, wmax, p.d, chk, err);
                break;
            }
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
    jp_free(p.ridx);
    jp_free(p.top_idx);
    jp_free(p.first);
    jp_free(p.type);
    jp_free(p.out);
    jp_free(p.cols);
    jp_free(p.typed);
    jp_free(want);
    jp_free(chk);
    jp_free(ptypes);
    return st;
}
