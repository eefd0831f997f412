/*
 * jp_verbs.c - row and field verbs (filter, take, head/tail/slice, select,
 * drop, rename, mutate), concat, convert and the vector operations on
 * columns.  Lazy inputs get plan nodes (jp_plan.c) instead of work.
 *
 * Owns: these verbs.  Must never: modify an input dataset or column, print,
 * call Lua.
 */
#include "jp_verbs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_expr.h"
#include "jp_keys.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_stream.h"
#include "jp_stream_int.h"
#include "jp_unit.h"

static jp_dataset_t *nomem(jp_error_t *err)
{
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

/* Prefix a message with the verb, unless it already names it. */
static void name_verb(jp_error_t *err, const char *verb)
{
    if (!err || err->code == JP_ERR_NOMEM) return;
    size_t n = strlen(verb);
    if (strncmp(err->msg, verb, n) == 0 && err->msg[n] == ':') return;
    jp_error_prefix(err, "%s", verb);
}

/* ---- rows --------------------------------------------------------------- */

/* Rows where the expression holds, its aggregates and windows within the
 * groups g (NULL: the whole dataset); ds is eager. */
static jp_dataset_t *filter_eager(jp_dataset_t *ds, const char *expr, const jp_expr_groups_t *g,
                                  jp_error_t *err)
{
    jp_expr_t *e = jp_expr_compile(expr, &ds->schema, err);
    if (!e) {
        name_verb(err, "filter");
        return NULL;
    }
    if (jp_expr_type(e) != JP_TYPE_BOOL) {
        jp_error_set(err, JP_ERR_EXPR, "filter: \"%s\" is a %s expression, not a condition", expr,
                     jp_type_name(jp_expr_type(e)));
        jp_expr_free(e);
        return NULL;
    }
    size_t *rows, n;
    jp_status_t st = g ? jp_expr_select_groups(e, ds->cols, ds->nrows, g, &rows, &n, err)
                       : jp_expr_select(e, ds, &rows, &n, err);
    jp_expr_free(e);
    if (st) {
        name_verb(err, "filter");
        return NULL;
    }
    jp_dataset_t *out = jp_plan_gather(ds, rows, n, err);
    jp_free(rows);
    return out;
}

jp_dataset_t *jp_filter(jp_dataset_t *ds, const char *expr, jp_error_t *err)
{
    if (ds->lazy) {
        size_t n = ds->schema.n_fields;
        jp_plan_field_t *f = jp_calloc(n ? n : 1, sizeof *f);
        if (!f) return nomem(err);
        for (size_t i = 0; i < n; i++) {
            f[i].name = ds->schema.fields[i].name;
            f[i].src = (long)i;
        }
        jp_dataset_t *out = jp_plan_map(ds, "filter", f, n, expr, err);
        jp_free(f);
        return out;
    }
    return filter_eager(ds, expr, NULL, err);
}

/* The groups of the rows by the key fields, for group_by(...):mutate / :filter
 * (every column loaded: the verbs work eagerly). */
static jp_status_t group_ids(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                             jp_groups_t *g, jp_error_t *err)
{
    memset(g, 0, sizeof *g);
    if (jp_dataset_need_all(ds, err)) return err ? err->code : JP_ERR_NOMEM;
    jp_column_t **kcols = jp_malloc_array(nkeys ? nkeys : 1, sizeof *kcols);
    long *kidx = jp_malloc_array(nkeys ? nkeys : 1, sizeof *kidx);
    jp_status_t st = JP_OK;
    if (!kcols || !kidx) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < nkeys && !st; k++) {
        st = jp_dataset_lookup(ds, keys[k], "group_by", &kidx[k], err);
        for (size_t j = 0; j < k && !st; j++)
            if (kidx[j] == kidx[k])
                st = jp_error_set(err, JP_ERR_ARG, "group_by: key '%s' is named twice", keys[k]);
        if (!st) kcols[k] = ds->cols[kidx[k]];
    }
    if (!st && (st = jp_group_rows(kcols, nkeys, ds->nrows, g)))
        jp_error_set(err, st, st == JP_ERR_LIMIT ? "group_by: too many groups" : "out of memory");
    jp_free(kcols);
    jp_free(kidx);
    return st;
}

/* A group-wise verb holds every field of its input (group_ids loads them)
 * for its window and aggregate functions; out of memory says so. */
static void *groups_nomem(jp_dataset_t *ds, const char *verb, jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    jp_mem_explain(err, verb, jp_dataset_rows_known(ds), ", or select fewer fields first",
                   "the %zu field%s of the grouped rows its window and aggregate functions read",
                   nf, nf == 1 ? "" : "s");
    return NULL;
}

jp_dataset_t *jp_filter_by(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const char *expr, jp_error_t *err)
{
    if (!nkeys) return jp_filter(ds, expr, err);
    jp_groups_t g;
    if (group_ids(ds, keys, nkeys, &g, err)) return groups_nomem(ds, "filter", err);
    jp_expr_groups_t eg = {g.gid, g.ngroups};
    jp_dataset_t *out = filter_eager(ds, expr, &eg, err);
    jp_groups_free(&g);
    return out ? out : groups_nomem(ds, "filter", err);
}

jp_dataset_t *jp_take(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    if (jp_dataset_need_rows(ds, err)) return NULL;
    for (size_t k = 0; k < n; k++)
        if (idx[k] >= ds->nrows) {
            jp_error_set(err, JP_ERR_ARG, "take: row %zu is past the end (%zu rows)", idx[k] + 1,
                         ds->nrows);
            return NULL;
        }
    if (ds->lazy) return jp_plan_take(ds, "take", idx, n, err);
    return jp_plan_gather(ds, idx, n, err);
}

