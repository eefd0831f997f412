/*
 * lua_cplugin.c - native plugins: loading a plugin's shared object, the
 * function table it gets (include/jinpu.h; the core fills most of it, this
 * file the registration entries), and the Lua functions that call into
 * what it registered.
 *
 * Owns the loaded libraries and their registrations, which live as long as
 * the process (a loaded plugin's functions may be referenced anywhere).
 * What a plugin registers goes through the host's Lua registrar like a Lua
 * plugin's, so the manifest checks, the principal and provenance are the
 * same for both.  Never calls plugin code with a Lua error pending, and
 * never lets a Lua error cross plugin code: everything the plugin needs
 * is prepared before the call and every result checked after it.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "jp_api.h"
#include "jpl.h"
#include "jpl_plugin.h"

enum { REG_FORMAT, REG_VERB, REG_COMMAND };

typedef struct creg {
    int kind;
    char *name;
    char **exts; /* formats: NULL-terminated copies */
    jinpu_format_t fmt;
    jinpu_verb_fn verb;
    jinpu_command_fn cmd;
    void *ud;
    struct creg *next;
} creg_t;

struct jinpu_plugin {
    char *name;
    void *handle;
    bool in_init;
    creg_t *regs, **tail;
    struct jinpu_plugin *next; /* the loaded ones, kept for the process */
};

static jinpu_plugin_t *loaded;

static void regs_free(creg_t *r)
{
    while (r) {
        creg_t *n = r->next;
        for (char **e = r->exts; e && *e; e++) free(*e);
        free(r->exts);
        free(r->name);
        free(r);
        r = n;
    }
}

/* ---- registration (called by the plugin's init) ---------------------------------- */

static creg_t *new_reg(jinpu_plugin_t *p, int kind, const char *name, jinpu_error_t *err)
{
    const jinpu_api_t *api = jp_api_core();
    if (!p || !p->in_init) {
        api->error(err, JINPU_E_ARG, "register: only during jinpu_plugin_init");
        return NULL;
    }
    if (!name || !*name) {
        api->error(err, JINPU_E_ARG, "register: a name is needed");
        return NULL;
    }
    creg_t *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        free(r);
        api->error(err, JINPU_E_NOMEM, "out of memory");
        return NULL;
    }
    r->kind = kind;
    *p->tail = r;
    p->tail = &r->next;
    return r;
}

static int reg_format(jinpu_plugin_t *p, const jinpu_format_t *f, jinpu_error_t *err)
{
    const jinpu_api_t *api = jp_api_core();
    if (!f || f->size < offsetof(jinpu_format_t, export_) + sizeof f->export_)
        return api->error(err, JINPU_E_ARG, "register_format: jinpu_format_t.size is wrong");
    if (!f->read && !f->write && !f->export_)
        return api->error(err, JINPU_E_ARG,
                          "register_format: '%s' has none of read, write, "
                          "export",
                          f->name ? f->name : "?");
    creg_t *r = new_reg(p, REG_FORMAT, f->name, err);
    if (!r) return JINPU_E_ARG;
    r->fmt = *f;
    r->fmt.size = sizeof r->fmt;
    size_t n = 0;
    while (f->extensions && f->extensions[n]) n++;
    if (!(r->exts = calloc(n + 1, sizeof *r->exts))) return api->error(err, JINPU_E_NOMEM, "oom");
    for (size_t i = 0; i < n; i++)
        if (!(r->exts[i] = strdup(f->extensions[i]))) return api->error(err, JINPU_E_NOMEM, "oom");
    r->fmt.name = r->name;
    r->fmt.extensions = (const char *const *)r->exts;
    r->fmt.description = NULL; /* not kept: the plugin's string may be on its stack */
    return JINPU_OK;
}

static int reg_verb(jinpu_plugin_t *p, const char *name, jinpu_verb_fn fn, void *ud,
                    jinpu_error_t *err)
{
    if (!fn) return jp_api_core()->error(err, JINPU_E_ARG, "register_verb: no function");
    creg_t *r = new_reg(p, REG_VERB, name, err);
    if (!r) return JINPU_E_ARG;
    r->verb = fn;
    r->ud = ud;
    return JINPU_OK;
}

