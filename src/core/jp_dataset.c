/*
 * jp_dataset.c - datasets: building, sharing, lookup, gathering rows,
 * comparing.  Lazy plans live behind jp_lazy.h; here we only forward.
 */
#include "jp_dataset.h"

#include <stdio.h>
#include <string.h>
#include "jp_lazy.h"
#include "jp_mem.h"

jp_dataset_t *jp_dataset_new(void)
{
    jp_dataset_t *ds = jp_calloc(1, sizeof *ds);
    if (ds) ds->refs = 1;
    return ds;
}

jp_dataset_t *jp_dataset_ref(jp_dataset_t *ds)
{
    if (ds) ds->refs++;
    return ds;
}

void jp_meta_free(jp_meta_t *m)
{
    jp_free(m->name);
    jp_free(m->title);
    jp_free(m->description);
    jp_free(m->source);
    jp_free(m->source_file);
    jp_free(m->period);
    jp_free(m->license);
    for (size_t i = 0; i < m->n_notes; i++) jp_free(m->notes[i]);
    jp_free(m->notes);
    for (size_t i = 0; i < m->n_plugins; i++) jp_free(m->plugins[i]);
    jp_free(m->plugins);
    memset(m, 0, sizeof *m);
}

void jp_dataset_unref(jp_dataset_t *ds)
{
    if (!ds || --ds->refs > 0) return;
    if (ds->lazy && ds->lazy->ops->free) ds->lazy->ops->free(ds->lazy);
    for (size_t i = 0; ds->cols && i < ds->schema.n_fields; i++) jp_column_unref(ds->cols[i]);
    jp_free(ds->cols);
    jp_schema_free(&ds->schema);
    jp_meta_free(&ds->meta);
    jp_free(ds->origin);
    jp_column_unref(ds->lines);
    jp_free(ds);
}

jp_status_t jp_meta_set(char **slot, const char *value)
{
    char *v = NULL;
    if (value && !(v = jp_strdup(value))) return JP_ERR_NOMEM;
    jp_free(*slot);
    *slot = v;
    return JP_OK;
}

jp_status_t jp_meta_add_note(jp_meta_t *m, const char *note)
{
    char **n = jp_realloc_array(m->notes, m->n_notes + 1, sizeof *n);
    if (!n) return JP_ERR_NOMEM;
    m->notes = n;
    if (!(n[m->n_notes] = jp_strdup(note))) return JP_ERR_NOMEM;
    m->n_notes++;
    return JP_OK;
}

static jp_status_t insert_plugin(jp_meta_t *m, const char *entry)
{
    size_t at = 0;
    while (at < m->n_plugins) {
        int c = strcmp(m->plugins[at], entry);
        if (c == 0) return JP_OK;
        if (c > 0) break;
        at++;
    }
    char **v = jp_realloc_array(m->plugins, m->n_plugins + 1, sizeof *v);
    if (!v) return JP_ERR_NOMEM;
    m->plugins = v;
    char *e = jp_strdup(entry);
    if (!e) return JP_ERR_NOMEM;
    memmove(v + at + 1, v + at, (m->n_plugins - at) * sizeof *v);
    v[at] = e;
    m->n_plugins++;
    return JP_OK;
}

jp_status_t jp_meta_add_plugin(jp_meta_t *m, const char *name, const char *version)
{
    char entry[256];
    int k = snprintf(entry, sizeof entry, "%s %s", name, version);
    if (k < 0 || (size_t)k >= sizeof entry) return JP_ERR_ARG;
    return insert_plugin(m, entry);
}

jp_status_t jp_meta_copy(jp_meta_t *dst, const jp_meta_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (jp_meta_set(&dst->name, src->name) || jp_meta_set(&dst->title, src->title) ||
        jp_meta_set(&dst->description, src->description) ||
        jp_meta_set(&dst->source, src->source) ||
        jp_meta_set(&dst->source_file, src->source_file) ||
        jp_meta_set(&dst->period, src->period) || jp_meta_set(&dst->license, src->license))
        goto fail;
    for (size_t i = 0; i < src->n_notes; i++)
        if (jp_meta_add_note(dst, src->notes[i])) goto fail;
    for (size_t i = 0; i < src->n_plugins; i++)
        if (insert_plugin(dst, src->plugins[i])) goto fail;
    return JP_OK;
fail:
    jp_meta_free(dst);
    return JP_ERR_NOMEM;
}

