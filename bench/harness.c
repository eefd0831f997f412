/*
 * harness.c - the benchmark's measuring and checking tool, so that run.sh
 * needs nothing but a C compiler, a POSIX shell and awk.
 *
 *   harness time RESULT TIMEOUT_S CMD [ARG...]
 *       run CMD in its own process group; write "wall_s user_s sys_s
 *       maxrss_kb" to RESULT; exit with CMD's status (124 after a timeout,
 *       when the whole group is killed).  Peak RSS is ru_maxrss from wait4:
 *       the largest resident set of CMD or any descendant it waited for,
 *       the same figure /usr/bin/time -v prints.
 *   harness w1 REF.csv OUT.csv
 *       compare a W1 group table with the reference: same groups in the
 *       same order (district, then year), n exact, sum and mean within
 *       1e-9 relative.  Header names are not compared (tools name them
 *       differently); the column order is district, year, n, sum, mean.
 *   harness num EXPECTED FILE
 *       the first number in FILE equals EXPECTED within 1e-9 relative.
 *   harness csv COLUMN ROWS SUM [FILE]
 *       read a CSV (RFC 4180: quoted fields, doubled quotes, newlines in
 *       quotes, CRLF) from FILE or standard input; check it has ROWS records
 *       after the header and that COLUMN sums to SUM within 1e-9 relative.
 *   harness order IN.csv OUT.csv N
 *       OUT holds IN's rows sorted by district (bytes, ascending) then
 *       output_t (descending), the first N of them (N 0: all): the same
 *       fields as IN, and its (district, output_t) keys are exactly the
 *       first N of IN's keys in that order.  (Rows with equal keys may come
 *       in any order, so only the keys are compared.)
 *   harness share IN.csv FILE
 *       the first number in FILE is the number of distinct (district, year)
 *       pairs of IN, within 1e-9 relative: the sum over all rows of each
 *       row's share of its group's output_t.
 *   harness window IN.csv FILE
 *       FILE holds "count sum_prev sum_cum": over IN's rows per district in
 *       (year, output_t) order (empty output_t last), the number of non-null
 *       lag(output_t), their sum and the sum of the running sums of
 *       output_t (null where output_t is, the sum going on past it),
 *       computed here exactly (output_t has 3 decimals: integers of
 *       thousandths); count exact, sums within 1e-9 relative.
 *
 * Checks print one line saying what they found and exit 0 when it agrees,
 * 1 when it does not, 2 on usage or I/O errors.  This program must never
 * change the files it checks.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REL_TOL 1e-9

static int close_enough(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (m < 1.0) m = 1.0;
    return fabs(a - b) <= REL_TOL * m;
}

/* ---- time --------------------------------------------------------------- */

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static int cmd_time(int argc, char **argv)
{
    if (argc < 5) return -1;
    const char *result = argv[2];
    unsigned timeout = (unsigned)strtoul(argv[3], NULL, 10);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: wait4 must return */

    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        setpgid(0, 0);
        execvp(argv[4], argv + 4);
        fprintf(stderr, "harness: cannot run %s: %s\n", argv[4], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    if (timeout) alarm(timeout);

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t r = wait4(pid, &status, 0, &ru);
        if (r == pid) break;
        if (r < 0 && errno == EINTR && timed_out) {
            kill(-pid, SIGKILL);
            timed_out = 0;
            continue;
        }
        if (r < 0 && errno != EINTR) {
            perror("wait4");
            return 2;
        }
    }
    double wall = now_s() - t0;
    alarm(0);
    kill(-pid, SIGKILL); /* stragglers left in the background by CMD */

    FILE *f = fopen(result, "w");
    if (!f) {
        perror(result);
        return 2;
    }
    fprintf(f, "%.6f %.3f %.3f %ld\n", wall, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss);
    fclose(f);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGKILL ? 124 : 128 + WTERMSIG(status);
    return 2;
}

/* ---- a small CSV reader ------------------------------------------------- */

