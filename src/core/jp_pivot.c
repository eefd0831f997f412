/*
 * jp_pivot.c - reshaping: pivot (long -> wide) and unpivot (wide -> long).
 *
 * pivot groups the rows by the id fields (jp_keys.c) and by the names
 * field; each (id group, name) cell takes its one value, or the aggregate
 * of its values when a values_fn is given (jp_agg_column over the combined
 * group number).  unpivot repeats each row once per listed column.
 *
 * Owns: jp_pivot, jp_unpivot.  Must never: modify its input.
 */
#include <stdio.h>
#include <string.h>
#include "jp_keys.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_verbs.h"

/* The text a pivoted field is named after. */
static void cell_name(const jp_column_t *c, size_t i, const char *prefix, char *buf, size_t size)
{
    char tmp[96];
    const char *p;
    size_t n;
    if (jp_column_is_null(c, i)) {
        p = "NA";
        n = 2;
    } else
        n = jp_column_cell_text(c, i, tmp, sizeof tmp, &p);
    snprintf(buf, size, "%s%.*s", prefix ? prefix : "", (int)(n < size ? n : size - 1), p);
}

/* Sorting the new fields by their names_from value. */
typedef struct name_order {
    const jp_column_t *c;
    const size_t *row;  /* the row giving each name */
    const double *num;  /* strings: the number the text reads as */
    const uint8_t *isn; /* strings: it reads as one */
} name_order_t;

static int name_cmp(const name_order_t *o, size_t a, size_t b)
{
    const jp_column_t *c = o->c;
    size_t i = o->row[a], j = o->row[b];
    if (c->type == JP_TYPE_STRING && !jp_column_is_null(c, i) && !jp_column_is_null(c, j)) {
        if (o->isn[a] != o->isn[b]) return o->isn[a] ? -1 : 1; /* numbers before text */
        if (o->isn[a] && o->num[a] != o->num[b]) return o->num[a] < o->num[b] ? -1 : 1;
    }
    int r = jp_column_cmp_cells(c, i, c, j);
    return r ? r : (a < b ? -1 : a > b); /* stable */
}

static void name_sort(const name_order_t *o, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2) return;
    size_t h = n / 2;
    name_sort(o, a, tmp, h);
    name_sort(o, a + h, tmp, n - h);
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) a[k++] = name_cmp(o, a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[k++] = tmp[i++];
}

/* The order of the nn names (ord[k] = the group of the k-th new field). */
static jp_status_t order_names(const jp_column_t *c, const size_t *first, size_t nn, bool keep,
                               size_t *ord)
{
    for (size_t k = 0; k < nn; k++) ord[k] = k;
    if (keep || nn < 2) return JP_OK;
    size_t *tmp = jp_malloc_array(nn, sizeof *tmp);
    double *num = NULL;
    uint8_t *isn = NULL;
    if (c->type == JP_TYPE_STRING) {
        num = jp_malloc_array(nn, sizeof *num);
        isn = jp_calloc(nn, 1);
    }
    if (!tmp || (c->type == JP_TYPE_STRING && (!num || !isn))) {
        jp_free(tmp);
        jp_free(num);
        jp_free(isn);
        return JP_ERR_NOMEM;
    }
    if (c->type == JP_TYPE_STRING)
        for (size_t k = 0; k < nn; k++) {
            if (jp_column_is_null(c, first[k])) continue;
            size_t len;
            const char *s = jp_column_str(c, first[k], &len);
            isn[k] = jp_parse_double(s, len, &num[k]) && num[k] == num[k];
        }
    name_order_t o = {c, first, num, isn};
    name_sort(&o, ord, tmp, nn);
    jp_free(tmp);
    jp_free(num);
    jp_free(isn);
    return JP_OK;
}

