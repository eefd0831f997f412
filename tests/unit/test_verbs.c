/*
 * test_verbs.c - every verb against hand-computed answers: nulls,
 * qualifiers, empty and one-row datasets, errors naming verb and field.
 */
#include "jp_keys.h"
#include "jp_mem.h"
#include "jp_verbs.h"
#include "unit.h"
#include "verbs_util.h"

static jp_error_t err;

static void test_filter_rows(void)
{
    jp_dataset_t *d = mk("k:s,v:n:t", "a,1.5;b,;a,~2;c,>4");
    CHECK_DS(jp_filter(d, "v > 1.6", &err), "k,v;a,~2;c,>4");
    CHECK_DS(jp_filter(d, "v == nil or k == 'c'", &err), "k,v;b,;c,>4");
    CHECK_DS(jp_filter(d, "k == 'zz'", &err), "k,v");
    CHECK_FAILS(jp_filter(d, "w > 1", &err), "filter: unknown field 'w' at column 1");
    CHECK(err.col == 1);
    CHECK_FAILS(jp_filter(d, "k > 1", &err),
                "filter: cannot compare string 'k' with integer 1 at column 3");
    CHECK_FAILS(jp_filter(d, "v + 1", &err), "not a condition");
    size_t idx[] = {3, 0, 0};
    CHECK_DS(jp_take(d, idx, 3, &err), "k,v;c,>4;a,1.5;a,1.5");
    size_t bad[] = {4};
    CHECK_FAILS(jp_take(d, bad, 1, &err), "row 5 is past the end");
    CHECK_DS(jp_head(d, 2, &err), "k,v;a,1.5;b,");
    CHECK_DS(jp_head(d, 10, &err), "k,v;a,1.5;b,;a,~2;c,>4");
    CHECK_DS(jp_head(d, 0, &err), "k,v");
    CHECK_DS(jp_tail(d, 2, &err), "k,v;a,~2;c,>4");
    CHECK_DS(jp_tail(d, 9, &err), "k,v;a,1.5;b,;a,~2;c,>4");
    CHECK_DS(jp_slice(d, 1, 2, &err), "k,v;b,;a,~2");
    CHECK_DS(jp_slice(d, 3, 5, &err), "k,v;c,>4");
    CHECK_DS(jp_slice(d, 7, 5, &err), "k,v");
    /* the input is unchanged */
    CHECK_STR(dump(d), "k,v;a,1.5;b,;a,~2;c,>4");
    /* units survive */
    jp_dataset_t *f = jp_filter(d, "true", &err);
    CHECK_STR(f->schema.fields[1].unit, "t");
    jp_dataset_unref(f);
    jp_dataset_unref(d);
    /* empty and one row */
    jp_dataset_t *e = mk("v:n", "");
    CHECK_DS(jp_filter(e, "v > 1", &err), "v");
    CHECK_DS(jp_head(e, 3, &err), "v");
    CHECK_DS(jp_tail(e, 3, &err), "v");
    jp_dataset_unref(e);
    jp_dataset_t *one = mk("v:n", "3");
    CHECK_DS(jp_filter(one, "v > 1", &err), "v;3");
    CHECK_DS(jp_tail(one, 1, &err), "v;3");
    jp_dataset_unref(one);
}

static void test_fields(void)
{
    jp_dataset_t *d = mk("a:i,b:s,c:n:mu", "1,x,2.5;2,,3");
    const char *sel[] = {"c", "a"};
    CHECK_DS(jp_select(d, sel, 2, &err), "c,a;2.5,1;3,2");
    const char *bad[] = {"a", "zz"};
    CHECK_FAILS(jp_select(d, bad, 2, &err), "select: no field 'zz'");
    CHECK_STR(err.field, "zz");
    const char *twice[] = {"a", "a"};
    CHECK_FAILS(jp_select(d, twice, 2, &err), "named twice");
    const char *drop[] = {"b"};
    CHECK_DS(jp_drop(d, drop, 1, &err), "a,c;1,2.5;2,3");
    CHECK_DS(jp_drop(d, NULL, 0, &err), "a,b,c;1,x,2.5;2,,3");
    const char *from[] = {"a", "c"}, *to[] = {"id", "area"};
    CHECK_DS(jp_rename(d, from, to, 2, &err), "id,b,area;1,x,2.5;2,,3");
    const char *clash_from[] = {"a"}, *clash_to[] = {"b"};
    CHECK_FAILS(jp_rename(d, clash_from, clash_to, 1, &err), "two fields would be named 'b'");
    jp_dataset_t *r = jp_rename(d, from, to, 2, &err);
    CHECK_STR(r->schema.fields[2].unit, "mu");
    jp_dataset_unref(r);
    jp_dataset_unref(d);
}

