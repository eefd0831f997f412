/*
 * test_expr.c - the expression language: parsing, types, nulls, qualifiers,
 * units, constant folding, errors with token columns, evaluation against
 * hand-computed answers (also across batch boundaries).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include "jp_expr.h"
#include "jp_mem.h"
#include "unit.h"

/* x: number with a null and qualifiers; i: int; s: string; b: bool; d: date;
 * t: string with nulls; u: int with a null.  Units: x in t, i in mu. */
static jp_dataset_t *sample(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *x = jp_column_new(JP_TYPE_NUMBER, 4);
    jp_column_push_number(x, 1.5, JP_Q_EXACT);
    jp_column_push_number(x, -2.0, JP_Q_MORE_THAN);
    jp_column_push_null(x);
    jp_column_push_number(x, 10.0, JP_Q_APPROX);
    jp_column_push_number(x, 0.0, JP_Q_EXACT);
    jp_column_t *i = jp_column_new(JP_TYPE_INT, 4);
    int64_t iv[] = {3, -7, 0, 10, 5};
    for (int k = 0; k < 5; k++) jp_column_push_int(i, iv[k], JP_Q_EXACT);
    jp_column_t *s = jp_column_new(JP_TYPE_STRING, 4);
    const char *sv[] = {"cherry", "Apple", "cherry", "pear", "Cherry"};
    for (int k = 0; k < 5; k++) jp_column_push_str(s, sv[k], strlen(sv[k]));
    jp_column_t *b = jp_column_new(JP_TYPE_BOOL, 4);
    jp_column_push_bool(b, true);
    jp_column_push_bool(b, false);
    jp_column_push_null(b);
    jp_column_push_bool(b, true);
    jp_column_push_bool(b, false);
    jp_column_t *d = jp_column_new(JP_TYPE_DATE, 4);
    jp_column_push_date(d, jp_date_from_ymd(2022, 1, 31));
    jp_column_push_date(d, jp_date_from_ymd(2021, 12, 1));
    jp_column_push_date(d, jp_date_from_ymd(2022, 8, 15));
    jp_column_push_null(d);
    jp_column_push_date(d, jp_date_from_ymd(2020, 2, 29));
    jp_column_t *t = jp_column_new(JP_TYPE_STRING, 4);
    jp_column_push_str(t, "a", 1);
    jp_column_push_null(t);
    jp_column_push_str(t, "b", 1);
    jp_column_push_str(t, "a", 1);
    jp_column_push_null(t);
    jp_column_t *u = jp_column_new(JP_TYPE_INT, 4);
    jp_column_push_int(u, 2, JP_Q_EXACT);
    jp_column_push_int(u, 0, JP_Q_EXACT);
    jp_column_push_null(u);
    jp_column_push_int(u, -3, JP_Q_AT_LEAST);
    jp_column_push_int(u, 4, JP_Q_EXACT);
    jp_dataset_add(ds, "x", x, "t", NULL);
    jp_dataset_add(ds, "i", i, "mu", NULL);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_dataset_add(ds, "b", b, NULL, NULL);
    jp_dataset_add(ds, "d", d, NULL, NULL);
    jp_dataset_add(ds, "t", t, NULL, NULL);
    jp_dataset_add(ds, "u", u, "mu", NULL);
    jp_dataset_add(ds, "output value", jp_column_copy(x), "CNY", NULL);
    return ds;
}

static jp_dataset_t *DS;

static jp_column_t *ev(const char *src)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
    if (!e) {
        printf("compile failed: %s: %s\n", src, err.msg);
        return NULL;
    }
    jp_column_t *c = jp_expr_eval(e, DS, &err);
    if (!c) printf("eval failed: %s: %s\n", src, err.msg);
    jp_expr_free(e);
    return c;
}

/* The column as text: "1.5|-2|nil|10|0" with qualifier symbols. */
static char *text(const jp_column_t *c)
{
    static char buf[1024];
    buf[0] = '\0';
    if (!c) return buf;
    for (size_t k = 0; k < c->len; k++) {
        char cell[80];
        const char *p;
        if (jp_column_is_null(c, k))
            strcpy(cell, "nil");
        else {
            size_t n = jp_column_cell_text(c, k, cell, sizeof cell, &p);
            char tmp[80];
            snprintf(tmp, sizeof tmp, "%s%.*s", jp_qual_symbol(jp_column_qual(c, k)), (int)n, p);
            strcpy(cell, tmp);
        }
        if (k) strcat(buf, "|");
        strcat(buf, cell);
    }
    return buf;
}

#define EV(src, ty, want)                                                                          \
    do {                                                                                           \
        jp_column_t *c_ = ev(src);                                                                 \
        CHECK_MSG(c_ && c_->type == (ty), "%s: type %s", src,                                      \
                  c_ ? jp_type_name(c_->type) : "(none)");                                         \
        CHECK_MSG(c_ &&strcmp(text(c_), want) == 0, "%s: got '%s' want '%s'", src, text(c_),       \
                  want);                                                                           \
        jp_column_unref(c_);                                                                       \
    } while (0)

/* Rows selected by a predicate as "0,2,3". */
static char *sel(const char *src)
{
    static char buf[512];
    buf[0] = '\0';
    jp_error_t err;
    jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
    if (!e) {
        printf("compile failed: %s: %s\n", src, err.msg);
        return strcpy(buf, "ERR");
    }
    size_t *rows, n;
    if (jp_expr_select(e, DS, &rows, &n, &err)) {
        jp_expr_free(e);
        return strcpy(buf, "ERR");
    }
    for (size_t k = 0; k < n; k++) {
        char t[24];
        snprintf(t, sizeof t, "%s%zu", k ? "," : "", rows[k]);
        strcat(buf, t);
    }
    jp_free(rows);
    jp_expr_free(e);
    return buf;
}

#define SEL(src, want)                                                                             \
    CHECK_MSG(strcmp(sel(src), want) == 0, "%s: got '%s' want '%s'", src, sel(src), want)

/* Compile error: message contains `frag` and the column is `col`. */
static void experr(const char *src, const char *frag, long col, int line)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
    if (e) {
        jp_expr_free(e);
        unit_fail++;
        printf("# line %d: '%s' compiled\n", line, src);
        return;
    }
    CHECK_MSG(err.code == JP_ERR_EXPR, "line %d: code %d", line, (int)err.code);
    CHECK_MSG(strstr(err.msg, frag) != NULL, "line %d: '%s' not in '%s'", line, frag, err.msg);
    CHECK_MSG(err.col == col, "line %d: col %ld want %ld (%s)", line, err.col, col, err.msg);
}
#define ERR(src, frag, col) experr(src, frag, col, __LINE__)

