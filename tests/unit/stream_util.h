/*
 * stream_util.h - what the streaming tests (test_stream*.c, test_xsort.c)
 * share beyond unit.h's scratch directory: files written, a CSV file
 * read whole or lazily, a dataset's CSV text, and the sweep that runs a
 * pipeline over the lazy file at several batch sizes and thread counts
 * and compares it with the pipeline over the loaded file.
 */
#ifndef STREAM_UTIL_H
#define STREAM_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "unit.h"

/* Write (mode "wb") or append ("ab") text to a file. */
static inline void su_put(const char *path, const char *mode, const char *text)
{
    FILE *f = fopen(path, mode);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static inline char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    jp_buf_t b = JP_BUF_INIT;
    char tmp[65536];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) jp_buf_append(&b, tmp, got);
    fclose(f);
    return jp_buf_detach(&b, n);
}

static inline jp_dataset_t *read_file(const char *path, bool lazy)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK_MSG(jp_csv_read(path, &o, &ds, &err) == JP_OK, "%s", err.msg);
    return ds;
}

static inline char *csv_text(jp_dataset_t *ds)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_write_mem(ds, NULL, &b, &err) == JP_OK);
    jp_buf_putc(&b, 0);
    return jp_buf_detach(&b, NULL);
}

/* Later reads in batches of `batch` bytes of text (0: the reader's own)
 * on `threads` threads. */
static inline void su_tune(size_t batch, int threads)
{
    jp_csv_tuning_t t = {batch, batch ? batch / 4 : 0, 0, 1, threads};
    jp_csv_set_tuning(&t);
}

/* The sweep.  run() makes the result over ds (the loaded file, then the
 * lazy one); after() (may be NULL) works on a streamed result before it
 * is compared.  streams: a batch size set must take more than one batch. */
typedef struct su_sweep {
    const size_t *batch;
    size_t nbatch;
    int th_step; /* thread counts 1..3 by this step */
    bool streams;
    bool lazy_check; /* check that the lazy read gave a lazy dataset */
    jp_dataset_t *(*run)(void *ctx, jp_dataset_t *ds, jp_error_t *err);
    void (*after)(void *ctx, jp_dataset_t *got);
    void *ctx;
    const char *label; /* said in failures (may be "") */
} su_sweep_t;

/* The pipeline over the loaded file, and streamed at each batch size and
 * thread count: the same dataset, the same CSV text. */
static inline void su_same_everywhere(const char *path_arg, const su_sweep_t *sw)
{
    char path[512]; /* unit_path() names are reused */
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *want = eager ? sw->run(sw->ctx, eager, &err) : NULL;
    CHECK_MSG(want != NULL, "whole file: %s", err.msg);
    char *want_text = want ? csv_text(want) : NULL;
    for (size_t b = 0; b < sw->nbatch; b++)
        for (int th = 1; th <= 3; th += sw->th_step) {
            size_t batch = sw->batch[b];
            su_tune(batch, th);
            jp_dataset_t *lz = read_file(path, true);
            if (sw->lazy_check) CHECK(lz && lz->lazy);
            size_t before = jp_stream_batches();
            jp_dataset_t *got = lz ? sw->run(sw->ctx, lz, &err) : NULL;
            CHECK_MSG(got != NULL, "%s batch %zu threads %d: %s", sw->label, batch, th, err.msg);
            if (got && sw->after) sw->after(sw->ctx, got);
            if (sw->streams && batch)
                CHECK_MSG(jp_stream_batches() > before + 1, "%s batch %zu: it did not stream",
                          sw->label, batch);
            char why[256] = "";
            if (got && want)
                CHECK_MSG(jp_dataset_equal(want, got, why, sizeof why), "%s batch %zu: %s",
                          sw->label, batch, why);
            char *text = got ? csv_text(got) : NULL;
            if (text && want_text) CHECK_STR(text, want_text);
            jp_free(text);
            jp_dataset_unref(got);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_free(want_text);
    jp_dataset_unref(want);
    jp_dataset_unref(eager);
}

#endif
