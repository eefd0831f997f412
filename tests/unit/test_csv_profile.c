/*
 * test_csv_profile.c - the CSV engine's profile (jinpu info's view of a
 * file: types over every row, counts, the cell that made a column text,
 * the first rows) and its cost on wide files: per-column memory stays
 * small and fixed, for a profile and for a read.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "unit.h"

static void put(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, n, f);
    fclose(f);
}

static const char *errtext(const jp_error_t *e)
{
    static char buf[700];
    jp_error_format(e, buf, sizeof buf);
    return buf;
}

static size_t count_nulls(const jp_column_t *c)
{
    size_t n = 0;
    for (size_t i = 0; c->nulls && i < c->len; i++) n += c->nulls[i] != 0;
    return n;
}

/* The tunings every profile is checked under: whole, and cut into small
 * chunks and batches on several threads. */
static const jp_csv_tuning_t tunings[] = {
    {0, 0, 0, 0, 1}, {64, 3, 0, 0, 3}, {200, 17, 0, 0, 2}, {1000, 64, 0, 0, 4}, {97, 1, 0, 0, 1},
};
#define NTUNINGS (sizeof tunings / sizeof tunings[0])

/* The profile of file `name` under tunings[t], with a preview of `rows`
 * rows of `fields` fields; false, a failed check naming `what`, when there
 * is none. */
static bool profile_under(size_t t, const char *name, size_t rows, size_t fields,
                          jp_csv_profile_t *pr, const char *what)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_csv_set_tuning(&tunings[t]);
    jp_status_t st = jp_csv_profile(unit_path(name), NULL, rows, fields, pr, &err);
    jp_csv_set_tuning(NULL);
    CHECK_MSG(st == JP_OK, "%s, tuning %zu: %s", what, t, errtext(&err));
    return st == JP_OK;
}

/* A profile's types and null counts are what a full read gives. */
static void same_as_read(const char *name, const char *text)
{
    put(unit_path("p.csv"), text, strlen(text));
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *ds = NULL;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    if (jp_csv_read(unit_path("p.csv"), &o, &ds, &err)) {
        CHECK_MSG(0, "%s: %s", name, errtext(&err));
        return;
    }
    for (size_t t = 0; t < NTUNINGS; t++) {
        jp_csv_profile_t pr;
        if (!profile_under(t, "p.csv", 3, 8, &pr, name)) continue;
        CHECK_INT(pr.nrows, ds->nrows);
        CHECK_INT(pr.nfields, ds->schema.n_fields);
        for (size_t k = 0; k < pr.nfields && k < ds->schema.n_fields; k++) {
            CHECK_MSG(pr.fields[k].type == ds->schema.fields[k].type, "%s, tuning %zu, %s: %s/%s",
                      name, t, pr.fields[k].name, jp_type_name(pr.fields[k].type),
                      jp_type_name(ds->schema.fields[k].type));
            CHECK_MSG(pr.fields[k].nulls == count_nulls(ds->cols[k]), "%s, tuning %zu, %s: %zu/%zu",
                      name, t, pr.fields[k].name, pr.fields[k].nulls, count_nulls(ds->cols[k]));
        }
        /* the preview is typed like the profile */
        for (size_t k = 0; k < pr.preview->schema.n_fields; k++)
            CHECK_INT(pr.preview->schema.fields[k].type, pr.fields[k].type);
        CHECK_INT(pr.preview->nrows, ds->nrows < 3 ? ds->nrows : 3);
        jp_csv_profile_free(&pr);
    }
    jp_dataset_unref(ds);
}

