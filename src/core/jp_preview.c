/*
 * jp_preview.c - aligned text tables for people.
 */
#include "jp_preview.h"

#include <stdio.h>
#include <string.h>
#include "jp_mem.h"
#include "jp_stream.h"
#include "jp_stream_int.h"
#include "jp_unit.h"

void jp_preview_opts_init(jp_preview_opts_t *o)
{
    o->max_rows = 10;
    o->width = 120;
    o->cell_max = 32;
    o->title = 1;
    o->more_fields = 0;
    o->digits = 0;
}

static unsigned wide_cp(unsigned long cp)
{
    if (cp == 0) return 0;
    /* combining marks and zero-width characters */
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF ||
        (cp >= 0xFE00 && cp <= 0xFE0F))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
        (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* Decode one UTF-8 sequence; returns its length (1 for an invalid byte). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned long v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[k] & 0x3F);
    }
    *cp = v;
    return len;
}

size_t jp_utf8_width(const char *s, size_t n)
{
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned long cp;
        size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
        w += cp < 0x20 ? 1 : wide_cp(cp);
        i += k;
    }
    return w;
}

/* Bytes of s that fit in `cols` display columns. */
static size_t utf8_fit(const char *s, size_t n, size_t cols, size_t *used)
{
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned long cp;
        size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
        size_t cw = cp < 0x20 ? 1 : wide_cp(cp);
        if (w + cw > cols) break;
        w += cw;
        i += k;
    }
    *used = w;
    return i;
}

static int default_digits = 7;

void jp_preview_set_digits(int digits)
{
    default_digits = digits == 0 ? -1 : digits;
}

int jp_preview_digits(void)
{
    return default_digits;
}

size_t jp_cell_display(const jp_column_t *c, size_t i, char *buf, size_t size, const char **ptr)
{
    return jp_cell_display_digits(c, i, 0, buf, size, ptr);
}

size_t jp_cell_display_digits(const jp_column_t *c, size_t i, int digits, char *buf, size_t size,
                              const char **ptr)
{
    if (digits == 0) digits = default_digits;
    *ptr = buf;
    if (jp_column_is_null(c, i)) {
        snprintf(buf, size, "nil");
        return 3;
    }
    if (c->type == JP_TYPE_STRING) return jp_column_cell_text(c, i, buf, size, ptr);
    const char *sym = jp_qual_symbol(jp_column_qual(c, i));
    size_t k = strlen(sym);
    if (k >= size) k = 0;
    memcpy(buf, sym, k);
    if (c->type == JP_TYPE_NUMBER && digits > 0) {
        int n = jp_number_display(c->v.d[i], digits, buf + k, size - k);
        return n < 0 ? k : k + ((size_t)n < size - k ? (size_t)n : size - k - 1);
    }
    const char *p;
    size_t n = jp_column_cell_text(c, i, buf + k, size - k, &p);
    return k + n;
}

typedef struct {
    size_t width;
    bool right;
} colfmt_t;

static jp_status_t pad(jp_buf_t *b, size_t n)
{
    static const char spaces[] = "                                ";
    while (n) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        if (jp_buf_append(b, spaces, k)) return JP_ERR_NOMEM;
        n -= k;
    }
    return JP_OK;
}

