/*
 * jp_schema.c - fields, constraints and keys: construction, deep copy,
 * comparison.  Meaning of constraints belongs to the validator.
 */
#include "jp_schema.h"

#include <stdio.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_suggest.h"

void jp_constraints_init(jp_constraints_t *c)
{
    memset(c, 0, sizeof *c);
    c->min_length = c->max_length = -1;
}

void jp_constraints_free(jp_constraints_t *c)
{
    jp_free(c->pattern);
    jp_column_unref(c->enum_values);
    jp_column_unref(c->bounds);
    jp_constraints_init(c);
}

bool jp_constraints_any(const jp_constraints_t *c)
{
    return c->required || c->unique || c->has_minimum || c->has_maximum || c->min_length >= 0 ||
           c->max_length >= 0 || c->pattern || c->enum_values;
}

void jp_field_init(jp_field_t *f)
{
    memset(f, 0, sizeof *f);
    jp_constraints_init(&f->constraints);
}

void jp_field_free(jp_field_t *f)
{
    jp_free(f->name);
    jp_free(f->unit);
    jp_free(f->unit_field);
    jp_free(f->title);
    jp_free(f->description);
    jp_free(f->source);
    jp_constraints_free(&f->constraints);
    jp_field_init(f);
}

static bool dup_into(char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return true;
    *dst = jp_strdup(src);
    return *dst != NULL;
}

jp_status_t jp_field_copy(jp_field_t *dst, const jp_field_t *src)
{
    jp_field_init(dst);
    dst->type = src->type;
    const jp_constraints_t *sc = &src->constraints;
    jp_constraints_t *dc = &dst->constraints;
    *dc = *sc;
    dc->pattern = NULL;
    dc->enum_values = dc->bounds = NULL;
    if (!dup_into(&dst->name, src->name) || !dup_into(&dst->unit, src->unit) ||
        !dup_into(&dst->unit_field, src->unit_field) || !dup_into(&dst->title, src->title) ||
        !dup_into(&dst->description, src->description) || !dup_into(&dst->source, src->source) ||
        !dup_into(&dc->pattern, sc->pattern)) {
        jp_field_free(dst);
        return JP_ERR_NOMEM;
    }
    /* columns are immutable once shared: sharing is a copy */
    dc->enum_values = jp_column_ref(sc->enum_values);
    dc->bounds = jp_column_ref(sc->bounds);
    return JP_OK;
}

void jp_schema_free(jp_schema_t *s)
{
    for (size_t i = 0; i < s->n_fields; i++) jp_field_free(&s->fields[i]);
    jp_free(s->fields);
    for (size_t i = 0; i < s->n_primary_key; i++) jp_free(s->primary_key[i]);
    jp_free(s->primary_key);
    for (size_t i = 0; i < s->n_foreign_keys; i++) {
        jp_foreign_key_t *fk = &s->foreign_keys[i];
        /* either list may be missing after a failed copy (jp_schema_copy) */
        for (size_t k = 0; k < fk->n_fields; k++) {
            jp_free(fk->fields ? fk->fields[k] : NULL);
            jp_free(fk->ref_fields ? fk->ref_fields[k] : NULL);
        }
        jp_free(fk->fields);
        jp_free(fk->ref_fields);
        jp_free(fk->ref_dataset);
    }
    jp_free(s->foreign_keys);
    jp_free(s->index);
    memset(s, 0, sizeof *s);
}

static char **dup_list(char *const *src, size_t n, bool *ok)
{
    *ok = true;
    if (!n) return NULL;
    char **d = jp_calloc(n, sizeof *d);
    if (!d) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (src[i] && !(d[i] = jp_strdup(src[i]))) *ok = false;
    return d;
}

static void index_update(jp_schema_t *s);

