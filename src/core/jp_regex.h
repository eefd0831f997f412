/*
 * jp_regex.h - patterns for the `pattern` constraint and the expression
 * function matches(): POSIX extended regular expressions, anchored so that
 * the pattern must match the WHOLE value (as the Frictionless Table Schema
 * and XML Schema patterns are): "[0-9]{4}" accepts "2021" and rejects
 * "x2021y".
 *
 * Matching is by characters (UTF-8 code points; an invalid byte is a
 * character of its own), in time linear in the text: the pattern compiles
 * to an NFA program that is simulated, never backtracked, so the time is at
 * most the text's length times the program's size (JP_REGEX_MAX_PROGRAM).  Compilation is bounded
 * too: counted repetitions are expanded, and a pattern whose program would
 * exceed JP_REGEX_MAX_PROGRAM instructions, nests groups deeper than
 * JP_REGEX_MAX_DEPTH or counts past JP_REGEX_MAX_COUNT is refused with the
 * reason before anything is built.
 *
 * Syntax: `|`, `( )`, `* + ?`, `{n} {n,} {n,m} {,m}`, `.`, `^ $` (anchors
 * anywhere), bracket expressions with ranges, `[:class:]`, `[=c=]`, `[.c.]`;
 * `\d \D \w \W \s \S`, `\b \B \< \>`, `\n \t \r`, and a backslash before any
 * other punctuation for the character itself.  Back-references (`\1`) are
 * refused: they cannot be matched in linear time.  Classes (`[:alpha:]`,
 * `\w`) are Unicode's through the C library's C.UTF-8 locale when there is
 * one, ASCII's otherwise; `\d` is [0-9].
 *
 * Ownership: jp_regex_compile returns an object the caller frees with
 * jp_regex_free.  A compiled pattern holds its matching state, so it may be
 * used by one thread at a time.
 */
#ifndef JP_REGEX_H
#define JP_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"

#define JP_REGEX_MAX_PROGRAM 5000
#define JP_REGEX_MAX_DEPTH   100
#define JP_REGEX_MAX_COUNT   1000

typedef struct jp_regex jp_regex_t;

/* NULL and a JP_ERR_ARG message quoting the pattern and the reason when it
 * is invalid or too large (JP_ERR_NOMEM when memory runs out). */
jp_regex_t *jp_regex_compile(const char *pattern, jp_error_t *err);
/* Does the whole of s[0..n) match?  s may contain NUL bytes. */
bool jp_regex_match(jp_regex_t *re, const char *s, size_t n);
void jp_regex_free(jp_regex_t *re);

#endif
