/*
 * jp_archive_load.c - loading a dataset out of an open archive: the gate
 * that refuses while the integrity check has found anything (the same
 * findings jp_archive_verify reports, so load and verify cannot disagree),
 * the re-read of the dataset's members (their bytes must hash to what the
 * check passed at open), and their reassembly (schema, data, qualifier
 * columns).  Never trusts bytes the check has not passed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "jp_archive_int.h"
#include "jp_format.h"
#include "jp_mem.h"
#include "jp_yaml.h"

/* ---- the gate ------------------------------------------------------------------- */

static bool waived(const jp_archive_t *a, size_t i)
{
    for (size_t k = 0; k < a->unverifiable; k++)
        if (a->waivable[k] == i) return true;
    return false;
}

/* Loading holds the line verify holds: no finding, or refuse with the first. */
static jp_status_t may_load(const jp_archive_t *a, const char *name, jp_error_t *err)
{
    char what[300];
    if (name)
        snprintf(what, sizeof what, "'%s'", name);
    else
        snprintf(what, sizeof what, "a dataset");
    bool foreign = !a->has_manifest;
    size_t n = a->problems.n;
    if (n == a->unverifiable && (n == 0 || (foreign && a->lim.unverified))) return JP_OK;
    if (n == a->unverifiable)
        return jp_error_set(err, JP_ERR_INVALID,
                            "%s: refusing to load %s: the archive has no %s, so there is nothing "
                            "to check it against (not written by jinpu?); open it with "
                            "unverified = true to load it anyway",
                            a->path, what, JP_ARCHIVE_MANIFEST);
    size_t first = 0;
    while (waived(a, first)) first++;
    const jp_archive_problem_t *p = &a->problems.v[first];
    size_t real = n - a->unverifiable;
    return jp_error_set(err, JP_ERR_INVALID,
                        "%s: refusing to load %s: the archive does not verify (%s%s%s; %zu "
                        "problem%s in all: run jinpu verify)",
                        a->path, what, p->entry, *p->entry ? ": " : "", p->msg, real,
                        real == 1 ? "" : "s");
}

/* ---- reading members ----------------------------------------------------------- */

typedef struct grab {
    jp_arc_visitor_t v;
    jp_archive_t *a;
    const char *want[2];
    jp_buf_t got[2];
    unsigned char sha[2][JP_SHA256_LEN];
    bool have[2];
    int cur, left;
} grab_t;

static jp_status_t grab_begin(jp_arc_visitor_t *v, const char *name, bool is_dir, uint64_t size,
                              jp_arc_take_t *t, jp_error_t *err)
{
    grab_t *g = (grab_t *)v;
    g->cur = -1;
    if (is_dir) return JP_OK;
    const char *rel = jp_arc_rel(g->a, name);
    for (int i = 0; i < 2; i++) {
        if (g->want[i] && !g->have[i] && strcmp(rel, g->want[i]) == 0) {
            if (size > g->a->lim.max_member)
                return jp_error_set(err, JP_ERR_LIMIT,
                                    "%s: entry '%s' is %llu bytes, over the %llu-byte limit for "
                                    "one member",
                                    g->a->path, name, (unsigned long long)size,
                                    (unsigned long long)g->a->lim.max_member);
            g->cur = i;
            t->hash = true;
            t->capture = &g->got[i];
            t->limit = g->a->lim.max_member;
            /* the declared size may lie: reserve a bounded amount, grow as data comes */
            size_t want = size < ((uint64_t)64 << 20) ? (size_t)size + 1 : (size_t)64 << 20;
            if (jp_buf_reserve(&g->got[i], want))
                return jp_error_set(err, JP_ERR_NOMEM, "out of memory reading %s", name);
            break;
        }
    }
    return JP_OK;
}

static jp_status_t grab_end(jp_arc_visitor_t *v, const char *name, const unsigned char *sha,
                            const char *damage, jp_error_t *err)
{
    grab_t *g = (grab_t *)v;
    (void)name;
    if (g->cur < 0) return JP_OK;
    if (damage) return jp_error_set(err, JP_ERR_ARCHIVE, "%s", damage);
    memcpy(g->sha[g->cur], sha, JP_SHA256_LEN);
    g->have[g->cur] = true;
    if (--g->left == 0) v->stop = true;
    return JP_OK;
}

/*
 * Read the members want[0..n) (paths below the top directory) into
 * g->got[]: each must be there and hash to what the check passed at open
 * (the file may have changed since).  The caller frees g->got[].
 */
