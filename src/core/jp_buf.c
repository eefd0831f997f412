/*
 * jp_buf.c - growable byte buffer.
 */
#include "jp_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "jp_mem.h"

jp_status_t jp_buf_reserve(jp_buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) return JP_ERR_NOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return JP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = jp_realloc(b->data, cap);
    if (!p) return JP_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return JP_OK;
}

jp_status_t jp_buf_append(jp_buf_t *b, const void *p, size_t n)
{
    if (jp_buf_reserve(b, n)) return JP_ERR_NOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return JP_OK;
}

jp_status_t jp_buf_puts(jp_buf_t *b, const char *s)
{
    return jp_buf_append(b, s, strlen(s));
}

jp_status_t jp_buf_putc(jp_buf_t *b, char c)
{
    return jp_buf_append(b, &c, 1);
}

jp_status_t jp_buf_vprintf(jp_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return JP_ERR_INTERNAL;
    if ((size_t)n < sizeof small) return jp_buf_append(b, small, (size_t)n);
    if (jp_buf_reserve(b, (size_t)n)) return JP_ERR_NOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return JP_OK;
}

jp_status_t jp_buf_printf(jp_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jp_status_t st = jp_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

void jp_buf_reset(jp_buf_t *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void jp_buf_free(jp_buf_t *b)
{
    jp_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *jp_buf_detach(jp_buf_t *b, size_t *len)
{
    char *p = b->data;
    if (!p) p = jp_strndup("", 0);
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
