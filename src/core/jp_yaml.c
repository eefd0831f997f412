/*
 * jp_yaml.c - the jinpu YAML dataset format (docs/format.md): read with
 * libyaml's event parser, written with its emitter.
 *
 * Owns: how datasets map to YAML documents, the text forms of values in
 * YAML, and the limits that keep a hostile document from hanging the reader
 * or exhausting memory (size, nesting, node counts; no aliases, anchors or
 * tags, so nothing expands).  Must never: print, exit, build YAML text by
 * hand (quoting is the emitter's job), follow an alias, or let an unknown
 * key pass silently.
 *
 * Reading streams the rows: everything outside `rows` becomes a small tree
 * of nodes (with their line and column) in an arena; each row is built in a
 * second arena that is reset after the row is stored, so memory follows the
 * columns, not the document.  When `rows` comes before `fields` the rows
 * are skipped and read in a second pass over the same text.
 */
#include "jp_yaml.h"

#include <errno.h>
#include <limits.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include "jp_column.h"
#include "jp_file.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_suggest.h"
#include "jp_unit.h"
#include "jp_value.h"

/* Nodes kept outside `rows` (metadata, fields, constraints, keys). */
#define TREE_MAX_NODES (1L << 20)
/* Cells (rows x fields): 16 per byte of text (sparse rows leave keys out),
 * at least 1M, at most 128M whatever the size. */
#define MIN_CELLS ((size_t)1 << 20)
#define MAX_CELLS ((size_t)1 << 27)

/* ---- an arena of nodes ----------------------------------------------------- */

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
} ablock_t; /* the block's bytes follow the header (24 bytes: 8-aligned) */

#define ABLOCK_SIZE 65536

typedef struct arena {
    ablock_t *head;
    long nodes;
    long max_nodes;
} arena_t;

static void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    ablock_t *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ABLOCK_SIZE ? n : ABLOCK_SIZE;
        if (cap > SIZE_MAX - sizeof *b) return NULL;
        b = jp_malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        /* a large block goes behind the head so the head keeps its room */
        if (a->head && cap > ABLOCK_SIZE) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)(b + 1) + b->used;
    b->used += n;
    return p;
}

/* Forget everything, keeping one ordinary block for the next round. */
static void arena_reset(arena_t *a)
{
    ablock_t *keep = NULL;
    for (ablock_t *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        if (!keep && b->cap == ABLOCK_SIZE) {
            keep = b;
            continue;
        }
        jp_free(b);
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->nodes = 0;
}

static void arena_free(arena_t *a)
{
    for (ablock_t *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        jp_free(b);
    }
    a->head = NULL;
    a->nodes = 0;
}

/* ---- the document as nodes ----------------------------------------------------- */

enum { Y_SCALAR, Y_SEQ, Y_MAP };

typedef struct ynode ynode_t;
struct ynode {
    int kind;
    bool plain; /* a plain (unquoted, untagged) scalar: the only kind that can be null */
    long line, col;
    size_t n; /* scalar: bytes; list: items; mapping: keys and values, alternating */
    char *s;  /* scalar text, NUL-terminated (may also contain NULs) */
    ynode_t **kids;
};

enum {
    K_JINPU,
    K_NAME,
    K_TITLE,
    K_DESCRIPTION,
    K_SOURCE,
    K_SOURCE_FILE,
    K_PERIOD,
    K_LICENSE,
    K_NOTES,
    K_FIELDS,
    K_PRIMARY_KEY,
    K_FOREIGN_KEYS,
    K_ROWS,
    K_COUNT
};
static const char *const top_keys[K_COUNT] = {
    "jinpu",   "name",  "title",  "description", "source",       "source_file", "period",
    "license", "notes", "fields", "primary_key", "foreign_keys", "rows"};

enum {
    F_NAME,
    F_TYPE,
    F_UNIT,
    F_UNIT_FIELD,
    F_TITLE,
    F_DESCRIPTION,
    F_SOURCE,
    F_CONSTRAINTS,
    F_COUNT
};
static const char *const field_keys[F_COUNT] = {"name",  "type",        "unit",   "unit_field",
                                                "title", "description", "source", "constraints"};

enum {
    C_REQUIRED,
    C_UNIQUE,
    C_MINIMUM,
    C_MAXIMUM,
    C_MINLENGTH,
    C_MAXLENGTH,
    C_PATTERN,
    C_ENUM,
    C_COUNT
};
static const char *const con_keys[C_COUNT] = {"required",  "unique",    "minimum", "maximum",
                                              "minLength", "maxLength", "pattern", "enum"};

static const char *const fk_keys[] = {"fields", "reference"};
static const char *const ref_keys[] = {"dataset", "fields"};

typedef struct rd {
    const char *file; /* for messages and ds->origin */
    const char *data;
    size_t len;
    jp_error_t *err;
    yaml_parser_t parser;
    bool parser_live;
    yaml_event_t ev;
    bool ev_live;
    arena_t tree; /* everything but the rows */
    arena_t rowa; /* the row being read */
    const char *limit_what;
    ynode_t **pend; /* children of the containers being built */
    size_t npend, cappend;
    ynode_t *top[K_COUNT];
    long key_line[K_COUNT];
    long top_line, top_col;
    bool rows_pending; /* rows came before fields: read them in a second pass */
    /* where we are, for messages */
    long cur_row;
    const char *cur_field;
    /* the schema, once `fields` is read */
    bool have_fields;
    jp_field_t *fields;
    size_t nf;
    jp_column_t **cols;
    long *unit_of; /* field -> index of the field holding its unit, or -1 */
    bool *is_unit;
    uint32_t *slots; /* field name hash: index + 1, 0 = empty */
    size_t smask;
    const ynode_t **cells; /* the current row's node per field */
    char (*rowunit)[64];
    const char **rowunitp; /* NULL when the row's unit cell is null */
    jp_column_t *lines;
    size_t nrows;
    size_t max_cells;              /* a missing key costs no text but a cell: bound them */
    jp_cell_errors_t *cell_errors; /* keep bad cells aside (null) instead of failing */
} rd_t;

/* ---- messages ------------------------------------------------------------------ */

/* 'text' as quoted in messages: cut at 60 bytes (on a character boundary)
 * and at the first line break. */
static const char *show(const char *s, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    bool cut = false;
    while (k < n && s[k] != '\n' && s[k] != '\r' && s[k] != '\0') k++;
    if (k < n) cut = true;
    if (k > 60) {
        k = 60;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        cut = true;
    }
    snprintf(buf, size, "'%.*s%s'", (int)k, s, cut ? "..." : "");
    return buf;
}

#define SHOWN(node) show((node)->s, (node)->n, sh, sizeof sh)

static const char *kind_name(const ynode_t *n)
{
    return n->kind == Y_SEQ ? "a list" : n->kind == Y_MAP ? "a mapping" : "text";
}

static jp_status_t vfail(rd_t *r, long line, long col, jp_status_t code, const char *fmt,
                         va_list ap)
{
    jp_error_t *e = r->err;
    if (!e) return code;
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    jp_error_at(e, r->file, line, col);
    jp_error_row(e, r->cur_row);
    jp_error_field(e, r->cur_field);
    return code;
}

static jp_status_t fail_at(rd_t *r, long line, long col, jp_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static jp_status_t fail_at(rd_t *r, long line, long col, jp_status_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, line, col, code, fmt, ap);
    va_end(ap);
    return code;
}

/* At a node (NULL: at the top-level mapping). */
static jp_status_t fail(rd_t *r, const ynode_t *at, jp_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static jp_status_t fail(rd_t *r, const ynode_t *at, jp_status_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, at ? at->line : r->top_line, at ? at->col : r->top_col, code, fmt, ap);
    va_end(ap);
    return code;
}

static jp_status_t fail_mark(rd_t *r, yaml_mark_t m, jp_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static jp_status_t fail_mark(rd_t *r, yaml_mark_t m, jp_status_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, (long)m.line + 1, (long)m.column + 1, code, fmt, ap);
    va_end(ap);
    return code;
}

static jp_status_t nomem(rd_t *r)
{
    return fail_at(r, 0, 0, JP_ERR_NOMEM, "out of memory");
}

/* Line and column (in characters) of a byte offset, for reader errors. */
static void offset_pos(const rd_t *r, size_t off, long *line, long *col)
{
    long l = 1, c = 1;
    if (off > r->len) off = r->len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)r->data[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static jp_status_t parser_fail(rd_t *r)
{
    const yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->error == YAML_MEMORY_ERROR) return nomem(r);
    if (p->error == YAML_READER_ERROR) {
        long line, col;
        offset_pos(r, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return fail_at(r, line, col, JP_ERR_PARSE, "invalid text: %s (0x%02X)", problem,
                           (unsigned)p->problem_value);
        return fail_at(r, line, col, JP_ERR_PARSE, "invalid text: %s", problem);
    }
    long line = (long)p->problem_mark.line + 1, col = (long)p->problem_mark.column + 1;
    if (p->context)
        return fail_at(r, line, col, JP_ERR_PARSE, "invalid YAML: %s (%s that starts on line %ld)",
                       problem, p->context, (long)p->context_mark.line + 1);
    return fail_at(r, line, col, JP_ERR_PARSE, "invalid YAML: %s", problem);
}

/* ---- events ----------------------------------------------------------------------- */

/* The next event, refusing whatever is not plain data. */
static jp_status_t next_event(rd_t *r)
{
    if (r->ev_live) {
        yaml_event_delete(&r->ev);
        r->ev_live = false;
    }
    if (!yaml_parser_parse(&r->parser, &r->ev)) return parser_fail(r);
    r->ev_live = true;
    yaml_event_t *e = &r->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        return fail_mark(r, e->start_mark, JP_ERR_PARSE,
                         "aliases (*%.40s) are not allowed in a dataset: write the value out",
                         (const char *)e->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        /* !!str is another way of quoting */
        if (tag && strcmp((const char *)tag, YAML_STR_TAG) == 0) tag = NULL;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor)
        return fail_mark(r, e->start_mark, JP_ERR_PARSE,
                         "anchors (&%.40s) are not allowed in a dataset: it is plain data",
                         (const char *)anchor);
    if (tag)
        return fail_mark(r, e->start_mark, JP_ERR_PARSE,
                         "tags (%.60s) are not allowed in a dataset: it is plain data",
                         (const char *)tag);
    return JP_OK;
}

static jp_status_t new_node(rd_t *r, arena_t *a, int kind, ynode_t **out)
{
    if (++a->nodes > a->max_nodes)
        return fail_mark(r, r->ev.start_mark, JP_ERR_LIMIT, "%s", r->limit_what);
    ynode_t *n = arena_alloc(a, sizeof *n);
    if (!n) return nomem(r);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (long)r->ev.start_mark.line + 1;
    n->col = (long)r->ev.start_mark.column + 1;
    *out = n;
    return JP_OK;
}

static jp_status_t push_pend(rd_t *r, ynode_t *n)
{
    if (r->npend == r->cappend) {
        size_t cap = r->cappend ? r->cappend * 2 : 256;
        ynode_t **p = jp_realloc_array(r->pend, cap, sizeof *p);
        if (!p) return nomem(r);
        r->pend = p;
        r->cappend = cap;
    }
    r->pend[r->npend++] = n;
    return JP_OK;
}

/* Build the node that starts with the current event (consuming up to its end). */
static jp_status_t build(rd_t *r, arena_t *a, int depth, ynode_t **out)
{
    yaml_event_t *e = &r->ev;
    ynode_t *n;
    jp_status_t st;
    if (depth > JP_YAML_MAX_DEPTH)
        return fail_mark(r, e->start_mark, JP_ERR_LIMIT,
                         "lists and mappings nested deeper than %d levels", JP_YAML_MAX_DEPTH);
    if (e->type == YAML_SCALAR_EVENT) {
        if ((st = new_node(r, a, Y_SCALAR, &n))) return st;
        size_t len = e->data.scalar.length;
        n->s = arena_alloc(a, len + 1);
        if (!n->s) return nomem(r);
        if (len) memcpy(n->s, e->data.scalar.value, len);
        n->s[len] = '\0';
        n->n = len;
        n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !e->data.scalar.tag;
        *out = n;
        return JP_OK;
    }
    int kind;
    yaml_event_type_t end;
    if (e->type == YAML_SEQUENCE_START_EVENT) {
        kind = Y_SEQ;
        end = YAML_SEQUENCE_END_EVENT;
    } else if (e->type == YAML_MAPPING_START_EVENT) {
        kind = Y_MAP;
        end = YAML_MAPPING_END_EVENT;
    } else {
        return fail_mark(r, e->start_mark, JP_ERR_PARSE, "unexpected YAML structure");
    }
    if ((st = new_node(r, a, kind, &n))) return st;
    size_t base = r->npend;
    for (;;) {
        if ((st = next_event(r))) return st;
        if (r->ev.type == end) break;
        if (kind == Y_MAP && (r->npend - base) % 2 == 0 && r->ev.type != YAML_SCALAR_EVENT)
            return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE,
                             "a key must be plain text, not a list or mapping");
        ynode_t *kid;
        if ((st = build(r, a, depth + 1, &kid))) return st;
        if ((st = push_pend(r, kid))) return st;
    }
    n->n = r->npend - base;
    if (n->n) {
        n->kids = arena_alloc(a, n->n * sizeof *n->kids);
        if (!n->kids) return nomem(r);
        memcpy(n->kids, r->pend + base, n->n * sizeof *n->kids);
    }
    r->npend = base;
    *out = n;
    return JP_OK;
}

/* Consume the node that starts with the current event without keeping it. */
static jp_status_t skip(rd_t *r, int depth)
{
    int level = 0;
    for (;;) {
        yaml_event_type_t t = r->ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (depth + level > JP_YAML_MAX_DEPTH)
                return fail_mark(r, r->ev.start_mark, JP_ERR_LIMIT,
                                 "lists and mappings nested deeper than %d levels",
                                 JP_YAML_MAX_DEPTH);
            level++;
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            level--;
        }
        if (level <= 0) return JP_OK;
        jp_status_t st = next_event(r);
        if (st) return st;
    }
}

