/*
 * jp_plan_fn.c - filter and mutate nodes whose rows or values a function
 * of the front end decides (a Lua function: jp_rowfn_t), over an input
 * that streams.
 *
 * A node made by a script holds the function and the input fields it has
 * read so far.  Loaded (need), it runs the function once over the whole
 * input and keeps a delegate - a take of the rows kept, or a mutate with
 * the columns made: the nodes the eager verbs make - whose columns it
 * hands out.  Streamed, the node is made again over each batch
 * (jp_plan_fn_rebind), pointing to the node it came from (orig), and its
 * need runs the function over the batch.  Two things can only be known
 * late, and each makes the pass start again (orig->retry, jp_stream.c):
 * a batch that lacks a field the function reads (the pass then reads it
 * too), and a mutation whose column type changes after batches went out
 * with another (integers that later meet a decimal, nils before the first
 * value: the type is then known from the first row).  So the result is
 * the whole input's, bit for bit, whatever the batch size.
 *
 * Owns: the node and its jp_rowfn_t.  Must never: run the function on
 * another thread than the one that asked for the rows, keep a batch after
 * its node goes, print.
 */
#include <string.h>
#include "jp_lazy.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_stream.h"
#include "jp_stream_int.h"
#include "jp_verbs.h"

typedef struct fnode {
    jp_lazy_t base; /* first: the dataset holds &base */
    char *verb;
    jp_dataset_t *in;
    jp_rowfn_t fn;          /* orig's own; a batch's node borrows it */
    struct fnode *orig;     /* a batch's node: the node it was made from */
    size_t row0;            /* a batch's node: its first row in the input */
    char **names;           /* a mutation: the fields it makes */
    size_t n;               /* 0: a filter */
    bool *reads;            /* orig: the input fields the function read so far */
    size_t nin;             /* the input's fields */
    jp_type_t *preset;      /* orig: each made field's type, known from a pass before */
    jp_type_t *sent;        /* orig: the type this pass's batches went out with */
    bool *sent_nil;         /* orig: ... and they held only nils */
    bool retry;             /* orig: the batches must come again */
    jp_dataset_t *delegate; /* the function's result over `in` */
} fnode_t;

static const jp_lazy_ops_t fn_ops;

bool jp_plan_fn_is(const jp_dataset_t *ds)
{
    return ds->lazy && ds->lazy->ops == &fn_ops;
}

static void fn_free(jp_lazy_t *lz)
{
    fnode_t *p = (fnode_t *)lz;
    if (!p->orig && p->fn.free) p->fn.free(p->fn.ctx);
    for (size_t k = 0; k < p->n && p->names; k++) jp_free(p->names[k]);
    jp_free(p->names);
    if (!p->orig) {
        jp_free(p->reads);
        jp_free(p->preset);
        jp_free(p->sent);
        jp_free(p->sent_nil);
    }
    jp_dataset_unref(p->delegate);
    jp_dataset_unref(p->in);
    jp_free(p->verb);
    jp_free(p);
}

/* Field i of the node: the input's field it passes through, or -1 (made). */
static long source(const fnode_t *p, size_t i)
{
    if (i >= p->nin) return -1;
    for (size_t k = 0; k < p->n; k++)
        if (strcmp(p->names[k], p->in->schema.fields[i].name) == 0) return -1;
    return (long)i;
}

/*
 * A batch's column k of a mutation (NULL: nils only so far), against the
 * type the whole input gives the field: a batch of integers after numbers
 * became numbers; anything else that differs from what went out before
 * makes the pass start again, the type then known.
 */
