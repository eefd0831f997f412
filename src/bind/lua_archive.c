/*
 * lua_archive.c - archives in Lua: jp.export, jp.open_archive,
 * jp.verify_archive and the "jinpu.archive" object (list, load, verify,
 * info, files, datasets, close).  Owns the conversion of options and
 * results between Lua tables and jp_archive.h; never does archive work
 * itself.
 *
 * Longjmp safety: the archive userdata exists (holding NULL) before the
 * archive is opened, and dataset pointer arrays live in userdata, so an
 * error raised at any point leaks nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_archive.h"
#include "jp_format.h"
#include "jp_verbs.h"
#include "jpl.h"
#include "jpl_plugin.h"
#include "jpl_policy.h"

#define ARCHIVE_MT "jinpu.archive"

typedef struct box {
    jp_archive_t *a;
} box_t;

static box_t *check_box(lua_State *L, int idx)
{
    box_t *b = luaL_checkudata(L, idx, ARCHIVE_MT);
    if (!b->a) luaL_error(L, "archive is closed");
    return b;
}

static int arc_close(lua_State *L)
{
    box_t *b = luaL_checkudata(L, 1, ARCHIVE_MT);
    if (b->a) jp_archive_close(b->a);
    b->a = NULL;
    return 0;
}

/* ---- options ---------------------------------------------------------------- */

static const char *opt_str(lua_State *L, int t, const char *key)
{
    lua_getfield(L, t, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) jpl_errorf(L, "option '%s' must be a string", key);
        s = lua_tostring(L, -1); /* kept alive by the options table */
    }
    lua_pop(L, 1);
    return s;
}

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer dflt)
{
    lua_getfield(L, t, key);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok) jpl_errorf(L, "option '%s' must be a whole number", key);
    }
    lua_pop(L, 1);
    return v;
}

