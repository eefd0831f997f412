/*
 * lua_policy.c - permissions and the sandbox (jpl_policy.h): the principal
 * stack, the checks every file-opening binding makes, and the wrappers of
 * the standard library for the sandboxed script and for plugins.
 *
 * Owns the policy state (one userdata in the registry) and nothing else;
 * deciding what a plugin may do is the plugin host's job (it reads the
 * manifest), deciding the roots is the command line's.  Never weakens a
 * check to make a caller's life easier: when in doubt, refuse and say why.
 *
 * The unsandboxed script keeps the standard library untouched (no cost,
 * no change); only the sandbox and plugin environments see wrappers.
 */
#include "jpl_policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "jp_path.h"

#define POLICY_KEY   "jinpu.policy"
#define PRINCIPAL_MT "jinpu.principal"
#define GUARD_MT     "jinpu.principal_guard"
#define MAX_DEPTH    200 /* nested plugin calls; Lua's own C-call limit is about the same */

typedef struct principal {
    int perms;
    bool plugin;
    char name[96]; /* "plugin 'chart'" */
} principal_t;

typedef struct roots {
    char **v;
    size_t n;
} roots_t;

typedef struct policy {
    principal_t script;
    bool sandboxed;
    roots_t read, write;
    const principal_t *stack[MAX_DEPTH];
    size_t depth;
} policy_t;

static int guard_close(lua_State *L);

/* ---- the state ------------------------------------------------------------------ */

static void roots_free(roots_t *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static int policy_gc(lua_State *L)
{
    policy_t *p = lua_touserdata(L, 1);
    roots_free(&p->read);
    roots_free(&p->write);
    return 0;
}

void jpl_policy_open(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, POLICY_KEY) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    policy_t *p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    p->script.perms = JPL_PERM_ALL;
    snprintf(p->script.name, sizeof p->script.name, "the script");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, policy_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, POLICY_KEY);
    if (luaL_newmetatable(L, PRINCIPAL_MT)) {
        lua_pushliteral(L, "principal");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, GUARD_MT)) {
        lua_pushcfunction(L, guard_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
}

static policy_t *get_policy(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, POLICY_KEY);
    policy_t *p = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!p) {
        jpl_policy_open(L);
        return get_policy(L);
    }
    return p;
}

bool jpl_policy_sandboxed(lua_State *L)
{
    return get_policy(L)->sandboxed;
}

int jpl_policy_perm_from_name(const char *name)
{
    static const struct {
        const char *name;
        int perm;
    } names[] = {{"read", JPL_PERM_READ},
                 {"write", JPL_PERM_WRITE},
                 {"exec", JPL_PERM_EXEC},
                 {"env", JPL_PERM_ENV}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].name, name) == 0) return names[i].perm;
    return 0;
}

/* ---- refusing ------------------------------------------------------------------- */

static const char *perm_name(int perm)
{
    switch (perm) {
    case JPL_PERM_READ:
        return "read";
    case JPL_PERM_WRITE:
        return "write";
    case JPL_PERM_EXEC:
        return "exec";
    default:
        return "env";
    }
}

static const char *perm_action(int perm)
{
    switch (perm) {
    case JPL_PERM_READ:
        return "read files";
    case JPL_PERM_WRITE:
        return "write files";
    case JPL_PERM_EXEC:
        return "run commands or load native code";
    default:
        return "read environment variables";
    }
}

/* "<call>: <who> may not <action> (<why>)" */
static int deny_perm(lua_State *L, const char *call, const principal_t *who, int perm,
                     const char *path)
{
    const char *why = who->plugin ? "permission '%s' is not declared in its plugin.yaml"
                                  : "'%s' is not allowed in the sandbox";
    luaL_where(L, 1);
    if (path)
        lua_pushfstring(L, "%s: %s may not %s '%s' (", call, who->name, perm_name(perm), path);
    else
        lua_pushfstring(L, "%s: %s may not %s (", call, who->name, perm_action(perm));
    lua_pushfstring(L, why, perm_name(perm));
    lua_pushliteral(L, ")");
    lua_concat(L, 4);
    return lua_error(L);
}

static void check_principal(lua_State *L, const char *call, const principal_t *p, int perm,
                            const char *path)
{
    if (!(p->perms & perm)) deny_perm(L, call, p, perm, path);
}

/* Every principal on the stack, the script first, then `bound` (the
 * principal a library wrapper belongs to; may be NULL). */
