/*
 * xlsx.c - the xlsx plugin: datasets as Excel workbooks, written with
 * libxlsxwriter.  ds:write("x.xlsx") writes one sheet, jinpu export -o
 * report.xlsx one sheet per dataset.  Numbers stay numbers; a unit goes in
 * the header ("area (万亩)", converted when the caller asks for a display
 * unit); a qualified figure keeps its number and shows its qualifier through
 * its number format (">140000" is the number 140000 shown with ">"), and the
 * field gets a qualifier column beside it so that filters and formulas see
 * it too; the header row is frozen and filterable; column widths count a
 * Chinese character as two.
 *
 * Streams: libxlsxwriter's constant_memory mode keeps one row in memory and
 * the sheets in temporary files, and this file reads the dataset a block of
 * rows at a time.  Never writes the target path itself: the workbook goes to
 * a temporary file that output_commit renames (nothing half-written).  Owns
 * nothing beyond a call.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>
#include "jinpu.h"

JINPU_PLUGIN_API;

static const jinpu_api_t *J;

enum {
    MAX_ROWS = 1048576, /* Excel's limits, header row included */
    MAX_COLS = 16384,
    MAX_CELL = 32767, /* characters in one cell */
    BLOCK = 1024,     /* rows read from the dataset at a time */
    MIN_WIDTH = 6,
    MAX_WIDTH = 60,
    N_QUALS = 6
};

static const char *const QUAL_NAME[N_QUALS] = {"",          "approx",  "at_least",
                                               "more_than", "at_most", "less_than"};
static const char *const QUAL_SYM[N_QUALS] = {"", "~", ">=", ">", "<=", "<"};
/* number formats: the value itself, shown with jinpu's qualifier symbol */
static const char *const QUAL_FORMAT[N_QUALS] = {"General",      "\"~\"General",  "\">=\"General",
                                                 "\">\"General", "\"<=\"General", "\"<\"General"};

typedef struct book {
    lxw_workbook *wb;
    lxw_format *header, *date, *qual[N_QUALS];
    const char *units;  /* option: "field=unit,..." or NULL */
    int titles;         /* option headers = "title" */
    int units_used;     /* how many of `units` some dataset had */
    char **sheet_names; /* given so far, for uniqueness */
    size_t n_sheets;
    char *scratch; /* a string cell made NUL-terminated */
    size_t scratch_cap;
} book_t;

/* One column of the sheet: a field's values, or its qualifiers. */
typedef struct col {
    size_t f;
    int type;
    int is_qual;
    int convert;          /* numbers: converted to a display unit */
    char unit[96];        /* the display unit, or "" */
    double *vals;         /* numeric fields: a block of values */
    unsigned char *nulls; /* and their null flags and qualifiers */
    unsigned char *quals;
    double max_abs; /* for the width of numbers */
    int fraction;   /* a number with a fractional part was seen */
    size_t width;   /* display columns */
} col_t;

/* ---- the compression level -------------------------------------------------------- */

/*
 * libxlsxwriter 1.1 deflates every part of the workbook at zlib's default
 * level (6) and has no option for it; for a large sheet that is half of the
 * write, for a file a few percent smaller than level 1 makes.  Where
 * libxlsxwriter takes its zip writer from the shared libminizip (Debian's
 * build), this definition comes first in its symbol lookup (this library is
 * loaded before its dependencies, RTLD_LOCAL keeps it from everything else)
 * and forwards to libminizip's at XLSX_LEVEL.  Where the zip writer is built
 * into libxlsxwriter, this is never called and level 6 stays.  The prototype
 * is minizip's, with its typedefs spelt out (zipFile is a pointer, uInt and
 * uLong are unsigned int and unsigned long).
 */
enum { XLSX_LEVEL = 1 };

typedef int (*zip_open_fn)(void *, const char *, const void *, const void *, unsigned, const void *,
                           unsigned, const char *, int, int, int, int, int, int, const char *,
                           unsigned long, unsigned long, unsigned long, int);

int zipOpenNewFileInZip4_64(void *file, const char *name, const void *info, const void *extra_local,
                            unsigned extra_local_size, const void *extra_global,
                            unsigned extra_global_size, const char *comment, int method, int level,
                            int raw, int window_bits, int mem_level, int strategy,
                            const char *password, unsigned long crc, unsigned long made_by,
                            unsigned long flags, int zip64);

