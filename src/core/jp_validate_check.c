/*
 * jp_validate_check.c - the checks that run in C over typed columns:
 * constraints, types, per-row units, primary and foreign keys.
 *
 * Owns the speed of validation: every check is one pass over the column
 * arrays; string work (patterns, lengths, enum membership, parsing) is done
 * once per distinct dictionary entry, not once per row; keys are compared
 * by hashing.  Never changes the dataset; never prints.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_regex.h"
#include "jp_suggest.h"
#include "jp_unit.h"
#include "jp_validate.h"
#include "jp_validate_int.h"

#define NOMEM(err) jp_error_set(err, JP_ERR_NOMEM, "out of memory")
/* A check that failed ran out of memory or was stopped (jp_limit.h). */
#define FAILED(err) (jp_stop_pending() ? jp_stop_check(err) : NOMEM(err))

/* ---- hashing rows ------------------------------------------------------------ */

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

/* Equal cells hash equally, across dictionaries and between INT and an
 * integral NUMBER (so that keys of those types can refer to each other). */
static uint64_t cell_hash(const jp_column_t *c, size_t i)
{
    if (jp_column_is_null(c, i)) return 0x6e756c6cULL;
    return jp_type_info(c->type)->hash(c, i);
}

static uint64_t row_hash(const jp_column_t *const *cols, size_t n, size_t i)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t k = 0; k < n; k++) h = mix(h ^ cell_hash(cols[k], i)) + k;
    return h;
}

static bool rows_equal(const jp_column_t *const *a, size_t i, const jp_column_t *const *b, size_t j,
                       size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (jp_column_cmp_cells(a[k], i, b[k], j) != 0) return false;
    return true;
}

/* Open addressing over row numbers of `cols`: each slot holds row + 1 (0 =
 * empty) and 32 bits of the row's hash, 8 bytes in all, so that a probe
 * touches one cache line and compares cells only when the bits agree. */
typedef struct keyslot {
    uint32_t row1;
    uint32_t tag;
} keyslot_t;

typedef struct keyset {
    const jp_column_t *const *cols;
    size_t n;
    keyslot_t *slots;
    size_t mask;
} keyset_t;

static jp_status_t keyset_init(keyset_t *ks, const jp_column_t *const *cols, size_t n, size_t rows)
{
    ks->slots = NULL;
    if (rows >= UINT32_MAX) return JP_ERR_LIMIT;
    size_t cap = 16;
    while (cap < rows * 2) cap <<= 1;
    ks->cols = cols;
    ks->n = n;
    ks->mask = cap - 1;
    ks->slots = jp_calloc(cap, sizeof *ks->slots);
    return ks->slots ? JP_OK : JP_ERR_NOMEM;
}

static void keyset_free(keyset_t *ks)
{
    jp_free(ks->slots);
}

/* The row of ks equal to row i of `cols`, or JP_NO_ROW. With insert, row i
 * (of ks's own columns) is added when absent. */
static size_t keyset_find(keyset_t *ks, const jp_column_t *const *cols, size_t i, bool insert)
{
    uint64_t h = row_hash(cols, ks->n, i);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t s = (size_t)h & ks->mask;
    while (ks->slots[s].row1) {
        size_t row = ks->slots[s].row1 - 1;
        if (ks->slots[s].tag == tag && rows_equal(ks->cols, row, cols, i, ks->n)) return row;
        s = (s + 1) & ks->mask;
    }
    if (insert) {
        ks->slots[s].row1 = (uint32_t)(i + 1);
        ks->slots[s].tag = tag;
    }
    return JP_NO_ROW;
}

/* ---- keys carried over a stream's batches -------------------------------------- */

/* A rule's distinct key values over the batches so far (held columns of
 * the key fields' types), each with the stream row and line where it came
 * first, found by the same hashing as keyset_t. */
struct jpv_keys {
    jp_column_t **held;
    size_t n;
    size_t *first; /* ascending: values are added in row order */
    long *line;
    size_t count, cap;
    keyslot_t *slots;
    size_t mask;
};

static void jpv_keys_free_one(jpv_keys_t *k)
{
    if (!k) return;
    for (size_t j = 0; j < k->n; j++) jp_column_unref(k->held[j]);
    jp_free(k->held);
    jp_free(k->first);
    jp_free(k->line);
    jp_free(k->slots);
    jp_free(k);
}

void jpv_carry_clear(jpv_carry_t *c)
{
    for (size_t k = 0; k < c->n_keys; k++) jpv_keys_free_one(c->keys[k]);
    jp_free(c->keys);
    c->keys = NULL;
    c->n_keys = 0;
    c->row0 = 0;
    c->refused = false;
}

long jpv_carry_line(const jpv_carry_t *c, uint32_t rule, size_t row)
{
    const jpv_keys_t *k = rule < c->n_keys ? c->keys[rule] : NULL;
    if (!k) return 0;
    size_t lo = 0, hi = k->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->first[mid] < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k->count && k->first[lo] == row ? k->line[lo] : 0;
}

/* Rule id's carried keys, made on first use with columns like cols[0..n). */
static jpv_keys_t *carry_keys(jp_report_t *r, uint32_t id, const jp_column_t *const *cols, size_t n)
{
    jpv_carry_t *c = r->carry;
    if (id >= c->n_keys) {
        jpv_keys_t **nk = jp_realloc_array(c->keys, (size_t)id + 1, sizeof *nk);
        if (!nk) return NULL;
        for (size_t k = c->n_keys; k <= id; k++) nk[k] = NULL;
        c->keys = nk;
        c->n_keys = (size_t)id + 1;
    }
    if (c->keys[id]) return c->keys[id];
    jpv_keys_t *k = jp_calloc(1, sizeof *k);
    if (!k || !(k->held = jp_calloc(n ? n : 1, sizeof *k->held))) {
        jp_free(k);
        return NULL;
    }
    k->n = n;
    for (size_t j = 0; j < n; j++)
        if (!(k->held[j] = jp_column_new(cols[j]->type, 16))) {
            jpv_keys_free_one(k);
            return NULL;
        }
    c->keys[id] = k;
    return k;
}

