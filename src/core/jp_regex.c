/*
 * jp_regex.c - anchored POSIX extended regular expressions over UTF-8 text,
 * matched in time linear in the text: the pattern becomes a small NFA
 * program (Thompson's construction) run by simulating every thread at once
 * (a Pike VM without captures), so no input makes it backtrack.
 *
 * Owns the pattern syntax, its limits (counted repetitions are expanded
 * into the program, so the program's size is bounded before anything is
 * built) and the character classes.  Never changes the process locale: the
 * classes ask a C.UTF-8 locale object (iswctype_l) when the C library has
 * one, ASCII otherwise.  Never recurses deeper than the pattern's nesting,
 * which is bounded.
 */
#include "jp_regex.h"

#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>
#include "jp_mem.h"

/* ---- pattern syntax tree ---------------------------------------------------- */

enum { R_EMPTY, R_CHAR, R_ANY, R_SET, R_ASSERT, R_CAT, R_ALT, R_REP };
enum { A_BOL, A_EOL, A_WORDB, A_NWORDB, A_WSTART, A_WEND };

/* a code point that is no character: an invalid byte b reads as BYTE0 + b */
#define BYTE0 0x110000u

typedef struct rnode {
    int kind;
    uint32_t c;    /* R_CHAR: code point; R_SET: set index; R_ASSERT: kind */
    int min, max;  /* R_REP; max -1: no bound */
    int kid, next; /* first child (R_CAT, R_ALT, R_REP), next sibling */
    size_t at;     /* offset in the pattern, for messages */
} rnode_t;

/* A bracket expression: ranges of code points and named classes. */
/* A named class: the locale's (wctype_l) when there is a UTF-8 locale,
 * else an index into class_names for the ASCII definition. */
typedef struct rclass {
    wctype_t w;
    int ascii;
} rclass_t;

typedef struct rset {
    uint32_t *lo, *hi;
    size_t n, cap;
    rclass_t cls[16];
    int ncls;
    bool neg;
} rset_t;

/* ---- program ------------------------------------------------------------------ */

enum { I_CHAR, I_ANY, I_SET, I_ASSERT, I_SPLIT, I_JMP, I_MATCH };

typedef struct rinst {
    uint8_t op;
    uint32_t x; /* I_CHAR: code point; I_SET: set; I_ASSERT: kind; I_SPLIT/I_JMP: target */
    uint32_t y; /* I_SPLIT: second target */
} rinst_t;

struct jp_regex {
    rinst_t *prog;
    size_t n;
    rset_t *sets;
    size_t nsets;
    locale_t loc; /* (locale_t)0 when no UTF-8 locale exists */
    /* matching state, made once: two thread lists (sparse sets) and a stack */
    uint32_t *dense[2], *sparse[2], *stack;
};

/* ---- parser ------------------------------------------------------------------ */

typedef struct rparse {
    const unsigned char *p;
    size_t len, i;
    rnode_t *nodes;
    size_t nn, capn;
    rset_t *sets;
    size_t nsets, capsets;
    int depth;
    locale_t loc;
    char why[160]; /* the reason a pattern is refused */
    size_t where;
    bool nomem;
} rparse_t;

static int fail(rparse_t *ps, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(rparse_t *ps, size_t at, const char *fmt, ...)
{
    if (!ps->why[0] && !ps->nomem) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->why, sizeof ps->why, fmt, ap);
        va_end(ap);
        ps->where = at;
    }
    return -1;
}

static int node(rparse_t *ps, int kind, size_t at)
{
    if (ps->nn == ps->capn) {
        size_t cap = ps->capn ? ps->capn * 2 : 32;
        rnode_t *n = jp_realloc_array(ps->nodes, cap, sizeof *n);
        if (!n) {
            ps->nomem = true;
            return -1;
        }
        ps->nodes = n;
        ps->capn = cap;
    }
    rnode_t *n = &ps->nodes[ps->nn];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->kid = n->next = -1;
    n->at = at;
    return (int)ps->nn++;
}

