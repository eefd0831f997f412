/*
 * jp_embedded.h - the Lua sources of lua/, compiled into the binary by
 * tools/embed.c.  The table ends with a {NULL} entry.
 */
#ifndef JP_EMBEDDED_H
#define JP_EMBEDDED_H

#include <stddef.h>

typedef struct jp_embedded {
    const char *name;      /* module name: "jinpu.report" */
    const char *chunkname; /* "@lua/jinpu/report.lua", for messages */
    const char *src;
    size_t len;
} jp_embedded_t;

extern const jp_embedded_t jp_embedded[];

#endif
