/*
 * test_validate_stream.c - validation of a lazy CSV file batch by batch
 * (jp_validate_stream): the report, text and JSON, is the loaded file's,
 * byte for byte, at every batch size - repeats of a value across batches,
 * a column that turns to text late (the batches start again), records over
 * two lines - and the pass takes many batches.  An expression with a
 * window function, and a file without rows, take the whole-file way.
 */
#include <stdio.h>
#include <unistd.h>
#include "jp_validate.h"
#include "stream_util.h"

static void make_file(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs("id,code,v,name,note\n", f);
    for (int i = 0; i < n; i++) {
        int id = i % 37 == 20 ? i - 1 : (i % 401 == 5 ? i / 3 : i);
        const char *code = i % 11 == 0 ? "zz" : (i % 3 ? "a" : "b");
        char v[32];
        if (i > n - n / 20 && i % 7 == 0)
            snprintf(v, sizeof v, "n/a");
        else if (i % 13 == 0)
            v[0] = '\0';
        else
            snprintf(v, sizeof v, "%d", (i * 7) % 130);
        fprintf(f, "%d,%s,%s,n%d%s,%s\n", id, code, v, i % 50, i % 29 == 0 ? "-long-name" : "",
                i % 53 == 0 ? "\"two\nlines\"" : "x");
    }
    fclose(f);
}

typedef struct rules {
    const char *expr;
} rules_t;

static jp_status_t add_rules(void *ctx, jp_report_t *r, jp_error_t *err)
{
    const rules_t *rs = ctx;
    jp_constraints_t c;
    jp_constraints_init(&c);
    c.required = true;
    c.unique = true;
    jp_status_t st = jp_validate_field(r, "id", &c, NULL, err);
    jp_constraints_init(&c);
    c.required = true;
    c.max_length = 4;
    c.has_maximum = true;
    c.maximum.type = JP_TYPE_INT;
    c.maximum.is_null = false;
    c.maximum.u.i = 100;
    if (st == JP_OK) st = jp_validate_field(r, "v", &c, NULL, err);
    jp_constraints_init(&c);
    c.max_length = 4;
    char pat[] = "n[0-9]+";
    c.pattern = pat;
    if (st == JP_OK) st = jp_validate_field(r, "name", &c, NULL, err);
    const char *key[] = {"code", "name"};
    if (st == JP_OK) st = jp_validate_key(r, key, 2, true, NULL, err);
    if (st == JP_OK) st = jp_validate_expr(r, rs->expr, NULL, err);
    return st;
}

/* The report of `expr` and the constraints over path, text and JSON. */
static char *report_of(jp_report_t *r)
{
    jp_report_finish(r);
    jp_buf_t b = JP_BUF_INIT;
    CHECK(jp_report_text(r, 0, &b) == JP_OK);
    CHECK(jp_report_json(r, &b) == JP_OK);
    jp_buf_putc(&b, 0);
    return jp_buf_detach(&b, NULL);
}

static void same_report(const char *path, const char *expr)
{
    rules_t rs = {expr};
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *eager = read_file(path, false);
    jp_report_t *r = eager ? jp_report_new(eager, &err) : NULL;
    CHECK(r && add_rules(&rs, r, &err) == JP_OK);
    char *want = r ? report_of(r) : NULL;
    CHECK(want && strstr(want, "repeats row"));
    jp_report_free(r);
    static const size_t batch[] = {1024, 3000, 0};
    for (size_t k = 0; k < sizeof batch / sizeof *batch; k++) {
        su_tune(batch[k], 2);
        jp_dataset_t *lz = read_file(path, true);
        size_t before = jp_stream_batches();
        bool fallback = true;
        jp_report_t *s =
            lz ? jp_validate_stream(lz, NULL, JP_APPROX_TOLERANCE, add_rules, &rs, &fallback, &err)
               : NULL;
        CHECK_MSG(s && !fallback, "%s", err.msg);
        if (batch[k])
            CHECK_MSG(jp_stream_batches() > before + 10, "batch %zu: not streamed", batch[k]);
        CHECK(lz && jp_dataset_is_lazy(lz)); /* nothing loaded */
        char *got = s ? report_of(s) : NULL;
        CHECK_STR(got, want);
        jp_free(got);
        jp_report_free(s);
        jp_dataset_unref(lz);
    }
    jp_csv_set_tuning(NULL);
    jp_free(want);
    jp_dataset_unref(eager);
}

int main(void)
{
    if (unit_tmpdir("jp_validate_stream")) return 1;
    make_file(unit_path("v.csv"), 6000);
    CASE("constraints, keys and a row rule streamed: the loaded file's report")
    same_report(unit_path("v.csv"), "code == 'a' or id % 5 != 0");
    CASE("an expression with a window function: the whole-file way")
    {
        su_tune(1024, 1);
        jp_dataset_t *lz = read_file(unit_path("v.csv"), true);
        rules_t rs = {"id >= lag(id)"};
        jp_error_t err;
        jp_error_clear(&err);
        bool fallback = false;
        jp_report_t *s =
            lz ? jp_validate_stream(lz, NULL, JP_APPROX_TOLERANCE, add_rules, &rs, &fallback, &err)
               : NULL;
        CHECK(!s && fallback && err.code == JP_OK);
        jp_dataset_unref(lz);
        jp_csv_set_tuning(NULL);
    }
    CASE("a header and no rows: the whole-file way")
    {
        su_put(unit_path("e.csv"), "wb", "id,code,v,name,note\n");
        su_tune(0, 0);
        jp_dataset_t *lz = read_file(unit_path("e.csv"), true);
        rules_t rs = {"id > 0"};
        jp_error_t err;
        jp_error_clear(&err);
        bool fallback = false;
        CHECK(lz && !jp_validate_stream(lz, NULL, 0.05, add_rules, &rs, &fallback, &err) &&
              fallback);
        jp_dataset_unref(lz);
        jp_csv_set_tuning(NULL);
        unlink(unit_path("e.csv"));
    }
    unlink(unit_path("v.csv"));
    rmdir(unit_dir);
    return unit_done();
}