typedef struct csv {
    FILE *f;
    unsigned char buf[1 << 16];
    size_t pos, end;
    char *field; /* the current record's fields, NUL-separated */
    size_t len, cap;
    size_t starts[64];
    int nfields;
    int overflow;
} csv_t;

static int next_ch(csv_t *c)
{
    if (c->pos == c->end) {
        c->end = fread(c->buf, 1, sizeof c->buf, c->f);
        c->pos = 0;
        if (c->end == 0) return EOF;
    }
    return c->buf[c->pos++];
}

/* Only ever called right after next_ch returned a byte, so the byte is still there. */
static void unget_ch(csv_t *c, int ch)
{
    if (ch != EOF) c->pos--;
}

static int push(csv_t *c, int ch)
{
    if (c->len + 1 >= c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        char *p = realloc(c->field, ncap);
        if (!p) return -1;
        c->field = p;
        c->cap = ncap;
    }
    c->field[c->len++] = (char)ch;
    return 0;
}

static void start_field(csv_t *c)
{
    if (c->nfields < 64)
        c->starts[c->nfields] = c->len;
    else
        c->overflow = 1;
    c->nfields++;
}

/* One record: 1 read, 0 at end of input, -1 on a malformed record or OOM. */
static int csv_next(csv_t *c)
{
    int ch = next_ch(c);
    if (ch == EOF) return 0;
    c->len = 0;
    c->nfields = 0;
    c->overflow = 0;
    start_field(c);
    int quoted = 0, after_quote = 0;
    for (;; ch = next_ch(c)) {
        if (quoted) {
            if (ch == EOF) return -1;
            if (ch == '"') {
                int nx = next_ch(c);
                if (nx == '"') {
                    if (push(c, '"')) return -1;
                    continue;
                }
                unget_ch(c, nx);
                quoted = 0;
                after_quote = 1;
                continue;
            }
            if (push(c, ch)) return -1;
            continue;
        }
        if (ch == EOF || ch == '\n') break;
        if (ch == '\r') {
            int nx = next_ch(c);
            if (nx != '\n' && nx != EOF) unget_ch(c, nx);
            break;
        }
        if (ch == ',') {
            if (push(c, '\0')) return -1;
            start_field(c);
            after_quote = 0;
            continue;
        }
        if (ch == '"' && !after_quote && c->len == c->starts[c->nfields - 1]) {
            quoted = 1;
            continue;
        }
        if (after_quote) return -1; /* text after a closing quote */
        if (push(c, ch)) return -1;
    }
    if (push(c, '\0')) return -1;
    return 1;
}

static const char *csv_field(const csv_t *c, int i)
{
    if (i < 0 || i >= c->nfields || i >= 64) return NULL;
    return c->field + c->starts[i];
}

static int parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    *out = strtod(s, &end);
    return (*end || errno) ? -1 : 0;
}

static FILE *open_in(const char *path)
{
    if (!path || strcmp(path, "-") == 0) return stdin;
    FILE *f = fopen(path, "rb");
    if (!f) fprintf(stderr, "harness: cannot open %s: %s\n", path, strerror(errno));
    return f;
}

/* ---- checks ------------------------------------------------------------- */

static int cmd_csv(int argc, char **argv)
{
    if (argc < 5 || argc > 6) return -1;
    const char *column = argv[2];
    unsigned long long want_rows = strtoull(argv[3], NULL, 10);
    double want_sum = strtod(argv[4], NULL);
    static csv_t c;
    memset(&c, 0, sizeof c);
    c.f = open_in(argc == 6 ? argv[5] : NULL);
    if (!c.f) return 2;
    if (csv_next(&c) != 1) {
        printf("no header\n");
        return 1;
    }
    int col = -1;
    for (int i = 0; i < c.nfields && i < 64; i++)
        if (strcmp(csv_field(&c, i), column) == 0) col = i;
    if (col < 0) {
        printf("no column %s in the header\n", column);
        return 1;
    }
    unsigned long long rows = 0, bad = 0;
    double sum = 0;
    int r;
    while ((r = csv_next(&c)) == 1) {
        double v;
        rows++;
        if (parse_double(csv_field(&c, col), &v))
            bad++;
        else
            sum += v;
    }
    if (r < 0) {
        printf("malformed CSV after record %llu\n", rows);
        return 1;
    }
    int ok = rows == want_rows && bad == 0 && close_enough(sum, want_sum);
    printf("rows=%llu sum(%s)=%.6f%s %s\n", rows, column, sum, bad ? " (unparsable cells)" : "",
           ok ? "OK" : "MISMATCH");
    return ok ? 0 : 1;
}

