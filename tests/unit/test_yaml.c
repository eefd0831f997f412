/*
 * test_yaml.c - the YAML dataset format: round trips of hand-built
 * datasets, figures as printed, every refusal with its message and exact
 * position, hostile and broken documents, allocation failures.
 */
#include <dirent.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "jp_buf.h"
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_file.h"
#include "jp_format.h"
#include "jp_mem.h"
#include "jp_schema.h"
#include "jp_value.h"
#include "jp_yaml.h"
#include "unit.h"

/* ---- helpers ----------------------------------------------------------------- */

static jp_dataset_t *read_text(const char *text, jp_error_t *err)
{
    jp_dataset_t *ds = NULL;
    jp_status_t st = jp_yaml_read_mem("t.yaml", text, strlen(text), NULL, &ds, err);
    if (st) {
        CHECK(ds == NULL);
        return NULL;
    }
    return ds;
}

static jp_dataset_t *read_ok(int at, const char *text)
{
    jp_error_t err;
    jp_dataset_t *ds = read_text(text, &err);
    char buf[1400];
    CHECK_MSG(ds != NULL, "line %d: %s", at, jp_error_format(&err, buf, sizeof buf));
    return ds;
}
#define READ_OK(text) read_ok(__LINE__, text)

/* Read must fail with this code, position, row/field and a message containing msg. */
static void expect_err(int at, const char *text, jp_status_t code, long line, long col, long row,
                       const char *field, const char *msg)
{
    jp_error_t err;
    jp_dataset_t *ds = read_text(text, &err);
    char buf[1400];
    jp_error_format(&err, buf, sizeof buf);
    CHECK_MSG(ds == NULL, "line %d: read succeeded", at);
    jp_dataset_unref(ds);
    if (ds) return;
    CHECK_MSG(err.code == code, "line %d: code %s, expected %s: %s", at, jp_status_name(err.code),
              jp_status_name(code), buf);
    CHECK_MSG(strcmp(err.file, "t.yaml") == 0, "line %d: file '%s'", at, err.file);
    CHECK_MSG(err.line == line && err.col == col, "line %d: at %ld:%ld, expected %ld:%ld: %s", at,
              err.line, err.col, line, col, buf);
    CHECK_MSG(err.row == row, "line %d: row %ld, expected %ld: %s", at, err.row, row, buf);
    CHECK_MSG(strcmp(err.field, field ? field : "") == 0, "line %d: field '%s', expected '%s'", at,
              err.field, field ? field : "");
    CHECK_MSG(strstr(err.msg, msg) != NULL, "line %d: message '%s' lacks '%s'", at, err.msg, msg);
}
#define ERR(text, code, line, col, row, field, msg)                                                \
    expect_err(__LINE__, text, code, line, col, row, field, msg)

static jp_dataset_t *round_trip(int at, jp_dataset_t *ds, bool with_rows)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    char buf[1400];
    jp_status_t st = jp_yaml_write_buf(ds, with_rows, &b, &err);
    CHECK_MSG(st == JP_OK, "line %d: write: %s", at, jp_error_format(&err, buf, sizeof buf));
    if (st) return NULL;
    jp_dataset_t *back = NULL;
    st = jp_yaml_read_mem("rt.yaml", b.data, b.len, NULL, &back, &err);
    CHECK_MSG(st == JP_OK, "line %d: read back: %s\n%s", at, jp_error_format(&err, buf, sizeof buf),
              b.data);
    if (!st && with_rows) {
        char why[256] = "";
        bool eq = jp_dataset_equal(ds, back, why, sizeof why);
        CHECK_MSG(eq, "line %d: differs after a round trip: %s\n%s", at, why, b.data);
    }
    jp_buf_free(&b);
    return back;
}

static jp_column_t *strings(const char *const *v, size_t n)
{
    jp_column_t *c = jp_column_new(JP_TYPE_STRING, n);
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            jp_column_push_str(c, v[i], strlen(v[i]));
        else
            jp_column_push_null(c);
    }
    return c;
}

static jp_period_t period(const char *s)
{
    jp_period_t p;
    memset(&p, 0, sizeof p);
    CHECK_MSG(jp_period_parse(s, strlen(s), &p, NULL), "period %s", s);
    return p;
}

static int32_t date(const char *s)
{
    int32_t d = 0;
    CHECK_MSG(jp_date_parse(s, strlen(s), &d), "date %s", s);
    return d;
}

/* ---- round trips ---------------------------------------------------------------- */

#define NROWS 8

static jp_dataset_t *build_full(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_error_t err;
    jp_meta_set(&ds->meta.name, "full");
    jp_meta_set(&ds->meta.title, "2022");
    jp_meta_set(&ds->meta.description,
                "line one\nline two: with a colon\n\n  indented # not a comment ");
    jp_meta_set(&ds->meta.source, "《塑造新优势 迸发新活力》(2022), section 大樱桃");
    jp_meta_set(&ds->meta.source_file, "seed/000.txt");
    jp_meta_set(&ds->meta.period, "2022-01..2022-08");
    jp_meta_set(&ds->meta.license, "");
    jp_meta_add_note(&ds->meta, "增长6.5倍 is recorded as a growth of 650 percent.");
    jp_meta_add_note(&ds->meta, "yes");
    jp_meta_add_note(&ds->meta, "- not a list item");

    /* integer with qualifiers, a unit and bounds */
    jp_column_t *c = jp_column_new(JP_TYPE_INT, NROWS);
    const int64_t iv[NROWS] = {0, -1, INT64_MIN, INT64_MAX, 9007199254740993LL, 148000, 37800, 5};
    for (int i = 0; i < NROWS; i++) jp_column_push_int(c, iv[i], (jp_qual_t)(i % JP_QUAL_COUNT));
    jp_field_t f;
    jp_field_init(&f);
    f.name = "count";
    f.type = JP_TYPE_INT;
    f.unit = "person";
    f.title = "People";
    f.description = "How many: \"quoted\"";
    f.source = "section 2";
    f.constraints.required = true;
    f.constraints.unique = true;
    f.constraints.has_minimum = true;
    f.constraints.minimum.type = JP_TYPE_INT;
    f.constraints.minimum.u.i = INT64_MIN;
    f.constraints.has_maximum = true;
    f.constraints.maximum.type = JP_TYPE_INT;
    f.constraints.maximum.u.i = INT64_MAX;
    CHECK(jp_dataset_add_column(ds, &f, c, &err) == JP_OK);

    /* numbers at the edges, with qualifiers and nulls */
    c = jp_column_new(JP_TYPE_NUMBER, NROWS);
    const double dv[NROWS] = {1e308, 5e-324, -0.0, 0.1, NAN, INFINITY, -INFINITY, 1.0 / 3};
    for (int i = 0; i < NROWS; i++) jp_column_push_number(c, dv[i], (jp_qual_t)((i + 1) % 6));
    jp_column_t *en = jp_column_new(JP_TYPE_NUMBER, 3);
    jp_column_push_number(en, 0.5, JP_Q_EXACT);
    jp_column_push_number(en, -2.5e-10, JP_Q_EXACT);
    jp_column_push_null(en);
    jp_field_init(&f);
    f.name = "value";
    f.type = JP_TYPE_NUMBER;
    f.unit_field = "unit";
    f.constraints.has_minimum = true;
    f.constraints.minimum.type = JP_TYPE_NUMBER;
    f.constraints.minimum.u.d = -1e300;
    f.constraints.enum_values = en;
    CHECK(jp_dataset_add_column(ds, &f, c, &err) == JP_OK);
    jp_column_unref(en);

    const char *units[NROWS] = {"mu", "CNY", NULL, "t", "percent", "10k CNY", "CNY/t", "person"};
    c = strings(units, NROWS);
    CHECK(jp_dataset_add(ds, "unit", c, NULL, &err) == JP_OK);

    /* awkward text */
    static const char nul[] = "nul\0byte";
    const char *sv[NROWS] = {"", " lead", "yes", "000123", "a: b #c", NULL, "中文 😀", "x\ny\r\n"};
    c = jp_column_new(JP_TYPE_STRING, NROWS);
    for (int i = 0; i < NROWS; i++) {
        if (i == 5)
            jp_column_push_str(c, nul, sizeof nul - 1);
        else
            jp_column_push_str(c, sv[i], strlen(sv[i]));
    }
    const char *ev[] = {"", "yes", "000123", "a: b #c", NULL};
    en = strings(ev, 5);
    jp_field_init(&f);
    f.name = "text";
    f.type = JP_TYPE_STRING;
    f.constraints.min_length = 0;
    f.constraints.max_length = 100;
    f.constraints.pattern = "^[a-z]+: \\d{3}$";
    f.constraints.enum_values = en;
    jp_column_t *bounds = strings((const char *const[]){"", "~"}, 2);
    f.constraints.bounds = bounds;
    f.constraints.has_minimum = f.constraints.has_maximum = true;
    jp_column_get(bounds, 0, &f.constraints.minimum);
    jp_column_get(bounds, 1, &f.constraints.maximum);
    CHECK(jp_dataset_add_column(ds, &f, c, &err) == JP_OK);
    jp_column_unref(en);
    jp_column_unref(bounds);

    c = jp_column_new(JP_TYPE_BOOL, NROWS);
    for (int i = 0; i < NROWS; i++) {
        if (i % 3 == 2)
            jp_column_push_null(c);
        else
            jp_column_push_bool(c, i % 2);
    }
    CHECK(jp_dataset_add(ds, "flag", c, NULL, &err) == JP_OK);

    c = jp_column_new(JP_TYPE_DATE, NROWS);
    const char *dates[NROWS] = {"0001-01-01", "9999-12-31", "1970-01-01", "2024-02-29",
                                "1969-12-31", "2022-07-15", NULL,         "2000-01-01"};
    for (int i = 0; i < NROWS; i++) {
        if (dates[i])
            jp_column_push_date(c, date(dates[i]));
        else
            jp_column_push_null(c);
    }
    jp_field_init(&f);
    f.name = "day";
    f.type = JP_TYPE_DATE;
    f.constraints.has_minimum = true;
    f.constraints.minimum.type = JP_TYPE_DATE;
    f.constraints.minimum.u.date = date("0001-01-01");
    CHECK(jp_dataset_add_column(ds, &f, c, &err) == JP_OK);

    c = jp_column_new(JP_TYPE_PERIOD, NROWS);
    const char *periods[NROWS] = {"2021",
                                  "2022-07",
                                  "2022-07-15",
                                  "2022-Q3",
                                  "2022-01..2022-08",
                                  "..2021",
                                  "last 5 years..2022",
                                  NULL};
    jp_column_t *pe = jp_column_new(JP_TYPE_PERIOD, 3);
    for (int i = 0; i < NROWS; i++) {
        if (periods[i]) {
            jp_period_t p = period(periods[i]);
            jp_column_push_period(c, &p);
            if (i < 3) jp_column_push_period(pe, &p);
        } else {
            jp_column_push_null(c);
        }
    }
    jp_field_init(&f);
    f.name = "when";
    f.type = JP_TYPE_PERIOD;
    f.constraints.has_maximum = true;
    f.constraints.maximum.type = JP_TYPE_PERIOD;
    f.constraints.maximum.u.period = period("2019..");
    f.constraints.enum_values = pe;
    CHECK(jp_dataset_add_column(ds, &f, c, &err) == JP_OK);
    jp_column_unref(pe);

    /* field names that would read as something else */
    c = jp_column_new(JP_TYPE_INT, NROWS);
    for (int i = 0; i < NROWS; i++) jp_column_push_null(c);
    CHECK(jp_dataset_add(ds, "null", c, "亩", &err) == JP_OK);
    c = jp_column_new(JP_TYPE_STRING, NROWS);
    for (int i = 0; i < NROWS; i++) jp_column_push_str(c, "2022", 4);
    CHECK(jp_dataset_add(ds, "2022", c, NULL, &err) == JP_OK);
    /* jp_dataset_add takes the unit as given: make it canonical as the reader would */
    jp_meta_set(&ds->schema.fields[ds->schema.n_fields - 2].unit, "mu");

    ds->schema.primary_key = jp_calloc(2, sizeof(char *));
    ds->schema.primary_key[0] = jp_strdup("count");
    ds->schema.primary_key[1] = jp_strdup("2022");
    ds->schema.n_primary_key = 2;
    ds->schema.foreign_keys = jp_calloc(2, sizeof(jp_foreign_key_t));
    jp_foreign_key_t *fk = &ds->schema.foreign_keys[0];
    fk->n_fields = 1;
    fk->fields = jp_calloc(1, sizeof(char *));
    fk->ref_fields = jp_calloc(1, sizeof(char *));
    fk->fields[0] = jp_strdup("text");
    fk->ref_fields[0] = jp_strdup("unit");
    fk = &ds->schema.foreign_keys[1];
    fk->n_fields = 2;
    fk->fields = jp_calloc(2, sizeof(char *));
    fk->ref_fields = jp_calloc(2, sizeof(char *));
    fk->fields[0] = jp_strdup("text");
    fk->fields[1] = jp_strdup("when");
    fk->ref_fields[0] = jp_strdup("degree");
    fk->ref_fields[1] = jp_strdup("yes");
    fk->ref_dataset = jp_strdup("subsidy");
    ds->schema.n_foreign_keys = 2;
    return ds;
}

