/*
 * fuzz_zip.c - the zip reader (src/core/jp_zip.c) and the archive built on
 * it (open, verify, load: jp_archive_*.c) on any bytes.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - jp_zip_open refuses with a message, or gives entries with safe,
 *    normalised names that do not overlap and lie inside the file;
 *  - extracting an entry gives exactly the size the directory declares, or
 *    a refusal with a message (CRC, sizes, corrupt deflate data);
 *  - the archive's properties (fuzz_archive.h): a dataset loads only from
 *    an archive that verifies.
 */
#include <fcntl.h>
#include "fuzz_archive.h"
#include "jp_zip.h"

static jp_status_t count(void *ctx, const void *p, size_t n, jp_error_t *err)
{
    (void)p;
    (void)err;
    *(uint64_t *)ctx += n;
    return JP_OK;
}

static void entries(const char *path)
{
    int fd = open(path, O_RDONLY);
    FUZZ_ASSERT(fd >= 0, "cannot open %s", path);
    jp_zip_t z;
    memset(&z, 0, sizeof z);
    jp_zip_limits_t lim = {64, (uint64_t)64 << 20, 1000.0};
    jp_error_t err;
    jp_error_clear(&err);
    jp_status_t st = jp_zip_open(&z, fd, "fuzz.zip", &lim, &err);
    if (st) {
        FUZZ_ASSERT(err.msg[0], "refused (%d) without a message", (int)st);
        close(fd);
        return;
    }
    for (size_t i = 0; i < z.n; i++) {
        const jp_zip_entry_t *e = &z.ents[i];
        FUZZ_ASSERT(e->name && e->name[0] && e->name[0] != '/' && !strstr(e->name, ".."),
                    "entry name '%s'", e->name ? e->name : "(null)");
        FUZZ_ASSERT(e->data_off <= z.file_size && e->csize <= z.file_size - e->data_off,
                    "entry '%s' reaches past the file", e->name);
        if (e->is_dir) continue;
        uint64_t n = 0;
        jp_error_clear(&err);
        st = jp_zip_extract(&z, i, count, &n, &err);
        if (st)
            FUZZ_ASSERT(err.msg[0], "extract refused (%d) without a message", (int)st);
        else
            FUZZ_ASSERT(n == e->usize, "'%s': %llu bytes, the directory says %llu", e->name,
                        (unsigned long long)n, (unsigned long long)e->usize);
    }
    jp_zip_close(&z);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    fuzz_file(data, size, ".zip", path, sizeof path);
    entries(path);
    fuzz_archive_at(path, size && (data[size - 1] & 1));
    unlink(path);
    return 0;
}
