/*
 * fuzz_gzip.c - the streaming gzip reader (src/core/jp_gunzip.c) and the
 * .tar.gz archive read through it, on any bytes.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - jp_gunzip agrees with zlib used directly: it accepts exactly the
 *    inputs that are one or more complete gzip members and nothing else,
 *    and gives the same bytes; read from memory and from a file, in pieces
 *    of any size, it gives the same result;
 *  - a refusal is an error value with a message;
 *  - as a .tar.gz, the archive's properties (fuzz_archive.h).
 */
#include <fcntl.h>
#include <zlib.h>
#include "fuzz_archive.h"
#include "jp_buf.h"
#include "jp_gzip.h"

#define CAP ((size_t)16 << 20) /* output beyond this is not compared */

/* zlib directly: 1 = complete members and nothing else, 0 = refused, -1 =
 * more than CAP bytes (not compared). */
static int reference(const uint8_t *data, size_t size, jp_buf_t *out)
{
    if (size == 0) return 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) return -1;
    z.next_in = (unsigned char *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    int verdict = 0;
    unsigned char buf[65536];
    for (;;) {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        int r = inflate(&z, Z_NO_FLUSH);
        jp_buf_append(out, buf, sizeof buf - z.avail_out);
        if (out->len > CAP) {
            verdict = -1;
            break;
        }
        if (r == Z_STREAM_END) {
            if (z.avail_in == 0) {
                verdict = 1;
                break;
            }
            if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) break;
            inflateReset(&z);
            continue;
        }
        if (r != Z_OK && !(r == Z_BUF_ERROR && z.avail_in && z.avail_out == 0)) break;
        if (r == Z_OK && z.avail_in == 0 && z.avail_out) break; /* truncated */
    }
    inflateEnd(&z);
    return verdict;
}

static jp_status_t ours(jp_gunzip_t *g, size_t piece, jp_buf_t *out, jp_error_t *err)
{
    if (!g) return err->code;
    jp_status_t st = JP_OK;
    unsigned char buf[4096];
    if (piece > sizeof buf) piece = sizeof buf;
    for (;;) {
        size_t got;
        if ((st = jp_gunzip_read(g, buf, piece, &got, err))) break;
        jp_buf_append(out, buf, got);
        if (got < piece) break;
    }
    jp_gunzip_close(g);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jp_gunzip_limits_t lim = {CAP, 0};
    jp_buf_t want = JP_BUF_INIT, a = JP_BUF_INIT, b = JP_BUF_INIT;
    int verdict = reference(data, size, &want);
    jp_error_t ea, eb;
    jp_error_clear(&ea);
    jp_error_clear(&eb);
    size_t piece = size ? 1 + data[size / 2] * 13u : 1;
    jp_status_t sa = ours(jp_gunzip_open_mem(data, size, "m.gz", &lim, &ea), piece, &a, &ea);
    char path[600];
    fuzz_file(data, size, ".gz", path, sizeof path);
    int fd = open(path, O_RDONLY);
    FUZZ_ASSERT(fd >= 0, "cannot open %s", path);
    jp_status_t sb = ours(jp_gunzip_open_fd(fd, "f.gz", &lim, &eb), 4096, &b, &eb);
    close(fd);
    unlink(path);
    if (sa) FUZZ_ASSERT(ea.msg[0], "refused (%d) without a message", (int)sa);
    FUZZ_ASSERT(sa == sb, "memory %d (%s), file %d (%s)", (int)sa, ea.msg, (int)sb, eb.msg);
    if (!sa)
        FUZZ_ASSERT(a.len == b.len && (a.len == 0 || !memcmp(a.data, b.data, a.len)),
                    "memory and file give different bytes");
    if (verdict >= 0) {
        FUZZ_ASSERT((sa == JP_OK) == (verdict == 1), "zlib says %s, jp_gunzip %d (%s)",
                    verdict ? "complete" : "refused", (int)sa, ea.msg);
        if (verdict == 1)
            FUZZ_ASSERT(a.len == want.len && (a.len == 0 || !memcmp(a.data, want.data, a.len)),
                        "%zu bytes, zlib %zu", a.len, want.len);
    } else {
        FUZZ_ASSERT(sa == JP_ERR_LIMIT || sa == JP_ERR_PARSE, "past the cap: %d", (int)sa);
    }
    jp_buf_free(&want);
    jp_buf_free(&a);
    jp_buf_free(&b);
    fuzz_archive(data, size, ".tar.gz");
    return 0;
}