static jp_dataset_t *range(jp_dataset_t *ds, const char *verb, size_t from, size_t n, bool tail,
                           jp_error_t *err)
{
    if (ds->lazy) return jp_plan_range(ds, verb, from, n, tail, err);
    size_t rows = ds->nrows;
    if (tail) from = n < rows ? rows - n : 0;
    if (from > rows) from = rows;
    if (n > rows - from) n = rows - from;
    jp_dataset_t *out = jp_dataset_new_like(ds, true, err);
    if (!out) return NULL;
    for (size_t i = 0; i < ds->schema.n_fields; i++) {
        jp_column_t *c = ds->cols[i];
        out->cols[i] = (from == 0 && n == rows) ? jp_column_ref(c) : jp_column_slice(c, from, n);
        if (!out->cols[i]) {
            jp_dataset_unref(out);
            return nomem(err);
        }
    }
    out->nrows = n;
    if (ds->origin) {
        jp_column_t *lines = NULL;
        if (ds->lines && !(lines = jp_column_slice(ds->lines, from, n))) {
            jp_dataset_unref(out);
            return nomem(err);
        }
        jp_dataset_set_origin(out, ds->origin, lines);
        if (!ds->lines && ds->first_line) out->first_line = ds->first_line + (long)from;
    }
    return out;
}

jp_dataset_t *jp_head(jp_dataset_t *ds, size_t n, jp_error_t *err)
{
    /* the head of a sort is a top-N: only n rows are ever ordered */
    if (n && jp_sort_is_plan(ds)) return jp_sort_limit(ds, n, err);
    return range(ds, "head", 0, n, false, err);
}

jp_dataset_t *jp_tail(jp_dataset_t *ds, size_t n, jp_error_t *err)
{
    return range(ds, "tail", 0, n, true, err);
}

jp_dataset_t *jp_slice(jp_dataset_t *ds, size_t from, size_t n, jp_error_t *err)
{
    if (n && from < SIZE_MAX - n && jp_sort_is_plan(ds)) {
        /* rows [from, from + n) of a sort: the top from + n, then the slice */
        jp_dataset_t *top = jp_sort_limit(ds, from + n, err);
        if (!top) return NULL;
        jp_dataset_t *out = range(top, "slice", from, n, false, err);
        jp_dataset_unref(top);
        return out;
    }
    return range(ds, "slice", from, n, false, err);
}

/* ---- fields ------------------------------------------------------------- */

/* Keep the primary key when all of its fields survive (under new names). */
static jp_status_t carry_key(jp_dataset_t *out, const jp_dataset_t *in, const long *src,
                             const char *const *names, size_t n)
{
    const jp_schema_t *s = &in->schema;
    if (!s->n_primary_key) return JP_OK;
    char **pk = jp_calloc(s->n_primary_key, sizeof *pk);
    if (!pk) return JP_ERR_NOMEM;
    size_t k;
    for (k = 0; k < s->n_primary_key; k++) {
        long f = jp_schema_find(s, s->primary_key[k]);
        size_t j;
        for (j = 0; j < n && src[j] != f; j++) {
        }
        if (j == n) break;
        if (!(pk[k] = jp_strdup(names[j]))) {
            k = 0;
            break;
        }
    }
    if (k < s->n_primary_key) {
        for (size_t j = 0; j < s->n_primary_key; j++) jp_free(pk[j]);
        jp_free(pk);
        return JP_OK;
    }
    out->schema.primary_key = pk;
    out->schema.n_primary_key = s->n_primary_key;
    return JP_OK;
}

/*
 * A field whose unit is given per row by another field (unit_field) must
 * not outlive that field: when the projection keeps it, the reference
 * follows its new name; when it drops it, the field gets the one unit all
 * its non-null rows share, or no unit when they differ.  (An exported or
 * written dataset must never name a unit field it does not have.)
 */
static jp_status_t project_unit(jp_dataset_t *ds, const jp_field_t *f, long self, const long *src,
                                const char *const *names, size_t n, jp_field_t *fd)
{
    if (!f->unit_field) return JP_OK;
    long uf = jp_dataset_find(ds, f->unit_field);
    jp_free(fd->unit_field);
    fd->unit_field = NULL;
    for (size_t k = 0; k < n; k++)
        if (src[k] == uf) {
            fd->unit_field = jp_strdup(names[k]);
            return fd->unit_field ? JP_OK : JP_ERR_NOMEM;
        }
    const jp_column_t *u = uf >= 0 ? ds->cols[uf] : NULL, *v = ds->cols[self];
    if (!u || !v || u->type != JP_TYPE_STRING) return JP_OK;
    /* the same unit may be spelt two ways (亩, mu): compare canonical names */
    char canon[64] = "", other[64] = "";
    const char *unit = NULL;
    uint32_t code = 0;
    for (size_t i = 0; i < ds->nrows; i++) {
        if (jp_column_is_null(v, i)) continue;
        if (jp_column_is_null(u, i)) return JP_OK;
        if (unit && u->v.s[i] == code) continue;
        const char *c = jp_unit_canonical(jp_strdict_get(u->dict, u->v.s[i], NULL),
                                          unit ? other : canon, sizeof canon);
        if (!c || (unit && strcmp(c, unit) != 0)) return JP_OK;
        if (!unit) unit = c;
        code = u->v.s[i];
    }
    if (!unit) return JP_OK;
    jp_free(fd->unit);
    fd->unit = jp_strdup(unit);
    return fd->unit ? JP_OK : JP_ERR_NOMEM;
}

