/*
 * test_stream_head.c - head and slice from the start over a lazy CSV file:
 * the rows come from a prefix of the file read as if the file ended there
 * (its types, its errors), the first prefix growing fourfold until the
 * head has its rows; the result is the loaded prefix's, byte for byte,
 * whatever the batch size and thread count, and a head in the middle of a
 * pipeline streams into the consumer after it.
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

/* N rows; `late` meets a decimal at 90 %, `nulls_then` is empty until
 * 60 %, `txt` turns to text at 95 %. */
static void make_file(const char *path, int n)
{
    static const char *keys[] = {"north", "\"south, far\"", "\"a \"\"q\"\"\"", "", "east"};
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("k,y,v,late,nulls_then,txt\n", f);
    unsigned s = 777;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        fprintf(f, "%s,%d,%u.%03u,", keys[r % 5], 2015 + (int)(r % 4), r % 50, (r * 7) % 1000);
        if (i == n * 9 / 10)
            fputs("2.5,", f);
        else
            fprintf(f, "%d,", (int)(r % 1000) - 300);
        if (i >= n * 6 / 10) fprintf(f, "%u", r % 100);
        if (i >= n * 95 / 100 && r % 3 == 0)
            fputs(",many\n", f);
        else
            fprintf(f, ",%u\n", r % 9);
    }
    fclose(f);
}

/* The file cut where a head reading `bytes` of data text cuts it: after
 * the last line ending within them (these files have no line inside
 * quotes), else after the first; NULL when the whole file is read. */
static char *prefix_of(const char *path, size_t bytes, size_t *len)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    if (!text) return NULL;
    const char *hdr = memchr(text, '\n', n);
    size_t from = hdr ? (size_t)(hdr - text) + 1 : n, upto = from + bytes, cut = 0;
    for (size_t i = from; i < n; i++) {
        if (text[i] != '\n') continue;
        if (i + 1 <= upto || !cut) cut = i + 1;
        if (i + 1 >= upto) break;
    }
    if (!cut || cut >= n) {
        jp_free(text);
        return NULL;
    }
    *len = cut;
    return text;
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *ds, jp_error_t *err);

static jp_dataset_t *p_head(jp_dataset_t *ds, jp_error_t *err)
{
    return jp_head(ds, 25, err);
}

static jp_dataset_t *p_head0(jp_dataset_t *ds, jp_error_t *err)
{
    return jp_head(ds, 0, err);
}

static jp_dataset_t *p_slice(jp_dataset_t *ds, jp_error_t *err)
{
    return jp_slice(ds, 100, 50, err);
}

static jp_dataset_t *p_filter_head(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "y == 2017 and v > 45", err);
    if (!f) return NULL;
    jp_dataset_t *out = jp_head(f, 40, err);
    jp_dataset_unref(f);
    return out;
}

/* A head in the middle: what follows streams from it. */
static jp_dataset_t *p_head_group(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *h = jp_head(ds, 20000, err);
    if (!h) return NULL;
    jp_dataset_t *f = jp_filter(h, "v > 10", err);
    jp_dataset_unref(h);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"r", "v / 3", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 1, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    const char *keys[] = {"k", "y"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0},
                    {"sv", JP_AGG_SUM, "v", 0},
                    {"mr", JP_AGG_MEAN, "r", 0},
                    {"sl", JP_AGG_SUM, "late", 0},
                    {"mx", JP_AGG_MAX, "txt", 0}};
    jp_dataset_t *out = jp_group_agg(mu, keys, 2, a, sizeof a / sizeof a[0], err);
    jp_dataset_unref(mu);
    return out;
}

/* A head of a head, under a filter: the lower head bounds the read. */
static jp_dataset_t *p_heads(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *h = jp_head(ds, 300, err);
    jp_dataset_t *f = h ? jp_filter(h, "v > 48", err) : NULL;
    jp_dataset_t *out = f ? jp_head(f, 1000, err) : NULL;
    jp_dataset_unref(h);
    jp_dataset_unref(f);
    return out;
}

static jp_dataset_t *run_pipeline(void *ctx, jp_dataset_t *ds, jp_error_t *err)
{
    return (*(pipeline_fn *)ctx)(ds, err);
}

static const size_t batches[] = {0, 65536, 4096, 1500};

/* The whole file fits the first prefix: the loaded file's result. */
static void same_as_loaded(const char *path, pipeline_fn fn, const char *label)
{
    su_sweep_t sw = {batches, 4, 1, false, true, run_pipeline, NULL, &fn, label};
    su_same_everywhere(path, &sw);
}

