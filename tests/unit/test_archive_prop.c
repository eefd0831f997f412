/*
 * test_archive_prop.c - the exporter's promise, as a property: for any
 * dataset it accepts, loading the archive gives the dataset back (every
 * cell, qualifier, field and piece of metadata) and the archive verifies;
 * what it refuses, it refuses with a message naming where.  Datasets are
 * random (a fixed seed; JP_PROP_RUNS and JP_PROP_SEED change the run) and
 * built from the awkward: invalid UTF-8, NULs, byte-order marks, line
 * separators, quotes, leading '=', NaN, -0.0, extreme integers and dates,
 * qualifiers, names that collide with the qualifier side columns.
 */
#include <math.h>
#include <stdint.h>
#include "archive_util.h"
#include "jp_archive.h"
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_format.h"
#include "unit.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return n ? (uint32_t)((rng >> 33) % n) : 0;
}

/* Pieces that make text awkward for one writer or reader or another. */
static const char *const bits[] = {"a",
                                   "Z",
                                   "0",
                                   "7",
                                   " ",
                                   ",",
                                   ";",
                                   "\"",
                                   "'",
                                   "\\",
                                   "\n",
                                   "\r",
                                   "\r\n",
                                   "\t",
                                   "=",
                                   "+",
                                   "-",
                                   "@",
                                   "#",
                                   ":",
                                   "~",
                                   ">",
                                   "<",
                                   ">=",
                                   "~1",
                                   "null",
                                   "NULL",
                                   "true",
                                   "NA",
                                   "",
                                   ".",
                                   "1e5",
                                   "0x1",
                                   "2022",
                                   "2022-08",
                                   "中",
                                   "亩",
                                   "万",
                                   "14.8万",
                                   "约",
                                   "余",
                                   "\xF0\x9F\x8D\x92", /* cherry */
                                   "\xEF\xBB\xBF",     /* U+FEFF */
                                   "\xE2\x80\xA8",     /* U+2028 */
                                   "\xC2\x85",         /* U+0085 */
                                   "\xC2\xA0",         /* NBSP */
                                   "\x01",
                                   "\x7F",
                                   "value",
                                   "value_qualifier",
                                   "_qualifier",
                                   "x"};
#define NBITS (sizeof bits / sizeof bits[0])
/* invalid UTF-8: a stray byte, a cut sequence, a surrogate, an overlong form */
static const char *const bad[] = {"\xFF", "\xC3", "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80"};

static void rand_text(jp_buf_t *b, int maxparts, bool allow_nul)
{
    jp_buf_reset(b);
    int n = (int)rnd((uint32_t)maxparts + 1);
    for (int i = 0; i < n; i++) {
        uint32_t k = rnd(400);
        if (allow_nul && k == 0)
            jp_buf_append(b, "\0", 1);
        else if (k == 1)
            jp_buf_puts(b, bad[rnd(sizeof bad / sizeof bad[0])]);
        else
            jp_buf_puts(b, bits[rnd(NBITS)]);
    }
    if (!b->data) jp_buf_puts(b, "");
}

