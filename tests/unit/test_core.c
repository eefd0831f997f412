/*
 * test_core.c - the core vocabulary: numbers as text, dates, periods,
 * units and printed figures, columns and dictionaries, datasets, previews,
 * atomic files and allocation-failure paths.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_buf.h"
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_file.h"
#include "jp_format.h"
#include "jp_mem.h"
#include "jp_preview.h"
#include "jp_suggest.h"
#include "jp_unit.h"
#include "jp_value.h"
#include "unit.h"

static void test_double_text(void)
{
    const double cases[] = {0.1,          1.5,
                            148000,       257630000000.0,
                            1140000000.0, 0.001,
                            -0.25,        1e22,
                            1e-7,         5e-324,
                            DBL_MAX,      123.456,
                            2.675,        1.0 / 3,
                            -1e300,       9007199254740993.0,
                            37800,        0.30000000000000004};
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = jp_format_double(cases[i], buf, sizeof buf);
        double back;
        CHECK_MSG(jp_parse_double(buf, (size_t)n, &back) && back == cases[i], "%.17g -> %s",
                  cases[i], buf);
    }
    jp_format_double(0.1, buf, sizeof buf);
    CHECK_STR(buf, "0.1");
    jp_format_double(148000, buf, sizeof buf);
    CHECK_STR(buf, "148000");
    jp_format_double(-0.25, buf, sizeof buf);
    CHECK_STR(buf, "-0.25");
    jp_format_double(-0.0, buf, sizeof buf);
    CHECK_STR(buf, "-0");
    jp_format_double(1e22, buf, sizeof buf);
    CHECK_STR(buf, "1e+22");

    double d;
    CHECK(jp_parse_double("456.0", 5, &d) && d == 456.0);
    CHECK(jp_parse_double("-1.5e3", 6, &d) && d == -1500);
    CHECK(jp_parse_double(".5", 2, &d) && d == 0.5);
    CHECK(!jp_parse_double("1.5x", 4, &d));
    CHECK(!jp_parse_double("", 0, &d));
    CHECK(!jp_parse_double("-", 1, &d));
    CHECK(!jp_parse_double("1e", 2, &d));
    CHECK(!jp_parse_double("nan", 3, &d));
    CHECK(!jp_parse_double("1e999", 5, &d));
    CHECK(!jp_parse_double("1e-999", 6, &d)); /* would be 0: not the number written */
    CHECK(jp_parse_double("0e-999", 6, &d) && d == 0);
    /* long mantissas take the exact slow path */
    CHECK(jp_parse_double("0.12345678901234567890123", 25, &d) && d == 0.12345678901234567890123);
    CHECK(jp_parse_double("123456789012345678901234567890", 30, &d) &&
          d == 123456789012345678901234567890.0);

    int64_t v;
    CHECK(jp_parse_int64("0", 1, &v) == 0 && v == 0);
    CHECK(jp_parse_int64("-42", 3, &v) == 0 && v == -42);
    CHECK(jp_parse_int64("9223372036854775807", 19, &v) == 0 && v == INT64_MAX);
    CHECK(jp_parse_int64("-9223372036854775808", 20, &v) == 0 && v == INT64_MIN);
    CHECK(jp_parse_int64("9223372036854775808", 19, &v) == 2);
    CHECK(jp_parse_int64("000123", 6, &v) == 1);
    CHECK(jp_parse_int64("+1", 2, &v) == 1);
    CHECK(jp_parse_int64("-0", 2, &v) == 1);
    CHECK(jp_parse_int64("12a", 3, &v) == 1);
    CHECK(jp_parse_int64("", 0, &v) == 1);
}