/* Fields src[k] of ds named names[k], same rows. */
static jp_dataset_t *project(jp_dataset_t *ds, const char *verb, const long *src,
                             const char *const *names, size_t n, jp_error_t *err)
{
    if (ds->lazy) {
        jp_plan_field_t *f = jp_calloc(n ? n : 1, sizeof *f);
        if (!f) return nomem(err);
        for (size_t k = 0; k < n; k++) {
            f[k].name = names[k];
            f[k].src = src[k];
        }
        jp_dataset_t *out = jp_plan_map(ds, verb, f, n, NULL, err);
        jp_free(f);
        return out;
    }
    jp_dataset_t *out = jp_dataset_new_like(ds, false, err);
    if (!out) return NULL;
    for (size_t k = 0; k < n; k++) {
        jp_field_t fd;
        if (jp_field_copy(&fd, &ds->schema.fields[src[k]])) goto nomem;
        jp_free(fd.name);
        fd.name = jp_strdup(names[k]);
        if (project_unit(ds, &ds->schema.fields[src[k]], src[k], src, names, n, &fd)) {
            jp_field_free(&fd);
            goto nomem;
        }
        jp_status_t st = fd.name
                             ? jp_dataset_add_column(out, &fd, jp_column_ref(ds->cols[src[k]]), err)
                             : JP_ERR_NOMEM;
        jp_field_free(&fd);
        if (st == JP_ERR_NOMEM) goto nomem;
        if (st) {
            name_verb(err, verb);
            jp_dataset_unref(out);
            return NULL;
        }
    }
    out->nrows = ds->nrows;
    if (carry_key(out, ds, src, names, n)) goto nomem;
    jp_plan_copy_origin(out, ds);
    return out;
nomem:
    jp_dataset_unref(out);
    return nomem(err);
}

jp_dataset_t *jp_select(jp_dataset_t *ds, const char *const *names, size_t n, jp_error_t *err)
{
    long *src = jp_malloc_array(n ? n : 1, sizeof *src);
    if (!src) return nomem(err);
    for (size_t k = 0; k < n; k++) {
        if (jp_dataset_lookup(ds, names[k], "select", &src[k], err)) {
            jp_free(src);
            return NULL;
        }
        for (size_t j = 0; j < k; j++)
            if (src[j] == src[k]) {
                jp_error_set(err, JP_ERR_ARG, "select: field '%s' is named twice", names[k]);
                jp_error_field(err, names[k]);
                jp_free(src);
                return NULL;
            }
    }
    jp_dataset_t *out = project(ds, "select", src, names, n, err);
    jp_free(src);
    return out;
}

jp_dataset_t *jp_named(jp_dataset_t *ds, const char *name, jp_error_t *err)
{
    if (!name || !*name) {
        jp_error_set(err, JP_ERR_ARG, "named: a dataset's name must not be empty");
        return NULL;
    }
    jp_dataset_t *out = jp_drop(ds, NULL, 0, err); /* every field, shared */
    if (!out) return NULL;
    char *nm = jp_strdup(name);
    if (!nm) {
        jp_dataset_unref(out);
        return nomem(err);
    }
    jp_free(out->meta.name);
    out->meta.name = nm;
    return out;
}

jp_dataset_t *jp_drop(jp_dataset_t *ds, const char *const *names, size_t n, jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    bool *gone = jp_calloc(nf ? nf : 1, sizeof *gone);
    long *src = jp_malloc_array(nf ? nf : 1, sizeof *src);
    const char **nm = jp_malloc_array(nf ? nf : 1, sizeof *nm);
    jp_dataset_t *out = NULL;
    if (!gone || !src || !nm) {
        nomem(err);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        long i;
        if (jp_dataset_lookup(ds, names[k], "drop", &i, err)) goto done;
        gone[i] = true;
    }
    size_t m = 0;
    for (size_t i = 0; i < nf; i++)
        if (!gone[i]) {
            src[m] = (long)i;
            nm[m++] = ds->schema.fields[i].name;
        }
    out = project(ds, "drop", src, nm, m, err);
done:
    jp_free(gone);
    jp_free(src);
    jp_free(nm);
    return out;
}

jp_dataset_t *jp_rename(jp_dataset_t *ds, const char *const *from, const char *const *to, size_t n,
                        jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    long *src = jp_malloc_array(nf ? nf : 1, sizeof *src);
    const char **nm = jp_malloc_array(nf ? nf : 1, sizeof *nm);
    jp_dataset_t *out = NULL;
    if (!src || !nm) {
        nomem(err);
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        src[i] = (long)i;
        nm[i] = ds->schema.fields[i].name;
    }
    for (size_t k = 0; k < n; k++) {
        long i;
        if (jp_dataset_lookup(ds, from[k], "rename", &i, err)) goto done;
        if (!to[k] || !to[k][0]) {
            jp_error_set(err, JP_ERR_ARG, "rename: empty new name for field '%s'", from[k]);
            goto done;
        }
        nm[i] = to[k];
    }
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(nm[i], nm[j]) == 0) {
                jp_error_set(err, JP_ERR_ARG, "rename: two fields would be named '%s'", nm[i]);
                jp_error_field(err, nm[i]);
                goto done;
            }
    out = project(ds, "rename", src, nm, nf, err);
done:
    jp_free(src);
    jp_free(nm);
    return out;
}

/* ---- mutate -------------------------------------------------------------- */

