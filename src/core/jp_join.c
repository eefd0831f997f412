/*
 * jp_join.c - hash joins (inner, left, anti, semi) on one or more keys.
 *
 * The right dataset is built into a hash table of key tuples, each with
 * the chain of its right rows in order; the left rows probe it in order,
 * so the output keeps the left order and, within one left row, the right
 * order.  Keys are compared as normalised 64-bit values: strings of the
 * left dictionary are translated once per distinct string into codes of
 * the right one (absent strings cannot match), integer and number keys as
 * doubles.  Rows with a null key never match.
 *
 * Owns: jp_join.  Must never: modify either input.
 */
#include <stdio.h>
#include <string.h>
#include "jp_keys.h"
#include "jp_mem.h"
#include "jp_plan.h"
#include "jp_verbs.h"

bool jp_join_from_name(const char *name, jp_join_how_t *out)
{
    static const char *const names[] = {"inner", "left", "anti", "semi"};
    for (int k = 0; k < 4; k++)
        if (strcmp(names[k], name) == 0) {
            *out = (jp_join_how_t)k;
            return true;
        }
    return false;
}

typedef struct side {
    jp_column_t *const *cols;
    size_t nkeys, nrows;
} side_t;

typedef struct growbuf {
    size_t *a;
    size_t n, cap;
} growbuf_t;

static jp_status_t gb_push(growbuf_t *g, size_t v)
{
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 1024;
        size_t *a = jp_realloc_array(g->a, nc, sizeof *a);
        if (!a) return JP_ERR_NOMEM;
        g->a = a;
        g->cap = nc;
    }
    g->a[g->n++] = v;
    return JP_OK;
}

/* Key value of a right row; false when a key is null. */
static bool right_key(const side_t *r, const bool *as_num, size_t i, uint64_t *v, uint64_t *h)
{
    uint64_t hh = 0x7a3;
    for (size_t k = 0; k < r->nkeys; k++) {
        const jp_column_t *c = r->cols[k];
        if (jp_column_is_null(c, i)) return false;
        v[k] = jp_key_value(c, i, as_num[k]);
        hh = jp_key_mix(hh, v[k]);
    }
    *h = hh;
    return true;
}

