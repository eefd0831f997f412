/*
 * jinpu.h - the C interface of jinpu for native plugins (and embedders of
 * the core): read typed datasets, build new ones, report errors, register
 * formats, verbs and commands.  Self-contained: includes only the C library.
 *
 * Compatibility.  Everything a plugin calls goes through one table of
 * functions, jinpu_api_t, whose first field is its size.  Within one major
 * version (JINPU_API_MAJOR) the table only grows at its end and no
 * function changes meaning, so a plugin built against API 1.N works with
 * every jinpu offering API 1.M for M >= N, and with older ones too as long
 * as the functions it calls are in their table (JINPU_API_HAS).  Handles
 * are opaque and read through accessors: no struct layout of jinpu's is
 * part of the interface.  A new major version is a new interface; jinpu
 * refuses a plugin built for another major, naming both versions.
 *
 * A plugin is a shared object exporting
 *
 *     JINPU_PLUGIN_API;                      (the API version it was built for)
 *     int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *plugin,
 *                           char *why, size_t why_size);
 *
 * jinpu dlopen()s it (RTLD_NOW | RTLD_LOCAL) the first time a name the
 * plugin's manifest declares is used, on the main thread, while no worker
 * thread of jinpu runs; checks the exported version; then calls init once.
 * init checks what it needs (JINPU_PLUGIN_CHECK), registers what the
 * manifest declares, and returns JINPU_OK, or JINPU_REFUSED with a reason
 * in `why` (the plugin is then refused; jinpu goes on).
 *
 * Ownership.  A jinpu_dataset_t handed to a callback belongs to jinpu and
 * is valid during the call.  A dataset a callback returns through `out`
 * (from builder_finish, or dataset_ref) passes to jinpu.  Strings returned
 * by accessors belong to the dataset and live as long as it does.  A
 * builder belongs to the plugin until builder_finish or builder_free.
 * Nothing here is thread-safe: call the API from the thread that called
 * the plugin.
 *
 * Errors.  Every function that can fail takes a jinpu_error_t and returns
 * JINPU_OK (0) or a nonzero JINPU_E_* code, the detail (message, file,
 * line, row, field) being set in the error; callbacks return the code and
 * jinpu reports the error with its position, like its own.
 */
#ifndef JINPU_H
#define JINPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JINPU_API_MAJOR 1
#define JINPU_API_MINOR 1

/* ---- values ------------------------------------------------------------------------- */

enum {
    JINPU_OK = 0,
    JINPU_E_NOMEM = 1,    /* out of memory */
    JINPU_E_IO = 2,       /* a file could not be opened, read or written */
    JINPU_E_PARSE = 3,    /* malformed input */
    JINPU_E_TYPE = 4,     /* a value does not fit its field's type */
    JINPU_E_UNIT = 5,     /* unknown unit, or units that do not convert */
    JINPU_E_RANGE = 6,    /* out of range */
    JINPU_E_ARG = 7,      /* misuse: bad option, unknown field */
    JINPU_E_NOTFOUND = 8, /* no such file, dataset, field */
    JINPU_E_FORMAT = 9,   /* unsupported format or feature */
    JINPU_E_LIMIT = 13,   /* a resource limit */
    JINPU_E_INTERNAL = 14,
    JINPU_REFUSED = 100 /* jinpu_plugin_init: the plugin declines to load */
};

/* Field types. */
enum {
    JINPU_INTEGER = 1, /* int64_t */
    JINPU_NUMBER = 2,  /* double */
    JINPU_STRING = 3,  /* UTF-8 text */
    JINPU_BOOLEAN = 4,
    JINPU_DATE = 5,  /* a day: year, month, day */
    JINPU_PERIOD = 6 /* "2022", "2022-01..2022-08", "..2021", "cumulative" (as text) */
};

/* What a figure says about its value ("约11.4亿" is approximately). */
enum {
    JINPU_EXACT = 0,
    JINPU_APPROX = 1,
    JINPU_AT_LEAST = 2,
    JINPU_MORE_THAN = 3,
    JINPU_AT_MOST = 4,
    JINPU_LESS_THAN = 5
};

/* Kinds of verb arguments (jinpu_args). */
enum { JINPU_ARG_NIL = 0, JINPU_ARG_BOOLEAN, JINPU_ARG_NUMBER, JINPU_ARG_STRING, JINPU_ARG_OTHER };