/* ds with field `name` set to col (replaced in place or appended), in `unit`
 * or in the per-row unit of field `unit_field` (both may be NULL). */
static jp_dataset_t *with_column(jp_dataset_t *ds, const char *name, jp_column_t *col,
                                 const char *unit, const char *unit_field, jp_error_t *err)
{
    jp_dataset_t *out = jp_dataset_new_like(ds, false, err);
    if (!out) {
        jp_column_unref(col);
        return NULL;
    }
    bool placed = false;
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < ds->schema.n_fields && !st; i++) {
        const jp_field_t *sf = &ds->schema.fields[i];
        if (strcmp(sf->name, name) != 0) {
            st = jp_dataset_add_column(out, sf, jp_column_ref(ds->cols[i]), err);
            continue;
        }
        /* the values changed: keep what describes the field, drop the rest */
        jp_field_t fd;
        jp_field_init(&fd);
        fd.name = sf->name;
        fd.type = col->type;
        fd.unit = (char *)unit;
        fd.unit_field = (char *)unit_field;
        fd.title = sf->title;
        fd.description = sf->description;
        fd.source = sf->source;
        st = jp_dataset_add_column(out, &fd, col, err);
        placed = true;
    }
    if (!placed && !st && unit_field) {
        jp_field_t fd;
        jp_field_init(&fd);
        fd.name = (char *)name;
        fd.type = col->type;
        fd.unit_field = (char *)unit_field;
        st = jp_dataset_add_column(out, &fd, col, err);
    } else if (!placed && !st)
        st = jp_dataset_add(out, name, col, unit, err);
    else if (!placed)
        jp_column_unref(col);
    if (st) {
        jp_dataset_unref(out);
        return NULL;
    }
    out->nrows = ds->nrows;
    if (ds->schema.n_primary_key) {
        /* a key survives when none of its fields was replaced */
        bool touched = false;
        for (size_t k = 0; k < ds->schema.n_primary_key; k++)
            touched |= strcmp(ds->schema.primary_key[k], name) == 0;
        if (!touched) {
            long *src = jp_malloc_array(ds->schema.n_fields, sizeof *src);
            const char **nm = jp_malloc_array(ds->schema.n_fields, sizeof *nm);
            if (!src || !nm) {
                jp_free(src);
                jp_free(nm);
                jp_dataset_unref(out);
                return nomem(err);
            }
            for (size_t i = 0; i < ds->schema.n_fields; i++) {
                src[i] = (long)i;
                nm[i] = ds->schema.fields[i].name;
            }
            st = carry_key(out, ds, src, nm, ds->schema.n_fields);
            jp_free(src);
            jp_free(nm);
            if (st) {
                jp_dataset_unref(out);
                return nomem(err);
            }
        }
    }
    jp_plan_copy_origin(out, ds);
    return out;
}

static bool check_mutations(jp_dataset_t *ds, const jp_mutation_t *m, size_t n, jp_error_t *err)
{
    for (size_t k = 0; k < n; k++) {
        if (!m[k].name || !m[k].name[0]) {
            jp_error_set(err, JP_ERR_ARG, "mutate: a new field needs a name");
            return false;
        }
        if (!m[k].expr == !m[k].col) {
            jp_error_set(err, JP_ERR_ARG, "mutate: field '%s' needs an expression or a column",
                         m[k].name);
            jp_error_field(err, m[k].name);
            return false;
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(m[j].name, m[k].name) == 0) {
                jp_error_set(err, JP_ERR_ARG, "mutate: field '%s' is set twice", m[k].name);
                jp_error_field(err, m[k].name);
                return false;
            }
        if (m[k].col) {
            if (jp_dataset_need_rows(ds, err)) return false;
            if (m[k].col->len != ds->nrows) {
                jp_error_set(err, JP_ERR_ARG,
                             "mutate: column for '%s' has %zu values but the "
                             "dataset has %zu rows",
                             m[k].name, m[k].col->len, ds->nrows);
                jp_error_field(err, m[k].name);
                return false;
            }
        }
    }
    return true;
}

/* The field whose unit a ready column without a unit keeps when it replaces
 * it (numbers for numbers), or NULL. */
static const jp_field_t *kept_unit(const jp_dataset_t *ds, const jp_mutation_t *m)
{
    if (m->unit || !m->col || !jp_type_is_numeric(m->col->type)) return NULL;
    long i = jp_dataset_find(ds, m->name);
    if (i < 0) return NULL;
    const jp_field_t *f = &ds->schema.fields[i];
    return jp_type_is_numeric(f->type) && (f->unit || f->unit_field) ? f : NULL;
}

/* One plan node with all mutations compiled against its input. */
static jp_dataset_t *mutate_plan(jp_dataset_t *ds, const jp_mutation_t *m, size_t n,
                                 jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    jp_plan_field_t *f = jp_calloc(nf + n + 1, sizeof *f);
    if (!f) return nomem(err);
    size_t cnt = nf;
    for (size_t i = 0; i < nf; i++) {
        f[i].name = ds->schema.fields[i].name;
        f[i].src = (long)i;
    }
    for (size_t k = 0; k < n; k++) {
        long i = jp_dataset_find(ds, m[k].name);
        jp_plan_field_t *t = &f[i >= 0 ? (size_t)i : cnt++];
        t->name = m[k].name;
        t->src = -1;
        t->expr = m[k].expr;
        t->col = m[k].col;
        t->unit = m[k].unit;
        const jp_field_t *kept = kept_unit(ds, &m[k]);
        if (kept) {
            t->unit = kept->unit;
            t->unit_field = kept->unit_field;
        }
    }
    jp_dataset_t *out = jp_plan_map(ds, "mutate", f, cnt, NULL, err);
    jp_free(f);
    return out;
}

