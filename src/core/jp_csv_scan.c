/*
 * jp_csv_scan.c - the scanner: one chunk of a batch's text into its chunk
 * columns.
 *
 * 64 bytes at a time, bit masks of quotes, delimiters + LF and NUL bytes;
 * a prefix XOR over the quote mask tells which bytes are inside quotes, so
 * the field ends are the set bits outside quotes.  Fields that hold a
 * quote are checked (must start and end with one, inner quotes doubled),
 * whether the field is read or not: the set of records is the same
 * whatever columns are asked for.  A fast path takes regular records by
 * index arithmetic; a general scanner handles every other case (faults,
 * records set aside, blank lines, long records, the end of the text).
 * The fast path's indexing is compiled once per instruction set
 * (jp_csv_index.h) and chosen when a read starts (jp_csv_simd): the
 * build needs no flags beyond the baseline.
 *
 * Runs on worker threads: writes only its own chunk; never prints.
 */
#include "jp_csv_scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "jp_mem.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86_SIMD 1
#endif

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

/* Where in the batch a cell of field [fs, ...) that does not read as its
 * type goes wrong, `bad` bytes into its text (at its start when its quotes
 * were doubled: the text is a copy). */
static inline size_t bad_at(size_t fs, unsigned flags, size_t bad)
{
    return fs + ((flags & 2) ? 0 : (flags & 1) + bad);
}

/* Is a cell its type cannot read null rather than an error
 * (pass_t.cells_null, explicit types only)? */
static inline bool bad_is_null(const pass_t *P, int mode)
{
    return P->cells_null && mode >= CM_INT && mode <= CM_PERIOD;
}

/* Cell k, text t of field [fs, fe), that its explicit type cannot read:
 * null (*cl), and kept aside for the calling thread to say why, in file
 * order (jp_csv_cell_why).  False when out of memory. */
static bool bad_as_null(chunk_t *C, size_t k, size_t fs, size_t fe, unsigned flags, const char *t,
                        size_t n, cell_t *cl)
{
    if (C->ncerr == C->cerr_cap) {
        size_t cap = C->cerr_cap ? C->cerr_cap * 2 : 16;
        cerr_t *v = jp_realloc_array(C->cerr, cap, sizeof *v);
        if (!v) return false;
        C->cerr = v;
        C->cerr_cap = cap;
    }
    C->cerr[C->ncerr++] = (cerr_t){fs, fe, C->rows, (uint32_t)k, (uint8_t)flags};
    memset(cl, 0, sizeof *cl);
    cl->kind = K_NULL;
    cl->code = NO_CODE;
    cl->t = t;
    cl->n = n;
    return true;
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
        if (!jp_csv_cell_parse(P, C, k, mode[k], t, tn, C->ff[k] & 1, &C->cells[k], why, sizeof why,
                               &bad)) {
            if (bad_is_null(P, mode[k])) {
                if (!bad_as_null(C, k, C->fs[k], C->fe[k], C->ff[k], t, tn, &C->cells[k]))
                    goto nomem;
                continue;
            }
            if (!P->lay->keep_rejects) {
                chunk_fail(C, JP_ERR_TYPE, bad_at(C->fs[k], C->ff[k], bad), (long)k, "%s", why);
                return false;
            }
            char reason[520];
            snprintf(reason, sizeof reason, "field '%s': %s", P->cs[k].name, why);
            size_t end = rend;
            if (end > rstart && B->data[end - 1] == '\r') end--;
            if (!add_reject(C, rstart, end, true, reason) || !jp_csv_chunk_irregular(C)) goto nomem;
            return true;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (mode[k] == CM_SKIP) continue;
        if (!jp_csv_cell_store(C, &C->cc[k], &C->cells[k], mode[k])) goto nomem;
    }
    if (C->irregular) C->rline[C->rows] = (uint32_t)C->nl;
    if (C->roff) C->roff[C->rows] = rstart;
    C->rows++;
    if (C->rows >= C->cap && !jp_csv_chunk_grow(C, C->rows + 1)) goto nomem;
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
                                                     const char *t, size_t n, size_t fs, size_t fe,
                                                     unsigned flags)
{
    char why[400];
    size_t bad;
    cell_t cl;
    if (!jp_csv_cell_parse(P, C, k, mode, t, n, flags & 1, &cl, why, sizeof why, &bad)) {
        if (!bad_is_null(P, mode)) {
            chunk_fail(C, JP_ERR_TYPE, bad_at(fs, flags, bad), (long)k, "%s", why);
            return false;
        }
        if (!bad_as_null(C, k, fs, fe, flags, t, n, &cl)) {
            chunk_fail(C, JP_ERR_NOMEM, fs, -1, "out of memory");
            return false;
        }
    }
    ccol_t *c = &C->cc[k];
    if (c->store == ST_PROFILE) {
        c->kinds |= cl.kind;
        c->n_null += cl.kind == K_NULL;
        c->n_qempty += cl.kind == K_QEMPTY;
        c->n_marker += cl.kind == K_MARKER;
        c->n_qual += cl.qual != 0;
        c->n_typed += (cl.kind & K_TYPED) != 0;
        c->n_text += cl.kind == K_STR;
        return true;
    }
    if (!jp_csv_cell_store(C, c, &cl, mode)) {
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
    return take_cell_slow(P, C, k, B->mode[k], t, n, fs, fe, flags);
}

/* Is t[0..n) ASCII (valid UTF-8 with nothing to check)?  Reads 8 bytes
 * at a time within the cell. */
static inline bool ascii(const char *t, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) acc |= rd64(t + i);
    for (; i < n; i++) acc |= (unsigned char)t[i];
    return !(acc & UINT64_C(0x8080808080808080));
}

