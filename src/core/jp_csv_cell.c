/*
 * jp_csv_cell.c - what a CSV cell's text is: the kind inference sees
 * (integer, decimal, boolean, date, text, ...) and, for explicitly typed
 * fields, the value the schema's type reads from it (figures as printed,
 * with qualifiers and units).  Pure functions of the text and the field;
 * they never touch the columns being built.
 */
#include "jp_csv_scan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_dataset.h"
#include "jp_unit.h"

/* ---- inference: the kind of a cell ---------------------------------------------- */

static bool int_fits_double(int64_t v)
{
    if (v >= -(INT64_C(1) << 53) && v <= (INT64_C(1) << 53)) return true;
    double d = (double)v;
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (int64_t)d == v;
}

static unsigned classify_special(const char *s, size_t n, uint64_t *bits)
{
    bool neg = n && s[0] == '-';
    const char *t = s + neg;
    size_t m = n - neg;
    if (m == 3 && (memcmp(t, "inf", 3) == 0 || memcmp(t, "Inf", 3) == 0)) {
        *bits = dbits(neg ? -INFINITY : INFINITY);
        return K_SPECIAL;
    }
    if (!neg && m == 3 && (memcmp(t, "nan", 3) == 0 || memcmp(t, "NaN", 3) == 0)) {
        *bits = dbits(NAN);
        return K_SPECIAL;
    }
    return K_STR;
}

/* A number-looking cell: integer, decimal, date or text. */
static unsigned classify_num(const char *s, size_t n, uint64_t *bits)
{
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1) return K_STR;
        if (!is_digit((unsigned char)s[1]) && s[1] != '.') return classify_special(s, n, bits);
    }
    size_t d0 = i;
    uint64_t m = 0;
    while (i < n && is_digit((unsigned char)s[i])) m = m * 10 + (uint64_t)(s[i++] - '0');
    size_t nint = i - d0;
    if (i == n) {
        if (nint == 0) return K_STR;
        if (s[d0] == '0' && (nint > 1 || neg)) return K_STR; /* 007, -0 */
        int64_t v;
        if (nint <= 18) {
            v = neg ? -(int64_t)m : (int64_t)m;
        } else {
            int r = jp_parse_int64(s, n, &v);
            if (r == 1) return K_STR;
            if (r == 2) {
                /* beyond int64: a number only if the double is exact */
                double d;
                if (!jp_parse_double(s, n, &d) || !isfinite(d)) return K_STR;
                char buf[400];
                int k = snprintf(buf, sizeof buf, "%.0f", fabs(d));
                if (k <= 0 || (size_t)k != nint || memcmp(buf, s + d0, nint) != 0) return K_STR;
                *bits = dbits(d);
                return K_BIGX;
            }
        }
        *bits = (uint64_t)v;
        return int_fits_double(v) ? K_INT : K_INTWIDE;
    }
    if (!neg && nint == 4 && n == 10 && s[4] == '-') {
        int32_t d;
        if (!jp_date_parse(s, n, &d)) return K_STR;
        *bits = (uint64_t)(uint32_t)d;
        return K_DATE;
    }
    if (nint > 1 && s[d0] == '0') return K_STR; /* 007.5 */
    size_t nfrac = 0;
    if (s[i] == '.') {
        size_t f0 = ++i;
        while (i < n && is_digit((unsigned char)s[i])) m = m * 10 + (uint64_t)(s[i++] - '0');
        nfrac = i - f0;
    }
    if (nint + nfrac == 0) return K_STR;
    int e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        size_t e0 = i;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (e < 100000) e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0) return K_STR;
        if (eneg) e = -e;
    }
    if (i != n) return K_STR;
    double d;
    int ex = e - (int)nfrac;
    if (nint + nfrac <= 19 && m <= (UINT64_C(1) << 53) && ex >= -22 && ex <= 22) {
        d = (double)m;
        d = ex < 0 ? d / p10[-ex] : d * p10[ex];
        if (neg) d = -d;
    } else if (!jp_parse_double(s, n, &d)) {
        return K_STR;
    }
    if (!isfinite(d)) return K_STR; /* 1e999 would not read back */
    *bits = dbits(d);
    return K_DEC;
}