/* Each mutation in turn over an eager (or loadable) dataset, aggregates
 * and windows within the groups g (NULL: the whole dataset). */
static jp_dataset_t *mutate_eager(jp_dataset_t *ds, const jp_mutation_t *m, size_t n,
                                  bool sequential, const jp_expr_groups_t *g, jp_error_t *err)
{
    jp_dataset_t *cur = jp_dataset_ref(ds);
    for (size_t k = 0; k < n; k++) {
        jp_column_t *col;
        const char *unit = m[k].unit, *unit_field = NULL;
        jp_expr_t *e = NULL;
        if (m[k].expr) {
            jp_dataset_t *against = sequential ? cur : ds;
            e = jp_expr_compile(m[k].expr, &against->schema, err);
            if (!e) {
                name_verb(err, "mutate");
                jp_dataset_unref(cur);
                return NULL;
            }
            col = g ? jp_expr_eval_groups(e, against->cols, against->nrows, g, err)
                    : jp_expr_eval(e, against, err);
            unit = jp_expr_unit(e);
            unit_field = jp_expr_unit_field(e);
            if (!col) {
                name_verb(err, "mutate");
                jp_expr_free(e);
                jp_dataset_unref(cur);
                return NULL;
            }
        } else {
            col = jp_column_ref(m[k].col);
            const jp_field_t *kept = kept_unit(cur, &m[k]);
            if (kept) {
                unit = kept->unit;
                unit_field = kept->unit_field;
            }
        }
        jp_dataset_t *next = with_column(cur, m[k].name, col, unit, unit_field, err);
        jp_expr_free(e);
        jp_dataset_unref(cur);
        if (!next) {
            name_verb(err, "mutate");
            return NULL;
        }
        cur = next;
    }
    return cur;
}

jp_dataset_t *jp_mutate(jp_dataset_t *ds, const jp_mutation_t *m, size_t n, bool sequential,
                        jp_error_t *err)
{
    if (!check_mutations(ds, m, n, err)) return NULL;
    if (ds->lazy) {
        if (!sequential) return mutate_plan(ds, m, n, err);
        jp_dataset_t *cur = jp_dataset_ref(ds);
        for (size_t k = 0; k < n && cur; k++) {
            jp_dataset_t *next = mutate_plan(cur, &m[k], 1, err);
            jp_dataset_unref(cur);
            cur = next;
        }
        return cur;
    }
    return mutate_eager(ds, m, n, sequential, NULL, err);
}

jp_dataset_t *jp_mutate_by(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const jp_mutation_t *m, size_t n, bool sequential, jp_error_t *err)
{
    if (!nkeys) return jp_mutate(ds, m, n, sequential, err);
    if (!check_mutations(ds, m, n, err)) return NULL;
    jp_groups_t g;
    if (group_ids(ds, keys, nkeys, &g, err)) return groups_nomem(ds, "mutate", err);
    jp_expr_groups_t eg = {g.gid, g.ngroups};
    jp_dataset_t *out = mutate_eager(ds, m, n, sequential, &eg, err);
    jp_groups_free(&g);
    return out ? out : groups_nomem(ds, "mutate", err);
}

/* ---- concat --------------------------------------------------------------- */

