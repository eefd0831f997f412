/*
 * test_stream_join.c - a join over a lazy CSV file probes it batch by
 * batch: for inner, left, semi and anti joins, with keys named
 * differently on the two sides, null keys, duplicate right keys and a key
 * whose type changes late in the file, a streaming consumer (group_by +
 * agg, write_csv) gives exactly what the loaded file gives, whatever the
 * batch size and thread count; right and full joins load the left side
 * and give the same too.  A key type error and a bad record midway are
 * the whole file's errors, and a write that fails leaves no file.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"
#include "stream_util.h"
#include "unit.h"

/* N rows: k a string key with empty (null) cells, y an integer key, v a
 * number, late an integer that meets a decimal at 90 %. */
static void make_file(const char *path, int n)
{
    static const char *keys[] = {"north", "south", "", "east", "west", "\"far, away\""};
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("id,k,y,v,late\n", f);
    unsigned s = 777;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned r = (s >> 8) & 0xffff;
        fprintf(f, "%d,%s,%d,%u.%02u,", i, keys[r % 6], 2015 + (int)(r % 5), r % 90, r % 100);
        if (i == n * 9 / 10)
            fputs("3.5\n", f);
        else
            fprintf(f, "%u\n", (r >> 3) % 8);
    }
    fclose(f);
}

static jp_dataset_t *right_table(bool dup, bool yr_text)
{
    static const char *codes[] = {"north", "south", "east", "far, away", "nowhere"};
    jp_column_t *code = jp_column_new(JP_TYPE_STRING, 16);
    jp_column_t *yr = jp_column_new(yr_text ? JP_TYPE_STRING : JP_TYPE_INT, 16);
    jp_column_t *w = jp_column_new(JP_TYPE_NUMBER, 16);
    jp_column_t *v = jp_column_new(JP_TYPE_INT, 16);
    int row = 0;
    for (int c = 0; c < 5; c++)
        for (int y = 2015; y <= 2018; y++)
            for (int rep = 0; rep < (dup && c == 1 && y == 2016 ? 2 : 1); rep++) {
                jp_column_push_str(code, codes[c], strlen(codes[c]));
                if (yr_text) {
                    char t[16];
                    snprintf(t, sizeof t, "%d", y);
                    jp_column_push_str(yr, t, strlen(t));
                } else {
                    jp_column_push_int(yr, y, JP_Q_EXACT);
                }
                jp_column_push_number(w, row * 0.25, JP_Q_EXACT);
                jp_column_push_int(v, row++, JP_Q_EXACT);
            }
    /* a right row with a null key matches nothing */
    jp_column_push_null(code);
    if (yr_text)
        jp_column_push_str(yr, "2015", 4);
    else
        jp_column_push_int(yr, 2015, JP_Q_EXACT);
    jp_column_push_number(w, 99, JP_Q_EXACT);
    jp_column_push_int(v, 99, JP_Q_EXACT);
    jp_dataset_t *ds = jp_dataset_new();
    jp_dataset_add(ds, "code", code, NULL, NULL);
    jp_dataset_add(ds, "yr", yr, NULL, NULL);
    jp_dataset_add(ds, "w", w, "t", NULL);
    jp_dataset_add(ds, "v", v, NULL, NULL);
    return ds;
}

/* A right table keyed by an integer, for the key whose type changes late. */
static jp_dataset_t *late_table(void)
{
    jp_column_t *k = jp_column_new(JP_TYPE_INT, 8), *z = jp_column_new(JP_TYPE_STRING, 8);
    for (int i = 0; i < 6; i++) {
        char t[16];
        snprintf(t, sizeof t, "z%d", i);
        jp_column_push_int(k, i, JP_Q_EXACT);
        jp_column_push_str(z, t, strlen(t));
    }
    jp_dataset_t *ds = jp_dataset_new();
    jp_dataset_add(ds, "lk", k, NULL, NULL);
    jp_dataset_add(ds, "z", z, NULL, NULL);
    return ds;
}

typedef struct jcase {
    jp_join_how_t how;
    jp_dataset_t *right;
    bool late; /* join on late = lk */
    bool agg;  /* then group_by + agg (else the joined rows themselves) */
} jcase_t;

static jp_dataset_t *joined(const jcase_t *c, jp_dataset_t *ds, jp_error_t *err)
{
    if (c->late) {
        const char *lk[] = {"late"}, *rk[] = {"lk"};
        return jp_join(ds, c->right, lk, rk, 1, c->how, NULL, err);
    }
    const char *lk[] = {"k", "y"}, *rk[] = {"code", "yr"};
    return jp_join(ds, c->right, lk, rk, 2, c->how, NULL, err);
}