static void test_arith(void)
{
    EV("i + 1", JP_TYPE_INT, "4|-6|1|11|6");
    EV("i * 2 - 1", JP_TYPE_INT, "5|-15|-1|19|9");
    EV("i / 2", JP_TYPE_NUMBER, "1.5|-3.5|0|5|2.5");
    EV("i // 2", JP_TYPE_INT, "1|-4|0|5|2");
    EV("i % 3", JP_TYPE_INT, "0|2|0|1|2");
    EV("i % -3", JP_TYPE_INT, "0|-1|0|-2|-1");
    EV("i // 0", JP_TYPE_INT, "nil|nil|nil|nil|nil");
    EV("i // u", JP_TYPE_INT, "1|nil|nil|~-4|1");
    EV("i % u", JP_TYPE_INT, "1|nil|nil|~-2|1");
    EV("x // 1", JP_TYPE_NUMBER, "1|~-2|nil|~10|0");
    EV("x % 2", JP_TYPE_NUMBER, "1.5|~-0|nil|~0|0");
    EV("-x", JP_TYPE_NUMBER, "-1.5|<2|nil|~-10|-0");
    EV("x + i", JP_TYPE_NUMBER, "4.5|>-9|nil|~20|5");
    EV("x - 1", JP_TYPE_NUMBER, "0.5|>-3|nil|~9|-1");
    EV("2 ^ i", JP_TYPE_NUMBER, "8|0.0078125|1|1024|32");
    EV("i ^ 0.5 > 2", JP_TYPE_BOOL, "false|false|false|true|true");
    EV("1 / 0", JP_TYPE_NUMBER, "inf|inf|inf|inf|inf");
    EV("-i", JP_TYPE_INT, "-3|7|0|-10|-5");
    EV("1 + 2 * 3 ^ 2", JP_TYPE_NUMBER, "19|19|19|19|19");
    EV("-2 ^ 2", JP_TYPE_NUMBER, "-4|-4|-4|-4|-4");
    EV("2 ^ 3 ^ 2", JP_TYPE_NUMBER, "512|512|512|512|512");
    EV("(1 + 2) * 3", JP_TYPE_INT, "9|9|9|9|9");
    EV("0x10 + 1", JP_TYPE_INT, "17|17|17|17|17");
    EV("`output value` * 2", JP_TYPE_NUMBER, "3|>-4|nil|~20|0");
    EV("9223372036854775807 + 1", JP_TYPE_INT,
       "-9223372036854775808|-9223372036854775808|-9223372036854775808|-9223372036854775808|"
       "-9223372036854775808");
    /* qualifiers through multiplication and division by exact values */
    EV("x * 2", JP_TYPE_NUMBER, "3|>-4|nil|~20|0");
    EV("x * -1", JP_TYPE_NUMBER, "-1.5|<2|nil|~-10|-0");
    EV("u / 2", JP_TYPE_NUMBER, "1|0|nil|>=-1.5|2");
    EV("10 / u", JP_TYPE_NUMBER, "5|inf|nil|<=-3.3333333333333335|2.5");
}

