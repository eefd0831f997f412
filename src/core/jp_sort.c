/*
 * jp_sort.c - stable multi-key sorting of datasets.
 *
 * Keys are sorted from the last to the first, each by a stable pass (LSD
 * order), which gives the multi-key order.  A pass splits the rows into
 * values, NaN and nulls (kept in that order whatever the direction), and
 * radix-sorts the values by a 64-bit key that orders like the value:
 * integers with the sign bit flipped, doubles by their IEEE bits, strings
 * by their rank in byte order (jp_strdict_ranks), periods by rank.
 *
 * Owns: jp_sort, jp_sort_order.  Must never: modify its input.
 */
#include <math.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_verbs.h"

typedef struct kv {
    uint64_t k;
    size_t v;
} kv_t;

/* Stable LSD radix sort on 11-bit digits (six passes at most), skipping
 * the digits that never vary - for most keys the high ones. */
#define RBITS    11
#define RBUCKETS (1u << RBITS)
#define RPASSES  ((64 + RBITS - 1) / RBITS)

static jp_status_t radix_sort(kv_t *a, size_t n)
{
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            kv_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1].k > x.k) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return JP_OK;
    }
    size_t(*hist)[RBUCKETS] = jp_calloc(RPASSES, sizeof *hist);
    kv_t *tmp = jp_malloc_array(n, sizeof *tmp);
    if (!hist || !tmp) {
        jp_free(hist);
        jp_free(tmp);
        return JP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].k;
        for (int d = 0; d < RPASSES; d++) hist[d][(k >> (RBITS * d)) & (RBUCKETS - 1)]++;
    }
    kv_t *src = a, *dst = tmp;
    for (int d = 0; d < RPASSES; d++) {
        size_t *h = hist[d];
        unsigned shift = RBITS * (unsigned)d;
        if (h[(src[0].k >> shift) & (RBUCKETS - 1)] == n) continue; /* one value: nothing moves */
        size_t sum = 0;
        for (unsigned b = 0; b < RBUCKETS; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[h[(src[i].k >> shift) & (RBUCKETS - 1)]++] = src[i];
        kv_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
    jp_free(hist);
    jp_free(tmp);
    return JP_OK;
}

/* Period ranks: a merge sort of the rows by jp_period_cmp, equal periods
 * sharing a rank. */
static void msort_periods(const jp_period_t *p, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2) return;
    size_t h = n / 2;
    msort_periods(p, a, tmp, h);
    msort_periods(p, a + h, tmp, n - h);
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) a[k++] = jp_period_cmp(&p[a[j]], &p[tmp[i]]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[k++] = tmp[i++];
}

static jp_status_t period_ranks(const jp_column_t *c, uint64_t **out)
{
    size_t n = c->len;
    size_t *ord = jp_malloc_array(n ? n : 1, sizeof *ord);
    size_t *tmp = jp_malloc_array(n ? n : 1, sizeof *tmp);
    uint64_t *r = jp_malloc_array(n ? n : 1, sizeof *r);
    if (!ord || !tmp || !r) {
        jp_free(ord);
        jp_free(tmp);
        jp_free(r);
        return JP_ERR_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!jp_column_is_null(c, i)) ord[m++] = i;
    msort_periods(c->v.p, ord, tmp, m);
    uint64_t rank = 0;
    for (size_t k = 0; k < m; k++) {
        if (k && jp_period_cmp(&c->v.p[ord[k - 1]], &c->v.p[ord[k]]) != 0) rank++;
        r[ord[k]] = rank;
    }
    jp_free(ord);
    jp_free(tmp);
    *out = r;
    return JP_OK;
}

