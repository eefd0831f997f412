/*
 * test_stream_ops.c - a column's reductions streamed over a lazy CSV file
 * (jp_stream_column_summary) equal jp_vec_sum / mean / min / max / count on
 * the loaded column, bit for bit and error for error, whatever the batch
 * size and thread count: late type changes (the restart), nulls before
 * values, NaN and -0, text, integer overflow, a bad record at the end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"
#include "stream_util.h"
#include "unit.h"

/* n rows; i: integers; late: integers then one decimal at 90 %; txt: digits,
 * text from 95 %; nl: empty until 70 %; x: NaN, -0, 0 and numbers with
 * nulls; s: text; huge: integers whose sum overflows past 80 %; d: decimals
 * whose sum needs its compensation, some null. */
static void make_file(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("i,late,txt,nl,x,s,huge,d\n", f);
    unsigned r = 7;
    for (int k = 0; k < n; k++) {
        r = r * 1103515245u + 12345u;
        unsigned v = (r >> 9) & 0xffff;
        static const char *xs[] = {"nan", "-0.0", "0", "", "3.25", "-1e300", "1e-310"};
        static const char *ss[] = {"pear", "apple", "\"b, c\"", "", "zebra", "Apple"};
        fprintf(f, "%d,", (int)(v % 2001) - 1000);
        if (k == n * 9 / 10)
            fputs("0.5,", f);
        else
            fprintf(f, "%u,", v % 97);
        if (k >= n * 95 / 100 && v % 5 == 0)
            fputs("many,", f);
        else
            fprintf(f, "%u,", v % 13);
        if (k >= n * 7 / 10) fprintf(f, "%u", v % 7);
        fprintf(f, ",%s,%s,%lld,", xs[v % 7], ss[v % 6],
                k >= n * 8 / 10 ? 4000000000000000000LL : (long long)v);
        if (v % 11)
            fprintf(f, "%u.%03u%s\n", v % 50, (v * 7) % 1000, k % 3 ? "" : "e7");
        else
            fputs("\n", f);
    }
    fclose(f);
}

typedef jp_status_t (*vec_fn)(const jp_column_t *, const char *, jp_value_t *, jp_error_t *);

/* The value or the error, as text with every bit of a double. */
static void show(jp_status_t st, const jp_value_t *v, const jp_error_t *err, char *out, size_t n)
{
    if (st) {
        snprintf(out, n, "error %d: %s", (int)st, err->msg);
        return;
    }
    if (v->is_null) {
        snprintf(out, n, "null %s", jp_type_name(v->type));
        return;
    }
    switch (v->type) {
    case JP_TYPE_INT:
        snprintf(out, n, "int %lld q%d", (long long)v->u.i, (int)v->qual);
        break;
    case JP_TYPE_NUMBER:
        snprintf(out, n, "number %a q%d", v->u.d, (int)v->qual);
        break;
    case JP_TYPE_STRING:
        snprintf(out, n, "string %.*s", (int)v->u.s.len, v->u.s.ptr);
        break;
    default:
        snprintf(out, n, "%s", jp_type_name(v->type));
    }
}

static jp_dataset_t *filtered(jp_dataset_t *ds, const char *pred)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *f = pred ? jp_filter(ds, pred, &err) : jp_dataset_ref(ds);
    CHECK_MSG(f != NULL, "%s", err.msg);
    return f;
}

/* Every field's reductions, streamed at several batch sizes and thread
 * counts, against the loaded file's (after the filter pred, if any). */