static void test_mutate(void)
{
    jp_dataset_t *d = mk("a:i,b:n:t,c:n:mu", "1,>10,2;2,,4;3,9,3");
    jp_mutation_t m1[] = {{"y", "b / c", NULL, NULL}, {"a", "a * 10", NULL, NULL}};
    jp_dataset_t *r = jp_mutate(d, m1, 2, false, &err);
    CHECK_STR(dump(r), "a,b,c,y;10,>10,2,>5;20,,4,;30,9,3,3");
    CHECK_STR(types_of(r), "innn");
    CHECK_STR(r->schema.fields[3].unit, "t/mu");
    CHECK(r->schema.fields[0].unit == NULL);
    jp_dataset_unref(r);
    /* non-sequential: y sees the old a; sequential: the new one */
    jp_mutation_t m2[] = {{"a", "a + 1", NULL, NULL}, {"y", "a * 2", NULL, NULL}};
    CHECK_DS(jp_mutate(d, m2, 2, false, &err), "a,b,c,y;2,>10,2,2;3,,4,4;4,9,3,6");
    CHECK_DS(jp_mutate(d, m2, 2, true, &err), "a,b,c,y;2,>10,2,4;3,,4,6;4,9,3,8");
    jp_mutation_t m3[] = {{"z", "y + 1", NULL, NULL}, {"y", "1", NULL, NULL}};
    CHECK_FAILS(jp_mutate(d, m3, 2, false, &err), "mutate: unknown field 'y' at column 1");
    jp_column_t *col = jp_column_new(JP_TYPE_STRING, 3);
    jp_column_push_str(col, "p", 1);
    jp_column_push_str(col, "q", 1);
    jp_column_push_null(col);
    jp_mutation_t m4[] = {{"s", NULL, col, NULL}};
    CHECK_DS(jp_mutate(d, m4, 1, false, &err), "a,b,c,s;1,>10,2,p;2,,4,q;3,9,3,");
    jp_column_t *shortc = jp_column_new(JP_TYPE_INT, 1);
    jp_column_push_int(shortc, 1, JP_Q_EXACT);
    jp_mutation_t m5[] = {{"s", NULL, shortc, NULL}};
    CHECK_FAILS(jp_mutate(d, m5, 1, false, &err),
                "column for 's' has 1 values but the dataset has 3");
    jp_mutation_t m6[] = {{"s", "a", NULL, NULL}, {"s", "b", NULL, NULL}};
    CHECK_FAILS(jp_mutate(d, m6, 2, false, &err), "field 's' is set twice");
    jp_mutation_t m7[] = {{"s", "a ..", NULL, NULL}};
    CHECK_FAILS(jp_mutate(d, m7, 1, false, &err),
                "mutate: unexpected end of expression at column 5");
    jp_column_unref(col);
    jp_column_unref(shortc);
    CHECK_STR(dump(d), "a,b,c;1,>10,2;2,,4;3,9,3");
    jp_dataset_unref(d);
    jp_dataset_t *e = mk("a:i", "");
    jp_mutation_t m8[] = {{"b", "a * 2", NULL, NULL}};
    CHECK_DS(jp_mutate(e, m8, 1, false, &err), "a,b");
    jp_dataset_unref(e);
}

static void test_sort(void)
{
    jp_dataset_t *d = mk("k:s,v:n,i:i", "b,2,1;a,,2;b,1,3;a,3,4;c,nan,5;a,3,6;b,-0,7;b,0,8");
    jp_sort_key_t k1[] = {{"v", false}};
    CHECK_DS(jp_sort(d, k1, 1, &err), "k,v,i;b,-0,7;b,0,8;b,1,3;b,2,1;a,3,4;a,3,6;c,nan,5;a,,2");
    /* the -0 and 0 tie keeps input order; nan and nil stay last */
    jp_sort_key_t k2[] = {{"v", true}};
    CHECK_DS(jp_sort(d, k2, 1, &err), "k,v,i;a,3,4;a,3,6;b,2,1;b,1,3;b,-0,7;b,0,8;c,nan,5;a,,2");
    jp_sort_key_t k3[] = {{"k", false}, {"v", true}};
    CHECK_DS(jp_sort(d, k3, 2, &err), "k,v,i;a,3,4;a,3,6;a,,2;b,2,1;b,1,3;b,-0,7;b,0,8;c,nan,5");
    jp_sort_key_t k4[] = {{"k", true}, {"i", true}};
    CHECK_DS(jp_sort(d, k4, 2, &err), "k,v,i;c,nan,5;b,0,8;b,-0,7;b,1,3;b,2,1;a,3,6;a,3,4;a,,2");
    jp_sort_key_t bad[] = {{"zz", false}};
    CHECK_FAILS(jp_sort(d, bad, 1, &err), "sort: no field 'zz'");
    jp_dataset_unref(d);
    /* strings by byte order, nulls last; integers with negatives; dates */
    jp_dataset_t *s = mk("s:s,i:i,d:d", "b,5,2022-01-02;,-3,;B,-9223372036854775808,2021-12-31;ab,"
                                        "9223372036854775807,1970-01-01;a,0,1969-12-31");
    jp_sort_key_t ks[] = {{"s", false}};
    CHECK_DS(
        jp_sort(s, ks, 1, &err),
        "s,i,d;B,-9223372036854775808,2021-12-31;a,0,1969-12-31;ab,9223372036854775807,1970-01-01;"
        "b,5,2022-01-02;,-3,");
    jp_sort_key_t ki[] = {{"i", false}};
    CHECK_DS(jp_sort(s, ki, 1, &err),
             "s,i,d;B,-9223372036854775808,2021-12-31;,-3,;a,0,1969-12-31;b,5,2022-01-02;ab,"
             "9223372036854775807,1970-01-01");
    jp_sort_key_t kd[] = {{"d", true}};
    CHECK_DS(
        jp_sort(s, kd, 1, &err),
        "s,i,d;b,5,2022-01-02;B,-9223372036854775808,2021-12-31;ab,9223372036854775807,1970-01-01;"
        "a,0,1969-12-31;,-3,");
    jp_dataset_unref(s);
    /* big enough for the radix path, checked against the order property */
    jp_dataset_t *big = jp_dataset_new();
    jp_column_t *v = jp_column_new(JP_TYPE_NUMBER, 3000);
    jp_column_t *id = jp_column_new(JP_TYPE_INT, 3000);
    unsigned x = 12345;
    for (int r = 0; r < 3000; r++) {
        x = x * 1103515245u + 12345u;
        jp_column_push_number(v, (double)((x >> 8) % 100) - 50.5, JP_Q_EXACT);
        jp_column_push_int(id, r, JP_Q_EXACT);
    }
    jp_dataset_add(big, "v", v, NULL, NULL);
    jp_dataset_add(big, "id", id, NULL, NULL);
    jp_sort_key_t kb[] = {{"v", false}};
    jp_dataset_t *sb = jp_sort(big, kb, 1, &err);
    bool ok = sb && sb->nrows == 3000;
    for (size_t r = 1; ok && r < 3000; r++) {
        double a = sb->cols[0]->v.d[r - 1], b = sb->cols[0]->v.d[r];
        if (a > b || (a == b && sb->cols[1]->v.i[r - 1] > sb->cols[1]->v.i[r])) ok = false;
    }
    CHECK(ok);
    jp_dataset_unref(sb);
    jp_dataset_unref(big);
    jp_dataset_t *e = mk("v:n", "");
    CHECK_DS(jp_sort(e, k1, 1, &err), "v");
    jp_dataset_unref(e);
}

