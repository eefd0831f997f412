/*
 * jp_stream_int.h - the chain machinery of jp_stream.c, for the stream
 * consumers that live in their own files (jp_stream_sort.c).  Internal to
 * the core.
 *
 * A chain is a lazy CSV file (src) under plan nodes that work batch by
 * batch; node[0] is the top.  jp_stream_chain_inputs lists the file's
 * fields the chain reads to make the top's fields want_top[]; a batch of
 * those fields (cols, in idx order, nrows rows) becomes the top's fields
 * top_idx[0..m) by jp_stream_run_chain (a new dataset, one reference).
 */
#ifndef JP_STREAM_INT_H
#define JP_STREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_csv.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_verbs.h"

#define JP_STREAM_MAX_CHAIN 64

typedef struct jp_stream_chain {
    const jp_dataset_t *node[JP_STREAM_MAX_CHAIN]; /* node[0] is the top */
    size_t n;
    jp_dataset_t *src; /* the lazy CSV file */
    /* at[k]: rows of node k's input gone by in earlier batches of this
       pass, for nodes that go by row position (jp_plan_stream_positional);
       at = at_rows */
    size_t *at;
    size_t at_rows[JP_STREAM_MAX_CHAIN];
    /* does a node name its rows' lines (jp_plan_stream_lines)?  Then a
       pass reads them, and *lines is the current batch's (lines = &line_col) */
    bool want_lines;
    const jp_column_t **lines;
    const jp_column_t *line_col;
    /* find the file's types first, so that no batch is retyped
       (jp_csv_stream_cb_t.typed_first); false from jp_stream_chain_of */
    bool typed_first;
    /* the file's cells not of their type, batch by batch
       (jp_csv_stream_cb_t.cells); NULL from jp_stream_chain_of */
    jp_cell_errors_t *cells;
} jp_stream_chain_t;

bool jp_stream_chain_of(const jp_dataset_t *ds, jp_stream_chain_t *c);
jp_status_t jp_stream_chain_inputs(const jp_stream_chain_t *c, const bool *want_top, size_t **idx,
                                   size_t *n, jp_error_t *err);
jp_dataset_t *jp_stream_run_chain(const jp_stream_chain_t *c, jp_column_t *const *cols,
                                  const size_t *idx, size_t n, size_t nrows, const size_t *top_idx,
                                  size_t m, jp_error_t *err);

/* A consumer of a pass: batch() gets the chain's top node over each batch
 * (borrowed: it takes a reference to keep it), the fields asked for made;
 * reset() says that the batches so far are void and come again from the
 * first (a status from it stops the pass before the next batch); stopped
 * as in jp_csv_stream_cb_t (may be NULL). */
typedef struct jp_stream_consumer {
    jp_status_t (*batch)(void *ctx, jp_dataset_t *top, jp_error_t *err);
    jp_status_t (*reset)(void *ctx, jp_error_t *err);
    void *ctx;
    bool (*stopped)(void *ctx);
} jp_stream_consumer_t;

/* A consumer's batch() that also gets the batch's record offsets in the
 * file's text, one per row read from the file (the chain's top rows when
 * no node drops rows). */
typedef jp_status_t (*jp_stream_batch_at_fn)(void *ctx, jp_dataset_t *top,
                                             const jp_column_t *offsets, jp_error_t *err);

/* jp_csv_stream of the chain's file, reading what the top's fields
 * want_top[] need: each batch goes through the chain (counted in
 * jp_stream_batches), which starts from the first row at the pass's start
 * and at each restart, then to cb. */
jp_status_t jp_stream_chain_pass(const jp_stream_chain_t *c, const bool *want_top,
                                 const jp_stream_consumer_t *cb, jp_error_t *err);
/* The same, and the file's fields the top's fields check_top[] need
 * beyond those are checked as a full read checks them, not built
 * (jp_csv_stream_checked); batch_at (when not NULL) is called instead of
 * cb->batch, with the record offsets.  types (the file's fields:
 * c->src->schema.n_fields entries) gets the whole file's type of each
 * field read or checked (others: JP_TYPE_NONE). */
jp_status_t jp_stream_chain_pass_checked(const jp_stream_chain_t *c, const bool *want_top,
                                         const bool *check_top, jp_type_t *types,
                                         const jp_stream_consumer_t *cb,
                                         jp_stream_batch_at_fn batch_at, jp_error_t *err);

