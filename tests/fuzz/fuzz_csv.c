/*
 * fuzz_csv.c - the CSV reader (src/core/jp_csv*.c) on any bytes, with and
 * without a schema, with every option.
 *
 * Input: byte 0 chooses options, byte 1 a schema and a column subset, the
 * rest is the CSV text (tests/fuzz/README.md):
 *   byte 0: bit 0 no header; bit 1 records set aside (rejects); bits 2-3
 *           delimiter (the reader's guess, ';', tab, '|'); bit 4 null = "NA";
 *           bit 5 read from a file, lazily when large enough; bit 6 write
 *           back with qualifiers; bit 7 fail an allocation (byte 1's high
 *           nibble says which)
 *   byte 1: bits 0-1 schema: none; first field integer and second number
 *           in t; first number, third date, fourth boolean; first string,
 *           second period.  bits 2-3 columns: all, the last, the first two
 *           swapped, the first.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal is an error value with a message and a place in the text,
 *    and no dataset;
 *  - every column has the dataset's row count and a type; set-aside records
 *    come as (line, text, reason) with the lines in order;
 *  - what the reader accepts, the writer writes, and reading that back with
 *    the dataset's own types gives an equal dataset (qualifiers too, when
 *    written);
 *  - a subset of the columns gives the same cells as reading all;
 *  - a failed allocation gives JP_ERR_NOMEM or the same answer, never a
 *    crash or a leak.
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "jp_csv.h"
#include "jp_mem.h"

typedef struct how {
    jp_read_opts_t o;
    bool via_file, qualifiers, oom;
    unsigned schema, subset, oom_at;
} how_t;

static void check_refusal(jp_status_t st, const jp_error_t *err, const jp_dataset_t *ds)
{
    FUZZ_ASSERT(ds == NULL, "a dataset came back with status %d", (int)st);
    FUZZ_ASSERT(err->code == st, "error code %d, status %d", (int)err->code, (int)st);
    FUZZ_ASSERT(err->msg[0] != '\0', "status %d without a message", (int)st);
    FUZZ_ASSERT(err->file[0] != '\0', "status %d without the file: %s", (int)st, err->msg);
    if (st == JP_ERR_PARSE || st == JP_ERR_TYPE)
        FUZZ_ASSERT(err->line > 0, "a parse or type error without a line: %s", err->msg);
}

static void check_shape(const jp_dataset_t *ds, const jp_dataset_t *rej)
{
    for (size_t k = 0; k < ds->schema.n_fields; k++) {
        FUZZ_ASSERT(ds->cols[k] && ds->cols[k]->len == ds->nrows, "column %zu: %zu rows of %zu", k,
                    ds->cols[k] ? ds->cols[k]->len : 0, ds->nrows);
        FUZZ_ASSERT(ds->cols[k]->type == ds->schema.fields[k].type, "field %zu: type mismatch", k);
        FUZZ_ASSERT(ds->schema.fields[k].type != JP_TYPE_NONE, "field %zu has no type", k);
    }
    if (ds->lines) FUZZ_ASSERT(ds->lines->len == ds->nrows, "a line per row");
    for (size_t r = 1; ds->lines && r < ds->nrows; r++)
        FUZZ_ASSERT(ds->lines->v.i[r] > ds->lines->v.i[r - 1], "row lines in order");
    if (!rej) return;
    FUZZ_ASSERT(rej->schema.n_fields == 3, "rejects: line, text, reason");
    const jp_column_t *l = rej->cols[0];
    for (size_t r = 1; r < rej->nrows; r++)
        FUZZ_ASSERT(l->v.i[r] > l->v.i[r - 1], "set-aside lines in order");
}

/* Read `text` as the options say; the path, when via a file, is removed. */
static jp_status_t read_text(const char *text, size_t n, const jp_read_opts_t *o, bool via_file,
                             jp_dataset_t **out, jp_error_t *err)
{
    jp_error_clear(err);
    *out = NULL;
    if (!via_file) return jp_csv_read_mem("fuzz.csv", text, n, o, out, err);
    char path[64];
    snprintf(path, sizeof path, "%s/fuzz-csv-%d.csv", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return jp_csv_read_mem("fuzz.csv", text, n, o, out, err);
    fwrite(text, 1, n, f);
    fclose(f);
    jp_status_t st = jp_csv_read(path, o, out, err);
    if (!st) st = jp_dataset_need_all(*out, err); /* before the file goes */
    if (st) {
        jp_dataset_unref(*out);
        *out = NULL;
    }
    unlink(path);
    return st;
}

/* Write ds, read it back with its own types: the same dataset. */
static void round_trip(jp_dataset_t *ds, const how_t *h)
{
    jp_write_opts_t w;
    jp_write_opts_init(&w);
    w.qualifiers = h->qualifiers;
    if (h->o.delimiter && jp_csv_delim_writable(h->o.delimiter)) w.delimiter = h->o.delimiter;
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_csv_write_mem(ds, &w, &b, &err);
    FUZZ_ASSERT(st == JP_OK || st == JP_ERR_NOMEM, "the writer failed: %s", err.msg);
    if (st) {
        jp_buf_free(&b);
        return;
    }
    bool quals = false;
    for (size_t k = 0; k < ds->schema.n_fields; k++) quals |= ds->cols[k]->quals != NULL;
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.delimiter = w.delimiter ? w.delimiter : ',';
    o.schema = &ds->schema;
    o.name = ds->meta.name;
    jp_dataset_t *back = NULL;
    st = jp_csv_read_mem("written.csv", b.data ? b.data : "", b.len, &o, &back, &err);
    FUZZ_ASSERT(st == JP_OK, "what the writer wrote does not read back: %s (line %ld)\n%.*s",
                err.msg, err.line, (int)(b.len < 3000 ? b.len : 3000), b.data ? b.data : "");
    if (!quals || h->qualifiers) {
        char why[512] = "";
        FUZZ_ASSERT(jp_dataset_equal(ds, back, why, sizeof why), "read back differs: %s\n%.*s", why,
                    (int)(b.len < 3000 ? b.len : 3000), b.data ? b.data : "");
    }
    jp_dataset_unref(back);
    jp_buf_free(&b);
}

/* The schema byte 1 asks for, over the fields ds has. */
static void make_schema(const jp_dataset_t *ds, unsigned which, jp_schema_t *sc)
{
    static const struct {
        unsigned field;
        jp_type_t type;
        const char *unit;
    } specs[4][3] = {
        {{0, JP_TYPE_NONE, NULL}},
        {{0, JP_TYPE_INT, NULL}, {1, JP_TYPE_NUMBER, "t"}},
        {{0, JP_TYPE_NUMBER, NULL}, {2, JP_TYPE_DATE, NULL}, {3, JP_TYPE_BOOL, NULL}},
        {{0, JP_TYPE_STRING, NULL}, {1, JP_TYPE_PERIOD, NULL}},
    };
    memset(sc, 0, sizeof *sc);
    for (size_t i = 0; i < 3; i++) {
        if (specs[which][i].type == JP_TYPE_NONE || specs[which][i].field >= ds->schema.n_fields)
            continue;
        jp_field_t f;
        jp_field_init(&f);
        f.name = ds->schema.fields[specs[which][i].field].name;
        f.type = specs[which][i].type;
        f.unit = (char *)specs[which][i].unit;
        jp_error_t err;
        jp_schema_add(sc, &f, &err); /* copies the field */
    }
}

/* Read again with a schema and a subset; the cells of a subset read equal
 * those of the same read with every column. */
static void typed_reads(const char *text, size_t n, jp_dataset_t *plain, const how_t *h)
{
    jp_schema_t sc;
    make_schema(plain, h->schema, &sc);
    jp_read_opts_t o = h->o;
    o.schema = sc.n_fields ? &sc : NULL;
    jp_dataset_t *all = NULL, *rej = NULL;
    o.rejects = o.keep_rejects ? &rej : NULL;
    jp_error_t err;
    jp_status_t st = read_text(text, n, &o, h->via_file, &all, &err);
    if (st) {
        check_refusal(st, &err, all);
        FUZZ_ASSERT(o.schema, "a read without a schema failed the second time: %s", err.msg);
    } else {
        check_shape(all, rej);
        round_trip(all, h);
    }
    jp_dataset_unref(rej);
    size_t nf = plain->schema.n_fields;
    const char *names[2];
    size_t nn = 0;
    if (nf && h->subset == 1) names[nn++] = plain->schema.fields[nf - 1].name;
    if (nf >= 2 && h->subset == 2) {
        names[nn++] = plain->schema.fields[1].name;
        names[nn++] = plain->schema.fields[0].name;
    }
    if (nf && h->subset == 3) names[nn++] = plain->schema.fields[0].name;
    if (nn && all) {
        o.columns = names;
        o.n_columns = nn;
        o.rejects = NULL;
        o.keep_rejects = false;
        jp_dataset_t *part = NULL;
        st = read_text(text, n, &o, h->via_file, &part, &err);
        /* a subset never fails where all columns read (set-aside records
           would differ: compared without them) */
        if (!h->o.keep_rejects) {
            FUZZ_ASSERT(st == JP_OK, "all columns read, not a subset: %s", err.msg);
            FUZZ_ASSERT(part->nrows == all->nrows, "%zu rows, %zu with all", part->nrows,
                        all->nrows);
            for (size_t k = 0; k < nn; k++) {
                long c = jp_dataset_find(all, names[k]);
                FUZZ_ASSERT(c >= 0 && jp_column_equal(part->cols[k], all->cols[c]),
                            "column '%s' differs when read alone", names[k]);
            }
        } else if (st) {
            check_refusal(st, &err, part);
        }
        jp_dataset_unref(part);
    }
    jp_dataset_unref(all);
    jp_schema_free(&sc);
}

static void out_of_memory(const char *text, size_t n, const how_t *h, jp_status_t plain,
                          jp_dataset_t *ds)
{
    jp_dataset_t *got = NULL, *rej = NULL;
    jp_read_opts_t o = h->o;
    o.rejects = o.keep_rejects ? &rej : NULL;
    jp_error_t err;
    jp_mem_fail_after(h->oom_at, 0);
    jp_status_t st = read_text(text, n, &o, false, &got, &err);
    jp_mem_fail_after(0, 0);
    if (st == JP_OK) {
        char why[512] = "";
        FUZZ_ASSERT(plain == JP_OK, "reads only when an allocation fails (plain: %d)", (int)plain);
        FUZZ_ASSERT(jp_dataset_equal(ds, got, why, sizeof why), "differs: %s", why);
    } else {
        FUZZ_ASSERT(st == JP_ERR_NOMEM || st == plain,
                    "allocation %u failed: status %d (plain %d): %s", h->oom_at, (int)st,
                    (int)plain, err.msg);
        check_refusal(st, &err, got);
    }
    jp_dataset_unref(got);
    jp_dataset_unref(rej);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    how_t h;
    memset(&h, 0, sizeof h);
    jp_read_opts_init(&h.o);
    unsigned a = data[0], b = data[1];
    static const char delims[4] = {0, ';', '\t', '|'};
    h.o.name = "fuzz"; /* the same from memory and from a file */
    h.o.header = !(a & 1);
    h.o.keep_rejects = (a & 2) != 0;
    h.o.delimiter = delims[(a >> 2) & 3];
    h.o.null_text = (a & 16) ? "NA" : NULL;
    h.via_file = (a & 32) != 0;
    h.o.lazy = h.via_file;
    h.qualifiers = (a & 64) != 0;
    h.oom = (a & 128) != 0;
    h.schema = b & 3;
    h.subset = (b >> 2) & 3;
    h.oom_at = 1 + (b >> 4) * 3;
    const char *text = (const char *)data + 2;
    size_t n = size - 2;
    /* small batches and chunks so that short inputs still cross them */
    jp_csv_tuning_t t = {256, 64, 0, 512, 2};
    jp_csv_set_tuning(&t);
    jp_dataset_t *ds = NULL, *rej = NULL;
    jp_read_opts_t o = h.o;
    o.rejects = o.keep_rejects ? &rej : NULL;
    jp_error_t err;
    jp_status_t st = read_text(text, n, &o, h.via_file, &ds, &err);
    if (st) {
        check_refusal(st, &err, ds);
        FUZZ_ASSERT(rej == NULL, "set-aside records without a dataset");
    } else {
        check_shape(ds, rej);
        round_trip(ds, &h);
        typed_reads(text, n, ds, &h);
    }
    if (h.oom) out_of_memory(text, n, &h, st, ds);
    jp_dataset_unref(ds);
    jp_dataset_unref(rej);
    jp_csv_set_tuning(NULL);
    return 0;
}
