/*
 * jp_api.c - the core's half of the public C interface (include/jinpu.h):
 * dataset accessors, the row builder, options, arguments and errors, as a
 * function table.  The registration entries are left NULL here: the
 * plugin host (src/bind/lua_cplugin.c) fills them in its own copy.
 *
 * The public handles are the core's own objects under other names
 * (jinpu_dataset_t is jp_dataset_t, jinpu_error_t is jp_error_t); the
 * builder, options and arguments are defined here.  Never raises, never
 * exits: every failure is a status and a message in the caller's error.
 */
#include "jp_api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_file.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_unit.h"
#include "jp_yaml.h"

#define DS(x)  ((jp_dataset_t *)(x))
#define CDS(x) ((const jp_dataset_t *)(x))
#define ERR(x) ((jp_error_t *)(x))

/* ---- errors ------------------------------------------------------------------------ */

static int api_error(jinpu_error_t *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jp_error_set(ERR(err), (jp_status_t)code, "%s", msg);
    return code;
}

static void api_error_at(jinpu_error_t *err, const char *file, long line, long row,
                         const char *field)
{
    if (!err) return;
    if (file || line) {
        jp_error_at(ERR(err), file, line, 0);
        ERR(err)->col = 0; /* a column inside a cell's text means nothing in the file */
    }
    if (row) jp_error_row(ERR(err), row);
    if (field) jp_error_field(ERR(err), field);
}

/* ---- reading ------------------------------------------------------------------------- */

static const char *ds_name(const jinpu_dataset_t *ds)
{
    return CDS(ds)->meta.name;
}

static const char *ds_meta(const jinpu_dataset_t *ds, const char *key)
{
    const jp_meta_t *m = &CDS(ds)->meta;
    if (strcmp(key, "name") == 0) return m->name;
    if (strcmp(key, "title") == 0) return m->title;
    if (strcmp(key, "description") == 0) return m->description;
    if (strcmp(key, "source") == 0) return m->source;
    if (strcmp(key, "source_file") == 0) return m->source_file;
    if (strcmp(key, "period") == 0) return m->period;
    if (strcmp(key, "license") == 0) return m->license;
    return NULL;
}

static size_t ds_rows(const jinpu_dataset_t *ds)
{
    return CDS(ds)->nrows;
}

static size_t ds_fields(const jinpu_dataset_t *ds)
{
    return CDS(ds)->schema.n_fields;
}

static long field_find(const jinpu_dataset_t *ds, const char *name)
{
    return jp_schema_find(&CDS(ds)->schema, name);
}

static const jp_field_t *fld(const jinpu_dataset_t *ds, size_t f)
{
    return f < CDS(ds)->schema.n_fields ? &CDS(ds)->schema.fields[f] : NULL;
}

static const char *field_name(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? x->name : NULL;
}

/* jp_type_t and the public numbering are the same (INT 1 .. PERIOD 6) */
static int field_type(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? (int)x->type : 0;
}

static const char *field_unit(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? x->unit : NULL;
}

static const char *field_unit_field(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? x->unit_field : NULL;
}

static const char *field_title(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? x->title : NULL;
}

static const char *field_description(const jinpu_dataset_t *ds, size_t f)
{
    const jp_field_t *x = fld(ds, f);
    return x ? x->description : NULL;
}

/* The column of a cell, or NULL when f or row is out of range. */
static const jp_column_t *col_at(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_dataset_t *d = CDS(ds);
    if (f >= d->schema.n_fields || row >= d->nrows || !d->cols[f]) return NULL;
    return d->cols[f];
}

static int cell_is_null(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_column_t *c = col_at(ds, f, row);
    return !c || jp_column_is_null(c, row);
}

static int cell_qualifier(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_column_t *c = col_at(ds, f, row);
    return c ? (int)jp_column_qual(c, row) : JINPU_EXACT;
}