static bool same_unit(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

jp_status_t jp_concat_check(jp_dataset_t *const *list, size_t n, long *map, jp_error_t *err)
{
    const jp_dataset_t *a = list[0];
    size_t nf = a->schema.n_fields;
    for (size_t i = 0; i < nf; i++) map[i] = (long)i;
    for (size_t d = 1; d < n; d++) {
        const jp_dataset_t *b = list[d];
        if (b->schema.n_fields != nf) {
            for (size_t i = 0; i < b->schema.n_fields; i++)
                if (jp_dataset_find(a, b->schema.fields[i].name) < 0) {
                    jp_error_set(err, JP_ERR_ARG,
                                 "concat: field '%s' of dataset %zu is not in the first dataset",
                                 b->schema.fields[i].name, d + 1);
                    jp_error_field(err, b->schema.fields[i].name);
                    return JP_ERR_ARG;
                }
        }
        for (size_t i = 0; i < nf; i++) {
            const jp_field_t *fa = &a->schema.fields[i];
            long j = jp_dataset_find(b, fa->name);
            if (j < 0) {
                jp_error_set(err, JP_ERR_ARG, "concat: dataset %zu has no field '%s'", d + 1,
                             fa->name);
                jp_error_field(err, fa->name);
                return JP_ERR_ARG;
            }
            const jp_field_t *fb = &b->schema.fields[j];
            map[d * nf + i] = j;
            /* a type not known yet (a lazy file's) is checked when it is */
            if (fa->type != fb->type && fa->type != JP_TYPE_NONE && fb->type != JP_TYPE_NONE &&
                !(jp_type_is_numeric(fa->type) && jp_type_is_numeric(fb->type))) {
                jp_error_set(err, JP_ERR_TYPE,
                             "concat: field '%s' is %s in dataset 1 but %s in dataset %zu",
                             fa->name, jp_type_name(fa->type), jp_type_name(fb->type), d + 1);
                jp_error_field(err, fa->name);
                return JP_ERR_TYPE;
            }
            if (!same_unit(fa->unit, fb->unit)) {
                jp_error_set(err, JP_ERR_UNIT,
                             "concat: field '%s' is in %s in dataset 1 but in %s in dataset %zu "
                             "(convert one first)",
                             fa->name, fa->unit ? fa->unit : "no unit",
                             fb->unit ? fb->unit : "no unit", d + 1);
                jp_error_field(err, fa->name);
                return JP_ERR_UNIT;
            }
        }
    }
    return JP_OK;
}

jp_dataset_t *jp_concat(jp_dataset_t *const *list, size_t n, jp_error_t *err)
{
    if (n == 0) {
        jp_error_set(err, JP_ERR_ARG, "concat: no datasets");
        return NULL;
    }
    /* pipelines over files that stream: the parts stream in turn */
    bool lazy = n > 1;
    for (size_t d = 0; d < n && lazy; d++) lazy = list[d]->lazy && jp_stream_possible(list[d]);
    if (lazy) return jp_stream_concat_plan(list, n, err);
    return jp_concat_loaded(list, n, err);
}

jp_dataset_t *jp_concat_loaded(jp_dataset_t *const *list, size_t n, jp_error_t *err)
{
    for (size_t d = 0; d < n; d++)
        if (jp_dataset_need_all(list[d], err)) return NULL;
    const jp_dataset_t *a = list[0];
    size_t nf = a->schema.n_fields;
    long *map = jp_malloc_array((nf ? nf : 1) * n, sizeof *map);
    jp_dataset_t *out = NULL;
    if (!map) return nomem(err);
    /* check names, types and units; choose each field's type */
    if (jp_concat_check(list, n, map, err)) goto done;
    out = jp_dataset_new_like(a, true, err);
    if (!out) goto done;
    size_t total = 0;
    for (size_t d = 0; d < n; d++) total += list[d]->nrows;
    for (size_t i = 0; i < nf; i++) {
        jp_type_t t = a->schema.fields[i].type;
        for (size_t d = 1; d < n; d++)
            if (list[d]->schema.fields[map[d * nf + i]].type != t) t = JP_TYPE_NUMBER;
        out->schema.fields[i].type = t;
        jp_column_t *c = NULL;
        for (size_t d = 0; d < n; d++) {
            jp_column_t *src = list[d]->cols[map[d * nf + i]];
            jp_column_t *piece = src->type == t ? jp_column_ref(src) : jp_column_cast(src, t, err);
            if (!piece) goto fail;
            if (!c) {
                /* a private copy to append to */
                c = jp_column_copy(piece);
                jp_column_unref(piece);
                if (!c || jp_column_reserve(c, total)) goto fail_nomem;
                continue;
            }
            jp_status_t st = jp_column_append(c, piece, err);
            jp_column_unref(piece);
            if (st) {
                jp_column_unref(c);
                goto fail;
            }
        }
        out->cols[i] = c;
        continue;
    fail_nomem:
        jp_column_unref(c);
        nomem(err);
    fail:
        jp_dataset_unref(out);
        out = NULL;
        goto done;
    }
    out->nrows = total;
done:
    jp_free(map);
    return out;
}

/* ---- convert ---------------------------------------------------------------- */

jp_column_t *jp_convert_column(const jp_column_t *c, const jp_unit_conv_t *cv, bool allow_int,
                               bool *overflow, jp_error_t *err)
{
    double k = cv->factor;
    size_t n = c->len;
    jp_column_t *out = NULL;
    bool keep_int = allow_int && c->type == JP_TYPE_INT && k == floor(k) && fabs(k) < 9.0e15;
    *overflow = false;
    if (keep_int) {
        out = jp_column_copy(c);
        if (!out) {
            nomem(err);
            return NULL;
        }
        int64_t m = (int64_t)k;
        for (size_t i = 0; i < n && keep_int; i++) {
            if (jp_column_is_null(c, i)) continue;
            if (__builtin_mul_overflow(c->v.i[i], m, &out->v.i[i])) keep_int = false;
        }
        if (!keep_int) {
            *overflow = true;
            jp_column_unref(out);
        }
    }
    if (!keep_int) {
        out = jp_column_cast(c, JP_TYPE_NUMBER, err); /* always a private copy */
        if (!out) return NULL;
        for (size_t i = 0; i < n; i++) out->v.d[i] = jp_unit_apply(cv, out->v.d[i]);
    }
    return out;
}

jp_status_t jp_convert_rows(const jp_dataset_t *ds, const jp_column_t *c, const jp_column_t *uc,
                            const char *field, const char *unit_field, const char *to, size_t row0,
                            jp_column_t **outp, jp_column_t **unitsp, jp_error_t *err)
{
    *outp = *unitsp = NULL;
    if (uc->type != JP_TYPE_STRING) {
        jp_error_set(err, JP_ERR_TYPE, "convert: unit field '%s' is %s, not a string", unit_field,
                     jp_type_name(uc->type));
        return JP_ERR_TYPE;
    }
    size_t n = c->len;
    jp_unit_conv_t *fac = jp_malloc_array(uc->dict->count ? uc->dict->count : 1, sizeof *fac);
    uint8_t *known = jp_calloc(uc->dict->count ? uc->dict->count : 1, 1);
    jp_column_t *out = jp_column_cast(c, JP_TYPE_NUMBER, err);
    jp_column_t *units = jp_column_new(JP_TYPE_STRING, n);
    if (!fac || !known || !out || !units) {
        jp_free(fac);
        jp_free(known);
        jp_column_unref(out);
        jp_column_unref(units);
        nomem(err);
        return JP_ERR_NOMEM;
    }
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (jp_column_is_null(c, i)) {
            st = jp_column_is_null(uc, i) ? jp_column_push_null(units)
                                          : jp_column_push_str(units, to, strlen(to));
            continue;
        }
        if (jp_column_is_null(uc, i)) {
            st = jp_error_set(err, JP_ERR_UNIT,
                              "convert: row %zu of field '%s' has a value but "
                              "no unit in '%s'",
                              row0 + i + 1, field, unit_field);
            jp_error_row(err, (long)(row0 + i) + 1);
            jp_error_field(err, field);
            break;
        }
        uint32_t code = uc->v.s[i];
        if (!known[code]) {
            size_t len;
            const char *s = jp_strdict_get(uc->dict, code, &len);
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(len < 127 ? len : 127), s);
            jp_error_t e2;
            if (jp_unit_conversion(name, to, &fac[code], &e2)) {
                st = jp_error_set(err, JP_ERR_UNIT, "convert: row %zu of field '%s': %s",
                                  row0 + i + 1, field, e2.msg);
                jp_error_row(err, (long)(row0 + i) + 1);
                jp_error_field(err, field);
                long line = jp_dataset_row_line(ds, i);
                if (line && ds->origin) jp_error_at(err, ds->origin, line, 0);
                break;
            }
            known[code] = 1;
        }
        out->v.d[i] = jp_unit_apply(&fac[code], out->v.d[i]);
        st = jp_column_push_str(units, to, strlen(to));
    }
    jp_free(fac);
    jp_free(known);
    if (st) {
        if (st == JP_ERR_NOMEM) nomem(err);
        jp_column_unref(out);
        jp_column_unref(units);
        return st;
    }
    *outp = out;
    *unitsp = units;
    return JP_OK;
}