/* The code point at p[i..len) and its length; an invalid byte is BYTE0 + it. */
static uint32_t utf8_at(const unsigned char *p, size_t len, size_t i, size_t *used)
{
    unsigned char b = p[i];
    uint32_t c;
    size_t need;
    if (b < 0x80) {
        *used = 1;
        return b;
    } else if (b >= 0xC2 && b <= 0xDF) {
        c = b & 0x1F;
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        c = b & 0x0F;
        need = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
        c = b & 0x07;
        need = 3;
    } else {
        *used = 1;
        return BYTE0 + b;
    }
    if (len - i <= need) { /* fewer bytes left than the lead byte announces */
        *used = 1;
        return BYTE0 + b;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned char t = p[i + k];
        if ((t & 0xC0) != 0x80) {
            *used = 1;
            return BYTE0 + b;
        }
        c = (c << 6) | (t & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not characters */
    if ((need == 2 && c < 0x800) || (need == 3 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF)) {
        *used = 1;
        return BYTE0 + b;
    }
    *used = need + 1;
    return c;
}

static const char *const class_names[] = {"alpha", "digit", "alnum", "upper", "lower", "space",
                                          "blank", "punct", "print", "graph", "cntrl", "xdigit"};
#define NCLASS (sizeof class_names / sizeof class_names[0])

static int new_set(rparse_t *ps)
{
    if (ps->nsets == ps->capsets) {
        size_t cap = ps->capsets ? ps->capsets * 2 : 8;
        rset_t *s = jp_realloc_array(ps->sets, cap, sizeof *s);
        if (!s) {
            ps->nomem = true;
            return -1;
        }
        ps->sets = s;
        ps->capsets = cap;
    }
    memset(&ps->sets[ps->nsets], 0, sizeof ps->sets[0]);
    return (int)ps->nsets++;
}

static bool set_range(rparse_t *ps, rset_t *s, uint32_t lo, uint32_t hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        uint32_t *a = jp_realloc_array(s->lo, cap, sizeof *a);
        if (!a) {
            ps->nomem = true;
            return false;
        }
        s->lo = a;
        uint32_t *b = jp_realloc_array(s->hi, cap, sizeof *b);
        if (!b) {
            ps->nomem = true;
            return false;
        }
        s->hi = b;
        s->cap = cap;
    }
    s->lo[s->n] = lo;
    s->hi[s->n] = hi;
    s->n++;
    return true;
}

static bool set_class(rparse_t *ps, rset_t *s, const char *name, size_t at)
{
    size_t k = 0;
    while (k < NCLASS && strcmp(class_names[k], name) != 0) k++;
    if (k == NCLASS) {
        fail(ps, at, "unknown character class [:%s:]", name);
        return false;
    }
    if (s->ncls == (int)(sizeof s->cls / sizeof s->cls[0])) {
        fail(ps, at, "too many character classes in one bracket expression");
        return false;
    }
    s->cls[s->ncls].w = ps->loc ? wctype_l(name, ps->loc) : 0;
    s->cls[s->ncls++].ascii = (int)k;
    return true;
}

/* "[...]" from ps->i at the '['. */
static int parse_bracket(rparse_t *ps)
{
    size_t start = ps->i++;
    int si = new_set(ps);
    if (si < 0) return -1;
    const unsigned char *p = ps->p;
    size_t len = ps->len;
    if (ps->i < len && p[ps->i] == '^') {
        ps->sets[si].neg = true;
        ps->i++;
    }
    bool first = true;
    for (;;) {
        if (ps->i >= len) return fail(ps, start, "unmatched [");
        rset_t *s = &ps->sets[si];
        size_t at = ps->i;
        if (p[ps->i] == ']' && !first) {
            ps->i++;
            break;
        }
        first = false;
        uint32_t lo;
        if (p[ps->i] == '[' && ps->i + 1 < len &&
            (p[ps->i + 1] == ':' || p[ps->i + 1] == '=' || p[ps->i + 1] == '.')) {
            char kind = (char)p[ps->i + 1];
            size_t b = ps->i + 2, e = b;
            while (e + 1 < len && !(p[e] == kind && p[e + 1] == ']')) e++;
            if (e + 1 >= len) return fail(ps, at, "unmatched [%c", kind);
            ps->i = e + 2;
            if (kind == ':') {
                char name[16];
                if (e - b >= sizeof name) return fail(ps, at, "unknown character class");
                memcpy(name, p + b, e - b);
                name[e - b] = '\0';
                if (!set_class(ps, s, name, at)) return -1;
                continue;
            }
            /* [=c=] and [.c.]: one character (no multi-character collating elements) */
            size_t used = 0;
            lo = b < e ? utf8_at(p, e, b, &used) : 0;
            if (b == e || b + used != e)
                return fail(ps, at, "[%c%.*s%c] is not a single character", kind, (int)(e - b),
                            (const char *)p + b, kind);
        } else {
            size_t used;
            lo = utf8_at(p, len, ps->i, &used);
            ps->i += used;
        }
        uint32_t hi = lo;
        if (ps->i + 1 < len && p[ps->i] == '-' && p[ps->i + 1] != ']') {
            ps->i++;
            if (p[ps->i] == '[' && ps->i + 1 < len && p[ps->i + 1] == ':')
                return fail(ps, ps->i, "a range cannot end with a class");
            if (p[ps->i] == '[' && ps->i + 1 < len &&
                (p[ps->i + 1] == '.' || p[ps->i + 1] == '=')) {
                char kind = (char)p[ps->i + 1];
                size_t b = ps->i + 2, e = b;
                while (e + 1 < len && !(p[e] == kind && p[e + 1] == ']')) e++;
                size_t used = 0;
                if (e + 1 >= len || b == e) return fail(ps, ps->i, "unmatched [%c", kind);
                hi = utf8_at(p, e, b, &used);
                if (b + used != e) return fail(ps, ps->i, "not a single character");
                ps->i = e + 2;
            } else {
                size_t used;
                hi = utf8_at(p, len, ps->i, &used);
                ps->i += used;
            }
            if (hi < lo) return fail(ps, at, "invalid range (its end comes before its start)");
        }
        if (!set_range(ps, &ps->sets[si], lo, hi)) return -1;
    }
    int n = node(ps, R_SET, start);
    if (n >= 0) ps->nodes[n].c = (uint32_t)si;
    return n;
}

/* \d \D \w \W \s \S as sets. */
static int escape_set(rparse_t *ps, char e, size_t at)
{
    int si = new_set(ps);
    if (si < 0) return -1;
    rset_t *s = &ps->sets[si];
    s->neg = e == 'D' || e == 'W' || e == 'S';
    bool ok = true;
    if (e == 'd' || e == 'D')
        ok = set_range(ps, s, '0', '9');
    else if (e == 'w' || e == 'W')
        ok = set_class(ps, s, "alnum", at) && set_range(ps, &ps->sets[si], '_', '_');
    else
        ok = set_class(ps, s, "space", at);
    if (!ok) return -1;
    int n = node(ps, R_SET, at);
    if (n >= 0) ps->nodes[n].c = (uint32_t)si;
    return n;
}

static int parse_alt(rparse_t *ps);

static int parse_atom(rparse_t *ps)
{
    const unsigned char *p = ps->p;
    size_t at = ps->i;
    unsigned char c = p[ps->i];
    int n;
    switch (c) {
    case '(': {
        if (++ps->depth > JP_REGEX_MAX_DEPTH)
            return fail(ps, at, "groups nested more than %d deep", JP_REGEX_MAX_DEPTH);
        ps->i++;
        int e = parse_alt(ps);
        if (e < 0) return -1;
        if (ps->i >= ps->len || p[ps->i] != ')') return fail(ps, at, "unmatched (");
        ps->i++;
        ps->depth--;
        return e;
    }
    case ')': /* at depth 0 only */
        ps->i++;
        if ((n = node(ps, R_CHAR, at)) >= 0) ps->nodes[n].c = ')';
        return n;
    case '[':
        return parse_bracket(ps);
    case '.':
        ps->i++;
        return node(ps, R_ANY, at);
    case '^':
    case '$':
        ps->i++;
        if ((n = node(ps, R_ASSERT, at)) >= 0) ps->nodes[n].c = c == '^' ? A_BOL : A_EOL;
        return n;
    case '*':
    case '+':
    case '?':
    case '{':
        return fail(ps, at, "'%c' repeats nothing", c);
    case '\\': {
        if (ps->i + 1 >= ps->len) return fail(ps, at, "a trailing backslash");
        unsigned char e = p[ps->i + 1];
        ps->i += 2;
        if (e >= '1' && e <= '9')
            return fail(ps, at,
                        "back-references (\\%c) are not supported: they cannot be matched in "
                        "linear time",
                        e);
        if (strchr("dDwWsS", e) && e) return escape_set(ps, (char)e, at);
        int a = e == 'b'    ? A_WORDB
                : e == 'B'  ? A_NWORDB
                : e == '<'  ? A_WSTART
                : e == '>'  ? A_WEND
                : e == '`'  ? A_BOL
                : e == '\'' ? A_EOL
                            : -1;
        if (a >= 0) {
            if ((n = node(ps, R_ASSERT, at)) >= 0) ps->nodes[n].c = (uint32_t)a;
            return n;
        }
        uint32_t lit;
        if (e == 'n')
            lit = '\n';
        else if (e == 't')
            lit = '\t';
        else if (e == 'r')
            lit = '\r';
        else if (e >= 0x80 ||
                 !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))) {
            size_t used;
            ps->i--;
            lit = utf8_at(p, ps->len, ps->i, &used);
            ps->i += used;
        } else
            return fail(ps, at, "unknown escape '\\%c'", e);
        if ((n = node(ps, R_CHAR, at)) >= 0) ps->nodes[n].c = lit;
        return n;
    }
    default: {
        size_t used;
        uint32_t cp = utf8_at(p, ps->len, ps->i, &used);
        ps->i += used;
        if ((n = node(ps, R_CHAR, at)) >= 0) ps->nodes[n].c = cp;
        return n;
    }
    }
}