static void test_dates_periods(void)
{
    int32_t d;
    char buf[64];
    CHECK(jp_date_parse("1970-01-01", 10, &d) && d == 0);
    CHECK(jp_date_parse("2022-09-26", 10, &d));
    CHECK_STR(jp_date_format(d, buf), "2022-09-26");
    CHECK(jp_date_parse("2000-02-29", 10, &d));
    CHECK(!jp_date_parse("2022-02-29", 10, &d));
    CHECK(!jp_date_parse("2022-13-01", 10, &d));
    CHECK(!jp_date_parse("2022-9-26", 9, &d));
    CHECK(jp_date_parse("1900-03-01", 10, &d) && d == jp_date_from_ymd(1900, 3, 1));
    for (int32_t k = -800000; k < 800000; k += 997) {
        int y, m, dd;
        jp_date_to_ymd(k, &y, &m, &dd);
        CHECK_MSG(jp_date_from_ymd(y, m, dd) == k, "day %d", (int)k);
    }

    const char *forms[][2] = {
        {"2021", "2021"},
        {"2022-07", "2022-07"},
        {"2022-09-26", "2022-09-26"},
        {"2022-Q3", "2022-Q3"},
        {"2022-01..2022-08", "2022-01..2022-08"},
        {"2022-01/2022-08", "2022-01..2022-08"},
        {"..2021", "..2021"},
        {"cumulative..2021", "..2021"},
        {"2019..", "2019.."},
        {"cumulative", "cumulative"},
        {"last 5 years", "last 5 years"},
        {"last 5 years..2022", "last 5 years..2022"},
        {"last 18 months", "last 18 months"},
        {" 2021 ", "2021"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        jp_period_t p, q;
        jp_error_t err;
        bool ok = jp_period_parse(forms[i][0], strlen(forms[i][0]), &p, &err);
        CHECK_MSG(ok, "parse '%s'", forms[i][0]);
        if (!ok) continue;
        jp_period_format(&p, buf, sizeof buf);
        CHECK_STR(buf, forms[i][1]);
        CHECK(jp_period_parse(buf, strlen(buf), &q, NULL) && jp_period_eq(&p, &q));
    }
    const char *bad[] = {"",           "21",           "2022-13",      "2022-Q5",
                         "2023..2021", "last x years", "last 5 weeks", "yesterday",
                         "2022-02-30"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jp_period_t p;
        jp_error_t err;
        jp_error_clear(&err);
        CHECK_MSG(!jp_period_parse(bad[i], strlen(bad[i]), &p, &err) && err.code == JP_ERR_PARSE,
                  "'%s' accepted", bad[i]);
    }
    jp_period_t a, b;
    jp_period_parse("2021", 4, &a, NULL);
    jp_period_parse("2022-01..2022-08", 16, &b, NULL);
    CHECK(jp_period_cmp(&a, &b) < 0 && jp_period_cmp(&b, &a) > 0);
    int32_t end2021 = jp_date_from_ymd(2021, 12, 31);
    CHECK(a.from == jp_date_from_ymd(2021, 1, 1) && a.to == end2021);
    CHECK(b.to == jp_date_from_ymd(2022, 8, 31));
}

static void test_units(void)
{
    double f;
    CHECK(jp_unit_factor("mu", "ha", &f, NULL) == JP_OK);
    CHECK_DBL(f, 1.0 / 15);
    CHECK(jp_unit_factor("亩", "公顷", &f, NULL) == JP_OK);
    CHECK_DBL(f, 1.0 / 15);
    CHECK(jp_unit_factor("10k CNY", "CNY", &f, NULL) == JP_OK && f == 1e4);
    CHECK(jp_unit_factor("CNY", "亿元", &f, NULL) == JP_OK);
    CHECK_DBL(f, 1e-8);
    CHECK(jp_unit_factor("t", "kg", &f, NULL) == JP_OK && f == 1000);
    CHECK(jp_unit_factor("CNY/t", "CNY/kg", &f, NULL) == JP_OK);
    CHECK_DBL(f, 0.001);
    CHECK(jp_unit_factor("times", "percent", &f, NULL) == JP_OK && f == 100);
    /* powers of ten scale exactly: 148000 mu is 14.8 万亩, not 14.799999999999999 */
    jp_unit_conv_t cv;
    CHECK(jp_unit_conversion("mu", "万亩", &cv, NULL) == JP_OK && cv.pow10 && cv.exp10 == -4);
    CHECK(jp_unit_apply(&cv, 148000) == 14.8);
    CHECK(jp_unit_conversion("CNY", "亿元", &cv, NULL) == JP_OK && cv.exp10 == -8);
    CHECK(jp_unit_apply(&cv, 257630000000.0) == 2576.3);
    CHECK(jp_unit_conversion("元/人", "万元/人", &cv, NULL) == JP_OK && cv.pow10);
    CHECK(jp_unit_apply(&cv, 37800) == 3.78);
    CHECK(jp_unit_conversion("10k CNY", "100M CNY", &cv, NULL) == JP_OK && cv.exp10 == -4);
    CHECK(jp_unit_conversion("10k mu", "mu", &cv, NULL) == JP_OK && cv.exp10 == 4);
    CHECK(jp_unit_apply(&cv, 14.8) == 148000);
    CHECK(jp_unit_conversion("percent", "1", &cv, NULL) == JP_OK && cv.exp10 == -2);
    CHECK(jp_unit_apply(&cv, 13.5) == 0.135);
    CHECK(jp_unit_conversion("mu", "ha", &cv, NULL) == JP_OK && !cv.pow10);
    CHECK_DBL(jp_unit_apply(&cv, 15), 1);
    {
        /* every n / 10^k for n < 10^6 and k in 1..8 as the decimal literal reads */
        int bad = 0;
        static const char *const to[] = {"10k CNY", "100M CNY", "k CNY"};
        static const int ks[] = {4, 8, 3};
        for (int u = 0; u < 3; u++) {
            CHECK(jp_unit_conversion("CNY", to[u], &cv, NULL) == JP_OK);
            for (long n = 0; n < 1000000; n += 7) {
                char txt[32];
                snprintf(txt, sizeof txt, "%lde-%d", n, ks[u]);
                bad += jp_unit_apply(&cv, (double)n) != strtod(txt, NULL);
            }
        }
        CHECK(bad == 0);
    }
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_unit_factor("t", "mu", &f, &err) == JP_ERR_UNIT && strstr(err.msg, "cannot convert"));
    CHECK(jp_unit_factor("furlong", "mu", &f, &err) == JP_ERR_UNIT && strstr(err.msg, "furlong"));
    char buf[64];
    CHECK_STR(jp_unit_canonical("万元", buf, sizeof buf), "10k CNY");
    CHECK_STR(jp_unit_canonical("km²", buf, sizeof buf), "km2");
    CHECK_STR(jp_unit_canonical("item/10k person", buf, sizeof buf), "item/10k person");
    CHECK(jp_unit_canonical("parsec", buf, sizeof buf) == NULL);
    CHECK(jp_unit_canonical("CNY/t/mu", buf, sizeof buf) == NULL);

    struct {
        const char *text;
        double value;
        jp_qual_t q;
        const char *unit;
    } figs[] = {
        {"14.8万亩", 148000, JP_Q_EXACT, "mu"},
        {"14万余吨", 140000, JP_Q_MORE_THAN, "t"},
        {"超40亿元", 4e9, JP_Q_MORE_THAN, "CNY"},
        {"3.78万元以上", 37800, JP_Q_AT_LEAST, "CNY"},
        {"约11.4亿美元", 1.14e9, JP_Q_APPROX, "USD"},
        {"2576.3亿元", 257630000000.0, JP_Q_EXACT, "CNY"},
        {"突破400家", 400, JP_Q_MORE_THAN, "firm"},
        {"近10万名", 100000, JP_Q_APPROX, "person"},
        {"460余项", 460, JP_Q_MORE_THAN, "item"},
        {"百余套", 100, JP_Q_MORE_THAN, "item"},
        {"9%", 9, JP_Q_EXACT, "percent"},
        {"6.5倍", 6.5, JP_Q_EXACT, "times"},
        {"2299平方公里", 2299, JP_Q_EXACT, "km2"},
        {">140000", 140000, JP_Q_MORE_THAN, ""},
        {">=37800", 37800, JP_Q_AT_LEAST, ""},
        {"~1.14e9", 1.14e9, JP_Q_APPROX, ""},
        {"<= 5", 5, JP_Q_AT_MOST, ""},
        {"148,000", 148000, JP_Q_EXACT, ""},
        {"1,234,567.5", 1234567.5, JP_Q_EXACT, ""},
        {"1.2k", 1200, JP_Q_EXACT, ""},
        {"3M", 3e6, JP_Q_EXACT, ""},
        {"2B", 2e9, JP_Q_EXACT, ""},
        {"5km2", 5, JP_Q_EXACT, "km2"},
        {"37800+", 37800, JP_Q_AT_LEAST, ""},
        {"20万元", 200000, JP_Q_EXACT, "CNY"},
        {"-3.5", -3.5, JP_Q_EXACT, ""},
        {"148000 mu", 148000, JP_Q_EXACT, "mu"},
        /* orders of magnitude: at least the magnitude, not the unit level */
        {"万亿级", 1e12, JP_Q_AT_LEAST, ""},
        {"千亿元级", 1e11, JP_Q_AT_LEAST, "CNY"},
        {"百亿级", 1e10, JP_Q_AT_LEAST, ""},
        {"亿元级", 1e8, JP_Q_AT_LEAST, "CNY"},
        {"10万级", 1e5, JP_Q_AT_LEAST, ""},
        {"2级", 2, JP_Q_EXACT, "level"},
        /* combined magnitudes */
        {"超千万", 1e7, JP_Q_MORE_THAN, ""},
        {"约5千万元", 5e7, JP_Q_APPROX, "CNY"},
        {"约十万", 1e5, JP_Q_APPROX, ""},
        {"3百亿元", 3e10, JP_Q_EXACT, "CNY"},
        {"过万亿", 1e12, JP_Q_MORE_THAN, ""},
        {"至少1项", 1, JP_Q_AT_LEAST, "item"},
    };
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        jp_quantity_t q;
        jp_error_clear(&err);
        bool ok = jp_quantity_parse(figs[i].text, strlen(figs[i].text), &q, &err);
        CHECK_MSG(ok, "'%s': %s", figs[i].text, err.msg);
        if (!ok) continue;
        CHECK_MSG(q.value == figs[i].value, "'%s' = %.17g", figs[i].text, q.value);
        CHECK_MSG(q.qual == figs[i].q, "'%s' qualifier %s", figs[i].text, jp_qual_name(q.qual));
        CHECK_STR(q.unit, figs[i].unit);
        CHECK_MSG(q.order_of_magnitude == (strstr(figs[i].text, "级") && q.qual == JP_Q_AT_LEAST),
                  "'%s' order of magnitude", figs[i].text);
    }
    const char *bad[] = {"",     "abc",          "12 furlongs", "约",     "1,2",
                         ">",    "14万余以上吨", "1.2.3",       "1,0000", "1234,567",
                         ",123", "1,23",         "约万亿级",    "十",     "万元",
                         "千万", "十万",         "万"}; /* a magnitude alone needs a number */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jp_quantity_t q;
        jp_error_clear(&err);
        CHECK_MSG(!jp_quantity_parse(bad[i], strlen(bad[i]), &q, &err) && err.msg[0],
                  "'%s' accepted", bad[i]);
    }
}

