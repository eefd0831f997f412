/*
 * jp_csv.h - the CSV engine: RFC 4180 reading with whole-column type
 * inference, parallel parsing and lazy column loading; RFC 4180 writing,
 * plain or gzip-compressed in parallel.
 *
 * Ownership: readers return a new dataset with one reference owned by the
 * caller (and, with keep_rejects, a second dataset of set-aside records in
 * *o->rejects, also owned by the caller).  A lazy dataset keeps the path
 * (never an open file) and re-reads the file when columns are asked for.
 * Writers never modify the dataset (they load a lazy one's columns).
 *
 * Reading rules (the user-facing summary is in docs/csv.md):
 *
 *  - Records: RFC 4180.  Fields may be quoted with '"'; inside quotes a
 *    doubled quote is a quote and delimiters, CR and LF are data.  Records
 *    end at LF or CRLF; the last one may lack its line end.  A UTF-8 BOM is
 *    skipped.  CR alone is not a line end.  With more than one column an
 *    empty line is skipped; with one column it is a null cell.
 *  - Refused (an error naming file:line:column, or the record set aside
 *    with keep_rejects): a record whose field count differs from the
 *    header's, an unterminated quoted field, a quote inside an unquoted
 *    field, text after a closing quote, a NUL byte anywhere (UTF-16 and
 *    binary files), and invalid UTF-8 in a text cell or the header.  A set
 *    aside record spans from its start to the end of the line holding the
 *    fault (or to the record's end, for a wrong field count); reading goes
 *    on after it.  Columns are counted in characters from 1.
 *  - Header: the first record names the fields (o->header == false: the
 *    fields are column1, column2, ...).  An empty or repeated name is an
 *    error naming the column.  With no delimiter option, ".tsv" means tab
 *    and otherwise ',' unless the header line holds no ',' but a ';' or a
 *    tab, which is then taken.
 *  - Nulls: an empty unquoted cell, and any cell equal to o->null_text or
 *    one of o->null_list.  Without either, the missing-value markers of
 *    jp_csv_is_marker (— - … / NA ...) are nulls where the column is typed
 *    (inferred or explicit) and text where it is text.  A quoted empty
 *    cell ("") is an empty string in a text column and a null in a typed
 *    one.
 *  - Inference, over the whole column (the type is the narrowest that
 *    holds every non-null cell exactly, else string):
 *      integer  -?(0|[1-9][0-9]*) within int64.  Leading zeros (007), a
 *               '+' or "-0" make the column text.
 *      number   decimals and exponents (1.5, -.5, 2., 1e-3), correctly
 *               rounded; also nan/inf/-inf (NaN, Inf, -Inf) when the
 *               column holds at least one real number.  Integers mix in.
 *               An integer beyond int64 counts as a number only when the
 *               double holds it exactly; an int64 that a double cannot
 *               hold (|v| > 2^53, not representable) keeps its column
 *               integer when no decimals are present, text otherwise.
 *      boolean  true / false (lower case).
 *      date     YYYY-MM-DD, a valid calendar date.
 *      string   anything else, and a column with no non-null cell.
 *    Cells are not trimmed: " 12" is text.
 *  - An explicit o->schema names some or all fields: its type, unit,
 *    title and description are taken as given and the others inferred.
 *    Typed cells are trimmed of spaces; integer and number cells accept
 *    '+', leading zeros, thousands separators, magnitude words (14.8万,
 *    2576.3亿, 1.2k), qualifiers (约, >, ~, 以上, ...) and a unit that
 *    converts to the field's (20万元 in a CNY field is 200000); a unit in
 *    a field without one is an error.  A field with a unit but no type is a
 *    number.  Booleans accept true/false/yes/no/1/0 in any case; periods
 *    use jp_period_parse.  A cell that does not fit is an error naming
 *    file, line, column, row and field; with o->cell_errors it is read as
 *    null and recorded there instead (file order, the same list whatever
 *    the batch and chunk sizes and the threads), else with keep_rejects
 *    its record is set aside.  o->cell_errors makes the read eager, unless
 *    o->defer_cells: then a file that would be read lazily stays lazy and
 *    is read with such cells null (jp_csv_cells_deferred).
 *  - o->columns reads only those fields, in the order given; the others
 *    are skipped while parsing.  Unknown names are an error listing the
 *    fields there are.
 *  - Streams: "-" is standard input (named "stdin"); a path that is not a
 *    regular file (a pipe, a FIFO, a terminal) is copied once to a
 *    temporary file in $TMPDIR that lives as long as the plan (waiting for
 *    a FIFO's writer checks jp_stop_pending).
 *  - Provenance: ds->origin is the path; ds->first_line is the line of the
 *    first data record, or, when some record spans lines, was skipped or
 *    was set aside, ds->lines holds each row's line.
 *
 * Laziness: with o->lazy, a file of at least JP_CSV_LAZY_BYTES bytes (on
 * disk) is returned after reading only its header: field names are known,
 * ds->cols[i] are NULL and the schema types of inferred fields are
 * JP_TYPE_NONE until jp_dataset_need() loads them (one pass over the file
 * parses exactly the columns asked for and settles nrows; a field's type is
 * fixed when its column is loaded).  Explicitly typed fields show their type
 * at once.  A missing file or a bad header fails at once; malformed records
 * are reported by the pass that meets them.  If the file changes between
 * passes, the next pass fails.  keep_rejects and read_mem always read
 * eagerly.
 *
 * Memory: a pass holds two batch buffers (JP_CSV_BATCH_BYTES each, plus the
 * longest record), per-chunk scratch for the rows in flight, and the
 * columns being built.  A record longer than JP_CSV_MAX_RECORD bytes is an
 * error (usually an unterminated quote).
 *
 * Writing: RFC 4180 with LF line ends, a header row, the delimiter of
 * o->delimiter (or tab for ".tsv", else ','), UTF-8.  A cell is quoted when
 * it holds the delimiter, a quote, CR or LF, starts or ends with a space, or
 * is an empty string (null is an empty cell, "" an empty string).  Integers
 * in decimal; numbers in the shortest text that reads back to the same
 * double, with ".0" added to integral values so the column stays a number
 * when read back (148000.0, 1e+22, nan, inf); dates ISO; periods canonical;
 * booleans true/false; a delimiter that can occur in those (see
 * jp_csv_delim_writable) is refused.  o->qualifiers prefixes non-exact
 * figures with their symbol ("~1140000000.0", ">140000");
 * o->spreadsheet_safe prefixes a text
 * cell beginning with = + - @ TAB or CR with a single quote.  A path ending
 * in ".gz" is written as one gzip member (level o->level, default 6),
 * compressed on o->threads cores (jp_gzip.h).  The file is replaced
 * atomically.
 */
