/*
 * jp_csv_store.c - where a pass puts cells: the chunk-local columns and
 * dictionaries that workers fill (one chunk each, nothing shared), and the
 * column builders the calling thread appends finished chunks to, in file
 * order, widening a column's type when a later chunk needs it.  Never
 * reads the text itself; no per-cell allocation in the common case.
 */
#include "jp_csv_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_dataset.h"
#include "jp_mem.h"

static int store_of_kind(unsigned k)
{
    if (k & (K_INT | K_INTWIDE)) return ST_INT;
    if (k & (K_DEC | K_BIGX | K_SPECIAL)) return ST_NUM;
    if (k & K_BOOL) return ST_BOOL;
    if (k & K_DATE) return ST_DATE;
    if (k & K_PERIOD) return ST_PERIOD;
    return ST_STR;
}

/* ---- chunk-local dictionaries (the inline lookups are in jp_csv_scan.h) ------ */

static void cdict_free(cdict_t **dp)
{
    cdict_t *d = *dp;
    if (!d) return;
    jp_free(d->slots);
    jp_free(d->hash);
    jp_free(d->off);
    jp_free(d->bytes);
    jp_free(d);
    *dp = NULL;
}

/* Empty the dictionary *dp, making it on first use with room for about
 * `expect` strings (up to 32: it grows), so that the many columns of a
 * wide file with few rows per chunk cost little. */