static void test_number_display(void)
{
    char b[64];
    jp_number_display(15.729453401494299, 7, b, sizeof b);
    CHECK_STR(b, "15.72945");
    jp_number_display(15.729453401494299, 0, b, sizeof b);
    CHECK_STR(b, "15.729453401494299");
    jp_number_display(987654321.125, 7, b, sizeof b);
    CHECK_STR(b, "987654321");
    jp_number_display(-0.000123456789, 7, b, sizeof b);
    CHECK_STR(b, "-0.0001234568");
    jp_number_display(1e25, 7, b, sizeof b);
    CHECK_STR(b, "1e25");
    jp_number_display(148000, 3, b, sizeof b);
    CHECK_STR(b, "148000");
    char f[160];
    CHECK(jp_figure_format(148000, "mu", JP_Q_EXACT, NULL, f, sizeof f, NULL) == JP_OK);
    CHECK_STR(f, "14.8万亩");
    CHECK(jp_figure_format(37800, "CNY/person", JP_Q_AT_LEAST, NULL, f, sizeof f, NULL) == JP_OK);
    CHECK_STR(f, "3.78万元/人以上");
    jp_quantity_t q;
    CHECK(jp_quantity_parse(f, strlen(f), &q, NULL) && q.value == 37800 &&
          q.qual == JP_Q_AT_LEAST && strcmp(q.unit, "CNY/person") == 0);
    CHECK(jp_figure_format(1.0 / 0.0, "t", JP_Q_EXACT, NULL, f, sizeof f, NULL) == JP_ERR_ARG);
}

