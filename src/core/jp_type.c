/*
 * jp_type.c - the per-type table (jp_type_info, jp_column.h): for each
 * column type its names, its element width, and how one cell or value of
 * it is read, appended, compared, hashed, written as text and turned into
 * a number.
 *
 * Owns: every per-type fact that code outside the hot loops needs; adding
 * a type starts with an entry here.  Must never: be called once per cell
 * from a loop that could switch once per column instead (the CSV reader and
 * writer, sort keys, joins, groups and the expression evaluator keep their
 * own loops, specialised per type, for speed).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_column.h"
#include "jp_keys.h"

/* ---- one cell of a column ---- */

static void get_int(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.i = c->v.i[i];
}
static void get_number(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.d = c->v.d[i];
}
static void get_bool(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.b = c->v.b[i] != 0;
}
static void get_date(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.date = c->v.date[i];
}
static void get_period(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.period = c->v.p[i];
}
static void get_string(const jp_column_t *c, size_t i, jp_value_t *out)
{
    out->u.s.ptr = jp_column_str(c, i, &out->u.s.len);
}

static jp_status_t push_int(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_int(c, v->u.i, v->qual);
}
static jp_status_t push_number(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_number(c, v->u.d, v->qual);
}
static jp_status_t push_bool(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_bool(c, v->u.b);
}
static jp_status_t push_date(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_date(c, v->u.date);
}
static jp_status_t push_period(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_period(c, &v->u.period);
}
static jp_status_t push_string(jp_column_t *c, const jp_value_t *v)
{
    return jp_column_push_str(c, v->u.s.ptr, v->u.s.len);
}

/* Figures compare across INT and NUMBER; NaN sorts after every number. */
static int cmp_number_values(double x, double y)
{
    if (isnan(x) || isnan(y)) return isnan(x) == isnan(y) ? 0 : (isnan(x) ? 1 : -1);
    return x < y ? -1 : x > y;
}
static int cmp_int(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    if (b->type == JP_TYPE_NUMBER) {
        double x = (double)a->v.i[i], y = b->v.d[j];
        return x < y ? -1 : x > y;
    }
    return a->v.i[i] < b->v.i[j] ? -1 : a->v.i[i] > b->v.i[j];
}
static int cmp_number(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    return cmp_number_values(a->v.d[i], b->type == JP_TYPE_INT ? (double)b->v.i[j] : b->v.d[j]);
}
static int cmp_bool(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    return a->v.b[i] - b->v.b[j];
}
static int cmp_date(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    return a->v.date[i] < b->v.date[j] ? -1 : a->v.date[i] > b->v.date[j];
}
static int cmp_period(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    return jp_period_cmp(&a->v.p[i], &b->v.p[j]);
}
/* Byte order, shorter first on ties. */
static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c < 0 ? -1 : 1;
    return la < lb ? -1 : la > lb;
}
static int cmp_string(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    if (a->dict == b->dict && a->v.s[i] == b->v.s[j]) return 0;
    size_t la, lb;
    const char *sa = jp_column_str(a, i, &la), *sb = jp_column_str(b, j, &lb);
    return cmp_bytes(sa, la, sb, lb);
}

/* Equal cells (cmp 0) hash equally, across dictionaries and between an
 * INT and an integral NUMBER, so that keys of those types can refer to each
 * other.  A seed per type keeps, say, true and 1 apart. */
static uint64_t hash_int(const jp_column_t *c, size_t i)
{
    return jp_key_mix(0, (uint64_t)c->v.i[i]);
}
static uint64_t hash_number(const jp_column_t *c, size_t i)
{
    double d = c->v.d[i];
    if (isnan(d)) return 0x4e614eULL;
    if (d == floor(d) && fabs(d) < 9.2e18) return jp_key_mix(0, (uint64_t)(int64_t)d);
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return jp_key_mix(0x5555, b);
}
static uint64_t hash_bool(const jp_column_t *c, size_t i)
{
    return jp_key_mix(77, c->v.b[i]);
}
static uint64_t hash_date(const jp_column_t *c, size_t i)
{
    return jp_key_mix(0xda7e, (uint64_t)(uint32_t)c->v.date[i]);
}
static uint64_t hash_period(const jp_column_t *c, size_t i)
{
    const jp_period_t *p = &c->v.p[i];
    return jp_key_mix(0x9e71, ((uint64_t)(uint32_t)p->to << 32) ^ (uint32_t)p->from ^
                                  ((uint64_t)p->kind << 61));
}
static uint64_t hash_string(const jp_column_t *c, size_t i)
{
    return jp_key_mix(0xabcd, c->dict->hashes[c->v.s[i]]);
}

/* ---- one value ---- */

static size_t text_len(int n)
{
    return n > 0 ? (size_t)n : 0;
}
static size_t text_int(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    *ptr = buf;
    return text_len(snprintf(buf, size, "%lld", (long long)v->u.i));
}
static size_t text_number(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    *ptr = buf;
    return text_len(jp_format_double(v->u.d, buf, size));
}
static size_t text_bool(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    *ptr = buf;
    return text_len(snprintf(buf, size, "%s", v->u.b ? "true" : "false"));
}
static size_t text_date(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    (void)size; /* buf holds 64: a date needs at most 12 */
    *ptr = buf;
    jp_date_format(v->u.date, buf);
    return strlen(buf);
}
static size_t text_period(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    *ptr = buf;
    jp_period_format(&v->u.period, buf, size);
    return strlen(buf);
}
static size_t text_string(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    (void)buf;
    (void)size;
    *ptr = v->u.s.ptr;
    return v->u.s.len;
}

