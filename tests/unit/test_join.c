/*
 * test_join.c - joins against a nested-loop reference: every kind (inner,
 * left, right, full, semi, anti), one and two keys, the dense and the hash
 * index, strings of different dictionaries, integer keys against number
 * keys, nulls and NaN, sizes that probe on several cores; keys named
 * differently; errors naming both keys and their types; the left columns
 * shared by a lookup join.
 */
#include <math.h>
#include <stdlib.h>
#include "jp_buf.h"
#include "jp_mem.h"
#include "jp_verbs.h"
#include "unit.h"
#include "verbs_util.h"

static jp_error_t err;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A key column: kind 0 narrow integers, 1 wide integers, 2 numbers (with
 * NaN and -0), 3 strings, 4 integral numbers (to meet kind 0). */
static jp_column_t *keycol(int kind, size_t n, int span)
{
    jp_type_t t = kind == 0 || kind == 1 ? JP_TYPE_INT
                  : kind == 3            ? JP_TYPE_STRING
                                         : JP_TYPE_NUMBER;
    jp_column_t *c = jp_column_new(t, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = next();
        if (x % 13 == 0) {
            jp_column_push_null(c);
            continue;
        }
        int v = (int)(next() % (uint64_t)span);
        switch (kind) {
        case 0:
            jp_column_push_int(c, v, JP_Q_EXACT);
            break;
        case 1:
            jp_column_push_int(c, (int64_t)v * 1000000007LL, JP_Q_EXACT);
            break;
        case 2:
            jp_column_push_number(c,
                                  v == 0   ? (x & 1 ? -0.0 : 0.0)
                                  : v == 1 ? NAN
                                           : v + 0.5,
                                  JP_Q_EXACT);
            break;
        case 3: {
            char s[16];
            snprintf(s, sizeof s, "k%d", v);
            jp_column_push_str(c, s, strlen(s));
            break;
        }
        default:
            jp_column_push_number(c, v, JP_Q_EXACT);
        }
    }
    return c;
}

static bool cell_eq(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    if (jp_column_is_null(a, i) || jp_column_is_null(b, j)) return false;
    if (jp_type_is_numeric(a->type) && jp_type_is_numeric(b->type)) {
        double x = a->type == JP_TYPE_INT ? (double)a->v.i[i] : a->v.d[i];
        double y = b->type == JP_TYPE_INT ? (double)b->v.i[j] : b->v.d[j];
        return x == y || (isnan(x) && isnan(y));
    }
    return jp_column_cmp_cells(a, i, b, j) == 0;
}

static bool rows_match(jp_column_t **lk, jp_column_t **rk, size_t nk, size_t l, size_t r)
{
    for (size_t k = 0; k < nk; k++)
        if (!cell_eq(lk[k], l, rk[k], r)) return false;
    return true;
}

/* The reference pairs, as "lid/rid;" text (- for none). */
static char *reference(jp_column_t **lk, jp_column_t **rk, size_t nk, size_t nl, size_t nr,
                       jp_join_how_t how)
{
    jp_buf_t b = JP_BUF_INIT;
    if (how == JP_JOIN_RIGHT) {
        for (size_t r = 0; r < nr; r++) {
            bool any = false;
            for (size_t l = 0; l < nl; l++)
                if (rows_match(lk, rk, nk, l, r)) {
                    jp_buf_printf(&b, "%zu/%zu;", l, r);
                    any = true;
                }
            if (!any) jp_buf_printf(&b, "-/%zu;", r);
        }
        return b.data ? b.data : jp_strdup("");
    }
    bool *hit = calloc(nr + 1, 1);
    for (size_t l = 0; l < nl; l++) {
        bool any = false;
        for (size_t r = 0; r < nr; r++)
            if (rows_match(lk, rk, nk, l, r)) {
                any = true;
                hit[r] = true;
                if (how == JP_JOIN_INNER || how == JP_JOIN_LEFT || how == JP_JOIN_FULL)
                    jp_buf_printf(&b, "%zu/%zu;", l, r);
            }
        if (how == JP_JOIN_SEMI && any) jp_buf_printf(&b, "%zu/-;", l);
        if (how == JP_JOIN_ANTI && !any) jp_buf_printf(&b, "%zu/-;", l);
        if ((how == JP_JOIN_LEFT || how == JP_JOIN_FULL) && !any) jp_buf_printf(&b, "%zu/-;", l);
    }
    if (how == JP_JOIN_FULL)
        for (size_t r = 0; r < nr; r++)
            if (!hit[r]) jp_buf_printf(&b, "-/%zu;", r);
    free(hit);
    return b.data ? b.data : jp_strdup("");
}