static jp_status_t keys_grow(jpv_keys_t *k)
{
    size_t cap = k->cap ? k->cap * 2 : 64;
    size_t *f = jp_realloc_array(k->first, cap, sizeof *f);
    if (!f) return JP_ERR_NOMEM;
    k->first = f;
    long *l = jp_realloc_array(k->line, cap, sizeof *l);
    if (!l) return JP_ERR_NOMEM;
    k->line = l;
    if (cap >= UINT32_MAX) return JP_ERR_LIMIT;
    keyslot_t *slots = jp_calloc(cap * 2, sizeof *slots);
    if (!slots) return JP_ERR_NOMEM;
    size_t mask = cap * 2 - 1;
    const jp_column_t *const *held = (const jp_column_t *const *)k->held;
    for (size_t h = 0; h < k->count; h++) {
        uint64_t hv = row_hash(held, k->n, h);
        size_t s = (size_t)hv & mask;
        while (slots[s].row1) s = (s + 1) & mask;
        slots[s].row1 = (uint32_t)(h + 1);
        slots[s].tag = (uint32_t)(hv >> 32);
    }
    jp_free(k->slots);
    k->slots = slots;
    k->mask = mask;
    k->cap = cap;
    return JP_OK;
}

/* Row i of cols (stream row `row`, line `line`) against the values before:
 * *first is the stream row of the first equal one, or JP_NO_ROW after the
 * value is added. */
static jp_status_t keys_find(jpv_keys_t *k, const jp_column_t *const *cols, size_t i, size_t row,
                             long line, size_t *first)
{
    *first = JP_NO_ROW;
    if (k->count == k->cap) {
        jp_status_t st = keys_grow(k);
        if (st) return st;
    }
    const jp_column_t *const *held = (const jp_column_t *const *)k->held;
    uint64_t h = row_hash(cols, k->n, i);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t s = (size_t)h & k->mask;
    while (k->slots[s].row1) {
        size_t hr = k->slots[s].row1 - 1;
        if (k->slots[s].tag == tag && rows_equal(held, hr, cols, i, k->n)) {
            *first = k->first[hr];
            return JP_OK;
        }
        s = (s + 1) & k->mask;
    }
    for (size_t j = 0; j < k->n; j++) {
        jp_value_t v;
        jp_column_get(cols[j], i, &v);
        if (jp_column_push_value(k->held[j], &v, NULL) != JP_OK) return JP_ERR_NOMEM;
    }
    k->first[k->count] = row;
    k->line[k->count] = line;
    k->slots[s].row1 = (uint32_t)(k->count + 1);
    k->slots[s].tag = tag;
    k->count++;
    return JP_OK;
}

/* Row i of a batch against rule id's values of the batches before and of
 * this one's earlier rows: *first as keys_find. */
static jp_status_t carry_find(jp_report_t *r, uint32_t id, const jp_column_t *const *cols, size_t n,
                              size_t i, size_t *first)
{
    jpv_keys_t *k = carry_keys(r, id, cols, n);
    if (!k) return JP_ERR_NOMEM;
    return keys_find(k, cols, i, r->carry->row0 + i, jp_dataset_row_line(r->ds, i), first);
}

/* ---- helpers ------------------------------------------------------------------ */

/* A bound as a message shows it: strings quoted. */
static jp_status_t value_text(jp_buf_t *out, const jp_value_t *v)
{
    if (v->is_null) return jp_buf_puts(out, "null");
    if (v->type <= JP_TYPE_NONE || v->type >= JP_TYPE_COUNT) return jp_buf_puts(out, "?");
    char buf[96];
    const char *p;
    size_t n = jp_type_info(v->type)->text(v, buf, sizeof buf, &p);
    bool quote = v->type == JP_TYPE_STRING;
    if ((quote && jp_buf_putc(out, '\'')) || jp_buf_append(out, p, n) ||
        (quote && jp_buf_putc(out, '\'')))
        return JP_ERR_NOMEM;
    return JP_OK;
}

static jp_status_t set_bound(jp_report_t *r, uint32_t id, const char *text)
{
    char *b = jp_strdup(text);
    if (!b) return JP_ERR_NOMEM;
    jp_free(r->rules[id].bound);
    r->rules[id].bound = b;
    return JP_OK;
}

static jp_status_t set_cols(jp_report_t *r, uint32_t id, const long *cols, size_t n)
{
    jp_rule_info_t *ri = &r->rules[id];
    jp_free(ri->cols);
    ri->cols = NULL;
    ri->n_cols = 0;
    if (!n) return JP_OK;
    ri->cols = jp_malloc_array(n, sizeof *ri->cols);
    if (!ri->cols) return JP_ERR_NOMEM;
    memcpy(ri->cols, cols, n * sizeof *cols);
    ri->n_cols = n;
    return JP_OK;
}

static bool types_compatible(jp_type_t a, jp_type_t b)
{
    return a == b || (jp_type_is_numeric(a) && jp_type_is_numeric(b));
}

