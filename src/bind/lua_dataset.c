/*
 * lua_dataset.c - datasets and columns as Lua values.
 *
 * Owns the "jinpu.dataset" and "jinpu.column" metatables, the shared
 * binding helpers declared in jpl.h, and the module functions that make
 * datasets: jp.load, jp.read_csv, jp.read_yaml, jp.dataset{...}; and the
 * basic dataset methods (names, schema, column, rows, row, head, writes,
 * tostring).  Verbs, validation and archives add their methods from their
 * own files.  Never keeps malloc'd memory reachable only from a C local
 * across a call that can raise.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "jp_csv.h"
#include "jp_file.h"
#include "jp_format.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_preview.h"
#include "jp_stream.h"
#include "jp_suggest.h"
#include "jp_unit.h"
#include "jp_verbs.h"
#include "jpl.h"
#include "jpl_plugin.h"
#include "jpl_policy.h"

typedef struct {
    jp_dataset_t *ds;
} dsbox_t;

/* A column: loaded (col), or a field of a streamable lazy chain (ds,
 * field) that is loaded only when its cells are read; its reductions
 * stream over the file in one pass, kept in summary. */
typedef struct {
    jp_column_t *col;
    jp_dataset_t *ds;
    size_t field;
    jp_col_summary_t *summary;
} colbox_t;

/* ---- shared helpers --------------------------------------------------------- */

/* Lua's collector sees only Lua's heap: a dropped dataset holding 100 MB of
 * columns looks like a few bytes to it, so garbage datasets would pile up
 * (and crowd live ones out of a memory limit).  Collect fully whenever all
 * that is charged to the budget (core and Lua, jp_limit.h) has doubled
 * since the last collection -- Lua's own pace -- and, under a limit, past
 * half of it, every sixteenth of it.  Called whenever new core memory
 * reaches Lua.  One process-wide base: a heuristic, not a ledger. */
static size_t gc_base;

void jpl_gc_pressure(lua_State *L)
{
    size_t now = jp_mem_in_use(), lim = jp_mem_limit();
    if (now < gc_base) gc_base = now;
    size_t grown = now - gc_base;
    bool due = grown >= gc_base && grown >= ((size_t)8 << 20);
    if (lim && now > lim / 2 && grown >= lim / 16) due = true;
    if (!due) return;
    lua_gc(L, LUA_GCCOLLECT);
    gc_base = jp_mem_in_use();
}

/*
 * A box is made empty, under lua_pcall: the object to put in it exists
 * already (every verb returns one), so a memory error raised while making
 * the box would lose the only reference to it.  Protected, the error comes
 * back as a status; the object is released, then the error goes on.  An
 * empty box is what __gc and every method already accept.
 */
static int new_dataset_box(lua_State *L)
{
    dsbox_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->ds = NULL;
    luaL_setmetatable(L, JPL_DATASET_MT);
    return 1;
}

static int new_column_box(lua_State *L)
{
    colbox_t *b = lua_newuserdatauv(L, sizeof *b, 2);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, JPL_COLUMN_MT);
    return 1;
}

static void release_dataset(void *p)
{
    jp_dataset_unref(p);
}

static void release_column(void *p)
{
    jp_column_unref(p);
}

/* [-0, +1, v] The empty box `make` makes; when that fails, obj is released
 * (with release) before the error is raised. */
static void *push_empty_box(lua_State *L, lua_CFunction make, void (*release)(void *), void *obj)
{
    if (!lua_checkstack(L, 2)) { /* reports, does not raise */
        release(obj);
        luaL_error(L, "out of memory");
    }
    lua_pushcfunction(L, make); /* a light C function: no allocation */
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        release(obj);
        lua_error(L); /* the memory error goes on as one */
    }
    return lua_touserdata(L, -1);
}

void jpl_push_dataset(lua_State *L, jp_dataset_t *ds)
{
    if (!ds) {
        lua_pushnil(L);
        return;
    }
    dsbox_t *b = push_empty_box(L, new_dataset_box, release_dataset, ds);
    b->ds = ds; /* the box owns it from here */
    jpl_gc_pressure(L);
}

/* [-0, +1, m] An empty dataset box, for a dataset made after it. */
static jp_dataset_t **push_dataset_slot(lua_State *L)
{
    new_dataset_box(L);
    return &((dsbox_t *)lua_touserdata(L, -1))->ds;
}

jp_dataset_t *jpl_test_dataset(lua_State *L, int idx)
{
    dsbox_t *b = luaL_testudata(L, idx, JPL_DATASET_MT);
    return b ? b->ds : NULL;
}

jp_dataset_t *jpl_check_dataset(lua_State *L, int idx)
{
    dsbox_t *b = luaL_testudata(L, idx, JPL_DATASET_MT);
    if (!b) luaL_typeerror(L, idx, "dataset");
    if (!b->ds) luaL_argerror(L, idx, "dataset has been released");
    /* every method passes here: a loop of cheap calls (a lazy sort, a head)
       runs few Lua instructions between them, too few for the hook */
    if (jp_stop_pending()) jpl_check_stop(L);
    return b->ds;
}

void jpl_push_column(lua_State *L, jp_column_t *col, const char *name, const char *unit)
{
    if (!col) {
        lua_pushnil(L);
        return;
    }
    colbox_t *b = push_empty_box(L, new_column_box, release_column, col);
    b->col = col; /* the box owns it from here: naming it may raise */
    lua_pushstring(L, name ? name : "");
    lua_setiuservalue(L, -2, 1);
    if (unit) {
        lua_pushstring(L, unit);
        lua_setiuservalue(L, -2, 2);
    }
}

/* [-0, +1, m] A lazy column: field i of ds (a streamable chain, ref taken). */
static void push_lazy_column(lua_State *L, jp_dataset_t *ds, size_t i)
{
    const jp_field_t *f = jp_dataset_field(ds, (long)i);
    new_column_box(L);
    colbox_t *b = lua_touserdata(L, -1);
    lua_pushstring(L, f->name);
    lua_setiuservalue(L, -2, 1);
    if (f->unit) {
        lua_pushstring(L, f->unit);
        lua_setiuservalue(L, -2, 2);
    }
    b->ds = jp_dataset_ref(ds);
    b->field = i;
}

static void colbox_drop_lazy(colbox_t *b)
{
    if (b->summary) jp_col_summary_free(b->summary);
    jp_free(b->summary);
    b->summary = NULL;
    jp_dataset_unref(b->ds);
    b->ds = NULL;
}

jp_column_t *jpl_check_column(lua_State *L, int idx)
{
    colbox_t *b = luaL_checkudata(L, idx, JPL_COLUMN_MT);
    if (!b->col && b->ds) {
        /* its cells are read: load it, as ds:column() does on a loaded file */
        jpl_need(L, b->ds, &b->field, 1);
        b->col = jp_column_ref(jp_dataset_col(b->ds, b->field));
        colbox_drop_lazy(b);
    }
    if (!b->col) luaL_argerror(L, idx, "column has been released");
    return b->col;
}

const jp_col_summary_t *jpl_column_summary(lua_State *L, int idx)
{
    colbox_t *b = luaL_checkudata(L, idx, JPL_COLUMN_MT);
    if (b->col || !b->ds) return NULL;
    if (b->summary) return b->summary;
    if (jp_dataset_col(b->ds, b->field)) return NULL; /* loaded meanwhile: it is taken */
    jp_col_summary_t *s = jp_calloc(1, sizeof *s);
    if (!s) {
        jpl_errorf(L, "out of memory");
        return NULL;
    }
    jp_error_t err;
    jp_error_clear(&err);
    bool fallback = false;
    if (jp_stream_column_summary(b->ds, b->field, s, &fallback, &err)) {
        jp_free(s);
        jpl_error(L, &err);
    }
    if (fallback) {
        jp_free(s);
        return NULL;
    }
    b->summary = s;
    return s;
}

const char *jpl_column_name(lua_State *L, int idx)
{
    luaL_checkudata(L, idx, JPL_COLUMN_MT);
    lua_getiuservalue(L, idx, 1);
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays referenced by the userdata */
    return s ? s : "";
}

const char *jpl_column_unit(lua_State *L, int idx)
{
    luaL_checkudata(L, idx, JPL_COLUMN_MT);
    lua_getiuservalue(L, idx, 2);
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1);
    return s;
}

/* A stop (time limit, Ctrl-C, SIGTERM) raised here may be caught by the
 * script: make the host's hook, if any, run at the next instruction, where
 * it sees the stop too and keeps raising. */
static void hasten_hook(lua_State *L, jp_status_t code)
{
    lua_Hook h = lua_gethook(L);
    if (h && (code == JP_ERR_TIMEOUT || code == JP_ERR_INTERRUPTED))
        lua_sethook(L, h, lua_gethookmask(L) | LUA_MASKCOUNT, 1);
}

int jpl_error(lua_State *L, const jp_error_t *err)
{
    hasten_hook(L, err->code);
    char msg[2048];
    jp_error_format(err, msg, sizeof msg);
    luaL_where(L, 1);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

int jpl_errorf(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    luaL_where(L, 1);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return lua_error(L);
}

void jpl_check_stop(lua_State *L)
{
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_stop_check(&err)) jpl_error(L, &err);
}

int jpl_fail(lua_State *L, const jp_error_t *err)
{
    hasten_hook(L, err->code);
    char msg[2048];
    jp_error_format(err, msg, sizeof msg);
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

void jpl_need_all(lua_State *L, jp_dataset_t *ds)
{
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_dataset_need_all(ds, &err)) jpl_error(L, &err);
    jpl_gc_pressure(L);
}

void jpl_need(lua_State *L, jp_dataset_t *ds, const size_t *idx, size_t n)
{
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_dataset_need(ds, idx, n, &err)) jpl_error(L, &err);
    jpl_gc_pressure(L);
}

/* Figures and booleans are Lua's own; every other type is its text. */
void jpl_push_value(lua_State *L, const jp_value_t *v)
{
    if (v->is_null || v->type <= JP_TYPE_NONE || v->type >= JP_TYPE_COUNT) {
        lua_pushnil(L);
        return;
    }
    switch (v->type) {
    case JP_TYPE_INT:
        lua_pushinteger(L, (lua_Integer)v->u.i);
        break;
    case JP_TYPE_NUMBER:
        lua_pushnumber(L, v->u.d);
        break;
    case JP_TYPE_BOOL:
        lua_pushboolean(L, v->u.b);
        break;
    default: {
        char buf[96];
        const char *p;
        size_t n = jp_type_info(v->type)->text(v, buf, sizeof buf, &p);
        lua_pushlstring(L, p, n);
    }
    }
}

