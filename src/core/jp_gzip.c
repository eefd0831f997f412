/*
 * jp_gzip.c - parallel, deterministic gzip writing (see jp_gzip.h).
 *
 * Each block is deflated by libdeflate (about twice as fast as zlib at the
 * same level and ratio).  libdeflate ends every stream with a final block,
 * so to join blocks into ONE deflate stream a worker then walks its own
 * output with zlib's inflate in Z_BLOCK mode (the technique of zlib's
 * examples/gzjoin.c), finds the header of the last block, clears its
 * BFINAL bit, and ends the block's output with an empty stored block so the
 * next one starts on a byte boundary.  The walk costs about a tenth of the
 * compression.  Blocks are independent (libdeflate has no preset
 * dictionary), so they are large enough for that to cost little ratio.
 *
 * Jobs live in a ring of slots numbered by sequence.  The calling thread
 * fills the slot of sequence `fill`, submits it to the workers, and writes
 * finished slots to the FILE strictly in sequence order (folding their
 * CRCs together), reusing a slot only after it has been written.  Workers
 * only compress; they never touch the FILE.  With one thread the same jobs
 * are compressed inline, so the bytes are the same.
 *
 * Never prints; never aborts on allocation failure.
 */
#include "jp_gzip.h"

#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_file.h"
#include "jp_limit.h"
#include "jp_mem.h"

/* J_SKIP: a block held for a hole (jp_gzip_hole): workers pass it over,
 * and its output comes at the fill */
enum { J_FREE = 0, J_FILLING, J_QUEUED, J_DONE, J_FAILED, J_SKIP };

typedef struct job {
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_len, out_cap;
    uint32_t crc;
    int last;
    int state;
} job_t;

typedef struct worker {
    struct jp_gzip_writer *w;
    struct libdeflate_compressor *c;
    z_stream zs; /* inflate, for walking the compressed blocks */
    int zs_ready;
    unsigned char *scratch; /* inflate's output, thrown away */
    pthread_t th;
} worker_t;

#define SCRATCH_BYTES ((size_t)64 << 10)

struct jp_gzip_writer {
    FILE *out;
    int level;
    int nthreads;
    job_t *jobs;
    size_t njobs;
    uint64_t fill;   /* sequence of the slot being filled */
    uint64_t queued; /* jobs handed to workers: sequences [taken, queued) wait */
    uint64_t taken;
    uint64_t written; /* next sequence to write */
    worker_t *workers;
    int nworkers;
    worker_t inline_worker; /* used when nthreads <= 1 */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int quit;
    int sync_ok; /* mutex and conditions initialised */
    uint32_t crc;
    uint64_t total;
    int io_failed;
    uint64_t pos; /* input bytes so far */
    /* a hole (jp_gzip_hole): input [hole_at, hole_at + hole_len), filled
       later.  Full blocks that hold part of it are kept aside uncompressed
       (held, at most two: the hole is at most a block long); the blocks
       after them are compressed as usual but go to `spill` until the fill */
    int hole_open;
    uint64_t hole_at;
    size_t hole_len;
    uint64_t held_seq;
    int nheld;
    unsigned char *held_in[2];
    size_t held_len[2];
    FILE *spill;
    const char *spill_name;
    int spilling;
    uint32_t spill_crc;
    uint64_t spill_len;
};

static job_t *slot(jp_gzip_writer_t *w, uint64_t seq)
{
    return &w->jobs[seq % w->njobs];
}

/*
 * Bit position (from the start of out) of the header of the last deflate
 * block in out[0..n), and the number of unused high bits in its last byte.
 * Returns -1 when the data is not one complete deflate stream.
 */
static int last_block(worker_t *wk, const unsigned char *out, size_t n, uint64_t *bfinal_bit,
                      int *unused)
{
    z_stream *zs = &wk->zs;
    if (!wk->zs_ready) {
        memset(zs, 0, sizeof *zs);
        zs->zalloc = jp_zalloc;
        zs->zfree = jp_zfree;
        if (inflateInit2(zs, -15) != Z_OK) return -1;
        wk->zs_ready = 1;
    } else if (inflateReset(zs) != Z_OK) {
        return -1;
    }
    zs->next_in = (unsigned char *)out;
    zs->avail_in = (uInt)n;
    uint64_t header = 0; /* the first block starts at bit 0 */
    for (;;) {
        zs->next_out = wk->scratch;
        zs->avail_out = (uInt)SCRATCH_BYTES;
        int rc = inflate(zs, Z_BLOCK);
        if (rc != Z_OK && rc != Z_STREAM_END) return -1;
        /* 128: stopped at a block boundary, just after an end-of-block
           code; 64: the block just decoded was the last one */
        if (zs->data_type & 128) {
            if (zs->data_type & 64) break;
            header = (uint64_t)(n - zs->avail_in) * 8 - (uint64_t)(zs->data_type & 7);
        }
        if (rc == Z_STREAM_END) break;
    }
    *bfinal_bit = header;
    *unused = zs->data_type & 7;
    return zs->avail_in == 0 ? 0 : -1;
}