static int64_t cell_int(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_column_t *c = col_at(ds, f, row);
    if (!c || jp_column_is_null(c, row)) return 0;
    if (c->type == JP_TYPE_INT) return c->v.i[row];
    if (c->type == JP_TYPE_NUMBER && fabs(c->v.d[row]) < 9.2e18) return (int64_t)c->v.d[row];
    return 0;
}

static double cell_number(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_column_t *c = col_at(ds, f, row);
    if (!c || jp_column_is_null(c, row)) return 0;
    if (c->type == JP_TYPE_NUMBER) return c->v.d[row];
    if (c->type == JP_TYPE_INT) return (double)c->v.i[row];
    return 0;
}

static const char *cell_string(const jinpu_dataset_t *ds, size_t f, size_t row, size_t *len)
{
    const jp_column_t *c = col_at(ds, f, row);
    size_t n = 0;
    const char *s = "";
    if (c && c->type == JP_TYPE_STRING && !jp_column_is_null(c, row)) s = jp_column_str(c, row, &n);
    if (len) *len = n;
    return s;
}

static int cell_bool(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_column_t *c = col_at(ds, f, row);
    return c && c->type == JP_TYPE_BOOL && !jp_column_is_null(c, row) && c->v.b[row];
}

static int cell_date(const jinpu_dataset_t *ds, size_t f, size_t row, int *y, int *m, int *d)
{
    const jp_column_t *c = col_at(ds, f, row);
    if (!c || c->type != JP_TYPE_DATE || jp_column_is_null(c, row)) return 0;
    jp_date_to_ymd(c->v.date[row], y, m, d);
    return 1;
}

static const char *cell_text(const jinpu_dataset_t *ds, size_t f, size_t row, char *buf,
                             size_t size)
{
    const jp_column_t *c = col_at(ds, f, row);
    if (!size) return buf;
    buf[0] = '\0';
    if (!c || jp_column_is_null(c, row)) return buf;
    /* a qualified figure keeps its qualifier: ">140000", "~1.14e9" */
    const char *sym = jp_type_is_numeric(c->type) ? jp_qual_symbol(jp_column_qual(c, row)) : "";
    size_t k = strlen(sym);
    if (k + 1 >= size) return buf;
    memcpy(buf, sym, k);
    const char *ptr = NULL;
    size_t n = jp_column_cell_text(c, row, buf + k, size - k, &ptr);
    if (ptr && ptr != buf + k) {
        if (n >= size - k) n = size - k - 1;
        memmove(buf + k, ptr, n);
        buf[k + n] = '\0';
    }
    return buf;
}

static const char *cell_unit(const jinpu_dataset_t *ds, size_t f, size_t row)
{
    const jp_field_t *x = fld(ds, f);
    if (!x) return NULL;
    if (!x->unit_field) return x->unit;
    long u = jp_schema_find(&CDS(ds)->schema, x->unit_field);
    if (u < 0 || cell_is_null(ds, (size_t)u, row)) return NULL;
    return cell_string(ds, (size_t)u, row, NULL);
}

static size_t read_numbers(const jinpu_dataset_t *ds, size_t f, size_t from, size_t n,
                           double *values, unsigned char *nulls, unsigned char *quals)
{
    const jp_dataset_t *d = CDS(ds);
    if (f >= d->schema.n_fields || from >= d->nrows) return 0;
    const jp_column_t *c = d->cols[f];
    if (!c || (c->type != JP_TYPE_NUMBER && c->type != JP_TYPE_INT)) return 0;
    if (n > d->nrows - from) n = d->nrows - from;
    for (size_t k = 0; k < n; k++) {
        size_t i = from + k;
        bool null = jp_column_is_null(c, i);
        if (values)
            values[k] = null ? 0 : c->type == JP_TYPE_NUMBER ? c->v.d[i] : (double)c->v.i[i];
        if (nulls) nulls[k] = null;
        if (quals) quals[k] = (unsigned char)jp_column_qual(c, i);
    }
    return n;
}

/* ---- building ---------------------------------------------------------------------- */

