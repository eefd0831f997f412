/*
 * jp_csv_index.h - the first half of the scanner's fast path, for one
 * instruction set: a window of text indexed, 64 bytes at a time, into the
 * positions of field ends, record ends, quotes, NUL bytes and line ends
 * inside quotes (scratch_t), and whether it holds bytes past ASCII.  Included by jp_csv_scan.c once
 * per instruction set, with CI_LEVEL (JP_CSV_SIMD_*), CI_TARGET (the functions' target attribute,
 * or nothing) and CI_MASKS (the masks of a 64-byte block) defined; every variant gives the same
 * index.  Not a header to include anywhere else.
 *
 * Positions are written in bulk where the instruction set allows: a fixed
 * number of slots every block, whatever the count of set bits, and the
 * count added (the slots past it are overwritten later or ignored), so
 * that the loop does not branch on how many fields a block holds.
 */
#ifndef CI_LEVEL
#error "define CI_LEVEL, CI_TARGET and CI_MASKS before including jp_csv_index.h"
#endif

#define CI_CAT2(a, b) a##b
#define CI_CAT(a, b)  CI_CAT2(a, b)
#define CI(name)      CI_CAT(name, CI_LEVEL)

#if CI_LEVEL == JP_CSV_SIMD_AVX512
/* The positions of the set bits of m, plus o, at out[n..]: byte indexes
 * compressed, widened to 32 bits 16 at a time. */
static CI_TARGET inline uint32_t CI(flatten)(uint32_t *out, uint32_t n, uint32_t o, uint64_t m)
{
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
        40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
        17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i base = _mm512_set1_epi32((int)o);
    __m512i idx = _mm512_maskz_compress_epi8(m, iota);
    uint32_t cnt = (uint32_t)_mm_popcnt_u64(m);
    uint32_t *p = out + n;
    _mm512_storeu_si512(p,
                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(idx)), base));
    if (__builtin_expect(cnt > 16, 0)) {
        _mm512_storeu_si512(
            p + 16,
            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 1)), base));
        if (cnt > 32) {
            _mm512_storeu_si512(
                p + 32,
                _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 2)), base));
            _mm512_storeu_si512(
                p + 48,
                _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 3)), base));
        }
    }
    return n + cnt;
}
#define CI_FEW CI(flatten)
#elif CI_LEVEL == JP_CSV_SIMD_AVX2
/* The positions of the set bits of m, plus o, at out[n..]: eight slots
 * always, more only for a crowded block (tzcnt of 0 is defined). */
static CI_TARGET inline uint32_t CI(flatten)(uint32_t *out, uint32_t n, uint32_t o, uint64_t m)
{
    uint32_t cnt = (uint32_t)_mm_popcnt_u64(m);
    uint32_t *p = out + n;
    for (int k = 0; k < 8; k++) {
        p[k] = o + (uint32_t)_tzcnt_u64(m);
        m = _blsr_u64(m);
    }
    if (__builtin_expect(cnt > 8, 0)) {
        p += 8;
        while (m) {
            *p++ = o + (uint32_t)_tzcnt_u64(m);
            m = _blsr_u64(m);
        }
    }
    return n + cnt;
}

/* The same for masks with one or two bits set as a rule (record ends). */
static CI_TARGET inline uint32_t CI(few)(uint32_t *out, uint32_t n, uint32_t o, uint64_t m)
{
    uint32_t cnt = (uint32_t)_mm_popcnt_u64(m);
    uint32_t *p = out + n;
    p[0] = o + (uint32_t)_tzcnt_u64(m);
    m = _blsr_u64(m);
    p[1] = o + (uint32_t)_tzcnt_u64(m);
    m = _blsr_u64(m);
    if (__builtin_expect(cnt > 2, 0)) {
        p += 2;
        while (m) {
            *p++ = o + (uint32_t)_tzcnt_u64(m);
            m = _blsr_u64(m);
        }
    }
    return n + cnt;
}
#define CI_FEW CI(few)
#else
static inline uint32_t CI(flatten)(uint32_t *out, uint32_t n, uint32_t o, uint64_t m)
{
    while (m) {
        out[n++] = o + (uint32_t)__builtin_ctzll(m);
        m &= m - 1;
    }
    return n;
}
#define CI_FEW CI(flatten)
#endif

/* Which bytes are inside quotes, from the quote mask: a prefix XOR, by a
 * carry-less multiplication where there is one. */
static CI_TARGET inline uint64_t CI(inside)(uint64_t q)
{
#if CI_LEVEL == JP_CSV_SIMD_PORTABLE
    return prefix_xor(q);
#else
    return (uint64_t)_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)q), _mm_set1_epi8((char)0xFF), 0));
#endif
}

static CI_TARGET void CI(index_window)(const char *w, size_t wlen, char delim, scratch_t *S,
                                       windex_t *X)
{
    uint32_t *ev = S->ev, *nlp = S->nl, *qp = S->q, *zp = S->z, *qnlp = S->qnl;
    uint32_t nev = 0, nnl = 0, nq = 0, nz = 0, nqnl = 0;
    uint64_t inq = 0, high = 0;
    for (size_t off = 0; off < wlen; off += 64) {
        uint64_t q, d, nl, z, h;
        CI_MASKS(w + off, delim, &q, &d, &nl, &z, &h);
        if (wlen - off < 64) {
            uint64_t valid = (UINT64_C(1) << (wlen - off)) - 1;
            q &= valid;
            d &= valid;
            nl &= valid;
            z &= valid;
            h &= valid;
        }
        high |= h;
        uint64_t inside = CI(inside)(q) ^ inq;
        inq = 0 - (inside >> 63);
        uint32_t o = (uint32_t)off;
        nev = CI(flatten)(ev, nev, o, (d | nl) & ~inside);
        nnl = CI_FEW(nlp, nnl, o, nl & ~inside);
        if (__builtin_expect(q != 0, 0)) nq = CI(flatten)(qp, nq, o, q);
        if (__builtin_expect(z != 0, 0)) nz = CI(flatten)(zp, nz, o, z);
        uint64_t qnl = nl & inside;
        if (__builtin_expect(qnl != 0, 0)) nqnl = CI(flatten)(qnlp, nqnl, o, qnl);
    }
    qp[nq] = zp[nz] = qnlp[nqnl] = UINT32_MAX;
    ev[nev] = UINT32_MAX;
    X->nev = nev;
    X->nnl = nnl;
    X->high = high;
}

#undef CI_FEW
#undef CI
#undef CI_CAT
#undef CI_CAT2
