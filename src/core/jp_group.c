/*
 * jp_group.c - group_by + agg, the aggregate kernels, and distinct.
 *
 * Rows are first mapped to group numbers (jp_keys.c); each aggregate is
 * then one pass over its column with per-group accumulators.  Order
 * statistics (median, quantile) bucket the values by group and sort each
 * bucket; count_distinct hashes (group, value) pairs.
 *
 * Qualifiers: sum and mean combine the qualifiers of the values they add
 * (jp_qual_combine); median and quantile keep the common direction of the
 * bounds, strict only when every value is strictly bounded; min, max,
 * first and last keep the chosen value's own.  count and count_distinct
 * are exact.
 *
 * Owns: jp_group_agg, jp_agg_column, jp_distinct.  Must never: modify
 * its input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_keys.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_verbs.h"

static const char *const agg_names[] = {"count",  "sum",      "mean",           "min",   "max",
                                        "median", "quantile", "count_distinct", "first", "last"};

const char *jp_agg_name(jp_agg_kind_t k)
{
    return (unsigned)k < sizeof agg_names / sizeof agg_names[0] ? agg_names[k] : "?";
}

bool jp_agg_from_name(const char *name, jp_agg_kind_t *out)
{
    for (size_t k = 0; k < sizeof agg_names / sizeof agg_names[0]; k++)
        if (strcmp(agg_names[k], name) == 0) {
            *out = (jp_agg_kind_t)k;
            return true;
        }
    return false;
}

static jp_column_t *nomem_col(jp_error_t *err)
{
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

static jp_column_t *agg_count(const jp_column_t *c, const uint32_t *gid, size_t nrows, size_t ng)
{
    jp_column_t *out = jp_column_new(JP_TYPE_INT, ng);
    if (!out) return NULL;
    int64_t *cnt = out->v.i;
    memset(cnt, 0, ng * sizeof *cnt);
    if (!c || !c->nulls)
        for (size_t i = 0; i < nrows; i++) cnt[gid[i]]++;
    else
        for (size_t i = 0; i < nrows; i++) cnt[gid[i]] += !c->nulls[i];
    jp_column_set_len(out, ng);
    return out;
}

/* Mark groups that saw no value as null; combine qualifiers if any. */
static jp_status_t finish_nulls(jp_column_t *out, const size_t *cnt, size_t ng)
{
    for (size_t g = 0; g < ng; g++)
        if (!cnt[g]) {
            if (jp_column_alloc_nulls(out)) return JP_ERR_NOMEM;
            out->nulls[g] = 1;
        }
    return JP_OK;
}

static jp_status_t sum_quals(jp_column_t *out, const jp_column_t *c, const uint32_t *gid,
                             size_t nrows)
{
    if (!c->quals) return JP_OK;
    for (size_t i = 0; i < nrows; i++) {
        if (!c->quals[i] || jp_column_is_null(c, i)) continue;
        if (jp_column_alloc_quals(out)) return JP_ERR_NOMEM;
        uint32_t g = gid[i];
        out->quals[g] = (uint8_t)jp_qual_combine((jp_qual_t)out->quals[g], (jp_qual_t)c->quals[i]);
    }
    if (out->nulls && out->quals)
        for (size_t g = 0; g < out->len; g++)
            if (out->nulls[g]) out->quals[g] = 0;
    return JP_OK;
}