static void test_types(void)
{
    same_as_read("ints", "a,b\n1,2\n3,\n-4,5\n");
    same_as_read("decimals", "a\n1.5\n2\n-.5\n1e3\n");
    same_as_read("ints then text", "a,b\n1,x\n2,y\nz,3\n");
    same_as_read("decimals then text", "a\n1.5\n2.5\n3.5\n4.5\nfoo\n");
    same_as_read("wide ints and decimals",
                 "a\n9007199254740993\n1.5\n"); /* an int64 a double cannot hold */
    same_as_read("wide ints", "a\n9007199254740993\n1\n");
    same_as_read("big exact", "a\n18446744073709551616\n1\n");
    same_as_read("nan only", "a\nnan\ninf\n");
    same_as_read("nan and ints", "a\nnan\n1\n");
    same_as_read("bools", "a,b\ntrue,false\nfalse,true\n");
    same_as_read("bool and int", "a\ntrue\n1\n");
    same_as_read("dates", "a\n2021-01-31\n2022-12-01\n\n");
    same_as_read("bad date", "a\n2021-02-29\n2021-01-01\n");
    same_as_read("nulls only", "a,b\n,1\n,2\n");
    same_as_read("quoted empty", "a,b\n\"\",1\n2,\"\"\n,3\n");
    same_as_read("quoted empty text", "a,b\n\"\",x\nq,\"\"\n");
    same_as_read("quotes and newlines", "a,b\n\"x\ny\",1\n\"p\"\"q\",2\n3,\"4\"\n");
    same_as_read("blank lines", "a,b\n1,2\n\n3,4\r\n\r\n5,x\n");
    same_as_read("one column", "a\n1\n\n2\n");
    same_as_read("leading zeros", "a\n007\n1\n");
    same_as_read("no rows", "a,b\n");
    same_as_read("no line end", "a,b\n1,2\n3,4");
}

static void test_culprit(void)
{
    /* the usual cause: one figure as printed among numbers */
    const char *text = "county,value,year\n"
                       "A,7696,2020\n"
                       "\"B\nC\",12,2021\n" /* a record over two lines */
                       "D,约7696,2022\n"    /* line 5 */
                       "E,x,2023\n";
    put(unit_path("c.csv"), text, strlen(text));
    for (size_t t = 0; t < NTUNINGS; t++) {
        jp_csv_profile_t pr;
        if (!profile_under(t, "c.csv", 10, 10, &pr, "c.csv")) continue;
        CHECK_INT(pr.nrows, 4);
        CHECK_INT(pr.fields[1].type, JP_TYPE_STRING);
        CHECK_INT(pr.fields[1].text_row, 3);
        CHECK_INT(pr.fields[1].text_line, 5);
        CHECK_INT(pr.fields[1].text_col, 3);
        CHECK_STR(pr.fields[1].text_cell, "约7696");
        /* a column text from its first cell has nothing to explain */
        CHECK_INT(pr.fields[0].type, JP_TYPE_STRING);
        CHECK_INT(pr.fields[0].text_row, 0);
        CHECK(pr.fields[0].text_cell == NULL);
        CHECK_INT(pr.fields[2].type, JP_TYPE_INT);
        CHECK_INT(pr.fields[2].text_row, 0);
        jp_csv_profile_free(&pr);
    }
    /* deep in the file, after a quoted line end in another column, after a
       multibyte character on its line, and a date column meeting an integer */
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "n,d,s\n");
    for (int i = 0; i < 300; i++) jp_buf_printf(&b, "%d.5,2020-01-0%d,\"x\ny\"\n", i, 1 + i % 9);
    jp_buf_puts(&b, "7,8,\"甲\"\n");     /* line 602: d turns text (date and integer) */
    jp_buf_puts(&b, "?,2020-01-01,z\n"); /* line 603: n turns text */
    put(unit_path("d.csv"), b.data, b.len);
    jp_buf_free(&b);
    for (size_t t = 0; t < NTUNINGS; t++) {
        jp_csv_profile_t pr;
        if (!profile_under(t, "d.csv", 2, 10, &pr, "d.csv")) continue;
        CHECK_INT(pr.fields[0].text_row, 302);
        CHECK_INT(pr.fields[0].text_line, 603);
        CHECK_INT(pr.fields[0].text_col, 1);
        CHECK_STR(pr.fields[0].text_cell, "?");
        CHECK_INT(pr.fields[1].text_row, 301);
        CHECK_INT(pr.fields[1].text_line, 602);
        CHECK_INT(pr.fields[1].text_col, 3);
        CHECK_STR(pr.fields[1].text_cell, "8");
        /* the preview shows the first rows with the whole file's types */
        CHECK_INT(pr.preview->nrows, 2);
        CHECK_INT(pr.preview->schema.fields[0].type, JP_TYPE_STRING);
        jp_column_t *c = pr.preview->cols[0];
        size_t len;
        CHECK_STR(jp_strdict_get(c->dict, c->v.s[1], &len), "1.5");
        jp_csv_profile_free(&pr);
    }
}

