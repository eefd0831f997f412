/*
 * jp_value.c - names of qualifiers, calendar dates, periods, and exact
 * number text conversion (parse and shortest round-trip format).  Types'
 * names and what a value of each type can do: jp_type.c.
 */
#include "jp_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_mem.h"

/* ---- names ------------------------------------------------------------ */

static const char *const qual_names[JP_QUAL_COUNT] = {"exact",     "approx",  "at_least",
                                                      "more_than", "at_most", "less_than"};
static const char *const qual_symbols[JP_QUAL_COUNT] = {"", "~", ">=", ">", "<=", "<"};

const char *jp_qual_name(jp_qual_t q)
{
    return (unsigned)q < JP_QUAL_COUNT ? qual_names[q] : "?";
}

const char *jp_qual_symbol(jp_qual_t q)
{
    return (unsigned)q < JP_QUAL_COUNT ? qual_symbols[q] : "?";
}

bool jp_qual_from_name(const char *name, jp_qual_t *out)
{
    for (int i = 0; i < JP_QUAL_COUNT; i++)
        if (strcmp(name, qual_names[i]) == 0) {
            *out = (jp_qual_t)i;
            return true;
        }
    return false;
}

/*
 * The sum of two bounded figures: a lower bound plus a lower bound is a
 * lower bound (strict if either is strict); likewise for upper bounds.
 * Exact is neutral.  Anything mixing directions, or approx, is approx.
 */
jp_qual_t jp_qual_combine(jp_qual_t a, jp_qual_t b)
{
    if (a == JP_Q_EXACT) return b;
    if (b == JP_Q_EXACT) return a;
    bool alow = a == JP_Q_AT_LEAST || a == JP_Q_MORE_THAN;
    bool blow = b == JP_Q_AT_LEAST || b == JP_Q_MORE_THAN;
    bool ahigh = a == JP_Q_AT_MOST || a == JP_Q_LESS_THAN;
    bool bhigh = b == JP_Q_AT_MOST || b == JP_Q_LESS_THAN;
    if (alow && blow)
        return (a == JP_Q_MORE_THAN || b == JP_Q_MORE_THAN) ? JP_Q_MORE_THAN : JP_Q_AT_LEAST;
    if (ahigh && bhigh)
        return (a == JP_Q_LESS_THAN || b == JP_Q_LESS_THAN) ? JP_Q_LESS_THAN : JP_Q_AT_MOST;
    return JP_Q_APPROX;
}

/* ---- dates -------------------------------------------------------------- */

/* Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
 * civil-from-days algorithm, exact for every int32 year range we accept). */