/* ---- opaque handles ------------------------------------------------------------------ */

typedef struct jinpu_dataset jinpu_dataset_t; /* a typed, columnar table (immutable) */
typedef struct jinpu_builder jinpu_builder_t; /* a dataset being built row by row */
typedef struct jinpu_error jinpu_error_t;     /* where a failure is described */
typedef struct jinpu_options jinpu_options_t; /* the caller's options: key -> text */
typedef struct jinpu_args jinpu_args_t;       /* a verb's arguments after the dataset */
typedef struct jinpu_plugin jinpu_plugin_t;   /* the plugin being initialised */
typedef struct jinpu_output jinpu_output_t;   /* a file being written (output_begin) */

/* ---- what a plugin registers ------------------------------------------------------- */

/*
 * A file format.  `size` must be sizeof(jinpu_format_t) (the struct grows
 * at its end, like the API table).  At least one of read, write, export.
 * The name and extensions must be declared in plugin.yaml; jinpu copies
 * what it needs, the struct may be on the stack.
 */
typedef struct jinpu_format {
    size_t size;
    const char *name;              /* "xlsx" */
    const char *const *extensions; /* NULL-terminated, with the dot: ".xlsx" */
    const char *description;
    void *ud; /* passed back to the callbacks */
    /* jp.load(path, opts): *out = a new dataset (builder_finish) */
    int (*read)(void *ud, const char *path, const jinpu_options_t *opts, jinpu_dataset_t **out,
                jinpu_error_t *err);
    /* ds:write(path, opts): one dataset to one file */
    int (*write)(void *ud, jinpu_dataset_t *ds, const char *path, const jinpu_options_t *opts,
                 jinpu_error_t *err);
    /* jinpu export -o path ...: several datasets to one file (may be NULL) */
    int (*export_)(void *ud, jinpu_dataset_t *const *list, size_t n, const char *path,
                   const jinpu_options_t *opts, jinpu_error_t *err);
} jinpu_format_t;

/* ds:name(args...) -> *out (a new dataset, or dataset_ref(in) for the input) */
typedef int (*jinpu_verb_fn)(void *ud, jinpu_dataset_t *in, const jinpu_args_t *args,
                             jinpu_dataset_t **out, jinpu_error_t *err);
/* jinpu name argv[0..argc) -> exit status (0 ok, 1 data invalid, 2 usage, 3 failure) */
typedef int (*jinpu_command_fn)(void *ud, int argc, const char *const *argv, jinpu_error_t *err);

/* ---- the function table ---------------------------------------------------------------- */

