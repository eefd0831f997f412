/*
 * jp_csv_pass.c - one pass over a CSV file's data records, in parallel,
 * into typed columns: the text source (file, gzip or memory), tuning, the
 * batches and their worker threads, the in-order check of the chunks
 * (first error in file order, records set aside), and the pass itself,
 * with the second pass for columns that turned out to be text.  The data
 * flow is described in jp_csv_scan.h.
 *
 * Never prints; the workers share nothing writable but their own chunk.
 */
#include "jp_csv_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jp_dataset.h"
#include "jp_file.h"
#include "jp_gzip.h"
#include "jp_limit.h"
#include "jp_mem.h"
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

static int simd_want;

void jp_csv_set_simd(int want)
{
    simd_want = want;
}

void jp_csv_tuning_get(csv_tuning_t *t)
{
    /* a chunk's rows are counted in 32 bits: batches stay below 1 GB */
    const size_t most = (size_t)1 << 30;
    t->batch_bytes = tuning.batch_bytes ? tuning.batch_bytes : JP_CSV_BATCH_BYTES;
    if (t->batch_bytes > most) t->batch_bytes = most;
    t->chunk_set = tuning.chunk_bytes != 0;
    t->chunk_bytes = tuning.chunk_bytes ? tuning.chunk_bytes : JP_CSV_CHUNK_BYTES;
    t->max_record = tuning.max_record ? tuning.max_record : JP_CSV_MAX_RECORD;
    t->lazy_bytes = tuning.lazy_bytes ? tuning.lazy_bytes : JP_CSV_LAZY_BYTES;
    t->threads = tuning.threads;
    t->simd = jp_csv_simd(simd_want);
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

size_t jp_csv_count_nl(const char *p, size_t n)
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

/* Ask for huge pages on a big buffer that lives for the whole read (a
 * batch's text): far fewer page faults and TLB misses (transparent huge
 * pages in "madvise" mode; a no-op elsewhere).  Not for arrays that grow
 * with the file: each advised fault may compact memory first. */
void jp_csv_advise_huge(void *p, size_t n)
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
    jp_gunzip_t *gz; /* gzip data, from the file or from memory */
    const char *mem;
    size_t mem_len, mem_pos;
    const char *name;
    uint64_t pos, limit; /* text handed out; csv_src_t.limit */
    uint64_t size;       /* a plain file's or memory's size when opened (0: unknown) */
};

jp_status_t jp_csv_reader_open(const csv_src_t *src, const csv_layout_t *lay, csv_reader_t **out,
                               jp_error_t *err)
{
    *out = NULL;
    csv_reader_t *r = jp_calloc(1, sizeof *r);
    if (!r) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    r->fd = -1;
    r->name = src->path;
    r->limit = src->limit;
    if (src->mem && src->gz) {
        if (!(r->gz = jp_gunzip_open_mem(src->mem, src->mem_len, NULL, NULL, err))) {
            jp_free(r);
            return err ? err->code : JP_ERR_NOMEM;
        }
        *out = r;
        return JP_OK;
    }
    if (src->mem) {
        r->mem = src->mem;
        r->mem_len = r->size = src->mem_len;
        *out = r;
        return JP_OK;
    }
    r->fd = open(src->file ? src->file : src->path, O_RDONLY);
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
    if (S_ISREG(st.st_mode) && !src->gz) r->size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    if (src->gz && !(r->gz = jp_gunzip_open_fd(r->fd, NULL, NULL, err))) {
        close(r->fd);
        jp_free(r);
        return err ? err->code : JP_ERR_NOMEM;
    }
    *out = r;
    return JP_OK;
}

static jp_status_t reader_read(csv_reader_t *r, char *buf, size_t n, size_t *got, jp_error_t *err)
{
    size_t have = 0;
    if (r->gz) return jp_gunzip_read(r->gz, buf, n, got, err);
    if (r->mem) {
        size_t k = r->mem_len - r->mem_pos;
        if (k > n) k = n;
        memcpy(buf, r->mem + r->mem_pos, k);
        r->mem_pos += k;
        *got = k;
        return JP_OK;
    }
    while (have < n) {
        ssize_t k = read(r->fd, buf + have, n - have);
        if (k < 0) {
            if (errno == EINTR) continue;
            return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", r->name);
        }
        if (k == 0) break;
        have += (size_t)k;
    }
    *got = have;
    return JP_OK;
}

