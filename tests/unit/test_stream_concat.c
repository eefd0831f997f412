/*
 * test_stream_concat.c - concat of lazy CSV pipelines streams: the batches
 * of the first, then of the second, in the first's field order, with the
 * types jp_concat gives the loaded parts (integers widened to numbers when
 * a part has decimals, also when that part comes later); the result is the
 * loaded parts' concat, byte for byte, whatever the batch size and thread
 * count; a type clash is the same error.
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

/* N rows of k,y,v,w,s (or, `swapped`, s,w,v,y,k); v meets a decimal at
 * row `dec` (0: never); s holds text, or integers when `s_int`. */
static void make_file(const char *path, int n, bool swapped, int dec, bool s_int, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(swapped ? "s,w,v,y,k\n" : "k,y,v,w,s\n", f);
    unsigned s = seed;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        char v[32], w[32], t[32];
        if (i + 1 == dec)
            snprintf(v, sizeof v, "%u.5", r % 100);
        else if (r % 19 == 0)
            v[0] = 0;
        else
            snprintf(v, sizeof v, "%d", (int)(r % 1000) - 100);
        snprintf(w, sizeof w, "%u.%02u", r % 300, r % 100);
        if (s_int)
            snprintf(t, sizeof t, "%u", r % 50);
        else
            snprintf(t, sizeof t, "t%u", r % 50);
        if (swapped)
            fprintf(f, "%s,%s,%s,%d,k%u\n", t, w, v, 2015 + (int)(r % 4), r % 6);
        else
            fprintf(f, "k%u,%d,%s,%s,%s\n", r % 6, 2015 + (int)(r % 4), v, w, t);
    }
    fclose(f);
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err);

static jp_dataset_t *p_cat(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *l[] = {a, b};
    return jp_concat(l, 2, err);
}

/* A head of the concat: the parts stop being read once it has its rows. */
static jp_dataset_t *p_head(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    jp_dataset_t *out = c ? jp_head(c, 12500, err) : NULL;
    jp_dataset_unref(c);
    return out;
}

/* A top-N of the concat: each batch's first rows into the pool. */
static jp_dataset_t *p_top(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    jp_sort_key_t keys[] = {{"w", true}, {"k", false}};
    jp_dataset_t *s = c ? jp_sort(c, keys, 2, err) : NULL;
    jp_dataset_t *out = s ? jp_head(s, 40, err) : NULL;
    jp_dataset_unref(c);
    jp_dataset_unref(s);
    return out;
}

static jp_dataset_t *p_filtered(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *fa = jp_filter(a, "w > 100", err);
    jp_mutation_t m[] = {{"w", "w * 2", NULL, NULL}};
    jp_dataset_t *mb = fa ? jp_mutate(b, m, 1, false, err) : NULL;
    jp_dataset_t *l[] = {fa, mb, fa};
    jp_dataset_t *out = mb ? jp_concat(l, 3, err) : NULL;
    jp_dataset_unref(fa);
    jp_dataset_unref(mb);
    return out;
}

static jp_dataset_t *p_group(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    jp_dataset_t *f = c ? jp_filter(c, "y ~= 2016", err) : NULL;
    jp_dataset_unref(c);
    if (!f) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0},
                     {"sv", JP_AGG_SUM, "v", 0},
                     {"mw", JP_AGG_MEAN, "w", 0},
                     {"ls", JP_AGG_LAST, "s", 0}};
    jp_dataset_t *out = jp_group_agg(f, keys, 1, ag, 4, err);
    jp_dataset_unref(f);
    return out;
}

/* group_by + agg reading two fields: v, w and s are only checked. */
static jp_dataset_t *p_narrow(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    if (!c) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"sy", JP_AGG_SUM, "y", 0}};
    jp_dataset_t *out = jp_group_agg(c, keys, 1, ag, 2, err);
    jp_dataset_unref(c);
    return out;
}

/* The same reading v, whose type a part may change late. */
static jp_dataset_t *p_narrow_v(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    if (!c) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t ag[] = {{"sv", JP_AGG_SUM, "v", 0}, {"lv", JP_AGG_LAST, "v", 0}};
    jp_dataset_t *out = jp_group_agg(c, keys, 1, ag, 2, err);
    jp_dataset_unref(c);
    return out;
}

/* No field read at all: every one is checked. */
static jp_dataset_t *p_count(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    if (!c) return NULL;
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0}};
    jp_dataset_t *out = jp_group_agg(c, NULL, 0, ag, 1, err);
    jp_dataset_unref(c);
    return out;
}

