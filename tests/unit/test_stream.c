/*
 * test_stream.c - streaming execution: a lazy CSV pipeline ending in
 * group_by + agg gives, batch by batch, exactly what the whole-file way
 * gives (the same dataset, the same CSV text), whatever the batch size and
 * the thread count; columns whose type changes late in the file, nulls
 * before values, -0 and NaN keys; errors midway are the whole-file errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"
#include "stream_util.h"
#include "unit.h"

/* N rows: keys with quotes and commas, nulls, numbers, an integer column
 * that meets a decimal at 90 %, one that is empty until 60 % and then
 * integral, one that turns to text at 95 % ("many"), a number key with -0 and nan. */
static void make_file(const char *path, int n)
{
    static const char *keys[] = {"north", "\"south, far\"", "\"a \"\"q\"\"\"", "", "east"};
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("k,y,v,late,nulls_then,txt,x,big\n", f);
    unsigned s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        fprintf(f, "%s,%d,", keys[r % 5], 2015 + (int)(r % 4));
        if (r % 17 == 0)
            fputs(",", f);
        else
            fprintf(f, "%u.%03u,", r % 50, (r * 7) % 1000);
        if (i == n * 9 / 10)
            fputs("2.5,", f);
        else if (r % 101 == 0)
            fputs("NA,", f); /* a missing-value marker: null in a typed column */
        else
            fprintf(f, "%d,", (int)(r % 1000) - 300);
        if (i >= n * 6 / 10) fprintf(f, "%u", r % 100);
        fputs(",", f);
        if (i >= n * 95 / 100 && r % 3 == 0)
            fputs("many,", f);
        else
            fprintf(f, "%u,", r % 9);
        static const char *xs[] = {"0.0", "-0.0", "1.5", "nan", "2"};
        fprintf(f, "%s,%lld\n", xs[r % 5], (long long)r * 1000000000LL);
    }
    fclose(f);
}

static jp_dataset_t *read_lazy(const char *path)
{
    jp_dataset_t *ds = read_file(path, true);
    CHECK(ds && ds->lazy);
    return ds;
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *ds, jp_error_t *err);

static jp_dataset_t *p_main(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "v > 10", err);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"r", "v / 3", NULL, NULL}, {"late2", "late * 2", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 2, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    const char *keys[] = {"k", "y"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0},         {"nv", JP_AGG_COUNT, "v", 0},
                    {"sv", JP_AGG_SUM, "v", 0},           {"mr", JP_AGG_MEAN, "r", 0},
                    {"sb", JP_AGG_SUM, "big", 0},         {"sl", JP_AGG_SUM, "late2", 0},
                    {"mn", JP_AGG_MEAN, "nulls_then", 0}, {"ct", JP_AGG_COUNT, "txt", 0}};
    jp_dataset_t *out = jp_group_agg(mu, keys, 2, a, sizeof a / sizeof a[0], err);
    jp_dataset_unref(mu);
    return out;
}

static jp_dataset_t *p_numkey(jp_dataset_t *ds, jp_error_t *err)
{
    const char *names[] = {"x", "late", "y"};
    jp_dataset_t *s = jp_select(ds, names, 3, err);
    if (!s) return NULL;
    const char *keys[] = {"x"};
    jp_agg_t a[] = {{"s", JP_AGG_SUM, "late", 0}, {"m", JP_AGG_MEAN, "y", 0}};
    jp_dataset_t *out = jp_group_agg(s, keys, 1, a, 2, err);
    jp_dataset_unref(s);
    return out;
}

static jp_dataset_t *p_nokeys(jp_dataset_t *ds, jp_error_t *err)
{
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"s", JP_AGG_SUM, "v", 0}};
    return jp_group_agg(ds, NULL, 0, a, 2, err);
}

static jp_dataset_t *p_nothing(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "v > 1000", err);
    if (!f) return NULL;
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"s", JP_AGG_SUM, "v", 0}};
    jp_dataset_t *out = jp_group_agg(f, NULL, 0, a, 2, err);
    jp_dataset_unref(f);
    return out;
}

static jp_dataset_t *run_pipeline(void *ctx, jp_dataset_t *ds, jp_error_t *err)
{
    return (*(pipeline_fn *)ctx)(ds, err);
}

/* The pipeline on the eager file and streamed at several batch sizes and
 * thread counts: the same dataset, the same text. */
static void same_everywhere(const char *path, pipeline_fn fn, bool expect_batches)
{
    static const size_t batch[] = {0, 65536, 4096, 1500};
    su_sweep_t sw = {batch, 4, 1, expect_batches, true, run_pipeline, NULL, &fn, ""};
    su_same_everywhere(path, &sw);
}

