/*
 * jp_unit.c - the unit table, conversions, and reading printed figures.
 *
 * The table is static data: a unit's `scale` is its size in the reference
 * unit of its dimension (area: square metre; mass: kilogram; currency: one
 * unit of that currency; ratio: 1).  Scaled units (万元, 万亩, 万人) are
 * units for conversion and display, but text is stored in their `primary`.
 */
#include "jp_unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_suggest.h"

static const jp_unit_t units[] = {
    /* currency */
    {"CNY", "currency:CNY", 1, "CNY", "Chinese yuan", "元|yuan|RMB|人民币|cny"},
    {"k CNY", "currency:CNY", 1e3, "CNY", "thousand yuan", "千元|kCNY"},
    {"10k CNY", "currency:CNY", 1e4, "CNY", "ten thousand yuan (万元)", "万元|10kCNY"},
    {"100M CNY", "currency:CNY", 1e8, "CNY", "hundred million yuan (亿元)", "亿元|100MCNY"},
    {"B CNY", "currency:CNY", 1e9, "CNY", "billion yuan", "bn CNY"},
    {"USD", "currency:USD", 1, "USD", "US dollar", "美元|dollar|US$|usd"},
    {"10k USD", "currency:USD", 1e4, "USD", "ten thousand US dollars (万美元)", "万美元"},
    {"100M USD", "currency:USD", 1e8, "USD", "hundred million US dollars (亿美元)", "亿美元"},
    {"B USD", "currency:USD", 1e9, "USD", "billion US dollars", "bn USD"},
    /* mass */
    {"t", "mass", 1000, "t", "tonne", "吨|tonne|tonnes|ton"},
    {"10k t", "mass", 1e7, "t", "ten thousand tonnes (万吨)", "万吨"},
    {"kg", "mass", 1, "kg", "kilogram", "千克|公斤"},
    {"g", "mass", 1e-3, "g", "gram", "克"},
    {"jin", "mass", 0.5, "jin", "jin (斤, 500 g)", "斤"},
    /* area */
    {"m2", "area", 1, "m2", "square metre", "平方米|m²|sqm"},
    {"mu", "area", 10000.0 / 15.0, "mu", "mu (亩, 1/15 ha)", "亩"},
    {"10k mu", "area", 1e4 * 10000.0 / 15.0, "mu", "ten thousand mu (万亩)", "万亩"},
    {"ha", "area", 1e4, "ha", "hectare", "公顷|hectare|hectares"},
    {"km2", "area", 1e6, "km2", "square kilometre", "平方公里|平方千米|km²|sq km"},
    /* length */
    {"m", "length", 1, "m", "metre", "米"},
    {"km", "length", 1000, "km", "kilometre", "公里|千米"},
    /* counts: each kind of thing is its own dimension */
    {"person", "count:person", 1, "person", "people", "人|名|位|persons|people"},
    {"10k person", "count:person", 1e4, "person", "ten thousand people (万人)", "万人|万名"},
    {"firm", "count:firm", 1, "firm", "firms, companies", "家|户|firms|company|companies"},
    {"project", "count:project", 1, "project", "projects", "projects"},
    {"item", "count:item", 1, "item", "items (件, 项, 个, 套, 枚)", "件|项|个|套|枚|份|台|items"},
    /* ratios */
    {"1", "ratio", 1, "1", "a plain ratio", "ratio|fraction"},
    {"percent", "ratio", 0.01, "percent", "percent", "%|％|pct"},
    {"permille", "ratio", 0.001, "permille", "per mille", "‰"},
    {"times", "ratio", 1, "times", "times, a multiple (倍)", "倍|x"},
    /* time */
    {"day", "time", 1, "day", "days", "天|日|days|d"},
    {"month", "time", 365.2425 / 12, "month", "months", "个月|months"},
    {"year", "time", 365.2425, "year", "years", "年|years|yr"},
    /* ordinals */
    {"rank", "ordinal:rank", 1, "rank", "a position in a ranking (第N)", "位次"},
    {"level", "ordinal:level", 1, "level", "a grade or level (级)", "级"},
};

