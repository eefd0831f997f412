/*
 * jp_regex.c - anchored POSIX ERE matching for the `pattern` constraint.
 *
 * Owns the translation of a schema pattern into a POSIX one and the locale
 * dance that makes matching character-based.  Never changes the process
 * locale: only the calling thread's, and only for the duration of a call.
 */
#include "jp_regex.h"

#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include "jp_buf.h"
#include "jp_mem.h"

struct jp_regex {
    regex_t re;
    locale_t loc; /* (locale_t)0 when no UTF-8 locale exists */
};

static locale_t utf8_locale(void)
{
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!l) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    return l;
}

/* P with \d and \D spelled out; bracket expressions are copied as they
 * are (a backslash is literal inside them in POSIX). */
static jp_status_t translate(const char *p, jp_buf_t *out)
{
    jp_status_t st = JP_OK;
    size_t n = strlen(p);
    long depth = 0;
    for (size_t i = 0; i < n && st == JP_OK; i++) {
        if (p[i] == '(') {
            depth++;
            st = jp_buf_putc(out, '(');
        } else if (p[i] == ')') {
            /* POSIX reads a ')' that closes nothing as a literal; once the
             * pattern is wrapped in "^(...)$" it would close the wrapper */
            st = depth > 0 ? jp_buf_putc(out, ')') : jp_buf_puts(out, "\\)");
            if (depth > 0) depth--;
        } else if (p[i] == '[') {
            size_t j = i + 1;
            if (j < n && p[j] == '^') j++;
            if (j < n && p[j] == ']') j++; /* a leading ] is literal */
            while (j < n && p[j] != ']') {
                if (p[j] == '[' && j + 1 < n &&
                    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    char close = p[j + 1];
                    size_t e = n;
                    for (size_t k = j + 2; k + 1 < n; k++)
                        if (p[k] == close && p[k + 1] == ']') {
                            e = k + 2;
                            break;
                        }
                    j = e;
                } else {
                    j++;
                }
            }
            size_t end = j < n ? j + 1 : n;
            st = jp_buf_append(out, p + i, end - i);
            i = end - 1;
        } else if (p[i] == '\\' && i + 1 < n && (p[i + 1] == 'd' || p[i + 1] == 'D')) {
            st = jp_buf_puts(out, p[i + 1] == 'd' ? "[0-9]" : "[^0-9]");
            i++;
        } else if (p[i] == '\\' && i + 1 < n) {
            st = jp_buf_append(out, p + i, 2);
            i++;
        } else {
            st = jp_buf_putc(out, p[i]);
        }
    }
    if (st == JP_OK && !out->data) st = jp_buf_puts(out, "");
    return st;
}

static int compile_in(regex_t *re, const char *text, locale_t loc)
{
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    int rc = regcomp(re, text, REG_EXTENDED | REG_NOSUB);
    if (loc) uselocale(old);
    return rc;
}

jp_regex_t *jp_regex_compile(const char *pattern, jp_error_t *err)
{
    jp_regex_t *r = jp_calloc(1, sizeof *r);
    jp_buf_t bare = JP_BUF_INIT, wrapped = JP_BUF_INIT;
    if (!r || translate(pattern, &bare) != JP_OK ||
        jp_buf_printf(&wrapped, "^(%s)$", bare.data) != JP_OK) {
        jp_free(r);
        jp_buf_free(&bare);
        jp_buf_free(&wrapped);
        jp_error_set(err, JP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->loc = utf8_locale();
    /* the bare pattern first: its own errors are the clearest to report */
    regex_t probe;
    int rc = compile_in(&probe, bare.data, r->loc);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &probe, msg, sizeof msg);
        jp_error_set(err, JP_ERR_ARG, "bad pattern '%s': %s", pattern, msg);
        goto fail;
    }
    regfree(&probe);
    rc = compile_in(&r->re, wrapped.data, r->loc);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &r->re, msg, sizeof msg);
        jp_error_set(err, JP_ERR_ARG, "bad pattern '%s': %s", pattern, msg);
        goto fail;
    }
    jp_buf_free(&bare);
    jp_buf_free(&wrapped);
    return r;
fail:
    if (r->loc) freelocale(r->loc);
    jp_free(r);
    jp_buf_free(&bare);
    jp_buf_free(&wrapped);
    return NULL;
}

bool jp_regex_match(const jp_regex_t *re, const char *s, size_t n)
{
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    locale_t old = re->loc ? uselocale(re->loc) : (locale_t)0;
#ifdef REG_STARTEND
    int rc = regexec(&re->re, s, 1, m, REG_STARTEND);
#else
    int rc = regexec(&re->re, s, 0, NULL, 0);
#endif
    if (re->loc) uselocale(old);
    return rc == 0;
}

void jp_regex_free(jp_regex_t *re)
{
    if (!re) return;
    regfree(&re->re);
    if (re->loc) freelocale(re->loc);
    jp_free(re);
}