static policy_t *check_all(lua_State *L, const char *call, int perm, const char *path,
                           const principal_t *bound)
{
    policy_t *pol = get_policy(L);
    check_principal(L, call, &pol->script, perm, path);
    for (size_t i = 0; i < pol->depth; i++) check_principal(L, call, pol->stack[i], perm, path);
    if (bound) check_principal(L, call, bound, perm, path);
    return pol;
}

static void push_roots_text(lua_State *L, const roots_t *a, const roots_t *b)
{
    luaL_Buffer buf;
    luaL_buffinit(L, &buf);
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const roots_t *r = pass ? b : a;
        if (!r) continue;
        for (size_t i = 0; i < r->n; i++) {
            if (k++) luaL_addstring(&buf, ", ");
            luaL_addstring(&buf, r->v[i]);
        }
    }
    luaL_pushresult(&buf);
}

static bool within(const roots_t *r, const char *canon)
{
    for (size_t i = 0; i < r->n; i++)
        if (jp_path_within(canon, r->v[i])) return true;
    return false;
}

/* The sandbox's roots; write roots are readable too.  `nofollow`: the
 * last component is the object acted on (remove, rename), not its target. */
static void check_roots(lua_State *L, policy_t *pol, const char *call, const char *path, int perm,
                        int flags)
{
    char canon[PATH_MAX + 1];
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_path_canon(path, flags, canon, sizeof canon, &err)) {
        luaL_where(L, 1);
        lua_pushfstring(L, "%s: %s may not %s '%s' (%s)", call, pol->script.name, perm_name(perm),
                        path, err.msg);
        lua_concat(L, 2);
        lua_error(L);
    }
    bool ok = within(&pol->write, canon) || (perm == JPL_PERM_READ && within(&pol->read, canon));
    if (ok) return;
    luaL_where(L, 1);
    lua_pushfstring(L, "%s: %s may not %s '%s' (", call, pol->script.name, perm_name(perm), path);
    /* say where it really goes when a link or ".." hides it */
    char full[PATH_MAX + 1] = "";
    if (path[0] != '/' && getcwd(full, sizeof full))
        strncat(full, "/", sizeof full - strlen(full) - 1);
    strncat(full, path, sizeof full - strlen(full) - 1);
    bool plain = strcmp(full, canon) == 0;
    if (!plain) lua_pushfstring(L, "it resolves to '%s', ", canon);
    const roots_t *w = &pol->write, *r = perm == JPL_PERM_READ ? &pol->read : NULL;
    if (w->n + (r ? r->n : 0) == 0) {
        lua_pushfstring(L, "the sandbox allows no %s at all)",
                        perm == JPL_PERM_READ ? "reading" : "writing");
    } else {
        lua_pushfstring(L,
                        "outside the %s roots: ", perm == JPL_PERM_READ ? "readable" : "writable");
        push_roots_text(L, r, w);
        lua_pushliteral(L, ")");
        lua_concat(L, 3);
    }
    lua_concat(L, plain ? 3 : 4);
    lua_error(L);
}

static void check_path(lua_State *L, const char *call, const char *path, int perm, int flags,
                       const principal_t *bound)
{
    policy_t *pol = check_all(L, call, perm, path, bound);
    if (pol->sandboxed) check_roots(L, pol, call, path, perm, flags);
}

void jpl_policy_check_read(lua_State *L, const char *call, const char *path)
{
    check_path(L, call, path, JPL_PERM_READ, 0, NULL);
}

void jpl_policy_check_write(lua_State *L, const char *call, const char *path)
{
    check_path(L, call, path, JPL_PERM_WRITE, 0, NULL);
}

void jpl_policy_check(lua_State *L, const char *call, int perm)
{
    check_all(L, call, perm, NULL, NULL);
}

/* ---- the sandbox's roots ------------------------------------------------------------- */

static void add_roots(lua_State *L, roots_t *r, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char canon[PATH_MAX + 1];
        jp_error_t err;
        jp_error_clear(&err);
        struct stat st;
        if (stat(paths[i], &st) != 0) luaL_error(L, "sandbox: '%s': %s", paths[i], strerror(errno));
        if (jp_path_canon(paths[i], 0, canon, sizeof canon, &err))
            luaL_error(L, "sandbox: %s", err.msg);
        char **v = realloc(r->v, (r->n + 1) * sizeof *v);
        if (!v) luaL_error(L, "not enough memory");
        r->v = v;
        if (!(r->v[r->n] = strdup(canon))) luaL_error(L, "not enough memory");
        r->n++;
    }
}