#define NBUILTIN (sizeof units / sizeof units[0])

/* Units added at run time (jp_unit_register), after the built-in ones.
 * They live as long as the process. */
static jp_unit_t **added; /* each unit apart: pointers to them stay valid */
static size_t nadded;

const jp_unit_t *jp_unit_at(size_t i)
{
    if (i < NBUILTIN) return &units[i];
    return i - NBUILTIN < nadded ? added[i - NBUILTIN] : NULL;
}

static bool dim_known(const char *dim)
{
    const jp_unit_t *u;
    for (size_t i = 0; (u = jp_unit_at(i)); i++)
        if (strcmp(u->dim, dim) == 0) return true;
    return false;
}

/* Can u be added?  Fills *primary with the canonical primary unit name
 * (NULL: the unit itself). */
static jp_status_t check_new(const jp_unit_t *u, const char **primary_out, jp_error_t *err)
{
    if (!u->name || !*u->name || strchr(u->name, '/') || strchr(u->name, '|'))
        return jp_error_set(err, JP_ERR_ARG, "a unit needs a name without '/' or '|'");
    if (jp_unit_find(u->name))
        return jp_error_set(err, JP_ERR_ARG, "unit '%s' exists already", u->name);
    const char *a = u->aliases ? u->aliases : "";
    while (*a) {
        size_t k = strcspn(a, "|");
        char one[64];
        if (k == 0 || k >= sizeof one)
            return jp_error_set(err, JP_ERR_ARG, "unit '%s': an alias is empty or too long",
                                u->name);
        memcpy(one, a, k);
        one[k] = '\0';
        if (strchr(one, '/') || jp_unit_find(one))
            return jp_error_set(err, JP_ERR_ARG, "unit '%s': alias '%s' is taken or has a '/'",
                                u->name, one);
        a += k + (a[k] == '|');
    }
    if (!u->dim || !*u->dim)
        return jp_error_set(err, JP_ERR_ARG, "unit '%s' needs a dimension", u->name);
    if (!(u->scale > 0) || u->scale > 1e300)
        return jp_error_set(err, JP_ERR_ARG, "unit '%s': the scale must be a positive number",
                            u->name);
    const char *primary = u->primary && *u->primary ? u->primary : u->name;
    if (strcmp(primary, u->name) != 0) {
        const jp_unit_t *p = jp_unit_find(primary);
        if (!p || strcmp(p->dim, u->dim) != 0)
            return jp_error_set(err, JP_ERR_UNIT,
                                "unit '%s': primary unit '%s' is not a unit of %s", u->name,
                                primary, u->dim);
        primary = p->name;
    } else if (!dim_known(u->dim) && u->scale != 1) {
        return jp_error_set(
            err, JP_ERR_ARG,
            "unit '%s' opens dimension %s: its scale must be 1 (it is the reference)", u->name,
            u->dim);
    }
    *primary_out = strcmp(primary, u->name) == 0 ? NULL : primary;
    return JP_OK;
}

jp_status_t jp_unit_check_new(const jp_unit_t *u, jp_error_t *err)
{
    const char *primary;
    return check_new(u, &primary, err);
}