static void test_group(void)
{
    jp_dataset_t *d =
        mk("k:s,y:i,v:n:t,s:s", "a,2020,1,x;b,2020,>2,y;a,2021,,z;a,2020,3,x;,2020,4,w;b,2020,~5,");
    const char *keys[] = {"k", "y"};
    jp_agg_t a1[] = {{"n", JP_AGG_COUNT, NULL, 0}, {"nv", JP_AGG_COUNT, "v", 0},
                     {"sum", JP_AGG_SUM, "v", 0},  {"mean", JP_AGG_MEAN, "v", 0},
                     {"min", JP_AGG_MIN, "v", 0},  {"max", JP_AGG_MAX, "v", 0}};
    jp_dataset_t *r = jp_group_agg(d, keys, 2, a1, 6, &err);
    CHECK_STR(dump(r), "k,y,n,nv,sum,mean,min,max;a,2020,2,2,4,2,1,3;b,2020,2,2,~7,~3.5,>2,~5;"
                       "a,2021,1,0,,,,;,2020,1,1,4,4,4,4");
    CHECK_STR(types_of(r), "siiinnnn");
    CHECK_STR(r->schema.fields[4].unit, "t");
    CHECK(r->schema.fields[2].unit == NULL);
    jp_dataset_unref(r);
    jp_agg_t a2[] = {{"med", JP_AGG_MEDIAN, "v", 0},        {"q", JP_AGG_QUANTILE, "v", 0.25},
                     {"nd", JP_AGG_COUNT_DISTINCT, "s", 0}, {"first", JP_AGG_FIRST, "s", 0},
                     {"last", JP_AGG_LAST, "s", 0},         {"smin", JP_AGG_MIN, "s", 0}};
    const char *k1[] = {"k"};
    CHECK_DS(jp_group_agg(d, k1, 1, a2, 6, &err),
             "k,med,q,nd,first,last,smin;a,2,1.5,2,x,x,x;b,~3.5,~2.75,1,y,y,y;,4,4,1,w,w,w");
    /* no keys: one row, also for an empty dataset */
    CHECK_DS(jp_group_agg(d, NULL, 0, a1, 6, &err), "n,nv,sum,mean,min,max;6,5,~15,~3,1,~5");
    jp_dataset_t *e = mk("k:s,v:n", "");
    CHECK_DS(jp_group_agg(e, NULL, 0, a1 + 0, 1, &err), "n;0");
    jp_agg_t ae[] = {
        {"n", JP_AGG_COUNT, NULL, 0}, {"s", JP_AGG_SUM, "v", 0}, {"m", JP_AGG_MEDIAN, "v", 0}};
    CHECK_DS(jp_group_agg(e, NULL, 0, ae, 3, &err), "n,s,m;0,,");
    CHECK_DS(jp_group_agg(e, k1, 1, ae, 3, &err), "k,n,s,m");
    jp_dataset_unref(e);
    jp_dataset_t *one = mk("k:s,v:i", "a,7");
    jp_agg_t ao[] = {
        {"s", JP_AGG_SUM, "v", 0}, {"m", JP_AGG_MEAN, "v", 0}, {"q", JP_AGG_QUANTILE, "v", 0.9}};
    CHECK_DS(jp_group_agg(one, k1, 1, ao, 3, &err), "k,s,m,q;a,7,7,7");
    jp_dataset_unref(one);
    /* errors */
    jp_agg_t bad1[] = {{"t", JP_AGG_SUM, "s", 0}};
    CHECK_FAILS(jp_group_agg(d, k1, 1, bad1, 1, &err),
                "agg: sum of field 's' for 't': it is string, not a number");
    CHECK_STR(err.field, "s");
    jp_agg_t bad2[] = {{"t", JP_AGG_SUM, "zz", 0}};
    CHECK_FAILS(jp_group_agg(d, k1, 1, bad2, 1, &err), "agg: sum: no field 'zz'");
    const char *badk[] = {"zz"};
    CHECK_FAILS(jp_group_agg(d, badk, 1, a1, 1, &err), "group_by: no field 'zz'");
    jp_agg_t bad3[] = {{"k", JP_AGG_COUNT, NULL, 0}};
    CHECK_FAILS(jp_group_agg(d, k1, 1, bad3, 1, &err), "already a group key");
    jp_agg_t bad4[] = {{"q", JP_AGG_QUANTILE, "v", 1.5}};
    CHECK_FAILS(jp_group_agg(d, k1, 1, bad4, 1, &err), "p must be between 0 and 1");
    jp_dataset_unref(d);
    /* qualifier rules for order statistics */
    jp_dataset_t *q = mk("v:n", ">1;>2;>3");
    jp_agg_t aq[] = {{"m", JP_AGG_MEDIAN, "v", 0}, {"s", JP_AGG_SUM, "v", 0}};
    CHECK_DS(jp_group_agg(q, NULL, 0, aq, 2, &err), "m,s;>2,>6");
    jp_dataset_unref(q);
    q = mk("v:n", ">1;2;>3");
    CHECK_DS(jp_group_agg(q, NULL, 0, aq, 2, &err), "m,s;>=2,>6");
    jp_dataset_unref(q);
    q = mk("v:i", ">=1;<=2");
    CHECK_DS(jp_group_agg(q, NULL, 0, aq, 2, &err), "m,s;~1.5,~3");
    jp_dataset_unref(q);
}