static bool opt_bool(lua_State *L, int t, const char *key, bool dflt)
{
    lua_getfield(L, t, key);
    bool v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void read_limits(lua_State *L, int t, jp_archive_limits_t *l)
{
    jp_archive_limits_init(l);
    if (lua_isnoneornil(L, t)) return;
    luaL_checktype(L, t, LUA_TTABLE);
    static const char *const known[] = {"max_size",  "max_member", "max_entries",
                                        "max_ratio", "unverified", NULL};
    jpl_check_options(L, t, "open_archive", known);
    lua_Integer v;
    if ((v = opt_int(L, t, "max_size", 0)) > 0) l->max_total = (uint64_t)v;
    if ((v = opt_int(L, t, "max_member", 0)) > 0) l->max_member = (uint64_t)v;
    if ((v = opt_int(L, t, "max_entries", 0)) > 0) l->max_entries = (uint64_t)v;
    lua_getfield(L, t, "max_ratio");
    if (lua_isnumber(L, -1) && lua_tonumber(L, -1) > 0) l->max_ratio = lua_tonumber(L, -1);
    lua_pop(L, 1);
    l->unverified = opt_bool(L, t, "unverified", false);
}

#ifdef JP_TEST_HOOKS
/* Test hook (test builds only, -DJP_TEST_HOOKS): JINPU_TEST_EXPORT_KILL_AFTER=N
 * kills this process (SIGKILL, nothing cleaned up) once N bytes of the archive
 * stream are written, to prove that an interrupted export leaves the old file
 * intact; JINPU_TEST_EXPORT_FAIL_AFTER=N makes the export fail there. */
static void kill_hook(void *ctx, uint64_t bytes)
{
    uint64_t limit = *(uint64_t *)ctx;
    if (bytes >= limit) {
        fflush(NULL);
        raise(SIGKILL);
    }
}

static void test_hooks(jp_export_opts_t *o)
{
    const char *fa = getenv("JINPU_TEST_EXPORT_FAIL_AFTER");
    if (fa && *fa) o->fail_after = strtoull(fa, NULL, 10);
    static uint64_t kill_after;
    const char *ka = getenv("JINPU_TEST_EXPORT_KILL_AFTER");
    if (ka && *ka) {
        kill_after = strtoull(ka, NULL, 10);
        o->progress = kill_hook;
        o->progress_ctx = &kill_after;
    }
}
#endif

/* ---- jp.export ------------------------------------------------------------------ */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int l_export(lua_State *L)
{
    lua_settop(L, 3); /* [path, datasets, opts]: what we push goes above */
    const char *path = luaL_checkstring(L, 1);
    jpl_policy_check_write(L, "jp.export", path);
    if (jpl_plugin_format(L, path, NULL, "export")) { /* report.xlsx, db.sqlite, ... */
        if (jpl_test_dataset(L, 2)) {
            lua_createtable(L, 1, 0);
            lua_pushvalue(L, 2);
            lua_rawseti(L, -2, 1);
        } else {
            luaL_checktype(L, 2, LUA_TTABLE);
            lua_pushvalue(L, 2);
        }
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 3);
        lua_call(L, 3, 1);
        return 1;
    }
    size_t n = 0;
    jp_dataset_t **v;
    if (jpl_test_dataset(L, 2)) {
        v = lua_newuserdatauv(L, sizeof *v, 0);
        v[0] = jpl_test_dataset(L, 2);
        n = 1;
    } else {
        /* a list (members named by their datasets), a map { name = ds }
           (members named by their keys, in byte order of the keys), or both
           (the list first) */
        luaL_checktype(L, 2, LUA_TTABLE);
        size_t nlist = (size_t)luaL_len(L, 2), nmap = 0;
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            if (lua_type(L, -2) == LUA_TSTRING) nmap++;
            lua_pop(L, 1);
        }
        n = nlist + nmap;
        if (n == 0) return jpl_errorf(L, "export: no datasets given");
        v = lua_newuserdatauv(L, n * sizeof *v, 0); /* lives until the call returns */
        for (size_t i = 0; i < nlist; i++) {
            lua_geti(L, 2, (lua_Integer)i + 1);
            v[i] = jpl_test_dataset(L, -1);
            if (!v[i])
                return jpl_errorf(L, "export: item %d of the list is not a dataset", (int)i + 1);
            lua_pop(L, 1); /* still referenced by the list */
        }
        if (nmap) {
            const char **keys = lua_newuserdatauv(L, nmap * sizeof *keys, 0);
            size_t k = 0;
            lua_pushnil(L);
            while (lua_next(L, 2)) {
                if (lua_type(L, -2) == LUA_TSTRING) keys[k++] = lua_tostring(L, -2);
                lua_pop(L, 1);
            }
            qsort(keys, nmap, sizeof *keys, cmp_keys);
            lua_newtable(L); /* the named datasets, alive until the call returns */
            int held = lua_gettop(L);
            for (k = 0; k < nmap; k++) {
                lua_getfield(L, 2, keys[k]);
                jp_dataset_t *ds = jpl_test_dataset(L, -1);
                if (!ds) return jpl_errorf(L, "export: '%s' is not a dataset", keys[k]);
                jp_error_t e;
                jp_error_clear(&e);
                jp_dataset_t *named = jp_named(ds, keys[k], &e);
                if (!named) return jpl_error(L, &e);
                jpl_push_dataset(L, named);
                lua_rawseti(L, held, (lua_Integer)k + 1);
                lua_pop(L, 1);
                v[nlist + k] = named;
            }
        }
    }
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        static const char *const known[] = {
            "level",      "threads", "format", "top",  "spreadsheet_safe",
            "qualifiers", "mtime",   "zip64",  "kind", NULL};
        jpl_check_options(L, 3, "export", known);
        o.level = (int)opt_int(L, 3, "level", 0);
        o.threads = (int)opt_int(L, 3, "threads", 0);
        o.format = opt_str(L, 3, "format");
        o.top = opt_str(L, 3, "top");
        o.spreadsheet_safe = opt_bool(L, 3, "spreadsheet_safe", false);
        o.zip64 = opt_bool(L, 3, "zip64", false);
        o.mtime = opt_int(L, 3, "mtime", -1);
        const char *q = opt_str(L, 3, "qualifiers");
        if (q && strcmp(q, "inline") == 0)
            o.inline_qualifiers = true;
        else if (q && strcmp(q, "column") != 0)
            return jpl_errorf(L, "export: qualifiers must be \"column\" or \"inline\"");
        const char *kind = opt_str(L, 3, "kind");
        if (kind) {
            if (strcmp(kind, "tar.gz") == 0 || strcmp(kind, "tgz") == 0)
                o.kind = JP_ARCHIVE_TGZ;
            else if (strcmp(kind, "zip") == 0)
                o.kind = JP_ARCHIVE_ZIP;
            else if (strcmp(kind, "tar") == 0)
                o.kind = JP_ARCHIVE_TAR;
            else
                return jpl_errorf(L, "export: kind must be \"tar.gz\", \"zip\" or \"tar\"");
        }
        if (o.level && (o.level < 1 || o.level > 9))
            return jpl_errorf(L, "export: level must be 1..9");
    }