jp_status_t jp_unit_register(const jp_unit_t *u, jp_error_t *err)
{
    const char *primary;
    jp_status_t st = check_new(u, &primary, err);
    if (st) return st;
    jp_unit_t **v = jp_realloc_array(added, nadded + 1, sizeof *v);
    if (!v) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    added = v;
    jp_unit_t *n = jp_calloc(1, sizeof *n);
    if (!n) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    n->scale = u->scale;
    n->name = jp_strdup(u->name);
    n->dim = jp_strdup(u->dim);
    n->primary = primary ? primary : n->name; /* a registered unit's name lives forever */
    n->label = jp_strdup(u->label ? u->label : u->name);
    n->aliases = jp_strdup(u->aliases ? u->aliases : "");
    if (!n->name || !n->dim || !n->label || !n->aliases) {
        jp_free((char *)n->name);
        jp_free((char *)n->dim);
        jp_free((char *)n->label);
        jp_free((char *)n->aliases);
        jp_free(n);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    added[nadded++] = n;
    return JP_OK;
}

const jp_unit_t *jp_unit_find(const char *name)
{
    size_t n = strlen(name);
    const jp_unit_t *u;
    for (size_t i = 0; (u = jp_unit_at(i)); i++) {
        if (strcmp(u->name, name) == 0) return u;
        const char *a = u->aliases;
        while (*a) {
            size_t k = strcspn(a, "|");
            if (k == n && memcmp(a, name, n) == 0) return u;
            a += k + (a[k] == '|');
        }
    }
    return NULL;
}

static bool resolve_simple(const char *s, size_t n, const jp_unit_t **out)
{
    char tmp[64];
    while (n && *s == ' ') s++, n--;
    while (n && s[n - 1] == ' ') n--;
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = jp_unit_find(tmp);
    return *out != NULL;
}

bool jp_unit_resolve(const char *text, jp_unit_info_t *out)
{
    const char *slash = strchr(text, '/');
    const jp_unit_t *a, *b;
    if (!slash) {
        if (!resolve_simple(text, strlen(text), &a)) return false;
        snprintf(out->name, sizeof out->name, "%s", a->name);
        snprintf(out->dim, sizeof out->dim, "%s", a->dim);
        out->scale = a->scale;
        return true;
    }
    if (strchr(slash + 1, '/')) return false;
    if (!resolve_simple(text, (size_t)(slash - text), &a)) return false;
    if (!resolve_simple(slash + 1, strlen(slash + 1), &b)) return false;
    snprintf(out->name, sizeof out->name, "%s/%s", a->name, b->name);
    snprintf(out->dim, sizeof out->dim, "%s/%s", a->dim, b->dim);
    out->scale = a->scale / b->scale;
    return true;
}

const char *jp_unit_canonical(const char *text, char *buf, size_t size)
{
    jp_unit_info_t u;
    if (!jp_unit_resolve(text, &u)) return NULL;
    if (!strchr(u.name, '/')) return jp_unit_find(u.name)->name;
    snprintf(buf, size, "%s", u.name);
    return buf;
}

jp_status_t jp_unit_factor(const char *from, const char *to, double *factor, jp_error_t *err)
{
    jp_unit_info_t a, b;
    char hint[96];
    if (!jp_unit_resolve(from, &a))
        return jp_error_set(err, JP_ERR_UNIT, "unknown unit '%s'%s", from,
                            jp_unit_hint(from, hint, sizeof hint));
    if (!jp_unit_resolve(to, &b))
        return jp_error_set(err, JP_ERR_UNIT, "unknown unit '%s'%s", to,
                            jp_unit_hint(to, hint, sizeof hint));
    if (strcmp(a.dim, b.dim) != 0)
        return jp_error_set(err, JP_ERR_UNIT, "cannot convert %s (%s) to %s (%s)", a.name, a.dim,
                            b.name, b.dim);
    *factor = a.scale / b.scale;
    return JP_OK;
}

/* 10^0 .. 10^22: every one exactly representable as a double. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

void jp_unit_conv_from_ratio(double ratio, jp_unit_conv_t *out)
{
    out->factor = ratio;
    out->pow10 = false;
    out->exp10 = 0;
    if (!(ratio > 0) || !isfinite(ratio)) return;
    /* The table's scales are products of exact powers of ten and a few
     * other ratios (1/15 ha, 500 g, 365.2425 days): a ratio within 1e-9 of
     * a power of ten is one, anything else is far from it. */
    double lg = log10(ratio), k = nearbyint(lg);
    if (fabs(lg - k) < 1e-9 && fabs(k) <= 22) {
        out->pow10 = true;
        out->exp10 = (int)k;
        out->factor = k >= 0 ? pow10_exact[(int)k] : 1.0 / pow10_exact[(int)-k];
    }
}