/* Mark rule id broken: no field `name` in ds (with "did you mean"). */
static jp_status_t no_field(jp_report_t *r, uint32_t id, const jp_dataset_t *ds, const char *dsname,
                            const char *name)
{
    const char *near = jp_schema_suggest(&ds->schema, name);
    return jpv_broken(r, id, "no field '%s' in dataset '%s'%s%s%s", name, dsname,
                      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

/* ---- qualifiers against bounds ------------------------------------------------ */

enum { PASS = 0, FAIL = 1, DOUBT = 2 };

/*
 * cmp: the printed value against the bound (-1, 0, 1).  The true value x
 * of a figure printed v is: exact x = v; approx |x - v| <= tol |v|;
 * at_least x >= v; more_than x > v; at_most x <= v; less_than x < v.
 * FAIL when every such x breaks the bound, DOUBT when the printed value
 * breaks it but some x would not, PASS when the printed value keeps it.
 */
static int judge(bool is_min, int cmp, jp_qual_t q, double v, double bound, double tol)
{
    if (is_min) {
        if (cmp >= 0) return cmp == 0 && q == JP_Q_LESS_THAN ? FAIL : PASS;
        switch (q) {
        case JP_Q_EXACT:
        case JP_Q_AT_MOST:
        case JP_Q_LESS_THAN:
            return FAIL;
        case JP_Q_APPROX:
            return v + tol * fabs(v) < bound ? FAIL : DOUBT;
        default:
            return DOUBT; /* at_least / more_than: the truth may lie above */
        }
    }
    if (cmp <= 0) return cmp == 0 && q == JP_Q_MORE_THAN ? FAIL : PASS;
    switch (q) {
    case JP_Q_EXACT:
    case JP_Q_AT_LEAST:
    case JP_Q_MORE_THAN:
        return FAIL;
    case JP_Q_APPROX:
        return v - tol * fabs(v) > bound ? FAIL : DOUBT;
    default:
        return DOUBT; /* at_most / less_than: the truth may lie below */
    }
}

/* A bound given as text for a date or period field (or any bound already of
 * the field's type) as a value of the field's type. */
static bool coerce_bound(const jp_value_t *b, jp_type_t t, jp_value_t *out)
{
    *out = *b;
    if (b->is_null) return false;
    if (types_compatible(b->type, t)) return true;
    if (b->type != JP_TYPE_STRING) return false;
    out->type = t;
    out->is_null = false;
    if (t == JP_TYPE_DATE) return jp_date_parse(b->u.s.ptr, b->u.s.len, &out->u.date);
    if (t == JP_TYPE_PERIOD) return jp_period_parse(b->u.s.ptr, b->u.s.len, &out->u.period, NULL);
    if (jp_type_is_numeric(t)) {
        out->type = JP_TYPE_NUMBER;
        return jp_parse_double(b->u.s.ptr, b->u.s.len, &out->u.d);
    }
    return false;
}

static int cmp3(double a, double b)
{
    return a < b ? -1 : a > b;
}

/*
 * A numeric bound on a text column (a CSV column read as text because of one
 * odd cell): every distinct text is read once as a printed figure ("12",
 * "约7696", "3.78万元以上") and judged like a number, qualifier and all; a
 * text that is not a figure fails the bound with a message saying so.
 * Texts are never compared with a number as strings ("3" above "10").
 */
static jp_status_t chk_bound_text(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask,
                                  double bd, bool is_min)
{
    const jp_column_t *c = r->ds->cols[fi];
    const char *unit = r->ds->schema.fields[fi].unit;
    const char *what = is_min ? "minimum" : "maximum";
    const char *bound = r->rules[id].bound ? r->rules[id].bound : "?";
    size_t nd = c->dict->count ? c->dict->count : 1;
    /* per distinct text: 0 unread, 1 passes, 2 fails, 3 doubtful; msg handle */
    uint8_t *state = jp_calloc(nd, 1);
    size_t *msg = jp_calloc(nd, sizeof *msg);
    jp_buf_t b = JP_BUF_INIT;
    if (!state || !msg) {
        jp_free(state);
        jp_free(msg);
        return JP_ERR_NOMEM;
    }
    size_t n = r->ds->nrows, checked = 0;
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        uint32_t code = c->v.s[i];
        if (!state[code]) {
            size_t len;
            const char *s = jp_strdict_get(c->dict, code, &len);
            jp_quantity_t q;
            jp_unit_conv_t cv;
            bool ok = jp_quantity_parse(s, len, &q, NULL);
            bool conv =
                ok && q.unit[0] && unit && jp_unit_conversion(q.unit, unit, &cv, NULL) == JP_OK;
            jp_buf_reset(&b);
            int sl = (int)(len > 60 ? 60 : len);
            if (!ok || isnan(q.value) || (ok && q.unit[0] && unit && !conv)) {
                state[code] = FAIL + 1;
                if (ok && !isnan(q.value))
                    st = jp_buf_printf(&b,
                                       "'%.*s' is in %s, which does not convert to %s: it "
                                       "cannot be checked against the %s %s",
                                       sl, s, q.unit, unit, what, bound);
                else
                    st = jp_buf_printf(&b,
                                       "'%.*s' is not a number: it cannot be checked against "
                                       "the %s %s",
                                       sl, s, what, bound);
            } else {
                double v = conv ? jp_unit_apply(&cv, q.value) : q.value;
                int res = judge(is_min, cmp3(v, bd), q.qual, v, bd, r->approx_tolerance);
                state[code] = res == PASS ? 1 : res == FAIL ? FAIL + 1 : DOUBT + 1;
                if (res != PASS && q.qual != JP_Q_EXACT)
                    st = jp_buf_printf(&b, "'%.*s' is %s the %s %s %s", sl, s,
                                       is_min ? "below" : "above", what, bound,
                                       res == FAIL ? "whatever its exact value"
                                                   : "as printed (the true value may still be "
                                                     "within it)");
                if (res != PASS && q.qual != JP_Q_EXACT && st == JP_OK)
                    st = jp_buf_printf(&b, " (%s)", jp_qual_name(q.qual));
            }
            if (st == JP_OK && b.len) st = jpv_text(r, b.data, &msg[code]);
        }
        if (state[code] != 1 && st == JP_OK)
            st = jpv_issue(r, id, i, fi, is_min ? JP_VC_MINIMUM : JP_VC_MAXIMUM,
                           state[code] == DOUBT + 1, JP_NO_ROW, msg[code]);
    }
    jp_buf_free(&b);
    jp_free(state);
    jp_free(msg);
    jp_report_checked(r, id, checked);
    return st;
}

static jp_status_t chk_bound(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask,
                             const jp_value_t *bound, bool is_min)
{
    const jp_column_t *c = r->ds->cols[fi];
    const char *fname = r->ds->schema.fields[fi].name;
    const char *what = is_min ? "minimum" : "maximum";
    jp_value_t b;
    if (c->type == JP_TYPE_BOOL)
        return jpv_broken(r, id, "%s does not apply to the boolean field '%s'", what, fname);
    if (c->type == JP_TYPE_STRING && !bound->is_null && jp_type_is_numeric(bound->type))
        return chk_bound_text(r, id, fi, mask,
                              bound->type == JP_TYPE_INT ? (double)bound->u.i : bound->u.d, is_min);
    if (!coerce_bound(bound, c->type, &b)) {
        jp_buf_t t = JP_BUF_INIT;
        jp_status_t st = value_text(&t, bound);
        if (st == JP_OK)
            st = jpv_broken(r, id, "%s %s is not a %s, the type of field '%s'", what,
                            t.data ? t.data : "?", jp_type_name(c->type), fname);
        jp_buf_free(&t);
        return st;
    }
    size_t n = r->ds->nrows, checked = 0;
    double tol = r->approx_tolerance;
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        int res = PASS;
        switch (c->type) {
        case JP_TYPE_INT:
        case JP_TYPE_NUMBER: {
            double v = c->type == JP_TYPE_INT ? (double)c->v.i[i] : c->v.d[i];
            double bd = b.type == JP_TYPE_INT ? (double)b.u.i : b.u.d;
            int cmp;
            if (c->type == JP_TYPE_INT && b.type == JP_TYPE_INT)
                cmp = c->v.i[i] < b.u.i ? -1 : c->v.i[i] > b.u.i;
            else
                cmp = cmp3(v, bd);
            if (isnan(v) || isnan(bd))
                res = FAIL;
            else
                res = judge(is_min, cmp, jp_column_qual(c, i), v, bd, tol);
            break;
        }
        case JP_TYPE_DATE: {
            int cmp = c->v.date[i] < b.u.date ? -1 : c->v.date[i] > b.u.date;
            res = is_min ? cmp < 0 : cmp > 0;
            break;
        }
        case JP_TYPE_PERIOD: {
            int cmp = jp_period_cmp(&c->v.p[i], &b.u.period);
            res = is_min ? cmp < 0 : cmp > 0;
            break;
        }
        case JP_TYPE_STRING: {
            size_t len;
            const char *s = jp_column_str(c, i, &len);
            size_t m = len < b.u.s.len ? len : b.u.s.len;
            int cmp = memcmp(s, b.u.s.ptr, m);
            if (!cmp) cmp = len < b.u.s.len ? -1 : len > b.u.s.len;
            res = is_min ? cmp < 0 : cmp > 0;
            break;
        }
        default:
            break;
        }
        if (res != PASS)
            st = jpv_issue(r, id, i, fi, is_min ? JP_VC_MINIMUM : JP_VC_MAXIMUM, res == DOUBT,
                           JP_NO_ROW, 0);
    }
    jp_report_checked(r, id, checked);
    return st;
}