/*
 * concat of pipelines that stream (jp_stream_concat.c): a lazy dataset
 * whose rows are those of each part in turn; jp_stream_chain_of takes it
 * as a chain's bottom, and a pass over such a chain streams each part in
 * turn (jp_stream_concat_pass).  jp_concat_check: names, units and known
 * types as jp_concat checks them (map[d * nf + i]: field i of the first
 * part in part d); jp_concat_loaded: jp_concat on the loaded parts.
 */
bool jp_stream_concat_is(const jp_dataset_t *ds);
/* The parts of such a concat (borrowed), or false when ds is not one. */
bool jp_stream_concat_parts(const jp_dataset_t *ds, jp_dataset_t *const **parts, size_t *n);
jp_dataset_t *jp_stream_concat_plan(jp_dataset_t *const *list, size_t n, jp_error_t *err);
jp_status_t jp_stream_concat_pass(const jp_stream_chain_t *c, const bool *want_top,
                                  const jp_stream_consumer_t *cb, jp_error_t *err);
jp_status_t jp_concat_check(jp_dataset_t *const *list, size_t n, long *map, jp_error_t *err);
jp_dataset_t *jp_concat_loaded(jp_dataset_t *const *list, size_t n, jp_error_t *err);

/* Every row of ds (a chain that streams: in practice one ending in a head,
 * whose rows are few), fields idx[0..n) into cols[k] (new references) and
 * the number of rows into *nrows.  *fallback (JP_OK, nothing filled) when
 * ds does not stream or the file has no rows. */
jp_status_t jp_stream_collect(jp_dataset_t *ds, const size_t *idx, size_t n, jp_column_t **cols,
                              size_t *nrows, bool *fallback, jp_error_t *err);

/* One pass over ds (a chain that streams) that counts its rows into *nrows
 * and, when `first` is not NULL, keeps its first `keep` rows, every field,
 * as a new eager dataset (*first; the fields' types are the whole
 * input's).  *fallback (JP_OK, nothing filled) when ds does not stream, or
 * rows are asked for and there are none. */
jp_status_t jp_stream_firsts(jp_dataset_t *ds, size_t keep, jp_dataset_t **first, size_t *nrows,
                             bool *fallback, jp_error_t *err);
/* ds->nrows of a filter over a file (a plan node that drops rows), counted
 * in a pass that holds a batch: *counted, or not (JP_OK) when ds does not
 * stream. */
jp_status_t jp_stream_count(jp_dataset_t *ds, bool *counted, jp_error_t *err);

/* group_by + agg streamed (jp_stream.c): min, max, first, last carried
 * over a batch (jp_stream_ops.c).  *held has one cell per group of the
 * batches before (nulls: none yet); c is this batch's column, gid its rows'
 * groups (< ng).  Afterwards *held has ng cells: what jp_group.c picks over
 * all the rows so far, in row order. */
bool jp_stream_pick_kind(jp_agg_kind_t kind);
jp_status_t jp_stream_pick(jp_agg_kind_t kind, jp_column_t **held, const jp_column_t *c,
                           const uint32_t *gid, size_t nrows, size_t ng);

/* median, quantile, count_distinct streamed: each needs every value of its
 * group, so the aggregated field's values (one column, with their groups)
 * are held in row order and handed to jp_agg_column at the end. */
typedef struct jp_stream_held jp_stream_held_t;
bool jp_stream_hold_kind(jp_agg_kind_t kind);
jp_stream_held_t *jp_stream_held_new(jp_type_t type);
jp_status_t jp_stream_held_add(jp_stream_held_t *h, const jp_column_t *c, const uint32_t *gid,
                               size_t nrows, jp_error_t *err);
jp_column_t *jp_stream_held_result(jp_stream_held_t *h, const jp_agg_t *ag, const char *what,
                                   size_t ng, jp_error_t *err);
void jp_stream_held_free(jp_stream_held_t *h);

/* The column operations' errors (jp_verbs.c), said the same way streamed:
 * a type that is not a number; an integer sum that overflows. */
jp_status_t jp_vec_need_numeric(jp_type_t t, const char *op, const char *what, jp_error_t *err);
jp_status_t jp_vec_overflow(const char *what, jp_error_t *err);

#endif