void jpl_push_cell(lua_State *L, const jp_column_t *c, size_t i)
{
    if (jp_column_is_null(c, i)) {
        lua_pushnil(L);
        return;
    }
    switch (jp_column_type(c)) { /* the common ones without a jp_value_t */
    case JP_TYPE_INT:
        lua_pushinteger(L, (lua_Integer)jp_column_int(c, i));
        break;
    case JP_TYPE_NUMBER:
        lua_pushnumber(L, jp_column_number(c, i));
        break;
    case JP_TYPE_STRING: {
        size_t len;
        const char *s = jp_column_str(c, i, &len);
        lua_pushlstring(L, s, len);
        break;
    }
    default: {
        jp_value_t v;
        jp_column_get(c, i, &v);
        jpl_push_value(L, &v);
    }
    }
}

/* A figure given as text: "14.8万", ">140000", "约11.4亿美元". */
static bool figure_from_text(const char *s, size_t n, jp_type_t t, const char *unit,
                             jp_value_t *out, jp_error_t *err)
{
    jp_quantity_t q;
    if (!jp_quantity_parse(s, n, &q, err)) return false;
    double v = q.value;
    if (q.unit[0]) {
        if (!unit) {
            jp_error_set(err, JP_ERR_UNIT, "'%.*s' names unit %s but the field has no unit",
                         (int)(n > 60 ? 60 : n), s, q.unit);
            return false;
        }
        jp_unit_conv_t cv;
        if (jp_unit_conversion(q.unit, unit, &cv, err)) return false;
        v = jp_unit_apply(&cv, v);
    }
    out->qual = q.qual;
    if (t == JP_TYPE_INT) {
        if (!(v == floor(v)) || fabs(v) >= 9.2e18) {
            jp_error_set(err, JP_ERR_TYPE, "'%.*s' is not a whole number", (int)(n > 60 ? 60 : n),
                         s);
            return false;
        }
        out->u.i = (int64_t)v;
    } else {
        out->u.d = v;
    }
    return true;
}

bool jpl_to_cell(lua_State *L, int idx, jp_type_t t, const char *unit, jp_value_t *out,
                 jp_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->type = t;
    int lt = lua_type(L, idx);
    if (lt == LUA_TNIL) {
        out->is_null = true;
        return true;
    }
    size_t n;
    const char *s;
    switch (t) {
    case JP_TYPE_INT:
        if (lt == LUA_TNUMBER) {
            if (lua_isinteger(L, idx)) {
                out->u.i = (int64_t)lua_tointeger(L, idx);
                return true;
            }
            double d = lua_tonumber(L, idx);
            if (d == floor(d) && fabs(d) < 9.2e18) {
                out->u.i = (int64_t)d;
                return true;
            }
            jp_error_set(err, JP_ERR_TYPE, "%.14g is not a whole number", d);
            return false;
        }
        if (lt == LUA_TSTRING) {
            s = lua_tolstring(L, idx, &n);
            return figure_from_text(s, n, t, unit, out, err);
        }
        break;
    case JP_TYPE_NUMBER:
        if (lt == LUA_TNUMBER) {
            out->u.d = lua_tonumber(L, idx);
            return true;
        }
        if (lt == LUA_TSTRING) {
            s = lua_tolstring(L, idx, &n);
            return figure_from_text(s, n, t, unit, out, err);
        }
        break;
    case JP_TYPE_STRING:
        if (lt == LUA_TSTRING || lt == LUA_TNUMBER) {
            /* lua_tolstring converts numbers in place only on the stack
               slot itself; that slot belongs to our caller's table read */
            s = lua_tolstring(L, idx, &n);
            out->u.s.ptr = s;
            out->u.s.len = n;
            return true;
        }
        break;
    case JP_TYPE_BOOL:
        if (lt == LUA_TBOOLEAN) {
            out->u.b = lua_toboolean(L, idx);
            return true;
        }
        break;
    case JP_TYPE_DATE:
        if (lt == LUA_TSTRING) {
            s = lua_tolstring(L, idx, &n);
            if (jp_date_parse(s, n, &out->u.date)) return true;
            jp_error_set(err, JP_ERR_TYPE, "'%.*s' is not a date (YYYY-MM-DD)",
                         (int)(n > 60 ? 60 : n), s);
            return false;
        }
        break;
    case JP_TYPE_PERIOD:
        if (lt == LUA_TNUMBER && lua_isinteger(L, idx)) {
            char y[32];
            int k = snprintf(y, sizeof y, "%lld", (long long)lua_tointeger(L, idx));
            return jp_period_parse(y, (size_t)k, &out->u.period, err);
        }
        if (lt == LUA_TSTRING) {
            s = lua_tolstring(L, idx, &n);
            return jp_period_parse(s, n, &out->u.period, err);
        }
        break;
    default:
        break;
    }
    jp_error_set(err, JP_ERR_TYPE, "expected %s, got %s", jp_type_name(t), luaL_typename(L, idx));
    return false;
}

static void add_methods(lua_State *L, const char *mt, const luaL_Reg *methods)
{
    luaL_getmetatable(L, mt);       /* [mt] */
    lua_getfield(L, -1, "__index"); /* [mt, methods] */
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 2);
}

void jpl_add_dataset_methods(lua_State *L, const luaL_Reg *methods)
{
    add_methods(L, JPL_DATASET_MT, methods);
}

void jpl_add_column_methods(lua_State *L, const luaL_Reg *methods)
{
    /* columns index integers too: methods live in a table the __index
       function consults (upvalue of col_index) */
    luaL_getmetatable(L, JPL_COLUMN_MT); /* [mt] */
    lua_getfield(L, -1, "methods");      /* [mt, methods] */
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 2);
}

const char **jpl_check_names(lua_State *L, int from, size_t *n)
{
    int top = lua_gettop(L);
    size_t count = 0;
    bool table = from <= top && lua_type(L, from) == LUA_TTABLE;
    if (table) {
        count = (size_t)lua_rawlen(L, from);
    } else {
        for (int i = from; i <= top; i++) luaL_checktype(L, i, LUA_TSTRING), count++;
    }
    const char **names = lua_newuserdatauv(L, (count ? count : 1) * sizeof *names, 1);
    if (table) {
        lua_pushvalue(L, from);
        lua_setiuservalue(L, -2, 1); /* keeps the table (and its strings) alive */
        for (size_t k = 0; k < count; k++) {
            lua_rawgeti(L, from, (lua_Integer)k + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                jpl_errorf(L, "field names must be strings (item %d is a %s)", (int)k + 1,
                           luaL_typename(L, -1));
            names[k] = jpl_check_name(L, -1, "field names");
            lua_pop(L, 1);
        }
    } else {
        for (size_t k = 0; k < count; k++)
            names[k] = jpl_check_name(L, from + (int)k, "field names");
    }
    *n = count;
    return names;
}

/* ---- options ----------------------------------------------------------------- */

static const char *opt_string(lua_State *L, int t, const char *key)
{
    if (t == 0 || lua_isnoneornil(L, t)) return NULL;
    lua_getfield(L, t, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        size_t n;
        if (lua_type(L, -1) != LUA_TSTRING) jpl_errorf(L, "option '%s' must be a string", key);
        s = lua_tolstring(L, -1, &n);
        if (memchr(s, '\0', n)) jpl_errorf(L, "option '%s' holds a NUL byte", key);
    }
    lua_pop(L, 1); /* the string is kept alive by the options table */
    return s;
}

static int opt_bool(lua_State *L, int t, const char *key, int dflt)
{
    if (t == 0 || lua_isnoneornil(L, t)) return dflt;
    lua_getfield(L, t, key);
    int v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer dflt)
{
    if (t == 0 || lua_isnoneornil(L, t)) return dflt;
    lua_getfield(L, t, key);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1)) jpl_errorf(L, "option '%s' must be an integer", key);
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static char opt_delim(lua_State *L, int t)
{
    const char *d = opt_string(L, t, "delimiter");
    if (!d) return 0;
    if (strcmp(d, "tab") == 0 || strcmp(d, "\\t") == 0) return '\t';
    if (strlen(d) != 1) jpl_errorf(L, "option 'delimiter' must be one character (or \"tab\")");
    return d[0];
}

/* Reject misspelt option names: an option that vanishes silently is a bug. */
void jpl_check_options(lua_State *L, int t, const char *what, const char *const *allowed)
{
    if (t == 0 || lua_isnoneornil(L, t)) return;
    t = lua_absindex(L, t);
    luaL_checktype(L, t, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) jpl_errorf(L, "%s: option names must be strings", what);
        const char *k = lua_tostring(L, -1);
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, k) == 0;
        if (!ok) {
            const char *near = jp_suggest(k, allowed, -1);
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *const *a = allowed; *a; a++) {
                if (a != allowed) luaL_addstring(&b, ", ");
                luaL_addstring(&b, *a);
            }
            luaL_pushresult(&b);
            if (near)
                jpl_errorf(L, "%s: unknown option '%s' (did you mean '%s'? known: %s)", what, k,
                           near, lua_tostring(L, -1));
            jpl_errorf(L, "%s: unknown option '%s' (known: %s)", what, k, lua_tostring(L, -1));
        }
    }
}

static void check_keys(lua_State *L, int t, const char *what, const char *const *allowed)
{
    jpl_check_options(L, t, what, allowed);
}

/* ---- constraints and fields from Lua tables ----------------------------------- */

static int unknown_type(lua_State *L, const char *field, const char *type)
{
    static const char *const types[] = {"integer", "number", "string", "boolean",
                                        "date",    "period", NULL};
    const char *near = jp_suggest(type, types, -1);
    return jpl_errorf(L,
                      "field '%s': unknown type '%s' (%s%s%sinteger, number, string, boolean, "
                      "date, period)",
                      field, type, near ? "did you mean '" : "", near ? near : "",
                      near ? "'? " : "");
}

