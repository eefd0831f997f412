/*
 * test_xsort.c - the full sort of a lazy CSV pipeline in runs written to
 * temporary files and merged: the same rows, in the same order, as the
 * sort of the loaded file (ties in file order, nulls last in either
 * direction, NaN before nulls, text keys with shared prefixes), written to
 * a file or collected, whatever the run size, batch size and thread count;
 * keys whose column changes type late (the stream starts again); no
 * temporary file left after a success or an error; a budget too small.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"
#include "jp_xsort.h"
#include "stream_util.h"
#include "unit.h"

static char tmpdir[300], path[512];

/* N rows: g strings with shared prefixes, empties (nulls) and bytes past
 * ASCII, v few numbers (ties) with nulls and NaN, late an integer that
 * meets a decimal at 90 %, id unique, note free text with quotes. */
static void make_file(const char *p, int n)
{
    static const char *gs[] = {"ab", "a", "", "abc", "b", "B", "\xc3\xa9t\xc3\xa9", "a b"};
    static const char *vs[] = {"1.5", "-2", "", "nan", "0", "-0.0", "7.25", "1.5"};
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs("g,v,late,id,note\n", f);
    unsigned s = 4242;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        fprintf(f, "%s,%s,", gs[r % 8], vs[(r / 8) % 8]);
        if (i == n * 9 / 10)
            fputs("2.5,", f);
        else
            fprintf(f, "%d,", (int)(r % 50) - 20);
        fprintf(f, "%d,\"n \"\"%u\"\", more text\"\n", i, r % 1000);
    }
    fclose(f);
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *ds, jp_error_t *err);

static jp_dataset_t *p_two(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"g", false}, {"v", true}};
    return jp_sort(ds, k, 2, err);
}

static jp_dataset_t *p_text_desc(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"g", true}, {"late", false}};
    return jp_sort(ds, k, 2, err);
}

static jp_dataset_t *p_filtered(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "id % 3 ~= 0", err);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"w", "v * 2", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 1, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    jp_sort_key_t k[] = {{"w", false}, {"late", true}};
    jp_dataset_t *out = jp_sort(mu, k, 2, err);
    jp_dataset_unref(mu);
    return out;
}

/* Entries in the temporary directory. */
static int tmp_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

/* Written and collected: the loaded sort's bytes and dataset, with runs of
 * a few kilobytes (many runs) and with none. */
static void same_everywhere(pipeline_fn fn)
{
    jp_error_t err;
    jp_error_clear(&err);
    char want_path[600], got_path[600];
    snprintf(want_path, sizeof want_path, "%s/want.csv", unit_dir);
    snprintf(got_path, sizeof got_path, "%s/got.csv", unit_dir);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *want = eager ? fn(eager, &err) : NULL;
    CHECK_MSG(want && jp_csv_write(want, want_path, NULL, &err) == JP_OK, "%s", err.msg);
    size_t wn = 0;
    char *wtext = slurp(want_path, &wn);
    static const size_t runs[] = {0, 20000, 3000};
    static const size_t batch[] = {0, 4096};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++)
            for (int th = 1; th <= 3; th += 2) {
                su_tune(batch[b], th);
                jp_xsort_set_run_bytes(runs[r]);
                size_t before = jp_xsort_runs_written();
                jp_dataset_t *lz = read_file(path, true);
                jp_dataset_t *plan = lz ? fn(lz, &err) : NULL;
                CHECK_MSG(plan && jp_csv_write(plan, got_path, NULL, &err) == JP_OK, "%s", err.msg);
                if (runs[r] && batch[b]) CHECK(jp_xsort_runs_written() > before + 4);
                CHECK_MSG(plan && plan->lazy, "the plan was not loaded to be written");
                size_t gn = 0;
                char *got = slurp(got_path, &gn);
                CHECK_MSG(got && wtext && gn == wn && memcmp(got, wtext, wn) == 0,
                          "runs %zu batch %zu threads %d: %zu bytes, not %zu", runs[r], batch[b],
                          th, gn, wn);
                jp_free(got);
                /* collected */
                before = jp_xsort_runs_written();
                CHECK_MSG(plan && jp_dataset_need_all(plan, &err) == JP_OK, "%s", err.msg);
                if (runs[r] && batch[b]) CHECK(jp_xsort_runs_written() > before + 4);
                char why[256] = "";
                if (plan && want)
                    CHECK_MSG(jp_dataset_equal(want, plan, why, sizeof why), "runs %zu: %s",
                              runs[r], why);
                CHECK_INT(tmp_files(), 0);
                jp_dataset_unref(plan);
                jp_dataset_unref(lz);
            }
    jp_xsort_set_run_bytes(0);
    jp_csv_set_tuning(NULL);
    jp_free(wtext);
    unlink(want_path);
    unlink(got_path);
    jp_dataset_unref(want);
    jp_dataset_unref(eager);
}

/* A bad record near the end, found after runs went to disk: the error
 * names its line, and no temporary file and no output file remain. */
static void bad_record(void)
{
    char good[512], out[600];
    snprintf(good, sizeof good, "%s", path);
    snprintf(path, sizeof path, "%s/bad.csv", unit_dir);
    snprintf(out, sizeof out, "%s/out.csv", unit_dir);
    make_file(path, 4000);
    su_put(path, "ab", "ab,1.5\n");
    su_tune(4096, 2);
    jp_xsort_set_run_bytes(3000);
    size_t before = jp_xsort_runs_written();
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *lz = read_file(path, true);
    jp_dataset_t *plan = lz ? p_two(lz, &err) : NULL;
    CHECK(plan && jp_csv_write(plan, out, NULL, &err) != JP_OK);
    CHECK_INT(err.line, 4002);
    CHECK(jp_xsort_runs_written() > before);
    CHECK_INT(tmp_files(), 0);
    CHECK(access(out, F_OK) != 0);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_xsort_set_run_bytes(0);
    jp_csv_set_tuning(NULL);
    unlink(path);
    snprintf(path, sizeof path, "%s", good);
}

/* A budget that cannot hold a run's minimum: said so, nothing written. */
static void budget_too_small(void)
{
    char out[600];
    snprintf(out, sizeof out, "%s/out.csv", unit_dir);
    su_tune(4096, 2);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *lz = read_file(path, true);
    jp_dataset_t *plan = lz ? p_two(lz, &err) : NULL;
    jp_sort_set_memory(plan, 100000);
    CHECK(plan && jp_csv_write(plan, out, NULL, &err) == JP_ERR_LIMIT);
    CHECK_MSG(strstr(err.msg, "too small to sort in runs") != NULL && strstr(err.msg, "do not fit"),
              "%s", err.msg);
    CHECK(access(out, F_OK) != 0);
    CHECK_INT(tmp_files(), 0);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_csv_set_tuning(NULL);
}

int main(void)
{
    if (unit_tmpdir("jp_xsort")) return 1;
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", unit_dir);
    mkdir(tmpdir, 0700);
    setenv("TMPDIR", tmpdir, 1); /* the runs go there */
    snprintf(path, sizeof path, "%s/d.csv", unit_dir);
    make_file(path, 5000);
    CASE("two keys, ties, nulls, NaN: the loaded sort, from many runs") same_everywhere(p_two);
    CASE("text keys descending, a key that turns decimal late") same_everywhere(p_text_desc);
    CASE("a filter and a derived key") same_everywhere(p_filtered);
    CASE("a bad record after runs were written: its line, nothing left") bad_record();
    CASE("a budget too small for a run") budget_too_small();
    unlink(path);
    rmdir(tmpdir);
    rmdir(unit_dir);
    return unit_done();
}
