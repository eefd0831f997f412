/*
 * jp_gunzip.c - the streaming gzip reader (jp_gzip.h): bounded memory
 * (a 64 KiB input buffer and zlib's window, whatever the data says), every
 * member of a multi-member file, and nothing else: bytes after the last
 * member, a truncated member, a member past the size or ratio limit are
 * refused with a message naming the source.  Shared by the archive reader
 * and the CSV reader so that both draw the same line.  Never writes; never
 * holds more than one input buffer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"

#define IN_BYTES ((size_t)64 << 10)

struct jp_gunzip {
    z_stream z;
    int fd;                 /* or -1: memory */
    const unsigned char *m; /* memory source */
    size_t m_len, m_pos;
    unsigned char *in; /* fd source: the input buffer */
    bool eof_in, finished;
    uint64_t fed, out; /* bytes given to inflate, bytes it produced */
    jp_gunzip_limits_t lim;
    char name[512]; /* "NAME: " for messages, or "" */
};

void jp_gunzip_limits_init(jp_gunzip_limits_t *l)
{
    l->max_out = JP_GUNZIP_MAX_OUT;
    l->max_ratio = JP_GUNZIP_MAX_RATIO;
}

static jp_gunzip_t *gz_new(const char *name, const jp_gunzip_limits_t *lim, jp_error_t *err)
{
    jp_gunzip_t *g = jp_calloc(1, sizeof *g);
    if (!g) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    g->fd = -1;
    if (lim)
        g->lim = *lim;
    else
        jp_gunzip_limits_init(&g->lim);
    if (name) snprintf(g->name, sizeof g->name, "%s: ", name);
    g->z.zalloc = jp_zalloc;
    g->z.zfree = jp_zfree;
    if (inflateInit2(&g->z, 15 + 16) != Z_OK) {
        jp_free(g);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory (inflate)");
        return NULL;
    }
    return g;
}

jp_gunzip_t *jp_gunzip_open_fd(int fd, const char *name, const jp_gunzip_limits_t *lim,
                               jp_error_t *err)
{
    jp_gunzip_t *g = gz_new(name, lim, err);
    if (!g) return NULL;
    g->fd = fd;
    if (!(g->in = jp_malloc(IN_BYTES))) {
        jp_gunzip_close(g);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return g;
}

jp_gunzip_t *jp_gunzip_open_mem(const void *p, size_t n, const char *name,
                                const jp_gunzip_limits_t *lim, jp_error_t *err)
{
    jp_gunzip_t *g = gz_new(name, lim, err);
    if (!g) return NULL;
    g->m = p;
    g->m_len = n;
    return g;
}

void jp_gunzip_close(jp_gunzip_t *g)
{
    if (!g) return;
    inflateEnd(&g->z);
    jp_free(g->in);
    jp_free(g);
}

uint64_t jp_gunzip_in(const jp_gunzip_t *g)
{
    return g->fed - g->z.avail_in;
}

/* More input after what inflate still holds (which moves to the front). */
static jp_status_t fill(jp_gunzip_t *g, jp_error_t *err)
{
    if (g->eof_in) return JP_OK;
    if (!g->in) { /* memory: hand over the rest, in pieces zlib's counters hold */
        if (g->z.avail_in) return JP_OK;
        size_t k = g->m_len - g->m_pos;
        if (k > ((size_t)1 << 30)) k = (size_t)1 << 30;
        g->z.next_in = (unsigned char *)(uintptr_t)(g->m + g->m_pos);
        g->z.avail_in = (uInt)k;
        g->m_pos += k;
        g->fed += k;
        g->eof_in = g->m_pos == g->m_len;
        return JP_OK;
    }
    if (g->z.avail_in && g->z.next_in != g->in) memmove(g->in, g->z.next_in, g->z.avail_in);
    g->z.next_in = g->in;
    for (;;) {
        ssize_t r = read(g->fd, g->in + g->z.avail_in, IN_BYTES - g->z.avail_in);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return jp_error_errno(err, JP_ERR_IO, errno, "%scannot read", g->name);
        if (r == 0) g->eof_in = true;
        g->z.avail_in += (uInt)r;
        g->fed += (uint64_t)r;
        return JP_OK;
    }
}

static jp_status_t check_limits(const jp_gunzip_t *g, jp_error_t *err)
{
    if (g->lim.max_out && g->out > g->lim.max_out)
        return jp_error_set(err, JP_ERR_LIMIT, "%smore than %llu bytes uncompressed (refused)",
                            g->name, (unsigned long long)g->lim.max_out);
    uint64_t in = jp_gunzip_in(g);
    if (g->lim.max_ratio > 0 && g->out > ((uint64_t)1 << 20) &&
        (double)g->out > g->lim.max_ratio * (double)(in ? in : 1))
        return jp_error_set(err, JP_ERR_LIMIT,
                            "%scompression ratio over %.0f (refused: a decompression bomb?)",
                            g->name, g->lim.max_ratio);
    return JP_OK;
}

/* After a member's end: the input must end, or another member begin. */
static jp_status_t next_member(jp_gunzip_t *g, jp_error_t *err)
{
    const unsigned char *at;
    size_t left;
    if (!g->in) { /* memory: what is left is contiguous */
        at = g->m + g->m_pos - g->z.avail_in;
        left = g->z.avail_in + (g->m_len - g->m_pos);
    } else {
        while (g->z.avail_in < 2 && !g->eof_in) {
            jp_status_t st = fill(g, err);
            if (st) return st;
        }
        at = g->z.next_in;
        left = g->z.avail_in;
    }
    if (left == 0) {
        g->finished = true;
        return JP_OK;
    }
    if (left >= 2 && at[0] == 0x1f && at[1] == 0x8b) {
        if (inflateReset(&g->z) != Z_OK)
            return jp_error_set(err, JP_ERR_PARSE, "%scorrupt gzip data", g->name);
        return JP_OK;
    }
    return jp_error_set(err, JP_ERR_PARSE,
                        "%sbytes after the end of the gzip data (refused: only further gzip "
                        "members may follow)",
                        g->name);
}

jp_status_t jp_gunzip_read(jp_gunzip_t *g, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    *got = 0;
    jp_status_t st;
    while (*got < n && !g->finished) {
        if (jp_stop_pending()) return jp_stop_check(err);
        if (g->z.avail_in == 0 && (st = fill(g, err))) return st;
        size_t want = n - *got;
        g->z.next_out = (unsigned char *)buf + *got;
        g->z.avail_out = (uInt)(want > ((size_t)1 << 30) ? (size_t)1 << 30 : want);
        uInt before = g->z.avail_out;
        int r = inflate(&g->z, Z_NO_FLUSH);
        size_t k = before - g->z.avail_out;
        *got += k;
        g->out += k;
        if ((st = check_limits(g, err))) return st;
        if (r == Z_STREAM_END) {
            if ((st = next_member(g, err))) return st;
        } else if (r == Z_OK || r == Z_BUF_ERROR) {
            if (k == 0 && g->z.avail_in == 0 && g->eof_in)
                return jp_error_set(err, JP_ERR_PARSE, "%struncated: the gzip data ends early",
                                    g->name);
        } else if (r == Z_MEM_ERROR) {
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory (inflate)");
        } else {
            return jp_error_set(err, JP_ERR_PARSE, "%scorrupt gzip data (%s)", g->name,
                                g->z.msg ? g->z.msg : "inflate failed");
        }
    }
    return JP_OK;
}
