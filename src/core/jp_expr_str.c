/*
 * jp_expr_str.c - the expression evaluator's string, membership and
 * pattern operations: lower, upper, trim, len, sub, contains, starts_with,
 * ends_with, matches and one_of.
 *
 * Strings are UTF-8 and counted in characters (code points; a byte that
 * does not start a valid sequence is a character of its own).  Work on a
 * string is done once per distinct string of the input's dictionary (a
 * memo keyed by its code) whenever the other operands are constants, so a
 * 5M-row column of a few hundred names costs a few hundred calls.
 *
 * Owns the semantics of these operations.  Must never: write into a column
 * or another register's slot, or change the process locale (case mapping
 * asks a locale object of its own).
 */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>
#include "jp_expr_int.h"
#include "jp_mem.h"
#include "jp_regex.h"

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Length of the character at s[0] (n > 0 bytes left): a valid sequence's
 * length, else 1.  *cp gets the code point (the byte for an invalid one). */
static size_t u8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
    } else {
        *cp = c;
        return 1;
    }
    if (len > n) {
        *cp = c;
        return 1;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (s[k] & 0x3F);
    }
    /* overlong forms, surrogates and past U+10FFFF are not characters */
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = c;
        return 1;
    }
    *cp = v;
    return len;
}

static size_t u8_count(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; count++) i += p[i] < 0x80 ? 1 : u8_char(p + i, n - i, &cp);
    return count;
}

/* Byte offset of character number `chars` (0-based; n when past the end). */
static size_t u8_offset(const char *s, size_t n, size_t chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (chars-- > 0 && i < n) i += p[i] < 0x80 ? 1 : u8_char(p + i, n - i, &cp);
    return i;
}

static size_t u8_put(char *out, uint32_t v)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xC0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xE0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        out[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    out[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* Unicode's White_Space characters, and the byte-order mark that
 * spreadsheets leave at the start of a cell. */
static bool u8_space(uint32_t v)
{
    return (v >= 0x09 && v <= 0x0D) || v == 0x20 || v == 0x85 || v == 0xA0 || v == 0x1680 ||
           (v >= 0x2000 && v <= 0x200A) || v == 0x2028 || v == 0x2029 || v == 0x202F ||
           v == 0x205F || v == 0x3000 || v == 0xFEFF;
}

/* ---- case mapping ---------------------------------------------------------- */

static locale_t case_locale;
static pthread_once_t case_once = PTHREAD_ONCE_INIT;

static void case_init(void)
{
    case_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!case_locale) case_locale = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
}

static uint32_t map_case(uint32_t v, bool up)
{
    if (v < 0x80) {
        if (up && v >= 'a' && v <= 'z') return v - 32;
        if (!up && v >= 'A' && v <= 'Z') return v + 32;
        return v;
    }
    if (!case_locale) return v; /* no UTF-8 locale on this system: ASCII only */
    wint_t w = up ? towupper_l((wint_t)v, case_locale) : towlower_l((wint_t)v, case_locale);
    return (w > 0x10FFFF || (w >= 0xD800 && w <= 0xDFFF)) ? v : (uint32_t)w;
}

/* s[0..n) lowered, uppered (op) or trimmed into buf. */
static jp_status_t map_string(jp_buf_t *buf, int op, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    jp_buf_reset(buf);
    if (op == OP_TRIM) {
        size_t from = 0, to = n;
        uint32_t cp;
        while (from < n) {
            size_t l = u8_char(p + from, n - from, &cp);
            if (!u8_space(cp) || (l == 1 && cp >= 0x80)) break;
            from += l;
        }
        /* backwards: find the last character that is not a space */
        size_t i = from, keep = from;
        while (i < to) {
            size_t l = u8_char(p + i, to - i, &cp);
            i += l;
            if (!u8_space(cp) || (l == 1 && cp >= 0x80)) keep = i;
        }
        return jp_buf_append(buf, s + from, keep - from);
    }
    if (op == OP_UPPER || op == OP_LOWER) pthread_once(&case_once, case_init);
    if (jp_buf_reserve(buf, n + 8)) return JP_ERR_NOMEM;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = u8_char(p + i, n - i, &cp);
        char enc[4];
        size_t el = 1;
        if (l == 1 && cp >= 0x80)
            enc[0] = (char)cp; /* an invalid byte stays as it is */
        else
            el = u8_put(enc, map_case(cp, op == OP_UPPER));
        if (jp_buf_append(buf, enc, el)) return JP_ERR_NOMEM;
        i += l;
    }
    return JP_OK;
}