typedef struct jinpu_api {
    size_t size;         /* sizeof the table this jinpu has: check with JINPU_API_HAS */
    int major, minor;    /* the API version of this jinpu */
    const char *version; /* jinpu's own version, "0.1.0" */

    /* errors: set the message (printf-style) and return `code` */
    int (*error)(jinpu_error_t *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* where: file and line (0 = unknown), data row (1-based, 0 = none), field (or NULL) */
    void (*error_at)(jinpu_error_t *err, const char *file, long line, long row, const char *field);

    /* reading a dataset */
    const char *(*dataset_name)(const jinpu_dataset_t *ds); /* or NULL */
    /* metadata by key: "title", "description", "source", "source_file", "period",
       "license" (NULL when absent) */
    const char *(*dataset_meta)(const jinpu_dataset_t *ds, const char *key);
    size_t (*dataset_rows)(const jinpu_dataset_t *ds);
    size_t (*dataset_fields)(const jinpu_dataset_t *ds);
    long (*field_find)(const jinpu_dataset_t *ds, const char *name); /* index or -1 */
    const char *(*field_name)(const jinpu_dataset_t *ds, size_t f);
    int (*field_type)(const jinpu_dataset_t *ds, size_t f);               /* JINPU_INTEGER, ... */
    const char *(*field_unit)(const jinpu_dataset_t *ds, size_t f);       /* or NULL */
    const char *(*field_unit_field)(const jinpu_dataset_t *ds, size_t f); /* or NULL */
    const char *(*field_title)(const jinpu_dataset_t *ds, size_t f);      /* or NULL */
    const char *(*field_description)(const jinpu_dataset_t *ds, size_t f);

    /* cells (row from 0); reading a cell of another type gives 0 / "" */
    int (*cell_is_null)(const jinpu_dataset_t *ds, size_t f, size_t row);
    int (*cell_qualifier)(const jinpu_dataset_t *ds, size_t f, size_t row); /* JINPU_EXACT... */
    int64_t (*cell_int)(const jinpu_dataset_t *ds, size_t f, size_t row);
    double (*cell_number)(const jinpu_dataset_t *ds, size_t f, size_t row); /* ints too */
    const char *(*cell_string)(const jinpu_dataset_t *ds, size_t f, size_t row, size_t *len);
    int (*cell_bool)(const jinpu_dataset_t *ds, size_t f, size_t row);
    int (*cell_date)(const jinpu_dataset_t *ds, size_t f, size_t row, int *y, int *m, int *d);
    /* any cell as text (periods, dates, figures); "" for null; returns buf */
    const char *(*cell_text)(const jinpu_dataset_t *ds, size_t f, size_t row, char *buf,
                             size_t size);
    /* the unit of a cell: the field's unit, or the row's for a unit_field */
    const char *(*cell_unit)(const jinpu_dataset_t *ds, size_t f, size_t row);
    /* bulk: n numbers of field f from row `from` as doubles (ints converted),
       with their null flags and qualifiers (either array may be NULL); returns
       how many were copied */
    size_t (*read_numbers)(const jinpu_dataset_t *ds, size_t f, size_t from, size_t n,
                           double *values, unsigned char *nulls, unsigned char *quals);

    /* building a dataset: fields first, then rows */
    jinpu_builder_t *(*builder_new)(const char *name, jinpu_error_t *err);
    void (*builder_free)(jinpu_builder_t *b);
    int (*builder_meta)(jinpu_builder_t *b, const char *key, const char *value,
                        jinpu_error_t *err); /* keys as dataset_meta */
    /* a field: type, unit (or NULL), description (or NULL); returns its index
       or -1 (err set) */
    long (*builder_field)(jinpu_builder_t *b, const char *name, int type, const char *unit,
                          const char *description, jinpu_error_t *err);
    /* the values of one row, one call per field in order (or set by index);
       each returns JINPU_OK or an error naming the row and field */
    int (*put_null)(jinpu_builder_t *b, size_t f, jinpu_error_t *err);
    int (*put_int)(jinpu_builder_t *b, size_t f, int64_t v, int qual, jinpu_error_t *err);
    int (*put_number)(jinpu_builder_t *b, size_t f, double v, int qual, jinpu_error_t *err);
    int (*put_string)(jinpu_builder_t *b, size_t f, const char *s, size_t len, jinpu_error_t *err);
    int (*put_bool)(jinpu_builder_t *b, size_t f, int v, jinpu_error_t *err);
    int (*put_date)(jinpu_builder_t *b, size_t f, int y, int m, int d, jinpu_error_t *err);
    /* text read by the field's type: figures as printed ("14.8万", ">140000",
       "约11.4亿"), dates, periods, true/false; "" is null */
    int (*put_text)(jinpu_builder_t *b, size_t f, const char *s, size_t len, jinpu_error_t *err);
    /* the row is complete (every field was put); errors name the row */
    int (*end_row)(jinpu_builder_t *b, jinpu_error_t *err);
    /* the dataset (frees the builder either way); NULL on error */
    jinpu_dataset_t *(*builder_finish)(jinpu_builder_t *b, jinpu_error_t *err);
    /* datasets the plugin keeps or returns as they are */
    jinpu_dataset_t *(*dataset_ref)(jinpu_dataset_t *ds);
    void (*dataset_release)(jinpu_dataset_t *ds);

    /* options given by the caller (ds:write(path, { sheet = "x" })): NULL when absent */
    const char *(*opt_string)(const jinpu_options_t *o, const char *key);
    /* 1 and *out when present and a whole number, 0 when absent, -1 when not a number */
    int (*opt_int)(const jinpu_options_t *o, const char *key, long long *out);
    /* the keys, for refusing unknown ones: NULL past the end */
    const char *(*opt_key)(const jinpu_options_t *o, size_t i);

    /* verb arguments (after the dataset), from 0 */
    size_t (*arg_count)(const jinpu_args_t *a);
    int (*arg_kind)(const jinpu_args_t *a, size_t i); /* JINPU_ARG_* */
    const char *(*arg_string)(const jinpu_args_t *a, size_t i);
    double (*arg_number)(const jinpu_args_t *a, size_t i);

    /* registration, during jinpu_plugin_init only */
    int (*register_format)(jinpu_plugin_t *p, const jinpu_format_t *f, jinpu_error_t *err);
    int (*register_verb)(jinpu_plugin_t *p, const char *name, jinpu_verb_fn fn, void *ud,
                         jinpu_error_t *err);
    int (*register_command)(jinpu_plugin_t *p, const char *name, jinpu_command_fn fn, void *ud,
                            jinpu_error_t *err);

    /* long loops call this now and then: nonzero = stop (time limit, Ctrl-C),
       return JINPU_E_LIMIT */
    int (*stop_requested)(void);

    /* ---- API 1.1 ---- */

    /* The dataset's metadata and schema (fields with their types, units, unit
       fields, titles, descriptions and constraints; notes, keys) as a jinpu
       YAML document without rows, the form archives store.  *yaml is
       NUL-terminated, *len its length (len may be NULL); free it with
       text_free. */
    int (*dataset_schema)(jinpu_dataset_t *ds, char **yaml, size_t *len, jinpu_error_t *err);
    void (*text_free)(char *text);
    /* Define the builder's metadata and fields from such a document, before
       any builder_field or row: the dataset built then has exactly that
       schema and metadata (builder_meta may still change them). */
    int (*builder_schema)(jinpu_builder_t *b, const char *yaml, size_t len, jinpu_error_t *err);
    /* Convert n values in place from unit `from` to unit `to` of the same
       dimension ("mu" -> "万亩", "CNY" -> "亿元"); powers of ten are applied
       exactly (148000 mu is 14.8 万亩).  JINPU_E_UNIT when either unit is
       unknown or they do not convert. */
    int (*unit_convert)(const char *from, const char *to, double *values, size_t n,
                        jinpu_error_t *err);
    /* Writing a file that appears whole or not at all, with any library:
       output_begin creates an empty temporary file next to `path` (removed on
       every exit path, a time limit or a signal included) and output_path
       names it; the plugin writes there; output_commit syncs it and renames
       it over `path` (the new file keeps the replaced one's mode);
       output_abort removes it.  Exactly one of commit and abort is called;
       both free the handle. */
    jinpu_output_t *(*output_begin)(const char *path, jinpu_error_t *err);
    const char *(*output_path)(const jinpu_output_t *o);
    int (*output_commit)(jinpu_output_t *o, jinpu_error_t *err);
    void (*output_abort)(jinpu_output_t *o);
    /* new functions are added here, at the end */
} jinpu_api_t;

/* Does this jinpu's table hold `field` of table type `type`?  (For a plugin
 * built against a newer minor: JINPU_API_HAS(api, jinpu_api_t, new_fn).) */
#define JINPU_API_HAS(api, type, field)                                                            \
    ((api)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* The version a plugin was built for, exported for jinpu to check before it
 * calls anything: write JINPU_PLUGIN_API; once in the plugin. */
#define JINPU_PLUGIN_API                                                                           \
    __attribute__((visibility("default")))                                                         \
    const int jinpu_plugin_api[2] = {JINPU_API_MAJOR, JINPU_API_MINOR}

/* The entry point. */
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *plugin, char *why, size_t why_size);

/*
 * In jinpu_plugin_init: refuse (return JINPU_REFUSED with both versions in
 * `why`) unless `api` has this header's major version and the table holds
 * the function `last_used` (the last field of jinpu_api_t the plugin calls).
 */
#define JINPU_PLUGIN_CHECK(api, last_used, why, why_size)                                          \
    do {                                                                                           \
        if ((api)->major != JINPU_API_MAJOR || !JINPU_API_HAS(api, jinpu_api_t, last_used)) {      \
            snprintf((why), (why_size),                                                            \
                     "built for jinpu plugin API %d.%d (needs %s), but this jinpu has API %d.%d",  \
                     JINPU_API_MAJOR, JINPU_API_MINOR, #last_used, (api)->major, (api)->minor);    \
            return JINPU_REFUSED;                                                                  \
        }                                                                                          \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