/* libdeflate's allocator is process-wide and may only change while no
 * compressor exists: set it once, before the first, so that compressors
 * are charged to the memory budget like everything else. */
static pthread_once_t deflate_alloc_once = PTHREAD_ONCE_INIT;

static void deflate_use_budget(void)
{
    libdeflate_set_memory_allocator(jp_malloc, jp_free);
}

static int compress_job(worker_t *wk, job_t *j)
{
    pthread_once(&deflate_alloc_once, deflate_use_budget);
    if (!wk->c && !(wk->c = libdeflate_alloc_compressor(wk->w->level))) return -1;
    if (!wk->scratch && !(wk->scratch = jp_malloc(SCRATCH_BYTES))) return -1;
    size_t need = libdeflate_deflate_compress_bound(wk->c, j->in_len) + 8;
    if (j->out_cap < need) {
        unsigned char *o = jp_realloc(j->out, need);
        if (!o) return -1;
        j->out = o;
        j->out_cap = need;
    }
    size_t n = libdeflate_deflate_compress(wk->c, j->in, j->in_len, j->out, j->out_cap - 8);
    if (n == 0) return -1;
    if (!j->last) {
        uint64_t bit;
        int unused;
        if (last_block(wk, j->out, n, &bit, &unused)) return -1;
        j->out[bit / 8] &= (unsigned char)~(1u << (bit % 8)); /* BFINAL = 0 */
        /* the padding above the end-of-block code must be zero: it becomes
           the start of the empty stored block (header bits 000) */
        j->out[n - 1] &= (unsigned char)(0xffu >> unused);
        if (unused < 3) j->out[n++] = 0; /* the header spills into a byte */
        static const unsigned char stored[4] = {0, 0, 0xff, 0xff};
        memcpy(j->out + n, stored, 4);
        n += 4;
    }
    j->out_len = n;
    j->crc = (uint32_t)crc32(0L, j->in, (uInt)j->in_len);
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *wk = arg;
    jp_gzip_writer_t *w = wk->w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        /* quit comes after a close has drained every job, or on an abort
           (an error, a stop): then the queued blocks are not wanted */
        if (w->quit) break;
        if (w->taken < w->queued) {
            job_t *j = slot(w, w->taken++);
            if (j->state == J_SKIP) continue;
            pthread_mutex_unlock(&w->mu);
            int rc = compress_job(wk, j);
            pthread_mutex_lock(&w->mu);
            j->state = rc ? J_FAILED : J_DONE;
            pthread_cond_broadcast(&w->cv_done);
            continue;
        }
        pthread_cond_wait(&w->cv_work, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static jp_status_t put_to(jp_gzip_writer_t *w, FILE *f, const void *p, size_t n, jp_error_t *err)
{
    if (n && fwrite(p, 1, n, f) != n) {
        w->io_failed = 1;
        if (f == w->spill)
            return jp_error_errno(err, JP_ERR_IO, errno ? errno : EIO, "cannot write %s",
                                  w->spill_name);
        return jp_error_errno(err, JP_ERR_IO, errno ? errno : EIO, "cannot write compressed data");
    }
    return JP_OK;
}

static jp_status_t put(jp_gzip_writer_t *w, const void *p, size_t n, jp_error_t *err)
{
    return put_to(w, w->out, p, n, err);
}

/* Write every job with sequence < upto, waiting for the workers: to the
 * output, or to the spill while held blocks wait for their hole. */
static jp_status_t drain(jp_gzip_writer_t *w, uint64_t upto, jp_error_t *err)
{
    while (w->written < upto) {
        jp_status_t stop = jp_stop_check(err); /* once a block (1 MiB) */
        if (stop) return stop;
        job_t *j = slot(w, w->written);
        if (w->nworkers) {
            pthread_mutex_lock(&w->mu);
            while (j->state == J_QUEUED) pthread_cond_wait(&w->cv_done, &w->mu);
            /* a held block: no worker may look at its slot once it is filled
               again, so take the job here if none has passed it yet */
            if (j->state == J_SKIP && w->taken == w->written) w->taken++;
            pthread_mutex_unlock(&w->mu);
        }
        if (j->state == J_SKIP) { /* written at the fill, the rest meanwhile to the spill */
            j->state = J_FREE;
            w->spilling = 1;
            w->written++;
            continue;
        }
        if (j->state == J_FAILED)
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory compressing data");
        jp_status_t st = put_to(w, w->spilling ? w->spill : w->out, j->out, j->out_len, err);
        if (st) return st;
        if (w->spilling) {
            w->spill_crc = (uint32_t)crc32_combine(w->spill_crc, j->crc, (z_off_t)j->in_len);
            w->spill_len += j->in_len;
        } else {
            w->crc = (uint32_t)crc32_combine(w->crc, j->crc, (z_off_t)j->in_len);
        }
        w->total += j->in_len;
        j->state = J_FREE;
        w->written++;
    }
    return JP_OK;
}

/* Does job seq's block hold bytes of the open hole? */
static int in_hole(const jp_gzip_writer_t *w, uint64_t seq)
{
    uint64_t b0 = seq * JP_GZIP_BLOCK, b1 = b0 + JP_GZIP_BLOCK;
    return w->hole_open && w->hole_at < b1 && w->hole_at + w->hole_len > b0;
}

static jp_status_t submit(jp_gzip_writer_t *w, int last, jp_error_t *err)
{
    job_t *j = slot(w, w->fill);
    j->last = last;
    if (in_hole(w, w->fill)) {
        if (last)
            return jp_error_set(err, JP_ERR_INTERNAL, "gzip member closed with a hole unfilled");
        /* kept aside until the fill; its slot goes back to the ring */
        int h = w->nheld;
        if (h == 2) return jp_error_set(err, JP_ERR_INTERNAL, "gzip hole over two blocks");
        if (!w->held_in[h] && !(w->held_in[h] = jp_malloc(JP_GZIP_BLOCK)))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        memcpy(w->held_in[h], j->in, j->in_len);
        w->held_len[h] = j->in_len;
        if (h == 0) w->held_seq = w->fill;
        w->nheld++;
        w->fill++;
        if (!w->nworkers) {
            j->state = J_SKIP;
            return drain(w, w->fill, err);
        }
        /* queued in its turn, so that the workers' count passes it */
        pthread_mutex_lock(&w->mu);
        j->state = J_SKIP;
        w->queued = w->fill;
        pthread_mutex_unlock(&w->mu);
        return JP_OK;
    }
    w->fill++;
    if (!w->nworkers) {
        j->state = compress_job(&w->inline_worker, j) ? J_FAILED : J_DONE;
        return drain(w, w->fill, err);
    }
    pthread_mutex_lock(&w->mu);
    j->state = J_QUEUED;
    w->queued = w->fill;
    pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    return JP_OK;
}

static void stop_workers(jp_gzip_writer_t *w)
{
    if (w->sync_ok) {
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_broadcast(&w->cv_work);
        pthread_mutex_unlock(&w->mu);
    }
    for (int i = 0; i < w->nworkers; i++) pthread_join(w->workers[i].th, NULL);
}

static void worker_free(worker_t *wk)
{
    if (wk->zs_ready) inflateEnd(&wk->zs);
    if (wk->c) libdeflate_free_compressor(wk->c);
    jp_free(wk->scratch);
}

static void writer_free(jp_gzip_writer_t *w)
{
    if (!w) return;
    stop_workers(w);
    for (int i = 0; i < w->nworkers; i++) worker_free(&w->workers[i]);
    w->nworkers = 0;
    worker_free(&w->inline_worker);
    if (w->jobs)
        for (size_t i = 0; i < w->njobs; i++) {
            jp_free(w->jobs[i].in);
            jp_free(w->jobs[i].out);
        }
    jp_free(w->jobs);
    jp_free(w->held_in[0]);
    jp_free(w->held_in[1]);
    jp_free(w->workers);
    if (w->sync_ok) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_work);
        pthread_cond_destroy(&w->cv_done);
    }
    jp_free(w);
}

