/*
 * test_registry.c - what plugins add to the core at run time: units
 * (jp_unit_register), provenance in metadata (jp_meta_add_plugin, carried
 * by verbs, ignored by equality, written to archive manifests), and CSV
 * schemas that leave out optional fields a file lacks (schema_subset).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jp_archive.h"
#include "jp_csv.h"
#include "jp_dataset.h"
#include "jp_format.h"
#include "jp_schema.h"
#include "jp_unit.h"
#include "jp_verbs.h"
#include "unit.h"

static void test_units(void)
{
    jp_error_t err;
    jp_unit_t dan = {"dan", "mass", 50, NULL, "dan (50 kg)", "担|市担"};
    CHECK(jp_unit_find("担") == NULL);
    CHECK(jp_unit_check_new(&dan, &err) == JP_OK);
    CHECK(jp_unit_find("dan") == NULL); /* checking adds nothing */
    CHECK(jp_unit_register(&dan, &err) == JP_OK);
    const jp_unit_t *u = jp_unit_find("市担");
    CHECK(u && strcmp(u->name, "dan") == 0 && strcmp(u->primary, "dan") == 0);
    double f = 0;
    CHECK(jp_unit_factor("担", "kg", &f, &err) == JP_OK && f == 50);
    CHECK(jp_unit_factor("t", "dan", &f, &err) == JP_OK && f == 20);
    jp_quantity_t q;
    CHECK(jp_quantity_parse("3担", strlen("3担"), &q, &err) && q.value == 3 &&
          strcmp(q.unit, "dan") == 0);
    /* a name or alias taken, a bad scale, a new dimension off its reference */
    CHECK(jp_unit_register(&dan, &err) == JP_ERR_ARG);
    jp_unit_t alias = {"picul", "mass", 60, NULL, NULL, "担"};
    CHECK(jp_unit_register(&alias, &err) == JP_ERR_ARG && strstr(err.msg, "担"));
    jp_unit_t zero = {"zero", "mass", 0, NULL, NULL, NULL};
    CHECK(jp_unit_register(&zero, &err) == JP_ERR_ARG);
    jp_unit_t newdim = {"crate", "count:crate", 12, NULL, NULL, NULL};
    CHECK(jp_unit_register(&newdim, &err) == JP_ERR_ARG);
    newdim.scale = 1;
    CHECK(jp_unit_register(&newdim, &err) == JP_OK);
    jp_unit_t dozen = {"dozen_crates", "count:crate", 12, "crate", NULL, NULL};
    CHECK(jp_unit_register(&dozen, &err) == JP_OK);
    CHECK(jp_unit_factor("dozen_crates", "crate", &f, &err) == JP_OK && f == 12);
    jp_unit_t wrongprim = {"gross", "count:crate", 144, "kg", NULL, NULL};
    CHECK(jp_unit_register(&wrongprim, &err) == JP_ERR_UNIT);
    /* iteration sees the added units after the built-in ones */
    size_t n = 0;
    bool seen = false;
    for (const jp_unit_t *x; (x = jp_unit_at(n)); n++) seen = seen || strcmp(x->name, "dan") == 0;
    CHECK(seen && n > 3);
}

static jp_dataset_t *small(void)
{
    jp_error_t err;
    const char csv[] = "a,b\n1,x\n2,y\n";
    jp_dataset_t *ds = NULL;
    CHECK(jp_csv_read_mem("t.csv", csv, sizeof csv - 1, NULL, &ds, &err) == JP_OK);
    return ds;
}

static void test_provenance(void)
{
    jp_dataset_t *ds = small();
    if (!ds) return;
    CHECK(jp_meta_add_plugin(&ds->meta, "xlsx", "1.0.0") == JP_OK);
    CHECK(jp_meta_add_plugin(&ds->meta, "chart", "2.0.0") == JP_OK);
    CHECK(jp_meta_add_plugin(&ds->meta, "xlsx", "1.0.0") == JP_OK);
    CHECK_INT(ds->meta.n_plugins, 2);
    CHECK_STR(ds->meta.plugins[0], "chart 2.0.0");
    CHECK_STR(ds->meta.plugins[1], "xlsx 1.0.0");
    jp_error_t err;
    jp_dataset_t *h = jp_head(ds, 1, &err); /* verbs carry it on */
    CHECK(h && h->meta.n_plugins == 2);
    jp_dataset_t *plain = small();
    CHECK(plain && jp_dataset_equal(ds, plain, NULL, 0)); /* not part of the content */
    char path[] = "/tmp/jp_registry_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    char arc[64];
    snprintf(arc, sizeof arc, "%s.tar", path);
    jp_export_opts_t o;
    jp_export_opts_init(&o);
    jp_dataset_t *list[] = {h};
    CHECK(jp_archive_export(arc, list, 1, &o, &err) == JP_OK);
    FILE *f = fopen(arc, "rb");
    char buf[8192] = "";
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[k] = '\0';
    if (f) fclose(f);
    const char *want = "    plugins:\n      - name: \"chart\"\n        version: \"2.0.0\"\n"
                       "      - name: \"xlsx\"\n        version: \"1.0.0\"\n";
    bool found = false;
    for (size_t i = 0; i + strlen(want) <= k && !found; i++)
        found = memcmp(buf + i, want, strlen(want)) == 0;
    CHECK_MSG(found, "the manifest lists the plugins of the dataset");
    unlink(arc);
    unlink(path);
    jp_dataset_unref(plain);
    jp_dataset_unref(h);
    jp_dataset_unref(ds);
}

static void test_schema_subset(void)
{
    jp_schema_t s;
    memset(&s, 0, sizeof s);
    jp_error_t err;
    jp_field_t f;
    jp_field_init(&f);
    f.name = "a";
    f.type = JP_TYPE_INT;
    CHECK(jp_schema_add(&s, &f, &err) == JP_OK);
    jp_field_t g;
    jp_field_init(&g);
    g.name = "missing";
    g.type = JP_TYPE_STRING;
    CHECK(jp_schema_add(&s, &g, &err) == JP_OK);
    const char csv[] = "a,b\n1,x\n";
    jp_read_opts_t o;
    jp_read_opts_init(&o);
    o.schema = &s;
    jp_dataset_t *ds = NULL;
    CHECK(jp_csv_read_mem("t.csv", csv, sizeof csv - 1, &o, &ds, &err) == JP_ERR_ARG);
    o.schema_subset = true;
    CHECK(jp_csv_read_mem("t.csv", csv, sizeof csv - 1, &o, &ds, &err) == JP_OK);
    CHECK(ds && ds->schema.n_fields == 2 && ds->cols[0]->type == JP_TYPE_INT);
    jp_dataset_unref(ds);
    ds = NULL;
    s.fields[1].constraints.required = true; /* a required field must be there */
    CHECK(jp_csv_read_mem("t.csv", csv, sizeof csv - 1, &o, &ds, &err) == JP_ERR_ARG);
    jp_schema_free(&s);
}

int main(void)
{
    RUN(test_units);
    RUN(test_provenance);
    RUN(test_schema_subset);
    return unit_done();
}
