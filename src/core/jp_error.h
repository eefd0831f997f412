/*
 * jp_error.h - status codes and the error record every core function fills.
 *
 * Errors in the core are values: a function returns a jp_status_t and, on
 * failure, describes the problem in a jp_error_t that the caller owns (often
 * on its stack).  The core never prints, never exits and never longjmps; the
 * binding layer and the CLI decide how an error reaches a person.
 *
 * Every function that takes a `jp_error_t *err` accepts NULL (the detail is
 * then dropped, the status still returned).
 */
#ifndef JP_ERROR_H
#define JP_ERROR_H

#include <stddef.h>

typedef enum jp_status {
    JP_OK = 0,
    JP_ERR_NOMEM,      /* an allocation failed */
    JP_ERR_IO,         /* open/read/write/rename failed (errno text in msg) */
    JP_ERR_PARSE,      /* malformed input file: YAML, CSV, archive entry */
    JP_ERR_TYPE,       /* a value is not of its field's type */
    JP_ERR_UNIT,       /* unknown unit, or units that do not convert */
    JP_ERR_RANGE,      /* a number out of range (int64 overflow, bad date) */
    JP_ERR_ARG,        /* caller misuse: bad option, unknown field name */
    JP_ERR_NOTFOUND,   /* no such file, dataset, field or entry */
    JP_ERR_FORMAT,     /* no reader/writer for this format */
    JP_ERR_EXPR,       /* an expression does not compile or evaluate */
    JP_ERR_INVALID,    /* data failed validation or verification */
    JP_ERR_ARCHIVE,    /* an archive is corrupt, hostile or lies */
    JP_ERR_LIMIT,      /* a resource limit (size, entries, ratio) was hit */
    JP_ERR_INTERNAL,   /* a bug: an invariant did not hold */
    JP_ERR_TIMEOUT,    /* the time limit passed (jp_limit.h) */
    JP_ERR_INTERRUPTED /* stopped by Ctrl-C or SIGTERM (jp_limit.h) */
} jp_status_t;

/*
 * Where and what.  Unknown positions are 0 / "".  `line`, `col` and `row`
 * count from 1.  `row` is the data row (1 = first record) and is independent
 * of `line`, the physical line in `file`.
 */
typedef struct jp_error {
    jp_status_t code;
    long line;
    long col;
    long row;
    char file[512];
    char field[128];
    char msg[1024];
} jp_error_t;

/* Reset to "no error". */
void jp_error_clear(jp_error_t *err);

/*
 * Record `code` and a printf-style message; returns `code` so callers can
 * write `return jp_error_set(err, JP_ERR_TYPE, "...")`.  The first set (the
 * record holds JP_OK, or a code that is no jp_status_t: an uncleared struct)
 * clears the position fields; a later one leaves them as they are.  Set the
 * position after it, with jp_error_at / jp_error_row / jp_error_field.
 */
jp_status_t jp_error_set(jp_error_t *err, jp_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like jp_error_set but appends ": <strerror(errnum)>". */
jp_status_t jp_error_errno(jp_error_t *err, jp_status_t code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set the position; file may be NULL (kept), line/col/row 0 (kept). */
void jp_error_at(jp_error_t *err, const char *file, long line, long col);
void jp_error_row(jp_error_t *err, long row);
void jp_error_field(jp_error_t *err, const char *field);

/* Prefix the message with "<prefix>: " (for adding context on the way up). */
void jp_error_prefix(jp_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One line for people: "file:line:col: row R, field 'f': message", leaving
 * out the parts that are unknown.  Returns buf.
 */
const char *jp_error_format(const jp_error_t *err, char *buf, size_t size);

/* Short name of a status, e.g. "parse error". */
const char *jp_status_name(jp_status_t code);

#endif