jp_gzip_writer_t *jp_gzip_open(FILE *out, int level, int threads, jp_error_t *err)
{
    if (level == 0) level = 6;
    if (level < 1 || level > 9) {
        jp_error_set(err, JP_ERR_ARG, "gzip level must be 1..9, not %d", level);
        return NULL;
    }
    if (threads <= 0) threads = jp_ncpus();
    if (threads > 64) threads = 64;
    jp_gzip_writer_t *w = jp_calloc(1, sizeof *w);
    if (!w) goto nomem;
    w->out = out;
    w->level = level;
    w->nthreads = threads;
    w->inline_worker.w = w;
    w->njobs = threads > 1 ? (size_t)threads * 2 + 2 : 2;
    w->jobs = jp_calloc(w->njobs, sizeof *w->jobs);
    if (!w->jobs) goto nomem;
    for (size_t i = 0; i < w->njobs; i++) {
        w->jobs[i].in = jp_malloc(JP_GZIP_BLOCK);
        if (!w->jobs[i].in) goto nomem;
    }
    if (threads > 1) {
        if (pthread_mutex_init(&w->mu, NULL)) goto nomem;
        if (pthread_cond_init(&w->cv_work, NULL)) {
            pthread_mutex_destroy(&w->mu);
            goto nomem;
        }
        if (pthread_cond_init(&w->cv_done, NULL)) {
            pthread_cond_destroy(&w->cv_work);
            pthread_mutex_destroy(&w->mu);
            goto nomem;
        }
        w->sync_ok = 1;
        w->workers = jp_calloc((size_t)threads, sizeof *w->workers);
        if (!w->workers) goto nomem;
        for (int i = 0; i < threads; i++) {
            w->workers[i].w = w;
            if (jp_thread_create(&w->workers[i].th, worker_main, &w->workers[i])) break;
            w->nworkers++;
        }
        /* no thread at all: compress inline (same bytes) */
    }
    /* gzip header: deflate, no flags, mtime 0, XFL by level, OS unix */
    unsigned char h[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    h[8] = level == 9 ? 2 : level == 1 ? 4 : 0;
    if (put(w, h, sizeof h, err)) {
        writer_free(w);
        return NULL;
    }
    w->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    return w;
nomem:
    writer_free(w);
    jp_error_set(err, JP_ERR_NOMEM, "out of memory starting the gzip writer");
    return NULL;
}

/* The slot to fill next, once its previous job has reached the file. */
static jp_status_t filling(jp_gzip_writer_t *w, job_t **out, jp_error_t *err)
{
    job_t *j = slot(w, w->fill);
    if (j->state != J_FILLING) {
        if (j->state != J_FREE) {
            jp_status_t st = drain(w, w->fill - w->njobs + 1, err);
            if (st) return st;
        }
        j->in_len = 0;
        j->state = J_FILLING;
    }
    *out = j;
    return JP_OK;
}

jp_status_t jp_gzip_write(jp_gzip_writer_t *w, const void *data, size_t n, jp_error_t *err)
{
    const unsigned char *p = data;
    while (n) {
        job_t *j;
        jp_status_t st = filling(w, &j, err);
        if (st) return st;
        size_t k = JP_GZIP_BLOCK - j->in_len;
        if (k > n) k = n;
        memcpy(j->in + j->in_len, p, k);
        j->in_len += k;
        w->pos += k;
        p += k;
        n -= k;
        if (j->in_len == JP_GZIP_BLOCK && (st = submit(w, 0, err))) return st;
    }
    return JP_OK;
}

jp_status_t jp_gzip_hole(jp_gzip_writer_t *w, size_t n, FILE *spill, const char *spill_name,
                         jp_error_t *err)
{
    if (w->hole_open || n > JP_GZIP_BLOCK || !spill)
        return jp_error_set(err, JP_ERR_INTERNAL, "bad gzip hole");
    static const unsigned char zeros[512];
    w->hole_open = 1;
    w->hole_at = w->pos;
    w->hole_len = n;
    w->spill = spill;
    w->spill_name = spill_name ? spill_name : "the spill file";
    w->spill_crc = (uint32_t)crc32(0L, Z_NULL, 0);
    w->spill_len = 0;
    jp_status_t st = JP_OK;
    while (n && !st) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        st = jp_gzip_write(w, zeros, k, err);
        n -= k;
    }
    return st;
}