jp_status_t jp_dataset_add_column(jp_dataset_t *ds, const jp_field_t *field, jp_column_t *col,
                                  jp_error_t *err)
{
    jp_status_t st;
    if (!col) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (col->type != field->type) {
        st = jp_error_set(err, JP_ERR_TYPE, "field '%s' is %s but its column holds %s values",
                          field->name, jp_type_name(field->type), jp_type_name(col->type));
        goto fail;
    }
    bool first = ds->schema.n_fields == 0;
    if (!first && !ds->lazy && col->len != ds->nrows) {
        st = jp_error_set(err, JP_ERR_ARG, "field '%s' has %zu values but the dataset has %zu rows",
                          field->name, col->len, ds->nrows);
        goto fail;
    }
    if (ds->schema.n_fields == ds->cols_cap) {
        size_t cap = ds->cols_cap ? ds->cols_cap * 2 : 8;
        jp_column_t **c = jp_realloc_array(ds->cols, cap, sizeof *c);
        if (!c) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ds->cols = c;
        ds->cols_cap = cap;
    }
    if ((st = jp_schema_add(&ds->schema, field, err))) goto fail;
    ds->cols[ds->schema.n_fields - 1] = col;
    if (first) ds->nrows = col->len;
    return JP_OK;
fail:
    jp_column_unref(col);
    return st;
}

jp_status_t jp_dataset_add(jp_dataset_t *ds, const char *name, jp_column_t *col, const char *unit,
                           jp_error_t *err)
{
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)name;
    f.unit = (char *)unit;
    f.type = col ? col->type : JP_TYPE_NONE;
    return jp_dataset_add_column(ds, &f, col, err);
}

void jp_dataset_set_nrows(jp_dataset_t *ds, size_t n)
{
    if (ds->schema.n_fields == 0) ds->nrows = n;
}

jp_status_t jp_dataset_set_keys(jp_dataset_t *ds, const jp_schema_t *keys)
{
    jp_schema_t only = JP_SCHEMA_INIT, copy;
    only.primary_key = keys->primary_key;
    only.n_primary_key = keys->n_primary_key;
    only.foreign_keys = keys->foreign_keys;
    only.n_foreign_keys = keys->n_foreign_keys;
    if (jp_schema_copy(&copy, &only)) return JP_ERR_NOMEM;
    /* swap: copy takes the old keys away to be freed */
    char **pk = ds->schema.primary_key;
    size_t npk = ds->schema.n_primary_key;
    jp_foreign_key_t *fk = ds->schema.foreign_keys;
    size_t nfk = ds->schema.n_foreign_keys;
    ds->schema.primary_key = copy.primary_key;
    ds->schema.n_primary_key = copy.n_primary_key;
    ds->schema.foreign_keys = copy.foreign_keys;
    ds->schema.n_foreign_keys = copy.n_foreign_keys;
    copy.primary_key = pk;
    copy.n_primary_key = npk;
    copy.foreign_keys = fk;
    copy.n_foreign_keys = nfk;
    jp_schema_free(&copy);
    return JP_OK;
}

void jp_dataset_set_origin(jp_dataset_t *ds, const char *origin, jp_column_t *lines)
{
    jp_free(ds->origin);
    ds->origin = origin ? jp_strdup(origin) : NULL;
    jp_column_unref(ds->lines);
    ds->lines = lines;
}

long jp_dataset_row_line(const jp_dataset_t *ds, size_t i)
{
    if (ds->lines && i < ds->lines->len && !jp_column_is_null(ds->lines, i))
        return (long)ds->lines->v.i[i];
    if (!ds->lines && ds->first_line) return ds->first_line + (long)i;
    return 0;
}