/* Default mode: store the cell of field [fs, fe) at once, the common
 * representations inline.  Returns false when the chunk must stop. */
static inline __attribute__((always_inline)) bool
take_cell(pass_t *P, batch_t *B, chunk_t *C, size_t k, size_t fs, size_t fe, unsigned flags)
{
    int mode = B->mode[k];
    if (mode == CM_SKIP) return true;
    ccol_t *c = &C->cc[k];
    /* text checked only: quotes are ASCII, so the field's UTF-8 is its
       text's, doubled quotes and all */
    if (mode == CM_CHECK && c->store == ST_PROFILE && !C->profile && ascii(B->data + fs, fe - fs))
        return true;
    if (flags & 2) return take_quoted(P, B, C, k, fs, fe, flags);
    size_t r = C->rows;
    const char *t = B->data + fs;
    size_t n = fe - fs;
    if (flags & 1) {
        t++;
        n -= 2;
    }
    if (n && !P->lay->nnulls) {
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
            const cdict_t *d = c->d;
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
        case ST_PROFILE: {
            /* checked only (a profile counts more: the general way) */
            if (C->profile || mode == CM_CHECK) break;
            unsigned kind;
            if (mode != CM_INFER || !fast_kind(t, n, &kind)) break;
            c->kinds |= kind;
            return true;
        }
        default:
            break;
        }
    }
    return take_cell_slow(P, C, k, mode, t, n, fs, fe, flags);
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
    if (C->roff) C->roff[C->rows] = rstart;
    C->rows++;
    if (C->rows >= C->cap && !jp_csv_chunk_grow(C, C->rows + 1)) {
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

/* Bit masks of 64 bytes: quotes, delimiters, LFs, NULs, and bytes past
 * ASCII (the high bit). */
static inline void masks64(const char *p, char delim, uint64_t *mq, uint64_t *md, uint64_t *mn,
                           uint64_t *mz, uint64_t *mh)
{
#if defined(__SSE2__)
    const __m128i Q = _mm_set1_epi8('"'), D = _mm_set1_epi8(delim), N = _mm_set1_epi8('\n');
    const __m128i Z = _mm_setzero_si128();
    uint64_t q = 0, d = 0, n = 0, z = 0, h = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, Q)) << (16 * k);
        d |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, D)) << (16 * k);
        n |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, N)) << (16 * k);
        z |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, Z)) << (16 * k);
        h |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * k);
    }
#else
    uint64_t q = 0, d = 0, n = 0, z = 0, h = 0;
    for (int i = 0; i < 64; i++) {
        char c = p[i];
        q |= (uint64_t)(c == '"') << i;
        d |= (uint64_t)(c == delim) << i;
        n |= (uint64_t)(c == '\n') << i;
        z |= (uint64_t)(c == '\0') << i;
        h |= (uint64_t)((unsigned char)c >> 7) << i;
    }
#endif
    *mq = q;
    *md = d;
    *mn = n;
    *mz = z;
    *mh = h;
}

