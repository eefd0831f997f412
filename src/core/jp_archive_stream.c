/*
 * jp_archive_stream.c - a dataset's CSV data entry, written a batch at a
 * time: the rows come from the dataset's lazy plan when it can stream them
 * (a CSV file read as it is written: memory holds one batch, never the
 * file's columns nor the entry's text), else from its columns in slices;
 * each batch is checked (what the readers would not give back is refused,
 * with the row counted from the whole) and formatted by the CSV writer.
 * The bytes are those of formatting the whole dataset at once; the
 * qualifier side columns are named and made by the CSV writer
 * (jp_csv_qualifier_columns_for), the same in every batch.  Never holds
 * more than a batch.
 */
#include <stdio.h>
#include <string.h>
#include "jp_archive_int.h"
#include "jp_csv.h"
#include "jp_format.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_yaml.h"

/* Rows per slice of a dataset that is already in memory. */
#define SLICE_ROWS ((size_t)1 << 18)

typedef struct sctx {
    jp_dataset_t *ds;
    const jp_export_opts_t *o;
    bool *quals;
    jp_arc_sidecols_t *side;
    jp_write_opts_t wo;
    bool unit_fields; /* some field's unit is in another field: check each batch's units */
    bool begun;
    jp_buf_t head, text;
    jp_arc_put_fn put;
    void *ctx;
} sctx_t;

void jp_arc_sidecols_free(jp_arc_sidecols_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        jp_free(s->field[i]);
        jp_free(s->column[i]);
    }
    jp_free(s->field);
    jp_free(s->column);
    memset(s, 0, sizeof *s);
}

/* The batch as the CSV writer sees it: the fields, then the qualifier side
 * columns of the fields qualified anywhere in the dataset, named and made
 * by the CSV writer's rule (jp_csv_qualifier_columns_for). */
static jp_status_t with_side_columns(sctx_t *s, jp_dataset_t *b, jp_dataset_t **out,
                                     jp_error_t *err)
{
    if (!s->o->inline_qualifiers) return jp_csv_qualifier_columns_for(b, s->quals, out, NULL, err);
    *out = jp_dataset_ref(b);
    return JP_OK;
}

/* For the manifest: which side column of x (a batch with its side columns)
 * holds which field's qualifiers. */
static jp_status_t note_side_columns(sctx_t *s, const jp_dataset_t *x, jp_error_t *err)
{
    jp_arc_sidecols_t *sd = s->side;
    size_t nf = s->ds->schema.n_fields, nq = x->schema.n_fields - nf;
    if (!nq) return JP_OK;
    sd->field = jp_calloc(nq, sizeof *sd->field);
    sd->column = jp_calloc(nq, sizeof *sd->column);
    if (!sd->field || !sd->column) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nf && sd->n < nq; i++) {
        if (!s->quals[i] || !jp_type_is_numeric(x->cols[i]->type)) continue;
        size_t k = sd->n++;
        sd->field[k] = jp_strdup(x->schema.fields[i].name);
        sd->column[k] = jp_strdup(x->schema.fields[nf + k].name);
        if (!sd->field[k] || !sd->column[k])
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    return JP_OK;
}

/* A dataset of rows [row0, row0 + n) from columns of every field. */
static jp_dataset_t *batch_of(sctx_t *s, size_t n, jp_column_t *const *cols, jp_error_t *err)
{
    jp_dataset_t *b = jp_dataset_new_like(s->ds, true, err);
    if (!b) return NULL;
    for (size_t f = 0; f < s->ds->schema.n_fields; f++) b->cols[f] = jp_column_ref(cols[f]);
    b->nrows = n;
    return b;
}

/* ds with no rows: its fields, each with an empty column of its type
 * (asks for no column of a lazy ds). */
static jp_dataset_t *no_rows(const jp_dataset_t *ds, jp_error_t *err)
{
    jp_dataset_t *z = jp_dataset_new_like(ds, true, err);
    if (!z) return NULL;
    for (size_t f = 0; f < ds->schema.n_fields; f++)
        if (!(z->cols[f] = jp_column_new(ds->schema.fields[f].type, 1))) {
            jp_dataset_unref(z);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            return NULL;
        }
    return z;
}

/* Before the first row: the side columns and the header line. */
static jp_status_t begin(sctx_t *s, jp_error_t *err)
{
    s->begun = true;
    jp_dataset_t *b = no_rows(s->ds, err);
    jp_status_t st = b ? JP_OK : err ? err->code : JP_ERR_NOMEM;
    /* the CSV of no rows is the header alone */
    jp_dataset_t *x = NULL;
    if (!st) st = with_side_columns(s, b, &x, err);
    if (!st) st = note_side_columns(s, x, err);
    if (!st) st = jp_csv_write_mem(x, &s->wo, &s->head, err);
    if (x) jp_dataset_unref(x);
    if (b) jp_dataset_unref(b);
    if (!st) st = s->put(s->ctx, s->head.data, s->head.len, err);
    return st;
}

