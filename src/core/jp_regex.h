/*
 * jp_regex.h - patterns for the `pattern` constraint: POSIX extended regular
 * expressions, anchored so that the pattern must match the WHOLE value (as
 * the Frictionless Table Schema and XML Schema patterns are): "[0-9]{4}"
 * accepts "2021" and rejects "x2021y".
 *
 * Matching is by characters (UTF-8 code points) whatever the process locale:
 * patterns are compiled and run under a thread-local C.UTF-8 locale when the
 * C library has one.  Outside bracket expressions `\d` and `\D` are accepted
 * as [0-9] and [^0-9] (common in Frictionless schemas); glibc also knows
 * `\w \W \s \S`.  No back-references, lazy quantifiers or look-around.
 *
 * Ownership: jp_regex_compile returns an object the caller frees with
 * jp_regex_free.  A compiled pattern may be used by one thread at a time.
 */
#ifndef JP_REGEX_H
#define JP_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"

typedef struct jp_regex jp_regex_t;

/* NULL and a JP_ERR_ARG message quoting the pattern when it is invalid. */
jp_regex_t *jp_regex_compile(const char *pattern, jp_error_t *err);
/* Does the whole of s[0..n) match?  s may contain NUL bytes. */
bool jp_regex_match(const jp_regex_t *re, const char *s, size_t n);
void jp_regex_free(jp_regex_t *re);

#endif