static int cmd_num(int argc, char **argv)
{
    if (argc != 4) return -1;
    double want = strtod(argv[2], NULL), got;
    FILE *f = open_in(argv[3]);
    if (!f) return 2;
    if (fscanf(f, "%lf", &got) != 1) {
        printf("no number in %s MISMATCH\n", argv[3]);
        return 1;
    }
    fclose(f);
    int ok = close_enough(got, want);
    if (ok)
        printf("value=%.6f OK\n", got);
    else
        printf("value=%.6f, expected %.6f MISMATCH\n", got, want);
    return ok ? 0 : 1;
}

typedef struct w1row {
    char district[64];
    double year, n, sum, mean;
} w1row_t;

/* Rows of a W1 table; NULL on a read error. */
static w1row_t *read_w1(const char *path, size_t *count, char *why, size_t whylen)
{
    static csv_t c;
    memset(&c, 0, sizeof c);
    c.f = open_in(path);
    if (!c.f) {
        snprintf(why, whylen, "cannot open %s", path);
        return NULL;
    }
    w1row_t *rows = NULL;
    size_t n = 0, cap = 0;
    int r = csv_next(&c); /* header */
    while (r == 1 && (r = csv_next(&c)) == 1) {
        if (c.nfields < 5) {
            snprintf(why, whylen, "record %zu has %d fields", n + 1, c.nfields);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            w1row_t *p = realloc(rows, cap * sizeof *rows);
            if (!p) goto fail;
            rows = p;
        }
        w1row_t *w = &rows[n];
        snprintf(w->district, sizeof w->district, "%s", csv_field(&c, 0));
        if (parse_double(csv_field(&c, 1), &w->year) || parse_double(csv_field(&c, 2), &w->n) ||
            parse_double(csv_field(&c, 3), &w->sum) || parse_double(csv_field(&c, 4), &w->mean)) {
            snprintf(why, whylen, "record %zu has a cell that is not a number", n + 1);
            goto fail;
        }
        n++;
    }
    if (r < 0) {
        snprintf(why, whylen, "malformed CSV");
        goto fail;
    }
    if (c.f != stdin) fclose(c.f);
    free(c.field);
    *count = n;
    return rows ? rows : calloc(1, sizeof *rows);
fail:
    if (c.f != stdin) fclose(c.f);
    free(c.field);
    free(rows);
    return NULL;
}

static int cmd_w1(int argc, char **argv)
{
    if (argc != 4) return -1;
    char why[256] = "";
    size_t nr = 0, nx = 0;
    w1row_t *ref = read_w1(argv[2], &nr, why, sizeof why);
    if (!ref) {
        printf("reference unreadable: %s\n", why);
        return 2;
    }
    w1row_t *got = read_w1(argv[3], &nx, why, sizeof why);
    if (!got) {
        printf("%s MISMATCH\n", why);
        free(ref);
        return 1;
    }
    double kept = 0;
    for (size_t i = 0; i < nx; i++) kept += got[i].n;
    int ok = nr == nx;
    if (!ok) snprintf(why, sizeof why, "%zu groups, expected %zu", nx, nr);
    for (size_t i = 0; ok && i < nr; i++) {
        const w1row_t *a = &ref[i], *b = &got[i];
        const char *bad = NULL;
        if (strcmp(a->district, b->district) != 0 || a->year != b->year)
            bad = "group key (order is district, year)";
        else if (a->n != b->n)
            bad = "n";
        else if (!close_enough(a->sum, b->sum))
            bad = "sum_output_t";
        else if (!close_enough(a->mean, b->mean))
            bad = "mean_yield";
        if (bad) {
            ok = 0;
            snprintf(why, sizeof why, "row %zu (%s %.0f): %s differs", i + 1, b->district, b->year,
                     bad);
        }
    }
    printf("groups=%zu kept=%.0f %s%s\n", nx, kept, ok ? "OK" : "MISMATCH: ", ok ? "" : why);
    free(ref);
    free(got);
    return ok ? 0 : 1;
}