jp_status_t jp_schema_copy(jp_schema_t *dst, const jp_schema_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->n_fields) {
        dst->fields = jp_calloc(src->n_fields, sizeof *dst->fields);
        if (!dst->fields) return JP_ERR_NOMEM;
        dst->cap_fields = src->n_fields;
        for (size_t i = 0; i < src->n_fields; i++) {
            if (jp_field_copy(&dst->fields[i], &src->fields[i])) goto fail;
            dst->n_fields = i + 1;
        }
    }
    bool ok;
    dst->primary_key = dup_list(src->primary_key, src->n_primary_key, &ok);
    dst->n_primary_key = dst->primary_key ? src->n_primary_key : 0;
    if (!ok) goto fail;
    if (src->n_foreign_keys) {
        dst->foreign_keys = jp_calloc(src->n_foreign_keys, sizeof *dst->foreign_keys);
        if (!dst->foreign_keys) goto fail;
        dst->n_foreign_keys = src->n_foreign_keys;
        for (size_t i = 0; i < src->n_foreign_keys; i++) {
            const jp_foreign_key_t *a = &src->foreign_keys[i];
            jp_foreign_key_t *b = &dst->foreign_keys[i];
            b->n_fields = a->n_fields;
            b->fields = dup_list(a->fields, a->n_fields, &ok);
            if (!ok) goto fail;
            b->ref_fields = dup_list(a->ref_fields, a->n_fields, &ok);
            if (!ok) goto fail;
            if (a->ref_dataset && !(b->ref_dataset = jp_strdup(a->ref_dataset))) goto fail;
        }
    }
    index_update(dst);
    return JP_OK;
fail:
    jp_schema_free(dst);
    return JP_ERR_NOMEM;
}

/* Below this many fields a linear search is as quick as hashing. */
#define INDEX_FROM 32

long jp_schema_find(const jp_schema_t *s, const char *name)
{
    if (s->index && s->index_n == s->n_fields) {
        size_t j = jp_str_hash(name, strlen(name)) & s->index_mask;
        for (uint32_t e; (e = s->index[j]); j = (j + 1) & s->index_mask)
            if (strcmp(s->fields[e - 1].name, name) == 0) return (long)e - 1;
        return -1;
    }
    for (size_t i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0) return (long)i;
    return -1;
}

const char *jp_schema_suggest(const jp_schema_t *s, const char *name)
{
    if (s->n_fields > 10000) return NULL;
    jp_suggest_t sg;
    jp_suggest_init(&sg, name);
    for (size_t i = 0; i < s->n_fields; i++) jp_suggest_add(&sg, s->fields[i].name);
    return jp_suggest_best(&sg);
}

static void index_put(jp_schema_t *s, size_t i)
{
    const char *name = s->fields[i].name;
    size_t j = jp_str_hash(name, strlen(name)) & s->index_mask;
    while (s->index[j]) j = (j + 1) & s->index_mask;
    s->index[j] = (uint32_t)i + 1;
}

/* Make the index cover the current fields with room for one more (load
 * at most one half).  On allocation failure the index is dropped and
 * lookups fall back to a linear search. */
static void index_update(jp_schema_t *s)
{
    size_t need = s->n_fields + 1;
    if (need < INDEX_FROM || s->n_fields >= UINT32_MAX) return;
    if (s->index && s->index_n == s->n_fields && need * 2 <= s->index_mask + 1) return;
    size_t slots = 64;
    while (slots < need * 4) slots *= 2;
    jp_free(s->index);
    s->index = jp_calloc(slots, sizeof *s->index);
    s->index_n = 0;
    if (!s->index) return;
    s->index_mask = slots - 1;
    for (size_t i = 0; i < s->n_fields; i++) index_put(s, i);
    s->index_n = s->n_fields;
}

void jp_schema_index(jp_schema_t *s)
{
    index_update(s);
}