static jp_dataset_t *run_case(void *ctx, jp_dataset_t *ds, jp_error_t *err)
{
    const jcase_t *c = ctx;
    jp_dataset_t *j = joined(c, ds, err);
    if (!j || !c->agg) return j;
    bool has_right = c->how != JP_JOIN_SEMI && c->how != JP_JOIN_ANTI;
    jp_mutation_t m[] = {{"s", has_right && !c->late ? "v + w" : "v * 2", NULL, NULL}};
    jp_dataset_t *mu = jp_mutate(j, m, 1, false, err);
    jp_dataset_unref(j);
    if (!mu) return NULL;
    const char *keys[] = {"k", "y"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0},
                    {"ss", JP_AGG_SUM, "s", 0},
                    {"first_id", JP_AGG_FIRST, "id", 0},
                    {"last_id", JP_AGG_LAST, "id", 0}};
    jp_dataset_t *out = jp_group_agg(mu, keys, 2, a, 4, err);
    jp_dataset_unref(mu);
    return out;
}

static void sweep(const char *path, jcase_t *c, bool streams, const char *label)
{
    static const size_t batch[] = {0, 65536, 4096, 1500};
    su_sweep_t sw = {batch, 4, 1, streams, true, run_case, NULL, c, label};
    su_same_everywhere(path, &sw);
}

/* write_csv of the joined rows: streamed, the bytes the loaded file gives. */
static void same_file(const char *path_arg, jcase_t *c)
{
    char path[512];
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *eager = read_file(path, false);
    jp_dataset_t *rows = eager ? joined(c, eager, &err) : NULL;
    CHECK_MSG(rows && jp_csv_write(rows, unit_path("want.csv"), NULL, &err) == JP_OK, "%s",
              err.msg);
    jp_dataset_unref(rows);
    jp_dataset_unref(eager);
    size_t wn = 0, gn = 0;
    char *want = slurp(unit_path("want.csv"), &wn);
    CHECK(want != NULL && wn > 100);
    static const size_t batch[] = {0, 4096, 1500};
    for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++)
        for (int th = 1; th <= 3; th += 2) {
            su_tune(batch[b], th);
            jp_dataset_t *lz = read_file(path, true);
            jp_dataset_t *plan = lz ? joined(c, lz, &err) : NULL;
            size_t before = jp_stream_batches();
            CHECK_MSG(plan && jp_csv_write(plan, unit_path("got.csv"), NULL, &err) == JP_OK, "%s",
                      err.msg);
            CHECK_MSG(plan && plan->lazy, "the join was loaded");
            if (batch[b]) CHECK(jp_stream_batches() > before + 1);
            char *got = slurp(unit_path("got.csv"), &gn);
            CHECK_MSG(got && gn == wn && memcmp(got, want, wn) == 0,
                      "how %d batch %zu threads %d: %zu bytes, not %zu", (int)c->how, batch[b], th,
                      gn, wn);
            jp_free(got);
            unlink(unit_path("got.csv"));
            jp_dataset_unref(plan);
            jp_dataset_unref(lz);
        }
    jp_csv_set_tuning(NULL);
    jp_free(want);
    unlink(unit_path("want.csv"));
}

/* The join fails as the loaded file's does, and its write leaves no file. */
static void same_error(const char *path_arg, jcase_t *c, const char *part, long line)
{
    char path[512];
    snprintf(path, sizeof path, "%s", path_arg);
    jp_error_t e1, e2;
    jp_error_clear(&e1);
    jp_error_clear(&e2);
    jp_csv_set_tuning(NULL);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_dataset_t *eager = NULL, *r1 = NULL;
    if (jp_csv_read(path, &o, &eager, &e1) == JP_OK) r1 = joined(c, eager, &e1);
    CHECK(r1 == NULL);
    su_tune(2048, 2);
    jp_dataset_t *lz = read_file(path, true);
    jp_dataset_t *plan = lz ? joined(c, lz, &e2) : NULL;
    if (plan) {
        CHECK(jp_csv_write(plan, unit_path("out.csv"), NULL, &e2) != JP_OK);
        CHECK(access(unit_path("out.csv"), F_OK) != 0);
    }
    CHECK_INT(e2.code, e1.code);
    CHECK_STR(e2.msg, e1.msg);
    CHECK_MSG(strstr(e2.msg, part) != NULL, "%s", e2.msg);
    if (line) CHECK_INT(e2.line, line);
    jp_dataset_unref(plan);
    jp_dataset_unref(lz);
    jp_dataset_unref(r1);
    jp_dataset_unref(eager);
    jp_csv_set_tuning(NULL);
}

/* Rows in memory under a lazy join stream in slices: group_by + agg and
 * write_csv give what the join made at once gives. */
