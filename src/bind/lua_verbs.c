/*
 * lua_verbs.c - the verbs as dataset and column methods, the aggregate
 * constructors (jp.count, jp.sum, ...), jp.concat, and the row view that
 * Lua-function predicates and mutations see.
 *
 * The row view: one plain Lua table reused for every row.  Before each
 * call the fields the function has read so far are copied into it (a raw
 * set per field), so reading them is an ordinary table access; a field
 * read for the first time goes through __index, which reads the cell,
 * loads the column if the dataset is lazy, and adds the field to the set.
 * No table is built per row.  The view is only valid during the call: when
 * the loop ends (or fails) the view is closed - its copied fields cleared and
 * its dataset pointer no longer used - so a view kept past its callback
 * raises on every read instead of reading a dataset that may have been
 * freed, or showing the last row.
 *
 * Owns: the "jinpu.grouped" and "jinpu.agg" metatables and these methods.
 * Must never: keep malloc'd memory reachable only from a C local across a
 * call that can raise (buffers live in userdata with __gc), call the core
 * with a lua_State.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_suggest.h"
#include "jp_verbs.h"
#include "jpl.h"

#define GROUPED_MT "jinpu.grouped"
#define AGG_MT     "jinpu.agg"
#define BOX_MT     "jinpu.verbs.box"
#define ROW_MT     "jinpu.row"

/* ---- errors ------------------------------------------------------------------ */

/* Raise a core error; drop the "field 'x': " prefix when the message
 * already names the field. */
static int verr(lua_State *L, const jp_error_t *err)
{
    jp_error_t e = *err;
    if (e.field[0]) {
        char q[140];
        snprintf(q, sizeof q, "'%s'", e.field);
        if (strstr(e.msg, q)) e.field[0] = '\0';
    }
    return jpl_error(L, &e);
}

/* ---- boxes: memory owned by the Lua GC while a loop may raise ------------------ */

typedef struct box {
    jp_column_t *col;
    size_t *v;
    size_t n, cap;
} box_t;

static int box_gc(lua_State *L)
{
    box_t *b = luaL_checkudata(L, 1, BOX_MT);
    jp_column_unref(b->col);
    jp_free(b->v);
    b->col = NULL;
    b->v = NULL;
    return 0;
}

/* [-0, +1, m] */
static box_t *new_box(lua_State *L)
{
    box_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, BOX_MT);
    return b;
}

static void box_push(lua_State *L, box_t *b, size_t v)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        size_t *a = jp_realloc_array(b->v, nc, sizeof *a);
        if (!a) jpl_errorf(L, "out of memory");
        b->v = a;
        b->cap = nc;
    }
    b->v[b->n++] = v;
}

/* ---- the row view --------------------------------------------------------------- */

typedef struct rowview {
    jp_dataset_t *ds; /* borrowed: the dataset is on the stack below */
    size_t row;
    int *used; /* field indices copied into the view before each call */
    size_t nused;
    bool *is_used;
    size_t nf;
    const char *verb;
    bool closed; /* the loop ended: ds may be freed, never touch it */
    /* streaming: the fields the batches hold; a read of another marks it
       and stops the pass (stream_more), which starts again with it */
    bool *stream_want;
    bool stream_more;
} rowview_t;

/* Stack slots of the loop (absolute indices). */
typedef struct loop {
    int fn, view, keys, cache, strs, state;
} loop_t;

static int rowview_gc(lua_State *L)
{
    rowview_t *v = lua_touserdata(L, 1);
    jp_free(v->used);
    jp_free(v->is_used);
    jp_free(v->stream_want);
    v->used = NULL;
    v->is_used = NULL;
    v->stream_want = NULL;
    return 0;
}

/* The error a streamed view raises to stop its pass for more fields. */
static const char stream_more_key = 0;

/* [-0, +0, v] Field j (every field: j < 0) is not in the batch: mark it
 * and stop the pass. */
static void stream_miss(lua_State *L, rowview_t *v, long j)
{
    for (size_t k = 0; k < v->nf; k++)
        if (j < 0 || (size_t)j == k) v->stream_want[k] = true;
    v->stream_more = true;
    lua_pushlightuserdata(L, (void *)&stream_more_key);
    lua_error(L);
}

/* [-0, +0, v] Raise when the view's loop has ended. */
static void check_open(lua_State *L, const rowview_t *v)
{
    if (v->closed)
        jpl_errorf(L,
                   "a row view is only valid inside the %s function that received it; "
                   "keep a copy with jp.copy_row(r)",
                   v->verb);
}

/* Push cell (row, field j), strings through a per-field cache of Lua
 * strings indexed by dictionary code (upvalue/stack table `strs`). */
static void push_view_cell(lua_State *L, const jp_column_t *c, size_t row, int strs, int j)
{
    if (jp_column_type(c) != JP_TYPE_STRING || jp_column_is_null(c, row) ||
        jp_column_dict_count(c) > 100000) {
        /* (a cache of mostly distinct strings would only cost memory) */
        jpl_push_cell(L, c, row);
        return;
    }
    lua_rawgeti(L, strs, j + 1); /* [cache_j] */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_createtable(L, (int)(jp_column_dict_count(c) < 4096 ? jp_column_dict_count(c) : 4096),
                        0);
        lua_pushvalue(L, -1);
        lua_rawseti(L, strs, j + 1); /* [cache_j] */
    }
    lua_Integer code = (lua_Integer)jp_column_code(c, row) + 1;
    if (lua_rawgeti(L, -1, code) == LUA_TNIL) { /* [cache_j, s?] */
        lua_pop(L, 1);
        size_t len;
        const char *s = jp_column_str(c, row, &len);
        lua_pushlstring(L, s, len);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, code);
    }
    lua_remove(L, -2); /* [s] */
}

/* __index(view, key): upvalues 1 state, 2 name -> field cache, 3 keys, 4 strs */
static int view_index(lua_State *L)
{
    rowview_t *v = lua_touserdata(L, lua_upvalueindex(1));
    check_open(L, v);
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    lua_pushvalue(L, 2);
    lua_Integer j;
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNUMBER) {
        j = lua_tointeger(L, -1);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        const char *name = lua_tostring(L, 2);
        long f = jp_dataset_find(v->ds, name);
        if (f < 0) {
            jp_error_t err;
            jp_error_clear(&err);
            long dummy;
            jp_dataset_lookup(v->ds, name, NULL, &dummy, &err); /* the loop names the verb */
            return verr(L, &err);
        }
        j = f;
        lua_pushvalue(L, 2);
        lua_pushinteger(L, j);
        lua_rawset(L, lua_upvalueindex(2));
    }
    jp_dataset_t *ds = v->ds;
    if (!jp_dataset_col(ds, j)) {
        if (v->stream_want) stream_miss(L, v, (long)j);
        size_t k = (size_t)j;
        jpl_need(L, ds, &k, 1);
    }
    if (!v->is_used[j]) {
        v->is_used[j] = true;
        v->used[v->nused++] = (int)j;
        lua_pushvalue(L, 2);
        lua_rawseti(L, lua_upvalueindex(3), (lua_Integer)v->nused);
    }
    if (v->row >= jp_dataset_nrows(ds)) return 0;
    push_view_cell(L, jp_dataset_col(ds, j), v->row, lua_upvalueindex(4), (int)j);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1); /* later reads in this call are plain */
    return 1;
}

/* __pairs: every field of the current row. */
static int view_next(lua_State *L)
{
    rowview_t *v = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
    check_open(L, v);
    jp_dataset_t *ds = v->ds;
    while ((size_t)i < jp_dataset_nfields(ds)) {
        size_t k = (size_t)i++;
        lua_pushinteger(L, i);
        lua_replace(L, lua_upvalueindex(2));
        if (!jp_dataset_col(ds, k) && v->stream_want) stream_miss(L, v, -1);
        if (!jp_dataset_col(ds, k)) jpl_need(L, ds, &k, 1);
        if (jp_column_is_null(jp_dataset_col(ds, k), v->row)) continue;
        lua_pushstring(L, jp_dataset_field(ds, k)->name);
        jpl_push_cell(L, jp_dataset_col(ds, k), v->row);
        return 2;
    }
    return 0;
}

static int view_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__row"); /* [mt, state] */
    check_open(L, lua_touserdata(L, -1));
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, view_next, 2);
    return 1;
}