static jp_status_t on_batch(void *ctx, size_t row0, size_t n, jp_column_t *const *cols,
                            jp_error_t *err)
{
    sctx_t *s = ctx;
    if (jp_stop_pending()) return jp_stop_check(err);
    jp_status_t st = s->begun ? JP_OK : begin(s, err);
    if (st) return st;
    jp_dataset_t *b = batch_of(s, n, cols, err);
    if (!b) return err ? err->code : JP_ERR_NOMEM;
    st = jp_arc_cells_check(b, row0, err);
    if (!st && s->o->inline_qualifiers) st = jp_arc_inline_check(b, row0, err);
    if (!st && s->unit_fields) {
        /* the schema writer holds the per-row units to what the readers know */
        jp_buf_t y = JP_BUF_INIT;
        st = jp_yaml_write_buf(b, false, &y, err);
        jp_buf_free(&y);
        if (st && err && err->row) err->row += (long)row0;
    }
    jp_dataset_t *x = NULL;
    if (!st) st = with_side_columns(s, b, &x, err);
    jp_dataset_unref(b);
    jp_buf_reset(&s->text);
    if (!st) st = jp_csv_write_mem(x, &s->wo, &s->text, err);
    if (x) jp_dataset_unref(x);
    if (st) return st;
    if (s->text.len < s->head.len || memcmp(s->text.data, s->head.data, s->head.len) != 0)
        return jp_error_set(err, JP_ERR_INTERNAL, "the CSV header changed between batches");
    return s->put(s->ctx, s->text.data + s->head.len, s->text.len - s->head.len, err);
}

/* A dataset in memory, in slices (copies of a slice's rows). */
static jp_status_t slices(sctx_t *s, jp_error_t *err)
{
    jp_dataset_t *ds = s->ds;
    jp_status_t st = jp_dataset_need_all(ds, err);
    if (st) return st;
    size_t nf = ds->schema.n_fields;
    for (size_t f = 0; f < nf; f++) s->quals[f] = jp_column_has_quals(ds->cols[f]);
    jp_column_t **cols = jp_calloc(nf ? nf : 1, sizeof *cols);
    if (!cols) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < ds->nrows && !st; r += SLICE_ROWS) {
        size_t m = ds->nrows - r < SLICE_ROWS ? ds->nrows - r : SLICE_ROWS;
        for (size_t f = 0; f < nf && !st; f++)
            if (!(cols[f] = jp_column_slice(ds->cols[f], r, m)))
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        if (!st) st = on_batch(s, r, m, cols, err);
        for (size_t f = 0; f < nf; f++) {
            if (cols[f]) jp_column_unref(cols[f]);
            cols[f] = NULL;
        }
    }
    jp_free(cols);
    return st;
}

jp_status_t jp_arc_stream_csv(jp_dataset_t *ds, const jp_export_opts_t *o, jp_arc_sidecols_t *side,
                              jp_arc_put_fn put, void *ctx, jp_error_t *err)
{
    sctx_t s;
    memset(&s, 0, sizeof s);
    s.ds = ds;
    s.o = o;
    s.side = side;
    s.put = put;
    s.ctx = ctx;
    jp_write_opts_init(&s.wo);
    s.wo.format = "csv";
    s.wo.delimiter = ',';
    s.wo.threads = o->threads;
    s.wo.spreadsheet_safe = o->spreadsheet_safe;
    s.wo.qualifiers = o->inline_qualifiers;
    for (size_t f = 0; f < ds->schema.n_fields; f++)
        s.unit_fields |= !!ds->schema.fields[f].unit_field;
    s.quals = jp_calloc(ds->schema.n_fields ? ds->schema.n_fields : 1, sizeof *s.quals);
    if (!s.quals) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st;
    if (ds->lazy && ds->lazy->ops->stream)
        st = ds->lazy->ops->stream(ds, s.quals, on_batch, &s, err);
    else
        st = slices(&s, err);
    if (!st && !s.begun) st = begin(&s, err); /* no rows: the header alone */
    jp_buf_free(&s.head);
    jp_buf_free(&s.text);
    jp_free(s.quals);
    return st;
}

jp_status_t jp_arc_schema_text(jp_dataset_t *ds, jp_buf_t *out, jp_error_t *err)
{
    if (!ds->lazy) return jp_yaml_write_buf(ds, false, out, err);
    /* a streamed dataset: the schema of no rows is the same text, and asks
       for no column */
    jp_dataset_t *z = no_rows(ds, err);
    if (!z) return err ? err->code : JP_ERR_NOMEM;
    jp_status_t st = jp_yaml_write_buf(z, false, out, err);
    jp_dataset_unref(z);
    return st;
}