static inline unsigned classify(const char *s, size_t n, uint64_t *bits)
{
    unsigned char c = (unsigned char)s[0];
    if (is_digit(c) || c == '-' || c == '.') return classify_num(s, n, bits);
    if (c == 't') {
        if (n == 4 && memcmp(s, "true", 4) == 0) {
            *bits = 1;
            return K_BOOL;
        }
        return K_STR;
    }
    if (c == 'f') {
        if (n == 5 && memcmp(s, "false", 5) == 0) {
            *bits = 0;
            return K_BOOL;
        }
        return K_STR;
    }
    if (c == 'n' || c == 'N' || c == 'i' || c == 'I') return classify_special(s, n, bits);
    return K_STR;
}

/* ---- nulls and missing-value markers --------------------------------------------
 * Tables, Chinese ones especially, print a dash, an ellipsis, a slash or NA
 * where a figure is missing.  Such a cell is null where the column is
 * typed (a number column stays numbers) and text where the column is text
 * (it says what it says).  The null option replaces these markers.
 */
static const char *const markers[] = {
    "\xE2\x80\x94",             /* — em dash */
    "\xE2\x80\x94\xE2\x80\x94", /* —— */
    "\xE2\x80\x93",             /* – en dash */
    "-",
    "--",
    "\xE2\x80\xA6",             /* … */
    "\xE2\x80\xA6\xE2\x80\xA6", /* …… */
    "/",
    "NA",
    "N/A",
    "n/a",
    "NULL",
    "null",
};

int jp_csv_marker(const char *t, size_t n)
{
    if (n == 0 || n > 6) return -1;
    unsigned char c = (unsigned char)t[0];
    if (c != '-' && c != '/' && c != 'N' && c != 'n' && c != 0xE2) return -1;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (strlen(markers[i]) == n && memcmp(markers[i], t, n) == 0) return (int)i;
    return -1;
}

bool jp_csv_is_marker(const char *s, size_t n)
{
    return jp_csv_marker(s, n) >= 0;
}

const char *jp_csv_marker_text(int i, size_t *n)
{
    const char *s = i >= 0 && (size_t)i < sizeof markers / sizeof markers[0] ? markers[i] : "";
    *n = strlen(s);
    return s;
}

bool jp_csv_is_null_text(const csv_layout_t *lay, const char *t, size_t n)
{
    for (size_t i = 0; i < lay->nnulls; i++)
        if (lay->null_lens[i] == n && memcmp(lay->nulls[i], t, n) == 0) return true;
    return false;
}

unsigned jp_csv_infer_kind(const csv_layout_t *lay, const char *t, size_t n, bool quoted)
{
    if (n == 0) return quoted ? K_QEMPTY : K_NULL;
    if (lay->nnulls && jp_csv_is_null_text(lay, t, n)) return K_NULL;
    uint64_t bits;
    unsigned k = classify(t, n, &bits);
    if (k == K_STR && lay->markers && jp_csv_marker(t, n) >= 0) return K_MARKER;
    return k;
}

/* ---- explicit types --------------------------------------------------------- */