jp_dataset_t *jp_convert(jp_dataset_t *ds, const char *field, const char *unit, jp_error_t *err)
{
    long fi;
    if (jp_dataset_lookup(ds, field, "convert", &fi, err)) return NULL;
    const jp_field_t *f = &ds->schema.fields[fi];
    char ubuf[64];
    const char *to = jp_unit_canonical(unit, ubuf, sizeof ubuf);
    if (!to) {
        char hint[96];
        jp_error_set(err, JP_ERR_UNIT, "convert: unknown unit '%s'%s", unit,
                     jp_unit_hint(unit, hint, sizeof hint));
        jp_error_field(err, field);
        return NULL;
    }
    long uf = -1;
    if (f->unit_field) {
        if (jp_dataset_lookup(ds, f->unit_field, "convert", &uf, err)) return NULL;
    }
    if (ds->lazy && jp_stream_possible(ds)) {
        /* a pipeline that streams: a node that converts each batch */
        if (f->type != JP_TYPE_NONE && !jp_type_is_numeric(f->type)) {
            jp_error_set(err, JP_ERR_TYPE, "convert: field '%s' is %s, not a number", field,
                         jp_type_name(f->type));
            jp_error_field(err, field);
            return NULL;
        }
        jp_unit_conv_t cv;
        memset(&cv, 0, sizeof cv);
        if (uf < 0 && !f->unit) {
            jp_error_set(err, JP_ERR_UNIT, "convert: field '%s' has no unit to convert from",
                         field);
            jp_error_field(err, field);
            return NULL;
        }
        if (uf < 0 && jp_unit_conversion(f->unit, to, &cv, err)) {
            name_verb(err, "convert");
            jp_error_field(err, field);
            return NULL;
        }
        return jp_plan_convert(ds, (size_t)fi, uf, to, &cv, err);
    }
    size_t need[2] = {(size_t)fi, (size_t)(uf >= 0 ? uf : fi)};
    if (jp_dataset_need(ds, need, 2, err) || jp_dataset_need_all(ds, err)) return NULL;
    f = &ds->schema.fields[fi];
    if (!jp_type_is_numeric(f->type)) {
        jp_error_set(err, JP_ERR_TYPE, "convert: field '%s' is %s, not a number", field,
                     jp_type_name(f->type));
        jp_error_field(err, field);
        return NULL;
    }
    const jp_column_t *c = ds->cols[fi];
    if (uf < 0) {
        if (!f->unit) {
            jp_error_set(err, JP_ERR_UNIT, "convert: field '%s' has no unit to convert from",
                         field);
            jp_error_field(err, field);
            return NULL;
        }
        jp_unit_conv_t cv;
        if (jp_unit_conversion(f->unit, to, &cv, err)) {
            name_verb(err, "convert");
            jp_error_field(err, field);
            return NULL;
        }
        bool overflow;
        jp_column_t *out = jp_convert_column(c, &cv, true, &overflow, err);
        if (!out) return NULL;
        return with_column(ds, field, out, to, NULL, err);
    }
    /* per-row units */
    jp_column_t *out, *units;
    if (jp_convert_rows(ds, c, ds->cols[uf], field, f->unit_field, to, 0, &out, &units, err))
        return NULL;
    /* the value field keeps its unit_field; the unit column now says `to` */
    jp_dataset_t *tmp = with_column(ds, f->unit_field, units, NULL, NULL, err);
    if (!tmp) {
        jp_column_unref(out);
        return NULL;
    }
    jp_dataset_t *res = with_column(tmp, field, out, NULL, f->unit_field, err);
    jp_dataset_unref(tmp);
    return res;
}

/* ---- vector operations ---------------------------------------------------- */