/* Which text columns are worth explaining: those mostly of figures, the
 * culprit named wherever it is (row 1 too); not a column of names that
 * starts with a number, nor one mostly of text. */
static void test_culprit_rule(void)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "first,names,mostly,half,dash\n");
    jp_buf_puts(&b, "约7696,1,x,x,\xE2\x80\x94\n"); /* line 2, row 1 */
    for (int i = 0; i < 200; i++)
        jp_buf_printf(&b, "%d,%s,%s,%s,%s\n", 12 + i, i % 2 ? "Alice" : "Bob", i == 7 ? "1" : "y",
                      i <= 100 ? "5" : "z", i == 150 ? "n.a." : "3.5");
    put(unit_path("r.csv"), b.data, b.len);
    jp_buf_free(&b);
    for (size_t t = 0; t < NTUNINGS; t++) {
        jp_csv_profile_t pr;
        if (!profile_under(t, "r.csv", 3, 10, &pr, "r.csv")) continue;
        for (size_t k = 0; k < 5; k++) CHECK_INT(pr.fields[k].type, JP_TYPE_STRING);
        /* numbers after a first cell as printed: that cell, row 1 */
        CHECK_INT(pr.fields[0].text_row, 1);
        CHECK_INT(pr.fields[0].text_line, 2);
        CHECK_INT(pr.fields[0].text_col, 1);
        CHECK_STR(pr.fields[0].text_cell, "约7696");
        /* names that start with a number, and a column mostly of text */
        CHECK_INT(pr.fields[1].text_row, 0);
        CHECK(pr.fields[1].text_cell == NULL);
        CHECK_INT(pr.fields[2].text_row, 0);
        /* as many figures as text: named, from the first cell */
        CHECK_INT(pr.fields[3].text_row, 1);
        CHECK_STR(pr.fields[3].text_cell, "x");
        /* a marker is not text among numbers; the one word is */
        CHECK_INT(pr.fields[4].text_row, 152);
        CHECK_INT(pr.fields[4].text_line, 153);
        CHECK_STR(pr.fields[4].text_cell, "n.a.");
        jp_csv_profile_free(&pr);
    }
}

static void test_schema_and_preview(void)
{
    const char *text = "region,output,year,note\n"
                       "a,约14.8万,2020,x\n"
                       "b,>300,2021,\n"
                       "c,12,2022,y\n";
    put(unit_path("s.csv"), text, strlen(text));
    jp_schema_t sc;
    memset(&sc, 0, sizeof sc);
    jp_field_t f;
    jp_field_init(&f);
    f.name = "output";
    f.type = JP_TYPE_NUMBER;
    f.unit = "t";
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_schema_add(&sc, &f, &err) == JP_OK);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &sc;
    jp_csv_profile_t pr;
    jp_status_t st = jp_csv_profile(unit_path("s.csv"), &o, 2, 2, &pr, &err);
    CHECK_MSG(st == JP_OK, "%s", errtext(&err));
    if (!st) {
        CHECK_INT(pr.nfields, 4);
        CHECK(pr.fields[1].typed);
        CHECK_STR(pr.fields[1].unit, "t");
        CHECK_INT(pr.fields[1].qualified, 2);
        CHECK_INT(pr.fields[3].nulls, 1);
        CHECK(!pr.fields[3].typed);
        /* two fields in the preview, two rows */
        CHECK_INT(pr.preview->schema.n_fields, 2);
        CHECK_INT(pr.preview->nrows, 2);
        CHECK_STR(pr.preview->schema.fields[1].unit, "t");
        CHECK_DBL(pr.preview->cols[1]->v.d[0], 148000.0);
        CHECK_INT(pr.preview->cols[1]->quals[0], JP_Q_APPROX);
    }
    jp_csv_profile_free(&pr);
    /* a cell the schema's type cannot read is the profile's error, with its place */
    const char *bad = "region,output\na,1\nb,twelve\n";
    put(unit_path("s2.csv"), bad, strlen(bad));
    jp_error_clear(&err);
    st = jp_csv_profile(unit_path("s2.csv"), &o, 2, 2, &pr, &err);
    CHECK(st == JP_ERR_TYPE);
    CHECK_INT(err.line, 3);
    CHECK_INT(err.row, 2);
    CHECK_STR(err.field, "output");
    jp_csv_profile_free(&pr);
    /* a malformed record too */
    const char *shape = "a,b\n1,2\n3\n";
    put(unit_path("s3.csv"), shape, strlen(shape));
    jp_error_clear(&err);
    CHECK(jp_csv_profile(unit_path("s3.csv"), NULL, 2, 2, &pr, &err) == JP_ERR_PARSE);
    CHECK_INT(err.line, 3);
    jp_csv_profile_free(&pr);
    jp_schema_free(&sc); /* jp_schema_add copied the field */
}

