/*
 * test_gzip.c - the parallel gzip writer: one standard member whatever the
 * size, level, thread count or compressibility; blocks joined across their
 * boundaries; the same bytes from any number of threads.
 */
#include <stdlib.h>
#include <zlib.h>
#include "jp_buf.h"
#include "jp_gzip.h"
#include "jp_mem.h"
#include "unit.h"

/* Compress data with the writer into memory (via a temporary FILE). */
static unsigned char *gz(const unsigned char *data, size_t n, int level, int threads, size_t step,
                         size_t *outn)
{
    FILE *f = tmpfile();
    if (!f) return NULL;
    jp_error_t err;
    jp_gzip_writer_t *w = jp_gzip_open(f, level, threads, &err);
    if (!w) {
        fclose(f);
        return NULL;
    }
    for (size_t o = 0; o < n; o += step)
        if (jp_gzip_write(w, data + o, o + step < n ? step : n - o, &err)) break;
    uint32_t crc;
    uint64_t size;
    jp_status_t st = jp_gzip_close(w, &crc, &size, &err);
    CHECK(st == JP_OK);
    CHECK(size == n);
    CHECK(crc == (uint32_t)crc32(0, data, (uInt)n));
    long len = ftell(f);
    rewind(f);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    *outn = got;
    return buf;
}

/* Inflate exactly one gzip member; it must use every byte. */
static int one_member(const unsigned char *z, size_t zn, const unsigned char *want, size_t n)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 31) != Z_OK) return 0;
    unsigned char *out = malloc(n + 1);
    s.next_in = (unsigned char *)z;
    s.avail_in = (uInt)zn;
    s.next_out = out;
    s.avail_out = (uInt)(n + 1);
    int rc = inflate(&s, Z_FINISH);
    int ok = rc == Z_STREAM_END && s.avail_in == 0 && s.total_out == n && memcmp(out, want, n) == 0;
    inflateEnd(&s);
    free(out);
    return ok;
}

static unsigned char *text, *noise;
static const size_t B = JP_GZIP_BLOCK;

/* Every size around the block boundaries, compressible or not, at three levels. */
static void test_members(void)
{
    const size_t sizes[] = {0, 1, 100, B - 1, B, B + 1, 2 * B, 3 * B + 7};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (int kind = 0; kind < 2; kind++) {
            const unsigned char *d = kind ? noise : text;
            size_t n = sizes[si];
            for (int level = 1; level <= 9; level += 4) {
                size_t n1, n2, n3;
                unsigned char *a = gz(d, n, level, 1, n ? n : 1, &n1);
                unsigned char *b = gz(d, n, level, 2, 4093, &n2);
                unsigned char *c = gz(d, n, level, 4, B / 3, &n3);
                CHECK_MSG(a && one_member(a, n1, d, n), "size %zu kind %d level %d", n, kind,
                          level);
                CHECK_MSG(a && b && n1 == n2 && memcmp(a, b, n1) == 0, "threads change bytes (%zu)",
                          n);
                CHECK_MSG(a && c && n1 == n3 && memcmp(a, c, n1) == 0, "splits change bytes (%zu)",
                          n);
                /* no name, no time: the header is fixed */
                CHECK(a && n1 >= 18 && a[0] == 0x1f && a[1] == 0x8b && a[3] == 0 && a[4] == 0 &&
                      a[5] == 0 && a[6] == 0 && a[7] == 0);
                if (kind == 0 && n > B)
                    CHECK_MSG(n1 < n / 4, "text compresses (%zu -> %zu)", n, n1);
                free(a);
                free(b);
                free(c);
            }
        }
    }
}

/* Allocation failures fail cleanly, and with enough allocations it works. */
static void test_oom(void)
{
    jp_status_t st = JP_ERR_NOMEM;
    for (long k = 1; k < 40; k++) {
        jp_mem_fail_after(k, 1);
        FILE *f = tmpfile();
        jp_gzip_writer_t *w = jp_gzip_open(f, 6, 2, NULL);
        st = w ? jp_gzip_write(w, text, 2 * B + 3, NULL) : JP_ERR_NOMEM;
        if (w) {
            if (st)
                jp_gzip_abort(w);
            else
                st = jp_gzip_close(w, NULL, NULL, NULL);
        }
        jp_mem_fail_after(0, 0);
        fclose(f);
        CHECK_MSG(st == JP_OK || st == JP_ERR_NOMEM, "allocation %ld: status %d", k, (int)st);
        if (st == JP_OK) break;
    }
    CHECK(st == JP_OK);
}

static void test_refusals(void)
{
    CHECK(jp_gzip_open(stdout, 10, 1, NULL) == NULL);
}

int main(void)
{
    size_t max = 3 * B + 7;
    text = malloc(max);
    noise = malloc(max);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < max; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (unsigned char)x;
        text[i] =
            (unsigned char)("year,district,crop\n2021,Haidian,wheat\n"[i % 39]) ^ (x % 97 == 0);
    }
    RUN(test_members);
    RUN(test_oom);
    RUN(test_refusals);
    free(text);
    free(noise);
    return unit_done();
}