/* The pipeline over the lazy file with a first prefix of `bytes`, at each
 * batch size and thread count, against the pipeline over the loaded
 * prefix the head settles on (the first of bytes, 4 bytes, 16 bytes, ...
 * that has `need` rows - of the file when file_rows, else of the result -
 * or the whole file). */
static void same_as_prefix(const char *path, size_t bytes, pipeline_fn fn, size_t need,
                           bool file_rows, const char *label)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *want = NULL;
    for (size_t b = bytes;; b *= 4) {
        size_t len = 0;
        char *text = prefix_of(path, b, &len);
        jp_dataset_t *ds = NULL;
        if (text) {
            CHECK(jp_csv_read_mem(path, text, len, NULL, &ds, &err) == JP_OK);
            jp_free(text);
        } else {
            ds = read_file(path, false);
        }
        jp_dataset_unref(want);
        want = ds ? fn(ds, &err) : NULL;
        size_t have = file_rows ? (ds ? ds->nrows : 0) : (want ? want->nrows : 0);
        jp_dataset_unref(ds);
        CHECK_MSG(want != NULL, "%s: the loaded prefix: %s", label, err.msg);
        if (!want || !text || have >= need) break;
        /* past half the file, the stream reads it whole */
        size_t size = 0;
        char *all = slurp(path, &size);
        jp_free(all);
        if (b * 4 >= size / 2) b = size;
    }
    char *want_text = want ? csv_text(want) : NULL;
    jp_stream_set_head_bytes(bytes);
    for (size_t b = 0; b < 4; b++)
        for (int th = 1; th <= 3; th++) {
            su_tune(batches[b], th);
            jp_dataset_t *lz = read_file(path, true);
            CHECK(lz && lz->lazy);
            jp_dataset_t *got = lz ? fn(lz, &err) : NULL;
            CHECK_MSG(got != NULL, "%s batch %zu threads %d: %s", label, batches[b], th, err.msg);
            char why[256] = "";
            if (got && want)
                CHECK_MSG(jp_dataset_equal(want, got, why, sizeof why), "%s batch %zu: %s", label,
                          batches[b], why);
            char *text = got ? csv_text(got) : NULL;
            if (text && want_text) CHECK_STR(text, want_text);
            jp_free(text);
            jp_dataset_unref(got);
            jp_dataset_unref(lz);
        }
    jp_stream_set_head_bytes(0);
    jp_csv_set_tuning(NULL);
    jp_free(want_text);
    jp_dataset_unref(want);
}

/* head(10) reads its prefix, not the file: a few batches. */
static void reads_little(const char *path)
{
    jp_error_t err;
    jp_error_clear(&err);
    su_tune(1500, 2);
    jp_stream_set_head_bytes(4096);
    jp_dataset_t *lz = read_file(path, true);
    size_t before = jp_stream_batches();
    jp_dataset_t *h = lz ? jp_head(lz, 10, &err) : NULL;
    CHECK(h && jp_dataset_need_all(h, &err) == JP_OK);
    CHECK(h && h->nrows == 10);
    size_t used = jp_stream_batches() - before;
    CHECK_MSG(used >= 1 && used <= 4, "%zu batches for 4096 bytes", used);
    /* the column of the rows read is integral; the file's is not */
    long late = h ? jp_dataset_find(h, "late") : -1;
    CHECK(late >= 0 && h->cols[late]->type == JP_TYPE_INT);
    jp_dataset_unref(h);
    jp_dataset_unref(lz);
    jp_stream_set_head_bytes(0);
    jp_csv_set_tuning(NULL);
}

/* A malformed record past the prefix is not read; one inside it is the
 * error, naming the file and its line. */
static void errors_of_the_prefix(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", unit_path("bad.csv"));
    make_file(path, 3000);
    su_put(path, "ab", "north,2020,1.5\n");
    jp_error_t err;
    jp_error_clear(&err);
    su_tune(1500, 2);
    jp_stream_set_head_bytes(4096);
    jp_dataset_t *lz = read_file(path, true);
    jp_dataset_t *h = lz ? jp_head(lz, 10, &err) : NULL;
    CHECK_MSG(h && jp_dataset_need_all(h, &err) == JP_OK, "%s", err.msg);
    jp_dataset_unref(h);
    jp_dataset_unref(lz);
    /* the whole file: the bad record is read */
    lz = read_file(path, true);
    h = lz ? jp_head(lz, 3005, &err) : NULL;
    CHECK(h && jp_dataset_need_all(h, &err) != JP_OK);
    CHECK_INT(err.line, 3002);
    CHECK_MSG(strstr(err.file, "bad.csv") != NULL, "file '%s'", err.file);
    jp_dataset_unref(h);
    jp_dataset_unref(lz);
    jp_stream_set_head_bytes(0);
    jp_csv_set_tuning(NULL);
    unlink(path);
}