/* Fill constraints of field f (of type f->type) from the table at t. */
static void read_constraints(lua_State *L, int t, jp_field_t *f)
{
    static const char *const known[] = {"required",  "unique",  "minimum", "maximum", "minLength",
                                        "maxLength", "pattern", "enum",    NULL};
    check_keys(L, t, "constraints", known);
    jp_constraints_t *c = &f->constraints;
    jp_error_t err;
    jp_error_clear(&err);
    c->required = opt_bool(L, t, "required", 0);
    c->unique = opt_bool(L, t, "unique", 0);
    c->min_length = (long)opt_int(L, t, "minLength", -1);
    c->max_length = (long)opt_int(L, t, "maxLength", -1);
    const char *pat = opt_string(L, t, "pattern");
    if (pat && !(c->pattern = jp_strdup(pat))) luaL_error(L, "out of memory");
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "maximum" : "minimum";
        lua_getfield(L, t, key);
        if (!lua_isnil(L, -1)) {
            jp_value_t v;
            jp_type_t bt = f->type == JP_TYPE_STRING ? JP_TYPE_STRING : f->type;
            if (!jpl_to_cell(L, -1, bt, f->unit, &v, &err)) {
                lua_pop(L, 1);
                jpl_errorf(L, "field '%s': constraint %s: %s", f->name, key, err.msg);
            }
            if (bt == JP_TYPE_STRING) {
                if (!c->bounds && !(c->bounds = jp_column_new(JP_TYPE_STRING, 2)))
                    luaL_error(L, "out of memory");
                if (jp_column_push_str(c->bounds, v.u.s.ptr, v.u.s.len))
                    luaL_error(L, "out of memory");
                size_t len;
                v.u.s.ptr = jp_column_str(c->bounds, jp_column_len(c->bounds) - 1, &len);
            }
            if (k)
                c->maximum = v, c->has_maximum = true;
            else
                c->minimum = v, c->has_minimum = true;
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, t, "enum");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            jpl_errorf(L, "field '%s': constraint enum must be a list", f->name);
        int et = lua_gettop(L);
        lua_Integer n = (lua_Integer)lua_rawlen(L, et);
        if (!(c->enum_values = jp_column_new(f->type, (size_t)n))) luaL_error(L, "out of memory");
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, et, i);
            jp_value_t v;
            if (!jpl_to_cell(L, -1, f->type, f->unit, &v, &err) ||
                jp_column_push_value(c->enum_values, &v, &err)) {
                lua_pop(L, 1);
                jpl_errorf(L, "field '%s': enum item %d: %s", f->name, (int)i, err.msg);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

/* A box that frees a jp_field_t if anything raises while it is filled. */
static int field_gc(lua_State *L)
{
    jp_field_t *f = lua_touserdata(L, 1);
    jp_field_free(f);
    return 0;
}

static jp_field_t *new_field_box(lua_State *L)
{
    jp_field_t *f = lua_newuserdatauv(L, sizeof *f, 0);
    jp_field_init(f);
    if (luaL_newmetatable(L, "jinpu.fieldbox")) {
        lua_pushcfunction(L, field_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return f;
}

const char *jpl_check_name(lua_State *L, int idx, const char *what)
{
    size_t n;
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &n) : NULL;
    if (s && memchr(s, '\0', n))
        jpl_errorf(L,
                   "%s: the field name '%s\\0...' holds a NUL byte (a name ends at its first NUL)",
                   what, s);
    return s;
}

static char *dup_or_raise(lua_State *L, const char *s)
{
    if (!s) return NULL;
    char *d = jp_strdup(s);
    if (!d) luaL_error(L, "out of memory");
    return d;
}

/* Read a field definition (string name or table) at idx into f. */
static void read_field(lua_State *L, int idx, jp_field_t *f)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        f->name = dup_or_raise(L, jpl_check_name(L, idx, "field"));
        return;
    }
    if (!lua_istable(L, idx))
        jpl_errorf(L, "a field is a name or a table, not a %s", luaL_typename(L, idx));
    static const char *const known[] = {"name",       "type",        "unit",
                                        "unit_field", "title",       "description",
                                        "source",     "constraints", NULL};
    check_keys(L, idx, "field", known);
    lua_getfield(L, idx, "name");
    const char *name = jpl_check_name(L, -1, "field");
    lua_pop(L, 1); /* the options table keeps the string */
    if (!name || !*name) jpl_errorf(L, "a field needs a name");
    f->name = dup_or_raise(L, name);
    const char *type = opt_string(L, idx, "type");
    if (type && !jp_type_from_name(type, &f->type)) unknown_type(L, name, type);
    const char *unit = opt_string(L, idx, "unit");
    if (unit) {
        char buf[64];
        const char *canon = jp_unit_canonical(unit, buf, sizeof buf);
        char hint[96];
        if (!canon)
            jpl_errorf(L, "field '%s': unknown unit '%s'%s", name, unit,
                       jp_unit_hint(unit, hint, sizeof hint));
        f->unit = dup_or_raise(L, canon);
    }
    f->unit_field = dup_or_raise(L, opt_string(L, idx, "unit_field"));
    f->title = dup_or_raise(L, opt_string(L, idx, "title"));
    f->description = dup_or_raise(L, opt_string(L, idx, "description"));
    f->source = dup_or_raise(L, opt_string(L, idx, "source"));
    lua_getfield(L, idx, "constraints");
    if (!lua_isnil(L, -1)) {
        if (f->type == JP_TYPE_NONE)
            jpl_errorf(L, "field '%s': give a type to use constraints", name);
        read_constraints(L, lua_gettop(L), f);
    }
    lua_pop(L, 1);
}

/* The type a Lua value suggests (for fields without a declared type). */
static jp_type_t value_type(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        return lua_isinteger(L, idx) ? JP_TYPE_INT : JP_TYPE_NUMBER;
    case LUA_TBOOLEAN:
        return JP_TYPE_BOOL;
    case LUA_TSTRING:
        return JP_TYPE_STRING;
    default:
        return JP_TYPE_NONE;
    }
}

static jp_type_t widen(jp_type_t a, jp_type_t b)
{
    if (a == JP_TYPE_NONE) return b;
    if (b == JP_TYPE_NONE || a == b) return a;
    if (jp_type_is_numeric(a) && jp_type_is_numeric(b)) return JP_TYPE_NUMBER;
    return JP_TYPE_STRING;
}

/* ---- jp.dataset{...} ------------------------------------------------------------ */

/* table.sort comparator for field tables: by name */
static int by_name(lua_State *L)
{
    lua_getfield(L, 1, "name");
    lua_getfield(L, 2, "name");
    lua_pushboolean(L, lua_compare(L, -2, -1, LUA_OPLT));
    return 1;
}

static void set_meta_string(lua_State *L, int t, const char *key, char **slot)
{
    const char *s = opt_string(L, t, key);
    if (s && jp_meta_set(slot, s)) luaL_error(L, "out of memory");
}

static void read_meta(lua_State *L, int t, jp_meta_t *m)
{
    set_meta_string(L, t, "name", &m->name);
    set_meta_string(L, t, "title", &m->title);
    set_meta_string(L, t, "description", &m->description);
    set_meta_string(L, t, "source", &m->source);
    set_meta_string(L, t, "source_file", &m->source_file);
    set_meta_string(L, t, "period", &m->period);
    set_meta_string(L, t, "license", &m->license);
    lua_getfield(L, t, "notes");
    if (lua_istable(L, -1)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            const char *s = lua_tostring(L, -1);
            if (!s) jpl_errorf(L, "notes must be strings");
            if (jp_meta_add_note(m, s)) luaL_error(L, "out of memory");
            lua_pop(L, 1);
        }
    } else if (lua_isstring(L, -1)) {
        if (jp_meta_add_note(m, lua_tostring(L, -1))) luaL_error(L, "out of memory");
    }
    lua_pop(L, 1);
}

static char **read_name_list(lua_State *L, int idx, size_t *n)
{
    *n = 0;
    if (lua_isnil(L, idx)) return NULL;
    if (lua_type(L, idx) == LUA_TSTRING) {
        char **l = jp_calloc(1, sizeof *l);
        if (!l || !(l[0] = jp_strdup(lua_tostring(L, idx)))) {
            jp_free(l);
            luaL_error(L, "out of memory");
        }
        *n = 1;
        return l;
    }
    if (!lua_istable(L, idx)) jpl_errorf(L, "expected a field name or a list of names");
    size_t k = (size_t)lua_rawlen(L, idx);
    char **l = jp_calloc(k ? k : 1, sizeof *l);
    if (!l) luaL_error(L, "out of memory");
    for (size_t i = 0; i < k; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        const char *s = lua_tostring(L, -1);
        if (s) l[i] = jp_strdup(s);
        lua_pop(L, 1);
        if (!s || !l[i]) {
            for (size_t j = 0; j <= i; j++) jp_free(l[j]);
            jp_free(l);
            if (!s) jpl_errorf(L, "key field names must be strings");
            luaL_error(L, "out of memory");
        }
    }
    *n = k;
    return l;
}

/* The length of the list at t, every key checked: a key that is not a
 * whole number from 1 is an error, and so is a hole (rows 1 and 3 without
 * row 2: Lua's # would give 1 or 3, and rows would vanish) unless holes
 * are nulls (a column's values), when the length is the largest key. */
static size_t list_length(lua_State *L, int t, const char *what, bool holes_are_nulls)
{
    lua_Integer max = 0, count = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        lua_Integer k = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (k < 1) {
            lua_pop(L, 1);
            return (size_t)jpl_errorf(L, "jp.dataset: %s must be a list (indexed 1, 2, ...)", what);
        }
        if (k > max) max = k;
        count++;
    }
    if (count != max && !holes_are_nulls) {
        lua_Integer i = 1;
        while (lua_rawgeti(L, t, i) != LUA_TNIL) lua_pop(L, 1), i++;
        lua_pop(L, 1);
        return (size_t)jpl_errorf(L,
                                  "jp.dataset: %s has no entry %d but has one at %d (a list "
                                  "cannot have holes)",
                                  what, (int)i, (int)max);
    }
    return (size_t)max;
}

/* What jp.dataset{...} is building: stack slots (0 = absent) and sizes. */
typedef struct {
    jp_dataset_t *ds;
    int rows, cols; /* the rows or columns table */
    int fbox;       /* the list of field boxes (jp_field_t userdata) */
    size_t nf, nrows;
} dsbuild_t;

/* [-0, +0, -] Field j (1-based) of the build. */
static jp_field_t *build_field(lua_State *L, const dsbuild_t *b, size_t j)
{
    lua_rawgeti(L, b->fbox, (lua_Integer)j);
    jp_field_t *f = lua_touserdata(L, -1);
    lua_pop(L, 1); /* still referenced by the list */
    return f;
}

/* [-0, +1, -] Sort the list at idx, with `cmp` (a C function) or by <. */
static void sort_list(lua_State *L, int idx, lua_CFunction cmp)
{
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, idx);
    if (cmp) lua_pushcfunction(L, cmp);
    lua_call(L, cmp ? 2 : 1, 0);
    lua_pop(L, 1);
}

/* [-0, +0, v] The fields map { name = "type" | {type=, unit=, ...} } at mt
 * replaced by a list of field tables, sorted by name (a Lua table has no
 * order). */
static void fields_map_to_list(lua_State *L, int mt)
{
    lua_newtable(L); /* [.., map, list] */
    int lt = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, mt)) { /* [.., map, list, k, v] */
        if (lua_type(L, -2) != LUA_TSTRING)
            jpl_errorf(L, "jp.dataset: fields must be a list, or a map of name = type");
        lua_newtable(L); /* [.., k, v, f] */
        if (lua_type(L, -2) == LUA_TSTRING) {
            lua_pushvalue(L, -2);
            lua_setfield(L, -2, "type");
        } else if (lua_istable(L, -2)) {
            lua_pushnil(L);
            while (lua_next(L, -3)) { /* copy the definition */
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_settable(L, -4);
            }
        } else {
            jpl_errorf(L, "jp.dataset: field '%s' must be a type name or a table",
                       lua_tostring(L, -3));
        }
        lua_pushvalue(L, -3);
        lua_setfield(L, -2, "name");
        lua_rawseti(L, lt, (lua_Integer)lua_rawlen(L, lt) + 1);
        lua_pop(L, 1);
    }
    sort_list(L, lt, by_name);
    lua_replace(L, mt); /* the list takes the map's place */
}

/* [-0, +0, v] No fields given: one untyped field per key of the first row
 * or of the columns table, sorted so the result is stable. */