/* Wide keys go through the hash path. */
static void test_group_hash(void)
{
    jp_dataset_t *d = mk("a:n,b:i,c:p", "1.5,100000000000,2021;-0,5,2021;0,5,2021;1.5,100000000000,"
                                        "2022;nan,,2021;nan,,2021;1.5,100000000000,2021");
    const char *keys[] = {"a", "b", "c"};
    jp_agg_t a[] = {{"n", JP_AGG_COUNT, NULL, 0}};
    CHECK_DS(jp_group_agg(d, keys, 3, a, 1, &err),
             "a,b,c,n;1.5,100000000000,2021,2;-0,5,2021,2;1.5,100000000000,2022,1;nan,,2021,2");
    const char *dk[] = {"a"};
    CHECK_DS(jp_distinct(d, dk, 1, false, &err), "a;1.5;-0;nan");
    CHECK_DS(jp_distinct(d, dk, 1, true, &err), "a,b,c;1.5,100000000000,2021;-0,5,2021;nan,,2021");
    CHECK_DS(jp_distinct(d, NULL, 0, false, &err),
             "a,b,c;1.5,100000000000,2021;-0,5,2021;1.5,100000000000,2022;nan,,2021");
    jp_dataset_unref(d);
    /* many groups: the table grows */
    jp_dataset_t *big = jp_dataset_new();
    jp_column_t *v = jp_column_new(JP_TYPE_NUMBER, 5000);
    for (int r = 0; r < 5000; r++) jp_column_push_number(v, (r * 7919) % 3001 + 0.5, JP_Q_EXACT);
    jp_dataset_add(big, "v", v, NULL, NULL);
    const char *kv[] = {"v"};
    jp_dataset_t *g = jp_group_agg(big, kv, 1, a, 1, &err);
    CHECK(g && g->nrows == 3001);
    int64_t total = 0;
    for (size_t r = 0; g && r < g->nrows; r++) total += g->cols[1]->v.i[r];
    CHECK_INT(total, 5000);
    jp_dataset_unref(g);
    jp_dataset_unref(big);
}