static jp_status_t chk_required(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask)
{
    const jp_column_t *c = r->ds->cols[fi];
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows; i++) {
        if (!jpv_applies(mask, i)) continue;
        checked++;
        if (jp_column_is_null(c, i) && !jpv_untyped(r, fi, i) &&
            jpv_issue(r, id, i, fi, JP_VC_REQUIRED, false, JP_NO_ROW, 0) != JP_OK)
            return JP_ERR_NOMEM;
    }
    jp_report_checked(r, id, checked);
    return JP_OK;
}

/* Integers spanning a range not much wider than the row count (ids,
 * years, codes): a table indexed by value - min finds repeats in one pass.
 * Returns false (nothing done) when the range is too wide. */
static bool int_range_unique(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask,
                             size_t *checked, jp_status_t *st)
{
    const jp_column_t *c = r->ds->cols[fi];
    size_t n = r->ds->nrows;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        if (c->v.i[i] < lo) lo = c->v.i[i];
        if (c->v.i[i] > hi) hi = c->v.i[i];
    }
    if (lo > hi) return false;
    /* the span, without overflowing int64 */
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (n >= UINT32_MAX || span >= (uint64_t)n * 4 + 1024) return false;
    uint32_t *first = jp_calloc((size_t)span + 1, sizeof *first); /* row + 1 */
    if (!first) return false;                                     /* the hash table may still fit */
    *st = JP_OK;
    for (size_t i = 0; i < n && *st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        (*checked)++;
        uint32_t *slot = &first[(uint64_t)c->v.i[i] - (uint64_t)lo];
        if (!*slot)
            *slot = (uint32_t)(i + 1);
        else
            *st = jpv_issue(r, id, i, fi, JP_VC_UNIQUE, false, *slot - 1, 0);
    }
    jp_free(first);
    return true;
}

static jp_status_t chk_unique(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask)
{
    const jp_column_t *c = r->ds->cols[fi];
    size_t n = r->ds->nrows, checked = 0;
    jp_status_t st = JP_OK;
    if (r->carry) {
        /* one batch of a stream: the values of the batches before count */
        const jp_column_t *cols[1] = {c};
        for (size_t i = 0; i < n && st == JP_OK; i++) {
            if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
            checked++;
            size_t prev;
            st = carry_find(r, id, cols, 1, i, &prev);
            if (st == JP_OK && prev != JP_NO_ROW)
                st = jpv_issue(r, id, i, fi, JP_VC_UNIQUE, false, prev, 0);
        }
    } else if (c->type == JP_TYPE_STRING) {
        /* codes are dense: the first row of each code in a flat array */
        size_t *first = jp_malloc_array(c->dict->count ? c->dict->count : 1, sizeof *first);
        if (!first) return JP_ERR_NOMEM;
        for (size_t k = 0; k < c->dict->count; k++) first[k] = JP_NO_ROW;
        for (size_t i = 0; i < n && st == JP_OK; i++) {
            if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
            checked++;
            uint32_t code = c->v.s[i];
            if (first[code] == JP_NO_ROW)
                first[code] = i;
            else
                st = jpv_issue(r, id, i, fi, JP_VC_UNIQUE, false, first[code], 0);
        }
        jp_free(first);
    } else if (c->type == JP_TYPE_INT && int_range_unique(r, id, fi, mask, &checked, &st)) {
        /* done by the direct table */
    } else {
        keyset_t ks;
        const jp_column_t *cols[1] = {c};
        if (keyset_init(&ks, cols, 1, n) != JP_OK) return JP_ERR_NOMEM;
        for (size_t i = 0; i < n && st == JP_OK; i++) {
            if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
            checked++;
            size_t prev = keyset_find(&ks, cols, i, true);
            if (prev != JP_NO_ROW) st = jpv_issue(r, id, i, fi, JP_VC_UNIQUE, false, prev, 0);
        }
        keyset_free(&ks);
    }
    jp_report_checked(r, id, checked);
    return st;
}

/* Length of a cell in characters (text form for non-strings). */
static size_t cell_chars(const jp_column_t *c, size_t i)
{
    char buf[96];
    const char *p;
    size_t n = jp_column_cell_text(c, i, buf, sizeof buf, &p);
    return jp_utf8_length(p, n);
}

static jp_status_t chk_length(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask, long limit,
                              bool is_min)
{
    const jp_column_t *c = r->ds->cols[fi];
    size_t n = r->ds->nrows, checked = 0;
    size_t *lens = NULL;
    if (c->type == JP_TYPE_STRING) {
        lens = jp_malloc_array(c->dict->count ? c->dict->count : 1, sizeof *lens);
        if (!lens) return JP_ERR_NOMEM;
        for (size_t k = 0; k < c->dict->count; k++) lens[k] = (size_t)-1;
    }
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        size_t len;
        if (lens) {
            uint32_t code = c->v.s[i];
            if (lens[code] == (size_t)-1) {
                size_t bl;
                const char *s = jp_strdict_get(c->dict, code, &bl);
                lens[code] = jp_utf8_length(s, bl);
            }
            len = lens[code];
        } else {
            len = cell_chars(c, i);
        }
        if (is_min ? len < (size_t)limit : len > (size_t)limit)
            st = jpv_issue(r, id, i, fi, is_min ? JP_VC_MIN_LENGTH : JP_VC_MAX_LENGTH, false,
                           JP_NO_ROW, 0);
    }
    jp_free(lens);
    jp_report_checked(r, id, checked);
    return st;
}