jp_status_t jp_csv_reader_read(csv_reader_t *r, char *buf, size_t n, size_t *got, jp_error_t *err)
{
    if (r->limit && n > r->limit - r->pos) n = (size_t)(r->limit - r->pos);
    *got = 0;
    jp_status_t st = n ? reader_read(r, buf, n, got, err) : JP_OK;
    r->pos += *got;
    return st;
}

static jp_status_t reader_skip(csv_reader_t *r, uint64_t off, jp_error_t *err)
{
    if (r->mem && !r->gz) {
        r->mem_pos = off < r->mem_len ? (size_t)off : r->mem_len;
        r->pos = r->mem_pos;
        return JP_OK;
    }
    if (!r->gz) {
        if (lseek(r->fd, (off_t)off, SEEK_SET) < 0)
            return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", r->name);
        r->pos = off;
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

jp_status_t jp_csv_reader_forward(csv_reader_t *r, uint64_t at, uint64_t to, jp_error_t *err)
{
    if (to < at) return jp_error_set(err, JP_ERR_INTERNAL, "reader: backwards");
    /* a plain file or memory: from the start; gzip: read on from here */
    return reader_skip(r, r->gz ? to - at : to, err);
}

void jp_csv_reader_close(csv_reader_t *r)
{
    if (!r) return;
    jp_gunzip_close(r->gz);
    if (r->fd >= 0) close(r->fd);
    jp_free(r);
}

/* ---- workers ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    pass_t *P = arg;
    scratch_t S;
    memset(&S, 0, sizeof S);
    jp_csv_scratch_init(&S, P->tune.simd); /* without it the general scanner does the work */
    pthread_mutex_lock(&P->mu);
    for (;;) {
        while (!P->quit && (!P->cur || P->next >= P->cur->nch))
            pthread_cond_wait(&P->cv_job, &P->mu);
        if (P->quit) break;
        batch_t *B = P->cur;
        size_t j = P->next++;
        pthread_mutex_unlock(&P->mu);
        jp_csv_parse_chunk(P, B, &B->ch[j], &S);
        pthread_mutex_lock(&P->mu);
        if (++P->done == B->nch) pthread_cond_broadcast(&P->cv_done);
    }
    pthread_mutex_unlock(&P->mu);
    jp_csv_scratch_free(&S);
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
        for (size_t j = 0; j < B->nch; j++) jp_csv_parse_chunk(P, B, &B->ch[j], &P->scratch);
        return;
    }
    pthread_mutex_lock(&P->mu);
    while (P->next < B->nch) {
        size_t j = P->next++;
        pthread_mutex_unlock(&P->mu);
        jp_csv_parse_chunk(P, B, &B->ch[j], &P->scratch);
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
    for (size_t j = 0; j < B->chcap; j++) jp_csv_chunk_free(&B->ch[j]);
    jp_free(B->ch);
    jp_free(B->mem);
    jp_free(B->mode);
    memset(B, 0, sizeof *B);
}

/* Read fresh text into B after its head room. */
static jp_status_t batch_read(pass_t *P, csv_reader_t *r, batch_t *B, jp_error_t *err)
{
    size_t want = P->tune.batch_bytes;
    /* a small file's batch is its size (one byte more shows the end), not
       a whole batch of memory; a file grown since keeps being read */
    if (r->size) {
        uint64_t left = r->size > r->pos ? r->size - r->pos : 0;
        if (left < (uint64_t)64 << 10) left = (uint64_t)64 << 10;
        if (left + 1 < want) want = (size_t)left + 1;
    }
    size_t need = HEAD + want + PAD;
    if (B->memcap < need) {
        char *m = jp_malloc(need);
        if (!m) return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", P->src->path);
        jp_free(B->mem);
        B->mem = m;
        B->memcap = need;
        jp_csv_advise_huge(m, need);
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
    if (!P->tune.chunk_set) {
        /* wide records: a chunk should hold several records, and setting
           up its columns should cost little beside parsing its text */
        size_t by_rows = P->row_bytes < ((size_t)1 << 40) ? P->row_bytes * 64 : cb;
        size_t by_cols = P->n < ((size_t)1 << 40) ? P->n * 256 : cb;
        if (cb < by_rows) cb = by_rows;
        if (cb < by_cols) cb = by_cols;
    }
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
    long line = C->line0 + (long)jp_csv_count_nl(b + C->s, pos > C->s ? pos - C->s : 0);
    const char *l0 = b + pos;
    while (l0 > b && l0[-1] != '\n') l0--;
    long col = jp_csv_char_col(l0, b + pos);
    jp_error_set(err, C->est, "%s", C->emsg);
    jp_error_at(err, P->src->path, line, col);
    jp_error_row(err, (long)(rows_before + C->erow + 1));
    if (C->ecs >= 0) jp_error_field(err, P->cs[C->ecs].name);
}

static int cmp_cerr(const void *a, const void *b)
{
    const cerr_t *x = a, *y = b;
    return x->fs < y->fs ? -1 : x->fs > y->fs;
}

/* The cells of chunk C read as null for not being of their type, in file
 * order (a record's cells are noted in the order of the columns asked
 * for), to P->cell_errors; a cell of the unfinished record at the end of
 * the batch is noted again by the next batch.  Without a list (a file
 * read for validation, in a pass that does not list them) they are only
 * null. */
static jp_status_t take_cell_errors(pass_t *P, batch_t *B, chunk_t *C, size_t rows_before,
                                    jp_error_t *err)
{
    if (!P->cell_errors) {
        C->ncerr = 0;
        return JP_OK;
    }
    qsort(C->cerr, C->ncerr, sizeof *C->cerr, cmp_cerr);
    const char *b = B->data;
    size_t pos = C->s, ls = C->s; /* counted up to pos; ls: the start of pos's line */
    long line = C->line0;
    for (size_t i = 0; i < C->ncerr; i++) {
        const cerr_t *e = &C->cerr[i];
        if (e->row >= C->rows) break;
        jp_cell_errors_t *ce = P->cell_errors;
        if (ce->n == JP_CELL_ERRORS_MAX) {
            ce->total++;
            continue;
        }
        char why[400];
        size_t at;
        jp_csv_cell_why(P, B, C, e, why, sizeof why, &at);
        if (at > B->len) at = B->len;
        if (at < pos) { /* cannot happen (sorted), but never count backwards */
            pos = ls = C->s;
            line = C->line0;
        }
        while (pos < at) {
            const char *q = memchr(b + pos, '\n', at - pos);
            if (!q) break;
            line++;
            pos = ls = (size_t)(q - b) + 1;
        }
        pos = at;
        jp_error_t ee;
        jp_error_clear(&ee);
        jp_error_set(&ee, JP_ERR_TYPE, "%s", why);
        jp_error_at(&ee, P->src->path, line, jp_csv_char_col(b + ls, b + at));
        jp_error_row(&ee, (long)(rows_before + e->row + 1));
        jp_error_field(&ee, P->cs[e->k].name);
        if (jp_cell_errors_add(ce, &ee)) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    C->ncerr = 0;
    return JP_OK;
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
            jp_csv_parse_chunk(P, B, C, &P->scratch);
        }
        C->line0 = line;
        if (C->est) {
            set_error_at(P, B, C, rows, err);
            return C->est;
        }
        if (C->nrej && take_rejects(P, B, C))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        jp_status_t st;
        if (C->ncerr && (st = take_cell_errors(P, B, C, rows, err))) return st;
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
        for (size_t k = 0; k < P->n; k++) {
            jp_column_unref(P->b[k].col);
            jp_column_unref(P->b[k].spare);
            jp_free(P->b[k].why_cell);
        }
    jp_column_unref(P->elines);
    jp_free(P->b);
    jp_free(P->mode);
    jp_free(P->slot_of);
    jp_free(P->need_j);
    jp_free(P->need_k);
    jp_free(P->etype);
    if (P->ecols)
        for (size_t k = 0; k <= P->n; k++) jp_column_unref(P->ecols[k]);
    jp_free(P->ecols);
    jp_column_unref(P->offs);
    jp_csv_scratch_free(&P->scratch);
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

/* Streaming: the rows appended since the last batch, as columns, to the
 * consumer; the builders start again empty but keep their stores, so each
 * batch has the types of everything before it.  A type that differs from
 * the one earlier batches went out with stops the pass (P->retype). */
static jp_status_t emit_batch(pass_t *P, jp_error_t *err)
{
    size_t nrows = P->rows - P->base;
    jp_status_t st = JP_OK;
    size_t k;
    for (k = 0; k <= P->n; k++) P->ecols[k] = NULL;
    for (k = 0; k < P->nbuilt && !st && !P->retype; k++) {
        bld_t *b = &P->b[k];
        jp_column_t *c = NULL;
        bool dead = false;
        if (b->store == ST_NONE) {
            /* only nulls so far: text, as a full read would make it, but the
               builder stays untyped (a later cell may still type it) */
            jp_column_unref(b->col);
            b->col = NULL;
            c = jp_column_new_nulls(JP_TYPE_STRING, nrows);
        } else if (jp_csv_bld_finish(P, k, &c, &dead)) {
            c = NULL;
        } else if (dead) {
            P->retype = true;
            break;
        }
        if (!c) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory building columns");
            break;
        }
        P->ecols[k] = c;
        if (P->etype[k] == JP_TYPE_NONE)
            P->etype[k] = c->type;
        else if (P->etype[k] != c->type)
            P->retype = true;
    }
    if (P->offsets && nrows) {
        /* the record offsets after the built columns */
        P->ecols[P->nbuilt] = P->offs;
        P->offs = NULL;
        if (!P->ecols[P->nbuilt] || P->ecols[P->nbuilt]->len != nrows)
            st = jp_error_set(err, JP_ERR_INTERNAL, "CSV stream: record offsets lost");
    }
    if (!st && !P->retype && nrows)
        st =
            P->emit(P->emit_ctx, P->ecols, nrows, P->lay->data_off + P->bytes_done, P->elines, err);
    if (P->elines && P->elines->refs == 1) {
        jp_column_set_len(P->elines, 0);
    } else if (P->elines) {
        jp_column_unref(P->elines);
        if (!(P->elines = jp_column_new(JP_TYPE_INT, 16)) && !st)
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (P->offsets) {
        jp_column_t *c = P->ecols[P->nbuilt];
        P->ecols[P->nbuilt] = NULL;
        if (c && c->refs == 1 && !st)
            P->offs = c; /* filled again */
        else
            jp_column_unref(c);
    }
    for (k = 0; k < P->nbuilt; k++) {
        /* a column the consumer did not keep is filled again next batch */
        jp_column_t *c = P->ecols[k];
        P->ecols[k] = NULL;
        if (c && c->refs == 1 && !st && !P->b[k].spare) {
            P->b[k].spare = c;
            continue;
        }
        jp_column_unref(c);
    }
    P->base = P->rows;
    return st;
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
                if (jp_thread_create(&P->th[i], worker_main, P)) break;
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
        /* a time limit, Ctrl-C: every batch (B is read, not yet handed out) */
        if ((st = jp_stop_check(err))) goto out;
        if ((st = verify(P, A, err))) goto out;
        size_t clen = A->len - A->e_final;
        if (P->max_rows) {
            size_t rows = P->rows;
            for (size_t j = 0; j < A->nch; j++) rows += A->ch[j].rows;
            if (rows >= P->max_rows) more = false, clen = 0; /* enough: the rest is not read */
        }
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
        if ((st = jp_csv_append_batch(P, A, err)) ||
            (P->emit && ((st = emit_batch(P, err)) || P->retype))) {
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
                              const csv_colspec_t *cs, size_t n, const csv_how_t *how,
                              jp_error_t *err)
{
    memset(P, 0, sizeof *P);
    P->src = src;
    P->lay = lay;
    P->cs = cs;
    P->n = n;
    P->nbuilt = n;
    if (how) {
        P->profile = how->profile;
        P->max_rows = how->max_rows;
        P->sel = how->sel;
        P->nsel = how->nsel;
        /* the columns hold the selected rows only: size them for those */
        if (P->sel) P->total_hint = P->nsel + 1;
        P->emit = how->emit;
        P->emit_ctx = how->emit_ctx;
        if (P->emit && how->ncheck <= n) P->nbuilt = n - how->ncheck;
        P->offsets = P->emit && how->offsets;
        if (P->emit && how->emit_lines && !(P->elines = jp_column_new(JP_TYPE_INT, 16)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        P->cell_errors = how->cell_errors;
        P->cells_null = how->cell_errors != NULL;
        /* a batch's columns grow with the batch, never to the file's size */
        if (P->emit) P->total_hint = 1;
    }
    P->cells_null |= lay->cells_null;
    jp_csv_tuning_get(&P->tune);
    if (how && how->batch_bytes && how->batch_bytes < P->tune.batch_bytes)
        P->tune.batch_bytes = how->batch_bytes;
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
        P->b[k].store = jp_csv_store_of_mode(cs[k].mode);
        if (P->b[k].store == ST_DEAD) return jp_error_set(err, JP_ERR_INTERNAL, "bad column mode");
    }
    P->need_j = jp_malloc_array(n ? n : 1, sizeof *P->need_j);
    P->need_k = jp_malloc_array(n ? n : 1, sizeof *P->need_k);
    if (!P->need_j || !P->need_k) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (P->emit) {
        P->etype = jp_calloc(n ? n : 1, sizeof *P->etype); /* JP_TYPE_NONE is 0 */
        P->ecols = jp_calloc(n + 1, sizeof *P->ecols);
        if (!P->etype || !P->ecols) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t j = 0; j < lay->ncols; j++)
        if (P->slot_of[j] >= 0) {
            P->need_j[m] = j;
            P->need_k[m++] = (size_t)P->slot_of[j];
        }
    jp_csv_scratch_init(&P->scratch, P->tune.simd); /* else the general scanner does the work */
    return JP_OK;
}

void jp_csv_result_free(csv_result_t *res, size_t n)
{
    if (res->cols)
        for (size_t k = 0; k < n; k++) jp_column_unref(res->cols[k]);
    jp_free(res->cols);
    if (res->stats)
        for (size_t k = 0; k < n; k++) jp_free(res->stats[k].why_cell);
    jp_free(res->stats);
    jp_column_unref(res->lines);
    jp_dataset_unref(res->rejects);
    memset(res, 0, sizeof *res);
}

/* A profile's result: each column's type, counts and culprit. */
static jp_status_t profile_result(pass_t *P, csv_result_t *res, jp_error_t *err)
{
    res->nrows = P->rows;
    res->stats = jp_calloc(P->n ? P->n : 1, sizeof *res->stats);
    if (!res->stats) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < P->n; k++) {
        bld_t *bk = &P->b[k];
        csv_colstat_t *cs = &res->stats[k];
        cs->type = P->cs[k].mode == CM_INFER ? jp_csv_type_of_kinds(bk->kinds)
                                             : jp_csv_type_of_store(bk->store);
        /* "" and markers are text in a text column, nulls in a typed one */
        cs->nulls = bk->n_null + (cs->type == JP_TYPE_STRING ? 0 : bk->n_qempty + bk->n_marker);
        cs->qualified = bk->n_qual;
        /* worth naming when the column is mostly figures (typed cells at
           least as many as text cells; nulls and markers not counted): one
           "约7696" among numbers, wherever it is, but not a column of names
           that happens to start with a number */
        if (bk->why_cell && cs->type == JP_TYPE_STRING && bk->n_typed >= bk->n_text) {
            cs->why_row = bk->why_row;
            cs->why_line = bk->why_line;
            cs->why_col = bk->why_col;
            cs->why_cell = bk->why_cell;
            bk->why_cell = NULL;
        }
    }
    return JP_OK;
}

static jp_status_t pass_with_skips(const csv_src_t *src, const csv_layout_t *lay,
                                   const csv_colspec_t *cs, size_t n, const csv_how_t *how,
                                   const uint64_t *skip, size_t nskip, csv_result_t *res,
                                   jp_error_t *err)
{
    pass_t P;
    memset(res, 0, sizeof *res);
    jp_status_t st = pass_setup(&P, src, lay, cs, n, how, err);
    if (st) goto fail;
    P.skip = (uint64_t *)skip;
    P.nskip = nskip;
    if ((st = run_pass(&P, err))) goto fail;
    if (P.emit) {
        res->nrows = P.rows;
        res->retype = P.retype;
        res->stats = jp_calloc(n ? n : 1, sizeof *res->stats);
        if (!res->stats) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < n; k++)
            res->stats[k].type = k < P.nbuilt ? P.etype[k]
                                 : cs[k].mode == CM_INFER
                                     ? jp_csv_type_of_kinds(P.b[k].kinds)
                                     : jp_csv_type_of_store(jp_csv_store_of_mode(cs[k].mode));
        pass_free(&P);
        return JP_OK;
    }
    if (P.profile) {
        if ((st = profile_result(&P, res, err))) goto fail;
        pass_free(&P);
        return JP_OK;
    }
    if (P.max_rows && P.rows > P.max_rows) {
        P.rows = P.max_rows; /* the builders are cut to it */
        if (P.lines) P.lines->len = P.rows;
    }
    res->cols = jp_calloc(n ? n : 1, sizeof *res->cols);
    if (!res->cols) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    res->nrows = P.rows;
    size_t ndead = 0;
    for (size_t k = 0; k < n; k++) {
        bool dead;
        if ((st = jp_csv_bld_finish(&P, k, &res->cols[k], &dead))) {
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
        st = pass_with_skips(src, lay, cs2, m, how, sk ? sk : skip, sk ? P.ncontent + nskip : nskip,
                             &r2, err);
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
                        size_t n, const csv_how_t *how, csv_result_t *res, jp_error_t *err)
{
    return pass_with_skips(src, lay, cs, n, how, NULL, 0, res, err);
}
