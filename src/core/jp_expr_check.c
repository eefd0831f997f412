/*
 * jp_expr_check.c - the expression type checker: each node's type from its
 * operands' (the node array is in post-order, so one loop checks operands
 * first), the unit derived from the operands' units, and constant parts
 * folded once, at their top.  Errors name the operator or the argument and
 * its column.
 *
 * Owns the typing rules and unit derivation.  Must never: emit code (the
 * generator does) or evaluate anything but a constant part (jpx_fold).
 */
#include <stdio.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_mem.h"
#include "jp_regex.h"
#include "jp_unit.h"

/* ---- type checking -------------------------------------------------------- */

static const char *ty_name(jp_type_t t)
{
    return t == TY_NIL ? "nil" : jp_type_name(t);
}

/* "string 'crop'", "number 3", "number (a + b)" for messages. */
static const char *describe(cstate_t *cs, int id, char *buf, size_t size)
{
    node_t *n = &cs->nodes[id];
    if (n->kind == N_FIELD)
        snprintf(buf, size, "%s '%s'", ty_name(n->type), cs->schema->fields[n->field].name);
    else if (n->type == TY_NIL)
        snprintf(buf, size, "nil");
    else {
        size_t len = n->end - n->pos;
        if (len > 40)
            snprintf(buf, size, "%s %.37s...", ty_name(n->type), cs->src + n->pos);
        else
            snprintf(buf, size, "%s %.*s", ty_name(n->type), (int)len, cs->src + n->pos);
    }
    return buf;
}

/* Common type of two branches (or/if_else/coalesce/min/max); NONE if none. */
static jp_type_t unify(jp_type_t a, jp_type_t b)
{
    if (a == TY_NIL) return b;
    if (b == TY_NIL) return a;
    if (a == b) return a;
    if (jpx_is_num(a) && jpx_is_num(b)) return JP_TYPE_NUMBER;
    return JP_TYPE_NONE;
}

static bool unit_is(const char *u, const char *v)
{
    return u[0] && strcmp(u, v) == 0;
}

/* A per-row unit (see derive_unit), which only the "keep" rules carry. */
static bool is_symbol(const char *u)
{
    return u[0] == JPX_UNIT_FIELD_MARK;
}