#if HAVE_X86_SIMD
#define TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))
#define TARGET_AVX512                                                                              \
    __attribute__((target("avx512f,avx512bw,avx512vbmi2,avx2,bmi,bmi2,popcnt,pclmul")))

static TARGET_AVX2 inline void masks64_avx2(const char *p, char delim, uint64_t *mq, uint64_t *md,
                                            uint64_t *mn, uint64_t *mz, uint64_t *mh)
{
    const __m256i Q = _mm256_set1_epi8('"'), D = _mm256_set1_epi8(delim);
    const __m256i N = _mm256_set1_epi8('\n'), Z = _mm256_setzero_si256();
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
#define M2(x, y)                                                                                   \
    ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, x)) |                           \
     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, y)) << 32)
    *mq = M2(Q, Q);
    *md = M2(D, D);
    *mn = M2(N, N);
    *mz = M2(Z, Z);
#undef M2
    *mh = (uint64_t)(uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b)
                                                            << 32;
}

static TARGET_AVX512 inline void masks64_avx512(const char *p, char delim, uint64_t *mq,
                                                uint64_t *md, uint64_t *mn, uint64_t *mz,
                                                uint64_t *mh)
{
    __m512i x = _mm512_loadu_si512((const void *)p);
    *mq = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('"'));
    *md = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(delim));
    *mn = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n'));
    *mz = _mm512_testn_epi8_mask(x, x);
    *mh = _mm512_movepi8_mask(x);
}
#endif

/* The fast path's index of a window, once per instruction set. */
#define CI_LEVEL JP_CSV_SIMD_PORTABLE
#define CI_TARGET
#define CI_MASKS masks64
#include "jp_csv_index.h"
#undef CI_LEVEL
#undef CI_TARGET
#undef CI_MASKS
#if HAVE_X86_SIMD
#define CI_LEVEL  JP_CSV_SIMD_AVX2
#define CI_TARGET TARGET_AVX2
#define CI_MASKS  masks64_avx2
#include "jp_csv_index.h"
#undef CI_LEVEL
#undef CI_TARGET
#undef CI_MASKS
#define CI_LEVEL  JP_CSV_SIMD_AVX512
#define CI_TARGET TARGET_AVX512
#define CI_MASKS  masks64_avx512
#include "jp_csv_index.h"
#undef CI_LEVEL
#undef CI_TARGET
#undef CI_MASKS
#endif

int jp_csv_simd(int want)
{
    int best = JP_CSV_SIMD_PORTABLE;
#if HAVE_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
        __builtin_cpu_supports("pclmul")) {
        best = JP_CSV_SIMD_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vbmi2"))
            best = JP_CSV_SIMD_AVX512;
    }