/* ---- scalars -------------------------------------------------------------------- */

static bool text_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static bool null_text(const char *s, size_t n)
{
    return n == 0 || text_is(s, n, "~") || text_is(s, n, "null") || text_is(s, n, "Null") ||
           text_is(s, n, "NULL");
}

static bool is_null(const ynode_t *n)
{
    return n->kind == Y_SCALAR && n->plain && null_text(n->s, n->n);
}

static bool bool_text(const char *s, size_t n, bool *out)
{
    if (text_is(s, n, "true") || text_is(s, n, "True") || text_is(s, n, "TRUE")) {
        *out = true;
        return true;
    }
    if (text_is(s, n, "false") || text_is(s, n, "False") || text_is(s, n, "FALSE")) {
        *out = false;
        return true;
    }
    return false;
}

/* A scalar's text as a new C string (NULL for null).  `what` names the key. */
static jp_status_t dup_text(rd_t *r, const ynode_t *n, const char *what, char **out)
{
    *out = NULL;
    if (n->kind != Y_SCALAR)
        return fail(r, n, JP_ERR_TYPE, "'%s' must be text, not %s", what, kind_name(n));
    if (is_null(n)) return JP_OK;
    if (strlen(n->s) != n->n)
        return fail(r, n, JP_ERR_PARSE, "'%s' contains a NUL character", what);
    *out = jp_strndup(n->s, n->n);
    return *out ? JP_OK : nomem(r);
}

static long key_index(const ynode_t *k, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (text_is(k->s, k->n, names[i])) return (long)i;
    return -1;
}

static jp_status_t unknown_key(rd_t *r, const ynode_t *k, const char *what,
                               const char *const *names, size_t count)
{
    char list[400], sh[96];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < sizeof list - len) len += (size_t)w;
    }
    return fail(r, k, JP_ERR_PARSE, "unknown %s %s (expected %s)", what, SHOWN(k), list);
}

/*
 * Sort a mapping's values by known key: vals[i] / keys[i] for names[i].
 * Unknown and repeated keys are errors.
 */
static jp_status_t map_keys(rd_t *r, const ynode_t *m, const char *what, const char *const *names,
                            size_t count, const ynode_t **vals, const ynode_t **keys)
{
    char sh[96];
    for (size_t i = 0; i < count; i++) vals[i] = keys[i] = NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode_t *k = m->kids[i];
        long x = key_index(k, names, count);
        if (x < 0) return unknown_key(r, k, what, names, count);
        if (vals[x])
            return fail(r, k, JP_ERR_PARSE, "%s %s appears twice (first on line %ld)", what,
                        SHOWN(k), keys[x]->line);
        keys[x] = k;
        vals[x] = m->kids[i + 1];
    }
    return JP_OK;
}

/* ---- values of a field --------------------------------------------------------------- */

static size_t qual_prefix(const char *s, size_t n, jp_qual_t *q)
{
    *q = JP_Q_EXACT;
    if (n >= 2 && s[0] == '>' && s[1] == '=') return *q = JP_Q_AT_LEAST, 2;
    if (n >= 2 && s[0] == '<' && s[1] == '=') return *q = JP_Q_AT_MOST, 2;
    if (n >= 1 && s[0] == '>') return *q = JP_Q_MORE_THAN, 1;
    if (n >= 1 && s[0] == '<') return *q = JP_Q_LESS_THAN, 1;
    if (n >= 1 && s[0] == '~') return *q = JP_Q_APPROX, 1;
    return 0;
}

/* YAML's .nan / .inf forms (and the nan / inf that jp_format_double writes). */
static bool special_double(const char *s, size_t n, double *out)
{
    if (text_is(s, n, ".nan") || text_is(s, n, ".NaN") || text_is(s, n, ".NAN") ||
        text_is(s, n, "nan")) {
        *out = NAN;
        return true;
    }
    double sign = 1;
    if (n && (s[0] == '-' || s[0] == '+')) {
        sign = s[0] == '-' ? -1 : 1;
        s++, n--;
    }
    if (text_is(s, n, ".inf") || text_is(s, n, ".Inf") || text_is(s, n, ".INF") ||
        text_is(s, n, "inf")) {
        *out = sign * INFINITY;
        return true;
    }
    return false;
}

/*
 * Bring a figure read from text into `unit` (the field's, or the row's when
 * row_unit).  A figure naming no unit is taken to be in it already; one
 * naming a unit must name a scaled form of it (万元 for CNY).
 */
static jp_status_t figure_in_unit(rd_t *r, const ynode_t *n, const jp_quantity_t *q,
                                  const char *unit, bool row_unit, double *v)
{
    char sh[96];
    *v = q->value;
    if (!q->unit[0]) return JP_OK;
    if (!unit)
        return fail(r, n, JP_ERR_UNIT, "%s is in %s but the %s has no unit", SHOWN(n), q->unit,
                    row_unit ? "row" : "field");
    const jp_unit_t *want = strchr(unit, '/') ? NULL : jp_unit_find(unit);
    jp_unit_info_t wi, gi;
    if (!want || strcmp(want->primary, q->unit) != 0 || !jp_unit_resolve(unit, &wi) ||
        !jp_unit_resolve(q->unit, &gi))
        return fail(r, n, JP_ERR_UNIT, "%s is in %s but the %s unit is %s", SHOWN(n), q->unit,
                    row_unit ? "row's" : "field's", unit);
    /* scaled forms differ by powers of ten: scaled exactly (jp_unit_apply) */
    jp_unit_conv_t cv;
    jp_unit_conv_from_ratio(gi.scale / wi.scale, &cv);
    *v = jp_unit_apply(&cv, q->value);
    return JP_OK;
}

/* A figure that jp_quantity_parse refused: say why in our words. */
static jp_status_t not_a(rd_t *r, const ynode_t *n, const char *what, const jp_error_t *qe)
{
    char sh[96];
    const char *why = strstr(qe->msg, "is not a figure: ");
    why = why ? why + strlen("is not a figure: ") : "";
    jp_status_t code = strstr(why, "unit") ? JP_ERR_UNIT : JP_ERR_TYPE;
    if (!*why || strcmp(why, "no number") == 0)
        return fail(r, n, code, "%s is not %s", SHOWN(n), what);
    return fail(r, n, code, "%s is not %s (%s)", SHOWN(n), what, why);
}

static jp_status_t push_st(rd_t *r, jp_status_t st)
{
    if (st == JP_ERR_NOMEM) return nomem(r);
    if (st) return fail_at(r, 0, 0, st, "cannot store a value");
    return JP_OK;
}