/* lower/upper/trim: once per distinct string (memo: input code -> our code + 1) */
jp_status_t jpx_op_strmap(const step_t *s)
{
    ectx_t *x = s->x;
    vreg_t *d = s->d, *a = s->a;
    uint32_t *o = d->buf;
    if (jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) {
        if (a->nul && a->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = VS(a)[k];
        if (!d->memo[code]) {
            size_t len;
            const char *str = jp_strdict_get(a->dict, code, &len);
            uint32_t oc;
            if (map_string(&x->scratch, s->in->op, str, len) ||
                jp_strdict_intern(d->own, x->scratch.data ? x->scratch.data : "", x->scratch.len,
                                  &oc))
                return JP_ERR_NOMEM;
            d->memo[code] = oc + 1;
        }
        o[k] = d->memo[code] - 1;
    }
    d->v = o;
    d->dict = d->own;
    jpx_take_nulls(d, a, s->n);
    return JP_OK;
}

/* #s (sub 0): bytes; len(s) (sub 1): characters, once per distinct string */
jp_status_t jpx_op_len(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    int64_t *o = d->buf;
    bool chars = s->in->sub == 1;
    if (chars && jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) {
        size_t len = 0;
        if (a->nul && a->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = VS(a)[k];
        if (chars && d->memo[code]) {
            o[k] = (int64_t)d->memo[code] - 1;
            continue;
        }
        const char *str = jp_strdict_get(a->dict, code, &len);
        if (chars) {
            len = u8_count(str, len);
            if (len < UINT32_MAX) d->memo[code] = (uint32_t)len + 1;
        }
        o[k] = (int64_t)len;
    }
    d->v = o;
    jpx_take_nulls(d, a, s->n);
    return JP_OK;
}

/* string.sub's rules over characters: 1-based, negative from the end,
 * inclusive; the result code (memoised when the positions are constants) */
static jp_status_t sub_one(jp_strdict_t *own, const char *str, size_t len, int64_t i, int64_t j,
                           uint32_t *out)
{
    int64_t l = (int64_t)u8_count(str, len);
    if (i < 0)
        i = (i < -l) ? 1 : l + i + 1;
    else if (i == 0)
        i = 1;
    if (j < 0)
        j = (j < -l) ? 0 : l + j + 1;
    else if (j > l)
        j = l;
    size_t from = 0, to = 0;
    if (i <= j) {
        from = u8_offset(str, len, (size_t)(i - 1));
        to = from + u8_offset(str + from, len - from, (size_t)(j - i + 1));
    }
    return jp_strdict_intern(own, str + from, to - from, out);
}

jp_status_t jpx_op_substr(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b, *c = s->c;
    const reg_info_t *regs = s->x->e->regs;
    uint32_t *o = d->buf;
    size_t n = s->n;
    bool memo = regs[s->in->b].is_const && regs[s->in->c].is_const;
    jpx_merge_nulls(d, a, b, n);
    if (c->nul) {
        jpx_own_nulls(d, d->nul, n);
        for (size_t k = 0; k < n; k++) d->nbuf[k] |= c->nul[k];
    }
    if (memo && jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        if (d->nul && d->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = VS(a)[k];
        if (memo && d->memo[code]) {
            o[k] = d->memo[code] - 1;
            continue;
        }
        size_t len;
        const char *str = jp_strdict_get(a->dict, code, &len);
        if (sub_one(d->own, str, len, VI(b)[k], VI(c)[k], &o[k])) return JP_ERR_NOMEM;
        if (memo) d->memo[code] = o[k] + 1;
    }
    d->v = o;
    d->dict = d->own;
    return JP_OK;
}

/* ---- predicates: true, false or nil ---------------------------------------- */

/* Does t[0..tl) (tl > 0) occur in h[0..hl)?  memchr for the first byte,
 * then memcmp: cells are short, and each distinct one is searched once. */
static bool has_sub(const char *h, size_t hl, const char *t, size_t tl)
{
    const char *end = h + hl - tl + 1;
    for (const char *p = h; p < end;) {
        p = memchr(p, t[0], (size_t)(end - p));
        if (!p) return false;
        if (memcmp(p, t, tl) == 0) return true;
        p++;
    }
    return false;
}

static bool str_pred(int sub, const char *h, size_t hl, const char *t, size_t tl)
{
    if (tl > hl) return false;
    if (tl == 0) return true;
    switch (sub) {
    case 0:
        return has_sub(h, hl, t, tl);
    case 1:
        return memcmp(h, t, tl) == 0;
    default:
        return memcmp(h + hl - tl, t, tl) == 0;
    }
}

/* contains (0), starts_with (1), ends_with (2); memo on the first string's
 * code when the second is a constant (value + 1) */
jp_status_t jpx_op_strpred(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a, *b = s->b;
    uint8_t *o = d->buf;
    size_t n = s->n;
    bool memo = s->x->e->regs[s->in->b].is_const;
    jpx_merge_nulls(d, a, b, n);
    if (memo && jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        if (d->nul && d->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = VS(a)[k];
        if (memo && d->memo[code]) {
            o[k] = (uint8_t)(d->memo[code] - 1);
            continue;
        }
        size_t hl, tl;
        const char *h = jp_strdict_get(a->dict, code, &hl);
        const char *t = jp_strdict_get(b->dict, VS(b)[k], &tl);
        o[k] = str_pred(s->in->sub, h, hl, t, tl);
        if (memo) d->memo[code] = (uint32_t)o[k] + 1u;
    }
    d->v = o;
    return JP_OK;
}

/* matches(s, pattern): the whole string, by the `pattern` constraint's
 * engine; each evaluation compiles its own matcher (it holds state) */
jp_status_t jpx_op_match(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    uint8_t *o = d->buf;
    if (!d->re) {
        jp_error_t err;
        jp_error_clear(&err);
        d->re = jp_regex_compile(s->x->e->aux[s->in->aux].pattern, &err);
        if (!d->re) return JP_ERR_NOMEM; /* the checker compiled it once already */
    }
    if (jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict)) return JP_ERR_NOMEM;
    for (size_t k = 0; k < s->n; k++) {
        if (a->nul && a->nul[k]) {
            o[k] = 0;
            continue;
        }
        uint32_t code = VS(a)[k];
        if (!d->memo[code]) {
            size_t len;
            const char *str = jp_strdict_get(a->dict, code, &len);
            d->memo[code] = jp_regex_match(d->re, str, len) ? 2 : 1;
        }
        o[k] = (uint8_t)(d->memo[code] - 1);
    }
    d->v = o;
    jpx_take_nulls(d, a, s->n);
    return JP_OK;
}

/* ---- one_of ------------------------------------------------------------------ */

/* Is v in the sorted array arr[0..n)?  (NaN is in none: it is neither less
 * than, greater than nor equal to anything.) */
#define SORTED_HAS(arr, n, v)                                                                      \
    do {                                                                                           \
        size_t lo_ = 0, hi_ = (n);                                                                 \
        while (lo_ < hi_) {                                                                        \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                                                   \
            if ((arr)[mid_] < (v))                                                                 \
                lo_ = mid_ + 1;                                                                    \
            else if ((arr)[mid_] > (v))                                                            \
                hi_ = mid_;                                                                        \
            else                                                                                   \
                return (v) == (v);                                                                 \
        }                                                                                          \
        return false;                                                                              \
    } while (0)

static bool in_ints(const aux_t *set, int64_t v)
{
    SORTED_HAS(set->iv, set->n, v);
}

static bool in_nums(const aux_t *set, double v)
{
    SORTED_HAS(set->dv, set->n, v);
}

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

static bool in_strs(const aux_t *set, const char *s, size_t l)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes(set->sv[mid], set->sl[mid], s, l);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* x is one of the set's values: never nil (a nil x is false, as x == v) */
jp_status_t jpx_op_one_of(const step_t *s)
{
    vreg_t *d = s->d, *a = s->a;
    const aux_t *set = &s->x->e->aux[s->in->aux];
    uint8_t *o = d->buf;
    size_t n = s->n;
    if (set->type == JP_TYPE_STRING && jpx_memo_fit(&d->memo, &d->memo_n, &d->memo_for, a->dict))
        return JP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        if (a->nul && a->nul[k]) {
            o[k] = 0;
            continue;
        }
        switch (set->type) {
        case JP_TYPE_STRING: {
            uint32_t code = VS(a)[k];
            if (!d->memo[code]) {
                size_t len;
                const char *str = jp_strdict_get(a->dict, code, &len);
                d->memo[code] = in_strs(set, str, len) ? 2 : 1;
            }
            o[k] = (uint8_t)(d->memo[code] - 1);
            break;
        }
        case JP_TYPE_NUMBER:
            o[k] = in_nums(set, VD(a)[k]);
            break;
        case JP_TYPE_DATE:
            o[k] = in_ints(set, VT(a)[k]);
            break;
        case JP_TYPE_BOOL:
            o[k] = in_ints(set, VB(a)[k]);
            break;
        default:
            o[k] = in_ints(set, VI(a)[k]);
            break;
        }
    }
    d->v = o;
    d->nul = NULL;
    return JP_OK;
}

void jpx_aux_free(aux_t *a)
{
    for (size_t k = 0; a->sv && k < a->n; k++) jp_free(a->sv[k]);
    jp_free(a->sv);
    jp_free(a->sl);
    jp_free(a->iv);
    jp_free(a->dv);
    jp_free(a->pattern);
    memset(a, 0, sizeof *a);
}