/* write_csv of a head: the bytes of the loaded prefix's head; the file
 * read may be gzip. */
static void writes_the_head(const char *path, const char *src_ext)
{
    char src[512], gzcmd[1200];
    snprintf(src, sizeof src, "%s%s", unit_path("w"), src_ext);
    if (strcmp(src_ext, ".csv.gz") == 0) {
        snprintf(gzcmd, sizeof gzcmd, "gzip -c '%s' > '%s'", path, src);
        CHECK(system(gzcmd) == 0);
    } else {
        snprintf(gzcmd, sizeof gzcmd, "cp '%s' '%s'", path, src);
        CHECK(system(gzcmd) == 0);
    }
    jp_error_t err;
    jp_error_clear(&err);
    size_t len = 0;
    char *text = prefix_of(path, 8192, &len);
    jp_dataset_t *pre = NULL;
    CHECK(text && jp_csv_read_mem(path, text, len, NULL, &pre, &err) == JP_OK);
    jp_free(text);
    jp_dataset_t *h = pre ? jp_head(pre, 30, &err) : NULL;
    CHECK(h && jp_csv_write(h, unit_path("want.csv"), NULL, &err) == JP_OK);
    jp_dataset_unref(h);
    jp_dataset_unref(pre);
    size_t wn = 0, gn = 0;
    char *want = slurp(unit_path("want.csv"), &wn);
    jp_stream_set_head_bytes(8192);
    for (size_t b = 0; b < 4; b++) {
        su_tune(batches[b], 2);
        jp_dataset_t *lz = read_file(src, true);
        h = lz ? jp_head(lz, 30, &err) : NULL;
        CHECK_MSG(h && jp_csv_write(h, unit_path("got.csv"), NULL, &err) == JP_OK, "%s", err.msg);
        CHECK_MSG(h && h->lazy, "the head was loaded");
        char *got = slurp(unit_path("got.csv"), &gn);
        CHECK_MSG(got && want && gn == wn && memcmp(got, want, wn) == 0,
                  "%s batch %zu: %zu bytes, not %zu", src_ext, batches[b], gn, wn);
        jp_free(got);
        jp_dataset_unref(h);
        jp_dataset_unref(lz);
    }
    jp_stream_set_head_bytes(0);
    jp_csv_set_tuning(NULL);
    jp_free(want);
    unlink(unit_path("want.csv"));
    unlink(unit_path("got.csv"));
    unlink(src);
}

int main(void)
{
    if (unit_tmpdir("jp_stream_head")) return 1;
    char path[512];
    snprintf(path, sizeof path, "%s", unit_path("d.csv"));
    make_file(path, 30000);
    CASE("head(n) of a file within the first prefix: the loaded file's rows")
    same_as_loaded(path, p_head, "head");
    CASE("head(0)") same_as_loaded(path, p_head0, "head(0)");
    CASE("slice(i, j) from the start") same_as_loaded(path, p_slice, "slice");
    CASE("filter then head") same_as_loaded(path, p_filter_head, "filter:head");
    CASE("a head in the middle streams into group_by + agg")
    same_as_loaded(path, p_head_group, "head:filter:group");
    CASE("a head under a head") same_as_loaded(path, p_heads, "heads");
    CASE("a prefix: the types and rows of the loaded prefix")
    same_as_prefix(path, 4096, p_head, 25, true, "head");
    CASE("slice over a prefix") same_as_prefix(path, 4096, p_slice, 150, true, "slice");
    CASE("the prefix grows until the head has its rows")
    same_as_prefix(path, 4096, p_filter_head, 40, false, "filter:head");
    CASE("a head in the middle over a prefix")
    same_as_prefix(path, 4096, p_head_group, 20000, true, "head:filter:group");
    CASE("heads over a prefix") same_as_prefix(path, 4096, p_heads, 300, true, "heads");
    CASE("head(10) reads a few batches, not the file") reads_little(path);
    CASE("errors: those of the prefix, naming file and line") errors_of_the_prefix();
    CASE("write_csv of a head: the loaded prefix's bytes") writes_the_head(path, ".csv");
    CASE("write_csv of a head of a .csv.gz") writes_the_head(path, ".csv.gz");
    unlink(path);
    rmdir(unit_dir);
    return unit_done();
}
