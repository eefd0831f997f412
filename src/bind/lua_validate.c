/*
 * lua_validate.c - validation in Lua: the validator object the Lua half
 * (lua/jinpu/validate.lua) drives, the report object scripts read, and
 * ds:validate / jp.validate.
 *
 *   local v = jp._validator(ds[, {approx_tolerance = 0.05}])
 *   v:schema(datasets)                 the dataset's own schema (foreign keys
 *                                      resolved in the table name -> dataset)
 *   v:constraints(field, tbl, opts)    Frictionless constraints from Lua, + `type`
 *   v:expr(src, opts)                  a row expression
 *   v:key(fields, opts, primary)       v:foreign_key(fields, ref, ref_name, ref_fields, opts)
 *   v:rule(kind, opts, field, detail) -> id    v:fail(id, row, field, msg)
 *   v:checked(id, n)   v:broken(id, msg)   v:skipped(id, msg)   v:rows(where)
 *   local report = v:finish()
 *
 * Owns the translation between Lua tables and the core's constraints,
 * rule options and reports.  A malformed rule never raises here: it becomes
 * a broken rule in the report, named, so that one bad rule does not hide
 * the verdict of the others.  Misuse of this API (wrong argument types)
 * does raise.
 *
 * Longjmp safety: the core report lives in a userdata from the start;
 * constraints under construction live in a boxed userdata with __gc.
 */
#include <math.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_mem.h"
#include "jp_suggest.h"
#include "jp_validate.h"
#include "jpl.h"

#define VALIDATOR_MT "jinpu.validator"
#define REPORT_MT    "jinpu.report"
#define CBOX_MT      "jinpu.constraintsbox"

typedef struct {
    jp_report_t *r;
} box_t;

static jp_report_t *check_validator(lua_State *L)
{
    box_t *b = luaL_checkudata(L, 1, VALIDATOR_MT);
    if (!b->r) luaL_error(L, "validator: already finished");
    return b->r;
}

static jp_report_t *check_report(lua_State *L, int idx)
{
    box_t *b = luaL_checkudata(L, idx, REPORT_MT);
    if (!b->r) luaL_error(L, "report: already released");
    return b->r;
}

static int box_gc(lua_State *L)
{
    box_t *b = lua_touserdata(L, 1);
    if (b && b->r) {
        jp_report_free(b->r);
        b->r = NULL;
    }
    return 0;
}

/* A jp_buf_t owned by a userdata, so that a Lua error while its text is
 * pushed does not leak it. */
#define BUFBOX_MT "jinpu.bufbox"

static int bufbox_gc(lua_State *L)
{
    jp_buf_free(lua_touserdata(L, 1));
    return 0;
}

static jp_buf_t *push_bufbox(lua_State *L)
{
    jp_buf_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, BUFBOX_MT);
    return b;
}

/* [-1, +1, m] Replace the bufbox on top by its text (or raise on st). */
static void bufbox_result(lua_State *L, jp_buf_t *b, jp_status_t st)
{
    if (st != JP_OK) luaL_error(L, "out of memory");
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    jp_buf_free(b);
    lua_remove(L, -2);
}

static void nomem(lua_State *L, jp_status_t st)
{
    if (st != JP_OK) jpl_check_stop(L); /* a stopped check fails too */
    if (st == JP_ERR_NOMEM) luaL_error(L, "out of memory");
}

/* ---- rule options --------------------------------------------------------- */

/*
 * Read {name, where, reason, severity, mostly} from the table at idx (may be
 * none).  Strings point into the table (valid while it is on the stack).
 * A bad option is returned as a message (pushed) instead of raised.
 */
static const char *read_opts(lua_State *L, int idx, jp_rule_opts_t *o)
{
    jp_rule_opts_t init = JP_RULE_OPTS_INIT;
    *o = init;
    if (lua_isnoneornil(L, idx)) return NULL;
    luaL_checktype(L, idx, LUA_TTABLE);
    static const char *const keys[] = {"name", "where", "reason"};
    const char **slots[] = {&o->name, &o->where, &o->reason};
    for (int k = 0; k < 3; k++) {
        int t = lua_getfield(L, idx, keys[k]);
        if (t == LUA_TSTRING) *slots[k] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the string stays alive in the table */
        if (t != LUA_TSTRING && t != LUA_TNIL)
            return lua_pushfstring(L, "'%s' must be a string, not %s", keys[k], lua_typename(L, t));
    }
    int t = lua_getfield(L, idx, "severity");
    if (t != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        if (t != LUA_TSTRING || !jp_severity_from_name(s, &o->severity)) {
            lua_pop(L, 1);
            return lua_pushliteral(L, "severity must be \"error\" or \"warning\"");
        }
    }
    lua_pop(L, 1);
    t = lua_getfield(L, idx, "mostly");
    if (t != LUA_TNIL) {
        double m = lua_tonumber(L, -1);
        if (t != LUA_TNUMBER || !(m > 0 && m <= 1)) {
            lua_pop(L, 1);
            return lua_pushliteral(L, "mostly must be a number above 0 and at most 1");
        }
        o->mostly = m;
    }
    lua_pop(L, 1);
    return NULL;
}