static void test_round_trip_full(void)
{
    jp_dataset_t *ds = build_full();
    jp_dataset_t *back = round_trip(__LINE__, ds, true);
    if (back) {
        CHECK_STR(back->origin, "rt.yaml");
        CHECK(back->lines != NULL && back->lines->len == NROWS);
        /* rows are one line each, after the header */
        long first = jp_dataset_row_line(back, 0);
        CHECK(first > 10);
        for (size_t i = 1; i < NROWS; i++) CHECK_INT(jp_dataset_row_line(back, i), first + (long)i);
        /* a second trip writes the same text */
        jp_buf_t a = JP_BUF_INIT, b = JP_BUF_INIT;
        CHECK(jp_yaml_write_buf(ds, true, &a, NULL) == JP_OK);
        CHECK(jp_yaml_write_buf(back, true, &b, NULL) == JP_OK);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        /* qualified and special numbers in their plain forms */
        CHECK(strstr(a.data, "\">=-9223372036854775808\"") != NULL);
        CHECK(strstr(a.data, "count: \"~-1\"") != NULL);
        CHECK(strstr(a.data, "value: \"~1e+308\"") != NULL);
        CHECK(strstr(a.data, "value: \"<.nan\"") != NULL);
        CHECK(strstr(a.data, "flag: ~") != NULL);
        CHECK(strstr(a.data, "day: \"2024-02-29\"") != NULL);
        CHECK(strstr(a.data, "text: \"000123\"") != NULL);
        CHECK(strstr(a.data, "text: \"yes\"") != NULL);
        CHECK(strstr(a.data, "text: \"x\\ny\\r\\n\"") != NULL);
        CHECK(strstr(a.data, "\"2022\": \"2022\"") != NULL);
        CHECK(strstr(a.data, "\"null\": ~") != NULL);
        CHECK(strstr(a.data, "\njinpu: 1\n") == NULL && strncmp(a.data, "jinpu: 1\n", 9) == 0);
        jp_buf_free(&a);
        jp_buf_free(&b);
    }
    jp_dataset_unref(back);

    /* schema only: same metadata and schema, no rows */
    back = round_trip(__LINE__, ds, false);
    if (back) {
        char why[256] = "";
        CHECK_INT(back->nrows, 0);
        CHECK_MSG(jp_schema_equal(&ds->schema, &back->schema, why, sizeof why), "%s", why);
        CHECK_STR(back->meta.description, ds->meta.description);
        CHECK_INT(back->meta.n_notes, 3);
        CHECK_INT(back->cols[0]->len, 0);
    }
    jp_dataset_unref(back);

    /* zero rows */
    jp_dataset_t *none = jp_dataset_gather(ds, NULL, 0, NULL);
    back = round_trip(__LINE__, none, true);
    jp_dataset_unref(back);
    jp_dataset_unref(none);
    jp_dataset_unref(ds);
}

static void test_round_trip_small(void)
{
    /* zero fields, some rows */
    jp_dataset_t *ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "empty");
    ds->nrows = 3;
    jp_dataset_t *back = round_trip(__LINE__, ds, true);
    jp_dataset_unref(back);
    ds->nrows = 0;
    back = round_trip(__LINE__, ds, true);
    jp_dataset_unref(back);
    jp_dataset_unref(ds);

    /* awkward strings, one per row */
    static const char *const awk[] = {"",
                                      " ",
                                      " lead",
                                      "trail ",
                                      "a: b",
                                      "a:b",
                                      "#hash",
                                      "a #b",
                                      "x\ny",
                                      "\r",
                                      "'single'",
                                      "\"double\"",
                                      "it's",
                                      "yes",
                                      "No",
                                      "ON",
                                      "off",
                                      "y",
                                      "n",
                                      "null",
                                      "Null",
                                      "NULL",
                                      "~",
                                      "true",
                                      "False",
                                      "2022",
                                      "000123",
                                      "1e5",
                                      "-1",
                                      "+1",
                                      ".5",
                                      "-.5",
                                      "0x1F",
                                      "0o17",
                                      "1_000",
                                      "12:30",
                                      ".inf",
                                      "-.inf",
                                      ".NaN",
                                      "nan",
                                      "- dash",
                                      "-",
                                      "? q",
                                      "?",
                                      ":",
                                      "[a]",
                                      "{b}",
                                      "a,b",
                                      "a, b",
                                      "&anchor",
                                      "*alias",
                                      "!tag",
                                      "!!str",
                                      "%pct",
                                      "@at",
                                      "`tick",
                                      "|",
                                      "|-",
                                      ">",
                                      ">-",
                                      "...",
                                      "---",
                                      "--- x",
                                      "中文",
                                      "emoji 😀",
                                      "tab\there",
                                      "\x01ctrl",
                                      "back\\slash",
                                      "<<",
                                      "=",
                                      "a\u2028b",
                                      "a\u2029b",
                                      "a\xc2\x85"
                                      "b",
                                      "\xef\xbb\xbf"
                                      "bom",
                                      "a\xc2\xa0"
                                      "b",
                                      "line1\n\nline3 ",
                                      "  ",
                                      "\t",
                                      "\\n",
                                      "a\"b'c",
                                      "~1.14e9",
                                      ">140000",
                                      "14.8万",
                                      "2022-07-15",
                                      "2022-01..2022-08",
                                      "{a: 1}",
                                      "[1, 2]",
                                      "a # b",
                                      "#",
                                      "'",
                                      "\"",
                                      "\n",
                                      "\n\n",
                                      " \n ",
                                      "x\n",
                                      "\nx"};
    size_t n = sizeof awk / sizeof awk[0];
    ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "awkward");
    jp_column_t *c = strings(awk, n);
    CHECK(jp_dataset_add(ds, "s", c, NULL, NULL) == JP_OK);
    /* the same strings as metadata notes */
    for (size_t i = 0; i < n; i++) jp_meta_add_note(&ds->meta, awk[i]);
    jp_meta_set(&ds->meta.title, "");
    back = round_trip(__LINE__, ds, true);
    if (back) {
        size_t len;
        CHECK_STR(jp_column_str(back->cols[0], 25, &len), "2022");
        CHECK_STR(back->meta.title, "");
        CHECK(back->meta.description == NULL);
    }
    jp_dataset_unref(back);
    jp_dataset_unref(ds);

    /* a long text and many rows */
    ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "long");
    char *big = jp_malloc(100001);
    for (int i = 0; i < 100000; i++) big[i] = (char)('a' + i % 26);
    big[100000] = '\0';
    big[50000] = ' ';
    c = jp_column_new(JP_TYPE_STRING, 2);
    jp_column_push_str(c, big, 100000);
    jp_column_push_str(c, "x", 1);
    CHECK(jp_dataset_add(ds, "s", c, NULL, NULL) == JP_OK);
    back = round_trip(__LINE__, ds, true);
    jp_dataset_unref(back);
    jp_dataset_unref(ds);
    jp_free(big);
}

