/*
 * jp_format.h - the registry of dataset readers and writers.
 *
 * A format (YAML, CSV, ...) registers a jp_format_t naming its extensions;
 * jp_dataset_load / jp_dataset_save pick one by explicit name, by the
 * path's extension (longest match: ".csv.gz" before ".gz") or by sniffing
 * the first bytes.  No other code of the core switches on file extensions.
 * Plugin formats (Lua or native) are not registered here: the binding
 * resolves a path against the plugins' declared extensions first
 * (src/bind/jpl_plugin.h) and hands the core only what no plugin takes,
 * so the core stays free of Lua and of plugin loading.  The registry holds
 * pointers to caller-owned (normally static) jp_format_t values.
 * Registration happens at start-up, before threads.
 */
#ifndef JP_FORMAT_H
#define JP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_buf.h"
#include "jp_dataset.h"
#include "jp_error.h"

/*
 * A cell that could not be read as its field's type (or unit) and was read
 * as null instead, when the caller asked for that (jp_read_opts_t
 * .cell_errors): a validator reports every such cell, where a plain load
 * stops at the first.
 */
typedef struct jp_cell_error {
    jp_status_t code; /* JP_ERR_TYPE, JP_ERR_UNIT or JP_ERR_RANGE */
    long line, col;   /* of the cell in the file (1-based; 0 = unknown) */
    long row;         /* 1 = first row */
    char *field;
    char *msg; /* without the position */
} jp_cell_error_t;

/* At most this many are kept; `total` counts them all. */
#define JP_CELL_ERRORS_MAX 100000

typedef struct jp_cell_errors {
    jp_cell_error_t *v;
    size_t n, cap;
    size_t total;
} jp_cell_errors_t;

#define JP_CELL_ERRORS_INIT                                                                        \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Record err (code, message, line, column, row and field) as a cell error. */
jp_status_t jp_cell_errors_add(jp_cell_errors_t *e, const jp_error_t *err);
void jp_cell_errors_free(jp_cell_errors_t *e);

typedef struct jp_read_opts {
    const char *format;         /* NULL: by extension or content */
    char delimiter;             /* CSV: 0 = ',' */
    bool header;                /* CSV: first record names the fields (default true) */
    const char *const *columns; /* read only these fields; NULL = all */
    size_t n_columns;
    const jp_schema_t *schema; /* explicit types/units for some or all fields, or NULL */
    bool schema_subset;        /* CSV: a schema field the file lacks is left out (unless
                                  it is required) instead of an error */
    const char *name;          /* dataset name (default: file stem) */
    const char *null_text;     /* CSV: extra text meaning null besides "" */
    int threads;               /* 0 = as many as cores */
    bool lazy;                 /* allow a lazy (deferred) result */
    bool keep_rejects;         /* CSV: set malformed rows aside instead of failing */
    jp_dataset_t **rejects;    /* out: the rows set aside (line, text, reason) */
    const char *member;        /* archives: the dataset inside to load */
    /* When set, a cell that is not of its field's type or unit is read as
     * null and recorded here instead of failing the read (YAML, and CSV
     * fields the schema types; readers that cannot do this still fail at
     * the first such cell). */
    jp_cell_errors_t *cell_errors;
    /* With cell_errors, for a validation that may go batch by batch: a CSV
     * file that would be read lazily stays lazy, every later read of it
     * reads such cells as null, and cell_errors stays empty (the cells are
     * listed by jp_csv_cell_errors or by a stream, jp_validate_stream). */
    bool defer_cells;
    /* CSV: more texts meaning null, n_null_list of them.  Giving these or
       null_text replaces the default missing-value markers (— - … / NA ...,
       null in typed columns only). */
    const char *const *null_list;
    size_t n_null_list;
} jp_read_opts_t;

typedef struct jp_write_opts {
    const char *format;    /* NULL: by extension */
    char delimiter;        /* CSV: 0 = ',' */
    int level;             /* gzip level 1..9 (0 = default 6) */
    int threads;           /* 0 = as many as cores */
    bool spreadsheet_safe; /* CSV: neutralise cells starting with = + - @ */
    bool qualifiers;       /* CSV: write "~1.14e9"-style qualified cells */
} jp_write_opts_t;

void jp_read_opts_init(jp_read_opts_t *o);
void jp_write_opts_init(jp_write_opts_t *o);

typedef struct jp_format {
    const char *name;              /* "yaml", "csv", "csv.gz", ... */
    const char *const *extensions; /* NULL-terminated, with the dot: ".yaml" */
    const char *description;
    /* Does this look like ours?  (optional; head is up to 512 bytes) */
    bool (*sniff)(const unsigned char *head, size_t n);
    jp_status_t (*read)(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                        jp_error_t *err);
    /* Read from memory (archives); `name` is used in messages. (optional) */
    jp_status_t (*read_mem)(const char *name, const char *data, size_t n, const jp_read_opts_t *o,
                            jp_dataset_t **out, jp_error_t *err);
    /* Write to a file atomically (optional). */
    jp_status_t (*write)(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                         jp_error_t *err);
    /* Append the serialised dataset to a buffer (archives). (optional) */
    jp_status_t (*write_mem)(jp_dataset_t *ds, const jp_write_opts_t *o, jp_buf_t *out,
                             jp_error_t *err);
} jp_format_t;

/* Register the built-in formats (idempotent). */
void jp_formats_init(void);
/* JP_ERR_ARG when the name is taken, JP_ERR_LIMIT when the table is full. */
jp_status_t jp_format_register(const jp_format_t *f, jp_error_t *err);
const jp_format_t *jp_format_find(const char *name);
/* By extension (case-insensitive, longest match), else NULL. */
const jp_format_t *jp_format_for_path(const char *path);
/* i-th registered format, NULL past the end. */
const jp_format_t *jp_format_at(size_t i);

/* Load a dataset: format by opts->format, extension, then content. */
jp_status_t jp_dataset_load(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                            jp_error_t *err);
/* Save a dataset (atomically: never a half-written file). */
jp_status_t jp_dataset_save(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                            jp_error_t *err);

#endif
