/*
 * test_sort.c - the sort engine against a plain comparison sort: random
 * datasets of every key type (nulls, NaN, -0, wide and narrow ranges,
 * strings sharing prefixes), one to three keys in either direction, small
 * and large enough for the parallel runs and the MSD passes; top-N against
 * the prefix of the full order; keys that do not pack; the lazy sort node
 * and its head.
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_sortkey.h"
#include "jp_verbs.h"
#include "unit.h"
#include "verbs_util.h"

static jp_error_t err;
static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- the reference: a stable merge sort by comparing cells ---------------------- */

typedef struct ref {
    jp_column_t **cols;
    const bool *desc;
    size_t n;
} ref_t;

static int klass(const jp_column_t *c, size_t i)
{
    if (jp_column_is_null(c, i)) return 2;
    if (c->type == JP_TYPE_NUMBER && isnan(c->v.d[i])) return 1;
    return 0;
}

static int cmp_rows(const ref_t *r, size_t a, size_t b)
{
    for (size_t q = 0; q < r->n; q++) {
        const jp_column_t *c = r->cols[q];
        int ka = klass(c, a), kb = klass(c, b);
        if (ka != kb) return ka < kb ? -1 : 1;
        if (ka) continue;
        int v;
        if (c->type == JP_TYPE_NUMBER) {
            double x = c->v.d[a], y = c->v.d[b];
            v = x < y ? -1 : x > y; /* -0 == 0 */
        } else {
            v = jp_column_cmp_cells(c, a, c, b);
        }
        if (v) return r->desc[q] ? -v : v;
    }
    return a < b ? -1 : a > b;
}

static void msort(const ref_t *r, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2) return;
    size_t h = n / 2;
    msort(r, a, tmp, h);
    msort(r, a + h, tmp, n - h);
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) a[k++] = cmp_rows(r, a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[k++] = tmp[i++];
}

/* ---- random columns ---------------------------------------------------------------- */

enum { C_INT_NARROW, C_INT_WIDE, C_NUM, C_NUM_WIDE, C_STR, C_BOOL, C_DATE, C_PERIOD, C_KINDS };

static jp_column_t *random_column(int kind, size_t n, int nullpct)
{
    static const char *const words[] = {"",  "a",    "ab", "abc", "b",
                                        "B", "樱桃", "樱", "zz",  "a\x01"};
    static const char *const periods[] = {"2021",   "2022",       "2022-01..2022-08", "2021-06",
                                          "..2021", "2020..2022", "2022-03-04"};
    jp_type_t t = kind == C_INT_NARROW || kind == C_INT_WIDE ? JP_TYPE_INT
                  : kind == C_NUM || kind == C_NUM_WIDE      ? JP_TYPE_NUMBER
                  : kind == C_STR                            ? JP_TYPE_STRING
                  : kind == C_BOOL                           ? JP_TYPE_BOOL
                  : kind == C_DATE                           ? JP_TYPE_DATE
                                                             : JP_TYPE_PERIOD;
    jp_column_t *c = jp_column_new(t, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = next();
        if ((int)(x % 100) < nullpct) {
            jp_column_push_null(c);
            continue;
        }
        x = next();
        switch (kind) {
        case C_INT_NARROW:
            jp_column_push_int(c, (int64_t)(x % 50) - 20, JP_Q_EXACT);
            break;
        case C_INT_WIDE:
            jp_column_push_int(c, (int64_t)x, JP_Q_EXACT);
            break;
        case C_NUM: {
            double v = (double)(x % 2000) / 8.0 - 100;
            if (x % 97 == 0) v = NAN;
            if (x % 89 == 0) v = -0.0;
            jp_column_push_number(c, v, JP_Q_EXACT);
            break;
        }
        case C_NUM_WIDE: {
            double v;
            uint64_t b = next();
            memcpy(&v, &b, sizeof v); /* any bit pattern: huge, tiny, inf, NaN */
            jp_column_push_number(c, v, JP_Q_EXACT);
            break;
        }
        case C_STR: {
            const char *w = words[x % 10];
            jp_column_push_str(c, w, strlen(w));
            break;
        }
        case C_BOOL:
            jp_column_push_bool(c, x & 1);
            break;
        case C_DATE:
            jp_column_push_date(c, (int32_t)(x % 4000) - 2000);
            break;
        default: {
            jp_period_t p;
            const char *s = periods[x % 7];
            jp_period_parse(s, strlen(s), &p, NULL);
            jp_column_push_period(c, &p);
        }
        }
    }
    return c;
}

/* The engine's order (via jp_sort_top) against the reference, for several
 * limits. */
