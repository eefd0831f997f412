/*
 * test_stream_convert.c - convert over a lazy CSV pipeline streams: each
 * batch is converted as it goes by (one unit for the field, or each row's
 * own unit from its unit field), and the result is the loaded file's, byte
 * for byte, whatever the batch size and thread count: integers that stay
 * integers, integers that overflow late in the file (numbers throughout),
 * errors naming the row and its line in the file.
 */
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

/* N rows: k, y, wan (integers in 万元, one huge near the end when `huge`),
 * area (numbers in mu), value with its unit in `unit` (mu, ha, 亩; a
 * unit of another dimension at row `bad` when > 0). */
static void make_file(const char *path, int n, bool huge, int bad)
{
    static const char *units[] = {"mu", "ha", "亩", "mu"};
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("k,y,wan,area,value,unit\n", f);
    unsigned s = 4242;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        if (i + 1 == bad) {
            fputs("kbad,2020,1,1.5,5.5,kg\n", f);
            continue;
        }
        fprintf(f, "k%u,%d,", r % 7, 2015 + (int)(r % 4));
        if (huge && i == n * 9 / 10)
            fputs("922337203685478,", f);
        else if (r % 13 == 0)
            fputs(",", f);
        else
            fprintf(f, "%d,", (int)(r % 100000) - 20000);
        fprintf(f, "%u.%02u,", r % 900, r % 100);
        if (r % 11 == 0)
            fputs(",", f); /* no value: its unit may be missing too */
        else
            fprintf(f, "%u.%u,", r % 5000, r % 10);
        if (r % 11 == 0 && r % 2)
            fputs("\n", f);
        else
            fprintf(f, "%s\n", units[r % 4]);
    }
    fclose(f);
}

static jp_schema_t schema;

static void add_field(const char *name, jp_type_t t, const char *unit, const char *unit_field)
{
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)name;
    f.type = t;
    f.unit = (char *)unit;
    f.unit_field = (char *)unit_field;
    jp_schema_add(&schema, &f, NULL);
}

static jp_dataset_t *read_with_schema(const char *path, bool lazy, jp_error_t *err)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    o.schema = &schema;
    jp_dataset_t *ds = NULL;
    if (jp_csv_read(path, &o, &ds, err)) return NULL;
    return ds;
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *ds, jp_error_t *err);

static jp_dataset_t *p_wan(jp_dataset_t *ds, jp_error_t *err)
{
    return jp_convert(ds, "wan", "CNY", err);
}

static jp_dataset_t *p_area(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *c = jp_convert(ds, "area", "万亩", err);
    jp_dataset_t *out = c ? jp_convert(c, "wan", "亿元", err) : NULL;
    jp_dataset_unref(c);
    return out;
}

static jp_dataset_t *p_rows(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "y ~= 2016", err);
    jp_dataset_t *out = f ? jp_convert(f, "value", "ha", err) : NULL;
    jp_dataset_unref(f);
    return out;
}

static jp_dataset_t *p_group(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *c = p_rows(ds, err);
    jp_dataset_t *a = c ? jp_convert(c, "area", "ha", err) : NULL;
    jp_dataset_unref(c);
    if (!a) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0},
                     {"s", JP_AGG_SUM, "area", 0},
                     {"m", JP_AGG_MAX, "wan", 0},
                     {"v", JP_AGG_SUM, "value", 0}};
    jp_dataset_t *out = jp_group_agg(a, keys, 1, ag, 4, err);
    jp_dataset_unref(a);
    return out;
}

/* The pipeline over the loaded file, and written from the lazy file at
 * each batch size and thread count: the same bytes; the lazy result
 * loaded: the same dataset. */
