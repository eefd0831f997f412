/*
 * jp_error.c - filling and formatting jp_error_t.  Never prints.
 */
#include "jp_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void jp_error_clear(jp_error_t *err)
{
    if (!err) return;
    err->code = JP_OK;
    err->line = err->col = err->row = 0;
    err->file[0] = err->field[0] = err->msg[0] = '\0';
}

/* The first set on a record describes a new error: positions left by
 * whatever the record held before (an embedder's uncleared struct, an
 * earlier call's error) would be shown with it.  A record already holding
 * an error keeps them: callers set the position, then may re-set the
 * message on the way up.  A code outside jp_status_t is garbage. */
static void set_msg(jp_error_t *err, jp_status_t code, const char *fmt, va_list ap)
{
    if (err->code == JP_OK || (unsigned)err->code > (unsigned)JP_ERR_INTERRUPTED) {
        err->line = err->col = err->row = 0;
        err->file[0] = err->field[0] = '\0';
    }
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

jp_status_t jp_error_set(jp_error_t *err, jp_status_t code, const char *fmt, ...)
{
    if (!err) return code;
    va_list ap;
    va_start(ap, fmt);
    set_msg(err, code, fmt, ap);
    va_end(ap);
    return code;
}

jp_status_t jp_error_errno(jp_error_t *err, jp_status_t code, int errnum, const char *fmt, ...)
{
    if (!err) return code;
    va_list ap;
    va_start(ap, fmt);
    set_msg(err, code, fmt, ap);
    va_end(ap);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
    return code;
}

void jp_error_at(jp_error_t *err, const char *file, long line, long col)
{
    if (!err) return;
    if (file) snprintf(err->file, sizeof err->file, "%s", file);
    if (line) err->line = line;
    if (col) err->col = col;
}

void jp_error_row(jp_error_t *err, long row)
{
    if (err && row) err->row = row;
}

void jp_error_field(jp_error_t *err, const char *field)
{
    if (err && field) snprintf(err->field, sizeof err->field, "%s", field);
}

void jp_error_prefix(jp_error_t *err, const char *fmt, ...)
{
    if (!err) return;
    char pre[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strlen(pre), ol = strnlen(old, sizeof old), cap = sizeof err->msg - 1;
    if (pl > cap) pl = cap;
    memcpy(err->msg, pre, pl);
    size_t n = pl;
    if (n + 2 <= cap) {
        memcpy(err->msg + n, ": ", 2);
        n += 2;
    }
    if (ol > cap - n) ol = cap - n;
    memcpy(err->msg + n, old, ol);
    err->msg[n + ol] = '\0';
}

const char *jp_error_format(const jp_error_t *err, char *buf, size_t size)
{
    size_t n = 0;
    if (!size) return buf;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < size) {                                                                            \
            int k_ = snprintf(buf + n, size - n, __VA_ARGS__);                                     \
            if (k_ > 0) n += (size_t)k_;                                                           \
        }                                                                                          \
    } while (0)
    /* every string bounded by its array: a record not from jp_error_clear
       may hold no NUL */
    int fl = (int)strnlen(err->file, sizeof err->file);
    int fd = (int)strnlen(err->field, sizeof err->field);
    int ml = (int)strnlen(err->msg, sizeof err->msg);
    if (fl) {
        ADD("%.*s", fl, err->file);
        if (err->line) ADD(":%ld", err->line);
        if (err->line && err->col) ADD(":%ld", err->col);
        ADD(": ");
    }
    if (err->row && fd)
        ADD("row %ld, field '%.*s': ", err->row, fd, err->field);
    else if (err->row)
        ADD("row %ld: ", err->row);
    else if (fd)
        ADD("field '%.*s': ", fd, err->field);
    if (ml)
        ADD("%.*s", ml, err->msg);
    else
        ADD("%s", jp_status_name(err->code));
#undef ADD
    return buf;
}

const char *jp_status_name(jp_status_t code)
{
    switch (code) {
    case JP_OK:
        return "ok";
    case JP_ERR_NOMEM:
        return "out of memory";
    case JP_ERR_IO:
        return "i/o error";
    case JP_ERR_PARSE:
        return "parse error";
    case JP_ERR_TYPE:
        return "type error";
    case JP_ERR_UNIT:
        return "unit error";
    case JP_ERR_RANGE:
        return "out of range";
    case JP_ERR_ARG:
        return "bad argument";
    case JP_ERR_NOTFOUND:
        return "not found";
    case JP_ERR_FORMAT:
        return "unsupported format";
    case JP_ERR_EXPR:
        return "expression error";
    case JP_ERR_INVALID:
        return "invalid data";
    case JP_ERR_ARCHIVE:
        return "bad archive";
    case JP_ERR_LIMIT:
        return "limit exceeded";
    case JP_ERR_INTERNAL:
        return "internal error";
    case JP_ERR_TIMEOUT:
        return "time limit exceeded";
    case JP_ERR_INTERRUPTED:
        return "interrupted";
    }
    return "error";
}