static jp_column_t *agg_sum_mean(bool mean, const jp_column_t *c, const char *what,
                                 const uint32_t *gid, size_t nrows, size_t ng, jp_error_t *err)
{
    size_t *cnt = jp_calloc(ng ? ng : 1, sizeof *cnt);
    jp_column_t *out = NULL;
    double *comp = NULL;
    if (!cnt) return nomem_col(err);
    const uint8_t *nl = c->nulls;
    if (c->type == JP_TYPE_INT && !mean) {
        out = jp_column_new(JP_TYPE_INT, ng);
        if (!out) goto nomem;
        int64_t *s = out->v.i;
        memset(s, 0, ng * sizeof *s);
        for (size_t i = 0; i < nrows; i++) {
            if (nl && nl[i]) continue;
            uint32_t g = gid[i];
            cnt[g]++;
            if (__builtin_add_overflow(s[g], c->v.i[i], &s[g])) {
                jp_error_set(err, JP_ERR_RANGE,
                             "sum: the integers of field '%s' overflow in a group (row %zu)", what,
                             i + 1);
                jp_error_field(err, what);
                jp_error_row(err, (long)i + 1);
                jp_free(cnt);
                jp_column_unref(out);
                return NULL;
            }
        }
    } else {
        /* Neumaier's compensated sums, one per group */
        out = jp_column_new(JP_TYPE_NUMBER, ng);
        comp = jp_calloc(ng ? ng : 1, sizeof *comp);
        if (!out || !comp) goto nomem;
        double *s = out->v.d;
        memset(s, 0, ng * sizeof *s);
        if (c->type == JP_TYPE_NUMBER) {
            const double *v = c->v.d;
            for (size_t i = 0; i < nrows; i++) {
                if (nl && nl[i]) continue;
                uint32_t g = gid[i];
                double x = v[i], a = s[g], t = a + x;
                comp[g] += fabs(a) >= fabs(x) ? (a - t) + x : (x - t) + a;
                s[g] = t;
                cnt[g]++;
            }
        } else {
            for (size_t i = 0; i < nrows; i++) {
                if (nl && nl[i]) continue;
                uint32_t g = gid[i];
                double x = (double)c->v.i[i], a = s[g], t = a + x;
                comp[g] += fabs(a) >= fabs(x) ? (a - t) + x : (x - t) + a;
                s[g] = t;
                cnt[g]++;
            }
        }
        for (size_t g = 0; g < ng; g++) {
            s[g] += comp[g];
            if (mean) s[g] = cnt[g] ? s[g] / (double)cnt[g] : 0;
        }
    }
    jp_column_set_len(out, ng);
    if (finish_nulls(out, cnt, ng) || sum_quals(out, c, gid, nrows)) goto nomem;
    jp_free(cnt);
    jp_free(comp);
    return out;
nomem:
    jp_free(cnt);
    jp_free(comp);
    jp_column_unref(out);
    return nomem_col(err);
}

/* Which row wins in each group (min/max/first/last), then gather it. */
static jp_column_t *agg_pick(jp_agg_kind_t kind, const jp_column_t *c, const uint32_t *gid,
                             size_t nrows, size_t ng, jp_error_t *err)
{
    size_t *best = jp_malloc_array(ng ? ng : 1, sizeof *best);
    uint32_t *rank = NULL;
    if (!best) return nomem_col(err);
    for (size_t g = 0; g < ng; g++) best[g] = JP_NO_ROW;
    if (c->type == JP_TYPE_STRING && (kind == JP_AGG_MIN || kind == JP_AGG_MAX) &&
        jp_strdict_ranks(c->dict, &rank)) {
        jp_free(best);
        return nomem_col(err);
    }
    const uint8_t *nl = c->nulls;
    bool mx = kind == JP_AGG_MAX;
    switch (kind) {
    case JP_AGG_FIRST:
        for (size_t i = 0; i < nrows; i++)
            if (!(nl && nl[i]) && best[gid[i]] == JP_NO_ROW) best[gid[i]] = i;
        break;
    case JP_AGG_LAST:
        for (size_t i = 0; i < nrows; i++)
            if (!(nl && nl[i])) best[gid[i]] = i;
        break;
    default:
        for (size_t i = 0; i < nrows; i++) {
            if (nl && nl[i]) continue;
            size_t *b = &best[gid[i]];
            bool take;
            if (*b == JP_NO_ROW)
                take = true;
            else {
                size_t j = *b;
                int r;
                switch (c->type) {
                case JP_TYPE_INT:
                    r = (c->v.i[i] > c->v.i[j]) - (c->v.i[i] < c->v.i[j]);
                    break;
                case JP_TYPE_NUMBER:
                    r = (c->v.d[i] > c->v.d[j]) - (c->v.d[i] < c->v.d[j]);
                    break;
                case JP_TYPE_STRING:
                    r = (rank[c->v.s[i]] > rank[c->v.s[j]]) - (rank[c->v.s[i]] < rank[c->v.s[j]]);
                    break;
                default:
                    r = jp_column_cmp_cells(c, i, c, j);
                    break;
                }
                take = mx ? r > 0 : r < 0;
            }
            /* NaN never wins, and never stays the winner */
            if (c->type == JP_TYPE_NUMBER) {
                if (isnan(c->v.d[i])) continue;
                if (*b != JP_NO_ROW && isnan(c->v.d[*b])) take = true;
            }
            if (take) *b = i;
        }
    }
    jp_column_t *out = jp_column_gather(c, best, ng);
    jp_free(best);
    jp_free(rank);
    if (!out) return nomem_col(err);
    return out;
}

