/*
 * jp_validate_expr.c - row rules written as expressions ("value <= 100"),
 * and the `where` subsets every rule may carry, both through jp_expr.h.
 *
 * Owns how an expression's result becomes issues: true passes, false
 * fails, null (an input was null) does not apply.  A rule whose expression
 * does not compile, or is not a condition, is broken, not failed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "jp_expr.h"
#include "jp_mem.h"
#include "jp_validate.h"
#include "jp_validate_int.h"

/* Compile src as a condition over r's dataset; on a compile error mark the
 * rule broken (prefixing `what`) and return NULL with *broken set. */
static jp_expr_t *compile_cond(jp_report_t *r, uint32_t id, const char *src, const char *what,
                               bool *broken, jp_status_t *st)
{
    jp_error_t e;
    jp_error_clear(&e);
    *st = JP_OK;
    jp_expr_t *x = jp_expr_compile(src, &r->ds->schema, &e);
    if (!x) {
        if (e.code == JP_ERR_NOMEM) {
            *st = JP_ERR_NOMEM;
            return NULL;
        }
        *broken = true;
        char pos[64] = "";
        if (e.col) snprintf(pos, sizeof pos, " at column %ld", e.col);
        *st = jpv_broken(r, id, "%s`%s` does not compile%s: %s", what, src, pos,
                         e.msg[0] ? e.msg : jp_status_name(e.code));
        return NULL;
    }
    /* over one batch of a stream, an aggregate or window would see the
     * batch, not the file: the whole-file way must be taken */
    if (r->carry && jp_expr_is_window(x)) r->carry->refused = true;
    if (jp_expr_type(x) != JP_TYPE_BOOL) {
        *broken = true;
        *st = jpv_broken(r, id, "%s`%s` is not a condition (it gives a %s, not true or false)",
                         what, src, jp_type_name(jp_expr_type(x)));
        jp_expr_free(x);
        return NULL;
    }
    return x;
}

/* Evaluate a compiled condition; an evaluation error marks the rule broken. */
static jp_column_t *eval_cond(jp_report_t *r, uint32_t id, jp_expr_t *x, const char *what,
                              bool *broken, jp_status_t *st)
{
    jp_error_t e;
    jp_error_clear(&e);
    *st = JP_OK;
    jp_column_t *col = jp_expr_eval(x, r->ds, &e);
    if (!col) {
        if (e.code == JP_ERR_NOMEM) {
            *st = JP_ERR_NOMEM;
            return NULL;
        }
        *broken = true;
        *st = jpv_broken(r, id, "%s`%s` cannot be evaluated: %s", what, jp_expr_source(x),
                         e.msg[0] ? e.msg : jp_status_name(e.code));
        return NULL;
    }
    if (col->type != JP_TYPE_BOOL || col->len != r->ds->nrows) {
        *broken = true;
        *st =
            jpv_broken(r, id, "%s`%s` did not give one condition per row", what, jp_expr_source(x));
        jp_column_unref(col);
        return NULL;
    }
    return col;
}

jp_status_t jpv_where(jp_report_t *r, uint32_t id, const char *where, uint8_t **mask, bool *broken,
                      jp_error_t *err)
{
    *mask = NULL;
    *broken = false;
    if (!where || !where[0]) return JP_OK;
    jp_status_t st;
    jp_expr_t *x = compile_cond(r, id, where, "where: ", broken, &st);
    if (!x) return st == JP_OK ? JP_OK : jp_error_set(err, st, "out of memory");
    jp_column_t *col = eval_cond(r, id, x, "where: ", broken, &st);
    jp_expr_free(x);
    if (!col) return st == JP_OK ? JP_OK : jp_error_set(err, st, "out of memory");
    uint8_t *m = jp_malloc(r->ds->nrows ? r->ds->nrows : 1);
    if (!m) {
        jp_column_unref(col);
        return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->ds->nrows; i++) m[i] = !jp_column_is_null(col, i) && col->v.b[i];
    jp_column_unref(col);
    *mask = m;
    return JP_OK;
}

/* Does the expression deal with nulls itself?  Then it sees every row. */
static bool handles_nulls(const char *src)
{
    for (const char *p = src; (p = strstr(p, "nil")) != NULL; p += 3) {
        bool start = p == src || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool end = !(isalnum((unsigned char)p[3]) || p[3] == '_');
        if (start && end) return true;
    }
    return strstr(src, "coalesce") != NULL;
}

jp_status_t jp_validate_expr(jp_report_t *r, const char *src, const jp_rule_opts_t *o,
                             jp_error_t *err)
{
    uint32_t id;
    jp_status_t st = jpv_rule(r, "expression", NULL, src, src, o, &id);
    if (st != JP_OK) return jp_error_set(err, st, "out of memory or report finished");
    bool broken = false;
    jp_expr_t *x = compile_cond(r, id, src, "", &broken, &st);
    if (!x) return st == JP_OK ? JP_OK : jp_error_set(err, st, "out of memory");
    const size_t *in;
    size_t nin = jp_expr_inputs(x, &in);
    long cols[16];
    size_t ncols = 0;
    for (size_t k = 0; k < nin && ncols < 16; k++) cols[ncols++] = (long)in[k];
    /* A comparison with a null is false in expressions; a rule, though,
     * does not apply to a row that lacks a value it compares (`required`
     * is the check for missing values), unless it handles nulls itself. */
    const jp_column_t *nullable[16];
    size_t nnull = 0;
    if (!handles_nulls(src))
        for (size_t k = 0; k < ncols; k++)
            if (r->ds->cols[cols[k]]->nulls) nullable[nnull++] = r->ds->cols[cols[k]];
    jp_rule_info_t *ri = &r->rules[id];
    if (ncols) {
        ri->cols = jp_malloc_array(ncols, sizeof *ri->cols);
        if (!ri->cols) {
            jp_expr_free(x);
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        }
        memcpy(ri->cols, cols, ncols * sizeof *cols);
        ri->n_cols = ncols;
    }
    jp_column_t *col = eval_cond(r, id, x, "", &broken, &st);
    jp_expr_free(x);
    if (!col) return st == JP_OK ? JP_OK : jp_error_set(err, st, "out of memory");
    uint8_t *mask = NULL;
    st = jpv_where(r, id, o ? o->where : NULL, &mask, &broken, err);
    if (st != JP_OK || broken) {
        jp_column_unref(col);
        return st;
    }
    /* an expression over one field points at that field's cells */
    long field = ncols == 1 ? cols[0] : -1;
    size_t checked = 0;
    for (size_t i = 0; i < r->ds->nrows && st == JP_OK; i++) {
        if (!jpv_applies(mask, i) || jp_column_is_null(col, i)) continue;
        bool skip = false;
        for (size_t k = 0; k < nnull && !skip; k++) skip = nullable[k]->nulls[i];
        if (skip) continue;
        checked++;
        if (!col->v.b[i]) st = jpv_issue(r, id, i, field, JP_VC_EXPR, false, JP_NO_ROW, 0);
    }
    jp_free(mask);
    jp_column_unref(col);
    jp_report_checked(r, id, checked);
    return st == JP_OK ? JP_OK : jp_error_set(err, st, "out of memory");
}
