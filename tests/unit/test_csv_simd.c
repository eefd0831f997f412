/*
 * test_csv_simd.c - the scanner's instruction sets (jp_csv_set_simd) read
 * every text alike: the same dataset, the same error (message, line,
 * column, row, field) and the same records set aside, over random texts
 * made to be hard: quotes and doubled quotes across 64-byte blocks, line
 * ends inside quotes, CRLF, NUL bytes, empty lines, bare and unterminated
 * quotes, records of the wrong shape, bytes that are not UTF-8, long
 * fields, a last record without a line end; at several chunk sizes and
 * thread counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_csv.h"
#include "jp_mem.h"
#include "unit.h"

static unsigned rnd_state = 2463534242u;

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state % n;
}

/* One field's text; `faults` allows the ones that make the text bad;
 * `dense` makes most fields short (blocks of 64 bytes with many fields). */
static void put_field(jp_buf_t *b, bool faults, bool dense)
{
    static const char *const plain[] = {"12",   "-3.25", "abc", "",    "2021-05-01",
                                        "true", "0",     "1e5", "nan", "约12"};
    unsigned k = rnd(faults ? 15 : 11);
    if (dense && rnd(8)) {
        static const char *const tiny[] = {"", "1", "7", "x", "\"\"", "\"\"\"\"", ""};
        const char *t = tiny[rnd(7)];
        jp_buf_append(b, t, strlen(t));
        return;
    }
    switch (k) {
    case 0: /* quoted, with delimiters, doubled quotes and line ends */
    case 1: {
        jp_buf_putc(b, '"');
        unsigned n = rnd(90);
        for (unsigned i = 0; i < n; i++) {
            unsigned c = rnd(12);
            if (c == 0)
                jp_buf_append(b, "\"\"", 2);
            else if (c == 1)
                jp_buf_putc(b, ',');
            else if (c == 2)
                jp_buf_append(b, rnd(2) ? "\n" : "\r\n", rnd(2) ? 1 : 2);
            else
                jp_buf_putc(b, (char)('a' + rnd(26)));
        }
        jp_buf_putc(b, '"');
        break;
    }
    case 2: /* a long unquoted field: events far apart */
    {
        unsigned n = 60 + rnd(140);
        for (unsigned i = 0; i < n; i++) jp_buf_putc(b, (char)('0' + rnd(10)));
        break;
    }
    case 11: /* a bare quote */
        jp_buf_append(b, "ab\"c", 4);
        break;
    case 12: /* text after a closing quote */
        jp_buf_append(b, "\"x\"y", 4);
        break;
    case 13: /* a NUL byte */
        jp_buf_append(b, "a\0b", 3);
        break;
    case 14: /* not UTF-8 (also in a column only checked, once it is text) */
        jp_buf_append(b, "x\xc3(", 3);
        break;
    default: {
        const char *t = plain[k - 3 < 10 ? k - 3 : 0];
        jp_buf_append(b, t, strlen(t));
    }
    }
}

/* A text of about `rows` records of ncols fields. */
static void make_text(jp_buf_t *b, size_t ncols, unsigned rows, bool faults)
{
    bool dense = rnd(3) == 0;
    b->len = 0;
    for (size_t j = 0; j < ncols; j++) {
        if (j) jp_buf_putc(b, ',');
        char h[24];
        snprintf(h, sizeof h, "c%zu", j);
        jp_buf_append(b, h, strlen(h));
    }
    jp_buf_putc(b, '\n');
    for (unsigned r = 0; r < rows; r++) {
        unsigned shape = rnd(40);
        if (shape == 0) { /* an empty line */
            jp_buf_append(b, rnd(2) ? "\n" : "\r\n", 1);
            continue;
        }
        size_t n = ncols;
        if (faults && shape == 1) n = ncols + 1;
        if (faults && shape == 2 && ncols > 1) n = ncols - 1;
        for (size_t j = 0; j < n; j++) {
            if (j) jp_buf_putc(b, ',');
            put_field(b, faults && rnd(30) == 0, dense);
        }
        if (r + 1 < rows || rnd(2)) /* the last line end may be missing */
            jp_buf_append(b, rnd(3) ? "\n" : "\r\n", 1 + (rnd(3) == 0));
    }
    if (faults && rnd(6) == 0) jp_buf_append(b, "\"open", 5); /* unterminated at the end */
}

