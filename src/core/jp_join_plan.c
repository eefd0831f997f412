/*
 * jp_join_plan.c - the join node: an inner, left, semi or anti join as a
 * lazy dataset over its left input, the right dataset held.
 *
 * The right side (the build side) is loaded when the join is planned and
 * indexed once, on first use; the index is shared by every node made from
 * this one.  The left side (the probe side) is asked only for the key
 * fields and the left fields a consumer wants; its rows are probed, and
 * each wanted column is shared (rows the left's own, in order), gathered
 * by row, or - a lookup - read through the rows' tuples.  Because each
 * output row depends on one left row alone, in left order, the node runs
 * batch by batch in a stream (jp_stream.c): jp_join_rebind makes the same
 * node over one batch of the left rows, and the batches' outputs, one
 * after the other, are the whole join's rows.  Right and full joins need
 * every left row before the unmatched right rows: they are not planned
 * here (jp_join.c makes them at once).
 *
 * Owns: the join node (jp_lazy_t) and its hooks.  Must never: modify
 * either input, keep a batch's rows after the node is freed.
 */
#include <string.h>
#include "jp_join_int.h"
#include "jp_lazy.h"
#include "jp_mem.h"
#include "jp_plan.h"

/* What every node of one join shares: the right side and its index. */
typedef struct jshared {
    int refs;
    jp_dataset_t *right; /* held whole */
    jp_join_how_t how;
    size_t nkeys;
    long *li, *ri;    /* key fields, left and right */
    char **lk, **rk;  /* their names, for messages */
    size_t nleft;     /* left fields: the output's first */
    size_t nright;    /* right fields in the output, after the left's */
    long *rsrc;       /* the right field of each */
    jp_column_t **rc; /* the right key columns */
    /* the index, made on first use for the key comparisons (as_num) of
       the left's key types; another for other types (a left key whose
       type changed from integer to number in a stream) */
    jp_join_index_t **xs;
    size_t nxs;
    /* per key: a left dictionary (a reference) and its codes mapped to the
       right's, kept from node to node: the slices of rows in memory share
       one dictionary, mapped once instead of once a slice */
    jp_strdict_t **sdict;
    uint32_t **smap;
    uint32_t *smap_n; /* codes mapped so far */
} jshared_t;

typedef struct jnode {
    jp_lazy_t base; /* first: the dataset holds &base */
    jshared_t *sh;
    jp_dataset_t *left;
    bool settled;      /* the rows probed: p, o */
    jp_join_index_t x; /* a shared index with this node's left part */
    jp_column_t **lc;  /* the left key columns */
    bool *as_num;      /* this node's key comparisons */
    jp_join_probe_t p;
    jp_join_rows_t o;
} jnode_t;

static jp_status_t nomem(jp_error_t *err)
{
    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
}

static void shared_unref(jshared_t *sh)
{
    if (!sh || --sh->refs > 0) return;
    for (size_t i = 0; i < sh->nxs; i++) {
        jp_join_index_free(sh->xs[i]);
        jp_free(sh->xs[i]);
    }
    jp_free(sh->xs);
    for (size_t k = 0; k < sh->nkeys; k++) {
        if (sh->sdict) jp_strdict_unref(sh->sdict[k]);
        if (sh->smap) jp_free(sh->smap[k]);
    }
    jp_free(sh->sdict);
    jp_free(sh->smap);
    jp_free(sh->smap_n);
    jp_free(sh->rc);
    jp_dataset_unref(sh->right);
    for (size_t k = 0; k < sh->nkeys; k++) {
        if (sh->lk) jp_free(sh->lk[k]);
        if (sh->rk) jp_free(sh->rk[k]);
    }
    jp_free(sh->lk);
    jp_free(sh->rk);
    jp_free(sh->li);
    jp_free(sh->ri);
    jp_free(sh->rsrc);
    jp_free(sh);
}

static void node_free(jp_lazy_t *lz)
{
    jnode_t *j = (jnode_t *)lz;
    jp_free(j->x.smap); /* the maps are the shared part's */
    jp_free(j->as_num);
    jp_free(j->lc);
    jp_join_probe_free(&j->p);
    jp_join_rows_free(&j->o);
    shared_unref(j->sh);
    jp_dataset_unref(j->left);
    jp_free(j);
}

/* The index for this node's key comparisons, made by the first node that
 * needs it; j->x is a copy of it with this node's left part. */