static void derive_unit(cstate_t *cs, node_t *n)
{
    n->unit[0] = '\0';
    const jp_schema_t *s = cs->schema;
    if (!jpx_is_num(n->type)) return;
    node_t *a = n->kids[0] >= 0 ? &cs->nodes[n->kids[0]] : NULL;
    node_t *b = n->kids[1] >= 0 ? &cs->nodes[n->kids[1]] : NULL;
    switch (n->kind) {
    case N_FIELD: {
        const jp_field_t *f = &s->fields[n->field];
        if (f->unit_field) {
            /* a unit given per row (by another field): a symbol the rules
               carry like a unit, equal only to itself */
            if (strlen(f->unit_field) + 2 <= sizeof n->unit)
                snprintf(n->unit, sizeof n->unit, "%c%s", JPX_UNIT_FIELD_MARK, f->unit_field);
        } else if (f->unit)
            snprintf(n->unit, sizeof n->unit, "%s", f->unit);
        return;
    }
    case N_UNARY:
        if (n->op == T_SUB) memcpy(n->unit, a->unit, sizeof n->unit);
        return;
    case N_OR:
        if (strcmp(a->unit, b->unit) == 0 || b->kind == N_CONST)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (a->type == TY_NIL)
            memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case N_AND:
        memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case N_BINARY:
        break;
    case N_CALL: {
        if (jpx_is_window(n->op)) {
            /* the value's unit, when it is one unit: a per-row unit would
               mix the units of other rows */
            bool keeps = n->op != F_COUNT && n->op != F_ROW_NUMBER && n->op != F_RANK &&
                         n->op != F_DENSE_RANK && n->op != F_CUMPROD;
            const node_t *x = n->nargs ? &cs->nodes[n->args[0]] : NULL;
            const node_t *dv = n->nargs == 3 ? &cs->nodes[n->args[2]] : NULL;
            if (keeps && x && !is_symbol(x->unit) &&
                (!dv || dv->kind == N_CONST || strcmp(dv->unit, x->unit) == 0))
                memcpy(n->unit, x->unit, sizeof n->unit);
            return;
        }
        /* functions that keep their argument's unit */
        if (n->op == F_ABS || n->op == F_FLOOR || n->op == F_CEIL || n->op == F_ROUND) {
            memcpy(n->unit, cs->nodes[n->args[0]].unit, sizeof n->unit);
        } else if (n->op == F_MIN || n->op == F_MAX || n->op == F_COALESCE || n->op == F_IF_ELSE) {
            int from = n->op == F_IF_ELSE ? 1 : 0;
            const char *u = NULL;
            for (int k = from; k < n->nargs; k++) {
                node_t *x = &cs->nodes[n->args[k]];
                /* a literal takes the others' unit, as in `x or 0` */
                if (x->type == TY_NIL || (x->kind == N_CONST && !x->unit[0])) continue;
                if (!u)
                    u = x->unit;
                else if (strcmp(u, x->unit) != 0)
                    return;
            }
            if (u) snprintf(n->unit, sizeof n->unit, "%s", u);
        }
        return;
    }
    default:
        return;
    }
    bool ac = a->kind == N_CONST, bc = b->kind == N_CONST;
    switch (n->op) {
    case T_ADD:
    case T_SUB:
        if (unit_is(a->unit, b->unit) || (a->unit[0] && bc))
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (b->unit[0] && ac)
            memcpy(n->unit, b->unit, sizeof n->unit);
        return;
    case T_MUL: {
        if (a->unit[0] && bc)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (b->unit[0] && ac)
            memcpy(n->unit, b->unit, sizeof n->unit);
        else if (a->unit[0] && b->unit[0] && !is_symbol(a->unit) && !is_symbol(b->unit)) {
            /* (X/Y) * Y = X */
            const node_t *p = a, *q = b;
            for (int k = 0; k < 2; k++) {
                const char *sl = strchr(p->unit, '/');
                if (sl && strcmp(sl + 1, q->unit) == 0) {
                    snprintf(n->unit, sizeof n->unit, "%.*s", (int)(sl - p->unit), p->unit);
                    return;
                }
                p = b;
                q = a;
            }
        }
        return;
    }
    case T_DIV:
    case T_IDIV:
        if (a->unit[0] && bc)
            memcpy(n->unit, a->unit, sizeof n->unit);
        else if (a->unit[0] && b->unit[0] && strcmp(a->unit, b->unit) != 0 && !is_symbol(a->unit) &&
                 !is_symbol(b->unit) && !strchr(a->unit, '/') && !strchr(b->unit, '/')) {
            char text[140], buf[64];
            snprintf(text, sizeof text, "%s/%s", a->unit, b->unit);
            const char *c = jp_unit_canonical(text, buf, sizeof buf);
            if (c) snprintf(n->unit, sizeof n->unit, "%s", c);
        }
        return;
    default:
        return;
    }
}

/* A constant operand the checker must see as a value (round's digits, a
 * date literal): fold it now rather than with its enclosing constant part. */
static jp_status_t ensure_const(cstate_t *cs, int id)
{
    if (cs->nodes[id].kind != N_CONST && cs->nodes[id].konst) return jpx_fold(cs, id);
    return JP_OK;
}

static const char *fn_name(int id)
{
    if (id == F_AGG_MIN || id == F_AGG_MAX) return id == F_AGG_MIN ? "min" : "max";
    for (size_t k = 0; k < JPX_NFNS; k++)
        if (jpx_fns[k].id == id) return jpx_fns[k].name;
    return "?";
}

/* The name the call was written with (sub and substr are one function). */
static const char *call_name(cstate_t *cs, const node_t *n, char *buf, size_t size)
{
    if (n->op == F_SUBSTR && n->op_pos < cs->srclen) {
        size_t k = 0;
        while (n->op_pos + k < cs->srclen && k + 1 < size &&
               (cs->src[n->op_pos + k] == '_' ||
                (cs->src[n->op_pos + k] >= 'a' && cs->src[n->op_pos + k] <= 'z'))) {
            buf[k] = cs->src[n->op_pos + k];
            k++;
        }
        buf[k] = '\0';
        if (k) return buf;
    }
    return fn_name(n->op);
}

static jp_status_t str_to_date(cstate_t *cs, int id);

/* one_of(x, v1, v2, ...): x a value, the others literals of its type (a
 * string literal for a date is read as a date). */
