/*
 * fuzz_pattern.c - the pattern engine (src/core/jp_regex.c) on any pattern
 * and text.  The input is the pattern, a NUL byte, then the text (no NUL:
 * the pattern alone, matched against a few fixed texts).
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour" and the
 * fuzzer's timeout (compiling and matching are bounded, whatever the input):
 *  - a refusal is JP_ERR_ARG (or out of memory) with a message that quotes
 *    the pattern;
 *  - a compiled pattern gives the same answer when asked twice, with other
 *    texts in between (its matching state is reset);
 *  - `p|p` matches what p matches, and so does `(p)` when p has no ')'
 *    that closes nothing (a literal, which the wrapper would change);
 *  - `(p)?` matches the empty text.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "jp_regex.h"

static const char *const TEXTS[] = {
    "", "a", "ab", "2021", "樱桃", "a b", "aaaaaaaaaaaaaaaaaaaab", "x)y", "\xff"};
#define NTEXTS (sizeof TEXTS / sizeof TEXTS[0])

static jp_regex_t *compile(const char *p, bool must)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_regex_t *re = jp_regex_compile(p, &err);
    if (!re) {
        FUZZ_ASSERT(err.code == JP_ERR_ARG || err.code == JP_ERR_NOMEM, "code %d: %s",
                    (int)err.code, err.msg);
        FUZZ_ASSERT(err.code == JP_ERR_NOMEM || strncmp(err.msg, "bad pattern '", 13) == 0,
                    "the message does not quote the pattern: %s", err.msg);
        FUZZ_ASSERT(!must, "refused: %s", err.msg);
    }
    return re;
}

/* Does p have a ')' that closes nothing (a literal, which a wrapper would change)? */
static bool stray_paren(const char *p)
{
    long depth = 0;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\' && p[i + 1]) {
            i++;
        } else if (p[i] == '[') {
            size_t j = i + 1;
            if (p[j] == '^') j++;
            if (p[j] == ']') j++;
            while (p[j] && p[j] != ']') {
                if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    /* [:class:], [.c.], [=c=]: their ']' does not close the bracket */
                    char k = p[j + 1];
                    size_t e = j + 2;
                    while (p[e] && p[e + 1] && !(p[e] == k && p[e + 1] == ']')) e++;
                    if (!p[e] || !p[e + 1]) return true; /* unbalanced: leave it */
                    j = e + 2;
                } else
                    j++;
            }
            if (!p[j]) return true; /* unbalanced: leave it */
            i = j;
        } else if (p[i] == '(') {
            depth++;
        } else if (p[i] == ')' && depth-- == 0) {
            return true;
        }
    }
    return false;
}

static void agree(const char *pat, const char *wrapped, const char *text, size_t n, bool want)
{
    jp_regex_t *w = compile(wrapped, false);
    if (!w) return; /* may be too large, or nested one level too deep */
    FUZZ_ASSERT(jp_regex_match(w, text, n) == want, "'%s' and '%s' differ", pat, wrapped);
    jp_regex_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)((const uint8_t *)nul - data) : size;
    if (plen > 4096) return 0;
    char *pat = malloc(plen + 1);
    char *text = malloc(size - plen + 1);
    char *alt = malloc(2 * plen + 8);
    if (!pat || !text || !alt) goto done;
    memcpy(pat, data, plen);
    pat[plen] = '\0';
    size_t tlen = nul ? size - plen - 1 : 0;
    if (nul) memcpy(text, nul + 1, tlen);
    jp_regex_t *re = compile(pat, false);
    if (!re) goto done;
    bool first = nul ? jp_regex_match(re, text, tlen) : false;
    for (size_t k = 0; k < NTEXTS; k++) {
        const char *t = TEXTS[k];
        bool m = jp_regex_match(re, t, strlen(t));
        snprintf(alt, 2 * plen + 8, "%s|%s", pat, pat);
        agree(pat, alt, t, strlen(t), m);
        if (!stray_paren(pat)) {
            snprintf(alt, 2 * plen + 8, "(%s)", pat);
            agree(pat, alt, t, strlen(t), m);
        }
        if (k == 0) {
            snprintf(alt, 2 * plen + 8, "(%s)?", pat);
            if (!stray_paren(pat)) agree(pat, alt, "", 0, true);
        }
    }
    if (nul)
        FUZZ_ASSERT(jp_regex_match(re, text, tlen) == first, "'%s' answers twice differently", pat);
    jp_regex_free(re);
done:
    free(pat);
    free(text);
    free(alt);
    return 0;
}