/* "{n}", "{n,}", "{n,m}", "{,m}" at ps->i; false (with a reason) when malformed. */
static bool parse_bound(rparse_t *ps, int *min, int *max)
{
    const unsigned char *p = ps->p;
    size_t at = ps->i++;
    long v[2] = {-1, -1};
    bool comma = false;
    for (int k = 0; k < 2; k++) {
        long x = -1;
        while (ps->i < ps->len && p[ps->i] >= '0' && p[ps->i] <= '9') {
            x = (x < 0 ? 0 : x) * 10 + (p[ps->i++] - '0');
            if (x > JP_REGEX_MAX_COUNT) {
                fail(ps, at, "a repetition count above %d", JP_REGEX_MAX_COUNT);
                return false;
            }
        }
        v[k] = x;
        if (k == 0 && ps->i < ps->len && p[ps->i] == ',') {
            comma = true;
            ps->i++;
        } else
            break;
    }
    if (ps->i >= ps->len || p[ps->i] != '}') {
        fail(ps, at, "unmatched { (a bound is {n}, {n,} or {n,m})");
        return false;
    }
    ps->i++;
    if (v[0] < 0 && !(comma && v[1] >= 0)) {
        fail(ps, at, "a bound needs a number");
        return false;
    }
    *min = v[0] < 0 ? 0 : (int)v[0];
    *max = comma ? (int)v[1] : *min;
    if (*max >= 0 && *max < *min) {
        fail(ps, at, "a bound {%d,%d} whose maximum is below its minimum", *min, *max);
        return false;
    }
    return true;
}

