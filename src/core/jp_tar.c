/*
 * jp_tar.c - ustar/pax headers for reproducible writing, and a strict
 * streaming tar reader.  Owns the header layout and the reader's checks;
 * never touches the file system and never trusts a header's word about
 * sizes (every byte promised is read, every byte beyond is checked).
 */
#include "jp_tar.h"

#include <stdio.h>
#include <string.h>
#include "jp_archive_name.h"
#include "jp_mem.h"

/* field offsets and widths of a ustar header */
enum {
    F_NAME = 0,
    W_NAME = 100,
    F_MODE = 100,
    F_UID = 108,
    F_GID = 116,
    F_SIZE = 124,
    W_SIZE = 12,
    F_MTIME = 136,
    F_CHKSUM = 148,
    F_TYPE = 156,
    F_MAGIC = 257,
    F_VERSION = 263,
    F_UNAME = 265,
    F_GNAME = 297,
    F_PREFIX = 345,
    W_PREFIX = 155
};

#define PAX_MAX     (1u << 20) /* a pax header we read may hold at most this */
#define OCTAL11_MAX 077777777777ULL

static void put_octal(unsigned char *f, size_t width, uint64_t v)
{
    /* width-1 zero-padded octal digits and a NUL */
    f[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        f[i] = (unsigned char)('0' + (v & 7));
        v >>= 3;
    }
}

static void finish_header(unsigned char *h)
{
    memset(h + F_CHKSUM, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < JP_TAR_BLOCK; i++) sum += h[i];
    /* six digits, NUL, space: the form POSIX tar writes */
    snprintf((char *)h + F_CHKSUM, 8, "%06o", sum & 0777777);
    h[F_CHKSUM + 7] = ' ';
}

static void fill_common(unsigned char *h, uint64_t size, bool is_dir, int64_t mtime, char type)
{
    put_octal(h + F_MODE, 8, is_dir ? 0755 : 0644);
    put_octal(h + F_UID, 8, 0);
    put_octal(h + F_GID, 8, 0);
    put_octal(h + F_SIZE, W_SIZE, size > OCTAL11_MAX ? 0 : size);
    if (mtime < 0) mtime = 0;
    if ((uint64_t)mtime > OCTAL11_MAX) mtime = (int64_t)OCTAL11_MAX;
    put_octal(h + F_MTIME, 12, (uint64_t)mtime);
    h[F_TYPE] = (unsigned char)type;
    memcpy(h + F_MAGIC, "ustar", 6);
    memcpy(h + F_VERSION, "00", 2);
    memcpy(h + F_UNAME, "root", 4);
    memcpy(h + F_GNAME, "root", 4);
    put_octal(h + 329, 8, 0);
    put_octal(h + 337, 8, 0);
}

/* "LEN key=value\n" where LEN counts the whole record, itself included */
static jp_status_t pax_record(jp_buf_t *b, const char *key, const char *val)
{
    size_t body = 1 + strlen(key) + 1 + strlen(val) + 1;
    size_t len = body + 1;
    for (;;) {
        char tmp[32];
        size_t d = (size_t)snprintf(tmp, sizeof tmp, "%zu", len);
        if (d + body == len) break;
        len = d + body;
    }
    return jp_buf_printf(b, "%zu %s=%s\n", len, key, val);
}

static bool split_ustar(const char *path, size_t n, size_t *cut)
{
    if (n <= W_NAME) {
        *cut = 0;
        return true;
    }
    /* prefix '/' name: the prefix is as long as possible but <= 155 */
    for (size_t i = n < W_PREFIX ? n : W_PREFIX; i > 0; i--) {
        if (path[i] == '/' && n - i - 1 <= W_NAME && n - i - 1 > 0) {
            *cut = i;
            return true;
        }
    }
    return false;
}