static jp_status_t check_one_of(cstate_t *cs, node_t *n)
{
    char d1[120];
    jp_type_t t0 = cs->nodes[n->args[0]].type;
    if (t0 == TY_NIL || t0 == JP_TYPE_PERIOD)
        return jpx_err(cs, cs->nodes[n->args[0]].pos,
                       "one_of() needs a number, string, date or boolean, not %s (column %zu)",
                       describe(cs, n->args[0], d1, sizeof d1), cs->nodes[n->args[0]].pos + 1);
    jp_type_t t = t0;
    for (int k = 1; k < n->nargs; k++) {
        if (ensure_const(cs, n->args[k])) return cs->st;
        node_t *v = &cs->nodes[n->args[k]];
        if (v->kind != N_CONST || v->type == TY_NIL || v->is_null)
            return jpx_err(cs, v->pos,
                           "one_of() needs literal values after its first argument, not %s "
                           "(column %zu)",
                           describe(cs, n->args[k], d1, sizeof d1), v->pos + 1);
        if (t0 == JP_TYPE_DATE && v->type == JP_TYPE_STRING && str_to_date(cs, n->args[k]))
            return cs->st;
        jp_type_t u = unify(t, v->type);
        if (u == JP_TYPE_NONE) {
            char d2[120];
            return jpx_err(cs, v->pos, "one_of() cannot compare %s with %s (column %zu)",
                           describe(cs, n->args[0], d1, sizeof d1),
                           describe(cs, n->args[k], d2, sizeof d2), v->pos + 1);
        }
        t = u;
    }
    n->type = JP_TYPE_BOOL;
    return JP_OK;
}

/* matches(s, pattern): the pattern a string known now, compiled now so that
 * a bad or too large one is refused before anything runs. */
static jp_status_t check_matches(cstate_t *cs, node_t *n)
{
    if (ensure_const(cs, n->args[1])) return cs->st;
    node_t *p = &cs->nodes[n->args[1]];
    if (p->kind != N_CONST || p->type != JP_TYPE_STRING || p->is_null)
        return jpx_err(cs, p->pos, "matches() needs a literal string as its pattern (column %zu)",
                       p->pos + 1);
    if (memchr(p->s, '\0', p->slen))
        return jpx_err(cs, p->pos, "matches(): a pattern cannot contain a NUL byte (column %zu)",
                       p->pos + 1);
    jp_error_t e;
    jp_error_clear(&e);
    char *pat = jp_strndup(p->s, p->slen);
    if (!pat) return jpx_nomem(cs);
    jp_regex_t *re = jp_regex_compile(pat, &e);
    jp_free(pat);
    if (!re) {
        if (e.code == JP_ERR_NOMEM) return jpx_nomem(cs);
        return jpx_err(cs, p->pos, "matches(): %s (column %zu)", e.msg, p->pos + 1);
    }
    jp_regex_free(re);
    n->type = JP_TYPE_BOOL;
    return JP_OK;
}

static bool orderable(jp_type_t t)
{
    return t == JP_TYPE_INT || t == JP_TYPE_NUMBER || t == JP_TYPE_STRING || t == JP_TYPE_DATE ||
           t == JP_TYPE_BOOL;
}

/* Aggregates and window functions: their arguments' types, and lag/lead's
 * offset, which must be a whole number known at compile time. */
