/*
 * jp_csv_scan.h - the insides of one pass over a CSV file, shared by the
 * four files that make it up.  Not a public header.
 *
 *   jp_csv_cell.c   what a cell's text is: inference kinds, explicit types
 *   jp_csv_store.c  where cells go: chunk columns and dictionaries, then
 *                   the column builders that chunks are appended to
 *   jp_csv_scan.c   the scanner: one chunk of text into its chunk columns
 *   jp_csv_pass.c   the driver: the text source, batches, worker threads,
 *                   first-error ordering, set-aside records, the pass
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
 * Inference.  Each chunk column keeps the kinds of cells it saw and stores
 * values in the narrowest representation so far (int64, double, bool,
 * date, dictionary code), widening in place; int/bool/date cells can be
 * turned back into their exact text, decimals cannot.  A column that turns
 * out to be text after decimals were stored as doubles is "dead" in this
 * pass and is read again, as text, by a second pass over the file.
 *
 * The small helpers the scanner's inner loop needs (digit conversion eight
 * bytes at a time, the chunk dictionary probe) are inline here so that the
 * hot path stays within one translation unit.
 */
#ifndef JP_CSV_SCAN_H
#define JP_CSV_SCAN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_csv_int.h"

/* ---- cell kinds and stores ------------------------------------------------------ */

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
#define K_MARKER  0x800u /* a missing-value marker (— - NA ...): null where the column is typed */

/* ST_PDEC: decimals kept as (digits, sign, scale) and divided out when the
 * chunk is appended, where the divisions do not wait on each other. */
enum {
    ST_NONE = 0,
    ST_INT,
    ST_NUM,
    ST_BOOL,
    ST_DATE,
    ST_STR,
    ST_PERIOD,
    ST_DEAD,
    ST_PDEC,
    ST_PROFILE
};

/* Kinds with a type of their own (all but nulls and text). */
#define K_TYPED (K_INT | K_INTWIDE | K_DEC | K_BIGX | K_SPECIAL | K_BOOL | K_DATE | K_PERIOD)

/* Do cells of these kinds, together, make a column text?  (The same
 * verdict the stores reach by widening, from the kinds alone.) */
static inline bool kinds_are_text(unsigned k)
{
    if (k & K_STR) return true;
    bool num = (k & (K_INT | K_INTWIDE | K_DEC | K_BIGX | K_SPECIAL)) != 0;
    if (num + ((k & K_BOOL) != 0) + ((k & K_DATE) != 0) > 1) return true;
    /* an int64 a double cannot hold, among decimals */
    return (k & K_INTWIDE) && (k & (K_DEC | K_BIGX | K_SPECIAL));
}

static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') <= 9;
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

/* The kind fast_dec_parts gives s[0..n) (K_INT or K_DEC), without its
 * value: what a field that is only checked needs.  Its own copy of the
 * checks: a wrapper around fast_dec_parts, even inlined, costs a top-N's
 * pass 5 % more. */
static inline __attribute__((always_inline)) bool fast_kind(const char *s, size_t n, unsigned *kind)
{
    bool neg = s[0] == '-';
    const char *p = s + neg;
    size_t len = n - neg;
    if (len - 1 < 8) {
        uint64_t w = rd64(p);
        uint64_t keep = len == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * len)) - 1;
        uint64_t nd = swar_nondigits(w) & keep;
        unsigned i = nd ? (unsigned)__builtin_ctzll(nd) / 8 : (unsigned)len;
        if (i == 0 || (p[0] == '0' && i > 1)) return false;
        if (i == len) {
            if (neg && i == 1 && p[0] == '0') return false; /* -0 is text */
            *kind = K_INT;
            return true;
        }
        if (p[i] != '.' || len - i - 1 == 0 || (nd >> (8 * i + 8)) != 0) return false;
        *kind = K_DEC;
        return true;
    }
    uint64_t ip, fp;
    unsigned nd = swar_lead(p, len, &ip);
    if (nd == 0 || (p[0] == '0' && nd > 1) || nd == len || (nd == 8 && len > 8)) return false;
    size_t f = len - nd - 1;
    if (p[nd] != '.' || f == 0 || f > 8 || swar_lead(p + nd + 1, f, &fp) != f) return false;
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