void jpl_policy_push_roots(lua_State *L)
{
    policy_t *pol = get_policy(L);
    lua_createtable(L, 0, 2);
    const roots_t *rs[2] = {&pol->read, &pol->write};
    const char *keys[2] = {"read", "write"};
    for (int k = 0; k < 2; k++) {
        lua_createtable(L, (int)rs[k]->n, 0);
        for (size_t i = 0; i < rs[k]->n; i++) {
            lua_pushstring(L, rs[k]->v[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, keys[k]);
    }
}

/* ---- principals and calls into plugin code ---------------------------------------- */

void jpl_policy_new_principal(lua_State *L, const char *name, int perms)
{
    principal_t *p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    p->perms = perms & JPL_PERM_ALL;
    p->plugin = true;
    snprintf(p->name, sizeof p->name, "plugin '%s'", name);
    luaL_setmetatable(L, PRINCIPAL_MT);
}

typedef struct guard {
    policy_t *pol;
    size_t depth; /* the depth to go back to */
} guard_t;

/* __close of the guard slot: an error unwinding through the call. */
static int guard_close(lua_State *L)
{
    guard_t *g = lua_touserdata(L, 1);
    if (g->pol && g->pol->depth > g->depth) g->pol->depth = g->depth;
    g->pol = NULL;
    return 0;
}

static void push_frame(lua_State *L, policy_t *pol, const principal_t *p)
{
    if (pol->depth == MAX_DEPTH) luaL_error(L, "plugin calls nested too deeply");
    pol->stack[pol->depth++] = p;
}

void jpl_policy_call(lua_State *L, int pidx, int nargs, int nresults)
{
    pidx = lua_absindex(L, pidx);
    const principal_t *p = luaL_checkudata(L, pidx, PRINCIPAL_MT);
    policy_t *pol = get_policy(L);
    int fidx = lua_gettop(L) - nargs;
    bool main_thread = lua_pushthread(L);
    lua_pop(L, 1);
    if (!main_thread) {
        /* A coroutine that dies by an error keeps its to-be-closed slots
           open until someone closes it: catch and rethrow here instead, so
           the principal is popped whatever the script does next. */
        size_t depth = pol->depth;
        push_frame(L, pol, p);
        int st = lua_pcall(L, nargs, nresults, 0);
        pol->depth = depth;
        if (st != LUA_OK) lua_error(L);
        return;
    }
    guard_t *g = lua_newuserdatauv(L, sizeof *g, 0); /* [f args guard] */
    g->pol = NULL;
    luaL_setmetatable(L, GUARD_MT);
    lua_insert(L, fidx); /* [guard f args] */
    lua_toclose(L, fidx);
    push_frame(L, pol, p);
    g->pol = pol;
    g->depth = pol->depth - 1;
    lua_call(L, nargs, nresults); /* [guard results] */
    lua_closeslot(L, fidx);       /* pops the principal */
    lua_remove(L, fidx);
}

/* upvalues: 1 principal, 2 function */
static int call_wrapped(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    jpl_policy_call(L, lua_upvalueindex(1), n, LUA_MULTRET);
    return lua_gettop(L);
}

void jpl_policy_wrap(lua_State *L, int pidx)
{
    pidx = lua_absindex(L, pidx);
    luaL_checkudata(L, pidx, PRINCIPAL_MT);
    lua_pushvalue(L, pidx); /* [fn, p] */
    lua_insert(L, -2);      /* [p, fn] */
    lua_pushcclosure(L, call_wrapped, 2);
}

/* ---- wrappers of the standard library ----------------------------------------------
 *
 * Every wrapper's upvalues: 1 the original function, 2 the principal it is
 * bound to (a plugin's) or nil (the sandboxed script's own), 3 the default
 * environment of loaded chunks (a plugin's) or nil.  They check, then call
 * the original with the same arguments.
 */

static const principal_t *bound_principal(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(2));
}

static int pass_through(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static int w_io_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    bool writes = mode[0] != 'r' || strchr(mode, '+');
    check_path(L, "io.open", path, writes ? JPL_PERM_WRITE : JPL_PERM_READ, 0, bound_principal(L));
    return pass_through(L);
}

static int w_io_lines(lua_State *L)
{
    if (!lua_isnoneornil(L, 1))
        check_path(L, "io.lines", luaL_checkstring(L, 1), JPL_PERM_READ, 0, bound_principal(L));
    return pass_through(L);
}

static int w_io_input(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        check_path(L, "io.input", lua_tostring(L, 1), JPL_PERM_READ, 0, bound_principal(L));
    return pass_through(L);
}

static int w_io_output(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        check_path(L, "io.output", lua_tostring(L, 1), JPL_PERM_WRITE, 0, bound_principal(L));
    return pass_through(L);
}

static int w_io_popen(lua_State *L)
{
    check_all(L, "io.popen", JPL_PERM_EXEC, NULL, bound_principal(L));
    return pass_through(L);
}

static int w_os_execute(lua_State *L)
{
    check_all(L, "os.execute", JPL_PERM_EXEC, NULL, bound_principal(L));
    return pass_through(L);
}

static int w_loadlib(lua_State *L)
{
    check_all(L, "package.loadlib", JPL_PERM_EXEC, NULL, bound_principal(L));
    return pass_through(L);
}

static int w_os_getenv(lua_State *L)
{
    check_all(L, "os.getenv", JPL_PERM_ENV, NULL, bound_principal(L));
    return pass_through(L);
}

static int w_os_remove(lua_State *L)
{
    check_path(L, "os.remove", luaL_checkstring(L, 1), JPL_PERM_WRITE, JP_PATH_NOFOLLOW,
               bound_principal(L));
    return pass_through(L);
}

static int w_os_rename(lua_State *L)
{
    const principal_t *b = bound_principal(L);
    check_path(L, "os.rename", luaL_checkstring(L, 1), JPL_PERM_WRITE, JP_PATH_NOFOLLOW, b);
    check_path(L, "os.rename", luaL_checkstring(L, 2), JPL_PERM_WRITE, JP_PATH_NOFOLLOW, b);
    return pass_through(L);
}

static int w_os_exit(lua_State *L)
{
    const principal_t *b = bound_principal(L);
    if (b) return luaL_error(L, "os.exit: %s may not end the process", b->name);
    return pass_through(L);
}

/* The directory temporary files go to: $TMPDIR, else /tmp. */
static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

/* In the sandbox a temporary name is made in $TMPDIR (a writable root),
 * not in the /tmp the C library would pick. */
static int w_os_tmpname(lua_State *L)
{
    policy_t *pol = check_all(L, "os.tmpname", JPL_PERM_WRITE, NULL, bound_principal(L));
    if (!pol->sandboxed) return pass_through(L);
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s/jinpu_XXXXXX", tmp_dir());
    check_roots(L, pol, "os.tmpname", name, JPL_PERM_WRITE, 0);
    int fd = mkstemp(name);
    if (fd < 0) return luaL_error(L, "os.tmpname: cannot create a file in %s", tmp_dir());
    close(fd);
    lua_pushstring(L, name);
    return 1;
}

static int tmpfile_close(lua_State *L)
{
    luaL_Stream *s = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    int res = fclose(s->f);
    return luaL_fileresult(L, res == 0, NULL);
}

static int w_io_tmpfile(lua_State *L)
{
    policy_t *pol = check_all(L, "io.tmpfile", JPL_PERM_WRITE, NULL, bound_principal(L));
    if (!pol->sandboxed) return pass_through(L);
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s/jinpu_XXXXXX", tmp_dir());
    check_roots(L, pol, "io.tmpfile", name, JPL_PERM_WRITE, 0);
    luaL_Stream *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->closef = NULL; /* "closed" until the file exists */
    luaL_setmetatable(L, LUA_FILEHANDLE);
    int fd = mkstemp(name);
    if (fd < 0) return luaL_fileresult(L, 0, tmp_dir());
    unlink(name);
    s->f = fdopen(fd, "w+b");
    if (!s->f) {
        close(fd);
        return luaL_fileresult(L, 0, name);
    }
    s->closef = tmpfile_close;
    return 1;
}

/* ---- loading code ------------------------------------------------------------------ */

/* Give a freshly loaded chunk the default environment (upvalue 3) unless
 * the caller passed one (`explicit`). */
static void set_env(lua_State *L, bool explicit, int env_idx)
{
    if (explicit) {
        lua_pushvalue(L, env_idx);
    } else if (!lua_isnil(L, lua_upvalueindex(3))) {
        lua_pushvalue(L, lua_upvalueindex(3));
    } else {
        return;
    }
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

static int refuse_binary(lua_State *L, const char *call)
{
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: binary chunks are refused here (only Lua source loads)", call);
    return 2;
}

/* load(chunk [, name [, mode [, env]]]): text only. */
static int w_load(lua_State *L)
{
    bool explicit_env = lua_gettop(L) >= 4;
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    if (s && n > 0 && s[0] == LUA_SIGNATURE[0]) return refuse_binary(L, "load");
    if (!s) luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the original load */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    int nargs = 3;
    if (explicit_env || !lua_isnil(L, lua_upvalueindex(3))) {
        lua_pushvalue(L, explicit_env ? 4 : lua_upvalueindex(3));
        nargs = 4;
    }
    lua_call(L, nargs, 2);
    if (lua_isnil(L, -2)) return 2;
    lua_pop(L, 1);
    return 1;
}

/* loadfile([path [, mode [, env]]]) */
static int w_loadfile(lua_State *L)
{
    bool explicit_env = lua_gettop(L) >= 3;
    const char *path = luaL_optstring(L, 1, NULL);
    if (path) check_path(L, "loadfile", path, JPL_PERM_READ, 0, bound_principal(L));
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    set_env(L, explicit_env, 3);
    return 1;
}

static int dofile_cont(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    return lua_gettop(L) - 1;
}

static int w_dofile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);
    if (path) check_path(L, "dofile", path, JPL_PERM_READ, 0, bound_principal(L));
    lua_settop(L, 1);
    if (luaL_loadfilex(L, path, "t") != LUA_OK) return lua_error(L);
    set_env(L, false, 0);
    lua_callk(L, 0, LUA_MULTRET, 0, dofile_cont);
    return dofile_cont(L, 0, 0);
}