/* ---- sorted and joined outputs (W5, SORT, JOIN) ------------------------------ */

typedef struct okey {
    int district; /* index into the names, which are sorted by bytes */
    double out;
} okey_t;

static char **dnames;
static size_t ndnames;

/* The district's index among the distinct names seen (a new one is added). */
static int district_id(const char *s)
{
    for (size_t i = 0; i < ndnames; i++)
        if (strcmp(dnames[i], s) == 0) return (int)i;
    char **p = realloc(dnames, (ndnames + 1) * sizeof *p);
    if (!p) return -1;
    dnames = p;
    dnames[ndnames] = strdup(s);
    return dnames[ndnames] ? (int)ndnames++ : -1;
}

static int *drank; /* rank of each district id in byte order */

static int cmp_okey(const void *a, const void *b)
{
    const okey_t *x = a, *y = b;
    if (x->district != y->district) return drank[x->district] - drank[y->district];
    return x->out > y->out ? -1 : x->out < y->out; /* descending */
}

static int cmp_name_ids(const void *a, const void *b)
{
    return strcmp(dnames[*(const int *)a], dnames[*(const int *)b]);
}

/* The keys of every record of a CSV; the field count in *nf. */
static okey_t *read_keys(const char *path, size_t *n, int *nf, char *why, size_t whylen)
{
    static csv_t c;
    memset(&c, 0, sizeof c);
    c.f = open_in(path);
    *n = 0;
    if (!c.f) {
        snprintf(why, whylen, "cannot open %s", path);
        return NULL;
    }
    okey_t *k = NULL;
    size_t cap = 0;
    int dc = -1, oc = -1, r;
    if (csv_next(&c) != 1) {
        snprintf(why, whylen, "%s: no header", path);
        goto out;
    }
    *nf = c.nfields;
    for (int i = 0; i < c.nfields && i < 64; i++) {
        if (strcmp(csv_field(&c, i), "district") == 0) dc = i;
        if (strcmp(csv_field(&c, i), "output_t") == 0) oc = i;
    }
    if (dc < 0 || oc < 0) {
        snprintf(why, whylen, "%s: no district or output_t column", path);
        goto out;
    }
    while ((r = csv_next(&c)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            okey_t *p = realloc(k, nc * sizeof *p);
            if (!p) {
                snprintf(why, whylen, "out of memory");
                goto out;
            }
            k = p;
            cap = nc;
        }
        k[*n].district = district_id(csv_field(&c, dc));
        if (k[*n].district < 0 || parse_double(csv_field(&c, oc), &k[*n].out)) {
            snprintf(why, whylen, "%s: bad record %zu", path, *n + 1);
            goto out;
        }
        (*n)++;
    }
    if (r < 0) {
        snprintf(why, whylen, "%s: malformed CSV after record %zu", path, *n);
        goto out;
    }
    if (c.f != stdin) fclose(c.f);
    return k ? k : malloc(1);
out:
    if (c.f && c.f != stdin) fclose(c.f);
    free(k);
    return NULL;
}