/* Add a rule that is broken from the start (bad options, unknown field...). */
static void add_broken(lua_State *L, jp_report_t *r, const char *kind, const char *field,
                       const char *name, const char *msg)
{
    jp_rule_opts_t o = JP_RULE_OPTS_INIT;
    o.name = name;
    uint32_t id;
    jp_error_t e;
    jp_status_t st = jp_report_add_rule(r, kind, field, NULL, &o, &id, &e);
    if (st == JP_OK) st = jp_report_rule_broken(r, id, msg);
    nomem(L, st);
    if (st != JP_OK) luaL_error(L, "validator: %s", e.msg);
}

/* ---- the validator ------------------------------------------------------------ */

static int l_validator(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_settop(L, 2);
    box_t *b = lua_newuserdatauv(L, sizeof *b, 0); /* [ds, opts, box] */
    b->r = NULL;
    luaL_setmetatable(L, VALIDATOR_MT);
    jp_error_t e;
    jp_error_clear(&e);
    b->r = jp_report_new(ds, &e);
    if (!b->r) return jpl_error(L, &e);
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "approx_tolerance");
        if (!lua_isnil(L, -1)) {
            double t = luaL_checknumber(L, -1);
            luaL_argcheck(L, t >= 0 && t < 1, 2, "approx_tolerance must be in [0, 1)");
            b->r->approx_tolerance = t;
        }
        lua_pop(L, 1);
        lua_getfield(L, 2, "name");
        if (lua_isstring(L, -1)) {
            char *n = jp_strdup(lua_tostring(L, -1));
            if (!n) return luaL_error(L, "out of memory");
            jp_free(b->r->name);
            b->r->name = n;
        }
        lua_pop(L, 1);
    }
    return 1;
}

/* Foreign keys are resolved before the core runs: no Lua call happens
 * inside it. */
typedef struct {
    const char **names;
    jp_dataset_t **ds;
    size_t n;
} refs_t;

static jp_dataset_t *resolve_ref(void *ctx, const char *name)
{
    refs_t *rf = ctx;
    for (size_t k = 0; k < rf->n; k++)
        if (!strcmp(rf->names[k], name)) return rf->ds[k];
    return NULL;
}

static int v_schema(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    const jp_schema_t *s = jp_dataset_schema(r->ds);
    size_t n = s->n_foreign_keys;
    refs_t rf = {NULL, NULL, 0};
    if (n) {
        rf.names = lua_newuserdatauv(L, n * sizeof *rf.names, 0);
        rf.ds = lua_newuserdatauv(L, n * sizeof *rf.ds, 0);
    }
    for (size_t k = 0; k < n; k++) {
        const char *name = s->foreign_keys[k].ref_dataset;
        if (!name || !name[0] || !lua_istable(L, 2)) continue;
        lua_getfield(L, 2, name);
        jp_dataset_t *ref = jpl_test_dataset(L, -1);
        lua_pop(L, 1); /* the table keeps it alive */
        if (ref) {
            jpl_need_all(L, ref);
            rf.names[rf.n] = name;
            rf.ds[rf.n++] = ref;
        }
    }
    jp_error_t e;
    jp_error_clear(&e);
    if (jp_validate_schema(r, resolve_ref, &rf, &e) != JP_OK) return jpl_error(L, &e);
    return 0;
}

static int cbox_gc(lua_State *L)
{
    jp_constraints_t *c = lua_touserdata(L, 1);
    jp_constraints_free(c);
    return 0;
}

static const char *const constraint_names[] = {"required",  "unique",    "minimum", "maximum",
                                               "minLength", "maxLength", "pattern", "enum",
                                               "type",      NULL};
/* keys of a rule table that are not constraints */
static const char *const meta_names[] = {"name",   "where", "reason", "severity",
                                         "mostly", "field", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return true;
    return false;
}

/* A bound (minimum/maximum) or enum item for field f, as a value; strings
 * are copied into `store` so that they outlive the Lua value. */
static bool to_bound(lua_State *L, int idx, const jp_field_t *f, jp_column_t **store, jp_value_t *v,
                     jp_error_t *e)
{
    jp_type_t t = f->type;
    if (!jpl_to_cell(L, idx, t, f->unit, v, e)) {
        /* 0.5 is a fine bound for an integer field */
        if (t != JP_TYPE_INT || !jpl_to_cell(L, idx, JP_TYPE_NUMBER, f->unit, v, e)) return false;
    }
    if (v->is_null) {
        jp_error_set(e, JP_ERR_TYPE, "a bound cannot be nil");
        return false;
    }
    if (v->type == JP_TYPE_STRING) {
        if (!*store && !(*store = jp_column_new(JP_TYPE_STRING, 2))) luaL_error(L, "out of memory");
        if (jp_column_push_str(*store, v->u.s.ptr, v->u.s.len)) luaL_error(L, "out of memory");
        size_t len;
        v->u.s.ptr = jp_column_str(*store, jp_column_len(*store) - 1, &len);
    }
    return true;
}