static void fields_from_keys(lua_State *L, dsbuild_t *b)
{
    int top = lua_gettop(L), src = b->cols;
    if (b->rows) {
        lua_rawgeti(L, b->rows, 1);
        src = lua_istable(L, -1) ? lua_gettop(L) : 0;
        if (src && lua_rawlen(L, src) > 0)
            jpl_errorf(L, "jp.dataset: rows given as lists need a 'fields' list");
    }
    if (src) {
        lua_newtable(L);
        int keys = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, src)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                jpl_errorf(L, "jp.dataset: field names must be strings");
            lua_pushvalue(L, -1);
            lua_rawseti(L, keys, (lua_Integer)lua_rawlen(L, keys) + 1);
        }
        sort_list(L, keys, NULL);
        b->nf = (size_t)lua_rawlen(L, keys);
        for (size_t i = 1; i <= b->nf; i++) {
            jp_field_t *f = new_field_box(L);
            lua_rawseti(L, b->fbox, (lua_Integer)i);
            lua_rawgeti(L, keys, (lua_Integer)i);
            f->name = dup_or_raise(L, jpl_check_name(L, -1, "jp.dataset"));
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);
}

/* [-0, +1, v] The field boxes, a new list at b->fbox: from `fields` (a
 * list, or a map of name = type) or from the data's keys. */
static void read_fields(lua_State *L, dsbuild_t *b)
{
    lua_newtable(L);
    b->fbox = lua_gettop(L);
    lua_getfield(L, 1, "fields");
    if (lua_istable(L, -1) && lua_rawlen(L, -1) == 0) fields_map_to_list(L, lua_gettop(L));
    if (lua_istable(L, -1)) {
        int ft = lua_gettop(L);
        b->nf = (size_t)lua_rawlen(L, ft);
        for (size_t i = 1; i <= b->nf; i++) {
            jp_field_t *f = new_field_box(L);
            lua_rawseti(L, b->fbox, (lua_Integer)i);
            lua_rawgeti(L, ft, (lua_Integer)i);
            read_field(L, lua_gettop(L), f);
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        jpl_errorf(L, "jp.dataset: fields must be a list");
    } else {
        fields_from_keys(L, b);
    }
    lua_pop(L, 1); /* fields */
}

/* The widest type of field j's values (JP_TYPE_NONE when all are nil). */
static jp_type_t infer_type(lua_State *L, const dsbuild_t *b, size_t j, const jp_field_t *f)
{
    jp_type_t t = JP_TYPE_NONE;
    if (b->rows) {
        for (size_t i = 1; i <= b->nrows; i++) {
            lua_rawgeti(L, b->rows, (lua_Integer)i);
            if (lua_istable(L, -1)) {
                if (lua_rawlen(L, -1) > 0)
                    lua_rawgeti(L, -1, (lua_Integer)j);
                else
                    lua_getfield(L, -1, f->name);
                t = widen(t, value_type(L, -1));
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    } else if (b->cols) {
        lua_getfield(L, b->cols, f->name);
        if (lua_istable(L, -1)) {
            lua_Integer n = (lua_Integer)list_length(L, lua_gettop(L), f->name, true);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                t = widen(t, value_type(L, -1));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    return t;
}

/* [-0, +0, v] The number of rows of the columns form: every column as long
 * as the first. */
static void column_lengths(lua_State *L, dsbuild_t *b)
{
    for (size_t j = 1; j <= b->nf; j++) {
        const jp_field_t *f = build_field(L, b, j);
        lua_getfield(L, b->cols, f->name);
        size_t n = lua_istable(L, -1) ? list_length(L, lua_gettop(L), f->name, true) : 0;
        if (!lua_istable(L, -1) && !lua_isnil(L, -1))
            jpl_errorf(L, "jp.dataset: column '%s' must be a list", f->name);
        if (j == 1)
            b->nrows = n;
        else if (n != b->nrows)
            jpl_errorf(L, "jp.dataset: column '%s' has %d values, the first column has %d", f->name,
                       (int)n, (int)b->nrows);
        lua_pop(L, 1);
    }
}

/* The 1-based index of the field naming f's unit per row, or -1. */
static long unit_field_index(lua_State *L, const dsbuild_t *b, const jp_field_t *f)
{
    if (!f->unit_field) return -1;
    for (size_t k = 1; k <= b->nf; k++)
        if (strcmp(build_field(L, b, k)->name, f->unit_field) == 0) return (long)k;
    return jpl_errorf(L, "jp.dataset: field '%s': unit_field '%s' is not a field", f->name,
                      f->unit_field);
}

/* [-0, +1, v] Row i's value of field j (from the rows form; the row table is
 * above, as [.., row]: it is replaced by the value) and its unit: the unit
 * field's value when there is one (uf > 0), else `unit`. */
static const char *row_value(lua_State *L, size_t i, size_t j, const jp_field_t *f, long uf,
                             const char *unit)
{
    if (!lua_istable(L, -1))
        jpl_errorf(L, "jp.dataset: row %d is a %s, not a table", (int)i, luaL_typename(L, -1));
    bool list = lua_rawlen(L, -1) > 0;
    if (uf > 0) {
        if (list)
            lua_rawgeti(L, -1, (lua_Integer)uf);
        else
            lua_getfield(L, -1, f->unit_field);
        unit = lua_tostring(L, -1); /* kept alive by the row table */
        lua_pop(L, 1);
    }
    if (list)
        lua_rawgeti(L, -1, (lua_Integer)j);
    else
        lua_getfield(L, -1, f->name);
    lua_remove(L, -2);
    return unit;
}

/* [-0, +0, v] Build field j's column from the rows or columns and add it. */
static void build_column(lua_State *L, dsbuild_t *b, size_t j)
{
    int top = lua_gettop(L);
    jp_field_t *f = build_field(L, b, j);
    long uf = unit_field_index(L, b, f);
    jp_column_t *c = jp_column_new(f->type, b->nrows);
    if (!c) luaL_error(L, "out of memory");
    jpl_push_column(L, c, f->name, NULL);           /* owns c while we fill it */
    if (b->cols) lua_getfield(L, b->cols, f->name); /* [.., col, list] */
    jp_error_t err;
    jp_error_clear(&err);
    for (size_t i = 1; i <= b->nrows; i++) {
        const char *unit = f->unit;
        if (b->cols) {
            if (lua_istable(L, -1))
                lua_rawgeti(L, -1, (lua_Integer)i);
            else
                lua_pushnil(L);
        } else {
            lua_rawgeti(L, b->rows, (lua_Integer)i);
            unit = row_value(L, i, j, f, uf, unit);
        }
        jp_value_t v;
        if (!jpl_to_cell(L, -1, f->type, unit, &v, &err) || jp_column_push_value(c, &v, &err))
            jpl_errorf(L, "jp.dataset: row %d, field '%s': %s", (int)i, f->name, err.msg);
        lua_pop(L, 1);
    }
    /* hand the column to the dataset: take our own reference first */
    jp_column_ref(c);
    if (jp_dataset_add_column(b->ds, f, c, &err)) jpl_error(L, &err);
    lua_settop(L, top);
}

/* [-0, +0, v] Rows given as maps must not carry unknown keys (typos), nor
 * rows given as lists more values than there are fields. */
static void check_row_keys(lua_State *L, const dsbuild_t *b)
{
    for (size_t i = 1; i <= b->nrows; i++) {
        lua_rawgeti(L, b->rows, (lua_Integer)i);
        if (lua_rawlen(L, -1) == 0) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                const char *k = lua_tostring(L, -1);
                if (!k || jp_dataset_find(b->ds, k) < 0)
                    jpl_errorf(L, "jp.dataset: row %d has unknown field '%s'", (int)i, k ? k : "?");
            }
        } else if (lua_rawlen(L, -1) > b->nf) {
            jpl_errorf(L, "jp.dataset: row %d has %d values for %d fields", (int)i,
                       (int)lua_rawlen(L, -1), (int)b->nf);
        }
        lua_pop(L, 1);
    }
}

/* [-0, +0, v] primary_key = "f" | {"f", "g"}: every name a field. */
static void read_primary_key(lua_State *L, jp_dataset_t *ds)
{
    lua_getfield(L, 1, "primary_key");
    jp_schema_t keys = JP_SCHEMA_INIT;
    keys.primary_key = read_name_list(L, -1, &keys.n_primary_key);
    lua_pop(L, 1);
    jp_status_t st = jp_dataset_set_keys(ds, &keys);
    for (size_t k = 0; k < keys.n_primary_key; k++) jp_free(keys.primary_key[k]);
    jp_free(keys.primary_key);
    if (st) luaL_error(L, "out of memory");
    const jp_schema_t *s = jp_dataset_schema(ds);
    for (size_t k = 0; k < s->n_primary_key; k++)
        if (jp_dataset_find(ds, s->primary_key[k]) < 0)
            jpl_errorf(L, "jp.dataset: primary key field '%s' is not a field", s->primary_key[k]);
}

/* [-0, +1, v] The rows or columns table (absent: 0) under key k of the
 * argument, left on the stack when present. */
static int data_table(lua_State *L, const char *k)
{
    lua_getfield(L, 1, k);
    if (lua_istable(L, -1)) return lua_gettop(L);
    lua_pop(L, 1);
    return 0;
}

/*
 * jp.dataset{ name=, title=, ..., fields = {...}, rows = {...} | columns = {...},
 *             primary_key = ... }
 * The dataset userdata is pushed first and filled in place, so a raise at
 * any point leaves nothing to leak (its __gc releases what was built).
 */
static int l_dataset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = {
        "name",  "title",  "description", "source",  "source_file", "period", "license",
        "notes", "fields", "rows",        "columns", "primary_key", NULL};
    check_keys(L, 1, "jp.dataset", known);
    dsbuild_t b = {0};
    b.ds = jp_dataset_new();
    if (!b.ds) return luaL_error(L, "out of memory");
    jpl_push_dataset(L, b.ds); /* [.., ds] owns it from now on */
    int dsi = lua_gettop(L);
    read_meta(L, 1, jp_dataset_meta_edit(b.ds));
    b.rows = data_table(L, "rows");
    b.cols = data_table(L, "columns");
    if (b.rows && b.cols) return jpl_errorf(L, "jp.dataset: give rows or columns, not both");
    read_fields(L, &b);
    if (b.rows) b.nrows = list_length(L, b.rows, "rows", false);
    for (size_t j = 1; j <= b.nf; j++) { /* missing types: from the values */
        jp_field_t *f = build_field(L, &b, j);
        if (f->type != JP_TYPE_NONE) continue;
        jp_type_t t = infer_type(L, &b, j, f);
        f->type = t == JP_TYPE_NONE ? JP_TYPE_STRING : t;
    }
    if (b.cols) column_lengths(L, &b);
    for (size_t j = 1; j <= b.nf; j++) build_column(L, &b, j);
    if (b.rows) check_row_keys(L, &b);
    jp_dataset_set_nrows(b.ds, b.nrows);
    read_primary_key(L, b.ds);
    lua_settop(L, dsi);
    return 1;
}

/* ---- loading ---------------------------------------------------------------------- */

/* Fill an explicit partial schema from opts.schema: { field = "type" } or
 * { field = { type =, unit = } } or a list of field tables. */
static void read_schema_opt(lua_State *L, int t, jp_schema_t *s)
{
    jp_error_t err;
    jp_error_clear(&err);
    /* { fields = { {name=, type=}, ... } }: the dataset format's shape (as in
     * jp.dataset and a YAML file's fields:), a list under "fields" */
    if (lua_getfield(L, t, "fields") == LUA_TTABLE && lua_rawlen(L, -1) > 0) {
        lua_replace(L, t);
    } else {
        lua_pop(L, 1);
    }
    if (lua_rawlen(L, t) > 0) {
        size_t n = (size_t)lua_rawlen(L, t);
        for (size_t i = 1; i <= n; i++) {
            jp_field_t *f = new_field_box(L);
            lua_rawgeti(L, t, (lua_Integer)i);
            read_field(L, lua_gettop(L), f);
            lua_pop(L, 1);
            if (jp_schema_add(s, f, &err)) jpl_error(L, &err);
            lua_pop(L, 1);
        }
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING) jpl_errorf(L, "schema keys must be field names");
        jp_field_t *f = new_field_box(L); /* [k, v, box] */
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *type = lua_tostring(L, -2);
            if (!jp_type_from_name(type, &f->type)) unknown_type(L, lua_tostring(L, -3), type);
            f->name = dup_or_raise(L, jpl_check_name(L, -3, "schema"));
        } else if (lua_istable(L, -2)) {
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -4);
            lua_setfield(L, -2, "name"); /* the key names the field */
            read_field(L, lua_gettop(L), f);
            lua_pop(L, 1);
        } else {
            jpl_errorf(L, "schema: field '%s' must be a type name or a table", lua_tostring(L, -3));
        }
        if (jp_schema_add(s, f, &err)) jpl_error(L, &err);
        lua_pop(L, 2);
    }
}