/* GNU base-256: 0x80, then the number big-endian in the rest of the field. */
static void put_base256(unsigned char *f, size_t width, uint64_t v)
{
    f[0] = 0x80;
    for (size_t i = width; i-- > 1;) {
        f[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static jp_status_t put_header(jp_buf_t *out, const char *path, uint64_t size, bool is_dir,
                              int64_t mtime, bool b256, jp_error_t *err)
{
    size_t n = strlen(path);
    size_t cut = 0;
    bool fits = split_ustar(path, n, &cut);
    bool big = size > OCTAL11_MAX && !b256;
    size_t start = out->len;
    if (!fits || big) {
        jp_buf_t pax = JP_BUF_INIT;
        jp_status_t st = JP_OK;
        if (!fits) st = pax_record(&pax, "path", path);
        if (!st && big) {
            char num[32];
            snprintf(num, sizeof num, "%llu", (unsigned long long)size);
            st = pax_record(&pax, "size", num);
        }
        if (!st) st = jp_buf_reserve(out, 2 * JP_TAR_BLOCK + pax.len + JP_TAR_BLOCK);
        if (st) {
            jp_buf_free(&pax);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        unsigned char *h = (unsigned char *)out->data + out->len;
        memset(h, 0, JP_TAR_BLOCK);
        /* a fixed, short name: the real one is in the record */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf((char *)h + F_NAME, W_NAME, "PaxHeader/%.80s", base);
        fill_common(h, pax.len, false, mtime, 'x');
        finish_header(h);
        out->len += JP_TAR_BLOCK;
        memcpy(out->data + out->len, pax.data, pax.len);
        out->len += pax.len;
        size_t padn = jp_tar_pad_len(pax.len);
        memset(out->data + out->len, 0, padn);
        out->len += padn;
        jp_buf_free(&pax);
    }
    if (jp_buf_reserve(out, JP_TAR_BLOCK)) {
        out->len = start;
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    unsigned char *h = (unsigned char *)out->data + out->len;
    memset(h, 0, JP_TAR_BLOCK);
    if (fits) {
        if (cut) {
            memcpy(h + F_PREFIX, path, cut);
            memcpy(h + F_NAME, path + cut + 1, n - cut - 1);
        } else {
            memcpy(h + F_NAME, path, n);
        }
    } else {
        /* readers that ignore pax still see something recognisable */
        memcpy(h + F_NAME, path, W_NAME);
    }
    fill_common(h, is_dir ? 0 : size, is_dir, mtime, is_dir ? '5' : '0');
    if (b256 && !is_dir && size > OCTAL11_MAX) put_base256(h + F_SIZE, W_SIZE, size);
    finish_header(h);
    out->len += JP_TAR_BLOCK;
    out->data[out->len] = '\0';
    return JP_OK;
}

jp_status_t jp_tar_put_header(jp_buf_t *out, const char *path, uint64_t size, bool is_dir,
                              int64_t mtime, jp_error_t *err)
{
    return put_header(out, path, size, is_dir, mtime, false, err);
}

jp_status_t jp_tar_put_header_sized(jp_buf_t *out, const char *path, uint64_t size, int64_t mtime,
                                    jp_error_t *err)
{
    return put_header(out, path, size, false, mtime, true, err);
}

size_t jp_tar_pad_len(uint64_t size)
{
    return (size_t)((JP_TAR_BLOCK - size % JP_TAR_BLOCK) % JP_TAR_BLOCK);
}

size_t jp_tar_end_len(uint64_t total)
{
    uint64_t t = total + 2 * JP_TAR_BLOCK;
    return (size_t)(2 * JP_TAR_BLOCK + (JP_TAR_RECORD - t % JP_TAR_RECORD) % JP_TAR_RECORD);
}

/* ---- reading ------------------------------------------------------------ */

void jp_tar_reader_init(jp_tar_reader_t *r, jp_tar_source_fn src, void *ctx, const char *archive,
                        uint64_t max_entries)
{
    memset(r, 0, sizeof *r);
    r->src = src;
    r->ctx = ctx;
    r->archive = archive;
    r->max_entries = max_entries ? max_entries : 100000;
}

void jp_tar_reader_free(jp_tar_reader_t *r)
{
    jp_free(r->cur.name);
    r->cur.name = NULL;
    for (size_t i = 0; i < r->seen_cap; i++) jp_free(r->seen[i]);
    jp_free(r->seen);
    r->seen = NULL;
    r->seen_cap = r->seen_n = 0;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Insert name; JP_ERR_ARCHIVE when present already. */
static jp_status_t seen_add(jp_tar_reader_t *r, const char *name, jp_error_t *err)
{
    if (2 * (r->seen_n + 1) > r->seen_cap) {
        size_t cap = r->seen_cap ? 2 * r->seen_cap : 64;
        char **t = jp_calloc(cap, sizeof *t);
        if (!t) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < r->seen_cap; i++) {
            if (!r->seen[i]) continue;
            size_t j = name_hash(r->seen[i]) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = r->seen[i];
        }
        jp_free(r->seen);
        r->seen = t;
        r->seen_cap = cap;
    }
    size_t j = name_hash(name) & (r->seen_cap - 1);
    while (r->seen[j]) {
        if (strcmp(r->seen[j], name) == 0)
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry '%s' appears twice (refused: which one is meant?)",
                                r->archive, name);
        j = (j + 1) & (r->seen_cap - 1);
    }
    r->seen[j] = jp_strdup(name);
    if (!r->seen[j]) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    r->seen_n++;
    return JP_OK;
}

static jp_status_t read_full(jp_tar_reader_t *r, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    size_t total = 0;
    while (total < n) {
        size_t k = 0;
        jp_status_t st = r->src(r->ctx, (char *)buf + total, n - total, &k, err);
        if (st) return st;
        if (k == 0) break;
        total += k;
    }
    *got = total;
    return JP_OK;
}

static jp_status_t skip(jp_tar_reader_t *r, uint64_t n, const char *entry, jp_error_t *err)
{
    char tmp[16384];
    while (n) {
        size_t want = n < sizeof tmp ? (size_t)n : sizeof tmp, got;
        jp_status_t st = read_full(r, tmp, want, &got, err);
        if (st) return st;
        if (got < want)
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: truncated: the data of entry '%s' ends early", r->archive,
                                entry);
        n -= got;
    }
    return JP_OK;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* Octal (space/NUL terminated) or GNU base-256.  false when malformed. */
static bool parse_number(const unsigned char *f, size_t w, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] & 0x80) {
        if (f[0] != 0x80) return false; /* negative or unknown */
        for (size_t i = 1; i < w; i++) {
            if (v >> 55) return false;
            v = (v << 8) | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < w && f[i] == ' ') i++;
    size_t digits = 0;
    while (i < w && f[i] >= '0' && f[i] <= '7') {
        if (v >> 60) return false;
        v = (v << 3) | (uint64_t)(f[i] - '0');
        i++;
        digits++;
    }
    for (; i < w; i++)
        if (f[i] != ' ' && f[i] != '\0') return false;
    *out = v;
    return digits > 0 || all_zero(f, w);
}

static bool checksum_ok(const unsigned char *h)
{
    uint64_t want;
    if (!parse_number(h + F_CHKSUM, 8, &want)) return false;
    unsigned long u = 0;
    long s = 0;
    for (int i = 0; i < JP_TAR_BLOCK; i++) {
        unsigned char c = (i >= F_CHKSUM && i < F_CHKSUM + 8) ? ' ' : h[i];
        u += c;
        s += (signed char)c;
    }
    /* some old writers summed signed chars */
    return want == u || (long)want == s;
}

static size_t field_len(const unsigned char *f, size_t w)
{
    size_t n = 0;
    while (n < w && f[n]) n++;
    return n;
}

typedef struct pending {
    char *path;
    size_t path_len;
    bool has_size;
    uint64_t size;
} pending_t;

static void pending_free(pending_t *p)
{
    jp_free(p->path);
    memset(p, 0, sizeof *p);
}

static jp_status_t parse_pax(jp_tar_reader_t *r, const char *d, size_t n, pending_t *p,
                             jp_error_t *err)
{
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && d[j] >= '0' && d[j] <= '9' && len < PAX_MAX)
            len = len * 10 + (size_t)(d[j++] - '0');
        if (j == i || j >= n || d[j] != ' ' || len < 5 || len > n - i || d[i + len - 1] != '\n')
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: malformed pax extended header",
                                r->archive);
        const char *key = d + j + 1, *end = d + i + len - 1;
        const char *eq = memchr(key, '=', (size_t)(end - key));
        if (!eq)
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: malformed pax record (no '=')",
                                r->archive);
        size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);
        const char *val = eq + 1;
        if (klen == 4 && memcmp(key, "path", 4) == 0) {
            jp_free(p->path);
            p->path = jp_strndup(val, vlen);
            if (!p->path) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            p->path_len = vlen;
        } else if (klen == 4 && memcmp(key, "size", 4) == 0) {
            uint64_t v = 0;
            if (vlen == 0 || vlen > 19)
                return jp_error_set(err, JP_ERR_ARCHIVE, "%s: bad pax size record", r->archive);
            for (size_t k = 0; k < vlen; k++) {
                if (val[k] < '0' || val[k] > '9')
                    return jp_error_set(err, JP_ERR_ARCHIVE, "%s: bad pax size record", r->archive);
                v = v * 10 + (uint64_t)(val[k] - '0');
            }
            p->has_size = true;
            p->size = v;
        } else if ((klen == 8 && memcmp(key, "linkpath", 8) == 0) ||
                   (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0)) {
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry with pax '%.*s': links and sparse files are refused",
                                r->archive, (int)klen, key);
        }
        /* other keys (times, owners, charset) do not matter to us */
        i += len;
    }
    return JP_OK;
}

