/*
 * sqlite.c - the sqlite plugin: datasets as a SQLite database an analyst
 * queries with sqlite3, and back.
 *
 * Writing (ds:write("x.sqlite"), jinpu export -o db.sqlite): one STRICT
 * table per dataset, its columns typed (INTEGER, REAL, TEXT; booleans are
 * INTEGER 0/1, dates TEXT YYYY-MM-DD, periods TEXT) after a first column
 * _row INTEGER PRIMARY KEY numbering the rows 1..n (a rowid of its own
 * would be renumbered by VACUUM); and three tables about them:
 *   _datasets   (name, title, description, source, source_file, period,
 *                license, rows, schema)   schema = the jinpu YAML schema
 *   _fields     (dataset, position, field, type, unit, unit_field, title,
 *                description)
 *   _qualifiers (dataset, field, row, qualifier)  one row per figure that
 *                is not exact; row = _row in the dataset's table
 * All in one transaction with prepared statements, into a temporary file
 * that replaces the target only when complete.
 *
 * Reading (jp.load("db.sqlite", { member = "cherry" })): a database written
 * here comes back as it was (schema, metadata, values, qualifiers); any
 * other SQLite table loads with types taken from its declared column types.
 * The file is opened read-only, with the schema untrusted and defensive
 * mode on; whatever is in it, the result is a dataset or an error naming
 * the file, row and field.  Owns nothing beyond a call.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jinpu.h"

JINPU_PLUGIN_API;

static const jinpu_api_t *J;

enum { N_TYPES = 7, N_QUALS = 6 };

static const char *const TYPE_NAME[N_TYPES] = {"",        "integer", "number", "string",
                                               "boolean", "date",    "period"};
static const char *const SQL_TYPE[N_TYPES] = {"",        "INTEGER", "REAL", "TEXT",
                                              "INTEGER", "TEXT",    "TEXT"};
static const char *const QUAL_NAME[N_QUALS] = {"exact",     "approx",  "at_least",
                                               "more_than", "at_most", "less_than"};

/* "name" with inner quotes doubled, malloc'd (NULL: out of memory) */
static char *ident(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *q = malloc(2 * n + 3);
    if (!q) return NULL;
    q[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') q[k++] = '"';
        q[k++] = s[i];
    }
    q[k++] = '"';
    q[k] = '\0';
    return q;
}

static int db_error(jinpu_error_t *err, sqlite3 *db, const char *path, const char *what)
{
    int code = sqlite3_errcode(db);
    return J->error(err, code == SQLITE_NOMEM ? JINPU_E_NOMEM : JINPU_E_IO, "sqlite: %s: %s: %s",
                    path, what, sqlite3_errmsg(db));
}

static int check_options(const jinpu_options_t *o, const char *allowed, jinpu_error_t *err)
{
    for (size_t i = 0; J->opt_key(o, i); i++) {
        const char *k = J->opt_key(o, i);
        if (strcmp(k, "format") && (!allowed || strcmp(k, allowed)))
            return J->error(err, JINPU_E_ARG, "sqlite: unknown option '%s'%s%s%s", k,
                            allowed ? " (the option is " : "", allowed ? allowed : "",
                            allowed ? ")" : "");
    }
    return JINPU_OK;
}

/* ---- writing ------------------------------------------------------------------------- */

typedef struct wdb {
    sqlite3 *db;
    const char *path;
    sqlite3_stmt *ins_ds, *ins_field, *ins_qual;
} wdb_t;

static int run_sql(wdb_t *w, const char *sql, jinpu_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &msg) == SQLITE_OK) return JINPU_OK;
    int rc = J->error(err, JINPU_E_IO, "sqlite: %s: %s", w->path, msg ? msg : "failed");
    sqlite3_free(msg);
    return rc;
}

static int prepare(wdb_t *w, const char *sql, sqlite3_stmt **st, jinpu_error_t *err)
{
    if (sqlite3_prepare_v2(w->db, sql, -1, st, NULL) == SQLITE_OK) return JINPU_OK;
    return db_error(err, w->db, w->path, "prepare");
}