typedef struct {
    jp_schema_t schema;
} schemabox_t;

static int schemabox_gc(lua_State *L)
{
    schemabox_t *b = lua_touserdata(L, 1);
    jp_schema_free(&b->schema);
    return 0;
}

/* [-0, +1] a zeroed userdata of `size` bytes that `gc` cleans up: what
 * options hold lives in it until the call returns */
static void *new_box(lua_State *L, size_t size, const char *mt, lua_CFunction gc)
{
    void *p = lua_newuserdatauv(L, size, 0);
    memset(p, 0, size);
    if (luaL_newmetatable(L, mt)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return p;
}

static int cellbox_gc(lua_State *L)
{
    jp_cell_errors_free(lua_touserdata(L, 1));
    return 0;
}

void jpl_read_opts(lua_State *L, int t, jp_read_opts_t *o, bool csv)
{
    jp_read_opts_init(o);
    if (lua_isnoneornil(L, t)) {
        o->lazy = true;
        return;
    }
    static const char *const known[] = {"format", "delimiter",   "header",  "columns", "schema",
                                        "name",   "null",        "threads", "lazy",    "rejects",
                                        "member", "cell_errors", NULL};
    check_keys(L, t, csv ? "jp.read_csv" : "jp.load", known);
    o->format = opt_string(L, t, "format");
    o->delimiter = opt_delim(L, t);
    o->header = opt_bool(L, t, "header", 1);
    o->name = opt_string(L, t, "name");
    lua_getfield(L, t, "null");
    if (lua_istable(L, -1)) {
        /* a list of texts: kept alive by the table, itself held by opts */
        size_t n = (size_t)lua_rawlen(L, -1);
        const char **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            lua_rawgeti(L, -2, (lua_Integer)i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                jpl_errorf(L, "option 'null': item %d is a %s, not a string", (int)i + 1,
                           luaL_typename(L, -1));
            v[i] = lua_tolstring(L, -1, &len);
            if (memchr(v[i], '\0', len)) jpl_errorf(L, "option 'null' holds a NUL byte");
            lua_pop(L, 1);
        }
        o->null_list = v;
        o->n_null_list = n;
        lua_replace(L, -2); /* the array stays on the stack while o is used */
    } else {
        lua_pop(L, 1);
        o->null_text = opt_string(L, t, "null");
    }
    o->threads = (int)opt_int(L, t, "threads", 0);
    o->lazy = opt_bool(L, t, "lazy", 1);
    o->keep_rejects = opt_bool(L, t, "rejects", 0);
    o->member = opt_string(L, t, "member");
    if (opt_bool(L, t, "cell_errors", 0)) {
        /* the list lives in a box on the stack until the call returns */
        o->cell_errors = new_box(L, sizeof *o->cell_errors, "jinpu.cellerrors", cellbox_gc);
    }
    lua_getfield(L, t, "columns");
    if (!lua_isnil(L, -1)) {
        size_t n;
        o->columns = jpl_check_names(L, lua_gettop(L), &n); /* [.., cols, names] */
        o->n_columns = n;
        lua_replace(L, -2); /* keep the names box on the stack until we return */
    } else {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    lua_getfield(L, t, "schema");
    if (lua_type(L, -1) == LUA_TSTRING) { /* a named schema (plugins) */
        const char *sname = lua_tostring(L, -1);
        jpl_plugin_schema(L, sname); /* [.., name, fields] */
        lua_remove(L, -2);
        o->schema_subset = true; /* a file may leave out optional fields */
        if (!o->name) {
            lua_getfield(L, -1, "name"); /* the schema names the dataset */
            o->name = lua_tostring(L, -1);
            lua_pop(L, 1); /* kept alive by the schema table */
        }
    }
    jp_dataset_t *sds = lua_isuserdata(L, -1) ? jpl_test_dataset(L, -1) : NULL;
    if (sds) { /* a dataset (e.g. a schema file loaded with jp.load): its fields and keys */
        o->schema = jp_dataset_schema(sds); /* kept alive by the value left on the stack */
    } else if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            jpl_errorf(L, "option 'schema' must be a table, a dataset or a schema's name");
        int st = lua_gettop(L);
        schemabox_t *b = new_box(L, sizeof *b, "jinpu.schemabox", schemabox_gc);
        read_schema_opt(L, st, &b->schema);
        o->schema = &b->schema;
        lua_replace(L, st); /* keep the box */
    }
}

/* The explicit schema's keys, given to a dataset read with it that has
 * none of its own (a CSV).  Every key field must have been read. */
static void take_keys(lua_State *L, jp_dataset_t *ds, const jp_schema_t *s, const char *path)
{
    const jp_schema_t *own = jp_dataset_schema(ds);
    if (!s || (!s->n_primary_key && !s->n_foreign_keys) || own->n_primary_key ||
        own->n_foreign_keys)
        return;
    for (size_t i = 0; i < s->n_primary_key; i++)
        if (jp_dataset_find(ds, s->primary_key[i]) < 0)
            jpl_errorf(L,
                       "%s: the schema's primary key names field '%s', which was not read (read "
                       "it, or give the schema's fields alone)",
                       path, s->primary_key[i]);
    for (size_t k = 0; k < s->n_foreign_keys; k++)
        for (size_t i = 0; i < s->foreign_keys[k].n_fields; i++)
            if (jp_dataset_find(ds, s->foreign_keys[k].fields[i]) < 0)
                jpl_errorf(L,
                           "%s: the schema's foreign key %zu names field '%s', which was not read",
                           path, k + 1, s->foreign_keys[k].fields[i]);
    if (jp_dataset_set_keys(ds, s)) luaL_error(L, "out of memory");
}

/* [-0, +1] the cells read as null for not being of their type:
 * { {file, line, col, row, field, message}, ..., total = N } */
static void push_cell_errors(lua_State *L, const char *path, const jp_cell_errors_t *ce)
{
    lua_createtable(L, (int)ce->n, 1);
    for (size_t i = 0; i < ce->n; i++) {
        const jp_cell_error_t *c = &ce->v[i];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, path);
        lua_setfield(L, -2, "file");
        lua_pushinteger(L, c->line);
        lua_setfield(L, -2, "line");
        lua_pushinteger(L, c->col);
        lua_setfield(L, -2, "col");
        lua_pushinteger(L, c->row);
        lua_setfield(L, -2, "row");
        lua_pushstring(L, c->field);
        lua_setfield(L, -2, "field");
        lua_pushstring(L, c->msg);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushinteger(L, (lua_Integer)ce->total);
    lua_setfield(L, -2, "total");
}

/* opts.format when opts (at t) is a table holding a string there, else NULL */
static const char *opt_format(lua_State *L, int t)
{
    if (lua_type(L, t) != LUA_TTABLE) return NULL;
    lua_getfield(L, t, "format");
    const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* still referenced by the options table */
    return f;
}

/* defer: jp._load_validating (jp_read_opts_t.defer_cells) */
static int do_load(lua_State *L, bool csv, bool defer)
{
    lua_settop(L, 2);
    const char *path = luaL_checkstring(L, 1);
    jpl_policy_check_read(L, csv ? "jp.read_csv" : "jp.load", path);
    if (!csv && jpl_plugin_format(L, path, opt_format(L, 2), "read")) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        /* the plugin's reader checks its own options; the host's wrapper
           returns the dataset, and an empty list when cell_errors asks */
        lua_call(L, 2, LUA_MULTRET);
        return lua_gettop(L) - 2;
    }
    jp_dataset_t **rejects = push_dataset_slot(L); /* [3]: the rejects, Lua's from the start */
    jp_read_opts_t o;
    int top = lua_gettop(L);
    jpl_read_opts(L, 2, &o, csv); /* may leave boxes on the stack: they live until return */
    o.defer_cells = defer && o.cell_errors;
    if (csv && !o.format) {
        const jp_format_t *f = jp_format_for_path(path);
        if (!f || strncmp(f->name, "csv", 3) != 0) o.format = "csv";
    }
    if (o.keep_rejects) o.rejects = rejects;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_dataset_load(path, &o, &ds, &err);
    if (st) return jpl_error(L, &err);
    if (!o.cell_errors && !o.schema) lua_settop(L, top); /* else their boxes must live on */
    jpl_push_dataset(L, ds);
    const jp_format_t *fmt = o.format ? jp_format_find(o.format) : jp_format_for_path(path);
    if (fmt && strncmp(fmt->name, "csv", 3) == 0)
        take_keys(L, ds, o.schema, path); /* may raise: the dataset is Lua's now */
    int n = 1;
    if (o.keep_rejects) {
        if (*rejects)
            lua_pushvalue(L, 3);
        else
            lua_pushnil(L);
        jpl_gc_pressure(L);
        n++;
    }
    if (o.cell_errors && !jp_csv_cells_deferred(ds)) {
        push_cell_errors(L, path, o.cell_errors);
        n++;
    }
    return n;
}

static int l_load(lua_State *L)
{
    return do_load(L, false, false);
}

