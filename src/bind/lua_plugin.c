/*
 * lua_plugin.c - the C side of the plugin host (jpl_plugin.h): builds the
 * private helper table the host module (lua/jinpu/plugins.lua) runs with,
 * and the entry points the command line and the file bindings call.
 *
 * Owns: reading YAML manifests into Lua tables with line numbers, listing
 * plugin directories, loading a plugin's Lua files into its environment,
 * stamping provenance on datasets, and where shipped plugins live.  Never
 * decides policy (lua_policy.c) and never runs plugin code unprotected.
 *
 * Longjmp safety: the YAML parser and its current event live in a userdata
 * whose __gc releases them, so a Lua error mid-document leaks nothing.
 */
#include "jpl_plugin.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include <yaml.h>
#include "jp_embedded.h"
#include "jp_format.h"
#include "jp_unit.h"
#include "jp_verbs.h"
#include "jpl.h"
#include "jpl_policy.h"

#define HOST_KEY       "jinpu.plugin_host"
#define MAX_YAML_BYTES (1 << 20)
#define MAX_YAML_DEPTH 16

/* ---- YAML into Lua values ------------------------------------------------------ */

typedef struct yreader {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool parser_live, ev_live;
    FILE *f;
    const char *file;
} yreader_t;

static void yreader_release(yreader_t *r);

static int yreader_gc(lua_State *L)
{
    yreader_release(lua_touserdata(L, 1));
    return 0;
}

static int yfail(lua_State *L, yreader_t *r, size_t line, const char *fmt, const char *what)
{
    lua_pushfstring(L, "%s:%d: ", r->file, (int)line);
    lua_pushfstring(L, fmt, what);
    lua_concat(L, 2);
    return lua_error(L);
}

static void ynext(lua_State *L, yreader_t *r)
{
    if (r->ev_live) yaml_event_delete(&r->ev);
    r->ev_live = false;
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        const char *problem = r->parser.problem ? r->parser.problem : "malformed YAML";
        yfail(L, r, r->parser.problem_mark.line + 1, "%s", problem);
    }
    r->ev_live = true;
}

static size_t yline(const yreader_t *r)
{
    return r->ev.start_mark.line + 1;
}

/* A plain scalar as YAML 1.2 core schema reads it; quoted ones are text. */
static void push_scalar(lua_State *L, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0) {
            lua_pushnil(L);
            return;
        }
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            lua_pushboolean(L, s[0] == 't');
            return;
        }
        if (lua_stringtonumber(L, s) == n + 1) return;
    }
    lua_pushlstring(L, s, n);
}

/* [-0, +1] the value starting at the current event; `pos` is the index of
 * the positions table: pos[t] = { [0] = line of t, [key] = line, ... } */
static void yvalue(lua_State *L, yreader_t *r, int pos, int depth)
{
    if (depth > MAX_YAML_DEPTH) yfail(L, r, yline(r), "%s", "nested too deeply");
    luaL_checkstack(L, 8, "YAML nesting");
    switch (r->ev.type) {
    case YAML_SCALAR_EVENT:
        push_scalar(L, &r->ev);
        return;
    case YAML_ALIAS_EVENT:
        yfail(L, r, yline(r), "%s", "aliases (*name) are not allowed here");
        return;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        break;
    default:
        yfail(L, r, yline(r), "%s", "unexpected YAML structure");
        return;
    }
    bool map = r->ev.type == YAML_MAPPING_START_EVENT;
    lua_newtable(L); /* [t] */
    int t = lua_gettop(L);
    lua_newtable(L); /* [t, lines] */
    int lines = t + 1;
    lua_pushinteger(L, (lua_Integer)yline(r));
    lua_rawseti(L, lines, 0);
    lua_pushvalue(L, t);
    lua_pushvalue(L, lines);
    lua_rawset(L, pos);
    lua_Integer k = 0;
    for (;;) {
        ynext(L, r);
        if (r->ev.type == YAML_SEQUENCE_END_EVENT || r->ev.type == YAML_MAPPING_END_EVENT) break;
        size_t line = yline(r);
        if (map) {
            if (r->ev.type != YAML_SCALAR_EVENT)
                yfail(L, r, line, "%s", "a key must be plain text");
            lua_pushlstring(L, (const char *)r->ev.data.scalar.value,
                            r->ev.data.scalar.length); /* [t, lines, key] */
            if (lua_rawget(L, lines) != LUA_TNIL)
                yfail(L, r, line, "key '%s' appears twice", (const char *)r->ev.data.scalar.value);
            lua_pop(L, 1);
            lua_pushlstring(L, (const char *)r->ev.data.scalar.value, r->ev.data.scalar.length);
            lua_pushinteger(L, (lua_Integer)line);
            lua_rawset(L, lines);
            lua_pushlstring(L, (const char *)r->ev.data.scalar.value, r->ev.data.scalar.length);
            ynext(L, r);
            yvalue(L, r, pos, depth + 1); /* [t, lines, key, value] */
            lua_rawset(L, t);
        } else {
            k++;
            lua_pushinteger(L, (lua_Integer)line);
            lua_rawseti(L, lines, k);
            yvalue(L, r, pos, depth + 1);
            lua_rawseti(L, t, k);
        }
    }
    lua_settop(L, t);
}