#ifndef JP_CSV_H
#define JP_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_buf.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"

#define JP_CSV_LAZY_BYTES  ((size_t)8 << 20)   /* lazy reading from this file size up */
#define JP_CSV_BATCH_BYTES ((size_t)16 << 20)  /* text read per batch */
#define JP_CSV_CHUNK_BYTES ((size_t)1 << 20)   /* text parsed per task */
#define JP_CSV_MAX_RECORD  ((size_t)256 << 20) /* longest record accepted */

/* Read a CSV file (also .csv.gz and .tsv) into a new dataset.  o may be NULL
 * (defaults of jp_read_opts_init). */
jp_status_t jp_csv_read(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                        jp_error_t *err);
/* The same from memory (plain text, not compressed); `name` is used in
 * messages and as the default dataset name.  Always eager; data need not
 * outlive the call. */
jp_status_t jp_csv_read_mem(const char *name, const char *data, size_t n, const jp_read_opts_t *o,
                            jp_dataset_t **out, jp_error_t *err);

/*
 * A profile of a CSV file, for `jinpu info`: its fields with their types
 * over the whole file, nulls and qualified values, and, for a column
 * inferred as text although most of its cells are typed (at least as many
 * numbers, dates or booleans as text cells; nulls and missing-value
 * markers not counted), the first cell that made it text, on row 1 or
 * later (the usual cause is one figure like "约7696" among numbers; a
 * column of names is not explained); and the first preview_rows rows of the first preview_fields
 * fields as a small dataset typed like the fields.  One pass over the file
 * that builds no column (memory: the batch buffers and about a hundred
 * bytes per field, whatever the number of rows), then one over the first
 * batch for the preview.  o as for jp_csv_read (its columns, schema,
 * delimiter, null, threads); keep_rejects is ignored: the first malformed
 * record or cell is an error, as in an eager read.  On failure *pr is
 * empty; jp_csv_profile_free frees it in any case.
 */
typedef struct jp_csv_field_profile {
    const char *name; /* owned by the profile */
    const char *unit; /* canonical, from the schema, or NULL; owned by the profile */
    jp_type_t type;
    bool typed; /* by the schema (else inferred) */
    size_t nulls, qualified;
    long text_row, text_line, text_col; /* the cell that made it text (row 0: none) */
    const char *text_cell;              /* its text, cut to 60 bytes; owned by the profile */
} jp_csv_field_profile_t;

