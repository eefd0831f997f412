/*
 * jp_stream.c - streaming execution: a lazy plan over a CSV file run one
 * batch of rows at a time, so that memory holds a batch, not the file.
 *
 * A chain is a lazy CSV dataset under plan nodes that can work batch by
 * batch (filter, mutate by expressions, select/drop/rename, head and slice
 * from the start: jp_plan.h).  Under a head, the pass reads a prefix of the
 * file as if the file ended there, longer ones until the head has its rows.
 * The file is read by jp_csv_stream; each batch becomes a small dataset
 * with the file's fields, the chain's nodes are made again over it
 * (jp_plan_rebind), and the consumer takes the top node's columns.  The
 * reader parses the next batch on the other cores while the calling thread
 * runs the chain and the consumer over this one.
 *
 * Consumers here: group_by + agg (count, sum, mean; min, max, first and
 * last through jp_stream_pick), whose accumulators
 * are carried from batch to batch in row order, so the result is the one
 * jp_group_agg gives on the whole file, bit for bit, whatever the batch
 * size or the number of threads.
 *
 * Owns: jp_stream_*.  Must never: modify the datasets of the chain, keep
 * a batch after the consumer has taken it, print.
 */
#include "jp_stream.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_keys.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_stream_int.h"
#include "jp_stream_sort.h"

/* Batches run through chains so far (tests check that a pipeline streamed). */
static _Atomic size_t batches_run;

size_t jp_stream_batches(void)
{
    return batches_run;
}

static jp_stream_progress_fn progress_fn;

void jp_stream_set_progress(jp_stream_progress_fn fn)
{
    progress_fn = fn;
}

jp_stream_progress_fn jp_stream_progress(void)
{
    return progress_fn;
}

/* ---- the chain ---------------------------------------------------------------- */

bool jp_stream_chain_of(const jp_dataset_t *ds, jp_stream_chain_t *c)
{
    c->n = 0;
    c->at = c->at_rows;
    memset(c->at_rows, 0, sizeof c->at_rows);
    c->want_lines = false;
    c->typed_first = false;
    c->cells = NULL;
    c->lines = &c->line_col;
    c->line_col = NULL;
    while (!jp_csv_is_lazy(ds) && !jp_stream_concat_is(ds)) {
        /* rows in memory under a join: its left rows go in slices */
        if (!ds->lazy && c->n && jp_join_is_plan(c->node[c->n - 1])) break;
        jp_dataset_t *in = jp_plan_stream_input(ds);
        if (!in || c->n == JP_STREAM_MAX_CHAIN) return false;
        c->want_lines |= jp_plan_stream_lines(ds);
        c->node[c->n++] = ds;
        ds = in;
    }
    c->src = (jp_dataset_t *)ds;
    return true;
}

bool jp_stream_possible(const jp_dataset_t *ds)
{
    jp_stream_chain_t c;
    return jp_stream_chain_of(ds, &c);
}