static bool cdict_reset(cdict_t **dp, size_t expect)
{
    cdict_t *d = *dp;
    if (!d) {
        d = *dp = jp_calloc(1, sizeof *d);
        if (!d) return false;
        uint32_t cap = 32;
        while (cap > 4 && cap / 2 >= expect) cap /= 2;
        d->cap = cap;
        d->mask = 2 * cap - 1;
        d->bcap = (size_t)cap * 32;
        d->slots = jp_calloc(d->mask + 1, sizeof *d->slots);
        d->hash = jp_malloc_array(d->cap, sizeof *d->hash);
        d->off = jp_malloc_array(d->cap + 1, sizeof *d->off);
        d->bytes = jp_malloc(d->bcap); /* never NULL, even when every string is empty */
        if (!d->slots || !d->hash || !d->off || !d->bytes) {
            cdict_free(dp);
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

/* ---- chunk columns ------------------------------------------------------------ */

int jp_csv_store_of_mode(int mode)
{
    switch (mode) {
    case CM_INFER:
        return ST_NONE;
    case CM_STRING:
        return ST_STR;
    case CM_INT:
        return ST_INT;
    case CM_NUMBER:
        return ST_NUM;
    case CM_BOOL:
        return ST_BOOL;
    case CM_DATE:
        return ST_DATE;
    case CM_PERIOD:
        return ST_PERIOD;
    default:
        return ST_DEAD;
    }
}

static void ccol_free(ccol_t *c)
{
    jp_free(c->v); /* also c->p */
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

void jp_csv_chunk_free(chunk_t *C)
{
    for (size_t k = 0; k < C->ncc; k++) ccol_free(&C->cc[k]);
    jp_free(C->cc);
    jp_free(C->cells);
    jp_free(C->fs);
    jp_free(C->fe);
    jp_free(C->ff);
    jp_free(C->rline);
    jp_free(C->roff);
    jp_buf_free(&C->scratch);
    chunk_clear_rejects(C);
    jp_free(C->rej);
    jp_free(C->cerr);
    memset(C, 0, sizeof *C);
}

bool jp_csv_chunk_grow(chunk_t *C, size_t need)
{
    if (need <= C->cap) return true;
    size_t cap = C->cap ? C->cap : 64;
    while (cap < need) cap = cap + cap / 2 + 64;
    for (size_t k = 0; k < C->ncc; k++) {
        ccol_t *c = &C->cc[k];
        if (c->store == ST_DEAD) continue;
        size_t w = c->store == ST_PERIOD ? sizeof *c->p : sizeof *c->v;
        void *v = jp_realloc_array(c->v, cap, w);
        if (!v) return false;
        c->v = v;
        c->vcap = (uint32_t)cap;
        if (c->has_nulls) {
            uint8_t *u = jp_realloc(c->nulls, cap);
            if (!u) return false;
            memset(u + C->cap, 0, cap - C->cap);
            c->nulls = u;
            c->ncap = (uint32_t)cap;
        }
        if (c->has_quals) {
            uint8_t *u = jp_realloc(c->quals, cap);
            if (!u) return false;
            memset(u + C->cap, 0, cap - C->cap);
            c->quals = u;
            c->qcap = (uint32_t)cap;
        }
    }
    if (C->irregular) {
        uint32_t *r = jp_realloc_array(C->rline, cap, sizeof *r);
        if (!r) return false;
        C->rline = r;
        C->rline_cap = cap;
    }
    if (C->roff) {
        uint64_t *o = jp_realloc_array(C->roff, cap, sizeof *o);
        if (!o) return false;
        C->roff = o;
        C->roff_cap = cap;
    }
    C->cap = cap;
    return true;
}

/* Give a chunk column a zeroed byte-per-row array (nulls or qualifiers) the
 * first time it needs one, reusing a large enough array from earlier use. */
static bool ccol_bytes(chunk_t *C, bool *has, uint8_t **bytes, uint32_t *bcap)
{
    if (*has) return true;
    if (*bcap < C->cap) {
        jp_free(*bytes);
        *bytes = jp_malloc(C->cap ? C->cap : 1);
        if (!*bytes) {
            *bcap = 0;
            return false;
        }
        *bcap = (uint32_t)C->cap;
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

bool jp_csv_chunk_irregular(chunk_t *C)
{
    if (C->irregular || C->profile) return true; /* a profile keeps no row lines */
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
static bool ccol_to_str(ccol_t *c, size_t len, size_t expect)
{
    if (!cdict_reset(&c->d, expect)) return false;
    char buf[64];
    for (size_t r = 0; r < len; r++) {
        uint8_t nb = c->has_nulls ? c->nulls[r] : 0;
        uint32_t code = 0;
        if (nb == 1) {
            c->v[r] = 0;
            continue;
        }
        size_t k = 0;
        const char *text = buf;
        if (nb == 3) {
            text = jp_csv_marker_text((int)c->v[r], &k);
        } else if (nb == 2 || c->store == ST_NONE) {
            k = 0;
        } else if (c->store == ST_INT) {
            k = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)c->v[r]);
        } else if (c->store == ST_BOOL) {
            k = (size_t)snprintf(buf, sizeof buf, "%s", c->v[r] ? "true" : "false");
        } else if (c->store == ST_DATE) {
            jp_date_format((int32_t)(uint32_t)c->v[r], buf);
            k = strlen(buf);
        }
        if (!cdict_intern(c->d, text, k, &code)) return false;
        c->v[r] = code;
        if (nb >= 2) c->nulls[r] = 0;
    }
    c->store = ST_STR;
    return true;
}

void jp_csv_chunk_reset(chunk_t *C)
{
    C->rows = 0;
    C->nl = 0;
    C->irregular = false;
    C->incomplete = false;
    C->est = JP_OK;
    C->emsg[0] = '\0';
    C->ncerr = 0;
    chunk_clear_rejects(C);
}

bool jp_csv_chunk_setup(pass_t *P, batch_t *B, chunk_t *C)
{
    size_t n = P->n;
    bool defer = P->lay->keep_rejects || P->nskip;
    if (C->ncc != n) {
        for (size_t k = 0; k < C->ncc; k++) ccol_free(&C->cc[k]);
        jp_free(C->cc);
        jp_free(C->ff);
        C->ncc = 0;
        C->cap = 0;
        C->cc = jp_calloc(n ? n : 1, sizeof *C->cc);
        C->ff = jp_calloc(n ? n : 1, 1);
        if (!C->cc || !C->ff) return false;
        C->ncc = n;
    }
    if (defer && !C->cells) {
        size_t m = n ? n : 1;
        C->cells = jp_calloc(m, sizeof *C->cells);
        C->fs = jp_calloc(m, sizeof *C->fs);
        C->fe = jp_calloc(m, sizeof *C->fe);
        if (!C->cells || !C->fs || !C->fe) return false;
    }
    C->profile = P->profile;
    for (size_t k = 0; k < n; k++) {
        ccol_t *c = &C->cc[k];
        c->store = jp_csv_store_of_mode(B->mode[k]);
        if (P->profile && c->store != ST_DEAD) c->store = ST_PROFILE;
        if (k >= P->nbuilt) c->store = ST_PROFILE; /* checked only: kinds, nothing stored */
        c->kinds = 0;
        c->has_nulls = c->has_quals = false;
        c->n_null = c->n_qempty = c->n_marker = c->n_qual = 0;
        c->n_typed = c->n_text = 0;
    }
    if (P->profile) {
        C->cap = UINT32_MAX; /* nothing is stored, nothing grows */
        return true;
    }
    /* room for the rows expected from the bytes per row seen so far (grown
       when short); the arrays are kept from batch to batch */
    size_t span = C->nend > C->s ? C->nend - C->s : 0;
    size_t need = span / B->row_bytes + span / (4 * B->row_bytes) + 4;
    for (size_t k = 0; k < n; k++) {
        ccol_t *c = &C->cc[k];
        if (c->store == ST_STR && !cdict_reset(&c->d, need)) return false;
        /* reuse arrays that are big enough */
        if (c->store == ST_DEAD || c->store == ST_PROFILE || c->vcap >= need) continue;
        jp_free(c->v);
        c->v = jp_malloc_array(need, c->store == ST_PERIOD ? sizeof *c->p : sizeof *c->v);
        c->vcap = c->v ? (uint32_t)need : 0;
        if (!c->v) return false;
    }
    if (P->offsets && C->roff_cap < need) {
        jp_free(C->roff);
        C->roff = jp_malloc_array(need, sizeof *C->roff);
        C->roff_cap = C->roff ? need : 0;
        if (!C->roff) return false;
    }
    C->cap = need;
    return true;
}

/* Phase 2: store a cell (cannot fail but for memory). */
bool jp_csv_cell_store(chunk_t *C, ccol_t *c, const cell_t *cl, int mode)
{
    size_t r = C->rows;
    unsigned k = cl->kind;
    if (c->store == ST_DEAD) return true;
    if (k == K_MARKER && c->store != ST_STR) {
        /* null while the column is typed; its index, to be text if it is not */
        if (!ccol_nulls(C, c)) return false;
        c->nulls[r] = 3;
        if (c->store == ST_PERIOD)
            memset(&c->p[r], 0, sizeof c->p[r]);
        else
            c->v[r] = cl->bits;
        if (c->has_quals) c->quals[r] = 0;
        c->kinds |= k;
        return true;
    }
    if (k & (K_NULL | K_QEMPTY)) {
        if (c->store == ST_STR && k == K_QEMPTY) {
            uint32_t code;
            if (!cdict_intern(c->d, "", 0, &code)) return false;
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
                if (!ccol_to_str(c, r, C->cap)) return false;
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
            if (!ccol_to_str(c, r, C->cap)) return false;
            break;
        case ST_NUM:
            if (k & (K_DEC | K_BIGX | K_SPECIAL | K_INT)) break;
            c->store = ST_DEAD; /* decimals cannot be turned back into their text */
            c->kinds |= k;
            return true;
        case ST_BOOL:
        case ST_DATE:
            if (store_of_kind(k) == c->store) break;
            if (!ccol_to_str(c, r, C->cap)) return false;
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
            if (code == NO_CODE && !cdict_intern(c->d, cl->t, cl->n, &code)) return false;
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
        if (code == NO_CODE && !cdict_intern(c->d, cl->t, cl->n, &code)) return false;
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

/* ---- column builders ------------------------------------------------------------ */

jp_type_t jp_csv_type_of_store(int st)
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
    /* the estimate of the total, once known, in one step.  No huge pages
       asked for here: with the kernel's usual "defrag=madvise", each 2 MB
       fault of an advised array may compact memory first, and filling a
       collected column of hundreds of megabytes then cost four times the
       system time of small pages (a batch's text buffer, advised once and
       reused, is a different matter) */
    size_t cap = c->cap * 2;
    if (hint >= need && hint / 64 < need + 1024) cap = (size_t)hint;
    if (cap < need) cap = need;
    return jp_column_reserve(c, cap) == JP_OK;
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

/* A marker's index where a typed builder keeps it (null byte 3): in the
 * value array of an INT (or NONE's INT stand-in), BOOL or DATE column;
 * decimals never turn back into text, so NUM does not keep it. */
static int marker_of(int st, const jp_column_t *c, size_t i)
{
    switch (st) {
    case ST_NONE:
    case ST_INT:
        return (int)c->v.i[i];
    case ST_BOOL:
        return c->v.b[i];
    case ST_DATE:
        return c->v.date[i];
    default:
        return -1;
    }
}

static void set_marker(int st, jp_column_t *c, size_t i, int m)
{
    switch (st) {
    case ST_NONE:
    case ST_INT:
        c->v.i[i] = m;
        break;
    case ST_BOOL:
        c->v.b[i] = (uint8_t)m;
        break;
    case ST_DATE:
        c->v.date[i] = m;
        break;
    default:
        break;
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
    jp_column_t *c = jp_column_new(jp_csv_type_of_store(to), o->cap > len ? o->cap : len + 1);
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
            const char *text = nb == 3 ? jp_csv_marker_text(marker_of(B->store, o, i), &k) : buf;
            if (jp_strdict_intern(c->dict, text, k, &code)) goto fail;
            c->v.s[i] = code;
            if (nb >= 2) c->nulls[i] = 0;
        } else {
            memset((char *)c->v.raw + i * jp_type_width(c->type), 0, jp_type_width(c->type));
            if (nb == 3) set_marker(to, c, i, marker_of(B->store, o, i));
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

/* Streaming: the builder's spare column (see bld_t.spare), emptied, when
 * it has the builder's type; NULL otherwise. */
static jp_column_t *bld_take_spare(bld_t *B)
{
    jp_column_t *c = B->spare;
    B->spare = NULL;
    if (!c) return NULL;
    if (c->type != jp_csv_type_of_store(B->store)) {
        jp_column_unref(c);
        return NULL;
    }
    c->len = 0;
    /* rarely needed: made again by the chunks that have them */
    jp_free(c->nulls);
    jp_free(c->quals);
    c->nulls = c->quals = NULL;
    if (c->type == JP_TYPE_STRING) {
        /* a fresh dictionary: the batch holds its own strings only */
        jp_strdict_t *d = jp_strdict_new(16);
        if (!d) {
            jp_column_unref(c);
            return NULL;
        }
        jp_strdict_unref(c->dict);
        c->dict = d;
    }
    return c;
}

/* Append builder k's cells of chunk C at row0; hint: the rows expected in
 * all (see col_reserve). */
static jp_status_t bld_append(pass_t *P, size_t k, chunk_t *C, size_t row0, uint64_t hint)
{
    bld_t *B = &P->b[k];
    ccol_t *c = &C->cc[k];
    size_t r = C->rows;
    B->kinds |= c->kinds;
    if (B->store == ST_DEAD || k >= P->nbuilt) return JP_OK; /* checked only: the kinds */
    int to = combine(B->store, c->store, B->kinds);
    if (to == ST_DEAD) {
        jp_column_unref(B->col);
        B->col = NULL;
        B->store = ST_DEAD;
        return JP_OK;
    }
    if (to != B->store) {
        if (B->col && !bld_convert(B, to, row0)) return JP_ERR_NOMEM;
        B->store = to;
    }
    if (!r) return JP_OK;
    /* made when the first rows come: a wide file's many columns cost
       nothing before, and col_reserve sizes it from the estimate at once */
    if (!B->col && !(B->col = bld_take_spare(B)) &&
        !(B->col = jp_column_new(jp_csv_type_of_store(B->store), 16)))
        return JP_ERR_NOMEM;
    jp_column_t *o = B->col;
    if (!col_reserve(o, row0 + r, hint)) return JP_ERR_NOMEM;
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
    case ST_NONE: /* nulls and markers so far: keep the markers' indexes */
    case ST_INT:
        if (from == ST_INT || from == ST_NONE)
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
            uint32_t cnt = c->d->count;
            uint32_t *map = jp_malloc_array(cnt ? cnt : 1, sizeof *map);
            if (!map) return JP_ERR_NOMEM;
            for (uint32_t i = 0; i < cnt; i++) {
                size_t len;
                const char *s = cdict_get(c->d, i, &len);
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
                const char *text = buf;
                if (nb == 3) {
                    text = jp_csv_marker_text((int)c->v[i], &len);
                } else if (nb == 0) {
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
                if (jp_strdict_intern(o->dict, text, len, &code)) return JP_ERR_NOMEM;
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

/* A profile: merge the chunk's kinds and counts; when a column turns
 * text in this chunk, find the cell that did it. */
static void profile_append(pass_t *P, batch_t *B, chunk_t *C)
{
    size_t npending = 0;
    for (size_t k = 0; k < P->n; k++) {
        bld_t *bk = &P->b[k];
        const ccol_t *c = &C->cc[k];
        unsigned before = bk->kinds;
        bk->kinds |= c->kinds;
        bk->n_null += c->n_null;
        bk->n_qempty += c->n_qempty;
        bk->n_marker += c->n_marker;
        bk->n_qual += c->n_qual;
        bk->n_typed += c->n_typed;
        bk->n_text += c->n_text;
        if (P->cs[k].mode == CM_INFER && !bk->explained && !kinds_are_text(before) &&
            kinds_are_text(bk->kinds)) {
            bk->pending = true;
            bk->kinds_seen = before;
            npending++;
        }
    }
    if (npending && jp_csv_explain_text(P, B, C, P->rows, npending))
        for (size_t k = 0; k < P->n; k++) /* not found: cannot happen, but never stay pending */
            if (P->b[k].pending) {
                P->b[k].pending = false;
                P->b[k].explained = true;
            }
}

/* The type a profile gives an inferred column: the verdict the builders
 * reach by widening (jp_csv_bld_finish), from the kinds alone. */
jp_type_t jp_csv_type_of_kinds(unsigned k)
{
    if (kinds_are_text(k)) return JP_TYPE_STRING;
    if (k & (K_DEC | K_BIGX)) return JP_TYPE_NUMBER;
    if (k & (K_INT | K_INTWIDE)) return (k & K_SPECIAL) ? JP_TYPE_NUMBER : JP_TYPE_INT;
    if (k & K_BOOL) return JP_TYPE_BOOL;
    if (k & K_DATE) return JP_TYPE_DATE;
    return JP_TYPE_STRING; /* nothing but nulls, or only nan/inf */
}

/* Keep only the selected rows of a chunk (P->sel), in place: the chunk's
 * kinds still describe every cell, so types come out as for the whole
 * column.  Returns the rows kept. */
static size_t select_rows(pass_t *P, chunk_t *C)
{
    size_t first = P->seen, r = C->rows, kept = 0;
    P->seen += r;
    while (P->seli < P->nsel && P->sel[P->seli] < first + r) {
        size_t i = P->sel[P->seli++] - first; /* >= 0: the selection ascends */
        for (size_t k = 0; k < C->ncc; k++) {
            /* (a column no longer read in this pass may have fewer slots:
               only what the chunk holds is moved, kept <= i) */
            ccol_t *c = &C->cc[k];
            if (c->store == ST_PERIOD && c->p && i < c->vcap)
                c->p[kept] = c->p[i];
            else if (c->store != ST_PERIOD && c->store != ST_PROFILE && c->v && i < c->vcap)
                c->v[kept] = c->v[i];
            if (c->has_nulls && c->nulls && i < c->ncap) c->nulls[kept] = c->nulls[i];
            if (c->has_quals && c->quals && i < c->qcap) c->quals[kept] = c->quals[i];
        }
        kept++;
    }
    C->rows = kept;
    return kept;
}

/* Streaming with offsets: the chunk's record starts as text offsets. */
static jp_status_t offsets_append(pass_t *P, const batch_t *B, const chunk_t *C, uint64_t hint)
{
    size_t row0 = P->rows - P->base;
    if (!P->offs && !(P->offs = jp_column_new(JP_TYPE_INT, (size_t)hint + 16))) return JP_ERR_NOMEM;
    if (jp_column_reserve(P->offs, row0 + C->rows)) return JP_ERR_NOMEM;
    int64_t *v = P->offs->v.i + row0;
    for (size_t i = 0; i < C->rows; i++) v[i] = (int64_t)(B->off + C->roff[i]);
    P->offs->len = row0 + C->rows;
    return JP_OK;
}

jp_status_t jp_csv_append_batch(pass_t *P, batch_t *B, jp_error_t *err)
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
    uint64_t hint = P->total_hint;
    if (P->emit && !P->sel) {
        /* streaming: the batch's columns sized for its rows in one step,
           not grown (and copied) chunk after chunk */
        hint = P->rows - P->base;
        for (size_t j = 0; j < B->nch; j++) hint += B->ch[j].rows;
    }
    for (size_t j = 0; j < B->nch; j++) {
        chunk_t *C = &B->ch[j];
        if (P->sel && C->rows && !P->profile) {
            /* a selection: the kept rows only, and no lines (the caller
               knows the rows it asked for) */
            size_t kept = select_rows(P, C);
            /* with no row kept, this still merges the kinds and widens the
               store: types see every cell */
            for (size_t k = 0; k < P->n; k++)
                if (bld_append(P, k, C, P->rows - P->base, hint))
                    return jp_error_set(err, JP_ERR_NOMEM, "out of memory building columns");
            P->rows += kept;
            continue;
        }
        /* a chunk without rows may hold the columns of an earlier batch */
        if (C->rows && P->profile) {
            profile_append(P, B, C);
        } else if (C->rows) {
            for (size_t k = 0; k < P->n; k++)
                if (bld_append(P, k, C, P->rows - P->base, hint))
                    return jp_error_set(err, JP_ERR_NOMEM, "out of memory building columns");
            if (P->offsets && offsets_append(P, B, C, hint))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory building columns");
        }
        if (P->elines && C->rows) {
            /* streaming: the batch's rows' lines */
            size_t at = P->rows - P->base;
            if (jp_column_reserve(P->elines, at + C->rows))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < C->rows; i++)
                P->elines->v.i[at + i] =
                    C->line0 + (long)(C->irregular ? C->rline[i] : (uint32_t)i);
            jp_column_set_len(P->elines, at + C->rows);
        }
        if (C->irregular && !P->lines && !P->emit && P->lay->data_line > 0) {
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
    size_t rows_read = P->sel ? P->seen : P->rows;
    if (rows_read) {
        size_t rb = (size_t)(P->bytes_done / rows_read);
        P->row_bytes = rb ? rb : 1;
    }
    /* text and dead columns need not be inferred any more (a profile
       infers to the end: it counts nulls in text columns too) */
    for (size_t k = 0; k < P->n && !P->profile; k++) {
        if (P->cs[k].mode != CM_INFER) continue;
        if (k >= P->nbuilt) { /* checked only: text needs its UTF-8 checked, no more */
            if (kinds_are_text(P->b[k].kinds)) P->mode[k] = CM_CHECK;
            continue;
        }
        if (P->b[k].store == ST_DEAD)
            P->mode[k] = CM_CHECK;
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
jp_status_t jp_csv_bld_finish(pass_t *P, size_t k, jp_column_t **out, bool *dead)
{
    bld_t *B = &P->b[k];
    size_t len = P->rows - P->base;
    *out = NULL;
    *dead = false;
    if (B->store == ST_NUM && P->cs[k].mode == CM_INFER &&
        !(B->kinds & (K_INT | K_INTWIDE | K_DEC | K_BIGX))) {
        /* inferred from only nan/inf: that is text (a number field is
           numbers, whatever its cells) */
        jp_column_unref(B->col);
        B->col = NULL;
        B->store = ST_DEAD;
    }
    if (B->store == ST_DEAD) {
        *dead = true;
        return JP_OK;
    }
    if (!B->col) {
        B->col = jp_column_new(jp_csv_type_of_store(B->store), len + 1);
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
            if (c->nulls[i] >= 2) c->nulls[i] = 1; /* "" and markers: null in a typed column */
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