static jp_status_t settle_type(fnode_t *p, size_t k, jp_column_t **col, size_t nrows,
                               jp_error_t *err)
{
    fnode_t *o = p->orig;
    bool nil = !*col;
    jp_type_t want = o->preset[k] ? o->preset[k] : o->sent[k];
    if (nil) {
        jp_type_t t = want ? want : JP_TYPE_NUMBER; /* nil everywhere: numbers */
        if (!(*col = jp_column_new_nulls(t, nrows)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    jp_type_t t = (*col)->type;
    if (!want) {
        o->sent[k] = t;
        o->sent_nil[k] = nil;
        return JP_OK;
    }
    /* nils only so far went out as numbers (want is then numbers) */
    bool nils_before = !o->preset[k] && o->sent_nil[k];
    if (t == want) {
        if (!nil) o->sent_nil[k] = false;
        return JP_OK;
    }
    if (t == JP_TYPE_INT && want == JP_TYPE_NUMBER && !nils_before) {
        jp_column_t *c = jp_column_cast(*col, JP_TYPE_NUMBER, err);
        if (!c) return err ? err->code : JP_ERR_NOMEM;
        jp_column_unref(*col);
        *col = c;
        return JP_OK;
    }
    /* integers that meet a decimal, or the first value after nils: the
       field's type is known now, and the batches come again with it */
    o->preset[k] = nils_before ? t : JP_TYPE_NUMBER;
    o->retry = true;
    return jp_error_set(err, JP_ERR_INTERNAL, "%s: '%s' changed type in a later batch: read again",
                        p->verb, p->names[k]);
}

/* Run the function over p->in and keep its result as p->delegate. */
static jp_status_t run(fnode_t *p, jp_error_t *err)
{
    fnode_t *o = p->orig ? p->orig : p;
    bool batch = p->orig != NULL;
    jp_dataset_t *in = p->in;
    jp_status_t st = jp_dataset_need_rows(in, err);
    if (st) return st;
    if (batch) {
        /* the fields read so far, from the nodes below over the batch */
        size_t *idx = jp_malloc_array(o->nin ? o->nin : 1, sizeof *idx), m = 0;
        if (!idx) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t j = 0; j < o->nin; j++)
            if (o->reads[j]) idx[m++] = j;
        st = m ? jp_dataset_need(in, idx, m, err) : JP_OK;
        jp_free(idx);
        if (st) return st;
    }
    if (batch && p->row0 == 0)
        for (size_t k = 0; k < o->n; k++) {
            o->sent[k] = JP_TYPE_NONE;
            o->sent_nil[k] = false;
        }
    jp_column_t **cols = jp_calloc(p->n ? p->n : 1, sizeof *cols);
    jp_mutation_t *m = jp_calloc(p->n ? p->n : 1, sizeof *m);
    size_t *rows = NULL, nkept = 0;
    bool more = false;
    if (!cols || !m) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = o->fn.call(o->fn.ctx, in, p->row0, batch, o->reads, &more, p->n ? NULL : &rows, &nkept,
                    cols, err);
    if (st) goto done;
    if (more) {
        /* the batch lacks a field the function reads: a pass with it */
        o->retry = true;
        st = jp_error_set(err, JP_ERR_INTERNAL, "%s: the function reads more fields: read again",
                          p->verb);
        goto done;
    }
    if (!p->n) {
        p->delegate = jp_plan_take(in, p->verb, rows ? rows : (size_t[]){0}, nkept, err);
        if (!p->delegate) st = err ? err->code : JP_ERR_NOMEM;
        goto done;
    }
    for (size_t k = 0; k < p->n && !st; k++) {
        if (batch)
            st = settle_type(p, k, &cols[k], in->nrows, err);
        else if (!cols[k] && !(cols[k] = jp_column_new_nulls(JP_TYPE_NUMBER, in->nrows)))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        m[k].name = p->names[k];
        m[k].col = cols[k];
    }
    if (!st && !(p->delegate = jp_mutate(in, m, p->n, false, err)))
        st = err ? err->code : JP_ERR_NOMEM;
done:
    for (size_t k = 0; cols && k < p->n; k++) jp_column_unref(cols[k]);
    jp_free(cols);
    jp_free(m);
    jp_free(rows);
    return st;
}

/* Take field i's column (and its settled type and unit) from src's field i. */
static jp_status_t take_field(jp_dataset_t *ds, size_t i, const jp_dataset_t *src)
{
    jp_field_t *fd = &ds->schema.fields[i];
    const jp_field_t *sf = &src->schema.fields[i];
    ds->cols[i] = jp_column_ref(src->cols[i]);
    fd->type = ds->cols[i]->type;
    char *u = sf->unit ? jp_strdup(sf->unit) : NULL;
    char *uf = sf->unit_field ? jp_strdup(sf->unit_field) : NULL;
    if ((sf->unit && !u) || (sf->unit_field && !uf)) {
        jp_free(u);
        jp_free(uf);
        return JP_ERR_NOMEM;
    }
    jp_free(fd->unit);
    jp_free(fd->unit_field);
    fd->unit = u;
    fd->unit_field = uf;
    return JP_OK;
}

static jp_status_t fn_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    fnode_t *p = (fnode_t *)ds->lazy;
    jp_status_t st;
    /* a mutation's rows and fields passed through need no call of the function */
    bool made = !p->n;
    for (size_t k = 0; k < n && !made; k++) made = !ds->cols[idx[k]] && source(p, idx[k]) < 0;
    jp_dataset_t *src = p->delegate;
    if (made && !src) {
        if ((st = run(p, err))) return st;
        src = p->delegate;
    }
    if (!src) src = p->in; /* pass-through only: the same field numbers */
    if ((st = n ? jp_dataset_need(src, idx, n, err) : jp_dataset_need_rows(src, err))) return st;
    ds->nrows = src->nrows;
    for (size_t k = 0; k < n; k++)
        if (!ds->cols[idx[k]] && take_field(ds, idx[k], src))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!ds->origin && src->origin) jp_plan_copy_origin(ds, src);
    return JP_OK;
}

