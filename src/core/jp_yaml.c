/*
 * jp_yaml.c - placeholder until the yaml format lands.
 */
#include "jp_format.h"

static const char *const exts[] = {".yaml", NULL};

static jp_status_t rd(const char *path, const jp_read_opts_t *o, jp_dataset_t **out, jp_error_t *err)
{
    (void)o;
    *out = NULL;
    return jp_error_set(err, JP_ERR_FORMAT, "%s: the yaml reader is not built yet", path);
}

const jp_format_t jp_format_yaml = {"yaml", exts, "placeholder", NULL, rd, NULL, NULL, NULL};
