/*
 * fuzz_tar.c - the tar reader (src/core/jp_tar.c) and the archive built on
 * it (open, verify, load: jp_archive_*.c) on any bytes.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - the streaming reader yields entries whose names are normalised and
 *    safe (relative, no '..', no backslash or control byte), whose data is
 *    exactly the size the header gave, read in pieces of any size; or it
 *    refuses with a message;
 *  - the archive's properties (fuzz_archive.h): a dataset loads only from
 *    an archive that verifies.
 */
#include "fuzz_archive.h"
#include "jp_tar.h"

typedef struct mem {
    const uint8_t *p;
    size_t n, off;
} mem_t;

static jp_status_t mem_read(void *ctx, void *buf, size_t n, size_t *got, jp_error_t *err)
{
    (void)err;
    mem_t *m = ctx;
    size_t k = m->n - m->off < n ? m->n - m->off : n;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    *got = k;
    return JP_OK;
}

static void check_name(const char *s)
{
    FUZZ_ASSERT(s[0] && s[0] != '/', "name '%s'", s);
    FUZZ_ASSERT(!strstr(s, "//") && s[strlen(s) - 1] != '/', "not normalised: '%s'", s);
    for (const char *c = s; *c; c++)
        FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f && *c != '\\', "byte in '%s'", s);
    for (const char *c = s; c; c = strchr(c, '/')) {
        if (*c == '/') c++;
        FUZZ_ASSERT(!(c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2])), "'..' in '%s'", s);
        FUZZ_ASSERT(!(c[0] == '.' && (c[1] == '/' || !c[1])), "'.' in '%s'", s);
    }
}

static void stream(const uint8_t *data, size_t size)
{
    mem_t m = {data, size, 0};
    jp_tar_reader_t r;
    jp_tar_reader_init(&r, mem_read, &m, "fuzz.tar", 64);
    size_t piece = size ? 1 + data[0] % 97 : 1;
    char buf[128];
    jp_error_t err;
    jp_status_t st;
    for (;;) {
        const jp_tar_entry_t *e;
        jp_error_clear(&err);
        if ((st = jp_tar_next(&r, &e, &err)) || !e) break;
        check_name(e->name);
        FUZZ_ASSERT(!e->is_dir || e->size == 0, "a directory with %llu bytes",
                    (unsigned long long)e->size);
        uint64_t total = 0;
        size_t got;
        while (!(st = jp_tar_read(&r, buf, piece, &got, &err)) && got) total += got;
        if (st) break;
        FUZZ_ASSERT(total == e->size, "read %llu of %llu bytes", (unsigned long long)total,
                    (unsigned long long)e->size);
    }
    if (st) FUZZ_ASSERT(err.msg[0], "refused (%d) without a message", (int)st);
    jp_tar_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stream(data, size);
    fuzz_archive(data, size, ".tar");
    return 0;
}