static int parse_repeat(rparse_t *ps)
{
    int e = parse_atom(ps);
    int stacked = 0;
    while (e >= 0 && ps->i < ps->len) {
        unsigned char c = ps->p[ps->i];
        int min, max;
        size_t at = ps->i;
        if (c == '*' || c == '+' || c == '?') {
            ps->i++;
            min = c == '+';
            max = c == '?' ? 1 : -1;
        } else if (c == '{') {
            if (!parse_bound(ps, &min, &max)) return -1;
        } else
            break;
        if (++stacked > 8) return fail(ps, at, "more than 8 repetitions in a row");
        if (ps->nodes[e].kind == R_ASSERT) return fail(ps, at, "'%c' repeats an anchor", c);
        int r = node(ps, R_REP, at);
        if (r < 0) return -1;
        ps->nodes[r].kid = e;
        ps->nodes[r].min = min;
        ps->nodes[r].max = max;
        e = r;
    }
    return e;
}

static int parse_cat(rparse_t *ps)
{
    int cat = node(ps, R_CAT, ps->i), last = -1;
    if (cat < 0) return -1;
    /* POSIX reads a ')' that closes nothing as itself (parse_atom) */
    while (ps->i < ps->len && ps->p[ps->i] != '|' && (ps->p[ps->i] != ')' || !ps->depth)) {
        int e = parse_repeat(ps);
        if (e < 0) return -1;
        if (last < 0)
            ps->nodes[cat].kid = e;
        else
            ps->nodes[last].next = e;
        last = e;
    }
    return cat;
}