static jp_status_t chk_pattern(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask,
                               const char *pattern)
{
    const jp_column_t *c = r->ds->cols[fi];
    jp_error_t e;
    jp_error_clear(&e);
    jp_regex_t *re = jp_regex_compile(pattern, &e);
    if (!re) {
        if (e.code == JP_ERR_NOMEM) return JP_ERR_NOMEM;
        return jpv_broken(r, id, "%s", e.msg);
    }
    size_t n = r->ds->nrows, checked = 0;
    uint8_t *state = NULL; /* per code: 0 not seen, 1 matches, 2 does not */
    if (c->type == JP_TYPE_STRING && !(state = jp_calloc(c->dict->count ? c->dict->count : 1, 1))) {
        jp_regex_free(re);
        return JP_ERR_NOMEM;
    }
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < n && st == JP_OK; i++) {
        if (jp_stop_due(i) && (st = jp_stop_check(NULL))) break; /* matching can be slow */
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        bool ok;
        if (state) {
            uint32_t code = c->v.s[i];
            if (!state[code]) {
                size_t len;
                const char *s = jp_strdict_get(c->dict, code, &len);
                state[code] = jp_regex_match(re, s, len) ? 1 : 2;
            }
            ok = state[code] == 1;
        } else {
            char buf[96];
            const char *p;
            size_t len = jp_column_cell_text(c, i, buf, sizeof buf, &p);
            ok = jp_regex_match(re, p, len);
        }
        if (!ok) st = jpv_issue(r, id, i, fi, JP_VC_PATTERN, false, JP_NO_ROW, 0);
    }
    jp_free(state);
    jp_regex_free(re);
    jp_report_checked(r, id, checked);
    return st;
}

static jp_status_t enum_text(jp_buf_t *out, const jp_column_t *e)
{
    jp_status_t st = jp_buf_putc(out, '[');
    for (size_t k = 0; k < e->len && st == JP_OK; k++) {
        if (k == 12) {
            st = jp_buf_printf(out, ", ... (%zu values)", e->len);
            break;
        }
        if (k) st = jp_buf_puts(out, ", ");
        if (st == JP_OK) st = jpv_cell_repr(out, e, k);
    }
    if (st == JP_OK) st = jp_buf_putc(out, ']');
    return st;
}

static jp_status_t chk_enum(jp_report_t *r, uint32_t id, long fi, const uint8_t *mask,
                            const jp_column_t *e)
{
    const jp_column_t *c = r->ds->cols[fi];
    if (!types_compatible(c->type, e->type))
        return jpv_broken(r, id, "enum values are %s, field '%s' is %s", jp_type_name(e->type),
                          r->ds->schema.fields[fi].name, jp_type_name(c->type));
    keyset_t ks;
    const jp_column_t *ecols[1] = {e}, *cols[1] = {c};
    if (keyset_init(&ks, ecols, 1, e->len) != JP_OK) return JP_ERR_NOMEM;
    for (size_t k = 0; k < e->len; k++)
        if (!jp_column_is_null(e, k)) keyset_find(&ks, ecols, k, true);
    uint8_t *state = NULL;
    jp_status_t st = JP_OK;
    if (c->type == JP_TYPE_STRING && !(state = jp_calloc(c->dict->count ? c->dict->count : 1, 1)))
        st = JP_ERR_NOMEM;
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        bool ok;
        if (state) {
            uint32_t code = c->v.s[i];
            if (!state[code]) state[code] = keyset_find(&ks, cols, i, false) != JP_NO_ROW ? 1 : 2;
            ok = state[code] == 1;
        } else {
            ok = keyset_find(&ks, cols, i, false) != JP_NO_ROW;
        }
        if (!ok) st = jpv_issue(r, id, i, fi, JP_VC_ENUM, false, JP_NO_ROW, 0);
    }
    jp_free(state);
    keyset_free(&ks);
    jp_report_checked(r, id, checked);
    return st;
}

/* ---- constraints of a field -------------------------------------------------- */

enum { C_REQUIRED, C_UNIQUE, C_MINIMUM, C_MAXIMUM, C_MINLEN, C_MAXLEN, C_PATTERN, C_ENUM, C_N };
static const char *const cnames[C_N] = {"required",  "unique",    "minimum", "maximum",
                                        "minLength", "maxLength", "pattern", "enum"};

jp_status_t jp_validate_field(jp_report_t *r, const char *field, const jp_constraints_t *c,
                              const jp_rule_opts_t *o, jp_error_t *err)
{
    static const jp_rule_opts_t none = JP_RULE_OPTS_INIT;
    if (!o) o = &none;
    bool set[C_N] = {
        c->required,        c->unique,          c->has_minimum,     c->has_maximum,
        c->min_length >= 0, c->max_length >= 0, c->pattern != NULL, c->enum_values != NULL};
    const char *base = o->name && o->name[0] ? o->name : field;
    long fi = jp_schema_find(&r->ds->schema, field);
    uint32_t ids[C_N];
    jp_rule_opts_t ro = *o;
    ro.name = NULL;
    jp_status_t st = JP_OK;
    jp_buf_t b = JP_BUF_INIT;
    size_t nset = 0;
    for (int k = 0; k < C_N && st == JP_OK; k++) {
        if (!set[k]) continue;
        nset++;
        char defname[300];
        snprintf(defname, sizeof defname, "%s.%s", base, cnames[k]);
        jp_buf_reset(&b);
        st = jp_buf_puts(&b, cnames[k]);
        if (st == JP_OK && k >= C_MINIMUM) st = jp_buf_putc(&b, ' ');
        size_t at = b.len;
        if (st == JP_OK) {
            switch (k) {
            case C_MINIMUM:
                st = value_text(&b, &c->minimum);
                break;
            case C_MAXIMUM:
                st = value_text(&b, &c->maximum);
                break;
            case C_MINLEN:
                st = jp_buf_printf(&b, "%ld", c->min_length);
                break;
            case C_MAXLEN:
                st = jp_buf_printf(&b, "%ld", c->max_length);
                break;
            case C_PATTERN:
                st = jp_buf_puts(&b, c->pattern);
                break;
            case C_ENUM:
                st = enum_text(&b, c->enum_values);
                break;
            default:
                break;
            }
        }
        if (st == JP_OK) st = jpv_rule(r, "constraint", field, b.data, defname, &ro, &ids[k]);
        if (st == JP_OK && k >= C_MINIMUM) st = set_bound(r, ids[k], b.data + at);
    }
    jp_buf_free(&b);
    if (st != JP_OK)
        return st == JP_ERR_ARG ? jp_error_set(err, st, "the report is finished") : NOMEM(err);
    if (!nset) return JP_OK;
    if (fi < 0) {
        for (int k = 0; k < C_N && st == JP_OK; k++)
            if (set[k]) st = no_field(r, ids[k], r->ds, r->name, field);
        return st == JP_OK ? JP_OK : NOMEM(err);
    }
    uint8_t *mask = NULL;
    bool broken = false;
    int first = 0;
    while (!set[first]) first++;
    st = jpv_where(r, ids[first], o->where, &mask, &broken, err);
    if (st != JP_OK) return st;
    if (broken) {
        const char *why = r->rules[ids[first]].message;
        for (int k = first + 1; k < C_N && st == JP_OK; k++)
            if (set[k]) st = jp_report_rule_broken(r, ids[k], why);
        return st == JP_OK ? JP_OK : NOMEM(err);
    }
    for (int k = 0; k < C_N && st == JP_OK; k++) {
        if (!set[k] || (st = jp_stop_check(NULL))) continue;
        switch (k) {
        case C_REQUIRED:
            st = chk_required(r, ids[k], fi, mask);
            break;
        case C_UNIQUE:
            st = chk_unique(r, ids[k], fi, mask);
            break;
        case C_MINIMUM:
            st = chk_bound(r, ids[k], fi, mask, &c->minimum, true);
            break;
        case C_MAXIMUM:
            st = chk_bound(r, ids[k], fi, mask, &c->maximum, false);
            break;
        case C_MINLEN:
            st = chk_length(r, ids[k], fi, mask, c->min_length, true);
            break;
        case C_MAXLEN:
            st = chk_length(r, ids[k], fi, mask, c->max_length, false);
            break;
        case C_PATTERN:
            st = chk_pattern(r, ids[k], fi, mask, c->pattern);
            break;
        case C_ENUM:
            st = chk_enum(r, ids[k], fi, mask, c->enum_values);
            break;
        default:
            break;
        }
    }
    jp_free(mask);
    return st == JP_OK ? JP_OK : FAILED(err);
}

