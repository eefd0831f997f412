/*
 * jp_suggest.h - "did you mean ...?" for misspelt names: fields, options,
 * units, constraints.  One helper, so every message suggests the same way.
 *
 * A candidate is close when its edit distance to the name (insertions,
 * deletions, substitutions and swaps of neighbouring characters - UTF-8
 * code points, ASCII letters compared without case) is at most (length +
 * 1) / 3, between 1 and 3; the closest wins, the first of equals.  Names longer than 64
 * characters are never matched.  No allocation; nothing is kept: the result
 * points at the caller's candidate.
 */
#ifndef JP_SUGGEST_H
#define JP_SUGGEST_H

#include <stddef.h>

typedef struct jp_suggest {
    const char *name; /* what was written */
    const char *best; /* the closest candidate so far, or NULL */
    long dist;
    long limit;
} jp_suggest_t;

void jp_suggest_init(jp_suggest_t *s, const char *name);
/* Consider one candidate (NULL is ignored).  An exact match is not a
 * suggestion (distance 0 is skipped): the caller asks because none matched. */
void jp_suggest_add(jp_suggest_t *s, const char *cand);
/* The closest candidate within the limit, or NULL. */
const char *jp_suggest_best(const jp_suggest_t *s);

/* The closest of cands[0..n) (n < 0: up to a NULL entry), or NULL. */
const char *jp_suggest(const char *name, const char *const *cands, long n);

/* Edit distance in code points (ASCII without case); a large number when
 * either is longer than 64 code points. */
long jp_name_distance(const char *a, const char *b);

#endif
