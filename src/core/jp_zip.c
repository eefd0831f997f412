/*
 * jp_zip.c - zip writing (deterministic headers) and strict zip reading.
 * Owns the record layouts; compression is the caller's on writing, and
 * inflating (zlib) is done here on reading.  Never writes to disk on
 * reading, never follows what an entry says without checking it against
 * the central directory and the file's bounds.
 */
#include "jp_zip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "jp_archive_name.h"
#include "jp_limit.h"
#include "jp_mem.h"

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD    0x06054b50u
#define SIG_EOCD64  0x06064b50u
#define SIG_LOC64   0x07064b50u
#define SIG_DD      0x08074b50u
#define MAX32       0xffffffffu
#define MAX16       0xffffu
#define FLAG_UTF8   0x0800u
#define MADE_BY     ((3u << 8) | 45u) /* Unix, spec 4.5 */

static void le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static unsigned rd16(const unsigned char *p)
{
    return (unsigned)p[0] | ((unsigned)p[1] << 8);
}
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* ---- writing ------------------------------------------------------------- */

void jp_zip_writer_init(jp_zip_writer_t *w, jp_zip_sink_fn sink, void *ctx, int64_t mtime)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->ctx = ctx;
    /* DOS time has two-second steps and years 1980..2107, in UTC here so
     * that the bytes do not depend on the machine's time zone */
    time_t t = (time_t)mtime;
    struct tm tm;
    if (mtime < 315532800 || !gmtime_r(&t, &tm)) {
        w->dos_date = (0 << 9) | (1 << 5) | 1;
        w->dos_time = 0;
        return;
    }
    int y = tm.tm_year + 1900;
    if (y > 2107) y = 2107;
    w->dos_date = (uint16_t)(((y - 1980) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    w->dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
}

void jp_zip_writer_free(jp_zip_writer_t *w)
{
    for (size_t i = 0; i < w->n; i++) jp_free(w->ents[i].name);
    jp_free(w->ents);
    w->ents = NULL;
    w->n = w->cap = 0;
}

static jp_status_t put(jp_zip_writer_t *w, const void *p, size_t n, jp_error_t *err)
{
    jp_status_t st = w->sink(w->ctx, p, n, err);
    if (!st) w->offset += n;
    return st;
}

/* The entry's record and local header; its csize bytes of data follow. */
static jp_status_t add_header(jp_zip_writer_t *w, const char *name, bool is_dir, int method,
                              uint64_t csize, uint32_t crc, uint64_t usize, jp_error_t *err)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > MAX16)
        return jp_error_set(err, JP_ERR_ARG, "zip entry name of %zu bytes", nlen);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        jp_zip_wentry_t *e = jp_realloc_array(w->ents, cap, sizeof *e);
        if (!e) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        w->ents = e;
        w->cap = cap;
    }
    jp_zip_wentry_t *e = &w->ents[w->n];
    memset(e, 0, sizeof *e);
    e->name = jp_strdup(name);
    if (!e->name) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    w->n++;
    e->crc = crc;
    e->csize = csize;
    e->usize = usize;
    e->offset = w->offset;
    e->method = (uint16_t)method;
    e->is_dir = is_dir;
    e->zip64 = w->force_zip64 || csize >= MAX32 || usize >= MAX32;
    unsigned char h[30 + 20];
    le32(h, SIG_LOCAL);
    le16(h + 4, e->zip64 ? 45 : 20);
    le16(h + 6, FLAG_UTF8);
    le16(h + 8, (unsigned)method);
    le16(h + 10, w->dos_time);
    le16(h + 12, w->dos_date);
    le32(h + 14, crc);
    le32(h + 18, e->zip64 ? MAX32 : (uint32_t)csize);
    le32(h + 22, e->zip64 ? MAX32 : (uint32_t)usize);
    le16(h + 26, (unsigned)nlen);
    le16(h + 28, e->zip64 ? 20 : 0);
    jp_status_t st = put(w, h, 30, err);
    if (!st) st = put(w, name, nlen, err);
    if (!st && e->zip64) {
        unsigned char x[20];
        le16(x, 1);
        le16(x + 2, 16);
        le64(x + 4, usize);
        le64(x + 12, csize);
        st = put(w, x, 20, err);
    }
    return st;
}