static jp_status_t node_index(jnode_t *j, jp_error_t *err)
{
    jshared_t *sh = j->sh;
    size_t n = sh->nkeys, nr = sh->right->nrows;
    jp_join_index_t *x = NULL;
    for (size_t i = 0; i < sh->nxs && !x; i++)
        if (memcmp(sh->xs[i]->as_num, j->as_num, n * sizeof *j->as_num) == 0) x = sh->xs[i];
    if (!x) {
        jp_join_index_t **xs = jp_realloc_array(sh->xs, sh->nxs + 1, sizeof *xs);
        if (!xs) return nomem(err);
        sh->xs = xs;
        if (!(x = jp_calloc(1, sizeof *x))) return nomem(err);
        x->nkeys = n;
        x->rc = sh->rc;
        jp_status_t st = JP_ERR_NOMEM;
        if ((x->as_num = jp_malloc_array(n, sizeof *x->as_num))) {
            memcpy(x->as_num, j->as_num, n * sizeof *j->as_num);
            st = jp_join_index_build(x, nr);
        }
        if (st) {
            jp_join_index_free(x);
            jp_free(x);
            if (st == JP_ERR_LIMIT)
                return jp_error_set(err, st, "join: the right dataset has too many rows (%zu)", nr);
            return jp_join_index_nomem(nr, err);
        }
        sh->xs[sh->nxs++] = x;
    }
    j->x = *x;
    j->x.smap = NULL;
    j->x.lc = j->lc;
    return JP_OK;
}

/* The left key strings' codes as the right's (x.smap), from the shared
 * maps, made or extended for this node's dictionaries. */
static jp_status_t node_smap(jnode_t *j, jp_error_t *err)
{
    jshared_t *sh = j->sh;
    if (!(j->x.smap = jp_calloc(sh->nkeys, sizeof *j->x.smap))) return nomem(err);
    for (size_t k = 0; k < sh->nkeys; k++) {
        const jp_column_t *l = j->lc[k], *r = sh->rc[k];
        if (l->type != JP_TYPE_STRING || l->dict == r->dict) continue;
        if (sh->sdict[k] != l->dict) {
            jp_strdict_unref(sh->sdict[k]);
            sh->sdict[k] = jp_strdict_ref(l->dict);
            sh->smap_n[k] = 0;
        }
        uint32_t dn = l->dict->count;
        if (!sh->smap[k] || sh->smap_n[k] < dn) {
            uint32_t *m = jp_realloc_array(sh->smap[k], dn ? dn : 1, sizeof *m);
            if (!m) return nomem(err);
            sh->smap[k] = m;
            for (uint32_t c = sh->smap_n[k]; c < dn; c++) {
                size_t len;
                const char *str = jp_strdict_get(l->dict, c, &len);
                uint32_t rc;
                m[c] = jp_strdict_find(r->dict, str, len, &rc) ? rc : JP_JOIN_NONE;
            }
            sh->smap_n[k] = dn;
        }
        j->x.smap[k] = sh->smap[k];
    }
    return JP_OK;
}

/* Probe the left rows (their key columns loaded): the output's rows. */
static jp_status_t settle(jp_dataset_t *ds, jnode_t *j, jp_error_t *err)
{
    jshared_t *sh = j->sh;
    jp_dataset_t *left = j->left;
    jp_status_t st;
    for (size_t k = 0; k < sh->nkeys; k++) {
        j->lc[k] = left->cols[sh->li[k]];
        if ((st = jp_join_check_type(j->lc[k]->type, sh->rc[k]->type, sh->lk[k], sh->rk[k],
                                     &j->as_num[k], err)))
            return st;
    }
    if ((st = node_index(j, err)) || (st = node_smap(j, err))) return st;
    j->p.how = sh->how;
    if ((st = jp_join_probe(&j->x, &j->p, left->nrows, err))) return st;
    jp_free(j->x.smap);
    j->x.smap = NULL;
    if (jp_join_output_rows(&j->p, &j->x, sh->right->nrows, &j->o)) return nomem(err);
    ds->nrows = j->o.n;
    if (jp_join_origin(ds, left, j->o.lo, j->o.n, j->o.identity)) return nomem(err);
    j->settled = true;
    return JP_OK;
}