jp_status_t jp_unit_conversion(const char *from, const char *to, jp_unit_conv_t *out,
                               jp_error_t *err)
{
    double f;
    jp_status_t st = jp_unit_factor(from, to, &f, err);
    if (st) return st;
    jp_unit_conv_from_ratio(f, out);
    return JP_OK;
}

double jp_unit_apply(const jp_unit_conv_t *c, double v)
{
    if (!c->pow10) return v * c->factor;
    if (c->exp10 >= 0) return v * pow10_exact[c->exp10];
    return v / pow10_exact[-c->exp10];
}

/* The unit whose name or an alias is closest to s[0..n), or NULL. */
static const jp_unit_t *closest_unit(const char *s, size_t n)
{
    char want[64], alias[64];
    while (n && *s == ' ') s++, n--;
    while (n && s[n - 1] == ' ') n--;
    if (!n || n >= sizeof want) return NULL;
    memcpy(want, s, n);
    want[n] = '\0';
    jp_suggest_t sg;
    jp_suggest_init(&sg, want);
    const jp_unit_t *best = NULL;
    const char *prev = NULL;
    const jp_unit_t *u;
    for (size_t i = 0; (u = jp_unit_at(i)); i++) {
        /* the name, then each alias; a closer one remembers its unit */
        jp_suggest_add(&sg, u->name);
        if (sg.best != prev) best = u, prev = sg.best;
        for (const char *a = u->aliases; *a;) {
            size_t k = strcspn(a, "|");
            if (k < sizeof alias) {
                memcpy(alias, a, k);
                alias[k] = '\0';
                jp_suggest_add(&sg, alias);
                if (sg.best != prev) best = u, prev = sg.best = u->name;
            }
            a += k + (a[k] == '|');
        }
    }
    return jp_suggest_best(&sg) ? best : NULL;
}

const char *jp_unit_hint(const char *text, char *buf, size_t size)
{
    if (!size) return buf;
    buf[0] = '\0';
    const char *slash = strchr(text, '/');
    const jp_unit_t *a = NULL, *b = NULL;
    if (!slash) {
        a = closest_unit(text, strlen(text));
        if (a) snprintf(buf, size, " (did you mean '%s'?)", a->name);
        return buf;
    }
    size_t ln = (size_t)(slash - text);
    const jp_unit_t *ka, *kb;
    bool okA = resolve_simple(text, ln, &ka),
         okB = resolve_simple(slash + 1, strlen(slash + 1), &kb);
    a = okA ? ka : closest_unit(text, ln);
    b = okB ? kb : closest_unit(slash + 1, strlen(slash + 1));
    if (a && b && !(okA && okB)) snprintf(buf, size, " (did you mean '%s/%s'?)", a->name, b->name);
    return buf;
}

/* ---- figures as printed --------------------------------------------------- */

typedef struct {
    const char *word;
    jp_qual_t q;
} qword_t;