jp_status_t jp_zip_add(jp_zip_writer_t *w, const char *name, bool is_dir, int method,
                       const void *data, uint64_t csize, uint32_t crc, uint64_t usize,
                       jp_error_t *err)
{
    jp_status_t st = add_header(w, name, is_dir, method, csize, crc, usize, err);
    if (!st && csize) st = put(w, data, (size_t)csize, err);
    return st;
}

jp_status_t jp_zip_add_from(jp_zip_writer_t *w, const char *name, int method, FILE *src,
                            uint64_t csize, uint32_t crc, uint64_t usize, jp_error_t *err)
{
    jp_status_t st = add_header(w, name, false, method, csize, crc, usize, err);
    unsigned char *buf = st ? NULL : jp_malloc((size_t)1 << 20);
    if (!st && !buf) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (uint64_t left = csize; !st && left;) {
        size_t k = left < ((uint64_t)1 << 20) ? (size_t)left : (size_t)1 << 20;
        if (jp_stop_pending())
            st = jp_stop_check(err);
        else if (fread(buf, 1, k, src) != k)
            st = jp_error_set(err, JP_ERR_IO, "cannot read back a spooled entry (%s)", name);
        else
            st = put(w, buf, k, err);
        left -= k;
    }
    jp_free(buf);
    return st;
}

jp_status_t jp_zip_finish(jp_zip_writer_t *w, jp_error_t *err)
{
    uint64_t cd_off = w->offset;
    jp_status_t st = JP_OK;
    bool any64 = w->force_zip64;
    for (size_t i = 0; i < w->n && !st; i++) {
        const jp_zip_wentry_t *e = &w->ents[i];
        bool big_off = e->offset >= MAX32 || w->force_zip64;
        bool big_sz = e->zip64;
        unsigned char x[4 + 24];
        size_t xl = 0;
        if (big_sz || big_off) {
            xl = 4;
            if (big_sz) {
                le64(x + xl, e->usize);
                le64(x + xl + 8, e->csize);
                xl += 16;
            }
            if (big_off) {
                le64(x + xl, e->offset);
                xl += 8;
            }
            le16(x, 1);
            le16(x + 2, (unsigned)(xl - 4));
            any64 = true;
        }
        size_t nlen = strlen(e->name);
        unsigned char h[46];
        le32(h, SIG_CENTRAL);
        le16(h + 4, MADE_BY);
        le16(h + 6, xl ? 45 : 20);
        le16(h + 8, FLAG_UTF8);
        le16(h + 10, e->method);
        le16(h + 12, w->dos_time);
        le16(h + 14, w->dos_date);
        le32(h + 16, e->crc);
        le32(h + 20, big_sz ? MAX32 : (uint32_t)e->csize);
        le32(h + 24, big_sz ? MAX32 : (uint32_t)e->usize);
        le16(h + 28, (unsigned)nlen);
        le16(h + 30, (unsigned)xl);
        le16(h + 32, 0);
        le16(h + 34, 0);
        le16(h + 36, 0);
        uint32_t mode = e->is_dir ? (040755u << 16) | 0x10u : (0100644u << 16);
        le32(h + 38, mode);
        le32(h + 42, big_off ? MAX32 : (uint32_t)e->offset);
        st = put(w, h, 46, err);
        if (!st) st = put(w, e->name, nlen, err);
        if (!st && xl) st = put(w, x, xl, err);
    }
    if (st) return st;
    uint64_t cd_size = w->offset - cd_off;
    if (w->n >= MAX16 || cd_off >= MAX32 || cd_size >= MAX32) any64 = true;
    if (any64) {
        uint64_t eocd64 = w->offset;
        unsigned char r[56 + 20];
        le32(r, SIG_EOCD64);
        le64(r + 4, 44);
        le16(r + 12, MADE_BY);
        le16(r + 14, 45);
        le32(r + 16, 0);
        le32(r + 20, 0);
        le64(r + 24, w->n);
        le64(r + 32, w->n);
        le64(r + 40, cd_size);
        le64(r + 48, cd_off);
        le32(r + 56, SIG_LOC64);
        le32(r + 60, 0);
        le64(r + 64, eocd64);
        le32(r + 72, 1);
        if ((st = put(w, r, sizeof r, err))) return st;
    }
    unsigned char e[22];
    le32(e, SIG_EOCD);
    le16(e + 4, 0);
    le16(e + 6, 0);
    le16(e + 8, any64 ? MAX16 : (unsigned)w->n);
    le16(e + 10, any64 ? MAX16 : (unsigned)w->n);
    le32(e + 12, any64 ? MAX32 : (uint32_t)cd_size);
    le32(e + 16, any64 ? MAX32 : (uint32_t)cd_off);
    le16(e + 20, 0);
    return put(w, e, sizeof e, err);
}