/* Append text in a cell of `w` columns, truncating with "…". */
static jp_status_t put_cell(jp_buf_t *b, const char *s, size_t n, size_t w, bool right)
{
    /* control characters would break the table: show them as spaces */
    char tmp[256];
    if (n < sizeof tmp) {
        bool ctl = false;
        for (size_t i = 0; i < n; i++) ctl |= (unsigned char)s[i] < 0x20;
        if (ctl) {
            for (size_t i = 0; i < n; i++) tmp[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
            s = tmp;
        }
    }
    size_t dw = jp_utf8_width(s, n);
    if (dw > w) {
        size_t used;
        size_t cut = utf8_fit(s, n, w ? w - 1 : 0, &used);
        if (jp_buf_append(b, s, cut) || jp_buf_puts(b, "…")) return JP_ERR_NOMEM;
        return pad(b, w - 1 - used);
    }
    if (right && pad(b, w - dw)) return JP_ERR_NOMEM;
    if (jp_buf_append(b, s, n)) return JP_ERR_NOMEM;
    if (!right && pad(b, w - dw)) return JP_ERR_NOMEM;
    return JP_OK;
}

static const char *unit_label(const jp_field_t *f, char *buf, size_t size)
{
    if (f->unit) return f->unit;
    if (f->unit_field) {
        snprintf(buf, size, "<%s>", f->unit_field);
        return buf;
    }
    return "";
}

static jp_status_t preview(const jp_dataset_t *ds, const jp_meta_t *meta, size_t nr,
                           const jp_preview_opts_t *o, jp_buf_t *out, jp_error_t *err);

jp_status_t jp_dataset_preview(jp_dataset_t *ds, const jp_preview_opts_t *o, jp_buf_t *out,
                               jp_error_t *err)
{
    jp_preview_opts_t d;
    if (!o) {
        jp_preview_opts_init(&d);
        o = &d;
    }
    size_t max_rows = o->max_rows ? o->max_rows : 10;
    if (ds->lazy && jp_stream_possible(ds)) {
        /* a file pipeline: its first rows and its count in one pass that
           holds a batch, not the file */
        jp_dataset_t *first = NULL;
        size_t total = 0;
        bool fallback = false;
        jp_status_t st = jp_stream_firsts(ds, max_rows, &first, &total, &fallback, err);
        if (st) return st;
        if (!fallback) {
            st = preview(first, &ds->meta, total, o, out, err);
            jp_dataset_unref(first);
            return st;
        }
    }
    jp_status_t st = jp_dataset_need_all(ds, err);
    if (st) return st;
    return preview(ds, &ds->meta, ds->nrows, o, out, err);
}

/* ds's first rows (all of them, or max_rows) of nr in all. */
static jp_status_t preview(const jp_dataset_t *ds, const jp_meta_t *meta, size_t nr,
                           const jp_preview_opts_t *o, jp_buf_t *out, jp_error_t *err)
{
    size_t max_rows = o->max_rows ? o->max_rows : 10;
    size_t width = o->width ? o->width : 120;
    size_t cell_max = o->cell_max ? o->cell_max : 32;
    jp_status_t st;
    size_t nf = ds->schema.n_fields;
    size_t show = ds->nrows < max_rows ? ds->nrows : max_rows;
    if (o->title) {
        if (jp_buf_printf(out, "%s: %zu row%s x %zu field%s%s%s\n",
                          meta->name ? meta->name : "dataset", nr, nr == 1 ? "" : "s", nf,
                          nf == 1 ? "" : "s", meta->title ? " - " : "",
                          meta->title ? meta->title : ""))
            return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    }
    if (nf == 0) return JP_OK;
    colfmt_t *fmt = jp_calloc(nf, sizeof *fmt);
    if (!fmt) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    bool any_unit = false;
    char buf[128], ubuf[160];
    const char *p;
    for (size_t j = 0; j < nf; j++) {
        const jp_field_t *f = &ds->schema.fields[j];
        size_t w = jp_utf8_width(f->name, strlen(f->name));
        size_t tw = strlen(jp_type_name(f->type));
        if (tw > w) w = tw;
        const char *u = unit_label(f, ubuf, sizeof ubuf);
        if (*u) {
            any_unit = true;
            size_t uw = jp_utf8_width(u, strlen(u));
            if (uw > w) w = uw;
        }
        for (size_t i = 0; i < show; i++) {
            size_t n = jp_cell_display_digits(ds->cols[j], i, o->digits, buf, sizeof buf, &p);
            size_t cw = jp_utf8_width(p, n);
            if (cw > w) w = cw;
        }
        fmt[j].width = w > cell_max ? cell_max : w;
        fmt[j].right = jp_type_is_numeric(f->type);
    }
    /* keep the fields that fit the width; name the rest */
    size_t fit = 0, used = 0;
    for (size_t j = 0; j < nf; j++) {
        if (j > 0 && used + 2 + fmt[j].width > width) break;
        used += (j ? 2 : 0) + fmt[j].width;
        fit = j + 1;
    }
    st = JP_OK;
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((x)) {                                                                                 \
            st = jp_error_set(err, JP_ERR_NOMEM, "out of memory");                                 \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)
    for (int line = 0; line < (any_unit ? 3 : 2); line++) {
        for (size_t j = 0; j < fit; j++) {
            const jp_field_t *f = &ds->schema.fields[j];
            const char *s = line == 0   ? f->name
                            : line == 1 ? jp_type_name(f->type)
                                        : unit_label(f, ubuf, sizeof ubuf);
            TRY(j && jp_buf_puts(out, "  "));
            TRY(put_cell(out, s, strlen(s), fmt[j].width, fmt[j].right));
        }
        while (out->len && out->data[out->len - 1] == ' ') out->len--;
        TRY(jp_buf_putc(out, '\n'));
    }
    for (size_t j = 0; j < fit; j++) {
        TRY(j && jp_buf_puts(out, "  "));
        for (size_t k = 0; k < fmt[j].width; k++) TRY(jp_buf_puts(out, "-"));
    }
    TRY(jp_buf_putc(out, '\n'));
    for (size_t i = 0; i < show; i++) {
        for (size_t j = 0; j < fit; j++) {
            size_t n = jp_cell_display_digits(ds->cols[j], i, o->digits, buf, sizeof buf, &p);
            TRY(j && jp_buf_puts(out, "  "));
            TRY(put_cell(out, p, n, fmt[j].width, fmt[j].right));
        }
        while (out->len && out->data[out->len - 1] == ' ') out->len--;
        TRY(jp_buf_putc(out, '\n'));
    }
    if (nr > show)
        TRY(jp_buf_printf(out, "... %zu more row%s\n", nr - show, nr - show == 1 ? "" : "s"));
    if (fit < nf || o->more_fields) {
        /* named up to a point: a file may have a million fields */
        size_t more = nf - fit + o->more_fields, named = nf - fit < 24 ? nf - fit : 24;
        TRY(jp_buf_printf(out, "... %zu more field%s%s", more, more == 1 ? "" : "s",
                          named ? ":" : ""));
        for (size_t j = fit; j < fit + named; j++)
            TRY(jp_buf_printf(out, "%s %s (%s)", j > fit ? "," : "", ds->schema.fields[j].name,
                              jp_type_name(ds->schema.fields[j].type)));
        TRY(named && named < more && jp_buf_puts(out, ", ..."));
        TRY(jp_buf_putc(out, '\n'));
    }
#undef TRY
done:
    jp_free(fmt);
    return st;
}
