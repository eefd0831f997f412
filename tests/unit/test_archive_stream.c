/*
 * test_archive_stream.c - export streams.  A CSV file read lazily goes into
 * the archive a batch at a time (the header's size filled in afterwards:
 * a gzip hole, a seek back, a zip spool), and the archive is byte for byte
 * the one the same data loaded whole gives, whatever the threads; memory
 * stays at a batch; an export stopped midway (error, test hook, stop flag)
 * leaves neither a partial archive nor a spool file behind.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "archive_util.h"
#include "jp_archive.h"
#include "jp_csv.h"
#include "jp_dataset.h"
#include "jp_format.h"
#include "jp_lazy.h"
#include "jp_limit.h"
#include "jp_tar.h"
#include "unit.h"

/* A CSV of n rows with what a stream must carry exactly: integers, numbers
 * with qualifiers (约, 余, >), text with quotes, commas and line breaks,
 * dates, empty cells, and a column that turns to text only near the end
 * (so that only a look at the whole file gives its type). */
static void make_csv(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    fputs("id,value,note,day,late,flag\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu,", i * 7919 % 1000003);
        switch (i % 5) {
        case 0:
            fprintf(f, "%zu.25,", i);
            break;
        case 1:
            fprintf(f, "约%zu,", i);
            break;
        case 2:
            fprintf(f, "%zu万余,", i % 100);
            break;
        case 3:
            fputs(",", f);
            break;
        default:
            fprintf(f, "-%zu.5e3,", i);
        }
        if (i % 7 == 0)
            fprintf(f, "\"row %zu, with \"\"quotes\"\"\nand a line\",", i);
        else
            fprintf(f, "r%zu,", i % 50);
        fprintf(f, "2022-%02zu-%02zu,", i % 12 + 1, i % 28 + 1);
        if (i == n - 3)
            fputs("not a number,", f);
        else
            fprintf(f, "%zu,", i);
        fputs(i % 3 ? "true\n" : "false\n", f);
    }
    fclose(f);
}

static jp_dataset_t *read_csv(const char *path, bool lazy)
{
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    jp_dataset_t *ds = NULL;
    jp_error_t err;
    CHECK_MSG(jp_csv_read(path, &o, &ds, &err) == JP_OK, "%s", err.msg);
    if (ds && !lazy) CHECK(jp_dataset_need_all(ds, NULL) == JP_OK);
    if (ds && lazy) CHECK(ds->lazy != NULL);
    return ds;
}

static jp_status_t export_to(const char *path, jp_dataset_t *ds, int threads, bool inl,
                             jp_error_t *err)
{
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    o.threads = threads;
    o.top = "t";
    o.inline_qualifiers = inl;
    jp_error_clear(err);
    return jp_archive_export(path, &ds, 1, &o, err);
}

static bool same_bytes(const char *a, const char *b)
{
    jp_buf_t x = JP_BUF_INIT, y = JP_BUF_INIT;
    jp_file_read_all(a, (size_t)1 << 30, &x, NULL);
    jp_file_read_all(b, (size_t)1 << 30, &y, NULL);
    bool same = x.len && x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    jp_buf_free(&x);
    jp_buf_free(&y);
    return same;
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) n++;
    if (d) closedir(d);
    return n;
}

/* What an export may leave: the files of the test's directory, and
 * nothing in the spools' directory (TMPDIR, set to spool/ in main). */
static int files_in_tmpdir(void)
{
    return files_in(tmpdir) + 1000 * files_in(tmp("spool"));
}

/* An archive of each kind already at the target, which a failed export
 * must leave as it was (old_kept). */
static const char *const kinds_old[3] = {"old.tar.gz", "old.zip", "old.tar"};

static void write_olds(void)
{
    for (int k = 0; k < 3; k++) write_file(tmp(kinds_old[k]), "old", 3);
}

static bool old_kept(const char *path)
{
    jp_buf_t b = JP_BUF_INIT;
    jp_file_read_all(path, 100, &b, NULL);
    bool same = b.len == 3 && memcmp(b.data, "old", 3) == 0;
    jp_buf_free(&b);
    return same;
}