/* ---- reading ------------------------------------------------------------- */

static jp_status_t pread_full(jp_zip_t *z, void *buf, size_t n, uint64_t off, const char *what,
                              jp_error_t *err)
{
    if (off > z->file_size || n > z->file_size - off)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: %s lies beyond the end of the file",
                            z->archive, what);
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(z->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return jp_error_errno(err, JP_ERR_IO, errno, "cannot read %s", z->archive);
        if (r == 0)
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: truncated while reading %s", z->archive,
                                what);
        done += (size_t)r;
    }
    return JP_OK;
}

void jp_zip_close(jp_zip_t *z)
{
    for (size_t i = 0; i < z->n; i++) jp_free(z->ents[i].name);
    jp_free(z->ents);
    z->ents = NULL;
    z->n = 0;
}

/* Find the zip64 extra field's values for the fields that are saturated. */
static bool zip64_extra(const unsigned char *x, size_t xl, bool need_u, bool need_c, bool need_off,
                        uint64_t *u, uint64_t *c, uint64_t *off)
{
    size_t i = 0;
    while (i + 4 <= xl) {
        unsigned id = rd16(x + i), len = rd16(x + i + 2);
        if (i + 4 + len > xl) return false;
        if (id == 1) {
            const unsigned char *p = x + i + 4;
            size_t k = 0;
            if (need_u) {
                if (k + 8 > len) return false;
                *u = rd64(p + k);
                k += 8;
            }
            if (need_c) {
                if (k + 8 > len) return false;
                *c = rd64(p + k);
                k += 8;
            }
            if (need_off) {
                if (k + 8 > len) return false;
                *off = rd64(p + k);
            }
            return true;
        }
        i += 4 + len;
    }
    return !need_u && !need_c && !need_off;
}

static int cmp_name(const void *a, const void *b)
{
    const jp_zip_entry_t *x = *(jp_zip_entry_t *const *)a, *y = *(jp_zip_entry_t *const *)b;
    return strcmp(x->name, y->name);
}
static int cmp_off(const void *a, const void *b)
{
    const jp_zip_entry_t *x = *(jp_zip_entry_t *const *)a, *y = *(jp_zip_entry_t *const *)b;
    return x->header_off < y->header_off ? -1 : x->header_off > y->header_off;
}

/* entry end: data plus a data descriptor when flagged */
static uint64_t *ends_of(jp_zip_t *z);