/* jp.copy_row(r): a fresh table with every field of the row r views. */
static int l_copy_row(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_getmetatable(L, 1) || lua_getfield(L, -1, "__row") != LUA_TUSERDATA) {
        /* a plain table: a shallow copy */
        lua_settop(L, 1);
        lua_newtable(L);
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, 2);
        }
        return 1;
    }
    rowview_t *v = lua_touserdata(L, -1);
    check_open(L, v);
    jp_dataset_t *ds = v->ds;
    for (size_t k = 0; k < jp_dataset_nfields(ds) && v->stream_want; k++)
        if (!jp_dataset_col(ds, k)) stream_miss(L, v, -1);
    jpl_need_all(L, ds);
    lua_createtable(L, 0, (int)jp_dataset_nfields(ds));
    for (size_t k = 0; k < jp_dataset_nfields(ds); k++) {
        jpl_push_cell(L, jp_dataset_col(ds, k), v->row);
        lua_setfield(L, -2, jp_dataset_field(ds, k)->name);
    }
    return 1;
}

/* [-0, +6, m] Set up a view over ds for function fn (at index fnidx). */
static rowview_t *open_view(lua_State *L, jp_dataset_t *ds, int fnidx, const char *verb, loop_t *lp)
{
    lp->fn = fnidx;
    rowview_t *v = lua_newuserdatauv(L, sizeof *v, 0); /* [state] */
    memset(v, 0, sizeof *v);
    lp->state = lua_gettop(L);
    lua_createtable(L, 0, 1); /* a metatable just for the __gc */
    lua_pushcfunction(L, rowview_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    v->ds = ds;
    v->verb = verb;
    v->nf = jp_dataset_nfields(ds);
    v->used = jp_malloc_array(v->nf ? v->nf : 1, sizeof *v->used);
    v->is_used = jp_calloc(v->nf ? v->nf : 1, sizeof *v->is_used);
    if (!v->used || !v->is_used) jpl_errorf(L, "%s: out of memory", verb);
    lua_newtable(L); /* [state, cache] */
    lp->cache = lua_gettop(L);
    lua_newtable(L); /* keys */
    lp->keys = lua_gettop(L);
    lua_newtable(L); /* strs */
    lp->strs = lua_gettop(L);
    lua_createtable(L, 0, (int)v->nf); /* the view */
    lp->view = lua_gettop(L);
    lua_createtable(L, 0, 3); /* [.., view, mt] */
    lua_pushvalue(L, lp->state);
    lua_pushvalue(L, lp->cache);
    lua_pushvalue(L, lp->keys);
    lua_pushvalue(L, lp->strs);
    lua_pushcclosure(L, view_index, 4);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, view_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushvalue(L, lp->state);
    lua_setfield(L, -2, "__row");
    lua_pushliteral(L, "jinpu row view");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, lp->view);
    return v;
}

/* Point the view at row i: copy in the fields read so far. */
static void view_at(lua_State *L, rowview_t *v, const loop_t *lp, size_t i)
{
    v->row = i;
    jp_dataset_t *ds = v->ds;
    for (size_t k = 0; k < v->nused; k++) {
        int j = v->used[k];
        lua_rawgeti(L, lp->keys, (lua_Integer)k + 1);
        const jp_column_t *c = jp_dataset_col(ds, j);
        if (jp_column_is_null(c, i))
            lua_pushnil(L);
        else
            switch (jp_column_type(c)) {
            case JP_TYPE_NUMBER:
                lua_pushnumber(L, jp_column_number(c, i));
                break;
            case JP_TYPE_INT:
                lua_pushinteger(L, (lua_Integer)jp_column_int(c, i));
                break;
            case JP_TYPE_STRING:
                push_view_cell(L, c, i, lp->strs, j);
                break;
            default:
                jpl_push_cell(L, c, i);
            }
        lua_rawset(L, lp->view);
    }
}

/*
 * Before a verb that loads a lazy input or works through many rows:
 * collect garbage, so that datasets only an earlier link of a chain
 * referred to (jp.read_csv(f):filter(...)) are released - the Lua collector
 * does not see the memory they hold - and plan nodes may drop what they no
 * longer need.  A full collection of the Lua heap is cheap next to reading
 * a file large enough to be lazy or a pass over 100k rows.
 */
static void before_load(lua_State *L, jp_dataset_t *ds)
{
    if (jp_dataset_is_lazy(ds) || jp_dataset_nrows(ds) >= 100000) lua_gc(L, LUA_GCCOLLECT);
}

/*
 * Before a loop over the rows: load the dataset.  A function may read any
 * field, and on a lazy CSV file each column loaded on demand would cost a
 * pass over the file, while one pass for all of them costs about as much
 * as two; so a lazy input is loaded whole (measured on 5M rows: 2.2 s for
 * the W1 workload against 2.9 s on demand).  __index still loads a column
 * on demand should one be missing.
 */
static void settle_rows(lua_State *L, jp_dataset_t *ds)
{
    before_load(L, ds);
    jpl_need_all(L, ds);
}

/* ---- filter ------------------------------------------------------------------------ */

/* The loop runs under one lua_pcall so that errors can name the row. */
typedef struct fnloop {
    jp_dataset_t *ds;
    rowview_t *v;
    loop_t lp;
    box_t *out;       /* filter: selected rows; mutate: values */
    size_t row;       /* current row, for messages */
    size_t row0;      /* streaming: the dataset's row the batch starts at */
    const char *name; /* mutate: the field */
    int kind;         /* mutate: 0 unknown, 1 int, 2 number, 3 string, 4 bool */
    size_t leading_nils;
} fnloop_t;

static int filter_loop(lua_State *L)
{
    fnloop_t *f = lua_touserdata(L, 1);
    const loop_t *lp = &f->lp;
    for (size_t i = 0; i < jp_dataset_nrows(f->ds); i++) {
        f->row = i;
        view_at(L, f->v, lp, i);
        lua_pushvalue(L, lp->fn);
        lua_pushvalue(L, lp->view);
        lua_call(L, 1, 1);
        if (lua_toboolean(L, -1)) box_push(L, f->out, f->row0 + i);
        lua_pop(L, 1);
    }
    return 0;
}

/*
 * [-0, +1, m] For an error about a nil ("attempt to compare number with
 * nil"): ", field 'area'" naming the fields the function read that are null
 * in the failing row (Lua names no field in a comparison), or "".
 */
static void push_nil_fields(lua_State *L, const fnloop_t *f, const char *msg)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const rowview_t *v = f->v;
    size_t nnil = 0;
    if (msg && strstr(msg, "nil") && v && f->row < jp_dataset_nrows(v->ds)) {
        for (size_t k = 0; k < v->nused; k++)
            if (jp_dataset_col(v->ds, v->used[k]) &&
                jp_column_is_null(jp_dataset_col(v->ds, v->used[k]), f->row))
                nnil++;
        size_t seen = 0;
        for (size_t k = 0; k < v->nused && nnil; k++) {
            const jp_column_t *c = jp_dataset_col(v->ds, v->used[k]);
            if (!c || !jp_column_is_null(c, f->row)) continue;
            luaL_addstring(&b, seen++ ? ", '" : nnil == 1 ? ", field '" : ", fields '");
            luaL_addstring(&b, jp_dataset_field(v->ds, v->used[k])->name);
            luaL_addstring(&b, "'");
        }
        if (nnil > 1) luaL_addstring(&b, " (nil)");
    }
    luaL_pushresult(&b);
}

/* [-0, +0, -] End the view at stack index `view`: clear the fields copied
 * into it (they would show the last row) and mark it closed. */
static void close_view(lua_State *L, rowview_t *v, int view)
{
    v->closed = true;
    lua_pushnil(L);
    while (lua_next(L, view)) { /* [key, value] */
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, view); /* clearing a present key keeps lua_next valid */
    }
}

/* [-0, +5, -] Push a loop's frame (f, fn, view, keys, strs), the values
 * from the slots `lp`, as the arguments of the loop function pushed before
 * it; f->lp points into the frame, as the loop sees it. */
static void push_frame(lua_State *L, fnloop_t *f, const loop_t *lp)
{
    lua_pushlightuserdata(L, f);
    lua_pushvalue(L, lp->fn);
    lua_pushvalue(L, lp->view);
    lua_pushvalue(L, lp->keys);
    lua_pushvalue(L, lp->strs);
    f->lp = (loop_t){.fn = 2, .view = 3, .keys = 4, .strs = 5};
}

/* [-0, +0, v] Raise the function's error `msg` at (0-based) row `row`,
 * with the null fields it read (`nils`): "verb: row N: ..." */
static void raise_row_error(lua_State *L, const fnloop_t *f, const char *verb, size_t row,
                            const char *nils, const char *msg)
{
    if (!msg) msg = "(error object is not a string)";
    if (f->name) jpl_errorf(L, "%s: '%s', row %d%s: %s", verb, f->name, (int)row + 1, nils, msg);
    jpl_errorf(L, "%s: row %d%s: %s", verb, (int)row + 1, nils, msg);
}

/* Run `loopfn` protected; close the view; on error prefix "verb: row N: "
 * and raise. */