/* Both ways fail the same way: the same code and message. */
static void same_error(const char *path_arg, pipeline_fn fn, const char *part, long line)
{
    char path[512]; /* unit_path() names are reused */
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_error_clear(&e2);
    jp_csv_set_tuning(NULL);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_dataset_t *eager = NULL, *r1 = NULL, *lz = NULL;
    /* the whole file: the read (which may refuse the file) and the work */
    if (jp_csv_read(path, &o, &eager, &e1) == JP_OK) r1 = fn(eager, &e1);
    su_tune(2048, 2);
    lz = read_lazy(path);
    jp_dataset_t *r2 = lz ? fn(lz, &e2) : NULL;
    CHECK(r1 == NULL && r2 == NULL);
    CHECK_INT(e1.code, e2.code);
    CHECK_STR(e1.msg, e2.msg);
    CHECK_INT(e1.line, e2.line);
    CHECK_INT(e1.row, e2.row);
    if (line) CHECK_INT(e2.line, line);
    CHECK_MSG(strstr(e2.msg, part) != NULL, "'%s' lacks '%s'", e2.msg, part);
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(r1);
    jp_dataset_unref(r2);
    jp_dataset_unref(lz);
    jp_dataset_unref(eager);
}

static jp_dataset_t *p_count(jp_dataset_t *ds, jp_error_t *err)
{
    const char *keys[] = {"k", "y"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"nv", JP_AGG_COUNT, "v", 0}};
    return jp_group_agg(ds, keys, 2, a, 2, err);
}

static jp_dataset_t *p_window(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "v > mean(v)", err);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"c", "cumsum(y)", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 1, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"s", JP_AGG_SUM, "c", 0}};
    jp_dataset_t *out = jp_group_agg(mu, keys, 1, a, 2, err);
    jp_dataset_unref(mu);
    return out;
}

static jp_dataset_t *p_sum_text(jp_dataset_t *ds, jp_error_t *err)
{
    const char *keys[] = {"k"};
    jp_agg_t a[] = {{"s", JP_AGG_SUM, "txt", 0}};
    return jp_group_agg(ds, keys, 1, a, 1, err);
}

static jp_dataset_t *p_bad_expr(jp_dataset_t *ds, jp_error_t *err)
{
    jp_mutation_t m[] = {{"r", "txt * 2", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(ds, m, 1, false, err);
    if (!mu) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t a[] = {{"s", JP_AGG_SUM, "r", 0}};
    jp_dataset_t *out = jp_group_agg(mu, keys, 1, a, 1, err);
    jp_dataset_unref(mu);
    return out;
}

static jp_dataset_t *p_rows(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "v > 10", err);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"r", "v / 3", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 1, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    const char *names[] = {"k", "r", "late", "nulls_then", "txt", "x", "big"};
    jp_dataset_t *out = jp_select(mu, names, 7, err);
    jp_dataset_unref(mu);
    return out;
}

/* Three regions of rows that differ in what a batch's columns hold: text
 * values of their own (a fresh dictionary per batch), nulls only in the
 * first and last, quoted fields with commas and line ends only in the
 * middle.  A batch's columns that the consumer drops are filled again by
 * the next batch: nothing of one batch may show in another. */
static void make_regions(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("s,v,w,t\n", f);
    for (int i = 0; i < 3 * n; i++) {
        int region = i / n;
        if (region == 1)
            fprintf(f, "b%d,%d,\"x, %d\ny\",%d.5\n", i % 7, i % 50, i, i % 13);
        else if (i % 5 == 0)
            fprintf(f, "%c%d,,w%d,\n", region ? 'c' : 'a', i % 11, i % 3);
        else
            fprintf(f, "%c%d,%d,w%d,%d\n", region ? 'c' : 'a', i % 11, i % 40, i % 3, i % 9);
    }
    fclose(f);
}

static jp_dataset_t *p_regions(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "v >= 3", err);
    if (!f) return NULL;
    const char *names[] = {"w", "s", "t", "v"};
    jp_dataset_t *out = jp_select(f, names, 4, err);
    jp_dataset_unref(f);
    return out;
}

static jp_dataset_t *p_region_groups(jp_dataset_t *ds, jp_error_t *err)
{
    const char *keys[] = {"s"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0},
                    {"nv", JP_AGG_COUNT, "v", 0},
                    {"sv", JP_AGG_SUM, "v", 0},
                    {"st", JP_AGG_SUM, "t", 0}};
    return jp_group_agg(ds, keys, 1, a, 4, err);
}

static jp_dataset_t *p_all(jp_dataset_t *ds, jp_error_t *err)
{
    (void)err;
    return jp_dataset_ref(ds);
}