static void test_join(void)
{
    jp_dataset_t *l = mk("k:s,y:i,v:n", "a,1,10;b,2,20;c,3,30;a,4,40;,5,50");
    jp_dataset_t *r = mk("k:s,w:s,v:i", "a,x,1;a,y,2;c,z,3;d,q,4;,n,5");
    const char *k[] = {"k"};
    CHECK_DS(jp_join(l, r, k, NULL, 1, JP_JOIN_INNER, NULL, &err),
             "k,y,v,w,v_right;a,1,10,x,1;a,1,10,y,2;c,3,30,z,3;a,4,40,x,1;a,4,40,y,2");
    CHECK_DS(
        jp_join(l, r, k, NULL, 1, JP_JOIN_LEFT, NULL, &err),
        "k,y,v,w,v_right;a,1,10,x,1;a,1,10,y,2;b,2,20,,;c,3,30,z,3;a,4,40,x,1;a,4,40,y,2;,5,50,,");
    CHECK_DS(jp_join(l, r, k, NULL, 1, JP_JOIN_ANTI, NULL, &err), "k,y,v;b,2,20;,5,50");
    CHECK_DS(jp_join(l, r, k, NULL, 1, JP_JOIN_SEMI, NULL, &err), "k,y,v;a,1,10;c,3,30;a,4,40");
    CHECK_DS(jp_join(l, r, k, NULL, 1, JP_JOIN_INNER, "_2", &err),
             "k,y,v,w,v_2;a,1,10,x,1;a,1,10,y,2;c,3,30,z,3;a,4,40,x,1;a,4,40,y,2");
    /* two keys, different names, integer against number */
    jp_dataset_t *r2 = mk("name:s,year:n,z:s", "a,1,p;a,4,q;c,3.5,r");
    const char *lk[] = {"k", "y"}, *rk[] = {"name", "year"};
    CHECK_DS(jp_join(l, r2, lk, rk, 2, JP_JOIN_LEFT, NULL, &err),
             "k,y,v,z;a,1,10,p;b,2,20,;c,3,30,;a,4,40,q;,5,50,");
    /* mismatched types */
    const char *bk[] = {"y"}, *bk2[] = {"name"};
    CHECK_FAILS(
        jp_join(l, r2, bk, bk2, 1, JP_JOIN_INNER, NULL, &err),
        "join: key 'y' is integer in the left dataset but key 'name' is string in the right");
    const char *vk[] = {"v"};
    jp_dataset_t *r3 = mk("v:s", "10");
    CHECK_FAILS(jp_join(l, r3, vk, NULL, 1, JP_JOIN_INNER, NULL, &err),
                "join: key 'v' is number in the left dataset but string in the right");
    const char *zk[] = {"zz"};
    CHECK_FAILS(jp_join(l, r, zk, NULL, 1, JP_JOIN_INNER, NULL, &err), "join: no field 'zz'");
    /* empty sides */
    jp_dataset_t *e = mk("k:s,w:i", "");
    CHECK_DS(jp_join(l, e, k, NULL, 1, JP_JOIN_INNER, NULL, &err), "k,y,v,w");
    CHECK_DS(jp_join(l, e, k, NULL, 1, JP_JOIN_ANTI, NULL, &err),
             "k,y,v;a,1,10;b,2,20;c,3,30;a,4,40;,5,50");
    CHECK_DS(jp_join(e, l, k, NULL, 1, JP_JOIN_LEFT, NULL, &err), "k,w,y,v");
    jp_dataset_unref(e);
    jp_dataset_unref(r3);
    jp_dataset_unref(r2);
    jp_dataset_unref(l);
    jp_dataset_unref(r);
}

static void test_concat(void)
{
    jp_dataset_t *a = mk("k:s,v:i:t", "a,1;b,");
    jp_dataset_t *b = mk("v:n:t,k:s", ">2.5,c;3,a");
    jp_dataset_t *list[] = {a, b, a};
    jp_dataset_t *c = jp_concat(list, 3, &err);
    CHECK_STR(dump(c), "k,v;a,1;b,;c,>2.5;a,3;a,1;b,");
    CHECK_STR(types_of(c), "sn");
    CHECK_STR(c->schema.fields[1].unit, "t");
    jp_dataset_unref(c);
    jp_dataset_t *only[] = {a};
    CHECK_DS(jp_concat(only, 1, &err), "k,v;a,1;b,");
    jp_dataset_t *u = mk("k:s,v:i:kg", "a,1");
    jp_dataset_t *l2[] = {a, u};
    CHECK_FAILS(jp_concat(l2, 2, &err),
                "concat: field 'v' is in t in dataset 1 but in kg in dataset 2");
    jp_dataset_t *m = mk("k:s", "a");
    jp_dataset_t *l3[] = {a, m};
    CHECK_FAILS(jp_concat(l3, 2, &err), "concat: dataset 2 has no field 'v'");
    jp_dataset_t *s = mk("k:s,v:s:t", "a,1");
    jp_dataset_t *l4[] = {a, s};
    CHECK_FAILS(jp_concat(l4, 2, &err),
                "concat: field 'v' is integer in dataset 1 but string in dataset 2");
    jp_dataset_unref(a);
    jp_dataset_unref(b);
    jp_dataset_unref(u);
    jp_dataset_unref(m);
    jp_dataset_unref(s);
}

static void test_pivot(void)
{
    jp_dataset_t *d = mk("d:s,y:i,v:n:t", "x,2020,1;x,2021,2;y,2020,3;z,2021,>4;y,2020,5");
    jp_pivot_opts_t o = {0};
    o.names_from = "y";
    o.values_from = "v";
    CHECK_FAILS(jp_pivot(d, &o, &err), "pivot: rows 3 and 5 both give a value for '2020'");
    o.has_fn = true;
    o.values_fn = JP_AGG_SUM;
    jp_dataset_t *p = jp_pivot(d, &o, &err);
    CHECK_STR(dump(p), "d,2020,2021;x,1,2;y,8,;z,,>4");
    CHECK_STR(p->schema.fields[1].unit, "t");
    jp_dataset_unref(p);
    o.values_fn = JP_AGG_COUNT;
    o.names_prefix = "n";
    CHECK_DS(jp_pivot(d, &o, &err), "d,n2020,n2021;x,1,1;y,2,0;z,0,1");
    jp_pivot_opts_t o2 = {0};
    o2.names_from = "d";
    o2.values_from = "v";
    const char *ids[] = {"y"};
    o2.id_cols = ids;
    o2.n_id_cols = 1;
    o2.has_fn = true;
    o2.values_fn = JP_AGG_FIRST;
    CHECK_FAILS(jp_pivot(d, &o2, &err), "pivot: the new field 'y' already exists");
    o2.names_prefix = "d_";
    CHECK_DS(jp_pivot(d, &o2, &err), "y,d_x,d_y,d_z;2020,1,3,;2021,2,,>4");
    o2.names_from = "zz";
    CHECK_FAILS(jp_pivot(d, &o2, &err), "pivot: no field 'zz'");
    /* unpivot back */
    jp_dataset_t *w = mk("d:s,a:i:t,b:n:t", "x,1,2.5;y,,>3");
    const char *cols[] = {"a", "b"};
    jp_unpivot_opts_t u = {cols, 2, "col", "val", false};
    jp_dataset_t *l = jp_unpivot(w, &u, &err);
    CHECK_STR(dump(l), "d,col,val;x,a,1;x,b,2.5;y,a,;y,b,>3");
    CHECK_STR(types_of(l), "ssn");
    CHECK_STR(l->schema.fields[2].unit, "t");
    jp_dataset_unref(l);
    u.drop_nulls = true;
    CHECK_DS(jp_unpivot(w, &u, &err), "d,col,val;x,a,1;x,b,2.5;y,b,>3");
    const char *bad[] = {"a", "d"};
    jp_unpivot_opts_t ub = {bad, 2, NULL, NULL, false};
    CHECK_FAILS(jp_unpivot(w, &ub, &err), "unpivot: column 'a' is integer but 'd' is string");
    jp_dataset_t *e = mk("d:s,a:i,b:i", "");
    CHECK_DS(jp_unpivot(e, &u, &err), "d,col,val");
    jp_dataset_unref(e);
    jp_dataset_unref(w);
    jp_dataset_unref(d);
}