static jp_status_t read_meta(jp_tar_reader_t *r, uint64_t size, size_t max, const char *what,
                             char **out, jp_error_t *err)
{
    if (size > max)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: %s of %llu bytes refused (limit %zu)",
                            r->archive, what, (unsigned long long)size, max);
    char *d = jp_malloc((size_t)size + 1);
    if (!d) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    size_t got;
    jp_status_t st = read_full(r, d, (size_t)size, &got, err);
    if (!st && got < size)
        st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: truncated in a %s", r->archive, what);
    if (!st) st = skip(r, jp_tar_pad_len(size), what, err);
    if (st) {
        jp_free(d);
        return st;
    }
    d[size] = '\0';
    *out = d;
    return JP_OK;
}

static jp_status_t drain_end(jp_tar_reader_t *r, jp_error_t *err)
{
    unsigned char tmp[16384];
    for (;;) {
        size_t got;
        jp_status_t st = read_full(r, tmp, sizeof tmp, &got, err);
        if (st) return st;
        if (!all_zero(tmp, got))
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: data after the end-of-archive marker (refused)", r->archive);
        if (got < sizeof tmp) return JP_OK;
    }
}

jp_status_t jp_tar_next(jp_tar_reader_t *r, const jp_tar_entry_t **e, jp_error_t *err)
{
    *e = NULL;
    if (r->done) return JP_OK;
    jp_status_t st;
    if (r->cur.name && (st = skip(r, r->left + r->pad, r->cur.name, err))) return st;
    char prev[128];
    snprintf(prev, sizeof prev, "%s", r->cur.name ? r->cur.name : "(none)");
    const char *last = prev;
    jp_free(r->cur.name);
    r->cur.name = NULL;
    r->left = r->pad = 0;
    pending_t p = {0};
    unsigned char h[JP_TAR_BLOCK];
    char lastbuf[128];
    for (;;) {
        size_t got;
        if ((st = read_full(r, h, JP_TAR_BLOCK, &got, err))) goto fail;
        if (got < JP_TAR_BLOCK) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: truncated: the archive ends without its end marker (after "
                              "entry '%s')",
                              r->archive, last);
            goto fail;
        }
        if (all_zero(h, JP_TAR_BLOCK)) {
            if ((st = read_full(r, h, JP_TAR_BLOCK, &got, err))) goto fail;
            if (got < JP_TAR_BLOCK || !all_zero(h, JP_TAR_BLOCK)) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: a lone zero block after entry '%s' (truncated or "
                                  "corrupt)",
                                  r->archive, last);
                goto fail;
            }
            if (p.path || p.has_size) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: an extended header with no entry after it", r->archive);
                goto fail;
            }
            if ((st = drain_end(r, err))) goto fail;
            r->done = true;
            return JP_OK;
        }
        size_t nl = field_len(h + F_NAME, W_NAME);
        snprintf(lastbuf, sizeof lastbuf, "%.*s", (int)(nl < 100 ? nl : 100), (const char *)h);
        if (!checksum_ok(h)) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': bad header checksum",
                              r->archive, lastbuf);
            goto fail;
        }
        bool posix = memcmp(h + F_MAGIC, "ustar\0", 6) == 0;
        bool gnu = memcmp(h + F_MAGIC, "ustar  \0", 8) == 0;
        if (!posix && !gnu) {
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': not a ustar header (old or foreign tar format)",
                              r->archive, lastbuf);
            goto fail;
        }
        uint64_t size;
        if (!parse_number(h + F_SIZE, W_SIZE, &size)) {
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': malformed size field",
                              r->archive, lastbuf);
            goto fail;
        }
        char type = (char)h[F_TYPE];
        if (type == 'x' || type == 'g' || type == 'L') {
            char *d = NULL;
            const char *what = type == 'L' ? "long-name header" : "pax extended header";
            if ((st = read_meta(r, size, type == 'L' ? JP_ARCHIVE_NAME_MAX + 1 : PAX_MAX, what, &d,
                                err)))
                goto fail;
            if (type == 'x')
                st = parse_pax(r, d, (size_t)size, &p, err);
            else if (type == 'L') {
                size_t n = (size_t)size;
                while (n && d[n - 1] == '\0') n--;
                jp_free(p.path);
                p.path = jp_strndup(d, n);
                p.path_len = n;
                if (!p.path) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            }
            jp_free(d);
            if (st) goto fail;
            continue;
        }
        /* the real name */
        const char *nm;
        size_t nlen;
        char joined[W_PREFIX + 1 + W_NAME + 1];
        if (p.path) {
            nm = p.path;
            nlen = p.path_len;
        } else {
            size_t pl = posix ? field_len(h + F_PREFIX, W_PREFIX) : 0;
            nlen = 0;
            if (pl) {
                memcpy(joined, h + F_PREFIX, pl);
                joined[pl] = '/';
                nlen = pl + 1;
            }
            memcpy(joined + nlen, h + F_NAME, nl);
            nlen += nl;
            joined[nlen] = '\0';
            nm = joined;
        }
        char *name = NULL;
        bool slash_dir = false;
        if ((st = jp_archive_name_check(r->archive, nm, nlen, &name, &slash_dir, err))) goto fail;
        const char *shown = name ? name : ".";
        if (p.has_size) size = p.size;
        bool is_dir = false;
        switch (type) {
        case '0':
        case '\0':
        case '7':
            if (slash_dir && type == '\0')
                is_dir = true; /* old-style directory */
            else if (slash_dir) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: entry '%s': a file whose name ends in '/'", r->archive,
                                  shown);
            }
            break;
        case '5':
            is_dir = true;
            break;
        case '1':
        case '2':
        case 'K':
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': %s refused", r->archive, shown,
                              type == '2' ? "symbolic link" : "hard link");
            break;
        case '3':
        case '4':
        case '6':
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': %s refused", r->archive, shown,
                              type == '6' ? "FIFO" : "device file");
            break;
        default:
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': unsupported entry type '%c' refused", r->archive,
                              shown, type >= 0x20 && type < 0x7f ? type : '?');
        }
        if (!st && is_dir && size != 0)
            st = jp_error_set(err, JP_ERR_ARCHIVE,
                              "%s: entry '%s': a directory that claims %llu bytes of data",
                              r->archive, shown, (unsigned long long)size);
        if (!st && ++r->n_entries > r->max_entries)
            st = jp_error_set(err, JP_ERR_LIMIT, "%s: more than %llu entries (refused)", r->archive,
                              (unsigned long long)r->max_entries);
        if (!st && name) st = seen_add(r, name, err);
        pending_free(&p);
        if (st) {
            jp_free(name);
            return st;
        }
        if (!name) {
            /* "./": the root itself; nothing to report */
            last = ".";
            continue;
        }
        r->cur.name = name;
        r->cur.size = size;
        r->cur.is_dir = is_dir;
        r->left = size;
        r->pad = jp_tar_pad_len(size);
        *e = &r->cur;
        return JP_OK;
    }
fail:
    pending_free(&p);
    return st;
}

jp_status_t jp_tar_read(jp_tar_reader_t *r, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    *got = 0;
    if (!r->cur.name || r->left == 0) return JP_OK;
    if (n > r->left) n = (size_t)r->left;
    size_t k;
    jp_status_t st = read_full(r, buf, n, &k, err);
    if (st) return st;
    if (k < n)
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: truncated: entry '%s' has fewer bytes than its header says "
                            "(%llu)",
                            r->archive, r->cur.name, (unsigned long long)r->cur.size);
    r->left -= k;
    *got = k;
    return JP_OK;
}
