/*
 * jp_expr_lex.c - the expression language's tokens: names, `backquoted`
 * names, Lua's numbers and strings with their escapes, operators (with a
 * hint for the ones other languages spell differently), and the helpers
 * that turn a compile error into a message with its column.
 *
 * Owns the token syntax.  Must never: allocate a node or read the schema.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jp_expr_int.h"
#include "jp_mem.h"

/* ---- diagnostics ------------------------------------------------------------ */

void jpx_tok_free(token_t *t)
{
    jp_free(t->s);
    t->s = NULL;
}

/* The source quoted for messages, shortened when long. */
static void quote_src(const cstate_t *cs, char *buf, size_t size)
{
    if (cs->srclen > 60)
        snprintf(buf, size, "\"%.57s...\"", cs->src);
    else
        snprintf(buf, size, "\"%s\"", cs->src);
}

jp_status_t jpx_err(cstate_t *cs, size_t pos, const char *fmt, ...)
{
    if (cs->st) return cs->st; /* keep the first error */
    char msg[700], q[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    quote_src(cs, q, sizeof q);
    cs->st = jp_error_set(cs->err, JP_ERR_EXPR, "%s in %s", msg, q);
    if (cs->err) cs->err->col = (long)pos + 1;
    return cs->st;
}

jp_status_t jpx_nomem(cstate_t *cs)
{
    if (!cs->st) cs->st = jp_error_set(cs->err, JP_ERR_NOMEM, "out of memory");
    return cs->st;
}

/* ---- lexer ---------------------------------------------------------------- */

static bool is_name_start(int c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}
static bool is_name_char(int c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

const char *jpx_tok_text(int kind)
{
    switch (kind) {
    case T_ADD:
        return "+";
    case T_SUB:
        return "-";
    case T_MUL:
        return "*";
    case T_DIV:
        return "/";
    case T_IDIV:
        return "//";
    case T_MOD:
        return "%";
    case T_POW:
        return "^";
    case T_LEN:
        return "#";
    case T_CONCAT:
        return "..";
    case T_EQ:
        return "==";
    case T_NE:
        return "~=";
    case T_LT:
        return "<";
    case T_LE:
        return "<=";
    case T_GT:
        return ">";
    case T_GE:
        return ">=";
    case T_AND:
        return "and";
    case T_OR:
        return "or";
    case T_NOT:
        return "not";
    default:
        return "?";
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static jp_status_t lex_string(cstate_t *cs, token_t *t)
{
    const char *s = cs->src;
    char q = s[cs->p];
    size_t start = cs->p++;
    jp_buf_t b = JP_BUF_INIT;
    for (;;) {
        if (cs->p >= cs->srclen) {
            jp_buf_free(&b);
            return jpx_err(cs, start, "unterminated string starting at column %zu", start + 1);
        }
        char c = s[cs->p];
        if (c == q) {
            cs->p++;
            break;
        }
        if (c == '\\') {
            size_t epos = cs->p;
            char e = cs->p + 1 < cs->srclen ? s[cs->p + 1] : '\0';
            cs->p += 2;
            int v;
            switch (e) {
            case 'n':
                v = '\n';
                break;
            case 't':
                v = '\t';
                break;
            case 'r':
                v = '\r';
                break;
            case 'a':
                v = '\a';
                break;
            case 'b':
                v = '\b';
                break;
            case 'f':
                v = '\f';
                break;
            case 'v':
                v = '\v';
                break;
            case '\\':
                v = '\\';
                break;
            case '"':
                v = '"';
                break;
            case '\'':
                v = '\'';
                break;
            case 'x': {
                int h1 = cs->p < cs->srclen ? hexval((unsigned char)s[cs->p]) : -1;
                int h2 = cs->p + 1 < cs->srclen ? hexval((unsigned char)s[cs->p + 1]) : -1;
                if (h1 < 0 || h2 < 0) {
                    jp_buf_free(&b);
                    return jpx_err(cs, epos, "bad escape '\\x' at column %zu", epos + 1);
                }
                v = h1 * 16 + h2;
                cs->p += 2;
                break;
            }
            default:
                if (e >= '0' && e <= '9') {
                    v = e - '0';
                    for (int k = 0; k < 2 && cs->p < cs->srclen && isdigit((unsigned char)s[cs->p]);
                         k++)
                        v = v * 10 + (s[cs->p++] - '0');
                    if (v > 255) {
                        jp_buf_free(&b);
                        return jpx_err(cs, epos, "bad escape at column %zu (decimal above 255)",
                                       epos + 1);
                    }
                } else {
                    jp_buf_free(&b);
                    return jpx_err(cs, epos, "bad escape '\\%c' at column %zu", e ? e : ' ',
                                   epos + 1);
                }
            }
            if (jp_buf_putc(&b, (char)v)) {
                jp_buf_free(&b);
                return jpx_nomem(cs);
            }
            continue;
        }
        if (jp_buf_putc(&b, c)) {
            jp_buf_free(&b);
            return jpx_nomem(cs);
        }
        cs->p++;
    }
    if (!b.data && jp_buf_reserve(&b, 1)) return jpx_nomem(cs);
    t->kind = T_STR;
    t->slen = b.len;
    t->s = jp_buf_detach(&b, NULL);
    return JP_OK;
}

static jp_status_t lex_number(cstate_t *cs, token_t *t)
{
    const char *s = cs->src;
    size_t start = cs->p;
    if (s[cs->p] == '0' && (s[cs->p + 1] == 'x' || s[cs->p + 1] == 'X')) {
        cs->p += 2;
        uint64_t v = 0;
        size_t nd = 0;
        while (cs->p < cs->srclen && hexval((unsigned char)s[cs->p]) >= 0) {
            v = v * 16 + (uint64_t)hexval((unsigned char)s[cs->p++]);
            nd++;
        }
        if (!nd || (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p])))
            return jpx_err(cs, start, "malformed number at column %zu", start + 1);
        t->kind = T_INT;
        t->i = (int64_t)v; /* wraps around like Lua's hexadecimal integers */
        return JP_OK;
    }
    bool flt = false;
    while (cs->p < cs->srclen) {
        char c = s[cs->p];
        if (isdigit((unsigned char)c))
            cs->p++;
        else if (c == '.' && !(cs->p + 1 < cs->srclen && s[cs->p + 1] == '.')) {
            flt = true;
            cs->p++;
        } else if ((c == 'e' || c == 'E')) {
            flt = true;
            cs->p++;
            if (cs->p < cs->srclen && (s[cs->p] == '+' || s[cs->p] == '-')) cs->p++;
        } else
            break;
    }
    if (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p]))
        return jpx_err(cs, start, "malformed number at column %zu", start + 1);
    size_t n = cs->p - start;
    char buf[128];
    if (n >= sizeof buf) return jpx_err(cs, start, "number too long at column %zu", start + 1);
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    if (!flt) {
        errno = 0;
        char *endp;
        unsigned long long v = strtoull(buf, &endp, 10);
        if (!errno && *endp == '\0' && v <= (unsigned long long)INT64_MAX) {
            t->kind = T_INT;
            t->i = (int64_t)v;
            return JP_OK;
        }
    }
    char *endp;
    double d = strtod(buf, &endp);
    if (*endp != '\0' || endp == buf)
        return jpx_err(cs, start, "malformed number '%s' at column %zu", buf, start + 1);
    t->kind = T_FLT;
    t->d = d;
    return JP_OK;
}