/* Output field i, the rows settled. */
static jp_status_t make_field(jp_dataset_t *ds, jnode_t *j, size_t i, jp_error_t *err)
{
    jshared_t *sh = j->sh;
    const jp_join_rows_t *o = &j->o;
    jp_field_t *fd = &ds->schema.fields[i];
    jp_column_t *c;
    if (i < sh->nleft) {
        jp_column_t *src = j->left->cols[i];
        c = o->identity ? jp_column_ref(src) : jp_join_gather_rows(src, o->lo, o->n, o->lmissing);
        /* the left's field is settled now: its type, and its unit */
        const jp_field_t *sf = &j->left->schema.fields[i];
        if (c && !fd->unit && sf->unit && !(fd->unit = jp_strdup(sf->unit))) {
            jp_column_unref(c);
            c = NULL;
        }
    } else {
        jp_column_t *src = sh->right->cols[sh->rsrc[i - sh->nleft]];
        c = o->lookup ? jp_join_gather_tuples(src, &j->x, j->p.ltup, o->n, o->rmissing)
                      : jp_join_gather_rows(src, o->ro, o->n, o->rmissing);
    }
    if (!c) return nomem(err);
    fd->type = c->type;
    ds->cols[i] = c;
    return JP_OK;
}

static jp_status_t node_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    jnode_t *j = (jnode_t *)ds->lazy;
    jshared_t *sh = j->sh;
    size_t *list = jp_malloc_array(sh->nkeys + n + 1, sizeof *list), m = 0;
    if (!list) return nomem(err);
    /* the left's keys (once), and the left fields asked for, in one request */
    if (!j->settled)
        for (size_t k = 0; k < sh->nkeys; k++) list[m++] = (size_t)sh->li[k];
    for (size_t k = 0; k < n; k++)
        if (idx[k] < sh->nleft && !ds->cols[idx[k]]) list[m++] = idx[k];
    jp_status_t st = m ? jp_dataset_need(j->left, list, m, err) : JP_OK;
    jp_free(list);
    if (!st && !j->settled) st = settle(ds, j, err);
    for (size_t k = 0; k < n && !st; k++)
        if (!ds->cols[idx[k]]) st = make_field(ds, j, idx[k], err);
    return st;
}

static const jp_lazy_ops_t join_ops = {"join", node_need, NULL, node_free, NULL, NULL};

bool jp_join_is_plan(const jp_dataset_t *ds)
{
    return ds->lazy && ds->lazy->ops == &join_ops;
}

/* A node of the shared join over `left`, its fields those of `like`. */
static jp_dataset_t *new_node(jshared_t *sh, jp_dataset_t *left, const jp_dataset_t *like,
                              jp_error_t *err)
{
    jnode_t *j = jp_calloc(1, sizeof *j);
    if (!j) {
        nomem(err);
        return NULL;
    }
    j->base.ops = &join_ops;
    sh->refs++;
    j->sh = sh;
    j->left = jp_dataset_ref(left);
    j->lc = jp_calloc(sh->nkeys, sizeof *j->lc);
    j->as_num = jp_calloc(sh->nkeys, sizeof *j->as_num);
    jp_dataset_t *ds = j->lc && j->as_num ? jp_dataset_new_like(like, true, err) : NULL;
    if (!ds) {
        if (!j->lc || !j->as_num) nomem(err);
        node_free(&j->base);
        return NULL;
    }
    ds->lazy = &j->base;
    /* the left's fields take their types from the rows they get */
    for (size_t i = 0; i < sh->nleft; i++) ds->schema.fields[i].type = left->schema.fields[i].type;
    return ds;
}

/* The output's fields: the left's, then the right's other than its keys,
 * a name taken getting the suffix. */
static jp_dataset_t *output_fields(jshared_t *sh, jp_dataset_t *left, const char *suffix,
                                   jp_error_t *err)
{
    jp_dataset_t *out = jp_dataset_new_like(left, true, err);
    if (!out) return NULL;
    const jp_dataset_t *right = sh->right;
    size_t nr = right->schema.n_fields;
    sh->nleft = left->schema.n_fields;
    if (!(sh->rsrc = jp_malloc_array(nr ? nr : 1, sizeof *sh->rsrc))) goto nomem;
    /* room for every field first: the dataset frees as many columns as
       it has fields */
    size_t cap = sh->nleft + nr ? sh->nleft + nr : 1;
    jp_column_t **cols = jp_realloc_array(out->cols, cap, sizeof *cols);
    if (!cols) goto nomem;
    for (size_t i = sh->nleft; i < cap; i++) cols[i] = NULL;
    out->cols = cols;
    out->cols_cap = cap;
    if (sh->how == JP_JOIN_SEMI || sh->how == JP_JOIN_ANTI) nr = 0; /* left fields only */
    for (size_t f = 0; f < nr; f++) {
        bool is_key = false;
        for (size_t k = 0; k < sh->nkeys; k++) is_key |= sh->ri[k] == (long)f;
        if (is_key) continue;
        jp_field_t fd;
        if (jp_field_copy(&fd, &right->schema.fields[f])) goto nomem;
        jp_status_t st = jp_join_unique_name(out, &fd, suffix);
        if (!st) st = jp_schema_add(&out->schema, &fd, err);
        jp_field_free(&fd);
        if (st == JP_ERR_NOMEM) goto nomem;
        if (st) goto fail;
        sh->rsrc[sh->nright++] = (long)f;
    }
    return out;
nomem:
    nomem(err);
fail:
    jp_dataset_unref(out);
    return NULL;
}

