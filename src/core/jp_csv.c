/*
 * jp_csv.c - placeholder until the csv format lands.
 */
#include "jp_format.h"

static const char *const exts[] = {".csv", NULL};

static jp_status_t rd(const char *path, const jp_read_opts_t *o, jp_dataset_t **out, jp_error_t *err)
{
    (void)o;
    *out = NULL;
    return jp_error_set(err, JP_ERR_FORMAT, "%s: the csv reader is not built yet", path);
}

const jp_format_t jp_format_csv = {"csv", exts, "placeholder", NULL, rd, NULL, NULL, NULL};