static void yreader_release(yreader_t *r)
{
    if (r->ev_live) yaml_event_delete(&r->ev);
    if (r->parser_live) yaml_parser_delete(&r->parser);
    if (r->f) fclose(r->f);
    r->ev_live = r->parser_live = false;
    r->f = NULL;
}

/* P.yaml(path [, shown]) -> value, positions; raises "shown:line: message" */
static int p_yaml(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *shown = luaL_optstring(L, 2, path);
    lua_settop(L, 2);
    yreader_t *r = lua_newuserdatauv(L, sizeof *r, 0); /* [3] */
    memset(r, 0, sizeof *r);
    r->file = shown;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, yreader_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, 3);
    struct stat st;
    r->f = fopen(path, "rb");
    if (!r->f || fstat(fileno(r->f), &st) != 0)
        return luaL_error(L, "%s: %s", shown, strerror(errno));
    if (st.st_size > MAX_YAML_BYTES) return luaL_error(L, "%s: larger than 1 MiB", shown);
    if (!yaml_parser_initialize(&r->parser)) return luaL_error(L, "not enough memory");
    r->parser_live = true;
    yaml_parser_set_input_file(&r->parser, r->f);
    lua_newtable(L); /* [4] positions */
    ynext(L, r);     /* stream start */
    ynext(L, r);
    if (r->ev.type == YAML_STREAM_END_EVENT) yfail(L, r, 1, "%s", "the file is empty");
    ynext(L, r);        /* past the document start */
    yvalue(L, r, 4, 0); /* [5] root */
    ynext(L, r);        /* document end */
    ynext(L, r);
    if (r->ev.type != YAML_STREAM_END_EVENT) yfail(L, r, yline(r), "%s", "more than one document");
    yreader_release(r);
    lua_pushvalue(L, 4);
    return 2;
}

/* ---- files ---------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct dirbox {
    DIR *d;
    char **names;
    size_t n;
} dirbox_t;

static int dirbox_gc(lua_State *L)
{
    dirbox_t *b = lua_touserdata(L, 1);
    if (b->d) closedir(b->d);
    for (size_t i = 0; i < b->n; i++) free(b->names[i]);
    free(b->names);
    memset(b, 0, sizeof *b);
    return 0;
}

/* P.listdir(dir) -> sorted names of the sub-directories (symlinks
 * followed, hidden ones skipped), or nil when dir is not a directory */
static int p_listdir(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    dirbox_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, dirbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    b->d = opendir(dir);
    if (!b->d) {
        luaL_pushfail(L);
        return 1;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(b->d))) {
        if (e->d_name[0] == '.') continue;
        char full[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= sizeof full) continue;
        if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (b->n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(b->names, cap * sizeof *v);
            if (!v) return luaL_error(L, "not enough memory");
            b->names = v;
        }
        if (!(b->names[b->n] = strdup(e->d_name))) return luaL_error(L, "not enough memory");
        b->n++;
    }
    qsort(b->names, b->n, sizeof *b->names, cmp_str);
    lua_createtable(L, (int)b->n, 0);
    for (size_t i = 0; i < b->n; i++) {
        lua_pushstring(L, b->names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* P.kind(path) -> "file" | "dir" | nil */
static int p_kind(lua_State *L)
{
    struct stat st;
    if (stat(luaL_checkstring(L, 1), &st) != 0) return 0;
    lua_pushstring(L, S_ISDIR(st.st_mode) ? "dir" : "file");
    return 1;
}

/* P.mtime(path) -> seconds (for rebuilding C plugins), or nil */
static int p_mtime(lua_State *L)
{
    struct stat st;
    if (stat(luaL_checkstring(L, 1), &st) != 0) return 0;
    lua_pushinteger(L, (lua_Integer)st.st_mtime);
    return 1;
}

/* P.loadfile(path, env [, chunkname]) -> function | nil, message.  Lua
 * source only; no policy check: the host reads its plugins' own files. */
static int p_loadfile(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *name = luaL_optstring(L, 3, NULL);
    int st;
    if (name) {
        luaL_Buffer b;
        FILE *f = fopen(path, "rb");
        if (!f) {
            luaL_pushfail(L);
            lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno));
            return 2;
        }
        luaL_buffinit(L, &b);
        char chunk[4096];
        size_t n;
        bool bad = false;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) luaL_addlstring(&b, chunk, n);
        bad = ferror(f);
        fclose(f);
        if (bad) return luaL_error(L, "cannot read %s", path);
        luaL_pushresult(&b);
        size_t len;
        const char *src = lua_tolstring(L, -1, &len);
        st = luaL_loadbufferx(L, src, len, name, "t");
    } else {
        st = luaL_loadfilex(L, path, "t");
    }
    if (st != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushvalue(L, 2);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    return 1;
}