jp_dataset_t *jp_pivot(jp_dataset_t *ds, const jp_pivot_opts_t *o, jp_error_t *err)
{
    long ni, vi;
    size_t nf = ds->schema.n_fields;
    long *ids = jp_malloc_array(nf + 1, sizeof *ids);
    jp_column_t **idc = jp_malloc_array(nf + 1, sizeof *idc);
    jp_groups_t g = {0}, gn = {0};
    uint32_t *cell = NULL;
    size_t *pick = NULL, *col_rows = NULL, *ord = NULL;
    jp_column_t *agg = NULL;
    jp_dataset_t *out = NULL;
    size_t nid = 0;
    if (!ids || !idc) goto nomem;
    if (!o->names_from || !o->values_from) {
        jp_error_set(err, JP_ERR_ARG, "pivot: needs names_from and values_from");
        goto done;
    }
    if (jp_dataset_lookup(ds, o->names_from, "pivot", &ni, err) ||
        jp_dataset_lookup(ds, o->values_from, "pivot", &vi, err))
        goto done;
    if (ni == vi) {
        jp_error_set(err, JP_ERR_ARG, "pivot: names_from and values_from are both '%s'",
                     o->names_from);
        goto done;
    }
    if (o->n_id_cols) {
        for (size_t k = 0; k < o->n_id_cols; k++) {
            if (jp_dataset_lookup(ds, o->id_cols[k], "pivot", &ids[nid], err)) goto done;
            if (ids[nid] == ni || ids[nid] == vi) {
                jp_error_set(err, JP_ERR_ARG, "pivot: '%s' cannot be an id field and %s",
                             o->id_cols[k], ids[nid] == ni ? "names_from" : "values_from");
                goto done;
            }
            nid++;
        }
    } else
        for (size_t i = 0; i < nf; i++)
            if ((long)i != ni && (long)i != vi) ids[nid++] = (long)i;
    if (jp_dataset_need_all(ds, err)) goto done;
    size_t nrows = ds->nrows;
    for (size_t k = 0; k < nid; k++) idc[k] = ds->cols[ids[k]];
    jp_column_t *nc = ds->cols[ni], *vc = ds->cols[vi];
    if (jp_group_rows(idc, nid, nrows, &g) || jp_group_rows(&nc, 1, nrows, &gn)) {
        if (jp_stop_check(err)) goto done;
        goto nomem;
    }
    size_t ng = nid ? g.ngroups : (nrows ? 1 : 0);
    size_t nn = nrows ? gn.ngroups : 0;
    if (ng && nn > ((size_t)1 << 32) / ng) {
        jp_error_set(err, JP_ERR_LIMIT, "pivot: %zu x %zu cells is too many", ng, nn);
        goto done;
    }
    /* the new field names, checked against the id fields and each other */
    out = jp_dataset_new_like(ds, false, err);
    if (!out) goto done;
    for (size_t k = 0; k < nid; k++) {
        jp_column_t *c = jp_column_gather(idc[k], g.first, ng);
        if (!c) goto nomem;
        if (jp_dataset_add_column(out, &ds->schema.fields[ids[k]], c, err)) goto fail;
    }
    out->nrows = ng;
    if (o->has_fn) {
        if (!(cell = jp_malloc_array(nrows ? nrows : 1, sizeof *cell))) goto nomem;
        for (size_t i = 0; i < nrows; i++) cell[i] = (uint32_t)(g.gid[i] * nn + gn.gid[i]);
        agg = jp_agg_column(o->values_fn, vc, o->values_from, 0.5, cell, nrows, ng * nn, err);
        if (!agg) {
            if (err && err->code != JP_ERR_NOMEM) jp_error_prefix(err, "pivot");
            goto fail;
        }
    } else {
        if (!(pick = jp_malloc_array(ng * nn + 1, sizeof *pick))) goto nomem;
        for (size_t k = 0; k < ng * nn; k++) pick[k] = JP_NO_ROW;
        for (size_t i = 0; i < nrows; i++) {
            size_t at = (size_t)g.gid[i] * nn + gn.gid[i];
            if (pick[at] != JP_NO_ROW) {
                char nm[128];
                cell_name(nc, i, NULL, nm, sizeof nm);
                jp_error_set(err, JP_ERR_ARG,
                             "pivot: rows %zu and %zu both give a value for '%s' in the same id "
                             "group (pass values_fn to combine them)",
                             pick[at] + 1, i + 1, nm);
                goto fail;
            }
            pick[at] = i;
        }
    }
    if (!(col_rows = jp_malloc_array(ng ? ng : 1, sizeof *col_rows))) goto nomem;
    if (!(ord = jp_malloc_array(nn ? nn : 1, sizeof *ord)) ||
        order_names(nc, gn.first, nn, o->keep_order, ord))
        goto nomem;
    for (size_t k = 0; k < nn; k++) {
        size_t n = ord[k];
        char name[200];
        cell_name(nc, gn.first[n], o->names_prefix, name, sizeof name);
        if (jp_dataset_find(out, name) >= 0) {
            jp_error_set(err, JP_ERR_ARG,
                         "pivot: the new field '%s' already exists (use "
                         "names_prefix)",
                         name);
            jp_error_field(err, name);
            goto fail;
        }
        for (size_t q = 0; q < ng; q++) col_rows[q] = o->has_fn ? q * nn + n : pick[q * nn + n];
        jp_column_t *c = jp_column_gather(o->has_fn ? agg : vc, col_rows, ng);
        if (!c) goto nomem;
        const char *unit = ds->schema.fields[vi].unit;
        if (o->has_fn && (o->values_fn == JP_AGG_COUNT || o->values_fn == JP_AGG_COUNT_DISTINCT))
            unit = NULL;
        if (o->has_fn && o->values_fn == JP_AGG_COUNT) {
            /* an empty cell counts 0 */
            for (size_t q = 0; q < ng; q++)
                if (jp_column_is_null(c, q)) {
                    c->nulls[q] = 0;
                    c->v.i[q] = 0;
                }
        }
        if (jp_dataset_add(out, name, c, unit, err)) goto fail;
    }
    goto done;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    jp_dataset_unref(out);
    out = NULL;
done:
    /* it reads every field of its input (the ids are all the others) */
    if (!out)
        jp_mem_explain(err, "pivot", jp_dataset_rows_known(ds),
                       ", or select the id, names and values fields first",
                       "the %zu field%s it reads", nf, nf == 1 ? "" : "s");
    jp_groups_free(&g);
    jp_groups_free(&gn);
    jp_free(ids);
    jp_free(idc);
    jp_free(cell);
    jp_free(pick);
    jp_free(col_rows);
    jp_free(ord);
    jp_column_unref(agg);
    return out;
}

