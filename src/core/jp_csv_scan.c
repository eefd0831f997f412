/*
 * jp_csv_scan.c - one pass over a CSV file's data records, in parallel,
 * into typed columns.
 *
 * Data flow.  The calling thread reads the text in batches (two buffers:
 * while the workers parse one, it reads the next).  A batch always starts
 * at a record start and is cut into chunks of about chunk_bytes.  Chunk 0
 * starts at the batch start; the others start, speculatively, after the
 * first LF at or past their nominal start.  Each chunk is parsed by one
 * worker into chunk-local arrays and dictionaries, records starting before
 * the chunk's nominal end.  Then, in order, the calling thread checks that
 * each chunk started exactly where the one before it ended (it re-parses
 * the chunk when a quoted field crossed the cut), reports the first error,
 * carries the unfinished last record into the next batch, and appends the
 * chunks to the column builders while the workers parse the next batch.
 *
 * Scanning.  64 bytes at a time, bit masks of quotes, delimiters + LF and
 * NUL bytes; a prefix XOR over the quote mask tells which bytes are inside
 * quotes, so the field ends are the set bits outside quotes.  Fields that
 * hold a quote are checked (must start and end with one, inner quotes
 * doubled), whether the field is read or not: the set of records is the
 * same whatever columns are asked for.
 *
 * Inference.  Each chunk column keeps the kinds of cells it saw and stores
 * values in the narrowest representation so far (int64, double, bool,
 * date, dictionary code), widening in place; int/bool/date cells can be
 * turned back into their exact text, decimals cannot.  A column that turns
 * out to be text after decimals were stored as doubles is "dead" in this
 * pass and is read again, as text, by a second pass over the file.
 *
 * Never prints; no per-cell allocation in the common case; the workers
 * share nothing writable but their own chunk.
 */
#include "jp_csv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_dataset.h"
#include "jp_file.h"
#include "jp_mem.h"
#include "jp_unit.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- tuning ---------------------------------------------------------------- */

static csv_tuning_t tuning;

void jp_csv_set_tuning(const jp_csv_tuning_t *t)
{
    memset(&tuning, 0, sizeof tuning);
    if (!t) return;
    tuning.batch_bytes = t->batch_bytes;
    tuning.chunk_bytes = t->chunk_bytes;
    tuning.max_record = t->max_record;
    tuning.lazy_bytes = t->lazy_bytes;
    tuning.threads = t->threads;
}

void jp_csv_tuning_get(csv_tuning_t *t)
{
    t->batch_bytes = tuning.batch_bytes ? tuning.batch_bytes : JP_CSV_BATCH_BYTES;
    t->chunk_bytes = tuning.chunk_bytes ? tuning.chunk_bytes : JP_CSV_CHUNK_BYTES;
    t->max_record = tuning.max_record ? tuning.max_record : JP_CSV_MAX_RECORD;
    t->lazy_bytes = tuning.lazy_bytes ? tuning.lazy_bytes : JP_CSV_LAZY_BYTES;
    t->threads = tuning.threads;
}

/* ---- text helpers ---------------------------------------------------------- */

long jp_csv_char_col(const char *line0, const char *pos)
{
    long col = 1;
    for (const char *p = line0; p < pos; p++)
        if (((unsigned char)*p & 0xC0) != 0x80) col++;
    return col;
}

bool jp_csv_utf8_ok(const char *str, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            if (bad) *bad = i;
            return false;
        }
        if (i + k >= n) { /* truncated sequence */
            if (bad) *bad = i;
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            if (bad) *bad = i;
            return false;
        }
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80) {
                if (bad) *bad = i;
                return false;
            }
        i += k + 1;
    }
    return true;
}

static size_t count_nl(const char *p, size_t n)
{
    size_t c = 0, i = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        /* byte counters summed every 255 blocks at most */
        __m128i acc = zero;
        size_t stop = i + 16 * 255 < n ? i + 16 * 255 : n;
        for (; i + 16 <= stop; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_add_epi8(acc, _mm_and_si128(_mm_cmpeq_epi8(x, nl), one));
        }
        __m128i sum = _mm_sad_epu8(acc, zero);
        c += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
    }
#endif
    for (; i < n; i++) c += p[i] == '\n';
    return c;
}

/* Ask for huge pages on a big array: far fewer page faults while it fills
 * (transparent huge pages in "madvise" mode; a no-op elsewhere). */
static void huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t H = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + H - 1) & ~(H - 1), e = ((uintptr_t)p + n) & ~(H - 1);
    if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

/* ---- reading the text ------------------------------------------------------ */

struct csv_reader {
    int fd;
    gzFile gz;
    const char *mem;
    size_t mem_len, mem_pos;
    const char *name;
};

jp_status_t jp_csv_reader_open(const csv_src_t *src, const csv_layout_t *lay, csv_reader_t **out,
                               jp_error_t *err)
{
    *out = NULL;
    csv_reader_t *r = jp_calloc(1, sizeof *r);
    if (!r) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    r->fd = -1;
    r->name = src->path;
    if (src->mem) {
        r->mem = src->mem;
        r->mem_len = src->mem_len;
        *out = r;
        return JP_OK;
    }
    r->fd = open(src->path, O_RDONLY);
    if (r->fd < 0) {
        int e = errno;
        jp_free(r);
        return jp_error_errno(err, e == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, e, "cannot open %s",
                              src->path);
    }
    struct stat st;
    if (fstat(r->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(r->fd);
        jp_free(r);
        return jp_error_set(err, JP_ERR_IO, "%s is a directory", src->path);
    }
    if (lay && lay->have_id &&
        ((uint64_t)st.st_dev != lay->dev || (uint64_t)st.st_ino != lay->ino ||
         (uint64_t)st.st_size != lay->size || (int64_t)st.st_mtim.tv_sec != lay->mtime_s ||
         (int64_t)st.st_mtim.tv_nsec != lay->mtime_ns)) {
        close(r->fd);
        jp_free(r);
        return jp_error_set(err, JP_ERR_IO, "%s changed since it was opened; read it again",
                            src->path);
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    if (src->gz) {
        int fd2 = dup(r->fd);
        r->gz = fd2 >= 0 ? gzdopen(fd2, "rb") : NULL;
        if (!r->gz) {
            if (fd2 >= 0) close(fd2);
            close(r->fd);
            jp_free(r);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory opening %s", src->path);
        }
        gzbuffer(r->gz, 1 << 18);
    }
    *out = r;
    return JP_OK;
}

jp_status_t jp_csv_reader_read(csv_reader_t *r, char *buf, size_t n, size_t *got, jp_error_t *err)
{
    size_t have = 0;
    if (r->mem) {
        size_t k = r->mem_len - r->mem_pos;
        if (k > n) k = n;
        memcpy(buf, r->mem + r->mem_pos, k);
        r->mem_pos += k;
        *got = k;
        return JP_OK;
    }
    while (have < n) {
        size_t want = n - have;
        if (r->gz) {
            if (want > (1u << 30)) want = 1u << 30;
            int k = gzread(r->gz, buf + have, (unsigned)want);
            if (k < 0) {
                int zerr;
                const char *m = gzerror(r->gz, &zerr);
                return jp_error_set(err, JP_ERR_PARSE, "%s: bad gzip data: %s", r->name, m);
            }
            if (k == 0) {
                int zerr;
                const char *m = gzerror(r->gz, &zerr);
                if (zerr != Z_OK && zerr != Z_STREAM_END)
                    return jp_error_set(err, JP_ERR_PARSE, "%s: bad gzip data: %s", r->name, m);
                break;
            }
            have += (size_t)k;
        } else {
            ssize_t k = read(r->fd, buf + have, want);
            if (k < 0) {
                if (errno == EINTR) continue;
                return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", r->name);
            }
            if (k == 0) break;
            have += (size_t)k;
        }
    }
    *got = have;
    return JP_OK;
}

static jp_status_t reader_skip(csv_reader_t *r, uint64_t off, jp_error_t *err)
{
    if (r->mem) {
        r->mem_pos = off < r->mem_len ? (size_t)off : r->mem_len;
        return JP_OK;
    }
    if (!r->gz) {
        if (lseek(r->fd, (off_t)off, SEEK_SET) < 0)
            return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", r->name);
        return JP_OK;
    }
    char tmp[65536];
    while (off) {
        size_t want = off < sizeof tmp ? (size_t)off : sizeof tmp, got;
        jp_status_t st = jp_csv_reader_read(r, tmp, want, &got, err);
        if (st) return st;
        if (!got) break;
        off -= got;
    }
    return JP_OK;
}

void jp_csv_reader_close(csv_reader_t *r)
{
    if (!r) return;
    if (r->gz) gzclose(r->gz);
    if (r->fd >= 0) close(r->fd);
    jp_free(r);
}

/* ---- cell kinds and stores ------------------------------------------------- */

#define K_NULL    0x001u
#define K_QEMPTY  0x002u /* "" : empty text, or null in a typed column */
#define K_INT     0x004u
#define K_INTWIDE 0x008u /* int64 a double cannot hold */
#define K_DEC     0x010u
#define K_BIGX    0x020u /* integer beyond int64 that a double holds exactly */
#define K_SPECIAL 0x040u /* nan, inf */
#define K_BOOL    0x080u
#define K_DATE    0x100u
#define K_STR     0x200u
#define K_PERIOD  0x400u

/* ST_PDEC: decimals kept as (digits, sign, scale) and divided out when the
 * chunk is appended, where the divisions do not wait on each other. */
enum { ST_NONE = 0, ST_INT, ST_NUM, ST_BOOL, ST_DATE, ST_STR, ST_PERIOD, ST_DEAD, ST_PDEC };

static int store_of_kind(unsigned k)
{
    if (k & (K_INT | K_INTWIDE)) return ST_INT;
    if (k & (K_DEC | K_BIGX | K_SPECIAL)) return ST_NUM;
    if (k & K_BOOL) return ST_BOOL;
    if (k & K_DATE) return ST_DATE;
    if (k & K_PERIOD) return ST_PERIOD;
    return ST_STR;
}

static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') <= 9;
}

static bool int_fits_double(int64_t v)
{
    if (v >= -(INT64_C(1) << 53) && v <= (INT64_C(1) << 53)) return true;
    double d = (double)v;
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (int64_t)d == v;
}

static inline uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static inline double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static unsigned classify_special(const char *s, size_t n, uint64_t *bits)
{
    bool neg = n && s[0] == '-';
    const char *t = s + neg;
    size_t m = n - neg;
    if (m == 3 && (memcmp(t, "inf", 3) == 0 || memcmp(t, "Inf", 3) == 0)) {
        *bits = dbits(neg ? -INFINITY : INFINITY);
        return K_SPECIAL;
    }
    if (!neg && m == 3 && (memcmp(t, "nan", 3) == 0 || memcmp(t, "NaN", 3) == 0)) {
        *bits = dbits(NAN);
        return K_SPECIAL;
    }
    return K_STR;
}

/* A number-looking cell: integer, decimal, date or text. */
static unsigned classify_num(const char *s, size_t n, uint64_t *bits)
{
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1) return K_STR;
        if (!is_digit((unsigned char)s[1]) && s[1] != '.') return classify_special(s, n, bits);
    }
    size_t d0 = i;
    uint64_t m = 0;
    while (i < n && is_digit((unsigned char)s[i])) m = m * 10 + (uint64_t)(s[i++] - '0');
    size_t nint = i - d0;
    if (i == n) {
        if (nint == 0) return K_STR;
        if (s[d0] == '0' && (nint > 1 || neg)) return K_STR; /* 007, -0 */
        int64_t v;
        if (nint <= 18) {
            v = neg ? -(int64_t)m : (int64_t)m;
        } else {
            int r = jp_parse_int64(s, n, &v);
            if (r == 1) return K_STR;
            if (r == 2) {
                /* beyond int64: a number only if the double is exact */
                double d;
                if (!jp_parse_double(s, n, &d) || !isfinite(d)) return K_STR;
                char buf[400];
                int k = snprintf(buf, sizeof buf, "%.0f", fabs(d));
                if (k <= 0 || (size_t)k != nint || memcmp(buf, s + d0, nint) != 0) return K_STR;
                *bits = dbits(d);
                return K_BIGX;
            }
        }
        *bits = (uint64_t)v;
        return int_fits_double(v) ? K_INT : K_INTWIDE;
    }
    if (!neg && nint == 4 && n == 10 && s[4] == '-') {
        int32_t d;
        if (!jp_date_parse(s, n, &d)) return K_STR;
        *bits = (uint64_t)(uint32_t)d;
        return K_DATE;
    }
    if (nint > 1 && s[d0] == '0') return K_STR; /* 007.5 */
    size_t nfrac = 0;
    if (s[i] == '.') {
        size_t f0 = ++i;
        while (i < n && is_digit((unsigned char)s[i])) m = m * 10 + (uint64_t)(s[i++] - '0');
        nfrac = i - f0;
    }
    if (nint + nfrac == 0) return K_STR;
    int e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        size_t e0 = i;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (e < 100000) e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0) return K_STR;
        if (eneg) e = -e;
    }
    if (i != n) return K_STR;
    double d;
    int ex = e - (int)nfrac;
    if (nint + nfrac <= 19 && m <= (UINT64_C(1) << 53) && ex >= -22 && ex <= 22) {
        d = (double)m;
        d = ex < 0 ? d / p10[-ex] : d * p10[ex];
        if (neg) d = -d;
    } else if (!jp_parse_double(s, n, &d)) {
        return K_STR;
    }
    if (!isfinite(d)) return K_STR; /* 1e999 would not read back */
    *bits = dbits(d);
    return K_DEC;
}