/* Streamed and whole give the same bytes, for every kind and thread count. */
static void test_same_bytes(void)
{
    make_csv(tmp("in.csv"), 20000);
    const char *kinds[] = {"a.tar.gz", "a.tar", "a.zip"};
    for (int k = 0; k < 3; k++) {
        for (int inl = 0; inl < 2; inl++) {
            jp_dataset_t *whole = read_csv(tmp("in.csv"), false);
            char want[64];
            snprintf(want, sizeof want, "w-%s", kinds[k]);
            jp_error_t err;
            CHECK_MSG(export_to(tmp(want), whole, 2, inl, &err) == JP_OK, "%s", err.msg);
            for (int threads = 1; threads <= 3; threads++) {
                jp_dataset_t *lazy = read_csv(tmp("in.csv"), true);
                char got[64];
                snprintf(got, sizeof got, "s%d-%s", threads, kinds[k]);
                CHECK_MSG(export_to(tmp(got), lazy, threads, inl, &err) == JP_OK, "%s", err.msg);
                CHECK_MSG(lazy && lazy->lazy, "the export loaded the lazy dataset");
                CHECK_MSG(same_bytes(tmp(want), tmp(got)), "%s, %d threads%s differs", kinds[k],
                          threads, inl ? ", inline qualifiers" : "");
                if (lazy) jp_dataset_unref(lazy);
            }
            /* and it loads back equal */
            jp_archive_t *a = NULL;
            if (jp_archive_open(tmp(want), NULL, &a, &err) == JP_OK) {
                jp_dataset_t *back = NULL;
                CHECK_MSG(jp_archive_load(a, NULL, &back, &err) == JP_OK, "%s", err.msg);
                char why[512] = "";
                /* the origin differs (the file, the archive): compare the rest */
                CHECK_MSG(back && jp_dataset_equal(whole, back, why, sizeof why), "%s", why);
                if (back) jp_dataset_unref(back);
                jp_archive_close(a);
            }
            jp_dataset_unref(whole);
        }
    }
    /* an empty file (a header and no rows) streams too */
    write_file(tmp("empty.csv"), "a,b\n", 4);
    jp_dataset_t *e1 = read_csv(tmp("empty.csv"), true), *e2 = read_csv(tmp("empty.csv"), false);
    jp_error_t err;
    CHECK(export_to(tmp("e1.tar.gz"), e1, 2, false, &err) == JP_OK);
    CHECK(export_to(tmp("e2.tar.gz"), e2, 2, false, &err) == JP_OK);
    CHECK(same_bytes(tmp("e1.tar.gz"), tmp("e2.tar.gz")));
    jp_dataset_unref(e1);
    jp_dataset_unref(e2);
}

/* A file far larger than the memory budget goes through: memory is a
 * batch, not the file's columns nor the entry's text. */
static void test_bounded_memory(void)
{
    make_csv(tmp("big.csv"), 400000); /* about 16 MB of text */
    jp_dataset_t *lazy = read_csv(tmp("big.csv"), true);
    size_t base = jp_mem_in_use();
    jp_mem_set_limit(base + ((size_t)40 << 20));
    jp_error_t err;
    jp_status_t st = export_to(tmp("big.tar.gz"), lazy, 2, false, &err);
    jp_mem_set_limit(0);
    CHECK_MSG(st == JP_OK, "%s", err.msg);
    jp_dataset_unref(lazy);
    /* loaded whole, the same export needs more than that */
    jp_dataset_t *whole = read_csv(tmp("big.csv"), false);
    CHECK(jp_mem_in_use() > base + ((size_t)40 << 20) / 2);
    jp_dataset_unref(whole);
    unlink(tmp("big.tar.gz")); /* big.csv stays for test_stopped */
}

/* Stopped midway: the old archive stays, nothing else is left. */
static int stop_at;

static void stop_soon(void *ctx, uint64_t bytes)
{
    (void)ctx;
    if (bytes >= (uint64_t)stop_at) jp_stop_request(JP_STOP_INTERRUPT);
}

static jp_status_t count_batch(void *ctx, size_t row0, size_t n, jp_column_t *const *cols,
                               jp_error_t *err)
{
    (void)row0, (void)n, (void)cols, (void)err;
    ++*(size_t *)ctx;
    return JP_OK;
}

