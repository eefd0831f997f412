/*
 * fuzz_expr.c - the expression compiler and evaluator (src/core/jp_expr*.c)
 * on any source text, against a fixed schema of every type.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour, no deep
 * recursion":
 *  - a refusal is JP_ERR_EXPR (or out of memory) with a message and a
 *    column inside the text (or just after it);
 *  - what compiles against typed fields also parses names-only against the
 *    same names without types (jp_expr_parse), reading the same fields;
 *  - it evaluates to a column of the compiled type, one value per row;
 *  - the value of a row depends on that row only: over 2,100 rows that
 *    repeat the 5 sample rows (so batches of 1024 and every slot reuse are
 *    crossed), row r equals row r mod 5 of the small evaluation;
 *  - with aggregates or window functions (where a row's value depends on
 *    others), one group given as group numbers equals no groups, and in a
 *    group of its own a row's value is the expression's over that row
 *    alone (a one-row dataset);
 *  - a condition selects exactly the rows where its column is true.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "jp_dataset.h"
#include "jp_expr.h"
#include "jp_mem.h"

#define BIG 2100

/* n rows: row r is sample row (first + r) % 5 */
static jp_dataset_t *sample(size_t first, size_t n)
{
    static const double xv[] = {1.5, -2.0, 0, 10.0, 0.0};
    static const int64_t iv[] = {3, -7, 0, 10, 5};
    static const char *const sv[] = {"cherry", "Apple", "樱桃", "pear", ""};
    static const char *const tv[] = {"a", NULL, "b", "a", NULL};
    static const char *const pv[] = {"2021", "2022-01..2022-08", NULL, "..2020", "2021-07-15"};
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *x = jp_column_new(JP_TYPE_NUMBER, n), *i = jp_column_new(JP_TYPE_INT, n),
                *s = jp_column_new(JP_TYPE_STRING, n), *b = jp_column_new(JP_TYPE_BOOL, n),
                *d = jp_column_new(JP_TYPE_DATE, n), *t = jp_column_new(JP_TYPE_STRING, n),
                *p = jp_column_new(JP_TYPE_PERIOD, n);
    for (size_t r = 0; r < n; r++) {
        size_t k = (first + r) % 5;
        if (k == 2)
            jp_column_push_null(x);
        else
            jp_column_push_number(x, xv[k], k == 1 ? JP_Q_MORE_THAN : k == 3 ? JP_Q_APPROX : 0);
        jp_column_push_int(i, iv[k], k == 4 ? JP_Q_AT_LEAST : JP_Q_EXACT);
        jp_column_push_str(s, sv[k], strlen(sv[k]));
        if (k == 2)
            jp_column_push_null(b);
        else
            jp_column_push_bool(b, k % 2 == 0);
        if (k == 3)
            jp_column_push_null(d);
        else
            jp_column_push_date(d, jp_date_from_ymd(2020 + (int)k, 1 + (int)k, 28));
        if (tv[k])
            jp_column_push_str(t, tv[k], 1);
        else
            jp_column_push_null(t);
        jp_period_t per;
        jp_error_t perr;
        if (pv[k] && jp_period_parse(pv[k], strlen(pv[k]), &per, &perr))
            jp_column_push_period(p, &per);
        else
            jp_column_push_null(p);
    }
    jp_dataset_add(ds, "x", x, "t", NULL);
    jp_dataset_add(ds, "i", i, "mu", NULL);
    jp_dataset_add(ds, "s", s, NULL, NULL);
    jp_dataset_add(ds, "b", b, NULL, NULL);
    jp_dataset_add(ds, "d", d, NULL, NULL);
    jp_dataset_add(ds, "t", t, NULL, NULL);
    jp_dataset_add(ds, "p", p, NULL, NULL);
    return ds;
}

static jp_dataset_t *SMALL, *LARGE, *ROW[5];
static uint32_t ZEROS[5], EACH[5] = {0, 1, 2, 3, 4}, TWINS[BIG]; /* groups of the rows */
static jp_schema_t NAMES = JP_SCHEMA_INIT;                       /* the same names, no types */

static void setup(void)
{
    if (SMALL) return;
    SMALL = sample(0, 5);
    LARGE = sample(0, BIG);
    for (size_t r = 0; r < 5; r++) ROW[r] = sample(r, 1);
    for (size_t r = 0; r < BIG; r++) TWINS[r] = (uint32_t)(r % 5);
    for (size_t k = 0; k < SMALL->schema.n_fields; k++) {
        jp_field_t f;
        jp_field_init(&f);
        f.name = SMALL->schema.fields[k].name;
        jp_schema_add(&NAMES, &f, NULL);
    }
}