jp_dataset_t *jp_join(jp_dataset_t *left, jp_dataset_t *right, const char *const *left_keys,
                      const char *const *right_keys, size_t nkeys, jp_join_how_t how,
                      const char *suffix, jp_error_t *err)
{
    if (!right_keys) right_keys = left_keys;
    if (!suffix) suffix = "_right";
    if (nkeys == 0) {
        jp_error_set(err, JP_ERR_ARG, "join: no key fields");
        return NULL;
    }
    long *li = jp_malloc_array(nkeys, sizeof *li), *ri = jp_malloc_array(nkeys, sizeof *ri);
    jp_column_t **lc = jp_malloc_array(nkeys, sizeof *lc),
                **rc = jp_malloc_array(nkeys, sizeof *rc);
    bool *as_num = jp_calloc(nkeys, sizeof *as_num);
    uint32_t **smap = jp_calloc(nkeys, sizeof *smap); /* left code -> right code + 1, 0 unknown */
    uint8_t **sknown = jp_calloc(nkeys, sizeof *sknown);
    uint64_t *rv = NULL, *rh = NULL, *tv = NULL;
    size_t *head = NULL, *tail = NULL, *next = NULL, *slots = NULL;
    growbuf_t lo = {0}, ro = {0};
    jp_dataset_t *out = NULL;
    jp_status_t st;
    if (!li || !ri || !lc || !rc || !as_num || !smap || !sknown) goto nomem;
    for (size_t k = 0; k < nkeys; k++) {
        if (jp_dataset_lookup(left, left_keys[k], "join", &li[k], err)) goto done;
        if (jp_dataset_lookup(right, right_keys[k], "join (right dataset)", &ri[k], err)) goto done;
    }
    if (jp_dataset_need_all(left, err) || jp_dataset_need_all(right, err)) goto done;
    for (size_t k = 0; k < nkeys; k++) {
        lc[k] = left->cols[li[k]];
        rc[k] = right->cols[ri[k]];
        jp_type_t a = lc[k]->type, b = rc[k]->type;
        if (a != b) {
            if (jp_type_is_numeric(a) && jp_type_is_numeric(b))
                as_num[k] = true;
            else {
                if (strcmp(left_keys[k], right_keys[k]) == 0)
                    jp_error_set(err, JP_ERR_TYPE,
                                 "join: key '%s' is %s in the left dataset but %s in the right",
                                 left_keys[k], jp_type_name(a), jp_type_name(b));
                else
                    jp_error_set(err, JP_ERR_TYPE,
                                 "join: key '%s' is %s in the left dataset but key '%s' is %s in "
                                 "the right",
                                 left_keys[k], jp_type_name(a), right_keys[k], jp_type_name(b));
                jp_error_field(err, left_keys[k]);
                goto done;
            }
        }
        if (a == JP_TYPE_STRING && lc[k]->dict != rc[k]->dict) {
            size_t dn = lc[k]->dict->count ? lc[k]->dict->count : 1;
            if (!(smap[k] = jp_calloc(dn, sizeof **smap)) || !(sknown[k] = jp_calloc(dn, 1)))
                goto nomem;
        }
    }
    /* build: right key tuples -> chains of right rows */
    side_t R = {rc, nkeys, right->nrows};
    size_t nr = right->nrows;
    rv = jp_malloc_array((nr ? nr : 1) * nkeys, sizeof *rv);
    rh = jp_malloc_array(nr ? nr : 1, sizeof *rh);
    tv = jp_malloc_array(nkeys, sizeof *tv);
    head = jp_malloc_array(nr ? nr : 1, sizeof *head); /* per distinct tuple: first row */
    tail = jp_malloc_array(nr ? nr : 1, sizeof *tail);
    next = jp_malloc_array(nr ? nr : 1, sizeof *next);
    size_t mask = 15;
    while (mask + 1 < nr * 2) mask = mask * 2 + 1;
    slots = jp_malloc_array(mask + 1, sizeof *slots); /* tuple index + 1, 0 empty */
    if (!rv || !rh || !tv || !head || !tail || !next || !slots) goto nomem;
    memset(slots, 0, (mask + 1) * sizeof *slots);
    size_t ntup = 0;
    for (size_t i = 0; i < nr; i++) {
        next[i] = JP_NO_ROW;
        uint64_t h;
        if (!right_key(&R, as_num, i, rv + i * nkeys, &h)) continue;
        rh[i] = h;
        size_t j = h & mask;
        for (;;) {
            size_t s = slots[j];
            if (!s) {
                head[ntup] = tail[ntup] = i;
                slots[j] = ++ntup;
                break;
            }
            size_t r0 = head[s - 1];
            if (rh[r0] == h && memcmp(rv + r0 * nkeys, rv + i * nkeys, nkeys * sizeof *rv) == 0) {
                bool eq = true;
                for (size_t k = 0; k < nkeys && eq; k++)
                    if (rc[k]->type == JP_TYPE_PERIOD)
                        eq = jp_period_eq(&rc[k]->v.p[r0], &rc[k]->v.p[i]);
                if (eq) {
                    next[tail[s - 1]] = i;
                    tail[s - 1] = i;
                    break;
                }
            }
            j = (j + 1) & mask;
        }
    }
    /* probe with the left rows, in order */
    for (size_t i = 0; i < left->nrows; i++) {
        uint64_t h = 0x7a3;
        bool ok = true;
        for (size_t k = 0; k < nkeys && ok; k++) {
            const jp_column_t *c = lc[k];
            if (jp_column_is_null(c, i)) {
                ok = false;
                break;
            }
            if (smap[k]) {
                uint32_t code = c->v.s[i];
                if (!sknown[k][code]) {
                    size_t len;
                    const char *s = jp_strdict_get(c->dict, code, &len);
                    uint32_t rcode;
                    smap[k][code] = jp_strdict_find(rc[k]->dict, s, len, &rcode) ? rcode + 1 : 0;
                    sknown[k][code] = 1;
                }
                if (!smap[k][code]) {
                    ok = false;
                    break;
                }
                tv[k] = smap[k][code] - 1;
            } else
                tv[k] = jp_key_value(c, i, as_num[k]);
            h = jp_key_mix(h, tv[k]);
        }
        size_t match = JP_NO_ROW;
        if (ok && nr) {
            size_t j = h & mask;
            for (;;) {
                size_t s = slots[j];
                if (!s) break;
                size_t r0 = head[s - 1];
                if (rh[r0] == h && memcmp(rv + r0 * nkeys, tv, nkeys * sizeof *tv) == 0) {
                    bool eq = true;
                    for (size_t k = 0; k < nkeys && eq; k++)
                        if (lc[k]->type == JP_TYPE_PERIOD)
                            eq = jp_period_eq(&lc[k]->v.p[i], &rc[k]->v.p[r0]);
                    if (eq) {
                        match = r0;
                        break;
                    }
                }
                j = (j + 1) & mask;
            }
        }
        switch (how) {
        case JP_JOIN_ANTI:
            if (match == JP_NO_ROW && gb_push(&lo, i)) goto nomem;
            break;
        case JP_JOIN_SEMI:
            if (match != JP_NO_ROW && gb_push(&lo, i)) goto nomem;
            break;
        default:
            if (match == JP_NO_ROW) {
                if (how == JP_JOIN_LEFT && (gb_push(&lo, i) || gb_push(&ro, JP_NO_ROW))) goto nomem;
                break;
            }
            for (size_t r = match; r != JP_NO_ROW; r = next[r])
                if (gb_push(&lo, i) || gb_push(&ro, r)) goto nomem;
        }
    }
    /* the output: left fields over the chosen left rows, then right fields */
    out = jp_plan_gather(left, lo.a ? lo.a : (size_t[]){0}, lo.n, err);
    if (!out) goto done;
    if (how == JP_JOIN_INNER || how == JP_JOIN_LEFT) {
        for (size_t f = 0; f < right->schema.n_fields; f++) {
            bool is_key = false;
            for (size_t k = 0; k < nkeys; k++) is_key |= ri[k] == (long)f;
            if (is_key) continue;
            jp_field_t fd;
            if (jp_field_copy(&fd, &right->schema.fields[f])) goto nomem_out;
            while (jp_dataset_find(out, fd.name) >= 0) {
                size_t ln = strlen(fd.name) + strlen(suffix) + 1;
                char *nm = jp_malloc(ln);
                if (!nm) {
                    jp_field_free(&fd);
                    goto nomem_out;
                }
                snprintf(nm, ln, "%s%s", fd.name, suffix);
                jp_free(fd.name);
                fd.name = nm;
            }
            jp_column_t *c = jp_column_gather(right->cols[f], ro.a ? ro.a : (size_t[]){0}, ro.n);
            if (!c) {
                jp_field_free(&fd);
                goto nomem_out;
            }
            st = jp_dataset_add_column(out, &fd, c, err);
            jp_field_free(&fd);
            if (st) {
                jp_dataset_unref(out);
                out = NULL;
                goto done;
            }
        }
    }
    goto done;
nomem_out:
    jp_dataset_unref(out);
    out = NULL;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
done:
    if (smap && sknown)
        for (size_t k = 0; k < nkeys; k++) {
            jp_free(smap[k]);
            jp_free(sknown[k]);
        }
    jp_free(smap);
    jp_free(sknown);
    jp_free(li);
    jp_free(ri);
    jp_free(lc);
    jp_free(rc);
    jp_free(as_num);
    jp_free(rv);
    jp_free(rh);
    jp_free(tv);
    jp_free(head);
    jp_free(tail);
    jp_free(next);
    jp_free(slots);
    jp_free(lo.a);
    jp_free(ro.a);
    return out;
}
