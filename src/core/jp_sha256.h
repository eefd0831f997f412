/*
 * jp_sha256.h - SHA-256 digests for archive manifests, through OpenSSL's
 * libcrypto (EVP), never a hand-written implementation.
 *
 * A jp_sha256_t owns one libcrypto context: jp_sha256_init acquires it,
 * jp_sha256_final (or jp_sha256_free on an error path) releases it.  Both
 * are idempotent, so a zero-initialised context may always be freed.
 */
#ifndef JP_SHA256_H
#define JP_SHA256_H

#include <stddef.h>
#include "jp_error.h"

#define JP_SHA256_LEN 32
#define JP_SHA256_HEX 65 /* 64 hex digits and a NUL */

typedef struct jp_sha256 {
    void *ctx; /* EVP_MD_CTX *, NULL when not started or finished */
} jp_sha256_t;

jp_status_t jp_sha256_init(jp_sha256_t *h, jp_error_t *err);
void jp_sha256_update(jp_sha256_t *h, const void *p, size_t n);
/* Writes the digest and releases the context. */
void jp_sha256_final(jp_sha256_t *h, unsigned char out[JP_SHA256_LEN]);
void jp_sha256_free(jp_sha256_t *h);

/* The digest of a whole file, read in pieces (never held in memory), and
 * its size in bytes (bytes may be NULL).  JP_ERR_NOTFOUND for a missing
 * file, JP_ERR_IO for any other failure to open or read it. */
jp_status_t jp_sha256_file(const char *path, unsigned char out[JP_SHA256_LEN],
                           unsigned long long *bytes, jp_error_t *err);

/* One shot. */
jp_status_t jp_sha256(const void *p, size_t n, unsigned char out[JP_SHA256_LEN], jp_error_t *err);
/* Lower-case hex of a digest into out (JP_SHA256_HEX bytes); returns out. */
char *jp_sha256_hex(const unsigned char d[JP_SHA256_LEN], char out[JP_SHA256_HEX]);
/* Is s exactly 64 lower- or upper-case hex digits? */
int jp_sha256_is_hex(const char *s);

#endif