static void test_suggest(void)
{
    static const char *const names[] = {"output_t", "area_mu", "district", "year", "面积", NULL};
    CHECK_STR(jp_suggest("ouput_t", names, -1), "output_t");
    CHECK_STR(jp_suggest("Output_T", names, -1), "output_t"); /* case of ASCII letters */
    CHECK_STR(jp_suggest("yaer", names, -1), "year");         /* a swap is one edit */
    CHECK_STR(jp_suggest("distrcit", names, -1), "district");
    CHECK_STR(jp_suggest("面", names, -1), "面积"); /* code points, not bytes */
    CHECK(jp_suggest("revenue", names, -1) == NULL);
    CHECK(jp_suggest("year", names, -1) == NULL); /* an exact name is no suggestion */
    CHECK(jp_suggest("x", names, 0) == NULL);
    CHECK(jp_name_distance("abc", "abc") == 0);
    CHECK(jp_name_distance("", "abc") == 3);
    CHECK(jp_name_distance("亩", "亩s") == 1);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(jp_suggest(big, names, -1) == NULL); /* too long to compare: no crash, no match */
    char hint[96];
    CHECK_STR(jp_unit_hint("tons", hint, sizeof hint), " (did you mean 't'?)");
    CHECK_STR(jp_unit_hint("hectars", hint, sizeof hint), " (did you mean 'ha'?)");
    CHECK_STR(jp_unit_hint("CNY/tons", hint, sizeof hint), " (did you mean 'CNY/t'?)");
    CHECK_STR(jp_unit_hint("furlong", hint, sizeof hint), "");
    jp_error_t err;
    double f;
    CHECK(jp_unit_factor("tons", "kg", &f, &err) == JP_ERR_UNIT);
    CHECK_STR(err.msg, "unknown unit 'tons' (did you mean 't'?)");
}

