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
#include "unit.h"

static char dir[256];

static const char *tp(const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

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

static jp_dataset_t *read_file(const char *path, bool lazy)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK_MSG(jp_csv_read(path, &o, &ds, &err) == JP_OK, "%s", err.msg);
    CHECK(!lazy || (ds && ds->lazy));
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

static char *csv_text(jp_dataset_t *ds)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_write_mem(ds, NULL, &b, &err) == JP_OK);
    jp_buf_putc(&b, 0);
    return jp_buf_detach(&b, NULL);
}

/* The pipeline on the eager file and streamed at several batch sizes and
 * thread counts: the same dataset, the same text. */
static void same_everywhere(const char *path_arg, pipeline_fn fn, bool expect_batches)
{
    char path[512]; /* tp() names are reused */
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *want = eager ? fn(eager, &err) : NULL;
    CHECK_MSG(want != NULL, "whole file: %s", err.msg);
    char *want_text = want ? csv_text(want) : NULL;
    static const size_t batch[] = {0, 65536, 4096, 1500};
    for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++)
        for (int th = 1; th <= 3; th++) {
            jp_csv_tuning_t t = {batch[b], batch[b] ? batch[b] / 4 : 0, 0, 1, th};
            jp_csv_set_tuning(&t);
            jp_dataset_t *lz = read_file(path, true);
            size_t before = jp_stream_batches();
            jp_dataset_t *got = lz ? fn(lz, &err) : NULL;
            CHECK_MSG(got != NULL, "batch %zu threads %d: %s", batch[b], th, err.msg);
            if (expect_batches && batch[b])
                CHECK_MSG(jp_stream_batches() > before + 1, "batch %zu: it did not stream",
                          batch[b]);
            char why[256] = "";
            if (got && want) CHECK_MSG(jp_dataset_equal(want, got, why, sizeof why), "%s", why);
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

/* Both ways fail the same way: the same code and message. */
static void same_error(const char *path_arg, pipeline_fn fn, const char *part, long line)
{
    char path[512]; /* tp() names are reused */
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
    jp_csv_tuning_t t = {2048, 512, 0, 1, 2};
    jp_csv_set_tuning(&t);
    lz = read_file(path, true);
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

static jp_dataset_t *p_all(jp_dataset_t *ds, jp_error_t *err)
{
    (void)err;
    return jp_dataset_ref(ds);
}

static char *slurp(const char *path, size_t *n)
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

/* Files left in the test folder but those named. */
static int stray_files(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "ls -A '%s' | grep -v -e '^d.csv$' -e '^bad.csv$' -e '^empty.csv$' -e '^want' | wc -l",
             dir);
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
    char path[512]; /* tp() names are reused */
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    char wname[64], gname[64];
    snprintf(wname, sizeof wname, "want%s", ext);
    snprintf(gname, sizeof gname, "got%s", ext);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *rows = eager ? fn(eager, &err) : NULL;
    CHECK(rows && jp_csv_write(rows, tp(wname), NULL, &err) == JP_OK);
    jp_dataset_unref(rows);
    jp_dataset_unref(eager);
    size_t wn = 0, gn = 0;
    char *want = slurp(tp(wname), &wn);
    CHECK(want != NULL && wn > 100);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++)
        for (int th = 1; th <= 3; th += 2) {
            jp_csv_tuning_t t = {batch[b], batch[b] ? batch[b] / 4 : 0, 0, 1, th};
            jp_csv_set_tuning(&t);
            jp_dataset_t *lz = read_file(path, true);
            jp_dataset_t *plan = lz ? fn(lz, &err) : NULL;
            size_t before = jp_stream_batches();
            jp_write_opts_t o;
            jp_write_opts_init(&o);
            o.threads = th;
            CHECK_MSG(plan && jp_csv_write(plan, tp(gname), &o, &err) == JP_OK, "%s", err.msg);
            CHECK_MSG(plan && plan->lazy, "the plan was not loaded");
            if (batch[b]) CHECK(jp_stream_batches() > before + 1);
            char *got = slurp(tp(gname), &gn);
            CHECK_MSG(got && gn == wn && memcmp(got, want, wn) == 0,
                      "batch %zu threads %d: %zu bytes, not %zu", batch[b], th, gn, wn);
            jp_free(got);
            unlink(tp(gname));
            jp_dataset_unref(plan);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_free(want);
    unlink(tp(wname));
}

/* A write that fails midway leaves no file and no temporary behind, and
 * an older file of that name as it was. */
static void failed_write_leaves_nothing(void)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_tuning_t t = {2048, 512, 0, 1, 2};
    jp_csv_set_tuning(&t);
    jp_dataset_t *lz = read_file(tp("bad.csv"), true);
    jp_dataset_t *plan = lz ? p_rows(lz, &err) : NULL;
    CHECK(plan && jp_csv_write(plan, tp("out.csv"), NULL, &err) != JP_OK);
    CHECK_INT(err.line, 20002);
    CHECK(access(tp("out.csv"), F_OK) != 0);
    put(tp("old.csv"), "a\n1\n");
    CHECK(plan && jp_csv_write(plan, tp("old.csv.gz"), NULL, &err) != JP_OK);
    CHECK(plan && jp_csv_write(plan, tp("old.csv"), NULL, &err) != JP_OK);
    size_t n = 0;
    char *old = slurp(tp("old.csv"), &n);
    CHECK(old && n == 4 && memcmp(old, "a\n1\n", 4) == 0);
    jp_free(old);
    unlink(tp("old.csv"));
    CHECK_INT(stray_files(), 0);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_csv_set_tuning(NULL);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/jp_stream_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) return 1;
    make_file(tp("d.csv"), 30000);
    CASE("group_by + agg streamed equals the whole file")
    same_everywhere(tp("d.csv"), p_main, true);
    CASE("number keys: -0 is 0, NaN is NaN") same_everywhere(tp("d.csv"), p_numkey, true);
    CASE("no keys: one row") same_everywhere(tp("d.csv"), p_nokeys, true);
    CASE("no row kept: one row of nothing") same_everywhere(tp("d.csv"), p_nothing, true);
    CASE("aggregates and windows in expressions need every row: not streamed")
    {
        size_t before = jp_stream_batches();
        same_everywhere(tp("d.csv"), p_window, false);
        CHECK(jp_stream_batches() == before);
    }
    CASE("a header and no rows")
    {
        put(tp("empty.csv"), "k,y,v,late,nulls_then,txt,x,big\n");
        same_everywhere(tp("empty.csv"), p_count, false);
    }
    CASE("a column that turns to text late: the type error of the whole file")
    same_error(tp("d.csv"), p_sum_text, "not a number", 0);
    CASE("an expression over it: the same error") same_error(tp("d.csv"), p_bad_expr, "mutate", 0);
    CASE("a bad record near the end: the same error, naming its line")
    {
        make_file(tp("bad.csv"), 20000);
        FILE *f = fopen(tp("bad.csv"), "ab");
        if (f) {
            fputs("north,2020,1.5,3\n", f);
            fclose(f);
        }
        same_error(tp("bad.csv"), p_main, "field", 20002);
    }
    CASE("write_csv streamed: the bytes of the whole file") same_file(tp("d.csv"), p_rows, ".csv");
    CASE("write_csv .csv.gz streamed: the same bytes") same_file(tp("d.csv"), p_rows, ".csv.gz");
    CASE("a file copied whole, streamed") same_file(tp("d.csv"), p_all, ".csv");
    CASE("a write that fails midway leaves nothing") failed_write_leaves_nothing();
    unlink(tp("d.csv"));
    unlink(tp("empty.csv"));
    unlink(tp("bad.csv"));
    rmdir(dir);
    return unit_done();
}
