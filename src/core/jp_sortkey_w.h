/*
 * jp_sortkey_w.h - the record sorts of jp_sortkey.c for one key width.
 * Included twice by jp_sortkey.c, with SK_W defined as 1 and 2 (key words
 * per record), so that every loop below is compiled for a fixed record
 * size.  Not a header to include anywhere else.
 *
 * A record is SK_W key words and a row number; records compare by their
 * words, then by row, so the order is total and sorting is stable.
 */
#ifndef SK_W
#error "define SK_W before including jp_sortkey_w.h"
#endif

#define SK_CAT2(a, b) a##b
#define SK_CAT(a, b)  SK_CAT2(a, b)
#define SK(name)      SK_CAT(name, SK_W)

typedef struct SK(rec) {
    uint64_t k[SK_W];
    uint64_t row;
} SK(rec_t);

static inline bool SK(less)(const SK(rec_t) * a, const SK(rec_t) * b)
{
    for (int w = 0; w < SK_W; w++)
        if (a->k[w] != b->k[w]) return a->k[w] < b->k[w];
    return a->row < b->row;
}

static inline unsigned SK(digit)(const SK(rec_t) * r, const digit_t *d)
{
    return (unsigned)((r->k[d->word] >> d->shift) & d->mask);
}

static void SK(insertion)(SK(rec_t) * a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        SK(rec_t) x = a[i];
        size_t j = i;
        while (j > 0 && SK(less)(&x, &a[j - 1])) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* LSD passes over digits dg[0..nd) (least significant last), for runs
 * small enough to stay in cache; the result ends in a.  Stable. */
static void SK(lsd)(SK(rec_t) * a, SK(rec_t) * b, size_t n, const digit_t *dg, int nd)
{
    if (n < 48) {
        SK(insertion)(a, n);
        return;
    }
    size_t hist[RADIX];
    SK(rec_t) *src = a, *dst = b;
    for (int d = nd - 1; d >= 0; d--) {
        unsigned nb = (unsigned)dg[d].mask + 1;
        memset(hist, 0, nb * sizeof *hist);
        for (size_t i = 0; i < n; i++) hist[SK(digit)(&src[i], &dg[d])]++;
        if (hist[SK(digit)(&src[0], &dg[d])] == n) continue; /* one value: nothing moves */
        size_t sum = 0;
        for (unsigned q = 0; q < nb; q++) {
            size_t c = hist[q];
            hist[q] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[hist[SK(digit)(&src[i], &dg[d])]++] = src[i];
        SK(rec_t) *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* MSD radix sort of a[0..n) by digits dg[0..nd) (most significant first);
 * b is scratch of n records; the result ends in a.  Stable.  Buckets small
 * enough for the cache finish with LSD passes. */
static void SK(msd)(SK(rec_t) * a, SK(rec_t) * b, size_t n, const digit_t *dg, int nd)
{
    while (nd > 0 && n > MSD_CUTOFF) {
        size_t *hist = jp_calloc(RADIX, sizeof *hist);
        if (!hist) break; /* no memory for a histogram: LSD sorts it all the same */
        for (size_t i = 0; i < n; i++) hist[SK(digit)(&a[i], &dg[0])]++;
        if (hist[SK(digit)(&a[0], &dg[0])] == n) { /* one value: the next digit */
            jp_free(hist);
            dg++;
            nd--;
            continue;
        }
        size_t sum = 0;
        for (unsigned q = 0; q < RADIX; q++) {
            size_t c = hist[q];
            hist[q] = sum;
            sum += c;
        }
        size_t *start = jp_malloc_array(RADIX + 1, sizeof *start);
        if (!start) {
            jp_free(hist);
            break;
        }
        memcpy(start, hist, RADIX * sizeof *start);
        start[RADIX] = n;
        for (size_t i = 0; i < n; i++) b[hist[SK(digit)(&a[i], &dg[0])]++] = a[i];
        jp_free(hist);
        for (unsigned q = 0; q < RADIX; q++) {
            size_t o = start[q], c = start[q + 1] - o;
            if (!c) continue;
            if (jp_stop_pending()) break; /* the caller sees the flag and gives up */
            SK(msd)(b + o, a + o, c, dg + 1, nd - 1);
            memcpy(a + o, b + o, c * sizeof *a);
        }
        jp_free(start);
        return;
    }
    SK(lsd)(a, b, n, dg, nd);
}

/* Encode rows [from, to) whose leading 16 bits are at most `top` (all rows
 * when top is UINT32_MAX) into rec; returns the count. */
static size_t SK(encode)(const jp_sortkeys_t *k, size_t from, size_t to, unsigned top,
                         SK(rec_t) * rec)
{
    size_t m = 0;
    for (size_t i = from; i < to; i++) {
        uint64_t w[2];
        encode_row(k, i, w);
        if (top != UINT32_MAX && (unsigned)(w[0] >> 48) > top) continue;
        for (int q = 0; q < SK_W; q++) rec[m].k[q] = w[q];
        rec[m].row = i;
        m++;
        if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
    }
    return m;
}

static jp_status_t SK(run)(const jp_sortkeys_t *k, size_t from, size_t to, size_t limit,
                           jp_sortrun_t *run)
{
    size_t n = to - from;
    unsigned top = UINT32_MAX;
    if (limit && limit < n) {
        /* top-N: count the leading 16 bits, keep the rows up to the bucket
           where the limit is reached */
        size_t *hist = jp_calloc(65536, sizeof *hist);
        if (!hist) return JP_ERR_NOMEM;
        for (size_t i = from; i < to; i++) {
            uint64_t w[2];
            encode_row(k, i, w);
            hist[w[0] >> 48]++;
            if ((i & 0xffff) == 0xffff && jp_stop_pending()) break;
        }
        size_t cum = 0;
        for (top = 0; top < 65535; top++)
            if ((cum += hist[top]) >= limit) break;
        if (top == 65535) cum += hist[65535];
        jp_free(hist);
        n = cum < n ? cum : n;
    }
    SK(rec_t) *rec = jp_malloc_array(n ? n : 1, sizeof *rec);
    SK(rec_t) *tmp = jp_malloc_array(n ? n : 1, sizeof *tmp);
    if (!rec || !tmp) {
        jp_free(rec);
        jp_free(tmp);
        return JP_ERR_NOMEM;
    }
    n = SK(encode)(k, from, to, top, rec);
    digit_t dg[2 * 64 / RBITS + 4];
    int nd = digits_of(k, dg);
    SK(msd)(rec, tmp, n, dg, nd);
    jp_free(tmp);
    if (limit && limit < n) {
        SK(rec_t) *shrunk = jp_realloc_array(rec, limit, sizeof *rec);
        if (shrunk) rec = shrunk;
        n = limit;
    }
    run->rec = (uint64_t *)rec;
    run->n = n;
    run->nwords = SK_W;
    return JP_OK;
}

/* Merge two sorted runs' records a[0..na), b[0..nb) from output position
 * `lo` to `hi` (exclusive) into order[lo..hi). */
static void SK(merge2)(const SK(rec_t) * a, size_t na, const SK(rec_t) * b, size_t nb, size_t lo,
                       size_t hi, size_t *order)
{
    /* merge path: the split (i, j), i + j = lo, with a[i-1] < b[j] and
       b[j-1] < a[i] (ties cannot happen: rows differ) - the smallest i for
       which a[i] does not come before b[j-1] */
    size_t l = lo > nb ? lo - nb : 0, r = lo < na ? lo : na;
    while (l < r) {
        size_t i = l + (r - l) / 2, j = lo - i;
        if (i < na && j > 0 && SK(less)(&a[i], &b[j - 1]))
            l = i + 1;
        else
            r = i;
    }
    size_t i = l, j = lo - l;
    for (size_t o = lo; o < hi; o++) {
        if (j >= nb || (i < na && SK(less)(&a[i], &b[j])))
            order[o] = (size_t)a[i++].row;
        else
            order[o] = (size_t)b[j++].row;
        if ((o & 0xffff) == 0xffff && jp_stop_pending()) break;
    }
}

/* k-way merge of runs into order[0..m) with a binary heap of run heads. */
static void SK(mergek)(const jp_sortrun_t *runs, size_t nruns, size_t m, size_t *order,
                       size_t *heap, size_t *pos)
{
    size_t nh = 0;
    for (size_t r = 0; r < nruns; r++) {
        pos[r] = 0;
        if (!runs[r].n) continue;
        /* sift up */
        size_t c = nh++;
        heap[c] = r;
        while (c > 0) {
            size_t p = (c - 1) / 2;
            const SK(rec_t) *x = (const SK(rec_t) *)runs[heap[c]].rec;
            const SK(rec_t) *y = (const SK(rec_t) *)runs[heap[p]].rec;
            if (!SK(less)(x, y)) break;
            size_t t = heap[c];
            heap[c] = heap[p];
            heap[p] = t;
            c = p;
        }
    }
    for (size_t o = 0; o < m && nh; o++) {
        size_t r = heap[0];
        const SK(rec_t) *rr = (const SK(rec_t) *)runs[r].rec;
        order[o] = (size_t)rr[pos[r]++].row;
        if (pos[r] == runs[r].n) heap[0] = heap[--nh];
        /* sift down */
        size_t c = 0;
        for (;;) {
            size_t l = 2 * c + 1, s = c;
            if (l >= nh) break;
            const SK(rec_t) *hs = (const SK(rec_t) *)runs[heap[s]].rec + pos[heap[s]];
            const SK(rec_t) *hl = (const SK(rec_t) *)runs[heap[l]].rec + pos[heap[l]];
            if (SK(less)(hl, hs)) s = l, hs = hl;
            if (l + 1 < nh) {
                const SK(rec_t) *hr = (const SK(rec_t) *)runs[heap[l + 1]].rec + pos[heap[l + 1]];
                if (SK(less)(hr, hs)) s = l + 1;
            }
            if (s == c) break;
            size_t t = heap[c];
            heap[c] = heap[s];
            heap[s] = t;
            c = s;
        }
    }
}

#undef SK
#undef SK_CAT
#undef SK_CAT2