static int step_reset(wdb_t *w, sqlite3_stmt *st, const char *what, jinpu_error_t *err)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r == SQLITE_DONE) return JINPU_OK;
    return db_error(err, w->db, w->path, what);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int begin_db(wdb_t *w, jinpu_error_t *err)
{
    /* the file is a fresh temporary one, renamed into place when complete:
       a journal and syncs on every page would buy nothing */
    int rc = run_sql(w,
                     "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                     "PRAGMA locking_mode=EXCLUSIVE; PRAGMA page_size=16384; BEGIN;"
                     "CREATE TABLE _datasets(name TEXT PRIMARY KEY, title TEXT, "
                     "description TEXT, source TEXT, source_file TEXT, period TEXT, "
                     "license TEXT, rows INTEGER NOT NULL, schema TEXT NOT NULL) STRICT;"
                     "CREATE TABLE _fields(dataset TEXT NOT NULL, position INTEGER NOT NULL, "
                     "field TEXT NOT NULL, type TEXT NOT NULL, unit TEXT, unit_field TEXT, "
                     "title TEXT, description TEXT, PRIMARY KEY(dataset, field)) STRICT;"
                     "CREATE TABLE _qualifiers(dataset TEXT NOT NULL, field TEXT NOT NULL, "
                     "row INTEGER NOT NULL, qualifier TEXT NOT NULL, "
                     "PRIMARY KEY(dataset, field, row)) STRICT;",
                     err);
    if (!rc) rc = prepare(w, "INSERT INTO _datasets VALUES(?,?,?,?,?,?,?,?,?)", &w->ins_ds, err);
    if (!rc) rc = prepare(w, "INSERT INTO _fields VALUES(?,?,?,?,?,?,?,?)", &w->ins_field, err);
    if (!rc) rc = prepare(w, "INSERT INTO _qualifiers VALUES(?,?,?,?)", &w->ins_qual, err);
    return rc;
}

static int describe(wdb_t *w, jinpu_dataset_t *ds, const char *name, jinpu_error_t *err)
{
    char *yaml = NULL;
    int rc = J->dataset_schema(ds, &yaml, NULL, err);
    if (rc) return rc;
    sqlite3_stmt *st = w->ins_ds;
    static const char *const keys[] = {"title",       "description", "source",
                                       "source_file", "period",      "license"};
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    for (int i = 0; i < 6; i++) bind_opt(st, i + 2, J->dataset_meta(ds, keys[i]));
    sqlite3_bind_int64(st, 8, (sqlite3_int64)J->dataset_rows(ds));
    sqlite3_bind_text(st, 9, yaml, -1, SQLITE_STATIC);
    rc = step_reset(w, st, "_datasets", err);
    J->text_free(yaml);
    st = w->ins_field;
    for (size_t f = 0; f < J->dataset_fields(ds) && !rc; f++) {
        int t = J->field_type(ds, f);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)f + 1);
        sqlite3_bind_text(st, 3, J->field_name(ds, f), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, t > 0 && t < N_TYPES ? TYPE_NAME[t] : "string", -1, SQLITE_STATIC);
        bind_opt(st, 5, J->field_unit(ds, f));
        bind_opt(st, 6, J->field_unit_field(ds, f));
        bind_opt(st, 7, J->field_title(ds, f));
        bind_opt(st, 8, J->field_description(ds, f));
        rc = step_reset(w, st, "_fields", err);
    }
    return rc;
}