/* Read the next token into cs->tok. */
jp_status_t jpx_next(cstate_t *cs)
{
    token_t *t = &cs->tok;
    jpx_tok_free(t);
    memset(t, 0, sizeof *t);
    const char *s = cs->src;
    while (cs->p < cs->srclen && isspace((unsigned char)s[cs->p])) cs->p++;
    t->pos = cs->p;
    if (cs->p >= cs->srclen) {
        t->kind = T_EOF;
        return JP_OK;
    }
    if (++cs->n_tokens > JP_EXPR_MAX_TOKENS)
        return jpx_err(cs, t->pos, "expression too long at column %zu (more than %d tokens)",
                       t->pos + 1, JP_EXPR_MAX_TOKENS);
    unsigned char c = (unsigned char)s[cs->p];
    char c1 = cs->p + 1 < cs->srclen ? s[cs->p + 1] : '\0';
    jp_status_t st = JP_OK;
    if (is_name_start(c)) {
        size_t start = cs->p;
        while (cs->p < cs->srclen && is_name_char((unsigned char)s[cs->p])) cs->p++;
        size_t n = cs->p - start;
#define KW(w, k)                                                                                   \
    if (n == sizeof(w) - 1 && memcmp(s + start, w, n) == 0) {                                      \
        t->kind = k;                                                                               \
        goto done;                                                                                 \
    }
        KW("and", T_AND)
        KW("or", T_OR)
        KW("not", T_NOT)
        KW("nil", T_NIL)
        KW("true", T_TRUE)
        KW("false", T_FALSE)
#undef KW
        t->kind = T_NAME;
        if (!(t->s = jp_strndup(s + start, n))) return jpx_nomem(cs);
        t->slen = n;
        goto done;
    }
    if (c == '`') {
        size_t start = cs->p++;
        const char *q = memchr(s + cs->p, '`', cs->srclen - cs->p);
        if (!q) return jpx_err(cs, start, "unterminated `name` starting at column %zu", start + 1);
        size_t n = (size_t)(q - (s + cs->p));
        if (!n) return jpx_err(cs, start, "empty `` name at column %zu", start + 1);
        t->kind = T_NAME;
        if (!(t->s = jp_strndup(s + cs->p, n))) return jpx_nomem(cs);
        t->slen = n;
        cs->p += n + 1;
        goto done;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)c1))) {
        st = lex_number(cs, t);
        goto done;
    }
    if (c == '\'' || c == '"') {
        st = lex_string(cs, t);
        goto done;
    }
    cs->p++;
    switch (c) {
    case '(':
        t->kind = T_LP;
        break;
    case ')':
        t->kind = T_RP;
        break;
    case ',':
        t->kind = T_COMMA;
        break;
    case '+':
        t->kind = T_ADD;
        break;
    case '-':
        if (c1 == '-')
            return jpx_err(cs, t->pos, "comments are not allowed (column %zu)", t->pos + 1);
        t->kind = T_SUB;
        break;
    case '*':
        t->kind = T_MUL;
        break;
    case '/':
        if (c1 == '/') {
            cs->p++;
            t->kind = T_IDIV;
        } else
            t->kind = T_DIV;
        break;
    case '%':
        t->kind = T_MOD;
        break;
    case '^':
        t->kind = T_POW;
        break;
    case '#':
        t->kind = T_LEN;
        break;
    case '.':
        if (c1 == '.') {
            cs->p++;
            t->kind = T_CONCAT;
        } else
            return jpx_err(cs, t->pos, "unexpected '.' at column %zu", t->pos + 1);
        break;
    case '=':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_EQ;
        } else
            return jpx_err(cs, t->pos, "unexpected '=' at column %zu (use == to compare)",
                           t->pos + 1);
        break;
    case '~':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_NE;
        } else
            return jpx_err(cs, t->pos,
                           "unexpected '~' at column %zu (bitwise operators are not "
                           "supported; ~= means 'not equal')",
                           t->pos + 1);
        break;
    case '!':
        if (c1 == '=')
            return jpx_err(cs, t->pos, "unexpected '!=' at column %zu (use ~= for 'not equal')",
                           t->pos + 1);
        return jpx_err(cs, t->pos, "unexpected '!' at column %zu (use 'not')", t->pos + 1);
    case '&':
        return jpx_err(cs, t->pos, "unexpected '%s' at column %zu (use 'and')",
                       c1 == '&' ? "&&" : "&", t->pos + 1);
    case '|':
        return jpx_err(cs, t->pos, "unexpected '%s' at column %zu (use 'or')",
                       c1 == '|' ? "||" : "|", t->pos + 1);
    case '<':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_LE;
        } else if (c1 == '<') {
            return jpx_err(cs, t->pos,
                           "unexpected '<<' at column %zu (bitwise operators are not "
                           "supported)",
                           t->pos + 1);
        } else if (c1 == '>') {
            return jpx_err(cs, t->pos, "unexpected '<>' at column %zu (use ~= for 'not equal')",
                           t->pos + 1);
        } else
            t->kind = T_LT;
        break;
    case '>':
        if (c1 == '=') {
            cs->p++;
            t->kind = T_GE;
        } else if (c1 == '>') {
            return jpx_err(cs, t->pos,
                           "unexpected '>>' at column %zu (bitwise operators are not "
                           "supported)",
                           t->pos + 1);
        } else
            t->kind = T_GT;
        break;
    default:
        if (isprint(c)) return jpx_err(cs, t->pos, "unexpected '%c' at column %zu", c, t->pos + 1);
        return jpx_err(cs, t->pos, "unexpected byte 0x%02x at column %zu", c, t->pos + 1);
    }
done:
    t->len = cs->p - t->pos;
    return st;
}