int32_t jp_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void jp_date_to_ymd(int32_t days, int *y, int *m, int *d)
{
    long z = (long)days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long dd = doy - (153 * mp + 2) / 5 + 1;
    long mm = mp + (mp < 10 ? 3 : -9);
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int jp_days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return 0;
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

bool jp_date_valid_ymd(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= jp_days_in_month(y, m);
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool jp_date_parse(const char *s, size_t n, int32_t *out)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return false;
    if (!jp_date_valid_ymd(y, m, d)) return false;
    *out = jp_date_from_ymd(y, m, d);
    return true;
}

char *jp_date_format(int32_t days, char *buf)
{
    int y, m, d;
    jp_date_to_ymd(days, &y, &m, &d);
    snprintf(buf, 16, "%04d-%02d-%02d", y, m, d);
    return buf;
}

/* ---- periods ------------------------------------------------------------ */

/* One end: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Qn.  Sets first/last day. */
static bool parse_point(const char *s, size_t n, int32_t *first, int32_t *last, uint8_t *gran)
{
    int y, m, d;
    if (n < 4 || !digits(s, 4, &y) || y < 1) return false;
    if (n == 4) {
        *first = jp_date_from_ymd(y, 1, 1);
        *last = jp_date_from_ymd(y, 12, 31);
        *gran = JP_GRAN_YEAR;
        return true;
    }
    if (s[4] != '-') return false;
    if (n == 7 && (s[5] == 'Q' || s[5] == 'q') && s[6] >= '1' && s[6] <= '4') {
        int q = s[6] - '0';
        *first = jp_date_from_ymd(y, 3 * q - 2, 1);
        *last = jp_date_from_ymd(y, 3 * q, jp_days_in_month(y, 3 * q));
        *gran = JP_GRAN_QUARTER;
        return true;
    }
    if (n == 7 && digits(s + 5, 2, &m) && m >= 1 && m <= 12) {
        *first = jp_date_from_ymd(y, m, 1);
        *last = jp_date_from_ymd(y, m, jp_days_in_month(y, m));
        *gran = JP_GRAN_MONTH;
        return true;
    }
    if (n == 10 && s[7] == '-' && digits(s + 5, 2, &m) && digits(s + 8, 2, &d) &&
        jp_date_valid_ymd(y, m, d)) {
        *first = *last = jp_date_from_ymd(y, m, d);
        *gran = JP_GRAN_DAY;
        return true;
    }
    return false;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static bool word_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (k != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

static bool period_fail(jp_error_t *err, const char *s, size_t n, const char *why)
{
    jp_error_set(err, JP_ERR_PARSE, "'%.*s' is not a period (%s)", (int)(n > 80 ? 80 : n), s, why);
    return false;
}

/* "last 5 years" / "last 18 months" / "last 30 days" */
static bool parse_last(const char *s, size_t n, jp_period_t *p)
{
    if (n < 6 || !word_eq(s, 5, "last ")) return false;
    size_t i = 5;
    long v = 0;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && v < 100000) v = v * 10 + (s[i++] - '0');
    if (i == d0 || v <= 0 || v >= 100000 || i >= n || s[i] != ' ') return false;
    i++;
    const char *u = s + i;
    size_t un = n - i;
    if (word_eq(u, un, "years") || word_eq(u, un, "year"))
        p->unit = JP_GRAN_YEAR;
    else if (word_eq(u, un, "months") || word_eq(u, un, "month"))
        p->unit = JP_GRAN_MONTH;
    else if (word_eq(u, un, "days") || word_eq(u, un, "day"))
        p->unit = JP_GRAN_DAY;
    else
        return false;
    p->n = (int32_t)v;
    return true;
}

bool jp_period_parse(const char *s, size_t n, jp_period_t *out, jp_error_t *err)
{
    jp_period_t p;
    memset(&p, 0, sizeof p);
    trim(&s, &n);
    if (n == 0) return period_fail(err, s, n, "empty");
    /* find the separator ".." or "/" */
    size_t sep = n, seplen = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.') {
            sep = i;
            seplen = 2;
            break;
        }
    if (sep == n)
        for (size_t i = 0; i < n; i++)
            if (s[i] == '/') {
                sep = i;
                seplen = 1;
                break;
            }
    if (sep == n) {
        if (word_eq(s, n, "cumulative")) {
            p.kind = JP_PERIOD_CUMULATIVE;
        } else if (parse_last(s, n, &p)) {
            p.kind = JP_PERIOD_LAST;
        } else {
            int32_t a, b;
            uint8_t g;
            if (!parse_point(s, n, &a, &b, &g))
                return period_fail(err, s, n,
                                   "expected 2021, 2021-07, 2021-07-15, 2022-Q3, A..B, ..B, A.., "
                                   "cumulative or 'last N years'");
            p.kind = JP_PERIOD_SPAN;
            p.from = a, p.to = b, p.from_gran = p.to_gran = g;
        }
        *out = p;
        return true;
    }
    const char *l = s, *r = s + sep + seplen;
    size_t ln = sep, rn = n - sep - seplen;
    trim(&l, &ln);
    trim(&r, &rn);
    int32_t a1, a2, b1, b2;
    uint8_t ga, gb;
    if (rn == 0) { /* A.. */
        if (!parse_point(l, ln, &a1, &a2, &ga)) return period_fail(err, s, n, "bad start");
        p.kind = JP_PERIOD_FROM;
        p.from = a1, p.from_gran = ga;
        *out = p;
        return true;
    }
    if (!parse_point(r, rn, &b1, &b2, &gb)) return period_fail(err, s, n, "bad end");
    if (ln == 0 || word_eq(l, ln, "cumulative")) {
        p.kind = JP_PERIOD_TO;
        p.to = b2, p.to_gran = gb;
        *out = p;
        return true;
    }
    if (parse_last(l, ln, &p)) {
        p.kind = JP_PERIOD_LAST;
        p.to = b2, p.to_gran = gb;
        *out = p;
        return true;
    }
    if (!parse_point(l, ln, &a1, &a2, &ga)) return period_fail(err, s, n, "bad start");
    if (a1 > b2) return period_fail(err, s, n, "starts after it ends");
    p.kind = JP_PERIOD_SPAN;
    p.from = a1, p.from_gran = ga, p.to = b2, p.to_gran = gb;
    *out = p;
    return true;
}

static int format_point(int32_t day, uint8_t gran, bool end, char *buf, size_t size)
{
    int y, m, d;
    jp_date_to_ymd(day, &y, &m, &d);
    switch (gran) {
    case JP_GRAN_YEAR:
        return snprintf(buf, size, "%04d", y);
    case JP_GRAN_QUARTER:
        return snprintf(buf, size, "%04d-Q%d", y, (m - 1) / 3 + 1);
    case JP_GRAN_MONTH:
        return snprintf(buf, size, "%04d-%02d", y, m);
    default:
        (void)end;
        return snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
    }
}

char *jp_period_format(const jp_period_t *p, char *buf, size_t size)
{
    char a[32], b[32];
    static const char *const unit[] = {"", "years", "", "months", "days"};
    switch (p->kind) {
    case JP_PERIOD_SPAN:
        format_point(p->from, p->from_gran, false, a, sizeof a);
        format_point(p->to, p->to_gran, true, b, sizeof b);
        if (p->from_gran == p->to_gran && strcmp(a, b) == 0)
            snprintf(buf, size, "%s", a);
        else
            snprintf(buf, size, "%s..%s", a, b);
        break;
    case JP_PERIOD_TO:
        format_point(p->to, p->to_gran, true, b, sizeof b);
        snprintf(buf, size, "..%s", b);
        break;
    case JP_PERIOD_FROM:
        format_point(p->from, p->from_gran, false, a, sizeof a);
        snprintf(buf, size, "%s..", a);
        break;
    case JP_PERIOD_CUMULATIVE:
        snprintf(buf, size, "cumulative");
        break;
    case JP_PERIOD_LAST:
        if (p->to_gran) {
            format_point(p->to, p->to_gran, true, b, sizeof b);
            snprintf(buf, size, "last %d %s..%s", (int)p->n, unit[p->unit < 5 ? p->unit : 0], b);
        } else {
            snprintf(buf, size, "last %d %s", (int)p->n, unit[p->unit < 5 ? p->unit : 0]);
        }
        break;
    default:
        snprintf(buf, size, "?");
    }
    return buf;
}

static int cmp32(int32_t a, int32_t b)
{
    return a < b ? -1 : a > b;
}

int jp_period_cmp(const jp_period_t *a, const jp_period_t *b)
{
    /* periods without a known end sort after those with one */
    bool ea = a->kind == JP_PERIOD_SPAN || a->kind == JP_PERIOD_TO ||
              (a->kind == JP_PERIOD_LAST && a->to_gran);
    bool eb = b->kind == JP_PERIOD_SPAN || b->kind == JP_PERIOD_TO ||
              (b->kind == JP_PERIOD_LAST && b->to_gran);
    if (ea != eb) return ea ? -1 : 1;
    int c = ea ? cmp32(a->to, b->to) : 0;
    if (c) return c;
    bool sa = a->kind == JP_PERIOD_SPAN || a->kind == JP_PERIOD_FROM;
    bool sb = b->kind == JP_PERIOD_SPAN || b->kind == JP_PERIOD_FROM;
    if (sa != sb) return sa ? 1 : -1;                   /* open start = longer = first */
    if (sa && (c = cmp32(a->from, b->from))) return -c; /* later start = shorter = after */
    if ((c = cmp32(a->kind, b->kind))) return c;
    if ((c = cmp32(a->n, b->n))) return c;
    if ((c = cmp32(a->unit, b->unit))) return c;
    if ((c = cmp32(a->from_gran, b->from_gran))) return c;
    return cmp32(a->to_gran, b->to_gran);
}

bool jp_period_eq(const jp_period_t *a, const jp_period_t *b)
{
    return jp_period_cmp(a, b) == 0;
}

/* ---- numbers ------------------------------------------------------------ */

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int jp_format_double(double d, char *buf, size_t size)
{
    if (isnan(d)) return snprintf(buf, size, "nan");
    if (isinf(d)) return snprintf(buf, size, d < 0 ? "-inf" : "inf");
    if (d == 0) return snprintf(buf, size, signbit(d) ? "-0" : "0");
    /* Fast path: a decimal with few places.  m / 10^k is correctly rounded
     * by IEEE division, exactly as strtod would round the text "m e-k". */
    double ad = fabs(d);
    if (ad < 9007199254740992.0 && ad >= 1e-7) {
        for (int k = 0; k <= 9; k++) {
            double scaled = d * pow10_tab[k];
            if (fabs(scaled) >= 9007199254740992.0) break;
            double m = nearbyint(scaled);
            if (m / pow10_tab[k] == d) {
                long long im = (long long)m;
                char tmp[40];
                int len = snprintf(tmp, sizeof tmp, "%lld", im < 0 ? -im : im);
                char out[64];
                int n = 0;
                if (im < 0) out[n++] = '-';
                if (k == 0) {
                    memcpy(out + n, tmp, (size_t)len);
                    n += len;
                } else if (len > k) {
                    memcpy(out + n, tmp, (size_t)(len - k));
                    n += len - k;
                    out[n++] = '.';
                    memcpy(out + n, tmp + len - k, (size_t)k);
                    n += k;
                } else {
                    out[n++] = '0';
                    out[n++] = '.';
                    for (int z = 0; z < k - len; z++) out[n++] = '0';
                    memcpy(out + n, tmp, (size_t)len);
                    n += len;
                }
                out[n] = '\0';
                return snprintf(buf, size, "%s", out);
            }
        }
    }
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, size, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d) return n;
    }
    return (int)strlen(buf);
}