static void test_convert(void)
{
    jp_dataset_t *d = mk("a:n:mu,b:i:10k CNY,c:s", "15,2,x;>30,,y;,3,z");
    CHECK_DS(jp_convert(d, "a", "ha", &err), "a,b,c;1,2,x;>2,,y;,3,z");
    jp_dataset_t *c = jp_convert(d, "b", "CNY", &err);
    CHECK_STR(dump(c), "a,b,c;15,20000,x;>30,,y;,30000,z");
    CHECK_STR(types_of(c), "nis");
    CHECK_STR(c->schema.fields[1].unit, "CNY");
    jp_dataset_unref(c);
    c = jp_convert(d, "b", "100M CNY", &err);
    CHECK_STR(types_of(c), "nns");
    /* a power of ten divides exactly: 0.0003, not 0.00030000000000000003 */
    CHECK_STR(dump(c), "a,b,c;15,0.0002,x;>30,,y;,0.0003,z");
    jp_dataset_unref(c);
    CHECK_FAILS(jp_convert(d, "a", "kg", &err), "convert: cannot convert mu (area) to kg (mass)");
    CHECK_FAILS(jp_convert(d, "a", "furlong", &err), "convert: unknown unit 'furlong'");
    CHECK_FAILS(jp_convert(d, "c", "ha", &err), "convert: field 'c' is string, not a number");
    CHECK_FAILS(jp_convert(d, "q", "ha", &err), "convert: no field 'q'");
    jp_dataset_unref(d);
    /* per-row units */
    jp_dataset_t *r = mk("v:n,u:s", "1,t;2000,kg;,kg;3,jin");
    r->schema.fields[0].unit_field = jp_strdup("u");
    jp_dataset_t *k = jp_convert(r, "v", "kg", &err);
    CHECK_STR(dump(k), "v,u;1000,kg;2000,kg;,kg;1.5,kg");
    CHECK(k && k->schema.fields[0].unit_field && strcmp(k->schema.fields[0].unit_field, "u") == 0);
    jp_dataset_unref(k);
    jp_dataset_t *bad = mk("v:n,u:s", "1,t;2,mu");
    bad->schema.fields[0].unit_field = jp_strdup("u");
    CHECK_FAILS(jp_convert(bad, "v", "kg", &err), "convert: row 2 of field 'v'");
    CHECK_INT(err.row, 2);
    jp_dataset_unref(bad);
    jp_dataset_unref(r);
}