/* The file's fields the chain reads to make the top's fields want[]. */
jp_status_t jp_stream_chain_inputs(const jp_stream_chain_t *c, const bool *want_top, size_t **idx,
                                   size_t *n, jp_error_t *err)
{
    size_t nf = c->n ? c->node[0]->schema.n_fields : c->src->schema.n_fields;
    bool *want = jp_malloc_array(nf ? nf : 1, sizeof *want);
    if (!want) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    memcpy(want, want_top, nf * sizeof *want);
    for (size_t k = 0; k < c->n; k++) {
        const jp_dataset_t *in = k + 1 < c->n ? c->node[k + 1] : c->src;
        size_t nin = in->schema.n_fields;
        bool *w = jp_calloc(nin ? nin : 1, sizeof *w);
        if (!w) {
            jp_free(want);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        jp_plan_stream_inputs(c->node[k], want, w);
        jp_free(want);
        want = w;
        nf = nin;
    }
    *idx = jp_malloc_array(nf ? nf : 1, sizeof **idx);
    if (!*idx) {
        jp_free(want);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    *n = 0;
    for (size_t i = 0; i < nf; i++)
        if (want[i]) (*idx)[(*n)++] = i;
    jp_free(want);
    return JP_OK;
}

/* A batch dataset holds the columns read and nothing else: asking it for
 * another is a defect of the chain's field lists, said as such. */
static jp_status_t batch_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    (void)ds;
    (void)idx;
    (void)n;
    return jp_error_set(err, JP_ERR_INTERNAL, "streaming: a field not read was asked for");
}

static void batch_free(jp_lazy_t *lz)
{
    jp_free(lz);
}

static const jp_lazy_ops_t batch_ops = {"batch", batch_need, NULL, batch_free, NULL, NULL};

static jp_dataset_t *batch_dataset(const jp_dataset_t *src, jp_column_t *const *cols,
                                   const size_t *idx, size_t n, size_t nrows,
                                   const jp_column_t *lines, jp_error_t *err)
{
    jp_dataset_t *ds = jp_dataset_new_like(src, true, err);
    if (!ds) return NULL;
    jp_lazy_t *lz = jp_calloc(1, sizeof *lz);
    if (!lz) {
        jp_dataset_unref(ds);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    lz->ops = &batch_ops;
    lz->rows_known = true;
    ds->lazy = lz;
    for (size_t k = 0; k < n; k++) {
        ds->cols[idx[k]] = jp_column_ref(cols[k]);
        ds->schema.fields[idx[k]].type = cols[k]->type;
    }
    ds->nrows = nrows;
    /* errors name the file's lines only when a node asks (the rows' lines
       then follow them through the chain) */
    if (lines && src->origin)
        jp_dataset_set_origin(ds, src->origin, jp_column_ref((jp_column_t *)lines));
    return ds;
}

/* The chain's top node over one batch, its fields top_idx[0..m) made. */
jp_dataset_t *jp_stream_run_chain(const jp_stream_chain_t *c, jp_column_t *const *cols,
                                  const size_t *idx, size_t n, size_t nrows, const size_t *top_idx,
                                  size_t m, jp_error_t *err)
{
    jp_dataset_t *cur = batch_dataset(c->src, cols, idx, n, nrows, *c->lines, err);
    for (size_t k = c->n; k-- > 0 && cur;) {
        size_t row0 = 0;
        if (jp_plan_stream_positional(c->node[k])) {
            /* a node that goes by row position: where this batch starts */
            if (jp_dataset_need_rows(cur, err)) {
                jp_dataset_unref(cur);
                return NULL;
            }
            row0 = c->at[k];
            c->at[k] += cur->nrows;
        }
        jp_dataset_t *next = jp_plan_rebind(c->node[k], cur, row0, err);
        jp_dataset_unref(cur);
        cur = next;
    }
    if (cur && jp_dataset_need(cur, top_idx, m, err)) {
        jp_dataset_unref(cur);
        cur = NULL;
    }
    return cur;
}

/* ---- group_by + agg ----------------------------------------------------------- */

bool jp_stream_group_ok(const jp_dataset_t *ds, const jp_agg_t *aggs, size_t naggs)
{
    for (size_t a = 0; a < naggs; a++)
        if (aggs[a].kind != JP_AGG_COUNT && aggs[a].kind != JP_AGG_SUM &&
            aggs[a].kind != JP_AGG_MEAN && !jp_stream_pick_kind(aggs[a].kind) &&
            !jp_stream_hold_kind(aggs[a].kind))
            return false;
    return jp_stream_possible(ds);
}

typedef struct acc {
    int64_t *i; /* count, or an integer sum */
    double *s, *comp;
    size_t *cnt;            /* values seen */
    uint8_t *q;             /* combined qualifiers (sum, mean) */
    bool int_sum;           /* sum of an integer field: an integer */
    jp_column_t *pick;      /* min, max, first, last: each group's cell (jp_stream_pick) */
    jp_stream_held_t *held; /* median, quantile, count_distinct: the values and their groups */
} acc_t;

typedef struct gstate {
    const long *kidx, *aidx;
    size_t nkeys, naggs;
    const jp_agg_t *aggs;
    /* groups over all batches, in order of first appearance */
    jp_strdict_t *map; /* a key's bytes -> its group */
    jp_buf_t kb;
    jp_column_t **kcols; /* the groups' key values */
    jp_field_t *kf;      /* the key fields, typed by the first batch */
    jp_field_t *af;      /* the aggregated fields (name, unit), typed */
    bool typed;
    size_t ng, cap;
    acc_t *acc;
    size_t rows; /* top rows before this batch */
    uint32_t *gmap;
    size_t gmap_cap;
} gstate_t;

static void acc_free(acc_t *a)
{
    jp_free(a->i);
    jp_free(a->s);
    jp_free(a->comp);
    jp_free(a->cnt);
    jp_free(a->q);
    jp_column_unref(a->pick);
    jp_stream_held_free(a->held);
    memset(a, 0, sizeof *a);
}

static void gstate_clear(gstate_t *g)
{
    jp_strdict_unref(g->map);
    g->map = NULL;
    if (g->kcols)
        for (size_t k = 0; k < g->nkeys; k++) {
            jp_column_unref(g->kcols[k]);
            g->kcols[k] = NULL;
        }
    if (g->kf)
        for (size_t k = 0; k < g->nkeys; k++) jp_field_free(&g->kf[k]);
    if (g->af)
        for (size_t a = 0; a < g->naggs; a++) jp_field_free(&g->af[a]);
    if (g->acc)
        for (size_t a = 0; a < g->naggs; a++) acc_free(&g->acc[a]);
    g->typed = false;
    g->ng = g->cap = 0;
    g->rows = 0;
}

static jp_status_t g_reset(void *ctx, jp_error_t *err)
{
    gstate_t *g = ctx;
    gstate_clear(g);
    if (!(g->map = jp_strdict_new(256))) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

static bool grow(void **p, size_t cap, size_t size)
{
    if (!*p) return true;
    void *q = jp_realloc_array(*p, cap, size);
    if (!q) return false;
    *p = q;
    return true;
}

static jp_status_t groups_room(gstate_t *g, size_t need)
{
    if (need <= g->cap) return JP_OK;
    size_t cap = g->cap ? g->cap * 2 : 256;
    while (cap < need) cap *= 2;
    for (size_t a = 0; a < g->naggs; a++) {
        acc_t *x = &g->acc[a];
        if (!grow((void **)&x->i, cap, sizeof *x->i) || !grow((void **)&x->s, cap, sizeof *x->s) ||
            !grow((void **)&x->comp, cap, sizeof *x->comp) ||
            !grow((void **)&x->cnt, cap, sizeof *x->cnt) || !grow((void **)&x->q, cap, 1))
            return JP_ERR_NOMEM;
        size_t add = cap - g->cap;
        if (x->i) memset(x->i + g->cap, 0, add * sizeof *x->i);
        if (x->s) memset(x->s + g->cap, 0, add * sizeof *x->s);
        if (x->comp) memset(x->comp + g->cap, 0, add * sizeof *x->comp);
        if (x->cnt) memset(x->cnt + g->cap, 0, add * sizeof *x->cnt);
        if (x->q) memset(x->q + g->cap, 0, add);
    }
    g->cap = cap;
    return JP_OK;
}

/* The bytes that identify row i's key (equal for cells jp_group_rows puts
 * together: nulls, -0 and 0, NaNs). */
static jp_status_t key_bytes(jp_buf_t *b, jp_column_t *const *kc, size_t nkeys, size_t i)
{
    jp_buf_reset(b);
    for (size_t k = 0; k < nkeys; k++) {
        const jp_column_t *c = kc[k];
        uint8_t isnull = jp_column_is_null(c, i);
        if (jp_buf_append(b, &isnull, 1)) return JP_ERR_NOMEM;
        if (isnull) continue;
        if (c->type == JP_TYPE_STRING) {
            size_t len;
            const char *s = jp_column_str(c, i, &len);
            uint64_t l = len;
            if (jp_buf_append(b, &l, sizeof l) || jp_buf_append(b, s, len)) return JP_ERR_NOMEM;
        } else if (c->type == JP_TYPE_PERIOD) {
            const jp_period_t *p = &c->v.p[i];
            int32_t v[7] = {p->kind, p->from_gran, p->to_gran, p->unit, p->from, p->to, p->n};
            if (jp_buf_append(b, v, sizeof v)) return JP_ERR_NOMEM;
        } else {
            uint64_t v = jp_key_value(c, i, false);
            if (jp_buf_append(b, &v, sizeof v)) return JP_ERR_NOMEM;
        }
    }
    return JP_OK;
}

/* On the first batch: the fields' types, the accumulators' kinds. */
static jp_status_t g_type(gstate_t *g, const jp_dataset_t *top, jp_error_t *err)
{
    for (size_t k = 0; k < g->nkeys; k++) {
        if (jp_field_copy(&g->kf[k], &top->schema.fields[g->kidx[k]]))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_constraints_free(&g->kf[k].constraints);
        jp_constraints_init(&g->kf[k].constraints);
        jp_column_t *c = top->cols[g->kidx[k]];
        g->kf[k].type = c->type;
        g->kcols[k] = jp_column_new(c->type, 16);
        if (!g->kcols[k]) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t a = 0; a < g->naggs; a++) {
        const jp_agg_t *ag = &g->aggs[a];
        acc_t *x = &g->acc[a];
        if (g->aidx[a] >= 0) {
            const jp_field_t *f = &top->schema.fields[g->aidx[a]];
            jp_type_t t = top->cols[g->aidx[a]]->type;
            if (jp_field_copy(&g->af[a], f))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            g->af[a].type = t;
            bool numeric = ag->kind == JP_AGG_SUM || ag->kind == JP_AGG_MEAN ||
                           ag->kind == JP_AGG_MEDIAN || ag->kind == JP_AGG_QUANTILE;
            if (numeric && !jp_type_is_numeric(t)) {
                jp_error_set(err, JP_ERR_TYPE,
                             "agg: %s of field '%s' for '%s': it is %s, not a number",
                             jp_agg_name(ag->kind), f->name, ag->name, jp_type_name(t));
                jp_error_field(err, f->name);
                return JP_ERR_TYPE;
            }
            x->int_sum = ag->kind == JP_AGG_SUM && t == JP_TYPE_INT;
        }
        if (jp_stream_pick_kind(ag->kind)) {
            jp_type_t t = top->cols[g->aidx[a]]->type;
            if (!(x->pick = jp_column_new(t, 16)))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            continue;
        }
        if (jp_stream_hold_kind(ag->kind)) {
            if (!(x->held = jp_stream_held_new(top->cols[g->aidx[a]]->type)))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            continue;
        }
        bool cnt_only = ag->kind == JP_AGG_COUNT;
        x->i = jp_malloc(8);
        x->cnt = cnt_only ? NULL : jp_malloc(8);
        x->q = cnt_only ? NULL : jp_malloc(8);
        x->s = cnt_only || x->int_sum ? NULL : jp_malloc(8);
        x->comp = cnt_only || x->int_sum ? NULL : jp_malloc(8);
        if (!x->i || (!cnt_only && (!x->cnt || !x->q)) ||
            (!cnt_only && !x->int_sum && (!x->s || !x->comp)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    g->typed = true;
    return JP_OK;
}

/* One aggregate over one batch: the same steps, in the same row order, as
 * jp_group.c's kernels, on accumulators that persist between batches. */
static jp_status_t g_accumulate(gstate_t *g, size_t a, const jp_column_t *c, const uint32_t *gid,
                                size_t nrows, jp_error_t *err)
{
    acc_t *x = &g->acc[a];
    const jp_agg_t *ag = &g->aggs[a];
    if (x->pick) {
        if (jp_stream_pick(ag->kind, &x->pick, c, gid, nrows, g->ng))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return JP_OK;
    }
    if (x->held) {
        if (jp_stream_held_add(x->held, c, gid, nrows, err)) return err ? err->code : JP_ERR_NOMEM;
        return JP_OK;
    }
    if (ag->kind == JP_AGG_COUNT) {
        int64_t *cnt = x->i;
        if (!c || !c->nulls)
            for (size_t i = 0; i < nrows; i++) cnt[gid[i]]++;
        else
            for (size_t i = 0; i < nrows; i++) cnt[gid[i]] += !c->nulls[i];
        return JP_OK;
    }
    const uint8_t *nl = c->nulls;
    if (x->int_sum) {
        int64_t *s = x->i;
        for (size_t i = 0; i < nrows; i++) {
            if (nl && nl[i]) continue;
            uint32_t gr = gid[i];
            x->cnt[gr]++;
            if (__builtin_add_overflow(s[gr], c->v.i[i], &s[gr])) {
                const char *what = g->af[a].name;
                jp_error_set(err, JP_ERR_RANGE,
                             "sum: the integers of field '%s' overflow in a group (row %zu)", what,
                             g->rows + i + 1);
                jp_error_field(err, what);
                jp_error_row(err, (long)(g->rows + i) + 1);
                return JP_ERR_RANGE;
            }
        }
    } else {
        double *s = x->s, *comp = x->comp;
        for (size_t i = 0; i < nrows; i++) {
            if (nl && nl[i]) continue;
            uint32_t gr = gid[i];
            double v = c->type == JP_TYPE_NUMBER ? c->v.d[i] : (double)c->v.i[i];
            double s0 = s[gr], t = s0 + v;
            comp[gr] += fabs(s0) >= fabs(v) ? (s0 - t) + v : (v - t) + s0;
            s[gr] = t;
            x->cnt[gr]++;
        }
    }
    if (c->quals)
        for (size_t i = 0; i < nrows; i++) {
            if (!c->quals[i] || jp_column_is_null(c, i)) continue;
            x->q[gid[i]] =
                (uint8_t)jp_qual_combine((jp_qual_t)x->q[gid[i]], (jp_qual_t)c->quals[i]);
        }
    return JP_OK;
}

static jp_status_t g_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    gstate_t *g = ctx;
    jp_status_t st = JP_OK;
    jp_groups_t lg = {0};
    size_t *newrows = NULL;
    jp_column_t *kc[JP_STREAM_MAX_CHAIN];
    if (!g->typed && (st = g_type(g, top, err))) goto done;
    size_t n = top->nrows;
    for (size_t k = 0; k < g->nkeys; k++) {
        kc[k] = top->cols[g->kidx[k]];
        if (kc[k]->type != g->kf[k].type) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "streaming: key '%s' changed type",
                              g->kf[k].name);
            goto done;
        }
    }
    if (!n && g->nkeys) goto done;
    if ((st = jp_group_rows(kc, g->nkeys, n, &lg))) {
        jp_error_set(err, st, st == JP_ERR_LIMIT ? "group_by: too many groups" : "out of memory");
        goto done;
    }
    /* this batch's groups -> the groups of all batches */
    if (lg.ngroups > g->gmap_cap) {
        uint32_t *m = jp_realloc_array(g->gmap, lg.ngroups, sizeof *m);
        if (!m) goto nomem;
        g->gmap = m;
        g->gmap_cap = lg.ngroups;
    }
    newrows = jp_malloc_array(lg.ngroups ? lg.ngroups : 1, sizeof *newrows);
    if (!newrows) goto nomem;
    size_t nnew = 0;
    for (size_t j = 0; j < lg.ngroups; j++) {
        if (key_bytes(&g->kb, kc, g->nkeys, n ? lg.first[j] : 0)) goto nomem;
        uint32_t code;
        if ((st = jp_strdict_intern(g->map, g->kb.data ? g->kb.data : "", g->kb.len, &code))) {
            jp_error_set(err, st,
                         st == JP_ERR_LIMIT ? "group_by: too many groups" : "out of memory");
            goto done;
        }
        g->gmap[j] = code;
        if (code == g->ng + nnew) newrows[nnew++] = lg.first[j];
    }
    if (nnew) {
        if (groups_room(g, g->ng + nnew)) goto nomem;
        for (size_t k = 0; k < g->nkeys; k++) {
            jp_column_t *part = jp_column_gather(kc[k], newrows, nnew);
            if (!part) goto nomem;
            st = jp_column_append(g->kcols[k], part, err);
            jp_column_unref(part);
            if (st) goto done;
        }
        g->ng += nnew;
    }
    for (size_t i = 0; i < n; i++) lg.gid[i] = g->gmap[lg.gid[i]];
    for (size_t a = 0; a < g->naggs && !st; a++) {
        const jp_column_t *c = g->aidx[a] >= 0 ? top->cols[g->aidx[a]] : NULL;
        if (c && c->type != g->af[a].type) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "streaming: field '%s' changed type",
                              g->af[a].name);
            break;
        }
        st = g_accumulate(g, a, c, lg.gid, n, err);
    }
    if (st && err && err->code != JP_ERR_NOMEM && err->code != JP_ERR_INTERNAL)
        jp_error_prefix(err, "agg");
    g->rows += n;
    goto done;
nomem:
    st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
done:
    jp_free(newrows);
    jp_groups_free(&lg);
    return st;
}

/* The result, as jp_group_agg makes it. */
static jp_dataset_t *g_result(gstate_t *g, const jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *out = jp_dataset_new_like(ds, false, err);
    if (!out) return NULL;
    size_t ng = g->ng;
    for (size_t k = 0; k < g->nkeys; k++) {
        jp_column_t *c = g->kcols[k];
        g->kcols[k] = NULL;
        if (jp_dataset_add_column(out, &g->kf[k], c, err)) goto fail;
    }
    for (size_t a = 0; a < g->naggs; a++) {
        acc_t *x = &g->acc[a];
        const jp_agg_t *ag = &g->aggs[a];
        jp_column_t *c;
        if (x->held) {
            const char *what = g->aidx[a] >= 0 ? g->af[a].name : NULL;
            if (!(c = jp_stream_held_result(x->held, ag, what, ng, err))) {
                if (err && err->code != JP_ERR_NOMEM) jp_error_prefix(err, "agg");
                goto fail;
            }
        } else if (x->pick) {
            /* groups that never had a row here (no keys, no rows) */
            while (x->pick->len < ng)
                if (jp_column_push_null(x->pick)) goto nomem;
            c = x->pick;
            x->pick = NULL;
        } else if (ag->kind == JP_AGG_COUNT || x->int_sum) {
            c = jp_column_new(JP_TYPE_INT, ng);
            if (c) memcpy(c->v.i, x->i, ng * sizeof *c->v.i);
        } else {
            c = jp_column_new(JP_TYPE_NUMBER, ng);
            for (size_t i = 0; c && i < ng; i++) {
                double s = x->s[i] + x->comp[i];
                if (ag->kind == JP_AGG_MEAN) s = x->cnt[i] ? s / (double)x->cnt[i] : 0;
                c->v.d[i] = s;
            }
        }
        if (!c) goto nomem;
        jp_column_set_len(c, ng);
        if (ag->kind != JP_AGG_COUNT && !jp_stream_pick_kind(ag->kind) && !x->held) {
            for (size_t i = 0; i < ng; i++)
                if (!x->cnt[i]) {
                    if (jp_column_alloc_nulls(c)) goto nomem_c;
                    c->nulls[i] = 1;
                }
            for (size_t i = 0; i < ng; i++)
                if (x->q[i] && !jp_column_is_null(c, i)) {
                    if (jp_column_alloc_quals(c)) goto nomem_c;
                    c->quals[i] = x->q[i];
                }
        }
        const char *unit =
            ag->kind == JP_AGG_COUNT || ag->kind == JP_AGG_COUNT_DISTINCT || g->aidx[a] < 0
                ? NULL
                : g->af[a].unit;
        if (jp_dataset_add(out, ag->name, c, unit, err)) goto fail;
        continue;
    nomem_c:
        jp_column_unref(c);
        goto nomem;
    }
    out->nrows = ng;
    return out;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    jp_dataset_unref(out);
    return NULL;
}

jp_dataset_t *jp_stream_group_agg(jp_dataset_t *ds, const long *kidx, size_t nkeys,
                                  const long *aidx, const jp_agg_t *aggs, size_t naggs,
                                  bool *fallback, jp_error_t *err)
{
    jp_stream_chain_t ch;
    gstate_t g;
    jp_dataset_t *out = NULL;
    *fallback = false;
    memset(&g, 0, sizeof g);
    if (!jp_stream_chain_of(ds, &ch) || nkeys > JP_STREAM_MAX_CHAIN) {
        *fallback = true;
        return NULL;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_calloc(nf ? nf : 1, sizeof *want);
    g.kcols = jp_calloc(nkeys + 1, sizeof *g.kcols);
    g.kf = jp_calloc(nkeys + 1, sizeof *g.kf);
    g.af = jp_calloc(naggs + 1, sizeof *g.af);
    g.acc = jp_calloc(naggs + 1, sizeof *g.acc);
    g.map = jp_strdict_new(256);
    if (!want || !g.kcols || !g.kf || !g.af || !g.acc || !g.map) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nkeys; k++) want[kidx[k]] = true;
    for (size_t a = 0; a < naggs; a++)
        if (aidx[a] >= 0) want[aidx[a]] = true;
    g.kidx = kidx;
    g.aidx = aidx;
    g.nkeys = nkeys;
    g.naggs = naggs;
    g.aggs = aggs;
    jp_stream_consumer_t cb = {g_batch, g_reset, &g, NULL};
    if (jp_stream_chain_pass(&ch, want, &cb, err)) goto done;
    if (!g.typed) {
        /* no rows in the file: nothing was typed; the whole-file way is
           as cheap, and says what an empty input gives */
        *fallback = true;
        goto done;
    }
    if (!nkeys && !g.ng) {
        /* no keys: one row, also over no rows */
        uint32_t code;
        if (groups_room(&g, 1) || jp_strdict_intern(g.map, "", 0, &code)) {
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto done;
        }
        g.ng = 1;
    }
    out = g_result(&g, ds, err);
done:
    gstate_clear(&g);
    jp_free(want);
    jp_free(g.kcols);
    jp_free(g.kf);
    jp_free(g.af);
    jp_free(g.acc);
    jp_free(g.gmap);
    jp_buf_free(&g.kb);
    return out;
}

/* ---- write_csv ------------------------------------------------------------------ */

static jp_status_t w_reset(void *ctx, jp_error_t *err)
{
    return jp_csv_out_restart(ctx, err);
}

static jp_status_t w_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    return jp_csv_out_rows(ctx, top, err);
}

