/*
 * test_regex.c - the pattern engine: POSIX ERE syntax anchored to the whole
 * value, characters not bytes, the limits that keep compiling and matching
 * bounded, and the refusals (back-references, malformed patterns) with
 * their reasons.
 */
#include <stdlib.h>
#include "jp_mem.h"
#include "jp_regex.h"
#include "unit.h"

static int matches(const char *pat, const char *s, size_t n)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_regex_t *re = jp_regex_compile(pat, &err);
    if (!re) {
        printf("# '%s' does not compile: %s\n", pat, err.msg);
        return -1;
    }
    int m = jp_regex_match(re, s, n);
    jp_regex_free(re);
    return m;
}

#define YES(p, s) CHECK_MSG(matches(p, s, strlen(s)) == 1, "'%s' should match '%s'", p, s)
#define NO(p, s)  CHECK_MSG(matches(p, s, strlen(s)) == 0, "'%s' should not match '%s'", p, s)

static void refused(const char *pat, const char *frag, int line)
{
    jp_error_t err;
    jp_error_clear(&err);
    jp_regex_t *re = jp_regex_compile(pat, &err);
    CHECK_MSG(re == NULL, "line %d: '%s' compiled", line, pat);
    jp_regex_free(re);
    CHECK_MSG(err.code == JP_ERR_ARG && strstr(err.msg, frag), "line %d: '%s' not in '%s'", line,
              frag, err.msg);
}
#define REFUSED(p, frag) refused(p, frag, __LINE__)

static void test_syntax(void)
{
    YES("[0-9]{4}", "2021");
    NO("[0-9]{4}", "x2021y");
    NO("[0-9]{4}", "20211");
    YES("a|b", "b");
    NO("a|b", "ab");
    YES("(ab)+", "ababab");
    NO("(ab)+", "");
    YES("(ab)*", "");
    YES("a?b", "b");
    YES("a{2,3}", "aaa");
    NO("a{2,3}", "aaaa");
    YES("a{,2}", "");
    YES("a{2,}", "aaaaa");
    NO("a{2,}", "a");
    YES("x{2}{3}", "xxxxxx");
    YES("a**", "aaa");
    YES("", "");
    NO("", "a");
    YES("()", "");
    YES("a|", "");
    YES(".{2}", "樱桃");
    NO(".{2}", "樱");
    YES("[樱桃]+", "樱桃樱");
    YES("[[:alpha:]]+", "abc");
    YES("[[:digit:][:upper:]]+", "A1B2");
    NO("[[:digit:]]", "x");
    YES("[^a]", "b");
    NO("[^a]", "a");
    YES("[]a]", "]");
    YES("[a-]", "-");
    YES("[]-]+", "-]");
    YES("[=a=][.b.]", "ab");
    YES("\\d{3}", "123");
    NO("\\d", "a");
    YES("\\D", "a");
    YES("\\w+", "a_1");
    NO("\\w", "-");
    YES("\\s", " ");
    YES("\\S", "x");
    YES("a\\.b", "a.b");
    NO("a\\.b", "axb");
    YES("[\\d]", "d"); /* a backslash is itself in a bracket expression, as POSIX says */
    YES("a\\nb", "a\nb");
    YES("^a$", "a");
    NO("a^b", "ab");
    NO("a$b", "ab");
    YES("\\bword\\b", "word");
    YES("x)", "x)"); /* a ')' that closes nothing is itself */
    YES("a|b)", "b)");
    YES("a\\(b", "a(b");
    /* invalid UTF-8 bytes are characters of their own */
    CHECK(matches(".", "\xff", 1) == 1);
    CHECK(matches("a\xff", "a\xff", 2) == 1);
    CHECK(matches("..", "\xe6\xa8", 2) == 1); /* a truncated sequence: two bytes */
    CHECK(matches("a.b", "a\0b", 3) == 0);    /* '.' is not NUL, as in POSIX */
    CHECK(matches("a[^x]b", "a\0b", 3) == 1);
}

static void test_refusals(void)
{
    REFUSED("[a-", "unmatched [");
    REFUSED("(ab", "unmatched (");
    REFUSED("[z-a]", "invalid range");
    REFUSED("[[:foo:]]", "unknown character class [:foo:]");
    REFUSED("*a", "'*' repeats nothing");
    REFUSED("a|+", "'+' repeats nothing");
    REFUSED("^*", "repeats an anchor");
    REFUSED("a{3,2}", "maximum is below its minimum");
    REFUSED("a{2", "unmatched {");
    REFUSED("a{1001}", "a repetition count above 1000");
    REFUSED("\\q", "unknown escape '\\q'");
    REFUSED("a\\", "trailing backslash");
    REFUSED("[[.hyphen.]]", "not a single character");
    /* back-references: the wrapper used to shift them ((b)(a)\2 rejected baa) */
    REFUSED("(b)(a)\\2", "back-references (\\2) are not supported");
    /* 100 bytes that expanded to a 10 GB program */
    REFUSED("((a{1,255}){1,255}){1,255}", "too large (its repetitions expand to more than 5000");
    char deep[400];
    memset(deep, '(', 101);
    deep[101] = 'a';
    memset(deep + 102, ')', 101);
    deep[203] = '\0';
    REFUSED(deep, "groups nested more than 100 deep (at character 101)");
    REFUSED("a*******************", "more than 8 repetitions in a row");
    /* the message quotes a long pattern shortened */
    char *longp = malloc(2000);
    memset(longp, '[', 1999);
    longp[1999] = '\0';
    jp_error_t err;
    CHECK(jp_regex_compile(longp, &err) == NULL && strstr(err.msg, "...'") != NULL);
    free(longp);
}

/* Texts that make a backtracking engine take exponential time are linear. */
static void test_linear(void)
{
    size_t n = 200000;
    char *a = malloc(n + 1);
    memset(a, 'a', n);
    a[n] = '\0';
    const char *pats[] = {"(a|aa)*b", "(a*)*b", "(a+a+)+b", "(a|a?)+b", "((a*)*)*c"};
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++)
        CHECK_MSG(matches(pats[k], a, n) == 0, "%s", pats[k]);
    CHECK(matches("(a|aa)*", a, n) == 1);
    CHECK(matches("(.*a){20}", a, n) == 1);
    free(a);
}

static void test_oom(void)
{
    int ok = 0;
    for (long k = 1; k < 200 && !ok; k++) {
        jp_error_t err;
        jp_error_clear(&err);
        jp_mem_fail_after(k, 1);
        jp_regex_t *re = jp_regex_compile("([a-c]{2}|[[:alpha:]]x|\\d+)*y", &err);
        jp_mem_fail_after(0, 0);
        if (re) {
            ok = jp_regex_match(re, "abzx12y", 7);
            jp_regex_free(re);
        } else
            CHECK_MSG(err.code == JP_ERR_NOMEM, "allocation %ld: %s", k, err.msg);
    }
    CHECK(ok);
}

int main(void)
{
    test_syntax();
    test_refusals();
    test_linear();
    test_oom();
    return unit_done();
}