static jp_status_t fn_need_rows(jp_dataset_t *ds, jp_error_t *err)
{
    fnode_t *p = (fnode_t *)ds->lazy;
    bool counted = false;
    if (!p->n && !p->delegate && !p->orig) {
        jp_status_t st = jp_stream_count(ds, &counted, err);
        if (st || counted) return st;
    }
    return fn_need(ds, NULL, 0, err);
}

static const jp_lazy_ops_t fn_ops = {"function", fn_need, fn_need_rows, fn_free, NULL, NULL};

/* A node over `in` with the fields of `like` (NULL: made from in and p). */
static jp_dataset_t *node_dataset(fnode_t *p, const jp_dataset_t *like, jp_error_t *err)
{
    jp_dataset_t *in = p->in;
    jp_dataset_t *ds = jp_dataset_new_like(like ? like : in, true, err);
    if (!ds) return NULL;
    if (!like) {
        for (size_t i = 0; i < ds->schema.n_fields; i++) {
            if (source(p, i) >= 0) continue;
            /* a field made anew: no type yet, no constraints; a number
               keeps the unit of the number it replaces (known when made) */
            jp_field_t *fd = &ds->schema.fields[i];
            jp_field_t nf;
            jp_field_init(&nf);
            nf.name = fd->name;
            fd->name = NULL;
            jp_type_t t = in->schema.fields[i].type;
            if (t == JP_TYPE_NONE || jp_type_is_numeric(t)) {
                nf.unit = fd->unit;
                nf.unit_field = fd->unit_field;
                fd->unit = fd->unit_field = NULL;
            }
            jp_field_free(fd);
            *fd = nf;
        }
        for (size_t k = 0; k < p->n; k++) {
            if (jp_dataset_find(ds, p->names[k]) >= 0) continue;
            jp_field_t fd;
            jp_field_init(&fd);
            if (!(fd.name = jp_strdup(p->names[k]))) {
                jp_dataset_unref(ds);
                jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                return NULL;
            }
            jp_status_t st = jp_schema_add(&ds->schema, &fd, err);
            jp_field_free(&fd);
            if (st) {
                jp_dataset_unref(ds);
                return NULL;
            }
        }
    }
    size_t nf = ds->schema.n_fields;
    jp_column_t **cols = jp_calloc(nf ? nf : 1, sizeof *cols);
    if (!cols) {
        jp_dataset_unref(ds);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    jp_free(ds->cols);
    ds->cols = cols;
    ds->cols_cap = nf ? nf : 1;
    ds->lazy = &p->base;
    return ds;
}

static fnode_t *fnode_new(jp_dataset_t *in, const char *verb, const char *const *names, size_t n)
{
    fnode_t *p = jp_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->base.ops = &fn_ops;
    p->in = jp_dataset_ref(in);
    p->nin = in->schema.n_fields;
    p->n = n;
    p->verb = jp_strdup(verb);
    p->names = jp_calloc(n ? n : 1, sizeof *p->names);
    bool ok = p->verb && p->names;
    for (size_t k = 0; k < n && ok; k++) ok = (p->names[k] = jp_strdup(names[k])) != NULL;
    if (!ok) {
        p->n = 0;
        fn_free(&p->base);
        return NULL;
    }
    return p;
}

jp_dataset_t *jp_plan_fn(jp_dataset_t *in, const char *verb, const char *const *names, size_t n,
                         jp_rowfn_t fn, jp_error_t *err)
{
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < k; j++)
            if (strcmp(names[j], names[k]) == 0) {
                if (fn.free) fn.free(fn.ctx);
                jp_error_set(err, JP_ERR_ARG, "%s: field '%s' is set twice", verb, names[k]);
                jp_error_field(err, names[k]);
                return NULL;
            }
    fnode_t *p = fnode_new(in, verb, names, n);
    if (!p) {
        if (fn.free) fn.free(fn.ctx);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->fn = fn;
    size_t nin = p->nin ? p->nin : 1;
    p->reads = jp_calloc(nin, sizeof *p->reads);
    p->preset = jp_calloc(n ? n : 1, sizeof *p->preset);
    p->sent = jp_calloc(n ? n : 1, sizeof *p->sent);
    p->sent_nil = jp_calloc(n ? n : 1, sizeof *p->sent_nil);
    jp_dataset_t *ds = NULL;
    if (!p->reads || !p->preset || !p->sent || !p->sent_nil) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    } else if ((ds = node_dataset(p, NULL, err))) {
        return ds;
    }
    fn_free(&p->base);
    return NULL;
}