static jp_status_t parse_int(rd_t *r, jp_column_t *col, const ynode_t *n, const char *unit,
                             bool row_unit)
{
    char sh[96];
    jp_qual_t q;
    size_t k = qual_prefix(n->s, n->n, &q);
    int64_t iv;
    /* exact digits first: int64 values beyond 2^53 must not pass through a double */
    int rc = jp_parse_int64(n->s + k, n->n - k, &iv);
    if (rc == 0) return push_st(r, jp_column_push_int(col, iv, q));
    if (rc == 2) return fail(r, n, JP_ERR_RANGE, "%s is outside the integer range", SHOWN(n));
    jp_quantity_t qt;
    jp_error_t qe;
    jp_error_clear(&qe);
    if (!jp_quantity_parse(n->s, n->n, &qt, &qe)) return not_a(r, n, "an integer", &qe);
    double v;
    jp_status_t st = figure_in_unit(r, n, &qt, unit, row_unit, &v);
    if (st) return st;
    if (isinf(v) || (isfinite(v) && v == floor(v) &&
                     (v < -9223372036854775808.0 || v >= 9223372036854775808.0)))
        return fail(r, n, JP_ERR_RANGE, "%s is outside the integer range", SHOWN(n));
    if (!isfinite(v) || v != floor(v))
        return fail(r, n, JP_ERR_TYPE, "%s is not an integer", SHOWN(n));
    return push_st(r, jp_column_push_int(col, (int64_t)v, qt.qual));
}

/* A decimal that strtod reads whole but only as infinity ("1e999"). */
static bool overflows(const char *s, size_t n)
{
    char tmp[128];
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    return end == tmp + n && isinf(d) && !isalpha((unsigned char)tmp[n - 1]);
}

static jp_status_t parse_number(rd_t *r, jp_column_t *col, const ynode_t *n, const char *unit,
                                bool row_unit)
{
    char sh[96];
    jp_qual_t q;
    size_t k = qual_prefix(n->s, n->n, &q);
    double d;
    if (special_double(n->s + k, n->n - k, &d)) return push_st(r, jp_column_push_number(col, d, q));
    if (jp_parse_double(n->s + k, n->n - k, &d))
        return push_st(r, jp_column_push_number(col, d, q));
    if (overflows(n->s + k, n->n - k))
        return fail(r, n, JP_ERR_RANGE, "%s is too large for a number", SHOWN(n));
    jp_quantity_t qt;
    jp_error_t qe;
    jp_error_clear(&qe);
    if (!jp_quantity_parse(n->s, n->n, &qt, &qe)) return not_a(r, n, "a number", &qe);
    jp_status_t st = figure_in_unit(r, n, &qt, unit, row_unit, &d);
    if (st) return st;
    if (!isfinite(d)) return fail(r, n, JP_ERR_RANGE, "%s is too large for a number", SHOWN(n));
    return push_st(r, jp_column_push_number(col, d, qt.qual));
}

/*
 * Parse node n as a value of field f and append it to col.  `unit` is the
 * unit figures are expected in (the field's, or the row's when row_unit).
 */
static jp_status_t parse_cell(rd_t *r, const jp_field_t *f, jp_column_t *col, const ynode_t *n,
                              const char *unit, bool row_unit)
{
    char sh[96];
    if (n->kind != Y_SCALAR)
        return fail(r, n, JP_ERR_TYPE, "expected one value, found %s", kind_name(n));
    if (is_null(n)) return push_st(r, jp_column_push_null(col));
    switch (f->type) {
    case JP_TYPE_STRING:
        return push_st(r, jp_column_push_str(col, n->s, n->n));
    case JP_TYPE_INT:
        return parse_int(r, col, n, unit, row_unit);
    case JP_TYPE_NUMBER:
        return parse_number(r, col, n, unit, row_unit);
    case JP_TYPE_BOOL: {
        bool b;
        if (!bool_text(n->s, n->n, &b))
            return fail(r, n, JP_ERR_TYPE, "%s is not a boolean (true or false)", SHOWN(n));
        return push_st(r, jp_column_push_bool(col, b));
    }
    case JP_TYPE_DATE: {
        int32_t d;
        if (!jp_date_parse(n->s, n->n, &d))
            return fail(r, n, JP_ERR_TYPE, "%s is not a date (YYYY-MM-DD)", SHOWN(n));
        return push_st(r, jp_column_push_date(col, d));
    }
    case JP_TYPE_PERIOD: {
        jp_period_t p;
        jp_error_t pe;
        jp_error_clear(&pe);
        if (!jp_period_parse(n->s, n->n, &p, &pe)) return fail(r, n, JP_ERR_TYPE, "%s", pe.msg);
        return push_st(r, jp_column_push_period(col, &p));
    }
    default:
        return fail(r, n, JP_ERR_INTERNAL, "field of no type");
    }
}

/* ---- fields ------------------------------------------------------------------------- */

static jp_status_t get_bool(rd_t *r, const ynode_t *n, const char *what, bool *out)
{
    if (n->kind != Y_SCALAR || !bool_text(n->s, n->n, out))
        return fail(r, n, JP_ERR_TYPE, "'%s' must be true or false", what);
    return JP_OK;
}

static jp_status_t get_count(rd_t *r, const ynode_t *n, const char *what, long *out)
{
    int64_t v;
    if (n->kind != Y_SCALAR || jp_parse_int64(n->s, n->n, &v) != 0 || v < 0 || v > LONG_MAX)
        return fail(r, n, JP_ERR_TYPE, "'%s' must be a whole number >= 0", what);
    *out = (long)v;
    return JP_OK;
}

static jp_status_t do_constraints(rd_t *r, jp_field_t *f, const ynode_t *m)
{
    const ynode_t *v[C_COUNT], *k[C_COUNT];
    jp_constraints_t *c = &f->constraints;
    jp_status_t st;
    if (m->kind != Y_MAP)
        return fail(r, m, JP_ERR_PARSE,
                    "'constraints' must be a mapping (required, unique, minimum, ...), not %s",
                    kind_name(m));
    if ((st = map_keys(r, m, "constraint", con_keys, C_COUNT, v, k))) return st;
    if (v[C_REQUIRED] && (st = get_bool(r, v[C_REQUIRED], "required", &c->required))) return st;
    if (v[C_UNIQUE] && (st = get_bool(r, v[C_UNIQUE], "unique", &c->unique))) return st;
    if (v[C_MINLENGTH] && !is_null(v[C_MINLENGTH]) &&
        (st = get_count(r, v[C_MINLENGTH], "minLength", &c->min_length)))
        return st;
    if (v[C_MAXLENGTH] && !is_null(v[C_MAXLENGTH]) &&
        (st = get_count(r, v[C_MAXLENGTH], "maxLength", &c->max_length)))
        return st;
    if (v[C_PATTERN] && (st = dup_text(r, v[C_PATTERN], "pattern", &c->pattern))) return st;

    /* bounds: parsed like cells into a column, which keeps string bounds alive */
    const ynode_t *bn[2] = {v[C_MINIMUM], v[C_MAXIMUM]};
    if ((bn[0] && !is_null(bn[0])) || (bn[1] && !is_null(bn[1]))) {
        jp_column_t *bc = jp_column_new(f->type, 2);
        if (!bc) return nomem(r);
        long at[2] = {-1, -1};
        for (int i = 0; i < 2; i++) {
            if (!bn[i] || is_null(bn[i])) continue;
            double d;
            if (f->type == JP_TYPE_STRING && bn[i]->plain &&
                jp_parse_double(bn[i]->s, bn[i]->n, &d)) {
                /* a number bound on a text field compares numbers, never strings */
                jp_value_t *b = i ? &c->maximum : &c->minimum;
                memset(b, 0, sizeof *b);
                b->type = JP_TYPE_NUMBER;
                b->u.d = d;
                *(i ? &c->has_maximum : &c->has_minimum) = true;
                continue;
            }
            if ((st = parse_cell(r, f, bc, bn[i], f->unit, false))) {
                jp_column_unref(bc);
                return st;
            }
            at[i] = (long)bc->len - 1;
            if (jp_column_qual(bc, (size_t)at[i]) != JP_Q_EXACT) {
                jp_column_unref(bc);
                return fail(r, bn[i], JP_ERR_TYPE, "'%s' must be an exact value",
                            i ? "maximum" : "minimum");
            }
        }
        if (at[0] >= 0) {
            jp_column_get(bc, (size_t)at[0], &c->minimum);
            c->has_minimum = true;
        }
        if (at[1] >= 0) {
            jp_column_get(bc, (size_t)at[1], &c->maximum);
            c->has_maximum = true;
        }
        if (f->type == JP_TYPE_STRING)
            c->bounds = bc;
        else
            jp_column_unref(bc);
    }
    const ynode_t *en = v[C_ENUM];
    if (en && !is_null(en)) {
        if (en->kind != Y_SEQ)
            return fail(r, en, JP_ERR_TYPE, "'enum' must be a list of values, not %s",
                        kind_name(en));
        if (!(c->enum_values = jp_column_new(f->type, en->n))) return nomem(r);
        for (size_t i = 0; i < en->n; i++)
            if ((st = parse_cell(r, f, c->enum_values, en->kids[i], f->unit, false))) return st;
    }
    return JP_OK;
}