/* Quickselect (Hoare partition, median-of-three pivot): afterwards x[k]
 * holds the k-th smallest and everything before it is not larger, after
 * it not smaller.  Linear on average; NaN never gets here. */
static void select_kth(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo]) {
            double t = x[mid];
            x[mid] = x[lo];
            x[lo] = t;
        }
        if (x[hi] < x[lo]) {
            double t = x[hi];
            x[hi] = x[lo];
            x[lo] = t;
        }
        if (x[hi] < x[mid]) {
            double t = x[hi];
            x[hi] = x[mid];
            x[mid] = t;
        }
        double pivot = x[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot) i++;
            while (x[j] > pivot) j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static jp_column_t *agg_quantile(const jp_column_t *c, double p, const uint32_t *gid, size_t nrows,
                                 size_t ng, jp_error_t *err)
{
    size_t *start = jp_calloc(ng + 1, sizeof *start);
    double *vals = NULL;
    size_t *pos = NULL;
    jp_column_t *out = jp_column_new(JP_TYPE_NUMBER, ng);
    uint8_t *qdir = NULL, *qexact = NULL;
    if (!start || !out) goto nomem;
    const uint8_t *nl = c->nulls;
    bool isint = c->type == JP_TYPE_INT;
#define VAL(i) (isint ? (double)c->v.i[i] : c->v.d[i])
    for (size_t i = 0; i < nrows; i++)
        if (!(nl && nl[i]) && !isnan(VAL(i))) start[gid[i] + 1]++;
    for (size_t g = 0; g < ng; g++) start[g + 1] += start[g];
    size_t m = start[ng];
    vals = jp_malloc_array(m ? m : 1, sizeof *vals);
    pos = jp_malloc_array(ng ? ng : 1, sizeof *pos);
    if (!vals || !pos) goto nomem;
    memcpy(pos, start, ng * sizeof *pos);
    for (size_t i = 0; i < nrows; i++)
        if (!(nl && nl[i]) && !isnan(VAL(i))) vals[pos[gid[i]]++] = VAL(i);
#undef VAL
    jp_column_set_len(out, ng);
    for (size_t g = 0; g < ng; g++) {
        size_t a = start[g], k = start[g + 1] - a;
        if (!k) {
            if (jp_column_alloc_nulls(out)) goto nomem;
            out->nulls[g] = 1;
            out->v.d[g] = 0;
            continue;
        }
        double h = p * (double)(k - 1);
        size_t lo = (size_t)floor(h), hi = (size_t)ceil(h);
        double *x = vals + a;
        select_kth(x, k, lo);
        double v = x[lo];
        if (hi != lo) {
            /* the next order statistic is the smallest of what lies above */
            double up = x[lo + 1];
            for (size_t q = lo + 2; q < k; q++)
                if (x[q] < up) up = x[q];
            v += (up - x[lo]) * (h - (double)lo);
        }
        out->v.d[g] = v;
    }
    if (c->quals) {
        /* the bounds' common direction; strict only if every value is strict */
        qdir = jp_calloc(ng ? ng : 1, 1);
        qexact = jp_calloc(ng ? ng : 1, 1);
        if (!qdir || !qexact) goto nomem;
        for (size_t i = 0; i < nrows; i++) {
            if (nl && nl[i]) continue;
            uint8_t q = c->quals[i];
            if (q)
                qdir[gid[i]] = (uint8_t)jp_qual_combine((jp_qual_t)qdir[gid[i]], (jp_qual_t)q);
            else
                qexact[gid[i]] = 1;
        }
        for (size_t g = 0; g < ng; g++) {
            uint8_t q = qdir[g];
            if (!q || jp_column_is_null(out, g)) continue;
            if (qexact[g] && q == JP_Q_MORE_THAN) q = JP_Q_AT_LEAST;
            if (qexact[g] && q == JP_Q_LESS_THAN) q = JP_Q_AT_MOST;
            if (jp_column_alloc_quals(out)) goto nomem;
            out->quals[g] = q;
        }
    }
    jp_free(start);
    jp_free(vals);
    jp_free(pos);
    jp_free(qdir);
    jp_free(qexact);
    return out;
nomem:
    jp_free(start);
    jp_free(vals);
    jp_free(pos);
    jp_free(qdir);
    jp_free(qexact);
    jp_column_unref(out);
    return nomem_col(err);
}