int zipOpenNewFileInZip4_64(void *file, const char *name, const void *info, const void *extra_local,
                            unsigned extra_local_size, const void *extra_global,
                            unsigned extra_global_size, const char *comment, int method, int level,
                            int raw, int window_bits, int mem_level, int strategy,
                            const char *password, unsigned long crc, unsigned long made_by,
                            unsigned long flags, int zip64)
{
    static zip_open_fn next;
    if (!next) *(void **)&next = dlsym(RTLD_NEXT, "zipOpenNewFileInZip4_64");
    if (!next) return -104; /* ZIP_INTERNALERROR: cannot happen while libminizip is loaded */
    if (method == 8 /* Z_DEFLATED */ && !raw) level = XLSX_LEVEL;
    return next(file, name, info, extra_local, extra_local_size, extra_global, extra_global_size,
                comment, method, level, raw, window_bits, mem_level, strategy, password, crc,
                made_by, flags, zip64);
}

/* ---- text measures ------------------------------------------------------------------- */

/* Display columns of UTF-8 text: East Asian wide characters count two. */
static size_t text_width(const char *s, size_t n, size_t *chars)
{
    size_t w = 0, c = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        unsigned cp;
        size_t k;
        if (b < 0x80)
            cp = b, k = 1;
        else if ((b & 0xE0) == 0xC0)
            cp = b & 0x1Fu, k = 2;
        else if ((b & 0xF0) == 0xE0)
            cp = b & 0x0Fu, k = 3;
        else
            cp = b & 0x07u, k = 4;
        if (i + k > n) k = n - i;
        for (size_t j = 1; j < k; j++) cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3Fu);
        i += k;
        c++;
        int wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                   (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                   (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                   (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
        w += wide ? 2 : 1;
    }
    if (chars) *chars = c;
    return w;
}

static void widen(col_t *c, size_t w)
{
    if (w > c->width) c->width = w;
}

/* ---- options ------------------------------------------------------------------------- */

static int check_options(const jinpu_options_t *o, int is_export, jinpu_error_t *err)
{
    for (size_t i = 0; J->opt_key(o, i); i++) {
        const char *k = J->opt_key(o, i);
        if (strcmp(k, "units") && strcmp(k, "headers") && strcmp(k, "format") &&
            (is_export || strcmp(k, "sheet")))
            return J->error(err, JINPU_E_ARG,
                            "xlsx: unknown option '%s' (the options are units, headers%s)", k,
                            is_export ? "" : ", sheet");
    }
    const char *h = J->opt_string(o, "headers");
    if (h && strcmp(h, "name") && strcmp(h, "title"))
        return J->error(err, JINPU_E_ARG, "xlsx: option headers must be \"name\" or \"title\"");
    return JINPU_OK;
}

/* The display unit the `units` option gives field `name` ("value=万元,area=
 * 万亩"), copied to out; 0 when none, -1 when the option is malformed. */
static int display_unit(const char *units, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = units; p && *p;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq == p || eq + 1 == end) return -1;
        if ((size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            size_t n = (size_t)(end - eq - 1);
            if (n >= size) return -1;
            memcpy(out, eq + 1, n);
            out[n] = '\0';
            return 1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* ---- one sheet ----------------------------------------------------------------------- */

/* A sheet name Excel takes: at most 31 characters, none of []:*?/\, not
 * starting or ending with an apostrophe, unique regardless of case. */
static int sheet_name(book_t *bk, const char *want, char *out, size_t size, jinpu_error_t *err)
{
    char base[128];
    size_t n = 0, chars = 0;
    for (const char *s = want && *want ? want : "data"; *s && chars < 31;) {
        unsigned char b = (unsigned char)*s;
        size_t k = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        if (strnlen(s, k) < k || n + k >= sizeof base) break; /* a cut sequence */
        if (k == 1 && strchr("[]:*?/\\", *s))
            base[n++] = '_';
        else
            memcpy(base + n, s, k), n += k;
        chars++;
        s += k;
    }
    base[n] = '\0';
    if (base[0] == '\'') base[0] = '_';
    if (n && base[n - 1] == '\'') base[n - 1] = '_';
    snprintf(out, size, "%s", base);
    for (int i = 2;; i++) {
        int taken = 0;
        for (size_t s = 0; s < bk->n_sheets; s++) taken |= strcasecmp(bk->sheet_names[s], out) == 0;
        if (!taken) break;
        /* "name~2": the base shortened so that the suffix fits in 31 characters */
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, "~%d", i);
        size_t keep = 0, c = 0;
        while (base[keep] && c < (size_t)(31 - sl)) {
            keep++;
            while (((unsigned char)base[keep] & 0xC0) == 0x80) keep++;
            c++;
        }
        snprintf(out, size, "%.*s%s", (int)keep, base, suffix);
    }
    char **v = realloc(bk->sheet_names, (bk->n_sheets + 1) * sizeof *v);
    if (!v) return J->error(err, JINPU_E_NOMEM, "out of memory");
    bk->sheet_names = v;
    if (!(v[bk->n_sheets] = strdup(out))) return J->error(err, JINPU_E_NOMEM, "out of memory");
    bk->n_sheets++;
    return JINPU_OK;
}

static int lxw_fail(jinpu_error_t *err, lxw_error e, size_t row, const char *field)
{
    J->error(err, JINPU_E_IO, "xlsx: %s", lxw_strerror(e));
    J->error_at(err, NULL, 0, (long)row, field);
    return JINPU_E_IO;
}

/* Decide the sheet's columns: every field, and after a number field that
 * holds qualified figures, its qualifier column.  Sets the display units. */
static int plan_columns(book_t *bk, jinpu_dataset_t *ds, col_t **out, size_t *n_out,
                        jinpu_error_t *err)
{
    size_t nf = J->dataset_fields(ds), rows = J->dataset_rows(ds);
    col_t *cols = calloc(2 * nf + 1, sizeof *cols);
    if (!cols) return J->error(err, JINPU_E_NOMEM, "out of memory");
    size_t n = 0;
    unsigned char quals[BLOCK];
    int rc = JINPU_OK;
    for (size_t f = 0; f < nf && !rc; f++) {
        col_t *c = &cols[n++];
        c->f = f;
        c->type = J->field_type(ds, f);
        const char *name = J->field_name(ds, f), *unit = J->field_unit(ds, f);
        int numeric = c->type == JINPU_INTEGER || c->type == JINPU_NUMBER;
        int du = display_unit(bk->units, name, c->unit, sizeof c->unit);
        if (du < 0) {
            rc = J->error(err, JINPU_E_ARG,
                          "xlsx: option units must read \"field=unit,...\" (value=万元,area=万亩)");
            break;
        }
        if (du > 0) {
            bk->units_used++;
            if (!numeric)
                rc = J->error(err, JINPU_E_ARG, "xlsx: field '%s' is not a number: no display unit",
                              name);
            else if (J->field_unit_field(ds, f))
                rc = J->error(err, JINPU_E_UNIT,
                              "xlsx: field '%s' has its unit in field '%s', row by row: convert "
                              "it first (a display unit needs one unit for the field)",
                              name, J->field_unit_field(ds, f));
            else if (!unit)
                rc = J->error(err, JINPU_E_UNIT, "xlsx: field '%s' has no unit to convert to %s",
                              name, c->unit);
            else {
                double probe = 1;
                rc = J->unit_convert(unit, c->unit, &probe, 1, err);
                c->convert = !rc;
            }
        } else if (unit) {
            snprintf(c->unit, sizeof c->unit, "%s", unit);
        }
        if (!numeric || rc) continue;
        int qualified = 0;
        for (size_t r = 0; r < rows && !qualified;) {
            size_t k = J->read_numbers(ds, f, r, BLOCK, NULL, NULL, quals);
            for (size_t i = 0; i < k; i++) qualified |= quals[i] != JINPU_EXACT;
            r += k ? k : rows;
        }
        if (qualified) {
            col_t *q = &cols[n++];
            q->f = f;
            q->type = JINPU_STRING;
            q->is_qual = 1;
        }
    }
    if (!rc && n > MAX_COLS)
        rc = J->error(err, JINPU_E_LIMIT, "xlsx: %zu columns, more than a sheet holds (%d)", n,
                      MAX_COLS);
    if (rc) {
        free(cols);
        return rc;
    }
    *out = cols;
    *n_out = n;
    return JINPU_OK;
}

static int write_header(book_t *bk, lxw_worksheet *ws, jinpu_dataset_t *ds, col_t *cols, size_t n,
                        jinpu_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        col_t *c = &cols[i];
        const char *name = J->field_name(ds, c->f), *title = J->field_title(ds, c->f);
        if (bk->titles && title && *title) name = title;
        size_t len = strlen(name) + strlen(c->unit) + 16;
        char *h = malloc(len);
        if (!h) return J->error(err, JINPU_E_NOMEM, "out of memory");
        if (c->is_qual)
            snprintf(h, len, "%s qualifier", name);
        else if (c->unit[0])
            snprintf(h, len, "%s (%s)", name, c->unit);
        else
            snprintf(h, len, "%s", name);
        lxw_error e = worksheet_write_string(ws, 0, (lxw_col_t)i, h, bk->header);
        /* the filter button takes about two columns */
        widen(c, text_width(h, strlen(h), NULL) + 2);
        free(h);
        if (e) return lxw_fail(err, e, 0, J->field_name(ds, c->f));
    }
    return JINPU_OK;
}

/* The digits a number needs, about: for the width of its column. */
static size_t number_width(const col_t *c)
{
    size_t w = c->max_abs >= 1 ? (size_t)floor(log10(c->max_abs)) + 1 : 1;
    if (w > 15) w = 12; /* shown in scientific notation */
    if (c->fraction) w += 7;
    return w + 3; /* sign and qualifier */
}

static int write_cell(book_t *bk, lxw_worksheet *ws, jinpu_dataset_t *ds, col_t *c, lxw_row_t r,
                      lxw_col_t x, size_t row, size_t k, jinpu_error_t *err)
{
    lxw_error e = LXW_NO_ERROR;
    if (c->is_qual) {
        int q = c->nulls[k] ? JINPU_EXACT : c->quals[k];
        if (q > JINPU_EXACT && q < N_QUALS) {
            e = worksheet_write_string(ws, r, x, QUAL_NAME[q], NULL);
            widen(c, strlen(QUAL_NAME[q]));
        }
        return e ? lxw_fail(err, e, row + 1, J->field_name(ds, c->f)) : JINPU_OK;
    }
    if (c->vals) { /* a number */
        if (c->nulls[k]) return JINPU_OK;
        double v = c->vals[k];
        int q = c->quals[k] < N_QUALS ? c->quals[k] : JINPU_EXACT;
        char text[64];
        if (!isfinite(v)) {
            /* Excel has no NaN or infinity: text, rather than a wrong number */
            e = worksheet_write_string(ws, r, x,
                                       isnan(v) ? "NaN"
                                       : v > 0  ? "Infinity"
                                                : "-Infinity",
                                       NULL);
        } else if (c->type == JINPU_INTEGER && !c->convert && fabs(v) >= 9007199254740992.0 &&
                   llabs((long long)J->cell_int(ds, c->f, row)) > 9007199254740992LL) {
            /* beyond 2^53 a double (all Excel has) would change the number */
            snprintf(text, sizeof text, "%s%lld", QUAL_SYM[q],
                     (long long)J->cell_int(ds, c->f, row));
            e = worksheet_write_string(ws, r, x, text, NULL);
            widen(c, strlen(text));
        } else {
            e = worksheet_write_number(ws, r, x, v, q ? bk->qual[q] : NULL);
            double a = fabs(v);
            if (a > c->max_abs) c->max_abs = a;
            if (!c->fraction && v != floor(v)) c->fraction = 1;
        }
        return e ? lxw_fail(err, e, row + 1, J->field_name(ds, c->f)) : JINPU_OK;
    }
    if (J->cell_is_null(ds, c->f, row)) return JINPU_OK;
    switch (c->type) {
    case JINPU_BOOLEAN:
        e = worksheet_write_boolean(ws, r, x, J->cell_bool(ds, c->f, row), NULL);
        widen(c, 5);
        break;
    case JINPU_DATE: {
        int y, m, d;
        J->cell_date(ds, c->f, row, &y, &m, &d);
        if (y >= 1900) {
            lxw_datetime dt = {y, m, d, 0, 0, 0};
            e = worksheet_write_datetime(ws, r, x, &dt, bk->date);
        } else { /* before Excel's calendar starts: as text */
            char text[32];
            snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
            e = worksheet_write_string(ws, r, x, text, NULL);
        }
        widen(c, 10);
        break;
    }
    default: { /* strings, periods */
        char buf[256];
        size_t len, chars;
        const char *s;
        if (c->type == JINPU_STRING) {
            s = J->cell_string(ds, c->f, row, &len);
        } else {
            s = J->cell_text(ds, c->f, row, buf, sizeof buf);
            len = strlen(s);
        }
        size_t w = text_width(s, len, &chars);
        if (chars > MAX_CELL) {
            J->error(err, JINPU_E_RANGE,
                     "xlsx: %zu characters in one cell, more than Excel holds (%d)", chars,
                     MAX_CELL);
            J->error_at(err, NULL, 0, (long)row + 1, J->field_name(ds, c->f));
            return JINPU_E_RANGE;
        }
        if (s[len] != '\0') { /* strings are not always NUL-terminated at len */
            if (len + 1 > bk->scratch_cap) {
                char *t = realloc(bk->scratch, len + 1);
                if (!t) return J->error(err, JINPU_E_NOMEM, "out of memory");
                bk->scratch = t;
                bk->scratch_cap = len + 1;
            }
            memcpy(bk->scratch, s, len);
            bk->scratch[len] = '\0';
            s = bk->scratch;
        }
        e = worksheet_write_string(ws, r, x, s, NULL);
        widen(c, w);
    }
    }
    return e ? lxw_fail(err, e, row + 1, J->field_name(ds, c->f)) : JINPU_OK;
}

/* Read rows [from, from+k) of every number column into its block. */
static int load_block(jinpu_dataset_t *ds, col_t *cols, size_t n, size_t from, size_t k,
                      jinpu_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        col_t *c = &cols[i];
        if (!c->vals) continue;
        J->read_numbers(ds, c->f, from, k, c->vals, c->nulls, c->quals);
        if (c->convert) {
            const char *from_unit = J->field_unit(ds, c->f);
            int rc = J->unit_convert(from_unit, c->unit, c->vals, k, err);
            if (rc) return rc;
        }
    }
    return JINPU_OK;
}

