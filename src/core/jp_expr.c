/*
 * jp_expr.c - expressions in Lua's syntax over a dataset's fields: the
 * public face of the compiler (lexer, parser, checker and generator are in
 * jp_expr_lex.c, jp_expr_parse.c, jp_expr_check.c and jp_expr_gen.c) and the
 * drivers that run a program (jp_expr_eval.c) over whole columns, batch by
 * batch, into a new column or a list of selected rows.
 *
 * Nothing recurses over the tree: the parser keeps operators on an explicit
 * stack and recurses only into parentheses and calls (JP_EXPR_MAX_DEPTH
 * deep); checking runs over the node array, which is in post-order; code
 * generation walks with an explicit stack.
 *
 * Owns: the expression language.  Must never: modify an input column or
 * dataset, print, call Lua, keep a pointer to the schema it compiled
 * against.
 */
#include "jp_expr.h"

#include <stdio.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_limit.h"
#include "jp_mem.h"

/* ---- compile: driver -------------------------------------------------------- */

/* The value of a constant node from register r of a finished evaluation. */
static jp_status_t take_value(cstate_t *cs, node_t *n, const vreg_t *v)
{
    n->is_null = v->nul && v->nul[0];
    switch (n->type) {
    case JP_TYPE_INT:
        n->i = VI(v)[0];
        break;
    case JP_TYPE_NUMBER:
        n->d = VD(v)[0];
        break;
    case JP_TYPE_BOOL:
        n->i = VB(v)[0];
        break;
    case JP_TYPE_DATE:
        n->i = VT(v)[0];
        break;
    case JP_TYPE_STRING:
        if (!n->is_null) {
            size_t len;
            const char *s = jp_strdict_get(v->dict, VS(v)[0], &len);
            if (!(n->s = jp_strndup(s, len))) return jpx_nomem(cs);
            n->slen = len;
        }
        break;
    default:
        break;
    }
    n->kind = N_CONST;
    return JP_OK;
}

/* Run the code of a constant part on one row and replace it by its value. */
jp_status_t jpx_fold(cstate_t *cs, int id)
{
    node_t *n = &cs->nodes[id];
    if (n->kind == N_CONST || !n->konst || n->type == TY_NIL) return JP_OK;
    jp_expr_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.result = -1;
    jp_expr_t *saved = cs->e;
    size_t cc = cs->cap_code, cr = cs->cap_regs, ns = cs->n_statics;
    int statics[STATIC_CONSTS];
    memcpy(statics, cs->statics, sizeof statics);
    /* restored below, before returning */
    /* cppcheck-suppress autoVariables */
    cs->e = &tmp;
    cs->cap_code = cs->cap_regs = 0;
    cs->n_statics = 0;
    jp_status_t st = jpx_gen_program(cs, id);
    ectx_t x;
    if (!st) {
        if (jpx_ectx_init(&x, &tmp, NULL))
            st = jpx_nomem(cs);
        else {
            if (jpx_run_batch(&x, 0, 1))
                st = jpx_nomem(cs);
            else
                st = take_value(cs, &cs->nodes[id], &x.r[tmp.result]);
            jpx_ectx_free(&x);
        }
    }
    jpx_program_free(&tmp);
    cs->e = saved;
    cs->cap_code = cc;
    cs->cap_regs = cr;
    cs->n_statics = ns;
    memcpy(cs->statics, statics, sizeof statics);
    return st;
}

/* The fields the expression reads, in order of first appearance. */
static jp_status_t find_inputs(cstate_t *cs)
{
    jp_expr_t *e = cs->e;
    size_t nf = cs->schema->n_fields;
    bool *seen = jp_calloc(nf ? nf : 1, sizeof *seen);
    if (!seen) return jpx_nomem(cs);
    for (size_t k = 0; k < cs->n_nodes; k++) {
        const node_t *n = &cs->nodes[k];
        if (n->kind != N_FIELD || seen[n->field]) continue;
        seen[n->field] = true;
        if (e->n_inputs == cs->cap_inputs) {
            size_t cap = cs->cap_inputs ? cs->cap_inputs * 2 : 8;
            size_t *p = jp_realloc_array(e->inputs, cap, sizeof *p);
            if (!p) {
                jp_free(seen);
                return jpx_nomem(cs);
            }
            e->inputs = p;
            cs->cap_inputs = cap;
        }
        e->inputs[e->n_inputs++] = (size_t)n->field;
    }
    jp_free(seen);
    return JP_OK;
}

