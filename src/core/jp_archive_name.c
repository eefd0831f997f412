/*
 * jp_archive_name.c - entry-name checks for archive readers and safe file
 * names for archive writers.  Pure string work: never touches a file.
 */
#include "jp_archive_name.h"

#include <stdio.h>
#include <string.h>
#include "jp_mem.h"

static void show(const char *s, size_t n, char *buf, size_t size)
{
    /* printable form for messages: control bytes as \xNN */
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
        else
            buf[k++] = (char)c;
    }
    buf[k] = '\0';
}

jp_status_t jp_archive_name_check(const char *archive, const char *s, size_t n, char **out,
                                  bool *is_dir, jp_error_t *err)
{
    char shown[300];
    show(s, n, shown, sizeof shown);
    *out = NULL;
    *is_dir = false;
    if (n == 0) return jp_error_set(err, JP_ERR_ARCHIVE, "%s: an entry has an empty name", archive);
    if (n > JP_ARCHIVE_NAME_MAX)
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': name longer than %d bytes",
                            archive, shown, JP_ARCHIVE_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry '%s': control character in the name", archive, shown);
        if (c == '\\')
            return jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': backslash in the name",
                                archive, shown);
    }
    if (s[0] == '/')
        return jp_error_set(err, JP_ERR_ARCHIVE,
                            "%s: entry '%s': absolute path (refused: it would leave the archive)",
                            archive, shown);
    if (n >= 2 && s[1] == ':' && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': drive-letter path refused",
                            archive, shown);
    char *norm = jp_malloc(n + 1);
    if (!norm) return jp_error_set(err, JP_ERR_NOMEM, "out of memory");
    size_t k = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '/') j++;
        size_t len = j - i;
        if (len == 2 && s[i] == '.' && s[i + 1] == '.') {
            jp_free(norm);
            return jp_error_set(err, JP_ERR_ARCHIVE,
                                "%s: entry '%s': '..' in the path (refused: it would climb out "
                                "of the archive)",
                                archive, shown);
        }
        if (len > 0 && !(len == 1 && s[i] == '.')) {
            if (k) norm[k++] = '/';
            memcpy(norm + k, s + i, len);
            k += len;
        }
        i = j + 1;
    }
    norm[k] = '\0';
    if (k == 0) {
        jp_free(norm);
        /* "./" alone: the archive's own root, harmless but meaningless */
        if (n && s[n - 1] == '/') {
            *out = NULL;
            *is_dir = true;
            return JP_OK;
        }
        return jp_error_set(err, JP_ERR_ARCHIVE, "%s: entry '%s': the name is empty", archive,
                            shown);
    }
    *is_dir = s[n - 1] == '/';
    *out = norm;
    return JP_OK;
}

char *jp_archive_file_stem(const char *name)
{
    if (!name || !*name) return jp_strdup("dataset");
    size_t n = strlen(name);
    char *s = jp_strdup(name);
    if (!s) return NULL;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (c < 0x80) {
            if (!ok) s[i] = '_';
            i++;
            continue;
        }
        /* non-ASCII text stays, but not what is not UTF-8, nor the C1
           controls, the line and paragraph separators and U+FEFF, which
           YAML and some tools take for line breaks or drop */
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        bool good = k > 1 && i + k <= n;
        for (size_t j = 1; good && j < k; j++) good = ((unsigned char)s[i + j] & 0xC0) == 0x80;
        if (good && c == 0xC2 && (unsigned char)s[i + 1] < 0xA0) good = false;
        if (good && c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
            good = false;
        if (good && c == 0xEF && (unsigned char)s[i + 1] == 0xBB && (unsigned char)s[i + 2] == 0xBF)
            good = false;
        if (!good) {
            s[i++] = '_';
            continue;
        }
        i += k;
    }
    if (s[0] == '.') s[0] = '_';
    return s;
}