static double rand_double(void)
{
    static const double pick[] = {0.0,      -0.0,   0.1,      1e300,    -1e-300, 5e-324,
                                  1.14e9,   148000, 2576.3,   1e22,     1e-7,    123456789.125,
                                  -2.5e-10, 3.0e15, INFINITY, -INFINITY};
    if (rnd(10) == 0) return NAN;
    if (rnd(3) == 0) return pick[rnd(sizeof pick / sizeof pick[0])];
    uint64_t u = ((uint64_t)rnd(1u << 31) << 33) ^ ((uint64_t)rnd(1u << 31) << 2) ^ rnd(4);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static const char *const periods[] = {"2022",    "2022-01..2022-08",   "cumulative",
                                      "..2021",  "last 5 years..2022", "2021-03",
                                      "2022-Q3", "2020..2022"};
static const char *const units[] = {NULL, "mu", "t", "CNY", "percent", "person", "firm", "USD"};

static jp_column_t *rand_column(jp_type_t t, size_t rows, jp_buf_t *tmpb)
{
    jp_column_t *c = jp_column_new(t, rows);
    for (size_t r = 0; r < rows; r++) {
        if (rnd(6) == 0) {
            jp_column_push_null(c);
            continue;
        }
        jp_qual_t q = rnd(3) == 0 ? (jp_qual_t)rnd(6) : JP_Q_EXACT;
        switch (t) {
        case JP_TYPE_INT: {
            static const int64_t pick[] = {
                0, -1, 1, INT64_MAX, INT64_MIN, 148000, 9007199254740993};
            int64_t v = rnd(2) ? pick[rnd(7)] : (int64_t)rnd(1u << 31) - (1 << 30);
            jp_column_push_int(c, v, q);
            break;
        }
        case JP_TYPE_NUMBER:
            jp_column_push_number(c, rand_double(), q);
            break;
        case JP_TYPE_STRING:
            rand_text(tmpb, 6, true);
            jp_column_push_str(c, tmpb->data, tmpb->len);
            break;
        case JP_TYPE_BOOL:
            jp_column_push_bool(c, rnd(2));
            break;
        case JP_TYPE_DATE: {
            static const int32_t pick[] = {0, -1, 19235, -719162, 2932896, 10957};
            jp_column_push_date(c, rnd(2) ? pick[rnd(6)] : (int32_t)rnd(80000) - 20000);
            break;
        }
        default: {
            jp_period_t p;
            const char *s = periods[rnd(sizeof periods / sizeof periods[0])];
            if (jp_period_parse(s, strlen(s), &p, NULL))
                jp_column_push_period(c, &p);
            else
                jp_column_push_null(c);
        }
        }
    }
    return c;
}

static jp_dataset_t *rand_dataset(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_buf_t b = JP_BUF_INIT;
    rand_text(&b, 3, false);
    jp_meta_set(&ds->meta.name, rnd(3) ? "d" : b.data);
    char **meta[] = {&ds->meta.title,       &ds->meta.description, &ds->meta.source,
                     &ds->meta.source_file, &ds->meta.period,      &ds->meta.license};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        if (rnd(2)) {
            rand_text(&b, 4, false);
            jp_meta_set(meta[i], b.data);
        }
    if (rnd(3) == 0) {
        rand_text(&b, 4, false);
        jp_meta_add_note(&ds->meta, b.data);
    }
    size_t rows = rnd(12), nf = 1 + rnd(5);
    for (size_t f = 0; f < nf; f++) {
        jp_type_t t = (jp_type_t)(JP_TYPE_INT + rnd(6));
        jp_column_t *c = rand_column(t, rows, &b);
        rand_text(&b, 3, false);
        if (rnd(2)) jp_buf_printf(&b, "f%zu", f); /* mostly plain names */
        const char *unit = jp_type_is_numeric(t) ? units[rnd(8)] : NULL;
        if (jp_dataset_add(ds, b.data, c, unit, NULL) != JP_OK) continue; /* a repeated name */
        jp_field_t *fd = &ds->schema.fields[ds->schema.n_fields - 1];
        if (rnd(4) == 0) {
            rand_text(&b, 3, false);
            jp_meta_set(&fd->description, b.data);
        }
        if (rnd(4) == 0) {
            rand_text(&b, 2, false);
            jp_meta_set(&fd->title, b.data);
        }
        /* constraints are carried, not checked, by an export */
        jp_constraints_t *k = &fd->constraints;
        k->required = rnd(5) == 0;
        k->unique = rnd(5) == 0;
        if (t == JP_TYPE_STRING && rnd(4) == 0) {
            k->min_length = (long)rnd(3);
            k->max_length = k->min_length + (long)rnd(20);
        }
        if (t == JP_TYPE_STRING && rnd(5) == 0) {
            rand_text(&b, 2, false);
            jp_buf_puts(&b, "[a-z]*");
            jp_meta_set(&k->pattern, b.data);
        }
        if (t == JP_TYPE_NUMBER && rnd(4) == 0) {
            k->has_minimum = true;
            k->minimum.type = JP_TYPE_NUMBER;
            k->minimum.u.d = rnd(2) ? -0.5 : 1e-300;
        }
        if (t == JP_TYPE_INT && rnd(4) == 0) {
            k->has_maximum = true;
            k->maximum.type = JP_TYPE_INT;
            k->maximum.u.i = rnd(2) ? INT64_MAX : -7;
        }
    }
    /* a per-row unit: a numeric field whose unit another (string) field names */
    long num = -1, str = -1;
    for (size_t f = 0; f < ds->schema.n_fields; f++) {
        if (num < 0 && jp_type_is_numeric(ds->cols[f]->type)) num = (long)f;
        if (str < 0 && ds->cols[f]->type == JP_TYPE_STRING) str = (long)f;
    }
    if (num >= 0 && str >= 0 && rnd(3) == 0) {
        jp_field_t *fd = &ds->schema.fields[num];
        jp_meta_set(&fd->unit, NULL);
        jp_meta_set(&fd->unit_field, ds->schema.fields[str].name);
    }
    if (ds->schema.n_fields && rnd(4) == 0) {
        ds->schema.primary_key = jp_calloc(1, sizeof(char *));
        ds->schema.primary_key[0] =
            jp_strdup(ds->schema.fields[rnd((uint32_t)ds->schema.n_fields)].name);
        ds->schema.n_primary_key = 1;
    }
    jp_buf_free(&b);
    return ds;
}

/* A refusal must say where: a field, a row, or the piece of metadata. */
static bool says_where(const jp_error_t *err)
{
    return err->field[0] || err->row > 0 || strstr(err->msg, "field") || strstr(err->msg, "name") ||
           strstr(err->msg, "title") || strstr(err->msg, "description") ||
           strstr(err->msg, "source") || strstr(err->msg, "period") ||
           strstr(err->msg, "license") || strstr(err->msg, "note");
}

static int accepted, refused;

static void one(int run)
{
    jp_dataset_t *ds = rand_dataset();
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    o.format = rnd(2) ? "csv" : "yaml";
    o.inline_qualifiers = rnd(3) == 0;
    o.threads = 1 + (int)rnd(2);
    const char *file = rnd(2) ? "p.tar" : "p.zip";
    jp_error_t err;
    jp_error_clear(&err);
    char msg[2048];
    jp_status_t st = jp_archive_export(tmp(file), &ds, 1, &o, &err);
    if (st) {
        refused++;
        if (getenv("JP_PROP_DEBUG"))
            printf("# refused: %s\n", jp_error_format(&err, msg, sizeof msg));
        CHECK_MSG(st != JP_ERR_NOMEM && st != JP_ERR_INTERNAL && says_where(&err),
                  "run %d (%s, %s): %s", run, o.format, file,
                  jp_error_format(&err, msg, sizeof msg));
        jp_dataset_unref(ds);
        return;
    }
    accepted++;
    jp_archive_t *a = NULL;
    st = jp_archive_open(tmp(file), NULL, &a, &err);
    CHECK_MSG(st == JP_OK, "run %d: open: %s", run, jp_error_format(&err, msg, sizeof msg));
    if (a) {
        jp_archive_problems_t p;
        CHECK(jp_archive_verify(a, &p, NULL) == JP_OK);
        CHECK_MSG(p.n == 0, "run %d (%s, %s): %s: %s", run, o.format, file, p.n ? p.v[0].entry : "",
                  p.n ? p.v[0].msg : "");
        jp_archive_problems_free(&p);
        jp_dataset_t *back = NULL;
        st = jp_archive_load(a, NULL, &back, &err);
        CHECK_MSG(st == JP_OK, "run %d (%s, %s, %s qualifiers): load: %s", run, o.format, file,
                  o.inline_qualifiers ? "inline" : "column",
                  jp_error_format(&err, msg, sizeof msg));
        if (st && getenv("JP_PROP_DEBUG"))
            for (size_t f = 0; f < ds->schema.n_fields; f++) {
                printf("#   field %zu:", f);
                for (const char *q = ds->schema.fields[f].name; *q; q++)
                    printf(" %02x", (unsigned char)*q);
                printf("\n");
            }
        char why[512] = "";
        if (back) {
            bool same = jp_dataset_equal(ds, back, why, sizeof why);
            CHECK_MSG(same, "run %d (%s, %s, %s qualifiers): not equal: %s", run, o.format, file,
                      o.inline_qualifiers ? "inline" : "column", why);
            jp_dataset_unref(back);
        }
        jp_archive_close(a);
    }
    jp_dataset_unref(ds);
}

/* ---- what the property found, kept as cases --------------------------------------- */

static jp_dataset_t *one_field(const char *dsname, const char *field, jp_type_t t)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, dsname);
    jp_dataset_add(ds, field, jp_column_new(t, 4), NULL, NULL);
    return ds;
}