struct jinpu_builder {
    jp_dataset_t *ds;   /* metadata and schema; columns are attached at the end */
    jp_column_t **cols; /* one per field */
    size_t cap;
    size_t rows;  /* complete rows */
    uint8_t *put; /* per field: set in the current row */
};

static jinpu_builder_t *builder_new(const char *name, jinpu_error_t *err)
{
    jinpu_builder_t *b = jp_calloc(1, sizeof *b);
    if (!b || !(b->ds = jp_dataset_new()) || (name && jp_meta_set(&b->ds->meta.name, name))) {
        if (b) jp_dataset_unref(b->ds);
        jp_free(b);
        api_error(err, JINPU_E_NOMEM, "out of memory");
        return NULL;
    }
    return b;
}

static void builder_free(jinpu_builder_t *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->ds->schema.n_fields; i++) jp_column_unref(b->cols[i]);
    jp_free(b->cols);
    jp_free(b->put);
    jp_dataset_unref(b->ds);
    jp_free(b);
}

static int builder_meta(jinpu_builder_t *b, const char *key, const char *value, jinpu_error_t *err)
{
    jp_meta_t *m = &b->ds->meta;
    char **slot = strcmp(key, "name") == 0          ? &m->name
                  : strcmp(key, "title") == 0       ? &m->title
                  : strcmp(key, "description") == 0 ? &m->description
                  : strcmp(key, "source") == 0      ? &m->source
                  : strcmp(key, "source_file") == 0 ? &m->source_file
                  : strcmp(key, "period") == 0      ? &m->period
                  : strcmp(key, "license") == 0     ? &m->license
                                                    : NULL;
    if (!slot) return api_error(err, JINPU_E_ARG, "builder_meta: unknown key '%s'", key);
    if (jp_meta_set(slot, value)) return api_error(err, JINPU_E_NOMEM, "out of memory");
    return JINPU_OK;
}

/* Append field f (deep-copied) and an empty column for it; its index or -1. */
static long add_field(jinpu_builder_t *b, const jp_field_t *f, jinpu_error_t *err)
{
    size_t n = b->ds->schema.n_fields;
    if (n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        jp_column_t **c = jp_realloc_array(b->cols, cap, sizeof *c);
        if (!c) return api_error(err, JINPU_E_NOMEM, "out of memory"), -1;
        b->cols = c;
        uint8_t *p = jp_realloc_array(b->put, cap, 1);
        if (!p) return api_error(err, JINPU_E_NOMEM, "out of memory"), -1;
        b->put = p;
        b->cap = cap;
    }
    b->cols[n] = jp_column_new(f->type, 64);
    if (!b->cols[n]) return api_error(err, JINPU_E_NOMEM, "out of memory"), -1;
    if (jp_schema_add(&b->ds->schema, f, ERR(err))) {
        jp_column_unref(b->cols[n]);
        b->cols[n] = NULL;
        return -1;
    }
    b->put[n] = 0;
    return (long)n;
}

static long builder_field(jinpu_builder_t *b, const char *name, int type, const char *unit,
                          const char *description, jinpu_error_t *err)
{
    if (b->rows)
        return api_error(err, JINPU_E_ARG, "builder_field: '%s' comes after the first row", name),
               -1;
    if (type < JINPU_INTEGER || type > JINPU_PERIOD)
        return api_error(err, JINPU_E_ARG, "builder_field: field '%s' has no valid type", name), -1;
    char ubuf[64];
    const char *canon = NULL;
    if (unit && !(canon = jp_unit_canonical(unit, ubuf, sizeof ubuf)))
        return api_error(err, JINPU_E_UNIT, "field '%s': unknown unit '%s'", name, unit), -1;
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)name;
    f.type = (jp_type_t)type;
    f.unit = (char *)canon;
    f.description = (char *)description;
    return add_field(b, &f, err);
}

