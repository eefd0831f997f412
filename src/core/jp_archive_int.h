/*
 * jp_archive_int.h - names shared by the archive writer and reader; not
 * part of the public interface.
 */
#ifndef JP_ARCHIVE_INT_H
#define JP_ARCHIVE_INT_H

#define JP_ARCHIVE_MANIFEST "manifest.yaml"
#define JP_ARCHIVE_SUMS     "sha256sums.txt"
/* Version of the layout described in docs/archive.md (`jinpu_archive:`). */
#define JP_ARCHIVE_LAYOUT_VERSION 1

#endif