static inline unsigned classify(const char *s, size_t n, uint64_t *bits)
{
    unsigned char c = (unsigned char)s[0];
    if (is_digit(c) || c == '-' || c == '.') return classify_num(s, n, bits);
    if (c == 't') {
        if (n == 4 && memcmp(s, "true", 4) == 0) {
            *bits = 1;
            return K_BOOL;
        }
        return K_STR;
    }
    if (c == 'f') {
        if (n == 5 && memcmp(s, "false", 5) == 0) {
            *bits = 0;
            return K_BOOL;
        }
        return K_STR;
    }
    if (c == 'n' || c == 'N' || c == 'i' || c == 'I') return classify_special(s, n, bits);
    return K_STR;
}

/* ---- chunk-local dictionaries --------------------------------------------------
 * Distinct strings of one column in one chunk.  Lighter than jp_strdict_t
 * (a short hash of at most two words for short strings, no per-call
 * checks); the builder interns each distinct string once into the
 * column's jp_strdict_t.
 */
typedef struct cdict {
    uint32_t count, cap, mask;
    uint32_t *slots; /* code + 1, 0 = empty; mask + 1 entries */
    uint32_t *hash;  /* per code */
    size_t *off;     /* per code, cap + 1 */
    char *bytes;
    size_t blen, bcap;
} cdict_t;

#define NO_CODE UINT32_MAX

static inline uint64_t rd64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint32_t fhash(const char *s, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) h = (h ^ rd64(s + i)) * 0xFF51AFD7ED558CCDULL;
        h = (h ^ rd64(s + n - 8)) * 0xC4CEB9FE1A85EC53ULL;
    } else if (n >= 4) {
        h = (h ^ (((uint64_t)rd32(s) << 32) | rd32(s + n - 4))) * 0xC4CEB9FE1A85EC53ULL;
    } else if (n) {
        uint64_t w = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
                     (uint64_t)(unsigned char)s[n - 1] << 16;
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    }
    h ^= h >> 31;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 29;
    return (uint32_t)h;
}

static void cdict_free(cdict_t *d)
{
    jp_free(d->slots);
    jp_free(d->hash);
    jp_free(d->off);
    jp_free(d->bytes);
    memset(d, 0, sizeof *d);
}

static bool cdict_reset(cdict_t *d)
{
    if (!d->slots) {
        d->mask = 63;
        d->cap = 32;
        d->slots = jp_calloc(d->mask + 1, sizeof *d->slots);
        d->hash = jp_malloc_array(d->cap, sizeof *d->hash);
        d->off = jp_malloc_array(d->cap + 1, sizeof *d->off);
        d->bytes = jp_malloc(1024); /* never NULL, even when every string is empty */
        d->bcap = 1024;
        if (!d->slots || !d->hash || !d->off || !d->bytes) {
            cdict_free(d);
            return false;
        }
    } else if (d->count) {
        memset(d->slots, 0, (size_t)(d->mask + 1) * sizeof *d->slots);
    }
    d->count = 0;
    d->blen = 0;
    d->off[0] = 0;
    return true;
}

static inline const char *cdict_get(const cdict_t *d, uint32_t code, size_t *len)
{
    *len = d->off[code + 1] - d->off[code];
    return d->bytes + d->off[code];
}

static inline uint32_t cdict_find(const cdict_t *d, const char *s, size_t n, uint32_t h)
{
    uint32_t j = h & d->mask;
    for (;;) {
        uint32_t c = d->slots[j];
        if (!c) return NO_CODE;
        c--;
        if (d->hash[c] == h && d->off[c + 1] - d->off[c] == n &&
            memcmp(d->bytes + d->off[c], s, n) == 0)
            return c;
        j = (j + 1) & d->mask;
    }
}

/* Insert a string known to be absent. */
static bool cdict_add(cdict_t *d, const char *s, size_t n, uint32_t h, uint32_t *code)
{
    if (d->count >= 0xFFFFFFF0u) return false;
    if (d->blen + n > d->bcap) {
        size_t cap = d->bcap ? d->bcap : 1024;
        while (cap < d->blen + n) cap *= 2;
        char *b = jp_realloc(d->bytes, cap);
        if (!b) return false;
        d->bytes = b;
        d->bcap = cap;
    }
    if (d->count + 1 >= d->cap) {
        uint32_t cap = d->cap * 2;
        uint32_t *hs = jp_realloc_array(d->hash, cap, sizeof *hs);
        if (!hs) return false;
        d->hash = hs;
        size_t *o = jp_realloc_array(d->off, (size_t)cap + 1, sizeof *o);
        if (!o) return false;
        d->off = o;
        d->cap = cap;
    }
    if ((d->count + 1) * 2 > d->mask + 1) {
        uint32_t m = d->mask * 2 + 1;
        uint32_t *sl = jp_calloc((size_t)m + 1, sizeof *sl);
        if (!sl) return false;
        for (uint32_t c = 0; c < d->count; c++) {
            uint32_t j = d->hash[c] & m;
            while (sl[j]) j = (j + 1) & m;
            sl[j] = c + 1;
        }
        jp_free(d->slots);
        d->slots = sl;
        d->mask = m;
    }
    uint32_t c = d->count++;
    if (n) memcpy(d->bytes + d->blen, s, n);
    d->blen += n;
    d->off[c + 1] = d->blen;
    d->hash[c] = h;
    uint32_t j = h & d->mask;
    while (d->slots[j]) j = (j + 1) & d->mask;
    d->slots[j] = c + 1;
    *code = c;
    return true;
}

static inline bool cdict_intern(cdict_t *d, const char *s, size_t n, uint32_t *code)
{
    uint32_t h = fhash(s, n);
    uint32_t c = cdict_find(d, s, n, h);
    if (c != NO_CODE) {
        *code = c;
        return true;
    }
    return cdict_add(d, s, n, h, code);
}

/* ---- explicit types --------------------------------------------------------- */

static void trim(const char **s, size_t *n)
{
    while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int quote_len(size_t n)
{
    return n > 60 ? 60 : (int)n;
}

/* A figure through jp_quantity_parse, converted to `unit`.  why: >= 256. */
static bool parse_quantity(const char *s, size_t n, const char *unit, const char *what, double *v,
                           uint8_t *qual, char *why, size_t wsz)
{
    jp_quantity_t q;
    jp_error_t e;
    jp_error_clear(&e);
    if (!jp_quantity_parse(s, n, &q, &e)) {
        snprintf(why, wsz, "'%.*s' is not %s", quote_len(n), s, what);
        return false;
    }
    double val = q.value;
    if (q.unit[0]) {
        if (!unit) {
            snprintf(why, wsz, "'%.*s' names the unit %s but the field has no unit", quote_len(n),
                     s, q.unit);
            return false;
        }
        jp_unit_conv_t cv;
        if (jp_unit_conversion(q.unit, unit, &cv, &e) != JP_OK) {
            snprintf(why, wsz, "'%.*s' is in %s, which does not convert to %s", quote_len(n), s,
                     q.unit, unit);
            return false;
        }
        val = jp_unit_apply(&cv, val);
    }
    *v = val;
    *qual = (uint8_t)q.qual;
    return true;
}

static bool parse_exp_int(const char *s, size_t n, const char *unit, int64_t *out, uint8_t *qual,
                          char *why, size_t wsz)
{
    trim(&s, &n);
    *qual = 0;
    if (n && jp_parse_int64(s, n, out) == 0) return true;
    /* '+' and leading zeros: the field is declared integer */
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) neg = s[i++] == '-';
    while (i + 1 < n && s[i] == '0') i++;
    if (i < n) {
        char tmp[32];
        size_t k = n - i;
        if (k + 1 < sizeof tmp) {
            size_t o = 0;
            if (neg) tmp[o++] = '-';
            memcpy(tmp + o, s + i, k);
            int64_t v;
            if (!(neg && k == 1 && s[i] == '0') && jp_parse_int64(tmp, o + k, &v) == 0) {
                *out = v;
                return true;
            }
            if (neg && k == 1 && s[i] == '0') {
                *out = 0;
                return true;
            }
        }
    }
    double d;
    if (!n || !parse_quantity(s, n, unit, "an integer", &d, qual, why, wsz)) {
        if (!n) snprintf(why, wsz, "'' is not an integer");
        return false;
    }
    if (!(d == floor(d)) || !(fabs(d) < 9.2e18)) {
        snprintf(why, wsz, "'%.*s' is not an integer", quote_len(n), s);
        return false;
    }
    *out = (int64_t)d;
    return true;
}

static bool parse_exp_num(const char *s, size_t n, const char *unit, double *out, uint8_t *qual,
                          char *why, size_t wsz)
{
    trim(&s, &n);
    *qual = 0;
    uint64_t bits;
    if (n) {
        unsigned k = classify(s, n, &bits);
        if (k & (K_INT | K_INTWIDE)) {
            *out = (double)(int64_t)bits;
            return true;
        }
        if (k & (K_DEC | K_BIGX | K_SPECIAL)) {
            *out = bitsd(bits);
            return true;
        }
        if (jp_parse_double(s, n, out)) return true;
    }
    if (!n) {
        snprintf(why, wsz, "'' is not a number");
        return false;
    }
    return parse_quantity(s, n, unit, "a number", out, qual, why, wsz);
}

static bool ieq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (k != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

static bool parse_exp_bool(const char *s, size_t n, uint64_t *out, char *why, size_t wsz)
{
    trim(&s, &n);
    if (ieq(s, n, "true") || ieq(s, n, "yes") || (n == 1 && s[0] == '1'))
        *out = 1;
    else if (ieq(s, n, "false") || ieq(s, n, "no") || (n == 1 && s[0] == '0'))
        *out = 0;
    else {
        snprintf(why, wsz, "'%.*s' is not a boolean (true/false)", quote_len(n), s);
        return false;
    }
    return true;
}

/* ---- chunks ------------------------------------------------------------------ */

typedef struct ccol {
    int store;
    unsigned kinds;
    uint64_t *v; /* cap slots: int64 bits, double bits, bool, date, code */
    jp_period_t *p;
    uint8_t *nulls; /* 1 null, 2 quoted empty; valid when has_nulls */
    uint8_t *quals; /* valid when has_quals */
    size_t vcap, pcap, ncap, qcap;
    bool has_nulls, has_quals;
    cdict_t d;
} ccol_t;

typedef struct cell {
    unsigned kind;
    uint8_t qual;
    uint32_t code; /* text found in the chunk dictionary, or NO_CODE */
    uint32_t hash;
    uint64_t bits;
    const char *t;
    size_t n;
    jp_period_t per;
} cell_t;

typedef struct rej {
    size_t start, end; /* record text in the batch */
    size_t rel_line;   /* lines from the chunk start */
    bool content;      /* set aside for a cell, not the record's shape */
    char *reason;
} rej_t;

typedef struct chunk {
    size_t s, nend; /* start used, nominal end */
    bool spec;      /* start to be found after the first LF past s */
    size_t e;
    bool incomplete;
    size_t rows, cap;
    size_t nl;
    uint32_t *rline;
    size_t rline_cap;
    bool irregular;
    ccol_t *cc;
    size_t ncc;
    cell_t *cells;
    size_t *fs, *fe;
    uint8_t *ff;
    jp_buf_t scratch;
    /* failure */
    jp_status_t est;
    size_t epos;
    size_t erow;
    long ecs;
    char emsg[400];
    /* records set aside */
    rej_t *rej;
    size_t nrej, rej_cap;
    long line0; /* set in order, by the calling thread */
} chunk_t;

typedef struct batch {
    char *mem;
    size_t memcap;
    char *data;
    size_t len;
    size_t fresh; /* bytes read after the carry */
    uint64_t off;
    long line;
    bool eof;
    chunk_t *ch;
    size_t nch, chcap;
    int *mode;
    size_t e_final;
    size_t nl_total;
    size_t row_bytes; /* estimate, for sizing chunk arrays */
} batch_t;

struct scratch {
    uint32_t *ev, *nl, *q, *z, *qnl; /* fast-path index of a window */
};

typedef struct bld {
    int store;
    unsigned kinds;
    jp_column_t *col; /* NULL while DEAD; type INT as a stand-in while NONE */
} bld_t;

typedef struct pass {
    const csv_src_t *src;
    const csv_layout_t *lay;
    const csv_colspec_t *cs;
    size_t n;
    long *slot_of; /* per file column: colspec index or -1 */
    csv_tuning_t tune;
    int nthreads;
    /* workers */
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_done;
    pthread_t *th;
    int nth;
    bool sync_ok, quit;
    batch_t *cur;
    size_t next, done;
    /* results */
    bld_t *b;
    int *mode; /* per colspec, for batches not yet dispatched */
    size_t rows;
    jp_column_t *lines;
    /* rejects */
    size_t nrej, rej_cap;
    long *rej_line;
    char **rej_text, **rej_reason;
    uint64_t *skip; /* sorted record offsets to pass over (second passes) */
    size_t nskip;
    uint64_t *content_rej; /* offsets of records set aside for a cell */
    size_t ncontent, content_cap;
    uint64_t total_hint; /* file size for sizing, 0 unknown */
    size_t row_bytes;    /* bytes per row so far (>= 1) */
    uint64_t bytes_done;
    size_t *need_j, *need_k; /* the columns read, in file order: field index, slot */
    struct scratch scratch;  /* the calling thread's */
} pass_t;

static void ccol_free(ccol_t *c)
{
    jp_free(c->v);
    jp_free(c->p);
    jp_free(c->nulls);
    jp_free(c->quals);
    cdict_free(&c->d);
    memset(c, 0, sizeof *c);
}

static void chunk_clear_rejects(chunk_t *C)
{
    for (size_t i = 0; i < C->nrej; i++) jp_free(C->rej[i].reason);
    C->nrej = 0;
}

static void chunk_free(chunk_t *C)
{
    for (size_t k = 0; k < C->ncc; k++) ccol_free(&C->cc[k]);
    jp_free(C->cc);
    jp_free(C->cells);
    jp_free(C->fs);
    jp_free(C->fe);
    jp_free(C->ff);
    jp_free(C->rline);
    jp_buf_free(&C->scratch);
    chunk_clear_rejects(C);
    jp_free(C->rej);
    memset(C, 0, sizeof *C);
}

/* Fail the chunk (first failure wins). */
static void chunk_fail(chunk_t *C, jp_status_t st, size_t pos, long cs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void chunk_fail(chunk_t *C, jp_status_t st, size_t pos, long cs, const char *fmt, ...)
{
    if (C->est) return;
    C->est = st;
    C->epos = pos;
    C->erow = C->rows;
    C->ecs = cs;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(C->emsg, sizeof C->emsg, fmt, ap);
    va_end(ap);
}

static bool chunk_grow(chunk_t *C, size_t need)
{
    if (need <= C->cap) return true;
    size_t cap = C->cap ? C->cap : 64;
    while (cap < need) cap = cap + cap / 2 + 64;
    for (size_t k = 0; k < C->ncc; k++) {
        ccol_t *c = &C->cc[k];
        if (c->store == ST_DEAD) continue;
        if (c->store == ST_PERIOD) {
            jp_period_t *p = jp_realloc_array(c->p, cap, sizeof *p);
            if (!p) return false;
            c->p = p;
            c->pcap = cap;
        } else {
            uint64_t *v = jp_realloc_array(c->v, cap, sizeof *v);
            if (!v) return false;
            c->v = v;
            c->vcap = cap;
        }
        if (c->has_nulls) {
            uint8_t *u = jp_realloc(c->nulls, cap);
            if (!u) return false;
            memset(u + C->cap, 0, cap - C->cap);
            c->nulls = u;
            c->ncap = cap;
        }
        if (c->has_quals) {
            uint8_t *u = jp_realloc(c->quals, cap);
            if (!u) return false;
            memset(u + C->cap, 0, cap - C->cap);
            c->quals = u;
            c->qcap = cap;
        }
    }
    if (C->irregular) {
        uint32_t *r = jp_realloc_array(C->rline, cap, sizeof *r);
        if (!r) return false;
        C->rline = r;
        C->rline_cap = cap;
    }
    C->cap = cap;
    return true;
}

/* Give a chunk column a zeroed byte-per-row array (nulls or qualifiers) the
 * first time it needs one, reusing a large enough array from earlier use. */
static bool ccol_bytes(chunk_t *C, bool *has, uint8_t **bytes, size_t *bcap)
{
    if (*has) return true;
    if (*bcap < C->cap) {
        jp_free(*bytes);
        *bytes = jp_malloc(C->cap ? C->cap : 1);
        if (!*bytes) {
            *bcap = 0;
            return false;
        }
        *bcap = C->cap;
    }
    memset(*bytes, 0, C->cap);
    *has = true;
    return true;
}

static bool ccol_nulls(chunk_t *C, ccol_t *c)
{
    return ccol_bytes(C, &c->has_nulls, &c->nulls, &c->ncap);
}

static bool ccol_quals(chunk_t *C, ccol_t *c)
{
    return ccol_bytes(C, &c->has_quals, &c->quals, &c->qcap);
}

static bool chunk_irregular(chunk_t *C)
{
    if (C->irregular) return true;
    if (C->rline_cap < C->cap) {
        jp_free(C->rline);
        C->rline = jp_malloc_array(C->cap ? C->cap : 1, sizeof *C->rline);
        if (!C->rline) {
            C->rline_cap = 0;
            return false;
        }
        C->rline_cap = C->cap;
    }
    for (size_t r = 0; r < C->rows; r++) C->rline[r] = (uint32_t)r;
    C->irregular = true;
    return true;
}

/* Turn a store of int/bool/date (or nothing) into text codes, exactly. */
static bool ccol_to_str(ccol_t *c, size_t len)
{
    if (!cdict_reset(&c->d)) return false;
    char buf[64];
    for (size_t r = 0; r < len; r++) {
        uint8_t nb = c->has_nulls ? c->nulls[r] : 0;
        uint32_t code = 0;
        if (nb == 1) {
            c->v[r] = 0;
            continue;
        }
        size_t k = 0;
        if (nb == 2 || c->store == ST_NONE) {
            k = 0;
        } else if (c->store == ST_INT) {
            k = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)c->v[r]);
        } else if (c->store == ST_BOOL) {
            k = (size_t)snprintf(buf, sizeof buf, "%s", c->v[r] ? "true" : "false");
        } else if (c->store == ST_DATE) {
            jp_date_format((int32_t)(uint32_t)c->v[r], buf);
            k = strlen(buf);
        }
        if (!cdict_intern(&c->d, buf, k, &code)) return false;
        c->v[r] = code;
        if (nb == 2) c->nulls[r] = 0;
    }
    c->store = ST_STR;
    return true;
}