typedef struct jp_csv_profile {
    char *name; /* the dataset's name (the file's stem, or o->name) */
    size_t nrows, nfields;
    jp_csv_field_profile_t *fields;
    jp_dataset_t *preview; /* owned by the profile (take a reference to keep it) */
    char **names_;         /* private */
    size_t nnames_;
} jp_csv_profile_t;

jp_status_t jp_csv_profile(const char *path, const jp_read_opts_t *o, size_t preview_rows,
                           size_t preview_fields, jp_csv_profile_t *pr, jp_error_t *err);
void jp_csv_profile_free(jp_csv_profile_t *pr);

/* Write ds as CSV (gzip-compressed when the path ends in ".gz", or when
 * o->format is "csv.gz"), atomically.  o may be NULL. */
jp_status_t jp_csv_write(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                         jp_error_t *err);
/* Is s[0..n) one of the default missing-value markers (— —— – - -- … ……
 * / NA N/A n/a NULL null), null in a typed column when no null option is
 * given? */
bool jp_csv_is_marker(const char *s, size_t n);

/*
 * A CSV file written in parts (streaming): open writes the header (ds's
 * field names), each rows() call appends the rows of a dataset with the
 * same fields, restart() goes back to the header alone, close() commits
 * the file atomically (and frees), abort() removes it (and frees).  The
 * bytes are those jp_csv_write gives for all the rows at once.
 */
typedef struct jp_csv_out jp_csv_out_t;
jp_status_t jp_csv_out_open(const char *path, const jp_write_opts_t *o, const jp_dataset_t *ds,
                            jp_csv_out_t **out, jp_error_t *err);
jp_status_t jp_csv_out_rows(jp_csv_out_t *co, jp_dataset_t *ds, jp_error_t *err);
jp_status_t jp_csv_out_restart(jp_csv_out_t *co, jp_error_t *err);
jp_status_t jp_csv_out_close(jp_csv_out_t *co, jp_error_t *err);
void jp_csv_out_abort(jp_csv_out_t *co);

/* ds plus, after its fields, one text column "<field>_qualifier" (a '_'
 * added while the name is taken) per numeric field holding a qualified
 * figure: the qualifier's name (approx, more_than, ...), null where the
 * figure is exact.  The numbers stay plain numbers for any reader, and no
 * qualifier is lost.  *out is a new reference (ds itself when no field is
 * qualified); *n_added (may be NULL) counts the columns added.  A pipeline
 * that streams from a lazy file read with no explicit numeric field cannot
 * be qualified: it is returned as it is, not loaded. */
jp_status_t jp_csv_qualifier_columns(jp_dataset_t *ds, jp_dataset_t **out, size_t *n_added,
                                     jp_error_t *err);
/* The same for a dataset in memory, with the fields that get a side column
 * given: qualified[i] for field i (a non-numeric field never gets one), so
 * a field qualified anywhere in a file gets its column in every batch, even
 * one without a qualified figure.  The names depend only on ds's field
 * names and `qualified`: every batch of a dataset gets the same columns. */
jp_status_t jp_csv_qualifier_columns_for(jp_dataset_t *ds, const bool *qualified,
                                         jp_dataset_t **out, size_t *n_added, jp_error_t *err);

/* Can c delimit the fields of a file this writer makes, unambiguously?  A
 * tab or ASCII punctuation other than " ' + - . < = > ? ~ (writers refuse
 * the rest with JP_ERR_ARG). */
bool jp_csv_delim_writable(char c);
/* Append ds as CSV text (never compressed) to out. */
jp_status_t jp_csv_write_mem(jp_dataset_t *ds, const jp_write_opts_t *o, jp_buf_t *out,
                             jp_error_t *err);

/*
 * Streaming a lazy CSV dataset (jp_stream.c): fields idx[0..n) of every
 * row, in batches of rows in file order (about JP_CSV_BATCH_BYTES of text
 * each), with the types a full read gives and the same errors; nothing is
 * kept.  batch() gets one borrowed column per field (it takes references
 * to keep any); a non-OK status stops the pass with it.  When a column's
 * type changes after batches went out (an integer column meets a decimal,
 * a numeric one text), reset() says so and the batches come again from
 * the first, read with the whole file's types (found by a profile pass).
 */