static void test_stopped(void)
{
    make_csv(tmp("in.csv"), 60000);
    write_olds();
    int before = files_in_tmpdir();
    /* nothing starts once the flag is up */
    jp_dataset_t *d0 = read_csv(tmp("in.csv"), true);
    jp_error_t e0;
    jp_stop_request(JP_STOP_INTERRUPT);
    CHECK(export_to(tmp("never.tar.gz"), d0, 2, false, &e0) == JP_ERR_INTERRUPTED);
    jp_stop_reset();
    jp_dataset_unref(d0);
    CHECK_INT(files_in_tmpdir(), before);
    /* the CSV passes themselves stop between batches (a first pass over a
       large file takes a while before any row reaches the archive) */
    d0 = read_csv(tmp("in.csv"), true);
    bool quals[6];
    size_t batches = 0;
    jp_stop_request(JP_STOP_INTERRUPT);
    CHECK(d0->lazy->ops->stream(d0, quals, count_batch, &batches, &e0) == JP_ERR_INTERRUPTED);
    jp_stop_reset();
    CHECK_INT(batches, 0);
    jp_dataset_unref(d0);
    const char *const *kinds = kinds_old;
    for (int k = 0; k < 3; k++) {
        /* the test hook: an I/O error after some bytes */
        jp_dataset_t *lazy = read_csv(tmp("in.csv"), true);
        jp_export_opts_t o;
        jp_export_opts_init(&o);
        o.fail_after = 300000;
        jp_error_t err;
        CHECK(jp_archive_export(tmp(kinds[k]), &lazy, 1, &o, &err) == JP_ERR_IO);
        CHECK(old_kept(tmp(kinds[k])));
        CHECK_INT(files_in_tmpdir(), before);
        /* the stop flag (Ctrl-C, a time limit), at the first MiB of the
           archive (a zip's data entry comes out whole, compressed, at its
           end: a bigger file) */
        jp_export_opts_init(&o);
        stop_at = 1;
        o.progress = stop_soon;
        jp_dataset_t *big = k == 1 ? read_csv(tmp("big.csv"), true) : jp_dataset_ref(lazy);
        jp_status_t st = jp_archive_export(tmp(kinds[k]), &big, 1, &o, &err);
        jp_dataset_unref(big);
        jp_stop_reset();
        CHECK_MSG(st == JP_ERR_INTERRUPTED, "%s: %d %s", kinds[k], st, err.msg);
        CHECK_INT(files_in_tmpdir(), before);
        jp_dataset_unref(lazy);
    }
}

/* A cell the readers would not give back, far into the file: refused with
 * its row (counted from the whole file, not the batch) after most of the
 * entry has been written; the old archive stays, nothing else is left. */
static void test_bad_cell_midway(void)
{
    /* invalid UTF-8 (the reader refuses it), a NUL (the exporter does) */
    static const char bad[2][12] = {"bad \xff byte", "bad \0 byte"};
    for (int b = 0; b < 2; b++) {
        make_csv(tmp("bad.csv"), 50000);
        FILE *f = fopen(tmp("bad.csv"), "ab");
        fputs("7,1.5,", f);
        fwrite(bad[b], 1, 10, f);
        fputs(",2022-01-01,3,true\n8,1.5,fine,2022-01-01,3,true\n", f);
        fclose(f);
        const char *const *kinds = kinds_old;
        for (int k = 0; k < 3; k++) {
            write_file(tmp(kinds[k]), "old", 3);
            int before = files_in_tmpdir();
            jp_dataset_t *lazy = read_csv(tmp("bad.csv"), true);
            jp_error_t err;
            jp_status_t st = export_to(tmp(kinds[k]), lazy, 2, false, &err);
            CHECK_MSG(st != JP_OK && strstr(err.msg, b ? "NUL" : "UTF-8"), "%s: %d %s", kinds[k],
                      st, err.msg);
            /* the 50,001st row; 7,143 of the rows before it span two lines */
            CHECK_MSG(err.row == 50001 && (b || err.line == 57145), "%s: row %ld line %ld",
                      kinds[k], (long)err.row, (long)err.line);
            CHECK(old_kept(tmp(kinds[k])));
            CHECK_INT(files_in_tmpdir(), before);
            jp_dataset_unref(lazy);
        }
    }
}