/* Longest first where one is a prefix of another. */
static const qword_t prefix_words[] = {
    {"more than ", JP_Q_MORE_THAN},
    {"at least ", JP_Q_AT_LEAST},
    {"at most ", JP_Q_AT_MOST},
    {"less than ", JP_Q_LESS_THAN},
    {"about ", JP_Q_APPROX},
    {"approx. ", JP_Q_APPROX},
    {"approx ", JP_Q_APPROX},
    {"nearly ", JP_Q_APPROX},
    {"over ", JP_Q_MORE_THAN},
    {"超过", JP_Q_MORE_THAN},
    {"突破", JP_Q_MORE_THAN},
    {"不足", JP_Q_LESS_THAN},
    {"不到", JP_Q_LESS_THAN},
    {"大约", JP_Q_APPROX},
    {"约", JP_Q_APPROX},
    {"近", JP_Q_APPROX},
    {"超", JP_Q_MORE_THAN},
    {"逾", JP_Q_MORE_THAN},
    {"过", JP_Q_MORE_THAN}, /* GDP过万亿 */
    {"至少", JP_Q_AT_LEAST},
    {"达", JP_Q_EXACT},
    {">=", JP_Q_AT_LEAST},
    {"≥", JP_Q_AT_LEAST},
    {"<=", JP_Q_AT_MOST},
    {"≤", JP_Q_AT_MOST},
    {">", JP_Q_MORE_THAN},
    {"<", JP_Q_LESS_THAN},
    {"~", JP_Q_APPROX},
    {"≈", JP_Q_APPROX},
};

static const qword_t suffix_words[] = {
    {"以上", JP_Q_AT_LEAST}, {"以下", JP_Q_AT_MOST}, {"左右", JP_Q_APPROX}, {"上下", JP_Q_APPROX},
    {"余", JP_Q_MORE_THAN},  {"多", JP_Q_MORE_THAN}, {"+", JP_Q_AT_LEAST},
};

static const struct {
    const char *word;
    int exp10;
} magnitudes[] = {
    {"万亿", 12}, {"亿", 8}, {"万", 4}, {"千", 3}, {"百", 2},
    {"十", 1},    {"k", 3},  {"K", 3},  {"M", 6},  {"B", 9},
};

/* A Chinese magnitude of 万 or more starts at s (what 十 may precede). */
static bool starts_magnitude(const char *s, size_t n)
{
    return (n >= 3 && (memcmp(s, "万", 3) == 0 || memcmp(s, "亿", 3) == 0));
}

static bool starts(const char *s, size_t n, const char *w, size_t *len)
{
    size_t k = strlen(w);
    if (k > n || memcmp(s, w, k) != 0) return false;
    *len = k;
    return true;
}

/* Longest unit name or alias at s (ASCII names must end at a non-letter). */
static const jp_unit_t *match_unit(const char *s, size_t n, size_t *len)
{
    const jp_unit_t *best = NULL;
    size_t bestlen = 0;
    const jp_unit_t *u;
    for (size_t i = 0; (u = jp_unit_at(i)); i++) {
        const char *name = u->name;
        const char *a = name;
        for (;;) {
            size_t k = a == name ? strlen(a) : strcspn(a, "|");
            if (k && k > bestlen && k <= n && memcmp(s, a, k) == 0) {
                unsigned char next = k < n ? (unsigned char)s[k] : 0;
                unsigned char last = (unsigned char)a[k - 1];
                bool ascii_word = last < 0x80 && ((last | 0x20) >= 'a' && (last | 0x20) <= 'z');
                /* an ASCII name must end at a non-letter ("t" is not the
                 * start of "twenty"); skip to the next alias, not `continue`,
                 * which would test the same alias forever */
                if (!(ascii_word && next < 0x80 &&
                      (((next | 0x20) >= 'a' && (next | 0x20) <= 'z') ||
                       (next >= '0' && next <= '9')))) {
                    best = u;
                    bestlen = k;
                }
            }
            if (a == name) {
                a = u->aliases;
            } else {
                a += k;
                if (*a != '|') break;
                a++;
            }
            if (!*a) break;
        }
    }
    *len = bestlen;
    return best;
}

static bool qfail(jp_error_t *err, const char *s, size_t n, size_t at, const char *why)
{
    jp_error_set(err, JP_ERR_PARSE, "'%.*s' is not a figure: %s", (int)(n > 80 ? 80 : n), s, why);
    if (err) err->col = (long)at + 1;
    return false;
}