/* The type a constraint table at idx declares (type = "number"), or NONE. */
static jp_type_t declared_type(lua_State *L, int idx)
{
    jp_type_t t = JP_TYPE_NONE;
    if (lua_getfield(L, idx, "type") == LUA_TSTRING) jp_type_from_name(lua_tostring(L, -1), &t);
    lua_pop(L, 1);
    return t;
}

/* v:constraints(field, tbl[, opts]): the constraints named in tbl. */
static int v_constraints(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    const char *field = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 4);
    jp_rule_opts_t o;
    const char *bad = read_opts(L, lua_isnoneornil(L, 4) ? 3 : 4, &o);
    const char *base = o.name && o.name[0] ? o.name : field;
    char name[300];
    if (bad) {
        snprintf(name, sizeof name, "%s.constraints", base);
        add_broken(L, r, "constraint", field, name, bad);
        return 0;
    }
    long fi = jp_schema_find(jp_dataset_schema(r->ds), field);
    if (fi < 0) {
        snprintf(name, sizeof name, "%s.constraints", base);
        const char *near = jp_schema_suggest(jp_dataset_schema(r->ds), field);
        const char *msg =
            lua_pushfstring(L, "no field '%s' in dataset '%s'%s%s%s", field, r->name,
                            near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        add_broken(L, r, "constraint", field, name, msg);
        return 0;
    }
    const jp_field_t *f = jp_dataset_field(r->ds, fi);
    jp_constraints_t *c = lua_newuserdatauv(L, sizeof *c, 0);
    jp_constraints_init(c);
    luaL_setmetatable(L, CBOX_MT);
    /* unknown names first: each is a broken rule of its own */
    lua_pushnil(L);
    while (lua_next(L, 3)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) continue; /* list part: not ours */
        const char *k = lua_tostring(L, -1);
        if (in_list(constraint_names, k) || in_list(meta_names, k)) continue;
        const char *near = jp_suggest(k, constraint_names, -1);
        snprintf(name, sizeof name, "%s.%s", base, k);
        const char *msg =
            near ? lua_pushfstring(L, "unknown constraint '%s' (did you mean '%s'?)", k, near)
                 : lua_pushfstring(L,
                                   "unknown constraint '%s' (known: required, unique, "
                                   "minimum, maximum, minLength, maxLength, pattern, "
                                   "enum, type)",
                                   k);
        add_broken(L, r, "constraint", field, name, msg);
        lua_pop(L, 1);
    }
    jp_error_t e;
    jp_error_clear(&e);
    jp_type_t want_type = JP_TYPE_NONE;
    /* each constraint: a bad value breaks that constraint only */
    for (const char *const *p = constraint_names; *p; p++) {
        int t = lua_getfield(L, 3, *p);
        const char *msg = NULL;
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (!strcmp(*p, "required") || !strcmp(*p, "unique")) {
            if (t != LUA_TBOOLEAN)
                msg = "must be true or false";
            else if (**p == 'r')
                c->required = lua_toboolean(L, -1);
            else
                c->unique = lua_toboolean(L, -1);
        } else if (!strcmp(*p, "minimum") || !strcmp(*p, "maximum")) {
            jp_value_t v;
            /* a number bound on a text field (or any bound of a rule that says
             * type = "number") stays a number: the cells are read as figures
             * and compared as numbers, never as strings */
            jp_field_t nf = *f;
            if (f->type == JP_TYPE_STRING &&
                (t == LUA_TNUMBER || jp_type_is_numeric(declared_type(L, 3))))
                nf.type = JP_TYPE_NUMBER;
            if (!to_bound(L, -1, &nf, &c->bounds, &v, &e))
                msg = lua_pushfstring(L, "%s: %s", *p, e.msg);
            else if ((*p)[1] == 'i')
                c->minimum = v, c->has_minimum = true;
            else
                c->maximum = v, c->has_maximum = true;
        } else if (!strcmp(*p, "minLength") || !strcmp(*p, "maxLength")) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                msg = "must be a whole number, 0 or more";
            else if ((*p)[1] == 'i')
                c->min_length = (long)lua_tointeger(L, -1);
            else
                c->max_length = (long)lua_tointeger(L, -1);
        } else if (!strcmp(*p, "pattern")) {
            if (t != LUA_TSTRING)
                msg = "must be a string";
            else if (!(c->pattern = jp_strdup(lua_tostring(L, -1))))
                return luaL_error(L, "out of memory");
        } else if (!strcmp(*p, "enum")) {
            if (t != LUA_TTABLE || lua_rawlen(L, -1) == 0) {
                msg = "must be a non-empty list of values";
            } else {
                int et = lua_gettop(L);
                size_t n = lua_rawlen(L, et);
                c->enum_values =
                    jp_column_new(f->type == JP_TYPE_INT ? JP_TYPE_NUMBER : f->type, n);
                if (!c->enum_values) return luaL_error(L, "out of memory");
                for (size_t i = 1; i <= n && !msg; i++) {
                    lua_rawgeti(L, et, (lua_Integer)i);
                    jp_value_t v;
                    if (!to_bound(L, -1, f, &c->bounds, &v, &e))
                        msg = lua_pushfstring(L, "enum item %d: %s", (int)i, e.msg);
                    else if (jp_column_push_value(c->enum_values, &v, &e) != JP_OK)
                        msg = lua_pushfstring(L, "enum item %d: %s", (int)i, e.msg);
                    if (msg) lua_insert(L, -2); /* keep the message, drop the item below */
                    lua_pop(L, 1);
                }
                if (msg) {
                    jp_column_unref(c->enum_values);
                    c->enum_values = NULL;
                }
            }
        } else { /* type */
            if (t != LUA_TSTRING || !jp_type_from_name(lua_tostring(L, -1), &want_type))
                msg = "must be one of integer, number, string, boolean, date, period";
        }
        if (msg) {
            snprintf(name, sizeof name, "%s.%s", base, *p);
            add_broken(L, r, "constraint", field, name, msg);
        }
        lua_settop(L, 5); /* [v, field, tbl, opts?, cbox] */
    }
    jp_rule_opts_t ro = o;
    ro.name = base;
    nomem(L, jp_validate_field(r, field, c, &ro, &e));
    if (want_type != JP_TYPE_NONE) nomem(L, jp_validate_type(r, field, want_type, &ro, &e));
    jp_constraints_free(c);
    return 0;
}

