/*
 * jp_csv_int.h - shared between the CSV front end (jp_csv.c: options,
 * header, schema, laziness), the pass engine (jp_csv_pass.c and the files
 * named in jp_csv_scan.h: parallel parsing into typed columns) and the
 * writer (jp_csv_write.c).  Not a public header.
 */
#ifndef JP_CSV_INT_H
#define JP_CSV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_column.h"
#include "jp_csv.h"
#include "jp_error.h"

/* What a pass does with one column of the file. */
enum {
    CM_SKIP = 0, /* not read (structure still checked) */
    CM_INFER,    /* type inferred over the whole column */
    CM_STRING,   /* explicit types: */
    CM_INT,
    CM_NUMBER,
    CM_BOOL,
    CM_DATE,
    CM_PERIOD,
    CM_CHECK /* checked, not kept: a column that died is read again as text
                (its cells' UTF-8 is still checked, so the first error in the
                file is found whatever the batches) */
};

/* Where the text comes from. */
typedef struct csv_src {
    const char *path; /* the name in messages, and what to open unless file is set */
    const char *file; /* the copy of a stream (a pipe, a FIFO, stdin) that is read */
    const char *mem;  /* memory source when non-NULL */
    size_t mem_len;
    bool gz;
    /* text read at most, from the file's start (0: all): a prefix of the
       file ending at a record's end reads as if the file ended there */
    uint64_t limit;
} csv_src_t;

/* What the header told us, and the options every pass shares. */
typedef struct csv_layout {
    char delim;
    size_t ncols;
    uint64_t data_off; /* text offset of the first data record */
    long data_line;    /* its line */
    /* texts null in every column besides "" (the null option; owned by the
       plan), and whether the default markers (jp_csv_marker) are null in
       typed columns: only when no null option was given */
    char **nulls;
    size_t *null_lens, nnulls;
    bool markers;
    bool keep_rejects;
    /* a file opened for validation (jp_read_opts_t.defer_cells): in every
       pass a cell its explicit type cannot read is null, listed only when a
       pass is given a list (csv_how_t.cell_errors) */
    bool cells_null;
    int threads;
    size_t rows_hint; /* data records found by an earlier pass (0: unknown) */
    /* file identity, to notice a file changed between passes */
    bool have_id;
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns;
} csv_layout_t;

/* One column a pass must build. */
typedef struct csv_colspec {
    size_t fcol;      /* index of the field in a record */
    int mode;         /* CM_* (not CM_SKIP) */
    const char *unit; /* explicit numeric field with a unit, or NULL */
    const char *name; /* field name for messages */
} csv_colspec_t;

/* One column as a profile sees it. */
typedef struct csv_colstat {
    jp_type_t type; /* over the whole file */
    size_t nulls, qualified;
    /* an inferred column that is text although at least as many of its
       cells are typed (numbers, dates, booleans) as are text: the first
       cell that made it text, wherever it is (row 0: none); owned */
    long why_row, why_line, why_col;
    char *why_cell;
} csv_colstat_t;

typedef struct csv_result {
    size_t nrows;
    jp_column_t **cols;    /* one per colspec, each with one reference (not in a profile) */
    csv_colstat_t *stats;  /* a profile: one per colspec; a stream: each colspec's type only */
    jp_column_t *lines;    /* per-row lines when not first_line + i, or NULL */
    jp_dataset_t *rejects; /* with keep_rejects: line, text, reason */
    bool retype;           /* streaming: stopped, a column's type changed */
} csv_result_t;