static jp_status_t check_local(jp_zip_t *z, jp_zip_entry_t *e, uint16_t flags, uint64_t cd_off,
                               uint64_t *end, jp_error_t *err)
{
    unsigned char h[30];
    jp_status_t st = pread_full(z, h, 30, e->header_off, "a local header", err);
    if (st) return jp_error_prefix(err, "entry '%s'", e->name), st;
    if (rd32(h) != SIG_LOCAL)
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: entry '%s': no local header where the directory points",
                            z->archive, e->name);
    unsigned lflags = rd16(h + 6), lmethod = rd16(h + 8);
    uint32_t lcrc = rd32(h + 14);
    uint64_t lc = rd32(h + 18), lu = rd32(h + 22);
    unsigned nlen = rd16(h + 26), xlen = rd16(h + 28);
    unsigned char *buf = jp_malloc((size_t)nlen + xlen + 1);
    if (!buf) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    st = pread_full(z, buf, (size_t)nlen + xlen, e->header_off + 30, "a local header", err);
    if (st) {
        jp_free(buf);
        return st;
    }
    char *lname = NULL;
    bool ldir = false;
    jp_error_t tmp;
    if (jp_archive_name_check(z->archive, (char *)buf, nlen, &lname, &ldir, &tmp) || !lname ||
        strcmp(lname, e->name) != 0) {
        jp_free(lname);
        jp_free(buf);
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: entry '%s': the local header names another file than the "
                            "central directory",
                            z->archive, e->name);
    }
    jp_free(lname);
    bool dd = (flags & 8) != 0;
    if (lmethod != e->method || (lflags & 8) != (flags & 8)) {
        jp_free(buf);
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: entry '%s': local header and central directory disagree "
                            "(method or flags)",
                            z->archive, e->name);
    }
    if (!dd) {
        if (lc == MAX32 || lu == MAX32) {
            if (!zip64_extra(buf + nlen, xlen, lu == MAX32, lc == MAX32, false, &lu, &lc, NULL)) {
                jp_free(buf);
                return jp_error_set(err, JP_ERR_ARCHIVE,
                                    "%s: entry '%s': malformed zip64 field in the local header",
                                    z->archive, e->name);
            }
        }
        if (lcrc != e->crc || lc != e->csize || lu != e->usize) {
            jp_free(buf);
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry '%s': sizes or CRC in the local header disagree with "
                                "the central directory (refused: one of them lies)",
                                z->archive, e->name);
        }
    }
    jp_free(buf);
    e->data_off = e->header_off + 30 + nlen + xlen;
    uint64_t stop = e->data_off + e->csize;
    if (stop < e->data_off || stop > cd_off)
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: entry '%s': its data reaches past the central directory",
                            z->archive, e->name);
    if (dd) {
        /* optional signature, crc, then 4- or 8-byte sizes */
        unsigned char d[24];
        size_t avail = cd_off - stop < 24 ? (size_t)(cd_off - stop) : 24;
        if (avail < 12 || (st = pread_full(z, d, avail, stop, "a data descriptor", err)))
            return st ? st
                      : jp_error_set(err, JP_ERR_ARCHIVE,
                                     "%s: entry '%s': truncated data "
                                     "descriptor",
                                     z->archive, e->name);
        size_t k = rd32(d) == SIG_DD ? 4 : 0;
        bool is64 = e->csize >= MAX32 || e->usize >= MAX32;
        size_t need = k + (is64 ? 20 : 12);
        if (avail < need)
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': truncated data descriptor",
                                z->archive, e->name);
        uint64_t dc = is64 ? rd64(d + k + 4) : rd32(d + k + 4);
        uint64_t du = is64 ? rd64(d + k + 12) : rd32(d + k + 8);
        if (rd32(d + k) != e->crc || dc != e->csize || du != e->usize)
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry '%s': the data descriptor disagrees with the central "
                                "directory",
                                z->archive, e->name);
        stop += need;
    }
    *end = stop;
    return JP_OK;
}

static uint64_t *ends_of(jp_zip_t *z)
{
    return jp_calloc(z->n ? z->n : 1, sizeof(uint64_t));
}