static void test_write_refusals(void)
{
    jp_error_t err;
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "kept");

    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *c = jp_column_new(JP_TYPE_STRING, 1);
    jp_column_push_str(c, "\xff\xfe", 2);
    jp_dataset_add(ds, "s", c, NULL, NULL);
    CHECK(jp_yaml_write_buf(ds, true, &b, &err) == JP_ERR_INVALID);
    CHECK_INT(err.row, 1);
    CHECK_STR(err.field, "s");
    CHECK(strstr(err.msg, "UTF-8") != NULL);
    CHECK_STR(b.data, "kept"); /* left as it was */
    /* schema only: the rows are not written, so nothing is wrong */
    CHECK(jp_yaml_write_buf(ds, false, &b, &err) == JP_OK);
    CHECK(strncmp(b.data, "keptjinpu: 1\n", 13) == 0);
    CHECK(strstr(b.data, "rows") == NULL);
    jp_dataset_unref(ds);

    ds = jp_dataset_new();
    c = jp_column_new(JP_TYPE_NUMBER, 1);
    jp_column_push_number(c, 1, JP_Q_EXACT);
    jp_dataset_add(ds, "v", c, NULL, NULL);
    c = jp_column_new(JP_TYPE_STRING, 1);
    jp_column_push_str(c, "furlong", 7);
    jp_dataset_add(ds, "u", c, NULL, NULL);
    jp_meta_set(&ds->schema.fields[0].unit_field, "u");
    CHECK(jp_yaml_write_buf(ds, true, &b, &err) == JP_ERR_INVALID);
    CHECK(strstr(err.msg, "'furlong' is not a known unit") != NULL);
    CHECK_INT(err.row, 1);
    CHECK_STR(err.field, "u");
    jp_meta_set(&ds->schema.fields[0].unit, "t");
    CHECK(jp_yaml_write_buf(ds, true, &b, &err) == JP_ERR_INVALID);
    CHECK(strstr(err.msg, "both a unit and a unit_field") != NULL);
    jp_meta_set(&ds->schema.fields[0].unit_field, NULL);
    jp_meta_set(&ds->schema.fields[0].unit, "furlong");
    CHECK(jp_yaml_write_buf(ds, true, &b, &err) == JP_ERR_INVALID);
    CHECK(strstr(err.msg, "unknown unit 'furlong'") != NULL);
    jp_dataset_unref(ds);

    ds = jp_dataset_new();
    c = jp_column_new(JP_TYPE_DATE, 1);
    jp_column_push_date(c, jp_date_from_ymd(10000, 1, 1));
    jp_dataset_add(ds, "d", c, NULL, NULL);
    CHECK(jp_yaml_write_buf(ds, true, &b, &err) == JP_ERR_INVALID);
    CHECK(strstr(err.msg, "year 10000") != NULL);
    jp_dataset_unref(ds);
    CHECK(strncmp(b.data, "keptjinpu: 1\n", 13) == 0);
    jp_buf_free(&b);
}

/* ---- reading ------------------------------------------------------------------ */

/* Nine fields on lines 4-12; `rows:` on line 13; the first row on line 14. */
#define HEAD                                                                                       \
    "jinpu: 1\n"                                                                                   \
    "name: t\n"                                                                                    \
    "fields:\n"                                                                                    \
    "  - {name: s, type: string}\n"                                                                \
    "  - {name: n, type: number}\n"                                                                \
    "  - {name: i, type: integer}\n"                                                               \
    "  - {name: d, type: date}\n"                                                                  \
    "  - {name: p, type: period}\n"                                                                \
    "  - {name: b, type: boolean}\n"                                                               \
    "  - {name: u, type: string}\n"                                                                \
    "  - {name: v, type: number, unit_field: u}\n"                                                 \
    "  - {name: a, type: number, unit: 亩}\n"                                                     \
    "rows:\n"

static double num(jp_dataset_t *ds, const char *field, size_t row)
{
    jp_column_t *c = jp_dataset_column(ds, field);
    return c && row < c->len ? c->v.d[row] : -12345;
}

static int64_t ival(jp_dataset_t *ds, const char *field, size_t row)
{
    jp_column_t *c = jp_dataset_column(ds, field);
    return c && row < c->len ? c->v.i[row] : -12345;
}

static jp_qual_t qual(jp_dataset_t *ds, const char *field, size_t row)
{
    jp_column_t *c = jp_dataset_column(ds, field);
    return c && row < c->len ? jp_column_qual(c, row) : (jp_qual_t)99;
}

static const char *str(jp_dataset_t *ds, const char *field, size_t row)
{
    jp_column_t *c = jp_dataset_column(ds, field);
    if (!c || row >= c->len || jp_column_is_null(c, row)) return NULL;
    return jp_column_str(c, row, NULL);
}

static bool isnull(jp_dataset_t *ds, const char *field, size_t row)
{
    jp_column_t *c = jp_dataset_column(ds, field);
    return c && row < c->len && jp_column_is_null(c, row);
}

static void test_figures(void)
{
    jp_dataset_t *ds =
        READ_OK(HEAD "  - {n: 14.8万, i: 14.8万, a: 14.8万亩, v: 14.8万亩, u: 亩}\n"
                     "  - {n: 约11.4亿, i: \">140000\", a: \"148,000\"}\n"
                     "  - {n: \"2576.3亿\", i: 3.78万以上, v: 20万元, u: CNY}\n"
                     "  - {n: 14万余, i: 不足5, v: 20万元, u: 万元}\n"
                     "  - {n: \"<=5\", i: 5以下, v: 约11.4亿美元, u: USD}\n"
                     "  - {n: \"~1.14e9\", i: \">=37800\", v: \"3.78万以上\", u: 元}\n"
                     "  - {n: .nan, i: -9223372036854775808, v: -.inf}\n"
                     "  - {n: 1e308, i: 9007199254740993, v: 5e-324}\n"
                     "  - {n: -0.0, i: \"37800+\", v: \"more than 140000\"}\n");
    if (!ds) return;
    CHECK_INT(ds->nrows, 9);
    CHECK_DBL(num(ds, "n", 0), 148000);
    CHECK_INT(ival(ds, "i", 0), 148000);
    CHECK_DBL(num(ds, "a", 0), 148000);
    CHECK_DBL(num(ds, "v", 0), 148000);
    CHECK_STR(str(ds, "u", 0), "mu");
    CHECK_DBL(num(ds, "n", 1), 1140000000);
    CHECK_INT(qual(ds, "n", 1), JP_Q_APPROX);
    CHECK_INT(ival(ds, "i", 1), 140000);
    CHECK_INT(qual(ds, "i", 1), JP_Q_MORE_THAN);
    CHECK_DBL(num(ds, "a", 1), 148000);
    CHECK_INT(qual(ds, "a", 1), JP_Q_EXACT);
    CHECK(isnull(ds, "v", 1) && isnull(ds, "u", 1) && isnull(ds, "s", 1));
    CHECK_DBL(num(ds, "n", 2), 257630000000.0);
    CHECK_INT(ival(ds, "i", 2), 37800);
    CHECK_INT(qual(ds, "i", 2), JP_Q_AT_LEAST);
    CHECK_DBL(num(ds, "v", 2), 200000); /* 20万元 in CNY */
    CHECK_DBL(num(ds, "n", 3), 140000);
    CHECK_INT(qual(ds, "n", 3), JP_Q_MORE_THAN);
    CHECK_INT(ival(ds, "i", 3), 5);
    CHECK_INT(qual(ds, "i", 3), JP_Q_LESS_THAN);
    CHECK_DBL(num(ds, "v", 3), 20); /* 20万元 in 万元 */
    CHECK_STR(str(ds, "u", 3), "10k CNY");
    CHECK_DBL(num(ds, "n", 4), 5);
    CHECK_INT(qual(ds, "n", 4), JP_Q_AT_MOST);
    CHECK_INT(qual(ds, "i", 4), JP_Q_AT_MOST);
    CHECK_DBL(num(ds, "v", 4), 1140000000);
    CHECK_INT(qual(ds, "v", 4), JP_Q_APPROX);
    CHECK_DBL(num(ds, "n", 5), 1.14e9);
    CHECK_INT(qual(ds, "n", 5), JP_Q_APPROX);
    CHECK_INT(qual(ds, "i", 5), JP_Q_AT_LEAST);
    CHECK_DBL(num(ds, "v", 5), 37800);
    CHECK_STR(str(ds, "u", 5), "CNY");
    CHECK(isnan(num(ds, "n", 6)));
    CHECK(ival(ds, "i", 6) == INT64_MIN);
    CHECK(isinf(num(ds, "v", 6)) && num(ds, "v", 6) < 0);
    CHECK(num(ds, "n", 7) == 1e308);
    CHECK(ival(ds, "i", 7) == 9007199254740993LL);
    CHECK(num(ds, "v", 7) == 5e-324);
    CHECK(num(ds, "n", 8) == 0 && signbit(num(ds, "n", 8)));
    CHECK_INT(ival(ds, "i", 8), 37800);
    CHECK_INT(qual(ds, "i", 8), JP_Q_AT_LEAST);
    CHECK_INT(qual(ds, "v", 8), JP_Q_MORE_THAN);
    /* each row knows its line */
    for (size_t r = 0; r < 9; r++) CHECK_INT(jp_dataset_row_line(ds, r), 14 + (long)r);
    jp_dataset_unref(ds);
}