/* A column of type t holding the one value `text` reads as. */
static jp_column_t *one_cell(jp_type_t t, const char *text)
{
    jp_column_t *c = jp_column_new(t, 1);
    size_t n = strlen(text);
    int32_t day;
    jp_period_t p;
    jp_status_t st = JP_ERR_TYPE;
    if (t == JP_TYPE_INT) st = jp_column_push_int(c, strtoll(text, NULL, 10), JP_Q_EXACT);
    if (t == JP_TYPE_NUMBER) st = jp_column_push_number(c, strtod(text, NULL), JP_Q_EXACT);
    if (t == JP_TYPE_STRING) st = jp_column_push_str(c, text, n);
    if (t == JP_TYPE_BOOL) st = jp_column_push_bool(c, strcmp(text, "true") == 0);
    if (t == JP_TYPE_DATE && jp_date_parse(text, n, &day)) st = jp_column_push_date(c, day);
    if (t == JP_TYPE_PERIOD && jp_period_parse(text, n, &p, NULL))
        st = jp_column_push_period(c, &p);
    if (st == JP_OK) return c;
    jp_column_unref(c);
    return NULL;
}

/* The type table: every type's names, cells and values, one entry each. */
static void test_type_table(void)
{
    for (int t = JP_TYPE_NONE + 1; t < JP_TYPE_COUNT; t++) {
        const jp_type_info_t *ti = jp_type_info((jp_type_t)t);
        jp_type_t back = JP_TYPE_NONE;
        CHECK(jp_type_from_name(jp_type_name((jp_type_t)t), &back) && back == (jp_type_t)t);
        for (int a = 0; a < 2; a++)
            if (ti->alias[a]) CHECK(jp_type_from_name(ti->alias[a], &back) && back == (jp_type_t)t);
        CHECK(ti->width > 0);
    }
    jp_type_t none;
    CHECK(!jp_type_from_name("decimal", &none));
    CHECK_STR(jp_type_name((jp_type_t)99), "?");
    CHECK_STR(jp_type_info((jp_type_t)99)->name, "none");

    /* one cell of each type: pushed, read back, printed, compared, hashed */
    static const char *const text[] = {"", "-42", "2.5", "cherry", "true", "2024-02-29", "2022-Q3"};
    for (int t = JP_TYPE_NONE + 1; t < JP_TYPE_COUNT; t++) {
        jp_error_t err;
        jp_error_clear(&err);
        jp_column_t *a = jp_column_new((jp_type_t)t, 1), *b = jp_column_new((jp_type_t)t, 1);
        jp_column_t *c = one_cell((jp_type_t)t, text[t]);
        CHECK(c != NULL);
        if (!c) {
            jp_column_unref(a), jp_column_unref(b);
            continue;
        }
        jp_value_t v;
        jp_column_get(c, 0, &v);
        CHECK(jp_column_push_value(a, &v, &err) == JP_OK &&
              jp_column_push_value(b, &v, &err) == JP_OK);
        char buf[64];
        const char *p;
        size_t n = jp_column_cell_text(a, 0, buf, sizeof buf, &p);
        CHECK(n == strlen(text[t]) && memcmp(p, text[t], n) == 0);
        CHECK(jp_column_cmp_cells(a, 0, b, 0) == 0);
        CHECK(jp_type_info((jp_type_t)t)->hash(a, 0) == jp_type_info((jp_type_t)t)->hash(b, 0));
        jp_value_t w;
        jp_column_get(b, 0, &w);
        CHECK(jp_type_info((jp_type_t)t)->equal(&v, &w));
        jp_column_unref(a), jp_column_unref(b), jp_column_unref(c);
    }

    /* figures compare and hash across INT and NUMBER */
    jp_column_t *i = jp_column_new(JP_TYPE_INT, 1), *d = jp_column_new(JP_TYPE_NUMBER, 1);
    CHECK(jp_column_push_int(i, 3, JP_Q_EXACT) == JP_OK);
    CHECK(jp_column_push_number(d, 3.0, JP_Q_EXACT) == JP_OK);
    CHECK(jp_column_cmp_cells(i, 0, d, 0) == 0 && jp_column_cmp_cells(d, 0, i, 0) == 0);
    CHECK(jp_type_info(JP_TYPE_INT)->hash(i, 0) == jp_type_info(JP_TYPE_NUMBER)->hash(d, 0));
    double x;
    jp_value_t v;
    jp_column_get(i, 0, &v);
    CHECK(jp_value_as_double(&v, &x) && x == 3.0);
    v.is_null = true;
    CHECK(!jp_value_as_double(&v, &x));
    jp_column_unref(i), jp_column_unref(d);
}

