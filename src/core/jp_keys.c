/*
 * jp_keys.c - grouping rows by key columns.
 *
 * Small key spaces (dictionary codes, booleans, integers and dates over a
 * short range, and products of those up to a few million cells) go through
 * a dense array indexed by the combined code: one multiply-add per key and
 * row, no hashing.  Other keys go through an open-addressing hash table of
 * group representatives, compared on normalised 64-bit values.
 *
 * Owns: jp_group_rows.  Must never: modify the key columns.
 */
#include "jp_keys.h"

#include <math.h>
#include <string.h>
#include "jp_limit.h"
#include "jp_mem.h"

void jp_groups_free(jp_groups_t *g)
{
    jp_free(g->gid);
    jp_free(g->first);
    memset(g, 0, sizeof *g);
}

uint64_t jp_key_value(const jp_column_t *c, size_t i, bool as_number)
{
    switch (c->type) {
    case JP_TYPE_INT:
        if (as_number) {
            double d = (double)c->v.i[i];
            uint64_t u;
            if (d == 0) d = 0;
            memcpy(&u, &d, sizeof u);
            return u;
        }
        return (uint64_t)c->v.i[i];
    case JP_TYPE_NUMBER: {
        double d = c->v.d[i];
        uint64_t u;
        if (d == 0) d = 0;     /* -0 == 0 */
        if (isnan(d)) d = NAN; /* one NaN */
        memcpy(&u, &d, sizeof u);
        return u;
    }
    case JP_TYPE_BOOL:
        return c->v.b[i];
    case JP_TYPE_DATE:
        return (uint64_t)(uint32_t)c->v.date[i];
    case JP_TYPE_STRING:
        return c->v.s[i];
    case JP_TYPE_PERIOD: {
        const jp_period_t *p = &c->v.p[i];
        uint64_t h = jp_key_mix(p->kind, ((uint64_t)p->from_gran << 8) | p->to_gran);
        h = jp_key_mix(h, p->unit);
        h = jp_key_mix(h, (uint64_t)(uint32_t)p->from);
        h = jp_key_mix(h, (uint64_t)(uint32_t)p->to);
        return jp_key_mix(h, (uint64_t)(uint32_t)p->n);
    }
    default:
        return 0;
    }
}

/* Can the key's values be numbered densely?  Sets the number of codes
 * (including 0 for null) and, for integers and dates, the smallest value. */
