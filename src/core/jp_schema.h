/*
 * jp_schema.h - fields, their constraints, keys.
 *
 * Ownership: a jp_schema_t owns everything it points to (strings, arrays,
 * enum columns).  jp_schema_free releases it; jp_schema_copy makes a deep
 * copy.  Field names are unique within a schema.
 *
 * Constraint names follow the Frictionless Table Schema (required, unique,
 * minimum, maximum, minLength, maxLength, pattern, enum); their meaning is
 * the validator's (jp_validate.h), the schema only carries them.
 */
#ifndef JP_SCHEMA_H
#define JP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_column.h"
#include "jp_error.h"
#include "jp_value.h"

typedef struct jp_constraints {
    bool required;
    bool unique;
    bool has_minimum, has_maximum;
    jp_value_t minimum, maximum; /* typed like the field (int/number/date/...);
                                    string values point into `bounds` */
    long min_length, max_length; /* -1 = not set */
    char *pattern;               /* NULL = not set; anchored as written */
    jp_column_t *enum_values;    /* NULL = not set; column of the field's type */
    jp_column_t *bounds;         /* owns string minimum/maximum text, or NULL */
} jp_constraints_t;

typedef struct jp_field {
    char *name;
    jp_type_t type;
    char *unit;        /* canonical unit, or NULL */
    char *unit_field;  /* per-row unit: name of a string field holding it, or NULL */
    char *title;       /* short label for people, or NULL */
    char *description; /* or NULL */
    char *source;      /* provenance of this field, or NULL */
    jp_constraints_t constraints;
} jp_field_t;

typedef struct jp_foreign_key {
    char **fields;
    size_t n_fields;
    char *ref_dataset; /* name (or path) of the referenced dataset; NULL = self */
    char **ref_fields;
} jp_foreign_key_t;

typedef struct jp_schema {
    jp_field_t *fields;
    size_t n_fields;
    size_t cap_fields;
    char **primary_key;
    size_t n_primary_key;
    jp_foreign_key_t *foreign_keys;
    size_t n_foreign_keys;
    /* private to jp_schema.c: a hash of field names (position + 1; 0 is
       empty) kept by jp_schema_add so that wide schemas stay linear to
       build; it is used only while it covers exactly n_fields fields */
    uint32_t *index;
    size_t index_mask;
    size_t index_n;
} jp_schema_t;

#define JP_SCHEMA_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0, 0                                                   \
    }

void jp_constraints_init(jp_constraints_t *c);
void jp_constraints_free(jp_constraints_t *c);
bool jp_constraints_any(const jp_constraints_t *c);
void jp_field_init(jp_field_t *f);
void jp_field_free(jp_field_t *f);
jp_status_t jp_field_copy(jp_field_t *dst, const jp_field_t *src);

void jp_schema_free(jp_schema_t *s);
jp_status_t jp_schema_copy(jp_schema_t *dst, const jp_schema_t *src);
/* Append a deep copy of f; JP_ERR_ARG if the name is taken. */
jp_status_t jp_schema_add(jp_schema_t *s, const jp_field_t *f, jp_error_t *err);
/* Index of a field, or -1. */
long jp_schema_find(const jp_schema_t *s, const char *name);
/* The field name closest to a misspelt one (jp_suggest.h), or NULL: for
 * "did you mean" in every message about an unknown field.  Wide schemas
 * (over 10000 fields) are not searched. */
const char *jp_schema_suggest(const jp_schema_t *s, const char *name);
/* (Re)build the name index over fields that were set directly (a reader
 * handing over a whole field array), so that lookups in a wide schema cost
 * a hash, not a scan.  Without memory lookups stay correct, only linear. */
void jp_schema_index(jp_schema_t *s);
/* Compare two schemas field by field (names, types, units, descriptions,
 * constraints, keys).  On difference returns false and describes it in
 * why (if non-NULL, >= 256 bytes). */
bool jp_schema_equal(const jp_schema_t *a, const jp_schema_t *b, char *why, size_t size);

#endif
