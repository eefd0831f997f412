/*
 * jp_archive_int.h - what the archive modules share and nothing else uses:
 * the names of the two checksum files, the open archive's state (filled by
 * the scan in jp_archive_read.c, checked in jp_archive_check.c, loaded from
 * in jp_archive_load.c) and the entry walker.  Not a public interface.
 *
 * Everything in a jp_archive_t belongs to it and is freed by
 * jp_archive_close.
 */
#ifndef JP_ARCHIVE_INT_H
#define JP_ARCHIVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_archive.h"
#include "jp_buf.h"
#include "jp_sha256.h"
#include "jp_zip.h"

#define JP_ARCHIVE_MANIFEST "manifest.yaml"
#define JP_ARCHIVE_SUMS     "sha256sums.txt"
/* Version of the layout described in docs/archive.md (`jinpu_archive:`). */
#define JP_ARCHIVE_LAYOUT_VERSION 1

/* One entry as the scan at open saw it. */
typedef struct jp_arc_ent {
    char *name;      /* full, normalised */
    const char *rel; /* name below the top directory (points into name) */
    bool is_dir;
    uint64_t size;
    unsigned char sha[JP_SHA256_LEN];
    char hex[JP_SHA256_HEX];
    char *damage; /* zip: why its data could not be read, or NULL */
} jp_arc_ent_t;

/* A dataset the manifest describes. */
typedef struct jp_arc_qual {
    char *field, *column;
} jp_arc_qual_t;

typedef struct jp_arc_ds {
    char *name, *title, *source, *source_file, *origin, *period, *license, *format, *data, *schema;
    long long rows, fields;
    jp_arc_qual_t *q;
    size_t nq;
} jp_arc_ds_t;

/* A file as manifest.yaml or sha256sums.txt lists it. */
typedef struct jp_arc_file {
    char *path;
    uint64_t size; /* manifest only */
    char sha[JP_SHA256_HEX];
    size_t line; /* sha256sums.txt only: where it is listed */
} jp_arc_file_t;

struct jp_archive {
    char *path;
    jp_archive_kind_t kind;
    jp_archive_limits_t lim;
    int fd;
    jp_zip_t zip;
    bool zip_open;
    jp_arc_ent_t *ents;
    size_t n, cap;
    jp_arc_ent_t **by_rel; /* the file entries, sorted by rel */
    size_t nfiles_ent;
    char *top;
    /* manifest.yaml */
    bool has_manifest;
    char *manifest_error;
    char *version, *created;
    jp_arc_ds_t *ds;
    size_t nds;
    jp_arc_file_t *files; /* sorted by path once parsed */
    size_t nfiles;
    /* sha256sums.txt */
    bool has_sums;
    jp_arc_file_t *sums; /* sorted by path once parsed */
    size_t nsums;
    char **sums_errors;
    size_t nsums_errors;
    /* The integrity check's findings, made once at open (jp_arc_check):
     * jp_archive_verify reports them and jp_archive_load refuses while there
     * is any, so the two cannot disagree.  `unverifiable` counts those that
     * only say a checksum file is missing (waived for a foreign archive
     * opened with lim.unverified). */
    jp_archive_problems_t problems;
    size_t unverifiable, waivable[2]; /* how many, and where in problems */
    /* archives without a manifest: readable members by stem */
    char **foreign;      /* dataset names */
    size_t *foreign_ent; /* their entries */
    bool *foreign_twice; /* the stem is shared by another member */
    size_t nforeign;
    bool oom; /* an allocation failed while parsing a checksum file */
};

/* ---- walking the entries (jp_archive_read.c) ---------------------------------- */

/* What to do with one file entry's bytes. */
typedef struct jp_arc_take {
    bool hash;
    jp_buf_t *capture; /* or NULL */
    uint64_t limit;    /* capture limit */
} jp_arc_take_t;