static void run_loop(lua_State *L, lua_CFunction loopfn, fnloop_t *f, const char *verb)
{
    int view = f->lp.view;
    lua_pushcfunction(L, loopfn);
    push_frame(L, f, &f->lp);
    int rc = lua_pcall(L, 5, 0, 0);
    close_view(L, f->v, view);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        push_nil_fields(L, f, msg);
        raise_row_error(L, f, verb, f->row, lua_tostring(L, -1), msg);
    }
}

/* ---- functions over a file pipeline, batch by batch ----------------------------------- */

/*
 * A mutation by a Lua function that is not a plan node (a map form that
 * mixes functions and expressions, a grouped mutate) over a large file
 * pipeline runs at once, as the file is read: the reader parses the next
 * batch on the other cores while the function sees this one's rows, on
 * this thread, through the same row view.  The new column's values are
 * what the whole-file loop gives: the same calls in the same order, over
 * the same values.  Only the file's columns are not held.  The loop over a
 * batch runs protected, so that a Lua error never unwinds through the core.
 * (Filters and the other mutations are plan nodes: see below.)
 */
typedef struct fnstream {
    lua_State *L;
    fnloop_t *f;
    lua_CFunction loopfn;
    loop_t lp;   /* the view's stack slots (absolute) */
    int base;    /* the stack's top before a failure left its values */
    bool failed; /* the function raised: its message and null fields are on the stack */
    size_t fail_row;
    size_t rows; /* rows seen */
} fnstream_t;

#define FN_FAILED "the function failed"
#define FN_MORE   "the function reads more fields"

/* Protected: (f, fn, view, keys, strs) -> nothing, or the error and the
 * null fields the function read. */
static int batch_loop(lua_State *L)
{
    fnstream_t *s = lua_touserdata(L, lua_upvalueindex(1));
    /* the string caches index a batch's dictionaries: start them again */
    for (size_t j = 0; j < s->f->v->nf; j++) {
        lua_pushnil(L);
        lua_rawseti(L, 5, (lua_Integer)j + 1);
    }
    lua_pushcfunction(L, s->loopfn);
    for (int i = 1; i <= 5; i++) lua_pushvalue(L, i);
    if (lua_pcall(L, 5, 0, 0) == LUA_OK) return 0;
    push_nil_fields(L, s->f, lua_tostring(L, -1));
    return 2;
}

static jp_status_t fn_batch(void *ctx, jp_dataset_t *batch, size_t row0, jp_error_t *err)
{
    fnstream_t *s = ctx;
    lua_State *L = s->L;
    fnloop_t *f = s->f;
    f->ds = batch;
    f->v->ds = batch;
    f->row0 = row0;
    f->row = 0;
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, batch_loop, 1);
    push_frame(L, f, &s->lp);
    int rc = lua_pcall(L, 5, 2, 0);
    s->rows = row0 + jp_dataset_nrows(batch);
    if (f->v->stream_more) {
        /* it read a field the batches do not hold: a pass with it */
        lua_pop(L, rc == LUA_OK ? 2 : 1);
        return jp_error_set(err, JP_ERR_INVALID, FN_MORE);
    }
    if (rc == LUA_OK && lua_isnil(L, -2)) {
        lua_pop(L, 2);
        return JP_OK;
    }
    if (rc != LUA_OK) lua_pushliteral(L, ""); /* out of memory naming the fields */
    s->failed = true;
    s->fail_row = row0 + f->row;
    return jp_error_set(err, JP_ERR_INVALID, FN_FAILED);
}

static void fn_reset(void *ctx)
{
    fnstream_t *s = ctx;
    lua_settop(s->L, s->base);
    s->failed = false;
    s->rows = 0;
    box_t *b = s->f->out;
    b->n = 0;
    jp_column_unref(b->col);
    b->col = NULL;
    s->f->kind = 0;
    s->f->leading_nils = 0;
}

static bool fn_stopped(void *ctx)
{
    fnstream_t *s = ctx;
    return s->f->v->stream_more;
}

/* Run f's loop over the rows of ds (a stream) batch by batch; close the
 * view; on error raise as run_loop does.  Returns the rows seen.  The
 * batches hold the fields the function reads: a pass starts with the
 * first field, and a read of another stops it (at once, on the first row,
 * for a function that reads the same fields on every row) and starts a
 * pass with that field too. */
static size_t run_stream(lua_State *L, jp_dataset_t *ds, lua_CFunction loopfn, fnloop_t *f,
                         const char *verb)
{
    rowview_t *v = f->v;
    v->stream_want = jp_calloc(v->nf ? v->nf : 1, sizeof *v->stream_want);
    if (!v->stream_want) jpl_errorf(L, "%s: out of memory", verb);
    if (v->nf) v->stream_want[0] = true;
    fnstream_t s = {L, f, loopfn, f->lp, lua_gettop(L), false, 0, 0};
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = JP_OK;
    do {
        v->stream_more = false;
        fn_reset(&s);
        jp_error_clear(&err);
        st = jp_stream_rows(ds, v->stream_want, fn_batch, fn_reset, fn_stopped, &s, &err);
    } while (st && v->stream_more);
    close_view(L, f->v, s.lp.view);
    f->lp = s.lp;
    f->ds = ds;
    if (!st) return s.rows;
    if (s.failed && err.code == JP_ERR_INVALID && strcmp(err.msg, FN_FAILED) == 0)
        raise_row_error(L, f, verb, s.fail_row, lua_tostring(L, -1), lua_tostring(L, -2));
    lua_settop(L, s.base);
    jpl_error(L, &err);
    return 0;
}

/* ---- functions in plans: run by the verb that consumes the pipeline ------------------ */

/*
 * A filter or mutation by Lua functions over a pipeline that streams is a
 * plan node (jp_plan_fn): nothing runs when it is made.  The verb that
 * consumes the pipeline - an aggregate, a write, a column's sum - runs the
 * functions batch by batch as the file is read (in row order, on this
 * thread), or once over the loaded input when it loads.  The calls then
 * come from inside that verb, perhaps in another coroutine than the one
 * that made the node, so the functions run in a thread of their own (T),
 * kept with them in a registry table, each batch under lua_pcall: a Lua
 * error never unwinds through the core, and comes back as the core's
 * error, naming the verb, the field and the row, as the loop in place
 * names them.
 */
static int mutate_loop(lua_State *L);

typedef struct lfn {
    lua_State *T; /* the functions' thread */
    int ref;      /* registry: {T, fn1, fn2, ...} */
    const char *verb;
    char **names; /* mutate: the fields made (NULL: a filter) */
    size_t n;
    int *kind; /* mutate: each field's kind so far in this pass (fnloop_t.kind) */
} lfn_t;

typedef struct lfn_args {
    lfn_t *c;
    jp_dataset_t *in;
    size_t row0;
    bool batch;
    bool *reads;
    bool more;
    size_t *rows, nkept;
    jp_column_t **cols;
} lfn_args_t;

static void lfn_free(void *ctx)
{
    lfn_t *c = ctx;
    if (!c) return;
    luaL_unref(c->T, LUA_REGISTRYINDEX, c->ref);
    for (size_t k = 0; k < c->n && c->names; k++) jp_free(c->names[k]);
    jp_free(c->names);
    jp_free(c->kind);
    jp_free(c);
}

static jp_type_t kind_type(int k)
{
    return k == 1 ? JP_TYPE_INT : k == 2 ? JP_TYPE_NUMBER : k == 3 ? JP_TYPE_STRING : JP_TYPE_BOOL;
}

/* Protected, on T: (args) -> nothing; function k's loop over the rows. */
static void lfn_one(lua_State *T, lfn_args_t *a, size_t k)
{
    lfn_t *c = a->c;
    int base = lua_gettop(T);
    if (!a->batch) settle_rows(T, a->in); /* it may read any field: one pass for all */
    lua_rawgeti(T, LUA_REGISTRYINDEX, c->ref);
    lua_rawgeti(T, -1, (lua_Integer)k + 2); /* [tbl, fn] */
    fnloop_t f;
    memset(&f, 0, sizeof f);
    f.ds = a->in;
    f.name = c->names ? c->names[k] : NULL;
    f.v = open_view(T, a->in, base + 2, c->verb, &f.lp);
    f.out = new_box(T);
    if (c->names && c->kind[k]) {
        /* the pass's earlier rows fixed the type */
        f.kind = c->kind[k];
        if (!(f.out->col = jp_column_new(kind_type(f.kind), jp_dataset_nrows(a->in))))
            jpl_errorf(T, "%s: out of memory", c->verb);
    }
    int view = f.lp.view;
    lua_pushcfunction(T, c->names ? mutate_loop : filter_loop);
    push_frame(T, &f, &f.lp);
    if (a->batch) f.v->stream_want = a->reads; /* borrowed: cleared before anything raises */
    int rc = lua_pcall(T, 5, 0, 0);
    bool more = f.v->stream_more;
    f.v->stream_want = NULL;
    close_view(T, f.v, view);
    if (rc != LUA_OK && more) {
        a->more = true;
        lua_settop(T, base);
        return;
    }
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(T, -1);
        push_nil_fields(T, &f, msg);
        raise_row_error(T, &f, c->verb, a->row0 + f.row, lua_tostring(T, -1), msg);
    }
    if (c->names) {
        c->kind[k] = f.kind;
        a->cols[k] = f.out->col;
        f.out->col = NULL;
    } else {
        a->rows = f.out->v;
        a->nkept = f.out->n;
        f.out->v = NULL;
    }
    lua_settop(T, base);
}