/* Copy the spill (compressed blocks after the held ones) to the output:
 * in the kernel when both are files that allow it, else through a buffer. */
static jp_status_t unspill(jp_gzip_writer_t *w, jp_error_t *err)
{
    /* stdio may keep the last bytes until the flush: a full disk shows here */
    if (fflush(w->spill) != 0)
        return jp_error_errno(err, JP_ERR_IO, errno ? errno : EIO, "cannot write %s",
                              w->spill_name);
    if (fseek(w->spill, 0, SEEK_SET) != 0)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot read back %s", w->spill_name);
    jp_status_t st = JP_OK;
#ifdef SYS_copy_file_range
    long len = -1;
    if (fseek(w->spill, 0, SEEK_END) == 0) len = ftell(w->spill);
    int ofd = fileno(w->out);
    if (len > 0 && ofd >= 0 && fseek(w->spill, 0, SEEK_SET) == 0 && fflush(w->out) == 0 &&
        lseek(ofd, 0, SEEK_CUR) >= 0) {
        loff_t in = 0;
        while (in < (loff_t)len) {
            long k = syscall(SYS_copy_file_range, fileno(w->spill), &in, ofd, NULL,
                             (size_t)(len - (long)in), 0u);
            if (k <= 0) break;
        }
        /* stdio learns where the file now ends; what is left goes below */
        if (in > 0 && (fseek(w->out, 0, SEEK_END) != 0 || fseek(w->spill, (long)in, SEEK_SET) != 0))
            return jp_error_set(err, JP_ERR_IO, "cannot write compressed data");
    }
#endif
    unsigned char buf[65536];
    size_t k;
    while (!st && (k = fread(buf, 1, sizeof buf, w->spill)) > 0) st = put(w, buf, k, err);
    if (!st && ferror(w->spill))
        st = jp_error_set(err, JP_ERR_IO, "cannot read back compressed data");
    if (!st && (fseek(w->spill, 0, SEEK_SET) != 0 || ftruncate(fileno(w->spill), 0) != 0))
        st = jp_error_set(err, JP_ERR_IO, "cannot reuse the spill file");
    return st;
}

