/*
 * jp_suggest.c - the closest name to a misspelt one (see jp_suggest.h).
 *
 * Owns: jp_suggest*, jp_name_distance.  Must never: allocate or keep the
 * names it is given.
 */
#include "jp_suggest.h"

#include <stdint.h>
#include <string.h>

#define MAXCP 64

/* Decode UTF-8 into code points (ASCII lowered); -1 when too long.  Bytes
 * that do not decode count as one code point each. */
static int decode(const char *s, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    int n = 0;
    while (*p) {
        if (n == MAXCP) return -1;
        uint32_t c = *p;
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        for (int k = 1; k < len; k++)
            if ((p[k] & 0xC0) != 0x80) len = 1;
        if (len > 1) {
            c &= 0xFFu >> (len + 1);
            for (int k = 1; k < len; k++) c = (c << 6) | (p[k] & 0x3F);
        } else if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        out[n++] = c;
        p += len;
    }
    return n;
}

long jp_name_distance(const char *a, const char *b)
{
    uint32_t ca[MAXCP], cb[MAXCP];
    int la = decode(a, ca), lb = decode(b, cb);
    if (la < 0 || lb < 0) return 1L << 20;
    /* optimal string alignment: a swap of two neighbours ("vlaue") is one edit */
    static const long big = 1L << 20;
    long d[MAXCP + 1][MAXCP + 1];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            long v = d[i - 1][j - 1] + (ca[i - 1] != cb[j - 1]);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca[i - 1] == cb[j - 2] && ca[i - 2] == cb[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v < big ? v : big;
        }
    return d[la][lb];
}

void jp_suggest_init(jp_suggest_t *s, const char *name)
{
    uint32_t cp[MAXCP];
    int n = decode(name, cp);
    s->name = name;
    s->best = NULL;
    s->dist = 1L << 20;
    s->limit = n < 0 ? 0 : (n + 1) / 3;
    if (s->limit < 1) s->limit = 1;
    if (s->limit > 3) s->limit = 3;
}

void jp_suggest_add(jp_suggest_t *s, const char *cand)
{
    if (!cand || strcmp(cand, s->name) == 0) return;
    long d = jp_name_distance(s->name, cand);
    if (d < s->dist) {
        s->dist = d;
        s->best = cand;
    }
}

const char *jp_suggest_best(const jp_suggest_t *s)
{
    return s->best && s->dist <= s->limit ? s->best : NULL;
}

const char *jp_suggest(const char *name, const char *const *cands, long n)
{
    jp_suggest_t s;
    jp_suggest_init(&s, name);
    for (long i = 0; n < 0 ? cands[i] != NULL : i < n; i++) jp_suggest_add(&s, cands[i]);
    return jp_suggest_best(&s);
}