/* Fast forms of the common cells; false sends the cell the general way.
 * Digits are read eight at a time (the text buffer has padding after its
 * end, so an 8-byte load never leaves it). */

/* Bytes of w (low first) that are not ASCII digits: 0x80 in each. */
static inline uint64_t swar_nondigits(uint64_t w)
{
    uint64_t x = w ^ UINT64_C(0x3030303030303030);
    return (((x & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7676767676767676)) | x) &
           UINT64_C(0x8080808080808080);
}

/* The value of the k (1..8) digits in the low bytes of w, first digit lowest. */
static inline uint64_t swar_value(uint64_t w, unsigned k)
{
    unsigned sh = 8 * (8 - k);
    w <<= sh; /* drop the bytes after the digits; zeros come in below */
    if (sh) w |= UINT64_C(0x3030303030303030) & ((UINT64_C(1) << sh) - 1);
    w -= UINT64_C(0x3030303030303030);
    w = (w * 10) + (w >> 8);
    w = (((w & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
         (((w >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >>
        32;
    return w;
}

/* Leading digits of p (at most 8 and at most len), and their value. */
static inline unsigned swar_lead(const char *p, size_t len, uint64_t *v)
{
    uint64_t w = rd64(p);
    uint64_t nd = swar_nondigits(w);
    unsigned k = nd ? (unsigned)__builtin_ctzll(nd) / 8 : 8;
    if (k > len) k = (unsigned)len;
    *v = k ? swar_value(w, k) : 0;
    return k;
}

/* A decimal as digits m (< 10^15), sign and scale fl (<= 8): its value is
 * -?m / 10^fl, correctly rounded by one division since m < 2^53. */
static inline __attribute__((always_inline)) bool
fast_dec_parts(const char *s, size_t n, uint64_t *m, unsigned *fl, bool *negp, unsigned *kind)
{
    bool neg = s[0] == '-';
    const char *p = s + neg;
    size_t len = n - neg;
    *negp = neg;
    if (len - 1 < 8) {
        /* the whole token in one word: find the point, squeeze it out,
           convert every digit at once */
        uint64_t w = rd64(p);
        uint64_t keep = len == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * len)) - 1;
        uint64_t nd = swar_nondigits(w) & keep;
        unsigned i = nd ? (unsigned)__builtin_ctzll(nd) / 8 : (unsigned)len;
        if (i == 0 || (p[0] == '0' && i > 1)) return false;
        if (i == len) {
            uint64_t v = swar_value(w, (unsigned)len);
            if (neg && v == 0) return false; /* -0 is text */
            *m = v;
            *fl = 0;
            *kind = K_INT;
            return true;
        }
        size_t f = len - i - 1;
        if (p[i] != '.' || f == 0 || (nd >> (8 * i + 8)) != 0) return false;
        uint64_t below = (UINT64_C(1) << (8 * i)) - 1;
        *m = swar_value((w & below) | ((w >> 8) & ~below), (unsigned)(len - 1));
        *fl = (unsigned)f;
        *kind = K_DEC;
        return true;
    }
    uint64_t ip, fp;
    unsigned nd = swar_lead(p, len, &ip);
    if (nd == 0 || (p[0] == '0' && nd > 1) || (nd == 8 && len > 8)) return false;
    if (nd == len) {
        if (neg && ip == 0) return false;
        *m = ip;
        *fl = 0;
        *kind = K_INT;
        return true;
    }
    size_t f = len - nd - 1;
    if (p[nd] != '.' || f == 0 || f > 8) return false;
    if (swar_lead(p + nd + 1, f, &fp) != f) return false;
    *m = ip * (uint64_t)p10[f] + fp; /* at most 7 + 8 digits */
    *fl = (unsigned)f;
    *kind = K_DEC;
    return true;
}

static inline uint64_t pdec_pack(uint64_t m, unsigned fl, bool neg)
{
    return m << 5 | (uint64_t)neg << 4 | fl;
}

static inline double pdec_value(uint64_t b)
{
    double d = (double)(b >> 5) / p10[b & 15];
    return (b & 16) ? -d : d;
}

static inline __attribute__((always_inline)) bool fast_dec(const char *s, size_t n, double *out,
                                                           unsigned *kind)
{
    uint64_t m;
    unsigned fl;
    bool neg;
    if (!fast_dec_parts(s, n, &m, &fl, &neg, kind)) return false;
    double d = (double)m / p10[fl];
    *out = neg ? -d : d;
    return true;
}

static inline bool fast_int(const char *s, size_t n, int64_t *out)
{
    bool neg = s[0] == '-';
    const char *p = s + neg;
    size_t len = n - neg;
    uint64_t v;
    unsigned nd = swar_lead(p, len, &v);
    if (nd != len || nd == 0 || (nd == 8 && len > 8) || (p[0] == '0' && (nd > 1 || neg)))
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* ---- one pass's view of a record's cells --------------------------------------- */

/* The text of field [fs, fe) without its quotes; doubled quotes are
 * undoubled into the chunk's scratch (the caller reserved room). */
static inline const char *field_text(chunk_t *C, const char *b, size_t fs, size_t fe,
                                     unsigned flags, size_t *n)
{
    if (!(flags & 1)) {
        *n = fe - fs;
        return b + fs;
    }
    const char *t = b + fs + 1;
    size_t m = fe - fs - 2;
    if (!(flags & 2)) {
        *n = m;
        return t;
    }
    char *o = C->scratch.data + C->scratch.len;
    size_t j = 0;
    for (size_t i = 0; i < m; i++) {
        o[j++] = t[i];
        if (t[i] == '"') i++;
    }
    C->scratch.len += j;
    *n = j;
    return o;
}

/* Phase 1: read a cell's text (no side effects on the columns).  Returns
 * false with a reason in why (and *bad, the offset of the culprit in t)
 * when the cell does not fit its field. */
static bool cell_parse(pass_t *P, chunk_t *C, size_t k, int mode, const char *t, size_t n,
                       bool quoted, cell_t *cl, char *why, size_t wsz, size_t *bad)
{
    cl->t = t;
    cl->n = n;
    cl->qual = 0;
    cl->code = NO_CODE;
    *bad = 0;
    if (n == 0) {
        cl->kind = quoted ? K_QEMPTY : K_NULL;
        return true;
    }
    const csv_layout_t *L = P->lay;
    if (L->null_text && n == L->null_len && memcmp(t, L->null_text, n) == 0) {
        cl->kind = K_NULL;
        return true;
    }
    switch (mode) {
    case CM_INFER:
        cl->kind = classify(t, n, &cl->bits);
        if (cl->kind != K_STR) return true;
        /* fall through */
    case CM_STRING: {
        /* known text needs no checking; new text is checked once */
        const ccol_t *c = &C->cc[k];
        cl->kind = K_STR;
        cl->hash = fhash(t, n);
        if (c->store == ST_STR) {
            cl->code = cdict_find(&c->d, t, n, cl->hash);
            if (cl->code != NO_CODE) return true;
        }
        if (!jp_csv_utf8_ok(t, n, bad)) {
            snprintf(why, wsz,
                     "invalid UTF-8 (convert the file to UTF-8, e.g. iconv -f GBK -t UTF-8)");
            return false;
        }
        return true;
    }
    case CM_INT: {
        int64_t v;
        if (!parse_exp_int(t, n, P->cs[k].unit, &v, &cl->qual, why, wsz)) return false;
        cl->kind = K_INT;
        cl->bits = (uint64_t)v;
        return true;
    }
    case CM_NUMBER: {
        double d;
        if (!parse_exp_num(t, n, P->cs[k].unit, &d, &cl->qual, why, wsz)) return false;
        cl->kind = K_DEC;
        cl->bits = dbits(d);
        return true;
    }
    case CM_BOOL:
        cl->kind = K_BOOL;
        return parse_exp_bool(t, n, &cl->bits, why, wsz);
    case CM_DATE: {
        const char *s2 = t;
        size_t n2 = n;
        trim(&s2, &n2);
        int32_t d;
        if (!jp_date_parse(s2, n2, &d)) {
            snprintf(why, wsz, "'%.*s' is not a date (YYYY-MM-DD)", quote_len(n), t);
            return false;
        }
        cl->kind = K_DATE;
        cl->bits = (uint64_t)(uint32_t)d;
        return true;
    }
    case CM_PERIOD: {
        jp_error_t e;
        jp_error_clear(&e);
        if (!jp_period_parse(t, n, &cl->per, &e)) {
            snprintf(why, wsz, "%.300s", e.msg);
            return false;
        }
        cl->kind = K_PERIOD;
        return true;
    }
    default:
        cl->kind = K_NULL;
        return true;
    }
}

/* Phase 2: store a cell (cannot fail but for memory). */
static bool cell_store(chunk_t *C, ccol_t *c, const cell_t *cl, int mode)
{
    size_t r = C->rows;
    unsigned k = cl->kind;
    if (c->store == ST_DEAD) return true;
    if (k & (K_NULL | K_QEMPTY)) {
        if (c->store == ST_STR && k == K_QEMPTY) {
            uint32_t code;
            if (!cdict_intern(&c->d, "", 0, &code)) return false;
            c->v[r] = code;
            if (c->has_nulls) c->nulls[r] = 0;
            c->kinds |= k;
            return true;
        }
        if (!ccol_nulls(C, c)) return false;
        c->nulls[r] = k == K_NULL ? 1 : 2;
        if (c->store == ST_PERIOD)
            memset(&c->p[r], 0, sizeof c->p[r]);
        else
            c->v[r] = 0;
        c->kinds |= k;
        return true;
    }
    if (mode == CM_INFER) {
        switch (c->store) {
        case ST_NONE:
            c->store = store_of_kind(k);
            if (c->store == ST_STR) {
                if (!ccol_to_str(c, r)) return false;
            } else if (c->store == ST_NUM) {
                uint64_t m;
                unsigned fl, kind;
                bool neg;
                if (fast_dec_parts(cl->t, cl->n, &m, &fl, &neg, &kind)) {
                    c->store = ST_PDEC;
                    c->v[r] = pdec_pack(m, fl, neg);
                    c->kinds |= k;
                    if (c->has_nulls) c->nulls[r] = 0;
                    return true;
                }
            }
            break;
        case ST_PDEC:
            if (!(k & (K_DEC | K_BIGX | K_SPECIAL | K_INT))) {
                c->store = ST_DEAD;
                c->kinds |= k;
                return true;
            }
            for (size_t i = 0; i < r; i++) c->v[i] = dbits(pdec_value(c->v[i]));
            c->store = ST_NUM;
            break;
        case ST_INT:
            if (k & (K_INT | K_INTWIDE)) break;
            if ((k & (K_DEC | K_BIGX | K_SPECIAL)) && !(c->kinds & K_INTWIDE)) {
                for (size_t i = 0; i < r; i++) c->v[i] = dbits((double)(int64_t)c->v[i]);
                c->store = ST_NUM;
                break;
            }
            if (!ccol_to_str(c, r)) return false;
            break;
        case ST_NUM:
            if (k & (K_DEC | K_BIGX | K_SPECIAL | K_INT)) break;
            c->store = ST_DEAD; /* decimals cannot be turned back into their text */
            c->kinds |= k;
            return true;
        case ST_BOOL:
        case ST_DATE:
            if (store_of_kind(k) == c->store) break;
            if (!ccol_to_str(c, r)) return false;
            break;
        default:
            break;
        }
        c->kinds |= k;
        switch (c->store) {
        case ST_INT:
        case ST_BOOL:
        case ST_DATE:
            c->v[r] = cl->bits;
            break;
        case ST_NUM:
            c->v[r] = k == K_INT ? dbits((double)(int64_t)cl->bits) : cl->bits;
            break;
        case ST_STR: {
            uint32_t code = cl->code;
            if (code == NO_CODE && !cdict_intern(&c->d, cl->t, cl->n, &code)) return false;
            c->v[r] = code;
            break;
        }
        default:
            break;
        }
        if (c->has_nulls) c->nulls[r] = 0;
        return true;
    }
    c->kinds |= k;
    switch (c->store) {
    case ST_STR: {
        uint32_t code = cl->code;
        if (code == NO_CODE && !cdict_intern(&c->d, cl->t, cl->n, &code)) return false;
        c->v[r] = code;
        break;
    }
    case ST_PERIOD:
        c->p[r] = cl->per;
        break;
    default:
        c->v[r] = cl->bits;
        break;
    }
    if (c->has_nulls) c->nulls[r] = 0;
    if (cl->qual) {
        if (!ccol_quals(C, c)) return false;
        c->quals[r] = cl->qual;
    } else if (c->has_quals) {
        c->quals[r] = 0;
    }
    return true;
}

static bool add_reject(chunk_t *C, size_t start, size_t end, bool content, const char *reason)
{
    if (C->nrej == C->rej_cap) {
        size_t cap = C->rej_cap ? C->rej_cap * 2 : 8;
        rej_t *r = jp_realloc_array(C->rej, cap, sizeof *r);
        if (!r) return false;
        C->rej = r;
        C->rej_cap = cap;
    }
    char *why = jp_strdup(reason);
    if (!why) return false;
    C->rej[C->nrej++] = (rej_t){start, end, C->nl, content, why};
    return true;
}

static bool skipped(const pass_t *P, uint64_t off)
{
    size_t lo = 0, hi = P->nskip;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (P->skip[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < P->nskip && P->skip[lo] == off;
}

/* Deferred mode (records may be set aside): a complete record of the right
 * shape, its cells read first, then stored.  Returns false when the chunk
 * must stop (error or memory). */
static bool commit(pass_t *P, batch_t *B, chunk_t *C, size_t rstart, size_t rend, unsigned rec_ff)
{
    const int *mode = B->mode;
    size_t n = P->n;
    if (P->nskip && skipped(P, B->off + rstart)) return true; /* set aside by an earlier pass */
    C->scratch.len = 0;
    if ((rec_ff & 2) && jp_buf_reserve(&C->scratch, rend - rstart + 1)) goto nomem;
    for (size_t k = 0; k < n; k++) {
        if (mode[k] == CM_SKIP) continue;
        char why[400];
        size_t tn, bad;
        const char *t = field_text(C, B->data, C->fs[k], C->fe[k], C->ff[k], &tn);
        if (!cell_parse(P, C, k, mode[k], t, tn, C->ff[k] & 1, &C->cells[k], why, sizeof why,
                        &bad)) {
            if (!P->lay->keep_rejects) {
                size_t at = C->fs[k] + ((C->ff[k] & 2) ? 0 : (C->ff[k] & 1) + bad);
                chunk_fail(C, JP_ERR_TYPE, at, (long)k, "%s", why);
                return false;
            }
            char reason[520];
            snprintf(reason, sizeof reason, "field '%s': %s", P->cs[k].name, why);
            size_t end = rend;
            if (end > rstart && B->data[end - 1] == '\r') end--;
            if (!add_reject(C, rstart, end, true, reason) || !chunk_irregular(C)) goto nomem;
            return true;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (mode[k] == CM_SKIP) continue;
        if (!cell_store(C, &C->cc[k], &C->cells[k], mode[k])) goto nomem;
    }
    if (C->irregular) C->rline[C->rows] = (uint32_t)C->nl;
    C->rows++;
    if (C->rows >= C->cap && !chunk_grow(C, C->rows + 1)) goto nomem;
    return true;
nomem:
    chunk_fail(C, JP_ERR_NOMEM, rstart, -1, "out of memory");
    return false;
}

static inline bool str_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        if (n <= 16) return rd64(a) == rd64(b) && rd64(a + n - 8) == rd64(b + n - 8);
        return memcmp(a, b, n) == 0;
    }
    if (n >= 4) return rd32(a) == rd32(b) && rd32(a + n - 4) == rd32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Default mode, the general way: parse, check, store (may change the
 * column's representation).  Returns false when the chunk must stop. */
static __attribute__((noinline)) bool take_cell_slow(pass_t *P, chunk_t *C, size_t k, int mode,
                                                     const char *t, size_t n, size_t fs,
                                                     unsigned flags)
{
    char why[400];
    size_t bad;
    cell_t cl;
    if (!cell_parse(P, C, k, mode, t, n, flags & 1, &cl, why, sizeof why, &bad)) {
        size_t at = fs + ((flags & 2) ? 0 : (flags & 1) + bad);
        chunk_fail(C, JP_ERR_TYPE, at, (long)k, "%s", why);
        return false;
    }
    if (!cell_store(C, &C->cc[k], &cl, mode)) {
        chunk_fail(C, JP_ERR_NOMEM, fs, -1, "out of memory");
        return false;
    }
    return true;
}

static __attribute__((noinline)) bool take_quoted(pass_t *P, batch_t *B, chunk_t *C, size_t k,
                                                  size_t fs, size_t fe, unsigned flags)
{
    C->scratch.len = 0;
    if (jp_buf_reserve(&C->scratch, fe - fs + 1)) {
        chunk_fail(C, JP_ERR_NOMEM, fs, -1, "out of memory");
        return false;
    }
    size_t n;
    const char *t = field_text(C, B->data, fs, fe, flags, &n);
    return take_cell_slow(P, C, k, B->mode[k], t, n, fs, flags);
}

/* Default mode: store the cell of field [fs, fe) at once, the common
 * representations inline.  Returns false when the chunk must stop. */
static inline __attribute__((always_inline)) bool
take_cell(pass_t *P, batch_t *B, chunk_t *C, size_t k, size_t fs, size_t fe, unsigned flags)
{
    int mode = B->mode[k];
    if (mode == CM_SKIP) return true;
    if (flags & 2) return take_quoted(P, B, C, k, fs, fe, flags);
    ccol_t *c = &C->cc[k];
    size_t r = C->rows;
    const char *t = B->data + fs;
    size_t n = fe - fs;
    if (flags & 1) {
        t++;
        n -= 2;
    }
    if (n && !P->lay->null_text) {
        switch (c->store) {
        case ST_PDEC: {
            uint64_t m;
            unsigned fl, kind;
            bool neg;
            if (!fast_dec_parts(t, n, &m, &fl, &neg, &kind)) break;
            c->v[r] = pdec_pack(m, fl, neg);
            c->kinds |= kind;
            if (c->has_nulls) c->nulls[r] = 0;
            return true;
        }
        case ST_NUM: {
            double d;
            unsigned kind;
            if (!fast_dec(t, n, &d, &kind)) break;
            c->v[r] = dbits(d);
            c->kinds |= kind;
            if (c->has_nulls) c->nulls[r] = 0;
            if (c->has_quals) c->quals[r] = 0;
            return true;
        }
        case ST_INT: {
            int64_t v;
            if (!fast_int(t, n, &v)) break;
            c->v[r] = (uint64_t)v;
            c->kinds |= K_INT;
            if (c->has_nulls) c->nulls[r] = 0;
            if (c->has_quals) c->quals[r] = 0;
            return true;
        }
        case ST_STR: {
            uint32_t h = fhash(t, n);
            const cdict_t *d = &c->d;
            uint32_t j = h & d->mask;
            for (;;) {
                uint32_t code = d->slots[j];
                if (!code) break;
                code--;
                if (d->hash[code] == h && d->off[code + 1] - d->off[code] == n &&
                    str_eq(d->bytes + d->off[code], t, n)) {
                    c->v[r] = code;
                    if (c->has_nulls) c->nulls[r] = 0;
                    return true;
                }
                j = (j + 1) & d->mask;
            }
            break;
        }
        default:
            break;
        }
    }
    return take_cell_slow(P, C, k, mode, t, n, fs, flags);
}

static __attribute__((noinline)) bool take_cell_ni(pass_t *P, batch_t *B, chunk_t *C, size_t k,
                                                   size_t fs, size_t fe, unsigned flags)
{
    return take_cell(P, B, C, k, fs, fe, flags);
}

/* Default mode: the record's cells are stored; count it. */
static inline bool end_record(chunk_t *C, size_t rstart)
{
    if (C->irregular) C->rline[C->rows] = (uint32_t)C->nl;
    C->rows++;
    if (C->rows >= C->cap && !chunk_grow(C, C->rows + 1)) {
        chunk_fail(C, JP_ERR_NOMEM, rstart, -1, "out of memory");
        return false;
    }
    return true;
}

/* Check a field holding quotes: "..." with inner quotes doubled.  Sets
 * *inner when a doubled quote occurs.  Returns 0 or a fault kind with *bad
 * at the offending byte. */
enum { F_NONE = 0, F_BAREQUOTE, F_AFTERQUOTE, F_UNTERMINATED, F_NUL, F_SHAPE };

static int check_quoted(const char *b, size_t fs, size_t fe, bool *inner, size_t *bad)
{
    if (b[fs] != '"') {
        const char *q = memchr(b + fs, '"', fe - fs);
        *bad = q ? (size_t)(q - b) : fs;
        return F_BAREQUOTE;
    }
    size_t i = fs + 1;
    bool in = false;
    for (;;) {
        const char *q = i < fe ? memchr(b + i, '"', fe - i) : NULL;
        if (!q) {
            *bad = fe;
            return F_AFTERQUOTE;
        }
        i = (size_t)(q - b);
        if (i == fe - 1) break; /* the closing quote */
        if (b[i + 1] != '"') {
            *bad = i + 1;
            return F_AFTERQUOTE;
        }
        in = true;
        i += 2;
    }
    *inner = in;
    return F_NONE;
}

/* ---- the chunk scanner ------------------------------------------------------- */

static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

static inline void masks64(const char *p, char delim, uint64_t *mq, uint64_t *md, uint64_t *mn,
                           uint64_t *mz)
{
#if defined(__SSE2__)
    const __m128i Q = _mm_set1_epi8('"'), D = _mm_set1_epi8(delim), N = _mm_set1_epi8('\n');
    const __m128i Z = _mm_setzero_si128();
    uint64_t q = 0, d = 0, n = 0, z = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, Q)) << (16 * k);
        d |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, D)) << (16 * k);
        n |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, N)) << (16 * k);
        z |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, Z)) << (16 * k);
    }