jp_dataset_t *jp_unpivot(jp_dataset_t *ds, const jp_unpivot_opts_t *o, jp_error_t *err)
{
    size_t nf = ds->schema.n_fields, nc = o->n_cols;
    const char *names_to = o->names_to ? o->names_to : "name";
    const char *values_to = o->values_to ? o->values_to : "value";
    long *ci = jp_malloc_array(nc + 1, sizeof *ci);
    bool *is_col = jp_calloc(nf + 1, sizeof *is_col);
    size_t *ridx = NULL, *cidx = NULL;
    jp_column_t *names = NULL, *vals = NULL;
    jp_dataset_t *out = NULL;
    if (!ci || !is_col) goto nomem;
    if (!nc) {
        jp_error_set(err, JP_ERR_ARG, "unpivot: no columns to unpivot");
        goto done;
    }
    for (size_t k = 0; k < nc; k++) {
        if (jp_dataset_lookup(ds, o->cols[k], "unpivot", &ci[k], err)) goto done;
        if (is_col[ci[k]]) {
            jp_error_set(err, JP_ERR_ARG, "unpivot: column '%s' is listed twice", o->cols[k]);
            goto done;
        }
        is_col[ci[k]] = true;
    }
    for (size_t i = 0; i < nf; i++)
        if (!is_col[i] && (strcmp(ds->schema.fields[i].name, names_to) == 0 ||
                           strcmp(ds->schema.fields[i].name, values_to) == 0)) {
            jp_error_set(err, JP_ERR_ARG,
                         "unpivot: the id field '%s' clashes with names_to / "
                         "values_to",
                         ds->schema.fields[i].name);
            goto done;
        }
    if (strcmp(names_to, values_to) == 0) {
        jp_error_set(err, JP_ERR_ARG, "unpivot: names_to and values_to are both '%s'", names_to);
        goto done;
    }
    if (jp_dataset_need_all(ds, err)) goto done;
    /* the common type and unit */
    jp_type_t t = ds->cols[ci[0]]->type;
    const char *unit = ds->schema.fields[ci[0]].unit;
    bool same_unit = true;
    for (size_t k = 1; k < nc; k++) {
        jp_type_t u = ds->cols[ci[k]]->type;
        const char *un = ds->schema.fields[ci[k]].unit;
        if (u != t) {
            if (jp_type_is_numeric(u) && jp_type_is_numeric(t))
                t = JP_TYPE_NUMBER;
            else {
                jp_error_set(err, JP_ERR_TYPE, "unpivot: column '%s' is %s but '%s' is %s",
                             o->cols[0], jp_type_name(ds->cols[ci[0]]->type), o->cols[k],
                             jp_type_name(u));
                goto done;
            }
        }
        if (!(un == unit || (un && unit && strcmp(un, unit) == 0))) same_unit = false;
    }
    if (!same_unit) unit = NULL;
    size_t nrows = ds->nrows, total = 0;
    if (nc && nrows > SIZE_MAX / nc) goto nomem;
    ridx = jp_malloc_array(nrows * nc + 1, sizeof *ridx);
    cidx = jp_malloc_array(nrows * nc + 1, sizeof *cidx);
    if (!ridx || !cidx) goto nomem;
    for (size_t r = 0; r < nrows; r++)
        for (size_t k = 0; k < nc; k++) {
            if (o->drop_nulls && jp_column_is_null(ds->cols[ci[k]], r)) continue;
            ridx[total] = r;
            cidx[total++] = k;
        }
    out = jp_dataset_gather(ds, ridx, total, err);
    if (!out) goto done;
    /* drop the unpivoted fields from the gathered copy */
    {
        jp_dataset_t *tmp = out;
        const char **keep = jp_malloc_array(nf + 1, sizeof *keep);
        size_t nk = 0;
        if (!keep) goto nomem;
        for (size_t i = 0; i < nf; i++)
            if (!is_col[i]) keep[nk++] = ds->schema.fields[i].name;
        out = jp_select(tmp, keep, nk, err);
        jp_free(keep);
        jp_dataset_unref(tmp);
        if (!out) goto done;
    }
    names = jp_column_new(JP_TYPE_STRING, total);
    vals = jp_column_new(t, total);
    if (!names || !vals) goto nomem;
    uint32_t *ncode = jp_malloc_array(nc, sizeof *ncode);
    if (!ncode) goto nomem;
    for (size_t k = 0; k < nc; k++)
        if (jp_strdict_intern(names->dict, o->cols[k], strlen(o->cols[k]), &ncode[k])) {
            jp_free(ncode);
            goto nomem;
        }
    for (size_t q = 0; q < total; q++) names->v.s[q] = ncode[cidx[q]];
    jp_free(ncode);
    jp_column_set_len(names, total);
    for (size_t q = 0; q < total; q++) {
        jp_value_t v;
        jp_column_get(ds->cols[ci[cidx[q]]], ridx[q], &v);
        if (jp_column_push_value(vals, &v, err)) goto fail;
    }
    jp_status_t st = jp_dataset_add(out, names_to, names, NULL, err);
    names = NULL;
    if (st) goto fail;
    st = jp_dataset_add(out, values_to, vals, unit, err);
    vals = NULL;
    if (st) goto fail;
    goto done;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    jp_dataset_unref(out);
    out = NULL;
done:
    jp_free(ci);
    jp_free(is_col);
    jp_free(ridx);
    jp_free(cidx);
    jp_column_unref(names);
    jp_column_unref(vals);
    return out;
}