/* Everything a read gives, as text. */
static char *outcome(const char *data, size_t n, bool rejects, bool all_cols)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    jp_dataset_t *rej = NULL;
    o.keep_rejects = rejects;
    o.rejects = rejects ? &rej : NULL;
    const char *cols[] = {"c1", "c3"};
    if (!all_cols) {
        o.columns = cols;
        o.n_columns = 2;
    }
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    jp_buf_t b = JP_BUF_INIT;
    jp_status_t st = jp_csv_read_mem("t.csv", data, n, &o, &ds, &err);
    char head[1400];
    snprintf(head, sizeof head, "status %d: %s line %ld col %ld row %ld field %s\n", (int)st,
             err.msg, err.line, err.col, err.row, err.field);
    jp_buf_append(&b, head, strlen(head));
    jp_error_t e2;
    jp_error_clear(&e2);
    if (ds) jp_csv_write_mem(ds, NULL, &b, &e2);
    if (rej) jp_csv_write_mem(rej, NULL, &b, &e2);
    jp_buf_putc(&b, 0);
    jp_dataset_unref(ds);
    jp_dataset_unref(rej);
    return jp_buf_detach(&b, NULL);
}

static void same_at_every_level(const jp_buf_t *text, const char *what)
{
    static const size_t chunks[] = {0, 64, 200, 4096};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
        for (int mode = 0; mode < 3; mode++) {
            bool rejects = mode == 1, all = mode != 2;
            jp_csv_tuning_t t = {chunks[c] ? chunks[c] * 8 : 0, chunks[c], 0, 0, chunks[c] ? 2 : 1};
            jp_csv_set_tuning(&t);
            jp_csv_set_simd(JP_CSV_SIMD_PORTABLE);
            char *want = outcome(text->data, text->len, rejects, all);
            for (int lv = JP_CSV_SIMD_AVX2; lv <= JP_CSV_SIMD_AVX512; lv++) {
                if (jp_csv_simd(lv) != lv) continue; /* not on this processor */
                jp_csv_set_simd(lv);
                char *got = outcome(text->data, text->len, rejects, all);
                CHECK_MSG(strcmp(want, got) == 0,
                          "%s, level %d, chunk %zu, mode %d:\n%.300s\n%.300s", what, lv, chunks[c],
                          mode, want, got);
                jp_free(got);
            }
            jp_free(want);
        }
    jp_csv_set_simd(0);
    jp_csv_set_tuning(NULL);
}

int main(void)
{
    jp_buf_t b = JP_BUF_INIT;
    printf("# instruction sets here: best %d\n", jp_csv_simd(0));
    CASE("the levels asked for are capped at what the processor has")
    {
        CHECK(jp_csv_simd(JP_CSV_SIMD_PORTABLE) == JP_CSV_SIMD_PORTABLE);
        CHECK(jp_csv_simd(0) >= JP_CSV_SIMD_PORTABLE && jp_csv_simd(0) <= JP_CSV_SIMD_AVX512);
        CHECK(jp_csv_simd(99) == jp_csv_simd(0));
    }
    CASE("well-formed texts: every instruction set reads them alike")
    for (int i = 0; i < 60; i++) {
        make_text(&b, 1 + rnd(40), 20 + rnd(120), false);
        char what[64];
        snprintf(what, sizeof what, "text %d", i);
        same_at_every_level(&b, what);
    }
    CASE("texts with faults: the same errors and the same records set aside")
    for (int i = 0; i < 80; i++) {
        make_text(&b, 1 + rnd(9), 10 + rnd(80), true);
        char what[64];
        snprintf(what, sizeof what, "bad text %d", i);
        same_at_every_level(&b, what);
    }
    CASE("a quote on each side of every 64-byte boundary")
    for (size_t at = 50; at < 140; at++) {
        b.len = 0;
        jp_buf_append(&b, "a,b\n", 4);
        while (b.len < at) jp_buf_append(&b, "1,2\n", 4);
        jp_buf_append(&b, "\"x\"\"\ny\",\"\"\r\n3,\"4\"", 17);
        same_at_every_level(&b, "boundary");
    }
    CASE("a column only checked once it is text: its bad UTF-8 is the first error")
    {
        /* decimals, then text (the column dies: later batches only check
           it), then a byte that is not UTF-8, then a record of the wrong
           shape: the first error is the byte's */
        b.len = 0;
        jp_buf_append(&b, "a,d\n", 4);
        for (int i = 0; i < 400; i++) {
            char line[64];
            snprintf(line, sizeof line, "%d,%d.%d\n", i, i % 97, i % 10);
            if (i == 150) snprintf(line, sizeof line, "%d,text\n", i);
            if (i == 300) snprintf(line, sizeof line, "%d,x\xc3(y\n", i);
            jp_buf_append(&b, line, strlen(line));
        }
        jp_buf_append(&b, "1,2,3\n", 6);
        same_at_every_level(&b, "checked column");
        char *got = outcome(b.data, b.len, false, true);
        CHECK_MSG(strstr(got, "line 302") != NULL, "%.200s", got);
        jp_free(got);
    }
    jp_buf_free(&b);
    return unit_done();
}