/* The fields, keys and metadata of a schema-only YAML document. */
static int builder_schema(jinpu_builder_t *b, const char *yaml, size_t len, jinpu_error_t *err)
{
    if (b->ds->schema.n_fields || b->rows)
        return api_error(err, JINPU_E_ARG, "builder_schema: the builder already has fields");
    jp_dataset_t *d = NULL;
    if (jp_yaml_read_mem("<schema>", yaml, len, NULL, &d, ERR(err))) return (int)ERR(err)->code;
    int rc = JINPU_OK;
    if (d->nrows) {
        rc = api_error(err, JINPU_E_ARG, "builder_schema: the document has rows");
        goto done;
    }
    jp_meta_free(&b->ds->meta);
    if (jp_meta_copy(&b->ds->meta, &d->meta)) {
        rc = api_error(err, JINPU_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t f = 0; f < d->schema.n_fields; f++)
        if (add_field(b, &d->schema.fields[f], err) < 0) {
            rc = ERR(err) ? (int)ERR(err)->code : JINPU_E_NOMEM;
            goto done;
        }
    /* the keys: fields are in place, so copying the whole schema is the simplest */
    jp_schema_t keys = JP_SCHEMA_INIT;
    if (jp_schema_copy(&keys, &d->schema)) {
        rc = api_error(err, JINPU_E_NOMEM, "out of memory");
        goto done;
    }
    jp_schema_free(&b->ds->schema);
    b->ds->schema = keys;
done:
    jp_dataset_unref(d);
    return rc;
}

/* The column to put a value of `type` (0: any) into, or NULL with err set. */
static jp_column_t *slot(jinpu_builder_t *b, size_t f, int type, jinpu_error_t *err)
{
    if (f >= b->ds->schema.n_fields) {
        api_error(err, JINPU_E_ARG, "no field %zu (the dataset has %zu)", f,
                  b->ds->schema.n_fields);
        return NULL;
    }
    const jp_field_t *x = &b->ds->schema.fields[f];
    if (b->put[f]) {
        api_error(err, JINPU_E_ARG, "field '%s' was given twice in row %zu", x->name, b->rows + 1);
        return NULL;
    }
    if (type && (int)x->type != type &&
        !(type == JINPU_INTEGER && x->type == JP_TYPE_NUMBER)) { /* ints widen */
        api_error(err, JINPU_E_TYPE, "row %zu, field '%s' is %s, not %s", b->rows + 1, x->name,
                  jp_type_name(x->type), jp_type_name((jp_type_t)type));
        api_error_at(err, NULL, 0, (long)b->rows + 1, x->name);
        return NULL;
    }
    return b->cols[f];
}

static int pushed(jinpu_builder_t *b, size_t f, jp_status_t st, jinpu_error_t *err)
{
    if (st) return api_error(err, JINPU_E_NOMEM, "out of memory");
    b->put[f] = 1;
    return JINPU_OK;
}

static int put_null(jinpu_builder_t *b, size_t f, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, 0, err);
    return c ? pushed(b, f, jp_column_push_null(c), err) : JINPU_E_ARG;
}

static int check_qual(int qual, jinpu_error_t *err)
{
    if (qual < JINPU_EXACT || qual > JINPU_LESS_THAN)
        return api_error(err, JINPU_E_ARG, "unknown qualifier %d", qual);
    return JINPU_OK;
}

static int put_int(jinpu_builder_t *b, size_t f, int64_t v, int qual, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, JINPU_INTEGER, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_TYPE;
    if (check_qual(qual, err)) return JINPU_E_ARG;
    jp_status_t st = c->type == JP_TYPE_NUMBER
                         ? jp_column_push_number(c, (double)v, (jp_qual_t)qual)
                         : jp_column_push_int(c, v, (jp_qual_t)qual);
    return pushed(b, f, st, err);
}

static int put_number(jinpu_builder_t *b, size_t f, double v, int qual, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, JINPU_NUMBER, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_TYPE;
    if (check_qual(qual, err)) return JINPU_E_ARG;
    return pushed(b, f, jp_column_push_number(c, v, (jp_qual_t)qual), err);
}