static int cmd_order(int argc, char **argv)
{
    if (argc != 5) return -1;
    size_t want = strtoull(argv[4], NULL, 10), nin, nout;
    int fin = 0, fout = 0;
    char why[300] = "";
    okey_t *in = read_keys(argv[2], &nin, &fin, why, sizeof why);
    okey_t *out = in ? read_keys(argv[3], &nout, &fout, why, sizeof why) : NULL;
    int ok = in && out;
    if (ok) {
        drank = malloc((ndnames ? ndnames : 1) * sizeof *drank);
        int *ids = malloc((ndnames ? ndnames : 1) * sizeof *ids);
        if (!drank || !ids) return 2;
        for (size_t i = 0; i < ndnames; i++) ids[i] = (int)i;
        qsort(ids, ndnames, sizeof *ids, cmp_name_ids);
        for (size_t i = 0; i < ndnames; i++) drank[ids[i]] = (int)i;
        free(ids);
        qsort(in, nin, sizeof *in, cmp_okey);
        if (!want || want > nin) want = nin;
        if (fout != fin)
            ok = 0, snprintf(why, sizeof why, "%d fields, expected %d", fout, fin);
        else if (nout != want)
            ok = 0, snprintf(why, sizeof why, "%zu rows, expected %zu", nout, want);
        for (size_t i = 0; ok && i < want; i++)
            if (out[i].district != in[i].district || !close_enough(out[i].out, in[i].out)) {
                ok = 0;
                snprintf(why, sizeof why, "row %zu: %s %.6f, expected %s %.6f", i + 1,
                         dnames[out[i].district], out[i].out, dnames[in[i].district], in[i].out);
            }
    }
    printf("rows=%zu in key order %s%s\n", ok ? want : (size_t)0, ok ? "OK" : "MISMATCH: ",
           ok ? "" : why);
    free(in);
    free(out);
    return ok ? 0 : 1;
}

static int cmd_share(int argc, char **argv)
{
    if (argc != 4) return -1;
    static csv_t c;
    memset(&c, 0, sizeof c);
    c.f = open_in(argv[2]);
    if (!c.f) return 2;
    int dc = -1, yc = -1, r;
    if (csv_next(&c) != 1) return 2;
    for (int i = 0; i < c.nfields && i < 64; i++) {
        if (strcmp(csv_field(&c, i), "district") == 0) dc = i;
        if (strcmp(csv_field(&c, i), "year") == 0) yc = i;
    }
    if (dc < 0 || yc < 0) return 2;
    /* distinct (district, year): districts are few, years a small range */
    static unsigned char seen[4096][64];
    size_t groups = 0;
    while ((r = csv_next(&c)) == 1) {
        int d = district_id(csv_field(&c, dc));
        long y = strtol(csv_field(&c, yc), NULL, 10) - 1990;
        if (d < 0 || d >= 4096 || y < 0 || y >= 64) return 2;
        if (!seen[d][y]) seen[d][y] = 1, groups++;
    }
    if (c.f != stdin) fclose(c.f);
    char *argv2[] = {argv[0], "num", NULL, argv[3]};
    char want[32];
    snprintf(want, sizeof want, "%zu", groups);
    argv2[2] = want;
    return cmd_num(4, argv2);
}

typedef struct wrow {
    int district;
    int year;
    int null;        /* output_t is empty */
    long long milli; /* output_t in thousandths */
} wrow_t;

static int cmp_wrow(const void *a, const void *b)
{
    const wrow_t *x = a, *y = b;
    if (x->district != y->district) return x->district < y->district ? -1 : 1;
    if (x->year != y->year) return x->year < y->year ? -1 : 1;
    if (x->null != y->null) return x->null - y->null;
    return (x->milli > y->milli) - (x->milli < y->milli);
}