/* ---- chunks ------------------------------------------------------------------ */

typedef struct ccol {
    int store;
    unsigned kinds;
    union {
        uint64_t *v;    /* vcap slots: int64 bits, double bits, bool, date, code */
        jp_period_t *p; /* ST_PERIOD (explicit: the store never changes) */
    };
    uint8_t *nulls; /* 1 null, 2 quoted empty, 3 marker (index in v); valid when has_nulls */
    uint8_t *quals; /* valid when has_quals */
    cdict_t *d;     /* while the store is ST_STR (kept for reuse) */
    uint32_t vcap, ncap, qcap;
    bool has_nulls, has_quals;
    uint32_t n_null, n_qempty, n_marker, n_qual; /* ST_PROFILE counts cells instead */
    uint32_t n_typed, n_text;                    /* ST_PROFILE: typed cells, text cells */
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

/* A cell its explicit type could not read, read as null (pass_t.cell_errors):
 * where it is, so that the calling thread, in file order, can say why. */
typedef struct cerr {
    size_t fs, fe; /* the field in the batch, quotes included */
    size_t row;    /* rows of the chunk before it */
    uint32_t k;    /* colspec */
    uint8_t flags; /* 1 quoted, 2 with doubled quotes */
} cerr_t;

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
    bool profile; /* counting, not storing: no per-row arrays */
    ccol_t *cc;
    size_t ncc;
    cell_t *cells; /* deferred mode only, like fs and fe */
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
    /* cells read as null for not being of their type */
    cerr_t *cerr;
    size_t ncerr, cerr_cap;
    long line0;     /* set in order, by the calling thread */
    uint64_t *roff; /* pass_t.offsets: each row's record start in the batch */
    size_t roff_cap;
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

/* The fast path's index of a window of text (jp_csv_index.h). */
typedef struct windex {
    uint32_t nev, nnl; /* field ends and record ends found */
    uint64_t high;     /* nonzero when a byte past ASCII is in the window */
} windex_t;

typedef struct scratch scratch_t;
typedef void (*index_fn)(const char *w, size_t wlen, char delim, scratch_t *S, windex_t *X);

struct scratch {
    uint32_t *ev, *nl, *q, *z, *qnl; /* fast-path index of a window */
    index_fn index;                  /* for the instruction set chosen */
};

typedef struct bld {
    int store;
    unsigned kinds;
    jp_column_t *col; /* NULL until rows come and while DEAD; INT stands in for NONE */
    /* streaming: a column handed on earlier and given back unshared, to be
       filled again instead of a new one (its pages are already faulted) */
    jp_column_t *spare;
    /* a profile's counts, and the cell that made an inferred column text */
    size_t n_null, n_qempty, n_marker, n_qual;
    size_t n_typed, n_text;  /* cells of a kind of their own, and text cells */
    bool explained, pending; /* pending: the culprit is in the chunk being appended */
    unsigned kinds_seen;     /* while pending: kinds of the cells before */
    long why_row, why_line, why_col;
    char *why_cell;
} bld_t;

typedef struct pass {
    const csv_src_t *src;
    const csv_layout_t *lay;
    const csv_colspec_t *cs;
    size_t n;
    bool profile;      /* count and type the cells, build no column */
    size_t max_rows;   /* stop after this many rows (0: all) */
    const size_t *sel; /* build only these rows (csv_how_t.sel) */
    size_t nsel, seli; /* how many; the next one to look for */
    size_t seen;       /* data records appended so far, selected or not */
    long *slot_of;     /* per file column: colspec index or -1 */
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
    /* streaming (csv_how_t.emit): rows before `base` were handed on */
    jp_status_t (*emit)(void *ctx, jp_column_t *const *cols, size_t nrows, uint64_t bytes,
                        const jp_column_t *lines, jp_error_t *err);
    void *emit_ctx;
    jp_column_t *elines; /* csv_how_t.emit_lines: the lines of the rows since `base` */
    size_t base;
    bool retype;
    jp_type_t *etype;       /* per colspec: the type batches went out with (NONE: none yet) */
    jp_column_t **ecols;    /* per colspec: the batch being handed on (then the offsets) */
    size_t nbuilt;          /* colspecs built; those after are checked only (csv_how_t.ncheck) */
    bool offsets;           /* csv_how_t.offsets */
    jp_column_t *offs;      /* the batch's record offsets, as they are appended */
    struct scratch scratch; /* the calling thread's */
    /* csv_how_t.cell_errors: a cell its explicit type cannot read is null
       and recorded here, in file order, instead of failing the pass;
       cells_null: null (this list or csv_layout_t.cells_null), recorded
       only when there is a list */
    jp_cell_errors_t *cell_errors;
    bool cells_null;
} pass_t;

/* ---- across the four files ------------------------------------------------------ */

/* jp_csv_pass.c */
size_t jp_csv_count_nl(const char *p, size_t n);
void jp_csv_advise_huge(void *p, size_t n);

/* jp_csv_cell.c: read a cell's text (no side effects on the columns).
 * Returns false with a reason in why (and *bad, the offset of the culprit
 * in t) when the cell does not fit its field. */
bool jp_csv_cell_parse(pass_t *P, chunk_t *C, size_t k, int mode, const char *t, size_t n,
                       bool quoted, cell_t *cl, char *why, size_t wsz, size_t *bad);
/* The kind inference gives a cell (K_NULL, K_QEMPTY, K_MARKER too). */
unsigned jp_csv_infer_kind(const csv_layout_t *lay, const char *t, size_t n, bool quoted);

/* jp_csv_store.c */
int jp_csv_store_of_mode(int mode); /* ST_DEAD for CM_SKIP */
jp_type_t jp_csv_type_of_store(int st);
jp_type_t jp_csv_type_of_kinds(unsigned kinds);
bool jp_csv_cell_store(chunk_t *C, ccol_t *c, const cell_t *cl, int mode);
void jp_csv_chunk_reset(chunk_t *C); /* no rows, no failure, no records set aside */
bool jp_csv_chunk_setup(pass_t *P, batch_t *B, chunk_t *C); /* columns for the records to come */
bool jp_csv_chunk_grow(chunk_t *C, size_t need);
bool jp_csv_chunk_irregular(chunk_t *C);
void jp_csv_chunk_free(chunk_t *C);
jp_status_t jp_csv_append_batch(pass_t *P, batch_t *B, jp_error_t *err);
jp_status_t jp_csv_bld_finish(pass_t *P, size_t k, jp_column_t **out, bool *dead);

/* jp_csv_scan.c */
bool jp_csv_scratch_init(scratch_t *S, int simd); /* simd: JP_CSV_SIMD_*, as allowed */
void jp_csv_scratch_free(scratch_t *S);
void jp_csv_parse_chunk(pass_t *P, batch_t *B, chunk_t *C, scratch_t *S);
/* A profile: find the culprits of the npending columns marked pending in
 * chunk C (its first row is row0 + 1); returns how many were not found. */
size_t jp_csv_explain_text(pass_t *P, batch_t *B, chunk_t *C, size_t row0, size_t npending);
/* Why cell e of chunk C does not read as its type (why: >= 400 bytes), and
 * the offset in the batch of the culprit. */
void jp_csv_cell_why(pass_t *P, batch_t *B, chunk_t *C, const cerr_t *e, char *why, size_t wsz,
                     size_t *at);

#endif
