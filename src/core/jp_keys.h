/*
 * jp_keys.h - grouping rows by the values of key columns, shared by
 * group_by, distinct, pivot and join.  Internal to the verbs.
 *
 * Ownership: jp_groups_t owns its arrays (jp_groups_free).  Nothing here
 * keeps a pointer to the columns it was given.
 */
#ifndef JP_KEYS_H
#define JP_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_column.h"
#include "jp_error.h"
#include "jp_verbs.h"

typedef struct jp_groups {
    uint32_t *gid;  /* group of each row */
    size_t ngroups; /* numbered in order of first appearance */
    size_t *first;  /* first row of each group */
} jp_groups_t;

/*
 * Group nrows rows by the cells of cols[0..nkeys) (nulls equal each other,
 * -0 equals 0, NaN equals NaN).  With nkeys == 0 every row is group 0 and
 * there is one group even when nrows is 0.  JP_ERR_NOMEM or JP_ERR_LIMIT
 * (more than 4e9 groups).
 */
jp_status_t jp_group_rows(jp_column_t *const *cols, size_t nkeys, size_t nrows, jp_groups_t *g);
void jp_groups_free(jp_groups_t *g);

/* A 64-bit value that is equal for equal cells of one column: integers as
 * themselves (or as double bits when as_number), doubles by normalised
 * bits, strings by code, periods by a hash of their fields. */
uint64_t jp_key_value(const jp_column_t *c, size_t i, bool as_number);

static inline uint64_t jp_key_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Per-group aggregate of column c over rows grouped by gid (ngroups
 * groups): a new column of ngroups values (see jp_verbs.h for the rules).
 * c may be NULL for a row count.  `what` names the field in messages. */
jp_column_t *jp_agg_column(jp_agg_kind_t kind, const jp_column_t *c, const char *what, double p,
                           const uint32_t *gid, size_t nrows, size_t ngroups, jp_error_t *err);

#endif