static bool same_cell(const jp_column_t *a, size_t i, const jp_column_t *b, size_t j)
{
    bool na = jp_column_is_null(a, i), nb = jp_column_is_null(b, j);
    if (na || nb) return na == nb;
    if (jp_column_qual(a, i) != jp_column_qual(b, j)) return false;
    if (a->type == JP_TYPE_STRING) {
        size_t la, lb;
        const char *sa = jp_column_str(a, i, &la), *sb = jp_column_str(b, j, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    if (a->type == JP_TYPE_NUMBER) {
        double x = a->v.d[i], y = b->v.d[j];
        return x == y || (x != x && y != y);
    }
    size_t w = jp_type_width(a->type);
    return memcmp((const char *)a->v.raw + i * w, (const char *)b->v.raw + j * w, w) == 0;
}

static void check_select(const jp_expr_t *e, jp_dataset_t *ds, const jp_column_t *c)
{
    size_t *rows = NULL, n = 0;
    jp_error_t err;
    jp_status_t st = jp_expr_select(e, ds, &rows, &n, &err);
    if (st) {
        FUZZ_ASSERT(st == JP_ERR_NOMEM, "select failed: %s", err.msg);
        return;
    }
    size_t k = 0;
    for (size_t r = 0; r < ds->nrows; r++) {
        bool on = !jp_column_is_null(c, r) && c->v.b[r];
        if (on) {
            FUZZ_ASSERT(k < n && rows[k] == r, "row %zu is true but not selected", r);
            k++;
        }
    }
    FUZZ_ASSERT(k == n, "%zu rows selected, %zu true", n, k);
    jp_free(rows);
}

/* A row-wise expression: each of the large dataset's rows equals its twin. */
static void check_twins(const jp_expr_t *e, const jp_column_t *small)
{
    jp_error_t err;
    jp_column_t *large = jp_expr_eval(e, LARGE, &err);
    if (!large) {
        FUZZ_ASSERT(err.code == JP_ERR_NOMEM, "large evaluation failed: %s", err.msg);
        return;
    }
    FUZZ_ASSERT(large->len == LARGE->nrows, "%zu values", large->len);
    for (size_t r = 0; r < large->len; r++)
        FUZZ_ASSERT(same_cell(large, r, small, r % 5), "row %zu differs from row %zu", r, r % 5);
    if (jp_expr_type(e) == JP_TYPE_BOOL) check_select(e, LARGE, large);
    jp_column_unref(large);
}

/* Aggregates and windows: one group given as numbers is no groups; a group
 * per row is each row alone (a one-row dataset); over the large dataset in
 * groups of twins, batches and stages are crossed. */
static void check_groups(const jp_expr_t *e, const jp_column_t *small)
{
    jp_error_t err;
    jp_expr_groups_t one = {ZEROS, 1}, each = {EACH, 5};
    jp_column_t *g1 = jp_expr_eval_groups(e, SMALL->cols, SMALL->nrows, &one, &err);
    FUZZ_ASSERT(g1 || err.code == JP_ERR_NOMEM, "evaluation in one group failed: %s", err.msg);
    for (size_t r = 0; g1 && r < SMALL->nrows; r++)
        FUZZ_ASSERT(same_cell(g1, r, small, r), "row %zu: one group differs from no groups", r);
    jp_column_unref(g1);
    jp_column_t *ge = jp_expr_eval_groups(e, SMALL->cols, SMALL->nrows, &each, &err);
    FUZZ_ASSERT(ge || err.code == JP_ERR_NOMEM || err.code == JP_ERR_RANGE,
                "evaluation in groups of one failed: %s", err.msg);
    for (size_t r = 0; ge && r < SMALL->nrows; r++) {
        jp_column_t *alone = jp_expr_eval(e, ROW[r], &err);
        FUZZ_ASSERT(alone || err.code == JP_ERR_NOMEM || err.code == JP_ERR_RANGE,
                    "evaluation of row %zu alone failed: %s", r, err.msg);
        if (alone)
            FUZZ_ASSERT(same_cell(ge, r, alone, 0), "row %zu in a group of its own differs", r);
        jp_column_unref(alone);
    }
    jp_column_unref(ge);
    jp_expr_groups_t twins = {TWINS, 5};
    jp_column_t *gl = jp_expr_eval_groups(e, LARGE->cols, LARGE->nrows, &twins, &err);
    FUZZ_ASSERT(gl || err.code == JP_ERR_NOMEM || err.code == JP_ERR_RANGE,
                "grouped evaluation failed: %s", err.msg);
    FUZZ_ASSERT(!gl || gl->len == LARGE->nrows, "%zu values", gl ? gl->len : 0);
    jp_column_unref(gl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    size_t len = strlen(src); /* the source stops at a NUL byte */
    jp_error_t err;
    jp_error_clear(&err);
    jp_expr_t *e = jp_expr_compile(src, &SMALL->schema, &err);
    if (!e) {
        FUZZ_ASSERT(err.code == JP_ERR_EXPR || err.code == JP_ERR_NOMEM, "code %d: %s",
                    (int)err.code, err.msg);
        FUZZ_ASSERT(err.msg[0], "refused without a message");
        if (err.code == JP_ERR_EXPR)
            FUZZ_ASSERT(err.col >= 1 && err.col <= (long)len + 1, "column %ld of %zu: %s", err.col,
                        len, err.msg);
        free(src);
        return 0;
    }
    jp_expr_t *p = jp_expr_parse(src, &NAMES, &err);
    FUZZ_ASSERT(p != NULL, "compiles typed but not names-only: %s", err.msg);
    const size_t *ia, *ib;
    size_t na = jp_expr_inputs(e, &ia), nb = jp_expr_inputs(p, &ib);
    FUZZ_ASSERT(na == nb && (na == 0 || memcmp(ia, ib, na * sizeof *ia) == 0),
                "the inputs differ: %zu and %zu", na, nb);
    jp_expr_free(p);

    jp_column_t *small = jp_expr_eval(e, SMALL, &err);
    if (small) {
        FUZZ_ASSERT(small->len == SMALL->nrows, "%zu values", small->len);
        FUZZ_ASSERT(small->type == jp_expr_type(e), "type %d, compiled %d", (int)small->type,
                    (int)jp_expr_type(e));
        if (jp_expr_is_window(e))
            check_groups(e, small);
        else
            check_twins(e, small);
        jp_column_unref(small);
    } else /* an integer cumsum may overflow: an error, as an integer sum's */
        FUZZ_ASSERT(err.code == JP_ERR_NOMEM || (jp_expr_is_window(e) && err.code == JP_ERR_RANGE),
                    "evaluation failed: %s", err.msg);
    jp_expr_free(e);
    free(src);
    return 0;
}