/* One field definition (a mapping) into f; name_node gets the node of its name. */
static jp_status_t do_field(rd_t *r, const ynode_t *m, jp_field_t *f, const ynode_t **name_node,
                            const ynode_t **uf_node)
{
    const ynode_t *v[F_COUNT], *k[F_COUNT];
    char sh[96], ubuf[64];
    jp_status_t st;
    if (m->kind != Y_MAP)
        return fail(r, m, JP_ERR_PARSE, "a field is a mapping (name, type, unit, ...), not %s",
                    kind_name(m));
    /* name the field in messages about its other keys */
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (text_is(m->kids[i]->s, m->kids[i]->n, "name") && m->kids[i + 1]->kind == Y_SCALAR &&
            !is_null(m->kids[i + 1]))
            r->cur_field = m->kids[i + 1]->s;
    if ((st = map_keys(r, m, "field key", field_keys, F_COUNT, v, k))) return st;
    r->cur_field = NULL;
    if (!v[F_NAME] || is_null(v[F_NAME]))
        return fail(r, v[F_NAME] ? v[F_NAME] : m, JP_ERR_PARSE, "a field needs a 'name'");
    if ((st = dup_text(r, v[F_NAME], "name", &f->name))) return st;
    if (!f->name[0]) return fail(r, v[F_NAME], JP_ERR_PARSE, "a field name cannot be empty");
    *name_node = v[F_NAME];
    r->cur_field = f->name;
    const ynode_t *t = v[F_TYPE];
    if (!t || is_null(t))
        return fail(r, t ? t : m, JP_ERR_PARSE,
                    "a field needs a 'type' (integer, number, string, boolean, date or period)");
    if (t->kind != Y_SCALAR || strlen(t->s) != t->n || !jp_type_from_name(t->s, &f->type)) {
        static const char *const types[] = {"integer", "number", "string", "boolean",
                                            "date",    "period", NULL};
        const char *near = t->kind == Y_SCALAR ? jp_suggest(t->s, types, -1) : NULL;
        return fail(r, t, JP_ERR_PARSE,
                    "unknown type %s (%s%s%sexpected integer, number, string, boolean, date or "
                    "period)",
                    t->kind == Y_SCALAR ? SHOWN(t) : kind_name(t), near ? "did you mean '" : "",
                    near ? near : "", near ? "'? " : "");
    }
    const ynode_t *u = v[F_UNIT];
    if (u && !is_null(u)) {
        const char *canon = NULL;
        if (u->kind == Y_SCALAR && strlen(u->s) == u->n)
            canon = jp_unit_canonical(u->s, ubuf, sizeof ubuf);
        char hint[96] = "";
        if (!canon && u->kind == Y_SCALAR) jp_unit_hint(u->s, hint, sizeof hint);
        if (!canon)
            return fail(r, u, JP_ERR_UNIT, "unknown unit %s%s",
                        u->kind == Y_SCALAR ? SHOWN(u) : kind_name(u), hint);
        if (!(f->unit = jp_strdup(canon))) return nomem(r);
    }
    if (v[F_UNIT_FIELD] && (st = dup_text(r, v[F_UNIT_FIELD], "unit_field", &f->unit_field)))
        return st;
    if (f->unit_field) {
        *uf_node = v[F_UNIT_FIELD];
        if (f->unit)
            return fail(r, v[F_UNIT_FIELD], JP_ERR_PARSE,
                        "a field has either 'unit' or 'unit_field', not both");
    }
    if (v[F_TITLE] && (st = dup_text(r, v[F_TITLE], "title", &f->title))) return st;
    if (v[F_DESCRIPTION] && (st = dup_text(r, v[F_DESCRIPTION], "description", &f->description)))
        return st;
    if (v[F_SOURCE] && (st = dup_text(r, v[F_SOURCE], "source", &f->source))) return st;
    if (v[F_CONSTRAINTS] && !is_null(v[F_CONSTRAINTS]) &&
        (st = do_constraints(r, f, v[F_CONSTRAINTS])))
        return st;
    r->cur_field = NULL;
    return JP_OK;
}

static long field_lookup(const rd_t *r, const char *s, size_t n)
{
    if (!r->slots) return -1;
    for (size_t h = jp_str_hash(s, n) & r->smask;; h = (h + 1) & r->smask) {
        uint32_t x = r->slots[h];
        if (!x) return -1;
        if (text_is(s, n, r->fields[x - 1].name)) return (long)x - 1;
    }
}

static void field_insert(rd_t *r, size_t i)
{
    const char *name = r->fields[i].name;
    size_t h = jp_str_hash(name, strlen(name)) & r->smask;
    while (r->slots[h]) h = (h + 1) & r->smask;
    r->slots[h] = (uint32_t)i + 1;
}

static jp_status_t do_fields(rd_t *r, const ynode_t *list)
{
    char sh[96];
    if (list->kind != Y_SEQ)
        return fail(r, list, JP_ERR_PARSE, "'fields' must be a list of fields, not %s",
                    kind_name(list));
    size_t nf = list->n, cap = 8;
    while (cap < 2 * nf) cap *= 2;
    size_t alloc = nf ? nf : 1;
    const ynode_t **names = jp_calloc(alloc, sizeof *names);
    const ynode_t **ufs = jp_calloc(alloc, sizeof *ufs);
    r->fields = jp_calloc(alloc, sizeof *r->fields);
    r->cols = jp_calloc(alloc, sizeof *r->cols);
    r->unit_of = jp_calloc(alloc, sizeof *r->unit_of);
    r->is_unit = jp_calloc(alloc, sizeof *r->is_unit);
    r->cells = jp_calloc(alloc, sizeof *r->cells);
    r->rowunit = jp_calloc(alloc, sizeof *r->rowunit);
    r->rowunitp = jp_calloc(alloc, sizeof *r->rowunitp);
    r->slots = jp_calloc(cap, sizeof *r->slots);
    jp_status_t st = JP_OK;
    if (!names || !ufs || !r->fields || !r->cols || !r->unit_of || !r->is_unit || !r->cells ||
        !r->rowunit || !r->rowunitp || !r->slots) {
        st = nomem(r);
        goto done;
    }
    r->smask = cap - 1;
    for (size_t i = 0; i < nf; i++) jp_field_init(&r->fields[i]);
    r->nf = nf;
    for (size_t i = 0; i < nf; i++) {
        st = do_field(r, list->kids[i], &r->fields[i], &names[i], &ufs[i]);
        r->cur_field = NULL;
        if (st) goto done;
        long prev = field_lookup(r, r->fields[i].name, strlen(r->fields[i].name));
        if (prev >= 0) {
            st = fail(r, names[i], JP_ERR_PARSE, "field %s appears twice (first on line %ld)",
                      SHOWN(names[i]), names[prev]->line);
            goto done;
        }
        field_insert(r, i);
        r->unit_of[i] = -1;
    }
    for (size_t i = 0; i < nf; i++) {
        jp_field_t *f = &r->fields[i];
        if (!f->unit_field) continue;
        r->cur_field = f->name;
        long j = field_lookup(r, f->unit_field, strlen(f->unit_field));
        if (j < 0) {
            st = fail(r, ufs[i], JP_ERR_PARSE, "unit_field %s names no field", SHOWN(ufs[i]));
            goto done;
        }
        if ((size_t)j == i) {
            st = fail(r, ufs[i], JP_ERR_PARSE, "a field cannot hold its own unit");
            goto done;
        }
        if (r->fields[j].type != JP_TYPE_STRING) {
            st = fail(r, ufs[i], JP_ERR_PARSE,
                      "unit_field %s must name a string field, not a%s %s field", SHOWN(ufs[i]),
                      r->fields[j].type == JP_TYPE_INT ? "n" : "", jp_type_name(r->fields[j].type));
            goto done;
        }
        r->cur_field = NULL;
        r->unit_of[i] = j;
        r->is_unit[j] = true;
    }
    for (size_t i = 0; i < nf; i++)
        if (!(r->cols[i] = jp_column_new(r->fields[i].type, 16))) {
            st = nomem(r);
            goto done;
        }
    if (!(r->lines = jp_column_new(JP_TYPE_INT, 16))) {
        st = nomem(r);
        goto done;
    }
    r->have_fields = true;
done:
    r->cur_field = NULL;
    jp_free(names);
    jp_free(ufs);
    return st;
}

/* ---- rows -------------------------------------------------------------------------- */

/*
 * A cell that is not of its field's type or unit (st, described in r->err):
 * when the caller keeps such cells aside it is recorded, read as null, and
 * the row goes on; otherwise st stands.
 */
static jp_status_t cell_failed(rd_t *r, jp_column_t *col, jp_status_t st)
{
    if (!r->cell_errors || (st != JP_ERR_TYPE && st != JP_ERR_UNIT && st != JP_ERR_RANGE))
        return st;
    if (jp_cell_errors_add(r->cell_errors, r->err)) return nomem(r);
    jp_error_clear(r->err);
    return push_st(r, jp_column_push_null(col));
}

static jp_status_t do_row(rd_t *r, const ynode_t *row)
{
    char sh[96];
    size_t nf = r->nf;
    jp_status_t st;
    for (size_t i = 0; i < nf; i++) r->cells[i] = NULL;
    if (row->kind == Y_MAP) {
        for (size_t i = 0; i + 1 < row->n; i += 2) {
            const ynode_t *k = row->kids[i];
            long fi = field_lookup(r, k->s, k->n);
            if (fi < 0) {
                char list[300];
                size_t len = 0;
                list[0] = '\0';
                for (size_t j = 0; j < nf && len < sizeof list - 8; j++) {
                    int w = snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "",
                                     r->fields[j].name);
                    if (w > 0) len += (size_t)w;
                }
                if (len >= sizeof list - 8) snprintf(list + sizeof list - 8, 8, ", ...");
                return fail(r, k, JP_ERR_PARSE, "unknown field %s (fields: %s)", SHOWN(k), list);
            }
            if (r->cells[fi])
                return fail(r, k, JP_ERR_PARSE, "field %s appears twice in this row", SHOWN(k));
            r->cells[fi] = row->kids[i + 1];
        }
    } else if (row->kind == Y_SEQ) {
        if (row->n != nf)
            return fail(r, row, JP_ERR_PARSE, "%zu value%s, but there are %zu fields", row->n,
                        row->n == 1 ? "" : "s", nf);
        for (size_t i = 0; i < nf; i++) r->cells[i] = row->kids[i];
    } else {
        return fail(r, row, JP_ERR_PARSE,
                    "a row is a mapping {field: value, ...} or a list of values, not text");
    }
    /* the row's units first: a figure may come before its unit */
    for (size_t j = 0; j < nf; j++) {
        if (!r->is_unit[j]) continue;
        const ynode_t *c = r->cells[j];
        r->cur_field = r->fields[j].name;
        r->rowunitp[j] = NULL;
        if (!c || is_null(c)) {
            if ((st = push_st(r, jp_column_push_null(r->cols[j])))) return st;
            continue;
        }
        const char *canon = NULL;
        if (c->kind == Y_SCALAR && strlen(c->s) == c->n)
            canon = jp_unit_canonical(c->s, r->rowunit[j], 64);
        if (!canon) {
            st = c->kind != Y_SCALAR
                     ? fail(r, c, JP_ERR_TYPE, "expected a unit, found %s", kind_name(c))
                     : fail(r, c, JP_ERR_UNIT, "%s is not a known unit", SHOWN(c));
            if ((st = cell_failed(r, r->cols[j], st))) return st;
            continue;
        }
        if (canon != r->rowunit[j]) snprintf(r->rowunit[j], 64, "%s", canon);
        r->rowunitp[j] = r->rowunit[j];
        if ((st = push_st(r, jp_column_push_str(r->cols[j], canon, strlen(canon))))) return st;
    }
    for (size_t i = 0; i < nf; i++) {
        if (r->is_unit[i]) continue;
        const jp_field_t *f = &r->fields[i];
        r->cur_field = f->name;
        if (!r->cells[i]) {
            if ((st = push_st(r, jp_column_push_null(r->cols[i])))) return st;
            continue;
        }
        bool by_row = r->unit_of[i] >= 0;
        const char *unit = by_row ? r->rowunitp[r->unit_of[i]] : f->unit;
        if ((st = parse_cell(r, f, r->cols[i], r->cells[i], unit, by_row)) &&
            (st = cell_failed(r, r->cols[i], st)))
            return st;
    }
    r->cur_field = NULL;
    if ((st = push_st(r, jp_column_push_int(r->lines, row->line, JP_Q_EXACT)))) return st;
    r->nrows++;
    return JP_OK;
}