static void test_values(void)
{
    jp_dataset_t *ds = READ_OK(HEAD "  - {s: \"000123\", d: 2022-07-15, p: 2022, b: true}\n"
                                    "  - {s: 2022, p: \"2022-01..2022-08\", b: False}\n"
                                    "  - {s: 1.50, p: ..2021, b: ~}\n"
                                    "  - {s: \"\", p: 2019.., b: null}\n"
                                    "  - {s: ~, p: cumulative, b: }\n"
                                    "  - {s: null, p: last 5 years}\n"
                                    "  - {s: \"null\", p: 2021/2022}\n"
                                    "  - {s: 'it''s', p: 2022-Q3}\n"
                                    "  - {s: !!str 12, p: \"last 5 years..2022\"}\n"
                                    "  - {s: true}\n"
                                    "  - [x, 1, 2, 2000-01-01, 2000, true, t, 3, 4]\n"
                                    "  - {s: \"a\\tb\\u4e2d\"}\n");
    if (!ds) return;
    CHECK_STR(str(ds, "s", 0), "000123");
    CHECK_STR(str(ds, "s", 1), "2022");
    CHECK_STR(str(ds, "s", 2), "1.50");
    CHECK_STR(str(ds, "s", 3), "");
    CHECK(isnull(ds, "s", 4) && isnull(ds, "s", 5));
    CHECK_STR(str(ds, "s", 6), "null");
    CHECK_STR(str(ds, "s", 7), "it's");
    CHECK_STR(str(ds, "s", 8), "12");
    CHECK_STR(str(ds, "s", 9), "true");
    CHECK_STR(str(ds, "s", 11), "a\tb中");
    jp_column_t *d = jp_dataset_column(ds, "d");
    char buf[64];
    CHECK_STR(jp_date_format(d->v.date[0], buf), "2022-07-15");
    CHECK(isnull(ds, "d", 1));
    jp_column_t *p = jp_dataset_column(ds, "p");
    const char *pw[] = {"2022",       "2022-01..2022-08", "..2021",
                        "2019..",     "cumulative",       "last 5 years",
                        "2021..2022", "2022-Q3",          "last 5 years..2022"};
    for (size_t i = 0; i < 9; i++) {
        jp_period_format(&p->v.p[i], buf, sizeof buf);
        CHECK_MSG(strcmp(buf, pw[i]) == 0, "period %zu: %s vs %s", i, buf, pw[i]);
    }
    jp_column_t *b = jp_dataset_column(ds, "b");
    CHECK(b->v.b[0] == 1 && b->v.b[1] == 0 && isnull(ds, "b", 2) && isnull(ds, "b", 3) &&
          isnull(ds, "b", 4) && isnull(ds, "b", 5));
    CHECK_STR(str(ds, "s", 10), "x");
    CHECK_DBL(num(ds, "n", 10), 1);
    CHECK_INT(ival(ds, "i", 10), 2);
    CHECK_STR(str(ds, "u", 10), "t");
    CHECK_DBL(num(ds, "v", 10), 3);
    CHECK_DBL(num(ds, "a", 10), 4);
    CHECK_STR(ds->meta.name, "t");
    CHECK_STR(ds->origin, "t.yaml");
    CHECK_STR(ds->schema.fields[8].unit, "mu");
    CHECK_STR(ds->schema.fields[7].unit_field, "u");
    jp_dataset_unref(ds);

    /* a schema-only document; the name defaults to the file's stem */
    const char *doc = "# a schema\n---\njinpu: 1\nfields: [{name: x, type: int}]\n";
    jp_error_t err;
    CHECK(jp_yaml_read_mem("dir/archive.d/cherry.yaml", doc, strlen(doc), NULL, &ds, &err) ==
          JP_OK);
    if (ds) {
        CHECK_STR(ds->meta.name, "cherry");
        CHECK_INT(ds->nrows, 0);
        CHECK_INT(ds->schema.n_fields, 1);
        CHECK_INT(ds->schema.fields[0].type, JP_TYPE_INT);
    }
    jp_dataset_unref(ds);
    ds = READ_OK("jinpu: 1\nfields: []\nrows: []\n");
    if (ds) CHECK(ds->nrows == 0 && ds->schema.n_fields == 0);
    jp_dataset_unref(ds);
    ds = READ_OK("jinpu: 1\nfields: []\nrows:\n");
    jp_dataset_unref(ds);
    ds = READ_OK("jinpu: 1\nfields: []\nrows: [{}, {}]\n");
    if (ds) CHECK(ds->nrows == 2);
    jp_dataset_unref(ds);

    /* rows before fields; keys */
    ds = READ_OK("rows:\n  - {b: 2, a: x}\n  - [y, 3]\njinpu: 1\nprimary_key: a\n"
                 "foreign_keys:\n  - fields: b\n    reference: {fields: b}\n"
                 "  - {fields: [a, b], reference: {dataset: other, fields: [c, d]}}\n"
                 "fields:\n  - name: a\n    type: str\n  - {name: b, type: int}\n");
    if (ds) {
        CHECK_INT(ds->nrows, 2);
        CHECK_STR(str(ds, "a", 0), "x");
        CHECK_INT(ival(ds, "b", 1), 3);
        CHECK_INT(jp_dataset_row_line(ds, 0), 2);
        CHECK_INT(jp_dataset_row_line(ds, 1), 3);
        CHECK_INT(ds->schema.n_primary_key, 1);
        CHECK_STR(ds->schema.primary_key[0], "a");
        CHECK_INT(ds->schema.n_foreign_keys, 2);
        CHECK(ds->schema.foreign_keys[0].ref_dataset == NULL);
        CHECK_STR(ds->schema.foreign_keys[1].ref_dataset, "other");
        CHECK_STR(ds->schema.foreign_keys[1].ref_fields[1], "d");
    }
    jp_dataset_unref(ds);

    /* constraints in their types */
    ds = READ_OK("jinpu: 1\nfields:\n"
                 "  - {name: i, type: integer, unit: 万元, constraints: {minimum: 0, maximum: "
                 "3万, enum: [1, 2万元]}}\n"
                 "  - {name: s, type: string, constraints: {minimum: \"2\", maximum: zz, "
                 "minLength: 1, maxLength: 3, pattern: '^\\d+$', required: true, unique: "
                 "false}}\n"
                 "  - {name: d, type: date, constraints: {minimum: 2020-01-01, enum: [~]}}\n"
                 "  - {name: p, type: period, constraints: {maximum: '..2021'}}\n");
    if (ds) {
        const jp_constraints_t *c = &ds->schema.fields[0].constraints;
        CHECK(c->has_minimum && c->minimum.type == JP_TYPE_INT && c->minimum.u.i == 0);
        CHECK(c->has_maximum && c->maximum.u.i == 30000);
        CHECK(c->enum_values && c->enum_values->len == 2 && c->enum_values->v.i[1] == 2);
        c = &ds->schema.fields[1].constraints;
        CHECK(c->has_minimum && c->minimum.type == JP_TYPE_STRING && c->minimum.u.s.len == 1 &&
              c->minimum.u.s.ptr[0] == '2');
        CHECK(c->has_maximum && c->maximum.u.s.len == 2 &&
              memcmp(c->maximum.u.s.ptr, "zz", 2) == 0);
        CHECK(c->min_length == 1 && c->max_length == 3 && c->required && !c->unique);
        CHECK_STR(c->pattern, "^\\d+$");
        c = &ds->schema.fields[2].constraints;
        CHECK(c->has_minimum && c->minimum.type == JP_TYPE_DATE && !c->has_maximum);
        CHECK(c->enum_values && c->enum_values->len == 1 && jp_column_is_null(c->enum_values, 0));
        c = &ds->schema.fields[3].constraints;
        CHECK(c->has_maximum && c->maximum.type == JP_TYPE_PERIOD &&
              c->maximum.u.period.kind == JP_PERIOD_TO);
    }
    jp_dataset_unref(ds);
}