static void rows_in_memory(const char *path, jp_dataset_t *right)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(NULL);
    jp_dataset_t *one = read_file(path, false);
    jp_dataset_t *list[] = {one, one, one};
    jp_dataset_t *rows = one ? jp_concat(list, 3, &err) : NULL; /* 90,000 rows: two slices */
    CHECK(rows && !rows->lazy && rows->nrows == 90000);
    const char *lk[] = {"k", "y"}, *rk[] = {"code", "yr"};
    static const jp_join_how_t kinds[] = {JP_JOIN_INNER, JP_JOIN_LEFT, JP_JOIN_SEMI, JP_JOIN_ANTI};
    for (int h = 0; rows && h < 4; h++) {
        jp_dataset_t *now = jp_join(rows, right, lk, rk, 2, kinds[h], NULL, &err);
        jp_dataset_t *later = jp_join_lazy(rows, right, lk, rk, 2, kinds[h], NULL, &err);
        CHECK(now && !now->lazy && later && later->lazy);
        const char *keys[] = {"y", "k"};
        jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0},
                        {"sv", JP_AGG_SUM, "v", 0},
                        {"last_id", JP_AGG_LAST, "id", 0}};
        size_t before = jp_stream_batches();
        jp_dataset_t *g1 = now ? jp_group_agg(now, keys, 2, a, 3, &err) : NULL;
        jp_dataset_t *g2 = later ? jp_group_agg(later, keys, 2, a, 3, &err) : NULL;
        CHECK_MSG(jp_stream_batches() >= before + 2, "how %d: it did not stream", h);
        char why[256] = "";
        CHECK_MSG(g1 && g2 && jp_dataset_equal(g1, g2, why, sizeof why), "how %d: %s", h, why);
        CHECK(now && jp_csv_write(now, unit_path("want.csv"), NULL, &err) == JP_OK);
        CHECK(later && jp_csv_write(later, unit_path("got.csv"), NULL, &err) == JP_OK);
        CHECK(later && later->lazy); /* written as it streamed */
        size_t wn = 0, gn = 0;
        char *want = slurp(unit_path("want.csv"), &wn), *got = slurp(unit_path("got.csv"), &gn);
        CHECK_MSG(want && got && wn == gn && memcmp(want, got, wn) == 0,
                  "how %d: %zu bytes, not %zu", h, gn, wn);
        jp_free(want);
        jp_free(got);
        unlink(unit_path("want.csv"));
        unlink(unit_path("got.csv"));
        /* and asked for its columns, the same dataset */
        CHECK(later && jp_dataset_need_all(later, &err) == JP_OK);
        CHECK_MSG(now && later && jp_dataset_equal(now, later, why, sizeof why), "how %d: %s", h,
                  why);
        jp_dataset_unref(g1);
        jp_dataset_unref(g2);
        jp_dataset_unref(now);
        jp_dataset_unref(later);
    }
    jp_dataset_unref(rows);
    jp_dataset_unref(one);
}

int main(void)
{
    if (unit_tmpdir("jp_stream_join")) return 1;
    const char *d = unit_path("d.csv");
    char path[512];
    snprintf(path, sizeof path, "%s", d);
    make_file(path, 30000);
    jp_dataset_t *right = right_table(false, false), *dup = right_table(true, false);
    jp_dataset_t *text = right_table(false, true), *late = late_table();
    static const jp_join_how_t streamed[] = {JP_JOIN_INNER, JP_JOIN_LEFT, JP_JOIN_SEMI,
                                             JP_JOIN_ANTI};
    static const char *names[] = {"inner", "left", "semi", "anti"};
    for (int h = 0; h < 4; h++) {
        char label[64];
        CASE("group_by + agg of a streamed join equals the whole file's")
        {
            jcase_t c = {streamed[h], right, false, true};
            snprintf(label, sizeof label, "%s", names[h]);
            sweep(path, &c, true, label);
        }
        CASE("duplicate right keys: every pair, in left then right order")
        {
            jcase_t c = {streamed[h], dup, false, true};
            snprintf(label, sizeof label, "%s, duplicate keys", names[h]);
            sweep(path, &c, true, label);
        }
        CASE("a key turning from integer to number late: the whole file's matches")
        {
            jcase_t c = {streamed[h], late, true, true};
            snprintf(label, sizeof label, "%s, late key", names[h]);
            sweep(path, &c, true, label);
        }
        CASE("write_csv of a streamed join: the same bytes")
        {
            jcase_t c = {streamed[h], dup, false, false};
            same_file(path, &c);
        }
    }
    CASE("right and full joins hold the left rows: the same result, not streamed")
    {
        jp_join_how_t held[] = {JP_JOIN_RIGHT, JP_JOIN_FULL};
        for (int h = 0; h < 2; h++) {
            jcase_t c = {held[h], dup, false, true};
            size_t before = jp_stream_batches();
            sweep(path, &c, false, h ? "full" : "right");
            CHECK(jp_stream_batches() == before);
        }
    }
    CASE("rows in memory under a lazy join stream in slices") rows_in_memory(path, dup);
    CASE("a key whose types differ: the whole file's error, no file written")
    {
        jcase_t c = {JP_JOIN_INNER, text, false, false};
        same_error(path, &c, "key 'y' is integer in the left dataset but key 'yr' is string", 0);
    }
    CASE("a bad record near the end: the same error, naming its line; no file")
    {
        char bad[512];
        snprintf(bad, sizeof bad, "%s", unit_path("bad.csv"));
        make_file(bad, 20000);
        su_put(bad, "ab", "1,north,2016,1.5,3,9\n");
        jcase_t c = {JP_JOIN_LEFT, right, false, false};
        same_error(bad, &c, "field", 20002);
        unlink(bad);
    }
    jp_dataset_unref(right);
    jp_dataset_unref(dup);
    jp_dataset_unref(text);
    jp_dataset_unref(late);
    unlink(path);
    rmdir(unit_dir);
    return unit_done();
}