long jp_dataset_find(const jp_dataset_t *ds, const char *name)
{
    return jp_schema_find(&ds->schema, name);
}

jp_column_t *jp_dataset_column(const jp_dataset_t *ds, const char *name)
{
    long i = jp_schema_find(&ds->schema, name);
    return i < 0 ? NULL : ds->cols[i];
}

jp_status_t jp_dataset_lookup(const jp_dataset_t *ds, const char *name, const char *verb,
                              long *index, jp_error_t *err)
{
    long i = jp_schema_find(&ds->schema, name);
    if (i >= 0) {
        *index = i;
        return JP_OK;
    }
    /* name the fields there are, so the user sees the typo */
    char list[400];
    size_t n = 0;
    list[0] = '\0';
    for (size_t k = 0; k < ds->schema.n_fields && n < sizeof list - 40; k++) {
        int w =
            snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "", ds->schema.fields[k].name);
        if (w > 0) n += (size_t)w;
    }
    if (n >= sizeof list - 40) snprintf(list + n, sizeof list - n, ", ...");
    const char *near = jp_schema_suggest(&ds->schema, name);
    jp_error_set(err, JP_ERR_ARG, "%s%sno field '%s' in %s%s%s (%s%s%sfields: %s)",
                 verb ? verb : "", verb ? ": " : "", name,
                 ds->meta.name ? "dataset '" : "the dataset", ds->meta.name ? ds->meta.name : "",
                 ds->meta.name ? "'" : "", near ? "did you mean '" : "", near ? near : "",
                 near ? "'? " : "", list);
    jp_error_field(err, name);
    return JP_ERR_ARG;
}

jp_status_t jp_dataset_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *err)
{
    if (!ds->lazy) return JP_OK;
    bool missing = !ds->lazy->rows_known;
    for (size_t k = 0; k < n && !missing; k++) missing = ds->cols[idx[k]] == NULL;
    if (!missing) return JP_OK;
    jp_status_t st = ds->lazy->ops->need(ds, idx, n, err);
    if (st) return st;
    ds->lazy->rows_known = true;
    for (size_t i = 0; i < ds->schema.n_fields; i++)
        if (!ds->cols[i]) return JP_OK;
    /* everything is here: become an eager dataset */
    if (ds->lazy->ops->free) ds->lazy->ops->free(ds->lazy);
    ds->lazy = NULL;
    return JP_OK;
}

jp_status_t jp_dataset_need_all(jp_dataset_t *ds, jp_error_t *err)
{
    if (!ds->lazy) return JP_OK;
    size_t n = ds->schema.n_fields;
    size_t *idx = jp_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!ds->cols[i]) idx[k++] = i;
    jp_status_t st = JP_OK;
    if (k || !ds->lazy->rows_known) st = jp_dataset_need(ds, idx, k, err);
    jp_free(idx);
    return st;
}

jp_status_t jp_dataset_need_rows(jp_dataset_t *ds, jp_error_t *err)
{
    jp_lazy_t *lz = ds->lazy;
    if (!lz || lz->rows_known) return JP_OK;
    jp_status_t st =
        lz->ops->need_rows ? lz->ops->need_rows(ds, err) : lz->ops->need(ds, NULL, 0, err);
    /* need() may have settled everything and dropped the plan */
    if (!st && ds->lazy) ds->lazy->rows_known = true;
    return st;
}

long jp_dataset_rows_known(const jp_dataset_t *ds)
{
    return !ds->lazy || ds->lazy->rows_known ? (long)ds->nrows : -1;
}