static void test_options(void)
{
    const char *doc = HEAD "  - {s: x, n: 1, u: t, v: 2}\n";
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    const char *cols[] = {"v", "s", "u"};
    o.columns = cols;
    o.n_columns = 3;
    o.name = "renamed";
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK(jp_yaml_read_mem("t.yaml", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    if (ds) {
        CHECK_INT(ds->schema.n_fields, 3);
        CHECK_STR(ds->schema.fields[0].name, "v");
        CHECK_STR(ds->meta.name, "renamed");
        CHECK_DBL(num(ds, "v", 0), 2);
        CHECK_INT(jp_dataset_row_line(ds, 0), 14);
    }
    jp_dataset_unref(ds);
    o.n_columns = 1; /* v without its unit field */
    CHECK(jp_yaml_read_mem("t.yaml", doc, strlen(doc), &o, &ds, &err) == JP_ERR_ARG);
    CHECK(ds == NULL && strstr(err.msg, "'u'") != NULL);
    cols[0] = "nope";
    CHECK(jp_yaml_read_mem("t.yaml", doc, strlen(doc), &o, &ds, &err) == JP_ERR_ARG);
    CHECK(strstr(err.msg, "no field 'nope'") != NULL);

    /* one field definition */
    jp_field_t f;
    const char *def = "{name: area, type: number, unit: 亩, constraints: {minimum: 0}}";
    CHECK(jp_yaml_parse_field("opt", def, strlen(def), &f, &err) == JP_OK);
    CHECK_STR(f.name, "area");
    CHECK_STR(f.unit, "mu");
    CHECK(f.type == JP_TYPE_NUMBER && f.constraints.has_minimum);
    jp_field_free(&f);
    def = "name: x\ntype: flaot\n";
    CHECK(jp_yaml_parse_field("opt", def, strlen(def), &f, &err) == JP_ERR_PARSE);
    CHECK(err.line == 2 && err.col == 7 && strstr(err.msg, "unknown type 'flaot'"));
    jp_field_free(&f);
    def = "[a]";
    CHECK(jp_yaml_parse_field(NULL, def, strlen(def), &f, &err) == JP_ERR_PARSE);
    jp_field_free(&f);
    CHECK(jp_yaml_parse_field("opt", "", 0, &f, &err) == JP_ERR_PARSE);
    CHECK(strstr(err.msg, "expected a field definition") != NULL);
    jp_field_free(&f);

    /* without an error record the status still says what happened */
    CHECK(jp_yaml_read_mem("t.yaml", "x: [", 4, NULL, &ds, NULL) == JP_ERR_PARSE && !ds);
    CHECK(jp_yaml_read_mem(NULL, NULL, 0, NULL, &ds, NULL) == JP_ERR_PARSE && !ds);
    jp_buf_t b = JP_BUF_INIT;
    ds = READ_OK("jinpu: 1\nfields: []\n");
    if (ds) CHECK(jp_yaml_write_buf(ds, true, &b, NULL) == JP_OK);
    CHECK(b.data && strcmp(b.data, "jinpu: 1\nname: t\nfields: []\nrows: []\n") == 0);
    jp_buf_free(&b);
    jp_dataset_unref(ds);
}

static void test_sniff(void)
{
    const char *yes[] = {"jinpu: 1\n",           "\xef\xbb\xbfjinpu: 1",
                         "# c\n\n---\njinpu: 1", "%YAML 1.1\n---\njinpu: 1\n",
                         "jinpu:\r\n",           "  \n#x\njinpu:"};
    const char *no[] = {"name: x\njinpu: 1\n", "a,b\n1,2\n", "",
                        "jinpux: 1",           " jinpu: 1",  "---\n- jinpu: 1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECK_MSG(jp_yaml_sniff((const unsigned char *)yes[i], strlen(yes[i])), "%zu", i);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECK_MSG(!jp_yaml_sniff((const unsigned char *)no[i], strlen(no[i])), "%zu", i);
    CHECK_STR(jp_format_yaml.name, "yaml");
    CHECK(jp_format_yaml.read && jp_format_yaml.read_mem && jp_format_yaml.write &&
          jp_format_yaml.write_mem);
}

/* ---- errors ----------------------------------------------------------------------- */

static void test_errors(void)
{
    /* cells: message, row, field and the cell's line:column */
    ERR(HEAD "  - {s: x, n: abc}\n", JP_ERR_TYPE, 14, 15, 1, "n", "'abc' is not a number");
    ERR(HEAD "  - {s: x}\n  - {i: 1.5}\n", JP_ERR_TYPE, 15, 9, 2, "i", "'1.5' is not an integer");
    ERR(HEAD "  - {i: 9223372036854775808}\n", JP_ERR_RANGE, 14, 9, 1, "i",
        "outside the integer range");
    ERR(HEAD "  - {i: 1e19}\n", JP_ERR_RANGE, 14, 9, 1, "i", "outside the integer range");
    ERR(HEAD "  - {n: 1e999}\n", JP_ERR_RANGE, 14, 9, 1, "n", "too large");
    ERR(HEAD "  - {d: 2022-02-30}\n", JP_ERR_TYPE, 14, 9, 1, "d",
        "'2022-02-30' is not a date (YYYY-MM-DD)");
    ERR(HEAD "  - {p: 2022-13}\n", JP_ERR_TYPE, 14, 9, 1, "p", "'2022-13' is not a period");
    ERR(HEAD "  - {b: yes}\n", JP_ERR_TYPE, 14, 9, 1, "b", "'yes' is not a boolean");
    ERR(HEAD "  - {n: [1, 2]}\n", JP_ERR_TYPE, 14, 9, 1, "n", "expected one value, found a list");
    ERR(HEAD "  - {a: 3公顷}\n", JP_ERR_UNIT, 14, 9, 1, "a",
        "'3公顷' is in ha but the field's unit is mu");
    ERR(HEAD "  - {n: 3吨}\n", JP_ERR_UNIT, 14, 9, 1, "n",
        "'3吨' is in t but the field has no unit");
    ERR(HEAD "  - {u: mu, v: 14.8万吨}\n", JP_ERR_UNIT, 14, 16, 1, "v",
        "'14.8万吨' is in t but the row's unit is mu");
    ERR(HEAD "  - {v: 14.8万吨, u: 亩}\n", JP_ERR_UNIT, 14, 9, 1, "v",
        "'14.8万吨' is in t but the row's unit is mu");
    ERR(HEAD "  - {v: 14.8万吨}\n", JP_ERR_UNIT, 14, 9, 1, "v", "the row has no unit");
    ERR(HEAD "  - {u: furlong, v: 1}\n", JP_ERR_UNIT, 14, 9, 1, "u",
        "'furlong' is not a known unit");
    ERR(HEAD "  - {n: 12斤x}\n", JP_ERR_UNIT, 14, 9, 1, "n", "is not a number (unknown unit)");
    /* rows */
    ERR(HEAD "  - {s: x, vlaue: 1}\n", JP_ERR_PARSE, 14, 12, 1, NULL,
        "unknown field 'vlaue' (fields: s, n, i, d, p, b, u, v, a)");
    ERR(HEAD "  - {s: x, s: y}\n", JP_ERR_PARSE, 14, 12, 1, NULL, "field 's' appears twice");
    ERR(HEAD "  - {s: x}\n  - [x, 1, 2]\n", JP_ERR_PARSE, 15, 5, 2, NULL,
        "3 values, but there are 9 fields");
    ERR(HEAD "  - just text\n", JP_ERR_PARSE, 14, 5, 1, NULL, "a row is a mapping");
    ERR(HEAD "  - {s: x}\n  - ~\n", JP_ERR_PARSE, 15, 5, 2, NULL, "a row is a mapping");
    ERR("jinpu: 1\nfields: []\nrows: {a: 1}\n", JP_ERR_PARSE, 3, 7, 0, NULL,
        "'rows' must be a list");
    ERR("jinpu: 1\nfields: []\nrows: many\n", JP_ERR_PARSE, 3, 7, 0, NULL,
        "'rows' must be a list of rows, not 'many'");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nrows: [{x: 1, x: 2}]\n", JP_ERR_PARSE, 3, 15, 1,
        NULL, "field 'x' appears twice in this row");
    /* rows before fields are still reported at their place */
    ERR("jinpu: 1\nrows:\n  - {x: 1}\n  - {x: zz}\nfields: [{name: x, type: int}]\n", JP_ERR_TYPE,
        4, 9, 2, "x", "'zz' is not an integer");

    /* the top level */
    ERR("jinpu: 1\nfields: []\nrowz: []\n", JP_ERR_PARSE, 3, 1, 0, NULL,
        "unknown key 'rowz' (expected jinpu, name, title, description, source, source_file, "
        "period, license, notes, fields, primary_key, foreign_keys, rows)");
    ERR("jinpu: 1\ntitle: a\nfields: []\ntitle: b\n", JP_ERR_PARSE, 4, 1, 0, NULL,
        "key 'title' appears twice (first on line 2)");
    ERR("jinpu: 2\nfields: []\n", JP_ERR_PARSE, 1, 8, 0, NULL, "unsupported format version '2'");
    ERR("name: x\nfields: []\n", JP_ERR_PARSE, 1, 1, 0, NULL, "missing 'jinpu: 1'");
    ERR("jinpu: 1\nname: x\n", JP_ERR_PARSE, 1, 1, 0, NULL, "missing 'fields'");
    ERR("", JP_ERR_PARSE, 1, 1, 0, NULL, "empty document");
    ERR("# nothing\n", JP_ERR_PARSE, 1, 1, 0, NULL, "empty document");
    ERR("---\n", JP_ERR_PARSE, 2, 1, 0, NULL, "empty document");
    ERR("- a\n- b\n", JP_ERR_PARSE, 1, 1, 0, NULL,
        "is a mapping (jinpu, fields, rows, ...), not a list");
    ERR("hello\n", JP_ERR_PARSE, 1, 1, 0, NULL, "not text");
    ERR("jinpu: 1\nfields: []\n---\njinpu: 1\n", JP_ERR_PARSE, 3, 1, 0, NULL,
        "a second YAML document");
    ERR("jinpu: 1\ntitle: [a]\nfields: []\n", JP_ERR_TYPE, 2, 8, 0, NULL,
        "'title' must be text, not a list");
    ERR("jinpu: 1\nnotes: [a, ~]\nfields: []\n", JP_ERR_PARSE, 2, 12, 0, NULL,
        "a note must be text");
    ERR("jinpu: 1\nnotes: a\nfields: []\n", JP_ERR_PARSE, 2, 8, 0, NULL,
        "'notes' must be a list of text");
    ERR("jinpu: 1\ntitle: \"a\\0b\"\nfields: []\n", JP_ERR_PARSE, 2, 8, 0, NULL,
        "contains a NUL character");
    ERR("jinpu: 1\n[a]: 1\nfields: []\n", JP_ERR_PARSE, 2, 1, 0, NULL, "a key must be plain text");

    /* fields */
    ERR("jinpu: 1\nfields:\n  - name: x\n    type: number\n    unti: mu\n", JP_ERR_PARSE, 5, 5, 0,
        "x",
        "unknown field key 'unti' (expected name, type, unit, unit_field, title, description, "
        "source, constraints)");
    ERR("jinpu: 1\nfields:\n  - {unit: mu, type: number, unti: mu}\n", JP_ERR_PARSE, 3, 30, 0, NULL,
        "unknown field key 'unti'");
    ERR("jinpu: 1\nfields:\n  - name: x\n    type: number\n    constraints:\n"
        "      minumum: 0\n",
        JP_ERR_PARSE, 6, 7, 0, "x",
        "unknown constraint 'minumum' (expected required, unique, minimum, maximum, minLength, "
        "maxLength, pattern, enum)");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: flaot}\n", JP_ERR_PARSE, 3, 21, 0, "x",
        "unknown type 'flaot' (expected integer, number, string, boolean, date or period)");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: number, unit: muu}\n", JP_ERR_UNIT, 3, 35, 0, "x",
        "unknown unit 'muu'");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: number}\n  - {name: y, type: int}\n"
        "  - {name: x, type: int}\n",
        JP_ERR_PARSE, 5, 12, 0, NULL, "field 'x' appears twice (first on line 3)");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: number, unit_field: y}\n"
        "  - {name: y, type: integer}\n",
        JP_ERR_PARSE, 3, 41, 0, "x",
        "unit_field 'y' must name a string field, not an integer field");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: number, unit_field: z}\n", JP_ERR_PARSE, 3, 41, 0,
        "x", "unit_field 'z' names no field");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: string, unit_field: x}\n", JP_ERR_PARSE, 3, 41, 0,
        "x", "cannot hold its own unit");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: number, unit: t, unit_field: y}\n"
        "  - {name: y, type: string}\n",
        JP_ERR_PARSE, 3, 50, 0, "x", "either 'unit' or 'unit_field'");
    ERR("jinpu: 1\nfields:\n  - {type: number}\n", JP_ERR_PARSE, 3, 5, 0, NULL,
        "a field needs a 'name'");
    ERR("jinpu: 1\nfields:\n  - {name: x}\n", JP_ERR_PARSE, 3, 5, 0, "x", "needs a 'type'");
    ERR("jinpu: 1\nfields:\n  - x\n", JP_ERR_PARSE, 3, 5, 0, NULL, "a field is a mapping");
    ERR("jinpu: 1\nfields: x\n", JP_ERR_PARSE, 2, 9, 0, NULL, "'fields' must be a list");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {minimum: 0.5}}\n", JP_ERR_TYPE,
        3, 49, 0, "x", "'0.5' is not an integer");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {minimum: '>5'}}\n", JP_ERR_TYPE,
        3, 49, 0, "x", "'minimum' must be an exact value");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {enum: [1, b]}}\n", JP_ERR_TYPE,
        3, 50, 0, "x", "'b' is not an integer");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {required: 1}}\n", JP_ERR_TYPE, 3,
        50, 0, "x", "'required' must be true or false");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {maxLength: -1}}\n", JP_ERR_TYPE,
        3, 51, 0, "x", "'maxLength' must be a whole number");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: [required]}\n", JP_ERR_PARSE, 3,
        39, 0, "x", "'constraints' must be a mapping");
    ERR("jinpu: 1\nfields:\n  - {name: x, type: int, constraints: {minimum: 1, minimum: 2}}\n",
        JP_ERR_PARSE, 3, 52, 0, "x", "constraint 'minimum' appears twice");

    /* keys */
    ERR("jinpu: 1\nfields: [{name: a, type: int}]\nprimary_key: [a, b]\n", JP_ERR_PARSE, 3, 18, 0,
        NULL, "'primary_key' names no field 'b'");
    ERR("jinpu: 1\nfields: [{name: a, type: int}]\nprimary_key: [a, a]\n", JP_ERR_PARSE, 3, 18, 0,
        NULL, "'primary_key' names 'a' twice");
    ERR("jinpu: 1\nfields: [{name: a, type: int}]\nforeign_keys:\n  - {fields: a, reference: "
        "{fields: z}}\n",
        JP_ERR_PARSE, 4, 37, 0, NULL, "'fields' names no field 'z'");
    ERR("jinpu: 1\nfields: [{name: a, type: int}]\nforeign_keys:\n  - {fields: a, reference: "
        "{dataset: o, fields: [x, y]}}\n",
        JP_ERR_PARSE, 4, 49, 0, NULL, "a foreign key has 1 field but its reference 2");
    ERR("jinpu: 1\nfields: [{name: a, type: int}]\nforeign_keys:\n  - {fields: a, refrence: "
        "{fields: a}}\n",
        JP_ERR_PARSE, 4, 17, 0, NULL, "unknown foreign key key 'refrence'");

    /* not plain data */
    ERR("jinpu: 1\nname: &a x\nfields: []\n", JP_ERR_PARSE, 2, 7, 0, NULL, "anchors (&a)");
    ERR("jinpu: 1\nfields: []\ntitle: *a\n", JP_ERR_PARSE, 3, 8, 0, NULL, "aliases (*a)");
    ERR("jinpu: 1\nfields: !!seq []\n", JP_ERR_PARSE, 2, 9, 0, NULL,
        "tags (tag:yaml.org,2002:seq)");
    ERR(HEAD "  - {n: !!float 1}\n", JP_ERR_PARSE, 14, 9, 1, NULL, "tags (");
    ERR("jinpu: 1\nfields: []\n"
        "notes: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
        JP_ERR_LIMIT, 3, 23, 0, NULL, "nested deeper than 16 levels");
    ERR("rows: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
        JP_ERR_LIMIT, 1, 22, 0, NULL, "nested deeper than 16 levels");
    ERR(HEAD "  - {s: 1, n: 2, i: 3, d: 4, p: 5, b: 6, u: 7, v: 8, a: 9, s: 1, n: 2, i: 3, d: 4, "
             "p: 5, b: 6, u: 7, v: 8, a: 9, s: 1, n: 2, i: 3, d: 4, p: 5, b: 6, u: 7, v: 8, a: "
             "9, s: 1, n: 2, i: 3, d: 4, p: 5, b: 6, u: 7, v: 8, a: 9, s: 1, n: 2, i: 3, d: 4, "
             "p: 5, b: 6, u: 7, v: 8, a: 9}\n",
        JP_ERR_LIMIT, 14, 249, 1, NULL, "too many values in one row");

    /* syntax */
    ERR("jinpu: 1\nfields: [\n  {name: a, type: int}\nrows: x\n", JP_ERR_PARSE, 4, 1, 0, NULL,
        "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that "
        "starts on line 2)");
    ERR("jinpu: 1\nfields: []\ntitle: \"open\n", JP_ERR_PARSE, 4, 1, 0, NULL,
        "invalid YAML: found unexpected end of stream");
    ERR("jinpu: 1\nfields: []\ntitle: a\xff\n", JP_ERR_PARSE, 3, 9, 0, NULL,
        "invalid text: invalid leading UTF-8 octet (0xFF)");
    ERR("jinpu: 1\ntitle: a: b\nfields: []\n", JP_ERR_PARSE, 2, 9, 0, NULL,
        "invalid YAML: mapping values are not allowed in this context");
}