bool jp_parse_double(const char *s, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    uint64_t mant = 0;
    int ndig = 0, exp10 = 0;
    bool any = false, overflow = false;
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        any = true;
        if (ndig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant) ndig++;
        } else {
            overflow = true;
            exp10++;
        }
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            any = true;
            if (ndig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant) ndig++;
                exp10--;
            } else {
                overflow = true;
            }
            i++;
        }
    }
    if (!any) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        int e = 0;
        bool ed = false;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 100000) e = e * 10 + (s[i] - '0');
            ed = true;
            i++;
        }
        if (!ed) return false;
        exp10 += eneg ? -e : e;
    }
    if (i != n) return false;
    (void)start;
    if (!overflow && mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_tab[-exp10] : v * pow10_tab[exp10];
        *out = neg ? -v : v;
        return true;
    }
    /* slow path: strtod on a NUL-terminated copy */
    char small[64];
    char *tmp = n < sizeof small ? small : jp_malloc(n + 1);
    if (!tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *end;
    double v = strtod(tmp, &end);
    /* overflow to infinity, or digits that are not all zero underflowing to
       0, is not a number we can store faithfully (a subnormal is fine) */
    bool ok = end == tmp + n && !isinf(v) && !(v == 0 && mant != 0);
    if (tmp != small) jp_free(tmp);
    if (!ok) return false;
    *out = v;
    return true;
}

int jp_parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && s[0] == '-') neg = true, i = 1;
    if (i >= n) return 1;
    if (s[i] == '0' && n - i > 1) return 1;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9) return 1;
        if (v > (UINT64_MAX - c) / 10) {
            /* keep scanning: only digits make it a (too big) integer */
            for (; i < n; i++)
                if ((unsigned char)s[i] - '0' > 9) return 1;
            return 2;
        }
        v = v * 10 + c;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 2;
        if (v == 0) return 1; /* "-0" is not canonical */
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 2;
        *out = (int64_t)v;
    }
    return 0;
}
