/*
 * jp_yaml.h - the jinpu YAML dataset format (docs/format.md), read and
 * written with libyaml.
 *
 * The format is registered as `jp_format_yaml` ("yaml", .yaml/.yml); most
 * code reaches it through jp_dataset_load / jp_dataset_save.  The functions
 * here are for callers that hold the text in memory (archives, which keep a
 * schema-only document next to CSV data) or want one field definition.
 *
 * Ownership: a dataset returned through `out` carries one reference owned
 * by the caller (jp_dataset_unref).  Nothing returned points into `data`.
 * On failure `*out` is NULL, nothing is left allocated, and `err` says
 * where: file (the `name` given), line and column (1-based; columns count
 * characters), and for a cell the row (1 = first row) and field.
 */
#ifndef JP_YAML_H
#define JP_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_buf.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"
#include "jp_schema.h"

/* Largest document read (JP_ERR_LIMIT beyond). */
#define JP_YAML_MAX_BYTES ((size_t)256 << 20)
/* Deepest nesting of lists and mappings accepted (a dataset needs 5). */
#define JP_YAML_MAX_DEPTH 16

extern const jp_format_t jp_format_yaml;

/*
 * Read a dataset from n bytes of YAML text.  `name` is used in messages and
 * becomes ds->origin (it may be NULL: "<memory>"); its stem is the dataset's
 * name when the document has none.  `rows` is optional: a schema-only
 * document gives a dataset with its fields and 0 rows.  Options used: o->name
 * (overrides the document's name), o->columns / o->n_columns (keep only
 * those fields, in that order) and o->cell_errors (a cell that is not of its
 * field's type or unit - JP_ERR_TYPE, JP_ERR_UNIT, JP_ERR_RANGE - is read as
 * null and recorded there, with its line, column, row and field, instead of
 * failing the read; structural errors still fail); o may be NULL.  The
 * dataset records the line of each row (jp_dataset_row_line).
 */
jp_status_t jp_yaml_read_mem(const char *name, const char *data, size_t n, const jp_read_opts_t *o,
                             jp_dataset_t **out, jp_error_t *err);

/*
 * Append the YAML document for ds to `out` (with_rows = false: metadata and
 * schema only, no `rows` key).  On failure `out` is left as it was.
 * Refuses (JP_ERR_INVALID) what could not be read back: a field with both
 * `unit` and `unit_field`, a unit_field that names no string field or holds
 * an unknown unit, text that is not UTF-8, a date outside years 1..9999.
 */
jp_status_t jp_yaml_write_buf(jp_dataset_t *ds, bool with_rows, jp_buf_t *out, jp_error_t *err);

/*
 * Parse one field definition, a YAML mapping as in the `fields:` list
 * ("{name: area, type: number, unit: 亩}").  Fills *out (initialised here;
 * the caller frees it with jp_field_free, also after a failure).  A
 * unit_field is stored as written: whether it names a string field can only
 * be checked against the whole schema.
 */
jp_status_t jp_yaml_parse_field(const char *name, const char *text, size_t n, jp_field_t *out,
                                jp_error_t *err);

/* Does this look like a jinpu YAML dataset (first key `jinpu:`)? */
bool jp_yaml_sniff(const unsigned char *head, size_t n);

#endif