static void test_files(void)
{
    jp_formats_init();
    jp_error_t err;
    jp_dataset_t *ds = NULL;
    char buf[1400];
    /* the samples the command-line tests use */
    jp_status_t st = jp_dataset_load("tests/data/yaml/good.yaml", NULL, &ds, &err);
    CHECK_MSG(st == JP_OK, "%s", jp_error_format(&err, buf, sizeof buf));
    if (ds) {
        CHECK_STR(ds->meta.name, "good");
        CHECK_INT(ds->nrows, 4);
        CHECK_STR(ds->origin, "tests/data/yaml/good.yaml");
        CHECK(jp_dataset_row_line(ds, 0) > 0);
    }
    jp_dataset_unref(ds);
    st = jp_dataset_load("tests/data/yaml/schema_only.yaml", NULL, &ds, &err);
    CHECK_MSG(st == JP_OK, "%s", jp_error_format(&err, buf, sizeof buf));
    if (ds) CHECK(ds->nrows == 0 && ds->schema.n_fields == 3);
    jp_dataset_unref(ds);
    static const struct {
        const char *path;
        jp_status_t code;
        long line, col;
        const char *msg;
    } bad[] = {
        {"tests/data/yaml/broken.yaml", JP_ERR_PARSE, 7, 5, "invalid YAML"},
        {"tests/data/yaml/bad_value.yaml", JP_ERR_TYPE, 12, 32, "'abc' is not a number"},
        {"tests/data/yaml/bad_unit.yaml", JP_ERR_UNIT, 8, 11, "unknown unit 'furlong'"},
        {"tests/data/yaml/unknown_key.yaml", JP_ERR_PARSE, 9, 1, "unknown key 'rowz'"},
        {"tests/data/yaml/alias.yaml", JP_ERR_PARSE, 9, 9, "aliases (*greeting)"},
        {"tests/data/yaml/unit_mismatch.yaml", JP_ERR_UNIT, 11, 38, "'14.8万吨' is in t"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = jp_dataset_load(bad[i].path, NULL, &ds, &err);
        jp_error_format(&err, buf, sizeof buf);
        CHECK_MSG(st == bad[i].code && ds == NULL, "%s: %s", bad[i].path, buf);
        CHECK_MSG(strcmp(err.file, bad[i].path) == 0 && err.line == bad[i].line &&
                      err.col == bad[i].col && strstr(err.msg, bad[i].msg),
                  "%s", buf);
    }
    /* a file named otherwise is recognised by its first key */
    jp_buf_t b = JP_BUF_INIT;
    jp_file_read_all("tests/data/yaml/good.yaml", 1 << 20, &b, NULL);
    char tmpl[] = "/tmp/jp_yaml_XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
        close(fd);
        st = jp_dataset_load(tmpl, NULL, &ds, &err);
        CHECK_MSG(st == JP_OK, "%s", jp_error_format(&err, buf, sizeof buf));
        /* save (atomic) and load again */
        char path[64];
        snprintf(path, sizeof path, "%s.yml", tmpl);
        if (ds) {
            CHECK(jp_dataset_save(ds, path, NULL, &err) == JP_OK);
            jp_dataset_t *again = NULL;
            CHECK(jp_dataset_load(path, NULL, &again, &err) == JP_OK);
            if (again) {
                jp_meta_set(&again->meta.name, ds->meta.name);
                char why[256] = "";
                CHECK_MSG(jp_dataset_equal(ds, again, why, sizeof why), "%s", why);
            }
            jp_dataset_unref(again);
            unlink(path);
            /* a failed write leaves nothing behind */
            CHECK(jp_dataset_save(ds, "/no/such/dir/x.yaml", NULL, &err) == JP_ERR_IO);
            jp_column_t *badcol = jp_column_new(JP_TYPE_STRING, ds->nrows);
            for (size_t r = 0; r < ds->nrows; r++) jp_column_push_str(badcol, r ? "\xc3" : "ok", 2);
            jp_dataset_add(ds, "bad", badcol, NULL, NULL);
            CHECK(jp_dataset_save(ds, path, NULL, &err) == JP_ERR_INVALID);
            CHECK(access(path, F_OK) != 0);
            CHECK_INT(err.row, 2);
            CHECK_STR(err.field, "bad");
            CHECK_STR(err.file, path);
            /* no temporary file either */
            DIR *dir = opendir("/tmp");
            const char *base = strrchr(path, '/') + 1;
            int left = 0;
            for (struct dirent *de; dir && (de = readdir(dir));)
                left += de->d_name[0] == '.' && strncmp(de->d_name + 1, base, strlen(base)) == 0;
            if (dir) closedir(dir);
            CHECK(dir != NULL && left == 0);
        }
        jp_dataset_unref(ds);
        unlink(tmpl);
    }
    jp_buf_free(&b);
    CHECK(jp_dataset_load("tests/data/yaml/none.yaml", NULL, &ds, &err) == JP_ERR_NOTFOUND);
}