/* The Lua-file searcher of require in the sandbox: the file found on
 * package.path is checked like any other read.  upvalue 1: package. */
static int sandbox_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, lua_upvalueindex(1), "searchpath");
    lua_pushstring(L, name);
    lua_getfield(L, lua_upvalueindex(1), "path");
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "'package.path' must be a string");
    lua_call(L, 2, 2); /* [path|nil, msg] */
    if (lua_isnil(L, -2)) return 1;
    lua_pop(L, 1);
    const char *file = lua_tostring(L, -1);
    check_path(L, "require", file, JPL_PERM_READ, 0, NULL);
    if (luaL_loadfilex(L, file, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
                          lua_tostring(L, -1));
    lua_pushvalue(L, -2); /* [file, loader, file] */
    return 2;
}

/* ---- installing ------------------------------------------------------------------- */

/* t[name] = wrapper over the current t[name] (or `orig` at index), with
 * bound principal at pidx (0: none) and default env at eidx (0: none). */
static void wrap_field(lua_State *L, int t, const char *name, lua_CFunction w, int pidx, int eidx)
{
    lua_getfield(L, t, name);
    if (pidx)
        lua_pushvalue(L, pidx);
    else
        lua_pushnil(L);
    if (eidx)
        lua_pushvalue(L, eidx);
    else
        lua_pushnil(L);
    lua_pushcclosure(L, w, 3);
    lua_setfield(L, t, name);
}