static int parse_alt(rparse_t *ps)
{
    int alt = node(ps, R_ALT, ps->i);
    if (alt < 0) return -1;
    int last = -1;
    for (;;) {
        int e = parse_cat(ps);
        if (e < 0) return -1;
        if (last < 0)
            ps->nodes[alt].kid = e;
        else
            ps->nodes[last].next = e;
        last = e;
        if (ps->i < ps->len && ps->p[ps->i] == '|') {
            ps->i++;
            continue;
        }
        return alt;
    }
}

/* ---- compiling to the program ------------------------------------------------ */

/* Instructions node n compiles to, saturated at JP_REGEX_MAX_PROGRAM + 1. */
static size_t size_of(const rparse_t *ps, int n)
{
    const size_t cap = JP_REGEX_MAX_PROGRAM + 1;
    const rnode_t *r = &ps->nodes[n];
    size_t s = 0;
    switch (r->kind) {
    case R_CAT:
    case R_ALT: {
        size_t k = 0;
        for (int c = r->kid; c >= 0; c = ps->nodes[c].next, k++) s += size_of(ps, c);
        if (r->kind == R_ALT && k > 1) s += 2 * (k - 1);
        break;
    }
    case R_REP: {
        size_t e = size_of(ps, r->kid);
        size_t times = (size_t)r->min + (r->max < 0 ? 1 : (size_t)(r->max - r->min));
        if (e && times > cap / e) return cap;
        s = e * times + (r->max < 0 ? 2 : (size_t)(r->max - r->min));
        break;
    }
    case R_EMPTY:
        return 0;
    default:
        return 1;
    }
    return s > cap ? cap : s;
}

typedef struct emitter {
    rinst_t *prog;
    size_t n;
} emitter_t;

static size_t put(emitter_t *em, uint8_t op, uint32_t x, uint32_t y)
{
    em->prog[em->n] = (rinst_t){op, x, y};
    return em->n++;
}

static void emit_node(const rparse_t *ps, emitter_t *em, int n);

static void emit_rep(const rparse_t *ps, emitter_t *em, const rnode_t *r)
{
    for (int k = 0; k < r->min; k++) emit_node(ps, em, r->kid);
    if (r->max < 0) {
        /* L: split body, out; body; jmp L */
        size_t split = put(em, I_SPLIT, 0, 0);
        em->prog[split].x = (uint32_t)em->n;
        emit_node(ps, em, r->kid);
        put(em, I_JMP, (uint32_t)split, 0);
        em->prog[split].y = (uint32_t)em->n;
        return;
    }
    /* each optional copy: split body, out; every out is the end (patched
     * once the end is known: an inner repetition patches its own first) */
    size_t first = em->n;
    for (int k = 0; k < r->max - r->min; k++) {
        size_t split = put(em, I_SPLIT, 0, UINT32_MAX);
        em->prog[split].x = (uint32_t)em->n;
        emit_node(ps, em, r->kid);
    }
    for (size_t pc = first; pc < em->n; pc++)
        if (em->prog[pc].op == I_SPLIT && em->prog[pc].y == UINT32_MAX)
            em->prog[pc].y = (uint32_t)em->n;
}

static void emit_node(const rparse_t *ps, emitter_t *em, int n)
{
    const rnode_t *r = &ps->nodes[n];
    switch (r->kind) {
    case R_CHAR:
        put(em, I_CHAR, r->c, 0);
        break;
    case R_ANY:
        put(em, I_ANY, 0, 0);
        break;
    case R_SET:
        put(em, I_SET, r->c, 0);
        break;
    case R_ASSERT:
        put(em, I_ASSERT, r->c, 0);
        break;
    case R_CAT:
        for (int c = r->kid; c >= 0; c = ps->nodes[c].next) emit_node(ps, em, c);
        break;
    case R_ALT: {
        if (r->kid < 0 || ps->nodes[r->kid].next < 0) {
            if (r->kid >= 0) emit_node(ps, em, r->kid);
            break;
        }
        /* split a, rest; a; jmp end; rest: ... the last alternative has no split */
        size_t jumps_from = em->n;
        for (int c = r->kid; c >= 0; c = ps->nodes[c].next) {
            if (ps->nodes[c].next < 0) {
                emit_node(ps, em, c);
                break;
            }
            size_t split = put(em, I_SPLIT, 0, 0);
            em->prog[split].x = (uint32_t)em->n;
            emit_node(ps, em, c);
            put(em, I_JMP, UINT32_MAX, 0);
            em->prog[split].y = (uint32_t)em->n;
        }
        for (size_t pc = jumps_from; pc < em->n; pc++)
            if (em->prog[pc].op == I_JMP && em->prog[pc].x == UINT32_MAX)
                em->prog[pc].x = (uint32_t)em->n;
        break;
    }
    case R_REP:
        emit_rep(ps, em, r);
        break;
    default:
        break;
    }
}

