/*
 * test_csv_cells.c - cells an explicit schema's type cannot read, kept
 * aside (jp_read_opts_t.cell_errors): every one reported, in file order,
 * with its line, column, row and field, read as null; the same report and
 * the same dataset whatever the batch and chunk sizes, the thread count,
 * records set aside or not, plain or gzip.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_gzip.h"
#include "jp_schema.h"
#include "unit.h"

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng_state >> 33) % n;
}

/* What the generator put where: the bad cells, in file order. */
typedef struct want {
    long line, row;
    const char *field;
    char text[48];
} want_t;

enum { MAXWANT = 4096 };
static want_t wants[MAXWANT];
static size_t nwant;

static void want(long line, long row, const char *field, const char *text)
{
    if (nwant == MAXWANT) return;
    want_t *w = &wants[nwant++];
    w->line = line;
    w->row = row;
    w->field = field;
    snprintf(w->text, sizeof w->text, "%s", text);
}

/*
 * id (inferred integer), v (number in t), y (integer), note (text, some
 * quoted across lines), d (date).  A fifth of the rows hold bad cells,
 * some quoted, some with doubled quotes, some after a multi-line cell.
 */
static void make_file(jp_buf_t *b, unsigned rows)
{
    static const char *const badnum[] = {"twenty-five-thousand", "x12", "3 apples", "1.2.3",
                                         "\"q\"\"x\"",           "约"};
    static const char *const badint[] = {"2021.5", "20x2", "nineteen", "\"\"\"1\"\"\""};
    static const char *const baddate[] = {"2021-02-30", "yesterday", "\"2021/01/01\""};
    nwant = 0;
    long line = 2;
    jp_buf_puts(b, "id,v,y,note,d\n");
    for (unsigned r = 0; r < rows; r++) {
        char c[5][64];
        snprintf(c[0], 64, "%u", r);
        snprintf(c[1], 64, rnd(3) ? "%u.%u" : "%u万吨", rnd(9000), rnd(10));
        snprintf(c[2], 64, "%u", 1990 + rnd(40));
        long extra = 0;
        if (rnd(6) == 0) {
            snprintf(c[3], 64, "\"two\nlines, \"\"quoted\"\"\"");
            extra = 1;
        } else {
            snprintf(c[3], 64, "n%u", rnd(50));
        }
        snprintf(c[4], 64, "2020-%02u-%02u", 1 + rnd(12), 1 + rnd(28));
        if (rnd(5) == 0) {
            int which = (int)rnd(3);
            const char *t = which == 0   ? badnum[rnd(6)]
                            : which == 1 ? badint[rnd(4)]
                                         : baddate[rnd(3)];
            int col = which == 0 ? 1 : which == 1 ? 2 : 4;
            snprintf(c[col], 64, "%s", t);
            /* the cell's line: after the note's line end when it comes later */
            want(line + (col > 3 ? extra : 0), (long)r + 1,
                 col == 1   ? "v"
                 : col == 2 ? "y"
                            : "d",
                 t);
        }
        for (int k = 0; k < 5; k++) {
            if (k) jp_buf_puts(b, ",");
            jp_buf_puts(b, c[k]);
        }
        jp_buf_puts(b, rnd(4) ? "\n" : "\r\n");
        line += 1 + extra;
    }
}

static void add_field(jp_schema_t *s, const char *name, jp_type_t t, const char *unit)
{
    jp_field_t f;
    jp_field_init(&f);
    f.name = (char *)name;
    f.type = t;
    f.unit = (char *)unit;
    jp_schema_add(s, &f, NULL);
}

typedef struct outcome {
    jp_status_t st;
    jp_dataset_t *ds;
    jp_cell_errors_t ce;
    char what[700];
} outcome_t;

