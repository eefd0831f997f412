/*
 * jp_column.c - typed columns and the string dictionary.
 *
 * Builders grow arrays geometrically; `nulls` and `quals` are created on the
 * first null / qualified value.  Nothing here prints or aborts: allocation
 * failures come back as JP_ERR_NOMEM (or NULL from constructors).
 */
#include "jp_column.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_mem.h"

/* ---- hashing -------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint32_t jp_str_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ mix64(w)) * 0x9fb21c651e98df25ULL;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h = mix64(h ^ w ^ ((uint64_t)(n - i) << 56));
    return (uint32_t)h ^ (uint32_t)(h >> 32);
}

/* ---- dictionary ----------------------------------------------------------- */

jp_strdict_t *jp_strdict_new(size_t expect)
{
    jp_strdict_t *d = jp_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->refs = 1;
    size_t slots = 16;
    while (slots < expect * 2 && slots < ((size_t)1 << 31)) slots <<= 1;
    d->slots = jp_calloc(slots, sizeof *d->slots);
    d->offs_cap = expect > 8 ? expect + 1 : 9;
    d->offs = jp_malloc_array(d->offs_cap, sizeof *d->offs);
    d->hashes = jp_malloc_array(d->offs_cap, sizeof *d->hashes);
    if (!d->slots || !d->offs || !d->hashes) {
        jp_free(d->slots);
        jp_free(d->offs);
        jp_free(d->hashes);
        jp_free(d);
        return NULL;
    }
    d->slot_mask = slots - 1;
    d->offs[0] = 0;
    return d;
}

jp_strdict_t *jp_strdict_ref(jp_strdict_t *d)
{
    if (d) d->refs++;
    return d;
}

void jp_strdict_unref(jp_strdict_t *d)
{
    if (!d || --d->refs > 0) return;
    jp_free(d->slots);
    jp_free(d->offs);
    jp_free(d->hashes);
    jp_free(d->bytes);
    jp_free(d);
}

static jp_status_t dict_rehash(jp_strdict_t *d, size_t nslots)
{
    uint32_t *slots = jp_calloc(nslots, sizeof *slots);
    if (!slots) return JP_ERR_NOMEM;
    size_t mask = nslots - 1;
    for (uint32_t c = 0; c < d->count; c++) {
        size_t j = d->hashes[c] & mask;
        while (slots[j]) j = (j + 1) & mask;
        slots[j] = c + 1;
    }
    jp_free(d->slots);
    d->slots = slots;
    d->slot_mask = mask;
    return JP_OK;
}

bool jp_strdict_find(const jp_strdict_t *d, const char *s, size_t n, uint32_t *code)
{
    uint32_t h = jp_str_hash(s, n);
    size_t j = h & d->slot_mask;
    for (;;) {
        uint32_t c = d->slots[j];
        if (!c) return false;
        c--;
        if (d->hashes[c] == h) {
            size_t len = d->offs[c + 1] - d->offs[c] - 1;
            if (len == n && memcmp(d->bytes + d->offs[c], s, n) == 0) {
                *code = c;
                return true;
            }
        }
        j = (j + 1) & d->slot_mask;
    }
}

