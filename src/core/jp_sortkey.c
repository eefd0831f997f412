/*
 * jp_sortkey.c - packed sort keys, radix-sorted runs, k-way merges (see
 * jp_sortkey.h for the design).
 *
 * Owns: jp_sortkeys_*, jp_sortrun_*, jp_sortruns_merge.  Must never:
 * modify the columns it reads, take references on them (it runs on worker
 * threads), print.
 */
#include "jp_sortkey.h"

#include <math.h>
#include <string.h>
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_par.h"

#define RBITS      11
#define RADIX      (1u << RBITS)
#define MSD_CUTOFF 16384 /* records: a bucket this small is sorted in cache */

/* One radix digit: bits [shift, shift + width) of key word `word`. */
typedef struct digit {
    int word, shift;
    uint64_t mask;
} digit_t;

/* ---- keys --------------------------------------------------------------------- */

enum { CLS_VALUE = 0, CLS_NAN = 1 };

/* The ordered value of row i of field f in *u, and its class: 0 a value,
 * then NaN, then null. */
static inline int value_of(const jp_skfield_t *f, size_t i, uint64_t *u)
{
    const jp_column_t *c = f->col;
    if (c->nulls && c->nulls[i]) return f->has_nan ? 2 : 1;
    switch (c->type) {
    case JP_TYPE_NUMBER:
        if (c->v.d[i] != c->v.d[i]) return CLS_NAN;
        *u = jp_sortkey_word(c, i);
        return CLS_VALUE;
    case JP_TYPE_INT:
    case JP_TYPE_BOOL:
    case JP_TYPE_DATE:
        *u = jp_sortkey_word(c, i);
        return CLS_VALUE;
    case JP_TYPE_STRING:
        *u = f->rank[c->v.s[i]];
        return CLS_VALUE;
    case JP_TYPE_PERIOD:
        *u = f->prank[i];
        return CLS_VALUE;
    default:
        *u = 0;
        return CLS_VALUE;
    }
}

/* The packed key words of row i. */
static inline void encode_row(const jp_sortkeys_t *k, size_t i, uint64_t w[2])
{
    w[0] = w[1] = 0;
    for (size_t q = 0; q < k->nf; q++) {
        const jp_skfield_t *f = &k->f[q];
        uint64_t u = 0;
        int cls = value_of(f, i, &u);
        if (f->cbits) w[f->word >> 4] |= (uint64_t)cls << f->cshift;
        if (cls == CLS_VALUE && f->vbits)
            w[f->word & 15] |= (f->desc ? f->max - u : u - f->min) << f->vshift;
    }
}

/* The radix digits of the packed key, most significant first. */
static int digits_of(const jp_sortkeys_t *k, digit_t *dg)
{
    int nd = 0;
    for (int w = 0; w < k->nwords; w++) {
        int hi = 64, end = 64 - k->used[w];
        while (hi > end) {
            int lo = hi - RBITS > end ? hi - RBITS : end;
            dg[nd].word = w;
            dg[nd].shift = lo;
            dg[nd].mask = ((uint64_t)1 << (hi - lo)) - 1;
            nd++;
            hi = lo;
        }
    }
    return nd;
}

/* Period ranks: a merge sort of the rows by jp_period_cmp, equal periods
 * sharing a rank (nulls get rank 0; their class orders them). */
static void msort_periods(const jp_period_t *p, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2) return;
    size_t h = n / 2;
    msort_periods(p, a, tmp, h);
    msort_periods(p, a + h, tmp, n - h);
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, q = 0;
    while (i < h && j < n) a[q++] = jp_period_cmp(&p[a[j]], &p[tmp[i]]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[q++] = tmp[i++];
}

static jp_status_t period_ranks(const jp_column_t *c, size_t n, uint64_t **out)
{
    size_t *ord = jp_malloc_array(n ? n : 1, sizeof *ord);
    size_t *tmp = jp_malloc_array(n ? n : 1, sizeof *tmp);
    uint64_t *r = jp_calloc(n ? n : 1, sizeof *r);
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
    for (size_t q = 0; q < m; q++) {
        if (q && jp_period_cmp(&c->v.p[ord[q - 1]], &c->v.p[ord[q]]) != 0) rank++;
        r[ord[q]] = rank;
    }
    jp_free(ord);
    jp_free(tmp);
    *out = r;
    return JP_OK;
}

/* The ranges of the fields over a part of the rows. */
typedef struct range_part {
    uint64_t min[JP_SORTKEY_MAX_FIELDS], max[JP_SORTKEY_MAX_FIELDS];
    bool any[JP_SORTKEY_MAX_FIELDS], null[JP_SORTKEY_MAX_FIELDS], nan[JP_SORTKEY_MAX_FIELDS];
} range_part_t;

typedef struct range_job {
    jp_sortkeys_t *k;
    range_part_t *parts;
} range_job_t;

