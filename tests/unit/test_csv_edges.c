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

static char dir[256];

static const char *tp(const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

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
        CHECK(jp_csv_write(ds, tp("w.csv"), &o, &err) == JP_ERR_ARG);
        CHECK(access(tp("w.csv"), F_OK) != 0); /* nothing written */
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
    CHECK(mkfifo(tp("fifo"), 0600) == 0);
    writer_t w = {tp("fifo"), text, 150};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, write_later, &w) == 0);
    jp_csv_tuning_t t = {0, 0, 0, 1, 0}; /* lazy from one byte */
    jp_csv_set_tuning(&t);
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = true;
    jp_error_clear(&err);
    st = jp_csv_read(tp("fifo"), &o, &ds, &err);
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
    st = jp_csv_read(tp("fifo"), NULL, &ds, &err);
    pthread_join(stopper, NULL);
    jp_stop_reset();
    CHECK(st == JP_ERR_INTERRUPTED);
    CHECK(ds == NULL);
    /* a malformed stream names it, with the line */
    writer_t w2 = {tp("fifo"), "a,b\n1\n", 50};
    CHECK(pthread_create(&th, NULL, write_later, &w2) == 0);
    jp_error_clear(&err);
    st = jp_csv_read(tp("fifo"), NULL, &ds, &err);
    pthread_join(th, NULL);
    CHECK(st == JP_ERR_PARSE);
    CHECK_INT(err.line, 2);
    CHECK(strstr(err.file, "fifo") != NULL);
    CHECK_INT(spools(), before);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/jp_test_csv_edges_%d", (int)getpid());
    mkdir(dir, 0700);
    RUN(test_delimiters);
    RUN(test_figures);
    RUN(test_streams);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return unit_done();
}
