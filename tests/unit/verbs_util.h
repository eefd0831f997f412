/*
 * verbs_util.h - small datasets written as text for the verb tests.
 *
 *   mk("k:s,v:n:t,c:i", "a,1.5,3;b,,>4;a,~2,")
 *
 * builds fields k (string), v (number, unit t), c (integer) with three
 * rows; an empty cell is null, a leading ~ > >= < <= sets the qualifier.
 * Types: i integer, n number, s string, b boolean, d date, p period.
 * dump() writes a dataset back in the same form (header "k,v,c", rows
 * separated by ';'), so tests compare against hand-written text.
 */
#ifndef VERBS_UTIL_H
#define VERBS_UTIL_H

#include <stdlib.h>
#include <string.h>
#include "jp_dataset.h"
#include "jp_mem.h"
#include "jp_value.h"

static inline jp_qual_t vu_qual(const char **s)
{
    const char *p = *s;
    jp_qual_t q = JP_Q_EXACT;
    if (p[0] == '~')
        q = JP_Q_APPROX, p++;
    else if (p[0] == '>' && p[1] == '=')
        q = JP_Q_AT_LEAST, p += 2;
    else if (p[0] == '<' && p[1] == '=')
        q = JP_Q_AT_MOST, p += 2;
    else if (p[0] == '>')
        q = JP_Q_MORE_THAN, p++;
    else if (p[0] == '<')
        q = JP_Q_LESS_THAN, p++;
    *s = p;
    return q;
}

static inline jp_dataset_t *mk(const char *fields, const char *rows)
{
    char names[16][32], units[16][32];
    char types[16];
    int nf = 0;
    const char *p = fields;
    while (*p && nf < 16) {
        size_t n = strcspn(p, ":");
        snprintf(names[nf], sizeof names[nf], "%.*s", (int)n, p);
        p += n + 1;
        types[nf] = *p++;
        units[nf][0] = '\0';
        if (*p == ':') {
            p++;
            n = strcspn(p, ",");
            snprintf(units[nf], sizeof units[nf], "%.*s", (int)n, p);
            p += n;
        }
        if (*p == ',') p++;
        nf++;
    }
    jp_column_t *cols[16];
    for (int k = 0; k < nf; k++) {
        jp_type_t t = types[k] == 'i'   ? JP_TYPE_INT
                      : types[k] == 'n' ? JP_TYPE_NUMBER
                      : types[k] == 's' ? JP_TYPE_STRING
                      : types[k] == 'b' ? JP_TYPE_BOOL
                      : types[k] == 'd' ? JP_TYPE_DATE
                                        : JP_TYPE_PERIOD;
        cols[k] = jp_column_new(t, 4);
    }
    p = rows;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t rl = end ? (size_t)(end - p) : strlen(p);
        char row[512];
        snprintf(row, sizeof row, "%.*s", (int)rl, p);
        char *c = row;
        for (int k = 0; k < nf; k++) {
            char *comma = strchr(c, ',');
            if (comma) *comma = '\0';
            const char *cell = c;
            jp_column_t *col = cols[k];
            if (!*cell)
                jp_column_push_null(col);
            else
                switch (col->type) {
                case JP_TYPE_INT: {
                    jp_qual_t q = vu_qual(&cell);
                    jp_column_push_int(col, strtoll(cell, NULL, 10), q);
                    break;
                }
                case JP_TYPE_NUMBER: {
                    jp_qual_t q = vu_qual(&cell);
                    jp_column_push_number(col, strtod(cell, NULL), q);
                    break;
                }
                case JP_TYPE_STRING:
                    jp_column_push_str(col, cell, strlen(cell));
                    break;
                case JP_TYPE_BOOL:
                    jp_column_push_bool(col, strcmp(cell, "true") == 0);
                    break;
                case JP_TYPE_DATE: {
                    int32_t d = 0;
                    jp_date_parse(cell, strlen(cell), &d);
                    jp_column_push_date(col, d);
                    break;
                }
                default: {
                    jp_period_t per;
                    jp_period_parse(cell, strlen(cell), &per, NULL);
                    jp_column_push_period(col, &per);
                }
                }
            c = comma ? comma + 1 : c + strlen(c);
        }
        p = end ? end + 1 : NULL;
    }
    jp_dataset_t *ds = jp_dataset_new();
    for (int k = 0; k < nf; k++)
        jp_dataset_add(ds, names[k], cols[k], units[k][0] ? units[k] : NULL, NULL);
    return ds;
}

/* "k,v;a,1.5;b," with qualifier symbols; NULL dataset -> "NULL". */
static inline const char *dump(jp_dataset_t *ds)
{
    static char buf[8192];
    if (!ds) return "NULL";
    jp_dataset_need_all(ds, NULL);
    size_t n = 0;
    buf[0] = '\0';
    for (size_t f = 0; f < ds->schema.n_fields; f++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", f ? "," : "",
                              ds->schema.fields[f].name);
    for (size_t r = 0; r < ds->nrows && n < sizeof buf - 200; r++) {
        buf[n++] = ';';
        for (size_t f = 0; f < ds->schema.n_fields; f++) {
            const jp_column_t *c = ds->cols[f];
            char cell[128];
            const char *p;
            size_t len = 0;
            if (!jp_column_is_null(c, r))
                len = jp_column_cell_text(c, r, cell, sizeof cell, &p);
            else
                p = "";
            n += (size_t)snprintf(
                buf + n, sizeof buf - n, "%s%s%.*s", f ? "," : "",
                jp_column_is_null(c, r) ? "" : jp_qual_symbol(jp_column_qual(c, r)), (int)len, p);
        }
    }
    buf[n] = '\0';
    return buf;
}

/* Type letters of a dataset's fields: "sni". */
static inline const char *types_of(const jp_dataset_t *ds)
{
    static char buf[64];
    size_t k = 0;
    for (size_t f = 0; f < ds->schema.n_fields && k < 63; f++) {
        jp_type_t t = ds->schema.fields[f].type;
        buf[k++] = t == JP_TYPE_INT      ? 'i'
                   : t == JP_TYPE_NUMBER ? 'n'
                   : t == JP_TYPE_STRING ? 's'
                   : t == JP_TYPE_BOOL   ? 'b'
                   : t == JP_TYPE_DATE   ? 'd'
                   : t == JP_TYPE_PERIOD ? 'p'
                                         : '?';
    }
    buf[k] = '\0';
    return buf;
}

#define CHECK_DS(expr, want)                                                                       \
    do {                                                                                           \
        jp_dataset_t *d_ = (expr);                                                                 \
        const char *got_ = dump(d_);                                                               \
        CHECK_MSG(strcmp(got_, want) == 0, "%s\n     got  %s\n     want %s%s%s", #expr, got_,      \
                  want, d_ ? "" : "\n     error: ", d_ ? "" : err.msg);                            \
        jp_dataset_unref(d_);                                                                      \
    } while (0)

/* The call fails and its message contains frag. */
#define CHECK_FAILS(expr, frag)                                                                    \
    do {                                                                                           \
        jp_error_clear(&err);                                                                      \
        jp_dataset_t *d_ = (expr);                                                                 \
        CHECK_MSG(d_ == NULL && strstr(err.msg, frag) != NULL, "%s: got '%s'", #expr,              \
                  d_ ? dump(d_) : err.msg);                                                        \
        jp_dataset_unref(d_);                                                                      \
    } while (0)

#endif