static bool narrow_key(const jp_column_t *c, size_t nrows, uint64_t *card, int64_t *base)
{
    const uint8_t *nl = c->nulls;
    *base = 0;
    switch (c->type) {
    case JP_TYPE_STRING:
        *card = (uint64_t)c->dict->count + 1;
        return true;
    case JP_TYPE_BOOL:
        *card = 3;
        return true;
    case JP_TYPE_INT:
    case JP_TYPE_DATE: {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        if (c->type == JP_TYPE_INT) {
            const int64_t *v = c->v.i;
            for (size_t i = 0; i < nrows; i++) {
                if (nl && nl[i]) continue;
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        } else {
            const int32_t *v = c->v.date;
            for (size_t i = 0; i < nrows; i++) {
                if (nl && nl[i]) continue;
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        }
        if (lo > hi) { /* all null */
            *card = 1;
            return true;
        }
        if ((uint64_t)hi - (uint64_t)lo >= ((uint64_t)1 << 24)) return false;
        *card = (uint64_t)hi - (uint64_t)lo + 2;
        *base = lo;
        return true;
    }
    default:
        return false;
    }
}

/* code = code * mul + (this key's code of the row); mul 0: code = key code. */
static void fold_codes(const jp_column_t *c, size_t nrows, int64_t base, uint32_t mul,
                       uint32_t *code)
{
    const uint8_t *nl = c->nulls;
#define FOLD(EXPR)                                                                                 \
    do {                                                                                           \
        if (!mul) {                                                                                \
            if (nl)                                                                                \
                for (size_t i = 0; i < nrows; i++) code[i] = nl[i] ? 0 : (uint32_t)(EXPR);         \
            else                                                                                   \
                for (size_t i = 0; i < nrows; i++) code[i] = (uint32_t)(EXPR);                     \
        } else {                                                                                   \
            if (nl)                                                                                \
                for (size_t i = 0; i < nrows; i++)                                                 \
                    code[i] = code[i] * mul + (nl[i] ? 0 : (uint32_t)(EXPR));                      \
            else                                                                                   \
                for (size_t i = 0; i < nrows; i++) code[i] = code[i] * mul + (uint32_t)(EXPR);     \
        }                                                                                          \
    } while (0)
    switch (c->type) {
    case JP_TYPE_STRING: {
        const uint32_t *s = c->v.s;
        FOLD(s[i] + 1);
        break;
    }
    case JP_TYPE_BOOL: {
        const uint8_t *b = c->v.b;
        FOLD(b[i] + 1u);
        break;
    }
    case JP_TYPE_INT: {
        const int64_t *v = c->v.i;
        FOLD((uint64_t)v[i] - (uint64_t)base + 1);
        break;
    }
    case JP_TYPE_DATE: {
        const int32_t *v = c->v.date;
        FOLD((uint64_t)(int64_t)v[i] - (uint64_t)base + 1);
        break;
    }
    default:
        break;
    }
#undef FOLD
}

static jp_status_t push_group(jp_groups_t *g, size_t *cap, size_t row)
{
    if (g->ngroups == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        size_t *f = jp_realloc_array(g->first, nc, sizeof *f);
        if (!f) return JP_ERR_NOMEM;
        g->first = f;
        *cap = nc;
    }
    if (g->ngroups >= 0xfffffff0u) return JP_ERR_LIMIT;
    g->first[g->ngroups++] = row;
    return JP_OK;
}

static jp_status_t dense_groups(jp_column_t *const *cols, size_t nkeys, size_t nrows,
                                const uint64_t *card, const int64_t *base, uint64_t space,
                                jp_groups_t *g)
{
    uint32_t *code = g->gid; /* combined codes, rewritten in place into groups */
    for (size_t k = 0; k < nkeys; k++)
        fold_codes(cols[k], nrows, base[k], k ? (uint32_t)card[k] : 0, code);
    uint32_t *slot = jp_malloc_array(space ? space : 1, sizeof *slot);
    if (!slot) return JP_ERR_NOMEM;
    memset(slot, 0xff, space * sizeof *slot);
    size_t cap = 0;
    for (size_t i = 0; i < nrows; i++) {
        uint32_t c = code[i];
        uint32_t s = slot[c];
        if (s == UINT32_MAX) {
            s = (uint32_t)g->ngroups;
            if (push_group(g, &cap, i)) {
                jp_free(slot);
                return JP_ERR_NOMEM;
            }
            slot[c] = s;
        }
        code[i] = s;
    }
    jp_free(slot);
    return JP_OK;
}

static jp_status_t hash_groups(jp_column_t *const *cols, size_t nkeys, size_t nrows, uint32_t *gid,
                               jp_groups_t *g)
{
    uint64_t **v = jp_calloc(nkeys, sizeof *v);
    uint64_t *h = jp_malloc_array(nrows ? nrows : 1, sizeof *h);
    uint32_t *slots = NULL;
    uint64_t *ghash = NULL;
    size_t cap = 0, gcap = 0;
    jp_status_t st = JP_ERR_NOMEM;
    if (!v || !h) goto done;
    for (size_t i = 0; i < nrows; i++) h[i] = 0x12345;
    for (size_t k = 0; k < nkeys; k++) {
        const jp_column_t *c = cols[k];
        if (!(v[k] = jp_malloc_array(nrows ? nrows : 1, sizeof **v))) goto done;
        for (size_t i = 0; i < nrows; i++) {
            bool isnull = jp_column_is_null(c, i);
            v[k][i] = isnull ? 0 : jp_key_value(c, i, false);
            h[i] = jp_key_mix(h[i], v[k][i] ^ (isnull ? 0x5bd1e995u : 0));
        }
    }
    size_t mask = 1023;
    slots = jp_calloc(mask + 1, sizeof *slots);
    if (!slots) goto done;
    for (size_t i = 0; i < nrows; i++) {
        if (jp_stop_due(i) && (st = jp_stop_check(NULL))) goto done;
        size_t j = h[i] & mask;
        uint32_t found = UINT32_MAX;
        for (;;) {
            uint32_t s = slots[j];
            if (!s) break;
            s--;
            if (ghash[s] == h[i]) {
                size_t r = g->first[s];
                bool eq = true;
                for (size_t k = 0; k < nkeys && eq; k++) {
                    const jp_column_t *c = cols[k];
                    bool n1 = jp_column_is_null(c, r), n2 = jp_column_is_null(c, i);
                    if (n1 != n2 || v[k][r] != v[k][i])
                        eq = false;
                    else if (!n1 && c->type == JP_TYPE_PERIOD)
                        eq = jp_period_eq(&c->v.p[r], &c->v.p[i]);
                }
                if (eq) {
                    found = s;
                    break;
                }
            }
            j = (j + 1) & mask;
        }
        if (found == UINT32_MAX) {
            found = (uint32_t)g->ngroups;
            if ((st = push_group(g, &cap, i))) goto done;
            st = JP_ERR_NOMEM;
            if (g->ngroups > gcap) {
                size_t nc = gcap ? gcap * 2 : 64;
                uint64_t *gh = jp_realloc_array(ghash, nc, sizeof *gh);
                if (!gh) goto done;
                ghash = gh;
                gcap = nc;
            }
            ghash[found] = h[i];
            slots[j] = found + 1;
            if (g->ngroups * 2 > mask + 1) {
                size_t nm = (mask + 1) * 2 - 1;
                uint32_t *ns = jp_calloc(nm + 1, sizeof *ns);
                if (!ns) goto done;
                for (size_t q = 0; q < g->ngroups; q++) {
                    size_t t = ghash[q] & nm;
                    while (ns[t]) t = (t + 1) & nm;
                    ns[t] = (uint32_t)q + 1;
                }
                jp_free(slots);
                slots = ns;
                mask = nm;
            }
        }
        gid[i] = found;
    }
    st = JP_OK;
done:
    if (v)
        for (size_t k = 0; k < nkeys; k++) jp_free(v[k]);
    jp_free(v);
    jp_free(h);
    jp_free(slots);
    jp_free(ghash);
    return st;
}

jp_status_t jp_group_rows(jp_column_t *const *cols, size_t nkeys, size_t nrows, jp_groups_t *g)
{
    memset(g, 0, sizeof *g);
    g->gid = jp_malloc_array(nrows ? nrows : 1, sizeof *g->gid);
    if (!g->gid) return JP_ERR_NOMEM;
    jp_status_t st;
    if (nkeys == 0) {
        memset(g->gid, 0, nrows * sizeof *g->gid);
        size_t cap = 0;
        if ((st = push_group(g, &cap, 0))) goto fail;
        return JP_OK;
    }
    /* try the dense path: every key narrow, and a small product */
    uint64_t *card = jp_malloc_array(nkeys, sizeof *card);
    int64_t *base = jp_malloc_array(nkeys, sizeof *base);
    if (!card || !base) {
        jp_free(card);
        jp_free(base);
        st = JP_ERR_NOMEM;
        goto fail;
    }
    uint64_t space = 1;
    uint64_t limit = nrows * 2 > ((uint64_t)1 << 16) ? nrows * 2 : ((uint64_t)1 << 16);
    if (limit > ((uint64_t)1 << 24)) limit = (uint64_t)1 << 24;
    bool dense = true;
    for (size_t k = 0; k < nkeys && dense; k++) {
        if (!narrow_key(cols[k], nrows, &card[k], &base[k]))
            dense = false;
        else if ((space *= card[k]) > limit)
            dense = false;
    }
    if (dense)
        st = dense_groups(cols, nkeys, nrows, card, base, space, g);
    else
        st = hash_groups(cols, nkeys, nrows, g->gid, g);
    jp_free(card);
    jp_free(base);
    if (st) goto fail;
    return JP_OK;
fail:
    jp_groups_free(g);
    return st;
}
