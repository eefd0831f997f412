/*
 * fuzz_csv_diff.c - the CSV reader read two ways, which must agree.
 *
 * Input: byte 0 chooses how the second read cuts the text (chunk size 1 to
 * 64 bytes, batch size 16 to 1024, 1 to 4 threads), byte 1 options (bit 0
 * records set aside, bit 1 no header, bit 2 a ';' delimiter, bit 3 also
 * compare a profile and a lazy read of a file), the rest is the CSV text.
 *
 * Properties:
 *  - read whole on one thread, and cut into chunks and batches on several:
 *    the same dataset (cells, types, row lines, set-aside records), or the
 *    same first error (code, message, line, column, row, field);
 *  - read -> write -> read gives the same dataset, cut either way;
 *  - a profile of the file (jinpu info's view) gives the types, row count
 *    and null counts of the read, or its error; a lazy read of the file
 *    gives the same dataset as the eager one.
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "jp_csv.h"

typedef struct outcome {
    jp_status_t st;
    jp_error_t err;
    jp_dataset_t *ds, *rej;
} outcome_t;

static void read_mem(const char *text, size_t n, const jp_read_opts_t *base,
                     const jp_csv_tuning_t *t, outcome_t *out)
{
    memset(out, 0, sizeof *out);
    jp_read_opts_t o = *base;
    o.rejects = o.keep_rejects ? &out->rej : NULL;
    jp_error_clear(&out->err);
    jp_csv_set_tuning(t);
    out->st = jp_csv_read_mem("fuzz.csv", text, n, &o, &out->ds, &out->err);
    jp_csv_set_tuning(NULL);
}

static void outcome_free(outcome_t *o)
{
    jp_dataset_unref(o->ds);
    jp_dataset_unref(o->rej);
}

static void same(const outcome_t *a, const outcome_t *b, const char *what)
{
    FUZZ_ASSERT(a->st == b->st, "%s: status %d vs %d (%s | %s)", what, (int)a->st, (int)b->st,
                a->err.msg, b->err.msg);
    if (a->st) {
        FUZZ_ASSERT(strcmp(a->err.msg, b->err.msg) == 0 && a->err.line == b->err.line &&
                        a->err.col == b->err.col && a->err.row == b->err.row &&
                        strcmp(a->err.field, b->err.field) == 0,
                    "%s: a different first error:\n  %ld:%ld row %ld '%s' %s\n  %ld:%ld row %ld "
                    "'%s' %s",
                    what, a->err.line, a->err.col, a->err.row, a->err.field, a->err.msg,
                    b->err.line, b->err.col, b->err.row, b->err.field, b->err.msg);
        return;
    }
    char why[512] = "";
    FUZZ_ASSERT(jp_dataset_equal(a->ds, b->ds, why, sizeof why), "%s: %s", what, why);
    FUZZ_ASSERT((a->ds->lines == NULL) == (b->ds->lines == NULL) &&
                    a->ds->first_line == b->ds->first_line,
                "%s: row lines kept differently", what);
    if (a->ds->lines)
        FUZZ_ASSERT(jp_column_equal(a->ds->lines, b->ds->lines), "%s: row lines differ", what);
    if (a->rej || b->rej)
        FUZZ_ASSERT(a->rej && b->rej && jp_dataset_equal(a->rej, b->rej, why, sizeof why),
                    "%s: set-aside records differ: %s", what, why);
}

/* Write the dataset and read it back, whole and cut: equal to it. */
static void round_trip(const outcome_t *a, char delim, const jp_csv_tuning_t *cut)
{
    jp_write_opts_t w;
    jp_write_opts_init(&w);
    w.delimiter = delim;
    w.qualifiers = true;
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_csv_write_mem(a->ds, &w, &b, &err);
    FUZZ_ASSERT(st == JP_OK, "the writer failed: %s", err.msg);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.delimiter = delim;
    o.name = a->ds->meta.name;
    o.schema = &a->ds->schema;
    jp_csv_tuning_t whole = {b.len + 64, b.len + 64, 0, 0, 1};
    for (int k = 0; k < 2; k++) {
        outcome_t back;
        read_mem(b.data ? b.data : "", b.len, &o, k ? cut : &whole, &back);
        FUZZ_ASSERT(back.st == JP_OK, "written text does not read back: %s line %ld\n%.*s",
                    back.err.msg, back.err.line, (int)(b.len < 2000 ? b.len : 2000),
                    b.data ? b.data : "");
        char why[512] = "";
        FUZZ_ASSERT(jp_dataset_equal(a->ds, back.ds, why, sizeof why),
                    "read -> write -> read differs: %s", why);
        outcome_free(&back);
    }
    jp_buf_free(&b);
}

