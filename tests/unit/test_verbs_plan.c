/*
 * test_verbs_plan.c - lazy plans: a pipeline over a lazy source asks it for
 * exactly the columns the whole pipeline reads, in one request; names are
 * checked at once, types when the columns arrive; errors name the verb.
 */
#include "jp_expr.h"
#include "jp_lazy.h"
#include "jp_verbs.h"
#include "unit.h"
#include "verbs_util.h"

static jp_error_t err;

/* A lazy source serving the columns of a hidden eager dataset, like a CSV
 * file that has only read its header. */
typedef struct fake {
    jp_lazy_t base;
    jp_dataset_t *data;
    int calls;
    char asked[256]; /* names of the columns requested, per call: "a,b|c" */
} fake_t;

static jp_status_t fake_need(jp_dataset_t *ds, const size_t *idx, size_t n, jp_error_t *e)
{
    (void)e;
    fake_t *f = (fake_t *)ds->lazy;
    if (f->calls++) strcat(f->asked, "|");
    for (size_t k = 0; k < n; k++) {
        if (k) strcat(f->asked, ",");
        strcat(f->asked, ds->schema.fields[idx[k]].name);
        if (!ds->cols[idx[k]]) {
            ds->cols[idx[k]] = jp_column_ref(f->data->cols[idx[k]]);
            ds->schema.fields[idx[k]].type = f->data->cols[idx[k]]->type;
        }
    }
    ds->nrows = f->data->nrows;
    return JP_OK;
}

static void fake_free(jp_lazy_t *lz)
{
    fake_t *f = (fake_t *)lz;
    jp_dataset_unref(f->data);
    jp_free(f);
}

static const jp_lazy_ops_t fake_ops = {"fake", fake_need, NULL, fake_free, NULL, NULL};
static fake_t *last_fake;

static jp_dataset_t *lazy_of(jp_dataset_t *data)
{
    jp_dataset_t *ds = jp_dataset_new();
    ds->cols = jp_calloc(data->schema.n_fields, sizeof *ds->cols);
    ds->cols_cap = data->schema.n_fields;
    for (size_t i = 0; i < data->schema.n_fields; i++) {
        jp_field_t f;
        jp_field_copy(&f, &data->schema.fields[i]);
        f.type = JP_TYPE_NONE;
        jp_schema_add(&ds->schema, &f, NULL);
        jp_field_free(&f);
    }
    fake_t *f = jp_calloc(1, sizeof *f);
    f->base.ops = &fake_ops;
    f->data = data;
    ds->lazy = &f->base;
    last_fake = f;
    return ds;
}
static jp_dataset_t *source(void)
{
    return lazy_of(mk("year:i,district:s,crop:s,area_mu:n:mu,output_t:n:t,note:s",
                      "2020,A,x,10,500,n1;2021,B,y,20,100,n2;2020,A,z,5,600,;2020,B,x,4,460,n4;"
                      "2021,A,y,8,,n5"));
}

static void test_w1(void)
{
    jp_dataset_t *src = source();
    fake_t *f = last_fake;
    jp_dataset_t *a = jp_filter(src, "output_t > 456.0", &err);
    CHECK(a && a->lazy);
    jp_mutation_t m[] = {{"yield", "output_t / area_mu", NULL, NULL}};
    jp_dataset_t *b = jp_mutate(a, m, 1, false, &err);
    CHECK(b && b->lazy);
    CHECK_INT(f->calls, 0); /* nothing read yet */
    const char *keys[] = {"district", "year"};
    jp_agg_t ag[] = {{"n", JP_AGG_COUNT, NULL, 0},
                     {"sum_output_t", JP_AGG_SUM, "output_t", 0},
                     {"mean_yield", JP_AGG_MEAN, "yield", 0}};
    jp_dataset_t *g = jp_group_agg(b, keys, 2, ag, 3, &err);
    CHECK_INT(f->calls, 1);
    CHECK_STR(f->asked, "year,district,area_mu,output_t");
    jp_sort_key_t sk[] = {{"district", false}, {"year", false}};
    jp_dataset_t *s = jp_sort(g, sk, 2, &err);
    CHECK_STR(dump(s), "district,year,n,sum_output_t,mean_yield;A,2020,2,1100,85;B,2020,1,460,115");
    CHECK_STR(g->schema.fields[3].unit, "t");
    CHECK_STR(b->schema.fields[6].unit, "t/mu");
    jp_dataset_unref(s);
    jp_dataset_unref(g);
    /* the intermediate datasets still answer, with the columns now cached */
    CHECK_STR(dump(a),
              "year,district,crop,area_mu,output_t,note;2020,A,x,10,500,n1;2020,A,z,5,600,;"
              "2020,B,x,4,460,n4");
    jp_dataset_unref(b);
    jp_dataset_unref(a);
    jp_dataset_unref(src);
}