static void test_vec(void)
{
    jp_dataset_t *d = mk("v:n,i:i,s:s,q:n", "1.5,3,b;,4,a;2.5,-2,;~1,,c,>2");
    jp_value_t v;
    CHECK(jp_vec_sum(d->cols[0], "v", &v, &err) == JP_OK);
    CHECK(v.type == JP_TYPE_NUMBER && v.u.d == 5.0 && v.qual == JP_Q_APPROX && !v.is_null);
    CHECK(jp_vec_sum(d->cols[1], "i", &v, &err) == JP_OK);
    CHECK(v.type == JP_TYPE_INT && v.u.i == 5 && v.qual == JP_Q_EXACT);
    CHECK(jp_vec_mean(d->cols[1], "i", &v, &err) == JP_OK);
    CHECK_DBL(v.u.d, 5.0 / 3);
    CHECK(jp_vec_min(d->cols[0], "v", &v, &err) == JP_OK && v.u.d == 1 && v.qual == JP_Q_APPROX);
    CHECK(jp_vec_max(d->cols[1], "i", &v, &err) == JP_OK && v.u.i == 4);
    CHECK(jp_vec_min(d->cols[2], "s", &v, &err) == JP_OK && v.u.s.len == 1 && v.u.s.ptr[0] == 'a');
    CHECK(jp_vec_max(d->cols[2], "s", &v, &err) == JP_OK && v.u.s.ptr[0] == 'c');
    CHECK_INT(jp_vec_count(d->cols[0]), 3);
    CHECK(jp_vec_sum(d->cols[2], "s", &v, &err) == JP_ERR_TYPE);
    CHECK(strstr(err.msg, "sum: field 's' is string, not a number") != NULL);
    CHECK(jp_vec_sum(d->cols[3], "q", &v, &err) == JP_OK && v.is_null == false);
    jp_dataset_unref(d);
    jp_dataset_t *e = mk("v:n", "");
    CHECK(jp_vec_sum(e->cols[0], "v", &v, &err) == JP_OK && v.is_null);
    CHECK(jp_vec_mean(e->cols[0], "v", &v, &err) == JP_OK && v.is_null);
    CHECK(jp_vec_min(e->cols[0], "v", &v, &err) == JP_OK && v.is_null);
    jp_dataset_unref(e);
    jp_dataset_t *o = mk("v:i", "9223372036854775807;1");
    CHECK(jp_vec_sum(o->cols[0], "v", &v, &err) == JP_ERR_RANGE);
    jp_dataset_unref(o);
    /* compensated summation */
    jp_column_t *c = jp_column_new(JP_TYPE_NUMBER, 4);
    jp_column_push_number(c, 1e16, JP_Q_EXACT);
    jp_column_push_number(c, 1.0, JP_Q_EXACT);
    jp_column_push_number(c, -1e16, JP_Q_EXACT);
    jp_column_push_number(c, 1.0, JP_Q_EXACT);
    CHECK(jp_vec_sum(c, NULL, &v, &err) == JP_OK && v.u.d == 2.0);
    jp_column_unref(c);
}

/* Every verb on an empty and on a one-row dataset. */
static void sweep(const char *rows, size_t n)
{
    jp_dataset_t *d = mk("k:s,v:n:mu,i:i,w:n:mu", rows);
    jp_dataset_t *r;
#define ROWS(expr, want)                                                                           \
    do {                                                                                           \
        r = (expr);                                                                                \
        CHECK_MSG(r && r->nrows == (want), "%s on %zu rows: %s", #expr, n,                         \
                  r ? "wrong count" : err.msg);                                                    \
        jp_dataset_unref(r);                                                                       \
    } while (0)
    ROWS(jp_filter(d, "v > 0", &err), n);
    ROWS(jp_head(d, 5, &err), n);
    ROWS(jp_tail(d, 5, &err), n);
    ROWS(jp_slice(d, 0, 5, &err), n);
    size_t none = 0;
    ROWS(jp_take(d, &none, 0, &err), 0);
    const char *sel[] = {"v"};
    ROWS(jp_select(d, sel, 1, &err), n);
    ROWS(jp_drop(d, sel, 1, &err), n);
    const char *to[] = {"vv"};
    ROWS(jp_rename(d, sel, to, 1, &err), n);
    jp_mutation_t m[] = {{"x", "v * i", NULL, NULL}, {"y", "k .. 'z'", NULL, NULL}};
    ROWS(jp_mutate(d, m, 2, true, &err), n);
    jp_sort_key_t sk[] = {{"k", false}, {"v", true}};
    ROWS(jp_sort(d, sk, 2, &err), n);
    const char *keys[] = {"k", "i"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0},     {"s", JP_AGG_SUM, "v", 0},
                     {"m", JP_AGG_MEAN, "i", 0},       {"lo", JP_AGG_MIN, "k", 0},
                     {"hi", JP_AGG_MAX, "v", 0},       {"med", JP_AGG_MEDIAN, "v", 0},
                     {"q", JP_AGG_QUANTILE, "i", 0.3}, {"nd", JP_AGG_COUNT_DISTINCT, "k", 0},
                     {"f", JP_AGG_FIRST, "k", 0},      {"l", JP_AGG_LAST, "v", 0}};
    ROWS(jp_group_agg(d, keys, 2, ag, 10, &err), n);
    ROWS(jp_group_agg(d, NULL, 0, ag, 10, &err), 1);
    ROWS(jp_distinct(d, keys, 2, false, &err), n);
    ROWS(jp_distinct(d, NULL, 0, false, &err), n);
    const char *jk[] = {"k"};
    ROWS(jp_join(d, d, jk, NULL, 1, JP_JOIN_INNER, NULL, &err), n);
    ROWS(jp_join(d, d, jk, NULL, 1, JP_JOIN_LEFT, NULL, &err), n);
    ROWS(jp_join(d, d, jk, NULL, 1, JP_JOIN_ANTI, NULL, &err), 0);
    ROWS(jp_join(d, d, jk, NULL, 1, JP_JOIN_SEMI, NULL, &err), n);
    jp_dataset_t *list[] = {d, d};
    ROWS(jp_concat(list, 2, &err), 2 * n);
    jp_pivot_opts_t po = {0};
    po.names_from = "k";
    po.values_from = "v";
    po.has_fn = true;
    po.values_fn = JP_AGG_SUM;
    ROWS(jp_pivot(d, &po, &err), n);
    const char *uc[] = {"v", "w"};
    jp_unpivot_opts_t uo = {uc, 2, NULL, NULL, false};
    ROWS(jp_unpivot(d, &uo, &err), 2 * n);
    ROWS(jp_convert(d, "v", "ha", &err), n);
    jp_value_t v;
    CHECK(jp_vec_sum(d->cols[1], "v", &v, &err) == JP_OK && v.is_null == (n == 0));
    CHECK(jp_vec_max(d->cols[0], "k", &v, &err) == JP_OK && v.is_null == (n == 0));
