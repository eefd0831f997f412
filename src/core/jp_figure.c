/*
 * jp_figure.c - figures written for people, the way the article prints
 * them (14.8万亩, 14万余吨, 约11.4亿美元, 3.78万元以上), and numbers shown with
 * a sensible number of significant digits: the inverse of
 * jp_quantity_parse, and the number text of previews.
 *
 * The digits of a figure are the shortest decimal that reads back to the
 * same double; the magnitude (万, 亿, 万亿) moves the decimal point in that
 * text - it never divides the double - so jp_quantity_parse gives back
 * exactly the value written.
 *
 * Owns: jp_figure_format, jp_number_display.  Must never: print, keep
 * state (the default digits of previews live in jp_preview.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_unit.h"

/* ---- decimal digits ------------------------------------------------------------- */

/* The decimal digits of |v| (d[0..*nd), no leading or trailing zeros) and
 * the power of ten of the first: |v| = d0.d1d2... x 10^*e.  `digits` > 0
 * rounds to that many significant digits; 0 takes the fewest that read
 * back to v. */
static void decimal_digits(double v, int digits, char *d, int *nd, int *e)
{
    char buf[48];
    v = fabs(v);
    if (v == 0) {
        d[0] = '0';
        *nd = 1;
        *e = 0;
        return;
    }
    if (digits > 17) digits = 17;
    for (int p = digits > 0 ? digits - 1 : 0; p <= 16; p++) {
        snprintf(buf, sizeof buf, "%.*e", p, v);
        if (digits > 0 || strtod(buf, NULL) == v) break;
    }
    /* "1.4800e+05" */
    int n = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') d[n++] = *s;
    *e = *s == 'e' ? atoi(s + 1) : 0;
    while (n > 1 && d[n - 1] == '0') n--;
    *nd = n;
}

/* Plain decimal text of d0.d1...dn x 10^e (an exponent form beyond
 * 10^21 or below 10^-7), negative when neg. */
static int digits_text(const char *d, int nd, int e, bool neg, char *out, size_t size)
{
    char t[96];
    int n = 0;
    if (neg) t[n++] = '-';
    if (e > 20 || e < -7) {
        t[n++] = d[0];
        if (nd > 1) {
            t[n++] = '.';
            memcpy(t + n, d + 1, (size_t)nd - 1);
            n += nd - 1;
        }
        n += snprintf(t + n, sizeof t - (size_t)n, "e%d", e);
    } else if (e < 0) {
        t[n++] = '0';
        t[n++] = '.';
        for (int z = 0; z < -e - 1; z++) t[n++] = '0';
        memcpy(t + n, d, (size_t)nd);
        n += nd;
    } else {
        for (int q = 0; q <= e || q < nd; q++) {
            if (q == e + 1) t[n++] = '.';
            t[n++] = q < nd ? d[q] : '0';
        }
    }
    t[n] = '\0';
    return snprintf(out, size, "%s", t);
}

int jp_number_display(double v, int digits, char *buf, size_t size)
{
    if (isnan(v)) return snprintf(buf, size, "nan");
    if (isinf(v)) return snprintf(buf, size, v < 0 ? "-inf" : "inf");
    if (v == 0) return snprintf(buf, size, signbit(v) ? "-0" : "0");
    char d[24];
    int nd, e;
    decimal_digits(v, 0, d, &nd, &e);
    if (digits > 0 && nd > digits) {
        /* fewer digits for people, but never fewer than the whole part:
           123456.789 shows as 123457, not 1.23e+05 */
        int keep = e + 1 > digits ? e + 1 : digits;
        if (keep < nd) decimal_digits(v, keep, d, &nd, &e);
    }
    return digits_text(d, nd, e, v < 0, buf, size);
}

/* ---- units as printed -------------------------------------------------------------- */

/* How the article writes a unit: its first Chinese (or symbol) alias, else
 * its name after a space ("5 project"). */
static void unit_text(const jp_unit_t *u, char *out, size_t size)
{
    for (const char *a = u->aliases; *a;) {
        size_t k = strcspn(a, "|");
        unsigned char c = (unsigned char)a[0];
        if (k && (c >= 0x80 || c == '%')) {
            snprintf(out, size, "%.*s", (int)k, a);
            return;
        }
        a += k + (a[k] == '|');
    }
    snprintf(out, size, " %s", u->name);
}

/* Does a figure in this dimension take 万 and 亿 (money, masses, areas,
 * lengths, counts; not ratios, times, ranks)? */
static bool takes_magnitude(const char *dim)
{
    return !dim || strncmp(dim, "currency", 8) == 0 || strncmp(dim, "mass", 4) == 0 ||
           strncmp(dim, "area", 4) == 0 || strncmp(dim, "length", 6) == 0 ||
           strncmp(dim, "count", 5) == 0;
}

static const jp_unit_t *simple_unit(const char *text, size_t n)
{
    char tmp[64];
    if (n >= sizeof tmp) return NULL;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    char buf[64];
    const char *c = jp_unit_canonical(tmp, buf, sizeof buf);
    return c ? jp_unit_find(c) : NULL;
}