static int write_sheet(book_t *bk, jinpu_dataset_t *ds, const char *want_name, jinpu_error_t *err)
{
    size_t rows = J->dataset_rows(ds);
    const char *dsname = J->dataset_name(ds);
    if (rows >= MAX_ROWS)
        return J->error(err, JINPU_E_LIMIT,
                        "xlsx: dataset '%s' has %zu rows, more than a sheet holds (%d with the "
                        "header); split it (ds:filter, ds:head) or write CSV",
                        dsname ? dsname : "?", rows, MAX_ROWS);
    char name[160];
    int rc = sheet_name(bk, want_name ? want_name : dsname, name, sizeof name, err);
    if (rc) return rc;
    lxw_worksheet *ws = workbook_add_worksheet(bk->wb, name);
    if (!ws) return J->error(err, JINPU_E_ARG, "xlsx: Excel refuses the sheet name '%s'", name);
    col_t *cols = NULL;
    size_t n = 0;
    if ((rc = plan_columns(bk, ds, &cols, &n, err))) return rc;
    /* the blocks: a qualifier column shares its field's arrays */
    for (size_t i = 0; i < n && !rc; i++) {
        col_t *c = &cols[i];
        if (c->is_qual) {
            c->vals = NULL;
            c->nulls = cols[i - 1].nulls;
            c->quals = cols[i - 1].quals;
        } else if (c->type == JINPU_INTEGER || c->type == JINPU_NUMBER) {
            c->vals = malloc(BLOCK * sizeof *c->vals);
            c->nulls = malloc(BLOCK);
            c->quals = malloc(BLOCK);
            if (!c->vals || !c->nulls || !c->quals)
                rc = J->error(err, JINPU_E_NOMEM, "out of memory");
        }
    }
    if (!rc) rc = write_header(bk, ws, ds, cols, n, err);
    for (size_t from = 0; from < rows && !rc; from += BLOCK) {
        size_t k = rows - from < BLOCK ? rows - from : BLOCK;
        if ((from & 65535) == 0 && J->stop_requested()) {
            rc = J->error(err, JINPU_E_LIMIT, "xlsx: stopped");
            break;
        }
        rc = load_block(ds, cols, n, from, k, err);
        for (size_t j = 0; j < k && !rc; j++)
            for (size_t i = 0; i < n && !rc; i++)
                rc = write_cell(bk, ws, ds, &cols[i], (lxw_row_t)(from + j + 1), (lxw_col_t)i,
                                from + j, j, err);
    }
    if (!rc) {
        worksheet_freeze_panes(ws, 1, 0);
        if (n) worksheet_autofilter(ws, 0, 0, (lxw_row_t)rows, (lxw_col_t)(n - 1));
        for (size_t i = 0; i < n; i++) {
            col_t *c = &cols[i];
            size_t w = c->width;
            if (c->vals && number_width(c) > w) w = number_width(c);
            if (w < MIN_WIDTH) w = MIN_WIDTH;
            if (w > MAX_WIDTH) w = MAX_WIDTH;
            worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, (double)w + 1, NULL);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!cols[i].is_qual) {
            free(cols[i].vals);
            free(cols[i].nulls);
            free(cols[i].quals);
        }
    free(cols);
    return rc;
}