/* CREATE TABLE and the INSERT for dataset ds as table `name`. */
static int create_table(wdb_t *w, jinpu_dataset_t *ds, const char *name, sqlite3_stmt **ins,
                        jinpu_error_t *err)
{
    size_t nf = J->dataset_fields(ds), cap = 256, k = 0, ki = 0;
    char *qname = ident(name);
    size_t qlen = qname ? strlen(qname) : 0;
    for (size_t f = 0; f < nf; f++) cap += 2 * strlen(J->field_name(ds, f)) + 16;
    char *create = malloc(cap + qlen), *insert = malloc(cap + qlen);
    int rc = JINPU_OK;
    if (!qname || !create || !insert) {
        rc = J->error(err, JINPU_E_NOMEM, "out of memory");
        goto done;
    }
    k = (size_t)sprintf(create, "CREATE TABLE %s(_row INTEGER PRIMARY KEY", qname);
    ki = (size_t)sprintf(insert, "INSERT INTO %s(_row", qname);
    for (size_t f = 0; f < nf && !rc; f++) {
        char *col = ident(J->field_name(ds, f));
        if (!col) {
            rc = J->error(err, JINPU_E_NOMEM, "out of memory");
            break;
        }
        int t = J->field_type(ds, f);
        k += (size_t)sprintf(create + k, ", %s %s", col,
                             t > 0 && t < N_TYPES ? SQL_TYPE[t] : "TEXT");
        ki += (size_t)sprintf(insert + ki, ", %s", col);
        free(col);
    }
    if (rc) goto done;
    sprintf(create + k, ") STRICT;");
    ki += (size_t)sprintf(insert + ki, ") VALUES(?");
    for (size_t f = 0; f < nf; f++) ki += (size_t)sprintf(insert + ki, ",?");
    sprintf(insert + ki, ")");
    if (!(rc = run_sql(w, create, err))) rc = prepare(w, insert, ins, err);
done:
    free(qname);
    free(create);
    free(insert);
    return rc;
}

static int bind_cell(wdb_t *w, sqlite3_stmt *ins, jinpu_dataset_t *ds, const char *name, size_t f,
                     int type, size_t row, jinpu_error_t *err)
{
    int i = (int)f + 2;
    if (J->cell_is_null(ds, f, row)) return sqlite3_bind_null(ins, i), JINPU_OK;
    switch (type) {
    case JINPU_INTEGER:
    case JINPU_NUMBER: {
        int q = J->cell_qualifier(ds, f, row);
        if (type == JINPU_INTEGER) {
            sqlite3_bind_int64(ins, i, J->cell_int(ds, f, row));
        } else {
            double v = J->cell_number(ds, f, row);
            if (isnan(v)) {
                /* SQLite stores NaN as NULL: refuse rather than lose it */
                J->error(err, JINPU_E_RANGE,
                         "sqlite: NaN cannot be stored (SQLite reads it as null)");
                J->error_at(err, NULL, 0, (long)row + 1, J->field_name(ds, f));
                return JINPU_E_RANGE;
            }
            sqlite3_bind_double(ins, i, v);
        }
        if (q != JINPU_EXACT) {
            sqlite3_stmt *st = w->ins_qual;
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, J->field_name(ds, f), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)row + 1);
            sqlite3_bind_text(st, 4, q > 0 && q < N_QUALS ? QUAL_NAME[q] : "exact", -1,
                              SQLITE_STATIC);
            return step_reset(w, st, "_qualifiers", err);
        }
        return JINPU_OK;
    }
    case JINPU_STRING: {
        size_t n;
        const char *s = J->cell_string(ds, f, row, &n);
        sqlite3_bind_text64(ins, i, s, n, SQLITE_STATIC, SQLITE_UTF8);
        return JINPU_OK;
    }
    case JINPU_BOOLEAN:
        sqlite3_bind_int(ins, i, J->cell_bool(ds, f, row) != 0);
        return JINPU_OK;
    default: { /* dates and periods, as their text */
        char buf[256];
        J->cell_text(ds, f, row, buf, sizeof buf);
        sqlite3_bind_text(ins, i, buf, -1, SQLITE_TRANSIENT);
        return JINPU_OK;
    }
    }
}

static int is_reserved(const char *name)
{
    return strncasecmp(name, "sqlite_", 7) == 0 || strcasecmp(name, "_datasets") == 0 ||
           strcasecmp(name, "_fields") == 0 || strcasecmp(name, "_qualifiers") == 0;
}

static int write_dataset(wdb_t *w, jinpu_dataset_t *ds, const char *name, jinpu_error_t *err)
{
    int rc = describe(w, ds, name, err);
    sqlite3_stmt *ins = NULL;
    if (!rc) rc = create_table(w, ds, name, &ins, err);
    size_t nf = J->dataset_fields(ds), rows = J->dataset_rows(ds);
    int *types = rc ? NULL : malloc((nf ? nf : 1) * sizeof *types);
    if (!rc && !types) rc = J->error(err, JINPU_E_NOMEM, "out of memory");
    for (size_t f = 0; f < nf && !rc; f++) types[f] = J->field_type(ds, f);
    for (size_t row = 0; row < rows && !rc; row++) {
        if ((row & 65535) == 65535 && J->stop_requested()) {
            rc = J->error(err, JINPU_E_LIMIT, "sqlite: stopped");
            break;
        }
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)row + 1);
        for (size_t f = 0; f < nf && !rc; f++)
            rc = bind_cell(w, ins, ds, name, f, types[f], row, err);
        if (!rc && (rc = step_reset(w, ins, name, err)))
            J->error_at(err, NULL, 0, (long)row + 1, NULL);
    }
    free(types);
    sqlite3_finalize(ins);
    return rc;
}

