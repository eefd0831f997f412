-- lua/jinpu/scaffold_c.lua - the files of `jinpu plugins new NAME --c`: a
-- native plugin with one verb, built by its Makefile against include/jinpu.h,
-- and a test.  NAME and @INCLUDE@ are replaced when the files are written.
local M = {}

M.files = {}

M.files["plugin.yaml"] = [[
# plugin.yaml - read by jinpu before any code runs (docs/plugins.md).
name: NAME
version: 0.1.0
description: TODO - one line saying what NAME does
jinpu: 1
library: NAME.so
provides:
  verbs: [NAME]
]]

M.files["Makefile"] = [[
# Builds NAME.so against jinpu's public header.  `jinpu plugins test NAME`
# runs make first.
JINPU_INCLUDE ?= @INCLUDE@
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -fPIC -Wall -Wextra -I$(JINPU_INCLUDE)

NAME.so: NAME.c $(JINPU_INCLUDE)/jinpu.h
	$(CC) $(CFLAGS) -shared -o $@ NAME.c

clean:
	rm -f NAME.so
]]

M.files["NAME.c"] = [[
/*
 * NAME.c - ds:NAME(field [, factor]): a copy of the dataset whose number
 * field `field` is multiplied by factor (default 2), nulls and qualifiers
 * kept.  A starting point: it reads a dataset through the accessors of
 * jinpu.h, builds a new one, and reports errors with the field's name.
 */
#include <stdio.h>
#include <string.h>
#include "jinpu.h"

JINPU_PLUGIN_API;

static const jinpu_api_t *J;

/* copy cell (f, row) of `in` into the builder, scaled when f == target */
static int copy_cell(const jinpu_dataset_t *in, jinpu_builder_t *b, size_t f, size_t row,
                     long target, double factor, jinpu_error_t *err)
{
    if (J->cell_is_null(in, f, row)) return J->put_null(b, f, err);
    int q = J->cell_qualifier(in, f, row);
    switch (J->field_type(in, f)) {
    case JINPU_INTEGER:
        if ((long)f == target) return J->put_number(b, f, (double)J->cell_int(in, f, row) * factor, q, err);
        return J->put_int(b, f, J->cell_int(in, f, row), q, err);
    case JINPU_NUMBER:
        return J->put_number(b, f, J->cell_number(in, f, row) * ((long)f == target ? factor : 1), q, err);
    case JINPU_STRING: {
        size_t n;
        const char *s = J->cell_string(in, f, row, &n);
        return J->put_string(b, f, s, n, err);
    }
    default: {
        char buf[128];
        const char *t = J->cell_text(in, f, row, buf, sizeof buf);
        return J->put_text(b, f, t, strlen(t), err);
    }
    }
}

static int NAME_verb(void *ud, jinpu_dataset_t *in, const jinpu_args_t *args, jinpu_dataset_t **out,
                     jinpu_error_t *err)
{
    (void)ud;
    const char *field = J->arg_string(args, 0);
    if (!field) return J->error(err, JINPU_E_ARG, "NAME: which field? ds:NAME(\"area\")");
    double factor = J->arg_kind(args, 1) == JINPU_ARG_NUMBER ? J->arg_number(args, 1) : 2;
    long target = J->field_find(in, field);
    if (target < 0) return J->error(err, JINPU_E_ARG, "NAME: no field '%s'", field);
    int t = J->field_type(in, (size_t)target);
    if (t != JINPU_NUMBER && t != JINPU_INTEGER)
        return J->error(err, JINPU_E_TYPE, "NAME: field '%s' is not a number", field);

    jinpu_builder_t *b = J->builder_new(J->dataset_name(in), err);
    if (!b) return JINPU_E_NOMEM;
    size_t nf = J->dataset_fields(in), rows = J->dataset_rows(in);
    for (size_t f = 0; f < nf; f++) {
        int type = (long)f == target ? JINPU_NUMBER : J->field_type(in, f);
        if (J->builder_field(b, J->field_name(in, f), type, J->field_unit(in, f),
                             J->field_description(in, f), err) < 0) {
            J->builder_free(b);
            return JINPU_E_ARG;
        }
    }
    for (size_t row = 0; row < rows; row++) {
        for (size_t f = 0; f < nf; f++) {
            int rc = copy_cell(in, b, f, row, target, factor, err);
            if (rc) {
                J->builder_free(b);
                return rc;
            }
        }
        if (J->end_row(b, err)) {
            J->builder_free(b);
            return JINPU_E_ARG;
        }
    }
    *out = J->builder_finish(b, err);
    return *out ? JINPU_OK : JINPU_E_NOMEM;
}

int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *plugin, char *why, size_t why_size)
{
    /* refuse a jinpu whose table lacks the last function used here */
    JINPU_PLUGIN_CHECK(api, register_verb, why, why_size);
    J = api;
    if (api->register_verb(plugin, "NAME", NAME_verb, NULL, NULL)) {
        snprintf(why, why_size, "could not register the verb NAME");
        return JINPU_REFUSED;
    }
    return JINPU_OK;
}
]]

M.files["tests/test_NAME.lua"] = [[
-- tests/test_NAME.lua - run by `jinpu plugins test NAME` (after make).
local T = require("jinpu.test")
local jp = require("jinpu")

local ds = jp.dataset{ name = "t", fields = { { name = "k", type = "string" },
  { name = "v", type = "number", unit = "t" } },
  rows = { { k = "a", v = 1.5 }, { k = "b", v = ">20000" }, { k = "c" } } }
local out = ds:NAME("v")
T.eq(out:column("v"):totable(), { 3, 40000, nil }, "the verb doubles")
T.eq(out:qualifier(2, "v"), "more_than", "qualifiers are kept")
T.eq(out:column("v"):unit(), "t", "units are kept")
T.eq(ds:NAME("v", 10):column("v")[1], 15, "with a factor")
T.raises(function() ds:NAME("k") end, "not a number", "a text field is refused")

T.done()
]]

return M