typedef struct jp_arc_visitor {
    /* before the data of a file entry (directories come with size 0) */
    jp_status_t (*begin)(struct jp_arc_visitor *v, const char *name, bool is_dir, uint64_t size,
                         jp_arc_take_t *t, jp_error_t *err);
    /* after; damage is set (and sha undefined) when a zip entry's data is bad */
    jp_status_t (*end)(struct jp_arc_visitor *v, const char *name, const unsigned char *sha,
                       const char *damage, jp_error_t *err);
    bool stop;
} jp_arc_visitor_t;

/* Read every entry of the archive in order, calling v for each. */
jp_status_t jp_arc_walk(jp_archive_t *a, jp_arc_visitor_t *v, jp_error_t *err);
/* An entry's name relative to the top directory. */
const char *jp_arc_rel(const jp_archive_t *a, const char *name);

/* ---- the checksum files and the integrity check (jp_archive_check.c) ----------- */

/* Parse the texts found by the scan; what is wrong with them goes to
 * manifest_error and sums_errors (JP_ERR_NOMEM only when out of memory).
 * Both sort their lists by path. */
jp_status_t jp_arc_parse_manifest(jp_archive_t *a, const jp_buf_t *text);
jp_status_t jp_arc_parse_sums(jp_archive_t *a, const jp_buf_t *text);
/* The one integrity check: fills a->problems (and a->unverifiable). */
jp_status_t jp_arc_check(jp_archive_t *a, jp_error_t *err);
/* Lookups in a list sorted by path, and in the file entries by rel. */
const jp_arc_file_t *jp_arc_find_file(const jp_arc_file_t *v, size_t n, const char *path);
const jp_arc_ent_t *jp_arc_find_ent(const jp_archive_t *a, const char *rel);

/* ---- what an archive may hold (jp_archive_text.c) --------------------------------- */

/* Is s[0..n) UTF-8?  *bad (may be NULL) is the offset of the first bad byte. */
bool jp_arc_utf8_ok(const char *s, size_t n, size_t *bad);
/* What an export would write of a dataset is what the readers give back:
 * JP_ERR_INVALID naming the row and field (or the metadata) when not.
 * meta: the metadata and the schema (fields, names, units, constraints);
 * cells: every string cell of a settled dataset whose first row is row
 * row0 of the whole (a batch); inline: with inline qualifiers, every
 * qualified figure reads back (no qualified NaN or infinity, no qualified
 * integer beyond 2^53). */
jp_status_t jp_arc_meta_check(const jp_dataset_t *ds, jp_error_t *err);
jp_status_t jp_arc_cells_check(const jp_dataset_t *ds, size_t row0, jp_error_t *err);
jp_status_t jp_arc_inline_check(const jp_dataset_t *ds, size_t row0, jp_error_t *err);

/* ---- a dataset's data entry, streamed (jp_archive_stream.c) ------------------------ */

/* Where the bytes of a streamed entry go, piece by piece. */
typedef jp_status_t (*jp_arc_put_fn)(void *ctx, const void *p, size_t n, jp_error_t *err);

/* The qualifier side columns of a CSV data entry, for the manifest:
 * field[i]'s qualifiers in column[i]. */
typedef struct jp_arc_sidecols {
    char **field, **column;
    size_t n;
} jp_arc_sidecols_t;

void jp_arc_sidecols_free(jp_arc_sidecols_t *s);

/*
 * Write ds's data entry as CSV to put, a batch at a time (memory: one batch,
 * never the entry): the header, then the rows, with the qualifier side
 * columns (named in *side, which the caller frees) unless o asks for
 * inline qualifiers.  Each batch is checked (jp_arc_cells_check, the inline
 * check, per-row units) before it is written.  A lazy dataset that can
 * stream its rows is not loaded; its field types are settled on the way.
 */
jp_status_t jp_arc_stream_csv(jp_dataset_t *ds, const jp_export_opts_t *o, jp_arc_sidecols_t *side,
                              jp_arc_put_fn put, void *ctx, jp_error_t *err);
/* The schema entry (jinpu YAML, no rows) of a dataset whose data entry has
 * been written: for a streamed one, without loading its columns. */
jp_status_t jp_arc_schema_text(jp_dataset_t *ds, jp_buf_t *out, jp_error_t *err);

#endif
