/*
 * fuzz_yaml.c - the YAML dataset reader (src/core/jp_yaml.c) on any bytes.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal is an error value with a message, and no dataset;
 *  - what the reader accepts, the writer writes back (or refuses with
 *    JP_ERR_INVALID, its documented refusal), and reading that text gives
 *    an equal dataset: the YAML format round-trips;
 *  - reading a subset of the columns gives the same cells as reading all;
 *  - keeping bad cells aside (o->cell_errors) changes nothing in a document
 *    that reads cleanly, and where the plain read stopped at a bad cell it
 *    records at least one, each with a position and message;
 *  - one field definition parses or is refused cleanly;
 *  - an input whose first line is the YAML comment "#oom N" is read again
 *    with its N-th allocation failing: the read fails with JP_ERR_NOMEM (or
 *    as it failed anyway) and frees everything, or succeeds alike.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "jp_dataset.h"
#include "jp_mem.h"
#include "jp_yaml.h"

static void check_refusal(jp_status_t st, const jp_error_t *err, const jp_dataset_t *ds)
{
    FUZZ_ASSERT(ds == NULL, "a dataset came back with status %d", (int)st);
    FUZZ_ASSERT(err->code == st, "error code %d, status %d", (int)err->code, (int)st);
    FUZZ_ASSERT(err->msg[0] != '\0', "status %d without a message", (int)st);
}

static void round_trip(jp_dataset_t *ds)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_status_t st = jp_yaml_write_buf(ds, true, &b, &err);
    if (st) {
        FUZZ_ASSERT(st == JP_ERR_INVALID || st == JP_ERR_NOMEM,
                    "the writer failed with status %d: %s", (int)st, err.msg);
        jp_buf_free(&b);
        return;
    }
    jp_dataset_t *back = NULL;
    st = jp_yaml_read_mem("written.yaml", b.data, b.len, NULL, &back, &err);
    FUZZ_ASSERT(st == JP_OK, "what the writer wrote does not read back: %s (line %ld)\n%.*s",
                err.msg, err.line, (int)(b.len < 4000 ? b.len : 4000), b.data);
    char why[512] = "";
    FUZZ_ASSERT(jp_dataset_equal(ds, back, why, sizeof why), "read back differs: %s", why);
    jp_dataset_unref(back);
    jp_buf_free(&b);
}

/* The last field alone (with its unit field, when it has one). */
static void subset(const uint8_t *data, size_t size, jp_dataset_t *ds)
{
    size_t nf = ds->schema.n_fields;
    if (!nf) return;
    const jp_field_t *f = &ds->schema.fields[nf - 1];
    const char *names[2] = {f->name, f->unit_field};
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.columns = names;
    o.n_columns = f->unit_field ? 2 : 1;
    jp_dataset_t *part = NULL;
    jp_error_t err;
    jp_status_t st = jp_yaml_read_mem("fuzz.yaml", (const char *)data, size, &o, &part, &err);
    if (st) {
        FUZZ_ASSERT(st == JP_ERR_NOMEM, "all columns read but not the last: %s", err.msg);
        return;
    }
    FUZZ_ASSERT(part->nrows == ds->nrows, "%zu rows, %zu with all columns", part->nrows, ds->nrows);
    FUZZ_ASSERT(part->schema.n_fields == o.n_columns, "%zu fields", part->schema.n_fields);
    FUZZ_ASSERT(jp_column_equal(part->cols[0], ds->cols[nf - 1]), "the column differs");
    jp_dataset_unref(part);
}

static void cells_aside(const uint8_t *data, size_t size, jp_status_t plain, jp_dataset_t *ds)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_cell_errors_t ce = JP_CELL_ERRORS_INIT;
    o.cell_errors = &ce;
    jp_dataset_t *got = NULL;
    jp_error_t err;
    jp_status_t st = jp_yaml_read_mem("fuzz.yaml", (const char *)data, size, &o, &got, &err);
    if (plain == JP_OK) {
        char why[512] = "";
        FUZZ_ASSERT(st == JP_OK && ce.n == 0, "a clean document: status %d, %zu cell errors",
                    (int)st, ce.n);
        FUZZ_ASSERT(jp_dataset_equal(ds, got, why, sizeof why), "kept aside differs: %s", why);
    } else if (st == JP_OK) {
        FUZZ_ASSERT(plain == JP_ERR_TYPE || plain == JP_ERR_UNIT || plain == JP_ERR_RANGE,
                    "the plain read failed with %d, the one keeping cells aside did not",
                    (int)plain);
        FUZZ_ASSERT(ce.n > 0, "no cell error recorded");
        for (size_t i = 0; i < ce.n; i++)
            FUZZ_ASSERT(ce.v[i].line > 0 && ce.v[i].row > 0 && ce.v[i].msg[0],
                        "cell error %zu without a place", i);
        round_trip(got);
    } else {
        check_refusal(st, &err, got);
    }
    jp_dataset_unref(got);
    jp_cell_errors_free(&ce);
}

/* "#oom N" on the first line: N, else 0. */
static long oom_at(const uint8_t *data, size_t size)
{
    if (size < 6 || memcmp(data, "#oom ", 5) != 0) return 0;
    long n = 0;
    for (size_t i = 5; i < size && i < 12 && data[i] >= '0' && data[i] <= '9'; i++)
        n = n * 10 + (data[i] - '0');
    return n;
}

static void out_of_memory(const uint8_t *data, size_t size, long at, jp_status_t plain,
                          jp_dataset_t *ds)
{
    jp_dataset_t *got = NULL;
    jp_error_t err;
    jp_mem_fail_after(at, 0);
    jp_status_t st = jp_yaml_read_mem("fuzz.yaml", (const char *)data, size, NULL, &got, &err);
    jp_mem_fail_after(0, 0);
    if (st == JP_OK) {
        char why[512] = "";
        FUZZ_ASSERT(plain == JP_OK, "reads only when an allocation fails (plain: %d)", (int)plain);
        FUZZ_ASSERT(jp_dataset_equal(ds, got, why, sizeof why), "differs: %s", why);
    } else {
        FUZZ_ASSERT(st == JP_ERR_NOMEM || st == plain,
                    "allocation %ld failed, status %d (plain %d): %s", at, (int)st, (int)plain,
                    err.msg);
        check_refusal(st, &err, got);
    }
    jp_dataset_unref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_status_t st = jp_yaml_read_mem("fuzz.yaml", (const char *)data, size, NULL, &ds, &err);
    if (st) {
        check_refusal(st, &err, ds);
    } else {
        round_trip(ds);
        subset(data, size, ds);
    }
    cells_aside(data, size, st, ds);
    long at = oom_at(data, size);
    if (at > 0) out_of_memory(data, size, at, st, ds);
    jp_dataset_unref(ds);
    (void)jp_yaml_sniff(data, size);
    jp_field_t f;
    st = jp_yaml_parse_field("field.yaml", (const char *)data, size, &f, &err);
    if (st) FUZZ_ASSERT(err.msg[0] != '\0', "field refused without a message");
    jp_field_free(&f);
    return 0;
}
