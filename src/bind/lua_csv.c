/*
 * lua_csv.c - what the CSV engine offers Lua beyond reading a dataset:
 * jp._csv_profile, the view of a CSV file `jinpu info` shows (types over
 * the whole file, counts, why a column is text, the first rows) without
 * building its columns.  The profile lives in a userdata box until the
 * result table is built, so a memory error while pushing leaks nothing.
 */
#include <string.h>
#include "jp_csv.h"
#include "jp_preview.h"
#include "jpl.h"
#include "jpl_policy.h"

#define PROFILE_MT "jinpu.csvprofile"

typedef struct {
    jp_csv_profile_t pr;
    jp_buf_t text;
} profbox_t;

static int profbox_gc(lua_State *L)
{
    profbox_t *b = luaL_checkudata(L, 1, PROFILE_MT);
    jp_csv_profile_free(&b->pr);
    jp_buf_free(&b->text);
    return 0;
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static void push_field(lua_State *L, const jp_csv_field_profile_t *f)
{
    lua_createtable(L, 0, 8);
    set_str(L, "name", f->name);
    set_str(L, "type", jp_type_name(f->type));
    set_str(L, "unit", f->unit);
    lua_pushboolean(L, f->typed);
    lua_setfield(L, -2, "typed");
    set_int(L, "nulls", (lua_Integer)f->nulls);
    set_int(L, "qualified", (lua_Integer)f->qualified);
    if (f->text_row) {
        lua_createtable(L, 0, 4);
        set_int(L, "row", f->text_row);
        set_int(L, "line", f->text_line);
        set_int(L, "column", f->text_col);
        set_str(L, "cell", f->text_cell ? f->text_cell : "");
        lua_setfield(L, -2, "text_from");
    }
}

/*
 * jp._csv_profile(path [, opts [, rows [, fields]]]) -> table
 *   opts: as jp.read_csv's (schema, columns, delimiter, null, header, ...)
 *   rows: preview rows (default 10, 0: none); fields: how many fields to
 *   describe (default all)
 * The table: name, rows, nfields, fields = { {name, type, unit, typed,
 * nulls, qualified, text_from = {row, line, column, cell}}, ... }, and
 * preview, the first rows as text (as ds:preview shows them, no title).
 */
static int l_csv_profile(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer rows = luaL_optinteger(L, 3, 10), nshow = luaL_optinteger(L, 4, -1);
    luaL_argcheck(L, rows >= 0, 3, "must not be negative");
    jpl_policy_check_read(L, "jp.read_csv", path);
    jp_read_opts_t o;
    jpl_read_opts(L, 2, &o, true); /* may push boxes: they live until return */
    if (!o.format) {
        const jp_format_t *f = jp_format_for_path(path);
        if (!f || strncmp(f->name, "csv", 3) != 0) o.format = "csv";
    }
    profbox_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, PROFILE_MT)) {
        lua_pushcfunction(L, profbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    int box = lua_gettop(L);
    jp_error_t err;
    jp_error_clear(&err);
    /* the preview shows what fits the width: never more than 64 fields */
    if (jp_csv_profile(path, &o, (size_t)rows, 64, &b->pr, &err)) return jpl_error(L, &err);
    const jp_csv_profile_t *pr = &b->pr;
    if (rows) {
        jp_preview_opts_t po;
        jp_preview_opts_init(&po);
        po.width = jpl_term_width();
        po.max_rows = (size_t)rows;
        po.title = 0;
        po.more_fields = pr->nfields - jp_dataset_nfields(pr->preview);
        if (jp_dataset_preview(pr->preview, &po, &b->text, &err)) return jpl_error(L, &err);
    }
    size_t show = nshow < 0 || (size_t)nshow > pr->nfields ? pr->nfields : (size_t)nshow;
    lua_createtable(L, 0, 6);
    set_str(L, "name", pr->name);
    set_int(L, "rows", (lua_Integer)pr->nrows);
    set_int(L, "nfields", (lua_Integer)pr->nfields);
    lua_createtable(L, (int)(show < 1000000 ? show : 1000000), 0);
    for (size_t k = 0; k < show; k++) {
        push_field(L, &pr->fields[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "fields");
    lua_pushlstring(L, b->text.data ? b->text.data : "", b->text.len);
    lua_setfield(L, -2, "preview");
    lua_replace(L, box); /* the box goes to the collector */
    lua_settop(L, box);
    return 1;
}

void jpl_open_csv(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"_csv_profile", l_csv_profile}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