static jp_expr_t *compile(const char *src, const jp_schema_t *schema, bool defer, jp_error_t *err)
{
    cstate_t cs;
    memset(&cs, 0, sizeof cs);
    cs.src = src ? src : "";
    cs.srclen = strlen(cs.src);
    cs.schema = schema;
    cs.err = err;
    cs.defer_types = defer;
    jp_expr_t *e = jp_calloc(1, sizeof *e);
    if (!e || !(e->src = jp_strdup(cs.src))) {
        jp_free(e);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->result = -1;
    cs.e = e;
    int root = -1;
    if (!jpx_next(&cs)) {
        if (cs.tok.kind == T_EOF)
            jpx_err(&cs, 0, "empty expression");
        else
            root = jpx_parse_expr(&cs);
    }
    if (root >= 0 && !cs.st && cs.tok.kind != T_EOF) {
        if (cs.tok.kind == T_RP)
            jpx_err(&cs, cs.tok.pos, "unexpected ')' at column %zu (no matching '(')",
                    cs.tok.pos + 1);
        else
            jpx_err(&cs, cs.tok.pos,
                    "unexpected '%.*s' at column %zu (expected an operator or the end)",
                    (int)cs.tok.len, cs.src + cs.tok.pos, cs.tok.pos + 1);
    }
    if (!cs.st && root >= 0) find_inputs(&cs);
    for (size_t k = 0; !cs.st && k < cs.n_nodes; k++)
        if (cs.nodes[k].kind == N_CALL && jpx_is_window(cs.nodes[k].op)) e->windowed = true;
    if (!cs.st && root >= 0) jpx_check_tree(&cs);
    if (!cs.st && root >= 0 && !defer) {
        node_t *rn = &cs.nodes[root];
        if (rn->type == TY_NIL)
            jpx_err(&cs, 0, "the expression is always nil and has no type");
        else if (rn->type == JP_TYPE_PERIOD && rn->kind != N_FIELD)
            jpx_err(&cs, 0, "period values can only be tested with == nil / ~= nil");
        else {
            e->type = rn->type;
            char **to = rn->unit[0] == JPX_UNIT_FIELD_MARK ? &e->unit_field : &e->unit;
            const char *u = rn->unit[0] == JPX_UNIT_FIELD_MARK ? rn->unit + 1 : rn->unit;
            if (u[0] && !(*to = jp_strdup(u))) jpx_nomem(&cs);
            e->n_fields = schema->n_fields;
            if (!cs.st) jpx_gen_stages(&cs);
            if (!cs.st) jpx_gen_program(&cs, root);
            e->bound = !cs.st;
        }
    }
    jpx_tok_free(&cs.tok);
    for (size_t k = 0; k < cs.n_nodes; k++) {
        jp_free(cs.nodes[k].s);
        jp_free(cs.nodes[k].args);
    }
    jp_free(cs.nodes);
    jp_free(cs.ops);
    jp_free(cs.vals);
    jp_free(cs.walk);
    if (cs.st) {
        jp_expr_free(e);
        return NULL;
    }
    return e;
}

jp_expr_t *jp_expr_compile(const char *src, const jp_schema_t *schema, jp_error_t *err)
{
    return compile(src, schema, false, err);
}

jp_expr_t *jp_expr_parse(const char *src, const jp_schema_t *schema, jp_error_t *err)
{
    return compile(src, schema, true, err);
}

bool jp_expr_is_bound(const jp_expr_t *e)
{
    return e->bound;
}

bool jp_expr_is_window(const jp_expr_t *e)
{
    return e->windowed || e->n_stages > 0;
}

void jp_expr_free(jp_expr_t *e)
{
    if (!e) return;
    jpx_stages_free(e);
    jpx_program_free(e);
    jp_free(e->inputs);
    jp_free(e->unit);
    jp_free(e->unit_field);
    jp_free(e->src);
    jp_free(e);
}

jp_type_t jp_expr_type(const jp_expr_t *e)
{
    return e->type;
}

const char *jp_expr_unit(const jp_expr_t *e)
{
    return e->unit;
}

const char *jp_expr_unit_field(const jp_expr_t *e)
{
    return e->unit_field;
}

size_t jp_expr_inputs(const jp_expr_t *e, const size_t **idx)
{
    if (idx) *idx = e->inputs;
    return e->n_inputs;
}

const char *jp_expr_source(const jp_expr_t *e)
{
    return e->src;
}

/* ---- evaluation: drivers -------------------------------------------------- */

/* Every column program p loads is there, nrows long, of the compiled type. */
static jp_status_t check_loads(const jp_expr_t *p, const char *src, jp_column_t *const *cols,
                               size_t nrows, jp_error_t *err)
{
    for (size_t pc = 0; pc < p->n_code; pc++) {
        const ins_t *in = &p->code[pc];
        if (in->op != OP_LOAD) continue;
        const jp_column_t *c = cols[in->field];
        if (!c || c->len != nrows)
            return jp_error_set(err, JP_ERR_INTERNAL, "expression \"%s\": input column missing",
                                src);
        if (c->type != p->regs[in->dst].type)
            return jp_error_set(err, JP_ERR_TYPE,
                                "expression \"%s\" was compiled for another schema", src);
    }
    return JP_OK;
}

/* The value of program p for every row: a new column. */
static jp_column_t *run_program(const jp_expr_t *p, jp_column_t *const *cols, size_t nrows,
                                jp_error_t *err)
{
    /* a plain field: share its column */
    if (p->n_code == 1 && p->code[0].op == OP_LOAD) return jp_column_ref(cols[p->code[0].field]);
    const reg_info_t *ri = &p->regs[p->result];
    jp_column_t *out;
    ectx_t x;
    if (jpx_ectx_init(&x, p, cols)) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ri->type == JP_TYPE_STRING) {
        /* the result's dictionary is known once the first batch ran; build later */
        out = NULL;
    } else
        out = jp_column_new(ri->type, nrows);
    uint32_t *codes = NULL;
    uint8_t *nulls = NULL, *quals = NULL;
    const jp_strdict_t *rdict = NULL;
    size_t w = jp_type_width(ri->type);
    if (ri->type == JP_TYPE_STRING) {
        codes = jp_malloc_array(nrows ? nrows : 1, sizeof *codes);
        if (!codes) goto nomem;
    } else if (!out)
        goto nomem;
    for (size_t start = 0; start < nrows; start += BATCH) {
        size_t n = nrows - start < BATCH ? nrows - start : BATCH;
        if (jp_stop_due(start)) goto nomem; /* reported as the stop below */
        jp_status_t st = jpx_run_batch(&x, start, n);
        if (st) goto nomem;
        vreg_t *r = &x.r[p->result];
        if (ri->type == JP_TYPE_STRING) {
            rdict = r->dict;
            memcpy(codes + start, r->v, n * sizeof *codes);
        } else
            memcpy((char *)out->v.raw + start * w, r->v, n * w);
        if (r->nul) {
            if (!nulls && !(nulls = jp_calloc(nrows, 1))) goto nomem;
            memcpy(nulls + start, r->nul, n);
        }
        if (r->qual) {
            if (!quals && !(quals = jp_calloc(nrows, 1))) goto nomem;
            memcpy(quals + start, r->qual, n);
        }
    }
    if (ri->type == JP_TYPE_STRING) {
        if (!rdict || ri->is_const) {
            /* a constant (or no rows): a private copy of its dictionary */
            jp_strdict_t *nd = jp_strdict_new(2);
            uint32_t code = 0;
            if (!nd) goto nomem;
            if (ri->cdict && ri->cdict->count) {
                size_t len;
                const char *str = jp_strdict_get(ri->cdict, 0, &len);
                if (jp_strdict_intern(nd, str, len, &code)) {
                    jp_strdict_unref(nd);
                    goto nomem;
                }
            }
            out = jp_column_new_with_dict(nd, nrows);
            jp_strdict_unref(nd);
        } else
            out = jp_column_new_with_dict((jp_strdict_t *)rdict, nrows);
        if (!out) goto nomem;
        if (nrows) memcpy(out->v.s, codes, nrows * sizeof *codes);
        jp_free(codes);
        codes = NULL;
    }
    jp_column_set_len(out, nrows);
    if (nulls) {
        if (jp_column_alloc_nulls(out)) goto nomem;
        memcpy(out->nulls, nulls, nrows);
        for (size_t k = 0; k < nrows; k++)
            if (nulls[k] && quals) quals[k] = 0;
    }
    if (quals) {
        if (jp_column_alloc_quals(out)) goto nomem;
        memcpy(out->quals, quals, nrows);
    }
    jp_free(nulls);
    jp_free(quals);
    jpx_ectx_free(&x);
    return out;
nomem:
    jp_free(codes);
    jp_free(nulls);
    jp_free(quals);
    jp_column_unref(out);
    jpx_ectx_free(&x);
    if (!jp_stop_check(err)) jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    return NULL;
}