#else
    uint64_t q = 0, d = 0, n = 0, z = 0;
    for (int i = 0; i < 64; i++) {
        char c = p[i];
        q |= (uint64_t)(c == '"') << i;
        d |= (uint64_t)(c == delim) << i;
        n |= (uint64_t)(c == '\n') << i;
        z |= (uint64_t)(c == '\0') << i;
    }
#endif
    *mq = q;
    *md = d;
    *mn = n;
    *mz = z;
}

static bool chunk_setup(pass_t *P, batch_t *B, chunk_t *C)
{
    size_t n = P->n;
    if (C->ncc != n) {
        for (size_t k = 0; k < C->ncc; k++) ccol_free(&C->cc[k]);
        jp_free(C->cc);
        jp_free(C->cells);
        jp_free(C->fs);
        jp_free(C->fe);
        jp_free(C->ff);
        C->cc = NULL;
        C->cells = NULL;
        C->fs = C->fe = NULL;
        C->ff = NULL;
        C->ncc = 0;
        C->cap = 0;
        size_t m = n ? n : 1;
        C->cc = jp_calloc(m, sizeof *C->cc);
        C->cells = jp_calloc(m, sizeof *C->cells);
        C->fs = jp_calloc(m, sizeof *C->fs);
        C->fe = jp_calloc(m, sizeof *C->fe);
        C->ff = jp_calloc(m, 1);
        if (!C->cc || !C->cells || !C->fs || !C->fe || !C->ff) return false;
        C->ncc = n;
    }
    C->rows = 0;
    C->nl = 0;
    C->irregular = false;
    C->incomplete = false;
    C->est = JP_OK;
    C->emsg[0] = '\0';
    chunk_clear_rejects(C);
    for (size_t k = 0; k < n; k++) {
        ccol_t *c = &C->cc[k];
        switch (B->mode[k]) {
        case CM_SKIP:
            c->store = ST_DEAD;
            break;
        case CM_INFER:
            c->store = ST_NONE;
            break;
        case CM_STRING:
            c->store = ST_STR;
            break;
        case CM_INT:
            c->store = ST_INT;
            break;
        case CM_NUMBER:
            c->store = ST_NUM;
            break;
        case CM_BOOL:
            c->store = ST_BOOL;
            break;
        case CM_DATE:
            c->store = ST_DATE;
            break;
        case CM_PERIOD:
            c->store = ST_PERIOD;
            break;
        default:
            c->store = ST_DEAD;
        }
        c->kinds = 0;
        c->has_nulls = c->has_quals = false;
        if (c->store == ST_STR && !cdict_reset(&c->d)) return false;
    }
    /* room for the rows expected from the bytes per row seen so far (grown
       when short); the arrays are kept from batch to batch */
    size_t span = C->nend > C->s ? C->nend - C->s : 0;
    size_t need = span / B->row_bytes + span / (4 * B->row_bytes) + 16;
    size_t old = C->cap;
    C->cap = 0;
    for (size_t k = 0; k < n; k++) {
        ccol_t *c = &C->cc[k];
        /* reuse arrays that are big enough */
        if (c->store == ST_DEAD) continue;
        if (c->store == ST_PERIOD) {
            if (c->pcap < need) {
                jp_free(c->p);
                c->p = jp_malloc_array(need, sizeof *c->p);
                c->pcap = c->p ? need : 0;
                if (!c->p) return false;
            }
        } else if (c->vcap < need) {
            jp_free(c->v);
            c->v = jp_malloc_array(need, sizeof *c->v);
            c->vcap = c->v ? need : 0;
            if (!c->v) return false;
        }
    }
    (void)old;
    C->cap = need;
    return true;
}