typedef struct jp_csv_stream_cb {
    /* lines: each row's line in the file, when asked for (else NULL) */
    jp_status_t (*batch)(void *ctx, jp_column_t *const *cols, size_t nrows,
                         const jp_column_t *lines, jp_error_t *err);
    void (*reset)(void *ctx);
    void *ctx;
    /* Optional (NULL: no): after batch() failed, was it the consumer's own
       choice to stop, so that the rest of the file need not be read for an
       error of its own to report first? */
    bool (*stopped)(void *ctx);
    /* Optional (0: the whole file): read the text up to this offset from
       the file's start, a record's end (jp_csv_prefix_end), as if the file
       ended there: the types and errors are those of that prefix. */
    uint64_t limit;
    bool lines; /* give batch() the rows' lines */
    /* find the whole file's types first (a profile pass), so that no batch
       is ever retyped: reset() is never called */
    bool typed_first;
    /* Optional (NULL: none), for a file opened with its cells deferred
       (jp_csv_cells_deferred): the cells of a batch's rows that are not of
       their type are added here, in file order, before batch() gets the
       batch (rows numbered from the file's first, 1-based); the consumer
       empties it as it likes, and again at reset(). */
    jp_cell_errors_t *cells;
} jp_csv_stream_cb_t;

bool jp_csv_is_lazy(const jp_dataset_t *ds); /* a lazy CSV file, not yet loaded whole */
/* A lazy CSV file opened with jp_read_opts_t.defer_cells: its cells that
 * are not of their type are read as null, and nobody has listed them. */
bool jp_csv_cells_deferred(const jp_dataset_t *ds);
/* Such a file read whole (ds is then eager), its cells that are not of
 * their type added to *cells as jp_read_opts_t.cell_errors lists them. */
jp_status_t jp_csv_cell_errors(jp_dataset_t *ds, jp_cell_errors_t *cells, jp_error_t *err);
/* A lazy CSV file's size on disk (0: unknown), and whether it is gzip. */
uint64_t jp_csv_lazy_size(const jp_dataset_t *ds, bool *gz);
jp_status_t jp_csv_stream(jp_dataset_t *ds, const size_t *idx, size_t n,
                          const jp_csv_stream_cb_t *cb, jp_error_t *err);
/*
 * The same, and more, for a consumer that reads a few rows' other fields
 * at the end (a top-N): fields cidx[0..nc) (none of idx) are checked in
 * the same pass as a full read checks them - every cell typed, the same
 * errors - but neither built nor handed on, at a fraction of the cost;
 * with `offsets`, batch() gets one more column after the n: each row's
 * record start, an integer text offset for jp_csv_take_at.  types (may be
 * NULL; n + nc entries) gets the whole file's type of each field, idx's
 * then cidx's.
 */
jp_status_t jp_csv_stream_checked(jp_dataset_t *ds, const size_t *idx, size_t n, const size_t *cidx,
                                  size_t nc, bool offsets, jp_type_t *types,
                                  const jp_csv_stream_cb_t *cb, jp_error_t *err);
/* Fields idx[0..n) of the records that start at text offsets off[0..m)
 * (ascending, from jp_csv_stream_checked), read with types[0..n) (the
 * whole file's, from the same): new columns out[0..n) of m rows, the
 * values a full read gives.  The records alone are read (a seek each in
 * a plain file; a gzip file is decompressed up to the last one). */
jp_status_t jp_csv_take_at(jp_dataset_t *ds, const size_t *idx, size_t n, const jp_type_t *types,
                           const int64_t *off, size_t m, jp_column_t **out, jp_error_t *err);
/* A prefix of a lazy CSV file for a stream's limit: *end is the text offset
 * (from the file's start) just past the last record that ends within the
 * first `bytes` of data text (past the header), or past the first record
 * when none does; *whole (end 0) when the file ends first. */
jp_status_t jp_csv_prefix_end(const jp_dataset_t *ds, uint64_t bytes, uint64_t *end, bool *whole,
                              jp_error_t *err);

/*
 * Testing and measurement: override the batch size, chunk size, maximum
 * record length, lazy threshold and thread count of later reads (0 keeps
 * the default).  Small sizes force chunk boundaries inside quoted fields
 * and multi-line records.  Not thread-safe: call before reading.
 */
typedef struct jp_csv_tuning {
    size_t batch_bytes;
    size_t chunk_bytes;
    size_t max_record;
    size_t lazy_bytes;
    int threads;
} jp_csv_tuning_t;

void jp_csv_set_tuning(const jp_csv_tuning_t *t); /* NULL restores the defaults */

/* The scanner's instruction sets, chosen when a read starts: every one
 * finds the same fields, records and faults. */
#define JP_CSV_SIMD_PORTABLE 1 /* C (with SSE2 where the compiler targets it) */
#define JP_CSV_SIMD_AVX2     2
#define JP_CSV_SIMD_AVX512   3 /* AVX-512 BW and VBMI2 */
/* The instruction set a read asked for `want` (0: the best) uses: at most
 * what this processor (and this build) has. */
int jp_csv_simd(int want);
/* Testing and measurement: later reads use jp_csv_simd(want) (0, the
 * default: the best).  Not thread-safe: call before reading. */
void jp_csv_set_simd(int want);

#endif
