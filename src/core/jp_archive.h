/*
 * jp_archive.h - exporting datasets to self-verifying, reproducible
 * archives (.tar.gz / .tgz / .zip) and reading them back.
 *
 * Layout of an archive (docs/archive.md has the full description):
 *
 *   TOP/                         one top directory (default: the archive's stem)
 *   TOP/data/NAME.csv            each dataset's rows (the format is an option)
 *   TOP/data/NAME.schema.yaml    its schema and metadata (jinpu YAML, no rows)
 *   TOP/manifest.yaml            jinpu version, datasets and their sources, and
 *                                every file above with its size and SHA-256
 *   TOP/sha256sums.txt           `sha256sum -c` input for every file but itself
 *
 * Writing is reproducible (sorted entries, fixed owners, modes and times,
 * no name or time in the gzip header), atomic (jp_atomic_*) and parallel
 * for .tar.gz.  Reading is strict: see jp_tar.h and jp_zip.h for what is
 * refused, and jp_archive_limits_t for the resource caps.
 *
 * Ownership: jp_archive_open returns an archive the caller closes with
 * jp_archive_close; strings returned by the accessors belong to the
 * archive.  Datasets returned by jp_archive_load carry one reference owned
 * by the caller.  Problem lists (jp_archive_verify) belong to the caller
 * (jp_archive_problems_free).
 */
#ifndef JP_ARCHIVE_H
#define JP_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jp_buf.h"
#include "jp_dataset.h"
#include "jp_error.h"
#include "jp_format.h"

/* Timestamp of every entry when SOURCE_DATE_EPOCH is not set:
 * 1980-01-01T00:00:00Z, the earliest time a zip archive can record. */
#define JP_ARCHIVE_DEFAULT_MTIME 315532800LL

typedef enum jp_archive_kind {
    JP_ARCHIVE_NONE = 0,
    JP_ARCHIVE_TGZ,
    JP_ARCHIVE_TAR,
    JP_ARCHIVE_ZIP
} jp_archive_kind_t;

/* By name: .tar.gz/.tgz, .tar, .zip (case-insensitive); NONE otherwise. */
jp_archive_kind_t jp_archive_kind_for_path(const char *path);

typedef struct jp_export_opts {
    const char *format;     /* data format from the registry (needs write_mem and
                               read_mem); NULL = "csv" */
    int level;              /* deflate level 1..9; 0 = 6 */
    int threads;            /* compression threads; 0 = all cores */
    bool spreadsheet_safe;  /* CSV: neutralise cells starting with = + - @ (the
                               round trip is then no longer exact) */
    const char *top;        /* top directory; NULL = the archive's stem, "" = none */
    int64_t mtime;          /* < 0: SOURCE_DATE_EPOCH, else JP_ARCHIVE_DEFAULT_MTIME */
    jp_archive_kind_t kind; /* NONE = by the path's extension */
    bool zip64;             /* zip: write zip64 records even when not needed */
    /* qualifiers of numeric cells in CSV data: false = a side column
     * "<field>_qualifier" per qualified field (default: the numeric column
     * stays plain numbers); true = inline "~1.14e9" cells (CSV writer's
     * `qualifiers` option) */
    bool inline_qualifiers;
    /* Called as the archive stream grows (every MiB or so) with the bytes
     * written so far (before gzip compression); may be NULL.  Used for
     * progress display and by the tests that interrupt an export. */
    void (*progress)(void *ctx, uint64_t bytes);
    void *progress_ctx;
    /* testing: fail with JP_ERR_IO once the archive stream (before gzip
     * compression) reaches this many bytes (0 = never) */
    uint64_t fail_after;
} jp_export_opts_t;

void jp_export_opts_init(jp_export_opts_t *o);

/*
 * Write datasets ds[0..n) to an archive at `path`, atomically: on failure
 * (also when killed) the old file, if any, is untouched.  Dataset names
 * (meta.name, else "dataset<i>") must be distinct.
 */
jp_status_t jp_archive_export(const char *path, jp_dataset_t *const *ds, size_t n,
                              const jp_export_opts_t *o, jp_error_t *err);

/* ---- reading ------------------------------------------------------------ */