static int lfn_entry(lua_State *T)
{
    lfn_args_t *a = lua_touserdata(T, 1);
    size_t n = a->c->names ? a->c->n : 1;
    for (size_t k = 0; k < n && !a->more; k++) lfn_one(T, a, k);
    return 0;
}

static jp_status_t lfn_call(void *ctx, jp_dataset_t *in, size_t row0, bool batch, bool *reads,
                            bool *more, size_t **rows, size_t *nkept, jp_column_t **cols,
                            jp_error_t *err)
{
    lfn_t *c = ctx;
    lua_State *T = c->T;
    if (row0 == 0 && c->kind) memset(c->kind, 0, c->n * sizeof *c->kind); /* a pass starts */
    lfn_args_t a = {c, in, row0, batch, reads, false, NULL, 0, cols};
    int top = lua_gettop(T);
    lua_pushcfunction(T, lfn_entry);
    lua_pushlightuserdata(T, &a);
    int rc = lua_pcall(T, 1, 0, 0);
    jp_status_t st = JP_OK;
    if (rc != LUA_OK) {
        if (!jp_stop_check(err)) {
            const char *msg = lua_tostring(T, -1);
            st = jp_error_set(err, rc == LUA_ERRMEM ? JP_ERR_NOMEM : JP_ERR_INVALID, "%s",
                              msg ? msg : "(error object is not a string)");
        } else {
            st = err ? err->code : JP_ERR_INTERRUPTED;
        }
        for (size_t k = 0; c->names && k < c->n; k++) {
            jp_column_unref(cols[k]);
            cols[k] = NULL;
        }
        jp_free(a.rows);
        a.rows = NULL;
    }
    lua_settop(T, top);
    *more = a.more;
    if (rows) {
        *rows = a.rows;
        *nkept = a.nkept;
    } else {
        jp_free(a.rows);
    }
    return st;
}

/* lua_dump's writer: the chunk into a buffer made above the function on
 * the first call, as string.dump does. */
typedef struct dump {
    luaL_Buffer b;
    bool init;
} dump_t;

static int dump_part(lua_State *L, const void *p, size_t n, void *ud)
{
    dump_t *d = ud;
    if (!d->init) {
        d->init = true;
        luaL_buffinit(L, &d->b);
    }
    luaL_addlstring(&d->b, p, n);
    return 0;
}

/*
 * [-0, +0, m] The fields of `in` that the function at fidx names as
 * constants, hinted to the node: `r.output_t` keeps "output_t" in the
 * function's stripped chunk, written by lua_dump as its length + 1 (one
 * byte with the high bit set, for names under 127 bytes) and its bytes.
 * The node's first pass then reads them from the start, and starts again
 * only for a field the function reads another way (a computed key, a
 * function it calls).  A name that is only a string the function uses
 * costs the parsing of that field.  A C function has no chunk.
 */
static void hint_fields(lua_State *L, jp_dataset_t *node, const jp_dataset_t *in, int fidx)
{
    if (lua_iscfunction(L, fidx)) return;
    int top = lua_gettop(L);
    lua_pushvalue(L, fidx);
    dump_t d;
    d.init = false;
    if (lua_dump(L, dump_part, &d, 1) == 0 && d.init) {
        luaL_pushresult(&d.b);
        size_t len;
        const char *chunk = lua_tolstring(L, -1, &len);
        for (size_t j = 0; j < jp_dataset_nfields(in); j++) {
            const char *name = jp_dataset_field(in, j)->name;
            size_t nl = strlen(name);
            if (!nl || nl + 1 >= 0x80 || nl + 1 > len) continue;
            char tag = (char)((nl + 1) | 0x80);
            for (size_t i = 0; i + nl < len; i++)
                if (chunk[i] == tag && memcmp(chunk + i + 1, name, nl) == 0) {
                    jp_plan_fn_hint(node, j);
                    break;
                }
        }
    }
    lua_settop(L, top);
}

/* [-0, +1, m] The plan node of `verb` by the functions at fidx[0..n) (a
 * filter: one, names NULL) over ds. */