static int traceback_only(lua_State *L)
{
    /* [-0, +1] a debug table holding only traceback */
    lua_createtable(L, 0, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_DBLIBNAME);
    lua_getfield(L, -1, "traceback");
    lua_setfield(L, -4, "traceback");
    lua_pop(L, 2);
    return 1;
}

static const struct {
    const char *name;
    lua_CFunction w;
} io_wrappers[] = {{"open", w_io_open},     {"lines", w_io_lines}, {"input", w_io_input},
                   {"output", w_io_output}, {"popen", w_io_popen}, {"tmpfile", w_io_tmpfile}},
  os_wrappers[] = {{"execute", w_os_execute}, {"getenv", w_os_getenv},   {"remove", w_os_remove},
                   {"rename", w_os_rename},   {"tmpname", w_os_tmpname}, {"exit", w_os_exit}};

static void wrap_lib(lua_State *L, int t, int which, int pidx, int eidx)
{
    size_t n = which ? sizeof os_wrappers / sizeof os_wrappers[0]
                     : sizeof io_wrappers / sizeof io_wrappers[0];
    for (size_t i = 0; i < n; i++) {
        if (which)
            wrap_field(L, t, os_wrappers[i].name, os_wrappers[i].w, pidx, eidx);
        else
            wrap_field(L, t, io_wrappers[i].name, io_wrappers[i].w, pidx, eidx);
    }
}