/* ---- robustness ------------------------------------------------------------------- */

static const char *sample =
    "jinpu: 1\n"
    "name: cherry\n"
    "title: \"Jinpu: cherries\"\n"
    "notes:\n  - 'a note'\n"
    "fields:\n"
    "  - name: indicator\n    type: string\n    constraints: {required: true, enum: [a, b]}\n"
    "  - {name: value, type: number, unit_field: unit, constraints: {minimum: 0}}\n"
    "  - {name: unit, type: string}\n"
    "  - {name: n, type: integer, unit: 万元}\n"
    "  - {name: when, type: period}\n"
    "  - {name: day, type: date}\n"
    "  - {name: ok, type: boolean}\n"
    "primary_key: [indicator]\n"
    "foreign_keys:\n  - {fields: [unit], reference: {dataset: units, fields: [name]}}\n"
    "rows:\n"
    "  - {indicator: a, value: 14.8万亩, unit: mu, n: 20万元, when: 2022, day: 2022-07-15, ok: "
    "true}\n"
    "  - {indicator: b, value: \">140000\", unit: t, n: \"~3\", when: \"..2021\", ok: ~}\n"
    "  - [b, 约11.4亿, CNY, 3.78万以上, 2019.., 2000-01-01, false]\n";

static void check_clean(const char *what, size_t k, jp_status_t st, jp_dataset_t *ds,
                        const jp_error_t *err)
{
    if (st == JP_OK) {
        CHECK_MSG(ds != NULL, "%s %zu: OK without a dataset", what, k);
    } else {
        CHECK_MSG(ds == NULL, "%s %zu: a dataset with an error", what, k);
        CHECK_MSG(err->msg[0] != '\0' && strcmp(err->file, "t.yaml") == 0, "%s %zu: no message",
                  what, k);
        CHECK_MSG(st == JP_ERR_NOMEM || st == JP_ERR_LIMIT || err->line > 0, "%s %zu: no line: %s",
                  what, k, err->msg);
    }
}

static void test_robustness(void)
{
    size_t n = strlen(sample);
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    char buf[1400];
    jp_status_t st = jp_yaml_read_mem("t.yaml", sample, n, NULL, &ds, &err);
    CHECK_MSG(st == JP_OK, "%s", jp_error_format(&err, buf, sizeof buf));
    jp_dataset_unref(ds);
    int ok = 0, bad = 0;
    for (size_t k = 0; k <= n; k++) {
        ds = NULL;
        st = jp_yaml_read_mem("t.yaml", sample, k, NULL, &ds, &err);
        check_clean("truncation", k, st, ds, &err);
        st ? bad++ : ok++;
        jp_dataset_unref(ds);
    }
    CHECK(ok > 0 && bad > 0);
    char *copy = jp_malloc(n);
    srand(20240601);
    static const char evil[] = "\0\xff\x80:{}[],#&*!|>'\"%@`-? \n\t\\~0";
    for (int t = 0; t < 600; t++) {
        memcpy(copy, sample, n);
        size_t at = (size_t)rand() % n;
        copy[at] = t % 2 ? evil[rand() % (int)(sizeof evil - 1)] : (char)(rand() & 0xff);
        ds = NULL;
        st = jp_yaml_read_mem("t.yaml", copy, n, NULL, &ds, &err);
        check_clean("corruption", (size_t)t, st, ds, &err);
        if (ds) {
            /* whatever was read writes and reads back */
            jp_dataset_t *back = round_trip(__LINE__, ds, true);
            jp_dataset_unref(back);
        }
        jp_dataset_unref(ds);
    }
    jp_free(copy);

    /* every allocation failure is reported, nothing leaks */
    int failures = 0;
    for (long k = 1; k < 100000; k++) {
        ds = NULL;
        jp_mem_fail_after(k, 0);
        st = jp_yaml_read_mem("t.yaml", sample, n, NULL, &ds, &err);
        jp_mem_fail_after(0, 0);
        jp_dataset_unref(ds);
        if (st == JP_OK) break;
        CHECK_MSG(st == JP_ERR_NOMEM, "allocation %ld: %s", k, err.msg);
        failures++;
    }
    CHECK(failures > 20);
    st = jp_yaml_read_mem("t.yaml", sample, n, NULL, &ds, &err);
    if (!st) {
        failures = 0;
        for (long k = 1; k < 100000; k++) {
            jp_buf_t b = JP_BUF_INIT;
            jp_mem_fail_after(k, 0);
            st = jp_yaml_write_buf(ds, true, &b, &err);
            jp_mem_fail_after(0, 0);
            jp_buf_free(&b);
            if (st == JP_OK) break;
            CHECK_MSG(st == JP_ERR_NOMEM, "allocation %ld: %s", k, err.msg);
            failures++;
        }
        CHECK(failures > 0);
    }
    jp_dataset_unref(ds);
}

/* Empty rows cost no text but a cell per field: a document cannot ask for
 * much more memory than its size. */
static void test_cell_limit(void)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "jinpu: 1\nfields:\n");
    for (int i = 0; i < 100; i++) jp_buf_printf(&b, "  - {name: f%d, type: number}\n", i);
    jp_buf_puts(&b, "primary_key: [f1, f2]\nrows: [");
    size_t head = b.len;
    for (int r = 0; r < 5000; r++) jp_buf_puts(&b, "{f1: 1},");
    jp_buf_puts(&b, "{}]\n");
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK(jp_yaml_read_mem("t.yaml", b.data, b.len, NULL, &ds, &err) == JP_OK);
    if (ds) CHECK(ds->nrows == 5001 && ds->schema.n_fields == 100 && ds->schema.n_primary_key == 2);
    jp_dataset_unref(ds);
    b.len = head;
    for (int r = 0; r < 40000; r++) jp_buf_puts(&b, "{},");
    jp_buf_puts(&b, "{}]\n");
    CHECK(jp_yaml_read_mem("t.yaml", b.data, b.len, NULL, &ds, &err) == JP_ERR_LIMIT);
    CHECK(ds == NULL && strstr(err.msg, "cells (100 fields)") && err.row > 10000 &&
          err.line == 104);
    jp_buf_free(&b);
}

/* Many rows: memory follows the columns, and it takes well under a second. */
static void test_many_rows(void)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "jinpu: 1\nfields:\n  - {name: k, type: string}\n  - {name: v, type: "
                    "number}\n  - {name: i, type: integer}\nrows:\n");
    const size_t rows = 200000;
    for (size_t r = 0; r < rows; r++)
        jp_buf_printf(&b, "  - {k: key%zu, v: %zu.5, i: \"~%zu\"}\n", r % 100, r, r);
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK(jp_yaml_read_mem("big.yaml", b.data, b.len, NULL, &ds, &err) == JP_OK);
    if (ds) {
        CHECK_INT(ds->nrows, rows);
        CHECK_DBL(num(ds, "v", rows - 1), (double)(rows - 1) + 0.5);
        CHECK_INT(jp_dataset_row_line(ds, rows - 1), 6 + (long)rows);
        jp_dataset_t *back = round_trip(__LINE__, ds, true);
        jp_dataset_unref(back);
    }
    jp_dataset_unref(ds);
    jp_buf_free(&b);
}

/* Refusals the other tests leave out: shapes of keys, enums and unit cells,
 * long values cut in messages, and a writer refusing a dangling unit field. */
static void test_more_refusals(void)
{
    ERR("jinpu: 1\nfields: [{name: x, type: int, constraints: {enum: 3}}]\n", JP_ERR_TYPE, 2, 51, 0,
        "x", "'enum' must be a list of values, not text");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nprimary_key: {x: 1}\n", JP_ERR_PARSE, 3, 14, 0,
        NULL, "'primary_key' must be a field name or a list of names");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nprimary_key: [[x]]\n", JP_ERR_PARSE, 3, 15, 0,
        NULL, "'primary_key' must list field names");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nforeign_keys: x\n", JP_ERR_PARSE, 3, 15, 0, NULL,
        "'foreign_keys' must be a list of {fields, reference}, not text");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nforeign_keys: [{fields: x}]\n", JP_ERR_PARSE, 3,
        16, 0, NULL, "a foreign key needs 'fields' and 'reference'");
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nforeign_keys: [{fields: x, reference: y}]\n",
        JP_ERR_PARSE, 3, 39, 0, NULL, "'reference' is a mapping {dataset, fields}");
    ERR("jinpu: 1\nfields: [{name: v, type: number, unit_field: u}, {name: u, type: string}]\n"
        "rows: [{v: 1, u: [t]}]\n",
        JP_ERR_TYPE, 3, 18, 1, "u", "expected a unit, found a list");
    /* a long value is cut at 60 bytes, on a character boundary */
    ERR("jinpu: 1\nfields: [{name: x, type: int}]\nrows: [{x: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa樱桃}]\n",
        JP_ERR_TYPE, 3, 12, 1, "x",
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not an integer");

    /* the writer refuses a unit field that names no string field */
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *c = jp_column_new(JP_TYPE_NUMBER, 1);
    jp_column_push_number(c, 1, JP_Q_EXACT);
    jp_dataset_add(ds, "v", c, NULL, NULL);
    jp_meta_set(&ds->schema.fields[0].unit_field, "nope");
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    CHECK(jp_yaml_write_buf(ds, false, &b, &err) == JP_ERR_INVALID);
    CHECK(strstr(err.msg, "unit_field 'nope' does not name another string field") != NULL);
    jp_buf_free(&b);
    jp_dataset_unref(ds);
}

