/*
 * jp_column.h - typed columns with nulls and per-value qualifiers.
 *
 * Ownership: a column is reference-counted.  jp_column_new returns a column
 * with one reference owned by the caller; whoever stores a pointer takes a
 * reference (jp_column_ref) and gives it back with jp_column_unref.  A column
 * is built by its creator with the push/set functions and is immutable from
 * the moment a second reference exists ("shared"): verbs build new columns.
 * Reference counts are not atomic: threads may read a shared column at the
 * same time, but only the thread that owns the datasets takes and drops
 * references.
 *
 * Storage: one array per type (see jp_column_t), `nulls` and `quals` are
 * NULL until the first null / non-exact value and then hold one byte per
 * row.  Strings are dictionary-encoded: `codes[i]` indexes a refcounted
 * jp_strdict_t shared between columns derived from each other, so
 * low-cardinality text is stored once and strings compare by code.
 */
#ifndef JP_COLUMN_H
#define JP_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_error.h"
#include "jp_value.h"

/* ---- string dictionary ------------------------------------------------
 * Distinct byte strings, each stored once, numbered from 0 in the order of
 * first insertion.  Every string is followed by a NUL in `bytes` (strings
 * may also contain NULs: always use the length).  Refcounted like columns;
 * jp_strdict_intern may only be called while the caller holds the only
 * reference or has not yet shared the dictionary.
 */
typedef struct jp_strdict {
    int refs;
    uint32_t count;
    size_t *offs; /* count + 1 offsets into bytes (offs[i+1]-offs[i]-1 = len) */
    char *bytes;
    size_t bytes_len, bytes_cap, offs_cap;
    uint32_t *slots; /* open addressing: code + 1, 0 = empty */
    uint32_t *hashes;
    size_t slot_mask; /* slots has slot_mask + 1 entries */
} jp_strdict_t;

jp_strdict_t *jp_strdict_new(size_t expect);
jp_strdict_t *jp_strdict_ref(jp_strdict_t *d);
void jp_strdict_unref(jp_strdict_t *d);
/* Insert (or find) s; its code in *code.  JP_ERR_NOMEM, or JP_ERR_LIMIT
 * past 4e9 distinct strings. */
jp_status_t jp_strdict_intern(jp_strdict_t *d, const char *s, size_t n, uint32_t *code);
/* Code of s, or false when absent. */
bool jp_strdict_find(const jp_strdict_t *d, const char *s, size_t n, uint32_t *code);
static inline const char *jp_strdict_get(const jp_strdict_t *d, uint32_t code, size_t *len)
{
    if (len) *len = d->offs[code + 1] - d->offs[code] - 1;
    return d->bytes + d->offs[code];
}
uint32_t jp_str_hash(const char *s, size_t n);
/*
 * Rank of every code in byte order (memcmp, shorter first on ties):
 * rank[code], count entries, caller frees with jp_free.  Used to sort and
 * compare strings by code.
 */
jp_status_t jp_strdict_ranks(const jp_strdict_t *d, uint32_t **rank);

/* ---- columns ------------------------------------------------------------ */

typedef struct jp_column {
    jp_type_t type;
    int refs;
    size_t len;
    size_t cap;
    uint8_t *nulls; /* NULL = no nulls; else len bytes, 1 = null */
    uint8_t *quals; /* NULL = all exact; else len bytes of jp_qual_t */
    union {
        int64_t *i;     /* JP_TYPE_INT */
        double *d;      /* JP_TYPE_NUMBER */
        uint8_t *b;     /* JP_TYPE_BOOL: 0 / 1 */
        int32_t *date;  /* JP_TYPE_DATE */
        jp_period_t *p; /* JP_TYPE_PERIOD */
        uint32_t *s;    /* JP_TYPE_STRING: codes into dict */
        void *raw;
    } v;
    jp_strdict_t *dict; /* JP_TYPE_STRING only; owned reference */
} jp_column_t;

