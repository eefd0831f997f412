/*
 * jp_unit.h - units of measure, conversions between them, and the reading
 * of figures as newspapers print them ("14.8万亩", "约11.4亿美元").
 *
 * A unit has a canonical name ("CNY", "mu", "t", "person", "percent"), a
 * dimension, and a scale relative to the dimension's reference unit, so
 * that mu <-> ha, t <-> kg and CNY <-> 万元/亿元 convert by one factor.
 * Compound units "A/B" ("CNY/t", "item/10k person") are understood.
 * Scaled units such as 万元 (10k CNY) are units of their own for display
 * and conversion, but values read from text are stored in the primary unit
 * ("20万元" -> 200000 CNY).  The built-in table is static; units added
 * with jp_unit_register (plugins) follow it.  Readers are thread-safe as
 * long as no unit is registered while another thread reads units:
 * registration happens between calls into the core, never during one.
 */
#ifndef JP_UNIT_H
#define JP_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"
#include "jp_value.h"

typedef struct jp_unit {
    const char *name;    /* canonical name, e.g. "CNY", "10k CNY", "mu" */
    const char *dim;     /* dimension, e.g. "currency:CNY", "area", "count:person" */
    double scale;        /* size in the dimension's reference unit */
    const char *primary; /* the unit values are stored in ("CNY" for 万元) */
    const char *label;   /* for people: "Chinese yuan" */
    const char *aliases; /* "|"-separated other names */
} jp_unit_t;

/* A resolved unit, simple or compound. */
typedef struct jp_unit_info {
    char name[64]; /* canonical text: "CNY", "CNY/t", "item/10k person" */
    char dim[96];  /* "currency:CNY", "currency:CNY/mass" */
    double scale;  /* relative to the dimension's reference */
} jp_unit_info_t;

/* Look a unit up by canonical name or alias ("亩", "万元", "km²"). */
const jp_unit_t *jp_unit_find(const char *name);
/* Resolve simple or compound unit text.  Returns false when unknown. */
bool jp_unit_resolve(const char *text, jp_unit_info_t *out);
/* The canonical form of unit text, or NULL when unknown (static storage
 * for simple units; compound names are written to buf, >= 64 bytes). */
const char *jp_unit_canonical(const char *text, char *buf, size_t size);

/*
 * Factor that turns a value in `from` into `to` (value_to = value_from *
 * factor).  JP_ERR_UNIT when either is unknown or the dimensions differ.
 */
jp_status_t jp_unit_factor(const char *from, const char *to, double *factor, jp_error_t *err);

/*
 * A conversion between two units of one dimension.  When their ratio is a
 * power of ten (万亩 and mu, 亿元 and 万元, t and kg, 元/人 and 万元/人),
 * `exp10` holds it and jp_unit_apply scales by the exact power - a multiply
 * by 10^k or a divide by 10^-k, one rounding - so that 148000 mu is 14.8
 * 万亩, not 14.799999999999999 (1e-4 is not exact in binary).  Otherwise
 * `factor` is used.
 */
typedef struct jp_unit_conv {
    double factor; /* value_to = value_from * factor (approximately, for pow10) */
    bool pow10;    /* the ratio is exactly 10^exp10 */
    int exp10;     /* -22 .. 22 */
} jp_unit_conv_t;

jp_status_t jp_unit_conversion(const char *from, const char *to, jp_unit_conv_t *out,
                               jp_error_t *err);
/* The conversion of one value; correctly rounded for powers of ten. */
double jp_unit_apply(const jp_unit_conv_t *c, double v);
/* A conversion from a plain ratio (e.g. a factor computed elsewhere). */
void jp_unit_conv_from_ratio(double ratio, jp_unit_conv_t *out);

/*
 * " (did you mean 't'?)" when unit text is unknown but close to a unit's
 * name or alias ("tons" -> t, "亩s" -> mu; in a compound, the part that is
 * unknown: "CNY/tons" -> CNY/t), else "".  Writes at most size bytes to
 * buf and returns buf.
 */
