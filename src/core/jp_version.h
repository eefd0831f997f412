/*
 * jp_version.h - the version of jinpu and of the interfaces it offers.
 */
#ifndef JP_VERSION_H
#define JP_VERSION_H

#define JP_VERSION "0.1.0"
/* The Lua API version plugins declare they need (plugin.yaml: api). */
#define JP_API_VERSION 1
/* The dataset file format version (YAML `jinpu:` key). */
#define JP_FORMAT_VERSION 1

#endif