static void read_file(const char *path, const jp_schema_t *sc, bool rejects, outcome_t *out)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = sc;
    o.lazy = true;
    o.keep_rejects = rejects;
    jp_dataset_t *rej = NULL;
    if (rejects) o.rejects = &rej;
    memset(&out->ce, 0, sizeof out->ce);
    o.cell_errors = &out->ce;
    jp_error_t err;
    jp_error_clear(&err);
    out->ds = NULL;
    out->st = jp_csv_read(path, &o, &out->ds, &err);
    out->what[0] = '\0';
    if (out->st) jp_error_format(&err, out->what, sizeof out->what);
    jp_dataset_unref(rej);
}

static bool same_errors(const jp_cell_errors_t *a, const jp_cell_errors_t *b, char *why, size_t n)
{
    if (a->n != b->n || a->total != b->total) {
        snprintf(why, n, "%zu errors (total %zu) vs %zu (total %zu)", a->n, a->total, b->n,
                 b->total);
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        const jp_cell_error_t *x = &a->v[i], *y = &b->v[i];
        if (x->line != y->line || x->col != y->col || x->row != y->row ||
            strcmp(x->field, y->field) || strcmp(x->msg, y->msg) || x->code != y->code) {
            snprintf(why, n, "error %zu: %ld:%ld row %ld %s '%s' vs %ld:%ld row %ld %s '%s'", i,
                     x->line, x->col, x->row, x->field, x->msg, y->line, y->col, y->row, y->field,
                     y->msg);
            return false;
        }
    }
    return true;
}

static void write_gz(const char *path, const jp_buf_t *b)
{
    FILE *f = fopen(path, "wb");
    jp_error_t err;
    jp_gzip_writer_t *w = f ? jp_gzip_open(f, 1, 1, &err) : NULL;
    CHECK(w != NULL);
    if (w) {
        CHECK(jp_gzip_write(w, b->data, b->len, &err) == JP_OK);
        CHECK(jp_gzip_close(w, NULL, NULL, &err) == JP_OK);
    }
    if (f) fclose(f);
}

static void test_every_cell(void)
{
    static const jp_csv_tuning_t tunings[] = {
        {64, 7, 0, 0, 2},     {300, 64, 0, 0, 3},  {1000, 100, 0, 0, 4}, {257, 1, 0, 0, 2},
        {4096, 333, 0, 0, 2}, {150, 150, 0, 0, 1}, {2000, 13, 0, 1, 3}, /* lazy asked for too */
    };
    jp_schema_t sc = JP_SCHEMA_INIT;
    add_field(&sc, "v", JP_TYPE_NUMBER, "t");
    add_field(&sc, "y", JP_TYPE_INT, NULL);
    add_field(&sc, "d", JP_TYPE_DATE, NULL);
    for (unsigned seed = 1; seed <= 12; seed++) {
        rng_state = seed * 104729;
        jp_buf_t b = JP_BUF_INIT;
        make_file(&b, 200 + rnd(800));
        const char *plain = unit_path("c.csv"), *gz = unit_path("c.csv.gz");
        FILE *f = fopen(plain, "wb");
        CHECK(f && fwrite(b.data, 1, b.len, f) == b.len);
        if (f) fclose(f);
        write_gz(gz, &b);

        jp_csv_tuning_t whole = {(size_t)64 << 20, (size_t)64 << 20, 0, 0, 1};
        jp_csv_set_tuning(&whole);
        outcome_t ref;
        read_file(plain, &sc, false, &ref);
        CHECK_MSG(ref.st == JP_OK, "seed %u: %s", seed, ref.what);
        /* the generator's list: every bad cell, in order, null in the data */
        CHECK_MSG(ref.ce.n == nwant && ref.ce.total == nwant, "seed %u: %zu errors, %zu made", seed,
                  ref.ce.n, nwant);
        for (size_t i = 0; ref.ds && i < ref.ce.n && i < nwant; i++) {
            const jp_cell_error_t *e = &ref.ce.v[i];
            const want_t *w = &wants[i];
            CHECK_MSG(e->row == w->row && e->line == w->line && strcmp(e->field, w->field) == 0,
                      "seed %u error %zu: row %ld line %ld %s, made row %ld line %ld %s", seed, i,
                      e->row, e->line, e->field, w->row, w->line, w->field);
            CHECK_MSG(e->code == JP_ERR_TYPE && e->col > 1 && strstr(e->msg, " is not "),
                      "seed %u: %s", seed, e->msg);
            long k = jp_dataset_find(ref.ds, e->field);
            CHECK(k >= 0 && jp_column_is_null(ref.ds->cols[k], (size_t)e->row - 1));
        }
        for (size_t t = 0; t < sizeof tunings / sizeof tunings[0]; t++) {
            jp_csv_set_tuning(&tunings[t]);
            for (int variant = 0; variant < 3; variant++) {
                outcome_t got;
                read_file(variant == 2 ? gz : plain, &sc, variant == 1, &got);
                char why[800] = "";
                CHECK_MSG(got.st == JP_OK, "seed %u tuning %zu variant %d: %s", seed, t, variant,
                          got.what);
                CHECK_MSG(same_errors(&ref.ce, &got.ce, why, sizeof why),
                          "seed %u tuning %zu variant %d: %s", seed, t, variant, why);
                CHECK_MSG(got.ds && !got.ds->lazy && ref.ds &&
                              jp_dataset_equal(ref.ds, got.ds, why, sizeof why),
                          "seed %u tuning %zu variant %d: %s", seed, t, variant, why);
                jp_dataset_unref(got.ds);
                jp_cell_errors_free(&got.ce);
            }
        }
        jp_csv_set_tuning(NULL);
        jp_dataset_unref(ref.ds);
        jp_cell_errors_free(&ref.ce);
        jp_buf_free(&b);
    }
    jp_schema_free(&sc);
}

