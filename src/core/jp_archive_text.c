/*
 * jp_archive_text.c - what an archive may hold, checked before an export
 * writes anything: UTF-8 everywhere, no NUL in a cell, at least one field,
 * field names that are not empty and do not start with a byte-order mark,
 * and with inline qualifiers (`~1.14e9`) only the figures that notation
 * gives back.  The readers refuse (or silently change) anything else, and
 * an archive that verifies must load, so the exporter refuses it first,
 * naming the dataset, row and field.  Pure checks over the dataset: never
 * writes, never allocates more than a bitmap per string dictionary.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_archive_int.h"
#include "jp_mem.h"

bool jp_arc_utf8_ok(const char *str, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0)
            k = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            k = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            k = 3, cp = c & 0x07;
        else
            break;
        size_t j = 1;
        for (; j <= k && i + j < n && (s[i + j] & 0xC0) == 0x80; j++)
            cp = (cp << 6) | (s[i + j] & 0x3F);
        if (j <= k) break;
        /* overlong forms, surrogates and code points past U+10FFFF */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            break;
        i += k + 1;
    }
    if (bad) *bad = i;
    return i >= n;
}

/* One piece of metadata or schema text. */
static jp_status_t text_ok(const char *s, const char *what, const char *field, jp_error_t *err)
{
    size_t bad;
    if (!s || jp_arc_utf8_ok(s, strlen(s), &bad)) return JP_OK;
    jp_status_t st = jp_error_set(err, JP_ERR_INVALID,
                                  "the %s is not valid UTF-8 (byte %zu); an archive holds UTF-8 "
                                  "text only",
                                  what, bad + 1);
    if (field) jp_error_field(err, field);
    return st;
}