/* The concat consumed first by a pass that only checks v, then whole:
 * v is read then, widened by the later part as the loaded parts give it. */
static jp_dataset_t *p_twice(jp_dataset_t *a, jp_dataset_t *b, jp_error_t *err)
{
    jp_dataset_t *c = p_cat(a, b, err);
    if (!c) return NULL;
    const char *keys[] = {"k"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0}};
    jp_dataset_t *g = jp_group_agg(c, keys, 1, ag, 1, err);
    if (!g) {
        jp_dataset_unref(c);
        return NULL;
    }
    jp_dataset_unref(g);
    return c;
}

static char dir_a[512], dir_b[512], dir_c[512];

/* The pipeline over the loaded files, and over the lazy ones (written,
 * and loaded) at each batch size and thread count: the same bytes and
 * the same dataset. */
static void same_everywhere(pipeline_fn fn, bool streams, const char *label)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *ea = read_file(dir_a, false), *eb = read_file(dir_b, false);
    jp_dataset_t *want = ea && eb ? fn(ea, eb, &err) : NULL;
    CHECK_MSG(want != NULL, "%s loaded: %s", label, err.msg);
    CHECK(want && jp_csv_write(want, unit_path("want.csv"), NULL, &err) == JP_OK);
    size_t wn = 0, gn = 0;
    char *wtext = slurp(unit_path("want.csv"), &wn);
    static const size_t batch[] = {0, 65536, 4096, 1500};
    for (size_t bi = 0; bi < 4; bi++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[bi], th);
            jp_dataset_t *la = read_file(dir_a, true), *lb = read_file(dir_b, true);
            CHECK(la && la->lazy && lb && lb->lazy);
            jp_dataset_t *got = la && lb ? fn(la, lb, &err) : NULL;
            CHECK_MSG(got != NULL, "%s batch %zu: %s", label, batch[bi], err.msg);
            size_t before = jp_stream_batches();
            CHECK_MSG(got && jp_csv_write(got, unit_path("got.csv"), NULL, &err) == JP_OK,
                      "%s batch %zu: %s", label, batch[bi], err.msg);
            if (streams && batch[bi]) {
                CHECK_MSG(jp_stream_batches() > before + 2, "%s batch %zu: it did not stream",
                          label, batch[bi]);
                CHECK(got && got->lazy);
            }
            char *gtext = slurp(unit_path("got.csv"), &gn);
            CHECK_MSG(gtext && wtext && gn == wn && memcmp(gtext, wtext, wn) == 0,
                      "%s batch %zu threads %d: %zu bytes, not %zu", label, batch[bi], th, gn, wn);
            jp_free(gtext);
            char why[256] = "";
            if (got && want)
                CHECK_MSG(jp_dataset_equal(want, got, why, sizeof why), "%s batch %zu: %s", label,
                          batch[bi], why);
            jp_dataset_unref(got);
            jp_dataset_unref(la);
            jp_dataset_unref(lb);
        }
    jp_csv_set_tuning(NULL);
    jp_free(wtext);
    jp_dataset_unref(want);
    jp_dataset_unref(ea);
    jp_dataset_unref(eb);
    unlink(unit_path("want.csv"));
    unlink(unit_path("got.csv"));
}

/* A field that is text in one part and integers in the other: the error
 * of the loaded parts, and no output file. */
static void same_error(void)
{
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_error_clear(&e2);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *ea = read_file(dir_a, false), *eb = read_file(dir_b, false);
    jp_dataset_t *r1 = ea && eb ? p_cat(ea, eb, &e1) : NULL;
    CHECK(ea && eb && !r1);
    su_tune(1500, 2);
    jp_dataset_t *la = read_file(dir_a, true), *lb = read_file(dir_b, true);
    jp_dataset_t *plan = la && lb ? p_cat(la, lb, &e2) : NULL;
    CHECK_MSG(plan != NULL, "%s", e2.msg);
    CHECK(plan && jp_csv_write(plan, unit_path("out.csv"), NULL, &e2) != JP_OK);
    CHECK(access(unit_path("out.csv"), F_OK) != 0);
    CHECK_STR(e2.msg, e1.msg);
    CHECK_STR(e2.field, "s");
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(plan);
    jp_dataset_unref(la);
    jp_dataset_unref(lb);
    jp_dataset_unref(ea);
    jp_dataset_unref(eb);
}