/* The value of `rows` starts at the current event. */
static jp_status_t stream_rows(rd_t *r)
{
    char sh[96];
    jp_status_t st;
    if (r->ev.type == YAML_SCALAR_EVENT) {
        ynode_t *n;
        r->tree.max_nodes = TREE_MAX_NODES;
        if ((st = build(r, &r->tree, 2, &n))) return st;
        if (is_null(n)) return JP_OK;
        return fail(r, n, JP_ERR_PARSE, "'rows' must be a list of rows, not %s", SHOWN(n));
    }
    if (r->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE,
                         "'rows' must be a list of rows, not a mapping");
    for (;;) {
        if ((st = next_event(r))) return st;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT) break;
        ynode_t *row;
        arena_reset(&r->rowa);
        /* a row has at most a key and a value per field */
        r->rowa.max_nodes = 2 * (long)r->nf + 64;
        r->limit_what = "too many values in one row";
        r->cur_row = (long)r->nrows + 1;
        if (r->nf && r->nrows + 1 > r->max_cells / r->nf)
            return fail_mark(r, r->ev.start_mark, JP_ERR_LIMIT,
                             "more than %zu cells (%zu fields) in a document of %zu bytes",
                             r->max_cells, r->nf, r->len);
        if (jp_stop_due(r->nrows)) {
            jp_error_t e;
            jp_error_clear(&e);
            if ((st = jp_stop_check(&e))) return fail_mark(r, r->ev.start_mark, st, "%s", e.msg);
        }
        if ((st = build(r, &r->rowa, 3, &row))) return st;
        if ((st = do_row(r, row))) return st;
        r->cur_row = 0;
    }
    arena_reset(&r->rowa);
    return JP_OK;
}

/* ---- the document ------------------------------------------------------------------ */

static jp_status_t check_version(rd_t *r, const ynode_t *v)
{
    char sh[96];
    if (v->kind == Y_SCALAR && text_is(v->s, v->n, "1")) return JP_OK;
    return fail(r, v, JP_ERR_PARSE, "unsupported format version %s (this reader knows 1)",
                v->kind == Y_SCALAR ? SHOWN(v) : kind_name(v));
}

/* Stream start, document start, and the event after it; `expected` says
 * what an empty document lacks. */
static jp_status_t open_document(rd_t *r, const char *expected)
{
    jp_status_t st;
    if ((st = next_event(r))) return st; /* stream start */
    if ((st = next_event(r))) return st;
    if (r->ev.type == YAML_STREAM_END_EVENT)
        return fail_at(r, 1, 1, JP_ERR_PARSE, "empty document: %s", expected);
    return next_event(r);
}

#define DATASET_START "a jinpu dataset starts with 'jinpu: 1'"

static jp_status_t close_document(rd_t *r)
{
    jp_status_t st;
    if ((st = next_event(r))) return st; /* document end */
    if ((st = next_event(r))) return st;
    if (r->ev.type != YAML_STREAM_END_EVENT)
        return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE,
                         "a second YAML document starts here: a file holds one dataset");
    return JP_OK;
}

static jp_status_t pass_one(rd_t *r)
{
    char sh[96];
    jp_status_t st;
    if ((st = open_document(r, DATASET_START))) return st;
    if (r->ev.type != YAML_MAPPING_START_EVENT) {
        bool empty = r->ev.type == YAML_SCALAR_EVENT && r->ev.data.scalar.length == 0 &&
                     r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (empty)
            return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE, "empty document: %s",
                             DATASET_START);
        return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE,
                         "a jinpu dataset is a mapping (jinpu, fields, rows, ...), not %s",
                         r->ev.type == YAML_SEQUENCE_START_EVENT ? "a list" : "text");
    }
    r->top_line = (long)r->ev.start_mark.line + 1;
    r->top_col = (long)r->ev.start_mark.column + 1;
    for (;;) {
        if ((st = next_event(r))) return st;
        if (r->ev.type == YAML_MAPPING_END_EVENT) break;
        if (r->ev.type != YAML_SCALAR_EVENT)
            return fail_mark(r, r->ev.start_mark, JP_ERR_PARSE,
                             "a key must be plain text, not a list or mapping");
        ynode_t key = {Y_SCALAR,
                       true,
                       (long)r->ev.start_mark.line + 1,
                       (long)r->ev.start_mark.column + 1,
                       r->ev.data.scalar.length,
                       (char *)r->ev.data.scalar.value,
                       NULL};
        long x = key_index(&key, top_keys, K_COUNT);
        if (x < 0) return unknown_key(r, &key, "key", top_keys, K_COUNT);
        if (r->key_line[x])
            return fail(r, &key, JP_ERR_PARSE, "key %s appears twice (first on line %ld)",
                        SHOWN(&key), r->key_line[x]);
        r->key_line[x] = key.line;
        if ((st = next_event(r))) return st;
        if (x == K_ROWS) {
            if (r->have_fields)
                st = stream_rows(r);
            else if (!(st = skip(r, 2)))
                r->rows_pending = true;
            if (st) return st;
            continue;
        }
        r->tree.max_nodes = TREE_MAX_NODES;
        r->limit_what = "too many values outside 'rows'";
        if ((st = build(r, &r->tree, 2, &r->top[x]))) return st;
        if (x == K_JINPU && (st = check_version(r, r->top[x]))) return st;
        if (x == K_FIELDS && (st = do_fields(r, r->top[x]))) return st;
    }
    if ((st = close_document(r))) return st;
    if (!r->top[K_JINPU])
        return fail(r, NULL, JP_ERR_PARSE, "missing 'jinpu: 1' (the format version)");
    if (!r->have_fields)
        return fail(r, NULL, JP_ERR_PARSE, "missing 'fields' (the list of fields)");
    return JP_OK;
}

/* Rows came before fields: find them again. */
static jp_status_t pass_two(rd_t *r)
{
    jp_status_t st;
    if (r->ev_live) {
        yaml_event_delete(&r->ev);
        r->ev_live = false;
    }
    yaml_parser_delete(&r->parser);
    r->parser_live = false;
    if (!yaml_parser_initialize(&r->parser)) return nomem(r);
    r->parser_live = true;
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)r->data, r->len);
    if ((st = open_document(r, DATASET_START))) return st; /* now at the top mapping */
    for (;;) {
        if ((st = next_event(r))) return st;
        if (r->ev.type != YAML_SCALAR_EVENT) break;
        bool rows =
            text_is((const char *)r->ev.data.scalar.value, r->ev.data.scalar.length, "rows");
        if ((st = next_event(r))) return st;
        if (rows) return stream_rows(r);
        if ((st = skip(r, 2))) return st;
    }
    return fail(r, NULL, JP_ERR_INTERNAL, "rows vanished on the second pass");
}

/* A field name or a list of them. */
static jp_status_t name_list(rd_t *r, const ynode_t *n, const char *what, bool local, char ***out,
                             size_t *count)
{
    char sh[96];
    *out = NULL;
    *count = 0;
    if (is_null(n)) return JP_OK;
    const ynode_t *const *items = (const ynode_t *const *)&n;
    size_t k = 1;
    if (n->kind == Y_SEQ) {
        items = (const ynode_t *const *)n->kids;
        k = n->n;
    } else if (n->kind != Y_SCALAR) {
        return fail(r, n, JP_ERR_PARSE, "'%s' must be a field name or a list of names", what);
    }
    if (!k) return JP_OK;
    char **names = jp_calloc(k, sizeof *names);
    /* repeats are found by field index: a long hostile list stays linear */
    uint8_t *seen = local ? jp_calloc(r->nf ? r->nf : 1, 1) : NULL;
    if (!names || (local && !seen)) {
        jp_free(names);
        jp_free(seen);
        return nomem(r);
    }
    jp_status_t st = JP_OK;
    size_t got = 0;
    for (size_t i = 0; i < k; i++) {
        const ynode_t *it = items[i];
        if (it->kind != Y_SCALAR || is_null(it) || strlen(it->s) != it->n) {
            st = fail(r, it, JP_ERR_PARSE, "'%s' must list field names", what);
            break;
        }
        if (local) {
            long fi = field_lookup(r, it->s, it->n);
            if (fi < 0) {
                st = fail(r, it, JP_ERR_PARSE, "'%s' names no field %s", what, SHOWN(it));
                break;
            }
            if (seen[fi]) {
                st = fail(r, it, JP_ERR_PARSE, "'%s' names %s twice", what, SHOWN(it));
                break;
            }
            seen[fi] = 1;
        }
        if (!(names[got] = jp_strdup(it->s))) {
            st = nomem(r);
            break;
        }
        got++;
    }
    jp_free(seen);
    if (st) {
        for (size_t j = 0; j < got; j++) jp_free(names[j]);
        jp_free(names);
        return st;
    }
    *out = names;
    *count = got;
    return JP_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) jp_free(names ? names[i] : NULL);
    jp_free(names);
}