/* ---- per-type behaviour (jp_type.c) -------------------------------------
 * One entry per jp_type_t.  Code that needs a fact about a type (its name,
 * its width, how one cell is read, appended, compared or written) asks the
 * table instead of switching on the type, so that a new type is mostly a
 * new entry.  Loops over many cells still switch once per column, outside
 * the loop, and run code specialised per type.
 */
typedef struct jp_type_info {
    const char *name;     /* in schemas and messages: "integer", "date" */
    const char *alias[2]; /* other names a schema may use (NULL when fewer) */
    size_t width;         /* bytes per value in a column's array */
    /* Cell i of c (of this type, not null) into out->u; nothing else set. */
    void (*get)(const jp_column_t *c, size_t i, jp_value_t *out);
    /* Append v (of this type, not null): JP_ERR_NOMEM, JP_ERR_TYPE. */
    jp_status_t (*push)(jp_column_t *c, const jp_value_t *v);
    /* Cells a[i] and b[j], neither null, b of a's type (figures: INT and
     * NUMBER mixed): <0, 0, >0. */
    int (*cmp)(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j);
    /* Cell i of c, not null: equal cells (cmp 0) hash equally, also across
     * dictionaries and between an INT and an integral NUMBER. */
    uint64_t (*hash)(const jp_column_t *c, size_t i);
    /* Text form of v (not null; no qualifier): its length, the text in buf
     * (>= 64 bytes) or, for strings, at *ptr without a copy. */
    size_t (*text)(const jp_value_t *v, char *buf, size_t size, const char **ptr);
    /* Same value (both of this type, not null; NaN equals NaN). */
    bool (*equal)(const jp_value_t *a, const jp_value_t *b);
    /* v as a double; false for types that are not numbers. */
    bool (*as_double)(const jp_value_t *v, double *out);
} jp_type_info_t;

/* The entry of t; NONE and unknown types get the "none" entry, whose
 * functions do nothing (push refuses). */
const jp_type_info_t *jp_type_info(jp_type_t t);

/* Bytes per value of a type's main array. */
static inline size_t jp_type_width(jp_type_t t)
{
    return jp_type_info(t)->width;
}

/* New empty column with room for `cap` values; one reference.  A STRING
 * column gets a fresh dictionary.  NULL on allocation failure. */
jp_column_t *jp_column_new(jp_type_t type, size_t cap);
/* New STRING column sharing `dict` (takes a new reference to it). */
jp_column_t *jp_column_new_with_dict(jp_strdict_t *dict, size_t cap);
jp_column_t *jp_column_ref(jp_column_t *c);
void jp_column_unref(jp_column_t *c);

/* Grow to hold at least `cap` values. */
jp_status_t jp_column_reserve(jp_column_t *c, size_t cap);
/*
 * Set the length to n (n <= cap) after filling v.* directly; new rows are
 * non-null and exact.  For bulk builders that write the arrays themselves.
 */
jp_status_t jp_column_set_len(jp_column_t *c, size_t n);
/* Make sure `nulls` / `quals` exist (zero-filled for the current cap). */
jp_status_t jp_column_alloc_nulls(jp_column_t *c);
jp_status_t jp_column_alloc_quals(jp_column_t *c);

/* Appending (the column must not be shared).  Qualifiers only on INT and
 * NUMBER columns; JP_ERR_TYPE when the column's type differs. */
jp_status_t jp_column_push_null(jp_column_t *c);
jp_status_t jp_column_push_int(jp_column_t *c, int64_t v, jp_qual_t q);
jp_status_t jp_column_push_number(jp_column_t *c, double v, jp_qual_t q);
jp_status_t jp_column_push_bool(jp_column_t *c, bool v);
jp_status_t jp_column_push_date(jp_column_t *c, int32_t v);
jp_status_t jp_column_push_period(jp_column_t *c, const jp_period_t *p);
jp_status_t jp_column_push_str(jp_column_t *c, const char *s, size_t n);
/* Push a cell; its type must be the column's (INT into NUMBER widens). */
jp_status_t jp_column_push_value(jp_column_t *c, const jp_value_t *v, jp_error_t *err);