/* Inferred columns are never qualified: asking a concat of lazy files for
 * its qualifier columns (what a CSV writer does first) loads nothing, so
 * that the write streams. */
static void qualifiers_unloaded(void)
{
    jp_error_t err;
    jp_error_clear(&err);
    su_tune(4096, 2);
    jp_dataset_t *la = read_file(dir_a, true), *lb = read_file(dir_b, true);
    jp_dataset_t *c = la && lb ? p_cat(la, lb, &err) : NULL, *x = NULL;
    CHECK(c && c->lazy);
    size_t added = 1;
    CHECK(c && jp_csv_qualifier_columns(c, &x, &added, &err) == JP_OK);
    CHECK(x == c && added == 0);
    for (size_t i = 0; c && i < c->schema.n_fields; i++) CHECK(c->cols[i] == NULL);
    size_t before = jp_stream_batches();
    CHECK(x && jp_csv_write(x, unit_path("out.csv"), NULL, &err) == JP_OK);
    CHECK(jp_stream_batches() > before);
    unlink(unit_path("out.csv"));
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(x);
    jp_dataset_unref(c);
    jp_dataset_unref(la);
    jp_dataset_unref(lb);
}

static jp_dataset_t *read_try(const char *path, bool lazy, jp_error_t *err)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    jp_dataset_t *ds = NULL;
    return jp_csv_read(path, &o, &ds, err) == JP_OK ? ds : NULL;
}

/* The file at path, under a filter when `filter` is not NULL. */
static jp_dataset_t *part_try(const char *path, bool lazy, const char *filter, jp_error_t *err)
{
    jp_dataset_t *ds = read_try(path, lazy, err);
    if (!ds || !filter) return ds;
    jp_dataset_t *f = jp_filter(ds, filter, err);
    jp_dataset_unref(ds);
    return f;
}

/* The concat of files paths[0..n) (each under `filter`, unless NULL) into
 * group_by k (narrow: two fields read; else every field, written): the
 * loaded files' error (naming `field`, unless NULL), whatever the batch
 * size and thread count. */
static void same_error_n(const char *const *paths, size_t n, bool narrow, const char *field,
                         const char *filter)
{
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *ld[3] = {NULL, NULL, NULL};
    bool loaded = true;
    for (size_t d = 0; d < n && loaded; d++)
        loaded = (ld[d] = part_try(paths[d], false, filter, &e1));
    if (loaded) {
        jp_dataset_t *r = jp_concat(ld, n, &e1);
        CHECK(r == NULL);
        jp_dataset_unref(r);
    }
    CHECK(e1.msg[0] != 0);
    if (field) CHECK_STR(e1.field, field);
    for (size_t d = 0; d < n; d++) jp_dataset_unref(ld[d]);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t bi = 0; bi < 3; bi++)
        for (int th = 1; th <= 3; th += 2) {
            jp_error_clear(&e2);
            su_tune(batch[bi], th);
            jp_dataset_t *lz[3] = {NULL, NULL, NULL};
            for (size_t d = 0; d < n; d++)
                CHECK((lz[d] = part_try(paths[d], true, filter, &e2)) != NULL);
            jp_dataset_t *c = jp_concat(lz, n, &e2), *r = NULL;
            CHECK_MSG(c != NULL, "%s", e2.msg);
            if (c && narrow) {
                const char *keys[] = {"k"};
                jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"sy", JP_AGG_SUM, "y", 0}};
                r = jp_group_agg(c, keys, 1, ag, 2, &e2);
                CHECK(r == NULL);
            } else if (c) {
                CHECK(jp_csv_write(c, unit_path("out.csv"), NULL, &e2) != JP_OK);
                CHECK(access(unit_path("out.csv"), F_OK) != 0);
            }
            CHECK_MSG(strcmp(e2.msg, e1.msg) == 0, "batch %zu threads %d: '%s' != '%s'", batch[bi],
                      th, e2.msg, e1.msg);
            CHECK_STR(e2.field, e1.field);
            CHECK_STR(e2.file, e1.file);
            CHECK(e2.line == e1.line);
            jp_dataset_unref(r);
            jp_dataset_unref(c);
            for (size_t d = 0; d < n; d++) jp_dataset_unref(lz[d]);
        }
    jp_csv_set_tuning(NULL);
}