/* The engine's pairs, from the lid and rid fields of the output. */
static char *pairs_of(jp_dataset_t *out)
{
    jp_buf_t b = JP_BUF_INIT;
    long li = jp_dataset_find(out, "lid"), ri = jp_dataset_find(out, "rid");
    jp_dataset_need_all(out, NULL);
    for (size_t q = 0; q < out->nrows; q++) {
        const jp_column_t *l = out->cols[li];
        if (jp_column_is_null(l, q))
            jp_buf_puts(&b, "-/");
        else
            jp_buf_printf(&b, "%lld/", (long long)l->v.i[q]);
        if (ri < 0 || jp_column_is_null(out->cols[ri], q))
            jp_buf_puts(&b, "-;");
        else
            jp_buf_printf(&b, "%lld;", (long long)out->cols[ri]->v.i[q]);
    }
    return b.data ? b.data : jp_strdup("");
}

static jp_column_t *ids(size_t n)
{
    jp_column_t *c = jp_column_new(JP_TYPE_INT, n ? n : 1);
    for (size_t i = 0; i < n; i++) jp_column_push_int(c, (int64_t)i, JP_Q_EXACT);
    return c;
}

/* A right key column of distinct values (a lookup table): 0..n-1 in a
 * shuffled order, as kind's type, with a few nulls. */
static jp_column_t *uniqcol(int kind, size_t n)
{
    size_t *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next() % i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    jp_column_t *c = jp_column_new(kind == 3                ? JP_TYPE_STRING
                                   : kind == 2 || kind == 4 ? JP_TYPE_NUMBER
                                                            : JP_TYPE_INT,
                                   n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (next() % 17 == 0) {
            jp_column_push_null(c);
            continue;
        }
        char s[16];
        switch (kind) {
        case 1:
            jp_column_push_int(c, (int64_t)v[i] * 1000000007LL, JP_Q_EXACT);
            break;
        case 2:
            jp_column_push_number(c, (double)v[i] + 0.5, JP_Q_EXACT);
            break;
        case 3:
            snprintf(s, sizeof s, "k%zu", v[i]);
            jp_column_push_str(c, s, strlen(s));
            break;
        case 4:
            jp_column_push_number(c, (double)v[i], JP_Q_EXACT);
            break;
        default:
            jp_column_push_int(c, (int64_t)v[i], JP_Q_EXACT);
        }
    }
    free(v);
    return c;
}

/* A right field with nulls and qualifiers, to follow through the join. */
static jp_column_t *qualcol(size_t n)
{
    jp_column_t *c = jp_column_new(JP_TYPE_NUMBER, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (i % 5 == 3)
            jp_column_push_null(c);
        else
            jp_column_push_number(c, (double)i * 1.5, i % 3 == 1 ? JP_Q_APPROX : JP_Q_EXACT);
    }
    return c;
}