static void same_reductions(const char *path, const char *pred)
{
    static const vec_fn fns[] = {jp_vec_sum, jp_vec_mean, jp_vec_min, jp_vec_max};
    static const jp_vec_op_t ops[] = {JP_VEC_SUM, JP_VEC_MEAN, JP_VEC_MIN, JP_VEC_MAX};
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *want = eager ? filtered(eager, pred) : NULL;
    jp_error_t err;
    jp_error_clear(&err);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t b = 0; want && b < sizeof batch / sizeof batch[0]; b++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[b], th);
            jp_dataset_t *lz = read_file(path, true);
            jp_dataset_t *got = lz ? filtered(lz, pred) : NULL;
            for (size_t f = 0; got && f < want->schema.n_fields; f++) {
                const char *name = want->schema.fields[f].name;
                size_t before = jp_stream_batches();
                jp_col_summary_t s;
                bool fallback = true;
                CHECK_MSG(jp_stream_column_summary(got, f, &s, &fallback, &err) == JP_OK, "%s",
                          err.msg);
                CHECK(!fallback);
                if (fallback) continue;
                if (batch[b]) CHECK_MSG(jp_stream_batches() > before + 1, "%s: not streamed", name);
                CHECK_MSG(got->cols[f] == NULL, "%s was loaded", name);
                const jp_column_t *c = want->cols[f];
                CHECK_MSG(s.type == c->type, "%s: %s, not %s", name, jp_type_name(s.type),
                          jp_type_name(c->type));
                CHECK_INT(s.rows, c->len);
                CHECK_INT(s.nulls, jp_column_null_count(c));
                CHECK_INT(s.rows - s.nulls, jp_vec_count(c));
                for (size_t k = 0; k < 4; k++) {
                    jp_value_t v1, v2;
                    jp_error_t e1, e2;
                    jp_error_clear(&e1);
                    jp_error_clear(&e2);
                    char t1[1200], t2[1200];
                    show(fns[k](c, name, &v1, &e1), &v1, &e1, t1, sizeof t1);
                    show(jp_col_summary_get(&s, ops[k], name, &v2, &e2), &v2, &e2, t2, sizeof t2);
                    CHECK_MSG(strcmp(t1, t2) == 0, "%s op %zu batch %zu threads %d: %s, not %s",
                              name, k, batch[b], th, t2, t1);
                }
                jp_col_summary_free(&s);
            }
            jp_dataset_unref(got);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(want);
    jp_dataset_unref(eager);
}

/* group_by + agg with the aggregates that pick a row (min, max, first,
 * last) and those that hold the values (median, quantile, count_distinct):
 * streamed (checked), the dataset and the CSV text of the whole file's. */
static jp_dataset_t *picks(jp_dataset_t *ds, const char *key, jp_error_t *err)
{
    const char *keys[] = {key};
    jp_agg_t a[] = {{"mn_i", JP_AGG_MIN, "i", 0},          {"mx_late", JP_AGG_MAX, "late", 0},
                    {"mn_x", JP_AGG_MIN, "x", 0},          {"mx_x", JP_AGG_MAX, "x", 0},
                    {"f_x", JP_AGG_FIRST, "x", 0},         {"l_nl", JP_AGG_LAST, "nl", 0},
                    {"f_nl", JP_AGG_FIRST, "nl", 0},       {"mn_s", JP_AGG_MIN, "s", 0},
                    {"mx_txt", JP_AGG_MAX, "txt", 0},      {"l_s", JP_AGG_LAST, "s", 0},
                    {"n", JP_AGG_COUNT, NULL, 0},          {"sd", JP_AGG_SUM, "d", 0},
                    {"md", JP_AGG_MEDIAN, "d", 0},         {"q", JP_AGG_QUANTILE, "x", 0.25},
                    {"cd", JP_AGG_COUNT_DISTINCT, "s", 0}, {"cdx", JP_AGG_COUNT_DISTINCT, "x", 0}};
    return jp_group_agg(ds, key ? keys : NULL, key ? 1 : 0, a, sizeof a / sizeof a[0], err);
}

static jp_dataset_t *run_picks(void *ctx, jp_dataset_t *ds, jp_error_t *err)
{
    return picks(ds, *(const char **)ctx, err);
}

static void same_picks(const char *path, const char *key)
{
    static const size_t batch[] = {0, 4096, 1500};
    su_sweep_t sw = {batch, 3, 2, true, false, run_picks, NULL, &key, ""};
    su_same_everywhere(path, &sw);
}

/* Extremes that the typed loops must find as the cell-by-cell one does:
 * NaN first in the file and first in batches, whole batches of NaN or
 * nulls, 0 and -0 tied (the earlier wins, in a batch and across batches),
 * equal extremes repeated, the integer extremes. */
static void make_extremes(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("x,k,z\n", f);
    for (int i = 0; i < n; i++) {
        int block = (i / 150) % 5;
        const char *x = block == 0   ? "nan"
                        : block == 1 ? (i % 2 ? "" : "nan")
                        : i % 7 == 0 ? "-0.0"
                        : i % 7 == 3 ? "0"
                        : i % 7 == 5 ? "nan"
                                     : NULL;
        if (x)
            fprintf(f, "%s,", x);
        else
            fprintf(f, "%d.5,", (i * 37) % 101 - 50);
        if (block == 1)
            fputs(",", f);
        else
            fprintf(f, "%lld,",
                    i % 500 == 7   ? -9223372036854775807LL - 1
                    : i % 500 == 9 ? 9223372036854775807LL
                                   : (long long)((i * 13) % 29));
        /* z: only zeros of both signs (and NaN): every cell ties the extremes */
        bool neg = ((i / 200) % 2) ? i % 3 == 0 : i % 3 != 0;
        fprintf(f, "%s\n", i < 5 || i % 11 == 0 ? "nan" : neg ? "-0.0" : "0.0");
    }
    fclose(f);
}