static jp_status_t check_window(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    char d1[120];
    const char *name = fn_name(n->op);
    jp_type_t t0 = n->nargs ? cs->nodes[n->args[0]].type : JP_TYPE_NONE;
#define BAD_ARG(k, want)                                                                           \
    return jpx_err(cs, cs->nodes[n->args[k]].pos, "%s() needs %s, not %s (column %zu)", name,      \
                   want, describe(cs, n->args[k], d1, sizeof d1), cs->nodes[n->args[k]].pos + 1)
    switch (n->op) {
    case F_SUM:
    case F_CUMSUM:
        if (!jpx_is_num(t0)) BAD_ARG(0, "numbers");
        n->type = t0;
        break;
    case F_MEAN:
    case F_MEDIAN:
    case F_CUMMEAN:
    case F_CUMPROD:
        if (!jpx_is_num(t0)) BAD_ARG(0, "numbers");
        n->type = JP_TYPE_NUMBER;
        break;
    case F_COUNT:
    case F_ROW_NUMBER:
        n->type = JP_TYPE_INT;
        break;
    case F_RANK:
    case F_DENSE_RANK:
        if (!orderable(t0)) BAD_ARG(0, "numbers, strings, dates or booleans");
        n->type = JP_TYPE_INT;
        break;
    case F_AGG_MIN:
    case F_AGG_MAX:
    case F_CUMMAX:
    case F_CUMMIN:
        if (!orderable(t0)) BAD_ARG(0, "numbers, strings, dates or booleans");
        n->type = t0;
        break;
    case F_FIRST:
    case F_LAST:
        if (t0 == TY_NIL || t0 == JP_TYPE_PERIOD) BAD_ARG(0, "a value that is not a period");
        n->type = t0;
        break;
    default: { /* lag, lead */
        if (t0 == TY_NIL || t0 == JP_TYPE_PERIOD) BAD_ARG(0, "a value that is not a period");
        jp_type_t t = t0;
        if (n->nargs >= 2) {
            if (ensure_const(cs, n->args[1])) return cs->st;
            node_t *o = &cs->nodes[n->args[1]];
            if (o->kind != N_CONST || o->type != JP_TYPE_INT || o->is_null || o->i < 0)
                return jpx_err(cs, o->pos,
                               "%s() needs a whole number of rows, 0 or more, as its offset "
                               "(column %zu)",
                               name, o->pos + 1);
        }
        if (n->nargs == 3) {
            t = unify(t0, cs->nodes[n->args[2]].type);
            if (t == JP_TYPE_NONE || t == JP_TYPE_PERIOD)
                return jpx_err(cs, cs->nodes[n->args[2]].pos,
                               "%s() cannot mix %s with its default %s (column %zu)", name,
                               ty_name(t0), describe(cs, n->args[2], d1, sizeof d1),
                               cs->nodes[n->args[2]].pos + 1);
        }
        n->type = t;
        break;
    }
    }
#undef BAD_ARG
    return JP_OK;
}