#ifdef JP_TEST_HOOKS
    test_hooks(&o);
#endif
    /* lazy datasets stay lazy: the exporter streams a CSV file's rows */
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_archive_export(path, v, n, &o, &err)) {
        if (err.code == JP_ERR_ARG && strstr(err.msg, "are both named")) {
            /* say how, in the script's terms */
            size_t l = strlen(err.msg);
            snprintf(err.msg + l, sizeof err.msg - l,
                     ": name one apart with ds:named(\"...\"), or give the datasets as a map "
                     "{ first = a, second = b }");
        }
        return jpl_error(L, &err);
    }
    lua_pushstring(L, path);
    return 1;
}

/* ---- opening --------------------------------------------------------------------- */

static int l_open(lua_State *L)
{
    lua_settop(L, 2);
    const char *path = luaL_checkstring(L, 1);
    jpl_policy_check_read(L, "jp.open_archive", path);
    jp_archive_limits_t lim;
    read_limits(L, 2, &lim);
    box_t *b = lua_newuserdatauv(L, sizeof *b, 0); /* [box] */
    b->a = NULL;
    luaL_setmetatable(L, ARCHIVE_MT);
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_archive_open(path, &lim, &b->a, &err)) return jpl_error(L, &err);
    return 1;
}

/* [-0, +2] ok, problems for an open archive; raises only on OOM */
static int verify_open(lua_State *L, jp_archive_t *a)
{
    jp_archive_problems_t p;
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_archive_verify(a, &p, &err)) return jpl_error(L, &err);
    lua_pushboolean(L, p.n == 0);
    /* the problems are copied into Lua strings; free before anything can raise */
    size_t n = p.n;
    char **lines = calloc(n ? n : 1, sizeof *lines);
    for (size_t i = 0; lines && i < n; i++) {
        size_t len = strlen(p.v[i].entry) + strlen(p.v[i].msg) + 3;
        lines[i] = malloc(len);
        if (lines[i])
            snprintf(lines[i], len, "%s%s%s", p.v[i].entry, *p.v[i].entry ? ": " : "", p.v[i].msg);
    }
    jp_archive_problems_free(&p);
    if (!lines) return luaL_error(L, "out of memory");
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, lines[i] ? lines[i] : "(out of memory)");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    return 2;
}

/* jp.verify_archive(path [, limits]) -> ok, problems, status
 * status: "ok", "invalid" (something is wrong: corrupt, tampered,
 * hostile, incomplete) or "unreadable" (no such file, not an archive). */
static int l_verify_archive(lua_State *L)
{
    lua_settop(L, 2);
    const char *path = luaL_checkstring(L, 1);
    jpl_policy_check_read(L, "jp.verify_archive", path);
    jp_archive_limits_t lim;
    read_limits(L, 2, &lim);
    box_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->a = NULL;
    luaL_setmetatable(L, ARCHIVE_MT);
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_archive_open(path, &lim, &b->a, &err);
    if (st) {
        char msg[2048];
        jp_error_format(&err, msg, sizeof msg);
        bool unreadable = st == JP_ERR_NOTFOUND || st == JP_ERR_IO || st == JP_ERR_FORMAT;
        lua_pushboolean(L, 0);
        lua_createtable(L, 1, 0);
        lua_pushstring(L, msg);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, unreadable ? "unreadable" : "invalid");
        return 3;
    }
    verify_open(L, b->a);
    jp_archive_close(b->a);
    b->a = NULL;
    lua_pushstring(L, lua_toboolean(L, -2) ? "ok" : "invalid");
    return 3;
}