static void push_text(jp_dataset_t *ds, const char *s, size_t n)
{
    jp_column_push_str(ds->cols[0], s, n);
    ds->nrows = ds->cols[0]->len;
}

static jp_status_t export_as(jp_dataset_t *ds, const char *format, bool inl, jp_error_t *err)
{
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    o.format = format;
    o.inline_qualifiers = inl;
    jp_error_clear(err);
    return jp_archive_export(tmp("f.tar"), &ds, 1, &o, err);
}

/* Exported, it comes back equal and the archive verifies. */
static void round_trips(int line, jp_dataset_t *ds, const char *format, bool inl)
{
    jp_error_t err;
    char msg[1400], why[512] = "";
    jp_status_t st = export_as(ds, format, inl, &err);
    CHECK_MSG(st == JP_OK, "line %d: %s", line, jp_error_format(&err, msg, sizeof msg));
    jp_archive_t *a = NULL;
    if (st || jp_archive_open(tmp("f.tar"), NULL, &a, &err)) return;
    jp_dataset_t *back = NULL;
    st = jp_archive_load(a, NULL, &back, &err);
    CHECK_MSG(st == JP_OK, "line %d: %s", line, jp_error_format(&err, msg, sizeof msg));
    CHECK_MSG(back && jp_dataset_equal(ds, back, why, sizeof why), "line %d: %s", line, why);
    if (back) jp_dataset_unref(back);
    jp_archive_close(a);
}