static void test_columns(void)
{
    jp_column_t *c = jp_column_new(JP_TYPE_STRING, 2);
    const char *words[] = {"cherry", "apple", "cherry", "", "梨", "apple"};
    for (int r = 0; r < 1000; r++)
        for (size_t i = 0; i < 6; i++)
            CHECK(jp_column_push_str(c, words[i], strlen(words[i])) == JP_OK);
    CHECK(jp_column_push_null(c) == JP_OK);
    CHECK_INT(c->len, 6001);
    CHECK_INT(c->dict->count, 4); /* stored once each */
    CHECK(jp_column_is_null(c, 6000) && !jp_column_is_null(c, 3));
    size_t len;
    CHECK(strcmp(jp_column_str(c, 4, &len), "梨") == 0 && len == 3);
    uint32_t *rank;
    CHECK(jp_strdict_ranks(c->dict, &rank) == JP_OK);
    /* "" < "apple" < "cherry" < "梨" */
    CHECK(rank[c->v.s[3]] == 0 && rank[c->v.s[1]] == 1 && rank[c->v.s[0]] == 2 &&
          rank[c->v.s[4]] == 3);
    jp_free(rank);

    size_t idx[] = {4, JP_NO_ROW, 0};
    jp_column_t *g = jp_column_gather(c, idx, 3);
    CHECK(g && g->len == 3 && g->dict == c->dict);
    CHECK(jp_column_is_null(g, 1) && !jp_column_is_null(g, 0));
    CHECK(strcmp(jp_column_str(g, 2, &len), "cherry") == 0);

    /* many distinct strings: the dictionary grows and finds them all */
    jp_column_t *u = jp_column_new(JP_TYPE_STRING, 4);
    char k[32];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        jp_column_push_str(u, k, (size_t)n);
    }
    CHECK_INT(u->dict->count, 50000);
    uint32_t code;
    CHECK(jp_strdict_find(u->dict, "key-31337", 9, &code) && code == 31337);
    CHECK(!jp_strdict_find(u->dict, "key-50000", 9, &code));

    /* append merges dictionaries */
    jp_column_t *a = jp_column_copy(g);
    CHECK(jp_column_append(a, u, NULL) == JP_OK);
    CHECK_INT(a->len, 50003);
    CHECK(strcmp(jp_column_str(a, 50002, &len), "key-49999") == 0);
    CHECK(jp_column_is_null(a, 1) && !jp_column_is_null(a, 3));

    /* numbers with qualifiers and nulls */
    jp_column_t *n = jp_column_new(JP_TYPE_NUMBER, 1);
    jp_column_push_number(n, 1.5, JP_Q_EXACT);
    jp_column_push_number(n, 140000, JP_Q_MORE_THAN);
    jp_column_push_null(n);
    CHECK(jp_column_qual(n, 1) == JP_Q_MORE_THAN && jp_column_qual(n, 0) == JP_Q_EXACT);
    CHECK(jp_column_has_quals(n) && jp_column_null_count(n) == 1);
    CHECK(jp_column_push_int(n, 3, JP_Q_EXACT) == JP_ERR_TYPE);
    jp_value_t v = {.type = JP_TYPE_INT, .u.i = 7};
    CHECK(jp_column_push_value(n, &v, NULL) == JP_OK && n->v.d[3] == 7.0);
    jp_column_t *n2 = jp_column_copy(n);
    CHECK(jp_column_equal(n, n2));
    n2->quals[1] = JP_Q_APPROX;
    CHECK(!jp_column_equal(n, n2));
    jp_error_t err;
    jp_column_t *s = jp_column_cast(n, JP_TYPE_STRING, &err);
    CHECK(s && strcmp(jp_column_str(s, 0, &len), "1.5") == 0 && jp_column_is_null(s, 2));
    CHECK(jp_column_cast(c, JP_TYPE_INT, &err) == NULL && err.code == JP_ERR_TYPE);

    jp_column_t *cols[] = {c, g, u, a, n, n2, s};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) jp_column_unref(cols[i]);
}