jp_status_t jp_stream_write_csv(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                                bool *fallback, jp_error_t *err)
{
    jp_stream_chain_t ch;
    *fallback = false;
    if (!jp_stream_chain_of(ds, &ch)) {
        *fallback = true;
        return JP_OK;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_malloc_array(nf ? nf : 1, sizeof *want);
    if (!want) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nf; i++) want[i] = true;
    jp_csv_out_t *out = NULL;
    jp_status_t st = jp_csv_out_open(path, o, ds, &out, err);
    if (!st) {
        jp_stream_consumer_t cb = {w_batch, w_reset, out, NULL};
        st = jp_stream_chain_pass(&ch, want, &cb, err);
        if (st)
            jp_csv_out_abort(out);
        else
            st = jp_csv_out_close(out, err);
    }
    jp_free(want);
    return st;
}

/* ---- a pass (jp_stream_int.h) ---------------------------------------------------- */

/* The source of a chain held in memory (a join's left rows): fields
 * idx[0..n) handed on in slices of JP_STREAM_MEM_ROWS rows, as a file's
 * batches are, so that what the chain makes is one slice at a time. */
#define JP_STREAM_MEM_ROWS ((size_t)1 << 16)

static jp_status_t mem_stream(jp_dataset_t *src, const size_t *idx, size_t n,
                              const jp_csv_stream_cb_t *cb, jp_error_t *err)
{
    jp_column_t **cols = jp_calloc(n ? n : 1, sizeof *cols);
    if (!cols) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = JP_OK;
    for (size_t r0 = 0; r0 < src->nrows && !st; r0 += JP_STREAM_MEM_ROWS) {
        size_t m = src->nrows - r0 < JP_STREAM_MEM_ROWS ? src->nrows - r0 : JP_STREAM_MEM_ROWS;
        for (size_t k = 0; k < n && !st; k++)
            if (!(cols[k] = jp_column_slice(src->cols[idx[k]], r0, m)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        /* the rows' lines, when a node names them */
        jp_column_t *lines = NULL;
        if (!st && cb->lines && src->lines) {
            if (!(lines = jp_column_slice(src->lines, r0, m)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else if (!st && cb->lines && src->first_line) {
            if (!(lines = jp_column_new(JP_TYPE_INT, m)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            for (size_t i = 0; lines && i < m; i++)
                lines->v.i[i] = src->first_line + (long)(r0 + i);
            if (lines) jp_column_set_len(lines, m);
        }
        if (!st) st = cb->batch(cb->ctx, cols, m, lines, err);
        jp_column_unref(lines);
        for (size_t k = 0; k < n; k++) {
            jp_column_unref(cols[k]);
            cols[k] = NULL;
        }
        if (!st && (st = jp_stop_check(err))) break;
    }
    jp_free(cols);
    return st;
}

/* A pass over the chain's file: the chain's row positions from the start,
 * at the start and at each restart; a restart the consumer could not make
 * is reported before the next batch (jp_csv_stream's reset cannot fail). */
typedef struct pass {
    const jp_stream_chain_t *c;
    const jp_stream_consumer_t *cb;
    jp_stream_batch_at_fn batch_at; /* instead of cb->batch, with the offsets */
    size_t *read_idx, nread;
    size_t *top_idx, ntop;
    jp_status_t reset_st;
    jp_error_t reset_err;
} pass_t;

static jp_status_t pass_batch(void *ctx, jp_column_t *const *cols, size_t nrows,
                              const jp_column_t *lines, jp_error_t *err)
{
    pass_t *p = ctx;
    *p->c->lines = lines;
    if (p->reset_st) {
        if (err) *err = p->reset_err;
        return p->reset_st;
    }
    jp_dataset_t *top =
        jp_stream_run_chain(p->c, cols, p->read_idx, p->nread, nrows, p->top_idx, p->ntop, err);
    *p->c->lines = NULL;
    if (!top) return err ? err->code : JP_ERR_NOMEM;
    batches_run++;
    jp_status_t st = p->batch_at ? p->batch_at(p->cb->ctx, top, cols[p->nread], err)
                                 : p->cb->batch(p->cb->ctx, top, err);
    jp_dataset_unref(top);
    return st;
}

static void pass_reset(void *ctx)
{
    pass_t *p = ctx;
    memset(p->c->at, 0, sizeof p->c->at_rows);
    jp_error_clear(&p->reset_err);
    p->reset_st = p->cb->reset(p->cb->ctx, &p->reset_err);
}

/* A node that must see the batches again (jp_plan_stream_retry). */
static bool chain_retry(const jp_stream_chain_t *c, bool clear)
{
    bool any = false;
    for (size_t k = 0; k < c->n; k++) any |= jp_plan_stream_retry(c->node[k], clear);
    return any;
}

static bool pass_stopped(void *ctx)
{
    pass_t *p = ctx;
    return chain_retry(p->c, false) || (p->cb->stopped && p->cb->stopped(p->cb->ctx));
}

static uint64_t head_bytes = JP_STREAM_HEAD_BYTES;

void jp_stream_set_head_bytes(uint64_t bytes)
{
    head_bytes = bytes ? bytes : JP_STREAM_HEAD_BYTES;
}

/* The node nearest the file that takes a range of rows from the start (a
 * head), and how many rows of its input it takes; -1: none.  Only that
 * node bounds how much of the file the chain reads: a head above it gets
 * no more rows once it has its own. */
static long chain_head(const jp_stream_chain_t *c, size_t *rows)
{
    for (size_t k = c->n; k-- > 0;)
        if (jp_plan_stream_head(c->node[k], rows)) return (long)k;
    return -1;
}

/* The file's fields a pass reads (p->read_idx) and those it only checks
 * (*chk: what is not read anyway), and room for their types (*ft); again
 * when a node reads more fields since the last time. */
static jp_status_t pass_fields(pass_t *p, const bool *want_top, const bool *check_top, size_t **chk,
                               size_t *nchk, jp_type_t **ft, jp_error_t *err)
{
    jp_free(p->read_idx);
    jp_free(*chk);
    jp_free(*ft);
    p->read_idx = *chk = NULL;
    *ft = NULL;
    p->nread = *nchk = 0;
    jp_status_t st = jp_stream_chain_inputs(p->c, want_top, &p->read_idx, &p->nread, err);
    if (!st && check_top) st = jp_stream_chain_inputs(p->c, check_top, chk, nchk, err);
    if (st) return st;
    size_t m = 0;
    for (size_t j = 0, r = 0; j < *nchk; j++) {
        while (r < p->nread && p->read_idx[r] < (*chk)[j]) r++;
        if (r == p->nread || p->read_idx[r] != (*chk)[j]) (*chk)[m++] = (*chk)[j];
    }
    *nchk = m;
    if (!(*ft = jp_malloc_array(p->nread + *nchk + 1, sizeof **ft)))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return JP_OK;
}

jp_status_t jp_stream_chain_pass(const jp_stream_chain_t *c, const bool *want_top,
                                 const jp_stream_consumer_t *cb, jp_error_t *err)
{
    return jp_stream_chain_pass_checked(c, want_top, NULL, NULL, cb, NULL, err);
}

jp_status_t jp_stream_chain_pass_checked(const jp_stream_chain_t *c, const bool *want_top,
                                         const bool *check_top, jp_type_t *types,
                                         const jp_stream_consumer_t *cb,
                                         jp_stream_batch_at_fn batch_at, jp_error_t *err)
{
    pass_t p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.cb = cb;
    p.batch_at = batch_at;
    jp_error_t mine_err; /* the reader keeps the first error while it looks for another */
    if (!err) err = &mine_err;
    jp_error_clear(err);
    size_t nf = c->n ? c->node[0]->schema.n_fields : c->src->schema.n_fields;
    /* parts of a concat in turn (never checked fields: no node reads by offset there) */
    if (jp_stream_concat_is(c->src)) return jp_stream_concat_pass(c, want_top, cb, err);
    size_t nsrc = c->src->schema.n_fields;
    size_t *chk = NULL, nchk = 0;
    jp_type_t *ft = NULL;
    jp_status_t st = pass_fields(&p, want_top, check_top, &chk, &nchk, &ft, err);
    if (st) goto done;
    p.top_idx = jp_malloc_array(nf ? nf : 1, sizeof *p.top_idx);
    if (!p.top_idx) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nf; i++)
        if (want_top[i]) p.top_idx[p.ntop++] = i;
    jp_csv_stream_cb_t mine = {pass_batch,    pass_reset,     &p,      pass_stopped, 0,
                               c->want_lines, c->typed_first, c->cells};
    /* Under a head, a prefix of the file is read as if the file ended
       there (its types, its errors): the first head_bytes of text, then
       four times as much each time the head's input got fewer rows than it
       takes (the whole file once that passes half of it), the consumer
       starting again. */
    size_t head_rows = 0;
    long hk = jp_csv_is_lazy(c->src) ? chain_head(c, &head_rows) : -1;
    uint64_t bytes = head_bytes;
    for (;;) {
        bool whole = true;
        uint64_t end = 0;
        if (hk >= 0 && (st = jp_csv_prefix_end(c->src, bytes, &end, &whole, err))) break;
        mine.limit = whole ? 0 : end;
        memset(c->at, 0, sizeof c->at_rows);
        if (jp_csv_is_lazy(c->src)) {
            st = jp_csv_stream_checked(c->src, p.read_idx, p.nread, chk, nchk, batch_at != NULL, ft,
                                       &mine, err);
        } else if (batch_at) {
            st = jp_error_set(err, JP_ERR_INTERNAL,
                              "streaming: rows in memory have no file offsets");
        } else {
            /* rows in memory: their types are known */
            st = mem_stream(c->src, p.read_idx, p.nread, &mine, err);
            for (size_t k = 0; k < p.nread; k++) ft[k] = c->src->cols[p.read_idx[k]]->type;
            for (size_t k = 0; k < nchk; k++) ft[p.nread + k] = c->src->cols[chk[k]]->type;
        }
        if (!st && p.reset_st) {
            if (err) *err = p.reset_err;
            st = p.reset_st;
        }
        if (st && chain_retry(c, true)) {
            /* a node changed how it makes its batches (integers that
               overflowed a conversion become numbers, a function that
               reads another field): the same prefix again */
            pass_reset(&p);
            if (!(st = p.reset_st) &&
                !(st = pass_fields(&p, want_top, check_top, &chk, &nchk, &ft, err))) {
                jp_error_clear(err);
                continue;
            }
            if (p.reset_st && err) *err = p.reset_err;
            break;
        }
        if (st || whole || c->at[hk] >= head_rows) break;
        bytes = bytes < UINT64_MAX / 4 ? bytes * 4 : UINT64_MAX;
        /* past half the file, the whole file costs little more */
        bool gz;
        uint64_t size = jp_csv_lazy_size(c->src, &gz);
        if (!gz && size && bytes >= size / 2) bytes = UINT64_MAX;
        pass_reset(&p);
    }
    if (!st && types) {
        for (size_t i = 0; i < nsrc; i++) types[i] = JP_TYPE_NONE;
        for (size_t k = 0; k < p.nread; k++) types[p.read_idx[k]] = ft[k];
        for (size_t k = 0; k < nchk; k++) types[chk[k]] = ft[p.nread + k];
    }
done:
    jp_free(p.read_idx);
    jp_free(p.top_idx);
    jp_free(chk);
    jp_free(ft);
    return st;
}

/* ---- counting rows, and the first rows with the count ------------------------------ */

/* The first `keep` rows of the fields asked for (a pool), and every row counted. */
typedef struct firsts {
    const size_t *idx;
    size_t n, keep;
    jp_dataset_t *pool;
    size_t rows;
} firsts_t;

static jp_status_t f_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    firsts_t *f = ctx;
    size_t take = f->rows < f->keep ? f->keep - f->rows : 0;
    if (take > top->nrows) take = top->nrows;
    f->rows += top->nrows;
    if (!f->n || (!take && f->pool)) return JP_OK;
    if (!f->pool && !(f->pool = jp_stream_empty_like(top, f->idx, f->n, f->keep, err)))
        return err ? err->code : JP_ERR_NOMEM;
    for (size_t k = 0; k < f->n && take; k++) {
        jp_column_t *part = jp_column_slice(top->cols[f->idx[k]], 0, take);
        jp_status_t st = part ? jp_column_append(f->pool->cols[k], part, err)
                              : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_column_unref(part);
        if (st) return st;
    }
    f->pool->nrows += take;
    return JP_OK;
}

static jp_status_t f_reset(void *ctx, jp_error_t *err)
{
    (void)err;
    firsts_t *f = ctx;
    jp_dataset_unref(f->pool);
    f->pool = NULL;
    f->rows = 0;
    return JP_OK;
}

jp_status_t jp_stream_firsts(jp_dataset_t *ds, size_t keep, jp_dataset_t **first, size_t *nrows,
                             bool *fallback, jp_error_t *err)
{
    jp_stream_chain_t ch;
    *fallback = false;
    if (first) *first = NULL;
    if (!jp_stream_chain_of(ds, &ch)) {
        *fallback = true;
        return JP_OK;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_calloc(nf ? nf : 1, sizeof *want);
    size_t *idx = jp_malloc_array(nf ? nf : 1, sizeof *idx);
    if (!want || !idx) {
        jp_free(want);
        jp_free(idx);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nf && first; i++) {
        want[i] = true;
        idx[i] = i;
    }
    firsts_t f = {idx, first ? nf : 0, first ? keep : 0, NULL, 0};
    jp_stream_consumer_t cb = {f_batch, f_reset, &f, NULL};
    jp_status_t st = jp_stream_chain_pass(&ch, want, &cb, err);
    if (!st && first && !f.pool) *fallback = true; /* no rows: nothing typed the fields */
    if (!st && !*fallback) {
        *nrows = f.rows;
        if (first) {
            *first = f.pool;
            f.pool = NULL;
        }
    }
    jp_dataset_unref(f.pool);
    jp_free(want);
    jp_free(idx);
    return st;
}

jp_status_t jp_stream_count(jp_dataset_t *ds, bool *counted, jp_error_t *err)
{
    bool fallback = false;
    size_t n = 0;
    *counted = false;
    if (!jp_stream_possible(ds)) return JP_OK;
    jp_status_t st = jp_stream_firsts(ds, 0, NULL, &n, &fallback, err);
    if (!st && !fallback) {
        ds->nrows = n;
        *counted = true;
    }
    return st;
}

/* ---- collecting the rows of a head ----------------------------------------------- */

typedef struct collect {
    const size_t *idx;
    size_t n;
    jp_dataset_t *pool; /* the rows so far, fields idx[0..n) */
} collect_t;

static jp_status_t c_batch(void *ctx, jp_dataset_t *top, jp_error_t *err)
{
    collect_t *cl = ctx;
    if (cl->pool && !top->nrows) return JP_OK;
    if (!cl->pool && !(cl->pool = jp_stream_empty_like(top, cl->idx, cl->n, 16, err)))
        return err ? err->code : JP_ERR_NOMEM;
    for (size_t k = 0; k < cl->n; k++) {
        const jp_column_t *c = top->cols[cl->idx[k]];
        if (c->type != cl->pool->cols[k]->type)
            return jp_error_set(err, JP_ERR_INTERNAL, "streaming: field '%s' changed type",
                                top->schema.fields[cl->idx[k]].name);
        jp_status_t st = jp_column_append(cl->pool->cols[k], c, err);
        if (st) return st;
    }
    cl->pool->nrows += top->nrows;
    return JP_OK;
}

static jp_status_t c_reset(void *ctx, jp_error_t *err)
{
    (void)err;
    collect_t *cl = ctx;
    jp_dataset_unref(cl->pool);
    cl->pool = NULL;
    return JP_OK;
}

jp_status_t jp_stream_collect(jp_dataset_t *ds, const size_t *idx, size_t n, jp_column_t **cols,
                              size_t *nrows, bool *fallback, jp_error_t *err)
{
    jp_stream_chain_t ch;
    *fallback = false;
    if (!jp_stream_chain_of(ds, &ch)) {
        *fallback = true;
        return JP_OK;
    }
    size_t nf = ds->schema.n_fields;
    bool *want = jp_calloc(nf ? nf : 1, sizeof *want);
    size_t *top = jp_malloc_array(n ? n : 1, sizeof *top);
    if (!want || !top) {
        jp_free(want);
        jp_free(top);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) want[idx[k]] = true;
    /* the pool's columns come in field order, each field once */
    size_t m = 0;
    for (size_t i = 0; i < nf; i++)
        if (want[i]) top[m++] = i;
    collect_t cl = {top, m, NULL};
    jp_stream_consumer_t cb = {c_batch, c_reset, &cl, NULL};
    jp_status_t st = jp_stream_chain_pass(&ch, want, &cb, err);
    if (!st && !cl.pool) *fallback = true; /* no rows in the file: nothing typed them */
    if (!st && cl.pool) {
        for (size_t k = 0; k < n; k++) {
            size_t q = 0;
            while (top[q] != idx[k]) q++;
            cols[k] = jp_column_ref(cl.pool->cols[q]);
        }
        *nrows = cl.pool->nrows;
    }
    jp_dataset_unref(cl.pool);
    jp_free(want);
    jp_free(top);
    return st;
}