/* Handle a fault at `pos` in the record starting at rstart.  Returns the
 * position to resume at (after the line holding the fault), or (size_t)-1
 * when the chunk stops (error, or more text needed: C->incomplete). */
static size_t fault(pass_t *P, batch_t *B, chunk_t *C, int kind, size_t rstart, size_t pos,
                    size_t rec_end, const char *shape_msg)
{
    static const char *const msgs[] = {"",
                                       "quote inside an unquoted field",
                                       "unexpected text after a closing quote",
                                       "unterminated quoted field",
                                       "NUL byte (is the file UTF-16 or binary?)",
                                       ""};
    const char *msg = kind == F_SHAPE ? shape_msg : msgs[kind];
    if (!P->lay->keep_rejects) {
        chunk_fail(C, JP_ERR_PARSE, pos, -1, "%s", msg);
        return (size_t)-1;
    }
    size_t next, end;
    if (kind == F_SHAPE) {
        end = rec_end;
        next = rec_end < B->len ? rec_end + 1 : B->len;
    } else {
        const char *q = pos < B->len ? memchr(B->data + pos, '\n', B->len - pos) : NULL;
        if (!q) {
            if (!B->eof) {
                C->incomplete = true;
                C->e = rstart;
                return (size_t)-1;
            }
            end = next = B->len;
        } else {
            end = (size_t)(q - B->data);
            next = end + 1;
        }
    }
    size_t tend = end;
    if (tend > rstart && B->data[tend - 1] == '\r') tend--;
    if (!add_reject(C, rstart, tend, false, msg) || !chunk_irregular(C)) {
        chunk_fail(C, JP_ERR_NOMEM, pos, -1, "out of memory");
        return (size_t)-1;
    }
    C->nl += count_nl(B->data + rstart, next - rstart);
    return next;
}

/* One field ends at `at` (a delimiter or LF outside quotes): check it,
 * hand its cell over, count it.  Returns false when the chunk stops. */
#define FIELD_END()                                                                                \
    do {                                                                                           \
        unsigned flags_ = 0;                                                                       \
        if (__builtin_expect(hq, 0)) {                                                             \
            bool inner_ = false;                                                                   \
            size_t bad_;                                                                           \
            int f_ = check_quoted(b, fstart, fe, &inner_, &bad_);                                  \
            if (f_) {                                                                              \
                resume = fault(P, B, C, f_, rstart, bad_, 0, NULL);                                \
                goto resync;                                                                       \
            }                                                                                      \
            flags_ = 1u | (inner_ ? 2u : 0u);                                                      \
        }                                                                                          \
        long k_ = slot_of[fidx < ncols ? fidx : ncols];                                            \
        if (k_ >= 0) {                                                                             \
            if (defer) {                                                                           \
                C->fs[k_] = fstart;                                                                \
                C->fe[k_] = fe;                                                                    \
                C->ff[k_] = (uint8_t)flags_;                                                       \
                rec_ff |= flags_;                                                                  \
            } else if (!take_cell_ni(P, B, C, (size_t)k_, fstart, fe, flags_)) {                   \
                return true;                                                                       \
            }                                                                                      \
        } else if (fidx == ncols) {                                                                \
            extra_at = fstart;                                                                     \
        }                                                                                          \
        fidx++;                                                                                    \
    } while (0)

/*
 * The general scanner: every case (quotes, faults, set-aside records, blank
 * lines, records of any length, the end of the text).  Starts at the record
 * start *rsp.  With `one`, returns false after one record (or one record set
 * aside) with *rsp at the next record start; otherwise, and whenever the
 * chunk is finished (C->e set, an error recorded, or more text needed),
 * returns true.
 */
static bool generic_scan(pass_t *P, batch_t *B, chunk_t *C, size_t *rsp, bool one)
{
    const char *b = B->data;
    const size_t L = B->len;
    const char delim = P->lay->delim;
    const size_t ncols = P->lay->ncols;
    const long *slot_of = P->slot_of; /* ncols + 1 entries: the last for extra fields */
    const bool defer = P->lay->keep_rejects || P->nskip;
    size_t rstart = *rsp;
    size_t fstart = rstart, fidx = 0, rec_nl = 0, extra_at = 0, resume = 0;
    size_t base = rstart;
    unsigned rec_ff = 0;
    uint64_t inq = 0;
    bool fq = false; /* the current field holds a quote in an earlier block */
    for (;;) {
        while (base < L) {
            uint64_t q, d, nl, z;
            masks64(b + base, delim, &q, &d, &nl, &z);
            if (L - base < 64) {
                uint64_t valid = (UINT64_C(1) << (L - base)) - 1;
                q &= valid;
                d &= valid;
                nl &= valid;
                z &= valid;
            }
            uint64_t inside = prefix_xor(q) ^ inq;
            inq = 0 - (inside >> 63);
            uint64_t nlo = nl & ~inside; /* record ends */
            uint64_t qnl = nl & inside;  /* line ends inside quoted fields */
            uint64_t ev = (d & ~inside) | nlo | z;
            uint64_t rare = nlo | z;
            uint64_t qrem = q;
            while (ev) {
                uint64_t lb = ev & (0 - ev);
                ev ^= lb;
                uint64_t below = lb ^ (lb - 1);
                size_t at = base + (size_t)__builtin_ctzll(lb);
                if (__builtin_expect(!(((lb & rare) | (qrem & below)) != 0 || fq || fidx >= ncols),
                                     1)) {
                    /* the common case: a delimiter after a field without quotes */
                    long k = slot_of[fidx];
                    if (k >= 0) {
                        if (defer) {
                            C->fs[k] = fstart;
                            C->fe[k] = at;
                            C->ff[k] = 0;
                        } else if (!take_cell(P, B, C, (size_t)k, fstart, at, 0)) {
                            return true;
                        }
                    }
                    fidx++;
                    fstart = at + 1;
                    continue;
                }
                if (__builtin_expect((z & lb) != 0, 0)) {
                    resume = fault(P, B, C, F_NUL, rstart, at, 0, NULL);
                    goto resync;
                }
                bool hq = fq | ((qrem & below) != 0);
                qrem &= ~below;
                fq = false;
                bool isnl = (nlo & lb) != 0;
                size_t fe = at;
                if (isnl && fe > fstart && b[fe - 1] == '\r') fe--;
                FIELD_END();
                fstart = at + 1;
                if (isnl) {
                    if (__builtin_expect(qnl != 0, 0)) {
                        rec_nl += (size_t)__builtin_popcountll(qnl & below);
                        qnl &= ~below;
                    }
                    if (fidx != ncols) {
                        if (fidx == 1 && fe == rstart && !hq) {
                            /* an empty line between records */
                            if (!chunk_irregular(C)) {
                                chunk_fail(C, JP_ERR_NOMEM, at, -1, "out of memory");
                                return true;
                            }
                        } else {
                            char m[160];
                            snprintf(m, sizeof m, "expected %zu field%s, found %zu", ncols,
                                     ncols == 1 ? "" : "s", fidx);
                            resume = fault(P, B, C, F_SHAPE, rstart, fidx > ncols ? extra_at : fe,
                                           at, m);
                            goto resync;
                        }
                    } else if (defer ? !commit(P, B, C, rstart, at, rec_ff)
                                     : !end_record(C, rstart)) {
                        return true;
                    }
                    if (rec_nl && !chunk_irregular(C)) {
                        chunk_fail(C, JP_ERR_NOMEM, at, -1, "out of memory");
                        return true;
                    }
                    rec_ff = 0;
                    C->nl += 1 + rec_nl;
                    rec_nl = 0;
                    fidx = 0;
                    rstart = at + 1;
                    if (rstart >= C->nend) {
                        C->e = rstart;
                        return true;
                    }
                    if (one) {
                        *rsp = rstart;
                        return false;
                    }
                }
            }
            if (__builtin_expect(qnl != 0, 0)) rec_nl += (size_t)__builtin_popcountll(qnl);
            fq |= qrem != 0;
            base += 64;
        }
        /* the end of the text in this batch */
        if (rstart >= L) {
            C->e = L;
            return true;
        }
        if (!B->eof) {
            C->e = rstart;
            C->incomplete = true;
            return true;
        }
        if (inq) {
            /* the open quote: at the field start, or a bare one inside */
            const char *q = memchr(b + fstart, '"', L - fstart);
            size_t at = q ? (size_t)(q - b) : fstart;
            resume =
                fault(P, B, C, at == fstart ? F_UNTERMINATED : F_BAREQUOTE, rstart, at, 0, NULL);
            goto resync;
        }
        {
            /* the last record has no line end */
            size_t fe = L;
            if (fe > fstart && b[fe - 1] == '\r') fe--;
            bool hq = fq || memchr(b + fstart, '"', fe - fstart) != NULL;
            FIELD_END();
            if (fidx != ncols) {
                if (fidx == 1 && fe == rstart && !hq) {
                    C->e = L; /* a lone CR at the very end */
                    return true;
                }
                char m[160];
                snprintf(m, sizeof m, "expected %zu field%s, found %zu", ncols,
                         ncols == 1 ? "" : "s", fidx);
                resume = fault(P, B, C, F_SHAPE, rstart, fidx > ncols ? extra_at : fe, L, m);
                goto resync;
            }
            if (defer ? !commit(P, B, C, rstart, L, rec_ff) : !end_record(C, rstart)) return true;
            if (rec_nl && !chunk_irregular(C)) {
                chunk_fail(C, JP_ERR_NOMEM, L, -1, "out of memory");
                return true;
            }
            C->nl += rec_nl;
            C->e = L;
            return true;
        }
    resync:
        /* go on after a record set aside, at a line start, outside quotes */
        if (resume == (size_t)-1) return true;
        if (resume >= L) {
            C->e = L;
            return true;
        }
        rstart = fstart = base = resume;
        fidx = 0;
        rec_nl = 0;
        rec_ff = 0;
        inq = 0;
        fq = false;
        if (rstart >= C->nend) {
            C->e = rstart;
            return true;
        }
        if (one) {
            *rsp = rstart;
            return false;
        }
    }
}

#undef FIELD_END

/* ---- the fast path --------------------------------------------------------------
 * A window of text is indexed first (positions of field ends, record ends,
 * quotes, NULs and line ends inside quotes, in tight loops over the bit
 * masks), then whole records are taken by index arithmetic: field j of a
 * record whose first field end is event e0 spans events e0+j-1 .. e0+j.  A
 * record is regular when its ncols-th field end is the next record end and
 * no NUL lies before it; the fields holding quotes are checked.  Anything
 * else goes to the general scanner for one record.
 */
#define WIN ((size_t)16 << 10)

typedef struct scratch scratch_t;

static void scratch_free(scratch_t *S)
{
    if (!S) return;
    jp_free(S->ev);
    jp_free(S->nl);
    jp_free(S->q);
    jp_free(S->z);
    jp_free(S->qnl);
    memset(S, 0, sizeof *S);
}