static int put_string(jinpu_builder_t *b, size_t f, const char *s, size_t len, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, JINPU_STRING, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_TYPE;
    return pushed(b, f, jp_column_push_str(c, s, len), err);
}

static int put_bool(jinpu_builder_t *b, size_t f, int v, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, JINPU_BOOLEAN, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_TYPE;
    return pushed(b, f, jp_column_push_bool(c, v != 0), err);
}

static int put_date(jinpu_builder_t *b, size_t f, int y, int m, int d, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, JINPU_DATE, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_TYPE;
    if (!jp_date_valid_ymd(y, m, d))
        return api_error(err, JINPU_E_RANGE, "row %zu, field '%s': %04d-%02d-%02d is not a date",
                         b->rows + 1, b->ds->schema.fields[f].name, y, m, d);
    return pushed(b, f, jp_column_push_date(c, jp_date_from_ymd(y, m, d)), err);
}

/* A figure as printed, in the field's unit. */
static int put_figure(jinpu_builder_t *b, size_t f, jp_column_t *c, const char *s, size_t n,
                      jinpu_error_t *err)
{
    const jp_field_t *x = &b->ds->schema.fields[f];
    jp_quantity_t q;
    if (!jp_quantity_parse(s, n, &q, ERR(err))) return (int)ERR(err)->code;
    double v = q.value;
    if (q.unit[0]) {
        if (!x->unit)
            return api_error(err, JINPU_E_UNIT, "'%.*s' names unit %s but field '%s' has none",
                             (int)(n > 60 ? 60 : n), s, q.unit, x->name);
        jp_unit_conv_t cv;
        if (jp_unit_conversion(q.unit, x->unit, &cv, ERR(err))) return (int)ERR(err)->code;
        v = jp_unit_apply(&cv, v);
    }
    if (c->type == JP_TYPE_INT) {
        if (!(v == floor(v)) || fabs(v) >= 9.2e18)
            return api_error(err, JINPU_E_TYPE, "'%.*s' is not a whole number",
                             (int)(n > 60 ? 60 : n), s);
        return pushed(b, f, jp_column_push_int(c, (int64_t)v, q.qual), err);
    }
    return pushed(b, f, jp_column_push_number(c, v, q.qual), err);
}

static int put_text(jinpu_builder_t *b, size_t f, const char *s, size_t len, jinpu_error_t *err)
{
    jp_column_t *c = slot(b, f, 0, err);
    if (!c) return ERR(err) ? (int)ERR(err)->code : JINPU_E_ARG;
    if (len == 0 && c->type != JP_TYPE_STRING) return pushed(b, f, jp_column_push_null(c), err);
    int rc = JINPU_OK;
    switch (c->type) {
    case JP_TYPE_STRING:
        return pushed(b, f, jp_column_push_str(c, s, len), err);
    case JP_TYPE_INT:
    case JP_TYPE_NUMBER:
        rc = put_figure(b, f, c, s, len, err);
        break;
    case JP_TYPE_BOOL: {
        bool t = (len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && s[0] == '1');
        bool fl = (len == 5 && memcmp(s, "false", 5) == 0) || (len == 1 && s[0] == '0');
        if (!t && !fl)
            rc = api_error(err, JINPU_E_TYPE, "'%.*s' is not true or false",
                           (int)(len > 60 ? 60 : len), s);
        else
            return pushed(b, f, jp_column_push_bool(c, t), err);
        break;
    }
    case JP_TYPE_DATE: {
        int32_t d;
        if (!jp_date_parse(s, len, &d))
            rc = api_error(err, JINPU_E_TYPE, "'%.*s' is not a date (YYYY-MM-DD)",
                           (int)(len > 60 ? 60 : len), s);
        else
            return pushed(b, f, jp_column_push_date(c, d), err);
        break;
    }
    default: {
        jp_period_t p;
        if (!jp_period_parse(s, len, &p, ERR(err)))
            rc = ERR(err) ? (int)ERR(err)->code : JINPU_E_PARSE;
        else
            return pushed(b, f, jp_column_push_period(c, &p), err);
    }
    }
    api_error_at(err, NULL, 0, (long)b->rows + 1, b->ds->schema.fields[f].name);
    return rc;
}