static void check_order(jp_column_t **cols, const bool *desc, size_t nk, size_t n, const char *what)
{
    jp_dataset_t *ds = jp_dataset_new();
    const char *names[] = {"k0", "k1",  "k2",  "k3",  "k4",  "k5",  "k6",  "k7",  "k8",
                           "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17"};
    jp_sort_key_t keys[18];
    for (size_t q = 0; q < nk; q++) {
        jp_dataset_add(ds, names[q], jp_column_ref(cols[q]), NULL, NULL);
        keys[q].field = names[q];
        keys[q].desc = desc[q];
    }
    ds->nrows = n;
    size_t *want = malloc((n ? n : 1) * sizeof *want), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++) want[i] = i;
    ref_t r = {cols, desc, nk};
    msort(&r, want, tmp, n);
    size_t limits[] = {0, 1, 7, 1000, n / 2, n, n + 5};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        size_t *got = NULL, m = 0;
        jp_status_t st = jp_sort_top(ds, keys, nk, limits[l], &got, &m, &err);
        size_t expect = limits[l] && limits[l] < n ? limits[l] : n;
        bool same = st == JP_OK && m == expect;
        size_t bad = 0;
        for (size_t i = 0; same && i < m; i++)
            if (got[i] != want[i]) same = false, bad = i;
        CHECK_MSG(same, "%s, %zu rows, limit %zu: status %d, %zu rows, first difference at %zu",
                  what, n, limits[l], (int)st, m, bad);
        jp_free(got);
    }
    free(want);
    free(tmp);
    jp_dataset_unref(ds);
}

static void test_random_orders(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 37, 500, 5000, 40000, 150000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        int rounds = n > 10000 ? 4 : 12;
        for (int round = 0; round < rounds; round++) {
            size_t nk = 1 + next() % 3;
            jp_column_t *cols[3];
            bool desc[3];
            char what[64];
            int kinds[3];
            for (size_t q = 0; q < nk; q++) {
                kinds[q] = (int)(next() % C_KINDS);
                if (n > 10000 && kinds[q] == C_PERIOD) kinds[q] = C_DATE;
                cols[q] = random_column(kinds[q], n, (int)(next() % 3) * 10);
                desc[q] = next() & 1;
            }
            snprintf(what, sizeof what, "kinds %d/%d/%d", kinds[0], nk > 1 ? kinds[1] : -1,
                     nk > 2 ? kinds[2] : -1);
            check_order(cols, desc, nk, n, what);
            for (size_t q = 0; q < nk; q++) jp_column_unref(cols[q]);
        }
    }
}

/* Keys that do not pack into two words: the per-key passes. */
static void test_unpackable(void)
{
    size_t n = 3000;
    jp_column_t *cols[17];
    bool desc[17];
    for (int q = 0; q < 3; q++) {
        cols[q] = random_column(C_NUM_WIDE, n, 10);
        desc[q] = q == 1;
    }
    jp_sortkeys_t k;
    CHECK(jp_sortkeys_init(&k, cols, desc, 3, n, &err) == JP_OK && k.nwords == 0);
    jp_sortkeys_free(&k);
    check_order(cols, desc, 3, n, "three wide doubles");
    for (int q = 0; q < 3; q++) jp_column_unref(cols[q]);
    /* more keys than a packed key has room for */
    for (int q = 0; q < 17; q++) {
        cols[q] = random_column(q % 2 ? C_BOOL : C_INT_NARROW, n, 5);
        desc[q] = q % 3 == 0;
    }
    check_order(cols, desc, 17, n, "seventeen keys");
    for (int q = 0; q < 17; q++) jp_column_unref(cols[q]);
}

/* The layout: narrow keys share one word. */
static void test_packing(void)
{
    jp_dataset_t *d = mk("s:s,n:n,i:i", "b,1.5,3;a,,4;b,2,5");
    jp_column_t *cols[] = {d->cols[0], d->cols[1], d->cols[2]};
    bool desc[] = {false, true, false};
    jp_sortkeys_t k;
    CHECK(jp_sortkeys_init(&k, cols, desc, 3, 3, &err) == JP_OK);
    CHECK_INT(k.nwords, 1);
    CHECK_INT(k.f[0].vbits, 1); /* two strings */
    CHECK_INT(k.f[1].cbits, 1); /* values and nulls */
    CHECK_INT(k.f[2].vbits, 2); /* 3..5 */
    jp_sortkeys_free(&k);
    jp_dataset_unref(d);
}

/* A sort is a lazy node; its head is a top-N with the same rows as the head
 * of the full sort. */