static int cmd_window(int argc, char **argv)
{
    if (argc != 4) return -1;
    static csv_t c;
    memset(&c, 0, sizeof c);
    c.f = open_in(argv[2]);
    if (!c.f) return 2;
    int dc = -1, yc = -1, oc = -1, r;
    if (csv_next(&c) != 1) return 2;
    for (int i = 0; i < c.nfields && i < 64; i++) {
        if (strcmp(csv_field(&c, i), "district") == 0) dc = i;
        if (strcmp(csv_field(&c, i), "year") == 0) yc = i;
        if (strcmp(csv_field(&c, i), "output_t") == 0) oc = i;
    }
    if (dc < 0 || yc < 0 || oc < 0) return 2;
    size_t n = 0, cap = 1 << 20;
    wrow_t *rows = malloc(cap * sizeof *rows);
    if (!rows) return 2;
    while ((r = csv_next(&c)) == 1) {
        double v = 0;
        const char *o = csv_field(&c, oc);
        if (o[0] && parse_double(o, &v)) return 2;
        if (n == cap) {
            wrow_t *g = realloc(rows, (cap *= 2) * sizeof *rows);
            if (!g) return 2;
            rows = g;
        }
        rows[n].district = district_id(csv_field(&c, dc));
        rows[n].year = (int)strtol(csv_field(&c, yc), NULL, 10);
        rows[n].null = !o[0];
        rows[n].milli = llround(v * 1000.0);
        n++;
    }
    if (c.f != stdin) fclose(c.f);
    /* equal keys have equal output_t: their order does not change the sums */
    qsort(rows, n, sizeof *rows, cmp_wrow);
    long long count = 0;
    __int128 sum_prev = 0, sum_cum = 0, cum = 0;
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0 || rows[i].district != rows[i - 1].district;
        if (first)
            cum = 0;
        else if (!rows[i - 1].null) {
            count++;
            sum_prev += rows[i - 1].milli;
        }
        if (rows[i].null) continue;
        cum += rows[i].milli;
        sum_cum += cum;
    }
    free(rows);
    double want_prev = (double)sum_prev / 1000.0, want_cum = (double)sum_cum / 1000.0;
    FILE *f = fopen(argv[3], "r");
    long long got_n;
    double got_prev, got_cum;
    if (!f || fscanf(f, "%lld %lf %lf", &got_n, &got_prev, &got_cum) != 3) {
        if (f) fclose(f);
        printf("cannot read \"count sum_prev sum_cum\" from %s MISMATCH\n", argv[3]);
        return 1;
    }
    fclose(f);
    int ok = got_n == count && close_enough(got_prev, want_prev) && close_enough(got_cum, want_cum);
    printf("lags=%lld sum(lag)=%.6f sum(cumsum)=%.6f%s\n", got_n, got_prev, got_cum,
           ok ? " OK" : " MISMATCH");
    if (!ok)
        printf("  expected lags=%lld sum(lag)=%.6f sum(cumsum)=%.6f\n", count, want_prev, want_cum);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    int rc = -1;
    if (argc >= 2) {
        if (strcmp(argv[1], "time") == 0)
            rc = cmd_time(argc, argv);
        else if (strcmp(argv[1], "w1") == 0)
            rc = cmd_w1(argc, argv);
        else if (strcmp(argv[1], "num") == 0)
            rc = cmd_num(argc, argv);
        else if (strcmp(argv[1], "csv") == 0)
            rc = cmd_csv(argc, argv);
        else if (strcmp(argv[1], "order") == 0)
            rc = cmd_order(argc, argv);
        else if (strcmp(argv[1], "share") == 0)
            rc = cmd_share(argc, argv);
        else if (strcmp(argv[1], "window") == 0)
            rc = cmd_window(argc, argv);
    }
    if (rc < 0) {
        fprintf(stderr, "usage: harness time RESULT TIMEOUT_S CMD...\n"
                        "       harness w1 REF.csv OUT.csv\n"
                        "       harness num EXPECTED FILE\n"
                        "       harness csv COLUMN ROWS SUM [FILE]\n"
                        "       harness order IN.csv OUT.csv N\n"
                        "       harness share IN.csv FILE\n"
                        "       harness window IN.csv FILE\n");
        rc = 2;
    }
    return rc;
}