static void test_names_now_types_later(void)
{
    jp_dataset_t *src = source();
    fake_t *f = last_fake;
    CHECK_FAILS(jp_filter(src, "ouput_t > 3", &err),
                "filter: unknown field 'ouput_t' at column 1 in \"ouput_t > 3\" (did you mean "
                "'output_t'?)");
    jp_mutation_t m[] = {{"z", "crop + 1", NULL, NULL}};
    jp_dataset_t *b = jp_mutate(src, m, 1, false, &err);
    CHECK(b != NULL); /* crop's type is not known yet */
    jp_error_clear(&err);
    CHECK(jp_dataset_need_all(b, &err) != JP_OK);
    CHECK_MSG(strstr(err.msg,
                     "mutate: cannot add string 'crop' and integer 1 (operator '+' at column 6)"),
              "%s", err.msg);
    jp_dataset_unref(b);
    jp_dataset_unref(src);
    src = source();
    jp_dataset_t *c = jp_filter(src, "crop > 1", &err);
    CHECK(c != NULL);
    jp_error_clear(&err);
    CHECK(jp_dataset_need_rows(c, &err) != JP_OK);
    CHECK_MSG(strstr(err.msg, "filter: cannot compare string 'crop' with integer 1 at column 6"),
              "%s", err.msg);
    jp_dataset_unref(c);
    /* once a column is typed, errors come at once */
    size_t i = 2;
    jp_dataset_need(src, &i, 1, &err);
    CHECK_FAILS(jp_filter(src, "crop > 1", &err), "filter: cannot compare string 'crop'");
    CHECK_FAILS(jp_filter(src, "crop .. 'x'", &err), "not a condition");
    (void)f;
    jp_dataset_unref(src);
}

static void test_projection_and_rows(void)
{
    jp_dataset_t *src = source();
    fake_t *f = last_fake;
    const char *sel[] = {"note", "year"};
    jp_dataset_t *a = jp_select(src, sel, 2, &err);
    const char *from[] = {"note"}, *to[] = {"remark"};
    jp_dataset_t *b = jp_rename(a, from, to, 1, &err);
    jp_dataset_t *c = jp_tail(b, 2, &err);
    CHECK(c && c->lazy);
    CHECK_STR(dump(c), "remark,year;n4,2020;n5,2021");
    CHECK_STR(f->asked, "year,note");
    jp_dataset_unref(c);
    jp_dataset_unref(b);
    jp_dataset_unref(a);
    /* #ds of a filter reads only the filter's inputs */
    jp_dataset_unref(src);
    src = source();
    f = last_fake;
    jp_dataset_t *d = jp_filter(src, "area_mu >= 8", &err);
    CHECK(jp_dataset_need_rows(d, &err) == JP_OK);
    CHECK_INT(d->nrows, 3);
    CHECK_STR(f->asked, "area_mu");
    size_t rows[] = {2, 0};
    jp_dataset_t *t = jp_take(d, rows, 2, &err);
    const char *dr[] = {"note", "crop", "output_t"};
    jp_dataset_t *u = jp_drop(t, dr, 3, &err);
    jp_dataset_t *h = jp_head(u, 1, &err);
    CHECK_STR(dump(h), "year,district,area_mu;2021,A,8");
    CHECK_STR(f->asked, "area_mu|year,district,area_mu");
    /* the origin lines follow the rows */
    jp_dataset_unref(h);
    jp_dataset_unref(u);
    jp_dataset_unref(t);
    jp_dataset_unref(d);
    jp_dataset_unref(src);
}