static int reg_command(jinpu_plugin_t *p, const char *name, jinpu_command_fn fn, void *ud,
                       jinpu_error_t *err)
{
    if (!fn) return jp_api_core()->error(err, JINPU_E_ARG, "register_command: no function");
    creg_t *r = new_reg(p, REG_COMMAND, name, err);
    if (!r) return JINPU_E_ARG;
    r->cmd = fn;
    r->ud = ud;
    return JINPU_OK;
}

static const jinpu_api_t *host_api(void)
{
    static jinpu_api_t api;
    if (!api.size) {
        api = *jp_api_core();
        api.register_format = reg_format;
        api.register_verb = reg_verb;
        api.register_command = reg_command;
    }
    return &api;
}

/* ---- calling what was registered ---------------------------------------------------- */

static jp_error_t *fresh_error(jp_error_t *e)
{
    jp_error_clear(e);
    return e;
}

/* [-0, +1] The options table at idx as jinpu_options_t (strings kept alive
 * by a table pushed on the stack). */
static void options_of(lua_State *L, int idx, struct jinpu_options *o)
{
    memset(o, 0, sizeof *o);
    lua_newtable(L); /* [keep] */
    int keep = lua_gettop(L);
    if (lua_type(L, idx) != LUA_TTABLE) return;
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    const char **keys = lua_newuserdatauv(L, (n ? n : 1) * sizeof *keys, 0);
    lua_rawseti(L, keep, 1);
    const char **vals = lua_newuserdatauv(L, (n ? n : 1) * sizeof *vals, 0);
    lua_rawseti(L, keep, 2);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) && k < n) { /* [keep, key, value] */
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "option names must be strings");
        int t = lua_type(L, -1);
        if (t == LUA_TBOOLEAN)
            lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
        else if (t == LUA_TNUMBER || t == LUA_TSTRING)
            lua_pushstring(L, lua_tostring(L, -1));
        else
            luaL_error(L, "option '%s': a %s (native formats take text, numbers and booleans)",
                       lua_tostring(L, -2), luaL_typename(L, -1));
        vals[k] = lua_tostring(L, -1);
        lua_rawseti(L, keep, (lua_Integer)(2 * k + 3));
        lua_pushvalue(L, -2);
        keys[k] = lua_tostring(L, -1);
        lua_rawseti(L, keep, (lua_Integer)(2 * k + 4));
        k++;
        lua_pop(L, 1);
    }
    o->n = k;
    o->keys = keys;
    o->values = vals;
}

/* Push a dataset a plugin returned (taking it), or raise. */
static int push_result(lua_State *L, int rc, jinpu_dataset_t *out, jp_error_t *e, const char *what)
{
    if (rc != JINPU_OK) {
        if (out) jp_dataset_unref((jp_dataset_t *)out);
        if (!e->msg[0]) jp_error_set(e, JP_ERR_INTERNAL, "%s failed (code %d)", what, rc);
        return jpl_error(L, e);
    }
    if (!out) return luaL_error(L, "%s returned no dataset", what);
    jpl_push_dataset(L, (jp_dataset_t *)out);
    return 1;
}

/* read(path, opts) */
static int call_read(lua_State *L)
{
    creg_t *r = lua_touserdata(L, lua_upvalueindex(1));
    const char *path = luaL_checkstring(L, 1);
    struct jinpu_options o;
    options_of(L, 2, &o);
    jp_error_t e;
    jinpu_dataset_t *out = NULL;
    int rc = r->fmt.read(r->fmt.ud, path, &o, &out, (jinpu_error_t *)fresh_error(&e));
    return push_result(L, rc, out, &e, "read");
}

/* write(ds, path, opts) */
static int call_write(lua_State *L)
{
    creg_t *r = lua_touserdata(L, lua_upvalueindex(1));
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    const char *path = luaL_checkstring(L, 2);
    jpl_need_all(L, ds);
    struct jinpu_options o;
    options_of(L, 3, &o);
    jp_error_t e;
    if (r->fmt.write(r->fmt.ud, (jinpu_dataset_t *)ds, path, &o, (jinpu_error_t *)fresh_error(&e)))
        return jpl_error(L, &e);
    return 0;
}