jp_dataset_t *jp_dataset_new_like(const jp_dataset_t *ds, bool copy_schema, jp_error_t *err)
{
    jp_dataset_t *out = jp_dataset_new();
    if (!out || jp_meta_copy(&out->meta, &ds->meta)) {
        jp_dataset_unref(out);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (copy_schema) {
        /* keys and constraints travel with the fields; columns come later */
        jp_schema_free(&out->schema);
        if (jp_schema_copy(&out->schema, &ds->schema)) {
            jp_dataset_unref(out);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        out->cols = jp_calloc(ds->schema.n_fields ? ds->schema.n_fields : 1, sizeof *out->cols);
        if (!out->cols) {
            jp_dataset_unref(out);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        out->cols_cap = ds->schema.n_fields;
    }
    return out;
}

jp_dataset_t *jp_dataset_gather(const jp_dataset_t *ds, const size_t *idx, size_t n,
                                jp_error_t *err)
{
    if (ds->lazy) {
        jp_error_set(err, JP_ERR_INTERNAL, "gather on a lazy dataset");
        return NULL;
    }
    jp_dataset_t *out = jp_dataset_new_like(ds, true, err);
    if (!out) return NULL;
    for (size_t i = 0; i < ds->schema.n_fields; i++) {
        out->cols[i] = jp_column_gather(ds->cols[i], idx, n);
        if (!out->cols[i]) goto nomem;
    }
    out->nrows = n;
    if (ds->origin) {
        jp_column_t *lines = NULL;
        if (ds->lines) {
            if (!(lines = jp_column_gather(ds->lines, idx, n))) goto nomem;
        } else if (ds->first_line) {
            /* rows no longer follow the file: write the lines down */
            if (!(lines = jp_column_new(JP_TYPE_INT, n))) goto nomem;
            for (size_t k = 0; k < n; k++)
                lines->v.i[k] = idx[k] == JP_NO_ROW ? 0 : ds->first_line + (long)idx[k];
            jp_column_set_len(lines, n);
        }
        jp_dataset_set_origin(out, ds->origin, lines);
    }
    return out;
nomem:
    jp_dataset_unref(out);
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

static bool sdiff(const char *a, const char *b)
{
    if (!a || !b) return a != b;
    return strcmp(a, b) != 0;
}

bool jp_dataset_equal(jp_dataset_t *a, jp_dataset_t *b, char *why, size_t size)
{
    if (jp_dataset_need_all(a, NULL) || jp_dataset_need_all(b, NULL)) {
        if (why) snprintf(why, size, "could not load the data");
        return false;
    }
    const jp_meta_t *x = &a->meta, *y = &b->meta;
    const char *mf = NULL;
    if (sdiff(x->name, y->name))
        mf = "name";
    else if (sdiff(x->title, y->title))
        mf = "title";
    else if (sdiff(x->description, y->description))
        mf = "description";
    else if (sdiff(x->source, y->source))
        mf = "source";
    else if (sdiff(x->source_file, y->source_file))
        mf = "source_file";
    else if (sdiff(x->period, y->period))
        mf = "period";
    else if (sdiff(x->license, y->license))
        mf = "license";
    else if (x->n_notes != y->n_notes)
        mf = "notes";
    else
        for (size_t i = 0; i < x->n_notes && !mf; i++)
            if (sdiff(x->notes[i], y->notes[i])) mf = "notes";
    if (mf) {
        if (why) snprintf(why, size, "metadata '%s' differs", mf);
        return false;
    }
    if (!jp_schema_equal(&a->schema, &b->schema, why, size)) return false;
    if (a->nrows != b->nrows) {
        if (why) snprintf(why, size, "%zu rows vs %zu", a->nrows, b->nrows);
        return false;
    }
    for (size_t i = 0; i < a->schema.n_fields; i++) {
        const jp_column_t *p = a->cols[i], *q = b->cols[i];
        if (!jp_column_equal(p, q)) {
            for (size_t r = 0; r < a->nrows; r++) {
                if (jp_column_is_null(p, r) != jp_column_is_null(q, r) ||
                    jp_column_qual(p, r) != jp_column_qual(q, r) ||
                    jp_column_cmp_cells(p, r, q, r) != 0) {
                    if (why)
                        snprintf(why, size, "row %zu, field '%s' differs", r + 1,
                                 a->schema.fields[i].name);
                    return false;
                }
            }
            if (why) snprintf(why, size, "field '%s' differs", a->schema.fields[i].name);
            return false;
        }
    }
    return true;
}