static bool starts_with_bom(const char *s)
{
    return (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
           (unsigned char)s[2] == 0xBF;
}

/* Why a cell cannot go into an archive, or NULL. */
static const char *cell_problem(const char *s, size_t n, size_t *at)
{
    const char *nul = memchr(s, '\0', n);
    if (nul) {
        *at = (size_t)(nul - s);
        return "a NUL byte";
    }
    if (!jp_arc_utf8_ok(s, n, at)) return "text that is not valid UTF-8";
    return NULL;
}

/* The string cells of one column; the dictionary is checked once per
 * distinct string, the rows only when some string is bad. */
static jp_status_t column_ok(const jp_column_t *c, const char *field, size_t row0, jp_error_t *err)
{
    const jp_strdict_t *d = c->dict;
    unsigned char *badset = NULL;
    for (uint32_t code = 0; code < d->count; code++) {
        size_t len, at;
        const char *s = jp_strdict_get(d, code, &len);
        if (!cell_problem(s, len, &at)) continue;
        if (!badset && !(badset = jp_calloc((d->count + 7) / 8, 1)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        badset[code / 8] |= (unsigned char)(1u << (code % 8));
    }
    if (!badset) return JP_OK;
    jp_status_t st = JP_OK;
    for (size_t r = 0; r < c->len && !st; r++) {
        uint32_t code = c->v.s[r];
        if (jp_column_is_null(c, r) || !(badset[code / 8] & (1u << (code % 8)))) continue;
        size_t len, at;
        const char *s = jp_column_str(c, r, &len);
        const char *why = cell_problem(s, len, &at);
        st = jp_error_set(err, JP_ERR_INVALID,
                          "%s at byte %zu of the cell; an archive holds UTF-8 text without NUL "
                          "bytes (the CSV and YAML readers refuse anything else)",
                          why, at + 1);
        jp_error_row(err, (long)(row0 + r) + 1);
        jp_error_field(err, field);
    }
    jp_free(badset);
    return st;
}

static jp_status_t field_ok(const jp_field_t *f, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    if (!f->name[0])
        return jp_error_set(err, JP_ERR_INVALID,
                            "a field has an empty name (a CSV header cannot hold it)");
    if ((st = text_ok(f->name, "field name", NULL, err))) return st;
    if (starts_with_bom(f->name)) {
        st = jp_error_set(err, JP_ERR_INVALID,
                          "the field name starts with U+FEFF, a byte-order mark, which readers "
                          "drop");
        jp_error_field(err, f->name);
        return st;
    }
    if (!st) st = text_ok(f->unit, "unit", f->name, err);
    if (!st) st = text_ok(f->title, "title", f->name, err);
    if (!st) st = text_ok(f->description, "description", f->name, err);
    if (!st) st = text_ok(f->source, "source", f->name, err);
    if (!st) st = text_ok(f->constraints.pattern, "pattern", f->name, err);
    const jp_column_t *e = f->constraints.enum_values;
    for (size_t i = 0; !st && e && e->type == JP_TYPE_STRING && i < e->len; i++) {
        if (jp_column_is_null(e, i)) continue;
        size_t len = 0, at;
        const char *s = jp_column_str(e, i, &len);
        const char *why = cell_problem(s, len, &at);
        if (!why) continue;
        st = jp_error_set(err, JP_ERR_INVALID, "value %zu of the enum constraint: %s", i + 1, why);
        jp_error_field(err, f->name);
    }
    return st;
}

/*
 * Inline qualifiers: the CSV reader reads a qualified cell ("~nan",
 * ">9007199254740993") as a figure, through a double, so a qualified NaN or
 * infinity does not read at all and a qualified integer past 2^53 comes
 * back rounded.  The side columns (the default) hold them exactly.
 */
static jp_status_t inline_ok(const jp_column_t *c, const char *field, size_t row0, jp_error_t *err)
{
    if (!c->quals) return JP_OK;
    for (size_t r = 0; r < c->len; r++) {
        if (jp_column_is_null(c, r) || jp_column_qual(c, r) == JP_Q_EXACT) continue;
        const char *why = NULL;
        if (c->type == JP_TYPE_NUMBER && !isfinite(c->v.d[r]))
            why = "a qualified NaN or infinity";
        else if (c->type == JP_TYPE_INT &&
                 (c->v.i[r] > ((int64_t)1 << 53) || c->v.i[r] < -((int64_t)1 << 53)))
            why = "a qualified integer beyond 2^53";
        if (!why) continue;
        jp_status_t st = jp_error_set(err, JP_ERR_INVALID,
                                      "%s cannot be written with inline qualifiers (they read "
                                      "back as figures); use the qualifier columns (the default)",
                                      why);
        jp_error_row(err, (long)(row0 + r) + 1);
        jp_error_field(err, field);
        return st;
    }
    return JP_OK;
}

jp_status_t jp_arc_inline_check(const jp_dataset_t *ds, size_t row0, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < ds->schema.n_fields && !st; i++)
        if (jp_type_is_numeric(ds->cols[i]->type))
            st = inline_ok(ds->cols[i], ds->schema.fields[i].name, row0, err);
    return st;
}

jp_status_t jp_arc_cells_check(const jp_dataset_t *ds, size_t row0, jp_error_t *err)
{
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < ds->schema.n_fields && !st; i++)
        if (ds->cols[i]->type == JP_TYPE_STRING)
            st = column_ok(ds->cols[i], ds->schema.fields[i].name, row0, err);
    return st;
}

jp_status_t jp_arc_meta_check(const jp_dataset_t *ds, jp_error_t *err)
{
    const jp_meta_t *m = &ds->meta;
    if (ds->schema.n_fields == 0)
        return jp_error_set(err, JP_ERR_INVALID, "no fields: there is nothing to write");
    jp_status_t st = text_ok(m->name, "dataset name", NULL, err);
    if (!st) st = text_ok(m->title, "title", NULL, err);
    if (!st) st = text_ok(m->description, "description", NULL, err);
    if (!st) st = text_ok(m->source, "source", NULL, err);
    if (!st) st = text_ok(m->source_file, "source file", NULL, err);
    if (!st) st = text_ok(m->period, "period", NULL, err);
    if (!st) st = text_ok(m->license, "license", NULL, err);
    for (size_t i = 0; i < m->n_notes && !st; i++) st = text_ok(m->notes[i], "note", NULL, err);
    for (size_t i = 0; i < ds->schema.n_fields && !st; i++)
        st = field_ok(&ds->schema.fields[i], err);
    return st;
}