/* export(list, path, opts) */
static int call_export(lua_State *L)
{
    creg_t *r = lua_touserdata(L, lua_upvalueindex(1));
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *path = luaL_checkstring(L, 2);
    size_t n = (size_t)luaL_len(L, 1);
    jp_dataset_t **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 1, (lua_Integer)i + 1);
        v[i] = jpl_check_dataset(L, -1);
        jpl_need_all(L, v[i]);
        lua_pop(L, 1); /* the list keeps it */
    }
    struct jinpu_options o;
    options_of(L, 3, &o);
    jp_error_t e;
    if (r->fmt.export_(r->fmt.ud, (jinpu_dataset_t *const *)v, n, path, &o,
                       (jinpu_error_t *)fresh_error(&e)))
        return jpl_error(L, &e);
    return 0;
}

/* ds:verb(args...) */
static int call_verb(lua_State *L)
{
    creg_t *r = lua_touserdata(L, lua_upvalueindex(1));
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    jpl_need_all(L, ds);
    size_t n = (size_t)(lua_gettop(L) - 1);
    int *kinds = lua_newuserdatauv(L, (n ? n : 1) * sizeof *kinds, 0);
    const char **strs = lua_newuserdatauv(L, (n ? n : 1) * sizeof *strs, 0);
    double *nums = lua_newuserdatauv(L, (n ? n : 1) * sizeof *nums, 0);
    for (size_t i = 0; i < n; i++) {
        int idx = (int)i + 2;
        strs[i] = NULL;
        nums[i] = 0;
        switch (lua_type(L, idx)) {
        case LUA_TNIL:
            kinds[i] = JINPU_ARG_NIL;
            break;
        case LUA_TBOOLEAN:
            kinds[i] = JINPU_ARG_BOOLEAN;
            nums[i] = lua_toboolean(L, idx);
            break;
        case LUA_TNUMBER:
            kinds[i] = JINPU_ARG_NUMBER;
            nums[i] = lua_tonumber(L, idx);
            break;
        case LUA_TSTRING:
            kinds[i] = JINPU_ARG_STRING;
            strs[i] = lua_tostring(L, idx); /* the argument keeps it */
            break;
        default:
            kinds[i] = JINPU_ARG_OTHER;
        }
    }
    struct jinpu_args a = {n, kinds, strs, nums};
    jp_error_t e;
    jinpu_dataset_t *out = NULL;
    int rc = r->verb(r->ud, (jinpu_dataset_t *)ds, &a, &out, (jinpu_error_t *)fresh_error(&e));
    return push_result(L, rc, out, &e, r->name);
}

/* command(args) -> exit status */
static int call_command(lua_State *L)
{
    creg_t *r = lua_touserdata(L, lua_upvalueindex(1));
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, 1);
    const char **argv = lua_newuserdatauv(L, (n + 1) * sizeof *argv, 0);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 1, (lua_Integer)i + 1);
        argv[i] = luaL_checkstring(L, -1);
        lua_pop(L, 1); /* the table keeps it */
    }
    argv[n] = NULL;
    jp_error_t e;
    int status = r->cmd(r->ud, (int)n, argv, (jinpu_error_t *)fresh_error(&e));
    if (e.code != JP_OK) return jpl_error(L, &e);
    lua_pushinteger(L, status);
    return 1;
}

/* ---- loading ---------------------------------------------------------------------------- */

typedef int (*init_fn)(const jinpu_api_t *, jinpu_plugin_t *, char *, size_t);