static int end_row(jinpu_builder_t *b, jinpu_error_t *err)
{
    size_t n = b->ds->schema.n_fields;
    for (size_t f = 0; f < n; f++)
        if (!b->put[f]) {
            api_error(err, JINPU_E_ARG, "row %zu has no value for field '%s'", b->rows + 1,
                      b->ds->schema.fields[f].name);
            api_error_at(err, NULL, 0, (long)b->rows + 1, b->ds->schema.fields[f].name);
            return JINPU_E_ARG;
        }
    memset(b->put, 0, n);
    b->rows++;
    return JINPU_OK;
}

static jinpu_dataset_t *builder_finish(jinpu_builder_t *b, jinpu_error_t *err)
{
    size_t n = b->ds->schema.n_fields;
    for (size_t f = 0; f < n; f++)
        if (b->put[f]) {
            api_error(err, JINPU_E_ARG, "row %zu was not ended (end_row)", b->rows + 1);
            builder_free(b);
            return NULL;
        }
    /* a fresh dataset takes the schema (keys too), the metadata and the
       columns, which the builder made one per field, each b->rows long */
    jp_dataset_t *out = jp_dataset_new_like(b->ds, true, ERR(err));
    if (!out) {
        builder_free(b);
        return NULL;
    }
    for (size_t f = 0; f < n; f++) {
        out->cols[f] = b->cols[f];
        b->cols[f] = NULL;
    }
    out->nrows = b->rows;
    builder_free(b);
    return (jinpu_dataset_t *)out;
}

static jinpu_dataset_t *dataset_ref(jinpu_dataset_t *ds)
{
    return (jinpu_dataset_t *)jp_dataset_ref(DS(ds));
}

static void dataset_release(jinpu_dataset_t *ds)
{
    jp_dataset_unref(DS(ds));
}

/* ---- options and arguments ------------------------------------------------------------ */

static const char *opt_string(const jinpu_options_t *o, const char *key)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return o->values[i];
    return NULL;
}

static int opt_int(const jinpu_options_t *o, const char *key, long long *out)
{
    const char *s = opt_string(o, key);
    if (!s) return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end) return -1;
    *out = v;
    return 1;
}

static const char *opt_key(const jinpu_options_t *o, size_t i)
{
    return o && i < o->n ? o->keys[i] : NULL;
}

static size_t arg_count(const jinpu_args_t *a)
{
    return a ? a->n : 0;
}

static int arg_kind(const jinpu_args_t *a, size_t i)
{
    return a && i < a->n ? a->kinds[i] : JINPU_ARG_NIL;
}

static const char *arg_string(const jinpu_args_t *a, size_t i)
{
    return a && i < a->n && a->kinds[i] == JINPU_ARG_STRING ? a->strings[i] : NULL;
}

static double arg_number(const jinpu_args_t *a, size_t i)
{
    return a && i < a->n && a->kinds[i] == JINPU_ARG_NUMBER ? a->numbers[i] : 0;
}

static int stop_requested(void)
{
    return jp_stop_pending();
}

/* ---- API 1.1: schemas, units, files --------------------------------------------------- */

static int dataset_schema(jinpu_dataset_t *ds, char **yaml, size_t *len, jinpu_error_t *err)
{
    jp_buf_t buf = JP_BUF_INIT;
    *yaml = NULL;
    if (len) *len = 0;
    /* the buffer keeps a NUL after its text */
    if (jp_yaml_write_buf(DS(ds), false, &buf, ERR(err)) || jp_buf_reserve(&buf, 1)) {
        jp_buf_free(&buf);
        return ERR(err) && ERR(err)->code ? (int)ERR(err)->code
                                          : api_error(err, JINPU_E_NOMEM, "out of memory");
    }
    buf.data[buf.len] = '\0';
    *yaml = jp_buf_detach(&buf, len);
    return *yaml ? JINPU_OK : api_error(err, JINPU_E_NOMEM, "out of memory");
}