/* A dataset in memory goes out in slices: a bad cell in a later slice is
 * named by its row in the dataset, not in the slice. */
static void test_bad_cell_in_memory(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_column_t *id = jp_column_new(JP_TYPE_INT, 300000);
    jp_column_t *note = jp_column_new(JP_TYPE_STRING, 300000);
    for (size_t i = 0; i < 300000; i++) {
        jp_column_push_int(id, (int64_t)i, JP_Q_EXACT);
        if (i == 280000)
            jp_column_push_str(note, "bad \xff", 5);
        else
            jp_column_push_str(note, "fine", 4);
    }
    jp_error_t err;
    CHECK(jp_dataset_add(ds, "id", id, NULL, &err) == JP_OK);
    CHECK(jp_dataset_add(ds, "note", note, NULL, &err) == JP_OK);
    write_file(tmp("old.tar.gz"), "old", 3);
    int before = files_in_tmpdir();
    jp_status_t st = export_to(tmp("old.tar.gz"), ds, 2, false, &err);
    CHECK_MSG(st == JP_ERR_INVALID && err.row == 280001 && strstr(err.msg, "UTF-8"),
              "%d row %ld: %s", st, (long)err.row, err.msg);
    CHECK(old_kept(tmp("old.tar.gz")));
    CHECK_INT(files_in_tmpdir(), before);
    jp_dataset_unref(ds);
}

/* The spools live in TMPDIR: one that cannot be used, or that fills up
 * midway, is an error naming it, and the old archive stays. */
static void test_tmpdir(void)
{
    make_csv(tmp("in.csv"), 60000);
    write_olds();
    int before = files_in_tmpdir();
    const char *const *kinds = kinds_old;
    char missing[600];
    snprintf(missing, sizeof missing, "%s", tmp("missing"));
    char spool[600];
    snprintf(spool, sizeof spool, "%s", tmp("spool"));
    for (int k = 0; k < 3; k++) {
        /* no such directory: a .tar needs no spool (its header is written
           over in place) */
        setenv("TMPDIR", missing, 1);
        jp_dataset_t *lazy = read_csv(tmp("in.csv"), true);
        jp_error_t err;
        jp_status_t st = export_to(tmp(kinds[k]), lazy, 2, false, &err);
        setenv("TMPDIR", spool, 1);
        if (k == 2) {
            CHECK_MSG(st == JP_OK, "%s", err.msg);
            write_file(tmp(kinds[k]), "old", 3);
        } else {
            CHECK_INT(st, JP_ERR_IO);
            CHECK_MSG(strstr(err.msg, missing) && strstr(err.msg, "TMPDIR"), "%s", err.msg);
            CHECK(old_kept(tmp(kinds[k])));
        }
        CHECK_INT(files_in_tmpdir(), before);
        jp_dataset_unref(lazy);
        /* full midway: files may grow to 64 KiB (the CSV is 3 MB, a
           deflated MiB of it more than 64 KiB) and a write past that fails
           with EFBIG instead of a signal, as one to a full disk fails with
           ENOSPC */
        lazy = read_csv(tmp("in.csv"), true);
        struct rlimit was;
        getrlimit(RLIMIT_FSIZE, &was);
        struct rlimit lim = {(rlim_t)64 << 10, was.rlim_max};
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        st = export_to(tmp(kinds[k]), lazy, 2, false, &err);
        setrlimit(RLIMIT_FSIZE, &was);
        signal(SIGXFSZ, old_handler);
        CHECK_INT(st, JP_ERR_IO);
        /* the .tar has no spool: its own file is the one that fills up */
        if (k < 2)
            CHECK_MSG(strstr(err.msg, spool) && strstr(err.msg, "TMPDIR") &&
                          strstr(err.msg, strerror(EFBIG)),
                      "%s", err.msg);
        CHECK(old_kept(tmp(kinds[k])));
        CHECK_INT(files_in_tmpdir(), before);
        jp_dataset_unref(lazy);
    }
}

