/*
 * test_csv.c - the CSV engine: RFC 4180 records, type inference, explicit
 * schemas with units, column selection, errors with positions, records set
 * aside, provenance, gzip, the parallel path forced onto awkward chunk
 * boundaries, lazy loading, writing and round trips, and robustness
 * against truncated and corrupted input and failing allocations.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_csv.h"
#include "jp_file.h"
#include "jp_format.h"
#include "jp_gzip.h"
#include "jp_mem.h"
#include "unit.h"

static void put_n(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, n, f);
    fclose(f);
}

static void put(const char *path, const char *text)
{
    put_n(path, text, strlen(text));
}

static char *slurp(const char *path, size_t *n)
{
    jp_buf_t b = JP_BUF_INIT;
    if (jp_file_read_all(path, (size_t)1 << 30, &b, NULL)) {
        jp_buf_free(&b);
        return NULL;
    }
    return jp_buf_detach(&b, n);
}

/* Read `text` as file `name` (in the scratch directory). */
static jp_dataset_t *rd_as(const char *name, const char *text, const jp_read_opts_t *o,
                           jp_error_t *err)
{
    put(unit_path(name), text);
    jp_dataset_t *ds = NULL;
    jp_error_clear(err);
    if (jp_csv_read(unit_path(name), o, &ds, err)) return NULL;
    if (jp_dataset_need_all(ds, err)) {
        jp_dataset_unref(ds);
        return NULL;
    }
    return ds;
}

static jp_dataset_t *rd(const char *text, const jp_read_opts_t *o, jp_error_t *err)
{
    return rd_as("t.csv", text, o, err);
}

static jp_column_t *col(jp_dataset_t *ds, const char *name)
{
    return ds ? jp_dataset_column(ds, name) : NULL;
}

static jp_type_t ctype(jp_dataset_t *ds, const char *name)
{
    jp_column_t *c = col(ds, name);
    return c ? c->type : JP_TYPE_NONE;
}

static const char *sval(jp_dataset_t *ds, const char *name, size_t i)
{
    static char buf[4][256];
    static int k;
    jp_column_t *c = col(ds, name);
    if (!c || i >= c->len) return "(none)";
    if (jp_column_is_null(c, i)) return "(null)";
    char *b = buf[k++ & 3];
    const char *p;
    size_t n = jp_column_cell_text(c, i, b, 256, &p);
    if (p != b) {
        if (n > 255) n = 255;
        memcpy(b, p, n);
    }
    b[n] = '\0';
    return b;
}

static const char *errtext(const jp_error_t *e)
{
    static char buf[1400];
    return jp_error_format(e, buf, sizeof buf);
}

/* The error names this position and says this. */
#define CHECK_ERR(err, line_, col_, needle)                                                        \
    do {                                                                                           \
        CHECK_MSG((err)->line == (line_) && (err)->col == (col_), "at %ld:%ld, wanted %d:%d: %s",  \
                  (err)->line, (err)->col, (int)(line_), (int)(col_), errtext(err));               \
        CHECK_MSG(strstr(errtext(err), needle) != NULL, "'%s' not in: %s", needle, errtext(err));  \
    } while (0)

/* ---- records ---------------------------------------------------------------------- */

