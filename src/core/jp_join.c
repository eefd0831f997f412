/*
 * jp_join.c - joins (inner, left, right, full, semi, anti) on one or more
 * keys, whose names may differ on the two sides.
 *
 * The right dataset is indexed: its distinct key tuples, each with the
 * chain of its rows in right order.  When every key is narrow - strings
 * (by the right dictionary's code; a left string is translated once per
 * distinct string), booleans, integers and dates over a short range - and
 * their product is small, the index is a dense table addressed by the
 * combined code: no hashing.  Otherwise it is an open-addressing hash table
 * of normalised 64-bit key values (integer and number keys compare as
 * numbers).  The left rows probe it on every core: each part of the rows
 * notes its rows' tuples and counts its output rows; after a prefix sum
 * each part writes its (left, right) pairs in place.  So the output keeps
 * the left order and, within one left row, the right order; a right join
 * keeps the right order and, within one right row, the left order.  Rows
 * with a null key never match.
 *
 * A join in which every left row finds exactly one right row (a lookup:
 * county codes, a group table joined back) shares the left columns with
 * its input instead of copying them.  When the right keys are distinct
 * and every left row is kept once (a left join, or an inner join in which
 * every left row matched), no (left, right) pairs are made at all: each
 * right column is gathered to one value per tuple and read through the
 * left rows' tuples.  Either index is probed a block of rows at a time, a
 * key at a time over its typed array (period keys, row by row).
 *
 * An inner, left, semi or anti join is a node (jp_join_plan.c) that uses
 * the index and the probe here; over rows in memory jp_join runs it at
 * once.  Right and full joins, which need every left row before the right
 * rows nothing matched, are made here whole.
 *
 * Owns: jp_join, jp_join_from_name, the index and the probe
 * (jp_join_int.h).  Must never: modify either input.
 */
#include <stdio.h>
#include <string.h>
#include "jp_join_int.h"
#include "jp_keys.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_par.h"
#include "jp_plan.h"
#include "jp_verbs.h"

static const char *const how_names[] = {"inner", "left", "anti", "semi", "right", "full"};

bool jp_join_from_name(const char *name, jp_join_how_t *out)
{
    for (int k = 0; k < (int)(sizeof how_names / sizeof how_names[0]); k++)
        if (strcmp(how_names[k], name) == 0) {
            *out = (jp_join_how_t)k;
            return true;
        }
    return false;
}

#define NONE JP_JOIN_NONE

typedef jp_join_index_t index_t;
typedef jp_join_probe_t probe_t;
typedef jp_join_rows_t rows_t;

/* ---- the index of the right rows ---------------------------------------------- */

void jp_join_index_free(index_t *x)
{
    jp_join_index_left_free(x);
    jp_free(x->as_num);
    jp_free(x->base);
    jp_free(x->card);
    jp_free(x->stride);
    jp_free(x->table);
    jp_free(x->tv);
    jp_free(x->th);
    jp_free(x->trow);
    jp_free(x->head);
    jp_free(x->tail);
    jp_free(x->cnt);
    jp_free(x->next);
    jp_free(x->rtup);
}

/* The normalised value of key k at row i of a side; false when it is null
 * or, on the left, a string the right side does not have. */
static inline bool key_val(const index_t *x, size_t k, bool left, size_t i, uint64_t *v)
{
    const jp_column_t *c = left ? x->lc[k] : x->rc[k];
    if (jp_column_is_null(c, i)) return false;
    if (left && x->smap[k]) {
        uint32_t code = x->smap[k][c->v.s[i]];
        if (code == NONE) return false;
        *v = code;
        return true;
    }
    *v = jp_key_value(c, i, x->as_num[k]);
    return true;
}

/* The dense code of a row (false: null, or outside the right's range). */
static inline bool dense_code(const index_t *x, bool left, size_t i, uint64_t *code)
{
    uint64_t at = 0;
    for (size_t k = 0; k < x->nkeys; k++) {
        uint64_t v;
        if (!key_val(x, k, left, i, &v)) return false;
        const jp_column_t *c = left ? x->lc[k] : x->rc[k];
        uint64_t off;
        if (c->type == JP_TYPE_INT || c->type == JP_TYPE_DATE) {
            int64_t s = c->type == JP_TYPE_INT ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
            if (s < x->base[k]) return false;
            off = (uint64_t)(s - x->base[k]);
        } else {
            off = v;
        }
        if (off >= x->card[k]) return false;
        at += off * x->stride[k];
    }
    *code = at;
    return true;
}

static inline uint64_t hash_of(const index_t *x, bool left, size_t i, uint64_t *vals, bool *ok)
{
    uint64_t h = 0x7a3;
    for (size_t k = 0; k < x->nkeys; k++) {
        if (!key_val(x, k, left, i, &vals[k])) {
            *ok = false;
            return 0;
        }
        h = jp_key_mix(h, vals[k]);
    }
    *ok = true;
    return h;
}

static bool periods_equal(const index_t *x, size_t li, bool left, size_t rrow)
{
    for (size_t k = 0; k < x->nkeys; k++) {
        const jp_column_t *c = left ? x->lc[k] : x->rc[k];
        if (c->type == JP_TYPE_PERIOD && !jp_period_eq(&c->v.p[li], &x->rc[k]->v.p[rrow]))
            return false;
    }
    return true;
}

/* The tuple of row i (left or right side), NONE when it has none (for the
 * right side while building: `add` creates it). */