#undef ROWS
    jp_dataset_unref(d);
}

/* Out of memory at every allocation of a pipeline: an error, never a crash
 * or a leak (the sanitizer build checks the leaks). */
static void oom(void)
{
    jp_dataset_t *d = mk("k:s,y:i,v:n:t,a:n:mu", "a,1,>2,1;b,2,3,2;a,1,,3;c,3,4,4;b,2,5,5");
    int failures = 0, successes = 0;
    for (long n = 1; n < 3000; n++) {
        jp_mem_fail_after(n, 1);
        jp_error_clear(&err);
        jp_dataset_t *f = jp_filter(d, "v > 1 or k == 'a'", &err);
        jp_mutation_t m[] = {{"yield", "v / a", NULL, NULL}, {"s", "upper(k) .. y", NULL, NULL}};
        jp_dataset_t *g = f ? jp_mutate(f, m, 2, true, &err) : NULL;
        const char *keys[] = {"k", "y"};
        jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0},
                         {"s", JP_AGG_SUM, "v", 0},
                         {"q", JP_AGG_MEDIAN, "yield", 0},
                         {"d", JP_AGG_COUNT_DISTINCT, "s", 0}};
        jp_dataset_t *h = g ? jp_group_agg(g, keys, 2, ag, 4, &err) : NULL;
        jp_sort_key_t sk[] = {{"k", true}};
        jp_dataset_t *s2 = h ? jp_sort(h, sk, 1, &err) : NULL;
        const char *jk[] = {"k"};
        jp_dataset_t *j = s2 ? jp_join(s2, d, jk, NULL, 1, JP_JOIN_LEFT, NULL, &err) : NULL;
        jp_pivot_opts_t po = {0};
        po.names_from = "y";
        po.values_from = "v";
        po.has_fn = true;
        po.values_fn = JP_AGG_MAX;
        jp_dataset_t *p = j ? jp_pivot(d, &po, &err) : NULL;
        jp_mem_fail_after(0, 0);
        if (p)
            successes++;
        else {
            failures++;
            if (err.code != JP_ERR_NOMEM) {
                printf("# allocation %ld failed with '%s'\n", n, err.msg);
                unit_fail++;
            }
        }
        jp_dataset_unref(p);
        jp_dataset_unref(j);
        jp_dataset_unref(s2);
        jp_dataset_unref(h);
        jp_dataset_unref(g);
        jp_dataset_unref(f);
        if (p) break; /* past the last allocation */
    }
    CHECK(successes == 1 && failures > 50);
    jp_dataset_unref(d);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantiles by selection against quantiles by sorting, on random groups
 * with many ties. */
static void test_quantile_random(void)
{
    unsigned seed = 99;
    bool ok = true;
    for (int round = 0; round < 40 && ok; round++) {
        size_t n = 1 + (size_t)(round * 37 % 500);
        jp_column_t *v = jp_column_new(JP_TYPE_NUMBER, n);
        uint32_t *gid = jp_malloc_array(n, sizeof *gid);
        size_t ng = 1 + (size_t)round % 7;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            jp_column_push_number(v, (double)((seed >> 16) % (round % 3 ? 10 : 1000)), JP_Q_EXACT);
            gid[i] = (uint32_t)((seed >> 8) % ng);
        }
        double ps[] = {0, 0.1, 0.25, 0.5, 0.77, 0.9, 1};
        for (size_t pi = 0; pi < 7 && ok; pi++) {
            jp_column_t *q = jp_agg_column(JP_AGG_QUANTILE, v, "v", ps[pi], gid, n, ng, &err);
            for (size_t g = 0; g < ng && ok; g++) {
                double *x = jp_malloc_array(n, sizeof *x);
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (gid[i] == g) x[m++] = v->v.d[i];
                if (!m)
                    ok = jp_column_is_null(q, g);
                else {
                    qsort(x, m, sizeof *x, cmp_dbl);
                    double h = ps[pi] * (double)(m - 1);
                    size_t lo = (size_t)floor(h), hi = (size_t)ceil(h);
                    double want = x[lo] + (x[hi] - x[lo]) * (h - (double)lo);
                    ok = !jp_column_is_null(q, g) && fabs(q->v.d[g] - want) < 1e-9;
                    if (!ok)
                        printf("round %d p %g group %zu: %g want %g\n", round, ps[pi], g, q->v.d[g],
                               want);
                }
                jp_free(x);
            }
            jp_column_unref(q);
        }
        jp_free(gid);
        jp_column_unref(v);
    }
    CHECK(ok);
}

int main(void)
{
    RUN(test_quantile_random);
    RUN(oom);
    CASE("sweep of no rows") sweep("", 0);
    CASE("sweep of one row") sweep("a,1.5,2,3", 1);
    RUN(test_filter_rows);
    RUN(test_fields);
    RUN(test_mutate);
    RUN(test_sort);
    RUN(test_group);
    RUN(test_group_hash);
    RUN(test_join);
    RUN(test_concat);
    RUN(test_pivot);
    RUN(test_convert);
    RUN(test_vec);
    return unit_done();
}