int main(void)
{
    if (unit_tmpdir("jp_stream_ops")) return 1;
    make_file(unit_path("d.csv"), 20000);
    CASE("column reductions streamed equal the loaded column's")
    same_reductions(unit_path("d.csv"), NULL);
    CASE("through a filter") same_reductions(unit_path("d.csv"), "i > 100");
    CASE("extremes: NaN and nulls first, ties of 0 and -0, within and across batches")
    {
        make_extremes(unit_path("x.csv"), 3000);
        same_reductions(unit_path("x.csv"), NULL);
        unlink(unit_path("x.csv"));
    }
    CASE("a filter that keeps nothing") same_reductions(unit_path("d.csv"), "i > 5000");
    CASE("group_by + agg with min, max, first, last, median, quantile, count_distinct streamed")
    same_picks(unit_path("d.csv"), "s");
    CASE("the same by a number key") same_picks(unit_path("d.csv"), "late");
    CASE("the same with no key") same_picks(unit_path("d.csv"), NULL);
    CASE("the median of text: the whole file's error")
    {
        const char *keys[] = {"i"};
        jp_agg_t a[] = {{"m", JP_AGG_MEDIAN, "txt", 0}};
        jp_error_t e1, e2;
        jp_error_clear(&e1);
        jp_error_clear(&e2);
        jp_dataset_t *eager = read_file(unit_path("d.csv"), false);
        jp_dataset_t *r1 = eager ? jp_group_agg(eager, keys, 1, a, 1, &e1) : NULL;
        su_tune(2048, 2);
        jp_dataset_t *lz = read_file(unit_path("d.csv"), true);
        size_t before = jp_stream_batches();
        jp_dataset_t *r2 = lz ? jp_group_agg(lz, keys, 1, a, 1, &e2) : NULL;
        CHECK(jp_stream_batches() > before + 1);
        CHECK(!r1 && !r2);
        CHECK_INT(e1.code, e2.code);
        CHECK_STR(e1.msg, e2.msg);
        jp_dataset_unref(lz);
        jp_dataset_unref(eager);
        jp_csv_set_tuning(NULL);
    }
    CASE("a header and no rows: the whole-file way")
    {
        su_put(unit_path("e.csv"), "wb", "a,b\n");
        su_tune(0, 0);
        jp_dataset_t *lz = read_file(unit_path("e.csv"), true);
        jp_col_summary_t s;
        bool fallback = false;
        jp_error_t err;
        jp_error_clear(&err);
        CHECK(lz && jp_stream_column_summary(lz, 0, &s, &fallback, &err) == JP_OK && fallback);
        jp_dataset_unref(lz);
        jp_csv_set_tuning(NULL);
        unlink(unit_path("e.csv"));
    }
    CASE("a bad record at the end: the whole file's error, naming its line")
    {
        make_file(unit_path("bad.csv"), 5000);
        su_put(unit_path("bad.csv"), "ab", "1,2\n");
        jp_error_t e1, e2;
        jp_error_clear(&e1);
        jp_error_clear(&e2);
        jp_dataset_t *eager = NULL;
        jp_read_opts_t o;
        jp_read_opts_init(&o);
        CHECK(jp_csv_read(unit_path("bad.csv"), &o, &eager, &e1) != JP_OK);
        su_tune(2048, 2);
        jp_dataset_t *lz = read_file(unit_path("bad.csv"), true);
        jp_col_summary_t s;
        bool fallback = false;
        CHECK(lz && jp_stream_column_summary(lz, 0, &s, &fallback, &e2) != JP_OK);
        CHECK_INT(e1.code, e2.code);
        CHECK_STR(e1.msg, e2.msg);
        CHECK_INT(e2.line, 5002);
        jp_dataset_unref(lz);
        jp_dataset_unref(eager);
        jp_csv_set_tuning(NULL);
        unlink(unit_path("bad.csv"));
    }
    unlink(unit_path("d.csv"));
    rmdir(unit_dir);
    return unit_done();
}