static uint32_t find_tuple(index_t *x, bool left, size_t i, bool add, uint64_t *vals)
{
    if (x->dense) {
        uint64_t code;
        if (!dense_code(x, left, i, &code)) return NONE;
        uint32_t t = x->table[code];
        if (t) return t - 1;
        if (!add) return NONE;
        x->table[code] = (uint32_t)++x->ntup;
        return (uint32_t)(x->ntup - 1);
    }
    bool ok;
    uint64_t h = hash_of(x, left, i, vals, &ok);
    if (!ok) return NONE;
    size_t n = x->nkeys;
    for (size_t j = h & x->mask;; j = (j + 1) & x->mask) {
        uint32_t t = x->table[j];
        if (!t) {
            if (!add) return NONE;
            t = (uint32_t)x->ntup++;
            x->table[j] = t + 1;
            x->th[t] = h;
            x->trow[t] = i;
            memcpy(x->tv + (size_t)t * n, vals, n * sizeof *vals);
            return t;
        }
        t--;
        if (x->th[t] == h && memcmp(x->tv + (size_t)t * n, vals, n * sizeof *vals) == 0 &&
            periods_equal(x, i, left, x->trow[t]))
            return t;
    }
}

/* Can every key be coded densely, with a small product?  Sets base/card. */
static bool plan_dense(index_t *x, size_t nr)
{
    uint64_t prod = 1, limit = (uint64_t)nr * 4 + 65536;
    if (limit > ((uint64_t)1 << 26)) limit = (uint64_t)1 << 26;
    for (size_t k = 0; k < x->nkeys; k++) {
        const jp_column_t *c = x->rc[k];
        x->base[k] = 0;
        if (x->as_num[k]) return false;
        switch (c->type) {
        case JP_TYPE_STRING:
            x->card[k] = c->dict->count ? c->dict->count : 1;
            break;
        case JP_TYPE_BOOL:
            x->card[k] = 2;
            break;
        case JP_TYPE_INT:
        case JP_TYPE_DATE: {
            int64_t lo = INT64_MAX, hi = INT64_MIN;
            for (size_t i = 0; i < nr; i++) {
                if (jp_column_is_null(c, i)) continue;
                int64_t v = c->type == JP_TYPE_INT ? c->v.i[i] : c->v.date[i];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            if (lo > hi) lo = hi = 0;
            if ((uint64_t)hi - (uint64_t)lo >= limit) return false;
            x->base[k] = lo;
            x->card[k] = (uint64_t)(hi - lo) + 1;
            break;
        }
        default:
            return false;
        }
        if (x->card[k] > limit / prod) return false;
        prod *= x->card[k];
    }
    uint64_t s = 1;
    for (size_t k = x->nkeys; k-- > 0;) {
        x->stride[k] = s;
        s *= x->card[k];
    }
    x->table = jp_calloc(prod ? prod : 1, sizeof *x->table);
    return x->table != NULL; /* no room: the hash table, then */
}

jp_status_t jp_join_index_build(index_t *x, size_t nr)
{
    size_t n = x->nkeys;
    if (nr >= NONE) return JP_ERR_LIMIT;
    x->base = jp_calloc(n, sizeof *x->base);
    x->card = jp_calloc(n, sizeof *x->card);
    x->stride = jp_calloc(n, sizeof *x->stride);
    x->head = jp_malloc_array(nr ? nr : 1, sizeof *x->head);
    x->tail = jp_malloc_array(nr ? nr : 1, sizeof *x->tail);
    x->cnt = jp_calloc(nr ? nr : 1, sizeof *x->cnt);
    x->next = jp_malloc_array(nr ? nr : 1, sizeof *x->next);
    x->rtup = jp_malloc_array(nr ? nr : 1, sizeof *x->rtup);
    if (!x->base || !x->card || !x->stride || !x->head || !x->tail || !x->cnt || !x->next ||
        !x->rtup)
        return JP_ERR_NOMEM;
    x->dense = plan_dense(x, nr);
    if (!x->dense) {
        jp_free(x->table);
        size_t slots = 16;
        while (slots < nr * 2) slots *= 2;
        x->mask = slots - 1;
        x->table = jp_calloc(slots, sizeof *x->table);
        x->tv = jp_malloc_array((nr ? nr : 1) * n, sizeof *x->tv);
        x->th = jp_malloc_array(nr ? nr : 1, sizeof *x->th);
        x->trow = jp_malloc_array(nr ? nr : 1, sizeof *x->trow);
        if (!x->table || !x->tv || !x->th || !x->trow) return JP_ERR_NOMEM;
    }
    uint64_t *vals = jp_malloc_array(n, sizeof *vals);
    if (!vals) return JP_ERR_NOMEM;
    for (size_t i = 0; i < nr; i++) {
        x->next[i] = JP_NO_ROW;
        uint32_t t = find_tuple(x, false, i, true, vals);
        x->rtup[i] = t;
        if (t == NONE) continue;
        if (x->cnt[t]++ == 0)
            x->head[t] = i;
        else
            x->next[x->tail[t]] = i;
        x->tail[t] = i;
        if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
    }
    jp_free(vals);
    return JP_OK;
}

jp_status_t jp_join_index_left(index_t *x)
{
    size_t n = x->nkeys;
    if (!(x->smap = jp_calloc(n, sizeof *x->smap))) return JP_ERR_NOMEM;
    /* left strings as right codes, once per distinct string */
    for (size_t k = 0; k < n; k++) {
        const jp_column_t *l = x->lc[k], *r = x->rc[k];
        if (l->type != JP_TYPE_STRING || l->dict == r->dict) continue;
        size_t dn = l->dict->count;
        if (!(x->smap[k] = jp_malloc_array(dn ? dn : 1, sizeof **x->smap))) return JP_ERR_NOMEM;
        for (uint32_t c = 0; c < dn; c++) {
            size_t len;
            const char *s = jp_strdict_get(l->dict, c, &len);
            uint32_t rc;
            x->smap[k][c] = jp_strdict_find(r->dict, s, len, &rc) ? rc : NONE;
        }
    }
    return JP_OK;
}

void jp_join_index_left_free(index_t *x)
{
    if (x->smap)
        for (size_t k = 0; k < x->nkeys; k++) jp_free(x->smap[k]);
    jp_free(x->smap);
    x->smap = NULL;
}

/* ---- probing ---------------------------------------------------------------------- */

/* Output rows a left row with tuple t gives. */
static inline size_t rows_for(const probe_t *p, uint32_t t)
{
    switch (p->how) {
    case JP_JOIN_INNER:
    case JP_JOIN_RIGHT:
        return t == NONE ? 0 : p->x->cnt[t];
    case JP_JOIN_LEFT:
    case JP_JOIN_FULL:
        return t == NONE ? 1 : p->x->cnt[t];
    case JP_JOIN_SEMI:
        return t != NONE;
    default: /* anti */
        return t == NONE;
    }
}

/*
 * The dense index's tuples of left rows [from, from + n), n <= PROBE_BLOCK,
 * a key at a time: each key adds its offset times its stride to the rows'
 * codes in a tight loop over its typed array, and marks rows that cannot
 * match (a null, a string the right does not have, a value outside the
 * right's range); then one table look-up per row.
 */
#define PROBE_BLOCK 2048

static void dense_block(const index_t *x, size_t from, size_t n, uint32_t *tup)
{
    uint64_t code[PROBE_BLOCK];
    uint8_t bad[PROBE_BLOCK];
    memset(code, 0, n * sizeof *code);
    memset(bad, 0, n);
    for (size_t k = 0; k < x->nkeys; k++) {
        const jp_column_t *c = x->lc[k];
        const uint64_t card = x->card[k], stride = x->stride[k];
        switch (c->type) {
        case JP_TYPE_STRING: {
            const uint32_t *v = c->v.s + from, *map = x->smap[k];
            if (map) {
                const uint32_t nmap = c->dict->count;
                for (size_t j = 0; j < n; j++) {
                    uint64_t o = v[j] < nmap ? map[v[j]] : NONE; /* NONE is past card */
                    bad[j] |= o >= card;
                    code[j] += o * stride;
                }
            } else {
                for (size_t j = 0; j < n; j++) {
                    bad[j] |= v[j] >= card;
                    code[j] += (uint64_t)v[j] * stride;
                }
            }
            break;
        }
        case JP_TYPE_INT: {
            const int64_t *v = c->v.i + from;
            const uint64_t base = (uint64_t)x->base[k];
            for (size_t j = 0; j < n; j++) {
                uint64_t o = (uint64_t)v[j] - base; /* below the base wraps past card */
                bad[j] |= o >= card;
                code[j] += o * stride;
            }
            break;
        }
        case JP_TYPE_DATE: {
            const int32_t *v = c->v.date + from;
            const uint64_t base = (uint64_t)x->base[k];
            for (size_t j = 0; j < n; j++) {
                uint64_t o = (uint64_t)(int64_t)v[j] - base;
                bad[j] |= o >= card;
                code[j] += o * stride;
            }
            break;
        }
        default: { /* boolean */
            const uint8_t *v = c->v.b + from;
            for (size_t j = 0; j < n; j++) {
                bad[j] |= v[j] > 1;
                code[j] += (uint64_t)v[j] * stride;
            }
        }
        }
        if (c->nulls)
            for (size_t j = 0; j < n; j++) bad[j] |= c->nulls[from + j];
    }
    for (size_t j = 0; j < n; j++) {
        uint32_t t = x->table[bad[j] ? 0 : code[j]] - 1; /* an empty slot (0) is NONE */
        tup[j] = bad[j] ? NONE : t;
    }
}

/* Normalised values (jp_key_value's, or right codes for strings of another
 * dictionary) of key column c at rows [from, from + n) into v, marking
 * rows that cannot match. */
static void key_block(const index_t *x, size_t k, size_t from, size_t n, uint64_t *v, uint8_t *bad)
{
    const jp_column_t *c = x->lc[k];
    switch (c->type) {
    case JP_TYPE_STRING: {
        const uint32_t *s = c->v.s + from, *map = x->smap[k];
        if (map) {
            const uint32_t nmap = c->dict->count;
            for (size_t j = 0; j < n; j++) {
                uint32_t o = s[j] < nmap ? map[s[j]] : NONE;
                bad[j] |= o == NONE;
                v[j] = o;
            }
        } else {
            for (size_t j = 0; j < n; j++) v[j] = s[j];
        }
        break;
    }
    case JP_TYPE_INT:
        if (x->as_num[k]) /* against numbers: as doubles */
            for (size_t j = 0; j < n; j++) v[j] = jp_key_value(c, from + j, true);
        else
            memcpy(v, c->v.i + from, n * sizeof *v);
        break;
    case JP_TYPE_NUMBER:
        for (size_t j = 0; j < n; j++) v[j] = jp_key_value(c, from + j, false);
        break;
    case JP_TYPE_DATE:
        for (size_t j = 0; j < n; j++) v[j] = (uint64_t)(uint32_t)c->v.date[from + j];
        break;
    default: /* boolean */
        for (size_t j = 0; j < n; j++) v[j] = c->v.b[from + j];
    }
    if (c->nulls)
        for (size_t j = 0; j < n; j++) bad[j] |= c->nulls[from + j];
}

/* The hash index's tuples of left rows [from, from + n), n <= PROBE_BLOCK,
 * no key a period: the rows' values and hashes a key at a time, then one
 * probe per row comparing the values themselves.  vals: nkeys *
 * PROBE_BLOCK scratch. */
static void hash_block(const index_t *x, size_t from, size_t n, uint32_t *tup, uint64_t *vals)
{
    uint64_t h[PROBE_BLOCK];
    uint8_t bad[PROBE_BLOCK];
    const size_t nk = x->nkeys;
    memset(bad, 0, n);
    for (size_t j = 0; j < n; j++) h[j] = 0x7a3;
    for (size_t k = 0; k < nk; k++) {
        uint64_t *v = vals + k * PROBE_BLOCK;
        key_block(x, k, from, n, v, bad);
        for (size_t j = 0; j < n; j++) h[j] = jp_key_mix(h[j], v[j]);
    }
    for (size_t j = 0; j < n; j++) {
        uint32_t found = NONE;
        for (size_t s = h[j] & x->mask; !bad[j]; s = (s + 1) & x->mask) {
            uint32_t t = x->table[s];
            if (!t) break;
            t--;
            if (x->th[t] != h[j]) continue;
            size_t k = 0;
            while (k < nk && x->tv[(size_t)t * nk + k] == vals[k * PROBE_BLOCK + j]) k++;
            if (k == nk) {
                found = t;
                break;
            }
        }
        tup[j] = found;
    }
}

static bool has_period_key(const index_t *x)
{
    for (size_t k = 0; k < x->nkeys; k++)
        if (x->lc[k]->type == JP_TYPE_PERIOD) return true;
    return false;
}

static void probe_part(void *ctx, int k, int parts)
{
    probe_t *p = ctx;
    size_t from = p->nl * (size_t)k / (size_t)parts, to = p->nl * (size_t)(k + 1) / (size_t)parts;
    if (p->x->dense || !has_period_key(p->x)) {
        uint64_t *vals = NULL;
        if (!p->x->dense && !(vals = jp_malloc_array(p->x->nkeys * PROBE_BLOCK, sizeof *vals))) {
            p->nomem = true;
            return;
        }
        size_t c = 0, h = 0;
        for (size_t i = from; i < to; i += PROBE_BLOCK) {
            size_t n = to - i < PROBE_BLOCK ? to - i : PROBE_BLOCK;
            if (vals)
                hash_block(p->x, i, n, p->ltup + i, vals);
            else
                dense_block(p->x, i, n, p->ltup + i);
            for (size_t j = i; j < i + n; j++) {
                c += rows_for(p, p->ltup[j]);
                h += p->ltup[j] != NONE;
            }
            if (((i / PROBE_BLOCK) & 31) == 31 && jp_stop_pending()) break;
        }
        p->count[k] = c;
        p->hits[k] = h;
        jp_free(vals);
        return;
    }
    uint64_t vals[64];
    uint64_t *v = p->x->nkeys <= 64 ? vals : jp_malloc_array(p->x->nkeys, sizeof *v);
    if (!v) {
        p->nomem = true;
        return;
    }
    size_t c = 0, h = 0;
    for (size_t i = from; i < to; i++) {
        uint32_t t = find_tuple(p->x, true, i, false, v);
        p->ltup[i] = t;
        c += rows_for(p, t);
        h += t != NONE;
        if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
    }
    p->count[k] = c;
    p->hits[k] = h;
    if (v != vals) jp_free(v);
}

static void fill_part(void *ctx, int k, int parts)
{
    probe_t *p = ctx;
    size_t from = p->nl * (size_t)k / (size_t)parts, to = p->nl * (size_t)(k + 1) / (size_t)parts;
    size_t o = p->at[k];
    const index_t *x = p->x;
    for (size_t i = from; i < to; i++) {
        uint32_t t = p->ltup[i];
        switch (p->how) {
        case JP_JOIN_SEMI:
            if (t != NONE) p->lo[o++] = i;
            break;
        case JP_JOIN_ANTI:
            if (t == NONE) p->lo[o++] = i;
            break;
        default:
            if (t == NONE) {
                if (p->how == JP_JOIN_LEFT || p->how == JP_JOIN_FULL) {
                    p->lo[o] = i;
                    p->ro[o++] = JP_NO_ROW;
                }
                break;
            }
            for (size_t r = x->head[t]; r != JP_NO_ROW; r = x->next[r]) {
                p->lo[o] = i;
                p->ro[o++] = r;
            }
        }
    }
}

/* ---- the output -------------------------------------------------------------------- */

/* Rows of c, JP_NO_ROW giving nulls; on all cores when none is missing. */
jp_column_t *jp_join_gather_rows(jp_column_t *c, const size_t *rows, size_t n, bool missing)
{
    if (missing) return jp_column_gather(c, rows, n);
    jp_column_t *out;
    return jp_plan_gather_cols(&c, &out, 1, rows, n) ? NULL : out;
}

/* Does each right tuple have exactly one right row (a lookup table)? */
static bool right_unique(const index_t *x, size_t nr)
{
    size_t keyed = 0;
    for (size_t r = 0; r < nr; r++) keyed += x->rtup[r] != NONE;
    return keyed == x->ntup;
}

/* Gathering a right column by the left rows' tuples: per[min(tup, last)]. */
typedef struct tjob {
    const jp_column_t *per;
    jp_column_t *dst;
    const uint32_t *tup;
    uint32_t last;
    size_t n;
} tjob_t;

static void tuple_part(void *ctx, int k, int parts)
{
    const tjob_t *j = ctx;
    size_t from = j->n * (size_t)k / (size_t)parts, to = j->n * (size_t)(k + 1) / (size_t)parts;
    const uint32_t *t = j->tup, last = j->last;
    const jp_column_t *s = j->per;
    jp_column_t *d = j->dst;
#define AT(q) (t[q] < last ? t[q] : last)
    size_t w = jp_type_width(s->type);
    switch (w) {
    case 8: {
        const uint64_t *a = s->v.raw;
        uint64_t *b = d->v.raw;
        for (size_t q = from; q < to; q++) b[q] = a[AT(q)];
        break;
    }
    case 4: {
        const uint32_t *a = s->v.raw;
        uint32_t *b = d->v.raw;
        for (size_t q = from; q < to; q++) b[q] = a[AT(q)];
        break;
    }
    case 1: {
        const uint8_t *a = s->v.raw;
        uint8_t *b = d->v.raw;
        for (size_t q = from; q < to; q++) b[q] = a[AT(q)];
        break;
    }
    default:
        for (size_t q = from; q < to; q++)
            memcpy((char *)d->v.raw + q * w, (const char *)s->v.raw + (size_t)AT(q) * w, w);
    }
    if (s->nulls)
        for (size_t q = from; q < to; q++) d->nulls[q] = s->nulls[AT(q)];
    if (s->quals)
        for (size_t q = from; q < to; q++) d->quals[q] = s->quals[AT(q)];
#undef AT
}

/* A lookup join's right column: at each left row, the value of the one
 * right row of its tuple, null where it has none (missing: some have
 * none).  Gathered first to one value per tuple, so the rows read a small
 * array, on all cores, with no per-row index of right rows. */
jp_column_t *jp_join_gather_tuples(jp_column_t *c, const index_t *x, const uint32_t *ltup, size_t n,
                                   bool missing)
{
    size_t nt = x->ntup;
    if (nt > n) {
        /* more tuples than rows (a batch of a stream against a large
           table): each row's one right row, read directly */
        size_t *rows = jp_malloc_array(n ? n : 1, sizeof *rows);
        if (!rows) return NULL;
        for (size_t q = 0; q < n; q++) rows[q] = ltup[q] == NONE ? JP_NO_ROW : x->head[ltup[q]];
        jp_column_t *out = jp_join_gather_rows(c, rows, n, missing);
        jp_free(rows);
        return out;
    }
    size_t *idx = jp_malloc_array(nt + 1, sizeof *idx);
    if (!idx) return NULL;
    if (nt) memcpy(idx, x->head, nt * sizeof *idx);
    idx[nt] = JP_NO_ROW; /* where NONE lands */
    jp_column_t *per = jp_column_gather(c, idx, nt + missing);
    jp_free(idx);
    if (!per) return NULL;
    jp_column_t *out = c->type == JP_TYPE_STRING ? jp_column_new_with_dict(c->dict, n ? n : 1)
                                                 : jp_column_new(c->type, n ? n : 1);
    if (!out || (per->nulls && jp_column_alloc_nulls(out)) ||
        (per->quals && jp_column_alloc_quals(out)) || jp_column_set_len(out, n)) {
        jp_column_unref(out);
        jp_column_unref(per);
        return NULL;
    }
    tjob_t j = {per, out, ltup, (uint32_t)nt, n};
    jp_par_run(jp_par_parts(n, (size_t)1 << 19), tuple_part, &j);
    jp_column_unref(per);
    return out;
}

/* A key field of a right or full join: the left's value, or the right's
 * where the row has no left side. */
static jp_column_t *coalesce_key(const jp_column_t *l, const size_t *lo, const jp_column_t *r,
                                 const size_t *ro, size_t n, jp_error_t *err)
{
    jp_type_t t = l->type == r->type ? l->type : JP_TYPE_NUMBER; /* integer with number */
    jp_column_t *out = jp_column_new(t, n ? n : 1);
    if (!out) return NULL;
    jp_status_t st = JP_OK;
    for (size_t q = 0; q < n && !st; q++) {
        jp_value_t v;
        if (lo[q] != JP_NO_ROW)
            jp_column_get(l, lo[q], &v);
        else
            jp_column_get(r, ro[q], &v);
        if (!v.is_null && t == JP_TYPE_NUMBER && v.type == JP_TYPE_INT) {
            v.u.d = (double)v.u.i;
            v.type = JP_TYPE_NUMBER;
        }
        st = jp_column_push_value(out, &v, err);
    }
    if (st) {
        jp_column_unref(out);
        return NULL;
    }
    return out;
}

/* The pairs of a right join: right order, and left order within a right
 * row; right rows without a match once, with no left row. */
static jp_status_t right_pairs(const index_t *x, const uint32_t *ltup, size_t nl, size_t nr,
                               size_t **lo, size_t **ro, size_t *n)
{
    size_t nt = x->ntup;
    size_t *cntl = jp_calloc(nt + 1, sizeof *cntl), *start = NULL, *lrows = NULL;
    jp_status_t st = JP_ERR_NOMEM;
    if (!cntl) return st;
    for (size_t i = 0; i < nl; i++)
        if (ltup[i] != NONE) cntl[ltup[i]]++;
    /* left rows grouped by tuple, in left order */
    start = jp_malloc_array(nt + 1, sizeof *start);
    size_t sum = 0;
    if (!start) goto done;
    for (size_t t = 0; t < nt; t++) {
        start[t] = sum;
        sum += cntl[t];
    }
    start[nt] = sum;
    if (!(lrows = jp_malloc_array(sum ? sum : 1, sizeof *lrows))) goto done;
    {
        size_t *pos = jp_malloc_array(nt + 1, sizeof *pos);
        if (!pos) goto done;
        memcpy(pos, start, (nt + 1) * sizeof *pos);
        for (size_t i = 0; i < nl; i++)
            if (ltup[i] != NONE) lrows[pos[ltup[i]]++] = i;
        jp_free(pos);
    }
    size_t total = 0;
    for (size_t r = 0; r < nr; r++) {
        uint32_t t = x->rtup[r];
        total += t == NONE || !cntl[t] ? 1 : cntl[t];
    }
    *lo = jp_malloc_array(total ? total : 1, sizeof **lo);
    *ro = jp_malloc_array(total ? total : 1, sizeof **ro);
    if (!*lo || !*ro) goto done;
    size_t o = 0;
    for (size_t r = 0; r < nr; r++) {
        uint32_t t = x->rtup[r];
        if (t == NONE || !cntl[t]) {
            (*lo)[o] = JP_NO_ROW;
            (*ro)[o++] = r;
            continue;
        }
        for (size_t q = start[t]; q < start[t + 1]; q++) {
            (*lo)[o] = lrows[q];
            (*ro)[o++] = r;
        }
    }
    *n = total;
    st = JP_OK;
done:
    jp_free(cntl);
    jp_free(start);
    jp_free(lrows);
    return st;
}

/* A full join's right rows that no left row matched, appended in right order. */
static jp_status_t full_rest(const index_t *x, const uint32_t *ltup, size_t nl, size_t nr,
                             size_t **lo, size_t **ro, size_t *n)
{
    uint8_t *hit = jp_calloc(x->ntup + 1, 1);
    if (!hit) return JP_ERR_NOMEM;
    for (size_t i = 0; i < nl; i++)
        if (ltup[i] != NONE) hit[ltup[i]] = 1;
    size_t extra = 0;
    for (size_t r = 0; r < nr; r++) extra += x->rtup[r] == NONE || !hit[x->rtup[r]];
    size_t *a = jp_realloc_array(*lo, *n + extra + 1, sizeof *a);
    if (a) *lo = a;
    size_t *b = a ? jp_realloc_array(*ro, *n + extra + 1, sizeof *b) : NULL;
    if (b) *ro = b;
    if (!a || !b) {
        jp_free(hit);
        return JP_ERR_NOMEM;
    }
    for (size_t r = 0; r < nr; r++)
        if (x->rtup[r] == NONE || !hit[x->rtup[r]]) {
            (*lo)[*n] = JP_NO_ROW;
            (*ro)[(*n)++] = r;
        }
    jp_free(hit);
    return JP_OK;
}

/* Row lines of the left rows of the output (0, unknown, for right-only rows). */
jp_status_t jp_join_origin(jp_dataset_t *out, const jp_dataset_t *left, const size_t *lo, size_t n,
                           bool identity)
{
    if (!left->origin) return JP_OK;
    if (identity) {
        jp_plan_copy_origin(out, left);
        return JP_OK;
    }
    jp_column_t *lines = NULL;
    if (left->lines) {
        if (!(lines = jp_column_gather(left->lines, lo, n))) return JP_ERR_NOMEM;
    } else if (left->first_line) {
        if (!(lines = jp_column_new(JP_TYPE_INT, n ? n : 1))) return JP_ERR_NOMEM;
        for (size_t q = 0; q < n; q++)
            lines->v.i[q] = lo[q] == JP_NO_ROW ? 0 : left->first_line + (long)lo[q];
        jp_column_set_len(lines, n);
    }
    jp_dataset_set_origin(out, left->origin, lines);
    return JP_OK;
}

static jp_status_t nomem(jp_error_t *err)
{
    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
}

static const char build_advice[] =
    ", or give join the smaller dataset on the right, with fewer fields";

jp_status_t jp_join_build_nomem(const jp_dataset_t *right, jp_error_t *err)
{
    size_t nf = right->schema.n_fields;
    return jp_mem_explain(err, "join", jp_dataset_rows_known(right), build_advice,
                          "the build side, the right dataset's %zu field%s", nf,
                          nf == 1 ? "" : "s");
}

jp_status_t jp_join_index_nomem(size_t nr, jp_error_t *err)
{
    nomem(err);
    return jp_mem_explain(err, "join", (long)nr, build_advice,
                          "the index of the build side, the right dataset");
}

/* The key types must agree (integer and number do); an error names both. */
jp_status_t jp_join_check_type(jp_type_t a, jp_type_t b, const char *lk, const char *rk,
                               bool *as_num, jp_error_t *err)
{
    *as_num = false;
    if (a == b) return JP_OK;
    if (jp_type_is_numeric(a) && jp_type_is_numeric(b)) {
        *as_num = true;
        return JP_OK;
    }
    if (strcmp(lk, rk) == 0)
        jp_error_set(err, JP_ERR_TYPE,
                     "join: key '%s' is %s in the left dataset but %s in the right (convert "
                     "one side first, e.g. with mutate)",
                     lk, jp_type_name(a), jp_type_name(b));
    else
        jp_error_set(err, JP_ERR_TYPE,
                     "join: key '%s' is %s in the left dataset but key '%s' is %s in the right "
                     "(convert one side first, e.g. with mutate)",
                     lk, jp_type_name(a), rk, jp_type_name(b));
    jp_error_field(err, lk);
    return JP_ERR_TYPE;
}

jp_status_t jp_join_check_types(index_t *x, const char *const *lk, const char *const *rk,
                                jp_error_t *err)
{
    for (size_t k = 0; k < x->nkeys; k++) {
        jp_status_t st =
            jp_join_check_type(x->lc[k]->type, x->rc[k]->type, lk[k], rk[k], &x->as_num[k], err);
        if (st) return st;
    }
    return JP_OK;
}

/* The key columns of both sides, li/ri their fields; an error names a
 * missing field or keys whose types disagree. */
static jp_status_t resolve_keys(index_t *x, jp_dataset_t *left, jp_dataset_t *right,
                                const char *const *lk, const char *const *rk, long *li, long *ri,
                                jp_error_t *err)
{
    jp_status_t st;
    for (size_t k = 0; k < x->nkeys; k++) {
        if ((st = jp_dataset_lookup(left, lk[k], "join", &li[k], err))) return st;
        if ((st = jp_dataset_lookup(right, rk[k], "join (right dataset)", &ri[k], err))) return st;
    }
    /* a right or full join (the only ones made here) holds both sides */
    if ((st = jp_dataset_need_all(left, err)))
        return jp_mem_explain(err, "join", jp_dataset_rows_known(left),
                              ", or join inner or left, which streams the left rows",
                              "both sides of a right or full join, the left dataset's %zu field%s "
                              "first",
                              left->schema.n_fields, left->schema.n_fields == 1 ? "" : "s");
    if ((st = jp_dataset_need_all(right, err))) return jp_join_build_nomem(right, err);
    for (size_t k = 0; k < x->nkeys; k++) {
        x->lc[k] = left->cols[li[k]];
        x->rc[k] = right->cols[ri[k]];
    }
    return jp_join_check_types(x, lk, rk, err);
}

/* The index of the right rows; an error says why it could not be made. */
static jp_status_t build_right(index_t *x, size_t nr, jp_error_t *err)
{
    jp_status_t st = jp_join_index_build(x, nr);
    if (st == JP_ERR_LIMIT)
        return jp_error_set(err, st, "join: the right dataset has too many rows (%zu)", nr);
    if (st) return jp_join_index_nomem(nr, err);
    return jp_stop_check(err);
}

jp_status_t jp_join_probe(index_t *x, probe_t *p, size_t nl, jp_error_t *err)
{
    if (!x->smap && jp_join_index_left(x)) return nomem(err); /* a node brings its own */
    p->parts = jp_par_parts(nl, (size_t)1 << 16);
    p->x = x;
    p->nl = nl;
    p->ltup = jp_malloc_array(nl ? nl : 1, sizeof *p->ltup);
    p->count = jp_calloc((size_t)p->parts, sizeof *p->count);
    p->hits = jp_calloc((size_t)p->parts, sizeof *p->hits);
    p->at = jp_calloc((size_t)p->parts, sizeof *p->at);
    if (!p->ltup || !p->count || !p->hits || !p->at) return nomem(err);
    jp_par_run(p->parts, probe_part, p);
    if (p->nomem) return nomem(err);
    return jp_stop_check(err);
}

/* The output rows of a join of nr right rows, from the probe p. */
jp_status_t jp_join_output_rows(probe_t *p, const index_t *x, size_t nr, rows_t *o)
{
    jp_join_how_t how = p->how;
    size_t nl = p->nl, hits = 0;
    for (int k = 0; k < p->parts; k++) hits += p->hits[k];
    o->lookup =
        (how == JP_JOIN_LEFT || (how == JP_JOIN_INNER && hits == nl)) && right_unique(x, nr);
    if (o->lookup) {
        o->n = nl;
        o->identity = true;
        o->rmissing = hits < nl;
        return JP_OK;
    }
    if (how == JP_JOIN_RIGHT) {
        if (right_pairs(x, p->ltup, nl, nr, &o->lo, &o->ro, &o->n)) return JP_ERR_NOMEM;
    } else {
        bool pairs = how != JP_JOIN_SEMI && how != JP_JOIN_ANTI;
        for (int k = 0; k < p->parts; k++) {
            p->at[k] = o->n;
            o->n += p->count[k];
        }
        o->lo = jp_malloc_array(o->n ? o->n : 1, sizeof *o->lo);
        o->ro = pairs ? jp_malloc_array(o->n ? o->n : 1, sizeof *o->ro) : NULL;
        if (!o->lo || (pairs && !o->ro)) return JP_ERR_NOMEM;
        p->lo = o->lo;
        p->ro = o->ro;
        jp_par_run(p->parts, fill_part, p);
        if (how == JP_JOIN_FULL && full_rest(x, p->ltup, nl, nr, &o->lo, &o->ro, &o->n))
            return JP_ERR_NOMEM;
    }
    o->identity = o->n == nl;
    for (size_t q = 0; q < o->n && (o->identity || !o->lmissing); q++) {
        if (o->lo[q] == JP_NO_ROW) o->lmissing = true;
        if (o->lo[q] != q) o->identity = false;
    }
    for (size_t q = 0; o->ro && q < o->n && !o->rmissing; q++) o->rmissing = o->ro[q] == JP_NO_ROW;
    return JP_OK;
}

/* The left's fields, shared when the rows are the left's own, in order; a
 * key field of a right or full join takes the right's value where the row
 * has no left side. */
static jp_status_t add_left_fields(jp_dataset_t *out, const jp_dataset_t *left, const long *li,
                                   const index_t *x, jp_join_how_t how, const rows_t *o,
                                   jp_error_t *err)
{
    bool coalesce = how == JP_JOIN_RIGHT || how == JP_JOIN_FULL;
    for (size_t f = 0; f < left->schema.n_fields; f++) {
        long key = -1;
        for (size_t k = 0; k < x->nkeys; k++)
            if (li[k] == (long)f) key = (long)k;
        jp_column_t *c;
        if (o->identity)
            c = jp_column_ref(left->cols[f]);
        else if (coalesce && key >= 0 && o->lmissing)
            c = coalesce_key(left->cols[f], o->lo, x->rc[key], o->ro, o->n, err);
        else
            c = jp_join_gather_rows(left->cols[f], o->lo, o->n, o->lmissing);
        if (!c) /* coalesce_key has said why */
            return err && err->code == JP_ERR_TYPE ? JP_ERR_TYPE : nomem(err);
        out->cols[f] = c;
        out->schema.fields[f].type = c->type;
    }
    out->nrows = o->n;
    if (jp_join_origin(out, left, o->lo, o->n, o->identity)) return nomem(err);
    return JP_OK;
}

/* fd's name with `suffix` appended until no field of out has it. */
jp_status_t jp_join_unique_name(const jp_dataset_t *out, jp_field_t *fd, const char *suffix)
{
    while (jp_dataset_find(out, fd->name) >= 0) {
        size_t ln = strlen(fd->name) + strlen(suffix) + 1;
        char *nm = jp_malloc(ln);
        if (!nm) return JP_ERR_NOMEM;
        snprintf(nm, ln, "%s%s", fd->name, suffix);
        jp_free(fd->name);
        fd->name = nm;
    }
    return JP_OK;
}

/* The right's fields other than its keys, a name the left has taking the
 * suffix; nulls where a row has no right side. */
static jp_status_t add_right_fields(jp_dataset_t *out, const jp_dataset_t *right, const long *ri,
                                    const index_t *x, const uint32_t *ltup, const rows_t *o,
                                    const char *suffix, jp_error_t *err)
{
    for (size_t f = 0; f < right->schema.n_fields; f++) {
        bool is_key = false;
        for (size_t k = 0; k < x->nkeys; k++) is_key |= ri[k] == (long)f;
        if (is_key) continue;
        jp_field_t fd;
        if (jp_field_copy(&fd, &right->schema.fields[f])) return nomem(err);
        jp_column_t *c = NULL;
        if (!jp_join_unique_name(out, &fd, suffix))
            c = o->lookup ? jp_join_gather_tuples(right->cols[f], x, ltup, o->n, o->rmissing)
                          : jp_join_gather_rows(right->cols[f], o->ro, o->n, o->rmissing);
        if (!c) {
            jp_field_free(&fd);
            return nomem(err);
        }
        jp_status_t st = jp_dataset_add_column(out, &fd, c, err);
        jp_field_free(&fd);
        if (st) return st;
    }
    return JP_OK;
}

void jp_join_probe_free(probe_t *p)
{
    jp_free(p->ltup);
    jp_free(p->count);
    jp_free(p->hits);
    jp_free(p->at);
    memset(p, 0, sizeof *p);
}

void jp_join_rows_free(rows_t *o)
{
    jp_free(o->lo);
    jp_free(o->ro);
    memset(o, 0, sizeof *o);
}

static jp_dataset_t *join(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                          const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                          const char *suffix, bool defer, jp_error_t *err);

jp_dataset_t *jp_join(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                      const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                      const char *suffix, jp_error_t *err)
{
    return join(left, right, left_keys, right_keys, nkeys, how, suffix, false, err);
}

jp_dataset_t *jp_join_lazy(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                           const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                           const char *suffix, jp_error_t *err)
{
    return join(left, right, left_keys, right_keys, nkeys, how, suffix, true, err);
}

static jp_dataset_t *join(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                          const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                          const char *suffix, bool defer, jp_error_t *err)
{
    if (!right_keys) right_keys = left_keys;
    if (!suffix) suffix = "_right";
    if (nkeys == 0) {
        jp_error_set(err, JP_ERR_ARG, "join: no key fields");
        return NULL;
    }
    if ((int)how < 0 || how > JP_JOIN_FULL) {
        jp_error_set(err, JP_ERR_ARG, "join: unknown kind of join");
        return NULL;
    }
    if (how != JP_JOIN_RIGHT && how != JP_JOIN_FULL) {
        /* a node: it waits for a consumer, which takes the columns it
           needs or streams the left rows through what follows; over rows
           in memory jp_join runs it now */
        jp_dataset_t *node =
            jp_join_plan(left, right, left_keys, right_keys, nkeys, how, suffix, err);
        if (node && !defer && !left->lazy && jp_dataset_need_all(node, err)) {
            jp_dataset_unref(node);
            return NULL;
        }
        return node;
    }
    index_t x;
    memset(&x, 0, sizeof x);
    x.nkeys = nkeys;
    long *li = jp_malloc_array(nkeys, sizeof *li), *ri = jp_malloc_array(nkeys, sizeof *ri);
    x.lc = jp_malloc_array(nkeys, sizeof *x.lc);
    x.rc = jp_malloc_array(nkeys, sizeof *x.rc);
    x.as_num = jp_calloc(nkeys, sizeof *x.as_num);
    probe_t p;
    memset(&p, 0, sizeof p);
    p.how = how;
    rows_t o;
    memset(&o, 0, sizeof o);
    jp_dataset_t *out = NULL;
    if (!li || !ri || !x.lc || !x.rc || !x.as_num) {
        nomem(err);
        goto done;
    }
    if (resolve_keys(&x, left, right, left_keys, right_keys, li, ri, err) ||
        build_right(&x, right->nrows, err) || jp_join_probe(&x, &p, left->nrows, err))
        goto done;
    if (jp_join_output_rows(&p, &x, right->nrows, &o)) {
        nomem(err);
        goto done;
    }
    if (!(out = jp_dataset_new_like(left, true, err))) goto done;
    if (add_left_fields(out, left, li, &x, how, &o, err) ||
        (how != JP_JOIN_SEMI && how != JP_JOIN_ANTI &&
         add_right_fields(out, right, ri, &x, p.ltup, &o, suffix, err))) {
        jp_dataset_unref(out);
        out = NULL;
    }
done:
    jp_join_index_free(&x);
    jp_free(x.lc);
    jp_free(x.rc);
    jp_free(li);
    jp_free(ri);
    jp_join_probe_free(&p);
    jp_join_rows_free(&o);
    return out;
}