void jpl_policy_sandbox(lua_State *L, const char *const *read_roots, size_t nread,
                        const char *const *write_roots, size_t nwrite)
{
    policy_t *pol = get_policy(L);
    add_roots(L, &pol->read, read_roots, nread);
    add_roots(L, &pol->write, write_roots, nwrite);
    pol->sandboxed = true;
    pol->script.perms = JPL_PERM_READ | JPL_PERM_WRITE | JPL_PERM_ENV;
    snprintf(pol->script.name, sizeof pol->script.name, "the sandboxed script");

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* [loaded] */
    int loaded = lua_gettop(L);
    if (lua_getfield(L, loaded, LUA_IOLIBNAME) == LUA_TTABLE) wrap_lib(L, lua_gettop(L), 0, 0, 0);
    lua_pop(L, 1);
    if (lua_getfield(L, loaded, LUA_OSLIBNAME) == LUA_TTABLE) wrap_lib(L, lua_gettop(L), 1, 0, 0);
    lua_pop(L, 1);
    lua_pushglobaltable(L); /* [loaded, _G] */
    int g = lua_gettop(L);
    wrap_field(L, g, "load", w_load, 0, 0);
    wrap_field(L, g, "loadfile", w_loadfile, 0, 0);
    wrap_field(L, g, "dofile", w_dofile, 0, 0);
    traceback_only(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, g, LUA_DBLIBNAME);
    lua_setfield(L, loaded, LUA_DBLIBNAME);
    if (lua_getfield(L, loaded, LUA_LOADLIBNAME) == LUA_TTABLE) { /* [loaded, _G, package] */
        int pkg = lua_gettop(L);
        wrap_field(L, pkg, "loadlib", w_loadlib, 0, 0);
        /* searchers: preload, then Lua files (checked); no C searchers */
        lua_createtable(L, 2, 0);
        lua_getfield(L, pkg, "searchers");
        lua_rawgeti(L, -1, 1);
        lua_rawseti(L, -3, 1);
        lua_pop(L, 1);
        lua_pushvalue(L, pkg);
        lua_pushcclosure(L, sandbox_searcher, 1);
        lua_rawseti(L, -2, 2);
        lua_setfield(L, pkg, "searchers");
        lua_pushliteral(L, "");
        lua_setfield(L, pkg, "cpath");
    }
    lua_settop(L, loaded - 1);
}

/* dst[k] = a shallow copy of src[k] */
static void copy_lib(lua_State *L, int dst, int loaded, const char *name)
{
    lua_newtable(L);
    if (lua_getfield(L, loaded, name) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        }
    }
    lua_pop(L, 1);
    lua_setfield(L, dst, name);
}

void jpl_policy_fill_env(lua_State *L, int env, int pidx)
{
    env = lua_absindex(L, env);
    pidx = lua_absindex(L, pidx);
    luaL_checkudata(L, pidx, PRINCIPAL_MT);
    static const char *const base[] = {
        "assert",       "error",          "ipairs", "next",     "pairs",    "pcall",
        "print",        "rawequal",       "rawget", "rawlen",   "rawset",   "select",
        "tonumber",     "tostring",       "type",   "xpcall",   "_VERSION", "setmetatable",
        "getmetatable", "collectgarbage", "load",   "loadfile", "dofile",   NULL};
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    for (const char *const *k = base; *k; k++) {
        lua_getfield(L, g, *k);
        lua_setfield(L, env, *k);
    }
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    int loaded = lua_gettop(L);
    static const char *const libs[] = {
        LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME,
        LUA_COLIBNAME,  LUA_IOLIBNAME,  LUA_OSLIBNAME,   NULL};
    for (const char *const *k = libs; *k; k++) copy_lib(L, env, loaded, *k);
    lua_pop(L, 1);
    /* the copies of io and os get wrappers bound to the principal; the
       originals they wrap are those of the state (already sandbox-wrapped
       when the script is sandboxed: then both checks apply) */
    lua_getfield(L, env, LUA_IOLIBNAME);
    wrap_lib(L, lua_gettop(L), 0, pidx, env);
    lua_pop(L, 1);
    lua_getfield(L, env, LUA_OSLIBNAME);
    wrap_lib(L, lua_gettop(L), 1, pidx, env);
    lua_pop(L, 1);
    wrap_field(L, env, "load", w_load, pidx, env);
    wrap_field(L, env, "loadfile", w_loadfile, pidx, env);
    wrap_field(L, env, "dofile", w_dofile, pidx, env);
    traceback_only(L);
    lua_setfield(L, env, LUA_DBLIBNAME);
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
}
