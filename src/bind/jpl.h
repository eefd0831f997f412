/*
 * jpl.h - the binding layer: the only code that touches lua_State.
 *
 * Core objects reach Lua as full userdata holding one reference:
 *   "jinpu.dataset"  a jp_dataset_t*   (methods: ds:names(), ds:filter(...), ...)
 *   "jinpu.column"   a jp_column_t* plus its field name and unit, or a field
 *                    of a lazy file pipeline loaded when its cells are read
 * __gc drops the reference.  Modules add methods to these metatables with
 * jpl_add_methods so that each binding file owns its own verbs.
 *
 * Errors: misuse and bad input raise Lua errors whose message is the core
 * error formatted by jp_error_format ("file:line:col: row R, field 'f':
 * ..."), prefixed with the script position; expected data failures (a
 * validation that fails) are returned as values instead.
 *
 * Longjmp safety: any function below that can raise must not be called
 * while a malloc'd object is reachable only from a C local; push the
 * userdata first (jpl_push_dataset takes ownership before anything can
 * raise).
 */
#ifndef JPL_H
#define JPL_H

#include <lauxlib.h>
#include <lua.h>
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"

#define JPL_DATASET_MT "jinpu.dataset"
#define JPL_COLUMN_MT  "jinpu.column"

/* [-0, +1, m] Push a dataset; takes ownership of the caller's reference
 * (released even if pushing fails).  NULL pushes nil. */
void jpl_push_dataset(lua_State *L, jp_dataset_t *ds);
/* [-0, +0, v] The dataset at idx, or a type error naming the argument; also
 * raises the stop error when the time limit passed or a signal came. */
jp_dataset_t *jpl_check_dataset(lua_State *L, int idx);
/* [-0, +0, -] The dataset at idx or NULL. */
jp_dataset_t *jpl_test_dataset(lua_State *L, int idx);

/* [-0, +1, m] Push a column; takes ownership of the caller's reference.
 * name and unit (may be NULL) are copied for messages and col:unit(). */
void jpl_push_column(lua_State *L, jp_column_t *col, const char *name, const char *unit);
/* [-0, +0, v] */
jp_column_t *jpl_check_column(lua_State *L, int idx);
/* A lazy column's reductions, streamed once over its file (jp_stream.h);
 * NULL when the column is loaded (or is best loaded: use jpl_check_column). */
const struct jp_col_summary *jpl_column_summary(lua_State *L, int idx);
/* The column's field name ("" if none) and unit (NULL if none). */
const char *jpl_column_name(lua_State *L, int idx);
const char *jpl_column_unit(lua_State *L, int idx);

/* [-0, +0, v] Raise a Lua error from a core error (never returns). */
int jpl_error(lua_State *L, const jp_error_t *err);
/* [-0, +0, v] Raise "<where>verb: message" (printf-style; never returns). */
int jpl_errorf(lua_State *L, const char *fmt, ...);
/* [-0, +0, v] Raise the stop error if the time limit passed or Ctrl-C or
 * SIGTERM came (jp_limit.h); for results that cannot say why they failed. */
void jpl_check_stop(lua_State *L);
/* [-0, +2, m] Push nil and the formatted error; returns 2. */
int jpl_fail(lua_State *L, const jp_error_t *err);
/* [-0, +0, e] Run a full collection when the memory charged to the budget
 * has grown enough since the last one (Lua's collector does not see what
 * a dataset holds in C).  Called wherever new core memory reaches Lua. */
void jpl_gc_pressure(lua_State *L);
/* [-0, +0, v] Settle a lazy dataset's columns before reading them (raises). */
void jpl_need_all(lua_State *L, jp_dataset_t *ds);
void jpl_need(lua_State *L, jp_dataset_t *ds, const size_t *idx, size_t n);

/* [-0, +1, m] One cell as a Lua value: nil for null, integer, float,
 * string, boolean; dates as "YYYY-MM-DD" and periods as canonical text. */
void jpl_push_cell(lua_State *L, const jp_column_t *c, size_t i);
/* [-0, +1, m] The same for a value. */
void jpl_push_value(lua_State *L, const jp_value_t *v);
/*
 * [-0, +0, -] Convert the Lua value at idx into a cell of type t:
 * numbers/integers (figures as text: "14.8万", ">140000"), strings,
 * booleans, dates and periods (as text).  nil -> null.  Returns false and
 * fills err when the value does not fit the type.  String values point
 * into the Lua string (valid while it is on the stack).  `unit` (may be
 * NULL) is the field's unit: a figure naming another unit is an error, a
 * scaled form of it converts.
 */
bool jpl_to_cell(lua_State *L, int idx, jp_type_t t, const char *unit, jp_value_t *out,
                 jp_error_t *err);

/* [-0, +0, v] The string at idx (NULL when it is not a string), refused
 * with an error naming `what` when it holds a NUL byte: C strings would
 * cut the name there.  Every field name that enters from Lua goes through
 * it. */
const char *jpl_check_name(lua_State *L, int idx, const char *what);

/* [-0, +0, m] Add functions to the dataset / column method tables. */
void jpl_add_dataset_methods(lua_State *L, const luaL_Reg *methods);
void jpl_add_column_methods(lua_State *L, const luaL_Reg *methods);

/* [-0, +1, v] Field names from arguments from..top: strings, or one table
 * of strings.  The array is a userdata pushed on top of the stack (freed by
 * the GC: nothing to free); the strings are the arguments' own. */
const char **jpl_check_names(lua_State *L, int from, size_t *n);
/* [-0, +0, e] Raise "<what>: unknown option 'x' (did you mean 'y'? known:
 * ...)" when the table at t (nil is fine) has a key not in `allowed`
 * (NULL-terminated). */
void jpl_check_options(lua_State *L, int t, const char *what, const char *const *allowed);

/* [-0, +k, v] Read options from the table at t (jp.load, jp.read_csv when
 * csv): unknown names are errors.  May push boxes (columns, schema) that
 * hold what o points to: keep them on the stack while o is used. */
void jpl_read_opts(lua_State *L, int t, jp_read_opts_t *o, bool csv);
/* Display width for tables: $COLUMNS when sensible, else 120. */
size_t jpl_term_width(void);

/* Module openers, one per binding file: each adds its functions to the
 * module table on top of the stack ([-0, +0, m]). */
void jpl_open_dataset(lua_State *L);
void jpl_open_verbs(lua_State *L);
void jpl_open_validate(lua_State *L);
void jpl_open_archive(lua_State *L);
void jpl_open_csv(lua_State *L);
/* The plugin host (lua_plugin.c): runs lua/jinpu/plugins.lua over the
 * finished module table; discovery comes later (jpl_plugin.h). */
void jpl_open_plugins(lua_State *L);

/* [-0, +1, m] The `jinpu` module table. */
int luaopen_jinpu(lua_State *L);

/* [-0, +1, m] `jinpu.sys`, the operating-system calls of the subcommands
 * (lua_proc.c, lua_fs.c, lua_yamldoc.c).  Preloaded for subcommands only,
 * never for scripts: it can start processes. */
int luaopen_jinpu_sys(lua_State *L);
void jpl_open_fs(lua_State *L);
void jpl_open_yamldoc(lua_State *L);

#endif