static jp_status_t check_call(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    char d1[120];
    const char *name = fn_name(n->op);
    if (jpx_is_window(n->op)) return check_window(cs, id);
    char nbuf[16];
    name = call_name(cs, n, nbuf, sizeof nbuf);
    jp_type_t t0 = cs->nodes[n->args[0]].type;
#define ARGT(k) (cs->nodes[n->args[k]].type)
#define BAD_ARG(k, want)                                                                           \
    return jpx_err(cs, cs->nodes[n->args[k]].pos, "%s() needs %s, not %s (column %zu)", name,      \
                   want, describe(cs, n->args[k], d1, sizeof d1), cs->nodes[n->args[k]].pos + 1)
    switch (n->op) {
    case F_ABS:
        if (!jpx_is_num(t0)) BAD_ARG(0, "a number");
        n->type = t0;
        break;
    case F_FLOOR:
    case F_CEIL:
        if (!jpx_is_num(t0)) BAD_ARG(0, "a number");
        n->type = JP_TYPE_INT;
        break;
    case F_ROUND:
        if (!jpx_is_num(t0)) BAD_ARG(0, "a number");
        if (n->nargs == 2) {
            if (ensure_const(cs, n->args[1])) return cs->st;
            node_t *dg = &cs->nodes[n->args[1]];
            if (dg->kind != N_CONST || dg->type != JP_TYPE_INT || dg->i < -15 || dg->i > 15)
                return jpx_err(cs, dg->pos,
                               "round() needs a whole number of digits from -15 to 15 (column %zu)",
                               dg->pos + 1);
        }
        n->type = JP_TYPE_NUMBER;
        break;
    case F_SQRT:
    case F_EXP:
        if (!jpx_is_num(t0)) BAD_ARG(0, "a number");
        n->type = JP_TYPE_NUMBER;
        break;
    case F_LOG:
        if (!jpx_is_num(t0)) BAD_ARG(0, "a number");
        if (n->nargs == 2 && !jpx_is_num(ARGT(1))) BAD_ARG(1, "a number as the base");
        n->type = JP_TYPE_NUMBER;
        break;
    case F_MIN:
    case F_MAX: {
        jp_type_t t = TY_NIL;
        for (int k = 0; k < n->nargs; k++) {
            jp_type_t tk = ARGT(k);
            if (tk != TY_NIL && tk != JP_TYPE_INT && tk != JP_TYPE_NUMBER && tk != JP_TYPE_STRING &&
                tk != JP_TYPE_DATE)
                BAD_ARG(k, "numbers, strings or dates");
            jp_type_t u = unify(t, tk);
            if (u == JP_TYPE_NONE)
                return jpx_err(cs, cs->nodes[n->args[k]].pos,
                               "%s() cannot mix %s with %s (column %zu)", name, ty_name(t),
                               describe(cs, n->args[k], d1, sizeof d1),
                               cs->nodes[n->args[k]].pos + 1);
            t = u;
        }
        if (t == TY_NIL)
            return jpx_err(cs, n->pos, "%s() of nil has no type (column %zu)", name, n->pos + 1);
        n->type = t;
        break;
    }
    case F_COALESCE: {
        jp_type_t t = TY_NIL;
        for (int k = 0; k < n->nargs; k++) {
            jp_type_t u = unify(t, ARGT(k));
            if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD)
                return jpx_err(cs, cs->nodes[n->args[k]].pos,
                               "coalesce() cannot mix %s with %s (column %zu)", ty_name(t),
                               describe(cs, n->args[k], d1, sizeof d1),
                               cs->nodes[n->args[k]].pos + 1);
            t = u;
        }
        if (t == TY_NIL)
            return jpx_err(cs, n->pos, "coalesce() of nil has no type (column %zu)", n->pos + 1);
        n->type = t;
        break;
    }
    case F_IF_ELSE: {
        jp_type_t u = unify(ARGT(1), ARGT(2));
        if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD) {
            char d2[120];
            return jpx_err(cs, n->pos, "if_else() branches differ: %s and %s (column %zu)",
                           describe(cs, n->args[1], d1, sizeof d1),
                           describe(cs, n->args[2], d2, sizeof d2), n->pos + 1);
        }
        if (u == TY_NIL)
            return jpx_err(cs, n->pos, "if_else() of nil has no type (column %zu)", n->pos + 1);
        n->type = u;
        break;
    }
    case F_LOWER:
    case F_UPPER:
    case F_TRIM:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        n->type = JP_TYPE_STRING;
        break;
    case F_LEN:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        n->type = JP_TYPE_INT;
        break;
    case F_SUBSTR:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        if (ARGT(1) != JP_TYPE_INT) BAD_ARG(1, "an integer position");
        if (n->nargs == 3 && ARGT(2) != JP_TYPE_INT) BAD_ARG(2, "an integer position");
        n->type = JP_TYPE_STRING;
        break;
    case F_CONTAINS:
    case F_STARTS_WITH:
    case F_ENDS_WITH:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        if (ARGT(1) != JP_TYPE_STRING) BAD_ARG(1, "a string");
        n->type = JP_TYPE_BOOL;
        break;
    case F_MATCHES:
        if (t0 != JP_TYPE_STRING) BAD_ARG(0, "a string");
        return check_matches(cs, n);
    case F_ONE_OF:
        return check_one_of(cs, n);
    case F_TOSTRING:
        if (t0 != JP_TYPE_INT && t0 != JP_TYPE_NUMBER && t0 != JP_TYPE_STRING &&
            t0 != JP_TYPE_BOOL && t0 != JP_TYPE_DATE)
            BAD_ARG(0, "a number, string, boolean or date");
        n->type = JP_TYPE_STRING;
        break;
    case F_YEAR:
    case F_MONTH:
    case F_DAY:
        if (t0 != JP_TYPE_DATE && t0 != JP_TYPE_PERIOD) BAD_ARG(0, "a date or a period");
        n->type = JP_TYPE_INT;
        break;
    default:
        return jpx_err(cs, n->pos, "internal: unknown function");
    }
#undef ARGT
#undef BAD_ARG
    return JP_OK;
}

/* A string literal compared with a date: read it as a date now. */
static jp_status_t str_to_date(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    int32_t d;
    if (!jp_date_parse(n->s, n->slen, &d))
        return jpx_err(cs, n->pos, "'%.*s' at column %zu is not a date (YYYY-MM-DD)", (int)n->slen,
                       n->s, n->pos + 1);
    jp_free(n->s);
    n->s = NULL;
    n->type = JP_TYPE_DATE;
    n->i = d;
    return JP_OK;
}

/* Check one node whose operands are checked (the node array is in
 * post-order, so a loop over it checks every operand first). */