/* The rows where program p is true (null counts as false). */
static jp_status_t run_select(const jp_expr_t *p, jp_column_t *const *cols, size_t nrows,
                              size_t **rows, size_t *nsel, jp_error_t *err)
{
    size_t *out = jp_malloc_array(nrows ? nrows : 1, sizeof *out);
    ectx_t x;
    if (!out || jpx_ectx_init(&x, p, cols)) {
        jp_free(out);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t start = 0; start < nrows; start += BATCH) {
        size_t n = nrows - start < BATCH ? nrows - start : BATCH;
        if (jp_stop_due(start) || jpx_run_batch(&x, start, n)) {
            jp_free(out);
            jpx_ectx_free(&x);
            jp_status_t st = jp_stop_check(err);
            return st ? st : jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        vreg_t *r = &x.r[p->result];
        const uint8_t *v = r->v, *nl = r->nul;
        /* branch-free append: write always, advance when selected */
        if (nl)
            for (size_t k = 0; k < n; k++) {
                out[m] = start + k;
                m += (size_t)(v[k] & !nl[k]);
            }
        else
            for (size_t k = 0; k < n; k++) {
                out[m] = start + k;
                m += (size_t)(v[k] != 0);
            }
    }
    jpx_ectx_free(&x);
    if (m < nrows) {
        size_t *shr = jp_realloc_array(out, m ? m : 1, sizeof *out);
        if (shr) out = shr;
    }
    *rows = out;
    *nsel = m;
    return JP_OK;
}

/* A stage's argument column (NULL without an argument program). */
static jp_status_t stage_arg(const jp_expr_t *e, const jp_expr_t *p, jp_column_t *const *cols,
                             size_t nrows, jp_column_t **out, jp_error_t *err)
{
    *out = NULL;
    if (!p) return JP_OK;
    if (check_loads(p, e->src, cols, nrows, err)) return err ? err->code : JP_ERR_INTERNAL;
    *out = run_program(p, cols, nrows, err);
    return *out ? JP_OK : (err ? err->code : JP_ERR_NOMEM);
}

/*
 * The columns the program reads: the inputs, then one per stage (window and
 * aggregate calls), each computed from the ones before.  A new array; its
 * stage columns hold a reference each (free_inputs).
 */
static jp_column_t **run_stages(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                const jp_expr_groups_t *g, jp_error_t *err)
{
    size_t nf = e->n_fields;
    jp_column_t **ext = jp_calloc(nf + e->n_stages, sizeof *ext);
    if (!ext) {
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(ext, cols, nf * sizeof *ext);
    jpx_part_t part;
    jpx_part_init(&part, g, nrows);
    jp_status_t st = JP_OK;
    for (size_t k = 0; k < e->n_stages && !st; k++) {
        const stage_t *sg = &e->stages[k];
        jp_column_t *x = NULL, *dflt = NULL;
        st = stage_arg(e, sg->arg, ext, nrows, &x, err);
        if (!st) st = stage_arg(e, sg->dflt, ext, nrows, &dflt, err);
        if (!st) {
            ext[nf + k] = jpx_window(sg, x, dflt, &part, err);
            if (!ext[nf + k]) st = err ? err->code : JP_ERR_NOMEM;
        }
        jp_column_unref(x);
        jp_column_unref(dflt);
    }
    jpx_part_free(&part);
    if (st) {
        for (size_t k = 0; k < e->n_stages; k++) jp_column_unref(ext[nf + k]);
        jp_free(ext);
        return NULL;
    }
    return ext;
}

static void free_inputs(const jp_expr_t *e, jp_column_t **ext)
{
    if (!ext) return;
    for (size_t k = 0; k < e->n_stages; k++) jp_column_unref(ext[e->n_fields + k]);
    jp_free(ext);
}

/* The expression is compiled and its inputs are there. */
static jp_status_t ready(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                         jp_error_t *err)
{
    if (!e->bound)
        return jp_error_set(err, JP_ERR_INTERNAL, "expression \"%s\" is not compiled", e->src);
    for (size_t k = 0; k < e->n_inputs; k++) {
        const jp_column_t *c = cols[e->inputs[k]];
        if (!c || c->len != nrows)
            return jp_error_set(err, JP_ERR_INTERNAL, "expression \"%s\": input column missing",
                                e->src);
    }
    return JP_OK;
}

jp_column_t *jp_expr_eval_groups(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                 const jp_expr_groups_t *g, jp_error_t *err)
{
    if (ready(e, cols, nrows, err)) return NULL;
    jp_column_t **ext = NULL;
    if (e->n_stages && !(ext = run_stages(e, cols, nrows, g, err))) return NULL;
    jp_column_t *const *in = ext ? ext : cols;
    jp_column_t *out = NULL;
    if (!check_loads(e, e->src, in, nrows, err)) out = run_program(e, in, nrows, err);
    free_inputs(e, ext);
    return out;
}

jp_column_t *jp_expr_eval_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                               jp_error_t *err)
{
    return jp_expr_eval_groups(e, cols, nrows, NULL, err);
}

jp_status_t jp_expr_select_groups(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                  const jp_expr_groups_t *g, size_t **rows, size_t *nsel,
                                  jp_error_t *err)
{
    *rows = NULL;
    *nsel = 0;
    if (ready(e, cols, nrows, err)) return err ? err->code : JP_ERR_INTERNAL;
    if (e->type != JP_TYPE_BOOL)
        return jp_error_set(err, JP_ERR_EXPR, "\"%s\" is a %s expression, not a condition", e->src,
                            jp_type_name(e->type));
    jp_column_t **ext = NULL;
    if (e->n_stages && !(ext = run_stages(e, cols, nrows, g, err)))
        return err ? err->code : JP_ERR_NOMEM;
    jp_column_t *const *in = ext ? ext : cols;
    jp_status_t st = check_loads(e, e->src, in, nrows, err);
    if (!st) st = run_select(e, in, nrows, rows, nsel, err);
    free_inputs(e, ext);
    return st;
}

jp_status_t jp_expr_select_cols(const jp_expr_t *e, jp_column_t *const *cols, size_t nrows,
                                size_t **rows, size_t *nsel, jp_error_t *err)
{
    return jp_expr_select_groups(e, cols, nrows, NULL, rows, nsel, err);
}

/* Load (for lazy datasets) the columns the expression reads. */
static jp_status_t need_inputs(const jp_expr_t *e, jp_dataset_t *ds, jp_error_t *err)
{
    jp_status_t st = jp_dataset_need(ds, e->inputs, e->n_inputs, err);
    if (st) return st;
    if (!e->n_inputs) return jp_dataset_need_rows(ds, err);
    return JP_OK;
}

jp_column_t *jp_expr_eval(const jp_expr_t *e, jp_dataset_t *ds, jp_error_t *err)
{
    if (need_inputs(e, ds, err)) return NULL;
    return jp_expr_eval_cols(e, ds->cols, ds->nrows, err);
}

jp_status_t jp_expr_select(const jp_expr_t *e, jp_dataset_t *ds, size_t **rows, size_t *n,
                           jp_error_t *err)
{
    *rows = NULL;
    *n = 0;
    jp_status_t st = need_inputs(e, ds, err);
    if (st) return st;
    return jp_expr_select_cols(e, ds->cols, ds->nrows, rows, n, err);
}