static bool scratch_init(scratch_t *S)
{
    size_t n = WIN + 65;
    S->ev = jp_malloc_array(n, sizeof *S->ev);
    S->nl = jp_malloc_array(n, sizeof *S->nl);
    S->q = jp_malloc_array(n, sizeof *S->q);
    S->z = jp_malloc_array(n, sizeof *S->z);
    S->qnl = jp_malloc_array(n, sizeof *S->qnl);
    if (S->ev && S->nl && S->q && S->z && S->qnl) return true;
    scratch_free(S);
    return false;
}

enum { FW_MORE = 0, FW_GENERIC, FW_DONE };

static size_t fast_window(pass_t *P, batch_t *B, chunk_t *C, scratch_t *S, size_t rstart, int *why)
{
    const char *b = B->data;
    const size_t L = B->len, ncols = P->lay->ncols;
    const char delim = P->lay->delim;
    const size_t wlen = L - rstart < WIN ? L - rstart : WIN;
    const char *w = b + rstart;
    uint32_t *ev = S->ev, *nlp = S->nl, *qp = S->q, *zp = S->z, *qnlp = S->qnl;
    uint32_t nev = 0, nnl = 0, nq = 0, nz = 0, nqnl = 0;
    uint64_t inq = 0;
    for (size_t off = 0; off < wlen; off += 64) {
        uint64_t q, d, nl, z;
        masks64(w + off, delim, &q, &d, &nl, &z);
        if (wlen - off < 64) {
            uint64_t valid = (UINT64_C(1) << (wlen - off)) - 1;
            q &= valid;
            d &= valid;
            nl &= valid;
            z &= valid;
        }
        uint64_t inside = prefix_xor(q) ^ inq;
        inq = 0 - (inside >> 63);
        uint64_t e = (d | nl) & ~inside;
        uint64_t nlo = nl & ~inside;
        uint32_t o = (uint32_t)off;
        while (e) {
            ev[nev++] = o + (uint32_t)__builtin_ctzll(e);
            e &= e - 1;
        }
        while (nlo) {
            nlp[nnl++] = o + (uint32_t)__builtin_ctzll(nlo);
            nlo &= nlo - 1;
        }
        if (__builtin_expect(q != 0, 0))
            while (q) {
                qp[nq++] = o + (uint32_t)__builtin_ctzll(q);
                q &= q - 1;
            }
        if (__builtin_expect(z != 0, 0))
            while (z) {
                zp[nz++] = o + (uint32_t)__builtin_ctzll(z);
                z &= z - 1;
            }
        uint64_t qnl = nl & inside;
        if (__builtin_expect(qnl != 0, 0))
            while (qnl) {
                qnlp[nqnl++] = o + (uint32_t)__builtin_ctzll(qnl);
                qnl &= qnl - 1;
            }
    }
    qp[nq] = zp[nz] = qnlp[nqnl] = UINT32_MAX;
    ev[nev] = UINT32_MAX;
    const long *slot_of = P->slot_of;
    const size_t *nj = P->need_j, *nk = P->need_k;
    const size_t nn = P->n;
    uint32_t e0 = 0, qi = 0, zi = 0, qni = 0, r0 = 0;
    for (uint32_t ri = 0; ri < nnl; ri++) {
        uint32_t rend = nlp[ri];
        size_t last = e0 + ncols - 1;
        if (ncols > 1 && ev[e0] == rend && (rend == r0 || (rend == r0 + 1 && w[r0] == '\r')) &&
            zp[zi] > rend) {
            /* an empty line between records */
            if (!chunk_irregular(C)) {
                chunk_fail(C, JP_ERR_NOMEM, rstart + r0, -1, "out of memory");
                *why = FW_DONE;
                return rstart + r0;
            }
            C->nl++;
            e0++;
            r0 = rend + 1;
            if (rstart + r0 >= C->nend) {
                C->e = rstart + r0;
                *why = FW_DONE;
                return C->e;
            }
            continue;
        }
        if (last >= nev || ev[last] != rend || zp[zi] < rend) goto generic; /* not regular */
        bool hasq = qp[qi] < rend;
        if (hasq) {
            /* check every field holding a quote; note the read ones' forms */
            for (size_t j = 0; j < ncols; j++) {
                uint32_t fs = j ? ev[e0 + j - 1] + 1 : r0, fe = ev[e0 + j];
                unsigned flags = 0;
                if (qp[qi] < fe) {
                    while (qp[qi] < fe) qi++;
                    if (j == ncols - 1 && fe > fs && w[fe - 1] == '\r') fe--;
                    bool inner = false;
                    size_t bad;
                    if (check_quoted(w, fs, fe, &inner, &bad)) goto generic;
                    flags = 1u | (inner ? 2u : 0u);
                }
                long k = slot_of[j];
                if (k >= 0) C->ff[k] = (uint8_t)flags;
            }
        }
        size_t rec_nl = 0;
        while (qnlp[qni] < rend) qni++, rec_nl++;
        for (size_t t = 0; t < nn; t++) {
            size_t j = nj[t];
            uint32_t fs = j ? ev[e0 + j - 1] + 1 : r0, fe = ev[e0 + j];
            if (j == ncols - 1 && fe > fs && w[fe - 1] == '\r') fe--;
            unsigned flags = hasq ? C->ff[nk[t]] : 0;
            if (!take_cell(P, B, C, nk[t], rstart + fs, rstart + fe, flags)) {
                *why = FW_DONE;
                return rstart + r0;
            }
        }
        if (rec_nl && !chunk_irregular(C)) {
            chunk_fail(C, JP_ERR_NOMEM, rstart + r0, -1, "out of memory");
            *why = FW_DONE;
            return rstart + r0;
        }
        if (!end_record(C, rstart + r0)) {
            *why = FW_DONE;
            return rstart + r0;
        }
        C->nl += 1 + rec_nl;
        e0 = (uint32_t)last + 1;
        r0 = rend + 1;
        if (rstart + r0 >= C->nend) {
            C->e = rstart + r0;
            *why = FW_DONE;
            return C->e;
        }
    }
    /* no record at all in the window, or an irregular one next: one record the general way */
    *why = r0 ? FW_MORE : FW_GENERIC;
    return rstart + r0;
generic:
    *why = FW_GENERIC;
    return rstart + r0;
}

static void parse_chunk(pass_t *P, batch_t *B, chunk_t *C, scratch_t *S)
{
    const char *b = B->data;
    const size_t L = B->len;
    if (C->spec) {
        /* the first record start at or after the nominal start */
        const char *q = memchr(b + C->s - 1, '\n', L - (C->s - 1));
        C->s = q ? (size_t)(q - b) + 1 : L;
        C->spec = false;
    }
    if (!chunk_setup(P, B, C)) {
        chunk_fail(C, JP_ERR_NOMEM, C->s, -1, "out of memory");
        return;
    }
    size_t rs = C->s;
    C->e = rs;
    if (rs >= C->nend) return;
    if (P->lay->keep_rejects || P->nskip || !S || !S->ev) {
        generic_scan(P, B, C, &rs, false);
        return;
    }
    for (;;) {
        int why;
        rs = fast_window(P, B, C, S, rs, &why);
        if (why == FW_DONE) return;
        if (why == FW_GENERIC && generic_scan(P, B, C, &rs, true)) return;
    }
}

/* ---- workers ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    pass_t *P = arg;
    scratch_t S;
    memset(&S, 0, sizeof S);
    scratch_init(&S); /* without it the general scanner does the work */
    pthread_mutex_lock(&P->mu);
    for (;;) {
        while (!P->quit && (!P->cur || P->next >= P->cur->nch))
            pthread_cond_wait(&P->cv_job, &P->mu);
        if (P->quit) break;
        batch_t *B = P->cur;
        size_t j = P->next++;
        pthread_mutex_unlock(&P->mu);
        parse_chunk(P, B, &B->ch[j], &S);
        pthread_mutex_lock(&P->mu);
        if (++P->done == B->nch) pthread_cond_broadcast(&P->cv_done);
    }
    pthread_mutex_unlock(&P->mu);
    scratch_free(&S);
    return NULL;
}

static void dispatch(pass_t *P, batch_t *B)
{
    if (!P->nth) {
        P->cur = B;
        return;
    }
    pthread_mutex_lock(&P->mu);
    P->cur = B;
    P->next = 0;
    P->done = 0;
    pthread_cond_broadcast(&P->cv_job);
    pthread_mutex_unlock(&P->mu);
}

/* The calling thread parses chunks too, then waits for the batch. */
static void help_and_wait(pass_t *P, batch_t *B)
{
    if (!P->nth) {
        for (size_t j = 0; j < B->nch; j++) parse_chunk(P, B, &B->ch[j], &P->scratch);
        return;
    }
    pthread_mutex_lock(&P->mu);
    while (P->next < B->nch) {
        size_t j = P->next++;
        pthread_mutex_unlock(&P->mu);
        parse_chunk(P, B, &B->ch[j], &P->scratch);
        pthread_mutex_lock(&P->mu);
        if (++P->done == B->nch) pthread_cond_broadcast(&P->cv_done);
    }
    while (P->done < B->nch) pthread_cond_wait(&P->cv_done, &P->mu);
    P->cur = NULL;
    pthread_mutex_unlock(&P->mu);
}

/* ---- batches ------------------------------------------------------------------ */

#define PAD  64
#define HEAD ((size_t)64 << 10)

static void batch_free(batch_t *B)
{
    for (size_t j = 0; j < B->chcap; j++) chunk_free(&B->ch[j]);
    jp_free(B->ch);
    jp_free(B->mem);
    jp_free(B->mode);
    memset(B, 0, sizeof *B);
}

/* Read fresh text into B after its head room. */
static jp_status_t batch_read(pass_t *P, csv_reader_t *r, batch_t *B, jp_error_t *err)
{
    size_t want = P->tune.batch_bytes;
    size_t need = HEAD + want + PAD;
    if (B->memcap < need) {
        char *m = jp_malloc(need);
        if (!m) return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", P->src->path);
        jp_free(B->mem);
        B->mem = m;
        B->memcap = need;
        huge(m, need);
    }
    size_t got;
    jp_status_t st = jp_csv_reader_read(r, B->mem + HEAD, want, &got, err);
    if (st) return st;
    B->fresh = got;
    B->eof = got < want;
    return JP_OK;
}

/* Put the carried text in front of B's fresh text. */
static jp_status_t batch_carry(pass_t *P, batch_t *B, const char *carry, size_t clen,
                               jp_error_t *err)
{
    if (clen <= HEAD) {
        B->data = B->mem + HEAD - clen;
        if (clen) memmove(B->data, carry, clen);
    } else {
        size_t need = clen + B->fresh + PAD;
        char *m = jp_malloc(need);
        if (!m) return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", P->src->path);
        memcpy(m, carry, clen);
        memcpy(m + clen, B->mem + HEAD, B->fresh);
        jp_free(B->mem);
        B->mem = m;
        B->memcap = need;
        B->data = m;
    }
    B->len = clen + B->fresh;
    memset(B->data + B->len, 0, PAD);
    return JP_OK;
}

static jp_status_t batch_chunks(pass_t *P, batch_t *B, jp_error_t *err)
{
    size_t cb = P->tune.chunk_bytes;
    size_t nch = B->len / cb + 1;
    if (B->len % cb == 0 && B->len) nch--;
    if (nch == 0) nch = 1;
    if (nch > B->chcap) {
        chunk_t *c = jp_realloc_array(B->ch, nch, sizeof *c);
        if (!c) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        memset(c + B->chcap, 0, (nch - B->chcap) * sizeof *c);
        B->ch = c;
        B->chcap = nch;
    }
    B->nch = nch;
    for (size_t j = 0; j < nch; j++) {
        chunk_t *C = &B->ch[j];
        C->s = j * cb;
        C->spec = j > 0;
        C->nend = j + 1 == nch ? B->len : (j + 1) * cb;
    }
    B->row_bytes = P->row_bytes;
    if (!B->mode) B->mode = jp_calloc(P->n ? P->n : 1, sizeof *B->mode);
    if (!B->mode) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (P->n) memcpy(B->mode, P->mode, P->n * sizeof *B->mode);
    return JP_OK;
}

static void set_error_at(pass_t *P, batch_t *B, chunk_t *C, size_t rows_before, jp_error_t *err)
{
    const char *b = B->data;
    size_t pos = C->epos > B->len ? B->len : C->epos;
    long line = C->line0 + (long)count_nl(b + C->s, pos > C->s ? pos - C->s : 0);
    const char *l0 = b + pos;
    while (l0 > b && l0[-1] != '\n') l0--;
    long col = jp_csv_char_col(l0, b + pos);
    jp_error_set(err, C->est, "%s", C->emsg);
    jp_error_at(err, P->src->path, line, col);
    jp_error_row(err, (long)(rows_before + C->erow + 1));
    if (C->ecs >= 0) jp_error_field(err, P->cs[C->ecs].name);
}

static jp_status_t take_rejects(pass_t *P, batch_t *B, chunk_t *C)
{
    for (size_t i = 0; i < C->nrej; i++) {
        rej_t *r = &C->rej[i];
        if (P->nrej == P->rej_cap) {
            size_t cap = P->rej_cap ? P->rej_cap * 2 : 16;
            long *l = jp_realloc_array(P->rej_line, cap, sizeof *l);
            if (!l) return JP_ERR_NOMEM;
            P->rej_line = l;
            char **t = jp_realloc_array(P->rej_text, cap, sizeof *t);
            if (!t) return JP_ERR_NOMEM;
            P->rej_text = t;
            char **w = jp_realloc_array(P->rej_reason, cap, sizeof *w);
            if (!w) return JP_ERR_NOMEM;
            P->rej_reason = w;
            P->rej_cap = cap;
        }
        char *text = jp_strndup(B->data + r->start, r->end - r->start);
        if (!text) return JP_ERR_NOMEM;
        P->rej_line[P->nrej] = C->line0 + (long)r->rel_line;
        P->rej_text[P->nrej] = text;
        P->rej_reason[P->nrej] = r->reason;
        r->reason = NULL;
        P->nrej++;
        if (r->content) {
            if (P->ncontent == P->content_cap) {
                size_t cap = P->content_cap ? P->content_cap * 2 : 16;
                uint64_t *o = jp_realloc_array(P->content_rej, cap, sizeof *o);
                if (!o) return JP_ERR_NOMEM;
                P->content_rej = o;
                P->content_cap = cap;
            }
            P->content_rej[P->ncontent++] = B->off + r->start;
        }
    }
    C->nrej = 0;
    return JP_OK;
}