/* Refused before anything is written, saying where. */
static void refused_at(int line, jp_dataset_t *ds, bool inl, long row, const char *field,
                       const char *needle)
{
    for (int f = 0; f < 2; f++) {
        unlink(tmp("f.tar"));
        jp_error_t err;
        char msg[1400];
        jp_status_t st = export_as(ds, f ? "yaml" : "csv", inl && !f, &err);
        if (inl && f) continue; /* inline qualifiers are a CSV matter */
        jp_error_format(&err, msg, sizeof msg);
        CHECK_MSG(st == JP_ERR_INVALID, "line %d: %d %s", line, st, msg);
        CHECK_MSG(err.row == row && strcmp(err.field, field) == 0 && strstr(msg, needle),
                  "line %d: %s", line, msg);
        CHECK(access(tmp("f.tar"), F_OK) != 0);
    }
}

static void test_findings(void)
{
    jp_dataset_t *ds = one_field("d", "s", JP_TYPE_STRING);
    push_text(ds, "ok", 2);
    push_text(ds,
              "a\xFF"
              "b",
              3);
    refused_at(__LINE__, ds, false, 2, "s", "not valid UTF-8 at byte 2");
    jp_dataset_unref(ds);
    ds = one_field("d", "s", JP_TYPE_STRING);
    push_text(ds, "a\0b", 3);
    refused_at(__LINE__, ds, false, 1, "s", "NUL byte");
    jp_dataset_unref(ds);
    /* a byte-order mark starting a field name: the CSV reader drops it */
    ds = one_field("d", "\xEF\xBB\xBFx", JP_TYPE_STRING);
    push_text(ds, "v", 1);
    refused_at(__LINE__, ds, false, 0, "\xEF\xBB\xBFx", "U+FEFF");
    jp_dataset_unref(ds);
    /* metadata: named */
    ds = one_field("d", "s", JP_TYPE_STRING);
    jp_meta_set(&ds->meta.title, "bad \xC3");
    refused_at(__LINE__, ds, false, 0, "", "the title is not valid UTF-8");
    jp_dataset_unref(ds);
    ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "empty");
    refused_at(__LINE__, ds, false, 0, "", "no fields");
    jp_dataset_unref(ds);
    /* a tab in a field name: the reader must not take it for the delimiter */
    ds = one_field("d", "a\tb", JP_TYPE_STRING);
    push_text(ds, "v", 1);
    round_trips(__LINE__, ds, "csv", false);
    jp_dataset_unref(ds);
    /* NEL and LS are line breaks to YAML: in a manifest they must be escaped,
       in a file name they become '_' */
    ds = one_field("\xE2\x80\xA8"
                   "d",
                   "\xC2\x85x", JP_TYPE_NUMBER);
    jp_column_push_number(ds->cols[0], 1.5, JP_Q_APPROX);
    ds->nrows = 1;
    round_trips(__LINE__, ds, "csv", false);
    round_trips(__LINE__, ds, "yaml", false);
    jp_dataset_unref(ds);
    /* inline qualifiers read back as figures: only what a double holds */
    ds = one_field("d", "x", JP_TYPE_NUMBER);
    jp_column_push_number(ds->cols[0], 2.5, JP_Q_APPROX);
    jp_column_push_number(ds->cols[0], NAN, JP_Q_MORE_THAN);
    ds->nrows = 2;
    refused_at(__LINE__, ds, true, 2, "x", "qualified NaN");
    round_trips(__LINE__, ds, "csv", false); /* the side column holds it */
    jp_dataset_unref(ds);
    ds = one_field("d", "n", JP_TYPE_INT);
    jp_column_push_int(ds->cols[0], ((int64_t)1 << 53), JP_Q_AT_LEAST);
    ds->nrows = 1;
    round_trips(__LINE__, ds, "csv", true);
    jp_column_push_int(ds->cols[0], ((int64_t)1 << 53) + 1, JP_Q_AT_LEAST);
    ds->nrows = 2;
    refused_at(__LINE__, ds, true, 2, "n", "beyond 2^53");
    round_trips(__LINE__, ds, "csv", false);
    jp_dataset_unref(ds);
}

int main(void)
{
    if (tmp_setup("jp-archive-prop")) return 2;
    jp_formats_init();
    RUN(test_findings);
    const char *runs_s = getenv("JP_PROP_RUNS"), *seed_s = getenv("JP_PROP_SEED");
    int runs = runs_s ? atoi(runs_s) : 400;
    rng = seed_s ? strtoull(seed_s, NULL, 10) : 20220831;
    CASE("random datasets: accepted means loaded back equal, and verified")
    {
        for (int i = 0; i < runs; i++) one(i);
        printf("# %d accepted, %d refused\n", accepted, refused);
        CHECK(accepted > runs / 10); /* the generator is not all refusals */
    }
    tmp_cleanup();
    return unit_done();
}