/* jp._load_validating(path, opts) -> ds[, cells]: jp.load with cell_errors,
 * for a validation that may go batch by batch: a CSV file that would be
 * read lazily stays lazy, its cells not of their type read as null and not
 * listed yet (no second result; jp._cell_errors or the streamed validation
 * lists them). */
static int l_load_validating(lua_State *L)
{
    return do_load(L, false, true);
}

/* jp._cells_deferred(ds): is ds such a file, its cells not listed yet? */
static int l_cells_deferred(lua_State *L)
{
    lua_pushboolean(L, jp_csv_cells_deferred(jpl_check_dataset(L, 1)));
    return 1;
}

/* jp._cell_errors(ds) -> cells: such a file read whole, and its cells not
 * of their type, as jp.load's cell_errors lists them. */
static int l_cell_errors(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jp_cell_errors_t *ce = new_box(L, sizeof *ce, "jinpu.cellerrors", cellbox_gc);
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_csv_cell_errors(ds, ce, &err)) return jpl_error(L, &err);
    jpl_gc_pressure(L);
    push_cell_errors(L, jp_dataset_origin(ds) ? jp_dataset_origin(ds) : "", ce);
    return 1;
}

static int l_read_csv(lua_State *L)
{
    return do_load(L, true, false);
}

/* ---- dataset methods ----------------------------------------------------------------- */

static int ds_gc(lua_State *L)
{
    dsbox_t *b = luaL_checkudata(L, 1, JPL_DATASET_MT);
    jp_dataset_unref(b->ds);
    b->ds = NULL;
    return 0;
}

static int ds_len(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_dataset_need_rows(ds, &err)) return jpl_error(L, &err);
    lua_pushinteger(L, (lua_Integer)jp_dataset_nrows(ds));
    return 1;
}

size_t jpl_term_width(void)
{
    const char *c = getenv("COLUMNS");
    long w = c ? atol(c) : 0;
    return w >= 40 && w <= 1000 ? (size_t)w : 120;
}

static int ds_preview(lua_State *L, jp_dataset_t *ds, size_t rows, int digits)
{
    jp_preview_opts_t o;
    jp_preview_opts_init(&o);
    o.width = jpl_term_width();
    o.digits = digits;
    if (rows) o.max_rows = rows;
    jp_buf_t b = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_dataset_preview(ds, &o, &b, &err);
    if (st) {
        jp_buf_free(&b);
        return jpl_error(L, &err);
    }
    /* luaL_Buffer would need the text in pieces; one push is simpler, and
       lua_pushlstring raising on OOM would leak b: copy through a buffer */
    luaL_Buffer lb;
    size_t len = b.len;
    char *p = luaL_buffinitsize(L, &lb, len ? len : 1);
    memcpy(p, b.data ? b.data : "", len);
    jp_buf_free(&b);
    luaL_pushresultsize(&lb, len);
    return 1;
}

static int ds_tostring(lua_State *L)
{
    return ds_preview(L, jpl_check_dataset(L, 1), 0, 0);
}

/* The digits option of a display table at t: 1..17, 0 every digit (-1
 * inside), absent: `dflt`. */
static int digits_opt(lua_State *L, int t, const char *what, int dflt)
{
    static const char *const known[] = {"digits", NULL};
    check_keys(L, t, what, known);
    if (lua_isnoneornil(L, t)) return dflt;
    lua_Integer d = opt_int(L, t, "digits", dflt == -1 ? 0 : dflt);
    if (d < 0 || d > 17) jpl_errorf(L, "%s: digits must be 1..17, or 0 for every digit", what);
    return d == 0 ? -1 : (int)d;
}

/* jp.display{ digits = 7 } -> the settings before: how print(ds) and
 * previews show numbers (never what is written to files). */
static int l_display(lua_State *L)
{
    int old = jp_preview_digits();
    if (!lua_isnoneornil(L, 1)) jp_preview_set_digits(digits_opt(L, 1, "display", old));
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, old < 0 ? 0 : old);
    lua_setfield(L, -2, "digits");
    return 1;
}

static int ds_preview_m(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 10);
    luaL_argcheck(L, n > 0, 2, "must be positive");
    return ds_preview(L, ds, (size_t)n, digits_opt(L, 3, "preview", 0));
}

static int ds_names(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_createtable(L, (int)jp_dataset_nfields(ds), 0);
    for (size_t i = 0; i < jp_dataset_nfields(ds); i++) {
        lua_pushstring(L, jp_dataset_field(ds, i)->name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static void set_str(lua_State *L, const char *key, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static void push_names(lua_State *L, char **names, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* ds:schema() -> plain table: metadata, fields (with constraints), keys */
static int ds_schema(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jpl_need_all(L, ds); /* types of lazy columns are known once loaded */
    const jp_meta_t *m = jp_dataset_meta(ds);
    const jp_schema_t *s = jp_dataset_schema(ds);
    lua_newtable(L);
    set_str(L, "name", m->name);
    set_str(L, "title", m->title);
    set_str(L, "description", m->description);
    set_str(L, "source", m->source);
    set_str(L, "source_file", m->source_file);
    set_str(L, "period", m->period);
    set_str(L, "license", m->license);
    set_str(L, "origin", jp_dataset_origin(ds));
    push_names(L, m->notes, m->n_notes);
    lua_setfield(L, -2, "notes");
    lua_pushinteger(L, (lua_Integer)jp_dataset_nrows(ds));
    lua_setfield(L, -2, "rows");
    lua_createtable(L, (int)jp_dataset_nfields(ds), 0);
    for (size_t i = 0; i < jp_dataset_nfields(ds); i++) {
        const jp_field_t *f = jp_dataset_field(ds, i);
        lua_newtable(L);
        set_str(L, "name", f->name);
        set_str(L, "type", jp_type_name(f->type));
        set_str(L, "unit", f->unit);
        set_str(L, "unit_field", f->unit_field);
        set_str(L, "title", f->title);
        set_str(L, "description", f->description);
        set_str(L, "source", f->source);
        const jp_constraints_t *c = &f->constraints;
        if (jp_constraints_any(c)) {
            lua_newtable(L);
            if (c->required) lua_pushboolean(L, 1), lua_setfield(L, -2, "required");
            if (c->unique) lua_pushboolean(L, 1), lua_setfield(L, -2, "unique");
            if (c->has_minimum) jpl_push_value(L, &c->minimum), lua_setfield(L, -2, "minimum");
            if (c->has_maximum) jpl_push_value(L, &c->maximum), lua_setfield(L, -2, "maximum");
            if (c->min_length >= 0)
                lua_pushinteger(L, c->min_length), lua_setfield(L, -2, "minLength");
            if (c->max_length >= 0)
                lua_pushinteger(L, c->max_length), lua_setfield(L, -2, "maxLength");
            set_str(L, "pattern", c->pattern);
            if (c->enum_values) {
                size_t ne = jp_column_len(c->enum_values);
                lua_createtable(L, (int)ne, 0);
                for (size_t k = 0; k < ne; k++) {
                    jpl_push_cell(L, c->enum_values, k);
                    lua_rawseti(L, -2, (lua_Integer)k + 1);
                }
                lua_setfield(L, -2, "enum");
            }
            lua_setfield(L, -2, "constraints");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "fields");
    if (s->n_primary_key) {
        push_names(L, s->primary_key, s->n_primary_key);
        lua_setfield(L, -2, "primary_key");
    }
    if (s->n_foreign_keys) {
        lua_createtable(L, (int)s->n_foreign_keys, 0);
        for (size_t i = 0; i < s->n_foreign_keys; i++) {
            const jp_foreign_key_t *fk = &s->foreign_keys[i];
            lua_newtable(L);
            push_names(L, fk->fields, fk->n_fields);
            lua_setfield(L, -2, "fields");
            lua_newtable(L);
            set_str(L, "dataset", fk->ref_dataset);
            if (fk->ref_fields)
                push_names(L, fk->ref_fields, fk->n_fields);
            else
                lua_newtable(L);
            lua_setfield(L, -2, "fields");
            lua_setfield(L, -2, "reference");
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "foreign_keys");
    }
    return 1;
}

static long check_field(lua_State *L, jp_dataset_t *ds, int arg, const char *verb)
{
    const char *name = luaL_checkstring(L, arg);
    long idx;
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_dataset_lookup(ds, name, verb, &idx, &err)) jpl_error(L, &err);
    return idx;
}

static int ds_column(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    long i = check_field(L, ds, 2, "column");
    size_t k = (size_t)i;
    if (!jp_dataset_col(ds, k) && jp_stream_possible(ds)) {
        /* a field of a file pipeline: its reductions stream over the file,
           its cells are loaded when read */
        push_lazy_column(L, ds, k);
        return 1;
    }
    jpl_need(L, ds, &k, 1);
    const jp_field_t *f = jp_dataset_field(ds, i);
    jpl_push_column(L, jp_column_ref(jp_dataset_col(ds, i)), f->name, f->unit);
    return 1;
}

/* [-0, +1, m] Row i as a table; qualified cells listed in its metatable. */
static void push_row(lua_State *L, jp_dataset_t *ds, size_t i)
{
    size_t nf = jp_dataset_nfields(ds);
    lua_createtable(L, 0, (int)nf);
    bool quals = false;
    for (size_t j = 0; j < nf; j++) {
        jpl_push_cell(L, jp_dataset_col(ds, j), i);
        lua_setfield(L, -2, jp_dataset_field(ds, j)->name);
        quals |= jp_column_qual(jp_dataset_col(ds, j), i) != JP_Q_EXACT;
    }
    if (quals) {
        lua_createtable(L, 0, 1); /* [row, mt] */
        lua_newtable(L);          /* [row, mt, quals] */
        for (size_t j = 0; j < nf; j++) {
            jp_qual_t q = jp_column_qual(jp_dataset_col(ds, j), i);
            if (q == JP_Q_EXACT) continue;
            lua_pushstring(L, jp_qual_name(q));
            lua_setfield(L, -2, jp_dataset_field(ds, j)->name);
        }
        lua_setfield(L, -2, "qualifiers"); /* [row, mt] */
        lua_setmetatable(L, -2);           /* [row] */
    }
}

static int rows_iter(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, lua_upvalueindex(1));
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
    if ((size_t)i >= jp_dataset_nrows(ds)) return 0;
    lua_pushinteger(L, i + 1);
    lua_copy(L, -1, lua_upvalueindex(2));
    lua_pop(L, 1);
    push_row(L, ds, (size_t)i);
    lua_pushinteger(L, i + 1);
    return 2;
}

/* for row, i in ds:rows() do ... end */
static int ds_rows(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jpl_need_all(L, ds);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, rows_iter, 2);
    return 1;
}

static size_t check_row_index(lua_State *L, jp_dataset_t *ds, int arg)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_dataset_need_rows(ds, &err)) jpl_error(L, &err);
    if (i < 0) i = (lua_Integer)jp_dataset_nrows(ds) + i + 1; /* -1 = last row */
    if (i < 1 || (size_t)i > jp_dataset_nrows(ds))
        jpl_errorf(L, "row %d is out of range (the dataset has %d rows)",
                   (int)luaL_checkinteger(L, arg), (int)jp_dataset_nrows(ds));
    return (size_t)i - 1;
}

static int ds_row(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jpl_need_all(L, ds);
    size_t i = check_row_index(L, ds, 2);
    push_row(L, ds, i);
    return 1;
}

/* ds:qualifier(i, field) -> "exact" | "approx" | ... */
static int ds_qualifier(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    long f = check_field(L, ds, 3, "qualifier");
    size_t k = (size_t)f;
    jpl_need(L, ds, &k, 1);
    size_t i = check_row_index(L, ds, 2);
    lua_pushstring(L, jp_qual_name(jp_column_qual(jp_dataset_col(ds, f), i)));
    return 1;
}

static int ds_head(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 10);
    luaL_argcheck(L, n >= 0, 2, "must not be negative");
    jp_error_t err;
    jp_error_clear(&err);
    /* lazy stays lazy: the head of a sort is a top-N, of a file its first rows */
    jp_dataset_t *out = jp_head(ds, (size_t)n, &err);
    if (!out) return jpl_error(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* What a CSV write does with qualified figures (`~7696`, `>140000`). */
enum { Q_COLUMN, Q_INLINE, Q_DROP };

/* qualifiers = "column" (the default: a <field>_qualifier text column after
 * the fields, the numbers plain, as an archive stores them), "inline" or
 * true (the symbol in the cell), false (dropped, as asked). */
static int opt_qualifiers(lua_State *L, int t)
{
    if (t == 0 || lua_isnoneornil(L, t)) return Q_COLUMN;
    lua_getfield(L, t, "qualifiers");
    int mode = -1;
    if (lua_isnil(L, -1))
        mode = Q_COLUMN;
    else if (lua_isboolean(L, -1))
        mode = lua_toboolean(L, -1) ? Q_INLINE : Q_DROP;
    else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "column") == 0)
        mode = Q_COLUMN;
    else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "inline") == 0)
        mode = Q_INLINE;
    if (mode < 0)
        jpl_errorf(L, "option 'qualifiers' must be \"column\", \"inline\", true or false");
    lua_pop(L, 1);
    return mode;
}