/* ---- principals ---------------------------------------------------------------- */

/* P.principal(name, {"read", ...}) -> principal */
static int p_principal(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int perms = 0;
    for (lua_Integer i = 1; lua_rawgeti(L, 2, i) == LUA_TSTRING; i++) {
        perms |= jpl_policy_perm_from_name(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    jpl_policy_new_principal(L, name, perms);
    return 1;
}

/* P.fill_env(env, principal) */
static int p_fill_env(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    jpl_policy_fill_env(L, 1, 2);
    return 0;
}

/* P.wrap(principal, fn) -> fn running as the principal */
static int p_wrap(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    jpl_policy_wrap(L, 1);
    return 1;
}

/* P.call(principal, fn, ...) -> fn(...) as the principal */
static int p_call(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lua_remove(L, 1); /* [fn, args..., principal] */
    lua_insert(L, 1); /* [principal, fn, args...] */
    jpl_policy_call(L, 1, lua_gettop(L) - 2, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

/* ---- provenance and formats ------------------------------------------------------ */

/* P.stamp(ds, name, version) -> a dataset sharing ds's columns whose
 * metadata records that the plugin produced it */
static int p_stamp(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    const char *name = luaL_checkstring(L, 2), *version = luaL_checkstring(L, 3);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_drop(ds, NULL, 0, &err);
    if (!out) return jpl_error(L, &err);
    jp_status_t st = jp_meta_add_plugin(jp_dataset_meta_edit(out), name, version);
    jpl_push_dataset(L, out);
    if (st) return luaL_error(L, "not enough memory");
    return 1;
}

/* P.plugins_of(ds) -> { "NAME VERSION", ... } */
static int p_plugins_of(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_createtable(L, (int)jp_dataset_meta(ds)->n_plugins, 0);
    for (size_t i = 0; i < jp_dataset_meta(ds)->n_plugins; i++) {
        lua_pushstring(L, jp_dataset_meta(ds)->plugins[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* P.core_formats() -> { name = { ext, ... } } of the core's registry */
static int p_core_formats(lua_State *L)
{
    lua_newtable(L);
    const jp_format_t *f;
    for (size_t i = 0; (f = jp_format_at(i)); i++) {
        lua_newtable(L);
        int k = 1;
        for (const char *const *e = f->extensions; e && *e; e++) {
            lua_pushstring(L, *e);
            lua_rawseti(L, -2, k++);
        }
        lua_setfield(L, -2, f->name);
    }
    return 1;
}

/* ---- units ----------------------------------------------------------------------- */

/* Read { name =, dimension =, scale =, primary =, label =, aliases = {...} }
 * into u; strings point into the table (valid while it lives); the alias
 * list is joined in a buffer pushed on the stack. */
static void read_unit(lua_State *L, int t, jp_unit_t *u)
{
    luaL_checktype(L, t, LUA_TTABLE);
    memset(u, 0, sizeof *u);
    static const char *const keys[] = {"name", "dimension", "primary", "label"};
    const char **slots[] = {&u->name, &u->dim, &u->primary, &u->label};
    for (int i = 0; i < 4; i++) {
        int ty = lua_getfield(L, t, keys[i]);
        if (ty != LUA_TNIL && ty != LUA_TSTRING)
            luaL_error(L, "unit: '%s' must be a string", keys[i]);
        *slots[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    lua_getfield(L, t, "scale");
    int isnum;
    u->scale = lua_tonumberx(L, -1, &isnum);
    if (!isnum) luaL_error(L, "unit '%s': 'scale' must be a number", u->name ? u->name : "?");
    lua_pop(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (lua_getfield(L, t, "aliases") == LUA_TTABLE) {
        int al = lua_gettop(L);
        for (lua_Integer i = 1; lua_rawgeti(L, al, i) != LUA_TNIL; i++) {
            if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "unit: aliases must be strings");
            lua_pushvalue(L, -1);
            lua_remove(L, -2);
            if (i > 1) luaL_addchar(&b, '|');
            luaL_addvalue(&b);
        }
        lua_pop(L, 2);
    } else {
        lua_pop(L, 1);
    }
    luaL_pushresult(&b);
    u->aliases = lua_tostring(L, -1);
}

static int unit_op(lua_State *L, bool add)
{
    jp_unit_t u;
    lua_settop(L, 1);
    read_unit(L, 1, &u);
    jp_error_t err;
    jp_error_clear(&err);
    if ((add ? jp_unit_register : jp_unit_check_new)(&u, &err)) return jpl_error(L, &err);
    return 0;
}

/* jp._check_unit(spec): raises when jp._register_unit(spec) would */
static int l_check_unit(lua_State *L)
{
    return unit_op(L, false);
}

static int l_register_unit(lua_State *L)
{
    return unit_op(L, true);
}

/* ---- where plugins live ---------------------------------------------------------- */

#ifndef JP_TREE
#define JP_TREE ""
#endif

static bool exe_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    return true;
}

/* P.exe() -> the running binary's path */
static int p_exe(lua_State *L)
{
    char buf[PATH_MAX];
    if (!exe_path(buf, sizeof buf)) return 0;
    lua_pushstring(L, buf);
    return 1;
}

/* [-0, +1] the directories of shipped plugins: the tree's plugins/ when
 * this binary was built in a source tree and runs from inside it; else
 * PREFIX/share/jinpu/plugins and PREFIX/lib/jinpu/plugins next to
 * PREFIX/bin. */
static void push_shipped(lua_State *L)
{
    lua_newtable(L);
    char exe[PATH_MAX];
    if (!exe_path(exe, sizeof exe)) return;
    size_t t = strlen(JP_TREE);
    if (t > 1 && strncmp(exe, JP_TREE, t) == 0 && exe[t] == '/') {
        lua_pushfstring(L, "%s/plugins", JP_TREE);
        lua_rawseti(L, -2, 1);
        return;
    }
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0'; /* PREFIX/bin */
    lua_pushfstring(L, "%s/../share/jinpu/plugins", exe);
    lua_rawseti(L, -2, 1);
    lua_pushfstring(L, "%s/../lib/jinpu/plugins", exe);
    lua_rawseti(L, -2, 2);
}

/* P.include_dir() -> where jinpu.h is: the tree's include/, or PREFIX/include */
static int p_include_dir(lua_State *L)
{
    char exe[PATH_MAX];
    if (!exe_path(exe, sizeof exe)) return 0;
    size_t t = strlen(JP_TREE);
    if (t > 1 && strncmp(exe, JP_TREE, t) == 0 && exe[t] == '/') {
        lua_pushfstring(L, "%s/include", JP_TREE);
        return 1;
    }
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = '\0';
    char real[PATH_MAX];
    lua_pushfstring(L, "%s/../include", exe);
    if (realpath(lua_tostring(L, -1), real)) lua_pushstring(L, real);
    return 1;
}

/* ---- the host --------------------------------------------------------------------- */

static const luaL_Reg helpers[] = {{"yaml", p_yaml},
                                   {"listdir", p_listdir},
                                   {"kind", p_kind},
                                   {"mtime", p_mtime},
                                   {"loadfile", p_loadfile},
                                   {"principal", p_principal},
                                   {"fill_env", p_fill_env},
                                   {"wrap", p_wrap},
                                   {"call", p_call},
                                   {"stamp", p_stamp},
                                   {"plugins_of", p_plugins_of},
                                   {"core_formats", p_core_formats},
                                   {"exe", p_exe},
                                   {"include_dir", p_include_dir},
                                   {NULL, NULL}};

/* [-0, +1] the host table, or nil when there is none */
static int push_host(lua_State *L)
{
    return lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY) != LUA_TNIL;
}

void jpl_open_plugins(lua_State *L)
{
    int jp = lua_gettop(L);
    const jp_embedded_t *e;
    for (e = jp_embedded; e->name; e++)
        if (strcmp(e->name, "jinpu.plugins") == 0) break;
    if (!e->name) return;
    if (luaL_loadbufferx(L, e->src, e->len, e->chunkname, "t") != LUA_OK) lua_error(L);
    lua_pushvalue(L, jp);
    luaL_newlib(L, helpers);
    jpl_cplugin_helpers(L, lua_gettop(L));
    lua_call(L, 2, 1); /* [jp, host] */
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    lua_pushcfunction(L, l_check_unit);
    lua_setfield(L, jp, "_check_unit");
    lua_pushcfunction(L, l_register_unit);
    lua_setfield(L, jp, "_register_unit");
    lua_settop(L, jp);
}

/* [-0, +1] push host[name] (a function) with the host below it: [host, fn] */
static bool host_fn(lua_State *L, const char *name)
{
    if (!push_host(L)) {
        lua_pop(L, 1);
        return false;
    }
    lua_getfield(L, -1, name);
    return true;
}

void jpl_plugins_init(lua_State *L, const char *const *dirs, size_t ndirs, bool third_party)
{
    if (!host_fn(L, "init")) return;
    lua_remove(L, -2);
    lua_newtable(L); /* the search path: { {dir=, source=}, ... } */
    int list = lua_gettop(L), k = 1;
#define ADD(d, src)                                                                                \
    do {                                                                                           \
        const char *dir_ = (d);                                                                    \
        char real_[PATH_MAX];                                                                      \
        if (realpath(dir_, real_)) dir_ = real_;                                                   \
        lua_createtable(L, 0, 2);                                                                  \
        lua_pushstring(L, dir_);                                                                   \
        lua_setfield(L, -2, "dir");                                                                \
        lua_pushstring(L, src);                                                                    \
        lua_setfield(L, -2, "source");                                                             \
        lua_rawseti(L, list, k++);                                                                 \
    } while (0)
    if (third_party) {
        for (size_t i = 0; i < ndirs; i++) ADD(dirs[i], "--plugins");
        const char *path = getenv("JINPU_PLUGIN_PATH");
        while (path && *path) {
            size_t n = strcspn(path, ":");
            if (n > 0) {
                lua_pushlstring(L, path, n);
                ADD(lua_tostring(L, -1), "JINPU_PLUGIN_PATH");
                lua_pop(L, 1);
            }
            path += n + (path[n] == ':');
        }
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            lua_pushfstring(L, "%s/jinpu/plugins", xdg);
        else if (home && *home)
            lua_pushfstring(L, "%s/.local/share/jinpu/plugins", home);
        else
            lua_pushnil(L);
        if (!lua_isnil(L, -1)) ADD(lua_tostring(L, -1), "user");
        lua_pop(L, 1);
    }
    push_shipped(L);
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
        ADD(lua_tostring(L, -1), "shipped");
        lua_pop(L, 1);
    }
    lua_settop(L, list);
#undef ADD
    lua_pushboolean(L, third_party);
    lua_call(L, 2, 0);
}

int jpl_plugin_command(lua_State *L, const char *name)
{
    if (!host_fn(L, "command")) return 0;
    lua_remove(L, -2);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

int jpl_plugin_method_hint(lua_State *L, const char *name)
{
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 4) || !host_fn(L, "method_hint")) {
        lua_settop(L, top);
        return 0;
    }
    lua_remove(L, -2);
    lua_pushstring(L, name);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
        lua_settop(L, top);
        return 0;
    }
    return 1;
}

int jpl_plugin_format(lua_State *L, const char *path, const char *format, const char *op)
{
    if (!push_host(L)) {
        lua_pop(L, 1);
        return 0;
    }
    /* the common case costs one field read: no plugin declares a format */
    lua_getfield(L, -1, "nformats");
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n == 0) {
        lua_pop(L, 1);
        return 0;
    }
    lua_getfield(L, -1, "resolve");
    lua_remove(L, -2);
    lua_pushstring(L, path);
    if (format)
        lua_pushstring(L, format);
    else
        lua_pushnil(L);
    lua_pushstring(L, op);
    lua_call(L, 3, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

void jpl_plugin_schema(lua_State *L, const char *name)
{
    if (!host_fn(L, "schema")) {
        luaL_error(L, "no schema named '%s'", name);
        return;
    }
    lua_remove(L, -2);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
}