static jp_status_t do_foreign_keys(rd_t *r, const ynode_t *list, jp_schema_t *s)
{
    if (is_null(list)) return JP_OK;
    if (list->kind != Y_SEQ)
        return fail(r, list, JP_ERR_PARSE,
                    "'foreign_keys' must be a list of {fields, reference}, not %s",
                    kind_name(list));
    if (!list->n) return JP_OK;
    if (!(s->foreign_keys = jp_calloc(list->n, sizeof *s->foreign_keys))) return nomem(r);
    for (size_t i = 0; i < list->n; i++) {
        const ynode_t *m = list->kids[i], *v[2], *k[2], *rv[2], *rk[2];
        jp_status_t st;
        if (m->kind != Y_MAP)
            return fail(r, m, JP_ERR_PARSE, "a foreign key is a mapping {fields, reference}");
        if ((st = map_keys(r, m, "foreign key key", fk_keys, 2, v, k))) return st;
        if (!v[0] || !v[1])
            return fail(r, m, JP_ERR_PARSE, "a foreign key needs 'fields' and 'reference'");
        if (v[1]->kind != Y_MAP)
            return fail(r, v[1], JP_ERR_PARSE, "'reference' is a mapping {dataset, fields}");
        if ((st = map_keys(r, v[1], "reference key", ref_keys, 2, rv, rk))) return st;
        if (!rv[1]) return fail(r, v[1], JP_ERR_PARSE, "a reference needs 'fields'");
        jp_foreign_key_t *fk = &s->foreign_keys[s->n_foreign_keys];
        char *ds_name = NULL;
        if (rv[0] && (st = dup_text(r, rv[0], "dataset", &ds_name))) return st;
        size_t nl = 0, nr = 0;
        char **lf = NULL, **rf = NULL;
        if ((st = name_list(r, v[0], "fields", true, &lf, &nl)) ||
            (st = name_list(r, rv[1], "fields", ds_name == NULL, &rf, &nr))) {
            jp_free(ds_name);
            free_names(lf, nl);
            return st;
        }
        if (nl == 0 || nl != nr) {
            jp_free(ds_name);
            free_names(lf, nl);
            free_names(rf, nr);
            return fail(r, rv[1], JP_ERR_PARSE,
                        "a foreign key has %zu field%s but its reference %zu", nl,
                        nl == 1 ? "" : "s", nr);
        }
        fk->fields = lf;
        fk->ref_fields = rf;
        fk->n_fields = nl;
        fk->ref_dataset = ds_name;
        s->n_foreign_keys++;
    }
    return JP_OK;
}

static jp_status_t do_meta(rd_t *r, jp_meta_t *m)
{
    char **slot[] = {NULL,       &m->name,        &m->title,  &m->description,
                     &m->source, &m->source_file, &m->period, &m->license};
    jp_status_t st;
    for (int k = K_NAME; k <= K_LICENSE; k++)
        if (r->top[k] && (st = dup_text(r, r->top[k], top_keys[k], slot[k]))) return st;
    const ynode_t *notes = r->top[K_NOTES];
    if (!notes || is_null(notes)) return JP_OK;
    if (notes->kind != Y_SEQ)
        return fail(r, notes, JP_ERR_PARSE, "'notes' must be a list of text, not %s",
                    kind_name(notes));
    for (size_t i = 0; i < notes->n; i++) {
        char *t;
        if ((st = dup_text(r, notes->kids[i], "notes", &t))) return st;
        if (!t) return fail(r, notes->kids[i], JP_ERR_PARSE, "a note must be text, not null");
        st = jp_meta_add_note(m, t);
        jp_free(t);
        if (st) return nomem(r);
    }
    return JP_OK;
}

/* Keep only the fields named in o->columns, in that order. */
static jp_status_t select_columns(jp_dataset_t **pds, const jp_read_opts_t *o, jp_error_t *err)
{
    jp_dataset_t *ds = *pds, *out = jp_dataset_new_like(ds, false, err);
    if (!out) {
        /* the caller gives ds up either way */
        jp_dataset_unref(ds);
        *pds = NULL;
        return JP_ERR_NOMEM;
    }
    jp_status_t st = JP_OK;
    for (size_t i = 0; i < o->n_columns && !st; i++) {
        long k;
        if ((st = jp_dataset_lookup(ds, o->columns[i], "read", &k, err))) break;
        const jp_field_t *f = &ds->schema.fields[k];
        bool have_unit = !f->unit_field;
        for (size_t j = 0; j < o->n_columns && !have_unit; j++)
            have_unit = strcmp(o->columns[j], f->unit_field) == 0;
        if (!have_unit) {
            st = jp_error_set(err, JP_ERR_ARG, "field '%s' has its unit in field '%s': read both",
                              f->name, f->unit_field);
            break;
        }
        st = jp_dataset_add_column(out, f, jp_column_ref(ds->cols[k]), err);
    }
    out->nrows = ds->nrows;
    /* keys survive when all their fields do */
    const jp_schema_t *s = &ds->schema;
    jp_schema_t *t = &out->schema;
    bool keep = s->n_primary_key > 0;
    for (size_t i = 0; i < s->n_primary_key && keep; i++)
        keep = jp_schema_find(t, s->primary_key[i]) >= 0;
    if (!st && keep) {
        jp_schema_t tmp = JP_SCHEMA_INIT;
        tmp.primary_key = s->primary_key;
        tmp.n_primary_key = s->n_primary_key;
        jp_schema_t cp;
        if (jp_schema_copy(&cp, &tmp)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        } else {
            t->primary_key = cp.primary_key;
            t->n_primary_key = cp.n_primary_key;
        }
    }
    for (size_t i = 0; i < s->n_foreign_keys && !st; i++) {
        const jp_foreign_key_t *fk = &s->foreign_keys[i];
        bool ok = true;
        for (size_t j = 0; j < fk->n_fields && ok; j++)
            ok = jp_schema_find(t, fk->fields[j]) >= 0 &&
                 (fk->ref_dataset || jp_schema_find(t, fk->ref_fields[j]) >= 0);
        if (!ok) continue;
        jp_schema_t tmp = JP_SCHEMA_INIT, cp;
        tmp.foreign_keys = (jp_foreign_key_t *)fk;
        tmp.n_foreign_keys = 1;
        if (jp_schema_copy(&cp, &tmp)) {
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        jp_foreign_key_t *nf = jp_realloc_array(t->foreign_keys, t->n_foreign_keys + 1, sizeof *nf);
        if (!nf) {
            jp_schema_free(&cp);
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");
            break;
        }
        t->foreign_keys = nf;
        nf[t->n_foreign_keys++] = cp.foreign_keys[0];
        jp_free(cp.foreign_keys);
    }
    if (!st) jp_dataset_set_origin(out, ds->origin, jp_column_ref(ds->lines));
    jp_dataset_unref(ds);
    if (st) {
        jp_dataset_unref(out);
        *pds = NULL;
        return st;
    }
    *pds = out;
    return JP_OK;
}

static jp_status_t finish(rd_t *r, const jp_read_opts_t *o, jp_dataset_t **out)
{
    jp_status_t st;
    jp_dataset_t *ds = jp_dataset_new();
    if (!ds) return nomem(r);
    if ((st = do_meta(r, &ds->meta))) goto fail;
    if (o && o->name) {
        if (jp_meta_set(&ds->meta.name, o->name)) goto nomem;
    } else if (!ds->meta.name && r->file) {
        char stem[256];
        if (jp_meta_set(&ds->meta.name, jp_path_stem(r->file, stem, sizeof stem))) goto nomem;
    }
    if (r->top[K_PRIMARY_KEY] &&
        (st = name_list(r, r->top[K_PRIMARY_KEY], "primary_key", true, &ds->schema.primary_key,
                        &ds->schema.n_primary_key)))
        goto fail;
    if (r->top[K_FOREIGN_KEYS] && (st = do_foreign_keys(r, r->top[K_FOREIGN_KEYS], &ds->schema)))
        goto fail;
    /*
     * Hand the fields and columns over whole: names are known to be unique
     * and every column has nrows values of its field's type, and adding
     * them one by one (jp_dataset_add_column) costs a name search each,
     * quadratic in the number of fields of a hostile document.
     */
    if (r->nf) {
        jp_schema_t *sc = &ds->schema;
        sc->fields = r->fields;
        sc->n_fields = sc->cap_fields = r->nf;
        ds->cols = r->cols;
        ds->cols_cap = r->nf;
        r->fields = NULL;
        r->cols = NULL;
        r->nf = 0;
        /* later lookups by name (ds:column, expressions) must not scan */
        jp_schema_index(sc);
    }
    ds->nrows = r->nrows;
    jp_dataset_set_origin(ds, r->file, r->lines);
    r->lines = NULL;
    if (r->file && !ds->origin) goto nomem;
    if (o && o->columns && (st = select_columns(&ds, o, r->err))) return st;
    *out = ds;
    return JP_OK;
nomem:
    st = nomem(r);
fail:
    jp_dataset_unref(ds);
    return st;
}

static void rd_init(rd_t *r, const char *name, const char *data, size_t n, jp_error_t *err)
{
    memset(r, 0, sizeof *r);
    r->file = name;
    r->data = data ? data : "";
    r->len = data ? n : 0;
    r->err = err;
    r->tree.max_nodes = TREE_MAX_NODES;
    r->limit_what = "too many values outside 'rows'";
    r->top_line = r->top_col = 1;
    r->max_cells = r->len < (MAX_CELLS - MIN_CELLS) / 16 ? MIN_CELLS + 16 * r->len : MAX_CELLS;
}

static jp_status_t rd_open(rd_t *r)
{
    if (r->len > JP_YAML_MAX_BYTES)
        return fail_at(r, 0, 0, JP_ERR_LIMIT, "the document is larger than %zu bytes",
                       (size_t)JP_YAML_MAX_BYTES);
    if (!yaml_parser_initialize(&r->parser)) return nomem(r);
    r->parser_live = true;
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)r->data, r->len);
    return JP_OK;
}

static void rd_free(rd_t *r)
{
    if (r->ev_live) yaml_event_delete(&r->ev);
    if (r->parser_live) yaml_parser_delete(&r->parser);
    arena_free(&r->tree);
    arena_free(&r->rowa);
    jp_free(r->pend);
    for (size_t i = 0; i < r->nf; i++) {
        jp_field_free(&r->fields[i]);
        if (r->cols) jp_column_unref(r->cols[i]);
    }
    jp_free(r->fields);
    jp_free(r->cols);
    jp_free(r->unit_of);
    jp_free(r->is_unit);
    jp_free(r->slots);
    jp_free(r->cells);
    jp_free(r->rowunit);
    jp_free(r->rowunitp);
    jp_column_unref(r->lines);
}

