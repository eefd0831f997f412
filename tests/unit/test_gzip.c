/*
 * test_gzip.c - the parallel gzip writer: one standard member whatever the
 * size, level, thread count or compressibility; blocks joined across their
 * boundaries; the same bytes from any number of threads.
 */
#include <stdbool.h>
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

/* ---- holes ------------------------------------------------------------------------- */

/* data[0..n) through the writer, with holes of hlen bytes at each of at[]
 * (ascending, each written as zeros and filled with the real bytes once
 * `later` more bytes have been written, or at the next hole); the output
 * must be the bytes of writing data straight through. */
static bool holes_agree(const unsigned char *data, size_t n, const size_t *at, int nat, size_t hlen,
                        size_t later, int threads)
{
    size_t n1, n2;
    unsigned char *want = gz(data, n, 6, threads, 65536, &n1);
    FILE *f = tmpfile(), *spill = tmpfile();
    jp_error_t err;
    jp_gzip_writer_t *w = jp_gzip_open(f, 6, threads, &err);
    jp_status_t st = w ? JP_OK : JP_ERR_NOMEM;
    size_t pos = 0;
    int h = 0;
    size_t open_at = (size_t)-1;
    while (!st && pos < n) {
        size_t next = n;
        if (h < nat && at[h] < next) next = at[h];
        if (open_at != (size_t)-1 && open_at + hlen + later < next) next = open_at + hlen + later;
        if (next > pos) {
            st = jp_gzip_write(w, data + pos, next - pos, &err);
            pos = next;
            continue;
        }
        if (open_at != (size_t)-1 && (pos >= open_at + hlen + later || (h < nat && pos == at[h]))) {
            st = jp_gzip_fill(w, data + open_at, &err);
            open_at = (size_t)-1;
            continue;
        }
        if (h < nat && pos == at[h]) {
            st = jp_gzip_hole(w, hlen, spill, NULL, &err);
            open_at = at[h++];
            pos += hlen;
        }
    }
    if (!st && open_at != (size_t)-1) st = jp_gzip_fill(w, data + open_at, &err);
    if (w) {
        if (!st)
            st = jp_gzip_close(w, NULL, NULL, &err);
        else
            jp_gzip_abort(w);
    }
    long len = ftell(f);
    unsigned char *got = malloc(len > 0 ? (size_t)len : 1);
    rewind(f);
    n2 = fread(got, 1, len > 0 ? (size_t)len : 0, f);
    bool same = st == JP_OK && want && n1 == n2 && memcmp(want, got, n1) == 0;
    if (!same) printf("# holes: status %d (%s), %zu bytes, want %zu\n", st, err.msg, n2, n1);
    free(want);
    free(got);
    fclose(f);
    fclose(spill);
    return same;
}

static void test_holes(void)
{
    size_t n = 3 * B + 777;
    const size_t a1[] = {0}, a2[] = {B - 100}, a3[] = {B + 5, 2 * B + 600}, a4[] = {3 * B + 10};
    const struct {
        const size_t *at;
        int nat;
        size_t hlen, later;
    } cases[] = {
        {a1, 1, 512, 2 * B}, /* at the start, filled two blocks on */
        {a2, 1, 512, 5},     /* across a block boundary, filled at once */
        {a2, 1, 512, 2 * B}, /* across a boundary: two blocks held */
        {a3, 2, 1024, B},    /* two holes, one after the other */
        {a4, 1, 512, 100},   /* in the last block: never held */
        {a1, 1, B, 10},      /* a whole block */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int threads = 1; threads <= 3; threads++)
            CHECK_MSG(holes_agree(text, n, cases[c].at, cases[c].nat, cases[c].hlen, cases[c].later,
                                  threads),
                      "case %zu, %d threads", c, threads);
    /* a hole near the start of many blocks: the ring of blocks goes round
       several times while it waits (an archive's first data entry) */
    size_t big = 20 * B + 3;
    unsigned char *many = malloc(big);
    for (size_t i = 0; i < big; i++) many[i] = text[i % (3 * B)] ^ (unsigned char)(i / B);
    const size_t a5[] = {1024}, a6[] = {1024, 9 * B + 77};
    for (int threads = 1; threads <= 3; threads++) {
        CHECK_MSG(holes_agree(many, big, a5, 1, 512, 15 * B, threads), "%d threads", threads);
        CHECK_MSG(holes_agree(many, big, a6, 2, 512, 6 * B, threads), "%d threads", threads);
    }
    free(many);
    /* closing with a hole unfilled is an error, not a broken member */
    FILE *f = tmpfile(), *spill = tmpfile();
    jp_gzip_writer_t *w = jp_gzip_open(f, 6, 1, NULL);
    jp_error_t err;
    CHECK(jp_gzip_hole(w, 10, spill, NULL, NULL) == JP_OK);
    CHECK(jp_gzip_hole(w, 10, spill, NULL, NULL) == JP_ERR_INTERNAL);
    CHECK(jp_gzip_close(w, NULL, NULL, &err) == JP_ERR_INTERNAL);
    fclose(f);
    fclose(spill);
}

/* ---- the reader ------------------------------------------------------------------ */

/* Read all of z[0..zn) through jp_gunzip (memory, or a file when fd), in
 * pieces of `step`; the text in *out (malloc'd), the status returned. */
