/*
 * test_stream_sort.c - sort(...):head(n) over a lazy CSV pipeline, found
 * batch by batch: exactly the first n rows of the whole-file sort (ties in
 * file order, nulls last in either direction, NaN before nulls), whatever
 * the batch size and thread count; keys whose column changes type late in
 * the file (the stream starts again); filters, derived keys, n past the
 * end of the file, n = 0; fields asked for one at a time; boolean and
 * date keys (a batch's rows are compared with the pool's n-th row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"
#include "stream_util.h"
#include "unit.h"

static char path[512];
static size_t top_n;

/* N rows: g few strings with empties (nulls), v few numbers (ties) with
 * nulls and NaN, late an integer that meets a decimal at 90 %, t digits
 * that turn to text at 95 %, id unique, note free text with quotes (one
 * in 11 over two lines, the second not ASCII). */
static void make_file(const char *p, int n)
{
    static const char *gs[] = {"north", "\"south, far\"", "", "east", "b", "B"};
    static const char *vs[] = {"1.5", "-2", "", "nan", "0", "-0.0", "7.25", "1.5"};
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs("g,v,late,t,id,note\n", f);
    unsigned s = 777;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        fprintf(f, "%s,%s,", gs[r % 6], vs[(r / 7) % 8]);
        if (i == n * 9 / 10)
            fputs("2.5,", f);
        else
            fprintf(f, "%d,", (int)(r % 50) - 20);
        if (i >= n * 95 / 100 && r % 3 == 0)
            fputs("many,", f);
        else
            fprintf(f, "%u,", r % 13);
        if (r % 11 == 0) /* a record on two lines */
            fprintf(f, "%d,\"n \"\"%u\"\"\n第二行\"\n", i, r % 1000);
        else
            fprintf(f, "%d,\"n \"\"%u\"\"\"\n", i, r % 1000);
    }
    fclose(f);
}

/* N rows of dates and booleans with blanks (nulls), many ties. */
static void make_typed_file(const char *p, int n)
{
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs("d,b,id\n", f);
    unsigned s = 99;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        if (r % 9 == 0)
            fputs(",", f);
        else
            fprintf(f, "2024-%02u-%02u,", 1 + r % 3, 1 + (r / 3) % 4);
        fprintf(f, "%s,%d\n", r % 7 == 0 ? "" : (r / 5) % 2 ? "true" : "false", i);
    }
    fclose(f);
}

/* N rows: a key k, and per edge token one column of small integers that
 * holds that token once, late: each column's type is the token's verdict
 * (text, decimal, integer), which the top-N's check of the column must
 * reach as a full read does. */
static const char *const edge_tokens[] = {"-0",
                                          "007",
                                          "1.",
                                          "-1.25",
                                          "123456789.12345678",
                                          "1234567890123",
                                          "12345678.123456789",
                                          "-0.0",
                                          "0.5",
                                          "12345678",
                                          "-",
                                          "1e5",
                                          "+3",
                                          "9223372036854775808",
                                          "\"12\"",
                                          " 5",
                                          "5 ",
                                          "--1",
                                          ".5",
                                          "0x10",
                                          "1,5"};
#define N_EDGE (sizeof edge_tokens / sizeof edge_tokens[0])

static void make_edge_file(const char *p, int n)
{
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs("k", f);
    for (size_t c = 0; c < N_EDGE; c++) fprintf(f, ",c%zu", c);
    fputs("\n", f);
    unsigned s = 5;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        fprintf(f, "%u", (s >> 8) % 97);
        for (size_t c = 0; c < N_EDGE; c++) {
            const char *tok = edge_tokens[c];
            bool quoted = strchr(tok, ',') != NULL;
            if (i == n * 4 / 5 + (int)c)
                fprintf(f, quoted ? ",\"%s\"" : ",%s", tok);
            else
                fprintf(f, ",%d", (int)((s >> 4) % 50) - 10);
        }
        fputs("\n", f);
    }
    fclose(f);
}

typedef jp_dataset_t *(*pipeline_fn)(jp_dataset_t *ds, jp_error_t *err);

static jp_dataset_t *sorted_head(jp_dataset_t *ds, const jp_sort_key_t *k, size_t nk,
                                 jp_error_t *err)
{
    jp_dataset_t *s = jp_sort(ds, k, nk, err);
    if (!s) return NULL;
    jp_dataset_t *h = jp_head(s, top_n, err);
    jp_dataset_unref(s);
    return h;
}

static jp_dataset_t *p_two(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"g", false}, {"v", true}};
    return sorted_head(ds, k, 2, err);
}

static jp_dataset_t *p_desc_first(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"v", true}, {"g", true}};
    return sorted_head(ds, k, 2, err);
}

