/*
 * lua_yamldoc.c - `jinpu.sys.read_yaml`: a small YAML file (a job file, a
 * manifest) as plain Lua tables, with the line of every value, so that the
 * code checking it can say "job.yaml:7: limits.memory: ...".  Datasets are
 * read by the core (jp_yaml.c), not here.
 *
 * Mappings become tables with string keys, sequences arrays, and every
 * scalar a string as written: what a scalar means (a number, a boolean, a
 * size) depends on the key, and the caller knows the key.  Aliases are
 * refused (no billion laughs), as are documents deeper than MAX_DEPTH,
 * files over the caller's size limit, duplicate keys and keys that are not
 * scalars.
 *
 * Longjmp safety: the libyaml parser and the FILE live in a userdata whose
 * __gc releases them, created before either is acquired.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "jpl.h"

#define PARSER_MT "jinpu.yamldoc"
#define MAX_DEPTH 32

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev;
    FILE *f;
    bool live, have_ev;
    const char *name; /* for messages; kept alive by the caller's argument */
} doc_t;

static void doc_release(doc_t *d)
{
    if (d->have_ev) yaml_event_delete(&d->ev);
    if (d->live) yaml_parser_delete(&d->parser);
    if (d->f) fclose(d->f);
    d->have_ev = d->live = false;
    d->f = NULL;
}

static int doc_gc(lua_State *L)
{
    doc_release(luaL_checkudata(L, 1, PARSER_MT));
    return 0;
}

/* Raise "name:line:col: message" (line and column from a libyaml mark). */
static int doc_error(lua_State *L, doc_t *d, yaml_mark_t m, const char *msg)
{
    return luaL_error(L, "%s:%d:%d: %s", d->name, (int)m.line + 1, (int)m.column + 1, msg);
}

static void next_event(lua_State *L, doc_t *d)
{
    if (d->have_ev) yaml_event_delete(&d->ev);
    d->have_ev = false;
    if (!yaml_parser_parse(&d->parser, &d->ev)) {
        const yaml_parser_t *p = &d->parser;
        const char *what = p->problem ? p->problem : "malformed YAML";
        if (p->context)
            luaL_error(L, "%s:%d:%d: %s %s", d->name, (int)p->problem_mark.line + 1,
                       (int)p->problem_mark.column + 1, what, p->context);
        doc_error(L, d, p->problem_mark, what);
    }
    d->have_ev = true;
    if (d->ev.type == YAML_ALIAS_EVENT)
        doc_error(L, d, d->ev.start_mark, "aliases (*name) are not allowed here");
}

/* [-0, +1, e] The node starting at the current event.  `lines` (a table at
 * index li) receives lines[container] = {key-or-index = line}. */
static void read_node(lua_State *L, doc_t *d, int li, int depth)
{
    luaL_checkstack(L, 6, "YAML too deep");
    yaml_event_t *ev = &d->ev;
    if (ev->type == YAML_SCALAR_EVENT) {
        lua_pushlstring(L, (const char *)ev->data.scalar.value, ev->data.scalar.length);
        return;
    }
    if (depth >= MAX_DEPTH) doc_error(L, d, ev->start_mark, "nested too deeply");
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    if (!map && ev->type != YAML_SEQUENCE_START_EVENT)
        doc_error(L, d, ev->start_mark, "unexpected YAML event");
    lua_newtable(L); /* [node] */
    lua_newtable(L); /* [node, where] */
    lua_pushinteger(L, (lua_Integer)ev->start_mark.line + 1);
    lua_rawseti(L, -2, 0); /* where[0] = the line of the container itself */
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, li); /* lines[node] = where */
    lua_Integer n = 0;
    for (;;) {
        next_event(L, d);
        if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT) break;
        if (map) {
            if (ev->type != YAML_SCALAR_EVENT)
                doc_error(L, d, ev->start_mark, "a key must be a plain name");
            yaml_mark_t km = ev->start_mark;
            lua_pushlstring(L, (const char *)ev->data.scalar.value, ev->data.scalar.length);
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -4) != LUA_TNIL) {
                lua_pop(L, 1);
                luaL_error(L, "%s:%d:%d: duplicate key '%s'", d->name, (int)km.line + 1,
                           (int)km.column + 1, lua_tostring(L, -1));
            }
            lua_pop(L, 1);        /* [node, where, key] */
            lua_pushvalue(L, -1); /* [node, where, key, key] */
            lua_pushinteger(L, (lua_Integer)km.line + 1);
            lua_rawset(L, -4); /* where[key] = line */
            next_event(L, d);
            read_node(L, d, li, depth + 1); /* [node, where, key, value] */
            lua_rawset(L, -4);              /* node[key] = value */
        } else {
            lua_pushinteger(L, (lua_Integer)ev->start_mark.line + 1);
            lua_rawseti(L, -2, ++n); /* where[n] = line */
            read_node(L, d, li, depth + 1);
            lua_rawseti(L, -3, n);
        }
    }
    lua_pop(L, 1); /* [node] */
}

/*
 * sys.read_yaml(path [, max_bytes]) -> doc, lines | nil, message
 * doc is the document's root (nil for an empty file); lines maps each table
 * of doc to {key = line} (index = line for sequences; [0] = the line where
 * the table starts).  A file that cannot be read: nil and a message; a
 * malformed document raises "path:line:col: what".
 */
static int l_read_yaml(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 16 << 20);
    lua_settop(L, 1);
    doc_t *d = lua_newuserdatauv(L, sizeof *d, 0); /* [path, box] */
    memset(d, 0, sizeof *d);
    d->name = path;
    if (luaL_newmetatable(L, PARSER_MT)) {
        lua_pushcfunction(L, doc_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    d->f = fopen(path, "rb");
    if (!d->f) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    struct stat st;
    if (fstat(fileno(d->f), &st) == 0 && S_ISDIR(st.st_mode)) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: is a directory", path);
        return 2;
    }
    if (fstat(fileno(d->f), &st) == 0 && st.st_size > max) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: larger than %d bytes", path, (int)max);
        return 2;
    }
    if (!yaml_parser_initialize(&d->parser)) return luaL_error(L, "out of memory");
    d->live = true;
    yaml_parser_set_input_file(&d->parser, d->f);
    lua_newtable(L); /* [path, box, lines] */
    int li = lua_gettop(L);
    next_event(L, d); /* stream start */
    next_event(L, d);
    if (d->ev.type == YAML_STREAM_END_EVENT) {
        doc_release(d);
        lua_pushnil(L);
        lua_pushvalue(L, li);
        return 2;
    }
    next_event(L, d); /* past the document start */
    read_node(L, d, li, 0);
    next_event(L, d); /* document end */
    next_event(L, d);
    if (d->ev.type != YAML_STREAM_END_EVENT)
        doc_error(L, d, d->ev.start_mark, "only one YAML document is allowed");
    doc_release(d);
    lua_pushvalue(L, li); /* [path, box, lines, doc, lines] */
    return 2;
}

void jpl_open_yamldoc(lua_State *L)
{
    lua_pushcfunction(L, l_read_yaml);
    lua_setfield(L, -2, "read_yaml");
}