static jp_status_t gunzip_all(const unsigned char *z, size_t zn, bool fd, size_t step,
                              const jp_gunzip_limits_t *lim, unsigned char **out, size_t *n,
                              jp_error_t *err)
{
    FILE *f = NULL;
    jp_gunzip_t *g;
    if (fd) {
        f = tmpfile();
        fwrite(z, 1, zn, f);
        fflush(f);
        rewind(f);
        g = jp_gunzip_open_fd(fileno(f), "t.gz", lim, err);
    } else {
        g = jp_gunzip_open_mem(z, zn, "t.gz", lim, err);
    }
    jp_status_t st = g ? JP_OK : JP_ERR_NOMEM;
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    while (!st) {
        if (*n + step > cap) {
            cap = 2 * (*n + step);
            *out = realloc(*out, cap);
        }
        size_t got;
        st = jp_gunzip_read(g, *out + *n, step, &got, err);
        *n += got;
        if (!st && got < step) break;
    }
    jp_gunzip_close(g);
    if (f) fclose(f);
    return st;
}

static void test_reader(void)
{
    size_t n1, n2;
    unsigned char *a = gz(text, 2 * B + 5, 6, 2, B, &n1);
    unsigned char *b = gz(noise, 1000, 1, 1, 1000, &n2);
    unsigned char *out;
    size_t n;
    jp_error_t err;
    /* one member, from memory and from a file, in any piece size */
    const size_t steps[] = {1, 7, 4096, 3 * B};
    for (int fd = 0; fd < 2; fd++)
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            if (steps[k] == 1 && (fd || n1 > 100000)) {
                /* byte by byte over a whole member is slow: only a short one */
                CHECK(gunzip_all(b, n2, fd, 1, NULL, &out, &n, &err) == JP_OK && n == 1000 &&
                      memcmp(out, noise, n) == 0);
                free(out);
                continue;
            }
            CHECK_MSG(gunzip_all(a, n1, fd, steps[k], NULL, &out, &n, &err) == JP_OK, "%s",
                      err.msg);
            CHECK(n == 2 * B + 5 && memcmp(out, text, n) == 0);
            free(out);
        }
    /* two members: both are read (gzip files may be concatenated) */
    unsigned char *ab = malloc(n1 + n2 + 8);
    memcpy(ab, a, n1);
    memcpy(ab + n1, b, n2);
    for (int fd = 0; fd < 2; fd++) {
        CHECK(gunzip_all(ab, n1 + n2, fd, 65536, NULL, &out, &n, &err) == JP_OK);
        CHECK(n == 2 * B + 5 + 1000 && memcmp(out + 2 * B + 5, noise, 1000) == 0);
        free(out);
    }
    /* anything else after the last member is refused: junk, zeros, one byte */
    const char *tails[] = {"JUNK", "\0\0\0\0", "\x1f", "\x1f\x8b"};
    const size_t tlen[] = {4, 4, 1, 2};
    for (int t = 0; t < 4; t++) {
        memcpy(ab + n1 + n2, tails[t], tlen[t]);
        for (int fd = 0; fd < 2; fd++) {
            jp_status_t st = gunzip_all(ab, n1 + n2 + tlen[t], fd, 65536, NULL, &out, &n, &err);
            free(out);
            CHECK_MSG(st == JP_ERR_PARSE && strstr(err.msg, "t.gz: "), "tail %d fd %d: %d %s", t,
                      fd, st, err.msg);
            CHECK(t == 3 ? strstr(err.msg, "truncated") != NULL
                         : strstr(err.msg, "after the end of the gzip data") != NULL);
        }
    }
    /* truncated anywhere: never success */
    int fails = 0;
    for (size_t cut = 0; cut < n2; cut += 1 + cut / 16) {
        if (gunzip_all(b, cut, false, 4096, NULL, &out, &n, &err) != JP_ERR_PARSE) fails++;
        free(out);
    }
    CHECK_INT(fails, 0);
    /* a corrupt byte in the deflate data or the trailer */
    unsigned char *c = malloc(n2);
    memcpy(c, b, n2);
    c[n2 - 3] ^= 1; /* the length in the trailer */
    CHECK(gunzip_all(c, n2, false, 4096, NULL, &out, &n, &err) == JP_ERR_PARSE);
    free(out);
    free(c);
    /* a bomb: 64 MiB of one byte is about 1000:1 at level 9 */
    size_t big = (size_t)64 << 20, nz;
    unsigned char *zeros = calloc(1, big);
    unsigned char *bomb = gz(zeros, big, 9, 2, B, &nz);
    jp_gunzip_limits_t lim;
    jp_gunzip_limits_init(&lim);
    lim.max_ratio = 200;
    CHECK(gunzip_all(bomb, nz, true, 65536, &lim, &out, &n, &err) == JP_ERR_LIMIT);
    CHECK_MSG(strstr(err.msg, "compression ratio over 200") && n < ((size_t)2 << 20), "%s %zu",
              err.msg, n);
    free(out);
    jp_gunzip_limits_init(&lim);
    lim.max_ratio = 0;
    lim.max_out = 5u << 20;
    CHECK(gunzip_all(bomb, nz, false, 65536, &lim, &out, &n, &err) == JP_ERR_LIMIT);
    CHECK_MSG(strstr(err.msg, "more than 5242880 bytes uncompressed"), "%s", err.msg);
    free(out);
    free(bomb);
    free(zeros);
    free(ab);
    free(a);
    free(b);
}

int main(void)
{
    size_t max = 3 * B + 1024; /* the longest text a test reads (test_holes) */
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
    RUN(test_reader);
    RUN(test_holes);
    free(text);
    free(noise);
    return unit_done();
}