static void test_node(void)
{
    jp_dataset_t *d = mk("k:s,v:n,i:i", "b,2,1;a,,2;b,1,3;a,3,4;c,nan,5;a,3,6;b,-0,7;b,0,8");
    jp_sort_key_t k[] = {{"k", false}, {"v", true}};
    jp_dataset_t *s = jp_sort_plan(d, k, 2, &err);
    CHECK(s && s->lazy && jp_sort_is_plan(s));
    CHECK_INT(s->nrows, 8); /* known without sorting */
    jp_dataset_t *h = jp_head(s, 3, &err);
    CHECK(h && jp_sort_is_plan(h));
    CHECK_STR(dump(h), "k,v,i;a,3,4;a,3,6;a,,2");
    jp_dataset_t *sl = jp_slice(s, 2, 3, &err);
    CHECK_STR(dump(sl), "k,v,i;a,,2;b,2,1;b,1,3");
    jp_dataset_t *hh = jp_head(h, 10, &err); /* a head of a head keeps the smaller */
    CHECK_INT(hh->nrows, 3);
    CHECK_STR(dump(s), "k,v,i;a,3,4;a,3,6;a,,2;b,2,1;b,1,3;b,-0,7;b,0,8;c,nan,5");
    CHECK(!s->lazy);
    jp_dataset_unref(hh);
    jp_dataset_unref(sl);
    jp_dataset_unref(h);
    jp_dataset_unref(s);
    CHECK_FAILS(jp_sort_plan(d, (jp_sort_key_t[]){{"kk", false}}, 1, &err),
                "sort: no field 'kk' in the dataset (did you mean 'k'?");
    /* an eager input gives an eager result */
    jp_dataset_t *e = jp_sort(d, k, 2, &err);
    CHECK(e && !e->lazy);
    jp_dataset_unref(e);
    jp_dataset_unref(d);
}

/* The top-N of a lazy file reads its other columns for those rows only:
 * same rows, values and types as sorting the whole file, also for columns
 * whose type is settled late (integers that turn decimal, decimals that
 * turn text and are read again) and for rows in the first and last
 * chunks. */
static void test_lazy_file_top(void)
{
    char path[] = "/tmp/jinpu-sort-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "k,v,late_num,late_text,note\n");
    size_t n = 20000;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = next();
        const char *ln = i == n / 2 ? "2.5" : "7";
        char lt[32];
        if (i == n / 2 + 1)
            snprintf(lt, sizeof lt, "n.a.");
        else
            snprintf(lt, sizeof lt, "%zu.25", i);
        jp_buf_printf(&b, "%s,%d,%s,%s,\"r%zu, \"\"q\"\"\"\n", x % 3 ? "a" : "b",
                      i == 0 || i == n - 1 ? 1000000 : (int)(x % 5000), ln, lt, i);
    }
    CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
    close(fd);
    jp_buf_free(&b);
    jp_csv_tuning_t t = {0};
    t.batch_bytes = 65536;
    t.chunk_bytes = 4096;
    t.lazy_bytes = 1;
    t.threads = 2;
    jp_csv_set_tuning(&t);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = true;
    jp_dataset_t *lz = NULL, *eg = NULL;
    CHECK(jp_csv_read(path, &o, &lz, &err) == JP_OK && lz && lz->lazy);
    o.lazy = false;
    CHECK(jp_csv_read(path, &o, &eg, &err) == JP_OK && eg && !eg->lazy);
    jp_sort_key_t k[] = {{"v", true}, {"k", false}};
    if (lz && eg) {
        jp_dataset_t *s1 = jp_sort_plan(lz, k, 2, &err);
        jp_dataset_t *h1 = s1 ? jp_head(s1, 25, &err) : NULL;
        jp_dataset_t *s2 = jp_sort(eg, k, 2, &err);
        jp_dataset_t *h2 = s2 ? jp_head(s2, 25, &err) : NULL;
        CHECK(h1 && h2 && jp_dataset_need_all(h1, &err) == JP_OK);
        char why[256] = "";
        CHECK_MSG(h1 && h2 && jp_dataset_equal(h1, h2, why, sizeof why), "%s", why);
        /* the top rows are the first and last of the file (v 1000000) */
        CHECK(h1 && h1->cols[3]->type == JP_TYPE_STRING && h1->cols[2]->type == JP_TYPE_NUMBER);
        /* the top-N streamed: the lazy file loaded no column, not even its keys */
        CHECK(!lz->cols[0] && !lz->cols[1] && !lz->cols[2] && !lz->cols[3] && !lz->cols[4]);
        jp_dataset_unref(h1);
        jp_dataset_unref(h2);
        jp_dataset_unref(s1);
        jp_dataset_unref(s2);
    }
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(lz);
    jp_dataset_unref(eg);
    unlink(path);
}

int main(void)
{
    RUN(test_packing);
    RUN(test_node);
    RUN(test_random_orders);
    RUN(test_unpackable);
    RUN(test_lazy_file_top);
    return unit_done();
}
