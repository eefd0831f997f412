/*
 * jp_api.h - the core side of include/jinpu.h: the function table and the
 * concrete forms of the handles that are not core objects.  Used by the
 * plugin host and by embedders; plugins see only include/jinpu.h.
 *
 * jinpu_dataset_t is a jp_dataset_t and jinpu_error_t a jp_error_t under
 * another name (casts between them are the identity); options and
 * arguments are plain arrays the caller owns for the length of a call.
 */
#ifndef JP_API_H
#define JP_API_H

#include "jinpu.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_version.h"

struct jinpu_options {
    size_t n;
    const char *const *keys;
    const char *const *values;
};

struct jinpu_args {
    size_t n;
    const int *kinds; /* JINPU_ARG_* */
    const char *const *strings;
    const double *numbers;
};

/* The table with every entry but registration (NULL there); static. */
const jinpu_api_t *jp_api_core(void);

#endif