/* Without cell_errors the first bad cell still stops the read, named. */
static void test_plain_read_stops(void)
{
    const char *doc = "a,v\nx,1\ny,twenty\nz,x3\n";
    jp_schema_t sc = JP_SCHEMA_INIT;
    add_field(&sc, "v", JP_TYPE_NUMBER, NULL);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &sc;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("m.csv", doc, strlen(doc), &o, &ds, &err) == JP_ERR_TYPE);
    CHECK(ds == NULL && err.line == 3 && err.col == 3 && err.row == 2);
    CHECK_STR(err.msg, "'twenty' is not a number");
    /* with it: both, and the read goes on; a broken record still stops it */
    jp_cell_errors_t ce = JP_CELL_ERRORS_INIT;
    o.cell_errors = &ce;
    CHECK(jp_csv_read_mem("m.csv", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    CHECK(ds && ds->nrows == 3 && ce.n == 2 && ce.total == 2);
    if (ce.n == 2) {
        CHECK(ce.v[1].line == 4 && ce.v[1].col == 3 && ce.v[1].row == 3);
        CHECK_STR(ce.v[1].msg, "'x3' is not a number");
        CHECK_STR(ce.v[1].field, "v");
    }
    jp_dataset_unref(ds);
    ds = NULL;
    jp_cell_errors_free(&ce);
    const char *broken = "a,v\nx,bad\ny,1,2\n";
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("m.csv", broken, strlen(broken), &o, &ds, &err) != JP_OK);
    CHECK(ds == NULL && err.line == 3);
    jp_cell_errors_free(&ce);
    /* invalid UTF-8 in a text cell is not a cell of the wrong type */
    const char utf[] = "a,v\n\xff,1\n";
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("m.csv", utf, strlen(utf), &o, &ds, &err) != JP_OK);
    CHECK(ds == NULL && strstr(err.msg, "UTF-8") != NULL);
    jp_cell_errors_free(&ce);
    jp_schema_free(&sc);
}

int main(void)
{
    if (unit_tmpdir("jp_test_csv_cells")) return 1;
    RUN(test_every_cell);
    RUN(test_plain_read_stops);
    unit_tmpdir_remove();
    return unit_done();
}