static jp_status_t grab(jp_archive_t *a, grab_t *g, const char *const *want, int n,
                        const char *dataset, jp_error_t *err)
{
    memset(g, 0, sizeof *g);
    g->v.begin = grab_begin;
    g->v.end = grab_end;
    g->a = a;
    for (int i = 0; i < n; i++) g->want[i] = want[i];
    g->left = n;
    jp_status_t st = jp_arc_walk(a, &g->v, err);
    for (int i = 0; i < n && !st; i++) {
        const jp_arc_ent_t *e = jp_arc_find_ent(a, want[i]);
        if (!g->have[i] || !e)
            st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s' of dataset '%s' is missing",
                              a->path, want[i], dataset);
        else if (memcmp(g->sha[i], e->sha, JP_SHA256_LEN) != 0)
            st = jp_error_set(err, JP_ERR_INVALID,
                              "%s: entry '%s' changed since the archive was opened (refusing to "
                              "load it)",
                              a->path, want[i]);
    }
    return st;
}

/* ---- putting a dataset together -------------------------------------------------- */

static jp_status_t assemble(jp_archive_t *a, const jp_arc_ds_t *x, jp_dataset_t *sds,
                            jp_dataset_t *dds, jp_dataset_t **out, jp_error_t *err)
{
    jp_dataset_t *r = jp_dataset_new();
    if (!r) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    jp_status_t st = jp_meta_copy(&r->meta, &sds->meta);
    if (st) st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < sds->schema.n_fields && !st; i++) {
        const jp_field_t *fd = &sds->schema.fields[i];
        long k = jp_dataset_find(dds, fd->name);
        if (k < 0) {
            st =
                jp_error_set(err, JP_ERR_ARCHIVE, "%s: dataset '%s': field '%s' is missing from %s",
                             a->path, x->name, fd->name, x->data);
            break;
        }
        jp_column_t *c = dds->cols[k];
        if (c->type != fd->type) {
            c = jp_column_cast(c, fd->type, err);
            if (!c) {
                st = err ? err->code : JP_ERR_TYPE;
                break;
            }
        } else {
            c = jp_column_ref(c);
        }
        for (size_t q = 0; q < x->nq && !st; q++) {
            if (strcmp(x->q[q].field, fd->name) != 0) continue;
            long qi = jp_dataset_find(dds, x->q[q].column);
            if (qi < 0 || dds->cols[qi]->type != JP_TYPE_STRING) {
                st = jp_error_set(err, JP_ERR_ARCHIVE,
                                  "%s: dataset '%s': qualifier column '%s' is missing", a->path,
                                  x->name, x->q[q].column);
                break;
            }
            const jp_column_t *qc = dds->cols[qi];
            jp_column_t *cp = jp_column_copy(c);
            jp_column_unref(c);
            c = cp;
            if (!c || jp_column_alloc_quals(c)) {
                st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t row = 0; row < c->len && !st; row++) {
                if (jp_column_is_null(qc, row)) continue;
                size_t len;
                const char *s = jp_column_str(qc, row, &len);
                char nm[32];
                jp_qual_t ql;
                snprintf(nm, sizeof nm, "%.*s", (int)(len < 31 ? len : 31), s);
                if (len == 0) continue;
                if (!jp_qual_from_name(nm, &ql)) {
                    st = jp_error_set(err, JP_ERR_ARCHIVE, "%s: unknown qualifier '%s'", x->data,
                                      nm);
                    jp_error_row(err, (long)row + 1);
                    jp_error_field(err, x->q[q].column);
                    break;
                }
                c->quals[row] = (uint8_t)ql;
            }
        }
        if (st) {
            if (c) jp_column_unref(c);
            break;
        }
        st = jp_dataset_add_column(r, fd, c, err);
    }
    if (!st) {
        /* keys live in the schema beside the fields: move a copy's over */
        jp_schema_t ks = JP_SCHEMA_INIT;
        if (jp_schema_copy(&ks, &sds->schema)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else {
            r->schema.primary_key = ks.primary_key;
            r->schema.n_primary_key = ks.n_primary_key;
            r->schema.foreign_keys = ks.foreign_keys;
            r->schema.n_foreign_keys = ks.n_foreign_keys;
            ks.primary_key = NULL;
            ks.n_primary_key = 0;
            ks.foreign_keys = NULL;
            ks.n_foreign_keys = 0;
            jp_schema_free(&ks);
        }
    }
    if (st) {
        jp_dataset_unref(r);
        return st;
    }
    *out = r;
    return JP_OK;
}

static const jp_arc_ds_t *find_ds(const jp_archive_t *a, const char *name)
{
    for (size_t i = 0; i < a->nds; i++)
        if (strcmp(a->ds[i].name, name) == 0) return &a->ds[i];
    return NULL;
}