static void test_rfc4180(void)
{
    jp_error_t err;
    jp_dataset_t *ds = rd("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",z\n", NULL, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (!ds) return;
    CHECK_INT(ds->nrows, 2);
    CHECK_STR(sval(ds, "b", 0), "x, y");
    CHECK_STR(sval(ds, "c", 0), "say \"hi\"");
    CHECK_STR(sval(ds, "b", 1), "two\nlines");
    CHECK_INT(ctype(ds, "a"), JP_TYPE_INT);
    /* a record spans lines: each row knows its own line */
    CHECK(ds->lines != NULL);
    CHECK_INT(jp_dataset_row_line(ds, 0), 2);
    CHECK_INT(jp_dataset_row_line(ds, 1), 3);
    CHECK_STR(ds->origin, unit_path("t.csv"));
    jp_dataset_unref(ds);

    /* CRLF, a BOM, no final line end */
    ds = rd("\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\n2,c", NULL, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        CHECK_STR(ds->schema.fields[0].name, "id");
        CHECK_INT(ds->nrows, 2);
        CHECK_STR(sval(ds, "name", 0), "a\r\nb");
        CHECK_STR(sval(ds, "name", 1), "c");
        CHECK_INT(jp_dataset_row_line(ds, 1), 4);
        jp_dataset_unref(ds);
    }
    /* plain file: rows follow lines, no per-row column */
    ds = rd("x\n1\n2\n3\n", NULL, &err);
    if (ds) {
        CHECK(ds->lines == NULL);
        CHECK_INT(ds->first_line, 2);
        CHECK_INT(jp_dataset_row_line(ds, 2), 4);
        jp_dataset_unref(ds);
    }
    /* header only: no rows, the columns are text */
    ds = rd("a,b\n", NULL, &err);
    CHECK(ds && ds->nrows == 0 && ctype(ds, "a") == JP_TYPE_STRING);
    jp_dataset_unref(ds);
    ds = rd("a,b", NULL, &err);
    CHECK(ds && ds->nrows == 0 && ds->schema.n_fields == 2);
    jp_dataset_unref(ds);
    /* empty lines between records are skipped when there are several columns */
    ds = rd("a,b\n1,2\n\n3,4\r\n\r\n", NULL, &err);
    CHECK_MSG(ds && ds->nrows == 2, "%s", errtext(&err));
    if (ds) {
        CHECK_STR(sval(ds, "a", 1), "3");
        CHECK_INT(jp_dataset_row_line(ds, 1), 4);
        jp_dataset_unref(ds);
    }
    /* ...and are null cells with one column */
    ds = rd("a\n1\n\n3\n", NULL, &err);
    CHECK(ds && ds->nrows == 3 && jp_column_is_null(col(ds, "a"), 1));
    jp_dataset_unref(ds);
    /* empty quoted field, quoted field at the very end without line end */
    ds = rd("a,b\n\"\",\"q\"", NULL, &err);
    CHECK(ds && ds->nrows == 1);
    if (ds) {
        CHECK_STR(sval(ds, "a", 0), "");
        CHECK_STR(sval(ds, "b", 0), "q");
        jp_dataset_unref(ds);
    }
}

static void test_delimiters(void)
{
    jp_error_t err;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.delimiter = ';';
    jp_dataset_t *ds = rd("a;b\n1,5;\"x;y\"\n", &o, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        CHECK_STR(sval(ds, "a", 0), "1,5");
        CHECK_STR(sval(ds, "b", 0), "x;y");
        jp_dataset_unref(ds);
    }
    /* .tsv means tab */
    ds = rd_as("t.tsv", "a\tb\n1\tx,y\n", NULL, &err);
    CHECK(ds && ds->schema.n_fields == 2 && strcmp(sval(ds, "b", 0), "x,y") == 0);
    jp_dataset_unref(ds);
    /* no comma in the header line: a semicolon is taken */
    ds = rd("a;b\n1;2\n", NULL, &err);
    CHECK(ds && ds->schema.n_fields == 2 && ctype(ds, "b") == JP_TYPE_INT);
    jp_dataset_unref(ds);
    /* no header: column1, column2 */
    jp_read_opts_init(&o);
    o.header = false;
    ds = rd("1,x\n2,y\n", &o, &err);
    CHECK(ds && ds->nrows == 2 && strcmp(ds->schema.fields[1].name, "column2") == 0);
    if (ds) CHECK_INT(ds->first_line, 1);
    jp_dataset_unref(ds);
}

/* ---- inference ---------------------------------------------------------------------- */

static void test_inference(void)
{
    jp_error_t err;
    jp_dataset_t *ds = rd("code,plus,n,big,huge,wide,mixed,d,bad_d,flag,e,nn,x\n"
                          "000123,+1,1,9223372036854775807,9223372036854775808,9007199254740993,1,"
                          "2021-02-28,2021-02-29,true,,nan,-0\n"
                          "7,2,-2,-9223372036854775808,18446744073709551616,3,2.5,2024-12-31,"
                          "2021-13-01,false,,1.5,1\n",
                          NULL, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (!ds) return;
    CHECK_INT(ctype(ds, "code"), JP_TYPE_STRING);
    CHECK_STR(sval(ds, "code", 0), "000123");
    CHECK_INT(ctype(ds, "plus"), JP_TYPE_STRING);
    CHECK_INT(ctype(ds, "n"), JP_TYPE_INT);
    CHECK_INT(ctype(ds, "big"), JP_TYPE_INT);
    CHECK(col(ds, "big")->v.i[0] == INT64_MAX && col(ds, "big")->v.i[1] == INT64_MIN);
    /* beyond int64 but exact as doubles (2^63, 2^64) */
    CHECK_INT(ctype(ds, "huge"), JP_TYPE_NUMBER);
    CHECK(col(ds, "huge")->v.d[0] == 9223372036854775808.0);
    /* 2^53 + 1 stays an exact integer */
    CHECK_INT(ctype(ds, "wide"), JP_TYPE_INT);
    CHECK(col(ds, "wide")->v.i[0] == INT64_C(9007199254740993));
    CHECK_INT(ctype(ds, "mixed"), JP_TYPE_NUMBER);
    CHECK(col(ds, "mixed")->v.d[1] == 2.5);
    CHECK_INT(ctype(ds, "d"), JP_TYPE_DATE);
    CHECK_STR(sval(ds, "d", 1), "2024-12-31");
    CHECK_INT(ctype(ds, "bad_d"), JP_TYPE_STRING);
    CHECK_INT(ctype(ds, "flag"), JP_TYPE_BOOL);
    CHECK_INT(ctype(ds, "e"), JP_TYPE_STRING);
    CHECK(jp_column_null_count(col(ds, "e")) == 2);
    CHECK_INT(ctype(ds, "nn"), JP_TYPE_NUMBER);
    CHECK(isnan(col(ds, "nn")->v.d[0]));
    CHECK_INT(ctype(ds, "x"), JP_TYPE_STRING); /* -0 is not a canonical integer */
    jp_dataset_unref(ds);

    /* not exactly representable: text, keeping every digit */
    ds = rd("a,b,c,d\n12345678901234567890,9007199254740993,inf,1e999\n1,0.5,nan,1\n", NULL, &err);
    CHECK(ds != NULL);
    if (ds) {
        CHECK_INT(ctype(ds, "a"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "a", 0), "12345678901234567890");
        CHECK_INT(ctype(ds, "b"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "b", 0), "9007199254740993");
        CHECK_INT(ctype(ds, "c"), JP_TYPE_STRING); /* only nan/inf: text */
        CHECK_INT(ctype(ds, "d"), JP_TYPE_STRING);
        jp_dataset_unref(ds);
    }
    /* numbers: exact, correctly rounded, several forms */
    ds = rd("v\n0.1\n-.5\n2.\n1e-3\n1E+2\n0.30000000000000004\n123456789.123456789\n", NULL, &err);
    if (ds) {
        jp_column_t *c = col(ds, "v");
        CHECK_INT(c->type, JP_TYPE_NUMBER);
        CHECK(c->v.d[0] == 0.1 && c->v.d[1] == -0.5 && c->v.d[2] == 2.0 && c->v.d[3] == 1e-3 &&
              c->v.d[4] == 100 && c->v.d[5] == 0.30000000000000004 &&
              c->v.d[6] == 123456789.123456789);
        jp_dataset_unref(ds);
    }
    /* a leading space is text; "" is an empty string in text, null in numbers */
    ds = rd("a,b,c\n 12,\"\",\"\"\n3,x,4\n", NULL, &err);
    if (ds) {
        CHECK_INT(ctype(ds, "a"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "b", 0), "");
        CHECK_INT(ctype(ds, "c"), JP_TYPE_INT);
        CHECK(jp_column_is_null(col(ds, "c"), 0));
        jp_dataset_unref(ds);
    }
    /* quoted numbers are numbers; null_text */
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.null_text = "NA";
    ds = rd("a,b\n\"1\",NA\n\"2\",x\nNA,NA\n", &o, &err);
    if (ds) {
        CHECK_INT(ctype(ds, "a"), JP_TYPE_INT);
        CHECK(jp_column_is_null(col(ds, "a"), 2));
        CHECK_INT(jp_column_null_count(col(ds, "b")), 2);
        jp_dataset_unref(ds);
    }
    /* low-cardinality text is stored once */
    ds = rd("c\nx\ny\nx\nx\ny\n", NULL, &err);
    CHECK(ds && col(ds, "c")->dict->count == 2);
    jp_dataset_unref(ds);
    /* invalid UTF-8 in a text cell; a wrong byte is reported where it is */
    ds = rd("a,b\n1,ok\n2,\xC3\x28x\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 3, 3, "UTF-8");
    CHECK_STR(err.field, "b");
}

/* Inference that changes its mind far from where it started: a decimal
 * column whose last cell is text is read again as text, exactly. */
static void test_inference_late(void)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "id,v,w,k\n");
    for (int i = 0; i < 3000; i++)
        jp_buf_printf(&b, "%d,%d.50,%d,%s\n", i, i, i, i % 2 ? "true" : "false");
    jp_buf_puts(&b, "3000,n.a.,2.5,maybe\n"); /* not a missing-value marker */
    jp_csv_tuning_t t = {0};
    t.batch_bytes = 4096;
    t.chunk_bytes = 512;
    t.threads = 3;
    jp_csv_set_tuning(&t);
    jp_error_t err;
    jp_dataset_t *ds = rd(b.data, NULL, &err);
    jp_csv_set_tuning(NULL);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        CHECK_INT(ds->nrows, 3001);
        CHECK_INT(ctype(ds, "v"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "v", 7), "7.50");
        CHECK_STR(sval(ds, "v", 3000), "n.a.");
        CHECK_INT(ctype(ds, "w"), JP_TYPE_NUMBER);
        CHECK(col(ds, "w")->v.d[2999] == 2999.0 && col(ds, "w")->v.d[3000] == 2.5);
        CHECK_INT(ctype(ds, "k"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "k", 1), "true");
        CHECK_STR(sval(ds, "k", 3000), "maybe");
        CHECK_INT(ctype(ds, "id"), JP_TYPE_INT);
        jp_dataset_unref(ds);
    }
    jp_buf_free(&b);
}