static void same_everywhere(const char *path_arg, pipeline_fn fn, bool streams)
{
    char path[512];
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_with_schema(path, false, &err);
    jp_dataset_t *want = eager ? fn(eager, &err) : NULL;
    CHECK_MSG(want != NULL, "whole file: %s", err.msg);
    CHECK(want && jp_csv_write(want, unit_path("want.csv"), NULL, &err) == JP_OK);
    size_t wn = 0, gn = 0;
    char *wtext = slurp(unit_path("want.csv"), &wn);
    static const size_t batch[] = {0, 65536, 4096, 1500};
    for (size_t b = 0; b < 4; b++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[b], th);
            jp_dataset_t *lz = read_with_schema(path, true, &err);
            CHECK(lz && lz->lazy);
            jp_dataset_t *got = lz ? fn(lz, &err) : NULL;
            CHECK_MSG(got != NULL, "batch %zu: %s", batch[b], err.msg);
            size_t before = jp_stream_batches();
            CHECK_MSG(got && jp_csv_write(got, unit_path("got.csv"), NULL, &err) == JP_OK,
                      "batch %zu: %s", batch[b], err.msg);
            if (streams && batch[b]) {
                CHECK_MSG(jp_stream_batches() > before + 1, "batch %zu: it did not stream",
                          batch[b]);
                CHECK(got && got->lazy);
            }
            char *gtext = slurp(unit_path("got.csv"), &gn);
            CHECK_MSG(gtext && wtext && gn == wn && memcmp(gtext, wtext, wn) == 0,
                      "batch %zu threads %d: %zu bytes, not %zu", batch[b], th, gn, wn);
            jp_free(gtext);
            char why[256] = "";
            if (got && want)
                CHECK_MSG(jp_dataset_equal(want, got, why, sizeof why), "batch %zu: %s", batch[b],
                          why);
            jp_dataset_unref(got);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_free(wtext);
    jp_dataset_unref(want);
    jp_dataset_unref(eager);
    unlink(unit_path("want.csv"));
    unlink(unit_path("got.csv"));
}

/* A row whose unit does not convert: the same error loaded and streamed,
 * naming the row and its line; the output file is not left behind. */
static void same_error(const char *path_arg, pipeline_fn fn, long line)
{
    char path[512];
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_error_clear(&e2);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_with_schema(path, false, &e1);
    jp_dataset_t *r1 = eager ? fn(eager, &e1) : NULL;
    CHECK(eager && !r1);
    su_tune(1500, 2);
    jp_dataset_t *lz = read_with_schema(path, true, &e2);
    jp_dataset_t *plan = lz ? fn(lz, &e2) : NULL;
    CHECK_MSG(plan != NULL, "%s", e2.msg);
    CHECK(plan && jp_csv_write(plan, unit_path("out.csv"), NULL, &e2) != JP_OK);
    CHECK(access(unit_path("out.csv"), F_OK) != 0);
    CHECK_STR(e2.msg, e1.msg);
    CHECK_INT(e2.row, e1.row);
    CHECK_INT(e2.line, e1.line);
    CHECK_INT(e2.line, line);
    CHECK_MSG(strstr(e2.file, "bad.csv") != NULL, "file '%s'", e2.file);
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_dataset_unref(eager);
}

int main(void)
{
    if (unit_tmpdir("jp_stream_convert")) return 1;
    add_field("wan", JP_TYPE_INT, "万元", NULL);
    add_field("area", JP_TYPE_NONE, "mu", NULL);
    add_field("value", JP_TYPE_NUMBER, NULL, "unit");
    char path[512], big[512], bad[512];
    snprintf(path, sizeof path, "%s", unit_path("d.csv"));
    snprintf(big, sizeof big, "%s", unit_path("big.csv"));
    snprintf(bad, sizeof bad, "%s", unit_path("bad.csv"));
    make_file(path, 20000, false, 0);
    make_file(big, 20000, true, 0);
    make_file(bad, 20000, false, 18000);
    CASE("integers times a whole factor stay integers") same_everywhere(path, p_wan, true);
    CASE("integers that overflow late: numbers throughout") same_everywhere(big, p_wan, true);
    CASE("two conversions, powers of ten") same_everywhere(path, p_area, true);
    CASE("each row from its own unit, after a filter") same_everywhere(path, p_rows, true);
    CASE("converted fields into group_by + agg") same_everywhere(path, p_group, false);
    CASE("a row whose unit does not convert: its row and line") same_error(bad, p_rows, 18001);
    unlink(path);
    unlink(big);
    unlink(bad);
    jp_schema_free(&schema);
    rmdir(unit_dir);
    return unit_done();
}