typedef struct jp_archive_limits {
    uint64_t max_total;   /* uncompressed bytes in all (default 16 GiB) */
    uint64_t max_member;  /* largest member loaded into memory (default 4 GiB) */
    uint64_t max_entries; /* default 100000 */
    double max_ratio;     /* uncompressed/compressed, checked past 1 MiB (default 1000) */
    /* Load from an archive that has no manifest.yaml (not written by jinpu):
     * nothing can be checked against, so it must be asked for (default false).
     * An archive with a manifest must verify whatever this says. */
    bool unverified;
} jp_archive_limits_t;

void jp_archive_limits_init(jp_archive_limits_t *l);

typedef struct jp_archive jp_archive_t;

/*
 * Open and scan an archive: every entry is read once (names checked, data
 * hashed, sizes counted) and the manifest parsed.  Errors: JP_ERR_NOTFOUND /
 * JP_ERR_IO (cannot read the file), JP_ERR_FORMAT (not an archive),
 * JP_ERR_ARCHIVE / JP_ERR_LIMIT (corrupt, truncated or hostile: the message
 * names the archive and the entry).  lim may be NULL.
 */
jp_status_t jp_archive_open(const char *path, const jp_archive_limits_t *lim, jp_archive_t **out,
                            jp_error_t *err);
void jp_archive_close(jp_archive_t *a);

jp_archive_kind_t jp_archive_kind(const jp_archive_t *a);
/* Datasets held (from the manifest; without one, the entries a registered
 * format can read, by stem). */
size_t jp_archive_count(const jp_archive_t *a);
const char *jp_archive_name(const jp_archive_t *a, size_t i);

/*
 * Load a dataset by name (NULL: the only one).  The member's bytes are
 * checked against the manifest's size and SHA-256 before they are parsed.
 */
jp_status_t jp_archive_load(jp_archive_t *a, const char *name, jp_dataset_t **out, jp_error_t *err);

typedef struct jp_archive_problem {
    char *entry; /* path inside the archive (relative to the top directory) or "" */
    char *msg;
} jp_archive_problem_t;

typedef struct jp_archive_problems {
    jp_archive_problem_t *v;
    size_t n, cap;
} jp_archive_problems_t;

/*
 * Check everything: each file's size and SHA-256 against the manifest and
 * sha256sums.txt, every file listed, every listed file present, every
 * dataset's files present.  Fills `out` (initialised here) with one problem
 * per finding; returns JP_OK whether or not there were problems (an error
 * status only when the check itself could not run).
 */
jp_status_t jp_archive_verify(jp_archive_t *a, jp_archive_problems_t *out, jp_error_t *err);
void jp_archive_problems_free(jp_archive_problems_t *p);

/*
 * A description for people and tools: appends YAML-like text (kind,
 * version, created, datasets with rows/fields/title/source, files with size
 * and digest) to buf.
 */
jp_status_t jp_archive_describe(jp_archive_t *a, jp_buf_t *buf, jp_error_t *err);

/* Structured view for bindings. */
typedef struct jp_archive_file_info {
    const char *path; /* relative to the top directory */
    uint64_t size;
    const char *sha256; /* hex, computed while scanning */
    bool listed;        /* named by the manifest or sha256sums.txt */
} jp_archive_file_info_t;

typedef struct jp_archive_ds_info {
    const char *name, *title, *source, *source_file, *origin, *format, *data, *schema;
    long long rows, fields;
} jp_archive_ds_info_t;

const char *jp_archive_version(const jp_archive_t *a); /* jinpu version that wrote it, or NULL */
const char *jp_archive_created(const jp_archive_t *a); /* or NULL */
const char *jp_archive_top(const jp_archive_t *a);     /* "" when none */
size_t jp_archive_file_count(const jp_archive_t *a);
void jp_archive_file_at(const jp_archive_t *a, size_t i, jp_archive_file_info_t *out);
void jp_archive_dataset_at(const jp_archive_t *a, size_t i, jp_archive_ds_info_t *out);

/* The registry format "archive" (.tar.gz, .tgz, .zip): jp_dataset_load
 * reads opts->member (or the only dataset). */
extern const jp_format_t jp_format_archive;

#endif