jp_status_t jp_vec_need_numeric(jp_type_t t, const char *op, const char *what, jp_error_t *err)
{
    if (jp_type_is_numeric(t)) return JP_OK;
    jp_status_t st;
    if (what && what[0])
        st = jp_error_set(err, JP_ERR_TYPE, "%s: field '%s' is %s, not a number", op, what,
                          jp_type_name(t));
    else
        st = jp_error_set(err, JP_ERR_TYPE, "%s: the column is %s, not a number", op,
                          jp_type_name(t));
    if (what && what[0]) jp_error_field(err, what);
    return st;
}

jp_status_t jp_vec_overflow(const char *what, jp_error_t *err)
{
    return jp_error_set(err, JP_ERR_RANGE,
                        "sum: the integers of %s%s%s overflow (use a number field)",
                        what ? "field '" : "the column", what ? what : "", what ? "'" : "");
}

static jp_status_t need_numeric(const jp_column_t *c, const char *op, const char *what,
                                jp_error_t *err)
{
    return jp_vec_need_numeric(c->type, op, what, err);
}

size_t jp_vec_count(const jp_column_t *c)
{
    return c->len - jp_column_null_count(c);
}

/* Neumaier's compensated sum: the error stays at one rounding however
 * long the column, so results agree with other tools to the last digits. */
static double dsum(const double *v, const uint8_t *nulls, size_t n, size_t *cnt)
{
    double s = 0, comp = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (nulls && nulls[i]) continue;
        double x = v[i], t = s + x;
        if (fabs(s) >= fabs(x))
            comp += (s - t) + x;
        else
            comp += (x - t) + s;
        s = t;
        m++;
    }
    *cnt = m;
    return s + comp;
}

static jp_qual_t col_qual(const jp_column_t *c)
{
    if (!c->quals) return JP_Q_EXACT;
    jp_qual_t q = JP_Q_EXACT;
    for (size_t i = 0; i < c->len; i++)
        if (c->quals[i] && !jp_column_is_null(c, i)) q = jp_qual_combine(q, (jp_qual_t)c->quals[i]);
    return q;
}

jp_status_t jp_vec_sum(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (need_numeric(c, "sum", what, err)) return err ? err->code : JP_ERR_TYPE;
    out->type = c->type;
    size_t cnt = 0;
    if (c->type == JP_TYPE_NUMBER) {
        out->u.d = dsum(c->v.d, c->nulls, c->len, &cnt);
    } else {
        int64_t s = 0;
        for (size_t i = 0; i < c->len; i++) {
            if (jp_column_is_null(c, i)) continue;
            cnt++;
            if (__builtin_add_overflow(s, c->v.i[i], &s)) return jp_vec_overflow(what, err);
        }
        out->u.i = s;
    }
    out->is_null = cnt == 0;
    out->qual = out->is_null ? JP_Q_EXACT : col_qual(c);
    return JP_OK;
}

jp_status_t jp_vec_mean(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (need_numeric(c, "mean", what, err)) return err ? err->code : JP_ERR_TYPE;
    out->type = JP_TYPE_NUMBER;
    size_t cnt = 0;
    double s;
    if (c->type == JP_TYPE_NUMBER)
        s = dsum(c->v.d, c->nulls, c->len, &cnt);
    else {
        /* integers: exact in a long double-free way: split high and low parts */
        double hi = 0, comp = 0;
        for (size_t i = 0; i < c->len; i++) {
            if (jp_column_is_null(c, i)) continue;
            double x = (double)c->v.i[i], t = hi + x;
            if (fabs(hi) >= fabs(x))
                comp += (hi - t) + x;
            else
                comp += (x - t) + hi;
            hi = t;
            cnt++;
        }
        s = hi + comp;
    }
    out->is_null = cnt == 0;
    out->u.d = cnt ? s / (double)cnt : 0;
    out->qual = out->is_null ? JP_Q_EXACT : col_qual(c);
    return JP_OK;
}

static jp_status_t vec_minmax(const jp_column_t *c, bool mx, const char *what, jp_value_t *out,
                              jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->type = c->type;
    out->is_null = true;
    if (c->type == JP_TYPE_NONE) return JP_OK;
    size_t best = JP_NO_ROW;
    (void)what;
    (void)err;
    if (c->type == JP_TYPE_NUMBER) {
        /* NaN never wins */
        for (size_t i = 0; i < c->len; i++) {
            if (jp_column_is_null(c, i) || isnan(c->v.d[i])) continue;
            if (best == JP_NO_ROW || (mx ? c->v.d[i] > c->v.d[best] : c->v.d[i] < c->v.d[best]))
                best = i;
        }
    } else if (c->type == JP_TYPE_INT) {
        for (size_t i = 0; i < c->len; i++) {
            if (jp_column_is_null(c, i)) continue;
            if (best == JP_NO_ROW || (mx ? c->v.i[i] > c->v.i[best] : c->v.i[i] < c->v.i[best]))
                best = i;
        }
    } else {
        for (size_t i = 0; i < c->len; i++) {
            if (jp_column_is_null(c, i)) continue;
            int r = best == JP_NO_ROW ? 0 : jp_column_cmp_cells(c, i, c, best);
            if (best == JP_NO_ROW || (mx ? r > 0 : r < 0)) best = i;
        }
    }
    if (best != JP_NO_ROW) jp_column_get(c, best, out);
    return JP_OK;
}

jp_status_t jp_vec_min(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err)
{
    return vec_minmax(c, false, what, out, err);
}

jp_status_t jp_vec_max(const jp_column_t *c, const char *what, jp_value_t *out, jp_error_t *err)
{
    return vec_minmax(c, true, what, out, err);
}