/* Key names copied, fields found; the right's keys loaded, the types
 * checked where the left's are known already. */
static jp_status_t resolve(jshared_t *sh, jp_dataset_t *left, const char *const *lk,
                           const char *const *rk, jp_error_t *err)
{
    size_t n = sh->nkeys;
    sh->li = jp_malloc_array(n, sizeof *sh->li);
    sh->ri = jp_malloc_array(n, sizeof *sh->ri);
    sh->lk = jp_calloc(n, sizeof *sh->lk);
    sh->rk = jp_calloc(n, sizeof *sh->rk);
    sh->rc = jp_calloc(n, sizeof *sh->rc);
    sh->sdict = jp_calloc(n, sizeof *sh->sdict);
    sh->smap = jp_calloc(n, sizeof *sh->smap);
    sh->smap_n = jp_calloc(n, sizeof *sh->smap_n);
    if (!sh->li || !sh->ri || !sh->lk || !sh->rk || !sh->rc || !sh->sdict || !sh->smap ||
        !sh->smap_n)
        return nomem(err);
    jp_status_t st;
    for (size_t k = 0; k < n; k++) {
        if (!(sh->lk[k] = jp_strdup(lk[k])) || !(sh->rk[k] = jp_strdup(rk[k]))) return nomem(err);
        if ((st = jp_dataset_lookup(left, lk[k], "join", &sh->li[k], err))) return st;
        if ((st = jp_dataset_lookup(sh->right, rk[k], "join (right dataset)", &sh->ri[k], err)))
            return st;
    }
    if ((st = jp_dataset_need_all(sh->right, err))) return jp_join_build_nomem(sh->right, err);
    for (size_t k = 0; k < n; k++) {
        sh->rc[k] = sh->right->cols[sh->ri[k]];
        jp_type_t lt = left->schema.fields[sh->li[k]].type;
        bool as_num;
        if (lt != JP_TYPE_NONE &&
            (st = jp_join_check_type(lt, sh->rc[k]->type, lk[k], rk[k], &as_num, err)))
            return st;
    }
    return JP_OK;
}

jp_dataset_t *jp_join_plan(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                           const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                           const char *suffix, jp_error_t *err)
{
    jshared_t *sh = jp_calloc(1, sizeof *sh);
    if (!sh) {
        nomem(err);
        return NULL;
    }
    sh->refs = 1;
    sh->right = jp_dataset_ref(right);
    sh->how = how;
    sh->nkeys = nkeys;
    jp_dataset_t *like = NULL, *out = NULL;
    if (!resolve(sh, left, left_keys, right_keys, err) &&
        (like = output_fields(sh, left, suffix, err)))
        out = new_node(sh, left, like, err);
    jp_dataset_unref(like);
    shared_unref(sh);
    return out;
}

/* ---- streaming (jp_plan.h) --------------------------------------------------- */

jp_dataset_t *jp_join_stream_input(const jp_dataset_t *ds)
{
    return ((const jnode_t *)ds->lazy)->left;
}

void jp_join_stream_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want)
{
    const jshared_t *sh = ((const jnode_t *)ds->lazy)->sh;
    for (size_t k = 0; k < sh->nkeys; k++) in_want[sh->li[k]] = true;
    for (size_t i = 0; i < sh->nleft; i++)
        if (want[i]) in_want[i] = true;
}

jp_dataset_t *jp_join_rebind(const jp_dataset_t *ds, jp_dataset_t *in, jp_error_t *err)
{
    return new_node(((const jnode_t *)ds->lazy)->sh, in, ds, err);
}