/* side.csv with v and w read as numbers: inferred fields hold no qualifier. */
static jp_dataset_t *read_side(bool lazy)
{
    jp_schema_t sc;
    memset(&sc, 0, sizeof sc);
    jp_error_t err;
    const char *names[] = {"v", "w"};
    for (int i = 0; i < 2; i++) {
        jp_field_t f;
        jp_field_init(&f);
        f.name = (char *)names[i];
        f.type = JP_TYPE_NUMBER;
        CHECK(jp_schema_add(&sc, &f, &err) == JP_OK);
    }
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.lazy = lazy;
    o.schema = &sc;
    jp_dataset_t *ds = NULL;
    CHECK_MSG(jp_csv_read(tmp("side.csv"), &o, &ds, &err) == JP_OK, "%s", err.msg);
    jp_schema_free(&sc);
    if (ds && !lazy) CHECK(jp_dataset_need_all(ds, NULL) == JP_OK);
    if (ds && lazy) CHECK(ds->lazy != NULL);
    return ds;
}

/* The qualifier side columns are the CSV writer's (ds:write_csv): named by
 * its rule (a '_' added while the name is taken) and present in every
 * batch when the only qualified figure is in the last one. */
static void test_side_columns(void)
{
    FILE *f = fopen(tmp("side.csv"), "wb");
    fputs("v,v_qualifier,w\n", f);
    for (int i = 0; i < 20000; i++) fprintf(f, "%d.5,q%d,%d\n", i, i % 9, i);
    fputs("约7,last,>=3\n", f);
    fclose(f);
    jp_dataset_t *whole = read_side(false);
    jp_dataset_t *x = NULL;
    size_t nq = 0;
    jp_error_t err;
    CHECK(jp_csv_qualifier_columns(whole, &x, &nq, &err) == JP_OK);
    CHECK_INT((long)nq, 2);
    jp_write_opts_t wo;
    jp_write_opts_init(&wo);
    wo.format = "csv";
    wo.delimiter = ',';
    jp_buf_t want = JP_BUF_INIT;
    CHECK(x && jp_csv_write_mem(x, &wo, &want, &err) == JP_OK);
    const char *head = "v,v_qualifier,w,v_qualifier_,w_qualifier\n";
    CHECK_MSG(want.len > strlen(head) && memcmp(want.data, head, strlen(head)) == 0, "%.60s",
              want.data);
    for (int lazy = 0; lazy < 2; lazy++) {
        jp_dataset_t *ds = lazy ? read_side(true) : jp_dataset_ref(whole);
        CHECK_MSG(export_to(tmp("side.tar"), ds, 2, false, &err) == JP_OK, "%s", err.msg);
        jp_buf_t got = JP_BUF_INIT;
        jp_file_read_all(tmp("side.tar"), (size_t)1 << 30, &got, NULL);
        /* the data entry is the text ds:write_csv writes; the manifest
           names its side column */
        const char *col = "column: \"v_qualifier_\"\n";
        bool found = false, named = false;
        for (size_t at = 0; at + want.len <= got.len; at += JP_TAR_BLOCK)
            found |= memcmp(got.data + at, want.data, want.len) == 0;
        for (size_t at = 0; at + strlen(col) <= got.len; at++)
            named |= memcmp(got.data + at, col, strlen(col)) == 0;
        CHECK_MSG(found, "the data entry differs from write_csv's text (%s)",
                  lazy ? "lazy" : "in memory");
        CHECK(named);
        jp_buf_free(&got);
        jp_dataset_unref(ds);
    }
    jp_buf_free(&want);
    if (x) jp_dataset_unref(x);
    jp_dataset_unref(whole);
}

int main(void)
{
    if (tmp_setup("jp-archive-stream")) return 2;
    /* the spools go here; tests check it is left empty */
    mkdir(tmp("spool"), 0700);
    setenv("TMPDIR", tmp("spool"), 1);
    jp_formats_init();
    /* small batches and a low laziness threshold: many batches from small files */
    jp_csv_tuning_t t = {0};
    t.batch_bytes = 64 << 10;
    t.lazy_bytes = 1;
    jp_csv_set_tuning(&t);
    RUN(test_same_bytes);
    RUN(test_bounded_memory);
    RUN(test_stopped);
    RUN(test_tmpdir);
    RUN(test_bad_cell_midway);
    RUN(test_bad_cell_in_memory);
    RUN(test_side_columns);
    jp_csv_set_tuning(NULL);
    tmp_cleanup();
    return unit_done();
}