/* In order: fix chunks that started in the wrong place, report the first
 * error, find where the batch's complete records end. */
static jp_status_t verify(pass_t *P, batch_t *B, jp_error_t *err)
{
    size_t expected = 0;
    long line = B->line;
    size_t rows = P->rows;
    for (size_t j = 0; j < B->nch; j++) {
        chunk_t *C = &B->ch[j];
        if (C->s != expected) {
            C->s = expected;
            C->spec = false;
            parse_chunk(P, B, C, &P->scratch);
        }
        C->line0 = line;
        if (C->est) {
            set_error_at(P, B, C, rows, err);
            return C->est;
        }
        if (C->nrej && take_rejects(P, B, C))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        line += (long)C->nl;
        rows += C->rows;
        expected = C->e;
        if (C->incomplete) {
            B->nch = j + 1;
            break;
        }
    }
    B->e_final = expected;
    B->nl_total = (size_t)(line - B->line);
    return JP_OK;
}

/* ---- column builders ------------------------------------------------------------ */

static jp_type_t type_of_store(int st)
{
    switch (st) {
    case ST_INT:
        return JP_TYPE_INT;
    case ST_NUM:
        return JP_TYPE_NUMBER;
    case ST_BOOL:
        return JP_TYPE_BOOL;
    case ST_DATE:
        return JP_TYPE_DATE;
    case ST_STR:
        return JP_TYPE_STRING;
    case ST_PERIOD:
        return JP_TYPE_PERIOD;
    default:
        return JP_TYPE_INT; /* NONE: a stand-in holding only nulls */
    }
}

static int combine(int a, int b, unsigned kinds)
{
    if (a == ST_PDEC) a = ST_NUM;
    if (b == ST_PDEC) b = ST_NUM;
    if (a == ST_DEAD || b == ST_DEAD) return ST_DEAD;
    if (b == ST_NONE) return a;
    if (a == ST_NONE || a == b) return b;
    if (a == ST_PERIOD || b == ST_PERIOD) return ST_DEAD; /* cannot happen: explicit */
    if ((a == ST_INT && b == ST_NUM) || (a == ST_NUM && b == ST_INT))
        return (kinds & K_INTWIDE) ? ST_DEAD : ST_NUM;
    if (a == ST_NUM || b == ST_NUM) return ST_DEAD;
    return ST_STR; /* int, bool, date and text mixed: all exact as text */
}

static bool col_reserve(jp_column_t *c, size_t need, uint64_t hint)
{
    if (need <= c->cap) return true;
    /* the estimate of the total, once known, in one step: the array is
       then one mapping that huge pages can back (see huge()) */
    size_t cap = c->cap * 2;
    if (hint > need && hint / 64 < need + 1024) cap = (size_t)hint;
    if (cap < need) cap = need;
    if (jp_column_reserve(c, cap) != JP_OK) return false;
    huge(c->v.raw, cap * jp_type_width(c->type));
    if (c->nulls) huge(c->nulls, cap);
    return true;
}

/* Text form of a builder value for INT/BOOL/DATE -> STRING. */
static size_t value_text(int st, const jp_column_t *c, size_t i, char *buf)
{
    switch (st) {
    case ST_INT:
        return (size_t)snprintf(buf, 64, "%lld", (long long)c->v.i[i]);
    case ST_BOOL:
        return (size_t)snprintf(buf, 64, "%s", c->v.b[i] ? "true" : "false");
    case ST_DATE:
        jp_date_format(c->v.date[i], buf);
        return strlen(buf);
    default:
        return 0;
    }
}

/* Convert the builder's column to store `to` (not DEAD). */
static bool bld_convert(bld_t *B, int to, size_t len)
{
    jp_column_t *o = B->col;
    if (B->store == ST_INT && to == ST_NUM) {
        for (size_t i = 0; i < len; i++) o->v.d[i] = (double)o->v.i[i];
        o->type = JP_TYPE_NUMBER;
        B->store = to;
        return true;
    }
    jp_column_t *c = jp_column_new(type_of_store(to), o->cap > len ? o->cap : len + 1);
    if (!c) return false;
    if (o->nulls && jp_column_alloc_nulls(c)) goto fail;
    if (o->quals && jp_column_alloc_quals(c)) goto fail;
    char buf[64];
    for (size_t i = 0; i < len; i++) {
        uint8_t nb = o->nulls ? o->nulls[i] : 0;
        if (c->nulls) c->nulls[i] = nb;
        if (c->quals) c->quals[i] = o->quals[i];
        if (to == ST_STR) {
            uint32_t code = 0;
            if (nb == 1) {
                c->v.s[i] = 0;
                continue;
            }
            size_t k = nb == 2 || B->store == ST_NONE ? 0 : value_text(B->store, o, i, buf);
            if (jp_strdict_intern(c->dict, buf, k, &code)) goto fail;
            c->v.s[i] = code;
            if (nb == 2) c->nulls[i] = 0;
        } else {
            memset((char *)c->v.raw + i * jp_type_width(c->type), 0, jp_type_width(c->type));
        }
    }
    c->len = len;
    jp_column_unref(o);
    B->col = c;
    B->store = to;
    return true;
fail:
    jp_column_unref(c);
    return false;
}

static jp_status_t bld_append(pass_t *P, size_t k, chunk_t *C, size_t row0)
{
    bld_t *B = &P->b[k];
    ccol_t *c = &C->cc[k];
    size_t r = C->rows;
    B->kinds |= c->kinds;
    if (B->store == ST_DEAD) return JP_OK;
    int to = combine(B->store, c->store, B->kinds);
    if (to == ST_DEAD) {
        jp_column_unref(B->col);
        B->col = NULL;
        B->store = ST_DEAD;
        return JP_OK;
    }
    if (to != B->store && !bld_convert(B, to, row0)) return JP_ERR_NOMEM;
    jp_column_t *o = B->col;
    if (!r) return JP_OK;
    if (!col_reserve(o, row0 + r, P->total_hint)) return JP_ERR_NOMEM;
    if ((c->has_nulls && !o->nulls && jp_column_alloc_nulls(o)) ||
        (c->has_quals && !o->quals && jp_column_alloc_quals(o)))
        return JP_ERR_NOMEM;
    if (o->nulls) {
        if (c->has_nulls)
            memcpy(o->nulls + row0, c->nulls, r);
        else
            memset(o->nulls + row0, 0, r);
    }
    if (o->quals) {
        if (c->has_quals)
            memcpy(o->quals + row0, c->quals, r);
        else
            memset(o->quals + row0, 0, r);
    }
    int from = c->store;
    switch (to) {
    case ST_INT:
        if (from == ST_INT)
            memcpy(o->v.i + row0, c->v, r * 8);
        else
            memset(o->v.i + row0, 0, r * 8);
        break;
    case ST_NUM:
        if (from == ST_NUM)
            memcpy(o->v.d + row0, c->v, r * 8);
        else if (from == ST_PDEC)
            for (size_t i = 0; i < r; i++) o->v.d[row0 + i] = pdec_value(c->v[i]);
        else if (from == ST_INT)
            for (size_t i = 0; i < r; i++) o->v.d[row0 + i] = (double)(int64_t)c->v[i];
        else
            memset(o->v.d + row0, 0, r * 8);
        break;
    case ST_BOOL:
        for (size_t i = 0; i < r; i++) o->v.b[row0 + i] = (uint8_t)c->v[i];
        break;
    case ST_DATE:
        for (size_t i = 0; i < r; i++) o->v.date[row0 + i] = (int32_t)(uint32_t)c->v[i];
        break;
    case ST_PERIOD:
        if (from == ST_PERIOD)
            memcpy(o->v.p + row0, c->p, r * sizeof *o->v.p);
        else
            memset(o->v.p + row0, 0, r * sizeof *o->v.p);
        break;
    case ST_STR: {
        if (from == ST_STR) {
            uint32_t cnt = c->d.count;
            uint32_t *map = jp_malloc_array(cnt ? cnt : 1, sizeof *map);
            if (!map) return JP_ERR_NOMEM;
            for (uint32_t i = 0; i < cnt; i++) {
                size_t len;
                const char *s = cdict_get(&c->d, i, &len);
                if (jp_strdict_intern(o->dict, s, len, &map[i])) {
                    jp_free(map);
                    return JP_ERR_NOMEM;
                }
            }
            for (size_t i = 0; i < r; i++) {
                bool isnull = c->has_nulls && c->nulls[i] == 1;
                o->v.s[row0 + i] = isnull ? 0 : map[(uint32_t)c->v[i]];
            }
            jp_free(map);
        } else {
            /* int/bool/date/none chunk into a text column: exact text */
            char buf[64];
            for (size_t i = 0; i < r; i++) {
                uint8_t nb = c->has_nulls ? c->nulls[i] : 0;
                if (nb == 1) {
                    o->v.s[row0 + i] = 0;
                    continue;
                }
                size_t len = 0;
                if (nb == 0) {
                    if (from == ST_INT)
                        len =
                            (size_t)snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)c->v[i]);
                    else if (from == ST_BOOL)
                        len = (size_t)snprintf(buf, sizeof buf, "%s", c->v[i] ? "true" : "false");
                    else if (from == ST_DATE) {
                        jp_date_format((int32_t)(uint32_t)c->v[i], buf);
                        len = strlen(buf);
                    }
                }
                uint32_t code;
                if (jp_strdict_intern(o->dict, buf, len, &code)) return JP_ERR_NOMEM;
                o->v.s[row0 + i] = code;
                if (o->nulls) o->nulls[row0 + i] = 0;
            }
        }
        break;
    }
    default:
        break;
    }
    o->len = row0 + r;
    return JP_OK;
}

static jp_status_t append_batch(pass_t *P, batch_t *B, jp_error_t *err)
{
    if (!P->total_hint && P->lay->rows_hint) P->total_hint = P->lay->rows_hint + 1;
    if (!P->total_hint && P->lay->have_id && !P->src->gz && !P->src->mem) {
        /* size the columns once from the rows per byte of the first batch */
        size_t rows = 0;
        for (size_t j = 0; j < B->nch; j++) rows += B->ch[j].rows;
        uint64_t done = B->off + B->e_final - P->lay->data_off;
        if (rows && done)
            P->total_hint =
                (uint64_t)((double)(P->rows + rows) * (double)(P->lay->size - P->lay->data_off) /
                           (double)done * 1.02) +
                1024;
    }
    for (size_t j = 0; j < B->nch; j++) {
        chunk_t *C = &B->ch[j];
        for (size_t k = 0; k < P->n; k++)
            if (bld_append(P, k, C, P->rows))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory building columns");
        if (C->irregular && !P->lines && P->lay->data_line > 0) {
            /* from here on rows need their own line numbers */
            P->lines = jp_column_new(JP_TYPE_INT, P->rows + C->rows + 16);
            if (!P->lines) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < P->rows; i++) P->lines->v.i[i] = P->lay->data_line + (long)i;
            P->lines->len = P->rows;
        }
        if (P->lines) {
            if (!col_reserve(P->lines, P->rows + C->rows, 0))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < C->rows; i++)
                P->lines->v.i[P->rows + i] =
                    C->line0 + (long)(C->irregular ? C->rline[i] : (uint32_t)i);
            P->lines->len = P->rows + C->rows;
        }
        P->rows += C->rows;
    }
    P->bytes_done += B->e_final;
    if (P->rows) {
        size_t rb = (size_t)(P->bytes_done / P->rows);
        P->row_bytes = rb ? rb : 1;
    }
    /* text and dead columns need not be inferred any more */
    for (size_t k = 0; k < P->n; k++) {
        if (P->cs[k].mode != CM_INFER) continue;
        if (P->b[k].store == ST_DEAD)
            P->mode[k] = CM_SKIP;
        else if (P->b[k].store == ST_STR)
            P->mode[k] = CM_STRING;
    }
    return JP_OK;
}

static bool shrink(jp_column_t *c)
{
    size_t n = c->len ? c->len : 1;
    if (c->cap <= n + n / 64) return true;
    void *v = jp_realloc_array(c->v.raw, n, jp_type_width(c->type));
    if (!v) return true; /* keep the bigger block */
    c->v.raw = v;
    if (c->nulls) {
        uint8_t *u = jp_realloc(c->nulls, n);
        if (u) c->nulls = u;
    }
    if (c->quals) {
        uint8_t *u = jp_realloc(c->quals, n);
        if (u) c->quals = u;
    }
    c->cap = n;
    return true;
}