static void trim(const char **s, size_t *n)
{
    while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int quote_len(size_t n)
{
    return n > 60 ? 60 : (int)n;
}

/* A figure through jp_quantity_parse, converted to `unit`.  why: >= 256. */
static bool parse_quantity(const char *s, size_t n, const char *unit, const char *what, double *v,
                           uint8_t *qual, char *why, size_t wsz)
{
    jp_quantity_t q;
    jp_error_t e;
    jp_error_clear(&e);
    if (!jp_quantity_parse(s, n, &q, &e)) {
        /* the figure parser's reason, when it has one worth more than "not" */
        const char *r = strstr(e.msg, "is not a figure: ");
        r = r ? r + 17 : NULL;
        if (r && strcmp(r, "bad number") && strcmp(r, "unexpected text") && strcmp(r, "no number"))
            snprintf(why, wsz, "'%.*s' is not %s: %.200s", quote_len(n), s, what, r);
        else
            snprintf(why, wsz, "'%.*s' is not %s", quote_len(n), s, what);
        return false;
    }
    double val = q.value;
    if (q.unit[0]) {
        if (!unit) {
            snprintf(why, wsz, "'%.*s' names the unit %s but the field has no unit", quote_len(n),
                     s, q.unit);
            return false;
        }
        jp_unit_conv_t cv;
        if (jp_unit_conversion(q.unit, unit, &cv, &e) != JP_OK) {
            snprintf(why, wsz, "'%.*s' is in %s, which does not convert to %s", quote_len(n), s,
                     q.unit, unit);
            return false;
        }
        val = jp_unit_apply(&cv, val);
    }
    *v = val;
    *qual = (uint8_t)q.qual;
    return true;
}

static bool parse_exp_int(const char *s, size_t n, const char *unit, int64_t *out, uint8_t *qual,
                          char *why, size_t wsz)
{
    trim(&s, &n);
    *qual = 0;
    if (n && jp_parse_int64(s, n, out) == 0) return true;
    /* '+' and leading zeros: the field is declared integer */
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) neg = s[i++] == '-';
    while (i + 1 < n && s[i] == '0') i++;
    if (i < n) {
        char tmp[32];
        size_t k = n - i;
        if (k + 1 < sizeof tmp) {
            size_t o = 0;
            if (neg) tmp[o++] = '-';
            memcpy(tmp + o, s + i, k);
            int64_t v;
            if (!(neg && k == 1 && s[i] == '0') && jp_parse_int64(tmp, o + k, &v) == 0) {
                *out = v;
                return true;
            }
            if (neg && k == 1 && s[i] == '0') {
                *out = 0;
                return true;
            }
        }
    }
    double d;
    if (!n || !parse_quantity(s, n, unit, "an integer", &d, qual, why, wsz)) {
        if (!n) snprintf(why, wsz, "'' is not an integer");
        return false;
    }
    if (!(d == floor(d)) || !(fabs(d) < 9.2e18)) {
        snprintf(why, wsz, "'%.*s' is not an integer", quote_len(n), s);
        return false;
    }
    *out = (int64_t)d;
    return true;
}

static bool parse_exp_num(const char *s, size_t n, const char *unit, double *out, uint8_t *qual,
                          char *why, size_t wsz)
{
    trim(&s, &n);
    *qual = 0;
    uint64_t bits;
    if (n) {
        unsigned k = classify(s, n, &bits);
        if (k & (K_INT | K_INTWIDE)) {
            *out = (double)(int64_t)bits;
            return true;
        }
        if (k & (K_DEC | K_BIGX | K_SPECIAL)) {
            *out = bitsd(bits);
            return true;
        }
        if (jp_parse_double(s, n, out)) return true;
    }
    if (!n) {
        snprintf(why, wsz, "'' is not a number");
        return false;
    }
    return parse_quantity(s, n, unit, "a number", out, qual, why, wsz);
}

static bool ieq(const char *s, size_t n, const char *w)
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

static bool parse_exp_bool(const char *s, size_t n, uint64_t *out, char *why, size_t wsz)
{
    trim(&s, &n);
    if (ieq(s, n, "true") || ieq(s, n, "yes") || (n == 1 && s[0] == '1'))
        *out = 1;
    else if (ieq(s, n, "false") || ieq(s, n, "no") || (n == 1 && s[0] == '0'))
        *out = 0;
    else {
        snprintf(why, wsz, "'%.*s' is not a boolean (true/false)", quote_len(n), s);
        return false;
    }
    return true;
}

