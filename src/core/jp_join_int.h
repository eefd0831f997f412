/*
 * jp_join_int.h - the pieces of a join, shared by the whole-input join
 * (jp_join.c) and the join node that probes its left input a batch at a
 * time (jp_join_plan.c).  Internal to the core.
 *
 * The index is made once from the right rows (jp_join_index_build: rc,
 * as_num and nkeys set); each set of left rows then sets lc, probes
 * (jp_join_probe, which maps the left's strings to the right's codes
 * first) and frees what is its own (jp_join_index_left_free,
 * jp_join_probe_free, jp_join_rows_free).  A probe never changes the
 * right part of the index, so one index serves every batch.
 */
#ifndef JP_JOIN_INT_H
#define JP_JOIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_verbs.h"

#define JP_JOIN_NONE UINT32_MAX /* no tuple: no match */

typedef struct jp_join_index {
    size_t nkeys;
    jp_column_t **lc, **rc; /* key columns, left and right */
    bool *as_num;           /* integer against number: compare as doubles */
    uint32_t **smap;        /* strings: left code -> right code (NONE absent), NULL same dict */
    /* dense: code = sum over keys of (value - base) * stride */
    bool dense;
    int64_t *base;
    uint64_t *card, *stride;
    uint32_t *table; /* dense: tuple + 1 per combined code; hash: tuple + 1 per slot */
    size_t mask;     /* hash slots - 1 */
    uint64_t *tv;    /* hash: key values of each tuple (nkeys each) */
    uint64_t *th;    /* hash: hash of each tuple */
    size_t *trow;    /* a right row of each tuple (for periods) */
    /* tuples */
    size_t ntup;
    size_t *head, *tail, *cnt; /* first and last right row, rows */
    size_t *next;              /* per right row: the next of its tuple */
    uint32_t *rtup;            /* per right row: its tuple (NONE: null key) */
} jp_join_index_t;

typedef struct jp_join_probe {
    jp_join_index_t *x;
    jp_join_how_t how;
    size_t nl;
    int parts;      /* of the left rows, probed on every core */
    uint32_t *ltup; /* per left row: its tuple, NONE: no match */
    size_t *count;  /* per part: output rows (for pairs) */
    size_t *hits;   /* per part: left rows with a match */
    size_t *at;     /* per part: where its output starts */
    size_t *lo, *ro;
    bool nomem;
} jp_join_probe_t;

/* Where the output's rows come from. */
typedef struct jp_join_rows {
    size_t n;
    size_t *lo, *ro; /* per output row: its left and right row (JP_NO_ROW: none) */
    /* a lookup (one right row per key, every left row kept once): the rows
       are the left's own, in order, and the right's columns are read
       through the tuples; no lo, no ro */
    bool lookup;
    bool identity;           /* the rows are the left's own, in order */
    bool lmissing, rmissing; /* some row has no left / right side */
} jp_join_rows_t;

/* Out of memory loading the right dataset (the build side; err holds the
 * loader's error) or indexing its nr rows, said so under a memory limit
 * (jp_mem_explain). */
jp_status_t jp_join_build_nomem(const jp_dataset_t *right, jp_error_t *err);
jp_status_t jp_join_index_nomem(size_t nr, jp_error_t *err);

/* The right part of the index over nr rows of x->rc (JP_ERR_LIMIT: too
 * many rows; JP_ERR_NOMEM).  jp_join_index_free frees all of it. */
jp_status_t jp_join_index_build(jp_join_index_t *x, size_t nr);
void jp_join_index_free(jp_join_index_t *x);
/* The left part (x->lc set): string codes mapped to the right's. */
jp_status_t jp_join_index_left(jp_join_index_t *x);
void jp_join_index_left_free(jp_join_index_t *x);

/* Key types must agree (integer and number do, setting as_num); else an
 * error naming both fields and types: one key (lk, rk its names), or
 * every key of x. */
jp_status_t jp_join_check_type(jp_type_t a, jp_type_t b, const char *lk, const char *rk,
                               bool *as_num, jp_error_t *err);
jp_status_t jp_join_check_types(jp_join_index_t *x, const char *const *lk, const char *const *rk,
                                jp_error_t *err);

/* nl left rows (x->lc) probed on every core (p->how set; the index built;
 * x->smap made by jp_join_index_left when NULL). */
jp_status_t jp_join_probe(jp_join_index_t *x, jp_join_probe_t *p, size_t nl, jp_error_t *err);
void jp_join_probe_free(jp_join_probe_t *p);
/* The output rows of the probe p against nr right rows (JP_ERR_NOMEM). */
jp_status_t jp_join_output_rows(jp_join_probe_t *p, const jp_join_index_t *x, size_t nr,
                                jp_join_rows_t *o);
void jp_join_rows_free(jp_join_rows_t *o);

/* Rows of c, JP_NO_ROW giving nulls (missing: some are). */
jp_column_t *jp_join_gather_rows(jp_column_t *c, const size_t *rows, size_t n, bool missing);
/* A lookup's right column c: the value of each left row's tuple's one row. */
jp_column_t *jp_join_gather_tuples(jp_column_t *c, const jp_join_index_t *x, const uint32_t *ltup,
                                   size_t n, bool missing);
/* The row lines of the output's left rows. */
jp_status_t jp_join_origin(jp_dataset_t *out, const jp_dataset_t *left, const size_t *lo, size_t n,
                           bool identity);
/* fd's name with `suffix` appended until no field of out has it. */
jp_status_t jp_join_unique_name(const jp_dataset_t *out, jp_field_t *fd, const char *suffix);

/*
 * The join node (jp_join_plan.c) of an inner, left, semi or anti join:
 * a lazy dataset over `left` (the right one is loaded now and held), as
 * jp_join describes it; a node of a stream takes the left rows a batch at
 * a time (jp_plan.h's join hooks).
 */
jp_dataset_t *jp_join_plan(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                           const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                           const char *suffix, jp_error_t *err);

#endif