jp_status_t jp_gzip_fill(jp_gzip_writer_t *w, const void *data, jp_error_t *err)
{
    if (!w->hole_open) return jp_error_set(err, JP_ERR_INTERNAL, "no gzip hole to fill");
    /* everything handed to the workers: before the held blocks to the
       output, after them to the spill */
    jp_status_t st = drain(w, w->fill, err);
    if (st) return st;
    const unsigned char *p = data;
    for (uint64_t at = w->hole_at, end = w->hole_at + w->hole_len; at < end;) {
        uint64_t seq = at / JP_GZIP_BLOCK;
        size_t off = (size_t)(at % JP_GZIP_BLOCK);
        size_t k = JP_GZIP_BLOCK - off;
        if (k > end - at) k = (size_t)(end - at);
        unsigned char *dst;
        if (w->nheld && seq >= w->held_seq && seq < w->held_seq + (uint64_t)w->nheld)
            dst = w->held_in[seq - w->held_seq];
        else if (seq == w->fill)
            dst = slot(w, seq)->in; /* still being filled */
        else
            return jp_error_set(err, JP_ERR_INTERNAL, "gzip hole in a block already written");
        memcpy(dst + off, p, k);
        p += k;
        at += k;
    }
    for (int h = 0; h < w->nheld && !st; h++) {
        /* compressed here, the same way a worker would have */
        worker_t wk;
        memset(&wk, 0, sizeof wk);
        wk.w = w;
        job_t j;
        memset(&j, 0, sizeof j);
        j.in = w->held_in[h];
        j.in_len = w->held_len[h];
        if (compress_job(&wk, &j))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory compressing data");
        if (!st) st = put(w, j.out, j.out_len, err);
        if (!st) {
            w->crc = (uint32_t)crc32_combine(w->crc, j.crc, (z_off_t)j.in_len);
            w->total += j.in_len;
        }
        jp_free(j.out);
        worker_free(&wk);
    }
    if (!st && w->spilling) {
        st = unspill(w, err);
        if (!st) w->crc = (uint32_t)crc32_combine(w->crc, w->spill_crc, (z_off_t)w->spill_len);
    }
    w->nheld = 0;
    w->spilling = 0;
    w->hole_open = 0;
    return st;
}

jp_status_t jp_gzip_close(jp_gzip_writer_t *w, uint32_t *crc, uint64_t *size, jp_error_t *err)
{
    if (w->hole_open) {
        writer_free(w);
        return jp_error_set(err, JP_ERR_INTERNAL, "gzip member closed with a hole unfilled");
    }
    job_t *j;
    jp_status_t st = filling(w, &j, err);
    (void)j;
    if (!st) st = submit(w, 1, err);
    if (!st) st = drain(w, w->fill, err);
    if (!st) {
        unsigned char t[8];
        uint32_t c = w->crc, s = (uint32_t)w->total;
        for (int i = 0; i < 4; i++) {
            t[i] = (unsigned char)(c >> (8 * i));
            t[4 + i] = (unsigned char)(s >> (8 * i));
        }
        st = put(w, t, sizeof t, err);
    }
    if (!st) {
        if (crc) *crc = w->crc;
        if (size) *size = w->total;
    }
    writer_free(w);
    return st;
}

void jp_gzip_abort(jp_gzip_writer_t *w)
{
    writer_free(w);
}
