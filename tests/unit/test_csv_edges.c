/*
 * test_csv_edges.c - the CSV engine at its edges: delimiters a writer
 * refuses, figures that cannot be stored faithfully, streams (pipes,
 * FIFOs, standard input) and the stop flag while waiting on one.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "jp_csv.h"
#include "jp_limit.h"
#include "jp_mem.h"
#include "jp_unit.h"
#include "unit.h"

static const char *errtext(const jp_error_t *e)
{
    static char buf[700];
    jp_error_format(e, buf, sizeof buf);
    return buf;
}

static void test_delimiters(void)
{
    for (int c = 0; c < 256; c++) {
        bool ok =
            c == '\t' || (c > 0x20 && c < 0x7F && !strchr("\"'+-.<=>?~", c) &&
                          !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'));
        CHECK_MSG(jp_csv_delim_writable((char)c) == ok, "byte 0x%02X", c);
    }
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("m", "n,s\n1.5,x\n-2,2021-01-01\n", 24, NULL, &ds, &err) == JP_OK);
    jp_write_opts_t o;
    jp_write_opts_init(&o);
    const char bad[] = {'1', '.', '-', '"', '\n', '\r', ' ', 'e', '~', '>', (char)0xE4};
    for (size_t i = 0; i < sizeof bad; i++) {
        o.delimiter = bad[i];
        jp_buf_t b = JP_BUF_INIT;
        jp_error_clear(&err);
        CHECK(jp_csv_write_mem(ds, &o, &b, &err) == JP_ERR_ARG);
        CHECK(strstr(err.msg, "ambiguous") != NULL);
        CHECK_INT(b.len, 0);
        jp_buf_free(&b);
        jp_error_clear(&err);
        CHECK(jp_csv_write(ds, unit_path("w.csv"), &o, &err) == JP_ERR_ARG);
        CHECK(access(unit_path("w.csv"), F_OK) != 0); /* nothing written */
    }
    jp_dataset_unref(ds);
}

static void test_figures(void)
{
    double d = -1;
    CHECK(!jp_parse_double("1e-400", 6, &d));
    CHECK(!jp_parse_double("-2.5e-999", 9, &d));
    CHECK(!jp_parse_double("1e400", 5, &d));
    CHECK(jp_parse_double("0e-400", 6, &d) && d == 0);
    CHECK(jp_parse_double("0.000e-9999", 11, &d) && d == 0);
    CHECK(jp_parse_double("1e-310", 6, &d) && d > 0); /* subnormal, not zero */
    static const struct {
        const char *text, *why;
    } bad[] = {{"1e-400", "too small"},
               {"1e400", "too large"},
               {"万", "magnitude needs a number"},
               {"亿", "magnitude needs a number"},
               {"千万", "magnitude needs a number"},
               {"万吨", "no number"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jp_quantity_t q;
        jp_error_t err;
        jp_error_clear(&err);
        CHECK_MSG(!jp_quantity_parse(bad[i].text, strlen(bad[i].text), &q, &err), "%s",
                  bad[i].text);
        CHECK_MSG(strstr(err.msg, bad[i].why) != NULL, "%s: %s", bad[i].text, err.msg);
    }
    static const struct {
        const char *text;
        double v;
        jp_qual_t q;
    } good[] = {{"1万", 1e4, JP_Q_EXACT},      {"百余", 100, JP_Q_MORE_THAN},
                {"超万", 1e4, JP_Q_MORE_THAN}, {"万亿级", 1e12, JP_Q_AT_LEAST},
                {"近万", 1e4, JP_Q_APPROX},    {"1e-310", 1e-310, JP_Q_EXACT}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        jp_quantity_t q;
        jp_error_t err;
        jp_error_clear(&err);
        bool ok = jp_quantity_parse(good[i].text, strlen(good[i].text), &q, &err);
        CHECK_MSG(ok && q.value == good[i].v && q.qual == good[i].q, "%s: %s", good[i].text,
                  ok ? "" : err.msg);
    }
    /* inference keeps such a cell as text; a typed field says why it refuses it */
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("u.csv", "a\n1\n1e-400\n", 11, NULL, &ds, &err) == JP_OK);
    CHECK(ds && ds->schema.fields[0].type == JP_TYPE_STRING);
    jp_dataset_unref(ds);
    jp_schema_t sc;
    memset(&sc, 0, sizeof sc);
    jp_field_t f;
    jp_field_init(&f);
    f.name = "a";
    f.type = JP_TYPE_NUMBER;
    CHECK(jp_schema_add(&sc, &f, &err) == JP_OK);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &sc;
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("u.csv", "a\n1\n万\n", 9, &o, &ds, &err) == JP_ERR_TYPE);
    CHECK_INT(err.line, 3);
    CHECK(strstr(err.msg, "a magnitude needs a number") != NULL);
    jp_schema_free(&sc);
}

