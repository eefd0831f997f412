/*
 * jp_sha256.c - SHA-256 over libcrypto's EVP interface.  Owns nothing but
 * the EVP context of each jp_sha256_t; must never implement the hash
 * itself (libcrypto picks the SHA extensions of the CPU when present).
 */
#include "jp_sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

jp_status_t jp_sha256_init(jp_sha256_t *h, jp_error_t *err)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    h->ctx = c;
    if (!c) return jp_error_set(err, JP_ERR_NOMEM, "out of memory (SHA-256 context)");
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        jp_sha256_free(h);
        return jp_error_set(err, JP_ERR_INTERNAL, "SHA-256 is not available from libcrypto");
    }
    return JP_OK;
}

void jp_sha256_update(jp_sha256_t *h, const void *p, size_t n)
{
    if (h->ctx && n) EVP_DigestUpdate((EVP_MD_CTX *)h->ctx, p, n);
}

void jp_sha256_final(jp_sha256_t *h, unsigned char out[JP_SHA256_LEN])
{
    unsigned int len = 0;
    memset(out, 0, JP_SHA256_LEN);
    if (h->ctx) EVP_DigestFinal_ex((EVP_MD_CTX *)h->ctx, out, &len);
    jp_sha256_free(h);
}

void jp_sha256_free(jp_sha256_t *h)
{
    if (h->ctx) EVP_MD_CTX_free((EVP_MD_CTX *)h->ctx);
    h->ctx = NULL;
}

jp_status_t jp_sha256(const void *p, size_t n, unsigned char out[JP_SHA256_LEN], jp_error_t *err)
{
    jp_sha256_t h;
    jp_status_t st = jp_sha256_init(&h, err);
    if (st) return st;
    jp_sha256_update(&h, p, n);
    jp_sha256_final(&h, out);
    return JP_OK;
}

jp_status_t jp_sha256_file(const char *path, unsigned char out[JP_SHA256_LEN],
                           unsigned long long *bytes, jp_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return jp_error_errno(err, errno == ENOENT ? JP_ERR_NOTFOUND : JP_ERR_IO, errno,
                              "%s: cannot open", path);
    jp_sha256_t h;
    jp_status_t st = jp_sha256_init(&h, err);
    unsigned long long total = 0;
    char buf[1 << 16];
    while (st == JP_OK) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            st = jp_error_errno(err, JP_ERR_IO, errno, "%s: cannot read", path);
            break;
        }
        jp_sha256_update(&h, buf, (size_t)n);
        total += (unsigned long long)n;
    }
    close(fd);
    if (st) {
        jp_sha256_free(&h);
        return st;
    }
    jp_sha256_final(&h, out);
    if (bytes) *bytes = total;
    return JP_OK;
}

char *jp_sha256_hex(const unsigned char d[JP_SHA256_LEN], char out[JP_SHA256_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < JP_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    return out;
}

int jp_sha256_is_hex(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return s[64] == '\0';
}