static void test_sequential_mutate(void)
{
    jp_dataset_t *src = source();
    jp_mutation_t m[] = {{"a", "area_mu * 2", NULL, NULL}, {"b", "a + 1", NULL, NULL}};
    jp_dataset_t *x = jp_mutate(src, m, 2, true, &err);
    CHECK(x != NULL);
    const char *sel[] = {"a", "b"};
    jp_dataset_t *y = jp_select(x, sel, 2, &err);
    CHECK_STR(dump(y), "a,b;20,21;40,41;10,11;8,9;16,17");
    CHECK_STR(last_fake->asked, "area_mu");
    jp_dataset_unref(y);
    jp_dataset_unref(x);
    CHECK_FAILS(jp_mutate(src, m, 2, false, &err), "mutate: unknown field 'a' at column 1");
    jp_dataset_unref(src);
}

static void test_origin(void)
{
    jp_dataset_t *src = source();
    jp_dataset_set_origin(src, "f.csv", NULL);
    src->first_line = 2;
    jp_dataset_t *a = jp_filter(src, "output_t > 456.0", &err);
    jp_dataset_t *b = jp_tail(a, 2, &err);
    CHECK(jp_dataset_need_all(b, &err) == JP_OK);
    CHECK(b->origin && strcmp(b->origin, "f.csv") == 0);
    CHECK_INT(jp_dataset_row_line(b, 0), 4);
    CHECK_INT(jp_dataset_row_line(b, 1), 5);
    jp_dataset_unref(b);
    jp_dataset_unref(a);
    jp_dataset_unref(src);
}

/* Out of memory anywhere in a lazy pipeline: an error, no crash, no leak. */
static void test_oom(void)
{
    int ok = 0;
    for (long n = 1; n < 3000 && !ok; n++) {
        jp_dataset_t *src = source();
        jp_mem_fail_after(n, 1);
        jp_error_clear(&err);
        jp_dataset_t *a = jp_filter(src, "output_t > 456.0", &err);
        jp_mutation_t m[] = {{"yield", "output_t / area_mu", NULL, NULL}};
        jp_dataset_t *b = a ? jp_mutate(a, m, 1, false, &err) : NULL;
        jp_dataset_t *c = b ? jp_tail(b, 2, &err) : NULL;
        const char *keys[] = {"district"};
        jp_agg_t ag[] = {{"m", JP_AGG_MEAN, "yield", 0}};
        jp_dataset_t *g = c ? jp_group_agg(c, keys, 1, ag, 1, &err) : NULL;
        jp_mem_fail_after(0, 0);
        if (g)
            ok = 1;
        else if (err.code != JP_ERR_NOMEM) {
            printf("# allocation %ld: '%s'\n", n, err.msg);
            unit_fail++;
        }
        jp_dataset_unref(g);
        jp_dataset_unref(c);
        jp_dataset_unref(b);
        jp_dataset_unref(a);
        jp_dataset_unref(src);
    }
    CHECK(ok);
}

/* A lazy input held only by a filter node lets go of the columns once
 * their rows are gathered, and loads them again if asked. */
static void test_release(void)
{
    jp_dataset_t *src = source();
    fake_t *f = last_fake;
    jp_dataset_t *a = jp_filter(src, "output_t > 456.0", &err);
    jp_dataset_t *raw = src; /* still alive: the filter node holds it */
    jp_dataset_unref(src);
    size_t want[] = {1, 4};
    CHECK(jp_dataset_need(a, want, 2, &err) == JP_OK);
    CHECK(raw->cols[1] == NULL && raw->cols[4] == NULL); /* released */
    CHECK_STR(f->asked, "district,output_t");
    /* (loading the rest makes the node whole: it drops its plan and input) */
    CHECK_STR(dump(a),
              "year,district,crop,area_mu,output_t,note;2020,A,x,10,500,n1;2020,A,z,5,600,;"
              "2020,B,x,4,460,n4");
    jp_dataset_unref(a);
    /* with a second holder nothing is released */
    src = source();
    a = jp_filter(src, "output_t > 456.0", &err);
    CHECK(jp_dataset_need(a, want, 2, &err) == JP_OK);
    CHECK(src->cols[1] != NULL && src->cols[4] != NULL);
    jp_dataset_unref(a);
    jp_dataset_unref(src);
}

int main(void)
{
    RUN(test_release);
    RUN(test_oom);
    RUN(test_w1);
    RUN(test_names_now_types_later);
    RUN(test_projection_and_rows);
    RUN(test_sequential_mutate);
    RUN(test_origin);
    return unit_done();
}
