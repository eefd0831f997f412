/*
 * jp_value.h - the scalar vocabulary of jinpu: types, qualifiers, dates,
 * periods, and jp_value_t, one cell of any type.
 *
 * A jp_value_t never owns memory: a string value points into the column (or
 * buffer) it was read from and is valid as long as that column is.
 */
#ifndef JP_VALUE_H
#define JP_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_error.h"

typedef enum jp_type {
    JP_TYPE_NONE = 0, /* no type yet (inference), or "any" in signatures */
    JP_TYPE_INT,      /* int64_t */
    JP_TYPE_NUMBER,   /* double */
    JP_TYPE_STRING,   /* UTF-8 bytes, dictionary-encoded in columns */
    JP_TYPE_BOOL,     /* 0 / 1 */
    JP_TYPE_DATE,     /* int32_t days since 1970-01-01, proleptic Gregorian */
    JP_TYPE_PERIOD    /* jp_period_t */
} jp_type_t;

#define JP_TYPE_COUNT 7

/* "integer", "number", "string", "boolean", "date", "period" ("none"). */
const char *jp_type_name(jp_type_t t);
/* Accepts the names above and "int", "float", "double", "str", "bool".
 * Returns false when unknown. */
bool jp_type_from_name(const char *name, jp_type_t *out);
static inline bool jp_type_is_numeric(jp_type_t t)
{
    return t == JP_TYPE_INT || t == JP_TYPE_NUMBER;
}

/*
 * How a figure relates to the truth, as newspapers print it:
 *   14万余吨 -> more_than 140000, 3.78万元以上 -> at_least 37800,
 *   约11.4亿美元 -> approx 1.14e9.
 */
typedef enum jp_qual {
    JP_Q_EXACT = 0,
    JP_Q_APPROX,
    JP_Q_AT_LEAST,
    JP_Q_MORE_THAN,
    JP_Q_AT_MOST,
    JP_Q_LESS_THAN
} jp_qual_t;

#define JP_QUAL_COUNT 6

/* "exact", "approx", "at_least", "more_than", "at_most", "less_than". */
const char *jp_qual_name(jp_qual_t q);
/* "", "~", ">=", ">", "<=", "<" : the prefix used in text forms. */
const char *jp_qual_symbol(jp_qual_t q);
bool jp_qual_from_name(const char *name, jp_qual_t *out);
/* Qualifier of a sum of values with qualifiers a and b (exact+more_than =
 * more_than, at_least+more_than = more_than, mixed bounds = approx). */
jp_qual_t jp_qual_combine(jp_qual_t a, jp_qual_t b);

/* ---- dates ---------------------------------------------------------- */

int32_t jp_date_from_ymd(int y, int m, int d);
void jp_date_to_ymd(int32_t days, int *y, int *m, int *d);
bool jp_date_valid_ymd(int y, int m, int d);
int jp_days_in_month(int y, int m);
/* Strict ISO 8601 calendar date "YYYY-MM-DD" (exactly n bytes). */
bool jp_date_parse(const char *s, size_t n, int32_t *out);
/* Writes "YYYY-MM-DD" (buf >= 16 bytes); returns buf. */
char *jp_date_format(int32_t days, char *buf);

/* ---- periods -------------------------------------------------------- */

typedef enum jp_period_kind {
    JP_PERIOD_SPAN = 0,   /* from..to, both known: "2021", "2022-01..2022-08" */
    JP_PERIOD_TO,         /* cumulative up to `to`: "..2021" (截至2021年) */
    JP_PERIOD_FROM,       /* since `from`: "2019.." */
    JP_PERIOD_CUMULATIVE, /* cumulative, end not stated: "cumulative" (累计) */
    JP_PERIOD_LAST        /* the last n units: "last 5 years", optionally "..2022" */
} jp_period_kind_t;

typedef enum jp_gran {
    JP_GRAN_NONE = 0,
    JP_GRAN_YEAR,
    JP_GRAN_QUARTER,
    JP_GRAN_MONTH,
    JP_GRAN_DAY
} jp_gran_t;

/*
 * A period.  `from` and `to` are the first and last day (inclusive, days
 * since epoch) and `*_gran` how each end was written, so "2022-01..2022-08"
 * prints back as written.  For JP_PERIOD_LAST, `n` and `unit` (a jp_gran_t:
 * YEAR, MONTH or DAY) say how long, and `to` (with to_gran) the anchor when
 * one is given.
 */
typedef struct jp_period {
    uint8_t kind;
    uint8_t from_gran;
    uint8_t to_gran;
    uint8_t unit;
    int32_t from;
    int32_t to;
    int32_t n;
} jp_period_t;

/*
 * Parse a period (exactly n bytes).  Accepted forms:
 *   2021  2021-07  2021-07-15  2022-Q3          one year/quarter/month/day
 *   A..B  A/B                                    a span between two of those
 *   ..B   cumulative..B                          cumulative up to B
 *   A..                                          since A
 *   cumulative                                   cumulative, end unstated
 *   last 5 years  last 18 months  last 30 days   optionally followed by ..B
 * Returns false (and sets err with the column of the problem) when invalid.
 */
bool jp_period_parse(const char *s, size_t n, jp_period_t *out, jp_error_t *err);
/* Canonical text (buf >= 64 bytes); parse(format(p)) == p.  Returns buf. */
char *jp_period_format(const jp_period_t *p, char *buf, size_t size);
/* Total order: by end, then start, then kind.  -1, 0, 1. */
int jp_period_cmp(const jp_period_t *a, const jp_period_t *b);
bool jp_period_eq(const jp_period_t *a, const jp_period_t *b);

/* ---- one cell ------------------------------------------------------- */

typedef struct jp_value {
    jp_type_t type;
    bool is_null;
    jp_qual_t qual;
    union {
        int64_t i;
        double d;
        bool b;
        int32_t date;
        jp_period_t period;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } u;
} jp_value_t;

/* Numeric view of an INT or NUMBER (or BOOL/DATE) value; false otherwise. */
bool jp_value_as_double(const jp_value_t *v, double *out);

/*
 * Shortest text that reads back to exactly the same double ("0.1", "1e+22",
 * "148000").  Non-finite: "nan", "inf", "-inf".  buf >= 32 bytes.  Returns
 * the length written.
 */
int jp_format_double(double d, char *buf, size_t size);

/*
 * Fast exact parser for decimal numbers as data files write them: optional
 * sign, digits, optional fraction, optional exponent.  Exactly n bytes, no
 * surrounding space.  Correctly rounded (falls back to strtod when the fast
 * path cannot guarantee it).  Returns false when the text is not a number
 * or overflows to infinity ("1e999"); underflow gives 0 or a subnormal.
 */
bool jp_parse_double(const char *s, size_t n, double *out);
/* Canonical int64: optional '-', no leading zeros (except "0"), no '+'.
 * Returns 0 ok, 1 not an integer, 2 out of int64 range. */
int jp_parse_int64(const char *s, size_t n, int64_t *out);

#endif