/* ---- explicit schema ---------------------------------------------------------------- */

static void add_field(jp_schema_t *s, const char *name, jp_type_t t, const char *unit)
{
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)name;
    f.type = t;
    f.unit = (char *)unit;
    jp_schema_add(s, &f, NULL);
}

static void test_schema(void)
{
    jp_schema_t sc = JP_SCHEMA_INIT;
    add_field(&sc, "value", JP_TYPE_NUMBER, "CNY");
    add_field(&sc, "area", JP_TYPE_INT, "mu");
    add_field(&sc, "code", JP_TYPE_STRING, NULL);
    add_field(&sc, "when", JP_TYPE_PERIOD, NULL);
    add_field(&sc, "ok", JP_TYPE_BOOL, NULL);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &sc;
    jp_error_t err;
    jp_dataset_t *ds = rd("name,value,area,code,when,ok,other\n"
                          "a,2576.3亿,14.8万,00123,2022-01..2022-08,yes,1\n"
                          "b,约11.4亿美元,+007,7,2021,0,2\n",
                          &o, &err);
    /* 美元 is not CNY */
    CHECK(!ds);
    CHECK_ERR(&err, 3, 3, "does not convert");
    CHECK_STR(err.field, "value");
    CHECK_INT(err.row, 2);
    ds = rd("name,value,area,code,when,ok,other\n"
            "a,2576.3亿,14.8万,00123,2022-01..2022-08,yes,1\n"
            "b,约11.4亿元,+007,7,2021,0,2\n"
            "c, 20万元 ,\"1,200\",x,cumulative,TRUE,3\n",
            &o, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        jp_column_t *v = col(ds, "value");
        CHECK_INT(v->type, JP_TYPE_NUMBER);
        CHECK(v->v.d[0] == 257630000000.0 && v->v.d[1] == 1140000000.0 && v->v.d[2] == 200000);
        CHECK_INT(jp_column_qual(v, 1), JP_Q_APPROX);
        CHECK_INT(jp_column_qual(v, 0), JP_Q_EXACT);
        CHECK_STR(ds->schema.fields[1].unit, "CNY");
        jp_column_t *a = col(ds, "area");
        CHECK(a->type == JP_TYPE_INT && a->v.i[0] == 148000 && a->v.i[1] == 7 && a->v.i[2] == 1200);
        CHECK_STR(ds->schema.fields[2].unit, "mu");
        CHECK_STR(sval(ds, "code", 0), "00123");
        CHECK_INT(ctype(ds, "when"), JP_TYPE_PERIOD);
        CHECK_STR(sval(ds, "when", 0), "2022-01..2022-08");
        CHECK_INT(ctype(ds, "ok"), JP_TYPE_BOOL);
        CHECK(col(ds, "ok")->v.b[0] == 1 && col(ds, "ok")->v.b[1] == 0);
        CHECK_INT(ctype(ds, "other"), JP_TYPE_INT); /* not named: inferred */
        jp_dataset_unref(ds);
    }
    /* a bad cell names file, line, column, row and field */
    ds = rd("name,value,area,code,when,ok,other\na,1,2,3,2021,true,1\nb,1,x2,3,2021,true,1\n", &o,
            &err);
    CHECK(!ds);
    CHECK_ERR(&err, 3, 5, "'x2' is not an integer");
    CHECK_INT(err.row, 2);
    CHECK_STR(err.field, "area");
    CHECK(strstr(errtext(&err), unit_path("t.csv")) != NULL);
    /* a fraction is not an integer; a unit in a field without one is refused */
    ds = rd("name,value,area,code,when,ok,other\na,1,2.5,3,2021,true,1\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_TYPE);
    jp_schema_free(&sc);
    add_field(&sc, "n", JP_TYPE_NUMBER, NULL);
    ds = rd("n\n5吨\n", &o, &err);
    CHECK(!ds);
    CHECK(strstr(errtext(&err), "no unit") != NULL);
    /* a field the file does not have is an error naming the fields there are */
    ds = rd("a,b\n1,2\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_ARG);
    CHECK(strstr(errtext(&err), "'n'") && strstr(errtext(&err), "a, b"));
    /* a unit without a type: a number */
    jp_schema_free(&sc);
    add_field(&sc, "n", JP_TYPE_NONE, "t");
    ds = rd("n\n14万余\n", &o, &err);
    CHECK(ds && ctype(ds, "n") == JP_TYPE_NUMBER && col(ds, "n")->v.d[0] == 140000 &&
          jp_column_qual(col(ds, "n"), 0) == JP_Q_MORE_THAN);
    jp_dataset_unref(ds);
    /* unknown unit */
    jp_schema_free(&sc);
    add_field(&sc, "n", JP_TYPE_NUMBER, "furlong");
    ds = rd("n\n1\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_UNIT);
    jp_schema_free(&sc);
}

/* ---- columns ------------------------------------------------------------------------- */

static void test_columns(void)
{
    const char *cols[] = {"c", "a"};
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.columns = cols;
    o.n_columns = 2;
    jp_error_t err;
    /* the skipped column may hold anything but must be well formed */
    jp_dataset_t *ds = rd("a,b,c\n1,\"x,\"\"y\",3\n4,zz,6\n", &o, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        CHECK_INT(ds->schema.n_fields, 2);
        CHECK_STR(ds->schema.fields[0].name, "c");
        CHECK_STR(ds->schema.fields[1].name, "a");
        CHECK(col(ds, "c")->v.i[1] == 6 && col(ds, "a")->v.i[1] == 4);
        CHECK(col(ds, "b") == NULL);
        jp_dataset_unref(ds);
    }
    const char *bad[] = {"a", "nope"};
    o.columns = bad;
    ds = rd("a,b,c\n1,2,3\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_ARG);
    CHECK(strstr(errtext(&err), "nope") && strstr(errtext(&err), "a, b, c"));
    const char *twice[] = {"a", "a"};
    o.columns = twice;
    ds = rd("a,b,c\n1,2,3\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_ARG);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_errors(void)
{
    jp_error_t err;
    jp_dataset_t *ds;
    ds = rd("a,b\n1,2\n3,\"open\n4,5\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 3, 3, "unterminated quoted field");
    ds = rd("a,b\n1,2\n3,ab\"c\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 3, 5, "quote inside an unquoted field");
    ds = rd("a,b\n1,\"ab\"c,\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 2, 7, "after a closing quote");
    ds = rd("a,b\n1,2\n3\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 3, 2, "expected 2 fields, found 1");
    CHECK_INT(err.row, 2);
    ds = rd("a,b\n1,2,3\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 2, 5, "expected 2 fields, found 3");
    /* columns count characters, not bytes */
    ds = rd("名,b\n甲乙,2,3\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 2, 6, "found 3");
    put_n(unit_path("nul.csv"), "a,b\n1,x\0y\n", 10);
    CHECK(jp_csv_read(unit_path("nul.csv"), NULL, &ds, &err) != JP_OK);
    CHECK_ERR(&err, 2, 4, "NUL");
    ds = rd("a,,c\n1,2,3\n", NULL, &err);
    CHECK(!ds && strstr(errtext(&err), "column 2 has an empty name"));
    ds = rd("a,b,a\n1,2,3\n", NULL, &err);
    CHECK(!ds && strstr(errtext(&err), "column 3 is named 'a' like column 1"));
    ds = rd("", NULL, &err);
    CHECK(!ds && strstr(errtext(&err), "empty"));
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.delimiter = '"';
    ds = rd("a\n1\n", &o, &err);
    CHECK(!ds && err.code == JP_ERR_ARG);
    ds = rd("\"a,b\n1,2\n", NULL, &err);
    CHECK(!ds);
    CHECK_ERR(&err, 1, 1, "unterminated");
    CHECK(jp_csv_read(unit_path("does-not-exist.csv"), NULL, &ds, &err) == JP_ERR_NOTFOUND);
    CHECK(strstr(errtext(&err), "does-not-exist.csv") != NULL);
    CHECK(jp_csv_read(unit_dir, NULL, &ds, &err) != JP_OK);
    /* a record too long for the limit */
    jp_csv_tuning_t t = {0};
    t.batch_bytes = 64;
    t.max_record = 100;
    jp_csv_set_tuning(&t);
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "a,b\n1,2\n3,\"");
    for (int i = 0; i < 300; i++) jp_buf_putc(&b, 'x');
    jp_buf_puts(&b, "\"\n");
    ds = rd(b.data, NULL, &err);
    jp_csv_set_tuning(NULL);
    CHECK(!ds && err.code == JP_ERR_LIMIT && err.line == 3);
    jp_buf_free(&b);
}

static void test_rejects(void)
{
    jp_schema_t sc = JP_SCHEMA_INIT;
    add_field(&sc, "n", JP_TYPE_INT, NULL);
    jp_dataset_t *rej = NULL;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.keep_rejects = true;
    o.rejects = &rej;
    o.schema = &sc;
    jp_error_t err;
    jp_dataset_t *ds = rd("n,s\n1,a\n2\n3,\"x\ny\"\nzz,b\n4,c\"d\n5,e\n6,\"f\n", &o, &err);
    CHECK_MSG(ds != NULL, "%s", errtext(&err));
    if (ds) {
        CHECK_INT(ds->nrows, 3);
        CHECK(col(ds, "n")->v.i[0] == 1 && col(ds, "n")->v.i[1] == 3 && col(ds, "n")->v.i[2] == 5);
        /* a bad row of 'n' did not turn 's' into anything else */
        CHECK_INT(ctype(ds, "s"), JP_TYPE_STRING);
        CHECK_INT(jp_dataset_row_line(ds, 0), 2);
        CHECK_INT(jp_dataset_row_line(ds, 1), 4);
        CHECK_INT(jp_dataset_row_line(ds, 2), 8);
        jp_dataset_unref(ds);
    }
    CHECK(rej != NULL);
    if (rej) {
        CHECK_INT(rej->nrows, 4);
        CHECK_STR(sval(rej, "line", 0), "3");
        CHECK_STR(sval(rej, "text", 0), "2");
        CHECK(strstr(sval(rej, "reason", 0), "expected 2 fields") != NULL);
        CHECK_STR(sval(rej, "line", 1), "6");
        CHECK_STR(sval(rej, "text", 1), "zz,b");
        CHECK(strstr(sval(rej, "reason", 1), "field 'n'") != NULL);
        CHECK_STR(sval(rej, "line", 2), "7");
        CHECK(strstr(sval(rej, "reason", 2), "quote inside") != NULL);
        CHECK_STR(sval(rej, "line", 3), "9");
        CHECK(strstr(sval(rej, "reason", 3), "unterminated") != NULL);
        jp_dataset_unref(rej);
    }
    /* the same with chunk boundaries everywhere and a column re-read as text */
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "n,v\n");
    for (int i = 0; i < 500; i++) {
        if (i % 50 == 7)
            jp_buf_printf(&b, "bad%d,1.5\n", i);
        else if (i % 70 == 3)
            jp_buf_printf(&b, "%d\n", i);
        else
            jp_buf_printf(&b, "%d,%d.25\n", i, i);
    }
    jp_buf_puts(&b, "999,text\n");
    for (size_t cb = 7; cb < 400; cb += 131) {
        jp_csv_tuning_t t = {0};
        t.batch_bytes = 300;
        t.chunk_bytes = cb;
        t.threads = 2;
        jp_csv_set_tuning(&t);
        rej = NULL;
        ds = rd(b.data, &o, &err);
        jp_csv_set_tuning(NULL);
        CHECK_MSG(ds != NULL, "%s", errtext(&err));
        if (!ds) continue;
        CHECK_INT(ds->nrows, 500 - 10 - 8 + 1);
        CHECK_INT(ctype(ds, "v"), JP_TYPE_STRING);
        CHECK_STR(sval(ds, "v", ds->nrows - 1), "text");
        CHECK_STR(sval(ds, "v", 0), "0.25");
        CHECK(rej && rej->nrows == 18);
        jp_dataset_unref(ds);
        jp_dataset_unref(rej);
    }
    jp_buf_free(&b);
    jp_schema_free(&sc);
}

/* ---- gzip ----------------------------------------------------------------------------- */

static void gz_member(FILE *f, const char *text)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
    unsigned char out[4096];
    zs.next_in = (unsigned char *)(uintptr_t)text;
    zs.avail_in = (uInt)strlen(text);
    zs.next_out = out;
    zs.avail_out = sizeof out;
    deflate(&zs, Z_FINISH);
    fwrite(out, 1, sizeof out - zs.avail_out, f);
    deflateEnd(&zs);
}

static void test_gzip_read(void)
{
    /* two gzip members, one after the other, are one text */
    FILE *f = fopen(unit_path("m.csv.gz"), "wb");
    gz_member(f, "a,b\n1,x\n");
    gz_member(f, "2,y\n3,z\n");
    fclose(f);
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK_MSG(jp_csv_read(unit_path("m.csv.gz"), NULL, &ds, &err) == JP_OK, "%s", errtext(&err));
    if (ds) {
        CHECK_INT(ds->nrows, 3);
        CHECK_STR(sval(ds, "b", 2), "z");
        CHECK_STR(ds->meta.name, "m");
        jp_dataset_unref(ds);
    }
    /* through the registry */
    jp_formats_init();
    CHECK(jp_dataset_load(unit_path("m.csv.gz"), NULL, &ds, &err) == JP_OK);
    jp_dataset_unref(ds);
    /* truncated gzip data is an error, not a short dataset */
    size_t n;
    char *all = slurp(unit_path("m.csv.gz"), &n);
    if (all) {
        put_n(unit_path("cut.csv.gz"), all, n - 12);
        CHECK(jp_csv_read(unit_path("cut.csv.gz"), NULL, &ds, &err) != JP_OK);
        /* from memory, too */
        CHECK(jp_csv_read_mem("mem.csv.gz", all, n, NULL, &ds, &err) == JP_OK && ds->nrows == 3);
        jp_dataset_unref(ds);
        jp_free(all);
    }
}

static void test_gzip_writer(void)
{
    /* deterministic whatever the threads and the way the input is cut */
    jp_buf_t text = JP_BUF_INIT;
    for (int i = 0; i < 60000; i++) jp_buf_printf(&text, "%d,row %d,%d.%d\n", i, i % 97, i, i % 7);
    char *first = NULL;
    size_t first_n = 0;
    for (int threads = 1; threads <= 4; threads++) {
        FILE *f = fopen(unit_path("w.gz"), "wb");
        jp_error_t err;
        jp_gzip_writer_t *w = jp_gzip_open(f, 6, threads, &err);
        CHECK(w != NULL);
        if (!w) {
            fclose(f);
            continue;
        }
        size_t step = threads == 2 ? 1 : threads == 3 ? 70000 : text.len;
        for (size_t o = 0; o < text.len; o += step)
            jp_gzip_write(w, text.data + o, o + step < text.len ? step : text.len - o, &err);
        uint32_t crc;
        uint64_t size;
        CHECK(jp_gzip_close(w, &crc, &size, &err) == JP_OK);
        fclose(f);
        CHECK(size == text.len);
        CHECK(crc == (uint32_t)crc32(0, (const unsigned char *)text.data, (uInt)text.len));
        size_t n;
        char *got = slurp(unit_path("w.gz"), &n);
        if (!first) {
            first = got;
            first_n = n;
            CHECK(n > 10 && n < text.len / 2);
        } else {
            CHECK(got && n == first_n && memcmp(got, first, n) == 0);
            jp_free(got);
        }
    }
    /* standard tools agree */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -t '%s' 2>/dev/null", unit_path("w.gz"));
    int rc = system(cmd);
    if (rc != -1) CHECK(rc == 0);
    snprintf(cmd, sizeof cmd, "zcat '%s' | cksum", unit_path("w.gz"));
    FILE *p = popen(cmd, "r");
    char line[128] = "";
    if (p) {
        if (!fgets(line, sizeof line, p)) line[0] = '\0';
        pclose(p);
    }
    put_n(unit_path("w.txt"), text.data, text.len);
    snprintf(cmd, sizeof cmd, "cksum < '%s'", unit_path("w.txt"));
    p = popen(cmd, "r");
    char line2[128] = "";
    if (p) {
        if (!fgets(line2, sizeof line2, p)) line2[0] = '\0';
        pclose(p);
    }
    if (line[0] && line2[0]) CHECK_STR(line, line2);
    /* an empty stream is a valid member */
    FILE *f = fopen(unit_path("e.gz"), "wb");
    jp_gzip_writer_t *w = jp_gzip_open(f, 9, 2, NULL);
    CHECK(w && jp_gzip_close(w, NULL, NULL, NULL) == JP_OK);
    fclose(f);
    snprintf(cmd, sizeof cmd, "gzip -t '%s' 2>/dev/null", unit_path("e.gz"));
    rc = system(cmd);
    if (rc != -1) CHECK(rc == 0);
    CHECK(jp_gzip_open(stdout, 11, 1, NULL) == NULL);
    jp_free(first);
    jp_buf_free(&text);
}

/* ---- the parallel path ---------------------------------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* A CSV text with every awkward thing, deterministic. */
static void tricky(jp_buf_t *b, int rows, bool crlf)
{
    static const char *const words[] = {"plain", "with, comma", "say \"hi\"", "two\nlines",
                                        "",      "end\r\nline", "x",          "长江",
                                        "\"\"",  " sp "};
    jp_buf_puts(b, "id,word,num,flag,day\n");
    for (int i = 0; i < rows; i++) {
        const char *w = words[rnd(10)];
        bool q = strpbrk(w, ",\"\n\r") != NULL || rnd(5) == 0;
        jp_buf_printf(b, "%d,", i);
        if (q) {
            jp_buf_putc(b, '"');
            for (const char *p = w; *p; p++) {
                if (*p == '"') jp_buf_putc(b, '"');
                jp_buf_putc(b, *p);
            }
            jp_buf_putc(b, '"');
        } else {
            jp_buf_puts(b, w);
        }
        unsigned k = rnd(4);
        if (k == 0)
            jp_buf_printf(b, ",%d", (int)rnd(1000) - 500);
        else if (k == 1)
            jp_buf_printf(b, ",%d.%03d", (int)rnd(100), (int)rnd(1000));
        else if (k == 2)
            jp_buf_puts(b, ",");
        else
            jp_buf_puts(b, ",\"7\"");
        jp_buf_printf(b, ",%s,2024-%02d-%02d", rnd(2) ? "true" : "false", 1 + (int)rnd(12),
                      1 + (int)rnd(28));
        jp_buf_puts(b, crlf ? "\r\n" : "\n");
        if (rnd(40) == 0) jp_buf_puts(b, crlf ? "\r\n" : "\n"); /* a blank line */
    }
}

static bool same_lines(jp_dataset_t *a, jp_dataset_t *b)
{
    if (a->nrows != b->nrows) return false;
    for (size_t i = 0; i < a->nrows; i++)
        if (jp_dataset_row_line(a, i) != jp_dataset_row_line(b, i)) return false;
    return true;
}

static void test_parallel(void)
{
    for (int variant = 0; variant < 2; variant++) {
        jp_buf_t b = JP_BUF_INIT;
        tricky(&b, 700, variant == 1);
        jp_error_t err;
        jp_read_opts_t o;
        jp_read_opts_init(&o);
        o.threads = 1;
        jp_dataset_t *ref = rd(b.data, &o, &err);
        CHECK_MSG(ref != NULL, "%s", errtext(&err));
        if (!ref) {
            jp_buf_free(&b);
            continue;
        }
        CHECK_INT(ref->nrows, 700);
        CHECK_INT(ctype(ref, "num"), JP_TYPE_NUMBER);
        CHECK_INT(ctype(ref, "flag"), JP_TYPE_BOOL);
        CHECK_INT(ctype(ref, "day"), JP_TYPE_DATE);
        CHECK(ref->lines != NULL);
        static const size_t chunks[] = {1, 2, 3, 5, 8, 13, 64, 65, 100, 333, 1000, 4096};
        static const size_t batches[] = {64, 200, 1024, 5000};
        for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
            for (size_t j = 0; j < sizeof batches / sizeof batches[0]; j++) {
                jp_csv_tuning_t t = {0};
                t.chunk_bytes = chunks[i];
                t.batch_bytes = batches[j];
                t.threads = 1 + (int)((i + j) % 4);
                jp_csv_set_tuning(&t);
                jp_dataset_t *ds = rd(b.data, NULL, &err);
                jp_csv_set_tuning(NULL);
                char why[300] = "";
                CHECK_MSG(ds && jp_dataset_equal(ref, ds, why, sizeof why) && same_lines(ref, ds),
                          "chunk %zu batch %zu: %s %s", chunks[i], batches[j], why,
                          ds ? "" : errtext(&err));
                jp_dataset_unref(ds);
            }
        jp_dataset_unref(ref);
        jp_buf_free(&b);
    }
    /* an error deep in the file is the first one, at its line, whatever the chunks */
    jp_buf_t b = JP_BUF_INIT;
    jp_buf_puts(&b, "a,b\n");
    for (int i = 0; i < 400; i++) jp_buf_printf(&b, "%d,\"x\ny\"\n", i);
    jp_buf_puts(&b, "1,2,3\n");
    for (int i = 0; i < 400; i++) jp_buf_puts(&b, "1,\"\n");
    for (size_t cb = 3; cb < 2000; cb = cb * 3 + 1) {
        jp_csv_tuning_t t = {0};
        t.chunk_bytes = cb;
        t.batch_bytes = 500;
        t.threads = 3;
        jp_csv_set_tuning(&t);
        jp_error_t err;
        jp_dataset_t *ds = rd(b.data, NULL, &err);
        jp_csv_set_tuning(NULL);
        CHECK(!ds);
        CHECK_ERR(&err, 802, 5, "expected 2 fields, found 3");
        CHECK_INT(err.row, 401);
    }
    jp_buf_free(&b);
}

/* ---- laziness ---------------------------------------------------------------------------- */

static void test_lazy(void)
{
    jp_buf_t b = JP_BUF_INIT;
    tricky(&b, 300, false);
    put(unit_path("lazy.csv"), b.data);
    jp_csv_tuning_t t = {0};
    t.lazy_bytes = 100;
    t.chunk_bytes = 97;
    t.batch_bytes = 1000;
    jp_csv_set_tuning(&t);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_error_t err;
    jp_dataset_t *eager = NULL, *lz = NULL;
    CHECK(jp_csv_read(unit_path("lazy.csv"), &o, &eager, &err) == JP_OK);
    CHECK(eager && !eager->lazy);
    o.lazy = true;
    CHECK(jp_csv_read(unit_path("lazy.csv"), &o, &lz, &err) == JP_OK);
    CHECK(lz && lz->lazy != NULL);
    if (eager && lz) {
        CHECK_INT(lz->schema.n_fields, 5);
        CHECK(lz->cols[2] == NULL && lz->schema.fields[2].type == JP_TYPE_NONE);
        size_t want[] = {2, 4};
        CHECK(jp_dataset_need(lz, want, 2, &err) == JP_OK);
        CHECK(lz->cols[2] && lz->cols[4] && !lz->cols[1] && lz->lazy);
        CHECK_INT(lz->nrows, 300);
        CHECK_INT(lz->schema.fields[2].type, JP_TYPE_NUMBER);
        CHECK(jp_column_equal(lz->cols[2], eager->cols[2]));
        CHECK(jp_column_equal(lz->cols[4], eager->cols[4]));
        CHECK(same_lines(lz, eager));
        size_t more[] = {1, 2};
        CHECK(jp_dataset_need(lz, more, 2, &err) == JP_OK);
        CHECK(jp_column_equal(lz->cols[1], eager->cols[1]));
        CHECK(jp_dataset_need_all(lz, &err) == JP_OK && !lz->lazy);
        char why[300] = "";
        CHECK_MSG(jp_dataset_equal(eager, lz, why, sizeof why), "%s", why);
    }
    jp_dataset_unref(lz);
    /* rows alone */
    lz = NULL;
    CHECK(jp_csv_read(unit_path("lazy.csv"), &o, &lz, &err) == JP_OK);
    if (lz) {
        CHECK(jp_dataset_need_rows(lz, &err) == JP_OK && lz->nrows == 300);
        jp_dataset_unref(lz);
    }
    /* a file that changes between passes is noticed */
    lz = NULL;
    CHECK(jp_csv_read(unit_path("lazy.csv"), &o, &lz, &err) == JP_OK);
    if (lz) {
        sleep(0);
        jp_buf_puts(&b, "999,x,1,true,2024-01-01\n");
        put(unit_path("lazy.csv"), b.data);
        size_t one = 0;
        CHECK(jp_dataset_need(lz, &one, 1, &err) != JP_OK);
        jp_dataset_unref(lz);
    }
    /* a bad header fails at once; a bad record only when read */
    put(unit_path("lazy2.csv"), "a,a\n1,2\n");
    CHECK(jp_csv_read(unit_path("lazy2.csv"), &o, &lz, &err) != JP_OK);
    jp_buf_reset(&b);
    jp_buf_puts(&b, "a,b\n");
    for (int i = 0; i < 50; i++) jp_buf_puts(&b, "1,2\n");
    jp_buf_puts(&b, "1,\"x\n");
    put(unit_path("lazy3.csv"), b.data);
    lz = NULL;
    CHECK(jp_csv_read(unit_path("lazy3.csv"), &o, &lz, &err) == JP_OK);
    if (lz) {
        size_t one = 0;
        CHECK(jp_dataset_need(lz, &one, 1, &err) == JP_ERR_PARSE && err.line == 52);
        jp_dataset_unref(lz);
    }
    jp_csv_set_tuning(NULL);
    jp_dataset_unref(eager);
    jp_buf_free(&b);
}

/* ---- writing ----------------------------------------------------------------------------------
 */

static jp_dataset_t *sample(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *i = jp_column_new(JP_TYPE_INT, 8), *d = jp_column_new(JP_TYPE_NUMBER, 8),
                *s = jp_column_new(JP_TYPE_STRING, 8), *b = jp_column_new(JP_TYPE_BOOL, 8),
                *t = jp_column_new(JP_TYPE_DATE, 8);
    jp_column_push_int(i, 1, JP_Q_EXACT);
    jp_column_push_int(i, INT64_MIN, JP_Q_EXACT);
    jp_column_push_null(i);
    jp_column_push_int(i, 140000, JP_Q_MORE_THAN);
    jp_column_push_number(d, 0.1, JP_Q_EXACT);
    jp_column_push_number(d, 148000, JP_Q_APPROX);
    jp_column_push_number(d, -2.5e-12, JP_Q_EXACT);
    jp_column_push_null(d);
    jp_column_push_str(s, "plain", 5);
    jp_column_push_str(s, "a,\"b\"\nc", 7);
    jp_column_push_str(s, "", 0);
    jp_column_push_null(s);
    jp_column_push_bool(b, true);
    jp_column_push_bool(b, false);
    jp_column_push_null(b);
    jp_column_push_bool(b, true);
    jp_column_push_date(t, jp_date_from_ymd(2024, 2, 29));
    jp_column_push_null(t);
    jp_column_push_date(t, jp_date_from_ymd(1970, 1, 1));
    jp_column_push_date(t, jp_date_from_ymd(9999, 12, 31));
    jp_dataset_add(ds, "i", i, NULL, NULL);
    jp_dataset_add(ds, "d", d, NULL, NULL);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_dataset_add(ds, "b", b, NULL, NULL);
    jp_dataset_add(ds, "t", t, NULL, NULL);
    jp_meta_set(&ds->meta.name, "sample");
    return ds;
}

static void test_write(void)
{
    jp_dataset_t *ds = sample();
    jp_buf_t out = JP_BUF_INIT;
    jp_error_t err;
    CHECK(jp_csv_write_mem(ds, NULL, &out, &err) == JP_OK);
    CHECK_STR(out.data, "i,d,s,b,t\n"
                        "1,0.1,plain,true,2024-02-29\n"
                        "-9223372036854775808,148000.0,\"a,\"\"b\"\"\nc\",false,\n"
                        ",-2.5e-12,\"\",,1970-01-01\n"
                        "140000,,,true,9999-12-31\n");
    jp_write_opts_t wo;
    jp_write_opts_init(&wo);
    wo.qualifiers = true;
    wo.delimiter = ';';
    jp_buf_reset(&out);
    CHECK(jp_csv_write_mem(ds, &wo, &out, &err) == JP_OK);
    CHECK(strstr(out.data, ";~148000.0;") != NULL && strstr(out.data, "\n>140000;") != NULL);
    jp_dataset_unref(ds);

    /* spreadsheet-safe text; numbers keep their sign */
    ds = jp_dataset_new();
    jp_column_t *s = jp_column_new(JP_TYPE_STRING, 4), *n = jp_column_new(JP_TYPE_NUMBER, 4);
    jp_column_push_str(s, "=1+1", 4);
    jp_column_push_str(s, "@x", 2);
    jp_column_push_str(s, "ok", 2);
    jp_column_push_number(n, -1, JP_Q_EXACT);
    jp_column_push_number(n, 2, JP_Q_EXACT);
    jp_column_push_number(n, 1e22, JP_Q_EXACT);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_dataset_add(ds, "n", n, NULL, NULL);
    jp_write_opts_init(&wo);
    wo.spreadsheet_safe = true;
    jp_buf_reset(&out);
    CHECK(jp_csv_write_mem(ds, &wo, &out, &err) == JP_OK);
    CHECK_STR(out.data, "s,n\n'=1+1,-1.0\n'@x,2.0\nok,1e+22\n");
    jp_dataset_unref(ds);
    jp_buf_free(&out);

    /* atomic: a write that cannot happen leaves nothing behind */
    ds = sample();
    CHECK(jp_csv_write(ds, unit_path("no/such/dir/x.csv"), NULL, &err) == JP_ERR_IO);
    put(unit_path("keep.csv"), "old\n");
    jp_write_opts_init(&wo);
    wo.level = 12;
    CHECK(jp_csv_write(ds, unit_path("keep.csv.gz"), &wo, &err) == JP_ERR_ARG);
    struct stat st;
    CHECK(stat(unit_path("keep.csv.gz"), &st) != 0);
    jp_dataset_unref(ds);
}

/* The writer's number text is jp_format_double's, plus ".0" on integers. */
static void test_number_text(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *c = jp_column_new(JP_TYPE_NUMBER, 64);
    size_t n = 0;
    for (int i = 0; i < 20000; i++) {
        double v;
        unsigned k = rnd(6);
        if (k == 0)
            v = (double)((int)rnd(2000000) - 1000000) / 1000.0;
        else if (k == 1)
            v = (double)rnd(100000000) / (double)(1 + rnd(1000));
        else if (k == 2)
            v = ldexp((double)rnd(1u << 30), (int)rnd(120) - 60);
        else if (k == 3)
            v = (double)rnd(10000) * pow(10, (int)rnd(30) - 15);
        else if (k == 4)
            v = (double)((int)rnd(1000) - 500) / 8.0;
        else
            v = (i % 7 ? 1 : -1) * (double)rnd(1000) / 10000000.0;
        jp_column_push_number(c, v, JP_Q_EXACT);
        n++;
    }
    jp_column_push_number(c, 999999.9999999999, JP_Q_EXACT);
    jp_column_push_number(c, 1e-7, JP_Q_EXACT);
    jp_column_push_number(c, 0.30000000000000004, JP_Q_EXACT);
    jp_column_push_number(c, 9.999999999e5, JP_Q_EXACT);
    n += 4;
    jp_dataset_add(ds, "v", c, NULL, NULL);
    jp_buf_t out = JP_BUF_INIT;
    CHECK(jp_csv_write_mem(ds, NULL, &out, NULL) == JP_OK);
    const char *p = out.data ? strchr(out.data, '\n') : NULL;
    int bad = 0;
    for (size_t i = 0; p && i < n; i++) {
        p++;
        const char *e = strchr(p, '\n');
        if (!e) break;
        char want[64];
        int k = jp_format_double(c->v.d[i], want, sizeof want);
        if (!strpbrk(want, ".en")) k += snprintf(want + k, sizeof want - (size_t)k, ".0");
        if ((size_t)(e - p) != (size_t)k || memcmp(p, want, (size_t)k) != 0) {
            if (bad++ < 5)
                printf("# %.17g: wrote '%.*s', want '%s'\n", c->v.d[i], (int)(e - p), p, want);
        }
        p = e;
    }
    CHECK_INT(bad, 0);
    jp_buf_free(&out);
    jp_dataset_unref(ds);
}

/* Write, read back with the written types, compare. */
static void roundtrip(jp_dataset_t *ds, const char *name, const jp_write_opts_t *wo)
{
    jp_error_t err;
    CHECK_MSG(jp_csv_write(ds, unit_path(name), wo, &err) == JP_OK, "%s", errtext(&err));
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.name = ds->meta.name;
    jp_dataset_t *back = NULL;
    CHECK_MSG(jp_csv_read(unit_path(name), &o, &back, &err) == JP_OK, "%s", errtext(&err));
    char why[300] = "";
    CHECK_MSG(back && jp_dataset_equal(ds, back, why, sizeof why), "%s: %s", name, why);
    jp_dataset_unref(back);
}

static void test_roundtrip(void)
{
    /* without qualifiers (a plain CSV cannot hold them) */
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *i = jp_column_new(JP_TYPE_INT, 8), *d = jp_column_new(JP_TYPE_NUMBER, 8),
                *s = jp_column_new(JP_TYPE_STRING, 8), *b = jp_column_new(JP_TYPE_BOOL, 8),
                *t = jp_column_new(JP_TYPE_DATE, 8);
    static const double nums[] = {0.1, 148000, -0.0, 1e22, 5e-324, 1.0 / 3, 2.675, -1e300, 7};
    for (int k = 0; k < 9; k++) {
        jp_column_push_int(i, k == 3 ? INT64_MAX : (int64_t)k * -12345, JP_Q_EXACT);
        jp_column_push_number(d, nums[k], JP_Q_EXACT);
        static const char *const strs[] = {"a",     "b,c",  "\"q\"",  "",         "line\nbreak",
                                           " pad ", "长江", "x\r\ny", "tab\there"};
        if (k == 5)
            jp_column_push_null(s);
        else
            jp_column_push_str(s, strs[k], strlen(strs[k]));
        if (k == 2)
            jp_column_push_null(b);
        else
            jp_column_push_bool(b, k % 2);
        jp_column_push_date(t, jp_date_from_ymd(2000 + k, 1 + k, 1 + k));
    }
    jp_dataset_add(ds, "i", i, NULL, NULL);
    jp_dataset_add(ds, "d", d, NULL, NULL);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_dataset_add(ds, "b", b, NULL, NULL);
    jp_dataset_add(ds, "t", t, NULL, NULL);
    jp_meta_set(&ds->meta.name, "rt");
    roundtrip(ds, "rt.csv", NULL);
    roundtrip(ds, "rt.csv.gz", NULL);
    roundtrip(ds, "rt.tsv", NULL);
    jp_write_opts_t wo;
    jp_write_opts_init(&wo);
    wo.delimiter = ';';
    roundtrip(ds, "rt2.csv", &wo);
    jp_dataset_unref(ds);

    /* a bigger one through the parallel writer and reader, gzip thread-independent */
    ds = jp_dataset_new();
    i = jp_column_new(JP_TYPE_INT, 100000);
    d = jp_column_new(JP_TYPE_NUMBER, 100000);
    s = jp_column_new(JP_TYPE_STRING, 100000);
    for (int k = 0; k < 100000; k++) {
        jp_column_push_int(i, k, JP_Q_EXACT);
        jp_column_push_number(d, k / 7.0, JP_Q_EXACT);
        char w[32];
        int n = snprintf(w, sizeof w, k % 3 ? "w%d" : "w,%d", k % 1000);
        jp_column_push_str(s, w, (size_t)n);
    }
    jp_dataset_add(ds, "i", i, NULL, NULL);
    jp_dataset_add(ds, "d", d, NULL, NULL);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_meta_set(&ds->meta.name, "big");
    jp_csv_tuning_t t2 = {0};
    t2.chunk_bytes = 10000;
    t2.batch_bytes = 100000;
    jp_csv_set_tuning(&t2);
    roundtrip(ds, "big.csv", NULL);
    jp_write_opts_init(&wo);
    wo.threads = 1;
    roundtrip(ds, "big1.csv.gz", &wo);
    wo.threads = 3;
    roundtrip(ds, "big3.csv.gz", &wo);
    jp_csv_set_tuning(NULL);
    size_t n1, n3;
    char *g1 = slurp(unit_path("big1.csv.gz"), &n1), *g3 = slurp(unit_path("big3.csv.gz"), &n3);
    CHECK(g1 && g3 && n1 == n3 && memcmp(g1, g3, n1) == 0);
    jp_free(g1);
    jp_free(g3);
    /* through the registry: jp_dataset_save / jp_dataset_load */
    jp_formats_init();
    jp_error_t err;
    CHECK(jp_dataset_save(ds, unit_path("reg.csv.gz"), NULL, &err) == JP_OK);
    jp_dataset_t *back = NULL;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.name = "big";
    CHECK(jp_dataset_load(unit_path("reg.csv.gz"), &o, &back, &err) == JP_OK);
    CHECK(back && jp_dataset_equal(ds, back, NULL, 0));
    jp_dataset_unref(back);
    jp_dataset_unref(ds);
}

/* ---- robustness
 * ---------------------------------------------------------------------------------- */

static void test_robust(void)
{
    jp_buf_t b = JP_BUF_INIT;
    tricky(&b, 40, true);
    const char *text = b.data;
    size_t n = b.len;
    jp_csv_tuning_t t = {0};
    t.chunk_bytes = 17;
    t.batch_bytes = 150;
    t.threads = 2;
    jp_csv_set_tuning(&t);
    int ok = 0;
    /* every truncation */
    for (size_t cut = 0; cut <= n; cut += 1 + cut / 40) {
        put_n(unit_path("cut.csv"), text, cut);
        jp_dataset_t *ds = NULL;
        jp_error_t err;
        if (jp_csv_read(unit_path("cut.csv"), NULL, &ds, &err) == JP_OK) ok++;
        jp_dataset_unref(ds);
    }
    /* corruptions: a byte replaced by something that matters */
    char *buf = jp_malloc(n + 1);
    static const char bytes[] = {'"', ',', '\n', '\r', '\0', '\xC3', 'x', '\xFF'};
    for (int k = 0; k < 400; k++) {
        memcpy(buf, text, n);
        for (int m = 0; m < 1 + k % 3; m++) buf[rnd((unsigned)n)] = bytes[rnd(sizeof bytes)];
        put_n(unit_path("bad.csv"), buf, n);
        jp_read_opts_t o;
        jp_read_opts_init(&o);
        jp_dataset_t *rej = NULL;
        o.keep_rejects = k % 2;
        o.rejects = &rej;
        jp_dataset_t *ds = NULL;
        jp_error_t err;
        jp_status_t st = jp_csv_read(unit_path("bad.csv"), &o, &ds, &err);
        if (st == JP_OK) {
            ok++;
            /* whatever was kept and set aside, nothing was lost */
            CHECK(ds && ds->schema.n_fields >= 1);
        } else {
            CHECK(err.msg[0] != '\0');
        }
        jp_dataset_unref(ds);
        jp_dataset_unref(rej);
    }
    jp_free(buf);
    CHECK(ok > 0);
    /* failing allocations: an error, never a crash or a leak */
    put(unit_path("mem.csv"), text);
    for (long f = 1; f < 400; f += 1 + f / 10) {
        jp_dataset_t *ds = NULL;
        jp_error_t err;
        jp_mem_fail_after(f, 1);
        jp_status_t st = jp_csv_read(unit_path("mem.csv"), NULL, &ds, &err);
        jp_mem_fail_after(0, 0);
        if (st == JP_OK) {
            CHECK(ds != NULL);
            jp_dataset_unref(ds);
        }
        jp_buf_t out = JP_BUF_INIT;
        ds = NULL;
        if (jp_csv_read(unit_path("mem.csv"), NULL, &ds, &err) == JP_OK) {
            jp_mem_fail_after(f, 1);
            jp_csv_write_mem(ds, NULL, &out, &err);
            jp_csv_write(ds, unit_path("memw.csv.gz"), NULL, &err);
            jp_mem_fail_after(0, 0);
        }
        jp_buf_free(&out);
        jp_dataset_unref(ds);
    }
    jp_csv_set_tuning(NULL);
    jp_buf_free(&b);
}

int main(void)
{
    if (unit_tmpdir("jp_test_csv")) return 1;
    RUN(test_rfc4180);
    RUN(test_delimiters);
    RUN(test_inference);
    RUN(test_inference_late);
    RUN(test_schema);
    RUN(test_columns);
    RUN(test_errors);
    RUN(test_rejects);
    RUN(test_gzip_read);
    RUN(test_gzip_writer);
    RUN(test_parallel);
    RUN(test_lazy);
    RUN(test_write);
    RUN(test_number_text);
    RUN(test_roundtrip);
    RUN(test_robust);
    unit_tmpdir_remove();
    return unit_done();
}