static jp_dataset_t *sample(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "cherry");
    jp_column_t *ind = jp_column_new(JP_TYPE_STRING, 3);
    jp_column_t *val = jp_column_new(JP_TYPE_NUMBER, 3);
    jp_column_push_str(ind, "planted_area", 12);
    jp_column_push_number(val, 148000, JP_Q_EXACT);
    jp_column_push_str(ind, "annual_output", 13);
    jp_column_push_number(val, 140000, JP_Q_MORE_THAN);
    jp_column_push_str(ind, "栽植面积", 12);
    jp_column_push_null(val);
    CHECK(jp_dataset_add(ds, "indicator", ind, NULL, NULL) == JP_OK);
    CHECK(jp_dataset_add(ds, "value", val, "mu", NULL) == JP_OK);
    return ds;
}

static void test_datasets(void)
{
    jp_dataset_t *ds = sample();
    CHECK_INT(ds->nrows, 3);
    jp_error_t err;
    jp_error_clear(&err);
    long i;
    CHECK(jp_dataset_lookup(ds, "valeu", "filter", &i, &err) == JP_ERR_ARG);
    CHECK(strstr(err.msg, "filter: no field 'valeu'") && strstr(err.msg, "indicator, value"));
    CHECK(jp_dataset_lookup(ds, "value", NULL, &i, &err) == JP_OK && i == 1);

    /* a column of the wrong length is refused, and released */
    jp_column_t *short_col = jp_column_new(JP_TYPE_INT, 1);
    jp_column_push_int(short_col, 1, JP_Q_EXACT);
    CHECK(jp_dataset_add(ds, "x", short_col, NULL, &err) == JP_ERR_ARG);
    CHECK(jp_dataset_add(ds, "value", jp_column_new_nulls(JP_TYPE_INT, 3), NULL, &err) ==
          JP_ERR_ARG);

    jp_dataset_set_origin(ds, "cherry.yaml", NULL);
    ds->first_line = 10;
    size_t idx[] = {2, 0};
    jp_dataset_t *g = jp_dataset_gather(ds, idx, 2, &err);
    CHECK(g && g->nrows == 2 && jp_dataset_row_line(g, 0) == 12 && jp_dataset_row_line(g, 1) == 10);
    CHECK(strcmp(g->origin, "cherry.yaml") == 0);
    char why[256];
    CHECK(!jp_dataset_equal(ds, g, why, sizeof why) && strstr(why, "rows"));
    jp_dataset_t *same = sample();
    CHECK(jp_dataset_equal(ds, same, why, sizeof why));
    jp_meta_set(&same->meta.title, "other");
    CHECK(!jp_dataset_equal(ds, same, why, sizeof why) && strstr(why, "title"));

    jp_buf_t b = JP_BUF_INIT;
    CHECK(jp_dataset_preview(ds, NULL, &b, &err) == JP_OK);
    CHECK(strstr(b.data, "cherry: 3 rows x 2 fields") != NULL);
    CHECK(strstr(b.data, ">140000") != NULL);
    CHECK(strstr(b.data, "nil") != NULL);
    CHECK(strstr(b.data, "mu") != NULL);
    jp_buf_free(&b);
    CHECK_INT(jp_utf8_width("栽植ab", strlen("栽植ab")), 6);

    jp_dataset_unref(same);
    jp_dataset_unref(g);
    jp_dataset_unref(ds);
}