static void test_compare(void)
{
    EV("x > 1", JP_TYPE_BOOL, "true|false|false|true|false");
    EV("x == nil", JP_TYPE_BOOL, "false|false|true|false|false");
    EV("nil ~= x", JP_TYPE_BOOL, "true|true|false|true|true");
    EV("x ~= 1.5", JP_TYPE_BOOL, "false|true|true|true|true");
    EV("x == 1.5", JP_TYPE_BOOL, "true|false|false|false|false");
    EV("i >= 3", JP_TYPE_BOOL, "true|false|false|true|true");
    EV("i == 3.0", JP_TYPE_BOOL, "true|false|false|false|false");
    EV("x < i", JP_TYPE_BOOL, "true|false|false|false|true");
    EV("u == i", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("t == 'a'", JP_TYPE_BOOL, "true|false|false|true|false");
    EV("t ~= 'a'", JP_TYPE_BOOL, "false|true|true|false|true");
    EV("t == nil", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("s == 'cherry'", JP_TYPE_BOOL, "true|false|true|false|false");
    EV("'cherry' == s", JP_TYPE_BOOL, "true|false|true|false|false");
    EV("s < 'a'", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("s >= 'cherry'", JP_TYPE_BOOL, "true|false|true|true|false");
    EV("s == 'banana'", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("s == t", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("s > t", JP_TYPE_BOOL, "true|false|true|true|false");
    EV("t < t", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("t == t", JP_TYPE_BOOL, "true|true|true|true|true");
    EV("b == true", JP_TYPE_BOOL, "true|false|false|true|false");
    EV("b ~= true", JP_TYPE_BOOL, "false|true|true|false|true");
    EV("d < '2022-01-01'", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("d >= '2022-01-31'", JP_TYPE_BOOL, "true|false|true|false|false");
    EV("d == nil", JP_TYPE_BOOL, "false|false|false|true|false");
    SEL("x > 0", "0,3");
    SEL("x > 1000", "");
    SEL("true", "0,1,2,3,4");
    SEL("b", "0,3");
    SEL("not b", "1,2,4");
    SEL("x ~= nil and i > 0", "0,3,4");
}

static void test_logic(void)
{
    EV("b and x > 0", JP_TYPE_BOOL, "true|false|nil|true|false");
    EV("b or x > 0", JP_TYPE_BOOL, "true|false|false|true|false");
    EV("not b", JP_TYPE_BOOL, "false|true|true|false|true");
    EV("not (x > 1)", JP_TYPE_BOOL, "false|true|true|false|true");
    EV("x or 0", JP_TYPE_NUMBER, "1.5|>-2|0|~10|0");
    EV("u or 99", JP_TYPE_INT, "2|0|99|>=-3|4");
    EV("u or 0.5", JP_TYPE_NUMBER, "2|0|0.5|>=-3|4");
    EV("t or 'none'", JP_TYPE_STRING, "a|none|b|a|none");
    EV("t or s", JP_TYPE_STRING, "a|Apple|b|a|Cherry");
    EV("i > 3 and 'big' or 'small'", JP_TYPE_STRING, "small|small|small|big|big");
    EV("i > 3 and i", JP_TYPE_INT, "nil|nil|nil|10|5");
    EV("x > 0 and x or nil", JP_TYPE_NUMBER, "1.5|nil|nil|~10|nil");
    EV("nil or 3", JP_TYPE_INT, "3|3|3|3|3");
    EV("false or b", JP_TYPE_BOOL, "true|false|nil|true|false");
    EV("true and b", JP_TYPE_BOOL, "true|false|nil|true|false");
    EV("b and true", JP_TYPE_BOOL, "true|false|nil|true|false");
    EV("if_else(b, 'y', 'n')", JP_TYPE_STRING, "y|n|n|y|n");
    EV("if_else(x > 0, x, nil)", JP_TYPE_NUMBER, "1.5|nil|nil|~10|nil");
    EV("coalesce(t, s)", JP_TYPE_STRING, "a|Apple|b|a|Cherry");
    EV("coalesce(u, x, 7)", JP_TYPE_NUMBER, "2|0|7|>=-3|4");
}

static void test_functions(void)
{
    EV("abs(i)", JP_TYPE_INT, "3|7|0|10|5");
    EV("abs(x)", JP_TYPE_NUMBER, "1.5|<2|nil|~10|0");
    EV("floor(x)", JP_TYPE_INT, "1|>=-2|nil|~10|0");
    EV("ceil(x)", JP_TYPE_INT, "2|>=-2|nil|~10|0");
    EV("floor(i)", JP_TYPE_INT, "3|-7|0|10|5");
    EV("floor(1/0)", JP_TYPE_INT, "nil|nil|nil|nil|nil");
    EV("round(x)", JP_TYPE_NUMBER, "2|>=-2|nil|~10|0");
    EV("round(i / 3, 2)", JP_TYPE_NUMBER, "1|-2.33|0|3.33|1.67");
    EV("sqrt(i)", JP_TYPE_NUMBER, "1.7320508075688772|nan|0|3.1622776601683795|2.23606797749979");
    EV("log(100, 10)", JP_TYPE_NUMBER, "2|2|2|2|2");
    EV("exp(0)", JP_TYPE_NUMBER, "1|1|1|1|1");
    EV("min(i, 4)", JP_TYPE_INT, "3|-7|0|4|4");
    EV("max(x, i, 2)", JP_TYPE_NUMBER, "3|2|2|~10|5");
    EV("max(u, nil)", JP_TYPE_INT, "2|0|nil|>=-3|4");
    EV("min(s, 'b')", JP_TYPE_STRING, "b|Apple|b|b|Cherry");
    EV("lower(s)", JP_TYPE_STRING, "cherry|apple|cherry|pear|cherry");
    EV("upper(t)", JP_TYPE_STRING, "A|nil|B|A|nil");
    EV("len(s)", JP_TYPE_INT, "6|5|6|4|6");
    EV("#s + 1", JP_TYPE_INT, "7|6|7|5|7");
    EV("substr(s, 1, 3)", JP_TYPE_STRING, "che|App|che|pea|Che");
    EV("substr(s, -3)", JP_TYPE_STRING, "rry|ple|rry|ear|rry");
    EV("substr(s, 2, -2)", JP_TYPE_STRING, "herr|ppl|herr|ea|herr");
    EV("substr(s, 10)", JP_TYPE_STRING, "||||");
    EV("s .. '-' .. i", JP_TYPE_STRING, "cherry-3|Apple--7|cherry-0|pear-10|Cherry-5");
    EV("i / 2 .. ''", JP_TYPE_STRING, "1.5|-3.5|0.0|5.0|2.5");
    EV("t .. 'x'", JP_TYPE_STRING, "ax|nil|bx|ax|nil");
    EV("tostring(b)", JP_TYPE_STRING, "true|false|nil|true|false");
    EV("tostring(d)", JP_TYPE_STRING, "2022-01-31|2021-12-01|2022-08-15|nil|2020-02-29");
    EV("year(d)", JP_TYPE_INT, "2022|2021|2022|nil|2020");
    EV("month(d) * 100 + day(d)", JP_TYPE_INT, "131|1201|815|nil|229");
    EV("lower(s) == 'cherry'", JP_TYPE_BOOL, "true|false|true|false|true");
    EV("upper('abc')", JP_TYPE_STRING, "ABC|ABC|ABC|ABC|ABC");
    EV("'it\\'s' .. \"\\65\\x42\"", JP_TYPE_STRING, "it'sAB|it'sAB|it'sAB|it'sAB|it'sAB");
}

/* Does this system have the UTF-8 locale case mapping uses? */
static bool newlocale_ok(void)
{
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!l) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    if (l) freelocale(l);
    return l != (locale_t)0;
}

/* w: UTF-8 text with spaces and a null; p: periods; n: numbers with NaN */
static jp_dataset_t *text_sample(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *w = jp_column_new(JP_TYPE_STRING, 5);
    const char *wv[] = {"wheat", "  Maize\xe3\x80\x80", "\xc3\x84pfel \xe8\x8b\xb9\xe6\x9e\x9c",
                        NULL, "\xef\xbb\xbfrice\xc2\xa0"};
    for (int k = 0; k < 5; k++)
        wv[k] ? jp_column_push_str(w, wv[k], strlen(wv[k])) : jp_column_push_null(w);
    jp_column_t *p = jp_column_new(JP_TYPE_PERIOD, 5);
    const char *pv[] = {"2021", "2022-01..2022-08", "2022-03", NULL, "2021-07-15"};
    for (int k = 0; k < 5; k++) {
        jp_period_t per;
        jp_error_t err;
        if (pv[k] && jp_period_parse(pv[k], strlen(pv[k]), &per, &err))
            jp_column_push_period(p, &per);
        else
            jp_column_push_null(p);
    }
    jp_column_t *n = jp_column_new(JP_TYPE_NUMBER, 5);
    double nv[] = {1.5, 2, 0.0 / 0.0, -0.0, 3};
    for (int k = 0; k < 5; k++) jp_column_push_number(n, nv[k], JP_Q_EXACT);
    jp_dataset_add(ds, "w", w, NULL, NULL);
    jp_dataset_add(ds, "p", p, NULL, NULL);
    jp_dataset_add(ds, "n", n, NULL, NULL);
    return ds;
}

/* The string functions count characters, map case beyond ASCII when the
 * system has a UTF-8 locale, and trim Unicode's spaces. */
static void test_strings(void)
{
    /* one_of: any type, literals of it; a nil is in no set, NaN equals nothing */
    EV("one_of(s, 'cherry', 'pear')", JP_TYPE_BOOL, "true|false|true|true|false");
    EV("one_of(t, 'a')", JP_TYPE_BOOL, "true|false|false|true|false");
    EV("one_of(i, 10, 3, -7)", JP_TYPE_BOOL, "true|true|false|true|false");
    EV("one_of(i, 2.5, 5)", JP_TYPE_BOOL, "false|false|false|false|true");
    EV("one_of(u, 0, 4)", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("one_of(x, -2, 0)", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("one_of(b, false)", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("one_of(d, '2022-08-15', '2020-02-29')", JP_TYPE_BOOL, "false|false|true|false|true");
    EV("not one_of(lower(s), 'cherry')", JP_TYPE_BOOL, "false|true|false|true|false");
    EV("one_of(i, 1 + 2, -(3 + 4))", JP_TYPE_BOOL, "true|true|false|false|false");
    /* predicates: nil in, nil out */
    EV("contains(s, 'er')", JP_TYPE_BOOL, "true|false|true|false|true");
    EV("contains(s, '')", JP_TYPE_BOOL, "true|true|true|true|true");
    EV("starts_with(s, 'ch')", JP_TYPE_BOOL, "true|false|true|false|false");
    EV("ends_with(s, t)", JP_TYPE_BOOL, "false|nil|false|false|nil");
    EV("ends_with(s, 'rry')", JP_TYPE_BOOL, "true|false|true|false|true");
    EV("contains(t, 'a')", JP_TYPE_BOOL, "true|nil|false|true|nil");
    EV("starts_with(s, 'cherry!')", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("matches(s, '[a-z]+')", JP_TYPE_BOOL, "true|false|true|true|false");
    EV("matches(t, 'a|c')", JP_TYPE_BOOL, "true|nil|false|true|nil");
    EV("matches(s, 'err')", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("matches(s, '.*' .. 'err' .. '.*')", JP_TYPE_BOOL, "true|false|true|false|true");
    EV("sub(s, 2, 3)", JP_TYPE_STRING, "he|pp|he|ea|he");
    EV("sub(s, i)", JP_TYPE_STRING, "erry|Apple|cherry||ry");
    EV("trim('  a b ')", JP_TYPE_STRING, "a b|a b|a b|a b|a b");

    jp_dataset_t *saved = DS;
    DS = text_sample();
    EV("len(w)", JP_TYPE_INT, "5|8|8|nil|6");
    EV("#w", JP_TYPE_INT, "5|10|13|nil|9");
    EV("trim(w)", JP_TYPE_STRING, "wheat|Maize|\xc3\x84pfel \xe8\x8b\xb9\xe6\x9e\x9c|nil|rice");
    EV("len(trim(w))", JP_TYPE_INT, "5|5|8|nil|4");
    EV("sub(w, -2)", JP_TYPE_STRING, "at|e\xe3\x80\x80|\xe8\x8b\xb9\xe6\x9e\x9c|nil|e\xc2\xa0");
    EV("substr(w, 1, 1)", JP_TYPE_STRING, "w| |\xc3\x84|nil|\xef\xbb\xbf");
    EV("sub(w, 8, 8)", JP_TYPE_STRING, "|\xe3\x80\x80|\xe6\x9e\x9c|nil|");
    EV("sub(w, 7, 7)", JP_TYPE_STRING, "|e|\xe8\x8b\xb9|nil|");
    EV("ends_with(w, '\xe6\x9e\x9c')", JP_TYPE_BOOL, "false|false|true|nil|false");
    EV("matches(w, '[[:alpha:]]+ ..')", JP_TYPE_BOOL, "false|false|true|nil|false");
    EV("matches(trim(w), '.{4,5}')", JP_TYPE_BOOL, "true|true|false|nil|true");
    EV("one_of(trim(lower(w)), 'maize', 'rice')", JP_TYPE_BOOL, "false|true|false|false|true");
    EV("one_of(n, 0, 2)", JP_TYPE_BOOL, "false|true|false|true|false");
    EV("one_of(n, 0 / 0)", JP_TYPE_BOOL, "false|false|false|false|false");
    EV("year(p)", JP_TYPE_INT, "2021|2022|2022|nil|2021");
    EV("month(p)", JP_TYPE_INT, "nil|nil|3|nil|7");
    EV("day(p)", JP_TYPE_INT, "nil|nil|nil|nil|15");
    if (newlocale_ok()) {
        EV("upper(w)", JP_TYPE_STRING,
           "WHEAT|  MAIZE\xe3\x80\x80|\xc3\x84PFEL "
           "\xe8\x8b\xb9\xe6\x9e\x9c|nil|\xef\xbb\xbfRICE\xc2\xa0");
        EV("lower(w)", JP_TYPE_STRING,
           "wheat|  maize\xe3\x80\x80|\xc3\xa4pfel "
           "\xe8\x8b\xb9\xe6\x9e\x9c|nil|\xef\xbb\xbfrice\xc2\xa0");
    }
    ERR("contains(p, 'a')", "contains() needs a string, not period 'p' (column 10)", 10);
    ERR("one_of(p, '2021')", "one_of() needs a number, string, date or boolean, not period 'p'", 8);
    jp_dataset_unref(DS);
    DS = saved;

    ERR("one_of(s, t)", "one_of() needs literal values after its first argument, not string 't'",
        11);
    ERR("one_of(s, 'a', 1)", "one_of() cannot compare string 's' with integer 1", 16);
    ERR("one_of(s, nil)", "one_of() needs literal values", 11);
    ERR("one_of(s)", "one_of() takes", 1);
    ERR("one_of(d, '2022-02-30')", "is not a date", 11);
    ERR("contains(i, 'a')", "contains() needs a string, not integer 'i' (column 10)", 10);
    ERR("starts_with(s, 1)", "starts_with() needs a string, not integer 1", 16);
    ERR("sub(x, 1)", "sub() needs a string, not number 'x'", 5);
    ERR("substr(x, 1)", "substr() needs a string", 8);
    ERR("trim(b)", "trim() needs a string, not boolean 'b'", 6);
    ERR("matches(s, t)", "matches() needs a literal string as its pattern (column 12)", 12);
    ERR("matches(s, '(a')", "matches(): bad pattern '(a'", 12);
    ERR("matches(s, 'a{2000}')", "matches(): bad pattern", 12);
    ERR("matches(i, 'a')", "matches() needs a string, not integer 'i'", 9);
    ERR("year(s)", "year() needs a date or a period, not string 's'", 6);
    ERR("containz(s, 'a')", "did you mean 'contains'", 1);
    ERR("oneof(s, 'a')", "did you mean 'one_of'", 1);
}

static void test_errors(void)
{
    ERR("ouput_t > 3", "unknown field 'ouput_t' at column 1", 1);
    ERR("xx > 3", "did you mean 'x'", 1);
    ERR("s == 3", "cannot compare string 's' with integer 3 at column 3", 3);
    ERR("s + 1", "cannot add string 's' and integer 1", 3);
    ERR("x >", "unexpected end of expression at column 4", 4);
    ERR("x = 3", "use == to compare", 3);
    ERR("x != 3", "use ~= for 'not equal'", 3);
    ERR("x && b", "use 'and'", 3);
    ERR("(x > 3", "expected ')'", 7);
    ERR("x > 3)", "unexpected ')' at column 6", 6);
    ERR("x 3", "unexpected '3' at column 3", 3);
    ERR("foo(x)", "unknown function 'foo'", 1);
    ERR("abs(x, 2)", "abs() takes 1 argument", 1);
    ERR("abs(s)", "abs() needs a number, not string 's'", 5);
    ERR("lower(x)", "lower() needs a string", 7);
    ERR("'abc", "unterminated string", 1);
    ERR("x > 'a'", "cannot compare number 'x' with string 'a'", 3);
    ERR("b < true", "cannot order boolean values", 3);
    ERR("x < nil", "cannot order nil", 3);
    ERR("nil", "always nil", 1);
    ERR("", "empty expression", 1);
    ERR("d > '2022-13-01'", "is not a date", 5);
    ERR("x or s", "cannot mix number 'x' with string 's' in 'or' at column 3", 3);
    ERR("`oops`", "unknown field 'oops'", 1);
    ERR("x.y", "unexpected '.'", 2);
    ERR("1.2.3", "malformed number", 1);
    ERR("-s", "cannot negate string 's'", 1);
    ERR("round(x, i)", "round() needs a whole number of digits", 10);
    ERR("x ~ 1", "bitwise", 3);
}

/* text of n copies of `unit` joined by `sep`, between `pre` and `post` (malloc'd) */
static char *repeat(const char *pre, const char *unit, const char *sep, size_t n, const char *post)
{
    size_t lu = strlen(unit), ls = strlen(sep), lp = strlen(pre), lq = strlen(post);
    char *s = malloc(lp + n * (lu + ls) + lq + 1), *p = s;
    memcpy(p, pre, lp);
    p += lp;
    for (size_t k = 0; k < n; k++) {
        if (k) {
            memcpy(p, sep, ls);
            p += ls;
        }
        memcpy(p, unit, lu);
        p += lu;
    }
    memcpy(p, post, lq + 1);
    return s;
}

/* Nesting is limited (the parser recurses there); chains of operators of any
 * length compile and run without recursion, or meet a documented limit. */
static void test_limits(void)
{
    char *src = repeat("", "(", "", 100000, "x");
    ERR(src, "nested too deeply at column 201", 201);
    free(src);
    src = repeat("", "(", "", JP_EXPR_MAX_DEPTH, "x");
    char *closed = repeat(src, ")", "", JP_EXPR_MAX_DEPTH, " > 1");
    SEL(closed, "0,3");
    free(src);
    free(closed);
    src = repeat("", "abs(", "", 300, "x");
    ERR(src, "nested too deeply at column 801", 801);
    free(src);
    /* a 60,000-term sum: 60000 * i */
    src = repeat("", "i", " + ", 60000, "");
    EV(src, JP_TYPE_INT, "180000|-420000|0|600000|300000");
    free(src);
    src = repeat("", "x", " + ", 60000, "");
    EV(src, JP_TYPE_NUMBER, "90000|>-120000|nil|~600000|0");
    free(src);
    /* right-associative chains, unary chains, logic chains */
    src = repeat("", "1", " ^ ", 60000, " + i");
    EV(src, JP_TYPE_NUMBER, "4|-6|1|11|6");
    free(src);
    src = repeat("", "-", " ", 100001, " i");
    EV(src, JP_TYPE_INT, "-3|7|0|-10|-5");
    free(src);
    src = repeat("", "not", " ", 50000, " b");
    EV(src, JP_TYPE_BOOL, "true|false|false|true|false");
    free(src);
    src = repeat("", "x > 1", " and ", 30000, "");
    SEL(src, "0,3");
    free(src);
    src = repeat("", "x < 1", " or ", 30000, "");
    SEL(src, "1,4");
    free(src);
    /* concatenation chains, long or constant, with nulls */
    src = repeat("", "t", " .. ", 50000, "");
    jp_column_t *c = ev(src);
    CHECK(c && jp_column_is_null(c, 1) && !jp_column_is_null(c, 0));
    size_t len = 0;
    if (c) jp_column_str(c, 2, &len);
    CHECK_INT(len, 50000);
    jp_column_unref(c);
    free(src);
    src = repeat("", "'ab'", " .. ", 50000, " .. s");
    c = ev(src);
    if (c) jp_column_str(c, 3, &len);
    CHECK_INT(len, 100004);
    jp_column_unref(c);
    free(src);
    /* 60,000 distinct literals: sum 1..60000 = 1800030000 */
    char *lits = malloc(60000 * 8), *p = lits;
    p += sprintf(p, "i");
    for (int k = 1; k <= 60000; k++) p += sprintf(p, "+%d", k);
    EV(lits, JP_TYPE_INT, "1800030003|1800029993|1800030000|1800030010|1800030005");
    p = lits;
    p += sprintf(p, "s");
    for (int k = 1; k <= 20000; k++) p += sprintf(p, "..'%d'", k % 10);
    c = ev(lits);
    if (c) jp_column_str(c, 3, &len);
    CHECK_INT(len, 20004);
    jp_column_unref(c);
    free(lits);
    /* tokens and intermediate results */
    src = repeat("", "i", " + ", JP_EXPR_MAX_TOKENS / 2 + 1, "");
    ERR(src, "expression too long at column", (long)(JP_EXPR_MAX_TOKENS / 2) * 4 + 1);
    free(src);
    src = repeat("max(", "i * 2", ", ", JP_EXPR_MAX_SLOTS + 10, ")");
    ERR(src, "more than 4096 intermediate results", 1);
    free(src);
    src = repeat("max(", "i * 2", ", ", 1000, ")");
    EV(src, JP_TYPE_INT, "6|-14|0|20|10");
    free(src);
}

/* The column of src over DS within the groups gid (NULL: one group), as text. */
static char *evg(const char *src, const uint32_t *gid, size_t ng)
{
    static char buf[1024];
    strcpy(buf, "ERR");
    jp_error_t err;
    jp_error_clear(&err);
    jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
    if (!e) {
        printf("# compile failed: %s: %s\n", src, err.msg);
        return buf;
    }
    jp_expr_groups_t g = {gid, ng};
    jp_column_t *c = jp_expr_eval_groups(e, DS->cols, DS->nrows, gid ? &g : NULL, &err);
    if (c) {
        strcpy(buf, text(c));
        jp_column_unref(c);
    } else
        printf("# eval failed: %s: %s\n", src, err.msg);
    jp_expr_free(e);
    return buf;
}

#define EVG(src, gid, ng, want)                                                                    \
    CHECK_MSG(strcmp(evg(src, gid, ng), want) == 0, "%s: got '%s' want '%s'", src,                 \
              evg(src, gid, ng), want)

/* Aggregates and window functions over the whole dataset and within groups. */
static void test_windows(void)
{
    /* the whole dataset is one group */
    EV("sum(i)", JP_TYPE_INT, "11|11|11|11|11");
    EV("i * 5 - sum(i)", JP_TYPE_INT, "4|-46|-11|39|14");
    EV("count()", JP_TYPE_INT, "5|5|5|5|5");
    EV("count(x) * 10 + count(t)", JP_TYPE_INT, "43|43|43|43|43");
    EV("sum(x)", JP_TYPE_NUMBER, "~9.5|~9.5|~9.5|~9.5|~9.5");
    EV("sum(1)", JP_TYPE_INT, "5|5|5|5|5");
    EV("min(i)", JP_TYPE_INT, "-7|-7|-7|-7|-7");
    EV("max(s)", JP_TYPE_STRING, "pear|pear|pear|pear|pear");
    EV("first(t) .. last(t)", JP_TYPE_STRING, "aa|aa|aa|aa|aa");
    EV("median(i)", JP_TYPE_NUMBER, "3|3|3|3|3");
    EV("lag(i)", JP_TYPE_INT, "nil|3|-7|0|10");
    EV("lead(i, 2, 0)", JP_TYPE_INT, "0|10|5|0|0");
    EV("lag(i, 0)", JP_TYPE_INT, "3|-7|0|10|5");
    EV("lag(i, 1, 0.5)", JP_TYPE_NUMBER, "0.5|3|-7|0|10");
    EV("lag(x)", JP_TYPE_NUMBER, "nil|1.5|>-2|nil|~10");
    EV("lag(s, 1, t)", JP_TYPE_STRING, "a|cherry|Apple|cherry|pear");
    EV("lag(t, 1, 'none')", JP_TYPE_STRING, "none|a|nil|b|a");
    EV("cumsum(i)", JP_TYPE_INT, "3|-4|-4|6|11");
    EV("cumsum(x)", JP_TYPE_NUMBER, "1.5|>-0.5|nil|~9.5|~9.5");
    EV("cummean(i)", JP_TYPE_NUMBER, "3|-2|-1.3333333333333333|1.5|2.2");
    EV("cumprod(i)", JP_TYPE_NUMBER, "3|-21|-0|-0|-0"); /* -21 * 0 is -0 */
    EV("cummax(i)", JP_TYPE_INT, "3|3|3|10|10");
    EV("cummin(s)", JP_TYPE_STRING, "cherry|Apple|Apple|Apple|Apple");
    EV("cummax(s)", JP_TYPE_STRING, "cherry|cherry|cherry|pear|pear");
    EV("cummax(x)", JP_TYPE_NUMBER, "1.5|1.5|nil|~10|~10");
    EV("row_number()", JP_TYPE_INT, "1|2|3|4|5");
    EV("rank(i)", JP_TYPE_INT, "3|1|2|5|4");
    EV("rank(t)", JP_TYPE_INT, "1|nil|3|1|nil");
    EV("dense_rank(t)", JP_TYPE_INT, "1|nil|2|1|nil");
    EV("rank(d)", JP_TYPE_INT, "3|2|4|nil|1");
    EV("lag(cumsum(i), 1, 0)", JP_TYPE_INT, "0|3|-4|-4|6");
    EV("if_else(rank(-i) == 1, 'top', '')", JP_TYPE_STRING, "|||top|");
    EV("cumsum(i) / sum(i)", JP_TYPE_NUMBER,
       "0.2727272727272727|-0.36363636363636365|-0.36363636363636365|0.5454545454545454|1");
    SEL("i == max(i)", "3");
    SEL("i > mean(i)", "0,3,4");
    /* within groups: rows 0, 2, 4 and rows 1, 3 */
    static const uint32_t gid[] = {0, 1, 0, 1, 0};
    EVG("sum(i)", gid, 2, "8|3|8|3|8");
    EVG("lag(i)", gid, 2, "nil|nil|3|-7|0");
    EVG("lead(i, 1, -1)", gid, 2, "0|10|5|-1|-1");
    EVG("row_number()", gid, 2, "1|1|2|2|3");
    EVG("cumsum(i)", gid, 2, "3|-7|3|3|8");
    EVG("rank(-i)", gid, 2, "2|2|3|1|1");
    EVG("count(t)", gid, 2, "2|1|2|1|2");
    EVG("first(t)", gid, 2, "a|a|a|a|a");
    EVG("i", gid, 2, "3|-7|0|10|5");
    /* a group per row, and one group given explicitly */
    static const uint32_t each[] = {0, 1, 2, 3, 4}, one[] = {0, 0, 0, 0, 0};
    EVG("lag(i, 1, 99) + row_number()", each, 5, "100|100|100|100|100");
    EVG("cumsum(i)", one, 1, "3|-4|-4|6|11");
    /* select within groups */
    jp_error_t err;
    jp_expr_t *e = jp_expr_compile("i == max(i)", &DS->schema, &err);
    jp_expr_groups_t g = {gid, 2};
    size_t *rows = NULL, n = 0;
    CHECK(e && jp_expr_select_groups(e, DS->cols, DS->nrows, &g, &rows, &n, &err) == JP_OK);
    CHECK(n == 2 && rows[0] == 3 && rows[1] == 4);
    CHECK(e && jp_expr_is_window(e));
    jp_free(rows);
    jp_expr_free(e);
    e = jp_expr_compile("i + 1", &DS->schema, &err);
    CHECK(e && !jp_expr_is_window(e));
    jp_expr_free(e);
    /* units: the value's, not for counts and ranks */
    const char *with_unit[] = {"sum(x)", "lag(x)", "cumsum(x)", "max(x)", "x - mean(x)"};
    for (size_t k = 0; k < sizeof with_unit / sizeof with_unit[0]; k++) {
        e = jp_expr_compile(with_unit[k], &DS->schema, &err);
        CHECK_MSG(e && jp_expr_unit(e) && strcmp(jp_expr_unit(e), "t") == 0, "%s", with_unit[k]);
        jp_expr_free(e);
    }
    const char *without[] = {"count(x)", "rank(x)", "row_number()", "cumprod(x)"};
    for (size_t k = 0; k < sizeof without / sizeof without[0]; k++) {
        e = jp_expr_compile(without[k], &DS->schema, &err);
        CHECK_MSG(e && !jp_expr_unit(e), "%s", without[k]);
        jp_expr_free(e);
    }
    /* an integer running sum that overflows is an error, not a wrap */
    e = jp_expr_compile("cumsum(i * 0 + 9223372036854775807)", &DS->schema, &err);
    jp_column_t *c = e ? jp_expr_eval(e, DS, &err) : NULL;
    CHECK(e && !c && err.code == JP_ERR_RANGE && strstr(err.msg, "overflows at row 2"));
    jp_expr_free(e);
    /* errors */
    ERR("lag(x, i)", "lag() needs a whole number of rows, 0 or more, as its offset", 8);
    ERR("lead(x, -1)", "lead() needs a whole number of rows", 9);
    ERR("sum(s)", "sum() needs numbers, not string 's'", 5);
    ERR("rank(d) + cumsun(i)", "unknown function 'cumsun' at column 11 (did you mean 'cumsum'?)",
        11);
    ERR("frobnicate(i)", "docs/verbs.md lists the functions", 1);
    ERR("row_number(x)", "row_number() takes 0 arguments, not 1", 1);
    ERR("lag(s, 1, 3)", "lag() cannot mix string with its default integer 3", 11);
    ERR("cummax(b) + min(b)", "cannot add boolean", 11);
}

/* Out of memory at each allocation of a grouped window evaluation. */
static void test_window_oom(void)
{
    static const uint32_t gid[] = {0, 1, 0, 1, 0};
    jp_expr_groups_t g = {gid, 2};
    int ok = 0;
    for (long n = 1; n < 3000 && !ok; n++) {
        jp_error_t err;
        jp_error_clear(&err);
        jp_mem_fail_after(n, 1);
        jp_expr_t *e = jp_expr_compile(
            "lag(s, 1, t) .. rank(-i) .. cumsum(x) .. sum(i) .. cummax(s) .. row_number()",
            &DS->schema, &err);
        jp_column_t *c = e ? jp_expr_eval_groups(e, DS->cols, DS->nrows, &g, &err) : NULL;
        jp_mem_fail_after(0, 0);
        if (c)
            ok = 1;
        else
            CHECK_MSG(err.code == JP_ERR_NOMEM, "allocation %ld: %s", n, err.msg);
        jp_column_unref(c);
        jp_expr_free(e);
    }
    CHECK(ok);
}

static void test_units(void)
{
    jp_error_t err;
    struct {
        const char *src, *unit;
    } cases[] = {{"x", "t"},           {"x / i", "t/mu"},    {"x * 2", "t"},     {"x + x", "t"},
                 {"x + i", NULL},      {"x / x", NULL},      {"-x", "t"},        {"abs(x)", "t"},
                 {"x > 1", NULL},      {"(x / i) * u", "t"}, {"x / 1000", "t"},  {"i + u", "mu"},
                 {"round(x, 1)", "t"}, {"x or 0", "t"},      {"max(i, u)", "mu"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        jp_expr_t *e = jp_expr_compile(cases[k].src, &DS->schema, &err);
        CHECK(e != NULL);
        if (!e) continue;
        const char *u = jp_expr_unit(e);
        if (cases[k].unit)
            CHECK_MSG(u && strcmp(u, cases[k].unit) == 0, "%s: unit %s", cases[k].src,
                      u ? u : "NULL");
        else
            CHECK_MSG(u == NULL, "%s: unit %s", cases[k].src, u);
        jp_expr_free(e);
    }
}

/* A field whose unit is given per row by another field: the rules that keep
 * a unit keep that link (jp_expr_unit_field), the others drop it. */
static void test_unit_fields(void)
{
    jp_schema_t s = JP_SCHEMA_INIT;
    jp_field_t f;
    jp_field_init(&f);
    f.name = "value";
    f.type = JP_TYPE_NUMBER;
    f.unit_field = "unit";
    jp_schema_add(&s, &f, NULL);
    jp_field_init(&f);
    f.name = "unit";
    f.type = JP_TYPE_STRING;
    jp_schema_add(&s, &f, NULL);
    jp_field_init(&f);
    f.name = "area";
    f.type = JP_TYPE_NUMBER;
    f.unit = "mu";
    jp_schema_add(&s, &f, NULL);
    struct {
        const char *src, *unit_field, *unit;
    } cases[] = {{"round(value, 1)", "unit", NULL}, {"value * 2", "unit", NULL},
                 {"-value + value", "unit", NULL},  {"coalesce(value, 0)", "unit", NULL},
                 {"value / value", NULL, NULL},     {"value / area", NULL, NULL},
                 {"value * area", NULL, NULL},      {"value + area", NULL, NULL},
                 {"value > 1", NULL, NULL},         {"area * 2", NULL, "mu"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        jp_error_t err;
        jp_expr_t *e = jp_expr_compile(cases[k].src, &s, &err);
        CHECK(e != NULL);
        if (!e) continue;
        const char *uf = jp_expr_unit_field(e), *u = jp_expr_unit(e);
        CHECK_MSG(cases[k].unit_field ? uf && strcmp(uf, cases[k].unit_field) == 0 : uf == NULL,
                  "%s: unit field %s", cases[k].src, uf ? uf : "NULL");
        CHECK_MSG(cases[k].unit ? u && strcmp(u, cases[k].unit) == 0 : u == NULL, "%s: unit %s",
                  cases[k].src, u ? u : "NULL");
        jp_expr_free(e);
    }
    jp_schema_free(&s);
}

static void test_inputs_and_parse(void)
{
    jp_error_t err;
    jp_expr_t *e = jp_expr_compile("x / i + x", &DS->schema, &err);
    const size_t *idx;
    CHECK_INT(jp_expr_inputs(e, &idx), 2);
    CHECK_INT(idx[0], 0);
    CHECK_INT(idx[1], 1);
    CHECK_STR(jp_expr_source(e), "x / i + x");
    jp_expr_free(e);
    /* constant folding leaves no inputs and one value */
    e = jp_expr_compile("1 + 2 * 3", &DS->schema, &err);
    CHECK_INT(jp_expr_inputs(e, NULL), 0);
    CHECK_INT(jp_expr_type(e), JP_TYPE_INT);
    jp_expr_free(e);
    /* names only on a schema without types */
    jp_schema_t s = JP_SCHEMA_INIT;
    jp_field_t f;
    jp_field_init(&f);
    f.name = "a";
    jp_schema_add(&s, &f, NULL);
    f.name = "b";
    jp_schema_add(&s, &f, NULL);
    e = jp_expr_parse("a + b > 1", &s, &err);
    CHECK(e != NULL && !jp_expr_is_bound(e));
    CHECK_INT(jp_expr_inputs(e, NULL), 2);
    jp_expr_free(e);
    e = jp_expr_parse("a + c > 1", &s, &err);
    CHECK(e == NULL && strstr(err.msg, "unknown field 'c'") && err.col == 5);
    CHECK(jp_expr_compile("a > 1", &s, &err) == NULL);
    jp_schema_free(&s);
}

/* Many rows: batches, nulls at the edges, string literals across batches. */
static void test_big(void)
{
    size_t n = 5000;
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *v = jp_column_new(JP_TYPE_NUMBER, n);
    jp_column_t *k = jp_column_new(JP_TYPE_STRING, n);
    for (size_t r = 0; r < n; r++) {
        if (r % 1000 == 999)
            jp_column_push_null(v);
        else
            jp_column_push_number(v, (double)r, JP_Q_EXACT);
        char name[16];
        snprintf(name, sizeof name, "k%zu", r % 7);
        jp_column_push_str(k, name, strlen(name));
    }
    jp_dataset_add(ds, "v", v, NULL, NULL);
    jp_dataset_add(ds, "k", k, NULL, NULL);
    jp_error_t err;
    jp_expr_t *e = jp_expr_compile("v >= 1000 and k == 'k3'", &ds->schema, &err);
    size_t *rows, m;
    CHECK(jp_expr_select(e, ds, &rows, &m, &err) == JP_OK);
    size_t want = 0;
    bool ok = true;
    for (size_t r = 1000; r < n; r++)
        if (r % 7 == 3 && r % 1000 != 999) {
            if (want >= m || rows[want] != r) ok = false;
            want++;
        }
    CHECK(ok);
    CHECK_INT(m, want);
    jp_free(rows);
    jp_expr_free(e);
    e = jp_expr_compile("k .. '/' .. floor(v / 1000)", &ds->schema, &err);
    jp_column_t *c = jp_expr_eval(e, ds, &err);
    CHECK(c && c->len == n);
    size_t len;
    const char *s = jp_column_str(c, 4321, &len);
    CHECK(len == 4 && memcmp(s, "k2/4", 4) == 0);
    CHECK(jp_column_is_null(c, 1999));
    CHECK_INT(jp_column_null_count(c), 5);
    jp_column_unref(c);
    jp_expr_free(e);
    jp_dataset_unref(ds);
}

static void test_empty(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_dataset_add(ds, "v", jp_column_new(JP_TYPE_NUMBER, 0), NULL, NULL);
    jp_dataset_add(ds, "s", jp_column_new(JP_TYPE_STRING, 0), NULL, NULL);
    jp_error_t err;
    const char *srcs[] = {"v * 2", "s .. 'x'", "'k'", "v > 1"};
    for (int k = 0; k < 4; k++) {
        jp_expr_t *e = jp_expr_compile(srcs[k], &ds->schema, &err);
        jp_column_t *c = jp_expr_eval(e, ds, &err);
        CHECK(c && c->len == 0);
        jp_column_unref(c);
        jp_expr_free(e);
    }
    jp_dataset_unref(ds);
}

/* Out of memory at each allocation of compile and evaluation. */
static void test_oom(void)
{
    const char *src = "if_else(x > 1 and s ~= 'pear', lower(s) .. tostring(i), upper(t) or 'none')";
    int ok = 0;
    for (long n = 1; n < 2000 && !ok; n++) {
        jp_error_t err;
        jp_error_clear(&err);
        jp_mem_fail_after(n, 1);
        jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
        jp_column_t *c = e ? jp_expr_eval(e, DS, &err) : NULL;
        size_t *rows = NULL, m = 0;
        jp_expr_t *p = c ? jp_expr_compile("x > 0 and s == 'cherry'", &DS->schema, &err) : NULL;
        jp_status_t st = p ? jp_expr_select(p, DS, &rows, &m, &err) : JP_ERR_NOMEM;
        jp_mem_fail_after(0, 0);
        if (!st)
            ok = 1;
        else
            CHECK_MSG(err.code == JP_ERR_NOMEM, "allocation %ld: %s", n, err.msg);
        jp_free(rows);
        jp_expr_free(p);
        jp_column_unref(c);
        jp_expr_free(e);
    }
    CHECK(ok);
}

/* Random token soup: every input either compiles and evaluates or gives a
 * JP_ERR_EXPR with a column inside the text; the sanitizers catch the rest. */
static void test_fuzz(void)
{
    static const char *const toks[] = {"x",
                                       "i",
                                       "s",
                                       "b",
                                       "d",
                                       "t",
                                       "u",
                                       "`output value`",
                                       "1",
                                       "2.5",
                                       "0",
                                       "-",
                                       "+",
                                       "*",
                                       "/",
                                       "//",
                                       "%",
                                       "^",
                                       "..",
                                       "==",
                                       "~=",
                                       "<",
                                       "<=",
                                       ">",
                                       ">=",
                                       "and",
                                       "or",
                                       "not",
                                       "nil",
                                       "true",
                                       "false",
                                       "(",
                                       ")",
                                       ",",
                                       "'a'",
                                       "\"b\"",
                                       "#",
                                       "abs(",
                                       "floor(",
                                       "round(",
                                       "min(",
                                       "max(",
                                       "lower(",
                                       "len(",
                                       "substr(",
                                       "sub(",
                                       "trim(",
                                       "one_of(",
                                       "contains(",
                                       "matches(",
                                       "coalesce(",
                                       "if_else(",
                                       "tostring(",
                                       "year(",
                                       "'2022-01-01'",
                                       "1e308",
                                       "9223372036854775807",
                                       "0x7fffffffffffffff",
                                       "'",
                                       "`",
                                       "=",
                                       "!",
                                       "."};
    unsigned seed = 7;
    int compiled = 0;
    for (int k = 0; k < 6000; k++) {
        char src[400] = "";
        int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 9;
        for (int j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            strcat(src, toks[(seed >> 16) % (sizeof toks / sizeof toks[0])]);
            strcat(src, " ");
        }
        jp_error_t err;
        jp_error_clear(&err);
        jp_expr_t *e = jp_expr_compile(src, &DS->schema, &err);
        if (!e) {
            CHECK_MSG(err.code == JP_ERR_EXPR && err.col >= 1 && err.col <= (long)strlen(src) + 1,
                      "'%s': code %d col %ld: %s", src, (int)err.code, err.col, err.msg);
            continue;
        }
        compiled++;
        jp_column_t *c = jp_expr_eval(e, DS, &err);
        CHECK_MSG(c && c->len == DS->nrows, "'%s' did not evaluate: %s", src, err.msg);
        jp_column_unref(c);
        if (jp_expr_type(e) == JP_TYPE_BOOL) {
            size_t *rows, m;
            CHECK(jp_expr_select(e, DS, &rows, &m, &err) == JP_OK && m <= DS->nrows);
            jp_free(rows);
        }
        jp_expr_free(e);
    }
    printf("# fuzz: %d of 6000 compiled\n", compiled);
    CHECK(compiled > 150);
}

int main(void)
{
    DS = sample();
    RUN(test_arith);
    RUN(test_compare);
    RUN(test_logic);
    RUN(test_functions);
    RUN(test_strings);
    RUN(test_errors);
    RUN(test_limits);
    RUN(test_units);
    RUN(test_unit_fields);
    RUN(test_windows);
    RUN(test_window_oom);
    RUN(test_inputs_and_parse);
    RUN(test_big);
    RUN(test_empty);
    RUN(test_oom);
    RUN(test_fuzz);
    jp_dataset_unref(DS);
    return unit_done();
}