/* ---- types ---------------------------------------------------------------------- */

/* Does text s[0..n) read as a value of type t?  (Figures as printed for
 * numbers; Frictionless' default true/false words for booleans.) */
static bool text_is(const char *s, size_t n, jp_type_t t)
{
    switch (t) {
    case JP_TYPE_INT:
    case JP_TYPE_NUMBER: {
        jp_quantity_t q;
        if (!jp_quantity_parse(s, n, &q, NULL)) return false;
        return t == JP_TYPE_NUMBER || q.is_integer;
    }
    case JP_TYPE_BOOL: {
        static const char *const words[] = {"true",  "True",  "TRUE",  "1",
                                            "false", "False", "FALSE", "0"};
        for (size_t k = 0; k < 8; k++)
            if (strlen(words[k]) == n && !memcmp(words[k], s, n)) return true;
        return false;
    }
    case JP_TYPE_DATE: {
        int32_t d;
        return jp_date_parse(s, n, &d);
    }
    case JP_TYPE_PERIOD: {
        jp_period_t p;
        return jp_period_parse(s, n, &p, NULL);
    }
    default:
        return true;
    }
}

/* Is cell i of c (not a string column) a value of type t? */
static bool cell_is(const jp_column_t *c, size_t i, jp_type_t t)
{
    if (t == JP_TYPE_STRING || c->type == t) return true;
    if (t == JP_TYPE_NUMBER) return c->type == JP_TYPE_INT;
    if (t == JP_TYPE_INT && c->type == JP_TYPE_NUMBER) {
        double d = c->v.d[i];
        return isfinite(d) && d == floor(d) && fabs(d) < 9.2e18;
    }
    if (t == JP_TYPE_PERIOD) return c->type == JP_TYPE_DATE; /* a day is a period */
    return false;
}

jp_status_t jp_validate_type(jp_report_t *r, const char *field, jp_type_t type,
                             const jp_rule_opts_t *o, jp_error_t *err)
{
    char defname[300], detail[64];
    const char *base = o && o->name && o->name[0] ? o->name : field;
    snprintf(defname, sizeof defname, "%s.type", base);
    snprintf(detail, sizeof detail, "type %s", jp_type_name(type));
    jp_rule_opts_t ro = o ? *o : (jp_rule_opts_t)JP_RULE_OPTS_INIT;
    ro.name = NULL;
    uint32_t id;
    if (jpv_rule(r, "type", field, detail, defname, &ro, &id) != JP_OK ||
        set_bound(r, id, jp_type_name(type)) != JP_OK)
        return NOMEM(err);
    long fi = jp_schema_find(&r->ds->schema, field);
    if (fi < 0) return no_field(r, id, r->ds, r->name, field) ? NOMEM(err) : JP_OK;
    if (type == JP_TYPE_NONE) return jpv_broken(r, id, "no type to check") ? NOMEM(err) : JP_OK;
    uint8_t *mask = NULL;
    bool broken = false;
    jp_status_t st = jpv_where(r, id, ro.where, &mask, &broken, err);
    if (st != JP_OK || broken) return st;
    const jp_column_t *c = r->ds->cols[fi];
    uint8_t *state = NULL;
    if (c->type == JP_TYPE_STRING && type != JP_TYPE_STRING &&
        !(state = jp_calloc(c->dict->count ? c->dict->count : 1, 1))) {
        jp_free(mask);
        return NOMEM(err);
    }
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(c, i)) continue;
        checked++;
        bool ok;
        if (state) {
            uint32_t code = c->v.s[i];
            if (!state[code]) {
                size_t len;
                const char *s = jp_strdict_get(c->dict, code, &len);
                state[code] = text_is(s, len, type) ? 1 : 2;
            }
            ok = state[code] == 1;
        } else {
            ok = cell_is(c, i, type);
        }
        if (!ok) st = jpv_issue(r, id, i, fi, JP_VC_TYPE, false, JP_NO_ROW, 0);
    }
    jp_free(state);
    jp_free(mask);
    jp_report_checked(r, id, checked);
    return st == JP_OK ? JP_OK : NOMEM(err);
}

/* ---- per-row units ------------------------------------------------------------ */