static jp_column_t *agg_count_distinct(const jp_column_t *c, const uint32_t *gid, size_t nrows,
                                       size_t ng, jp_error_t *err)
{
    jp_column_t *out = jp_column_new(JP_TYPE_INT, ng);
    size_t cap = 1024;
    uint64_t *kv = NULL; /* pairs: group, value */
    uint8_t *used = NULL;
    size_t n = 0;
    if (!out) return nomem_col(err);
    memset(out->v.i, 0, ng * sizeof *out->v.i);
    kv = jp_malloc_array(cap * 2, sizeof *kv);
    used = jp_calloc(cap, 1);
    if (!kv || !used) goto nomem;
    for (size_t i = 0; i < nrows; i++) {
        if (jp_column_is_null(c, i)) continue;
        uint64_t g = gid[i], v = jp_key_value(c, i, false);
        uint64_t h = jp_key_mix(jp_key_mix(0x51, g), v);
        size_t j = h & (cap - 1);
        bool seen = false;
        while (used[j]) {
            if (kv[2 * j] == g && kv[2 * j + 1] == v) {
                seen = true;
                break;
            }
            j = (j + 1) & (cap - 1);
        }
        if (seen) continue;
        used[j] = 1;
        kv[2 * j] = g;
        kv[2 * j + 1] = v;
        out->v.i[g]++;
        if (++n * 2 > cap) {
            size_t nc = cap * 2;
            uint64_t *nk = jp_malloc_array(nc * 2, sizeof *nk);
            uint8_t *nu = jp_calloc(nc, 1);
            if (!nk || !nu) {
                jp_free(nk);
                jp_free(nu);
                goto nomem;
            }
            for (size_t q = 0; q < cap; q++) {
                if (!used[q]) continue;
                uint64_t hh = jp_key_mix(jp_key_mix(0x51, kv[2 * q]), kv[2 * q + 1]);
                size_t t = hh & (nc - 1);
                while (nu[t]) t = (t + 1) & (nc - 1);
                nu[t] = 1;
                nk[2 * t] = kv[2 * q];
                nk[2 * t + 1] = kv[2 * q + 1];
            }
            jp_free(kv);
            jp_free(used);
            kv = nk;
            used = nu;
            cap = nc;
        }
    }
    jp_free(kv);
    jp_free(used);
    jp_column_set_len(out, ng);
    return out;
nomem:
    jp_free(kv);
    jp_free(used);
    jp_column_unref(out);
    return nomem_col(err);
}

