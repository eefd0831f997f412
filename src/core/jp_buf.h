/*
 * jp_buf.h - a growable byte buffer.
 *
 * The buffer owns `data`; jp_buf_free releases it, jp_buf_detach hands it to
 * the caller (who frees it with jp_free).  `data` is always NUL-terminated
 * when non-NULL, so text can be used as a C string.  Functions return JP_OK
 * or JP_ERR_NOMEM (the buffer is left as it was on failure).
 */
#ifndef JP_BUF_H
#define JP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "jp_error.h"

typedef struct jp_buf {
    char *data;
    size_t len;
    size_t cap;
} jp_buf_t;

#define JP_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

jp_status_t jp_buf_reserve(jp_buf_t *b, size_t extra);
jp_status_t jp_buf_append(jp_buf_t *b, const void *p, size_t n);
jp_status_t jp_buf_puts(jp_buf_t *b, const char *s);
jp_status_t jp_buf_putc(jp_buf_t *b, char c);
jp_status_t jp_buf_printf(jp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
jp_status_t jp_buf_vprintf(jp_buf_t *b, const char *fmt, va_list ap);
void jp_buf_reset(jp_buf_t *b); /* len = 0, keeps the memory */
void jp_buf_free(jp_buf_t *b);
char *jp_buf_detach(jp_buf_t *b, size_t *len);

#endif