jp_status_t jp_validate_units(jp_report_t *r, const char *field, const char *value_field,
                              const jp_rule_opts_t *o, jp_error_t *err)
{
    char defname[300], detail[300];
    const char *base = o && o->name && o->name[0] ? o->name : field;
    snprintf(defname, sizeof defname, "%s.known_unit", base);
    snprintf(detail, sizeof detail, "known units%s%s%s", value_field ? " for the values of '" : "",
             value_field ? value_field : "", value_field ? "'" : "");
    jp_rule_opts_t ro = o ? *o : (jp_rule_opts_t)JP_RULE_OPTS_INIT;
    ro.name = NULL;
    uint32_t id;
    if (jpv_rule(r, "unit", field, detail, defname, &ro, &id) != JP_OK) return NOMEM(err);
    long fi = jp_schema_find(&r->ds->schema, field);
    long vi = value_field ? jp_schema_find(&r->ds->schema, value_field) : -1;
    if (fi < 0)
        return jpv_broken(r, id, "no unit field '%s' in dataset '%s'", field, r->name) ? NOMEM(err)
                                                                                       : JP_OK;
    if (value_field && vi < 0)
        return no_field(r, id, r->ds, r->name, value_field) ? NOMEM(err) : JP_OK;
    const jp_column_t *c = r->ds->cols[fi];
    if (c->type != JP_TYPE_STRING)
        return jpv_broken(r, id, "unit field '%s' is %s, not string", field, jp_type_name(c->type))
                   ? NOMEM(err)
                   : JP_OK;
    if (vi >= 0 && set_cols(r, id, &vi, 1) != JP_OK) return NOMEM(err);
    uint8_t *mask = NULL;
    bool broken = false;
    jp_status_t st = jpv_where(r, id, ro.where, &mask, &broken, err);
    if (st != JP_OK || broken) return st;
    uint8_t *state = jp_calloc(c->dict->count ? c->dict->count : 1, 1);
    if (!state) {
        jp_free(mask);
        return NOMEM(err);
    }
    const jp_column_t *v = vi >= 0 ? r->ds->cols[vi] : NULL;
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows && st == JP_OK; i++) {
        if (!jpv_applies(mask, i)) continue;
        if (jp_column_is_null(c, i)) {
            if (v && !jp_column_is_null(v, i) && !jpv_untyped(r, fi, i)) {
                checked++;
                st = jpv_issue(r, id, i, fi, JP_VC_UNIT, false, JP_NO_ROW, 0);
            }
            continue;
        }
        checked++;
        uint32_t code = c->v.s[i];
        if (!state[code]) {
            size_t len;
            const char *s = jp_strdict_get(c->dict, code, &len);
            jp_unit_info_t ui;
            state[code] = strlen(s) == len && jp_unit_resolve(s, &ui) ? 1 : 2;
        }
        if (state[code] == 2) st = jpv_issue(r, id, i, fi, JP_VC_UNIT, false, JP_NO_ROW, 0);
    }
    jp_free(state);
    jp_free(mask);
    jp_report_checked(r, id, checked);
    return st == JP_OK ? JP_OK : NOMEM(err);
}

/* ---- keys -------------------------------------------------------------------------- */

static jp_status_t join_names(jp_buf_t *b, const char *const *names, size_t n)
{
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < n && st == JP_OK; k++) {
        if (k) st = jp_buf_puts(b, ", ");
        if (st == JP_OK) st = jp_buf_puts(b, names[k]);
    }
    if (st == JP_OK && !b->data) st = jp_buf_puts(b, "");
    return st;
}

/* Resolve names to columns of ds; on an unknown name mark rule id broken
 * and return false in *ok. */
static jp_status_t find_cols(jp_report_t *r, uint32_t id, jp_dataset_t *ds, const char *dsname,
                             const char *const *names, size_t n, long *idx,
                             const jp_column_t **cols, bool *ok)
{
    *ok = true;
    for (size_t k = 0; k < n; k++) {
        idx[k] = jp_schema_find(&ds->schema, names[k]);
        if (idx[k] < 0) {
            *ok = false;
            return no_field(r, id, ds, dsname, names[k]);
        }
        cols[k] = ds->cols[idx[k]];
    }
    return JP_OK;
}

jp_status_t jp_validate_key(jp_report_t *r, const char *const *fields, size_t n, bool primary,
                            const jp_rule_opts_t *o, jp_error_t *err)
{
    jp_buf_t names = JP_BUF_INIT;
    if (join_names(&names, fields, n) != JP_OK) return NOMEM(err);
    jp_buf_t detail = JP_BUF_INIT;
    uint32_t id;
    jp_status_t st =
        jp_buf_printf(&detail, "%s (%s)", primary ? "primary key" : "unique", names.data);
    if (st == JP_OK)
        st = jpv_rule(r, primary ? "primary_key" : "unique_key", names.data, detail.data,
                      primary ? "primary_key" : "unique_key", o, &id);
    jp_buf_free(&detail);
    jp_buf_free(&names);
    if (st != JP_OK) return NOMEM(err);
    if (!n) return jpv_broken(r, id, "a key needs at least one field") ? NOMEM(err) : JP_OK;
    long *idx = jp_malloc_array(n, sizeof *idx);
    const jp_column_t **cols = jp_malloc_array(n, sizeof *cols);
    uint8_t *mask = NULL;
    bool ok = false, broken = false;
    keyset_t ks = {0};
    if (!idx || !cols) goto nomem;
    if (find_cols(r, id, r->ds, r->name, fields, n, idx, cols, &ok) != JP_OK) goto nomem;
    if (!ok) goto done;
    if (set_cols(r, id, idx, n) != JP_OK) goto nomem;
    st = jpv_where(r, id, o ? o->where : NULL, &mask, &broken, err);
    if (st != JP_OK) goto fail;
    if (broken) goto done;
    if (!r->carry && keyset_init(&ks, cols, n, r->ds->nrows) != JP_OK) goto nomem;
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows; i++) {
        if (!jpv_applies(mask, i)) continue;
        /* a part that was not of its type when read is unknown: no verdict */
        bool unknown = false;
        for (size_t k = 0; k < n; k++) unknown = unknown || jpv_untyped(r, idx[k], i);
        if (unknown) continue;
        checked++;
        size_t nulls = 0;
        for (size_t k = 0; k < n; k++) nulls += jp_column_is_null(cols[k], i);
        /* A key that is null in every part identifies nothing.  In a
         * composite key a null part is a value of its own ("no breakdown"),
         * as SQL's UNIQUE NULLS NOT DISTINCT has it; `required` on a key
         * field forbids even that. */
        if (nulls == n) {
            if (primary && jpv_issue(r, id, i, -1, JP_VC_KEY_NULL, false, JP_NO_ROW, 0) != JP_OK)
                goto nomem;
            continue;
        }
        size_t prev = JP_NO_ROW;
        if (!r->carry)
            prev = keyset_find(&ks, cols, i, true);
        else if (carry_find(r, id, cols, n, i, &prev) != JP_OK)
            goto nomem;
        if (prev != JP_NO_ROW &&
            jpv_issue(r, id, i, n == 1 ? idx[0] : -1, JP_VC_KEY_REPEAT, false, prev, 0) != JP_OK)
            goto nomem;
    }
    jp_report_checked(r, id, checked);
done:
    st = JP_OK;
    goto out;
nomem:
    st = NOMEM(err);
fail:
out:
    keyset_free(&ks);
    jp_free(mask);
    jp_free(idx);
    jp_free(cols);
    return st;
}