static bool agg_needs_number(jp_agg_kind_t k)
{
    return k == JP_AGG_SUM || k == JP_AGG_MEAN || k == JP_AGG_MEDIAN || k == JP_AGG_QUANTILE;
}

jp_column_t *jp_agg_column(jp_agg_kind_t kind, const jp_column_t *c, const char *what, double p,
                           const uint32_t *gid, size_t nrows, size_t ng, jp_error_t *err)
{
    if (!c && kind != JP_AGG_COUNT) {
        jp_error_set(err, JP_ERR_ARG, "%s needs a field", jp_agg_name(kind));
        return NULL;
    }
    if (c && agg_needs_number(kind) && !jp_type_is_numeric(c->type)) {
        jp_error_set(err, JP_ERR_TYPE, "%s: field '%s' is %s, not a number", jp_agg_name(kind),
                     what ? what : "?", jp_type_name(c->type));
        if (what) jp_error_field(err, what);
        return NULL;
    }
    jp_column_t *out;
    switch (kind) {
    case JP_AGG_COUNT:
        out = agg_count(c, gid, nrows, ng);
        if (!out) return nomem_col(err);
        return out;
    case JP_AGG_SUM:
    case JP_AGG_MEAN:
        return agg_sum_mean(kind == JP_AGG_MEAN, c, what, gid, nrows, ng, err);
    case JP_AGG_MIN:
    case JP_AGG_MAX:
    case JP_AGG_FIRST:
    case JP_AGG_LAST:
        return agg_pick(kind, c, gid, nrows, ng, err);
    case JP_AGG_MEDIAN:
        return agg_quantile(c, 0.5, gid, nrows, ng, err);
    case JP_AGG_QUANTILE:
        if (!(p >= 0 && p <= 1)) {
            jp_error_set(err, JP_ERR_ARG, "quantile: p must be between 0 and 1, not %g", p);
            return NULL;
        }
        return agg_quantile(c, p, gid, nrows, ng, err);
    case JP_AGG_COUNT_DISTINCT:
        return agg_count_distinct(c, gid, nrows, ng, err);
    default:
        jp_error_set(err, JP_ERR_ARG, "unknown aggregate");
        return NULL;
    }
}

/* The unit an aggregate's result carries. */
static const char *agg_unit(jp_agg_kind_t k, const jp_field_t *f)
{
    if (!f || k == JP_AGG_COUNT || k == JP_AGG_COUNT_DISTINCT) return NULL;
    return f->unit;
}