static bool set_qual(jp_qual_t *q, bool *have, jp_qual_t v)
{
    if (*have && *q != v) return false;
    *q = v;
    *have = true;
    return true;
}

bool jp_quantity_parse(const char *s, size_t n, jp_quantity_t *out, jp_error_t *err)
{
    size_t i = 0, k;
    jp_qual_t q = JP_Q_EXACT;
    bool have_q = false;
    memset(out, 0, sizeof *out);
    while (i < n && s[i] == ' ') i++;
    /* prefix qualifier */
    for (size_t w = 0; w < sizeof prefix_words / sizeof prefix_words[0]; w++)
        if (starts(s + i, n - i, prefix_words[w].word, &k)) {
            q = prefix_words[w].q;
            have_q = true;
            i += k;
            break;
        }
    while (i < n && s[i] == ' ') i++;
    /* the number, digits collected without separators */
    char digits[80];
    size_t nd = 0, numstart = i;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    size_t intstart = i;
    size_t group = 0; /* digits since the last ',' */
    bool grouped = false;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == ',')) {
        if (s[i] == ',') {
            /* thousands separators: 1-3 digits first, then groups of exactly three */
            if (i == intstart || (grouped ? group != 3 : group > 3))
                return qfail(err, s, n, i, "misplaced ','");
            grouped = true;
            group = 0;
            i++;
            continue;
        }
        group++;
        if (nd < sizeof digits - 10) {
            digits[nd++] = s[i];
        } else {
            return qfail(err, s, n, i, "too many digits");
        }
        i++;
    }
    if (grouped && group != 3) return qfail(err, s, n, i, "misplaced ','");
    if (i < n && s[i] == '.') {
        if (nd < sizeof digits - 10) digits[nd++] = '.';
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd >= sizeof digits - 10) return qfail(err, s, n, i, "too many digits");
            digits[nd++] = s[i++];
        }
    }
    int exp10 = 0;
    if (nd && i < n && (s[i] == 'e' || s[i] == 'E') && i + 1 < n &&
        ((s[i + 1] >= '0' && s[i + 1] <= '9') ||
         ((s[i + 1] == '-' || s[i + 1] == '+') && i + 2 < n && s[i + 2] >= '0' &&
          s[i + 2] <= '9'))) {
        i++;
        bool eneg = false;
        if (s[i] == '-' || s[i] == '+') eneg = s[i++] == '-';
        int e = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 10000) e = e * 10 + (s[i] - '0');
            i++;
        }
        exp10 = eneg ? -e : e;
    }
    bool have_number = nd > 0 && !(nd == 1 && digits[0] == '.');
    (void)numstart;
    /* magnitudes (a unit spelled at this point wins: "5km2" is 5 km2); Chinese
     * ones combine, smaller first: 千万, 百亿, 十万, 千亿 (亿元 then is a unit) */
    const jp_unit_t *unit = match_unit(s + i, n - i, &k);
    int mag = 0; /* powers of ten named by magnitude words */
    if (!unit || (have_number == false)) {
        for (int round = 0; round < 3; round++) {
            bool took = false;
            for (size_t m = 0; m < sizeof magnitudes / sizeof magnitudes[0]; m++) {
                size_t ml;
                if (!starts(s + i, n - i, magnitudes[m].word, &ml)) continue;
                /* 十 only before a larger magnitude (十万); Latin ones stand alone */
                if (magnitudes[m].exp10 == 1 && !starts_magnitude(s + i + ml, n - i - ml)) break;
                if (round && (magnitudes[m].word[0] & 0x80) == 0) break;
                /* "万元" etc. are units; take the magnitude only when the
                   unit match is not longer */
                unit = match_unit(s + i, n - i, &k);
                if (unit && k > ml) break;
                mag += magnitudes[m].exp10;
                i += ml;
                took = true;
                break;
            }
            if (!took) break;
        }
        exp10 += mag;
    }
    /* qualifier between magnitude and unit: 14万余吨 */
    for (size_t w = 0; w < sizeof suffix_words / sizeof suffix_words[0]; w++)
        if (starts(s + i, n - i, suffix_words[w].word, &k)) {
            if (!set_qual(&q, &have_q, suffix_words[w].q))
                return qfail(err, s, n, i, "two different qualifiers");
            i += k;
            break;
        }
    while (i < n && s[i] == ' ') i++;
    /* unit, and a compound unit's denominator (3.78万元/人) */
    const jp_unit_t *u = NULL, *per = NULL;
    if (i < n) {
        u = match_unit(s + i, n - i, &k);
        if (u) i += k;
    }
    if (u && i + 1 < n && s[i] == '/') {
        per = match_unit(s + i + 1, n - i - 1, &k);
        if (!per) return qfail(err, s, n, i + 1, "unknown unit");
        i += 1 + k;
    }
    /* 级 after a magnitude (万亿级, 千亿元级, 10万级) is an order of magnitude,
     * the class [X, 10X): read as at least X.  After a bare number it is a
     * grade (2级, the unit `level`). */
    bool order = false;
    if (u && strcmp(u->name, "level") == 0 && mag > 0) {
        order = true;
        u = NULL;
    } else if (u && starts(s + i, n - i, "级", &k) &&
               (mag > 0 || u->scale > jp_unit_find(u->primary)->scale)) {
        order = true;
        i += k;
    }
    if (order && !set_qual(&q, &have_q, JP_Q_AT_LEAST))
        return qfail(err, s, n, i, "two different qualifiers");
    if (!have_number) {
        if (!mag && !order) return qfail(err, s, n, i, "no number");
        digits[nd++] = '1'; /* 百余 = more than a hundred; 亿元级 = of the 1亿元 class */
    }
    size_t bare_at = i;
    while (i < n && s[i] == ' ') i++;
    for (size_t w = 0; w < sizeof suffix_words / sizeof suffix_words[0]; w++)
        if (starts(s + i, n - i, suffix_words[w].word, &k)) {
            if (!set_qual(&q, &have_q, suffix_words[w].q))
                return qfail(err, s, n, i, "two different qualifiers");
            i += k;
            break;
        }
    while (i < n && s[i] == ' ') i++;
    /* a magnitude alone is a multiplier, not a figure: 万 is no more 10000
       than "thousand" is 1000; with a qualifier (百余, 超万) or as an order
       (万亿级) it says how large */
    if (!have_number && !order && !have_q)
        return qfail(err, s, n, bare_at, "a magnitude needs a number (1万, not 万)");
    if (i != n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return qfail(err, s, n, i, "unknown unit");
        return qfail(err, s, n, i, "unexpected text");
    }
    /* scale: fold a power-of-ten unit scale into the exponent */
    double extra = 1.0;
    if (u) {
        const jp_unit_t *p = jp_unit_find(u->primary);
        double ratio = u->scale / p->scale;
        double lg = log10(ratio);
        if (fabs(lg - nearbyint(lg)) < 1e-12)
            exp10 += (int)nearbyint(lg);
        else
            extra = ratio;
        if (per)
            snprintf(out->unit, sizeof out->unit, "%s/%s", p->name, per->name);
        else
            snprintf(out->unit, sizeof out->unit, "%s", p->name);
    }
    char text[112];
    int tn = snprintf(text, sizeof text, "%s%.*se%d", neg ? "-" : "", (int)nd, digits, exp10);
    double v;
    if (tn <= 0 || !jp_parse_double(text, (size_t)tn, &v))
        return qfail(err, s, n, 0,
                     isinf(strtod(text, NULL)) ? "too large for a number"
                                               : "too small for a number (it would be 0)");
    v *= extra;
    out->value = v;
    out->qual = q;
    out->order_of_magnitude = order;
    out->is_integer = isfinite(v) && v == floor(v) && fabs(v) < 9.2e18;
    return true;
}