static void read_write_opts(lua_State *L, int t, jp_write_opts_t *o)
{
    jp_write_opts_init(o);
    static const char *const known[] = {"format",           "delimiter",  "level", "threads",
                                        "spreadsheet_safe", "qualifiers", NULL};
    check_keys(L, t, "write", known);
    o->format = opt_string(L, t, "format");
    o->delimiter = opt_delim(L, t);
    o->level = (int)opt_int(L, t, "level", 0);
    if (o->level < 0 || o->level > 9) jpl_errorf(L, "option 'level' must be 1..9");
    o->threads = (int)opt_int(L, t, "threads", 0);
    o->spreadsheet_safe = opt_bool(L, t, "spreadsheet_safe", 0);
    o->qualifiers = opt_qualifiers(L, t) == Q_INLINE;
}

static int do_write(lua_State *L, const char *format)
{
    lua_settop(L, 3);
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    const char *path = luaL_checkstring(L, 2);
    jpl_policy_check_write(L,
                           !format          ? "ds:write"
                           : *format == 'c' ? "ds:write_csv"
                                            : "ds:write_yaml",
                           path);
    if (!format && jpl_plugin_format(L, path, opt_format(L, 3), "write")) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_call(L, 3, 0);
        lua_settop(L, 1);
        return 1;
    }
    jp_write_opts_t o;
    read_write_opts(L, 3, &o);
    if (format && !o.format) {
        const jp_format_t *f = jp_format_for_path(path);
        if (!f || strncmp(f->name, format, strlen(format)) != 0) o.format = format;
    }
    const char *fmt = o.format;
    if (!fmt) {
        const jp_format_t *f = jp_format_for_path(path);
        fmt = f ? f->name : "";
    }
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *x = NULL;
    if (strncasecmp(fmt, "csv", 3) == 0 && opt_qualifiers(L, 3) == Q_COLUMN) {
        /* a plain CSV cell cannot say "about": the qualifiers go beside */
        if (jp_csv_qualifier_columns(ds, &x, NULL, &err)) return jpl_error(L, &err);
    } else {
        x = jp_dataset_ref(ds);
    }
    jp_status_t st = jp_dataset_save(x, path, &o, &err);
    jp_dataset_unref(x);
    if (st) return jpl_error(L, &err);
    lua_settop(L, 1);
    return 1; /* the dataset, for chaining */
}

static int ds_write_csv(lua_State *L)
{
    return do_write(L, "csv");
}

static int ds_write_yaml(lua_State *L)
{
    return do_write(L, "yaml");
}

static int ds_write(lua_State *L)
{
    return do_write(L, NULL);
}

/* ds:name() -> the name; it never changes one (ds:named does, returning a
 * new dataset), so an argument is an error rather than silently ignored. */
static int ds_name(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    if (!lua_isnone(L, 2))
        return jpl_errorf(L,
                          "name: ds:name() only reads the name; ds:named(\"%s\") returns the "
                          "dataset under a new name (datasets never change)",
                          lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "...");
    if (jp_dataset_meta(ds)->name)
        lua_pushstring(L, jp_dataset_meta(ds)->name);
    else
        lua_pushnil(L);
    return 1;
}

/* ds:named("agri_2022") -> the dataset under that name, sharing its columns */
static int ds_named(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    const char *name = luaL_checkstring(L, 2);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_named(ds, name, &err);
    if (!out) return jpl_error(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_eq(lua_State *L)
{
    jp_dataset_t *a = jpl_test_dataset(L, 1), *b = jpl_test_dataset(L, 2);
    if (!a || !b) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, a == b || jp_dataset_equal(a, b, NULL, 0));
    return 1;
}

/* ds:collect() -> ds, every column computed and held: a lazy dataset's plan
 * runs now (its file is read whole, its verbs applied), so later calls
 * neither read the file again nor depend on it; a dataset already in
 * memory comes back as it is. */
static int ds_collect(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    if (jp_dataset_is_lazy(ds)) jpl_need_all(L, ds);
    lua_settop(L, 1);
    return 1;
}

/* ds:equals(other) -> true | false, why */
static int ds_equals(lua_State *L)
{
    jp_dataset_t *a = jpl_check_dataset(L, 1), *b = jpl_check_dataset(L, 2);
    char why[512];
    jpl_need_all(L, a);
    jpl_need_all(L, b);
    if (jp_dataset_equal(a, b, why, sizeof why)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
}

/* ---- columns ------------------------------------------------------------------------- */

static int col_gc(lua_State *L)
{
    colbox_t *b = luaL_checkudata(L, 1, JPL_COLUMN_MT);
    jp_column_unref(b->col);
    b->col = NULL;
    colbox_drop_lazy(b);
    return 0;
}

static int col_len(lua_State *L)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    if (s) {
        lua_pushinteger(L, (lua_Integer)s->rows);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)jp_column_len(jpl_check_column(L, 1)));
    return 1;
}

/* col[i] is the i-th value (nil for null); col.name, col:method() */
static int col_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        jp_column_t *c = jpl_check_column(L, 1);
        lua_Integer i = luaL_checkinteger(L, 2);
        if (i < 1 || (size_t)i > jp_column_len(c)) return 0;
        jpl_push_cell(L, c, (size_t)i - 1);
        return 1;
    }
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "name") == 0) {
        lua_pushstring(L, jpl_column_name(L, 1));
        return 1;
    }
    if (strcmp(k, "type") == 0) {
        const jp_col_summary_t *sm = jpl_column_summary(L, 1);
        lua_pushstring(L, jp_type_name(sm ? sm->type : jp_column_type(jpl_check_column(L, 1))));
        return 1;
    }
    luaL_checkudata(L, 1, JPL_COLUMN_MT);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
    return 1;
}

static int col_tostring(lua_State *L)
{
    jp_column_t *c = jpl_check_column(L, 1);
    const char *unit = jpl_column_unit(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "column '%s' (%s%s%s, %d values): ", jpl_column_name(L, 1),
                    jp_type_name(jp_column_type(c)), unit ? ", " : "", unit ? unit : "",
                    (int)jp_column_len(c));
    luaL_addvalue(&b);
    char buf[128];
    const char *p;
    for (size_t i = 0; i < jp_column_len(c) && i < 8; i++) {
        size_t n = jp_cell_display(c, i, buf, sizeof buf, &p);
        if (i) luaL_addstring(&b, ", ");
        luaL_addlstring(&b, p, n > 40 ? 40 : n);
    }
    if (jp_column_len(c) > 8) luaL_addstring(&b, ", ...");
    luaL_pushresult(&b);
    return 1;
}

static int col_unit(lua_State *L)
{
    const char *u = jpl_column_unit(L, 1);
    if (u)
        lua_pushstring(L, u);
    else
        lua_pushnil(L);
    return 1;
}

static int col_qualifier(lua_State *L)
{
    jp_column_t *c = jpl_check_column(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, i >= 1 && (size_t)i <= jp_column_len(c), 2, "out of range");
    lua_pushstring(L, jp_qual_name(jp_column_qual(c, (size_t)i - 1)));
    return 1;
}

static int col_totable(lua_State *L)
{
    jp_column_t *c = jpl_check_column(L, 1);
    lua_createtable(L, (int)jp_column_len(c), 0);
    for (size_t i = 0; i < jp_column_len(c); i++) {
        jpl_push_cell(L, c, i);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int col_qualified(lua_State *L)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    if (s) {
        lua_pushinteger(L, (lua_Integer)s->qualified);
        return 1;
    }
    jp_column_t *c = jpl_check_column(L, 1);
    lua_pushinteger(L, (lua_Integer)jp_column_qual_count(c));
    return 1;
}

static int col_nulls(lua_State *L)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    if (s) {
        lua_pushinteger(L, (lua_Integer)s->nulls);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)jp_column_null_count(jpl_check_column(L, 1)));
    return 1;
}