jp_dataset_t *jp_group_agg(jp_dataset_t *ds, const char *const *keys, size_t nkeys,
                           const jp_agg_t *aggs, size_t naggs, jp_error_t *err)
{
    size_t *need = jp_malloc_array(nkeys + naggs + 1, sizeof *need);
    long *kidx = jp_malloc_array(nkeys + 1, sizeof *kidx);
    long *aidx = jp_malloc_array(naggs + 1, sizeof *aidx);
    jp_column_t **kcols = jp_malloc_array(nkeys + 1, sizeof *kcols);
    jp_groups_t g = {0};
    jp_dataset_t *out = NULL;
    size_t nn = 0;
    if (!need || !kidx || !aidx || !kcols) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nkeys; k++) {
        if (jp_dataset_lookup(ds, keys[k], "group_by", &kidx[k], err)) goto done;
        for (size_t j = 0; j < k; j++)
            if (kidx[j] == kidx[k]) {
                jp_error_set(err, JP_ERR_ARG, "group_by: key '%s' is named twice", keys[k]);
                goto done;
            }
        need[nn++] = (size_t)kidx[k];
    }
    for (size_t a = 0; a < naggs; a++) {
        aidx[a] = -1;
        const char *nm = aggs[a].name;
        if (!nm || !nm[0]) {
            jp_error_set(err, JP_ERR_ARG, "agg: aggregate %zu (%s) needs a name", a + 1,
                         jp_agg_name(aggs[a].kind));
            goto done;
        }
        for (size_t k = 0; k < nkeys; k++)
            if (strcmp(keys[k], nm) == 0) {
                jp_error_set(err, JP_ERR_ARG, "agg: '%s' is already a group key", nm);
                jp_error_field(err, nm);
                goto done;
            }
        for (size_t b = 0; b < a; b++)
            if (strcmp(aggs[b].name, nm) == 0) {
                jp_error_set(err, JP_ERR_ARG, "agg: '%s' is named twice", nm);
                jp_error_field(err, nm);
                goto done;
            }
        if (aggs[a].field) {
            char verb[64];
            snprintf(verb, sizeof verb, "agg: %s", jp_agg_name(aggs[a].kind));
            if (jp_dataset_lookup(ds, aggs[a].field, verb, &aidx[a], err)) goto done;
            need[nn++] = (size_t)aidx[a];
        } else if (aggs[a].kind != JP_AGG_COUNT) {
            jp_error_set(err, JP_ERR_ARG, "agg: %s for '%s' needs a field",
                         jp_agg_name(aggs[a].kind), nm);
            goto done;
        }
    }
    if (jp_stream_group_ok(ds, aggs, naggs)) {
        /* a lazy file: its rows in batches, never all of them at once */
        bool fallback;
        out = jp_stream_group_agg(ds, kidx, nkeys, aidx, aggs, naggs, &fallback, err);
        if (!fallback) {
            if (!out)
                jp_mem_explain(err, "group_by", -1, ", or group by fewer or coarser keys",
                               "its groups (%zu key%s, %zu aggregate%s) and the batches it reads",
                               nkeys, nkeys == 1 ? "" : "s", naggs, naggs == 1 ? "" : "s");
            goto done;
        }
    }
    /* load just these columns (a lazy plan parses only them) */
    if (jp_dataset_need(ds, need, nn, err) || jp_dataset_need_rows(ds, err)) goto done;
    /* type checks before any work */
    for (size_t a = 0; a < naggs; a++) {
        if (aidx[a] < 0 || !agg_needs_number(aggs[a].kind)) continue;
        const jp_field_t *f = &ds->schema.fields[aidx[a]];
        jp_type_t t = ds->cols[aidx[a]]->type;
        if (!jp_type_is_numeric(t)) {
            jp_error_set(err, JP_ERR_TYPE, "agg: %s of field '%s' for '%s': it is %s, not a number",
                         jp_agg_name(aggs[a].kind), f->name, aggs[a].name, jp_type_name(t));
            jp_error_field(err, f->name);
            goto done;
        }
    }
    for (size_t k = 0; k < nkeys; k++) kcols[k] = ds->cols[kidx[k]];
    jp_status_t st = jp_group_rows(kcols, nkeys, ds->nrows, &g);
    if (st) {
        if (!jp_stop_check(err))
            jp_error_set(err, st,
                         st == JP_ERR_LIMIT ? "group_by: too many groups" : "out of memory");
        goto done;
    }
    out = jp_dataset_new_like(ds, false, err);
    if (!out) goto done;
    for (size_t k = 0; k < nkeys; k++) {
        jp_column_t *c = jp_column_gather(kcols[k], g.first, g.ngroups);
        if (!c) {
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        jp_field_t fd;
        if (jp_field_copy(&fd, &ds->schema.fields[kidx[k]])) {
            jp_column_unref(c);
            jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        jp_constraints_free(&fd.constraints);
        jp_constraints_init(&fd.constraints);
        st = jp_dataset_add_column(out, &fd, c, err);
        jp_field_free(&fd);
        if (st) goto fail;
    }
    for (size_t a = 0; a < naggs; a++) {
        if (jp_stop_check(err)) goto fail;
        const jp_field_t *f = aidx[a] >= 0 ? &ds->schema.fields[aidx[a]] : NULL;
        const jp_column_t *c = aidx[a] >= 0 ? ds->cols[aidx[a]] : NULL;
        jp_column_t *col = jp_agg_column(aggs[a].kind, c, f ? f->name : NULL, aggs[a].p, g.gid,
                                         ds->nrows, g.ngroups, err);
        if (!col) {
            if (err && err->code != JP_ERR_NOMEM) jp_error_prefix(err, "agg");
            goto fail;
        }
        if (jp_dataset_add(out, aggs[a].name, col, agg_unit(aggs[a].kind, f), err)) goto fail;
    }
    out->nrows = g.ngroups;
    goto done;
fail:
    jp_dataset_unref(out);
    out = NULL;
done:
    if (!out)
        jp_mem_explain(err, "group_by", jp_dataset_rows_known(ds), ", or select fewer fields first",
                       "the %zu field%s it groups and aggregates", nn, nn == 1 ? "" : "s");
    jp_groups_free(&g);
    jp_free(need);
    jp_free(kidx);
    jp_free(aidx);
    jp_free(kcols);
    return out;
}

jp_dataset_t *jp_distinct(jp_dataset_t *ds, const char *const *fields, size_t n, bool keep_all,
                          jp_error_t *err)
{
    size_t nf = ds->schema.n_fields;
    size_t nk = n ? n : nf;
    long *idx = jp_malloc_array(nk + 1, sizeof *idx);
    size_t *uidx = jp_malloc_array(nk + 1, sizeof *uidx);
    jp_column_t **cols = jp_malloc_array(nk + 1, sizeof *cols);
    jp_groups_t g = {0};
    jp_dataset_t *out = NULL;
    if (!idx || !uidx || !cols) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nk; k++) {
        if (n) {
            if (jp_dataset_lookup(ds, fields[k], "distinct", &idx[k], err)) goto done;
        } else
            idx[k] = (long)k;
        uidx[k] = (size_t)idx[k];
    }
    if ((keep_all || !n) ? jp_dataset_need_all(ds, err) : jp_dataset_need(ds, uidx, nk, err))
        goto done;
    if (jp_dataset_need_rows(ds, err)) goto done;
    for (size_t k = 0; k < nk; k++) cols[k] = ds->cols[idx[k]];
    jp_status_t st = jp_group_rows(cols, nk, ds->nrows, &g);
    if (st) {
        if (!jp_stop_check(err)) jp_error_set(err, st, "out of memory");
        goto done;
    }
    size_t ng = nk ? g.ngroups : (ds->nrows ? 1 : 0);
    if (keep_all || !n) {
        out = jp_dataset_gather(ds, g.first, ng, err);
        goto done;
    }
    out = jp_dataset_new_like(ds, false, err);
    if (!out) goto done;
    for (size_t k = 0; k < nk; k++) {
        jp_column_t *c = jp_column_gather(cols[k], g.first, ng);
        if (!c || jp_dataset_add_column(out, &ds->schema.fields[idx[k]], c, err)) {
            if (!c) jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            jp_dataset_unref(out);
            out = NULL;
            goto done;
        }
    }
    out->nrows = ng;
done:
    if (!out) {
        size_t held = (keep_all || !n) ? nf : nk;
        jp_mem_explain(err, "distinct", jp_dataset_rows_known(ds), ", or select fewer fields first",
                       "the %zu field%s it %s", held, held == 1 ? "" : "s",
                       (keep_all && n) ? "keeps" : "compares");
    }
    jp_groups_free(&g);
    jp_free(idx);
    jp_free(uidx);
    jp_free(cols);
    return out;
}