static jp_status_t check_node(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    char d1[120], d2[120];
    switch (n->kind) {
    case N_CONST:
        return JP_OK;
    case N_FIELD: {
        jp_type_t t = cs->schema->fields[n->field].type;
        if (t == JP_TYPE_NONE && !cs->defer_types)
            return jpx_err(cs, n->pos, "field '%s' at column %zu has no type yet",
                           cs->schema->fields[n->field].name, n->pos + 1);
        n->type = t;
        derive_unit(cs, n);
        return JP_OK;
    }
    default:
        break;
    }
    if (cs->defer_types) return JP_OK;
    n = &cs->nodes[id]; /* (nodes do not move while checking, but be safe) */
    node_t *a = n->kids[0] >= 0 ? &cs->nodes[n->kids[0]] : NULL;
    node_t *b = n->kids[1] >= 0 ? &cs->nodes[n->kids[1]] : NULL;
    switch (n->kind) {
    case N_UNARY:
        if (n->op == T_NOT)
            n->type = JP_TYPE_BOOL;
        else if (n->op == T_SUB) {
            if (!jpx_is_num(a->type))
                return jpx_err(cs, n->pos, "cannot negate %s at column %zu",
                               describe(cs, n->kids[0], d1, sizeof d1), n->pos + 1);
            n->type = a->type;
        } else { /* # */
            if (a->type != JP_TYPE_STRING)
                return jpx_err(cs, n->pos, "cannot take the length (#) of %s at column %zu",
                               describe(cs, n->kids[0], d1, sizeof d1), n->pos + 1);
            n->type = JP_TYPE_INT;
        }
        break;
    case N_AND:
        if (a->type == TY_NIL) {
            n->type = b->type == TY_NIL ? TY_NIL : b->type;
        } else
            n->type = b->type;
        if (n->type == TY_NIL)
            return jpx_err(cs, n->op_pos, "'and' of nil has no type (column %zu)", n->op_pos + 1);
        if (n->type == JP_TYPE_PERIOD)
            return jpx_err(cs, n->op_pos, "'and' cannot yield a period (column %zu)",
                           n->op_pos + 1);
        break;
    case N_OR: {
        jp_type_t u = unify(a->type, b->type);
        if (u == JP_TYPE_NONE || u == JP_TYPE_PERIOD)
            return jpx_err(cs, n->op_pos, "cannot mix %s with %s in 'or' at column %zu",
                           describe(cs, n->kids[0], d1, sizeof d1),
                           describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
        if (u == TY_NIL)
            return jpx_err(cs, n->op_pos, "'or' of nil has no type (column %zu)", n->op_pos + 1);
        n->type = u;
        break;
    }
    case N_BINARY: {
        int op = n->op;
        jp_type_t ta = a->type, tb = b->type;
        switch (op) {
        case T_ADD:
        case T_SUB:
        case T_MUL:
        case T_DIV:
        case T_IDIV:
        case T_MOD:
        case T_POW: {
            static const char *const verbs[] = {"add",    "subtract", "multiply",
                                                "divide", "divide",   "take the remainder of",
                                                "raise"};
            if (!jpx_is_num(ta) || !jpx_is_num(tb)) {
                int bad = !jpx_is_num(ta) ? n->kids[0] : n->kids[1];
                (void)bad;
                return jpx_err(cs, n->op_pos, "cannot %s %s and %s (operator '%s' at column %zu)",
                               verbs[op - T_ADD], describe(cs, n->kids[0], d1, sizeof d1),
                               describe(cs, n->kids[1], d2, sizeof d2), jpx_tok_text(op),
                               n->op_pos + 1);
            }
            if (op == T_DIV || op == T_POW)
                n->type = JP_TYPE_NUMBER;
            else
                n->type = (ta == JP_TYPE_INT && tb == JP_TYPE_INT) ? JP_TYPE_INT : JP_TYPE_NUMBER;
            break;
        }
        case T_CONCAT: {
            jp_type_t ok[] = {JP_TYPE_STRING, JP_TYPE_INT, JP_TYPE_NUMBER};
            bool oka = false, okb = false;
            for (int k = 0; k < 3; k++) {
                oka |= ta == ok[k];
                okb |= tb == ok[k];
            }
            if (!oka || !okb)
                return jpx_err(cs, n->op_pos,
                               "cannot concatenate %s and %s (operator '..' at column "
                               "%zu; use tostring())",
                               describe(cs, n->kids[0], d1, sizeof d1),
                               describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
            n->type = JP_TYPE_STRING;
            break;
        }
        default: { /* comparisons */
            bool eq = op == T_EQ || op == T_NE;
            /* a date compared with a string literal reads the literal as a date */
            if (ta == JP_TYPE_DATE && tb == JP_TYPE_STRING && b->konst) {
                if (ensure_const(cs, n->kids[1]) || str_to_date(cs, n->kids[1])) return cs->st;
                tb = JP_TYPE_DATE;
            } else if (tb == JP_TYPE_DATE && ta == JP_TYPE_STRING && a->konst) {
                if (ensure_const(cs, n->kids[0]) || str_to_date(cs, n->kids[0])) return cs->st;
                ta = JP_TYPE_DATE;
            }
            bool okt;
            if (ta == TY_NIL || tb == TY_NIL)
                okt = eq;
            else if (jpx_is_num(ta) && jpx_is_num(tb))
                okt = true;
            else if (ta != tb)
                okt = false;
            else if (ta == JP_TYPE_STRING || ta == JP_TYPE_DATE)
                okt = true;
            else if (ta == JP_TYPE_BOOL)
                okt = eq;
            else
                okt = false;
            if (!okt) {
                if ((ta == TY_NIL || tb == TY_NIL) && !eq)
                    return jpx_err(cs, n->op_pos,
                                   "cannot order nil with '%s' at column %zu (use == "
                                   "nil or ~= nil)",
                                   jpx_tok_text(op), n->op_pos + 1);
                if (ta == tb)
                    return jpx_err(cs, n->op_pos, "cannot %s %s values with '%s' at column %zu",
                                   eq ? "compare" : "order", ty_name(ta), jpx_tok_text(op),
                                   n->op_pos + 1);
                return jpx_err(cs, n->op_pos, "cannot compare %s with %s at column %zu",
                               describe(cs, n->kids[0], d1, sizeof d1),
                               describe(cs, n->kids[1], d2, sizeof d2), n->op_pos + 1);
            }
            n->type = JP_TYPE_BOOL;
        }
        }
        break;
    }
    case N_CALL:
        if (check_call(cs, id)) return cs->st;
        break;
    default:
        break;
    }
    derive_unit(cs, &cs->nodes[id]);
    return JP_OK;
}

/* Each node's parent, whether it is constant, whether it continues a chain
 * of '..', and how many registers its code needs (to generate the hungrier
 * operand first): one pass, operands before their nodes. */
static void annotate(cstate_t *cs)
{
    for (size_t id = 0; id < cs->n_nodes; id++) {
        node_t *n = &cs->nodes[id];
        n->parent = -1;
        n->chain = false;
        n->konst = n->kind == N_CONST;
        n->need = 0;
        if (n->kind == N_CONST || n->kind == N_FIELD) continue;
        bool k = true;
        int need = 0, held = 0;
        for (int j = 0; j < 3 + n->nargs; j++) {
            int c = j < 3 ? n->kids[j] : n->args[j - 3];
            if (c < 0) continue;
            node_t *kid = &cs->nodes[c];
            kid->parent = (int)id;
            k &= kid->konst;
            if (n->kind == N_BINARY && n->op == T_CONCAT && kid->kind == N_BINARY &&
                kid->op == T_CONCAT)
                kid->chain = true;
            if (kid->need + held > need) need = kid->need + held;
            if (kid->need > 0 && held < 1000000) held++;
        }
        n->konst = k && !(n->kind == N_CALL && jpx_is_window(n->op));
        if (n->kind == N_CALL && jpx_is_window(n->op)) {
            n->need = 0; /* its arguments run before the program: it is a load */
            continue;
        }
        /* binary nodes generate the hungrier side first */
        if (n->kids[1] >= 0 && n->kind != N_UNARY) {
            int na = cs->nodes[n->kids[0]].need, nb = cs->nodes[n->kids[1]].need;
            need = na == nb ? na + 1 : (na > nb ? na : nb);
        }
        n->need = (need > held ? need : held) + 1;
    }
}

/* Check every node, operands first, folding each constant part once: at
 * its top, where its parent is not constant. */
jp_status_t jpx_check_tree(cstate_t *cs)
{
    annotate(cs);
    for (size_t id = 0; id < cs->n_nodes; id++) {
        if (check_node(cs, (int)id)) return cs->st;
        node_t *n = &cs->nodes[id];
        if (!cs->defer_types && n->konst && n->kind != N_CONST &&
            (n->parent < 0 || !cs->nodes[n->parent].konst) && jpx_fold(cs, (int)id))
            return cs->st;
    }
    return JP_OK;
}