/* The same text as a file: a profile, and a lazy read. */
static void as_file(const char *text, size_t n, const jp_read_opts_t *base, const outcome_t *a,
                    const jp_csv_tuning_t *cut)
{
    char path[64];
    snprintf(path, sizeof path, "%s/fuzz-csv-diff-%d.csv",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, n, f);
    fclose(f);
    if (!base->keep_rejects) {
        jp_csv_set_tuning(cut);
        jp_csv_profile_t pr;
        jp_error_t err;
        jp_error_clear(&err);
        jp_status_t st = jp_csv_profile(path, base, 2, 3, &pr, &err);
        jp_csv_set_tuning(NULL);
        /* the profile names the file, not "fuzz.csv": compare the message */
        FUZZ_ASSERT((st == JP_OK) == (a->st == JP_OK), "profile %d, read %d: %s | %s", (int)st,
                    (int)a->st, err.msg, a->err.msg);
        if (st) /* messages may name the file: compare the rest */
            FUZZ_ASSERT(st == a->st && err.line == a->err.line && err.col == a->err.col &&
                            err.row == a->err.row,
                        "profile error '%s' line %ld, read '%s' line %ld", err.msg, err.line,
                        a->err.msg, a->err.line);
        else {
            FUZZ_ASSERT(pr.nrows == a->ds->nrows, "profile %zu rows, read %zu", pr.nrows,
                        a->ds->nrows);
            for (size_t k = 0; k < pr.nfields; k++) {
                const jp_column_t *c = a->ds->cols[k];
                size_t nulls = 0;
                for (size_t r = 0; c->nulls && r < c->len; r++) nulls += c->nulls[r] != 0;
                FUZZ_ASSERT(pr.fields[k].type == c->type, "field %zu: profile %s, read %s", k,
                            jp_type_name(pr.fields[k].type), jp_type_name(c->type));
                FUZZ_ASSERT(pr.fields[k].nulls == nulls, "field %zu: %zu nulls, read %zu", k,
                            pr.fields[k].nulls, nulls);
                if (pr.fields[k].text_row)
                    FUZZ_ASSERT(c->type == JP_TYPE_STRING && pr.fields[k].text_line > 0 &&
                                    pr.fields[k].text_cell,
                                "field %zu: a culprit for a %s column", k, jp_type_name(c->type));
            }
        }
        jp_csv_profile_free(&pr);
    }
    if (!a->st) {
        jp_read_opts_t o = *base;
        jp_dataset_t *lazy = NULL, *rej = NULL;
        o.lazy = true;
        o.rejects = o.keep_rejects ? &rej : NULL;
        o.name = a->ds->meta.name;
        jp_csv_tuning_t t = *cut;
        t.lazy_bytes = 1;
        jp_csv_set_tuning(&t);
        jp_error_t err;
        jp_error_clear(&err);
        jp_status_t st = jp_csv_read(path, &o, &lazy, &err);
        if (!st) st = jp_dataset_need_all(lazy, &err);
        jp_csv_set_tuning(NULL);
        FUZZ_ASSERT(st == JP_OK, "a lazy read failed where the eager one did not: %s", err.msg);
        char why[512] = "";
        FUZZ_ASSERT(jp_dataset_equal(a->ds, lazy, why, sizeof why), "lazy differs: %s", why);
        jp_dataset_unref(lazy);
        jp_dataset_unref(rej);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    unsigned a = data[0], b = data[1];
    /* whole: one batch, one chunk, one thread */
    jp_csv_tuning_t whole = {size + 64, size + 64, 0, 0, 1};
    jp_csv_tuning_t cut = {16 + (a >> 2) * 16, 1 + (a & 63), 0, 0, 1 + (int)(a >> 6)};
    if (cut.batch_bytes > 1024) cut.batch_bytes = 1024;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.keep_rejects = (b & 1) != 0;
    o.header = !(b & 2);
    o.delimiter = (b & 4) ? ';' : 0;
    const char *text = (const char *)data + 2;
    size_t n = size - 2;
    outcome_t x, y;
    read_mem(text, n, &o, &whole, &x);
    read_mem(text, n, &o, &cut, &y);
    same(&x, &y, "whole vs cut");
    if (!x.st) round_trip(&x, (b & 4) ? ';' : ',', &cut);
    if (b & 8) as_file(text, n, &o, &x, &cut);
    outcome_free(&x);
    outcome_free(&y);
    return 0;
}