/* What a pass makes of its columns (NULL: build them, from every row). */
typedef struct csv_how {
    bool profile;    /* types and counts only: memory per column is small and fixed */
    size_t max_rows; /* stop after this many rows (0: all) */
    /* build only these rows (ascending, distinct data-record numbers from
       0), nsel of them: every cell is still read, so types are inferred over
       the whole column and errors are the same, but memory holds only the
       selected rows.  No per-row lines are made.  NULL: every row. */
    const size_t *sel;
    size_t nsel;
    /* streaming (jp_csv_stream): after each batch, its rows as columns (one
       per colspec, borrowed) go to emit and are not kept.  When a column's
       type turns out different from the one batches were handed on with,
       the pass stops with res->retype set: the caller reads again with the
       types fixed.  `bytes`: the text read so far, from the file's start. */
    jp_status_t (*emit)(void *ctx, jp_column_t *const *cols, size_t nrows, uint64_t bytes,
                        const jp_column_t *lines, jp_error_t *err);
    void *emit_ctx;
    bool emit_lines;    /* lines: each row's line in the file (else NULL) */
    size_t batch_bytes; /* text read per batch, when smaller than the tuning's (0: the tuning's) */
    /* streaming: the last ncheck colspecs are only checked, as a build
       checks them (every cell typed or inferred, the same errors), never
       built nor handed on; their types come in res->stats.  A check costs a
       fraction of a build: nothing is stored, no dictionary is kept. */
    size_t ncheck;
    /* streaming: after the built columns, emit gets one more, an integer
       column of each row's record start as a text offset from the file's
       start (of the decompressed text for gzip) */
    bool offsets;
    /* a cell its explicit type cannot read (a number field's "twenty"):
       read as null and recorded here, in file order, instead of failing;
       the same list whatever the batch and chunk sizes and threads */
    jp_cell_errors_t *cell_errors;
} csv_how_t;

/* Tuning in force (defaults or jp_csv_set_tuning). */
typedef struct csv_tuning {
    size_t batch_bytes, chunk_bytes, max_record, lazy_bytes;
    int threads;
    int simd;       /* JP_CSV_SIMD_*, as jp_csv_simd() allows */
    bool chunk_set; /* chunk_bytes was asked for: do not widen chunks for wide records */
} csv_tuning_t;

void jp_csv_tuning_get(csv_tuning_t *t);

/* Read the file's data records once, building the columns of cs[0..n)
 * (n may be 0: then only the rows are counted), or, with how->profile,
 * only their types and counts.  On failure nothing is left in *res. */
jp_status_t jp_csv_pass(const csv_src_t *src, const csv_layout_t *lay, const csv_colspec_t *cs,
                        size_t n, const csv_how_t *how, csv_result_t *res, jp_error_t *err);
void jp_csv_result_free(csv_result_t *res, size_t n);

/* Open/close helpers shared with the header reader. */
typedef struct csv_reader csv_reader_t;
jp_status_t jp_csv_reader_open(const csv_src_t *src, const csv_layout_t *lay_or_null,
                               csv_reader_t **out, jp_error_t *err);
/* Read up to n bytes; *got = 0 at the end. */
jp_status_t jp_csv_reader_read(csv_reader_t *r, char *buf, size_t n, size_t *got, jp_error_t *err);
/* Go on from text offset `at` (where the reader is) to `to` (>= at): a
 * seek in a plain file, the text in between read and dropped in gzip. */
jp_status_t jp_csv_reader_forward(csv_reader_t *r, uint64_t at, uint64_t to, jp_error_t *err);
void jp_csv_reader_close(csv_reader_t *r);

/* Is t[0..n) one of the layout's null texts? */
bool jp_csv_is_null_text(const csv_layout_t *lay, const char *t, size_t n);
/* The index of the default missing-value marker t[0..n) is (— - … / NA
 * ...), or -1; its text by index. */
int jp_csv_marker(const char *t, size_t n);
const char *jp_csv_marker_text(int i, size_t *n);

/* 1-based character column of byte `pos` in a line starting at `line0`. */
long jp_csv_char_col(const char *line0, const char *pos);
/* Is s[0..n) valid UTF-8?  On failure *bad is the offset of the first bad byte. */
bool jp_csv_utf8_ok(const char *s, size_t n, size_t *bad);

#endif