/* ---- streams --------------------------------------------------------------------------- */

typedef struct writer {
    const char *path, *text;
    int delay_ms;
} writer_t;

static void *write_later(void *arg)
{
    writer_t *w = arg;
    struct timespec ts = {0, (long)w->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    int fd = open(w->path, O_WRONLY);
    if (fd >= 0) {
        if (write(fd, w->text, strlen(w->text)) < 0) perror("write");
        close(fd);
    }
    return NULL;
}

static void *stop_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    jp_stop_request(JP_STOP_INTERRUPT);
    return NULL;
}

static size_t spools(void)
{
    /* temporary copies left in $TMPDIR (there must be none after a read) */
    char cmd[600];
    const char *t = getenv("TMPDIR");
    snprintf(cmd, sizeof cmd, "ls '%s'/jinpu-stream-* 2>/dev/null | wc -l", t && *t ? t : "/tmp");
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return (size_t)n;
}

static void test_streams(void)
{
    const char *text = "a,b\n1,x\n2,y\n";
    /* a private $TMPDIR: other processes' copies must not change the count */
    CHECK(mkdir(unit_path("tmp"), 0700) == 0);
    CHECK(setenv("TMPDIR", unit_path("tmp"), 1) == 0);
    size_t before = spools();
    /* "-": standard input, here a pipe */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    CHECK(write(pfd[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(pfd[1]);
    int saved = dup(0);
    dup2(pfd[0], 0);
    close(pfd[0]);
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_csv_read("-", NULL, &ds, &err);
    dup2(saved, 0);
    close(saved);
    CHECK_MSG(st == JP_OK, "%s", errtext(&err));
    if (ds) {
        CHECK_INT(ds->nrows, 2);
        CHECK_STR(ds->meta.name, "stdin");
        CHECK_STR(ds->origin, "stdin");
    }
    jp_dataset_unref(ds);
    /* a FIFO whose writer comes later, read lazily (the copy lives with the dataset) */
    CHECK(mkfifo(unit_path("fifo"), 0600) == 0);
    writer_t w = {unit_path("fifo"), text, 150};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, write_later, &w) == 0);
    jp_csv_tuning_t t = {0, 0, 0, 1, 0}; /* lazy from one byte */
    jp_csv_set_tuning(&t);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = true;
    jp_error_clear(&err);
    st = jp_csv_read(unit_path("fifo"), &o, &ds, &err);
    jp_csv_set_tuning(NULL);
    pthread_join(th, NULL);
    CHECK_MSG(st == JP_OK, "%s", errtext(&err));
    if (!st) {
        CHECK(ds->lazy != NULL);
        CHECK(jp_dataset_need_all(ds, &err) == JP_OK);
        CHECK_INT(ds->nrows, 2);
        CHECK_INT(ds->schema.fields[0].type, JP_TYPE_INT);
        jp_dataset_unref(ds);
    }
    /* nobody writes: the stop flag ends the wait, and no copy is left */
    pthread_t stopper;
    CHECK(pthread_create(&stopper, NULL, stop_later, NULL) == 0);
    jp_error_clear(&err);
    st = jp_csv_read(unit_path("fifo"), NULL, &ds, &err);
    pthread_join(stopper, NULL);
    jp_stop_reset();
    CHECK(st == JP_ERR_INTERRUPTED);
    CHECK(ds == NULL);
    /* a malformed stream names it, with the line */
    writer_t w2 = {unit_path("fifo"), "a,b\n1\n", 50};
    CHECK(pthread_create(&th, NULL, write_later, &w2) == 0);
    jp_error_clear(&err);
    st = jp_csv_read(unit_path("fifo"), NULL, &ds, &err);
    pthread_join(th, NULL);
    CHECK(st == JP_ERR_PARSE);
    CHECK_INT(err.line, 2);
    CHECK(strstr(err.file, "fifo") != NULL);
    CHECK_INT(spools(), before);
}

/* ---- the first error, whatever the chunks, batches and threads ---------------------------- */

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

/* A file whose columns change type as they go (decimals then text, so a
 * column dies and is read again; integers then text), with a few faults
 * scattered in: invalid UTF-8 in a cell, a record with a field too many or
 * too few, a bare quote, an unterminated quote, text after a quote, a NUL. */
static void make_file(jp_buf_t *b, unsigned rows)
{
    jp_buf_puts(b, "d,i,s,t\n");
    /* d and i die early; one to three faults follow, often in them */
    unsigned die_d = rnd(rows / 3 + 1), die_i = rnd(rows / 3 + 1);
    unsigned at[3], kind[3], nf = 1 + rnd(3);
    for (unsigned k = 0; k < nf; k++) {
        at[k] = rnd(rows);
        kind[k] = rnd(2) ? (rnd(2) ? 1 : 7) : 2 + rnd(5);
    }
    for (unsigned r = 0; r < rows; r++) {
        unsigned fault = 0;
        for (unsigned k = 0; k < nf; k++)
            if (at[k] == r) fault = kind[k];
        char d[40], in[40], s[40];
        snprintf(d, sizeof d, r == die_d || (r > die_d && rnd(5) == 0) ? "x%u" : "%u.%u", r,
                 rnd(100));
        snprintf(in, sizeof in, r == die_i || (r > die_i && rnd(5) == 0) ? "n%u" : "%u", r);
        snprintf(s, sizeof s, rnd(5) == 0 ? "\"q,%u\nline\"" : "s%u", rnd(50));
        const char *bad = "\xff\xfe";
        switch (fault) {
        case 1:
            jp_buf_printf(b, "%s,%s,%s,t\n", bad, in, s);
            break;
        case 2:
            jp_buf_printf(b, "%s,%s,%s,t,extra\n", d, in, s);
            break;
        case 3:
            jp_buf_printf(b, "%s,%s\n", d, in);
            break;
        case 4:
            jp_buf_printf(b, "%s,%s,a\"b,t\n", d, in);
            break;
        case 5:
            jp_buf_printf(b, "%s,%s,\"ab\"c,t\n", d, in);
            break;
        case 6:
            jp_buf_printf(b, "%s,%s,%s,t%c\n", d, in, s, 0);
            break;
        case 7:
            jp_buf_printf(b, "%s,%s,%s,t\n", d, bad, s);
            break;
        default:
            jp_buf_printf(b, "%s,%s,%s,t\n", d, in, s);
        }
    }
    if (rnd(4) == 0) jp_buf_puts(b, "1.5,2,\"open,t\n"); /* unterminated at the end */
}

/* What a read gives: the data, or the error (text, code, place). */
typedef struct outcome {
    jp_status_t st;
    char what[800];
    jp_dataset_t *ds, *rej;
} outcome_t;

/* variant 0: plain; 1: records set aside; 2: i typed integer by a schema
 * (its text cells are type errors); 3: only columns d and t. */
static void read_as(const jp_buf_t *b, int variant, outcome_t *o)
{
    memset(o, 0, sizeof *o);
    jp_read_opts_t ro;
    jp_read_opts_init(&ro);
    ro.keep_rejects = variant == 1;
    if (variant == 1) ro.rejects = &o->rej;
    static jp_schema_t sc;
    static const char *const cols[] = {"t", "d"};
    if (variant == 2) {
        if (!sc.n_fields) {
            jp_field_t f;
            jp_field_init(&f);
            f.name = "i";
            f.type = JP_TYPE_INT;
            jp_error_t e;
            jp_schema_add(&sc, &f, &e); /* copied: a static the test keeps */
        }
        ro.schema = &sc;
    }
    if (variant == 3) {
        ro.columns = cols;
        ro.n_columns = 2;
    }
    jp_error_t err;
    jp_error_clear(&err);
    FILE *f = fopen(unit_path("p.csv"), "wb");
    if (f) {
        fwrite(b->data, 1, b->len, f);
        fclose(f);
    }
    o->st = jp_csv_read(unit_path("p.csv"), &ro, &o->ds, &err);
    if (!o->st) o->st = jp_dataset_need_all(o->ds, &err);
    if (o->st) snprintf(o->what, sizeof o->what, "%d %s", (int)o->st, errtext(&err));
}

static void outcome_free(outcome_t *o)
{
    jp_dataset_unref(o->ds);
    jp_dataset_unref(o->rej);
}

static void test_first_error(void)
{
    static const jp_csv_tuning_t tunings[] = {
        {64, 7, 0, 0, 2},     {300, 64, 0, 0, 3},  {1000, 100, 0, 0, 4}, {257, 1, 0, 0, 2},
        {4096, 333, 0, 0, 2}, {150, 150, 0, 0, 1}, {2000, 13, 0, 1, 3}, /* lazy too */
    };
    for (unsigned seed = 1; seed <= 80; seed++) {
        rng_state = seed;
        jp_buf_t b = JP_BUF_INIT;
        make_file(&b, 40 + rnd(300));
        for (int variant = 0; variant < 4; variant++) {
            jp_csv_tuning_t whole = {(size_t)64 << 20, (size_t)64 << 20, 0, 0, 1};
            jp_csv_set_tuning(&whole);
            outcome_t ref;
            read_as(&b, variant, &ref);
            for (size_t t = 0; t < sizeof tunings / sizeof tunings[0]; t++) {
                jp_csv_set_tuning(&tunings[t]);
                outcome_t got;
                read_as(&b, variant, &got);
                char why[300] = "";
                if (ref.st || got.st)
                    CHECK_MSG(strcmp(ref.what, got.what) == 0,
                              "seed %u tuning %zu variant %d:\n  whole: %s\n  cut:   %s", seed, t,
                              variant, ref.what, got.what);
                else
                    CHECK_MSG(jp_dataset_equal(ref.ds, got.ds, why, sizeof why) &&
                                  (!ref.rej || jp_dataset_equal(ref.rej, got.rej, why, sizeof why)),
                              "seed %u tuning %zu variant %d: %s", seed, t, variant, why);
                outcome_free(&got);
            }
            outcome_free(&ref);
        }
        jp_csv_set_tuning(NULL);
        jp_buf_free(&b);
    }
}

/* ---- missing-value markers ------------------------------------------------------------- */

/* Columns of integers, dates, booleans and decimals with markers among
 * them; some turn text later.  Whatever the cuts: a column that ends typed
 * has a null for each marker; one that ends text has every cell's text,
 * markers included (as an explicit string read gives it). */
static void test_markers(void)
{
    static const char *const mk[] = {"-", "\xE2\x80\x94", "NA", "/", "\xE2\x80\xA6", "--", "n/a"};
    static const jp_csv_tuning_t tunings[] = {
        {0, 0, 0, 0, 1},  {64, 5, 0, 0, 3},     {200, 33, 0, 0, 2},
        {97, 1, 0, 0, 4}, {1024, 100, 0, 0, 2},
    };
    for (unsigned seed = 1; seed <= 40; seed++) {
        rng_state = seed * 7919;
        unsigned rows = 20 + rnd(200), late[5];
        bool had_text[5] = {false};
        for (int k = 0; k < 5; k++) late[k] = rnd(3) ? rows : rnd(rows); /* text from here */
        jp_buf_t b = JP_BUF_INIT;
        jp_buf_puts(&b, "i,dt,b,d,e\n");
        for (unsigned r = 0; r < rows; r++) {
            char c[5][40];
            snprintf(c[0], 40, "%u", r);
            snprintf(c[1], 40, "2020-01-%02u", 1 + r % 28);
            snprintf(c[2], 40, "%s", r % 2 ? "true" : "false");
            snprintf(c[3], 40, "%u.%u", r, r % 7);
            snprintf(c[4], 40, "%d", -(int)r);
            for (int k = 0; k < 5; k++) {
                if (rnd(4) == 0) snprintf(c[k], 40, "%s", mk[rnd(7)]);
                if (r >= late[k] && rnd(3) == 0) {
                    snprintf(c[k], 40, "t%u", r);
                    had_text[k] = true;
                }
            }
            jp_buf_printf(&b, "%s,%s,%s,%s,%s\n", c[0], c[1], c[2], c[3], c[4]);
        }
        /* the cells as text */
        jp_schema_t sc;
        memset(&sc, 0, sizeof sc);
        static const char *const names[] = {"i", "dt", "b", "d", "e"};
        for (int k = 0; k < 5; k++) {
            jp_field_t f;
            jp_field_init(&f);
            f.name = (char *)names[k];
            f.type = JP_TYPE_STRING;
            jp_error_t e;
            jp_schema_add(&sc, &f, &e);
        }
        jp_read_opts_t so;
        jp_read_opts_init(&so);
        so.schema = &sc;
        jp_dataset_t *text = NULL;
        jp_error_t err;
        jp_error_clear(&err);
        CHECK(jp_csv_read_mem("m.csv", b.data, b.len, &so, &text, &err) == JP_OK);
        for (size_t t = 0; text && t < sizeof tunings / sizeof tunings[0]; t++) {
            jp_csv_set_tuning(&tunings[t]);
            jp_dataset_t *ds = NULL;
            jp_error_clear(&err);
            jp_status_t st = jp_csv_read_mem("m.csv", b.data, b.len, NULL, &ds, &err);
            jp_csv_set_tuning(NULL);
            CHECK_MSG(st == JP_OK, "%s", errtext(&err));
            for (int k = 0; !st && k < 5; k++) {
                const jp_column_t *c = ds->cols[k], *x = text->cols[k];
                if (c->type == JP_TYPE_STRING) {
                    CHECK_MSG(jp_column_equal(c, x), "seed %u tuning %zu: text column %s", seed, t,
                              names[k]);
                    continue;
                }
                CHECK_MSG(!had_text[k], "seed %u: %s typed though text came", seed, names[k]);
                size_t markers = 0, nulls = 0;
                for (size_t r = 0; r < x->len; r++) {
                    size_t len;
                    const char *s = jp_strdict_get(x->dict, x->v.s[r], &len);
                    markers += jp_column_is_null(x, r) || jp_csv_is_marker(s, len);
                    nulls += jp_column_is_null(c, r);
                }
                CHECK_MSG(nulls == markers, "seed %u tuning %zu: %s has %zu nulls for %zu markers",
                          seed, t, names[k], nulls, markers);
            }
            jp_dataset_unref(ds);
        }
        jp_dataset_unref(text);
        jp_schema_free(&sc);
        jp_buf_free(&b);
    }
    /* the null option replaces the markers: listed texts are null everywhere */
    const char *doc = "a,b\n1,-\nNA,x\n\xE2\x80\x94,y\n";
    const char *const list[] = {"NA", "-"};
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.null_list = list;
    o.n_null_list = 2;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    CHECK(jp_csv_read_mem("n.csv", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    if (ds) {
        CHECK_INT(ds->cols[0]->type, JP_TYPE_STRING); /* — is text now */
        CHECK(jp_column_is_null(ds->cols[0], 1));
        CHECK(jp_column_is_null(ds->cols[1], 0)); /* - is null even in a text column */
    }
    jp_dataset_unref(ds);
    const char *const none[] = {NULL};
    o.null_list = none;
    o.n_null_list = 0; /* an empty list: only "" */
    CHECK(jp_csv_read_mem("n.csv", doc, strlen(doc), &o, &ds, &err) == JP_OK);
    if (ds) CHECK_INT(ds->cols[0]->type, JP_TYPE_STRING);
    jp_dataset_unref(ds);
}

int main(void)
{
    if (unit_tmpdir("jp_test_csv_edges")) return 1;
    RUN(test_delimiters);
    RUN(test_figures);
    RUN(test_streams);
    RUN(test_first_error);
    RUN(test_markers);
    unit_tmpdir_remove();
    return unit_done();
}