static jp_dataset_t *p_filtered(jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *f = jp_filter(ds, "id % 3 ~= 0", err);
    if (!f) return NULL;
    jp_mutation_t m[] = {{"w", "v * 2", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(f, m, 1, false, err);
    jp_dataset_unref(f);
    if (!mu) return NULL;
    jp_sort_key_t k[] = {{"w", true}, {"g", false}};
    jp_dataset_t *out = sorted_head(mu, k, 2, err);
    jp_dataset_unref(mu);
    return out;
}

static jp_dataset_t *p_late(jp_dataset_t *ds, jp_error_t *err)
{
    const char *names[] = {"late", "g", "id"};
    jp_dataset_t *s = jp_select(ds, names, 3, err);
    if (!s) return NULL;
    jp_sort_key_t k[] = {{"late", false}};
    jp_dataset_t *out = sorted_head(s, k, 1, err);
    jp_dataset_unref(s);
    return out;
}

static jp_dataset_t *p_text_late(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"t", false}, {"id", true}};
    return sorted_head(ds, k, 2, err);
}

static jp_dataset_t *p_derived(jp_dataset_t *ds, jp_error_t *err)
{
    jp_mutation_t m[] = {{"w", "late + v", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(ds, m, 1, false, err);
    if (!mu) return NULL;
    jp_sort_key_t k[] = {{"w", false}};
    jp_dataset_t *out = sorted_head(mu, k, 1, err);
    jp_dataset_unref(mu);
    return out;
}

static jp_dataset_t *p_key_k(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"k", true}};
    return sorted_head(ds, k, 1, err);
}

static jp_dataset_t *p_dates(jp_dataset_t *ds, jp_error_t *err)
{
    jp_sort_key_t k[] = {{"b", true}, {"d", false}};
    return sorted_head(ds, k, 2, err);
}

typedef struct sweep_ctx {
    pipeline_fn fn;
    bool one_first;
} sweep_ctx_t;

static jp_dataset_t *run_pipeline(void *ctx, jp_dataset_t *ds, jp_error_t *err)
{
    return ((sweep_ctx_t *)ctx)->fn(ds, err);
}

/* A streamed result: the field `note` alone first (one_first), then all. */
static void need_fields(void *ctx, jp_dataset_t *got)
{
    jp_error_t err;
    jp_error_clear(&err);
    if (((sweep_ctx_t *)ctx)->one_first) {
        size_t note = (size_t)jp_dataset_find(got, "note");
        CHECK_MSG(jp_dataset_need(got, &note, 1, &err) == JP_OK, "%s", err.msg);
    }
    CHECK_MSG(jp_dataset_need_all(got, &err) == JP_OK, "%s", err.msg);
}

/* The pipeline over the loaded file, and streamed at several batch sizes
 * and thread counts: the same dataset, the same text.  one_first: ask for
 * the field `note` alone before the rest. */
static void same_everywhere(pipeline_fn fn, bool one_first)
{
    static const size_t batch[] = {0, 65536, 4096, 1500};
    sweep_ctx_t c = {fn, one_first};
    char label[32];
    snprintf(label, sizeof label, "n %zu", top_n);
    su_sweep_t sw = {batch, 4, 2, top_n != 0, false, run_pipeline, need_fields, &c, label};
    su_same_everywhere(path, &sw);
}

static void every_n(pipeline_fn fn, bool one_first)
{
    static const size_t ns[] = {1, 7, 100, 1000, 1000000, 0};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        top_n = ns[i];
        same_everywhere(fn, one_first);
    }
}

/* The file gzip-compressed at path.gz (the name says gzip). */
static void gzip_file(const char *from, char *to, size_t tosz)
{
    snprintf(to, tosz, "%s.gz", from);
    size_t n = 0;
    char *text = slurp(from, &n);
    gzFile g = gzopen(to, "wb6");
    CHECK(text && g);
    if (g) {
        if (text) gzwrite(g, text, (unsigned)n);
        gzclose(g);
    }
    jp_free(text);
}

/* The error of the streamed top-N of a file with a bad cell after the
 * rows found (o: a schema, or NULL), and the whole file's read: the same. */
static void same_error(const jp_read_opts_t *ro, long line)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    if (ro) o = *ro;
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_error_clear(&e2);
    jp_dataset_t *eager = NULL;
    CHECK(jp_csv_read(path, &o, &eager, &e1) != JP_OK);
    CHECK_INT(e1.line, line);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t b = 0; b < 3; b++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[b], th);
            o.lazy = true;
            jp_dataset_t *lz = NULL;
            CHECK_MSG(jp_csv_read(path, &o, &lz, &e2) == JP_OK, "%s", e2.msg);
            top_n = 10;
            jp_dataset_t *got = lz ? p_two(lz, &e2) : NULL;
            CHECK(got && jp_dataset_need_all(got, &e2) != JP_OK);
            CHECK_INT(e2.line, e1.line);
            CHECK_INT(e2.col, e1.col);
            CHECK_MSG(strstr(e2.msg, e1.msg) != NULL, "%s | %s", e2.msg, e1.msg);
            jp_dataset_unref(got);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
}