static void range_part(void *ctx, int p, int np)
{
    range_job_t *j = ctx;
    jp_sortkeys_t *k = j->k;
    range_part_t *r = &j->parts[p];
    size_t from = k->nrows * (size_t)p / (size_t)np, to = k->nrows * (size_t)(p + 1) / (size_t)np;
    for (size_t q = 0; q < k->nf; q++) {
        jp_skfield_t f = k->f[q];
        f.has_nan = false; /* so that value_of says 1 for NaN, 1 for null: told apart below */
        uint64_t lo = UINT64_MAX, hi = 0;
        bool any = false, null = false, nan = false;
        for (size_t i = from; i < to; i++) {
            uint64_t u;
            if (value_of(&f, i, &u) != CLS_VALUE) {
                if (jp_column_is_null(f.col, i))
                    null = true;
                else
                    nan = true;
                continue;
            }
            any = true;
            if (u < lo) lo = u;
            if (u > hi) hi = u;
            if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
        }
        r->min[q] = lo;
        r->max[q] = hi;
        r->any[q] = any;
        r->null[q] = null;
        r->nan[q] = nan;
    }
}

static int bits_of(uint64_t x)
{
    return x ? 64 - __builtin_clzll(x) : 0;
}

/* Place a sub-field of `bits` bits: *word and *shift; false when it does not
 * fit in two words. */
static bool place(int bits, int *word, int *left, int *at_word, int *at_shift)
{
    if (!bits) {
        *at_word = *word;
        *at_shift = 0;
        return true;
    }
    if (bits > *left) {
        (*word)++;
        *left = 64;
    }
    if (*word > 1) return false;
    *left -= bits;
    *at_word = *word;
    *at_shift = *left;
    return true;
}