static void check_join_u(int lkind[2], int rkind[2], size_t nk, size_t nl, size_t nr, int span,
                         bool unique)
{
    jp_column_t *lk[2], *rk[2];
    jp_dataset_t *L = jp_dataset_new(), *R = jp_dataset_new();
    const char *lnames[] = {"a", "b"}, *rnames[] = {"x", "y"};
    for (size_t k = 0; k < nk; k++) {
        lk[k] = keycol(lkind[k], nl, span);
        rk[k] = unique && k == 0 ? uniqcol(rkind[k], nr) : keycol(rkind[k], nr, span);
        jp_dataset_add(L, lnames[k], jp_column_ref(lk[k]), NULL, NULL);
        jp_dataset_add(R, rnames[k], jp_column_ref(rk[k]), NULL, NULL);
    }
    jp_dataset_add(L, "lid", ids(nl), NULL, NULL);
    jp_dataset_add(R, "rid", ids(nr), NULL, NULL);
    jp_column_t *rq = qualcol(nr);
    jp_dataset_add(R, "rq", jp_column_ref(rq), NULL, NULL);
    L->nrows = nl;
    R->nrows = nr;
    for (int how = JP_JOIN_INNER; how <= JP_JOIN_FULL; how++) {
        jp_dataset_t *out = jp_join(L, R, lnames, rnames, nk, (jp_join_how_t)how, NULL, &err);
        CHECK_MSG(out != NULL, "join %d: %s", how, err.msg);
        if (!out) continue;
        char *want = reference(lk, rk, nk, nl, nr, (jp_join_how_t)how);
        char *got = pairs_of(out);
        CHECK_MSG(strcmp(want, got) == 0,
                  "how %d, kinds %d/%d %d/%d, %zu x %zu rows, span %d, unique %d", how, lkind[0],
                  rkind[0], nk > 1 ? lkind[1] : -1, nk > 1 ? rkind[1] : -1, nl, nr, span, unique);
        /* the right's other fields follow their rows: values, nulls, qualifiers */
        long rcol = jp_dataset_find(out, "rid"), qcol = jp_dataset_find(out, "rq");
        if (rcol >= 0 && qcol >= 0) {
            const jp_column_t *oc = out->cols[qcol], *ic = out->cols[rcol];
            bool ok = oc->len == out->nrows;
            for (size_t i = 0; i < out->nrows && ok; i++) {
                if (jp_column_is_null(ic, i)) {
                    ok = jp_column_is_null(oc, i) && jp_column_qual(oc, i) == JP_Q_EXACT;
                    continue;
                }
                size_t r = (size_t)ic->v.i[i];
                ok = jp_column_is_null(oc, i) == jp_column_is_null(rq, r) &&
                     jp_column_qual(oc, i) == jp_column_qual(rq, r) &&
                     (jp_column_is_null(rq, r) || oc->v.d[i] == rq->v.d[r]);
            }
            CHECK_MSG(ok, "how %d, unique %d: the right's field rq", how, unique);
        }
        /* right and full joins: a right-only row carries the right's keys */
        if (how == JP_JOIN_RIGHT || how == JP_JOIN_FULL) {
            long a = jp_dataset_find(out, "a"), lid = jp_dataset_find(out, "lid"),
                 rid = jp_dataset_find(out, "rid");
            bool ok = true;
            for (size_t q = 0; q < out->nrows && ok; q++)
                if (jp_column_is_null(out->cols[lid], q)) {
                    size_t r = (size_t)out->cols[rid]->v.i[q];
                    ok = jp_column_is_null(rk[0], r)
                             ? jp_column_is_null(out->cols[a], q)
                             : cell_eq(out->cols[a], q, rk[0], r) ||
                                   (jp_type_is_numeric(rk[0]->type) && isnan(rk[0]->v.d[r]));
                }
            CHECK_MSG(ok, "how %d: the right's keys on right-only rows", how);
        }
        jp_free(want);
        jp_free(got);
        jp_dataset_unref(out);
    }
    for (size_t k = 0; k < nk; k++) {
        jp_column_unref(lk[k]);
        jp_column_unref(rk[k]);
    }
    jp_column_unref(rq);
    jp_dataset_unref(L);
    jp_dataset_unref(R);
}