/* Readers: what code outside the column's own files uses instead of the
 * members (the layout may change; these stay). */
static inline jp_type_t jp_column_type(const jp_column_t *c)
{
    return c->type;
}
static inline size_t jp_column_len(const jp_column_t *c)
{
    return c->len;
}
/* Cell i of a column of that type (not null: check jp_column_is_null). */
static inline int64_t jp_column_int(const jp_column_t *c, size_t i)
{
    return c->v.i[i];
}
static inline double jp_column_number(const jp_column_t *c, size_t i)
{
    return c->v.d[i];
}
static inline bool jp_column_bool(const jp_column_t *c, size_t i)
{
    return c->v.b[i] != 0;
}
static inline int32_t jp_column_date(const jp_column_t *c, size_t i)
{
    return c->v.date[i];
}
static inline const jp_period_t *jp_column_period(const jp_column_t *c, size_t i)
{
    return &c->v.p[i];
}
/* A STRING cell's code in the column's dictionary, and how many distinct
 * strings the dictionary holds (codes are below it). */
static inline uint32_t jp_column_code(const jp_column_t *c, size_t i)
{
    return c->v.s[i];
}
static inline uint32_t jp_column_dict_count(const jp_column_t *c)
{
    return c->dict->count;
}
static inline bool jp_column_is_null(const jp_column_t *c, size_t i)
{
    return c->nulls && c->nulls[i];
}
static inline jp_qual_t jp_column_qual(const jp_column_t *c, size_t i)
{
    return c->quals ? (jp_qual_t)c->quals[i] : JP_Q_EXACT;
}
static inline const char *jp_column_str(const jp_column_t *c, size_t i, size_t *len)
{
    return jp_strdict_get(c->dict, c->v.s[i], len);
}
/* Any cell as a jp_value_t (strings point into the dictionary). */
void jp_column_get(const jp_column_t *c, size_t i, jp_value_t *out);
size_t jp_column_null_count(const jp_column_t *c);
bool jp_column_has_quals(const jp_column_t *c);
/* How many cells carry a qualifier other than exact. */
size_t jp_column_qual_count(const jp_column_t *c);

/*
 * New column holding rows idx[0..n) of src, in that order.  An index equal
 * to JP_NO_ROW yields a null (for outer joins).  Shares src's dictionary.
 */
#define JP_NO_ROW ((size_t)-1)
jp_column_t *jp_column_gather(const jp_column_t *src, const size_t *idx, size_t n);
/* Rows [from, from+n). */
jp_column_t *jp_column_slice(const jp_column_t *src, size_t from, size_t n);
/* A private copy that may be modified (strings keep sharing the dict). */
jp_column_t *jp_column_copy(const jp_column_t *src);
/* Append all of b to a (a not shared; same type; dictionaries merged). */
jp_status_t jp_column_append(jp_column_t *a, const jp_column_t *b, jp_error_t *err);
/* A column of n nulls. */
jp_column_t *jp_column_new_nulls(jp_type_t type, size_t n);
/* Same type, length and cells (values, nulls and qualifiers). */
bool jp_column_equal(const jp_column_t *a, const jp_column_t *b);
/* Compare cell i of a with cell j of b (same type; nulls last). */
int jp_column_cmp_cells(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j);
/* Convert to another type where lossless (INT -> NUMBER, anything ->
 * STRING via its text form); JP_ERR_TYPE otherwise. */
jp_column_t *jp_column_cast(const jp_column_t *src, jp_type_t to, jp_error_t *err);

/* Text form of a cell for CSV/YAML/previews: numbers shortest round-trip,
 * dates ISO, periods canonical, booleans true/false; "" for null; the
 * qualifier is NOT included.  Returns length; buf >= 64 unless a string
 * (strings are returned via *ptr without copying). */
size_t jp_column_cell_text(const jp_column_t *c, size_t i, char *buf, size_t size,
                           const char **ptr);

#endif