/* ---- a cell of a pass ------------------------------------------------------- */

static bool text_ok(const char *t, size_t n, size_t *bad, char *why, size_t wsz)
{
    if (jp_csv_utf8_ok(t, n, bad)) return true;
    snprintf(why, wsz, "invalid UTF-8 (convert the file to UTF-8, e.g. iconv -f GBK -t UTF-8)");
    return false;
}

/* Phase 1 of taking a cell (phase 2 is jp_csv_cell_store). */
bool jp_csv_cell_parse(pass_t *P, chunk_t *C, size_t k, int mode, const char *t, size_t n,
                       bool quoted, cell_t *cl, char *why, size_t wsz, size_t *bad)
{
    cl->t = t;
    cl->n = n;
    cl->qual = 0;
    cl->code = NO_CODE;
    *bad = 0;
    if (n == 0) {
        cl->kind = quoted ? K_QEMPTY : K_NULL;
        return true;
    }
    const csv_layout_t *L = P->lay;
    if (L->nnulls && jp_csv_is_null_text(L, t, n)) {
        cl->kind = K_NULL;
        return true;
    }
    int marker;
    if (L->markers && mode >= CM_INT && mode <= CM_PERIOD && (marker = jp_csv_marker(t, n)) >= 0) {
        cl->kind = K_MARKER; /* a typed field: missing */
        cl->bits = (uint64_t)marker;
        return true;
    }
    switch (mode) {
    case CM_INFER:
        cl->kind = classify(t, n, &cl->bits);
        if (cl->kind != K_STR) return true;
        if (L->markers && (marker = jp_csv_marker(t, n)) >= 0) {
            cl->kind = K_MARKER;
            cl->bits = (uint64_t)marker;
            return true;
        }
        /* fall through */
    case CM_STRING: {
        /* known text needs no checking; new text is checked once */
        const ccol_t *c = &C->cc[k];
        cl->kind = K_STR;
        cl->hash = fhash(t, n);
        if (c->store == ST_STR && c->d) {
            cl->code = cdict_find(c->d, t, n, cl->hash);
            if (cl->code != NO_CODE) return true;
        }
        return text_ok(t, n, bad, why, wsz);
    }
    case CM_CHECK:
        cl->kind = K_STR;
        return text_ok(t, n, bad, why, wsz);
    case CM_INT: {
        int64_t v;
        if (!parse_exp_int(t, n, P->cs[k].unit, &v, &cl->qual, why, wsz)) return false;
        cl->kind = K_INT;
        cl->bits = (uint64_t)v;
        return true;
    }
    case CM_NUMBER: {
        double d;
        if (!parse_exp_num(t, n, P->cs[k].unit, &d, &cl->qual, why, wsz)) return false;
        cl->kind = K_DEC;
        cl->bits = dbits(d);
        return true;
    }
    case CM_BOOL:
        cl->kind = K_BOOL;
        return parse_exp_bool(t, n, &cl->bits, why, wsz);
    case CM_DATE: {
        const char *s2 = t;
        size_t n2 = n;
        trim(&s2, &n2);
        int32_t d;
        if (!jp_date_parse(s2, n2, &d)) {
            snprintf(why, wsz, "'%.*s' is not a date (YYYY-MM-DD)", quote_len(n), t);
            return false;
        }
        cl->kind = K_DATE;
        cl->bits = (uint64_t)(uint32_t)d;
        return true;
    }
    case CM_PERIOD: {
        jp_error_t e;
        jp_error_clear(&e);
        if (!jp_period_parse(t, n, &cl->per, &e)) {
            snprintf(why, wsz, "%.300s", e.msg);
            return false;
        }
        cl->kind = K_PERIOD;
        return true;
    }
    default:
        cl->kind = K_NULL;
        return true;
    }
}