jp_status_t jp_schema_add(jp_schema_t *s, const jp_field_t *f, jp_error_t *err)
{
    if (!f->name || !f->name[0]) return jp_error_set(err, JP_ERR_ARG, "a field needs a name");
    index_update(s);
    if (jp_schema_find(s, f->name) >= 0)
        return jp_error_set(err, JP_ERR_ARG, "field '%s' appears twice", f->name);
    if (s->n_fields == s->cap_fields) {
        size_t cap = s->cap_fields ? s->cap_fields * 2 : 8;
        jp_field_t *nf = jp_realloc_array(s->fields, cap, sizeof *nf);
        if (!nf) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        s->fields = nf;
        s->cap_fields = cap;
    }
    if (jp_field_copy(&s->fields[s->n_fields], f))
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    s->n_fields++;
    if (s->index && s->index_n == s->n_fields - 1) {
        index_put(s, s->n_fields - 1);
        s->index_n = s->n_fields;
    }
    return JP_OK;
}

static bool streq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static bool value_eq(const jp_value_t *a, const jp_value_t *b)
{
    if (a->type != b->type || a->is_null != b->is_null) return false;
    return jp_type_info(a->type)->equal(a, b);
}

#define WHY(...)                                                                                   \
    do {                                                                                           \
        if (why) snprintf(why, size, __VA_ARGS__);                                                 \
        return false;                                                                              \
    } while (0)

bool jp_schema_equal(const jp_schema_t *a, const jp_schema_t *b, char *why, size_t size)
{
    if (a->n_fields != b->n_fields) WHY("%zu fields vs %zu", a->n_fields, b->n_fields);
    for (size_t i = 0; i < a->n_fields; i++) {
        const jp_field_t *x = &a->fields[i], *y = &b->fields[i];
        if (!streq(x->name, y->name)) WHY("field %zu is '%s' vs '%s'", i + 1, x->name, y->name);
        if (x->type != y->type)
            WHY("field '%s': type %s vs %s", x->name, jp_type_name(x->type), jp_type_name(y->type));
        if (!streq(x->unit, y->unit))
            WHY("field '%s': unit %s vs %s", x->name, x->unit ? x->unit : "(none)",
                y->unit ? y->unit : "(none)");
        if (!streq(x->unit_field, y->unit_field)) WHY("field '%s': unit_field differs", x->name);
        if (!streq(x->title, y->title)) WHY("field '%s': title differs", x->name);
        if (!streq(x->description, y->description)) WHY("field '%s': description differs", x->name);
        if (!streq(x->source, y->source)) WHY("field '%s': source differs", x->name);
        const jp_constraints_t *p = &x->constraints, *q = &y->constraints;
        if (p->required != q->required || p->unique != q->unique ||
            p->has_minimum != q->has_minimum || p->has_maximum != q->has_maximum ||
            p->min_length != q->min_length || p->max_length != q->max_length ||
            !streq(p->pattern, q->pattern))
            WHY("field '%s': constraints differ", x->name);
        if (p->has_minimum && !value_eq(&p->minimum, &q->minimum))
            WHY("field '%s': minimum differs", x->name);
        if (p->has_maximum && !value_eq(&p->maximum, &q->maximum))
            WHY("field '%s': maximum differs", x->name);
        if (!p->enum_values != !q->enum_values ||
            (p->enum_values && !jp_column_equal(p->enum_values, q->enum_values)))
            WHY("field '%s': enum differs", x->name);
    }
    if (a->n_primary_key != b->n_primary_key) WHY("primary keys differ");
    for (size_t i = 0; i < a->n_primary_key; i++)
        if (!streq(a->primary_key[i], b->primary_key[i])) WHY("primary keys differ");
    if (a->n_foreign_keys != b->n_foreign_keys) WHY("foreign keys differ");
    for (size_t i = 0; i < a->n_foreign_keys; i++) {
        const jp_foreign_key_t *x = &a->foreign_keys[i], *y = &b->foreign_keys[i];
        if (x->n_fields != y->n_fields || !streq(x->ref_dataset, y->ref_dataset))
            WHY("foreign key %zu differs", i + 1);
        for (size_t k = 0; k < x->n_fields; k++)
            if (!streq(x->fields[k], y->fields[k]) ||
                !streq(x->ref_fields ? x->ref_fields[k] : NULL,
                       y->ref_fields ? y->ref_fields[k] : NULL))
                WHY("foreign key %zu differs", i + 1);
    }
    return true;
}