static int v_expr(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    const char *src = luaL_checkstring(L, 2);
    jp_rule_opts_t o;
    const char *bad = read_opts(L, 3, &o);
    if (bad) {
        add_broken(L, r, "expression", NULL, o.name ? o.name : src, bad);
        return 0;
    }
    jp_error_t e;
    jp_error_clear(&e);
    if (jp_validate_expr(r, src, &o, &e) != JP_OK) return jpl_error(L, &e);
    return 0;
}

/* A list of strings at idx as a C array (a userdata left on the stack). */
static const char **name_list(lua_State *L, int idx, size_t *n)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char **a = lua_newuserdatauv(L, sizeof *a, 0);
        a[0] = lua_tostring(L, idx);
        *n = 1;
        return a;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    *n = lua_rawlen(L, idx);
    const char **a = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *a, 0);
    for (size_t k = 0; k < *n; k++) {
        lua_rawgeti(L, idx, (lua_Integer)k + 1);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "field names must be strings");
        a[k] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the table keeps it */
    }
    return a;
}

/* v:key(fields, opts, primary) */
static int v_key(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    size_t n;
    const char **names = name_list(L, 2, &n);
    jp_rule_opts_t o;
    const char *bad = read_opts(L, 3, &o);
    bool primary = lua_toboolean(L, 4);
    if (bad) {
        add_broken(L, r, primary ? "primary_key" : "unique_key", NULL,
                   o.name    ? o.name
                   : primary ? "primary_key"
                             : "unique_key",
                   bad);
        return 0;
    }
    jp_error_t e;
    jp_error_clear(&e);
    if (jp_validate_key(r, names, n, primary, &o, &e) != JP_OK) return jpl_error(L, &e);
    return 0;
}

/* v:foreign_key(fields, ref_ds_or_nil, ref_name, ref_fields_or_nil, opts) */
static int v_foreign_key(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    size_t n, rn = 0;
    const char **names = name_list(L, 2, &n);
    jp_dataset_t *ref = lua_isnoneornil(L, 3) ? NULL : jpl_check_dataset(L, 3);
    const char *ref_name = luaL_optstring(L, 4, NULL);
    const char **ref_fields = lua_isnoneornil(L, 5) ? NULL : name_list(L, 5, &rn);
    jp_rule_opts_t o;
    const char *bad = read_opts(L, 6, &o);
    if (!bad && ref_fields && rn != n) bad = "reference.fields must name as many fields as fields";
    if (bad) {
        add_broken(L, r, "foreign_key", NULL, o.name ? o.name : "foreign_key", bad);
        return 0;
    }
    if (ref) jpl_need_all(L, ref);
    jp_error_t e;
    jp_error_clear(&e);
    if (jp_validate_foreign_key(r, names, n, ref, ref_name, ref_fields, &o, &e) != JP_OK)
        return jpl_error(L, &e);
    return 0;
}

/* v:rule(kind, opts, field, detail) -> id (or nil, message for bad options:
 * the rule is then added broken) */