/* A file of 20,000 columns and three rows: before, each column cost a
 * 1024-row builder and per-chunk dictionaries (over 160 MB); now a profile
 * and a read each stay within a few hundred bytes a column. */
static void test_wide(void)
{
    const size_t nc = 20000;
    jp_buf_t b = JP_BUF_INIT;
    for (size_t j = 0; j < nc; j++) jp_buf_printf(&b, "%sc%zu", j ? "," : "", j);
    jp_buf_putc(&b, '\n');
    for (int r = 0; r < 3; r++) {
        for (size_t j = 0; j < nc; j++)
            jp_buf_printf(&b, "%s%s", j ? "," : "", (r == 2 && j % 3 == 0) ? "x" : "7");
        jp_buf_putc(&b, '\n');
    }
    put(unit_path("w.csv"), b.data, b.len);
    jp_buf_free(&b);
    jp_csv_tuning_t t = {(size_t)256 << 10, 0, 0, 0, 2};
    jp_csv_set_tuning(&t);
    size_t base = jp_mem_in_use();
    jp_mem_set_limit(base + ((size_t)24 << 20));
    jp_csv_profile_t pr;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_csv_profile(unit_path("w.csv"), NULL, 2, 64, &pr, &err);
    CHECK_MSG(st == JP_OK, "%s", errtext(&err));
    if (!st) {
        CHECK_INT(pr.nfields, nc);
        CHECK_INT(pr.nrows, 3);
        CHECK_INT(pr.fields[0].type, JP_TYPE_STRING);
        CHECK_INT(pr.fields[0].text_row, 3);
        CHECK_INT(pr.fields[nc - 2].type, JP_TYPE_STRING); /* 19998 = 3 * 6666 */
        CHECK_INT(pr.fields[nc - 1].type, JP_TYPE_INT);
        CHECK_INT(pr.fields[nc - 2].text_col, (long)(2 * (nc - 2) + 1));
    }
    jp_csv_profile_free(&pr);
    jp_mem_set_limit(base + ((size_t)48 << 20));
    jp_dataset_t *ds = NULL;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    st = jp_csv_read(unit_path("w.csv"), &o, &ds, &err);
    CHECK_MSG(st == JP_OK, "%s", errtext(&err));
    if (!st) {
        CHECK_INT(ds->nrows, 3);
        CHECK_INT(ds->schema.fields[1].type, JP_TYPE_INT);
    }
    jp_dataset_unref(ds);
    jp_mem_set_limit(0);
    jp_mem_clear_refused();
    jp_csv_set_tuning(NULL);
}

int main(void)
{
    if (unit_tmpdir("jp_test_csv_profile")) return 1;
    RUN(test_types);
    RUN(test_culprit);
    RUN(test_culprit_rule);
    RUN(test_schema_and_preview);
    RUN(test_wide);
    unit_tmpdir_remove();
    return unit_done();
}