/* A cell that a full read refuses, in a field that is not a key, after
 * the rows found: invalid UTF-8 in an inferred field, a word in a number
 * field of the schema.  Found by the top-N's pass, as the full read finds
 * it. */
static void bad_cell_late(void)
{
    char good[512];
    snprintf(good, sizeof good, "%s", path);
    snprintf(path, sizeof path, "%s/badcell.csv", unit_dir);
    make_file(path, 3000);
    su_put(path, "ab", "b,1.5,3,4,99999,\"bad \xff byte\"\n");
    long line = 2 + 3000 + 3000 / 11 + 1; /* about: checked against the full read's */
    jp_read_opts_t o0;
    jp_read_opts_init(&o0);
    jp_dataset_t *probe = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_csv_read(path, &o0, &probe, &err) != JP_OK) line = err.line;
    jp_dataset_unref(probe);
    same_error(NULL, line);
    make_file(path, 3000);
    su_put(path, "ab", "b,1.5,many,4,99999,ok\n");
    jp_schema_t sc = JP_SCHEMA_INIT;
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)"late";
    f.type = JP_TYPE_NUMBER;
    jp_schema_add(&sc, &f, NULL);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &sc;
    o.schema_subset = true;
    jp_error_clear(&err);
    if (jp_csv_read(path, &o, &probe, &err) != JP_OK) line = err.line;
    CHECK_MSG(strstr(err.msg, "many") != NULL, "%s", err.msg);
    jp_dataset_unref(probe);
    same_error(&o, line);
    jp_schema_free(&sc);
    unlink(path);
    snprintf(path, sizeof path, "%s", good);
}

/* A bad record near the end: an error naming its line, nothing returned. */
static void bad_record(void)
{
    char good[512];
    snprintf(good, sizeof good, "%s", path);
    snprintf(path, sizeof path, "%s/bad.csv", unit_dir);
    make_file(path, 3000);
    su_put(path, "ab", "north,1.5\n");
    su_tune(2048, 2);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *lz = read_file(path, true);
    top_n = 10;
    jp_dataset_t *got = lz ? p_two(lz, &err) : NULL;
    CHECK(got && jp_dataset_need_all(got, &err) != JP_OK);
    size_t n = 0;
    char *text = slurp(path, &n);
    long lines = 0; /* the bad record is the file's last line */
    for (size_t i = 0; text && i < n; i++) lines += text[i] == '\n';
    jp_free(text);
    CHECK_INT(err.line, lines);
    CHECK_MSG(strstr(err.msg, "sort") != NULL, "%s", err.msg);
    jp_dataset_unref(got);
    jp_dataset_unref(lz);
    jp_csv_set_tuning(NULL);
    unlink(path);
    snprintf(path, sizeof path, "%s", good);
}

int main(void)
{
    if (unit_tmpdir("jp_stsort")) return 1;
    snprintf(path, sizeof path, "%s/d.csv", unit_dir);
    make_file(path, 6000);
    CASE("two keys, ties and nulls: the whole-file sort's first n") every_n(p_two, false);
    CASE("descending first: nulls and NaN still last") every_n(p_desc_first, false);
    CASE("a filter and a derived key: one pass") every_n(p_filtered, false);
    CASE("a key that meets a decimal late: the stream starts again") every_n(p_late, false);
    CASE("a key that turns to text late") every_n(p_text_late, false);
    CASE("a derived key, no filter: the other fields read for the n rows")
    every_n(p_derived, false);
    CASE("one field asked for first, the rest later") every_n(p_two, true);
    CASE("a filter, one field first") every_n(p_filtered, true);
    CASE("a bad record near the end: its line, under sort") bad_record();
    CASE("a bad cell after the rows found, in a field not sorted by: the full read's error")
    bad_cell_late();
    char gz[sizeof path + 8];
    gzip_file(path, gz, sizeof gz);
    char plain[sizeof path];
    memcpy(plain, path, sizeof path);
    if (strlen(gz) < sizeof path) memcpy(path, gz, strlen(gz) + 1);
    CASE(".csv.gz: the same rows, the same types") every_n(p_two, false);
    CASE(".csv.gz, a filter") every_n(p_filtered, false);
    unlink(gz);
    memcpy(path, plain, sizeof path);
    unlink(path);
    make_typed_file(path, 5000);
    CASE("boolean and date keys with nulls, ties across batches") every_n(p_dates, false);
    make_edge_file(path, 3000);
    CASE("fields only checked: each edge token's verdict, as a full read's")
    every_n(p_key_k, false);
    unlink(path);
    rmdir(unit_dir);
    return unit_done();
}
