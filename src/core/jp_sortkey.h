/*
 * jp_sortkey.h - the sort engine under jp_sort: typed sort keys packed into
 * one or two 64-bit words, runs sorted independently by radix, and a k-way
 * merge of sorted runs.  Internal to the core.
 *
 * Keys.  Every key field becomes an unsigned integer that orders like its
 * values - integers with the sign bit flipped, doubles by their IEEE bits
 * (-0 as 0), strings by the rank of their dictionary code in byte order,
 * dates, booleans, periods by rank - rebased on the smallest value (or
 * subtracted from the largest, descending), so it takes only the bits its
 * range needs.  Nulls and NaN get a class in front of the value (values,
 * then NaN, then nulls, whatever the direction).  The fields are packed,
 * most significant first, into at most two words: "district, -output_t"
 * packs into one.  Keys that do not fit (three wide doubles) are not
 * packable and the caller sorts another way.
 *
 * Runs.  A run is the rows [from, to) as records {key words, row}, sorted
 * by an MSD radix pass into 2048 buckets, each finished by LSD passes in
 * cache.  The row number breaks ties, so the order is total and every sort
 * is stable.  Runs are independent: jp_sort sorts one per core and merges
 * them; an external sort writes runs to files and merges them the same way
 * (records are plain bytes).  A run may keep only its `limit` first
 * records (top-N): the rows are then filtered by their leading 16 bits
 * before anything is stored, so memory stays near `limit` records.
 *
 * Ownership: jp_sortkeys_t borrows the columns (they must outlive it) and
 * owns its rank tables; runs own their records.  Thread-safe once made:
 * runs of one jp_sortkeys_t may be built on several threads at once.
 */
#ifndef JP_SORTKEY_H
#define JP_SORTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "jp_column.h"
#include "jp_error.h"

#define JP_SORTKEY_MAX_FIELDS 16 /* keys beyond this are not packable */

/* The word that orders like cell i (not null, not NaN) of an integer,
 * number, boolean or date column, ascending: integers and dates with the
 * sign bit flipped, doubles by their IEEE bits (-0 as 0); 0 for the other
 * types.  The keys here, the sort's per-key passes and the external
 * sort's records all order values by it. */
static inline uint64_t jp_sortkey_word(const jp_column_t *c, size_t i)
{
    switch (c->type) {
    case JP_TYPE_INT:
        return (uint64_t)c->v.i[i] ^ ((uint64_t)1 << 63);
    case JP_TYPE_NUMBER: {
        double d = c->v.d[i];
        if (d == 0) d = 0; /* -0 sorts with 0 */
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        return (b >> 63) ? ~b : (b | ((uint64_t)1 << 63));
    }
    case JP_TYPE_BOOL:
        return c->v.b[i];
    case JP_TYPE_DATE:
        return (uint64_t)((uint32_t)c->v.date[i] ^ 0x80000000u);
    default:
        return 0;
    }
}

typedef struct jp_skfield {
    const jp_column_t *col;
    bool desc;
    uint32_t *rank;  /* strings: rank of each code */
    uint64_t *prank; /* periods: rank of each row */
    bool has_null, has_nan;
    uint64_t min, max; /* of the ordered values (before rebasing) */
    /* layout: class bits then value bits, at `shift` in word `word` */
    int cbits, vbits, word, cshift, vshift;
} jp_skfield_t;

typedef struct jp_sortkeys {
    size_t nrows;
    size_t nf;
    jp_skfield_t f[JP_SORTKEY_MAX_FIELDS];
    int nwords;  /* 1 or 2; 0: not packable */
    int used[2]; /* bits used at the top of each word */
} jp_sortkeys_t;

/*
 * Prepare the keys of cols[0..n) (nrows rows each; desc[k] for descending):
 * rank tables, ranges, the layout.  Scans the columns once (on all cores).
 * JP_ERR_NOMEM, or JP_ERR_INTERRUPTED/TIMEOUT when a stop is pending.
 */
jp_status_t jp_sortkeys_init(jp_sortkeys_t *k, jp_column_t *const *cols, const bool *desc, size_t n,
                             size_t nrows, jp_error_t *err);
void jp_sortkeys_free(jp_sortkeys_t *k);

/* A sorted run: n records of k->nwords key words and a row number each. */
typedef struct jp_sortrun {
    uint64_t *rec; /* n * (nwords + 1) words */
    size_t n;
    int nwords;
} jp_sortrun_t;

/* Sort rows [from, to) into a run, keeping the `limit` first (0: all).
 * Requires a packable key (k->nwords > 0). */
jp_status_t jp_sortkeys_run(const jp_sortkeys_t *k, size_t from, size_t to, size_t limit,
                            jp_sortrun_t *run, jp_error_t *err);
void jp_sortrun_free(jp_sortrun_t *run);

/*
 * Merge runs[0..nruns) (sorted, of one key) into order[0..m): the row
 * numbers of the first m records in order, m = min(limit, total) (limit 0:
 * all).  Two runs merge on two threads (each takes half of the output).
 */
jp_status_t jp_sortruns_merge(const jp_sortrun_t *runs, size_t nruns, size_t limit, size_t *order,
                              size_t *m, jp_error_t *err);

/*
 * The whole job: the order of the first `limit` rows (0: all) of the rows
 * sorted by the packable key k, using every core.  *order (jp_malloc'd)
 * gets *m row numbers.
 */
jp_status_t jp_sortkeys_order(const jp_sortkeys_t *k, size_t limit, size_t **order, size_t *m,
                              jp_error_t *err);

#endif