jp_status_t jp_sortkeys_init(jp_sortkeys_t *k, jp_column_t *const *cols, const bool *desc, size_t n,
                             size_t nrows, jp_error_t *err)
{
    memset(k, 0, sizeof *k);
    k->nrows = nrows;
    if (n > JP_SORTKEY_MAX_FIELDS) return JP_OK; /* not packable */
    k->nf = n;
    for (size_t q = 0; q < n; q++) {
        jp_skfield_t *f = &k->f[q];
        f->col = cols[q];
        f->desc = desc[q];
        jp_status_t st = JP_OK;
        if (f->col->type == JP_TYPE_STRING) st = jp_strdict_ranks(f->col->dict, &f->rank);
        if (f->col->type == JP_TYPE_PERIOD) st = period_ranks(f->col, nrows, &f->prank);
        if (st) {
            jp_sortkeys_free(k);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
    }
    int np = jp_par_parts(nrows, (size_t)1 << 17);
    range_part_t *parts = jp_calloc((size_t)np, sizeof *parts);
    if (!parts) {
        jp_sortkeys_free(k);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    range_job_t job = {k, parts};
    jp_par_run(np, range_part, &job);
    if (jp_stop_pending()) {
        jp_free(parts);
        jp_sortkeys_free(k);
        return jp_stop_check(err);
    }
    int word = 0, left = 64;
    bool fits = true;
    for (size_t q = 0; q < n; q++) {
        jp_skfield_t *f = &k->f[q];
        bool any = false;
        f->min = UINT64_MAX;
        f->max = 0;
        for (int p = 0; p < np; p++) {
            if (parts[p].any[q]) {
                any = true;
                if (parts[p].min[q] < f->min) f->min = parts[p].min[q];
                if (parts[p].max[q] > f->max) f->max = parts[p].max[q];
            }
            f->has_null |= parts[p].null[q];
            f->has_nan |= parts[p].nan[q];
        }
        if (!any) f->min = f->max = 0;
        int classes = 1 + f->has_nan + f->has_null;
        f->cbits = bits_of((uint64_t)classes - 1);
        f->vbits = bits_of(f->max - f->min);
        int cw, vw;
        fits = fits && place(f->cbits, &word, &left, &cw, &f->cshift) &&
               place(f->vbits, &word, &left, &vw, &f->vshift);
        f->word = fits ? (cw << 4) | vw : 0;
    }
    jp_free(parts);
    if (!fits) {
        k->nwords = 0;
        return JP_OK;
    }
    k->nwords = word + 1;
    k->used[0] = word == 0 ? 64 - left : 64;
    k->used[1] = word == 1 ? 64 - left : 0;
    /* the leading 16 bits split a top-N's rows: with fewer bits in use
       they still do (their low bits are zero) */
    return JP_OK;
}

void jp_sortkeys_free(jp_sortkeys_t *k)
{
    for (size_t q = 0; q < JP_SORTKEY_MAX_FIELDS; q++) {
        jp_free(k->f[q].rank);
        jp_free(k->f[q].prank);
        k->f[q].rank = NULL;
        k->f[q].prank = NULL;
    }
}

void jp_sortrun_free(jp_sortrun_t *run)
{
    jp_free(run->rec);
    run->rec = NULL;
    run->n = 0;
}

/* ---- runs and merges, for one and for two key words ---------------------------- */

#define SK_W 1
#include "jp_sortkey_w.h"
#undef SK_W
#define SK_W 2
#include "jp_sortkey_w.h"
#undef SK_W

jp_status_t jp_sortkeys_run(const jp_sortkeys_t *k, size_t from, size_t to, size_t limit,
                            jp_sortrun_t *run, jp_error_t *err)
{
    memset(run, 0, sizeof *run);
    if (k->nwords < 1 || k->nwords > 2 || from > to || to > k->nrows)
        return jp_error_set(err, JP_ERR_INTERNAL, "sort: a run of an unpackable key");
    jp_status_t st = k->nwords == 1 ? run1(k, from, to, limit, run) : run2(k, from, to, limit, run);
    if (st) return jp_error_set(err, st, "out of memory");
    if (jp_stop_pending()) {
        jp_sortrun_free(run);
        return jp_stop_check(err);
    }
    return JP_OK;
}

typedef struct merge_job {
    const jp_sortrun_t *runs;
    size_t m;
    size_t *order;
} merge_job_t;

static void merge_half(void *ctx, int p, int np)
{
    merge_job_t *j = ctx;
    size_t lo = j->m * (size_t)p / (size_t)np, hi = j->m * (size_t)(p + 1) / (size_t)np;
    const jp_sortrun_t *a = &j->runs[0], *b = &j->runs[1];
    if (a->nwords == 1)
        merge21((const rec_t1 *)a->rec, a->n, (const rec_t1 *)b->rec, b->n, lo, hi, j->order);
    else
        merge22((const rec_t2 *)a->rec, a->n, (const rec_t2 *)b->rec, b->n, lo, hi, j->order);
}

jp_status_t jp_sortruns_merge(const jp_sortrun_t *runs, size_t nruns, size_t limit, size_t *order,
                              size_t *m, jp_error_t *err)
{
    size_t total = 0;
    for (size_t r = 0; r < nruns; r++) total += runs[r].n;
    *m = limit && limit < total ? limit : total;
    if (!*m) return JP_OK;
    int nw = runs[0].nwords;
    if (nruns == 1) {
        const uint64_t *rec = runs[0].rec;
        for (size_t o = 0; o < *m; o++) order[o] = (size_t)rec[o * (size_t)(nw + 1) + (size_t)nw];
    } else if (nruns == 2) {
        merge_job_t j = {runs, *m, order};
        jp_par_run(jp_par_parts(*m, (size_t)1 << 16), merge_half, &j);
    } else {
        size_t *heap = jp_malloc_array(nruns, sizeof *heap);
        size_t *pos = jp_malloc_array(nruns, sizeof *pos);
        if (!heap || !pos) {
            jp_free(heap);
            jp_free(pos);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        if (nw == 1)
            mergek1(runs, nruns, *m, order, heap, pos);
        else
            mergek2(runs, nruns, *m, order, heap, pos);
        jp_free(heap);
        jp_free(pos);
    }
    return jp_stop_pending() ? jp_stop_check(err) : JP_OK;
}

typedef struct run_job {
    const jp_sortkeys_t *k;
    size_t limit;
    jp_sortrun_t *runs;
    jp_status_t *st;
} run_job_t;

static void run_part(void *ctx, int p, int np)
{
    run_job_t *j = ctx;
    size_t n = j->k->nrows;
    size_t from = n * (size_t)p / (size_t)np, to = n * (size_t)(p + 1) / (size_t)np;
    const jp_sortkeys_t *k = j->k;
    j->st[p] = k->nwords == 1 ? run1(k, from, to, j->limit, &j->runs[p])
                              : run2(k, from, to, j->limit, &j->runs[p]);
}

jp_status_t jp_sortkeys_order(const jp_sortkeys_t *k, size_t limit, size_t **order, size_t *m,
                              jp_error_t *err)
{
    *order = NULL;
    *m = 0;
    if (k->nwords < 1) return jp_error_set(err, JP_ERR_INTERNAL, "sort: the key is not packable");
    /* one run per core: runs are independent, so they sort in parallel and
       merge after (2 runs: each core merges half of the output) */
    int np = jp_par_parts(k->nrows, (size_t)1 << 16);
    jp_sortrun_t *runs = jp_calloc((size_t)np, sizeof *runs);
    jp_status_t *st = jp_calloc((size_t)np, sizeof *st);
    if (!runs || !st) {
        jp_free(runs);
        jp_free(st);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    run_job_t job = {k, limit, runs, st};
    jp_par_run(np, run_part, &job);
    jp_status_t res = JP_OK;
    for (int p = 0; p < np && !res; p++)
        if (st[p]) res = jp_error_set(err, st[p], "out of memory");
    if (!res && jp_stop_pending()) res = jp_stop_check(err);
    size_t total = 0;
    for (int p = 0; p < np; p++) total += runs[p].n;
    size_t want = limit && limit < total ? limit : total;
    size_t *ord = NULL;
    if (!res && !(ord = jp_malloc_array(want ? want : 1, sizeof *ord)))
        res = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (!res) res = jp_sortruns_merge(runs, (size_t)np, limit, ord, m, err);
    for (int p = 0; p < np; p++) jp_sortrun_free(&runs[p]);
    jp_free(runs);
    jp_free(st);
    if (res) {
        jp_free(ord);
        *m = 0;
        return res;
    }
    *order = ord;
    return JP_OK;
}
