/*
 * test_archive_check.c - loading holds the same line as verifying.  Every
 * archive here is an exported one with one thing changed (the manifest
 * removed or doubled, data edited together with one of the two checksum
 * lists, a file listed twice, an extra file, a file standing where a
 * directory is); for each, jp_archive_verify must report a problem and
 * jp_archive_load must refuse, naming the reason, or the archive must not
 * open at all.
 */
#include <stdint.h>
#include "archive_util.h"
#include "jp_archive.h"
#include "jp_column.h"
#include "jp_dataset.h"
#include "jp_format.h"
#include "jp_sha256.h"
#include "unit.h"

static jp_dataset_t *small(void)
{
    jp_dataset_t *ds = jp_dataset_new();
    jp_meta_set(&ds->meta.name, "one");
    jp_column_t *c = jp_column_new(JP_TYPE_INT, 3);
    jp_column_push_int(c, 148000, JP_Q_EXACT);
    jp_column_push_int(c, 7, JP_Q_MORE_THAN);
    jp_column_push_int(c, 9, JP_Q_EXACT);
    jp_dataset_add(ds, "area", c, "mu", NULL);
    c = jp_column_new(JP_TYPE_STRING, 3);
    jp_column_push_str(c, "cherry", 6);
    jp_column_push_str(c, "apple", 5);
    jp_column_push_str(c, "pear", 4);
    jp_dataset_add(ds, "crop", c, NULL, NULL);
    return ds;
}

/* A fresh, intact archive v.tar (top "v", data as YAML) read into t. */
static void fresh(tents_t *t)
{
    jp_dataset_t *ds = small();
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    o.format = "yaml";
    o.top = "v";
    jp_error_t err;
    CHECK_MSG(jp_archive_export(tmp("v.tar"), &ds, 1, &o, &err) == JP_OK, "%s", err.msg);
    jp_dataset_unref(ds);
    CHECK(tents_read(t, tmp("v.tar")));
}

static void sha_hex(const jp_buf_t *b, char hex[JP_SHA256_HEX])
{
    unsigned char d[JP_SHA256_LEN];
    jp_sha256(b->data ? b->data : "", b->len, d, NULL);
    jp_sha256_hex(d, hex);
}

/* After the manifest was edited: its line in sha256sums.txt follows it, so
 * that only what a test means to leave stale is stale. */
static void resum_manifest(tents_t *t, const char *old_hex)
{
    char now[JP_SHA256_HEX];
    sha_hex(&tents_find(t, "v/manifest.yaml")->data, now);
    CHECK(tents_edit(t, "v/sha256sums.txt", old_hex, now));
}

enum { IN_MANIFEST = 1, IN_SUMS = 2 };

/* Edit the data, then bring its digest up to date in the lists named. */
static void edit_data(tents_t *t, int lists)
{
    tent_t *d = tents_find(t, "v/data/one.yaml");
    char before[JP_SHA256_HEX], after[JP_SHA256_HEX], man[JP_SHA256_HEX] = "";
    sha_hex(&d->data, before);
    if (lists & IN_MANIFEST) sha_hex(&tents_find(t, "v/manifest.yaml")->data, man);
    CHECK(tents_edit(t, "v/data/one.yaml", "cherry", "durian"));
    sha_hex(&d->data, after);
    if (lists & IN_SUMS) CHECK(tents_edit(t, "v/sha256sums.txt", before, after));
    if (lists & IN_MANIFEST) {
        CHECK(tents_edit(t, "v/manifest.yaml", before, after));
        resum_manifest(t, man);
    }
}

typedef struct outcome {
    jp_status_t open, load;
    int problems;
    char open_msg[1024], load_msg[1024], first_problem[1024];
    char crop0[32]; /* the first crop loaded, when loaded */
} outcome_t;

static void try_archive(const tents_t *t, bool unverified, outcome_t *o)
{
    memset(o, 0, sizeof *o);
    o->problems = -1;
    tents_write(t, tmp("x.tar"));
    jp_archive_limits_t lim;
    jp_archive_limits_init(&lim);
    lim.unverified = unverified;
    jp_archive_t *a = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    o->open = jp_archive_open(tmp("x.tar"), &lim, &a, &err);
    if (o->open) {
        snprintf(o->open_msg, sizeof o->open_msg, "%s", err.msg);
        return;
    }
    jp_archive_problems_t p;
    CHECK(jp_archive_verify(a, &p, NULL) == JP_OK);
    o->problems = (int)p.n;
    if (p.n)
        snprintf(o->first_problem, sizeof o->first_problem, "%s: %s", p.v[0].entry, p.v[0].msg);
    jp_archive_problems_free(&p);
    jp_dataset_t *ds = NULL;
    jp_error_clear(&err);
    o->load = jp_archive_load(a, "one", &ds, &err);
    if (o->load) snprintf(o->load_msg, sizeof o->load_msg, "%s", err.msg);
    CHECK((o->load == JP_OK) == (ds != NULL));
    if (ds && jp_dataset_need_all(ds, NULL) == JP_OK) {
        long k = jp_dataset_find(ds, "crop");
        size_t len = 0;
        const char *s = "";
        if (k >= 0 && ds->cols[k]->type == JP_TYPE_STRING && ds->nrows)
            s = jp_column_str(ds->cols[k], 0, &len);
        snprintf(o->crop0, sizeof o->crop0, "%.*s", (int)len, s);
    }
    if (ds) jp_dataset_unref(ds);
    jp_archive_close(a);
}

