/*
 * jp_formats.c - the list of built-in formats.  A new built-in format adds
 * one line here; plugins register theirs at run time.
 */
#include "jp_file.h"
#include "jp_format.h"

extern const jp_format_t jp_format_yaml;
extern const jp_format_t jp_format_csv;
extern const jp_format_t jp_format_csv_gz;
extern const jp_format_t jp_format_archive;

void jp_formats_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    jp_file_init(); /* the umask, read before any thread is started */
    static const jp_format_t *const builtin[] = {&jp_format_yaml, &jp_format_csv, &jp_format_csv_gz,
                                                 &jp_format_archive};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        jp_format_register(builtin[i], NULL);
}