jp_status_t jp_strdict_intern(jp_strdict_t *d, const char *s, size_t n, uint32_t *code)
{
    uint32_t h = jp_str_hash(s, n);
    size_t j = h & d->slot_mask;
    for (;;) {
        uint32_t c = d->slots[j];
        if (!c) break;
        c--;
        if (d->hashes[c] == h) {
            size_t len = d->offs[c + 1] - d->offs[c] - 1;
            if (len == n && memcmp(d->bytes + d->offs[c], s, n) == 0) {
                *code = c;
                return JP_OK;
            }
        }
        j = (j + 1) & d->slot_mask;
    }
    if (d->count >= 0xfffffff0u) return JP_ERR_LIMIT;
    /* room for the bytes, the offsets and (at load <= 1/2) the slots */
    if (d->bytes_len + n + 1 > d->bytes_cap) {
        size_t cap = d->bytes_cap ? d->bytes_cap : 256;
        while (cap < d->bytes_len + n + 1) cap *= 2;
        char *b = jp_realloc(d->bytes, cap);
        if (!b) return JP_ERR_NOMEM;
        d->bytes = b;
        d->bytes_cap = cap;
    }
    if (d->count + 2 > d->offs_cap) {
        size_t cap = d->offs_cap * 2;
        size_t *o = jp_realloc_array(d->offs, cap, sizeof *o);
        if (!o) return JP_ERR_NOMEM;
        d->offs = o;
        uint32_t *hs = jp_realloc_array(d->hashes, cap, sizeof *hs);
        if (!hs) return JP_ERR_NOMEM;
        d->hashes = hs;
        d->offs_cap = cap;
    }
    if ((size_t)(d->count + 1) * 2 > d->slot_mask + 1) {
        if (dict_rehash(d, (d->slot_mask + 1) * 2)) return JP_ERR_NOMEM;
        j = h & d->slot_mask;
        while (d->slots[j]) j = (j + 1) & d->slot_mask;
    }
    uint32_t c = d->count++;
    if (n) memcpy(d->bytes + d->bytes_len, s, n);
    d->bytes[d->bytes_len + n] = '\0';
    d->bytes_len += n + 1;
    d->offs[c + 1] = d->bytes_len;
    d->hashes[c] = h;
    d->slots[j] = c + 1;
    *code = c;
    return JP_OK;
}

static int cmp_dict_codes(const jp_strdict_t *d, uint32_t x, uint32_t y)
{
    size_t lx, ly;
    const char *sx = jp_strdict_get(d, x, &lx);
    const char *sy = jp_strdict_get(d, y, &ly);
    int c = memcmp(sx, sy, lx < ly ? lx : ly);
    if (c) return c;
    return lx < ly ? -1 : lx > ly;
}

/* Merge sort of codes by their strings: the dictionary travels as an
 * argument (no static state), so ranks may be computed on many threads. */