void jp_figure_opts_init(jp_figure_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->magnitude = -1;
}

jp_status_t jp_figure_format(double v, const char *unit, jp_qual_t q, const jp_figure_opts_t *o,
                             char *out, size_t size, jp_error_t *err)
{
    jp_figure_opts_t dflt;
    if (!o) {
        jp_figure_opts_init(&dflt);
        o = &dflt;
    }
    if (!isfinite(v)) return jp_error_set(err, JP_ERR_ARG, "format_figure: %g is not a figure", v);
    if (unit && !*unit) unit = NULL;
    /* the value in the primary unit of its numerator (14.8 万亩 -> 148000 mu) */
    const jp_unit_t *num = NULL, *den = NULL;
    if (unit) {
        const char *slash = strchr(unit, '/');
        size_t nl = slash ? (size_t)(slash - unit) : strlen(unit);
        num = simple_unit(unit, nl);
        if (slash) den = simple_unit(slash + 1, strlen(slash + 1));
        if (!num || (slash && !den)) {
            char hint[96];
            return jp_error_set(err, JP_ERR_UNIT, "format_figure: unknown unit '%s'%s", unit,
                                jp_unit_hint(unit, hint, sizeof hint));
        }
        const jp_unit_t *p = jp_unit_find(num->primary);
        jp_unit_conv_t cv;
        if (p != num && jp_unit_conversion(num->name, p->name, &cv, err)) return JP_ERR_UNIT;
        if (p != num) v = jp_unit_apply(&cv, v);
        num = p;
    }
    int mag = 0;
    const jp_unit_t *write = num;
    if (o->as && *o->as) {
        /* the unit asked for: a 万/亿 form of the primary, or another unit */
        const jp_unit_t *as = simple_unit(o->as, strlen(o->as));
        if (!as || !num) {
            char hint[96];
            return jp_error_set(err, JP_ERR_UNIT, "format_figure: cannot write %s in '%s'%s",
                                num ? num->name : "a figure without a unit", o->as,
                                as ? "" : jp_unit_hint(o->as, hint, sizeof hint));
        }
        jp_unit_conv_t cv;
        if (jp_unit_conversion(num->name, as->name, &cv, err)) return JP_ERR_UNIT;
        const jp_unit_t *ap = jp_unit_find(as->primary);
        jp_unit_conv_t sc;
        if (ap == num && as != num && jp_unit_conversion(as->name, ap->name, &sc, NULL) == JP_OK &&
            sc.pow10 && (sc.exp10 == 4 || sc.exp10 == 8 || sc.exp10 == 12)) {
            mag = sc.exp10; /* 万亩: mu with 万 */
        } else {
            v = jp_unit_apply(&cv, v);
            write = as;
        }
    } else if (o->magnitude >= 0) {
        mag = o->magnitude;
    } else if (takes_magnitude(num ? num->dim : NULL)) {
        double a = fabs(v);
        mag = a >= 1e12 ? 12 : a >= 1e8 ? 8 : a >= 1e4 ? 4 : 0;
    }
    if (mag != 0 && mag != 4 && mag != 8 && mag != 12)
        return jp_error_set(err, JP_ERR_ARG,
                            "format_figure: the magnitude is 万 (4), 亿 (8), "
                            "万亿 (12) or none (0), not %d",
                            mag);
    /* the number: digits of v, the point moved by the magnitude */
    char d[24], numtext[96];
    int nd, e;
    decimal_digits(v, o->digits, d, &nd, &e);
    digits_text(d, nd, e - mag, v < 0 && !(nd == 1 && d[0] == '0'), numtext, sizeof numtext);
    const char *magtext = mag == 12 ? "万亿" : mag == 8 ? "亿" : mag == 4 ? "万" : "";
    char utext[64] = "";
    if (write) {
        char a[32], b[32] = "";
        unit_text(write, a, sizeof a);
        if (den) unit_text(den, b, sizeof b);
        snprintf(utext, sizeof utext, "%s%s%s", a, den ? "/" : "", den ? b : "");
    }
    /* 余 follows a round number (14万余吨); otherwise 超过 goes before */
    bool yu = q == JP_Q_MORE_THAN && !o->more_than_prefix && !strchr(numtext, '.') &&
              !strchr(numtext, 'e');
    const char *pre = q == JP_Q_APPROX             ? "约"
                      : q == JP_Q_LESS_THAN        ? "不足"
                      : q == JP_Q_MORE_THAN && !yu ? "超过"
                                                   : "";
    const char *post = q == JP_Q_AT_LEAST ? "以上" : q == JP_Q_AT_MOST ? "以下" : "";
    int w = snprintf(out, size, "%s%s%s%s%s%s", pre, numtext, magtext, yu ? "余" : "", utext, post);
    if (w < 0 || (size_t)w >= size)
        return jp_error_set(err, JP_ERR_ARG, "format_figure: the text is too long");
    return JP_OK;
}