/* Files left in the test folder but those named. */
static int stray_files(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "ls -A '%s' | grep -v -e '^d.csv$' -e '^bad.csv$' -e '^empty.csv$' -e '^want' | wc -l",
             unit_dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* write_csv of the pipeline: streamed, the same bytes as from the whole
 * file, plain and gzip, at every batch size and thread count. */
static void same_file(const char *path_arg, pipeline_fn fn, const char *ext)
{
    char path[512]; /* unit_path() names are reused */
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    char wname[64], gname[64];
    snprintf(wname, sizeof wname, "want%s", ext);
    snprintf(gname, sizeof gname, "got%s", ext);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *rows = eager ? fn(eager, &err) : NULL;
    CHECK(rows && jp_csv_write(rows, unit_path(wname), NULL, &err) == JP_OK);
    jp_dataset_unref(rows);
    jp_dataset_unref(eager);
    size_t wn = 0, gn = 0;
    char *want = slurp(unit_path(wname), &wn);
    CHECK(want != NULL && wn > 100);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[b], th);
            jp_dataset_t *lz = read_lazy(path);
            jp_dataset_t *plan = lz ? fn(lz, &err) : NULL;
            size_t before = jp_stream_batches();
            jp_write_opts_t o;
            jp_write_opts_init(&o);
            o.threads = th;
            CHECK_MSG(plan && jp_csv_write(plan, unit_path(gname), &o, &err) == JP_OK, "%s",
                      err.msg);
            CHECK_MSG(plan && plan->lazy, "the plan was not loaded");
            if (batch[b]) CHECK(jp_stream_batches() > before + 1);
            char *got = slurp(unit_path(gname), &gn);
            CHECK_MSG(got && gn == wn && memcmp(got, want, wn) == 0,
                      "batch %zu threads %d: %zu bytes, not %zu", batch[b], th, gn, wn);
            jp_free(got);
            unlink(unit_path(gname));
            jp_dataset_unref(plan);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_free(want);
    unlink(unit_path(wname));
}

/* A write that fails midway leaves no file and no temporary behind, and
 * an older file of that name as it was. */
static void failed_write_leaves_nothing(void)
{
    jp_error_t err;
    jp_error_clear(&err);
    su_tune(2048, 2);
    jp_dataset_t *lz = read_lazy(unit_path("bad.csv"));
    jp_dataset_t *plan = lz ? p_rows(lz, &err) : NULL;
    CHECK(plan && jp_csv_write(plan, unit_path("out.csv"), NULL, &err) != JP_OK);
    CHECK_INT(err.line, 20002);
    CHECK(access(unit_path("out.csv"), F_OK) != 0);
    su_put(unit_path("old.csv"), "wb", "a\n1\n");
    CHECK(plan && jp_csv_write(plan, unit_path("old.csv.gz"), NULL, &err) != JP_OK);
    CHECK(plan && jp_csv_write(plan, unit_path("old.csv"), NULL, &err) != JP_OK);
    size_t n = 0;
    char *old = slurp(unit_path("old.csv"), &n);
    CHECK(old && n == 4 && memcmp(old, "a\n1\n", 4) == 0);
    jp_free(old);
    unlink(unit_path("old.csv"));
    CHECK_INT(stray_files(), 0);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_csv_set_tuning(NULL);
}

int main(void)
{
    if (unit_tmpdir("jp_stream")) return 1;
    make_file(unit_path("d.csv"), 30000);
    CASE("group_by + agg streamed equals the whole file")
    same_everywhere(unit_path("d.csv"), p_main, true);
    CASE("number keys: -0 is 0, NaN is NaN") same_everywhere(unit_path("d.csv"), p_numkey, true);
    CASE("no keys: one row") same_everywhere(unit_path("d.csv"), p_nokeys, true);
    CASE("no row kept: one row of nothing") same_everywhere(unit_path("d.csv"), p_nothing, true);
    CASE("aggregates and windows in expressions need every row: not streamed")
    {
        size_t before = jp_stream_batches();
        same_everywhere(unit_path("d.csv"), p_window, false);
        CHECK(jp_stream_batches() == before);
    }
    CASE("a header and no rows")
    {
        su_put(unit_path("empty.csv"), "wb", "k,y,v,late,nulls_then,txt,x,big\n");
        same_everywhere(unit_path("empty.csv"), p_count, false);
    }
    CASE("a column that turns to text late: the type error of the whole file")
    same_error(unit_path("d.csv"), p_sum_text, "not a number", 0);
    CASE("an expression over it: the same error")
    same_error(unit_path("d.csv"), p_bad_expr, "mutate", 0);
    CASE("a bad record near the end: the same error, naming its line")
    {
        make_file(unit_path("bad.csv"), 20000);
        su_put(unit_path("bad.csv"), "ab", "north,2020,1.5,3\n");
        same_error(unit_path("bad.csv"), p_main, "field", 20002);
    }
    CASE("write_csv streamed: the bytes of the whole file")
    same_file(unit_path("d.csv"), p_rows, ".csv");
    CASE("write_csv .csv.gz streamed: the same bytes")
    same_file(unit_path("d.csv"), p_rows, ".csv.gz");
    CASE("a file copied whole, streamed") same_file(unit_path("d.csv"), p_all, ".csv");
    CASE("a write that fails midway leaves nothing") failed_write_leaves_nothing();
    CASE("batches that differ, their columns filled again: the rows of the whole file")
    {
        make_regions(unit_path("d.csv"), 3000);
        same_file(unit_path("d.csv"), p_regions, ".csv");
        same_file(unit_path("d.csv"), p_all, ".csv");
        same_everywhere(unit_path("d.csv"), p_region_groups, true);
    }
    unlink(unit_path("d.csv"));
    unlink(unit_path("empty.csv"));
    unlink(unit_path("bad.csv"));
    rmdir(unit_dir);
    return unit_done();
}