/* ---- the public face ------------------------------------------------------------ */

static locale_t utf8_locale(void)
{
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!l) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    return l;
}

static void free_sets(rset_t *sets, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        jp_free(sets[k].lo);
        jp_free(sets[k].hi);
    }
    jp_free(sets);
}

void jp_regex_free(jp_regex_t *re)
{
    if (!re) return;
    jp_free(re->prog);
    free_sets(re->sets, re->nsets);
    for (int k = 0; k < 2; k++) {
        jp_free(re->dense[k]);
        jp_free(re->sparse[k]);
    }
    jp_free(re->stack);
    if (re->loc) freelocale(re->loc);
    jp_free(re);
}

jp_regex_t *jp_regex_compile(const char *pattern, jp_error_t *err)
{
    rparse_t ps;
    memset(&ps, 0, sizeof ps);
    ps.p = (const unsigned char *)pattern;
    ps.len = strlen(pattern);
    jp_regex_t *re = jp_calloc(1, sizeof *re);
    if (!re) goto nomem;
    re->loc = ps.loc = utf8_locale();
    int root = parse_alt(&ps);
    if (ps.nomem) goto nomem;
    /* the pattern quoted in messages, shortened when long */
    int qlen = ps.len > 60 ? 57 : (int)ps.len;
    const char *dots = ps.len > 60 ? "..." : "";
    if (root < 0 || ps.why[0]) {
        jp_error_set(err, JP_ERR_ARG, "bad pattern '%.*s%s': %s (at character %zu)", qlen, pattern,
                     dots, ps.why, ps.where + 1);
        goto fail;
    }
    size_t size = size_of(&ps, root) + 1;
    if (size > JP_REGEX_MAX_PROGRAM) {
        jp_error_set(err, JP_ERR_ARG,
                     "bad pattern '%.*s%s': too large (its repetitions expand to more than %d "
                     "steps)",
                     qlen, pattern, dots, JP_REGEX_MAX_PROGRAM);
        goto fail;
    }
    emitter_t em = {jp_malloc_array(size, sizeof(rinst_t)), 0};
    re->prog = em.prog;
    for (int k = 0; k < 2; k++) {
        re->dense[k] = jp_malloc_array(size, sizeof(uint32_t));
        re->sparse[k] = jp_malloc_array(size, sizeof(uint32_t));
    }
    re->stack = jp_malloc_array(size, sizeof(uint32_t));
    if (!em.prog || !re->dense[0] || !re->dense[1] || !re->sparse[0] || !re->sparse[1] ||
        !re->stack)
        goto nomem;
    emit_node(&ps, &em, root);
    put(&em, I_MATCH, 0, 0);
    re->n = em.n;
    re->sets = ps.sets;
    re->nsets = ps.nsets;
    ps.sets = NULL;
    jp_free(ps.nodes);
    return re;
nomem:
    jp_error_set(err, JP_ERR_NOMEM, "out of memory");
fail:
    free_sets(ps.sets, ps.nsets);
    jp_free(ps.nodes);
    jp_regex_free(re);
    return NULL;
}

/* ---- matching -------------------------------------------------------------------- */

static bool ascii_class(int k, uint32_t c)
{
    bool alpha = (c | 32) >= 'a' && (c | 32) <= 'z', digit = c >= '0' && c <= '9';
    switch (k) {
    case 0:
        return alpha;
    case 1:
        return digit;
    case 2:
        return alpha || digit;
    case 3:
        return c >= 'A' && c <= 'Z';
    case 4:
        return c >= 'a' && c <= 'z';
    case 5:
        return c == ' ' || (c >= '\t' && c <= '\r');
    case 6:
        return c == ' ' || c == '\t';
    case 7:
        return c > ' ' && c < 0x7f && !alpha && !digit;
    case 8:
        return c >= ' ' && c < 0x7f;
    case 9:
        return c > ' ' && c < 0x7f;
    case 10:
        return c < ' ' || c == 0x7f;
    default:
        return digit || ((c | 32) >= 'a' && (c | 32) <= 'f');
    }
}