static int write_db(jinpu_dataset_t *const *list, size_t n, const char *path,
                    const jinpu_options_t *opts, jinpu_error_t *err)
{
    int rc = check_options(opts, NULL, err);
    if (rc) return rc;
    if (n == 0) return J->error(err, JINPU_E_ARG, "sqlite: no dataset to write");
    for (size_t i = 0; i < n; i++) {
        const char *a = J->dataset_name(list[i]);
        if (!a || !*a)
            return J->error(err, JINPU_E_ARG,
                            "sqlite: dataset %zu has no name, and a table needs one: "
                            "ds:named(\"sales\")",
                            i + 1);
        if (is_reserved(a))
            return J->error(err, JINPU_E_ARG,
                            "sqlite: a dataset named '%s' would clash with SQLite's or this "
                            "plugin's own tables: rename it with ds:named",
                            a);
        if (J->field_find(list[i], "_row") >= 0)
            return J->error(err, JINPU_E_ARG,
                            "sqlite: dataset '%s' has a field named _row, the column that numbers "
                            "the rows of its table: rename it (ds:rename)",
                            a);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(a, J->dataset_name(list[j])) == 0)
                return J->error(err, JINPU_E_ARG,
                                "sqlite: two datasets are named '%s' (table names ignore case): "
                                "rename one with ds:named",
                                a);
    }
    jinpu_output_t *out = J->output_begin(path, err);
    if (!out) return JINPU_E_IO;
    wdb_t w = {.path = path};
    if (sqlite3_open_v2(J->output_path(out), &w.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = db_error(err, w.db, path, "cannot create");
    } else {
        sqlite3_db_config(w.db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
        sqlite3_db_config(w.db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
        rc = begin_db(&w, err);
        for (size_t i = 0; i < n && !rc; i++)
            rc = write_dataset(&w, list[i], J->dataset_name(list[i]), err);
        sqlite3_finalize(w.ins_ds);
        sqlite3_finalize(w.ins_field);
        sqlite3_finalize(w.ins_qual);
        if (!rc) rc = run_sql(&w, "COMMIT;", err);
    }
    if (sqlite3_close(w.db) != SQLITE_OK && !rc)
        rc = J->error(err, JINPU_E_IO, "sqlite: %s: cannot close", path);
    if (rc) {
        J->output_abort(out);
        return rc;
    }
    return J->output_commit(out, err);
}

static int sqlite_write(void *ud, jinpu_dataset_t *ds, const char *path,
                        const jinpu_options_t *opts, jinpu_error_t *err)
{
    (void)ud;
    return write_db(&ds, 1, path, opts, err);
}

static int sqlite_export(void *ud, jinpu_dataset_t *const *list, size_t n, const char *path,
                         const jinpu_options_t *opts, jinpu_error_t *err)
{
    (void)ud;
    return write_db(list, n, path, opts, err);
}

/* ---- reading ------------------------------------------------------------------------- */

typedef struct rdb {
    sqlite3 *db;
    const char *path;
    int ours; /* written by this plugin: _datasets is there */
} rdb_t;

typedef struct rfield {
    char *name;
    int type;
} rfield_t;

typedef struct qual {
    sqlite3_int64 row;
    size_t f;
    int q;
} qual_t;

static int rerr(rdb_t *r, jinpu_error_t *err, const char *what)
{
    db_error(err, r->db, r->path, what);
    J->error_at(err, r->path, 0, 0, NULL);
    return JINPU_E_IO;
}

/* The members: _datasets' names for a database written here, else the
 * tables.  A NULL-terminated malloc'd list of malloc'd names. */
static int members(rdb_t *r, char ***out, size_t *n_out, jinpu_error_t *err)
{
    sqlite3_stmt *st;
    const char *sql = r->ours ? "SELECT name FROM _datasets ORDER BY rowid"
                              : "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                                "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return rerr(r, err, "cannot list its tables");
    char **v = NULL;
    size_t n = 0;
    int rc = JINPU_OK, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        char **nv = realloc(v, (n + 2) * sizeof *v);
        if (!nv || !(nv[n] = strdup(name ? name : ""))) {
            v = nv ? nv : v;
            rc = J->error(err, JINPU_E_NOMEM, "out of memory");
            break;
        }
        v = nv;
        v[++n] = NULL;
    }
    if (!rc && s != SQLITE_DONE) rc = rerr(r, err, "cannot list its tables");
    sqlite3_finalize(st);
    if (rc) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return JINPU_OK;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* A declared SQL type's jinpu type, by SQLite's affinity rules. */
static int type_of_decl(const char *decl)
{
    char up[64];
    size_t i = 0;
    for (; decl && decl[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[i] = '\0';
    if (strstr(up, "BOOL")) return JINPU_BOOLEAN;
    if (strstr(up, "INT")) return JINPU_INTEGER;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT")) return JINPU_STRING;
    if (strcmp(up, "DATE") == 0) return JINPU_DATE;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB") || strstr(up, "NUM") ||
        strstr(up, "DEC"))
        return JINPU_NUMBER;
    return JINPU_STRING;
}

static void free_fields(rfield_t *fs, size_t n)
{
    for (size_t i = 0; i < n; i++) free(fs[i].name);
    free(fs);
}

/* The fields of member `name`: from _fields for a database written here,
 * else from the table's declared columns; defined in the builder too. */
static int read_fields(rdb_t *r, const char *name, jinpu_builder_t *b, rfield_t **out,
                       size_t *n_out, jinpu_error_t *err)
{
    sqlite3_stmt *st;
    int rc;
    if (r->ours)
        rc = sqlite3_prepare_v2(r->db,
                                "SELECT field, type FROM _fields WHERE dataset = ? ORDER BY "
                                "position",
                                -1, &st, NULL);
    else
        rc = sqlite3_prepare_v2(r->db, "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return rerr(r, err, "cannot read its fields");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rfield_t *fs = NULL;
    size_t n = 0;
    int s;
    rc = JINPU_OK;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *fname = (const char *)sqlite3_column_text(st, 0);
        const char *tname = (const char *)sqlite3_column_text(st, 1);
        int t = 0;
        if (!fname || !*fname) {
            rc = J->error(err, JINPU_E_PARSE, "sqlite: %s: table '%s' has a column without a name",
                          r->path, name);
            break;
        }
        if (r->ours) {
            for (int k = 1; k < N_TYPES; k++)
                if (tname && strcmp(tname, TYPE_NAME[k]) == 0) t = k;
            if (!t) {
                rc = J->error(err, JINPU_E_PARSE,
                              "sqlite: %s: _fields gives field '%s' of '%s' the unknown type '%s'",
                              r->path, fname, name, tname ? tname : "(null)");
                break;
            }
        } else {
            t = type_of_decl(tname);
        }
        rfield_t *nf = realloc(fs, (n + 1) * sizeof *fs);
        if (!nf) {
            rc = J->error(err, JINPU_E_NOMEM, "out of memory");
            break;
        }
        fs = nf;
        if (!(fs[n].name = strdup(fname))) {
            rc = J->error(err, JINPU_E_NOMEM, "out of memory");
            break;
        }
        fs[n++].type = t;
        if (!r->ours && J->builder_field(b, fname, t, NULL, NULL, err) < 0) rc = JINPU_E_ARG;
    }
    if (!rc && s != SQLITE_DONE) rc = rerr(r, err, "cannot read its fields");
    sqlite3_finalize(st);
    if (!rc && n == 0)
        rc = J->error(err, JINPU_E_PARSE, "sqlite: %s: '%s' has no fields%s", r->path, name,
                      r->ours ? " in _fields" : "");
    if (rc) {
        free_fields(fs, n);
        return rc;
    }
    *out = fs;
    *n_out = n;
    return JINPU_OK;
}

/* The schema and metadata of a member written here: _datasets.schema. */
static int read_schema(rdb_t *r, const char *name, jinpu_builder_t *b, sqlite3_int64 *rows,
                       jinpu_error_t *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT schema, rows FROM _datasets WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return rerr(r, err, "cannot read _datasets");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = JINPU_OK;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = rerr(r, err, "cannot read _datasets");
    } else if (sqlite3_column_type(st, 0) != SQLITE_TEXT) {
        rc = J->error(err, JINPU_E_PARSE, "sqlite: %s: _datasets has no schema for '%s'", r->path,
                      name);
    } else {
        const char *yaml = (const char *)sqlite3_column_text(st, 0);
        *rows = sqlite3_column_int64(st, 1);
        if ((rc = J->builder_schema(b, yaml, (size_t)sqlite3_column_bytes(st, 0), err)))
            J->error(err, rc, "sqlite: %s: the schema of '%s' in _datasets does not read", r->path,
                     name);
        else
            rc = J->builder_meta(b, "name", name, err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int qual_cmp(const void *a, const void *b)
{
    const qual_t *x = a, *y = b;
    return x->row < y->row ? -1 : x->row > y->row ? 1 : (x->f > y->f) - (x->f < y->f);
}

/* The qualifiers of member `name`, sorted by row. */
static int read_quals(rdb_t *r, const char *name, const rfield_t *fs, size_t nf, qual_t **out,
                      size_t *n_out, jinpu_error_t *err)
{
    *out = NULL;
    *n_out = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT field, row, qualifier FROM _qualifiers WHERE dataset = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return rerr(r, err, "cannot read _qualifiers");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    qual_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc = JINPU_OK, s;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *field = (const char *)sqlite3_column_text(st, 0);
        const char *qn = (const char *)sqlite3_column_text(st, 2);
        size_t f = nf;
        int q = -1;
        for (size_t i = 0; field && i < nf; i++)
            if (strcmp(fs[i].name, field) == 0) f = i;
        for (int k = 0; qn && k < N_QUALS; k++)
            if (strcmp(qn, QUAL_NAME[k]) == 0) q = k;
        if (f == nf || q < 0 || (fs[f].type != JINPU_INTEGER && fs[f].type != JINPU_NUMBER)) {
            rc = J->error(err, JINPU_E_PARSE,
                          "sqlite: %s: _qualifiers has '%s' for field '%s' of '%s', which is %s",
                          r->path, qn ? qn : "(null)", field ? field : "(null)", name,
                          f == nf ? "not a field"
                          : q < 0 ? "not a qualifier (exact, approx, at_least, more_than, "
                                    "at_most, less_than)"
                                  : "not a number field");
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            qual_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = J->error(err, JINPU_E_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        v[n].row = sqlite3_column_int64(st, 1);
        v[n].f = f;
        v[n++].q = q;
    }
    if (!rc && s != SQLITE_DONE) rc = rerr(r, err, "cannot read _qualifiers");
    sqlite3_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    if (n) qsort(v, n, sizeof *v, qual_cmp);
    *out = v;
    *n_out = n;
    return JINPU_OK;
}

/* One value of the result row into field f of the builder. */
static int put_value(rdb_t *r, sqlite3_stmt *st, int col, jinpu_builder_t *b, size_t f, int type,
                     int q, jinpu_error_t *err)
{
    int vt = sqlite3_column_type(st, col);
    (void)r;
    if (vt == SQLITE_NULL) return J->put_null(b, f, err);
    if (vt == SQLITE_BLOB)
        return J->error(err, JINPU_E_TYPE, "a BLOB is not a %s", TYPE_NAME[type]);
    switch (type) {
    case JINPU_INTEGER:
    case JINPU_NUMBER:
        if (vt == SQLITE_INTEGER) {
            sqlite3_int64 v = sqlite3_column_int64(st, col);
            return type == JINPU_INTEGER ? J->put_int(b, f, v, q, err)
                                         : J->put_number(b, f, (double)v, q, err);
        }
        if (vt == SQLITE_FLOAT) {
            double v = sqlite3_column_double(st, col);
            if (type == JINPU_NUMBER) return J->put_number(b, f, v, q, err);
            if (v == floor(v) && fabs(v) < 9.2e18) return J->put_int(b, f, (int64_t)v, q, err);
            return J->error(err, JINPU_E_TYPE, "%.17g is not a whole number", v);
        }
        break; /* text: read as a figure below */
    case JINPU_BOOLEAN:
        if (vt == SQLITE_INTEGER) {
            sqlite3_int64 v = sqlite3_column_int64(st, col);
            if (v == 0 || v == 1) return J->put_bool(b, f, (int)v, err);
            return J->error(err, JINPU_E_TYPE, "%lld is not a boolean (0 or 1)", (long long)v);
        }
        break;
    case JINPU_STRING: {
        const unsigned char *s = sqlite3_column_text(st, col);
        if (!s) return J->error(err, JINPU_E_NOMEM, "out of memory");
        return J->put_string(b, f, (const char *)s, (size_t)sqlite3_column_bytes(st, col), err);
    }
    default:
        break;
    }
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s) return J->error(err, JINPU_E_NOMEM, "out of memory");
    return J->put_text(b, f, (const char *)s, (size_t)sqlite3_column_bytes(st, col), err);
}

static int read_rows(rdb_t *r, const char *name, jinpu_builder_t *b, const rfield_t *fs, size_t nf,
                     const qual_t *qs, size_t nq, sqlite3_int64 want, jinpu_error_t *err)
{
    size_t cap = 64 + strlen(name) * 2;
    for (size_t f = 0; f < nf; f++) cap += 2 * strlen(fs[f].name) + 4;
    char *sql = malloc(cap), *qn = ident(name);
    int *rowq = calloc(nf ? nf : 1, sizeof *rowq);
    int rc = JINPU_OK;
    sqlite3_stmt *st = NULL;
    if (!sql || !qn || !rowq) {
        rc = J->error(err, JINPU_E_NOMEM, "out of memory");
        goto done;
    }
    /* a table written here is read in the order of _row, the rows' order;
       another may have no rowid, and is read in its own order */
    size_t k = (size_t)sprintf(sql, r->ours ? "SELECT _row" : "SELECT 0");
    for (size_t f = 0; f < nf && !rc; f++) {
        char *c = ident(fs[f].name);
        if (!c) {
            rc = J->error(err, JINPU_E_NOMEM, "out of memory");
            goto done;
        }
        k += (size_t)sprintf(sql + k, ", %s", c);
        free(c);
    }
    sprintf(sql + k, " FROM %s%s", qn, r->ours ? " ORDER BY _row" : "");
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = rerr(r, err, name);
        goto done;
    }
    size_t qi = 0;
    sqlite3_int64 row = 0;
    int s;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        row++;
        if ((row & 65535) == 0 && J->stop_requested()) {
            rc = J->error(err, JINPU_E_LIMIT, "sqlite: stopped");
            break;
        }
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (r->ours && id != row) {
            /* rows deleted or added: the qualifiers would not match them */
            rc = J->error(err, JINPU_E_PARSE,
                          "sqlite: %s: table '%s' was changed: its row %lld has _row %lld, not "
                          "%lld",
                          r->path, name, (long long)row, (long long)id, (long long)row);
            break;
        }
        for (; qi < nq && qs[qi].row == id; qi++) rowq[qs[qi].f] = qs[qi].q;
        for (size_t f = 0; f < nf && !rc; f++) {
            rc = put_value(r, st, (int)f + 1, b, f, fs[f].type, rowq[f], err);
            if (rc) J->error_at(err, r->path, 0, (long)row, fs[f].name);
            rowq[f] = JINPU_EXACT;
        }
        if (!rc) rc = J->end_row(b, err);
    }
    if (!rc && s != SQLITE_DONE) rc = rerr(r, err, name);
    if (!rc && want >= 0 && row != want)
        rc = J->error(err, JINPU_E_PARSE,
                      "sqlite: %s: table '%s' has %lld rows, _datasets says %lld", r->path, name,
                      (long long)row, (long long)want);
    if (!rc && qi < nq) /* sorted by row: the first left over names no row read */
        rc = J->error(err, JINPU_E_PARSE,
                      "sqlite: %s: _qualifiers names row %lld of '%s', which has %lld rows",
                      r->path, (long long)qs[qi].row, name, (long long)row);
done:
    sqlite3_finalize(st);
    free(sql);
    free(qn);
    free(rowq);
    return rc;
}

/* Open read-only, distrusting the file: no schema code runs with more than
 * innocuous functions, and defensive mode refuses writes to the schema. */
static int open_db(rdb_t *r, const char *path, jinpu_error_t *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        J->error(err, JINPU_E_NOTFOUND, "sqlite: cannot open %s", path);
        return JINPU_E_NOTFOUND;
    }
    char head[16];
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    if (n != sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
        return J->error(err, JINPU_E_FORMAT, "sqlite: %s is not a SQLite database", path);
    r->path = path;
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return rerr(r, err, "cannot open");
    /* a "name" that is no column must be an error, not the string 'name' */
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
    sqlite3_limit(r->db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                           "'_datasets'",
                           -1, &st, NULL) != SQLITE_OK)
        return rerr(r, err, "cannot read");
    int s = sqlite3_step(st);
    r->ours = s == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (s != SQLITE_ROW) return rerr(r, err, "cannot read");
    return JINPU_OK;
}

static int load_member(rdb_t *r, const char *name, jinpu_dataset_t **out, jinpu_error_t *err)
{
    jinpu_builder_t *b = J->builder_new(name, err);
    if (!b) return JINPU_E_NOMEM;
    rfield_t *fs = NULL;
    size_t nf = 0, nq = 0;
    qual_t *qs = NULL;
    sqlite3_int64 want = -1;
    int rc = r->ours ? read_schema(r, name, b, &want, err) : JINPU_OK;
    if (!rc) rc = read_fields(r, name, b, &fs, &nf, err);
    if (!rc && r->ours) rc = read_quals(r, name, fs, nf, &qs, &nq, err);
    if (!rc) rc = read_rows(r, name, b, fs, nf, qs, nq, want, err);
    free_fields(fs, nf);
    free(qs);
    if (rc) {
        J->builder_free(b);
        return rc;
    }
    *out = J->builder_finish(b, err);
    return *out ? JINPU_OK : JINPU_E_NOMEM;
}

static int sqlite_read(void *ud, const char *path, const jinpu_options_t *opts,
                       jinpu_dataset_t **out, jinpu_error_t *err)
{
    (void)ud;
    int rc = check_options(opts, "member", err);
    if (rc) return rc;
    rdb_t r = {0};
    char **names = NULL;
    size_t n = 0;
    if (!(rc = open_db(&r, path, err))) rc = members(&r, &names, &n, err);
    if (!rc) {
        const char *want = J->opt_string(opts, "member"), *pick = NULL;
        for (size_t i = 0; want && i < n; i++)
            if (strcmp(names[i], want) == 0) pick = names[i];
        if (!want && n == 1) pick = names[0];
        if (!pick) {
            char list[512] = "";
            size_t k = 0;
            for (size_t i = 0; i < n && k + 4 < sizeof list; i++)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", names[i]);
            if (n == 0)
                rc = J->error(err, JINPU_E_NOTFOUND, "sqlite: %s holds no table", path);
            else if (want)
                rc = J->error(err, JINPU_E_NOTFOUND, "sqlite: %s has no dataset '%s' (it has: %s)",
                              path, want, list);
            else
                rc = J->error(err, JINPU_E_ARG,
                              "sqlite: %s holds %zu datasets (%s): choose one with { member = "
                              "\"%s\" }",
                              path, n, list, names[0]);
        } else {
            rc = load_member(&r, pick, out, err);
        }
    }
    free_list(names, n);
    sqlite3_close(r.db);
    return rc;
}

int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *plugin, char *why, size_t why_size)
{
    JINPU_PLUGIN_CHECK(api, output_abort, why, why_size);
    J = api;
    static const char *const exts[] = {".sqlite", ".db", ".sqlite3", NULL};
    jinpu_format_t f = {
        .size = sizeof f,
        .name = "sqlite",
        .extensions = exts,
        .description = "SQLite database: one STRICT table per dataset",
        .read = sqlite_read,
        .write = sqlite_write,
        .export_ = sqlite_export,
    };
    if (api->register_format(plugin, &f, NULL)) {
        snprintf(why, why_size, "could not register the format sqlite");
        return JINPU_REFUSED;
    }
    return JINPU_OK;
}