/* Stable sort of perm[0..n) by column c. */
static jp_status_t sort_pass(size_t *perm, size_t n, const jp_column_t *c, bool desc)
{
    uint32_t *rank = NULL;
    uint64_t *prank = NULL;
    if (c->type == JP_TYPE_STRING && jp_strdict_ranks(c->dict, &rank)) return JP_ERR_NOMEM;
    if (c->type == JP_TYPE_PERIOD && period_ranks(c, &prank)) return JP_ERR_NOMEM;
    kv_t *a = jp_malloc_array(n ? n : 1, sizeof *a);
    size_t *rest = jp_malloc_array(n ? n : 1, sizeof *rest); /* NaN, then nulls */
    if (!a || !rest) {
        jp_free(a);
        jp_free(rest);
        jp_free(rank);
        jp_free(prank);
        return JP_ERR_NOMEM;
    }
    size_t m = 0, nnan = 0, nnull = 0;
    /* first count NaN so nulls can go after them in one pass */
    if (c->type == JP_TYPE_NUMBER)
        for (size_t p = 0; p < n; p++) {
            size_t i = perm[p];
            if (!jp_column_is_null(c, i) && isnan(c->v.d[i])) nnan++;
        }
    for (size_t p = 0; p < n; p++) {
        size_t i = perm[p];
        if (jp_column_is_null(c, i)) {
            rest[nnan + nnull++] = i;
            continue;
        }
        uint64_t k;
        switch (c->type) {
        case JP_TYPE_INT:
            k = (uint64_t)c->v.i[i] ^ ((uint64_t)1 << 63);
            break;
        case JP_TYPE_NUMBER: {
            double d = c->v.d[i];
            if (isnan(d)) continue; /* collected below, after the values */
            if (d == 0) d = 0;      /* -0 sorts with 0 */
            uint64_t u;
            memcpy(&u, &d, sizeof u);
            k = (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
            break;
        }
        case JP_TYPE_BOOL:
            k = c->v.b[i];
            break;
        case JP_TYPE_DATE:
            k = (uint64_t)(uint32_t)c->v.date[i] ^ 0x80000000u;
            break;
        case JP_TYPE_STRING:
            k = rank[c->v.s[i]];
            break;
        case JP_TYPE_PERIOD:
            k = prank[i];
            break;
        default:
            k = 0;
        }
        if (desc) k = ~k;
        a[m].k = k;
        a[m].v = i;
        m++;
    }
    /* NaN rows, in their current order */
    if (nnan) {
        size_t q = 0;
        for (size_t p = 0; p < n; p++) {
            size_t i = perm[p];
            if (!jp_column_is_null(c, i) && isnan(c->v.d[i])) rest[q++] = i;
        }
    }
    jp_status_t st = radix_sort(a, m);
    if (!st) {
        for (size_t k = 0; k < m; k++) perm[k] = a[k].v;
        memcpy(perm + m, rest, (nnan + nnull) * sizeof *perm);
    }
    jp_free(a);
    jp_free(rest);
    jp_free(rank);
    jp_free(prank);
    return st;
}

jp_status_t jp_sort_order(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, size_t **order,
                          jp_error_t *err)
{
    *order = NULL;
    size_t *idx = jp_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        long i;
        if (jp_dataset_lookup(ds, keys[k].field, "sort", &i, err)) {
            jp_free(idx);
            return err ? err->code : JP_ERR_ARG;
        }
        idx[k] = (size_t)i;
    }
    jp_status_t st = jp_dataset_need(ds, idx, n, err);
    if (!st && !n) st = jp_dataset_need_rows(ds, err);
    if (st) {
        jp_free(idx);
        return st;
    }
    size_t rows = ds->nrows;
    size_t *perm = jp_malloc_array(rows ? rows : 1, sizeof *perm);
    if (!perm) {
        jp_free(idx);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < rows; r++) perm[r] = r;
    for (size_t k = n; k-- > 0;) {
        if (sort_pass(perm, rows, ds->cols[idx[k]], keys[k].desc)) {
            jp_free(perm);
            jp_free(idx);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    }
    jp_free(idx);
    *order = perm;
    return JP_OK;
}

jp_dataset_t *jp_sort(jp_dataset_t *ds, const jp_sort_key_t *keys, size_t n, jp_error_t *err)
{
    size_t *order;
    if (jp_sort_order(ds, keys, n, &order, err)) return NULL;
    jp_dataset_t *out = NULL;
    if (!jp_dataset_need_all(ds, err)) out = jp_plan_gather(ds, order, ds->nrows, err);
    jp_free(order);
    return out;
}