static bool in_class(const jp_regex_t *re, const rclass_t *k, uint32_t c)
{
    if (c >= BYTE0) return false;
    if (re->loc && k->w) return iswctype_l((wint_t)c, k->w, re->loc) != 0;
    return c < 0x80 && ascii_class(k->ascii, c);
}

static bool in_set(const jp_regex_t *re, const rset_t *s, uint32_t c)
{
    bool hit = false;
    for (size_t k = 0; k < s->n && !hit; k++) hit = c >= s->lo[k] && c <= s->hi[k];
    for (int k = 0; k < s->ncls && !hit; k++) hit = in_class(re, &s->cls[k], c);
    return hit != s->neg;
}

static bool is_word(const jp_regex_t *re, uint32_t c)
{
    if (c == '_') return true;
    if (c >= BYTE0) return false;
    if (re->loc) return iswalnum_l((wint_t)c, re->loc) != 0;
    return c < 0x80 && ascii_class(2, c);
}

/* Does assertion `a` hold between characters prev and next (UINT32_MAX: none)? */
static bool holds(const jp_regex_t *re, uint32_t a, uint32_t prev, uint32_t next)
{
    bool wp = prev != UINT32_MAX && is_word(re, prev), wn = next != UINT32_MAX && is_word(re, next);
    switch (a) {
    case A_BOL:
        return prev == UINT32_MAX;
    case A_EOL:
        return next == UINT32_MAX;
    case A_WORDB:
        return wp != wn;
    case A_NWORDB:
        return wp == wn;
    case A_WSTART:
        return !wp && wn;
    default:
        return wp && !wn;
    }
}

/* Add pc and everything reachable from it without reading a character to
 * list k (a sparse set, so each instruction enters once per position). */
static void add_thread(jp_regex_t *re, int k, size_t *count, uint32_t pc, uint32_t prev,
                       uint32_t next)
{
    uint32_t *dense = re->dense[k], *sparse = re->sparse[k], *stack = re->stack;
    size_t top = 0;
    stack[top++] = pc;
    while (top) {
        pc = stack[--top];
        uint32_t s = sparse[pc];
        if (s < *count && dense[s] == pc) continue;
        sparse[pc] = (uint32_t)*count;
        dense[(*count)++] = pc;
        const rinst_t *in = &re->prog[pc];
        /* each pc enters once, so the stack never holds more than the program */
        if (in->op == I_JMP)
            stack[top++] = in->x;
        else if (in->op == I_SPLIT) {
            stack[top++] = in->y;
            stack[top++] = in->x;
        } else if (in->op == I_ASSERT && holds(re, in->x, prev, next))
            stack[top++] = pc + 1;
    }
}

bool jp_regex_match(jp_regex_t *re, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t counts[2] = {0, 0}, i = 0, len = 0;
    int cur = 0;
    uint32_t c = n ? utf8_at(s, n, 0, &len) : UINT32_MAX;
    add_thread(re, cur, &counts[cur], 0, UINT32_MAX, c);
    while (i < n) {
        if (!counts[cur]) return false;
        int nx = 1 - cur;
        size_t ni = i + len, nlen = 0;
        uint32_t after = ni < n ? utf8_at(s, n, ni, &nlen) : UINT32_MAX;
        counts[nx] = 0;
        for (size_t t = 0; t < counts[cur]; t++) {
            uint32_t pc = re->dense[cur][t];
            const rinst_t *in = &re->prog[pc];
            bool step = (in->op == I_CHAR && in->x == c) || (in->op == I_ANY && c != 0) ||
                        (in->op == I_SET && in_set(re, &re->sets[in->x], c));
            if (step) add_thread(re, nx, &counts[nx], pc + 1, c, after);
        }
        cur = nx;
        c = after;
        i = ni;
        len = nlen;
    }
    for (size_t t = 0; t < counts[cur]; t++)
        if (re->prog[re->dense[cur][t]].op == I_MATCH) return true;
    return false;
}