static int push_fn_node(lua_State *L, jp_dataset_t *ds, const char *verb, const char *const *names,
                        size_t n, const int *fidx)
{
    size_t nfn = names ? n : 1;
    lua_createtable(L, (int)nfn + 1, 0);
    lua_State *T = lua_newthread(L);
    lua_rawseti(L, -2, 1);
    for (size_t k = 0; k < nfn; k++) {
        lua_pushvalue(L, fidx[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 2);
    }
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* from here nothing raises until the core owns c */
    lfn_t *c = jp_calloc(1, sizeof *c);
    bool ok = c != NULL;
    if (ok) {
        c->T = T;
        c->ref = ref;
        c->verb = verb; /* a literal */
        if (names) {
            c->n = n;
            c->names = jp_calloc(n ? n : 1, sizeof *c->names);
            c->kind = jp_calloc(n ? n : 1, sizeof *c->kind);
            ok = c->names && c->kind;
            for (size_t k = 0; k < n && ok; k++) ok = (c->names[k] = jp_strdup(names[k])) != NULL;
        }
    }
    if (!ok) {
        if (c)
            lfn_free(c);
        else
            luaL_unref(L, LUA_REGISTRYINDEX, ref);
        jpl_errorf(L, "%s: out of memory", verb);
    }
    jp_error_t err;
    jp_error_clear(&err);
    jp_rowfn_t fn = {lfn_call, lfn_free, c};
    jp_dataset_t *out = jp_plan_fn(ds, verb, names, names ? n : 0, fn, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    for (size_t k = 0; k < nfn; k++) hint_fields(L, out, ds, fidx[k]);
    return 1;
}

/* filter with the predicate at index 2, aggregates and windows within the
 * groups of keys[0..nkeys) (none: the whole dataset) */
static int do_filter(lua_State *L, jp_dataset_t *ds, const char *const *keys, size_t nkeys)
{
    jp_error_t err;
    jp_error_clear(&err);
    if (lua_type(L, 2) == LUA_TSTRING) {
        jp_dataset_t *out = jp_filter_by(ds, keys, nkeys, lua_tostring(L, 2), &err);
        if (!out) return verr(L, &err);
        jpl_push_dataset(L, out);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    /* over a file pipeline: a node, run by the verb that consumes it */
    if (jp_stream_possible(ds)) return push_fn_node(L, ds, "filter", NULL, 0, (const int[]){2});
    settle_rows(L, ds);
    fnloop_t f;
    memset(&f, 0, sizeof f);
    f.ds = ds;
    f.v = open_view(L, ds, 2, "filter", &f.lp);
    f.out = new_box(L);
    run_loop(L, filter_loop, &f, "filter");
    jp_dataset_t *out = jp_take(ds, f.out->v ? f.out->v : (size_t[]){0}, f.out->n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_filter(lua_State *L)
{
    return do_filter(L, jpl_check_dataset(L, 1), NULL, 0);
}

/* ---- mutate --------------------------------------------------------------------------- */

static const char *kind_name(int k)
{
    static const char *const n[] = {"nil", "integer", "number", "string", "boolean"};
    return n[k];
}

/* Store the function's result (on top) as row i of the new column. */
static void mutate_store(lua_State *L, fnloop_t *f, size_t i)
{
    box_t *b = f->out;
    int t = lua_type(L, -1);
    int k;
    switch (t) {
    case LUA_TNIL:
        k = 0;
        break;
    case LUA_TNUMBER:
        k = lua_isinteger(L, -1) ? 1 : 2;
        break;
    case LUA_TSTRING:
        k = 3;
        break;
    case LUA_TBOOLEAN:
        k = 4;
        break;
    default:
        jpl_errorf(L, "returned a %s (values must be numbers, strings, booleans or nil)",
                   luaL_typename(L, -1));
        return;
    }
    if (k && !f->kind) {
        /* the first value fixes the type; earlier rows were nil */
        jp_type_t ty = k == 1   ? JP_TYPE_INT
                       : k == 2 ? JP_TYPE_NUMBER
                       : k == 3 ? JP_TYPE_STRING
                                : JP_TYPE_BOOL;
        b->col = jp_column_new(ty, jp_dataset_nrows(f->ds));
        if (!b->col) jpl_errorf(L, "out of memory");
        for (size_t q = 0; q < f->leading_nils; q++)
            if (jp_column_push_null(b->col)) jpl_errorf(L, "out of memory");
        f->kind = k;
    }
    if (!k) {
        if (!f->kind)
            f->leading_nils++;
        else if (jp_column_push_null(b->col))
            jpl_errorf(L, "out of memory");
        return;
    }
    if (k != f->kind) {
        if (k == 2 && f->kind == 1) {
            /* integers so far, now a float: the column becomes number */
            jp_error_t err;
            jp_column_t *c = jp_column_cast(b->col, JP_TYPE_NUMBER, &err);
            if (!c || jp_column_reserve(c, jp_dataset_nrows(f->ds))) {
                jp_column_unref(c);
                jpl_errorf(L, "out of memory");
            }
            jp_column_unref(b->col);
            b->col = c;
            f->kind = 2;
        } else if (!(k == 1 && f->kind == 2)) {
            jpl_errorf(L, "returned a %s after %s values", kind_name(k), kind_name(f->kind));
        }
    }
    jp_status_t st;
    jp_column_t *c = b->col;
    switch (f->kind) {
    case 1:
        st = jp_column_push_int(c, (int64_t)lua_tointeger(L, -1), JP_Q_EXACT);
        break;
    case 2:
        st = jp_column_push_number(c, (double)lua_tonumber(L, -1), JP_Q_EXACT);
        break;
    case 3: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        st = jp_column_push_str(c, s, n);
        break;
    }
    default:
        st = jp_column_push_bool(c, lua_toboolean(L, -1));
        break;
    }
    if (st) jpl_errorf(L, "out of memory");
    (void)i;
}

static int mutate_loop(lua_State *L)
{
    fnloop_t *f = lua_touserdata(L, 1);
    const loop_t *lp = &f->lp;
    for (size_t i = 0; i < jp_dataset_nrows(f->ds); i++) {
        f->row = i;
        view_at(L, f->v, lp, i);
        lua_pushvalue(L, lp->fn);
        lua_pushvalue(L, lp->view);
        lua_call(L, 1, 1);
        mutate_store(L, f, i);
        lua_pop(L, 1);
    }
    return 0;
}

/* [-0, +1, m] The column a Lua function makes over ds (a box on top). */
static jp_column_t *function_column(lua_State *L, jp_dataset_t *ds, int fnidx, const char *name)
{
    int top = lua_gettop(L);
    bool stream = jp_stream_rows_worth(ds);
    if (stream)
        before_load(L, ds);
    else
        settle_rows(L, ds);
    fnloop_t f;
    memset(&f, 0, sizeof f);
    f.ds = ds;
    f.name = name;
    f.v = open_view(L, ds, fnidx, "mutate", &f.lp);
    f.out = new_box(L);
    size_t nrows = jp_dataset_nrows(ds);
    if (stream)
        nrows = run_stream(L, ds, mutate_loop, &f, "mutate"); /* a ready column: it streams too */
    else
        run_loop(L, mutate_loop, &f, "mutate");
    box_t *b = f.out;
    if (!b->col) {
        /* nil everywhere: a column of nulls */
        b->col = jp_column_new_nulls(JP_TYPE_NUMBER, nrows);
        if (!b->col) jpl_errorf(L, "out of memory");
    }
    lua_pushvalue(L, -1);
    lua_replace(L, top + 1); /* keep only the box */
    lua_settop(L, top + 1);
    return b->col;
}

/* One entry of mutate{}: name at -2, value at -1. */
static void read_mutation(lua_State *L, jp_dataset_t *src, jp_mutation_t *m, int vidx,
                          const char *name)
{
    memset(m, 0, sizeof *m);
    m->name = name;
    switch (lua_type(L, vidx)) {
    case LUA_TSTRING:
        m->expr = lua_tostring(L, vidx);
        break;
    case LUA_TFUNCTION:
        m->col = function_column(L, src, vidx, name); /* leaves its box on the stack */
        break;
    case LUA_TUSERDATA:
        m->col = jpl_check_column(L, vidx);
        m->unit = jpl_column_unit(L, vidx);
        break;
    default:
        jpl_errorf(L,
                   "mutate: '%s' must be an expression (string), a function of the row or a "
                   "column, not a %s",
                   name, luaL_typename(L, vidx));
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* mutate with the table at index 2 (the stack holds exactly [1, 2]),
 * aggregates and windows within the groups of keys[0..nkeys) */
static int do_mutate(lua_State *L, jp_dataset_t *ds, const char *const *keys, size_t nkeys)
{
    luaL_checktype(L, 2, LUA_TTABLE);
    jp_error_t err;
    jp_error_clear(&err);
    size_t alen = (size_t)lua_rawlen(L, 2);
    if (alen > 0) {
        /* array form {{"a", ...}, {"b", ...}}: in order, each sees the ones before */
        jpl_push_dataset(L, jp_dataset_ref(ds)); /* [.., cur] */
        for (size_t k = 1; k <= alen; k++) {
            int cur = lua_gettop(L);
            jp_dataset_t *cd = jpl_check_dataset(L, cur);
            if (lua_rawgeti(L, 2, (lua_Integer)k) != LUA_TTABLE) /* [.., cur, item] */
                jpl_errorf(L, "mutate: item %d must be a pair {name, value}", (int)k);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2); /* [.., cur, item, name, value] */
            if (lua_type(L, -2) != LUA_TSTRING)
                jpl_errorf(L, "mutate: item %d needs a field name first", (int)k);
            const char *name = jpl_check_name(L, -2, "mutate");
            if (!nkeys && lua_type(L, cur + 3) == LUA_TFUNCTION && jp_stream_possible(cd)) {
                /* over a file pipeline: a node, run by the verb that consumes it */
                push_fn_node(L, cd, "mutate", &name, 1, (const int[]){cur + 3});
                lua_replace(L, cur);
                lua_settop(L, cur);
                continue;
            }
            jp_mutation_t m;
            read_mutation(L, cd, &m, cur + 3, name);
            jp_dataset_t *out = jp_mutate_by(cd, keys, nkeys, &m, 1, true, &err);
            if (!out) return verr(L, &err);
            lua_settop(L, cur);
            jpl_push_dataset(L, out); /* [.., cur, next] */
            lua_remove(L, cur);
        }
        return 1;
    }
    /* map form: every value sees the input only; new fields appended by name */
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING) jpl_errorf(L, "mutate: field names must be strings");
        n++;
        lua_pop(L, 1);
    }
    const char **names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0); /* [3] */
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        names[k++] = jpl_check_name(L, -2, "mutate");
        lua_pop(L, 1);
    }
    qsort(names, n, sizeof *names, cmp_names);
    bool fns = n && !nkeys && jp_stream_possible(ds);
    for (k = 0; k < n && fns; k++) {
        fns = lua_getfield(L, 2, names[k]) == LUA_TFUNCTION;
        lua_pop(L, 1);
    }
    if (fns) {
        /* functions only, over a file pipeline: a node, run by the verb
           that consumes it (each function sees the input, as below) */
        int *fidx = lua_newuserdatauv(L, n * sizeof *fidx, 0); /* [4] */
        for (k = 0; k < n; k++) {
            lua_getfield(L, 2, names[k]);
            fidx[k] = lua_gettop(L);
        }
        return push_fn_node(L, ds, "mutate", names, n, fidx);
    }
    jp_mutation_t *m = lua_newuserdatauv(L, (n ? n : 1) * sizeof *m, 0); /* [4] */
    for (k = 0; k < n; k++) {
        lua_getfield(L, 2, names[k]); /* the value stays on the stack (keeps strings alive) */
        read_mutation(L, ds, &m[k], lua_gettop(L), names[k]);
    }
    jp_dataset_t *out = jp_mutate_by(ds, keys, nkeys, m, n, false, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_mutate(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_settop(L, 2);
    return do_mutate(L, ds, NULL, 0);
}

/* ---- fields and rows ------------------------------------------------------------------ */

static int ds_select(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    size_t n;
    const char **names = jpl_check_names(L, 2, &n);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_select(ds, names, n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_drop(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    size_t n;
    const char **names = jpl_check_names(L, 2, &n);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_drop(ds, names, n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_rename(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            jpl_errorf(L, "rename: use {old = \"new\", ...} with string names");
        n++;
        lua_pop(L, 1);
    }
    const char **from = lua_newuserdatauv(L, (n ? n : 1) * sizeof *from, 0);
    const char **to = lua_newuserdatauv(L, (n ? n : 1) * sizeof *to, 0);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        from[k] = lua_tostring(L, -2);
        to[k++] = jpl_check_name(L, -1, "rename");
        lua_pop(L, 1);
    }
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_rename(ds, from, to, n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_tail(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 10);
    luaL_argcheck(L, n >= 0, 2, "must not be negative");
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_tail(ds, (size_t)n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* ds:slice(i [, j]): rows i..j, 1-based and inclusive, negative counts
 * from the end (like string.sub). */
static int ds_slice(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2), j = luaL_optinteger(L, 3, -1);
    jp_error_t err;
    jp_error_clear(&err);
    if (i < 0 || j < 0) {
        if (jp_dataset_need_rows(ds, &err)) return verr(L, &err);
    }
    lua_Integer len = (lua_Integer)jp_dataset_nrows(ds);
    if (i < 0)
        i = i < -len ? 1 : len + i + 1;
    else if (i == 0)
        i = 1;
    if (j < 0) j = len + j + 1;
    size_t from = (size_t)i - 1, n = j >= i ? (size_t)(j - i + 1) : 0;
    jp_dataset_t *out = jp_slice(ds, from, n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* ds:sort(..., { memory = "512M" | bytes }): the options table, last after
 * the names; *memory 0 when not given. */
static void sort_opts(lua_State *L, size_t *memory)
{
    *memory = 0;
    int top = lua_gettop(L);
    if (top < 3 || lua_type(L, top) != LUA_TTABLE) return;
    lua_pushnil(L);
    while (lua_next(L, top)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "memory") != 0)
            jpl_errorf(L, "sort: the options take 'memory' only (a size: \"512M\", \"2G\")");
    }
    lua_getfield(L, top, "memory");
    if (lua_type(L, -1) == LUA_TNUMBER && lua_tointeger(L, -1) > 0) {
        *memory = (size_t)lua_tointeger(L, -1);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        if (!jp_parse_size(lua_tostring(L, -1), memory))
            jpl_errorf(L, "sort: memory = '%s' is not a size (e.g. 512M, 1.5G)",
                       lua_tostring(L, -1));
    } else if (!lua_isnil(L, -1)) {
        jpl_errorf(L, "sort: memory must be a size (e.g. \"512M\") or a number of bytes");
    }
    lua_settop(L, top - 1);
}

static int ds_sort(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    size_t n, memory;
    sort_opts(L, &memory);
    const char **names = jpl_check_names(L, 2, &n);
    if (n == 0) jpl_errorf(L, "sort: name at least one field (\"-name\" for descending)");
    jp_sort_key_t *k = lua_newuserdatauv(L, n * sizeof *k, 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = names[i];
        k[i].desc = s[0] == '-';
        k[i].field = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
    }
    jp_error_t err;
    jp_error_clear(&err);
    before_load(L, ds);
    jp_dataset_t *out = jp_sort_plan(ds, k, n, &err); /* lazy: a head of it is a top-N */
    if (!out) return verr(L, &err);
    jp_sort_set_memory(out, memory);
    jpl_push_dataset(L, out);
    return 1;
}

/* ds:distinct("a", "b") | ds:distinct() | ds:distinct{"a", keep_all = true} */
static int ds_distinct(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    bool keep_all = false;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "keep_all");
        keep_all = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    size_t n;
    const char **names = jpl_check_names(L, 2, &n);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_distinct(ds, names, n, keep_all, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int concat_list(lua_State *L, int from, int to)
{
    int n = to - from + 1;
    jp_dataset_t **list = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *list, 0);
    for (int i = 0; i < n; i++) list[i] = jpl_check_dataset(L, from + i);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_concat(list, (size_t)n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_concat(lua_State *L)
{
    jpl_check_dataset(L, 1);
    return concat_list(L, 1, lua_gettop(L));
}

/* jp.concat{a, b, c} */
static int l_concat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)lua_rawlen(L, 1);
    if (n == 0) jpl_errorf(L, "concat: no datasets");
    luaL_checkstack(L, n + 4, "too many datasets");
    lua_settop(L, 1);
    for (int i = 1; i <= n; i++) lua_rawgeti(L, 1, i);
    return concat_list(L, 2, n + 1);
}

/* The key pairs of a join: appended to lk/rk (room for `cap`); the strings
 * stay alive in the key table. */
typedef struct keypairs {
    const char **lk, **rk;
    size_t n, cap;
} keypairs_t;

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pairs of a map { county = "code", year = "yr" }, in the order of the
 * left names (a Lua table has no order of its own). */
static void map_pairs(lua_State *L, int t, keypairs_t *kp, const char *what, bool skip_list)
{
    size_t first = kp->n;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (skip_list && lua_type(L, -2) == LUA_TNUMBER) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            jpl_errorf(L, "join: %s must map left names to right names ({ county = \"code\" })",
                       what);
        if (kp->n == kp->cap) jpl_errorf(L, "join: too many keys");
        kp->lk[kp->n] = lua_tostring(L, -2);
        kp->n++;
        lua_pop(L, 1);
    }
    qsort(kp->lk + first, kp->n - first, sizeof *kp->lk, cmp_cstr);
    for (size_t k = first; k < kp->n; k++) {
        lua_getfield(L, t, kp->lk[k]);
        kp->rk[k] = lua_tostring(L, -1); /* alive in the table */
        lua_pop(L, 1);
    }
}

/* ds:join(other, keys, how, {suffix = }): keys is "k", {"k1", "k2"}, a map
 * { county = "code" }, or a list mixing names, pairs {"left", "right"} and
 * one-entry maps { county = "code" }. */
static int ds_join(lua_State *L)
{
    jp_dataset_t *a = jpl_check_dataset(L, 1);
    jp_dataset_t *b = jpl_check_dataset(L, 2);
    const char *how_s = luaL_optstring(L, 4, "inner");
    jp_join_how_t how;
    if (!jp_join_from_name(how_s, &how)) {
        static const char *const hows[] = {"inner", "left", "right", "full", "semi", "anti", NULL};
        const char *near = jp_suggest(how_s, hows, -1);
        jpl_errorf(L,
                   "join: how must be \"inner\", \"left\", \"right\", \"full\", \"semi\" or "
                   "\"anti\", not \"%s\"%s%s%s",
                   how_s, near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
    }
    const char *suffix = NULL;
    if (!lua_isnoneornil(L, 5)) {
        static const char *const allowed[] = {"suffix", NULL};
        jpl_check_options(L, 5, "join", allowed);
        lua_getfield(L, 5, "suffix");
        suffix = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    keypairs_t kp = {0};
    if (lua_type(L, 3) == LUA_TSTRING) {
        kp.cap = 1;
        kp.lk = lua_newuserdatauv(L, sizeof *kp.lk, 0);
        kp.rk = lua_newuserdatauv(L, sizeof *kp.rk, 0);
        kp.lk[0] = kp.rk[0] = lua_tostring(L, 3);
        kp.n = 1;
    } else {
        if (lua_type(L, 3) != LUA_TTABLE)
            jpl_errorf(L, "join: keys must be a field name, a list of names or pairs, or a map "
                          "{ left = \"right\" }");
        size_t len = (size_t)lua_rawlen(L, 3), cap = 0;
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            cap++;
            if (lua_type(L, -1) == LUA_TTABLE) cap += (size_t)lua_rawlen(L, -1) + 8;
            lua_pop(L, 1);
        }
        kp.cap = cap ? cap : 1;
        kp.lk = lua_newuserdatauv(L, kp.cap * sizeof *kp.lk, 0);
        kp.rk = lua_newuserdatauv(L, kp.cap * sizeof *kp.rk, 0);
        if (len == 0) {
            map_pairs(L, 3, &kp, "the keys", false);
        } else {
            for (size_t k = 0; k < len; k++) {
                int t = lua_rawgeti(L, 3, (lua_Integer)k + 1);
                int it = lua_gettop(L);
                if (t == LUA_TSTRING) {
                    kp.lk[kp.n] = kp.rk[kp.n] = lua_tostring(L, -1);
                    kp.n++;
                } else if (t == LUA_TTABLE && lua_rawlen(L, it) == 2) {
                    lua_rawgeti(L, it, 1);
                    lua_rawgeti(L, it, 2);
                    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                        jpl_errorf(L,
                                   "join: key %d must be a name, a pair {left, right} or a map "
                                   "{ left = \"right\" }",
                                   (int)k + 1);
                    kp.lk[kp.n] = lua_tostring(L, -2);
                    kp.rk[kp.n] = lua_tostring(L, -1);
                    kp.n++;
                    lua_pop(L, 2);
                } else if (t == LUA_TTABLE && lua_rawlen(L, it) == 0) {
                    map_pairs(L, it, &kp, "a key map", false);
                } else {
                    jpl_errorf(L,
                               "join: key %d must be a name, a pair {left, right} or a map "
                               "{ left = \"right\" }",
                               (int)k + 1);
                }
                lua_pop(L, 1); /* the key table keeps the strings alive */
            }
        }
        /* a list with a map part too ({"year", county = "code"}) */
        if (len) {
            lua_pushnil(L);
            while (lua_next(L, 3)) {
                bool map = lua_type(L, -2) == LUA_TSTRING;
                lua_pop(L, 1);
                if (map) {
                    lua_pop(L, 1);
                    map_pairs(L, 3, &kp, "the keys", true);
                    break;
                }
            }
        }
    }
    if (kp.n == 0) jpl_errorf(L, "join: no key fields");
    jp_error_t err;
    jp_error_clear(&err);
    before_load(L, a);
    jp_dataset_t *out = jp_join_lazy(a, b, kp.lk, kp.rk, kp.n, how, suffix, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* ---- aggregates ------------------------------------------------------------------------ */

/* jp.sum("x") etc. return a small table {kind =, field =, p =} with AGG_MT.
 * One closure per aggregate: upvalue 1 is its jp_agg_kind_t. */
static int make_agg(lua_State *L)
{
    jp_agg_kind_t kind = (jp_agg_kind_t)lua_tointeger(L, lua_upvalueindex(1));
    /* count() counts rows; count("x") the non-null values of x */
    const char *field = kind == JP_AGG_COUNT ? luaL_optstring(L, 1, NULL) : luaL_checkstring(L, 1);
    double p = 0;
    if (kind == JP_AGG_QUANTILE) {
        p = luaL_checknumber(L, 2);
        luaL_argcheck(L, p >= 0 && p <= 1, 2, "p must be between 0 and 1");
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, jp_agg_name(kind));
    lua_setfield(L, -2, "kind");
    if (field) {
        lua_pushstring(L, field);
        lua_setfield(L, -2, "field");
    }
    if (kind == JP_AGG_QUANTILE) {
        lua_pushnumber(L, p);
        lua_setfield(L, -2, "p");
    }
    luaL_setmetatable(L, AGG_MT);
    return 1;
}

static int agg_tostring(lua_State *L)
{
    lua_getfield(L, 1, "kind");
    lua_getfield(L, 1, "field");
    lua_getfield(L, 1, "p");
    if (lua_isnil(L, -1))
        lua_pushfstring(L, "jp.%s(%s%s%s)", lua_tostring(L, -3), lua_isnil(L, -2) ? "" : "\"",
                        lua_isnil(L, -2) ? "" : lua_tostring(L, -2), lua_isnil(L, -2) ? "" : "\"");
    else
        lua_pushfstring(L, "jp.%s(\"%s\", %f)", lua_tostring(L, -3), lua_tostring(L, -2),
                        lua_tonumber(L, -1));
    return 1;
}

/* Read the aggregate spec at idx into a (strings stay owned by the spec). */
static void read_agg(lua_State *L, int idx, const char *name, jp_agg_t *a)
{
    bool ok = false;
    if (lua_type(L, idx) == LUA_TTABLE && lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, AGG_MT);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ok)
        jpl_errorf(L, "agg: '%s' must be an aggregate such as jp.sum(\"x\"), not a %s", name,
                   luaL_typename(L, idx));
    memset(a, 0, sizeof *a);
    a->name = name;
    lua_getfield(L, idx, "kind");
    jp_agg_from_name(lua_tostring(L, -1), &a->kind);
    lua_getfield(L, idx, "field");
    a->field = lua_tostring(L, -1);
    lua_getfield(L, idx, "p");
    a->p = lua_tonumber(L, -1);
    lua_pop(L, 3);
}

/* Aggregate ds by keys[0..nkeys) with the spec table at tidx. */
static int do_agg(lua_State *L, jp_dataset_t *ds, const char *const *keys, size_t nkeys, int tidx)
{
    luaL_checktype(L, tidx, LUA_TTABLE);
    size_t alen = (size_t)lua_rawlen(L, tidx), nmap = 0;
    lua_pushnil(L);
    while (lua_next(L, tidx)) {
        if (lua_type(L, -2) == LUA_TSTRING)
            nmap++;
        else if (!lua_isinteger(L, -2))
            jpl_errorf(L, "agg: keys must be names (or use the array form {{\"n\", jp.count()}})");
        lua_pop(L, 1);
    }
    if (alen && nmap)
        jpl_errorf(L, "agg: use either the map form {n = jp.count()} or the array form "
                      "{{\"n\", jp.count()}}, not both");
    size_t n = alen ? alen : nmap;
    jp_agg_t *a = lua_newuserdatauv(L, (n ? n : 1) * sizeof *a, 0);
    if (alen) {
        for (size_t k = 0; k < alen; k++) {
            if (lua_rawgeti(L, tidx, (lua_Integer)k + 1) != LUA_TTABLE)
                jpl_errorf(L, "agg: item %d must be a pair {name, aggregate}", (int)k + 1);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2); /* [item, name, spec] */
            if (lua_type(L, -2) != LUA_TSTRING)
                jpl_errorf(L, "agg: item %d needs a name first", (int)k + 1);
            read_agg(L, lua_gettop(L), jpl_check_name(L, -2, "agg"), &a[k]);
            lua_pop(L, 3); /* strings stay alive in the item table */
        }
    } else {
        const char **names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
        size_t k = 0;
        lua_pushnil(L);
        while (lua_next(L, tidx)) {
            names[k++] = jpl_check_name(L, -2, "agg");
            lua_pop(L, 1);
        }
        qsort(names, n, sizeof *names, cmp_names);
        for (k = 0; k < n; k++) {
            lua_getfield(L, tidx, names[k]);
            read_agg(L, lua_gettop(L), names[k], &a[k]);
            lua_pop(L, 1);
        }
    }
    jp_error_t err;
    jp_error_clear(&err);
    before_load(L, ds);
    jp_dataset_t *out = jp_group_agg(ds, keys, nkeys, a, n, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

typedef struct grouped {
    jp_dataset_t *ds;
} grouped_t;

static int grouped_gc(lua_State *L)
{
    grouped_t *g = luaL_checkudata(L, 1, GROUPED_MT);
    jp_dataset_unref(g->ds);
    g->ds = NULL;
    return 0;
}

/* ds:group_by("k1", "k2") or ds:group_by{"k1", "k2"} -> a grouped dataset */
static int ds_group_by(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    size_t n;
    const char **names = jpl_check_names(L, 2, &n);
    /* check the names now, so the error points at group_by */
    for (size_t k = 0; k < n; k++) {
        long i;
        jp_error_t err;
        jp_error_clear(&err);
        if (jp_dataset_lookup(ds, names[k], "group_by", &i, &err)) return verr(L, &err);
    }
    grouped_t *g = lua_newuserdatauv(L, sizeof *g, 1);
    g->ds = NULL;
    luaL_setmetatable(L, GROUPED_MT);
    lua_createtable(L, (int)n, 0); /* the keys, as Lua strings */
    for (size_t k = 0; k < n; k++) {
        lua_pushstring(L, names[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setiuservalue(L, -2, 1);
    g->ds = jp_dataset_ref(ds);
    return 1;
}

/* [-0, +2, m] The keys of the grouped dataset at 1 as a C array (alive in
 * the keys table and the array's box, both left on the stack). */
static const char **grouped_keys(lua_State *L, size_t *n)
{
    lua_getiuservalue(L, 1, 1); /* [.., keys] */
    *n = (size_t)lua_rawlen(L, -1);
    const char **keys = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *keys, 0); /* [.., keys, box] */
    for (size_t k = 0; k < *n; k++) {
        lua_rawgeti(L, -2, (lua_Integer)k + 1);
        keys[k] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    return keys;
}

static int grouped_agg(lua_State *L)
{
    grouped_t *g = luaL_checkudata(L, 1, GROUPED_MT);
    lua_settop(L, 2);
    size_t n;
    const char **keys = grouped_keys(L, &n); /* [g, spec, keys, box] */
    return do_agg(L, g->ds, keys, n, 2);
}

/* ds:group_by(...):mutate{...}: aggregates and windows within each group */
static int grouped_mutate(lua_State *L)
{
    grouped_t *g = luaL_checkudata(L, 1, GROUPED_MT);
    lua_settop(L, 2);
    size_t n;
    const char **keys = grouped_keys(L, &n); /* [g, spec, keys, box] */
    before_load(L, g->ds);
    return do_mutate(L, g->ds, keys, n);
}

/* ds:group_by(...):filter(pred): aggregates and windows within each group */
static int grouped_filter(lua_State *L)
{
    grouped_t *g = luaL_checkudata(L, 1, GROUPED_MT);
    lua_settop(L, 2);
    size_t n;
    const char **keys = grouped_keys(L, &n); /* [g, pred, keys, box] */
    before_load(L, g->ds);
    return do_filter(L, g->ds, keys, n);
}

static int grouped_tostring(lua_State *L)
{
    grouped_t *g = luaL_checkudata(L, 1, GROUPED_MT);
    lua_getiuservalue(L, 1, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "grouped dataset by ");
    size_t n = (size_t)lua_rawlen(L, 2);
    for (size_t k = 0; k < n; k++) {
        lua_rawgeti(L, 2, (lua_Integer)k + 1);
        if (k) luaL_addstring(&b, ", ");
        luaL_addstring(&b, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    luaL_addstring(&b, g->ds ? " (use :agg{...})" : "");
    luaL_pushresult(&b);
    return 1;
}

/* ds:agg{...}: one row over the whole dataset */
static int ds_agg(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    lua_settop(L, 2);
    return do_agg(L, ds, NULL, 0, 2);
}

/* ---- reshaping and units ------------------------------------------------------------- */

static const char *field_opt(lua_State *L, int t, const char *key, bool required, const char *verb)
{
    lua_getfield(L, t, key);
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1); /* the option table keeps the string alive */
    if (!s && required) jpl_errorf(L, "%s: option '%s' (a field name) is required", verb, key);
    return s;
}

/* Names in option `key` (a string or a list) as an array (a userdata on top). */
static const char **names_opt(lua_State *L, int t, const char *key, size_t *n)
{
    int type = lua_getfield(L, t, key); /* [v] */
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        *n = 0;
        lua_newuserdatauv(L, sizeof(char *), 0);
        return lua_touserdata(L, -1);
    }
    int v = lua_gettop(L);
    const char **names = jpl_check_names(L, v, n); /* [v, names] */
    if (type == LUA_TSTRING) {
        /* jpl_check_names read every argument from v up: exactly this one */
        *n = 1;
    }
    lua_remove(L, v);
    return names;
}

/* ds:pivot{names_from =, values_from =, id_cols = {...}, values_fn = "sum", names_prefix =,
 *          names_order = "sorted" | "appearance"} */
static int ds_pivot(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    static const char *const allowed[] = {"names_from",   "values_from", "id_cols", "values_fn",
                                          "names_prefix", "names_order", NULL};
    jpl_check_options(L, 2, "pivot", allowed);
    jp_pivot_opts_t o;
    memset(&o, 0, sizeof o);
    o.names_from = field_opt(L, 2, "names_from", true, "pivot");
    o.values_from = field_opt(L, 2, "values_from", true, "pivot");
    o.names_prefix = field_opt(L, 2, "names_prefix", false, "pivot");
    const char *order = field_opt(L, 2, "names_order", false, "pivot");
    if (order && strcmp(order, "sorted") != 0 && strcmp(order, "appearance") != 0)
        jpl_errorf(L, "pivot: names_order must be \"sorted\" or \"appearance\", not \"%s\"", order);
    o.keep_order = order && strcmp(order, "appearance") == 0;
    const char *fn = field_opt(L, 2, "values_fn", false, "pivot");
    if (fn) {
        if (!jp_agg_from_name(fn, &o.values_fn) || o.values_fn == JP_AGG_QUANTILE)
            jpl_errorf(L,
                       "pivot: values_fn \"%s\" is not one of count, sum, mean, min, max, median, "
                       "count_distinct, first, last",
                       fn);
        o.has_fn = true;
    }
    o.id_cols = names_opt(L, 2, "id_cols", &o.n_id_cols);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_pivot(ds, &o, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* ds:unpivot{cols = {...}, names_to = "name", values_to = "value", drop_nulls = false} */
static int ds_unpivot(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    static const char *const allowed[] = {"cols", "names_to", "values_to", "drop_nulls", NULL};
    jpl_check_options(L, 2, "unpivot", allowed);
    jp_unpivot_opts_t o;
    memset(&o, 0, sizeof o);
    o.names_to = field_opt(L, 2, "names_to", false, "unpivot");
    o.values_to = field_opt(L, 2, "values_to", false, "unpivot");
    lua_getfield(L, 2, "drop_nulls");
    o.drop_nulls = lua_toboolean(L, -1);
    lua_pop(L, 1);
    o.cols = names_opt(L, 2, "cols", &o.n_cols);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_unpivot(ds, &o, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

static int ds_convert(lua_State *L)
{
    jp_dataset_t *ds = jpl_check_dataset(L, 1);
    const char *field = luaL_checkstring(L, 2);
    const char *unit = luaL_checkstring(L, 3);
    jp_error_t err;
    jp_error_clear(&err);
    jp_dataset_t *out = jp_convert(ds, field, unit, &err);
    if (!out) return verr(L, &err);
    jpl_push_dataset(L, out);
    return 1;
}

/* ---- column vector operations ------------------------------------------------------------- */

/* value, qualifier name */
static int push_result(lua_State *L, const jp_value_t *v)
{
    jpl_push_value(L, v);
    lua_pushstring(L, jp_qual_name(v->is_null ? JP_Q_EXACT : v->qual));
    return 2;
}

typedef jp_status_t (*vec_fn)(const jp_column_t *, const char *, jp_value_t *, jp_error_t *);

/* A lazy column (a field of a file pipeline) streams: one pass over the
 * file gives every reduction, the column is never loaded. */
static int col_vec(lua_State *L, vec_fn fn, jp_vec_op_t op)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    jp_column_t *c = s ? NULL : jpl_check_column(L, 1);
    const char *name = jpl_column_name(L, 1);
    jp_value_t v;
    jp_error_t err;
    jp_error_clear(&err);
    if (s ? jp_col_summary_get(s, op, name[0] ? name : NULL, &v, &err)
          : fn(c, name[0] ? name : NULL, &v, &err))
        return verr(L, &err);
    return push_result(L, &v);
}

static int col_sum(lua_State *L)
{
    return col_vec(L, jp_vec_sum, JP_VEC_SUM);
}
static int col_mean(lua_State *L)
{
    return col_vec(L, jp_vec_mean, JP_VEC_MEAN);
}
static int col_min(lua_State *L)
{
    return col_vec(L, jp_vec_min, JP_VEC_MIN);
}
static int col_max(lua_State *L)
{
    return col_vec(L, jp_vec_max, JP_VEC_MAX);
}

static int col_count(lua_State *L)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    lua_pushinteger(L,
                    (lua_Integer)(s ? s->rows - s->nulls : jp_vec_count(jpl_check_column(L, 1))));
    return 1;
}

static int col_null_count(lua_State *L)
{
    const jp_col_summary_t *s = jpl_column_summary(L, 1);
    lua_pushinteger(L, (lua_Integer)(s ? s->nulls : jp_column_null_count(jpl_check_column(L, 1))));
    return 1;
}

/* ---- registration ------------------------------------------------------------------------- */

void jpl_open_verbs(lua_State *L)
{
    /* [jp] */
    luaL_newmetatable(L, BOX_MT);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, AGG_MT);
    lua_pushcfunction(L, agg_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_newmetatable(L, GROUPED_MT);
    static const luaL_Reg grouped_methods[] = {
        {"agg", grouped_agg}, {"mutate", grouped_mutate}, {"filter", grouped_filter}, {NULL, NULL}};
    lua_newtable(L);
    luaL_setfuncs(L, grouped_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, grouped_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, grouped_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    static const luaL_Reg ds_methods[] = {
        {"filter", ds_filter},     {"select", ds_select}, {"drop", ds_drop},
        {"rename", ds_rename},     {"mutate", ds_mutate}, {"sort", ds_sort},
        {"group_by", ds_group_by}, {"agg", ds_agg},       {"join", ds_join},
        {"tail", ds_tail},         {"slice", ds_slice},   {"distinct", ds_distinct},
        {"concat", ds_concat},     {"pivot", ds_pivot},   {"unpivot", ds_unpivot},
        {"convert", ds_convert},   {NULL, NULL}};
    jpl_add_dataset_methods(L, ds_methods);
    static const luaL_Reg col_methods[] = {{"sum", col_sum},     {"mean", col_mean},
                                           {"min", col_min},     {"max", col_max},
                                           {"count", col_count}, {"null_count", col_null_count},
                                           {NULL, NULL}};
    jpl_add_column_methods(L, col_methods);
    static const jp_agg_kind_t aggs[] = {
        JP_AGG_COUNT,  JP_AGG_SUM,      JP_AGG_MEAN,           JP_AGG_MIN,   JP_AGG_MAX,
        JP_AGG_MEDIAN, JP_AGG_QUANTILE, JP_AGG_COUNT_DISTINCT, JP_AGG_FIRST, JP_AGG_LAST};
    for (size_t k = 0; k < sizeof aggs / sizeof aggs[0]; k++) {
        lua_pushinteger(L, aggs[k]);
        lua_pushcclosure(L, make_agg, 1);
        lua_setfield(L, -2, jp_agg_name(aggs[k])); /* jp.count, jp.sum, ... */
    }
    static const luaL_Reg funcs[] = {{"concat", l_concat}, {"copy_row", l_copy_row}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