jp_status_t jp_zip_open(jp_zip_t *z, int fd, const char *archive, const jp_zip_limits_t *lim,
                        jp_error_t *err)
{
    memset(z, 0, sizeof *z);
    z->fd = fd;
    z->archive = archive;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return jp_error_errno(err, JP_ERR_IO, errno, "cannot stat %s", archive);
    z->file_size = (uint64_t)sb.st_size;
    if (z->file_size < 22)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: too short to be a zip archive", archive);
    size_t tail = z->file_size < 22 + 65535 ? (size_t)z->file_size : 22 + 65535;
    unsigned char *t = jp_malloc(tail);
    if (!t) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = pread_full(z, t, tail, z->file_size - tail, "the end record", err);
    if (st) {
        jp_free(t);
        return st;
    }
    long at = -1;
    for (long i = (long)tail - 22; i >= 0; i--) {
        if (rd32(t + i) == SIG_EOCD && (size_t)i + 22 + rd16(t + i + 20) == tail) {
            at = i;
            break;
        }
    }
    if (at < 0) {
        jp_free(t);
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: not a zip archive, or truncated (no end-of-central-directory "
                            "record at its end)",
                            archive);
    }
    uint64_t eocd_pos = z->file_size - tail + (uint64_t)at;
    const unsigned char *e = t + at;
    unsigned disk = rd16(e + 4), cd_disk = rd16(e + 6);
    uint64_t n_here = rd16(e + 8), n = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    jp_free(t);
    uint64_t cd_end = eocd_pos;
    if (n == MAX16 || n_here == MAX16 || cd_size == MAX32 || cd_off == MAX32) {
        unsigned char l[20], r[56];
        if (eocd_pos < 20 || (st = pread_full(z, l, 20, eocd_pos - 20, "the zip64 locator", err)) ||
            rd32(l) != SIG_LOC64)
            return st ? st
                      : jp_error_set(err, JP_ERR_ARCHIVE, "%s: zip64 locator missing", archive);
        uint64_t r_off = rd64(l + 8);
        if (rd32(l + 4) != 0 || rd32(l + 16) != 1 || r_off + 56 > eocd_pos - 20)
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: bad zip64 locator", archive);
        if ((st = pread_full(z, r, 56, r_off, "the zip64 end record", err))) return st;
        if (rd32(r) != SIG_EOCD64)
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: bad zip64 end record", archive);
        disk = rd32(r + 16);
        cd_disk = rd32(r + 20);
        n_here = rd64(r + 24);
        n = rd64(r + 32);
        cd_size = rd64(r + 40);
        cd_off = rd64(r + 48);
        cd_end = r_off;
    }
    if (disk != 0 || cd_disk != 0 || n_here != n)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: multi-volume zip archives are refused",
                            archive);
    if (cd_off > cd_end || cd_size != cd_end - cd_off)
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: the central directory's size or offset is wrong (truncated or "
                            "corrupt)",
                            archive);
    if (n > lim->max_entries)
        return jp_error_set(err, JP_ERR_LIMIT, "%s: %llu entries (limit %llu)", archive,
                            (unsigned long long)n, (unsigned long long)lim->max_entries);
    if (cd_size > (uint64_t)n * (46 + 3 * 65535ull) || cd_size > (256u << 20))
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: implausible central directory size", archive);
    unsigned char *cd = jp_malloc((size_t)cd_size + 1);
    z->ents = jp_calloc(n ? (size_t)n : 1, sizeof *z->ents);
    uint16_t *flags = jp_calloc(n ? (size_t)n : 1, sizeof *flags);
    jp_zip_entry_t **order = jp_calloc(n ? (size_t)n : 1, sizeof *order);
    uint64_t *ends = NULL;
    if (!cd || !z->ents || !flags || !order) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = pread_full(z, cd, (size_t)cd_size, cd_off, "the central directory", err))) goto done;
    uint64_t total = 0;
    size_t p = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (p + 46 > cd_size || rd32(cd + p) != SIG_CENTRAL) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: central directory entry %llu is corrupt",
                              archive, (unsigned long long)i + 1);
            goto done;
        }
        const unsigned char *h = cd + p;
        unsigned made = rd16(h + 4) >> 8, fl = rd16(h + 8), method = rd16(h + 10);
        uint32_t crc = rd32(h + 16);
        uint64_t cs = rd32(h + 20), us = rd32(h + 24);
        unsigned nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
        unsigned dstart = rd16(h + 34);
        uint32_t ext = rd32(h + 38);
        uint64_t off = rd32(h + 42);
        if (p + 46 + nlen + xlen + clen > cd_size) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: central directory entry %llu overruns",
                              archive, (unsigned long long)i + 1);
            goto done;
        }
        jp_zip_entry_t *en = &z->ents[z->n];
        bool is_dir = false;
        if ((st = jp_archive_name_check(archive, (const char *)h + 46, nlen, &en->name, &is_dir,
                                        err)))
            goto done;
        if (!en->name) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: an entry named '%.*s' refused", archive,
                              (int)nlen, (const char *)h + 46);
            goto done;
        }
        z->n++;
        const char *nm = en->name;
        if (!zip64_extra(h + 46 + nlen, xlen, us == MAX32, cs == MAX32, off == MAX32, &us, &cs,
                         &off)) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': malformed zip64 field", archive,
                              nm);
            goto done;
        }
        if (fl & 0x41) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': encrypted entries refused",
                              archive, nm);
            goto done;
        }
        if (method != 0 && method != 8) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': compression method %u refused (only stored and "
                              "deflate)",
                              archive, nm, method);
            goto done;
        }
        if (dstart != 0) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': on another disk", archive, nm);
            goto done;
        }
        if (made == 3) {
            unsigned mode = ext >> 16;
            unsigned kind = mode & 0170000u;
            if (kind == 0120000u) {
                st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': symbolic link refused",
                                  archive, nm);
                goto done;
            }
            if (kind == 020000u || kind == 060000u || kind == 010000u || kind == 0140000u) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: entry '%s': device, FIFO or socket refused", archive, nm);
                goto done;
            }
            if (kind == 040000u) is_dir = true;
        }
        if (ext & 0x10) is_dir = true;
        if (is_dir && us != 0) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': a directory that claims %llu bytes", archive, nm,
                              (unsigned long long)us);
            goto done;
        }
        if (method == 0 && cs != us) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': stored entry whose sizes differ (lying sizes)",
                              archive, nm);
            goto done;
        }
        if (us > (1u << 20) && (cs == 0 || (double)us / (double)cs > lim->max_ratio)) {
            st = jp_error_set(err, JP_ERR_LIMIT,
                              "%s: entry '%s': compression ratio over %.0f refused (a "
                              "decompression bomb?)",
                              archive, nm, lim->max_ratio);
            goto done;
        }
        total += us;
        if (total > lim->max_total || total < us) {
            st = jp_error_set(err, JP_ERR_LIMIT,
                              "%s: entry '%s': more than %llu bytes uncompressed in all "
                              "(refused)",
                              archive, nm, (unsigned long long)lim->max_total);
            goto done;
        }
        en->is_dir = is_dir;
        en->method = (uint16_t)method;
        en->crc = crc;
        en->csize = cs;
        en->usize = us;
        en->header_off = off;
        flags[i] = (uint16_t)fl;
        order[i] = en;
        p += 46 + nlen + xlen + clen;
    }
    if (p != cd_size) {
        st = jp_error_set(err, JP_ERR_ARCHIVE,
                          "%s: the central directory holds more than its %llu entries", archive,
                          (unsigned long long)n);
        goto done;
    }
    /* duplicates */
    qsort(order, z->n, sizeof *order, cmp_name);
    for (size_t i = 1; i < z->n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s' appears twice (refused: which one is meant?)",
                              archive, order[i]->name);
            goto done;
        }
    /* local headers, then overlaps in file order */
    ends = ends_of(z);
    if (!ends) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < z->n; i++)
        if ((st = check_local(z, &z->ents[i], flags[i], cd_off, &ends[i], err))) goto done;
    for (size_t i = 0; i < z->n; i++) order[i] = &z->ents[i];
    qsort(order, z->n, sizeof *order, cmp_off);
    for (size_t i = 1; i < z->n; i++) {
        uint64_t prev_end = ends[order[i - 1] - z->ents];
        if (order[i]->header_off < prev_end) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s' overlaps entry '%s' (refused: overlapping entries "
                              "are a decompression-bomb trick)",
                              archive, order[i]->name, order[i - 1]->name);
            goto done;
        }
    }