static void check_join(int lkind[2], int rkind[2], size_t nk, size_t nl, size_t nr, int span)
{
    check_join_u(lkind, rkind, nk, nl, nr, span, false);
}

static void test_random_joins(void)
{
    /* kinds: narrow ints (dense), wide ints (hash), numbers, strings, ints with numbers */
    int pairs[][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {0, 4}, {4, 0}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        for (int round = 0; round < 3; round++) {
            int lk[2] = {pairs[p][0], (int)(next() % 2) * 3}, rk[2] = {pairs[p][1], lk[1]};
            size_t nl = 20 + next() % 300, nr = next() % 60;
            check_join(lk, rk, 1, nl, nr, 25);
            check_join(lk, rk, 2, nl, nr, 6);
        }
    /* lookup tables: one right row per key, some left keys missing, some
       right keys never asked for; a left key a right key of another
       dictionary; enough left rows for several cores and probe blocks */
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        for (int round = 0; round < 3; round++) {
            int lk[2] = {pairs[p][0], (int)(next() % 2) * 3}, rk[2] = {pairs[p][1], lk[1]};
            size_t nl = 20 + next() % 3000, nr = 1 + next() % 40;
            int span = (int)nr + (int)(next() % 3) * 5;
            check_join_u(lk, rk, 1, nl, nr, span, true);
            check_join_u(lk, rk, 2, nl, nr, span, true);
        }
    int u[2] = {3, 0};
    check_join_u(u, u, 1, 150000, 30, 30, true);
    int ui[2] = {0, 0};
    check_join_u(ui, ui, 1, 140001, 300, 250, true);
    /* enough rows to probe on several cores */
    int a[2] = {3, 0}, b[2] = {3, 0};
    check_join(a, b, 2, 150000, 40, 9);
    int c[2] = {1, 0}, d[2] = {1, 0};
    check_join(c, d, 1, 140000, 200, 300);
}

static void test_join_fields(void)
{
    jp_dataset_t *l = mk("county:s,v:i", "a,1;b,2;c,3;,4");
    jp_dataset_t *r = mk("code:s,name:s,v:n", "b,Bee,20;a,Ay,10;d,Dee,40;a,Ay2,11");
    const char *lk[] = {"county"}, *rk[] = {"code"};
    CHECK_DS(jp_join(l, r, lk, rk, 1, JP_JOIN_INNER, NULL, &err),
             "county,v,name,v_right;a,1,Ay,10;a,1,Ay2,11;b,2,Bee,20");
    CHECK_DS(jp_join(l, r, lk, rk, 1, JP_JOIN_RIGHT, NULL, &err),
             "county,v,name,v_right;b,2,Bee,20;a,1,Ay,10;d,,Dee,40;a,1,Ay2,11");
    CHECK_DS(jp_join(l, r, lk, rk, 1, JP_JOIN_FULL, "_r", &err),
             "county,v,name,v_r;a,1,Ay,10;a,1,Ay2,11;b,2,Bee,20;c,3,,;,4,,;d,,Dee,40");
    CHECK_DS(jp_join(l, r, lk, rk, 1, JP_JOIN_SEMI, NULL, &err), "county,v;a,1;b,2");
    CHECK_DS(jp_join(l, r, lk, rk, 1, JP_JOIN_ANTI, NULL, &err), "county,v;c,3;,4");
    /* errors name both keys and both types, and suggest names */
    jp_dataset_t *n = mk("code:i,name:s", "1,x");
    CHECK_FAILS(jp_join(l, n, lk, rk, 1, JP_JOIN_INNER, NULL, &err),
                "join: key 'county' is string in the left dataset but key 'code' is integer in "
                "the right");
    const char *typo[] = {"conty"};
    CHECK_FAILS(jp_join(l, r, typo, rk, 1, JP_JOIN_INNER, NULL, &err),
                "join: no field 'conty' in the dataset (did you mean 'county'?");
    const char *rtypo[] = {"cod"};
    CHECK_FAILS(jp_join(l, r, lk, rtypo, 1, JP_JOIN_INNER, NULL, &err),
                "join (right dataset): no field 'cod' in the dataset (did you mean 'code'?");
    jp_dataset_unref(n);
    /* integer keys meet number keys; the right-only key widens to number */
    jp_dataset_t *yi = mk("year:i,a:i", "2021,1;2022,2");
    jp_dataset_t *yn = mk("year:n,b:i", "2022,20;2023,30");
    const char *yk[] = {"year"};
    CHECK_DS(jp_join(yi, yn, yk, NULL, 1, JP_JOIN_FULL, NULL, &err),
             "year,a,b;2021,1,;2022,2,20;2023,,30");
    jp_dataset_unref(yi);
    jp_dataset_unref(yn);
    /* period keys (probed row by row), with a string key beside them */
    jp_dataset_t *pl = mk("p:p,c:s,a:i", "2021-Q1,x,1;2021-Q2,x,2;2021-Q1,y,3;,x,4;2021,x,5");
    jp_dataset_t *pr = mk("p:p,c:s,b:i", "2021-Q1,x,10;2021-Q1,y,30;2021,x,50;2021-Q3,x,70");
    const char *pk[] = {"p", "c"};
    CHECK_DS(jp_join(pl, pr, pk, NULL, 2, JP_JOIN_LEFT, NULL, &err),
             "p,c,a,b;2021-Q1,x,1,10;2021-Q2,x,2,;2021-Q1,y,3,30;,x,4,;2021,x,5,50");
    jp_dataset_unref(pl);
    jp_dataset_unref(pr);
    jp_dataset_unref(l);
    jp_dataset_unref(r);
}

/* A lookup join (every left row matches one right row) shares the left's
 * columns. */
static void test_lookup_shares(void)
{
    jp_dataset_t *l = mk("k:s,v:n", "a,1;b,2;a,3");
    jp_dataset_t *r = mk("k:s,t:n", "a,10;b,20");
    const char *k[] = {"k"};
    jp_dataset_t *j = jp_join(l, r, k, NULL, 1, JP_JOIN_LEFT, NULL, &err);
    CHECK(j && j->cols[0] == l->cols[0] && j->cols[1] == l->cols[1]);
    CHECK_STR(dump(j), "k,v,t;a,1,10;b,2,20;a,3,10");
    jp_dataset_unref(j);
    jp_dataset_unref(l);
    jp_dataset_unref(r);
}

/* A lookup with fewer left rows than right keys (a batch against a large
 * table) reads each row's right row directly: the same values, qualifiers
 * and nulls where nothing matches. */
static void test_lookup_few_rows(void)
{
    jp_dataset_t *l = mk("k:s,v:n", "c,1;zz,2;a,3");
    jp_dataset_t *r = mk("k:s,t:n", "a,10;b,20;c,;d,40;e,50;f,60");
    const char *k[] = {"k"};
    jp_dataset_t *j = jp_join(l, r, k, NULL, 1, JP_JOIN_LEFT, NULL, &err);
    CHECK_STR(dump(j), "k,v,t;c,1,;zz,2,;a,3,10");
    jp_dataset_unref(j);
    jp_dataset_t *l2 = mk("k:s,v:n", "f,1;a,2");
    j = jp_join(l2, r, k, NULL, 1, JP_JOIN_INNER, NULL, &err);
    CHECK_STR(dump(j), "k,v,t;f,1,60;a,2,10");
    jp_dataset_unref(j);
    jp_dataset_unref(l2);
    jp_dataset_unref(l);
    jp_dataset_unref(r);
}

int main(void)
{
    RUN(test_join_fields);
    RUN(test_lookup_shares);
    RUN(test_lookup_few_rows);
    RUN(test_random_joins);
    return unit_done();
}