/* Open, check and initialise; NULL and a message in `why` on failure. */
static jinpu_plugin_t *open_plugin(const char *name, const char *dir, const char *lib, char *why,
                                   size_t size)
{
    char path[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, lib) >= sizeof path) {
        snprintf(why, size, "library path too long");
        return NULL;
    }
    if (stat(path, &st) != 0) {
        snprintf(why, size, "library %s not found (build it: make -C %s)", lib, dir);
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *d = dlerror();
        snprintf(why, size, "cannot load %s: %s", lib, d ? d : "dlopen failed");
        return NULL;
    }
    const int *ver = dlsym(h, "jinpu_plugin_api");
    init_fn init;
    *(void **)&init = dlsym(h, "jinpu_plugin_init");
    if (!ver || !init) {
        snprintf(why, size, "%s is not a jinpu plugin (it exports no %s; see include/jinpu.h)", lib,
                 !ver ? "jinpu_plugin_api (JINPU_PLUGIN_API;)" : "jinpu_plugin_init");
        dlclose(h);
        return NULL;
    }
    if (ver[0] != JINPU_API_MAJOR) {
        snprintf(why, size, "%s was built for jinpu plugin API %d.%d, but this jinpu has API %d.%d",
                 lib, ver[0], ver[1], JINPU_API_MAJOR, JINPU_API_MINOR);
        dlclose(h);
        return NULL;
    }
    jinpu_plugin_t *p = calloc(1, sizeof *p);
    if (!p || !(p->name = strdup(name))) {
        free(p);
        dlclose(h);
        snprintf(why, size, "out of memory");
        return NULL;
    }
    p->handle = h;
    p->tail = &p->regs;
    p->in_init = true;
    char msg[512] = "";
    int rc = init(host_api(), p, msg, sizeof msg);
    p->in_init = false;
    if (rc != JINPU_OK) {
        msg[sizeof msg - 1] = '\0';
        snprintf(why, size, "%s refused to load: %s", lib,
                 msg[0]                ? msg
                 : rc == JINPU_REFUSED ? "no reason given"
                                       : "init failed");
        regs_free(p->regs);
        free(p->name);
        free(p);
        dlclose(h);
        return NULL;
    }
    /* kept for the process: its functions may be referenced from anywhere */
    p->next = loaded;
    loaded = p;
    return p;
}

/* [-0, +1] a closure over registration r */
static void push_bridge(lua_State *L, creg_t *r, lua_CFunction f)
{
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, f, 1);
}

/* P.dlopen(plugin, api): load plugin.library and register what its init
 * registered through api (the host's registrar for this plugin) */
static int p_dlopen(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_getfield(L, 1, "dir");
    lua_getfield(L, 1, "library");
    const char *name = luaL_checkstring(L, -3), *dir = luaL_checkstring(L, -2),
               *lib = luaL_checkstring(L, -1);
    char why[1024];
    jinpu_plugin_t *p = open_plugin(name, dir, lib, why, sizeof why);
    if (!p) return luaL_error(L, "%s", why);
    for (creg_t *r = p->regs; r; r = r->next) {
        if (r->kind == REG_FORMAT) {
            lua_getfield(L, 2, "register_format");
            lua_createtable(L, 0, 5);
            lua_pushstring(L, r->name);
            lua_setfield(L, -2, "name");
            lua_newtable(L);
            for (int i = 0; r->exts[i]; i++) {
                lua_pushstring(L, r->exts[i]);
                lua_rawseti(L, -2, i + 1);
            }
            lua_setfield(L, -2, "extensions");
            if (r->fmt.read) push_bridge(L, r, call_read), lua_setfield(L, -2, "read");
            if (r->fmt.write) push_bridge(L, r, call_write), lua_setfield(L, -2, "write");
            if (r->fmt.export_) push_bridge(L, r, call_export), lua_setfield(L, -2, "export");
            lua_call(L, 1, 0);
        } else {
            lua_getfield(L, 2, r->kind == REG_VERB ? "register_verb" : "register_command");
            lua_pushstring(L, r->name);
            push_bridge(L, r, r->kind == REG_VERB ? call_verb : call_command);
            lua_call(L, 2, 0);
        }
    }
    return 0;
}

void jpl_cplugin_helpers(lua_State *L, int helpers)
{
    lua_pushcfunction(L, p_dlopen);
    lua_setfield(L, helpers, "dlopen");
}