/* ---- the workbook -------------------------------------------------------------------- */

static int write_book(jinpu_dataset_t *const *list, size_t n, const char *path,
                      const jinpu_options_t *opts, int is_export, jinpu_error_t *err)
{
    int rc = check_options(opts, is_export, err);
    if (rc) return rc;
    if (n == 0) return J->error(err, JINPU_E_ARG, "xlsx: no dataset to write");
    jinpu_output_t *out = J->output_begin(path, err);
    if (!out) return JINPU_E_IO;
    book_t bk = {0};
    bk.units = J->opt_string(opts, "units");
    const char *h = J->opt_string(opts, "headers");
    bk.titles = h && strcmp(h, "title") == 0;
    size_t cells = 0;
    for (size_t i = 0; i < n; i++) cells += J->dataset_rows(list[i]) * J->dataset_fields(list[i]);
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE,
                               .tmpdir = getenv("TMPDIR"),
                               .use_zip64 = cells > 20000000 ? LXW_TRUE : LXW_FALSE};
    bk.wb = workbook_new_opt(J->output_path(out), &wo);
    if (!bk.wb) {
        J->output_abort(out);
        return J->error(err, JINPU_E_IO, "xlsx: cannot create %s", path);
    }
    bk.header = workbook_add_format(bk.wb);
    format_set_bold(bk.header);
    format_set_bottom(bk.header, LXW_BORDER_THIN);
    bk.date = workbook_add_format(bk.wb);
    format_set_num_format(bk.date, "yyyy-mm-dd");
    for (int q = 1; q < N_QUALS; q++) {
        bk.qual[q] = workbook_add_format(bk.wb);
        format_set_num_format(bk.qual[q], QUAL_FORMAT[q]);
    }
    const char *sheet = is_export ? NULL : J->opt_string(opts, "sheet");
    for (size_t i = 0; i < n && !rc; i++) rc = write_sheet(&bk, list[i], sheet, err);
    if (!rc && bk.units && bk.units_used == 0)
        rc = J->error(err, JINPU_E_ARG, "xlsx: option units names no field of the data ('%s')",
                      bk.units);
    if (!rc && n == 1) {
        lxw_doc_properties props = {0};
        props.title = (char *)J->dataset_meta(list[0], "title");
        props.comments = (char *)J->dataset_meta(list[0], "description");
        workbook_set_properties(bk.wb, &props);
    }
    lxw_error e = workbook_close(bk.wb); /* frees it, whatever happened */
    if (!rc && e)
        rc = J->error(err, JINPU_E_IO, "xlsx: cannot write %s: %s", path, lxw_strerror(e));
    for (size_t i = 0; i < bk.n_sheets; i++) free(bk.sheet_names[i]);
    free(bk.sheet_names);
    free(bk.scratch);
    if (rc) {
        J->output_abort(out);
        return rc;
    }
    return J->output_commit(out, err);
}

static int xlsx_write(void *ud, jinpu_dataset_t *ds, const char *path, const jinpu_options_t *opts,
                      jinpu_error_t *err)
{
    (void)ud;
    return write_book(&ds, 1, path, opts, 0, err);
}

static int xlsx_export(void *ud, jinpu_dataset_t *const *list, size_t n, const char *path,
                       const jinpu_options_t *opts, jinpu_error_t *err)
{
    (void)ud;
    return write_book(list, n, path, opts, 1, err);
}

int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *plugin, char *why, size_t why_size)
{
    JINPU_PLUGIN_CHECK(api, output_abort, why, why_size);
    J = api;
    static const char *const exts[] = {".xlsx", NULL};
    jinpu_format_t f = {
        .size = sizeof f,
        .name = "xlsx",
        .extensions = exts,
        .description = "Excel workbook: one sheet per dataset",
        .write = xlsx_write,
        .export_ = xlsx_export,
    };
    if (api->register_format(plugin, &f, NULL)) {
        snprintf(why, why_size, "could not register the format xlsx");
        return JINPU_REFUSED;
    }
    return JINPU_OK;
}