/* The final column of builder k (or NULL with *dead when a text re-read is needed). */
static jp_status_t bld_finish(pass_t *P, size_t k, jp_column_t **out, bool *dead)
{
    bld_t *B = &P->b[k];
    size_t len = P->rows;
    *out = NULL;
    *dead = false;
    if (B->store == ST_NUM && !(B->kinds & (K_INT | K_INTWIDE | K_DEC | K_BIGX))) {
        /* only nan/inf: that is text */
        jp_column_unref(B->col);
        B->col = NULL;
        B->store = ST_DEAD;
    }
    if (B->store == ST_DEAD) {
        *dead = true;
        return JP_OK;
    }
    if (!B->col) {
        B->col = jp_column_new(type_of_store(B->store), len + 1);
        if (!B->col) return JP_ERR_NOMEM;
    }
    if (B->store == ST_NONE && !bld_convert(B, ST_STR, len)) return JP_ERR_NOMEM;
    jp_column_t *c = B->col;
    if (c->len != len) {
        /* no rows appended since the column was made (all chunks empty) */
        if (jp_column_reserve(c, len + 1)) return JP_ERR_NOMEM;
        if (len > c->len) {
            if (jp_column_alloc_nulls(c)) return JP_ERR_NOMEM;
            size_t w = jp_type_width(c->type);
            memset((char *)c->v.raw + c->len * w, 0, (len - c->len) * w);
            memset(c->nulls + c->len, 1, len - c->len);
        }
        c->len = len;
    }
    if (c->nulls) {
        bool any = false;
        for (size_t i = 0; i < len; i++) {
            if (c->nulls[i] == 2) c->nulls[i] = 1;
            any |= c->nulls[i] != 0;
        }
        if (!any) {
            jp_free(c->nulls);
            c->nulls = NULL;
        }
    }
    if (c->quals) {
        bool any = false;
        for (size_t i = 0; i < len && !any; i++) any = c->quals[i] != 0;
        if (!any) {
            jp_free(c->quals);
            c->quals = NULL;
        }
    }
    shrink(c);
    *out = c;
    B->col = NULL;
    return JP_OK;
}

/* ---- the pass ------------------------------------------------------------------- */

static void pass_free(pass_t *P)
{
    if (P->sync_ok) {
        pthread_mutex_lock(&P->mu);
        P->quit = true;
        pthread_cond_broadcast(&P->cv_job);
        pthread_mutex_unlock(&P->mu);
    }
    for (int i = 0; i < P->nth; i++) pthread_join(P->th[i], NULL);
    jp_free(P->th);
    if (P->sync_ok) {
        pthread_mutex_destroy(&P->mu);
        pthread_cond_destroy(&P->cv_job);
        pthread_cond_destroy(&P->cv_done);
    }
    if (P->b)
        for (size_t k = 0; k < P->n; k++) jp_column_unref(P->b[k].col);
    jp_free(P->b);
    jp_free(P->mode);
    jp_free(P->slot_of);
    jp_free(P->need_j);
    jp_free(P->need_k);
    scratch_free(&P->scratch);
    jp_column_unref(P->lines);
    for (size_t i = 0; i < P->nrej; i++) {
        jp_free(P->rej_text[i]);
        jp_free(P->rej_reason[i]);
    }
    jp_free(P->rej_line);
    jp_free(P->rej_text);
    jp_free(P->rej_reason);
    jp_free(P->content_rej);
}

static jp_status_t make_rejects(pass_t *P, jp_dataset_t **out, jp_error_t *err)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *l = jp_column_new(JP_TYPE_INT, P->nrej + 1);
    jp_column_t *t = jp_column_new(JP_TYPE_STRING, P->nrej + 1);
    jp_column_t *w = jp_column_new(JP_TYPE_STRING, P->nrej + 1);
    if (!ds || !l || !t || !w) goto nomem;
    for (size_t i = 0; i < P->nrej; i++) {
        if (jp_column_push_int(l, P->rej_line[i], JP_Q_EXACT) ||
            jp_column_push_str(t, P->rej_text[i], strlen(P->rej_text[i])) ||
            jp_column_push_str(w, P->rej_reason[i], strlen(P->rej_reason[i])))
            goto nomem;
    }
    /* jp_dataset_add takes each column, also when it fails */
    jp_status_t st = jp_dataset_add(ds, "line", l, NULL, err);
    if (!st)
        st = jp_dataset_add(ds, "text", t, NULL, err);
    else
        jp_column_unref(t);
    if (!st)
        st = jp_dataset_add(ds, "reason", w, NULL, err);
    else
        jp_column_unref(w);
    if (!st) st = jp_meta_set(&ds->meta.name, "rejects");
    if (st) {
        jp_dataset_unref(ds);
        return st == JP_ERR_NOMEM ? jp_error_set(err, st, "out of memory") : st;
    }
    jp_dataset_set_origin(ds, P->src->path, NULL);
    *out = ds;
    return JP_OK;
nomem:
    jp_dataset_unref(ds);
    jp_column_unref(l);
    jp_column_unref(t);
    jp_column_unref(w);
    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static jp_status_t run_pass(pass_t *P, jp_error_t *err)
{
    csv_reader_t *r = NULL;
    batch_t bt[2];
    memset(bt, 0, sizeof bt);
    jp_status_t st = jp_csv_reader_open(P->src, P->lay, &r, err);
    if (st) return st;
    if ((st = reader_skip(r, P->lay->data_off, err))) goto out;
    batch_t *A = &bt[0], *B = &bt[1];
    if ((st = batch_read(P, r, A, err))) goto out;
    if ((st = batch_carry(P, A, NULL, 0, err))) goto out;
    A->off = P->lay->data_off;
    A->line = P->lay->data_line;
    if (P->nthreads > 1 && (A->len > P->tune.chunk_bytes || !A->eof)) {
        if (pthread_mutex_init(&P->mu, NULL) == 0) {
            if (pthread_cond_init(&P->cv_job, NULL) == 0) {
                if (pthread_cond_init(&P->cv_done, NULL) == 0) {
                    P->sync_ok = true;
                } else {
                    pthread_cond_destroy(&P->cv_job);
                    pthread_mutex_destroy(&P->mu);
                }
            } else {
                pthread_mutex_destroy(&P->mu);
            }
        }
        if (P->sync_ok) {
            P->th = jp_calloc((size_t)P->nthreads, sizeof *P->th);
            for (int i = 0; P->th && i < P->nthreads - 1; i++) {
                if (pthread_create(&P->th[i], NULL, worker_main, P)) break;
                P->nth++;
            }
        }
    }
    if ((st = batch_chunks(P, A, err))) goto out;
    dispatch(P, A);
    for (;;) {
        bool more = !A->eof;
        if (more) {
            jp_status_t rs = batch_read(P, r, B, err);
            if (rs) {
                help_and_wait(P, A);
                st = rs;
                goto out;
            }
        }
        help_and_wait(P, A);
        if ((st = verify(P, A, err))) goto out;
        size_t clen = A->len - A->e_final;
        if (more) {
            if (clen > P->tune.max_record) {
                long line = A->line + (long)A->nl_total;
                jp_error_set(err, JP_ERR_LIMIT,
                             "a record longer than %zu bytes (an unterminated quote?)",
                             P->tune.max_record);
                jp_error_at(err, P->src->path, line, 1);
                st = JP_ERR_LIMIT;
                goto out;
            }
            if ((st = batch_carry(P, B, A->data + A->e_final, clen, err))) goto out;
            B->off = A->off + A->e_final;
            B->line = A->line + (long)A->nl_total;
            if ((st = batch_chunks(P, B, err))) goto out;
            dispatch(P, B);
        } else if (clen) {
            st = jp_error_set(err, JP_ERR_INTERNAL, "%s: text left after the last record",
                              P->src->path);
            goto out;
        }
        if ((st = append_batch(P, A, err))) {
            if (more) help_and_wait(P, B);
            goto out;
        }
        if (!more) break;
        batch_t *t = A;
        A = B;
        B = t;
    }
out:
    jp_csv_reader_close(r);
    /* workers must be idle before the batches go */
    if (P->sync_ok) {
        pthread_mutex_lock(&P->mu);
        P->quit = true;
        pthread_cond_broadcast(&P->cv_job);
        pthread_mutex_unlock(&P->mu);
        for (int i = 0; i < P->nth; i++) pthread_join(P->th[i], NULL);
        P->nth = 0;
    }
    batch_free(&bt[0]);
    batch_free(&bt[1]);
    return st;
}

static jp_status_t pass_setup(pass_t *P, const csv_src_t *src, const csv_layout_t *lay,
                              const csv_colspec_t *cs, size_t n, jp_error_t *err)
{
    memset(P, 0, sizeof *P);
    P->src = src;
    P->lay = lay;
    P->cs = cs;
    P->n = n;
    jp_csv_tuning_get(&P->tune);
    P->row_bytes = lay->ncols * 2 > 16 ? lay->ncols * 2 : 16;
    P->nthreads = lay->threads > 0      ? lay->threads
                  : P->tune.threads > 0 ? P->tune.threads
                                        : jp_ncpus();
    if (P->nthreads > 64) P->nthreads = 64;
    P->slot_of = jp_malloc_array(lay->ncols + 1, sizeof *P->slot_of);
    P->b = jp_calloc(n ? n : 1, sizeof *P->b);
    P->mode = jp_calloc(n ? n : 1, sizeof *P->mode);
    if (!P->slot_of || !P->b || !P->mode) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i <= lay->ncols; i++) P->slot_of[i] = -1; /* [ncols]: extra fields */
    for (size_t k = 0; k < n; k++) {
        if (cs[k].fcol >= lay->ncols || P->slot_of[cs[k].fcol] >= 0)
            return jp_error_set(err, JP_ERR_INTERNAL, "bad column list for a CSV pass");
        P->slot_of[cs[k].fcol] = (long)k;
        P->mode[k] = cs[k].mode;
        switch (cs[k].mode) {
        case CM_INFER:
            P->b[k].store = ST_NONE;
            break;
        case CM_STRING:
            P->b[k].store = ST_STR;
            break;
        case CM_INT:
            P->b[k].store = ST_INT;
            break;
        case CM_NUMBER:
            P->b[k].store = ST_NUM;
            break;
        case CM_BOOL:
            P->b[k].store = ST_BOOL;
            break;
        case CM_DATE:
            P->b[k].store = ST_DATE;
            break;
        case CM_PERIOD:
            P->b[k].store = ST_PERIOD;
            break;
        default:
            return jp_error_set(err, JP_ERR_INTERNAL, "bad column mode");
        }
        P->b[k].col = jp_column_new(type_of_store(P->b[k].store), 1024);
        if (!P->b[k].col) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    P->need_j = jp_malloc_array(n ? n : 1, sizeof *P->need_j);
    P->need_k = jp_malloc_array(n ? n : 1, sizeof *P->need_k);
    if (!P->need_j || !P->need_k) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t j = 0; j < lay->ncols; j++)
        if (P->slot_of[j] >= 0) {
            P->need_j[m] = j;
            P->need_k[m++] = (size_t)P->slot_of[j];
        }
    scratch_init(&P->scratch); /* without it the general scanner does the work */
    return JP_OK;
}

void jp_csv_result_free(csv_result_t *res, size_t n)
{
    if (res->cols)
        for (size_t k = 0; k < n; k++) jp_column_unref(res->cols[k]);
    jp_free(res->cols);
    jp_column_unref(res->lines);
    jp_dataset_unref(res->rejects);
    memset(res, 0, sizeof *res);
}

static jp_status_t pass_with_skips(const csv_src_t *src, const csv_layout_t *lay,
                                   const csv_colspec_t *cs, size_t n, const uint64_t *skip,
                                   size_t nskip, csv_result_t *res, jp_error_t *err)
{
    pass_t P;
    memset(res, 0, sizeof *res);
    jp_status_t st = pass_setup(&P, src, lay, cs, n, err);
    if (st) goto fail;
    P.skip = (uint64_t *)skip;
    P.nskip = nskip;
    if ((st = run_pass(&P, err))) goto fail;
    res->cols = jp_calloc(n ? n : 1, sizeof *res->cols);
    if (!res->cols) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    res->nrows = P.rows;
    size_t ndead = 0;
    for (size_t k = 0; k < n; k++) {
        bool dead;
        if ((st = bld_finish(&P, k, &res->cols[k], &dead))) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ndead += dead;
    }
    if (ndead) {
        /* columns that turned out to be text after decimals were stored:
           read them again, as text, passing over the records set aside */
        csv_colspec_t *cs2 = jp_malloc_array(ndead, sizeof *cs2);
        size_t *which = jp_malloc_array(ndead, sizeof *which);
        uint64_t *sk = NULL;
        if (P.ncontent) {
            sk = jp_malloc_array(P.ncontent + nskip, sizeof *sk);
            if (sk) {
                memcpy(sk, P.content_rej, P.ncontent * sizeof *sk);
                if (nskip) memcpy(sk + P.ncontent, skip, nskip * sizeof *sk);
                qsort(sk, P.ncontent + nskip, sizeof *sk, cmp_u64);
            }
        }
        if (!cs2 || !which || (P.ncontent && !sk)) {
            jp_free(cs2);
            jp_free(which);
            jp_free(sk);
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (!res->cols[k]) {
                cs2[m] = cs[k];
                cs2[m].mode = CM_STRING;
                which[m++] = k;
            }
        csv_result_t r2;
        /* records set aside for their shape are set aside again; those set
           aside for a cell of another column are passed over */
        st = pass_with_skips(src, lay, cs2, m, sk ? sk : skip, sk ? P.ncontent + nskip : nskip, &r2,
                             err);
        jp_free(sk);
        if (!st && r2.nrows != res->nrows)
            st = jp_error_set(err, JP_ERR_IO, "%s changed while it was being read", src->path);
        if (!st)
            for (size_t i = 0; i < m; i++) {
                res->cols[which[i]] = r2.cols[i];
                r2.cols[i] = NULL;
            }
        jp_csv_result_free(&r2, m);
        jp_free(cs2);
        jp_free(which);
        if (st) goto fail;
    }
    if (lay->keep_rejects && (st = make_rejects(&P, &res->rejects, err))) goto fail;
    res->lines = P.lines;
    P.lines = NULL;
    pass_free(&P);
    return JP_OK;
fail:
    pass_free(&P);
    jp_csv_result_free(res, n);
    return st;
}

jp_status_t jp_csv_pass(const csv_src_t *src, const csv_layout_t *lay, const csv_colspec_t *cs,
                        size_t n, csv_result_t *res, jp_error_t *err)
{
    return pass_with_skips(src, lay, cs, n, NULL, 0, res, err);
}