/* for i, v in col:values() -- nil values are returned too */
static int col_values_iter(lua_State *L)
{
    jp_column_t *c = jpl_check_column(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    if ((size_t)i >= jp_column_len(c)) return 0;
    lua_pushinteger(L, i + 1);
    jpl_push_cell(L, c, (size_t)i);
    return 2;
}

static int col_values(lua_State *L)
{
    jpl_check_column(L, 1);
    lua_pushcfunction(L, col_values_iter);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

/* ---- module functions ------------------------------------------------------------------ */

/* jp.qualifier(row, field) -> "exact" | ... ; also jp.qualifier(col, i) */
static int l_qualifier(lua_State *L)
{
    if (luaL_testudata(L, 1, JPL_COLUMN_MT)) return col_qualifier(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstring(L, 2);
    if (lua_getmetatable(L, 1)) {
        lua_getfield(L, -1, "qualifiers");
        if (lua_istable(L, -1)) {
            lua_pushvalue(L, 2);
            lua_rawget(L, -2);
            if (lua_isstring(L, -1)) return 1;
        }
    }
    lua_pushliteral(L, "exact");
    return 1;
}

/* jp.figure("14万余吨") -> 140000, "more_than", "t" */
static int l_figure(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    jp_quantity_t q;
    jp_error_t err;
    jp_error_clear(&err);
    if (!jp_quantity_parse(s, n, &q, &err)) return jpl_fail(L, &err);
    if (q.is_integer && fabs(q.value) < 9e15)
        lua_pushinteger(L, (lua_Integer)q.value);
    else
        lua_pushnumber(L, q.value);
    lua_pushstring(L, jp_qual_name(q.qual));
    if (q.unit[0])
        lua_pushstring(L, q.unit);
    else
        lua_pushnil(L);
    return 3;
}

/* jp.format_figure(value, unit [, qualifier [, {as=, magnitude=, digits=, more_than=}]])
 * -> "14.8万亩"; jp.figure reads it back */
static int l_format_figure(lua_State *L)
{
    lua_Number v = luaL_checknumber(L, 1);
    const char *unit = luaL_optstring(L, 2, NULL);
    const char *qn = luaL_optstring(L, 3, "exact");
    jp_qual_t q;
    if (!jp_qual_from_name(qn, &q)) {
        static const char *const quals[] = {"exact",   "approx",    "at_least", "more_than",
                                            "at_most", "less_than", NULL};
        const char *near = jp_suggest(qn, quals, -1);
        return jpl_errorf(L,
                          "format_figure: qualifier '%s' is not one of exact, approx, at_least, "
                          "more_than, at_most, less_than%s%s%s",
                          qn, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    jp_figure_opts_t o;
    jp_figure_opts_init(&o);
    if (!lua_isnoneornil(L, 4)) {
        static const char *const known[] = {"as", "magnitude", "digits", "more_than", NULL};
        check_keys(L, 4, "format_figure", known);
        o.as = opt_string(L, 4, "as");
        o.digits = (int)opt_int(L, 4, "digits", 0);
        if (o.digits < 0 || o.digits > 17)
            return jpl_errorf(L, "format_figure: digits must be 1..17 (0: as many as needed)");
        const char *mag = opt_string(L, 4, "magnitude");
        if (mag) {
            if (!strcmp(mag, "万"))
                o.magnitude = 4;
            else if (!strcmp(mag, "亿"))
                o.magnitude = 8;
            else if (!strcmp(mag, "万亿"))
                o.magnitude = 12;
            else if (!strcmp(mag, ""))
                o.magnitude = 0;
            else
                return jpl_errorf(L,
                                  "format_figure: magnitude must be \"万\", \"亿\", \"万亿\" or "
                                  "\"\" (none), not \"%s\"",
                                  mag);
        }
        const char *mt = opt_string(L, 4, "more_than");
        if (mt && strcmp(mt, "余") != 0 && strcmp(mt, "超过") != 0)
            return jpl_errorf(L, "format_figure: more_than must be \"余\" or \"超过\"");
        o.more_than_prefix = mt && strcmp(mt, "超过") == 0;
    }
    char buf[160];
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_figure_format(v, unit, q, &o, buf, sizeof buf, &err)) return jpl_error(L, &err);
    lua_pushstring(L, buf);
    return 1;
}

/* jp.convert(value, from, to) -> value in `to` */
static int l_convert(lua_State *L)
{
    lua_Number v = luaL_checknumber(L, 1);
    const char *from = luaL_checkstring(L, 2), *to = luaL_checkstring(L, 3);
    jp_unit_conv_t cv;
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_unit_conversion(from, to, &cv, &err)) return jpl_error(L, &err);
    lua_pushnumber(L, jp_unit_apply(&cv, v));
    return 1;
}

/* jp.suggest(name, {candidates...}) -> the closest candidate or nil: the
 * same "did you mean" as every message of the library. */
static int l_suggest(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    jp_suggest_t sg;
    jp_suggest_init(&sg, name);
    int best = 0;
    const char *prev = NULL;
    for (lua_Integer i = 1; lua_rawgeti(L, 2, i) != LUA_TNIL; i++) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            jp_suggest_add(&sg, lua_tostring(L, -1)); /* the table keeps the string alive */
            if (sg.best != prev) best = (int)i, prev = sg.best;
        }
        lua_pop(L, 1);
    }
    if (!jp_suggest_best(&sg)) return 0;
    lua_rawgeti(L, 2, best);
    return 1;
}

/* jp.units() -> { {name=, dimension=, label=, aliases=}, ... } */
static int l_units(lua_State *L)
{
    lua_newtable(L);
    const jp_unit_t *u;
    for (size_t i = 0; (u = jp_unit_at(i)); i++) {
        lua_newtable(L);
        set_str(L, "name", u->name);
        set_str(L, "dimension", u->dim);
        set_str(L, "label", u->label);
        set_str(L, "aliases", u->aliases);
        lua_pushnumber(L, u->scale);
        lua_setfield(L, -2, "scale");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* jp.unit(text) -> canonical name or nil */
/* jp.unit(text) -> the canonical unit, or nil and why (with the closest
 * unit: a lookup that is nil for "tons" should say "t") */
static int l_unit(lua_State *L)
{
    char buf[64], hint[96];
    const char *text = luaL_checkstring(L, 1);
    const char *c = jp_unit_canonical(text, buf, sizeof buf);
    if (c) {
        lua_pushstring(L, c);
        return 1;
    }
    lua_pushnil(L);
    lua_pushfstring(L, "unknown unit '%s'%s", text, jp_unit_hint(text, hint, sizeof hint));
    return 2;
}

static int l_formats(lua_State *L)
{
    lua_newtable(L);
    const jp_format_t *f;
    for (size_t i = 0; (f = jp_format_at(i)); i++) {
        lua_newtable(L);
        set_str(L, "name", f->name);
        set_str(L, "description", f->description);
        lua_pushboolean(L, f->read || f->read_mem);
        lua_setfield(L, -2, "read");
        lua_pushboolean(L, f->write || f->write_mem);
        lua_setfield(L, -2, "write");
        lua_newtable(L);
        int k = 1;
        for (const char *const *e = f->extensions; e && *e; e++) {
            lua_pushstring(L, *e);
            lua_rawseti(L, -2, k++);
        }
        lua_setfield(L, -2, "extensions");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_is_dataset(lua_State *L)
{
    lua_pushboolean(L, jpl_test_dataset(L, 1) != NULL);
    return 1;
}

#ifdef JP_TEST_HOOKS
/* Test hook (test builds only, -DJP_TEST_HOOKS): JINPU_TEST_CSV_TUNING=
 * "BATCH,LAZY,THREADS[,ROWS]" makes CSV reads stream in batches of BATCH
 * bytes of text, lazy from LAZY bytes, on THREADS threads (0: the
 * default), and Lua functions stream over files of ROWS bytes or more, so
 * that scripts over small files take the streaming paths batch by batch. */
static void tuning_hook(void)
{
    const char *v = getenv("JINPU_TEST_CSV_TUNING");
    unsigned long batch = 0, lazy = 0, rows = 0;
    int threads = 0;
    if (!v || sscanf(v, "%lu,%lu,%d,%lu", &batch, &lazy, &threads, &rows) < 2) return;
    jp_csv_tuning_t t = {batch, batch / 4, 0, lazy, threads};
    jp_csv_set_tuning(&t);
    jp_stream_set_rows_bytes(rows);
}
#endif

void jpl_open_dataset(lua_State *L)
{
#ifdef JP_TEST_HOOKS
    tuning_hook();
#endif
    /* JINPU_DIGITS=N: how previews show numbers in this process (jinpu info too) */
    const char *env = getenv("JINPU_DIGITS");
    if (env && *env) {
        char *end;
        long d = strtol(env, &end, 10);
        if (!*end && d >= 0 && d <= 17) jp_preview_set_digits((int)d);
    }
    static const luaL_Reg ds_meta[] = {{"__gc", ds_gc},
                                       {"__len", ds_len},
                                       {"__tostring", ds_tostring},
                                       {"__eq", ds_eq},
                                       {NULL, NULL}};
    static const luaL_Reg ds_methods[] = {{"names", ds_names},
                                          {"schema", ds_schema},
                                          {"column", ds_column},
                                          {"rows", ds_rows},
                                          {"row", ds_row},
                                          {"qualifier", ds_qualifier},
                                          {"head", ds_head},
                                          {"preview", ds_preview_m},
                                          {"write_csv", ds_write_csv},
                                          {"write_yaml", ds_write_yaml},
                                          {"write", ds_write},
                                          {"name", ds_name},
                                          {"named", ds_named},
                                          {"equals", ds_equals},
                                          {"collect", ds_collect},
                                          {NULL, NULL}};
    static const luaL_Reg col_meta[] = {{"__gc", col_gc},
                                        {"__len", col_len},
                                        {"__index", col_index},
                                        {"__tostring", col_tostring},
                                        {NULL, NULL}};
    static const luaL_Reg col_methods[] = {
        {"unit", col_unit},   {"qualifier", col_qualifier}, {"totable", col_totable},
        {"nulls", col_nulls}, {"values", col_values},       {"qualified", col_qualified},
        {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"load", l_load},
                                     {"read_csv", l_read_csv},
                                     {"dataset", l_dataset},
                                     {"qualifier", l_qualifier},
                                     {"figure", l_figure},
                                     {"convert", l_convert},
                                     {"format_figure", l_format_figure},
                                     {"display", l_display},
                                     {"suggest", l_suggest},
                                     {"units", l_units},
                                     {"unit", l_unit},
                                     {"formats", l_formats},
                                     {"is_dataset", l_is_dataset},
                                     {"_load_validating", l_load_validating},
                                     {"_cells_deferred", l_cells_deferred},
                                     {"_cell_errors", l_cell_errors},
                                     {NULL, NULL}};
    int mod = lua_gettop(L);
    if (luaL_newmetatable(L, JPL_DATASET_MT)) { /* [jp, mt] */
        luaL_setfuncs(L, ds_meta, 0);
        lua_newtable(L);
        luaL_setfuncs(L, ds_methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "dataset");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, JPL_COLUMN_MT)) {
        luaL_setfuncs(L, col_meta, 0);
        lua_newtable(L);
        luaL_setfuncs(L, col_methods, 0);
        lua_setfield(L, -2, "methods");
    }
    lua_pop(L, 1);
    lua_settop(L, mod);
    luaL_setfuncs(L, funcs, 0);
    /* the Lua half of the library (jinpu.base) adds methods through these */
    luaL_getmetatable(L, JPL_DATASET_MT);
    lua_getfield(L, -1, "__index");
    lua_setfield(L, mod, "_dataset_methods");
    lua_getfield(L, -1, "methods");
    lua_pop(L, 1);
    luaL_getmetatable(L, JPL_COLUMN_MT);
    lua_getfield(L, -1, "methods");
    lua_setfield(L, mod, "_column_methods");
    lua_settop(L, mod);
}