const char *jp_unit_hint(const char *text, char *buf, size_t size);

/*
 * Add a unit (plugins' new unit families): name and "|"-separated aliases
 * that no unit has yet, a dimension (an existing one, or a new one whose
 * reference the unit is: scale 1), the scale in that dimension's reference
 * unit, and the primary unit values read from text are stored in (NULL:
 * itself).  Strings are copied; the unit lives as long as the process.
 */
jp_status_t jp_unit_register(const jp_unit_t *u, jp_error_t *err);
/* The checks of jp_unit_register without adding anything. */
jp_status_t jp_unit_check_new(const jp_unit_t *u, jp_error_t *err);

/* Iterate the table: returns NULL past the end. */
const jp_unit_t *jp_unit_at(size_t i);

/*
 * A figure read from text.  `unit` is the canonical primary unit named in
 * the text ("" when the text names none); `value` is already in that unit.
 */
typedef struct jp_quantity {
    double value;
    jp_qual_t qual;
    bool is_integer;         /* the figure is a whole number after scaling */
    bool order_of_magnitude; /* 万亿级, 千亿元级: at least the value, below ten times it */
    char unit[64];
} jp_quantity_t;

/*
 * Read a figure: an optional qualifier (约 近 超 超过 突破 逾 达 ~ > >= < <=),
 * a number with optional thousands separators, an optional magnitude
 * (万 亿 千 百 k K M B, also 万亿 and combined 千万 百亿 十万), an optional unit
 * (亩 吨 元 万元 亿美元 % t mu CNY ...) and an optional trailing qualifier (余
 * 多 以上 以下 左右 上下 +).  级 after a magnitude (万亿级, 千亿元级) names an
 * order of magnitude: the value is the magnitude, qualified at_least, and
 * order_of_magnitude is set; after a bare number (2级) it is the unit level.  Exactly n bytes;
 * surrounding spaces are allowed.  Returns false and a message in err (with col set, 1-based byte
 * offset) when the text is not a figure or names an unknown unit.
 */
bool jp_quantity_parse(const char *s, size_t n, jp_quantity_t *out, jp_error_t *err);

/* ---- figures written for people (jp_figure.c) ---------------------------------- */

typedef struct jp_figure_opts {
    const char *as;        /* write in this unit (万亩 or 亿元: the magnitude; ha: converted) */
    int magnitude;         /* -1 (default) by size: 万 from 1e4, 亿 from 1e8, 万亿 from 1e12,
                              for money, masses, areas, lengths and counts; else 0, 4, 8, 12 */
    int digits;            /* significant digits; 0 (default): those reading it back needs */
    bool more_than_prefix; /* 超过14万吨 rather than 14万余吨 */
} jp_figure_opts_t;

void jp_figure_opts_init(jp_figure_opts_t *o);

/*
 * Write value v (in `unit`, which may be NULL, scaled - 万元 - or compound -
 * 元/人) with qualifier q as the article prints it: 14.8万亩, 约11.4亿美元,
 * 3.78万元以上, 14万余吨 (余 after a round number, else 超过 before it),
 * 不足5吨, 5吨以下.  The digits are the fewest that read back to v, so
 * jp_quantity_parse of the text gives v (in the primary unit), q and the
 * unit again (with opts digits, rounded instead).  o may be NULL.
 */
jp_status_t jp_figure_format(double v, const char *unit, jp_qual_t q, const jp_figure_opts_t *o,
                             char *out, size_t size, jp_error_t *err);

/* A number for people: the shortest text that reads back to v, cut to
 * `digits` significant digits (0: not cut) but never to fewer than its
 * whole part (15.729453401494299 -> 15.72945 with 7; 123456.789 ->
 * 123457).  Returns the length, like snprintf. */
int jp_number_display(double v, int digits, char *buf, size_t size);

#endif