static bool eq_int(const jp_value_t *a, const jp_value_t *b)
{
    return a->u.i == b->u.i;
}
static bool eq_number(const jp_value_t *a, const jp_value_t *b)
{
    return a->u.d == b->u.d || (isnan(a->u.d) && isnan(b->u.d));
}
static bool eq_bool(const jp_value_t *a, const jp_value_t *b)
{
    return a->u.b == b->u.b;
}
static bool eq_date(const jp_value_t *a, const jp_value_t *b)
{
    return a->u.date == b->u.date;
}
static bool eq_period(const jp_value_t *a, const jp_value_t *b)
{
    return jp_period_eq(&a->u.period, &b->u.period);
}
static bool eq_string(const jp_value_t *a, const jp_value_t *b)
{
    return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
}

static bool num_int(const jp_value_t *v, double *out)
{
    *out = (double)v->u.i;
    return true;
}
static bool num_number(const jp_value_t *v, double *out)
{
    *out = v->u.d;
    return true;
}
static bool num_bool(const jp_value_t *v, double *out)
{
    *out = v->u.b ? 1.0 : 0.0;
    return true;
}
static bool num_date(const jp_value_t *v, double *out)
{
    *out = v->u.date;
    return true;
}
static bool num_none(const jp_value_t *v, double *out)
{
    (void)v;
    (void)out;
    return false;
}

/* ---- no type: what an unknown or NONE type answers ---- */

static void get_none(const jp_column_t *c, size_t i, jp_value_t *out)
{
    (void)c;
    (void)i;
    (void)out;
}
static jp_status_t push_none(jp_column_t *c, const jp_value_t *v)
{
    (void)c;
    (void)v;
    return JP_ERR_TYPE;
}
static int cmp_none(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    (void)a, (void)i, (void)b, (void)j;
    return 0;
}
static uint64_t hash_none(const jp_column_t *c, size_t i)
{
    (void)c;
    (void)i;
    return 0;
}
static size_t text_none(const jp_value_t *v, char *buf, size_t size, const char **ptr)
{
    (void)v;
    (void)size;
    *ptr = buf;
    return 0;
}
static bool eq_none(const jp_value_t *a, const jp_value_t *b)
{
    (void)a;
    (void)b;
    return true;
}

static const jp_type_info_t types[JP_TYPE_COUNT] = {
    [JP_TYPE_NONE] = {.name = "none",
                      .alias = {NULL, NULL},
                      .width = 1,
                      .get = get_none,
                      .push = push_none,
                      .cmp = cmp_none,
                      .hash = hash_none,
                      .text = text_none,
                      .equal = eq_none,
                      .as_double = num_none},
    [JP_TYPE_INT] = {.name = "integer",
                     .alias = {"int", NULL},
                     .width = sizeof(int64_t),
                     .get = get_int,
                     .push = push_int,
                     .cmp = cmp_int,
                     .hash = hash_int,
                     .text = text_int,
                     .equal = eq_int,
                     .as_double = num_int},
    [JP_TYPE_NUMBER] = {.name = "number",
                        .alias = {"float", "double"},
                        .width = sizeof(double),
                        .get = get_number,
                        .push = push_number,
                        .cmp = cmp_number,
                        .hash = hash_number,
                        .text = text_number,
                        .equal = eq_number,
                        .as_double = num_number},
    [JP_TYPE_STRING] = {.name = "string",
                        .alias = {"str", NULL},
                        .width = sizeof(uint32_t),
                        .get = get_string,
                        .push = push_string,
                        .cmp = cmp_string,
                        .hash = hash_string,
                        .text = text_string,
                        .equal = eq_string,
                        .as_double = num_none},
    [JP_TYPE_BOOL] = {.name = "boolean",
                      .alias = {"bool", NULL},
                      .width = 1,
                      .get = get_bool,
                      .push = push_bool,
                      .cmp = cmp_bool,
                      .hash = hash_bool,
                      .text = text_bool,
                      .equal = eq_bool,
                      .as_double = num_bool},
    [JP_TYPE_DATE] = {.name = "date",
                      .alias = {NULL, NULL},
                      .width = sizeof(int32_t),
                      .get = get_date,
                      .push = push_date,
                      .cmp = cmp_date,
                      .hash = hash_date,
                      .text = text_date,
                      .equal = eq_date,
                      .as_double = num_date},
    [JP_TYPE_PERIOD] = {.name = "period",
                        .alias = {NULL, NULL},
                        .width = sizeof(jp_period_t),
                        .get = get_period,
                        .push = push_period,
                        .cmp = cmp_period,
                        .hash = hash_period,
                        .text = text_period,
                        .equal = eq_period,
                        .as_double = num_none},
};

const jp_type_info_t *jp_type_info(jp_type_t t)
{
    return &types[(unsigned)t < JP_TYPE_COUNT ? t : JP_TYPE_NONE];
}

/* ---- names and values (jp_value.h) ---- */

const char *jp_type_name(jp_type_t t)
{
    return (unsigned)t < JP_TYPE_COUNT ? types[t].name : "?";
}

bool jp_type_from_name(const char *name, jp_type_t *out)
{
    for (int t = JP_TYPE_NONE + 1; t < JP_TYPE_COUNT; t++) {
        const jp_type_info_t *ti = &types[t];
        if (strcmp(name, ti->name) == 0 || (ti->alias[0] && strcmp(name, ti->alias[0]) == 0) ||
            (ti->alias[1] && strcmp(name, ti->alias[1]) == 0)) {
            *out = (jp_type_t)t;
            return true;
        }
    }
    return false;
}

bool jp_value_as_double(const jp_value_t *v, double *out)
{
    return !v->is_null && jp_type_info(v->type)->as_double(v, out);
}