#endif
    return want >= JP_CSV_SIMD_PORTABLE && want < best ? want : best;
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
    if (!add_reject(C, rstart, tend, false, msg) || !jp_csv_chunk_irregular(C)) {
        chunk_fail(C, JP_ERR_NOMEM, pos, -1, "out of memory");
        return (size_t)-1;
    }
    C->nl += jp_csv_count_nl(B->data + rstart, next - rstart);
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
            uint64_t q, d, nl, z, h;
            masks64(b + base, delim, &q, &d, &nl, &z, &h);
            (void)h;
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
                            if (!jp_csv_chunk_irregular(C)) {
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
                    if (rec_nl && !jp_csv_chunk_irregular(C)) {
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
            if (rec_nl && !jp_csv_chunk_irregular(C)) {
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

void jp_csv_scratch_free(scratch_t *S)
{
    if (!S) return;
    jp_free(S->ev);
    jp_free(S->nl);
    jp_free(S->q);
    jp_free(S->z);
    jp_free(S->qnl);
    memset(S, 0, sizeof *S);
}

bool jp_csv_scratch_init(scratch_t *S, int simd)
{
    /* room for the slots written past the count (jp_csv_index.h) */
    size_t n = WIN + 65 + 128;
    S->ev = jp_malloc_array(n, sizeof *S->ev);
    S->nl = jp_malloc_array(n, sizeof *S->nl);
    S->q = jp_malloc_array(n, sizeof *S->q);
    S->z = jp_malloc_array(n, sizeof *S->z);
    S->qnl = jp_malloc_array(n, sizeof *S->qnl);
    S->index = index_window1;
#if HAVE_X86_SIMD
    if (simd == JP_CSV_SIMD_AVX2) S->index = index_window2;
    if (simd == JP_CSV_SIMD_AVX512) S->index = index_window3;
#else
    (void)simd;
#endif
    if (S->ev && S->nl && S->q && S->z && S->qnl) return true;
    jp_csv_scratch_free(S);
    return false;
}

enum { FW_MORE = 0, FW_GENERIC, FW_DONE };

/* check_quoted from the window's quote positions q[0..n) inside field
 * [fs, fe): one at each end and the others doubled, "..."" ""...".  A
 * doubled quote inside is n > 2. */
static inline bool quotes_ok(const uint32_t *q, uint32_t n, uint32_t fs, uint32_t fe)
{
    if (n < 2 || (n & 1) || q[0] != fs || q[n - 1] != fe - 1) return false;
    for (uint32_t k = 1; k + 1 < n; k += 2)
        if (q[k + 1] != q[k] + 1) return false;
    return true;
}

static size_t fast_window(pass_t *P, batch_t *B, chunk_t *C, scratch_t *S, size_t rstart, int *why)
{
    const char *b = B->data;
    const size_t L = B->len, ncols = P->lay->ncols;
    const char delim = P->lay->delim;
    const size_t wlen = L - rstart < WIN ? L - rstart : WIN;
    const char *w = b + rstart;
    const uint32_t *ev = S->ev, *nlp = S->nl, *qp = S->q, *zp = S->z, *qnlp = S->qnl;
    windex_t X;
    S->index(w, wlen, delim, S, &X);
    const uint32_t nev = X.nev, nnl = X.nnl;
    const uint64_t high = X.high;
    const long *slot_of = P->slot_of;
    const size_t *nj = P->need_j, *nk = P->need_k;
    size_t nn = P->n;
    size_t aj[64], ak[64];
    if (!high && nn <= 64) {
        /* ASCII text: a cell only checked as text (CM_CHECK) is valid
           UTF-8 as it is, so the window's records pass those fields by */
        size_t m = 0;
        for (size_t t = 0; t < nn; t++)
            if (B->mode[nk[t]] != CM_CHECK) {
                aj[m] = nj[t];
                ak[m++] = nk[t];
            }
        if (m < nn) {
            nj = aj;
            nk = ak;
            nn = m;
        }
    }
    uint32_t e0 = 0, qi = 0, zi = 0, qni = 0, r0 = 0;
    for (uint32_t ri = 0; ri < nnl; ri++) {
        uint32_t rend = nlp[ri];
        size_t last = e0 + ncols - 1;
        if (ncols > 1 && ev[e0] == rend && (rend == r0 || (rend == r0 + 1 && w[r0] == '\r')) &&
            zp[zi] > rend) {
            /* an empty line between records */
            if (!jp_csv_chunk_irregular(C)) {
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
                    uint32_t q0 = qi;
                    while (qp[qi] < fe) qi++;
                    if (j == ncols - 1 && fe > fs && w[fe - 1] == '\r') fe--;
                    if (!quotes_ok(qp + q0, qi - q0, fs, fe)) goto generic;
                    flags = 1u | (qi - q0 > 2 ? 2u : 0u);
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
        if (rec_nl && !jp_csv_chunk_irregular(C)) {
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

void jp_csv_parse_chunk(pass_t *P, batch_t *B, chunk_t *C, scratch_t *S)
{
    const char *b = B->data;
    const size_t L = B->len;
    if (C->spec) {
        /* the first record start at or after the nominal start */
        const char *q = memchr(b + C->s - 1, '\n', L - (C->s - 1));
        C->s = q ? (size_t)(q - b) + 1 : L;
        C->spec = false;
    }
    jp_csv_chunk_reset(C);
    size_t rs = C->s;
    C->e = rs;
    if (rs >= C->nend) return; /* no record starts here: no columns to set up */
    if (!jp_csv_chunk_setup(P, B, C)) {
        chunk_fail(C, JP_ERR_NOMEM, C->s, -1, "out of memory");
        return;
    }
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

/* ---- why a column is text ---------------------------------------------------------
 * A profile says, for a column inferred as text although most of its cells
 * are typed, which cell made it text.  Finding it costs nothing while
 * scanning: when appending chunk C turns such a column text, the calling
 * thread reads C's records again, one by one, for the columns marked
 * `pending`, until each meets its culprit.  The chunk parsed cleanly, so
 * its quotes are balanced and its records complete; empty lines are not
 * rows (with more than one column), as in the scanner.
 */

/* Where a cell is on its line: character columns counted forward from the
 * last cell asked about on the same line (culprits come in order), so a
 * line with a million fields is walked once. */
typedef struct linepos {
    const char *at;
    long col;
} linepos_t;

static long cell_col(linepos_t *lp, const char *ls, const char *fs)
{
    if (lp->at < ls || lp->at > fs) {
        lp->at = ls;
        lp->col = 1;
    }
    lp->col += jp_csv_char_col(lp->at, fs) - 1;
    lp->at = fs;
    return lp->col;
}

static void explain_cell(pass_t *P, bld_t *bk, const char *t, size_t n, bool quoted, long row,
                         long line, linepos_t *lp, const char *ls, const char *fs)
{
    unsigned kind = jp_csv_infer_kind(P->lay, t, n, quoted);
    unsigned now = bk->kinds_seen | kind;
    if (!kinds_are_text(now)) {
        bk->kinds_seen = now;
        return;
    }
    bk->pending = false;
    bk->explained = true;
    /* noted even when it is the first cell: whether it is worth naming
       depends on the whole column (profile_result) */
    size_t m = n > 60 ? 60 : n;
    while (m < n && m > 0 && ((unsigned char)t[m] & 0xC0) == 0x80) m--; /* whole characters */
    bk->why_cell = jp_strndup(t, m);
    bk->why_row = row;
    bk->why_line = line;
    bk->why_col = cell_col(lp, ls, fs);
}

size_t jp_csv_explain_text(pass_t *P, batch_t *B, chunk_t *C, size_t row0, size_t npending)
{
    const char *b = B->data;
    const char delim = P->lay->delim;
    const size_t ncols = P->lay->ncols, end = C->e;
    size_t i = C->s, ls = C->s; /* ls: where the current line starts */
    long line = C->line0, row = (long)row0;
    linepos_t lp = {NULL, 1};
    while (i < end && npending) {
        size_t j = i + (b[i] == '\r');
        if (ncols > 1 && (j >= end || b[j] == '\n')) { /* an empty line */
            i = j + 1;
            ls = i;
            line++;
            continue;
        }
        row++;
        for (size_t fidx = 0;; fidx++) {
            size_t fs = i, fls = ls;
            long fline = line;
            bool quoted = i < end && b[i] == '"';
            if (quoted) {
                for (i++; i < end; i++) {
                    if (b[i] == '"') {
                        if (i + 1 < end && b[i + 1] == '"') {
                            i++;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (b[i] == '\n') {
                        line++;
                        ls = i + 1;
                    }
                }
            }
            while (i < end && b[i] != delim && b[i] != '\n') i++;
            bool last = i >= end || b[i] == '\n';
            size_t fe = i;
            if (last && fe > fs && b[fe - 1] == '\r') fe--;
            long k = P->slot_of[fidx < ncols ? fidx : ncols];
            if (k >= 0 && P->b[k].pending) {
                const char *t = b + fs + quoted;
                size_t n = fe - fs - (quoted ? 2 : 0);
                explain_cell(P, &P->b[k], t, n, quoted, row, fline, &lp, b + fls, b + fs);
                if (!P->b[k].pending) npending--;
            }
            i++; /* past the delimiter or the line end */
            if (last) {
                line++;
                ls = i;
                break;
            }
        }
    }
    return npending;
}

/* ---- cells read as null ---------------------------------------------------------- */

void jp_csv_cell_why(pass_t *P, batch_t *B, chunk_t *C, const cerr_t *e, char *why, size_t wsz,
                     size_t *at)
{
    size_t n, bad = 0;
    cell_t cl;
    C->scratch.len = 0;
    if ((e->flags & 2) && jp_buf_reserve(&C->scratch, e->fe - e->fs + 1)) {
        snprintf(why, wsz, "is not of its field's type");
        *at = e->fs;
        return;
    }
    const char *t = field_text(C, B->data, e->fs, e->fe, e->flags, &n);
    if (jp_csv_cell_parse(P, C, e->k, B->mode[e->k], t, n, e->flags & 1, &cl, why, wsz, &bad))
        snprintf(why, wsz, "is not of its field's type"); /* cannot happen: parsing is pure */
    *at = bad_at(e->fs, e->flags, bad);
}