jp_status_t jp_yaml_read_mem(const char *name, const char *data, size_t n, const jp_read_opts_t *o,
                             jp_dataset_t **out, jp_error_t *err)
{
    rd_t r;
    jp_error_t own; /* cell errors need their messages even when the caller's err is NULL */
    *out = NULL;
    jp_error_clear(err);
    if (!err && o && o->cell_errors) err = &own;
    jp_error_clear(err);
    rd_init(&r, name ? name : "<memory>", data, n, err);
    r.cell_errors = o ? o->cell_errors : NULL;
    jp_status_t st = rd_open(&r);
    if (!st) st = pass_one(&r);
    if (!st && r.rows_pending) st = pass_two(&r);
    if (!st) st = finish(&r, o, out);
    rd_free(&r);
    return st;
}

jp_status_t jp_yaml_parse_field(const char *name, const char *text, size_t n, jp_field_t *out,
                                jp_error_t *err)
{
    rd_t r;
    jp_field_init(out);
    jp_error_clear(err);
    rd_init(&r, name ? name : "<field>", text, n, err);
    jp_status_t st = rd_open(&r);
    ynode_t *node = NULL;
    const ynode_t *nn = NULL, *uf = NULL;
    if (!st) st = open_document(&r, "expected a field definition {name, type, ...}");
    if (!st) st = build(&r, &r.tree, 1, &node);
    if (!st) st = close_document(&r);
    if (!st) st = do_field(&r, node, out, &nn, &uf);
    rd_free(&r);
    return st;
}

static jp_status_t yaml_read(const char *path, const jp_read_opts_t *o, jp_dataset_t **out,
                             jp_error_t *err)
{
    jp_buf_t b = JP_BUF_INIT;
    *out = NULL;
    jp_status_t st = jp_file_read_all(path, JP_YAML_MAX_BYTES, &b, err);
    if (!st) st = jp_yaml_read_mem(path, b.data, b.len, o, out, err);
    jp_buf_free(&b);
    return st;
}

static jp_status_t yaml_read_mem(const char *name, const char *data, size_t n,
                                 const jp_read_opts_t *o, jp_dataset_t **out, jp_error_t *err)
{
    return jp_yaml_read_mem(name, data, n, o, out, err);
}

/* ---- writing ------------------------------------------------------------------------- */

typedef struct wr {
    yaml_emitter_t em;
    jp_error_t *err;
    jp_buf_t *buf; /* output to memory, or */
    FILE *fp;      /* to a file */
    bool nomem, io_failed;
    int io_errno;
    long row;          /* for messages, 0 outside rows */
    const char *field; /* likewise */
} wr_t;

static jp_status_t w_fail(wr_t *w, jp_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static jp_status_t w_fail(wr_t *w, jp_status_t code, const char *fmt, ...)
{
    if (!w->err) return code;
    va_list ap;
    va_start(ap, fmt);
    w->err->code = code;
    vsnprintf(w->err->msg, sizeof w->err->msg, fmt, ap);
    va_end(ap);
    jp_error_row(w->err, w->row);
    jp_error_field(w->err, w->field);
    return code;
}

static int w_out(void *data, unsigned char *b, size_t n)
{
    wr_t *w = data;
    if (w->fp) {
        if (n && fwrite(b, 1, n, w->fp) != n) {
            w->io_failed = true;
            w->io_errno = errno ? errno : EIO;
            return 0;
        }
        return 1;
    }
    if (jp_buf_append(w->buf, b, n)) {
        w->nomem = true;
        return 0;
    }
    return 1;
}

static jp_status_t w_emitter_error(wr_t *w)
{
    if (w->nomem || w->em.error == YAML_MEMORY_ERROR)
        return w_fail(w, JP_ERR_NOMEM, "out of memory");
    if (w->io_failed) return jp_error_errno(w->err, JP_ERR_IO, w->io_errno, "cannot write");
    return w_fail(w, JP_ERR_INTERNAL, "YAML emitter: %s", w->em.problem ? w->em.problem : "failed");
}

/* Emit and take care of the event, whatever happens. */
static jp_status_t w_emit(wr_t *w, yaml_event_t *ev)
{
    if (yaml_emitter_emit(&w->em, ev)) return JP_OK;
    return w_emitter_error(w);
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static bool word_ci(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

/*
 * Text that must be double-quoted: what a YAML reader would take for
 * something else (null, a boolean, a number, a date), and text with line
 * breaks (kept on one line with escapes).  The emitter quotes the rest when
 * it must (colons, '#', leading spaces, ...).
 */
static bool needs_quotes(const char *s, size_t n)
{
    static const char *const words[] = {"~", "null", "true", "false", "yes",   "no",    "on", "off",
                                        "y", "n",    ".nan", ".inf",  "-.inf", "+.inf", "=",  "<<"};
    if (n == 0) return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r') return true;
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85) return true;
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
            return true;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (word_ci(s, n, words[i])) return true;
    char c = s[0];
    if (c >= '0' && c <= '9') return true;
    if ((c == '-' || c == '+' || c == '.') && n > 1 &&
        ((s[1] >= '0' && s[1] <= '9') || s[1] == '.'))
        return true;
    return false;
}

enum { S_PLAIN, S_AUTO, S_QUOTED };

static jp_status_t w_scalar(wr_t *w, const char *s, size_t n, int how)
{
    if (n > INT_MAX) return w_fail(w, JP_ERR_LIMIT, "a text of %zu bytes is too long", n);
    if (!utf8_valid(s, n)) return w_fail(w, JP_ERR_INVALID, "text that is not valid UTF-8");
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
    if (how == S_PLAIN) style = YAML_PLAIN_SCALAR_STYLE;
    if (how == S_QUOTED || (how == S_AUTO && needs_quotes(s, n)))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)(n ? s : ""), (int)n, 1,
                                      1, style))
        return w_fail(w, JP_ERR_NOMEM, "out of memory");
    return w_emit(w, &ev);
}

static jp_status_t w_str(wr_t *w, const char *s)
{
    return w_scalar(w, s, strlen(s), S_AUTO);
}

static jp_status_t w_key(wr_t *w, const char *key)
{
    return w_scalar(w, key, strlen(key), S_PLAIN);
}