void jp_plan_fn_hint(jp_dataset_t *ds, size_t field)
{
    if (!jp_plan_fn_is(ds)) return;
    fnode_t *p = (fnode_t *)ds->lazy;
    if (!p->orig && field < p->nin) p->reads[field] = true;
}

/* ---- streaming (jp_stream.c through jp_plan.c) ------------------------------------ */

jp_dataset_t *jp_plan_fn_input(const jp_dataset_t *ds)
{
    return ((const fnode_t *)ds->lazy)->in;
}

bool jp_plan_fn_filters(const jp_dataset_t *ds)
{
    return ((const fnode_t *)ds->lazy)->n == 0;
}

void jp_plan_fn_inputs(const jp_dataset_t *ds, const bool *want, bool *in_want)
{
    const fnode_t *p = (const fnode_t *)ds->lazy;
    for (size_t i = 0; i < ds->schema.n_fields; i++) {
        long s = want[i] ? source(p, i) : -1;
        if (s >= 0) in_want[s] = true;
    }
    for (size_t j = 0; j < p->nin; j++)
        if (p->reads[j]) in_want[j] = true;
}

bool jp_plan_fn_retry(const jp_dataset_t *ds, bool clear)
{
    fnode_t *p = (fnode_t *)ds->lazy;
    bool r = p->retry;
    if (clear) p->retry = false;
    return r;
}

jp_dataset_t *jp_plan_fn_rebind(const jp_dataset_t *ds, jp_dataset_t *in, size_t row0,
                                jp_error_t *err)
{
    fnode_t *o = (fnode_t *)ds->lazy;
    fnode_t *p = fnode_new(in, o->verb, (const char *const *)o->names, o->n);
    if (!p) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->orig = o; /* outlives the batch */
    p->fn = o->fn;
    p->row0 = row0;
    p->reads = o->reads;
    p->nin = o->nin;
    jp_dataset_t *out = node_dataset(p, ds, err);
    if (!out) fn_free(&p->base);
    return out;
}