/* ---- methods --------------------------------------------------------------------- */

static int arc_list(lua_State *L)
{
    box_t *b = check_box(L, 1);
    size_t n = jp_archive_count(b->a);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, jp_archive_name(b->a, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int arc_load(lua_State *L)
{
    box_t *b = check_box(L, 1);
    const char *name = luaL_optstring(L, 2, NULL);
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    if (jp_archive_load(b->a, name, &ds, &err)) return jpl_error(L, &err);
    jpl_push_dataset(L, ds);
    return 1;
}

static int arc_verify(lua_State *L)
{
    box_t *b = check_box(L, 1);
    return verify_open(L, b->a);
}

static int arc_info(lua_State *L)
{
    box_t *b = check_box(L, 1);
    jp_buf_t buf = JP_BUF_INIT;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_archive_describe(b->a, &buf, &err);
    if (st) {
        jp_buf_free(&buf);
        return jpl_error(L, &err);
    }
    /* the text goes into a Lua buffer first, so a raise cannot leak it */
    luaL_Buffer lb;
    luaL_buffinit(L, &lb);
    char *copy = luaL_prepbuffsize(&lb, buf.len + 1);
    memcpy(copy, buf.data ? buf.data : "", buf.len);
    luaL_addsize(&lb, buf.len);
    jp_buf_free(&buf);
    luaL_pushresult(&lb);
    return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static int arc_files(lua_State *L)
{
    box_t *b = check_box(L, 1);
    size_t n = jp_archive_file_count(b->a);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        jp_archive_file_info_t f;
        jp_archive_file_at(b->a, i, &f);
        lua_createtable(L, 0, 4);
        set_str(L, "path", f.path);
        lua_pushinteger(L, (lua_Integer)f.size);
        lua_setfield(L, -2, "size");
        set_str(L, "sha256", f.sha256);
        lua_pushboolean(L, f.listed);
        lua_setfield(L, -2, "listed");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int arc_datasets(lua_State *L)
{
    box_t *b = check_box(L, 1);
    size_t n = jp_archive_count(b->a);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        jp_archive_ds_info_t d;
        jp_archive_dataset_at(b->a, i, &d);
        lua_createtable(L, 0, 10);
        set_str(L, "name", d.name);
        set_str(L, "title", d.title);
        set_str(L, "source", d.source);
        set_str(L, "source_file", d.source_file);
        set_str(L, "origin", d.origin);
        set_str(L, "format", d.format);
        set_str(L, "data", d.data);
        set_str(L, "schema", d.schema);
        if (d.rows >= 0) {
            lua_pushinteger(L, d.rows);
            lua_setfield(L, -2, "rows");
            lua_pushinteger(L, d.fields);
            lua_setfield(L, -2, "fields");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int arc_meta(lua_State *L)
{
    box_t *b = check_box(L, 1);
    static const char *const kinds[] = {"?", "tar.gz", "tar", "zip"};
    lua_createtable(L, 0, 4);
    set_str(L, "kind", kinds[jp_archive_kind(b->a)]);
    set_str(L, "jinpu_version", jp_archive_version(b->a));
    set_str(L, "created", jp_archive_created(b->a));
    set_str(L, "top", jp_archive_top(b->a));
    return 1;
}

static int arc_tostring(lua_State *L)
{
    box_t *b = luaL_checkudata(L, 1, ARCHIVE_MT);
    if (!b->a)
        lua_pushliteral(L, "archive (closed)");
    else
        lua_pushfstring(L, "archive (%d datasets)", (int)jp_archive_count(b->a));
    return 1;
}

void jpl_open_archive(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"list", arc_list}, {"load", arc_load},   {"verify", arc_verify},
        {"info", arc_info}, {"files", arc_files}, {"datasets", arc_datasets},
        {"meta", arc_meta}, {"close", arc_close}, {NULL, NULL}};
    if (luaL_newmetatable(L, ARCHIVE_MT)) { /* [jp, mt] */
        luaL_newlib(L, methods);            /* [jp, mt, methods] */
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, arc_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, arc_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, arc_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1); /* [jp] */
    static const luaL_Reg fns[] = {{"export", l_export},
                                   {"open_archive", l_open},
                                   {"verify_archive", l_verify_archive},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