#define REFUSED(o, needle)                                                                         \
    do {                                                                                           \
        CHECK_MSG((o).open == JP_OK && (o).problems > 0, "open %d, %d problems: %s", (o).open,     \
                  (o).problems, (o).open_msg);                                                     \
        CHECK_MSG((o).load != JP_OK && strstr((o).load_msg, needle), "loaded (%d) '%s': %s",       \
                  (o).load, (o).crop0, (o).load_msg);                                              \
    } while (0)

static void test_load_holds_the_line(void)
{
    tents_t t;
    outcome_t o;

    /* intact: verifies, loads */
    fresh(&t);
    try_archive(&t, false, &o);
    CHECK_MSG(o.open == JP_OK && o.problems == 0 && o.load == JP_OK, "%s %s %s", o.open_msg,
              o.first_problem, o.load_msg);
    CHECK_STR(o.crop0, "cherry");
    tents_free(&t);

    /* both checksum files removed and the data edited: nothing to check against */
    fresh(&t);
    tents_drop(&t, "v/manifest.yaml");
    tents_drop(&t, "v/sha256sums.txt");
    edit_data(&t, 0);
    try_archive(&t, false, &o);
    REFUSED(o, "no manifest.yaml");
    CHECK(strstr(o.load_msg, "unverified") != NULL);
    /* ... loading it anyway is an explicit choice */
    try_archive(&t, true, &o);
    CHECK_MSG(o.load == JP_OK, "%s", o.load_msg);
    CHECK_STR(o.crop0, "durian");
    tents_free(&t);

    /* a foreign archive (no manifest, no checksums): only when asked */
    fresh(&t);
    tents_drop(&t, "v/manifest.yaml");
    tents_drop(&t, "v/sha256sums.txt");
    tents_drop(&t, "v/data/one.schema.yaml");
    try_archive(&t, false, &o);
    REFUSED(o, "no manifest.yaml");
    try_archive(&t, true, &o);
    CHECK_MSG(o.load == JP_OK, "%s", o.load_msg);
    tents_free(&t);

    /* ... but sha256sums.txt, when present, is still held */
    fresh(&t);
    tents_drop(&t, "v/manifest.yaml");
    edit_data(&t, 0);
    try_archive(&t, false, &o);
    REFUSED(o, "sha256sums.txt");
    try_archive(&t, true, &o);
    CHECK_MSG(o.load != JP_OK && strstr(o.load_msg, "sha256sums.txt"), "%s", o.load_msg);
    tents_free(&t);

    /* a second manifest.yaml (or checksum file): which one is meant? */
    fresh(&t);
    edit_data(&t, 0);
    tents_add(&t, "manifest.yaml", tents_find(&t, "v/manifest.yaml")->data.data);
    try_archive(&t, false, &o);
    CHECK_MSG(o.open == JP_ERR_ARCHIVE && strstr(o.open_msg, "manifest.yaml") &&
                  strstr(o.open_msg, "twice"),
              "%d: %s / %s", o.open, o.open_msg, o.load_msg);
    tents_free(&t);
    fresh(&t);
    tents_add(&t, "sha256sums.txt", tents_find(&t, "v/sha256sums.txt")->data.data);
    try_archive(&t, false, &o);
    CHECK_MSG(o.open == JP_ERR_ARCHIVE && strstr(o.open_msg, "sha256sums.txt"), "%d: %s", o.open,
              o.open_msg);
    tents_free(&t);

    /* data edited together with the manifest: sha256sums.txt still says no */
    fresh(&t);
    edit_data(&t, IN_MANIFEST);
    try_archive(&t, false, &o);
    REFUSED(o, "sha256sums.txt");
    CHECK(strstr(o.load_msg, "data/one.yaml") != NULL);
    tents_free(&t);

    /* data edited together with sha256sums.txt: the manifest says no */
    fresh(&t);
    edit_data(&t, IN_SUMS);
    try_archive(&t, false, &o);
    REFUSED(o, "manifest.yaml");
    tents_free(&t);

    /* the manifest lists the data twice, the first time with the new digest */
    fresh(&t);
    {
        tent_t *d = tents_find(&t, "v/data/one.yaml");
        char before[JP_SHA256_HEX], after[JP_SHA256_HEX];
        sha_hex(&d->data, before);
        tents_edit(&t, "v/data/one.yaml", "cherry", "durian");
        sha_hex(&d->data, after);
        char from[200], to[400], man[JP_SHA256_HEX];
        sha_hex(&tents_find(&t, "v/manifest.yaml")->data, man);
        snprintf(from, sizeof from, "files:\n");
        snprintf(to, sizeof to,
                 "files:\n  - path: \"data/one.yaml\"\n    size: %zu\n    sha256: \"%s\"\n",
                 d->data.len, after);
        CHECK(tents_edit(&t, "v/manifest.yaml", from, to));
        resum_manifest(&t, man);
        snprintf(from, sizeof from, "%s  data/one.yaml\n", before);
        snprintf(to, sizeof to, "%s  data/one.yaml\n%s", after, from);
        CHECK(tents_edit(&t, "v/sha256sums.txt", from, to));
    }
    try_archive(&t, false, &o);
    REFUSED(o, "twice");
    tents_free(&t);

    /* sha256sums.txt names a file twice */
    fresh(&t);
    {
        tent_t *s = tents_find(&t, "v/sha256sums.txt");
        char line[200];
        snprintf(line, sizeof line, "%.*s", (int)(strchr(s->data.data, '\n') - s->data.data + 1),
                 s->data.data);
        jp_buf_append(&s->data, line, strlen(line));
    }
    try_archive(&t, false, &o);
    REFUSED(o, "twice");
    tents_free(&t);

    /* two datasets of one name in the manifest */
    fresh(&t);
    {
        char man[JP_SHA256_HEX];
        sha_hex(&tents_find(&t, "v/manifest.yaml")->data, man);
        CHECK(tents_edit(&t, "v/manifest.yaml", "files:\n",
                         "  - name: \"one\"\n    data: \"data/one.yaml\"\n    schema: "
                         "\"data/one.schema.yaml\"\nfiles:\n"));
        resum_manifest(&t, man);
    }
    try_archive(&t, false, &o);
    CHECK_MSG(o.problems > 0 && o.load != JP_OK, "%d %s", o.problems, o.load_msg);
    CHECK_MSG(strstr(o.first_problem, "'one'") && strstr(o.first_problem, "twice"), "%s",
              o.first_problem);
    tents_free(&t);

    /* an extra file nobody listed: verify fails, so load refuses too */
    fresh(&t);
    tents_add(&t, "v/extra.csv", "a\n1\n");
    try_archive(&t, false, &o);
    REFUSED(o, "not listed");
    tents_free(&t);

    /* a file where a directory is: v/data/one.yaml and v/data/one.yaml/x */
    fresh(&t);
    tents_add(&t, "v/data/one.yaml/x", "1");
    try_archive(&t, false, &o);
    CHECK_MSG(o.open == JP_ERR_ARCHIVE && strstr(o.open_msg, "data/one.yaml"), "%d: %s", o.open,
              o.open_msg);
    tents_free(&t);
}

