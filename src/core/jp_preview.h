/*
 * jp_preview.h - a dataset as an aligned text table for people: names,
 * types and units on top, numbers right-aligned with their qualifier
 * (">140000", "~1140000000"), CJK text measured in display columns.
 * Used by tostring(ds), `jinpu info` and the report.  Writes into a
 * caller-owned buffer; never prints.
 */
#ifndef JP_PREVIEW_H
#define JP_PREVIEW_H

#include <stddef.h>
#include "jp_buf.h"
#include "jp_dataset.h"

typedef struct jp_preview_opts {
    size_t max_rows;    /* rows shown (head) before "... N more rows"; 0 = 10 */
    size_t width;       /* total width in display columns; 0 = 120 */
    size_t cell_max;    /* widest cell in display columns; 0 = 32 */
    int title;          /* print the "name: N rows x M fields" line */
    size_t more_fields; /* fields of the source beyond ds's (a preview of the first fields of a
                           wide file): counted in the "... more fields" line */
    int digits;         /* significant digits of numbers (jp_number_display): 0 the process
                           default (jp_preview_digits), -1 every digit */
} jp_preview_opts_t;

/* The significant digits previews show numbers with when they are not told
 * (7 until set; -1 every digit).  Set by the host (jp.display); what is
 * written to files never depends on it. */
void jp_preview_set_digits(int digits);
int jp_preview_digits(void);

void jp_preview_opts_init(jp_preview_opts_t *o);
/* Appends the table to out (loads a lazy dataset's columns). */
jp_status_t jp_dataset_preview(jp_dataset_t *ds, const jp_preview_opts_t *o, jp_buf_t *out,
                               jp_error_t *err);
/* Display width of UTF-8 text (East Asian wide = 2, combining = 0;
 * invalid bytes count 1). */
size_t jp_utf8_width(const char *s, size_t n);
/* One cell as display text, with its qualifier symbol ("" for null);
 * returns the length written to buf (>= 96 bytes) or points *ptr at the
 * string in the column. */
size_t jp_cell_display(const jp_column_t *c, size_t i, char *buf, size_t size, const char **ptr);
/* The same with numbers cut to `digits` significant digits (-1: every
 * digit, 0: the default). */
size_t jp_cell_display_digits(const jp_column_t *c, size_t i, int digits, char *buf, size_t size,
                              const char **ptr);

#endif