done:
    jp_free(cd);
    jp_free(flags);
    jp_free(order);
    jp_free(ends);
    if (st) jp_zip_close(z);
    return st;
}

jp_status_t jp_zip_extract(jp_zip_t *z, size_t i, jp_zip_data_fn fn, void *ctx, jp_error_t *err)
{
    jp_zip_entry_t *e = &z->ents[i];
    enum { IN = 65536, OUT = 131072 };
    unsigned char *in = jp_malloc(IN), *out = jp_malloc(OUT);
    z_stream s;
    memset(&s, 0, sizeof s);
    s.zalloc = jp_zalloc;
    s.zfree = jp_zfree;
    bool inited = false;
    jp_status_t st = JP_OK;
    if (!in || !out) {
        st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t produced = 0, consumed = 0;
    if (e->method == 0) {
        while (consumed < e->csize) {
            size_t k = e->csize - consumed < IN ? (size_t)(e->csize - consumed) : IN;
            if ((st = pread_full(z, in, k, e->data_off + consumed, "entry data", err))) goto done;
            crc = crc32(crc, in, (uInt)k);
            if ((st = fn(ctx, in, k, err))) goto done;
            consumed += k;
        }
        produced = consumed;
    } else {
        if (inflateInit2(&s, -15) != Z_OK) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory (inflate)");
            goto done;
        }
        inited = true;
        int zr = Z_OK;
        while (zr != Z_STREAM_END) {
            if (s.avail_in == 0) {
                if (consumed == e->csize) {
                    st = jp_error_set(err, JP_ERR_ARCHIVE,
                                      "%s: entry '%s': compressed data ends early (truncated or "
                                      "corrupt)",
                                      z->archive, e->name);
                    goto done;
                }
                size_t k = e->csize - consumed < IN ? (size_t)(e->csize - consumed) : IN;
                if ((st = pread_full(z, in, k, e->data_off + consumed, "entry data", err)))
                    goto done;
                consumed += k;
                s.next_in = in;
                s.avail_in = (uInt)k;
            }
            s.next_out = out;
            s.avail_out = OUT;
            zr = inflate(&s, Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': corrupt deflate data (%s)",
                                  z->archive, e->name, s.msg ? s.msg : "inflate failed");
                goto done;
            }
            size_t k = OUT - s.avail_out;
            produced += k;
            if (produced > e->usize) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: entry '%s': inflates to more than the %llu bytes "
                                  "declared (refused)",
                                  z->archive, e->name, (unsigned long long)e->usize);
                goto done;
            }
            if (k) {
                crc = crc32(crc, out, (uInt)k);
                if ((st = fn(ctx, out, k, err))) goto done;
            }
        }
        if (s.avail_in != 0 || consumed != e->csize) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': bytes after the end of its deflate stream",
                              z->archive, e->name);
            goto done;
        }
    }
    if (produced != e->usize) {
        st = jp_error_set(err, JP_ERR_ARCHIVE,
                          "%s: entry '%s': %llu bytes, but the directory says %llu", z->archive,
                          e->name, (unsigned long long)produced, (unsigned long long)e->usize);
        goto done;
    }
    if ((uint32_t)crc != e->crc)
        st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': CRC-32 mismatch (corrupt data)",
                          z->archive, e->name);
done:
    if (inited) inflateEnd(&s);
    jp_free(in);
    jp_free(out);
    return st;
}