static jp_status_t w_start(wr_t *w, bool map, bool flow)
{
    yaml_event_t ev;
    int ok =
        map ? yaml_mapping_start_event_initialize(
                  &ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
            : yaml_sequence_start_event_initialize(
                  &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
    if (!ok) return w_fail(w, JP_ERR_NOMEM, "out of memory");
    return w_emit(w, &ev);
}

static jp_status_t w_end(wr_t *w, bool map)
{
    yaml_event_t ev;
    int ok = map ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev);
    if (!ok) return w_fail(w, JP_ERR_NOMEM, "out of memory");
    return w_emit(w, &ev);
}

/* key: text, when the text is set */
static jp_status_t w_pair(wr_t *w, const char *key, const char *val)
{
    jp_status_t st;
    if (!val) return JP_OK;
    if ((st = w_key(w, key))) return st;
    return w_str(w, val);
}

static jp_status_t w_names(wr_t *w, char *const *names, size_t n)
{
    jp_status_t st;
    if ((st = w_start(w, false, true))) return st;
    for (size_t i = 0; i < n; i++)
        if ((st = w_str(w, names[i]))) return st;
    return w_end(w, false);
}

static jp_status_t w_value(wr_t *w, const jp_value_t *v)
{
    char buf[112], num[64];
    int n;
    if (v->is_null) return w_scalar(w, "~", 1, S_PLAIN);
    const char *sym = jp_qual_symbol(v->qual);
    int how = v->qual == JP_Q_EXACT ? S_PLAIN : S_QUOTED;
    switch (v->type) {
    case JP_TYPE_INT:
        n = snprintf(buf, sizeof buf, "%s%lld", sym, (long long)v->u.i);
        return w_scalar(w, buf, (size_t)n, how);
    case JP_TYPE_NUMBER:
        if (isnan(v->u.d))
            snprintf(num, sizeof num, ".nan");
        else if (isinf(v->u.d))
            snprintf(num, sizeof num, "%s", v->u.d < 0 ? "-.inf" : ".inf");
        else
            jp_format_double(v->u.d, num, sizeof num);
        n = snprintf(buf, sizeof buf, "%s%s", sym, num);
        return w_scalar(w, buf, (size_t)n, how);
    case JP_TYPE_BOOL:
        return w_scalar(w, v->u.b ? "true" : "false", v->u.b ? 4 : 5, S_PLAIN);
    case JP_TYPE_DATE: {
        int y, m, d;
        jp_date_to_ymd(v->u.date, &y, &m, &d);
        if (y < 1 || y > 9999)
            return w_fail(w, JP_ERR_INVALID, "a date in year %d (years 1 to 9999 can be written)",
                          y);
        jp_date_format(v->u.date, buf);
        return w_scalar(w, buf, strlen(buf), S_QUOTED);
    }
    case JP_TYPE_PERIOD:
        jp_period_format(&v->u.period, buf, sizeof buf);
        return w_scalar(w, buf, strlen(buf), S_QUOTED);
    case JP_TYPE_STRING:
        return w_scalar(w, v->u.s.ptr, v->u.s.len, S_AUTO);
    default:
        return w_fail(w, JP_ERR_INTERNAL, "a value of no type");
    }
}

static jp_status_t w_constraints(wr_t *w, const jp_field_t *f)
{
    const jp_constraints_t *c = &f->constraints;
    jp_status_t st;
    char buf[32];
    if (!jp_constraints_any(c)) return JP_OK;
    if ((st = w_key(w, "constraints")) || (st = w_start(w, true, true))) return st;
    if (c->required && ((st = w_key(w, "required")) || (st = w_scalar(w, "true", 4, S_PLAIN))))
        return st;
    if (c->unique && ((st = w_key(w, "unique")) || (st = w_scalar(w, "true", 4, S_PLAIN))))
        return st;
    if (c->has_minimum && ((st = w_key(w, "minimum")) || (st = w_value(w, &c->minimum)))) return st;
    if (c->has_maximum && ((st = w_key(w, "maximum")) || (st = w_value(w, &c->maximum)))) return st;
    if (c->min_length >= 0) {
        int n = snprintf(buf, sizeof buf, "%ld", c->min_length);
        if ((st = w_key(w, "minLength")) || (st = w_scalar(w, buf, (size_t)n, S_PLAIN))) return st;
    }
    if (c->max_length >= 0) {
        int n = snprintf(buf, sizeof buf, "%ld", c->max_length);
        if ((st = w_key(w, "maxLength")) || (st = w_scalar(w, buf, (size_t)n, S_PLAIN))) return st;
    }
    if ((st = w_pair(w, "pattern", c->pattern))) return st;
    if (c->enum_values) {
        if ((st = w_key(w, "enum")) || (st = w_start(w, false, true))) return st;
        for (size_t i = 0; i < c->enum_values->len; i++) {
            jp_value_t v;
            jp_column_get(c->enum_values, i, &v);
            if ((st = w_value(w, &v))) return st;
        }
        if ((st = w_end(w, false))) return st;
    }
    return w_end(w, true);
}

/* Refuse what the reader would refuse, before writing anything. */
static jp_status_t w_check(wr_t *w, const jp_dataset_t *ds)
{
    const jp_schema_t *s = &ds->schema;
    char ubuf[64];
    for (size_t i = 0; i < s->n_fields; i++) {
        const jp_field_t *f = &s->fields[i];
        w->field = f->name;
        if (f->type <= JP_TYPE_NONE || f->type >= JP_TYPE_COUNT)
            return w_fail(w, JP_ERR_INVALID, "the field has no type");
        if (f->unit && !jp_unit_canonical(f->unit, ubuf, sizeof ubuf))
            return w_fail(w, JP_ERR_INVALID, "unknown unit '%s'", f->unit);
        if (!f->unit_field) continue;
        if (f->unit) return w_fail(w, JP_ERR_INVALID, "the field has both a unit and a unit_field");
        long j = jp_schema_find(s, f->unit_field);
        if (j < 0 || (size_t)j == i || s->fields[j].type != JP_TYPE_STRING)
            return w_fail(w, JP_ERR_INVALID, "unit_field '%s' does not name another string field",
                          f->unit_field);
        const jp_column_t *c = ds->cols[j];
        w->field = s->fields[j].name;
        for (size_t r = 0; r < c->len; r++) {
            if (jp_column_is_null(c, r)) continue;
            size_t n;
            const char *t = jp_column_str(c, r, &n);
            char tmp[64];
            if (n >= sizeof tmp || memchr(t, 0, n)) n = sizeof tmp - 1;
            memcpy(tmp, t, n);
            tmp[n] = '\0';
            if (!jp_unit_canonical(tmp, ubuf, sizeof ubuf)) {
                w->row = (long)r + 1;
                return w_fail(w, JP_ERR_INVALID, "'%s' is not a known unit", tmp);
            }
        }
    }
    w->field = NULL;
    w->row = 0;
    return JP_OK;
}

static jp_status_t w_field(wr_t *w, const jp_field_t *f)
{
    jp_status_t st;
    const char *tn = jp_type_name(f->type);
    if ((st = w_start(w, true, false)) || (st = w_pair(w, "name", f->name)) ||
        (st = w_key(w, "type")) || (st = w_scalar(w, tn, strlen(tn), S_PLAIN)) ||
        (st = w_pair(w, "unit", f->unit)) || (st = w_pair(w, "unit_field", f->unit_field)) ||
        (st = w_pair(w, "title", f->title)) || (st = w_pair(w, "description", f->description)) ||
        (st = w_pair(w, "source", f->source)) || (st = w_constraints(w, f)))
        return st;
    return w_end(w, true);
}

static jp_status_t w_document(wr_t *w, jp_dataset_t *ds, bool with_rows)
{
    const jp_meta_t *m = &ds->meta;
    const jp_schema_t *s = &ds->schema;
    yaml_event_t ev;
    jp_status_t st;
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
        return w_fail(w, JP_ERR_NOMEM, "out of memory");
    if ((st = w_emit(w, &ev))) return st;
    if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
        return w_fail(w, JP_ERR_NOMEM, "out of memory");
    if ((st = w_emit(w, &ev))) return st;
    if ((st = w_start(w, true, false))) return st;
    if ((st = w_key(w, "jinpu")) || (st = w_scalar(w, "1", 1, S_PLAIN))) return st;
    if ((st = w_pair(w, "name", m->name)) || (st = w_pair(w, "title", m->title)) ||
        (st = w_pair(w, "description", m->description)) || (st = w_pair(w, "source", m->source)) ||
        (st = w_pair(w, "source_file", m->source_file)) || (st = w_pair(w, "period", m->period)) ||
        (st = w_pair(w, "license", m->license)))
        return st;
    if (m->n_notes) {
        if ((st = w_key(w, "notes")) || (st = w_start(w, false, false))) return st;
        for (size_t i = 0; i < m->n_notes; i++)
            if ((st = w_str(w, m->notes[i]))) return st;
        if ((st = w_end(w, false))) return st;
    }
    if ((st = w_key(w, "fields")) || (st = w_start(w, false, false))) return st;
    for (size_t i = 0; i < s->n_fields; i++)
        if ((st = w_field(w, &s->fields[i]))) return st;
    if ((st = w_end(w, false))) return st;
    if (s->n_primary_key &&
        ((st = w_key(w, "primary_key")) || (st = w_names(w, s->primary_key, s->n_primary_key))))
        return st;
    if (s->n_foreign_keys) {
        if ((st = w_key(w, "foreign_keys")) || (st = w_start(w, false, false))) return st;
        for (size_t i = 0; i < s->n_foreign_keys; i++) {
            const jp_foreign_key_t *fk = &s->foreign_keys[i];
            if ((st = w_start(w, true, false)) || (st = w_key(w, "fields")) ||
                (st = w_names(w, fk->fields, fk->n_fields)) || (st = w_key(w, "reference")) ||
                (st = w_start(w, true, true)) || (st = w_pair(w, "dataset", fk->ref_dataset)) ||
                (st = w_key(w, "fields")) || (st = w_names(w, fk->ref_fields, fk->n_fields)) ||
                (st = w_end(w, true)) || (st = w_end(w, true)))
                return st;
        }
        if ((st = w_end(w, false))) return st;
    }
    if (with_rows) {
        if ((st = w_key(w, "rows")) || (st = w_start(w, false, ds->nrows == 0))) return st;
        for (size_t r = 0; r < ds->nrows; r++) {
            w->row = (long)r + 1;
            if (jp_stop_due(r)) {
                jp_error_t e;
                jp_error_clear(&e);
                if ((st = jp_stop_check(&e))) return w_fail(w, st, "%s", e.msg);
            }
            if ((st = w_start(w, true, true))) return st;
            for (size_t i = 0; i < s->n_fields; i++) {
                jp_value_t v;
                w->field = s->fields[i].name;
                jp_column_get(ds->cols[i], r, &v);
                /* a field name is text like any other: "null" must stay a name */
                if ((st = w_str(w, s->fields[i].name)) || (st = w_value(w, &v))) return st;
            }
            w->field = NULL;
            if ((st = w_end(w, true))) return st;
        }
        w->row = 0;
        if ((st = w_end(w, false))) return st;
    }
    if ((st = w_end(w, true))) return st;
    if (!yaml_document_end_event_initialize(&ev, 1))
        return w_fail(w, JP_ERR_NOMEM, "out of memory");
    if ((st = w_emit(w, &ev))) return st;
    if (!yaml_stream_end_event_initialize(&ev)) return w_fail(w, JP_ERR_NOMEM, "out of memory");
    if ((st = w_emit(w, &ev))) return st;
    if (!yaml_emitter_flush(&w->em)) return w_emitter_error(w);
    return JP_OK;
}

static jp_status_t write_doc(jp_dataset_t *ds, bool with_rows, jp_buf_t *buf, FILE *fp,
                             jp_error_t *err)
{
    wr_t w;
    memset(&w, 0, sizeof w);
    w.err = err;
    w.buf = buf;
    w.fp = fp;
    jp_status_t st = jp_dataset_need_all(ds, err);
    if (st) return st;
    if ((st = w_check(&w, ds))) return st;
    if (!yaml_emitter_initialize(&w.em)) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    yaml_emitter_set_output(&w.em, w_out, &w);
    yaml_emitter_set_unicode(&w.em, 1);
    yaml_emitter_set_width(&w.em, -1); /* a row stays on one line */
    yaml_emitter_set_indent(&w.em, 2);
    st = w_document(&w, ds, with_rows);
    yaml_emitter_delete(&w.em);
    return st;
}

jp_status_t jp_yaml_write_buf(jp_dataset_t *ds, bool with_rows, jp_buf_t *out, jp_error_t *err)
{
    size_t was = out->len;
    jp_status_t st = write_doc(ds, with_rows, out, NULL, err);
    if (st) {
        out->len = was;
        if (out->data) out->data[was] = '\0';
    }
    return st;
}

static jp_status_t yaml_write(jp_dataset_t *ds, const char *path, const jp_write_opts_t *o,
                              jp_error_t *err)
{
    (void)o;
    jp_atomic_t af;
    jp_status_t st = jp_atomic_open(&af, path, err);
    if (st) return st;
    if ((st = write_doc(ds, true, NULL, af.fp, err))) {
        jp_atomic_abort(&af);
        if (err && !err->file[0]) jp_error_at(err, path, 0, 0);
        return st;
    }
    return jp_atomic_commit(&af, err);
}

static jp_status_t yaml_write_mem(jp_dataset_t *ds, const jp_write_opts_t *o, jp_buf_t *out,
                                  jp_error_t *err)
{
    (void)o;
    return jp_yaml_write_buf(ds, true, out, err);
}

/* ---- the format ------------------------------------------------------------------------ */

bool jp_yaml_sniff(const unsigned char *h, size_t n)
{
    size_t i = 0;
    if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) i = 3;
    while (i < n) {
        size_t e = i;
        while (e < n && h[e] != '\n') e++;
        size_t k = i;
        while (k < e && (h[k] == ' ' || h[k] == '\t' || h[k] == '\r')) k++;
        bool skip_line = k == e || h[k] == '#' || (k == i && h[k] == '%') ||
                         (k == i && e - i >= 3 && memcmp(h + i, "---", 3) == 0 &&
                          (e - i == 3 || h[i + 3] == ' ' || h[i + 3] == '\r'));
        if (!skip_line)
            return k == i && e - i >= 6 && memcmp(h + i, "jinpu:", 6) == 0 &&
                   (e - i == 6 || h[i + 6] == ' ' || h[i + 6] == '\t' || h[i + 6] == '\r');
        i = e + 1;
    }
    return false;
}

static const char *const exts[] = {".yaml", ".yml", NULL};

const jp_format_t jp_format_yaml = {
    "yaml",        exts,          "jinpu dataset (YAML, docs/format.md)",
    jp_yaml_sniff, yaml_read,     yaml_read_mem,
    yaml_write,    yaml_write_mem};