/* A bad cell (a bare quote inside field s) at row `row` of path's rows. */
static void spoil(const char *path, int row)
{
    size_t n = 0;
    char *t = slurp(path, &n);
    if (!t) return;
    FILE *f = fopen(path, "wb");
    int line = 0;
    for (size_t i = 0; f && i < n; i++) {
        if (t[i] == '\n' && ++line == row + 1) {
            /* the record after: its first field gets a quote in the middle */
            fputs("\nx\"y", f);
            continue;
        }
        fputc(t[i], f);
    }
    if (f) fclose(f);
    jp_free(t);
}

int main(void)
{
    if (unit_tmpdir("jp_stream_concat")) return 1;
    snprintf(dir_a, sizeof dir_a, "%s", unit_path("a.csv"));
    snprintf(dir_b, sizeof dir_b, "%s", unit_path("b.csv"));
    snprintf(dir_c, sizeof dir_c, "%s", unit_path("c.csv"));
    make_file(dir_a, 12000, false, 0, false, 11);
    make_file(dir_b, 9000, true, 0, false, 22);
    CASE("two files, fields in another order") same_everywhere(p_cat, true, "cat");
    CASE("pipelines under the concat, a part twice") same_everywhere(p_filtered, true, "parts");
    CASE("into group_by + agg") same_everywhere(p_group, false, "group");
    CASE("a head of the concat") same_everywhere(p_head, true, "head");
    CASE("sort():head(n) of the concat") same_everywhere(p_top, false, "top");
    make_file(dir_b, 9000, true, 8000, false, 22);
    CASE("a later part's decimals make the first part's integers numbers")
    same_everywhere(p_cat, true, "widened");
    CASE("... and so do a later pipeline's") same_everywhere(p_filtered, true, "parts-widened");
    make_file(dir_a, 12000, false, 11000, false, 11);
    make_file(dir_b, 9000, true, 0, false, 22);
    CASE("the first part's own decimals, late") same_everywhere(p_cat, true, "first");
    CASE("a pipeline's own decimals, late") same_everywhere(p_filtered, true, "parts-first");
    make_file(dir_b, 9000, true, 0, true, 22);
    CASE("text in one part, integers in the other: the same error") same_error();
    {
        const char *ab[] = {dir_a, dir_b}, *abc[] = {dir_a, dir_b, dir_c};
        CASE("a clash in a field not read: the same error") same_error_n(ab, 2, true, "s", NULL);
        CASE("a clash between pipelines: the same error")
        {
            same_error_n(ab, 2, true, "s", "w > 100");
            same_error_n(ab, 2, false, "s", "w > 100");
        }
        make_file(dir_c, 7000, false, 0, false, 33);
        spoil(dir_c, 5000);
        /* the loaded parts are read before any type is compared */
        CASE("a clash, then a bad record in a later part: the record's error")
        {
            same_error_n(abc, 3, true, NULL, NULL);
            same_error_n(abc, 3, false, NULL, NULL);
        }
        make_file(dir_b, 9000, true, 0, false, 22);
        spoil(dir_b, 6000);
        CASE("a bad record in a field not read: the same error")
        same_error_n(ab, 2, true, NULL, NULL);
        make_file(dir_b, 9000, true, 0, false, 22);
        CASE("a bad record in the last part, in a field not read")
        same_error_n(abc, 3, true, NULL, NULL);
    }
    make_file(dir_b, 9000, true, 0, false, 22);
    CASE("a concat's qualifier columns load nothing") qualifiers_unloaded();
    CASE("two fields read, the others checked") same_everywhere(p_narrow, false, "narrow");
    CASE("no field read") same_everywhere(p_count, false, "count");
    make_file(dir_b, 9000, true, 8000, false, 22);
    CASE("a later part widens a field not read") same_everywhere(p_narrow, false, "narrow-w");
    CASE("... then read: numbers") same_everywhere(p_twice, true, "twice");
    CASE("a later part widens a field read, late in it") same_everywhere(p_narrow_v, false, "v");
    su_put(dir_b, "wb", "s,w,v,y,k\n");
    /* a file without rows has text fields */
    CASE("a part without rows: the loaded parts' error")
    {
        const char *ab[] = {dir_a, dir_b};
        same_error_n(ab, 2, true, "y", NULL);
        same_error_n(ab, 2, false, "y", NULL);
    }
    unlink(dir_a);
    unlink(dir_b);
    unlink(dir_c);
    rmdir(unit_dir);
    return unit_done();
}