static void test_files(void)
{
    char dir[] = "/tmp/jinpu-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    jp_error_t err;
    CHECK(jp_file_write_atomic(path, "old", 3, &err) == JP_OK);
    /* an aborted write leaves the old file and no temporary */
    jp_atomic_t af;
    CHECK(jp_atomic_open(&af, path, &err) == JP_OK);
    fputs("new but abandoned", af.fp);
    jp_atomic_abort(&af);
    jp_buf_t b = JP_BUF_INIT;
    CHECK(jp_file_read_all(path, 100, &b, &err) == JP_OK && strcmp(b.data, "old") == 0);
    jp_buf_free(&b);
    CHECK(jp_file_read_all(path, 2, &b, &err) == JP_ERR_LIMIT);
    jp_buf_free(&b);
    CHECK(jp_file_read_all("/nonexistent/x", 100, &b, &err) == JP_ERR_NOTFOUND &&
          strstr(err.msg, "/nonexistent/x"));
    jp_buf_free(&b);
    snprintf(path, sizeof path, "%s/no/such/dir/x", dir);
    CHECK(jp_file_write_atomic(path, "x", 1, &err) == JP_ERR_IO &&
          strstr(err.msg, "cannot create"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1 && rm -rf %s", dir, dir);
    CHECK(system(cmd) == 0);
    char stem[64];
    CHECK_STR(jp_path_stem("a/b/d.csv.gz", stem, sizeof stem), "d");
    CHECK_STR(jp_path_stem("cherry.yaml", stem, sizeof stem), "cherry");
}

/* Every allocation in building and gathering can fail without a leak or a
 * crash: make the n-th allocation fail for n = 1, 2, ... until none does. */
static void test_alloc_failures(void)
{
    int failures_seen = 0;
    for (long n = 1; n < 400; n++) {
        jp_mem_fail_after(n, 1);
        jp_column_t *c = jp_column_new(JP_TYPE_STRING, 2);
        jp_status_t st = c ? JP_OK : JP_ERR_NOMEM;
        for (int i = 0; c && !st && i < 40; i++) {
            char k[16];
            int len = snprintf(k, sizeof k, "s%d", i);
            st = jp_column_push_str(c, k, (size_t)len);
        }
        jp_dataset_t *ds = jp_dataset_new();
        if (ds && c && !st) {
            st = jp_dataset_add(ds, "s", c, NULL, NULL);
            c = NULL;
        }
        jp_dataset_t *g = NULL;
        if (ds && !st) {
            size_t idx[] = {3, 1};
            g = jp_dataset_gather(ds, idx, 2, NULL);
            if (!g) st = JP_ERR_NOMEM;
        }
        jp_mem_fail_after(0, 0);
        if (st == JP_OK && g) {
            jp_dataset_unref(g);
            jp_dataset_unref(ds);
            jp_column_unref(c);
            break;
        }
        failures_seen++;
        jp_dataset_unref(g);
        jp_dataset_unref(ds);
        jp_column_unref(c);
    }
    CHECK(failures_seen > 5);
}

/* An error record an embedder never cleared, or one reused after an earlier
 * error: the first set must not show the old position, and formatting
 * must not read past an array that holds no NUL. */
static void test_error_records(void)
{
    char buf[2048];
    jp_error_t err;
    memset(&err, 0xAB, sizeof err); /* garbage: no NUL anywhere, a code that is none */
    jp_error_set(&err, JP_ERR_TYPE, "not a number");
    CHECK_INT(err.code, JP_ERR_TYPE);
    CHECK_STR(jp_error_format(&err, buf, sizeof buf), "not a number");
    jp_error_at(&err, "a.csv", 3, 0);
    jp_error_row(&err, 2);
    jp_error_field(&err, "area");
    CHECK_STR(jp_error_format(&err, buf, sizeof buf), "a.csv:3: row 2, field 'area': not a number");
    /* a later set (a message re-set on the way up) keeps the position */
    jp_error_set(&err, JP_ERR_PARSE, "bad cell");
    CHECK_STR(jp_error_format(&err, buf, sizeof buf), "a.csv:3: row 2, field 'area': bad cell");

    /* a zeroed record with stale positions (code JP_OK): the first set clears them */
    memset(&err, 0, sizeof err);
    err.line = 77;
    err.row = 9;
    jp_error_errno(&err, JP_ERR_IO, 2, "cannot open x");
    CHECK_INT(err.line, 0);
    CHECK_INT(err.row, 0);

    /* formatting a record whose strings fill their arrays stays inside them */
    jp_error_clear(&err);
    err.code = JP_ERR_ARG;
    memset(err.field, 'f', sizeof err.field);
    memset(err.file, 'p', sizeof err.file);
    memset(err.msg, 'm', sizeof err.msg);
    err.line = 1;
    jp_error_format(&err, buf, sizeof buf);
    CHECK(strlen(buf) < sizeof buf);
    CHECK(strstr(buf, "field 'ffff") != NULL);
    jp_error_prefix(&err, "ctx");
    CHECK(strncmp(err.msg, "ctx: mmm", 8) == 0);
    CHECK_INT(strlen(err.msg), sizeof err.msg - 1);
}

int main(void)
{
    RUN(test_error_records);
    RUN(test_double_text);
    RUN(test_dates_periods);
    RUN(test_units);
    RUN(test_suggest);
    RUN(test_number_display);
    RUN(test_type_table);
    RUN(test_columns);
    RUN(test_datasets);
    RUN(test_files);
    RUN(test_alloc_failures);
    return unit_done();
}