jp_status_t jp_validate_foreign_key(jp_report_t *r, const char *const *fields, size_t n,
                                    jp_dataset_t *ref, const char *ref_name,
                                    const char *const *ref_fields, const jp_rule_opts_t *o,
                                    jp_error_t *err)
{
    jp_buf_t names = JP_BUF_INIT, detail = JP_BUF_INIT, bound = JP_BUF_INIT;
    uint32_t id;
    const char *rname =
        ref ? (ref_name ? ref_name : (ref->meta.name ? ref->meta.name : "?")) : "this dataset";
    if (!ref_fields) ref_fields = fields;
    jp_status_t st = join_names(&names, fields, n);
    if (st == JP_OK) st = jp_buf_printf(&bound, "%s (", rname);
    if (st == JP_OK) st = join_names(&bound, ref_fields, n);
    if (st == JP_OK) st = jp_buf_putc(&bound, ')');
    if (st == JP_OK) st = jp_buf_printf(&detail, "(%s) in %s", names.data, bound.data);
    char defname[300];
    snprintf(defname, sizeof defname, "foreign_key.%s", names.data ? names.data : "");
    for (char *p = defname; *p; p++)
        if (*p == ' ') *p = '_';
    if (st == JP_OK) st = jpv_rule(r, "foreign_key", names.data, detail.data, defname, o, &id);
    if (st == JP_OK) st = set_bound(r, id, bound.data);
    jp_buf_free(&names);
    jp_buf_free(&detail);
    jp_buf_free(&bound);
    if (st != JP_OK) return NOMEM(err);
    if (!n) return jpv_broken(r, id, "a foreign key needs at least one field") ? NOMEM(err) : JP_OK;
    if (!ref)
        ref = r->ds;
    else if (jp_dataset_need_all(ref, err) != JP_OK)
        return err ? err->code : JP_ERR_IO;
    long *idx = jp_malloc_array(n, sizeof *idx), *ridx = jp_malloc_array(n, sizeof *ridx);
    const jp_column_t **cols = jp_malloc_array(n, sizeof *cols);
    const jp_column_t **rcols = jp_malloc_array(n, sizeof *rcols);
    uint8_t *mask = NULL;
    bool ok = false, broken = false;
    keyset_t ks = {0};
    if (!idx || !ridx || !cols || !rcols) goto nomem;
    if (find_cols(r, id, r->ds, r->name, fields, n, idx, cols, &ok) != JP_OK) goto nomem;
    if (!ok) goto done;
    if (find_cols(r, id, ref, rname, ref_fields, n, ridx, rcols, &ok) != JP_OK) goto nomem;
    if (!ok) goto done;
    for (size_t k = 0; k < n; k++)
        if (!types_compatible(cols[k]->type, rcols[k]->type)) {
            if (jpv_broken(r, id, "field '%s' is %s but %s's '%s' is %s", fields[k],
                           jp_type_name(cols[k]->type), rname, ref_fields[k],
                           jp_type_name(rcols[k]->type)) != JP_OK)
                goto nomem;
            goto done;
        }
    if (set_cols(r, id, idx, n) != JP_OK) goto nomem;
    st = jpv_where(r, id, o ? o->where : NULL, &mask, &broken, err);
    if (st != JP_OK) goto fail;
    if (broken) goto done;
    if (keyset_init(&ks, rcols, n, ref->nrows) != JP_OK) goto nomem;
    for (size_t j = 0; j < ref->nrows; j++) {
        bool any_null = false;
        for (size_t k = 0; k < n; k++) any_null |= jp_column_is_null(rcols[k], j);
        if (!any_null) keyset_find(&ks, rcols, j, true);
    }
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows; i++) {
        if (!jpv_applies(mask, i)) continue;
        bool any_null = false;
        for (size_t k = 0; k < n; k++) any_null |= jp_column_is_null(cols[k], i);
        if (any_null) continue; /* Frictionless: a partly null reference refers to nothing */
        checked++;
        if (keyset_find(&ks, cols, i, false) == JP_NO_ROW &&
            jpv_issue(r, id, i, n == 1 ? idx[0] : -1, JP_VC_FOREIGN_KEY, false, JP_NO_ROW, 0) !=
                JP_OK)
            goto nomem;
    }
    jp_report_checked(r, id, checked);
done:
    st = JP_OK;
    goto out;
nomem:
    st = NOMEM(err);
fail:
out:
    keyset_free(&ks);
    jp_free(mask);
    jp_free(idx);
    jp_free(ridx);
    jp_free(cols);
    jp_free(rcols);
    return st;
}

/* ---- the schema ------------------------------------------------------------------ */

jp_status_t jp_validate_schema(jp_report_t *r, jp_dataset_resolver_t resolve, void *ctx,
                               jp_error_t *err)
{
    const jp_schema_t *s = &r->ds->schema;
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < s->n_fields && st == JP_OK; k++) {
        const jp_field_t *f = &s->fields[k];
        if (jp_constraints_any(&f->constraints))
            st = jp_validate_field(r, f->name, &f->constraints, NULL, err);
        if (st == JP_OK && f->unit_field)
            st = jp_validate_units(r, f->unit_field, f->name, NULL, err);
    }
    if (st == JP_OK && s->n_primary_key)
        st = jp_validate_key(r, (const char *const *)s->primary_key, s->n_primary_key, true, NULL,
                             err);
    for (size_t k = 0; k < s->n_foreign_keys && st == JP_OK; k++) {
        const jp_foreign_key_t *fk = &s->foreign_keys[k];
        jp_dataset_t *ref = NULL;
        if (fk->ref_dataset && fk->ref_dataset[0]) {
            ref = resolve ? resolve(ctx, fk->ref_dataset) : NULL;
            if (!ref) {
                jp_buf_t names = JP_BUF_INIT;
                uint32_t id;
                char defname[300];
                if (join_names(&names, (const char *const *)fk->fields, fk->n_fields) != JP_OK)
                    return NOMEM(err);
                snprintf(defname, sizeof defname, "foreign_key.%s", names.data);
                for (char *p = defname; *p; p++)
                    if (*p == ' ') *p = '_';
                st = jpv_rule(r, "foreign_key", names.data, NULL, defname, NULL, &id);
                jp_buf_free(&names);
                if (st == JP_OK)
                    st = jpv_broken(r, id,
                                    "the foreign key refers to dataset '%s', which was not given "
                                    "(validate it together with that dataset)",
                                    fk->ref_dataset);
                if (st != JP_OK) return NOMEM(err);
                continue;
            }
        }
        st = jp_validate_foreign_key(r, (const char *const *)fk->fields, fk->n_fields, ref,
                                     fk->ref_dataset, (const char *const *)fk->ref_fields, NULL,
                                     err);
    }
    return st;
}