static jp_status_t no_such(const jp_archive_t *a, const char *name, jp_error_t *err)
{
    char list[512] = "";
    size_t k = 0;
    for (size_t i = 0; i < jp_archive_count(a) && k + 2 < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
                              jp_archive_name(a, i));
    if (k >= sizeof list) k = sizeof list - 1;
    if (!name)
        return jp_error_set(err, JP_ERR_ARG,
                            "%s holds %zu datasets (%s): name the one to load (member option)",
                            a->path, jp_archive_count(a), list);
    return jp_error_set(err, JP_ERR_NOTFOUND, "%s: no dataset '%s' in the archive (it holds: %s)",
                        a->path, name, *list ? list : "nothing");
}

static jp_status_t load_foreign(jp_archive_t *a, const char *name, jp_dataset_t **out,
                                jp_error_t *err)
{
    size_t i = 0;
    if (!name) {
        if (a->nforeign != 1) return no_such(a, NULL, err);
    } else {
        while (i < a->nforeign && strcmp(a->foreign[i], name) != 0) i++;
        if (i == a->nforeign) return no_such(a, name, err);
    }
    const jp_arc_ent_t *e = &a->ents[a->foreign_ent[i]];
    if (a->foreign_twice[i])
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: more than one member is named '%s' ('%s' is the first; refused: "
                            "which one is meant?)",
                            a->path, a->foreign[i], e->name);
    grab_t g;
    jp_status_t st = grab(a, &g, &e->rel, 1, a->foreign[i], err);
    if (!st) {
        const jp_format_t *f = jp_format_for_path(e->name);
        char where[1024];
        snprintf(where, sizeof where, "%s#%s", a->path, e->rel);
        jp_read_opts_t ro;
        jp_read_opts_init(&ro);
        ro.name = a->foreign[i];
        st = f->read_mem(where, g.got[0].data ? g.got[0].data : "", g.got[0].len, &ro, out, err);
    }
    jp_buf_free(&g.got[0]);
    return st;
}

jp_status_t jp_archive_load(jp_archive_t *a, const char *name, jp_dataset_t **out, jp_error_t *err)
{
    *out = NULL;
    jp_status_t st = may_load(a, name, err);
    if (st) return st;
    if (!a->has_manifest) return load_foreign(a, name, out, err);
    const jp_arc_ds_t *x = NULL;
    if (!name && a->nds == 1)
        x = &a->ds[0];
    else if (name)
        x = find_ds(a, name);
    if (!x) return no_such(a, name, err);
    const jp_format_t *f = jp_format_find(x->format ? x->format : "csv");
    if (!f || !f->read_mem)
        return jp_error_set(err, JP_ERR_FORMAT,
                            "%s: dataset '%s' is stored as '%s', which this "
                            "jinpu cannot read from memory",
                            a->path, x->name, x->format ? x->format : "?");
    grab_t g;
    const char *want[2] = {x->schema, x->data};
    jp_dataset_t *sds = NULL, *dds = NULL;
    jp_schema_t rs = JP_SCHEMA_INIT;
    st = grab(a, &g, want, 2, x->name, err);
    char where[1024];
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->schema);
        jp_read_opts_t so;
        jp_read_opts_init(&so);
        st = jp_yaml_read_mem(where, g.got[0].data ? g.got[0].data : "", g.got[0].len, &so, &sds,
                              err);
    }
    if (!st) {
        /* the data is read with the stored schema, plus the qualifier columns as text */
        if (jp_schema_copy(&rs, &sds->schema))
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        for (size_t q = 0; q < x->nq && !st; q++) {
            jp_field_t fq;
            jp_field_init(&fq);
            fq.name = x->q[q].column;
            fq.type = JP_TYPE_STRING;
            st = jp_schema_add(&rs, &fq, err);
        }
    }
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->data);
        jp_read_opts_t ro;
        jp_read_opts_init(&ro);
        ro.schema = &rs;
        ro.name = x->name;
        ro.format = f->name;
        ro.delimiter = ','; /* what the writer writes: never guessed from the header */
        st = f->read_mem(where, g.got[1].data ? g.got[1].data : "", g.got[1].len, &ro, &dds, err);
        if (!st) st = jp_dataset_need_all(dds, err);
    }
    jp_buf_free(&g.got[0]);
    jp_buf_free(&g.got[1]);
    if (!st) st = assemble(a, x, sds, dds, out, err);
    if (!st) {
        snprintf(where, sizeof where, "%s#%s", a->path, x->name);
        jp_dataset_set_origin(*out, where, dds->lines ? jp_column_ref(dds->lines) : NULL);
        (*out)->first_line = dds->first_line;
    }
    jp_schema_free(&rs);
    if (sds) jp_dataset_unref(sds);
    if (dds) jp_dataset_unref(dds);
    return st;
}
