/*
 * lua_jinpu.c - the `jinpu` module: builds the module table from the
 * binding files' openers, puts the embedded Lua modules (lua/) into
 * package.preload, and runs the Lua half of the library (jinpu.base) over
 * the table.  Owns nothing else.
 */
#include <string.h>
#include "jp_embedded.h"
#include "jp_format.h"
#include "jp_version.h"
#include "jpl.h"
#include "jpl_policy.h"

static const jp_embedded_t *find_embedded(const char *name)
{
    for (const jp_embedded_t *e = jp_embedded; e->name; e++)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}

/* package.preload loader: upvalue 1 is the module name */
static int load_embedded(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    const jp_embedded_t *e = find_embedded(name);
    if (!e) return luaL_error(L, "embedded module '%s' vanished", name);
    if (luaL_loadbufferx(L, e->src, e->len, e->chunkname, "t") != LUA_OK) return lua_error(L);
    lua_pushstring(L, name); /* [chunk, name] */
    lua_call(L, 1, 1);       /* [module] -- runs inside require's protection */
    return 1;
}

/* [-0, +0, m] package.preload[name] = loader, for every embedded module. */
static void register_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE); /* [preload] */
    for (const jp_embedded_t *e = jp_embedded; e->name; e++) {
        /* run below, never required: the host keeps private helpers */
        if (strcmp(e->name, "jinpu.base") == 0 || strcmp(e->name, "jinpu.plugins") == 0) continue;
        lua_getfield(L, -1, e->name); /* [preload, old] */
        bool present = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (present) continue;
        lua_pushstring(L, e->name);
        lua_pushcclosure(L, load_embedded, 1); /* [preload, loader] */
        lua_setfield(L, -2, e->name);          /* [preload] */
    }
    lua_pop(L, 1);
}

/* jp.sandboxed() -> false, or { read = {roots}, write = {roots} } */
static int l_sandboxed(lua_State *L)
{
    if (!jpl_policy_sandboxed(L)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    jpl_policy_push_roots(L);
    return 1;
}

int luaopen_jinpu(lua_State *L)
{
    jp_formats_init();
    jpl_policy_open(L);
    register_preload(L);
    lua_newtable(L); /* [jp] */
    lua_pushliteral(L, JP_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushinteger(L, JP_API_VERSION);
    lua_setfield(L, -2, "api_version");
    lua_pushcfunction(L, l_sandboxed);
    lua_setfield(L, -2, "sandboxed");
    jpl_open_dataset(L);
    jpl_open_verbs(L);
    jpl_open_validate(L);
    jpl_open_archive(L);
    jpl_open_csv(L);
    const jp_embedded_t *base = find_embedded("jinpu.base");
    if (base) {
        if (luaL_loadbufferx(L, base->src, base->len, base->chunkname, "t") != LUA_OK)
            return lua_error(L); /* [jp, chunk] */
        lua_pushvalue(L, -2);    /* [jp, chunk, jp] */
        lua_call(L, 1, 0);       /* [jp] */
    }
    jpl_open_plugins(L);
    return 1;
}