static int v_rule(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    const char *kind = luaL_checkstring(L, 2);
    jp_rule_opts_t o;
    const char *bad = read_opts(L, 3, &o);
    const char *field = luaL_optstring(L, 4, NULL);
    const char *detail = luaL_optstring(L, 5, NULL);
    uint32_t id;
    jp_error_t e;
    jp_error_clear(&e);
    jp_status_t st = jp_report_add_rule(r, kind, field, detail, &o, &id, &e);
    nomem(L, st);
    if (st != JP_OK) return jpl_error(L, &e);
    if (bad) nomem(L, jp_report_rule_broken(r, id, bad));
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

static uint32_t check_rule_id(lua_State *L, jp_report_t *r, int idx)
{
    lua_Integer id = luaL_checkinteger(L, idx);
    luaL_argcheck(L, id >= 0 && (size_t)id < r->n_rules, idx, "no such rule");
    return (uint32_t)id;
}

/* v:fail(id, row (1-based) or nil, field or nil, message or nil, doubtful) */
static int v_fail(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    uint32_t id = check_rule_id(L, r, 2);
    size_t row = JP_NO_ROW;
    if (!lua_isnoneornil(L, 3)) {
        lua_Integer i = luaL_checkinteger(L, 3);
        luaL_argcheck(L, i >= 1 && (size_t)i <= jp_dataset_nrows(r->ds), 3, "row out of range");
        row = (size_t)i - 1;
    }
    const char *field = luaL_optstring(L, 4, NULL);
    const char *msg = luaL_optstring(L, 5, NULL);
    bool doubtful = lua_toboolean(L, 6);
    jp_error_t e;
    jp_error_clear(&e);
    if ((doubtful ? jp_report_doubt : jp_report_fail)(r, id, row, field, msg, &e) != JP_OK)
        return jpl_error(L, &e);
    return 0;
}

/* v:type_error(id, row (1-based), field, message [, line]): a cell that was
 * not of its type when read (jp_report_type_error); the cell's line is named
 * in the message when the row starts on another */
static int v_type_error(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    uint32_t id = check_rule_id(L, r, 2);
    lua_Integer i = luaL_checkinteger(L, 3);
    luaL_argcheck(L, i >= 1 && (size_t)i <= jp_dataset_nrows(r->ds), 3, "row out of range");
    const char *field = luaL_checkstring(L, 4);
    const char *msg = luaL_checkstring(L, 5);
    lua_Integer line = luaL_optinteger(L, 6, 0);
    if (line > 0 && line != jp_dataset_row_line(r->ds, (size_t)i - 1))
        msg = lua_pushfstring(L, "%s, at line %d", msg, (int)line);
    jp_error_t e;
    jp_error_clear(&e);
    if (jp_report_type_error(r, id, (size_t)i - 1, field, msg, &e) != JP_OK)
        return jpl_error(L, &e);
    return 0;
}

static int v_checked(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    uint32_t id = check_rule_id(L, r, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    if (n > 0) jp_report_checked(r, id, (size_t)n);
    return 0;
}

static int v_status(lua_State *L, bool broken)
{
    jp_report_t *r = check_validator(L);
    uint32_t id = check_rule_id(L, r, 2);
    const char *msg = luaL_optstring(L, 3, NULL);
    nomem(L, broken ? jp_report_rule_broken(r, id, msg) : jp_report_rule_skipped(r, id, msg));
    return 0;
}

static int v_broken(lua_State *L)
{
    return v_status(L, true);
}

static int v_skipped(lua_State *L)
{
    return v_status(L, false);
}

/* v:rows(where) -> list of the 1-based rows where the expression is true,
 * or nil, message when it does not compile. */
static int v_rows(lua_State *L)
{
    jp_report_t *r = check_validator(L);
    const char *where = luaL_checkstring(L, 2);
    /* a scratch report, owned by a userdata from the start: the rows of
     * the subset are those where "false" fails */
    box_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->r = NULL;
    luaL_setmetatable(L, VALIDATOR_MT);
    jp_error_t e;
    jp_error_clear(&e);
    if (!(b->r = jp_report_new(r->ds, &e))) return jpl_error(L, &e);
    jp_rule_opts_t o = JP_RULE_OPTS_INIT;
    o.where = where;
    if (jp_validate_expr(b->r, "false", &o, &e) != JP_OK) return jpl_error(L, &e);
    const jp_rule_info_t *ri = &b->r->rules[0];
    if (ri->status == JP_RULE_BROKEN) {
        lua_pushnil(L);
        lua_pushstring(L, ri->message ? ri->message : "bad where");
        return 2;
    }
    size_t n = b->r->n_issues;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)b->r->issues[i].row + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* v:finish() -> report; the validator is empty afterwards. */
static int v_finish(lua_State *L)
{
    box_t *vb = luaL_checkudata(L, 1, VALIDATOR_MT);
    if (!vb->r) return luaL_error(L, "validator: already finished");
    box_t *rb = lua_newuserdatauv(L, sizeof *rb, 1);
    rb->r = NULL;
    luaL_setmetatable(L, REPORT_MT);
    lua_newtable(L); /* cache of the tables built from the report */
    lua_setiuservalue(L, -2, 1);
    jp_report_finish(vb->r);
    rb->r = vb->r;
    vb->r = NULL;
    return 1;
}

/* ---- the report ---------------------------------------------------------------- */

static void set_s(lua_State *L, const char *k, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_i(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* [-0, +1, m] issue i as {row, field, rule, message, severity, file, line,
 * first_row}; b is a scratch buffer owned by a bufbox on the stack. */
static void push_issue(lua_State *L, const jp_report_t *r, size_t i, jp_buf_t *b)
{
    const jp_issue_t *is = &r->issues[i];
    lua_createtable(L, 0, 8);
    if (is->row != JP_NO_ROW) set_i(L, "row", (lua_Integer)is->row + 1);
    set_s(L, "field", jp_report_field(r, i));
    set_s(L, "rule", r->rules[is->rule].name);
    set_s(L, "severity", jp_severity_name((jp_severity_t)is->severity));
    set_s(L, "file", r->file);
    long line = jp_report_line(r, i);
    if (line > 0) set_i(L, "line", line);
    if (is->other != JP_NO_ROW) set_i(L, "first_row", (lua_Integer)is->other + 1);
    jp_buf_reset(b);
    if (jp_report_message(r, i, b) != JP_OK) luaL_error(L, "out of memory");
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    lua_setfield(L, -2, "message");
}

static int r_tostring(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    jp_buf_t *b = push_bufbox(L);
    jp_status_t st = jp_report_text(r, 10, b);
    if (st == JP_OK && b->len && b->data[b->len - 1] == '\n') b->data[--b->len] = '\0';
    bufbox_result(L, b, st);
    return 1;
}

/* report:text([max_per_rule = 0: all]) */
static int r_text(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, n >= 0, 2, "must not be negative");
    jp_buf_t *b = push_bufbox(L);
    bufbox_result(L, b, jp_report_text(r, (size_t)n, b));
    return 1;
}

static int r_json(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    jp_buf_t *b = push_bufbox(L);
    bufbox_result(L, b, jp_report_json(r, b));
    return 1;
}

/* report:quarantine([warnings]) -> dataset of the failing rows */
static int r_quarantine(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    jp_error_t e;
    jp_error_clear(&e);
    jp_dataset_t *q = jp_report_quarantine(r, lua_toboolean(L, 2), &e);
    if (!q) return jpl_error(L, &e);
    jpl_push_dataset(L, q);
    return 1;
}

static void push_issues(lua_State *L, const jp_report_t *r, int sev)
{
    jp_buf_t *b = push_bufbox(L); /* [bufbox] */
    size_t n = sev == JP_SEV_ERROR     ? r->n_errors
               : sev == JP_SEV_WARNING ? r->n_warnings
                                       : r->n_issues;
    lua_createtable(L, n < INT32_MAX ? (int)n : 0, 0); /* [bufbox, list] */
    lua_Integer k = 0;
    for (size_t i = 0; i < r->n_issues; i++) {
        if (sev >= 0 && r->issues[i].severity != sev) continue;
        push_issue(L, r, i, b);
        lua_rawseti(L, -2, ++k);
    }
    lua_remove(L, -2); /* [list]; the bufbox frees its buffer when collected */
}

static void push_rules(lua_State *L, const jp_report_t *r)
{
    lua_createtable(L, (int)r->n_rules, 0);
    for (size_t k = 0; k < r->n_rules; k++) {
        const jp_rule_info_t *ri = &r->rules[k];
        lua_createtable(L, 0, 13);
        set_s(L, "name", ri->name);
        set_s(L, "kind", ri->kind);
        set_s(L, "field", ri->field);
        set_s(L, "detail", ri->detail);
        set_s(L, "where", ri->where);
        set_s(L, "reason", ri->reason);
        set_s(L, "message", ri->message);
        set_s(L, "status", jp_rule_status_name(ri->status));
        set_s(L, "severity", jp_severity_name(ri->severity));
        lua_pushnumber(L, ri->mostly);
        lua_setfield(L, -2, "mostly");
        set_i(L, "checked", (lua_Integer)ri->checked);
        set_i(L, "failed", (lua_Integer)ri->failed);
        set_i(L, "doubtful", (lua_Integer)ri->doubtful);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
}

static void push_rule_errors(lua_State *L, const jp_report_t *r)
{
    lua_newtable(L);
    lua_Integer n = 0;
    for (size_t k = 0; k < r->n_rules; k++) {
        const jp_rule_info_t *ri = &r->rules[k];
        if (ri->status != JP_RULE_BROKEN) continue;
        lua_createtable(L, 0, 2);
        set_s(L, "rule", ri->name);
        set_s(L, "message", ri->message ? ri->message : "broken");
        lua_rawseti(L, -2, ++n);
    }
}

static void push_counts(lua_State *L, const jp_report_t *r)
{
    lua_createtable(L, 0, 6);
    set_i(L, "errors", (lua_Integer)r->n_errors);
    set_i(L, "warnings", (lua_Integer)r->n_warnings);
    set_i(L, "rule_errors", (lua_Integer)r->n_broken);
    set_i(L, "rules", (lua_Integer)r->n_rules);
    lua_newtable(L); /* by_rule */
    lua_newtable(L); /* by_field */
    for (size_t i = 0; i < r->n_issues; i++) {
        const char *rn = r->rules[r->issues[i].rule].name;
        lua_getfield(L, -2, rn);
        lua_Integer c = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_pushinteger(L, c + 1);
        lua_setfield(L, -3, rn);
        const char *fn = jp_report_field(r, i);
        if (fn) {
            lua_getfield(L, -1, fn);
            c = lua_tointeger(L, -1);
            lua_pop(L, 1);
            lua_pushinteger(L, c + 1);
            lua_setfield(L, -2, fn);
        }
    }
    lua_setfield(L, -3, "by_field");
    lua_setfield(L, -2, "by_rule");
}

static const luaL_Reg report_methods[] = {
    {"quarantine", r_quarantine}, {"json", r_json}, {"text", r_text}, {NULL, NULL}};

/* report.<key>: plain values, and tables built once then cached */
static int r_index(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    const char *k = luaL_checkstring(L, 2);
    for (const luaL_Reg *m = report_methods; m->name; m++)
        if (!strcmp(m->name, k)) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    if (!strcmp(k, "ok")) {
        lua_pushboolean(L, jp_report_ok(r));
        return 1;
    }
    if (!strcmp(k, "dataset")) {
        lua_pushstring(L, r->name);
        return 1;
    }
    if (!strcmp(k, "file")) {
        if (r->file)
            lua_pushstring(L, r->file);
        else
            lua_pushnil(L);
        return 1;
    }
    if (!strcmp(k, "rows")) {
        lua_pushinteger(L, (lua_Integer)r->nrows);
        return 1;
    }
    if (!strcmp(k, "data")) {
        jpl_push_dataset(L, jp_dataset_ref(r->ds));
        return 1;
    }
    lua_getiuservalue(L, 1, 1); /* [r, k, cache] */
    lua_getfield(L, 3, k);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    if (!strcmp(k, "errors"))
        push_issues(L, r, JP_SEV_ERROR);
    else if (!strcmp(k, "warnings"))
        push_issues(L, r, JP_SEV_WARNING);
    else if (!strcmp(k, "issues"))
        push_issues(L, r, -1);
    else if (!strcmp(k, "rules"))
        push_rules(L, r);
    else if (!strcmp(k, "rule_errors"))
        push_rule_errors(L, r);
    else if (!strcmp(k, "counts"))
        push_counts(L, r);
    else if (!strcmp(k, "failed")) {
        lua_pushcfunction(L, r_quarantine);
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
    } else {
        return 0;
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 3, k);
    return 1;
}

static int r_len(lua_State *L)
{
    jp_report_t *r = check_report(L, 1);
    lua_pushinteger(L, (lua_Integer)(r->n_errors + r->n_warnings));
    return 1;
}

/* ---- ds:validate, jp.validate, helpers ---------------------------------------------- */

/* ds:validate(rules, opts) and jp.validate(ds, rules, opts): the Lua half
 * (jinpu.validate) decides what to run. */
static int l_validate(lua_State *L)
{
    jpl_check_dataset(L, 1);
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "jinpu.validate");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "validate");
    lua_insert(L, 1);
    lua_pop(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* ---- validation batch by batch -------------------------------------------------------- */

/* jp._validate_streams(ds): can ds:validate run batch by batch? */
static int l_validate_streams(lua_State *L)
{
    lua_pushboolean(L, jp_validate_streams(jpl_check_dataset(L, 1)));
    return 1;
}

typedef struct vsctx {
    lua_State *L;
    int fn;      /* the Lua function that adds the rules to a validator */
    int errslot; /* where its error waits */
    box_t *box;  /* the validator over the batch, while fn runs */
    bool failed;
} vsctx_t;

/* Protected: (ctx, report, fn) -> fn(validator over the report). */
static int vs_call(lua_State *L)
{
    vsctx_t *c = lua_touserdata(L, 1);
    jp_report_t *r = lua_touserdata(L, 2);
    lua_settop(L, 3);
    c->box = lua_newuserdatauv(L, sizeof *c->box, 0);
    c->box->r = NULL;
    luaL_setmetatable(L, VALIDATOR_MT);
    c->box->r = r; /* borrowed: taken back when fn returns */
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_call(L, 1, 0);
    c->box->r = NULL; /* before a collection may find the box unused */
    c->box = NULL;
    jpl_gc_pressure(L); /* the batches' datasets are not Lua's to count */
    return 0;
}

static jp_status_t vs_batch_fn(void *ctx, jp_report_t *r, jp_error_t *err)
{
    vsctx_t *c = ctx;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    lua_pushcfunction(L, vs_call);
    lua_pushlightuserdata(L, c);
    lua_pushlightuserdata(L, r);
    lua_pushvalue(L, c->fn); /* an index of l_validate_stream's frame: the stream runs in it */
    c->box = NULL;
    int rc = lua_pcall(L, 3, 0, 0);
    if (c->box) c->box->r = NULL; /* the report is the stream's, not the box's */
    c->box = NULL;
    if (rc == LUA_OK) {
        lua_settop(L, top);
        return JP_OK;
    }
    lua_replace(L, c->errslot);
    lua_settop(L, top);
    c->failed = true;
    return jp_error_set(err, JP_ERR_INVALID, "validate: a rule raised an error");
}

/* jp._validate_stream(ds, {name=, approx_tolerance=}, fn) -> report, or nil
 * when the whole-file way must be taken: fn(v) adds the rules to v, a
 * validator over each batch in turn (jp_validate_stream). */
static int l_validate_stream(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 3);
    lua_getfield(L, 2, "name");
    const char *name = lua_isstring(L, 4) ? lua_tostring(L, 4) : NULL; /* [ds, o, fn, name] */
    lua_getfield(L, 2, "approx_tolerance");
    double tol = luaL_optnumber(L, 5, JP_APPROX_TOLERANCE);
    luaL_argcheck(L, tol >= 0 && tol < 1, 2, "approx_tolerance must be in [0, 1)");
    lua_pushnil(L);                                  /* [ds, o, fn, name, tol, err] */
    box_t *rb = lua_newuserdatauv(L, sizeof *rb, 1); /* [..., err, report] */
    rb->r = NULL;
    luaL_setmetatable(L, REPORT_MT);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    vsctx_t c = {L, 3, 6, NULL, false};
    jp_error_t e;
    jp_error_clear(&e);
    bool fallback = false;
    jp_report_t *r = jp_validate_stream(ds, name, tol, vs_batch_fn, &c, &fallback, &e);
    if (c.failed && !fallback) {
        jp_report_free(r);
        lua_pushvalue(L, 6);
        return lua_error(L);
    }
    if (!r && fallback) {
        lua_pushnil(L);
        return 1;
    }
    if (!r) return jpl_error(L, &e);
    jp_report_finish(r);
    rb->r = r;
    return 1;
}

/* jp._json_string(s) -> s as a JSON string literal */
static int l_json_string(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    jp_buf_t *b = push_bufbox(L);
    bufbox_result(L, b, jp_json_string(b, s, n));
    return 1;
}

/* jp._is_report(x) */
static int l_is_report(lua_State *L)
{
    lua_pushboolean(L, luaL_testudata(L, 1, REPORT_MT) != NULL);
    return 1;
}

void jpl_open_validate(lua_State *L)
{
    static const luaL_Reg vmethods[] = {{"schema", v_schema},
                                        {"constraints", v_constraints},
                                        {"expr", v_expr},
                                        {"key", v_key},
                                        {"foreign_key", v_foreign_key},
                                        {"rule", v_rule},
                                        {"fail", v_fail},
                                        {"type_error", v_type_error},
                                        {"checked", v_checked},
                                        {"broken", v_broken},
                                        {"skipped", v_skipped},
                                        {"rows", v_rows},
                                        {"finish", v_finish},
                                        {NULL, NULL}};
    int mod = lua_gettop(L);
    if (luaL_newmetatable(L, VALIDATOR_MT)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_newtable(L);
        luaL_setfuncs(L, vmethods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, REPORT_MT)) {
        static const luaL_Reg meta[] = {{"__gc", box_gc},
                                        {"__index", r_index},
                                        {"__tostring", r_tostring},
                                        {"__len", r_len},
                                        {NULL, NULL}};
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, "validation report");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, BUFBOX_MT)) {
        lua_pushcfunction(L, bufbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, CBOX_MT)) {
        lua_pushcfunction(L, cbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {{"_validator", l_validator},
                                     {"validate", l_validate},
                                     {"_json_string", l_json_string},
                                     {"_is_report", l_is_report},
                                     {"_validate_streams", l_validate_streams},
                                     {"_validate_stream", l_validate_stream},
                                     {NULL, NULL}};
    lua_settop(L, mod);
    luaL_setfuncs(L, funcs, 0);
    static const luaL_Reg dsm[] = {{"validate", l_validate}, {NULL, NULL}};
    jpl_add_dataset_methods(L, dsm);
    lua_settop(L, mod);
}