/* The file changes on disk between open and load: the load sees it. */
static void test_changed_after_open(void)
{
    tents_t t;
    fresh(&t);
    tents_write(&t, tmp("c.tar"));
    jp_archive_t *a = NULL;
    jp_error_t err;
    CHECK(jp_archive_open(tmp("c.tar"), NULL, &a, &err) == JP_OK);
    edit_data(&t, IN_MANIFEST | IN_SUMS); /* consistent: it would verify */
    tents_write(&t, tmp("c2.tar"));
    jp_buf_t b = JP_BUF_INIT;
    jp_file_read_all(tmp("c2.tar"), 1 << 20, &b, NULL);
    FILE *f = fopen(tmp("c.tar"), "r+b"); /* the same inode, rewritten */
    if (f) {
        fwrite(b.data, 1, b.len, f);
        fclose(f);
    }
    jp_dataset_t *ds = NULL;
    if (a) {
        CHECK(jp_archive_load(a, "one", &ds, &err) != JP_OK && !ds);
        CHECK_MSG(strstr(err.msg, "changed"), "%s", err.msg);
        jp_archive_close(a);
    }
    jp_buf_free(&b);
    tents_free(&t);
}

int main(void)
{
    if (tmp_setup("jp-archive-check")) return 2;
    jp_formats_init();
    RUN(test_load_holds_the_line);
    RUN(test_changed_after_open);
    tmp_cleanup();
    return unit_done();
}
