/*
 * fuzz_archive.h - what the archive harnesses (fuzz_tar.c, fuzz_zip.c,
 * fuzz_gzip.c) share: the input as a file (the archive reader reads paths)
 * and the properties every opened archive must keep.  Static functions
 * only: each harness includes it once.
 *
 * Properties of an archive, whatever its bytes:
 *  - open refuses with a message, or gives an archive whose every accessor,
 *    description and verification runs;
 *  - load and verify never disagree: a dataset loads only from an archive
 *    with no problems (with `unverified`, none but the missing checksum
 *    files of a foreign archive);
 *  - every refusal is an error value with a message.
 */
#ifndef FUZZ_ARCHIVE_H
#define FUZZ_ARCHIVE_H

#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "jp_archive.h"
#include "jp_format.h"

/* The input written to $TMPDIR/jinpu-fuzz-PID.EXT; the path in buf. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *ext, char *buf,
                                    size_t bufsize)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, bufsize, "%s/jinpu-fuzz-%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(), ext);
    FILE *f = fopen(buf, "wb");
    FUZZ_ASSERT(f != NULL, "cannot write %s", buf);
    if (size) FUZZ_ASSERT(fwrite(data, 1, size, f) == size, "short write to %s", buf);
    fclose(f);
    return buf;
}

static inline bool only_unverifiable(const jp_archive_problems_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].msg, "missing", 7) != 0 ||
            (strcmp(p->v[i].entry, "manifest.yaml") != 0 &&
             strcmp(p->v[i].entry, "sha256sums.txt") != 0))
            return false;
    return true;
}

static inline void fuzz_archive_at(const char *path, bool unverified)
{
    jp_formats_init();
    jp_archive_limits_t lim;
    jp_archive_limits_init(&lim);
    lim.max_total = (uint64_t)64 << 20; /* a bomb costs a moment, not the run */
    lim.max_member = (uint64_t)16 << 20;
    lim.unverified = unverified;
    jp_archive_t *a = NULL;
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_archive_open(path, &lim, &a, &err);
    if (st) {
        FUZZ_ASSERT(a == NULL, "open failed (%d) but gave an archive", (int)st);
        FUZZ_ASSERT(err.msg[0], "open refused (%d) without a message", (int)st);
        return;
    }
    jp_archive_problems_t p;
    FUZZ_ASSERT(jp_archive_verify(a, &p, &err) == JP_OK, "verify failed: %s", err.msg);
    for (size_t i = 0; i < p.n; i++)
        FUZZ_ASSERT(p.v[i].entry && p.v[i].msg && p.v[i].msg[0], "problem %zu without a message",
                    i);
    bool clean = p.n == 0 || (unverified && only_unverifiable(&p));
    jp_buf_t d = JP_BUF_INIT;
    FUZZ_ASSERT(jp_archive_describe(a, &d, &err) == JP_OK, "describe: %s", err.msg);
    jp_buf_free(&d);
    for (size_t i = 0; i < jp_archive_file_count(a); i++) {
        jp_archive_file_info_t fi;
        jp_archive_file_at(a, i, &fi);
        FUZZ_ASSERT(fi.path && fi.sha256, "file %zu", i);
    }
    (void)jp_archive_version(a);
    (void)jp_archive_created(a);
    (void)jp_archive_top(a);
    size_t n = jp_archive_count(a);
    for (size_t i = 0; i <= n && i < 8; i++) {
        jp_archive_ds_info_t di;
        jp_archive_dataset_at(a, i, &di);
        jp_dataset_t *ds = NULL;
        jp_error_clear(&err);
        /* i == n: the only one (or a refusal naming them) */
        st = jp_archive_load(a, i < n ? jp_archive_name(a, i) : NULL, &ds, &err);
        if (st) {
            FUZZ_ASSERT(ds == NULL && err.msg[0], "load refused (%d) without a message", (int)st);
            continue;
        }
        FUZZ_ASSERT(clean,
                    "a dataset loaded from an archive that does not verify (%zu problems: "
                    "%s: %s)",
                    p.n, p.n ? p.v[0].entry : "", p.n ? p.v[0].msg : "");
        FUZZ_ASSERT(jp_dataset_need_all(ds, &err) == JP_OK || err.msg[0], "need_all");
        jp_dataset_unref(ds);
    }
    jp_archive_problems_free(&p);
    jp_archive_close(a);
}

/* The whole input as an archive named with ext (".tar", ".zip", ".tar.gz"). */
static inline void fuzz_archive(const uint8_t *data, size_t size, const char *ext)
{
    char path[600];
    fuzz_file(data, size, ext, path, sizeof path);
    fuzz_archive_at(path, size && (data[size - 1] & 1));
    unlink(path);
}

#endif