static void text_free(char *text)
{
    jp_free(text);
}

static int unit_convert(const char *from, const char *to, double *values, size_t n,
                        jinpu_error_t *err)
{
    jp_unit_conv_t cv;
    if (!from || !to) return api_error(err, JINPU_E_UNIT, "unit_convert: a unit is missing");
    if (jp_unit_conversion(from, to, &cv, ERR(err))) return (int)ERR(err)->code;
    for (size_t i = 0; i < n; i++) values[i] = jp_unit_apply(&cv, values[i]);
    return JINPU_OK;
}

struct jinpu_output {
    jp_atomic_t af;
};

static jinpu_output_t *output_begin(const char *path, jinpu_error_t *err)
{
    jinpu_output_t *o = jp_calloc(1, sizeof *o);
    if (!o) {
        api_error(err, JINPU_E_NOMEM, "out of memory");
        return NULL;
    }
    if (jp_atomic_open(&o->af, path, ERR(err))) {
        jp_free(o);
        return NULL;
    }
    return o;
}

static const char *output_path(const jinpu_output_t *o)
{
    return o ? o->af.tmp_path : NULL;
}

/* The library wrote through its own descriptor to the same file: fsync on
 * ours syncs the file's data all the same, then the rename publishes it. */
static int output_commit(jinpu_output_t *o, jinpu_error_t *err)
{
    if (!o) return api_error(err, JINPU_E_ARG, "output_commit: no output");
    jp_status_t st = jp_atomic_commit(&o->af, ERR(err));
    jp_free(o);
    return st ? (int)st : JINPU_OK;
}

static void output_abort(jinpu_output_t *o)
{
    if (!o) return;
    jp_atomic_abort(&o->af);
    jp_free(o);
}

static const jinpu_api_t core_api = {
    .size = sizeof(jinpu_api_t),
    .major = JINPU_API_MAJOR,
    .minor = JINPU_API_MINOR,
    .version = JP_VERSION,
    .error = api_error,
    .error_at = api_error_at,
    .dataset_name = ds_name,
    .dataset_meta = ds_meta,
    .dataset_rows = ds_rows,
    .dataset_fields = ds_fields,
    .field_find = field_find,
    .field_name = field_name,
    .field_type = field_type,
    .field_unit = field_unit,
    .field_unit_field = field_unit_field,
    .field_title = field_title,
    .field_description = field_description,
    .cell_is_null = cell_is_null,
    .cell_qualifier = cell_qualifier,
    .cell_int = cell_int,
    .cell_number = cell_number,
    .cell_string = cell_string,
    .cell_bool = cell_bool,
    .cell_date = cell_date,
    .cell_text = cell_text,
    .cell_unit = cell_unit,
    .read_numbers = read_numbers,
    .builder_new = builder_new,
    .builder_free = builder_free,
    .builder_meta = builder_meta,
    .builder_field = builder_field,
    .put_null = put_null,
    .put_int = put_int,
    .put_number = put_number,
    .put_string = put_string,
    .put_bool = put_bool,
    .put_date = put_date,
    .put_text = put_text,
    .end_row = end_row,
    .builder_finish = builder_finish,
    .dataset_ref = dataset_ref,
    .dataset_release = dataset_release,
    .opt_string = opt_string,
    .opt_int = opt_int,
    .opt_key = opt_key,
    .arg_count = arg_count,
    .arg_kind = arg_kind,
    .arg_string = arg_string,
    .arg_number = arg_number,
    .stop_requested = stop_requested,
    .dataset_schema = dataset_schema,
    .text_free = text_free,
    .builder_schema = builder_schema,
    .unit_convert = unit_convert,
    .output_begin = output_begin,
    .output_path = output_path,
    .output_commit = output_commit,
    .output_abort = output_abort,
};

const jinpu_api_t *jp_api_core(void)
{
    return &core_api;
}