static void sort_codes(const jp_strdict_t *d, uint32_t *a, uint32_t *tmp, size_t n)
{
    if (n < 16) {
        for (size_t i = 1; i < n; i++) {
            uint32_t v = a[i];
            size_t j = i;
            while (j > 0 && cmp_dict_codes(d, a[j - 1], v) > 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    size_t h = n / 2;
    sort_codes(d, a, tmp, h);
    sort_codes(d, a + h, tmp, n - h);
    if (cmp_dict_codes(d, a[h - 1], a[h]) <= 0) return;
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) a[k++] = cmp_dict_codes(d, a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    while (i < h) a[k++] = tmp[i++];
}

jp_status_t jp_strdict_ranks(const jp_strdict_t *d, uint32_t **rank)
{
    size_t n = d->count ? d->count : 1;
    uint32_t *order = jp_malloc_array(n, sizeof *order);
    uint32_t *tmp = jp_malloc_array(n, sizeof *tmp);
    uint32_t *r = jp_malloc_array(n, sizeof *r);
    if (!order || !tmp || !r) {
        jp_free(order);
        jp_free(tmp);
        jp_free(r);
        return JP_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < d->count; i++) order[i] = i;
    sort_codes(d, order, tmp, d->count);
    for (uint32_t i = 0; i < d->count; i++) r[order[i]] = i;
    jp_free(order);
    jp_free(tmp);
    *rank = r;
    return JP_OK;
}

/* ---- columns -------------------------------------------------------------- */

static jp_column_t *column_alloc(jp_type_t type, size_t cap)
{
    jp_column_t *c = jp_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->type = type;
    c->refs = 1;
    if (cap < 4) cap = 4;
    c->v.raw = jp_malloc_array(cap, jp_type_width(type));
    if (!c->v.raw) {
        jp_free(c);
        return NULL;
    }
    c->cap = cap;
    return c;
}

jp_column_t *jp_column_new(jp_type_t type, size_t cap)
{
    if (type <= JP_TYPE_NONE || type >= JP_TYPE_COUNT) return NULL;
    jp_column_t *c = column_alloc(type, cap);
    if (c && type == JP_TYPE_STRING) {
        c->dict = jp_strdict_new(16);
        if (!c->dict) {
            jp_column_unref(c);
            return NULL;
        }
    }
    return c;
}

jp_column_t *jp_column_new_with_dict(jp_strdict_t *dict, size_t cap)
{
    jp_column_t *c = column_alloc(JP_TYPE_STRING, cap);
    if (c) c->dict = jp_strdict_ref(dict);
    return c;
}

jp_column_t *jp_column_ref(jp_column_t *c)
{
    if (c) c->refs++;
    return c;
}

void jp_column_unref(jp_column_t *c)
{
    if (!c || --c->refs > 0) return;
    jp_free(c->v.raw);
    jp_free(c->nulls);
    jp_free(c->quals);
    jp_strdict_unref(c->dict);
    jp_free(c);
}

jp_status_t jp_column_reserve(jp_column_t *c, size_t cap)
{
    if (cap <= c->cap) return JP_OK;
    size_t w = jp_type_width(c->type);
    void *v = jp_realloc_array(c->v.raw, cap, w);
    if (!v) return JP_ERR_NOMEM;
    c->v.raw = v;
    if (c->nulls) {
        uint8_t *n = jp_realloc(c->nulls, cap);
        if (!n) return JP_ERR_NOMEM;
        memset(n + c->cap, 0, cap - c->cap);
        c->nulls = n;
    }
    if (c->quals) {
        uint8_t *q = jp_realloc(c->quals, cap);
        if (!q) return JP_ERR_NOMEM;
        memset(q + c->cap, 0, cap - c->cap);
        c->quals = q;
    }
    c->cap = cap;
    return JP_OK;
}

static inline jp_status_t grow1(jp_column_t *c)
{
    if (c->len < c->cap) return JP_OK;
    return jp_column_reserve(c, c->cap * 2);
}

jp_status_t jp_column_set_len(jp_column_t *c, size_t n)
{
    if (n > c->cap) return JP_ERR_ARG;
    if (n > c->len) {
        if (c->nulls) memset(c->nulls + c->len, 0, n - c->len);
        if (c->quals) memset(c->quals + c->len, 0, n - c->len);
    }
    c->len = n;
    return JP_OK;
}

jp_status_t jp_column_alloc_nulls(jp_column_t *c)
{
    if (c->nulls) return JP_OK;
    c->nulls = jp_calloc(c->cap, 1);
    return c->nulls ? JP_OK : JP_ERR_NOMEM;
}

jp_status_t jp_column_alloc_quals(jp_column_t *c)
{
    if (c->quals) return JP_OK;
    c->quals = jp_calloc(c->cap, 1);
    return c->quals ? JP_OK : JP_ERR_NOMEM;
}

jp_status_t jp_column_push_null(jp_column_t *c)
{
    if (grow1(c) || jp_column_alloc_nulls(c)) return JP_ERR_NOMEM;
    memset((char *)c->v.raw + c->len * jp_type_width(c->type), 0, jp_type_width(c->type));
    c->nulls[c->len] = 1;
    if (c->quals) c->quals[c->len] = 0;
    c->len++;
    return JP_OK;
}

static inline jp_status_t push_prep(jp_column_t *c, jp_type_t t, jp_qual_t q)
{
    if (c->type != t) return JP_ERR_TYPE;
    if (grow1(c)) return JP_ERR_NOMEM;
    if (q != JP_Q_EXACT) {
        if (jp_column_alloc_quals(c)) return JP_ERR_NOMEM;
    }
    if (c->quals) c->quals[c->len] = (uint8_t)q;
    if (c->nulls) c->nulls[c->len] = 0;
    return JP_OK;
}

jp_status_t jp_column_push_int(jp_column_t *c, int64_t v, jp_qual_t q)
{
    jp_status_t st = push_prep(c, JP_TYPE_INT, q);
    if (st) return st;
    c->v.i[c->len++] = v;
    return JP_OK;
}

jp_status_t jp_column_push_number(jp_column_t *c, double v, jp_qual_t q)
{
    jp_status_t st = push_prep(c, JP_TYPE_NUMBER, q);
    if (st) return st;
    c->v.d[c->len++] = v;
    return JP_OK;
}

jp_status_t jp_column_push_bool(jp_column_t *c, bool v)
{
    jp_status_t st = push_prep(c, JP_TYPE_BOOL, JP_Q_EXACT);
    if (st) return st;
    c->v.b[c->len++] = v ? 1 : 0;
    return JP_OK;
}

jp_status_t jp_column_push_date(jp_column_t *c, int32_t v)
{
    jp_status_t st = push_prep(c, JP_TYPE_DATE, JP_Q_EXACT);
    if (st) return st;
    c->v.date[c->len++] = v;
    return JP_OK;
}

jp_status_t jp_column_push_period(jp_column_t *c, const jp_period_t *p)
{
    jp_status_t st = push_prep(c, JP_TYPE_PERIOD, JP_Q_EXACT);
    if (st) return st;
    c->v.p[c->len++] = *p;
    return JP_OK;
}

jp_status_t jp_column_push_str(jp_column_t *c, const char *s, size_t n)
{
    jp_status_t st = push_prep(c, JP_TYPE_STRING, JP_Q_EXACT);
    if (st) return st;
    uint32_t code;
    if ((st = jp_strdict_intern(c->dict, s, n, &code))) return st;
    c->v.s[c->len++] = code;
    return JP_OK;
}

jp_status_t jp_column_push_value(jp_column_t *c, const jp_value_t *v, jp_error_t *err)
{
    if (v->is_null) return jp_column_push_null(c);
    jp_status_t st;
    if (c->type == JP_TYPE_NUMBER && v->type == JP_TYPE_INT)
        st = jp_column_push_number(c, (double)v->u.i, v->qual);
    else if (c->type != v->type)
        return jp_error_set(err, JP_ERR_TYPE, "%s value in a %s column", jp_type_name(v->type),
                            jp_type_name(c->type));
    else
        st = jp_type_info(c->type)->push(c, v);
    if (st == JP_ERR_NOMEM) return jp_error_set(err, st, "out of memory");
    if (st) return jp_error_set(err, st, "cannot store a %s value", jp_type_name(v->type));
    return JP_OK;
}

void jp_column_get(const jp_column_t *c, size_t i, jp_value_t *out)
{
    memset(out, 0, sizeof *out);
    out->type = c->type;
    out->qual = jp_column_qual(c, i);
    if (jp_column_is_null(c, i)) {
        out->is_null = true;
        return;
    }
    jp_type_info(c->type)->get(c, i, out);
}

size_t jp_column_null_count(const jp_column_t *c)
{
    if (!c->nulls) return 0;
    size_t n = 0;
    for (size_t i = 0; i < c->len; i++) n += c->nulls[i];
    return n;
}

bool jp_column_has_quals(const jp_column_t *c)
{
    if (!c->quals) return false;
    for (size_t i = 0; i < c->len; i++)
        if (c->quals[i]) return true;
    return false;
}

size_t jp_column_qual_count(const jp_column_t *c)
{
    size_t n = 0;
    if (c->quals)
        for (size_t i = 0; i < c->len; i++) n += c->quals[i] != JP_Q_EXACT;
    return n;
}

/* Typed gathers, one per element width; a missing row (JP_NO_ROW) is 0. */
#define DEFINE_GATHER(NAME, T)                                                                     \
    static void NAME(void *dst, const void *src, const size_t *idx, size_t n, bool missing)        \
    {                                                                                              \
        const T *s = src;                                                                          \
        T *d = dst;                                                                                \
        if (!missing)                                                                              \
            for (size_t k = 0; k < n; k++) d[k] = s[idx[k]];                                       \
        else                                                                                       \
            for (size_t k = 0; k < n; k++) d[k] = idx[k] == JP_NO_ROW ? 0 : s[idx[k]];             \
    }
DEFINE_GATHER(gather64, uint64_t)
DEFINE_GATHER(gather32, uint32_t)
DEFINE_GATHER(gather8, uint8_t)
#undef DEFINE_GATHER

jp_column_t *jp_column_gather(const jp_column_t *src, const size_t *idx, size_t n)
{
    jp_column_t *c = column_alloc(src->type, n);
    if (!c) return NULL;
    c->dict = jp_strdict_ref(src->dict);
    bool any_missing = false;
    for (size_t k = 0; k < n; k++)
        if (idx[k] == JP_NO_ROW) {
            any_missing = true;
            break;
        }
    if ((src->nulls || any_missing) && jp_column_alloc_nulls(c)) goto fail;
    if (src->quals && jp_column_alloc_quals(c)) goto fail;
    size_t w = jp_type_width(src->type);
    switch (w) {
    case 8:
        gather64(c->v.raw, src->v.raw, idx, n, any_missing);
        break;
    case 4:
        gather32(c->v.raw, src->v.raw, idx, n, any_missing);
        break;
    case 1:
        gather8(c->v.raw, src->v.raw, idx, n, any_missing);
        break;
    default:
        for (size_t k = 0; k < n; k++) {
            if (idx[k] == JP_NO_ROW)
                memset((char *)c->v.raw + k * w, 0, w);
            else
                memcpy((char *)c->v.raw + k * w, (const char *)src->v.raw + idx[k] * w, w);
        }
    }
    if (c->nulls)
        for (size_t k = 0; k < n; k++)
            c->nulls[k] = idx[k] == JP_NO_ROW ? 1 : (src->nulls ? src->nulls[idx[k]] : 0);
    if (c->quals)
        for (size_t k = 0; k < n; k++) c->quals[k] = idx[k] == JP_NO_ROW ? 0 : src->quals[idx[k]];
    c->len = n;
    return c;
fail:
    jp_column_unref(c);
    return NULL;
}

jp_column_t *jp_column_slice(const jp_column_t *src, size_t from, size_t n)
{
    if (from > src->len) from = src->len;
    if (n > src->len - from) n = src->len - from;
    jp_column_t *c = column_alloc(src->type, n);
    if (!c) return NULL;
    c->dict = jp_strdict_ref(src->dict);
    size_t w = jp_type_width(src->type);
    if (n) memcpy(c->v.raw, (const char *)src->v.raw + from * w, n * w);
    if (src->nulls) {
        if (jp_column_alloc_nulls(c)) goto fail;
        if (n) memcpy(c->nulls, src->nulls + from, n);
    }
    if (src->quals) {
        if (jp_column_alloc_quals(c)) goto fail;
        if (n) memcpy(c->quals, src->quals + from, n);
    }
    c->len = n;
    return c;
fail:
    jp_column_unref(c);
    return NULL;
}

jp_column_t *jp_column_copy(const jp_column_t *src)
{
    return jp_column_slice(src, 0, src->len);
}

jp_column_t *jp_column_new_nulls(jp_type_t type, size_t n)
{
    jp_column_t *c = jp_column_new(type, n);
    if (!c) return NULL;
    if (jp_column_alloc_nulls(c)) {
        jp_column_unref(c);
        return NULL;
    }
    memset(c->v.raw, 0, (n ? n : 1) * jp_type_width(type));
    memset(c->nulls, 1, n);
    c->len = n;
    return c;
}

jp_status_t jp_column_append(jp_column_t *a, const jp_column_t *b, jp_error_t *err)
{
    if (a->type != b->type)
        return jp_error_set(err, JP_ERR_TYPE, "cannot append a %s column to a %s column",
                            jp_type_name(b->type), jp_type_name(a->type));
    size_t n0 = a->len, n = b->len;
    if (jp_column_reserve(a, n0 + n)) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (b->nulls && jp_column_alloc_nulls(a))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (b->quals && jp_column_alloc_quals(a))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    if (a->type == JP_TYPE_STRING && a->dict != b->dict) {
        /* remap b's codes into a's dictionary (interning needs a private dict) */
        if (a->dict->refs > 1) {
            jp_strdict_t *nd = jp_strdict_new(a->dict->count + b->dict->count);
            if (!nd) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            uint32_t code;
            for (uint32_t k = 0; k < a->dict->count; k++) {
                size_t len;
                const char *s = jp_strdict_get(a->dict, k, &len);
                if (jp_strdict_intern(nd, s, len, &code)) {
                    jp_strdict_unref(nd);
                    return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                }
            }
            jp_strdict_unref(a->dict);
            a->dict = nd;
        }
        uint32_t *map = jp_malloc_array(b->dict->count ? b->dict->count : 1, sizeof *map);
        if (!map) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (uint32_t k = 0; k < b->dict->count; k++) {
            size_t len;
            const char *s = jp_strdict_get(b->dict, k, &len);
            if (jp_strdict_intern(a->dict, s, len, &map[k])) {
                jp_free(map);
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            }
        }
        for (size_t k = 0; k < n; k++)
            a->v.s[n0 + k] = (b->nulls && b->nulls[k]) ? 0 : map[b->v.s[k]];
        jp_free(map);
    } else if (n) {
        size_t w = jp_type_width(a->type);
        memcpy((char *)a->v.raw + n0 * w, b->v.raw, n * w);
    }
    if (a->nulls) {
        if (b->nulls)
            memcpy(a->nulls + n0, b->nulls, n);
        else
            memset(a->nulls + n0, 0, n);
    }
    if (a->quals) {
        if (b->quals)
            memcpy(a->quals + n0, b->quals, n);
        else
            memset(a->quals + n0, 0, n);
    }
    a->len = n0 + n;
    return JP_OK;
}

int jp_column_cmp_cells(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    bool na = jp_column_is_null(a, i), nb = jp_column_is_null(b, j);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
    return jp_type_info(a->type)->cmp(a, i, b, j);
}

bool jp_column_equal(const jp_column_t *a, const jp_column_t *b)
{
    if (a->type != b->type || a->len != b->len) return false;
    for (size_t i = 0; i < a->len; i++) {
        if (jp_column_is_null(a, i) != jp_column_is_null(b, i)) return false;
        if (jp_column_qual(a, i) != jp_column_qual(b, i)) return false;
        if (jp_column_is_null(a, i)) continue;
        if (a->type == JP_TYPE_NUMBER) {
            double x = a->v.d[i], y = b->v.d[i];
            if (!(x == y || (isnan(x) && isnan(y)))) return false;
            if (x == 0 && signbit(x) != signbit(y)) return false;
        } else if (jp_column_cmp_cells(a, i, b, i) != 0) {
            return false;
        }
    }
    return true;
}

size_t jp_column_cell_text(const jp_column_t *c, size_t i, char *buf, size_t size, const char **ptr)
{
    *ptr = buf;
    if (size) buf[0] = '\0';
    if (jp_column_is_null(c, i)) return 0;
    const jp_type_info_t *t = jp_type_info(c->type);
    jp_value_t v;
    t->get(c, i, &v);
    return t->text(&v, buf, size, ptr);
}

jp_column_t *jp_column_cast(const jp_column_t *src, jp_type_t to, jp_error_t *err)
{
    if (src->type == to) return jp_column_copy(src);
    jp_column_t *c = jp_column_new(to, src->len);
    if (!c) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char buf[96];
    for (size_t i = 0; i < src->len; i++) {
        jp_status_t st;
        if (jp_column_is_null(src, i)) {
            st = jp_column_push_null(c);
        } else if (to == JP_TYPE_NUMBER && src->type == JP_TYPE_INT) {
            st = jp_column_push_number(c, (double)src->v.i[i], jp_column_qual(src, i));
        } else if (to == JP_TYPE_STRING) {
            const char *p;
            size_t n = jp_column_cell_text(src, i, buf, sizeof buf, &p);
            st = jp_column_push_str(c, p, n);
        } else {
            jp_column_unref(c);
            jp_error_set(err, JP_ERR_TYPE, "cannot convert %s to %s", jp_type_name(src->type),
                         jp_type_name(to));
            return NULL;
        }
        if (st) {
            jp_column_unref(c);
            jp_error_set(err, st, "out of memory");
            return NULL;
        }
    }
    return c;
}