/* Reading some columns keeps the keys whose fields all survive. */
static void test_columns_keep_keys(void)
{
    static const char doc[] =
        "jinpu: 1\nfields:\n  - {name: a, type: int}\n  - {name: b, type: int}\n"
        "  - {name: c, type: int}\nprimary_key: [a, b]\nforeign_keys:\n"
        "  - {fields: c, reference: {fields: a}}\n  - {fields: b, reference: {dataset: o, fields: "
        "x}}\n  - {fields: c, reference: {fields: b}}\nrows: [[1, 2, 1]]\n";
    const char *cols[] = {"c", "a", "b"};
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.columns = cols;
    o.n_columns = 3;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK(jp_yaml_read_mem("k.yaml", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    if (ds) {
        CHECK_INT(ds->schema.n_primary_key, 2);
        CHECK_INT(ds->schema.n_foreign_keys, 3);
        CHECK_STR(ds->schema.fields[0].name, "c");
    }
    jp_dataset_unref(ds);
    o.n_columns = 2; /* c and a: the key (a, b) and the keys over b go */
    ds = NULL;
    CHECK(jp_yaml_read_mem("k.yaml", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    if (ds) {
        CHECK_INT(ds->schema.n_primary_key, 0);
        CHECK_INT(ds->schema.n_foreign_keys, 1);
        CHECK(ds->schema.n_foreign_keys == 1 &&
              strcmp(ds->schema.foreign_keys[0].ref_fields[0], "a") == 0);
    }
    jp_dataset_unref(ds);
    /* every allocation failure is reported, nothing leaks */
    o.n_columns = 3;
    for (long k = 1; k < 100000; k++) {
        ds = NULL;
        jp_mem_fail_after(k, 0);
        jp_status_t st = jp_yaml_read_mem("k.yaml", doc, strlen(doc), &o, &ds, &err);
        jp_mem_fail_after(0, 0);
        jp_dataset_unref(ds);
        if (st == JP_OK) break;
        CHECK_MSG(st == JP_ERR_NOMEM, "allocation %ld: %s", k, err.msg);
    }
}

/* With o->cell_errors a cell that is not of its field's type or unit is read
 * as null and recorded (line, column, row, field, message); the read goes on,
 * so a validator can report every bad cell.  Without it the read stops at the
 * first; structural errors stop it either way. */
static const char cells_doc[] = "jinpu: 1\n"
                                "fields:\n"
                                "  - {name: k, type: string}\n"
                                "  - {name: n, type: integer}\n"
                                "  - {name: v, type: number, unit_field: u}\n"
                                "  - {name: u, type: string}\n"
                                "rows:\n"
                                "  - {k: a, n: 1, v: 14.8万, u: 亩}\n"
                                "  - {k: b, n: abc, v: 2, u: t}\n"
                                "  - k: c\n"
                                "    n: 99999999999999999999\n"
                                "    v: twenty-five-thousand\n"
                                "    u: mu\n"
                                "  - {k: d, n: 4, v: 5, u: furlong}\n"
                                "  - {k: e, n: [1], v: 3万吨, u: mu}\n";

static void test_cell_errors(void)
{
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    /* a plain read stops at the first bad cell */
    CHECK(jp_yaml_read_mem("c.yaml", cells_doc, strlen(cells_doc), NULL, &ds, &err) == JP_ERR_TYPE);
    CHECK(ds == NULL && err.line == 9 && err.row == 2);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_cell_errors_t ce = JP_CELL_ERRORS_INIT;
    o.cell_errors = &ce;
    char buf[1400];
    jp_status_t st = jp_yaml_read_mem("c.yaml", cells_doc, strlen(cells_doc), &o, &ds, &err);
    CHECK_MSG(st == JP_OK, "%s", jp_error_format(&err, buf, sizeof buf));
    if (ds) {
        CHECK_INT(ds->nrows, 5);
        long n = jp_schema_find(&ds->schema, "n"), v = jp_schema_find(&ds->schema, "v"),
             u = jp_schema_find(&ds->schema, "u");
        CHECK(jp_column_is_null(ds->cols[n], 1) && jp_column_is_null(ds->cols[n], 2) &&
              jp_column_is_null(ds->cols[n], 4));
        CHECK(!jp_column_is_null(ds->cols[n], 0) && !jp_column_is_null(ds->cols[n], 3));
        CHECK(jp_column_is_null(ds->cols[v], 2) && jp_column_is_null(ds->cols[v], 4));
        CHECK(jp_column_is_null(ds->cols[u], 3) && !jp_column_is_null(ds->cols[v], 3));
        CHECK_DBL(num(ds, "v", 0), 148000);
    }
    /* in the order met: row by row, the unit cell before the figures */
    struct {
        jp_status_t code;
        long line, col, row;
        const char *field, *msg;
    } want[] = {
        {JP_ERR_TYPE, 9, 15, 2, "n", "'abc' is not an integer"},
        {JP_ERR_RANGE, 11, 8, 3, "n", "outside the integer range"},
        {JP_ERR_TYPE, 12, 8, 3, "v", "'twenty-five-thousand' is not a number"},
        {JP_ERR_UNIT, 14, 27, 4, "u", "'furlong' is not a known unit"},
        {JP_ERR_TYPE, 15, 15, 5, "n", "expected one value, found a list"},
        {JP_ERR_UNIT, 15, 23, 5, "v", "is in t but the row's unit is mu"},
    };
    size_t nw = sizeof want / sizeof want[0];
    CHECK_INT(ce.n, nw);
    CHECK_INT(ce.total, nw);
    for (size_t i = 0; i < nw && i < ce.n; i++) {
        const jp_cell_error_t *c = &ce.v[i];
        CHECK_MSG(c->code == want[i].code && c->line == want[i].line && c->col == want[i].col &&
                      c->row == want[i].row && strcmp(c->field, want[i].field) == 0 &&
                      strstr(c->msg, want[i].msg) != NULL,
                  "cell error %zu: %d %ld:%ld row %ld '%s': %s", i, (int)c->code, c->line, c->col,
                  c->row, c->field, c->msg);
    }
    jp_dataset_unref(ds);
    jp_cell_errors_free(&ce);

    /* rows before fields (the second pass) keep cells aside as well; a NULL err is fine */
    static const char late[] = "jinpu: 1\nrows:\n  - {x: 1}\n  - {x: zz}\n"
                               "fields: [{name: x, type: integer}]\n";
    ds = NULL;
    CHECK(jp_yaml_read_mem("l.yaml", late, strlen(late), &o, &ds, NULL) == JP_OK);
    CHECK(ds && ds->nrows == 2 && ce.n == 1 && ce.v[0].line == 4 && ce.v[0].row == 2);
    jp_dataset_unref(ds);
    jp_cell_errors_free(&ce);

    /* structural errors still stop the read */
    static const char bad[] = "jinpu: 1\nfields: [{name: x, type: integer}]\n"
                              "rows:\n  - {x: zz}\n  - {y: 1}\n";
    ds = NULL;
    CHECK(jp_yaml_read_mem("b.yaml", bad, strlen(bad), &o, &ds, &err) == JP_ERR_PARSE);
    CHECK(ds == NULL && err.line == 5 && strstr(err.msg, "unknown field 'y'"));
    jp_cell_errors_free(&ce);

    /* so do bad bounds in the schema: they are not cells */
    static const char bound[] =
        "jinpu: 1\nfields: [{name: x, type: integer, constraints: {minimum: zz}}]\n";
    CHECK(jp_yaml_read_mem("m.yaml", bound, strlen(bound), &o, &ds, &err) == JP_ERR_TYPE);
    CHECK(ce.n == 0);

    /* every allocation failure is reported, nothing leaks */
    int failures = 0;
    for (long k = 1; k < 100000; k++) {
        ds = NULL;
        jp_mem_fail_after(k, 0);
        st = jp_yaml_read_mem("c.yaml", cells_doc, strlen(cells_doc), &o, &ds, &err);
        jp_mem_fail_after(0, 0);
        jp_dataset_unref(ds);
        jp_cell_errors_free(&ce);
        if (st == JP_OK) break;
        CHECK_MSG(st == JP_ERR_NOMEM, "allocation %ld: %s", k, err.msg);
        failures++;
    }
    CHECK(failures > 10);
}

/* A wide document: the schema handed over whole keeps a name index (and so
 * does its copy), so that each later lookup (ds:column, expressions, info)
 * costs a hash, not a scan; 60k fields took 6 s of lookups in `info`. */
static void test_wide_schema(void)
{
    const size_t nf = 5000;
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "jinpu: 1\nfields:\n");
    for (size_t i = 0; i < nf; i++) jp_buf_printf(&b, "  - {name: f%zu, type: integer}\n", i);
    jp_buf_puts(&b, "rows:\n  - [");
    for (size_t i = 0; i < nf; i++) jp_buf_printf(&b, "%s%zu", i ? ", " : "", i);
    jp_buf_puts(&b, "]\n");
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK(jp_yaml_read_mem("wide.yaml", b.data, b.len, NULL, &ds, &err) == JP_OK);
    if (ds) {
        const jp_schema_t *sc = &ds->schema;
        CHECK_INT(sc->n_fields, nf);
        CHECK(sc->index != NULL && sc->index_n == sc->n_fields);
        size_t found = 0;
        for (size_t i = 0; i < nf; i++) {
            char name[32];
            snprintf(name, sizeof name, "f%zu", i);
            found += jp_schema_find(sc, name) == (long)i;
        }
        CHECK_INT(found, nf);
        CHECK_INT(jp_schema_find(sc, "f5000"), -1);
        jp_schema_t cp;
        CHECK(jp_schema_copy(&cp, sc) == JP_OK);
        CHECK(cp.index != NULL && cp.index_n == cp.n_fields);
        CHECK_INT(jp_schema_find(&cp, "f4999"), 4999);
        jp_schema_free(&cp);
    }
    jp_dataset_unref(ds);
    jp_buf_free(&b);
}

int main(void)
{
    RUN(test_round_trip_full);
    RUN(test_round_trip_small);
    RUN(test_write_refusals);
    RUN(test_figures);
    RUN(test_values);
    RUN(test_options);
    RUN(test_sniff);
    RUN(test_errors);
    RUN(test_files);
    RUN(test_robustness);
    RUN(test_cell_limit);
    RUN(test_many_rows);
    RUN(test_wide_schema);
    RUN(test_cell_errors);
    RUN(test_more_refusals);
    RUN(test_columns_keep_keys);
    return unit_done();
}
