-- Native plugins: a plugin built here against include/jinpu.h is loaded and
-- its format, verb and command work through the same paths as Lua ones
-- (accessors, the builder, qualifiers, nulls, options, errors with file,
-- row and field); incompatible or broken ones are refused with their
-- reason (another API major, a table too small for what the plugin needs,
-- no entry point, not a shared object, not built, init refusing, an
-- undeclared registration) and jinpu goes on.
local t = require("testlib")
local P_ = require("proclib")
local sh, run, slurp, write = P_.sh, P_.run, P_.slurp, P_.write
-- each check is a case of its own, named by a fixed text (the same in every
-- build); what was seen is printed only when it fails
local function check(cond, name, detail) P_.check(t, cond, name, detail) end
local function check_eq(got, want, name) t.case(name, function() t.eq(got, want, name) end) end

local JINPU = os.getenv("JINPU") or "./jinpu"
local CC = os.getenv("CC") or "cc"

local ROOT = io.popen("pwd"):read("l")
local dir = os.tmpname()
os.remove(dir)
assert(run("mkdir -p " .. sh(dir .. "/p")) == 0)
local P = dir .. "/p"

local function plugin(name, provides, source, version)
  assert(run("mkdir -p " .. sh(P .. "/" .. name)) == 0)
  write(P .. "/" .. name .. "/plugin.yaml", "name: " .. name .. "\nversion: 1.0.0\ndescription: native test "
    .. name .. "\njinpu: 1\nlibrary: " .. name .. ".so\nprovides:\n" .. provides .. "permissions: [read, write]\n")
  if source then
    write(P .. "/" .. name .. "/" .. name .. ".c", source)
    local log = dir .. "/cc.log"
    local rc = run(CC .. " -std=c11 -Wall -Wextra -Werror -fPIC -shared -I" .. sh(ROOT .. "/include") .. " -o "
      .. sh(P .. "/" .. name .. "/" .. name .. ".so") .. " " .. sh(P .. "/" .. name .. "/" .. name .. ".c")
      .. " >" .. sh(log) .. " 2>&1")
    if rc ~= 0 then error("compiling " .. name .. ":\n" .. (slurp(log) or "")) end
  end
end

local CTEST = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jinpu.h"

JINPU_PLUGIN_API;
static const jinpu_api_t *J;

/* .cnum files: "key,figure" lines; option scale multiplies */
static int cnum_read(void *ud, const char *path, const jinpu_options_t *o, jinpu_dataset_t **out,
                     jinpu_error_t *err)
{
    (void)ud;
    long long scale = 1;
    if (J->opt_int(o, "scale", &scale) < 0) return J->error(err, JINPU_E_ARG, "scale must be a whole number");
    FILE *f = fopen(path, "r");
    if (!f) return J->error(err, JINPU_E_IO, "cannot open %s", path);
    jinpu_builder_t *b = J->builder_new("cnum", err);
    J->builder_meta(b, "title", "numbers from a .cnum file", err);
    J->builder_field(b, "key", JINPU_STRING, NULL, "the key", err);
    J->builder_field(b, "value", JINPU_NUMBER, "mu", NULL, err);
    char line[256];
    long n = 0, row = 0;
    int rc = JINPU_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        n++;
        line[strcspn(line, "\n")] = 0;
        char *comma = strchr(line, ',');
        if (!comma) {
            rc = J->error(err, JINPU_E_PARSE, "expected key,value");
            J->error_at(err, path, n, row + 1, NULL);
            break;
        }
        *comma = 0;
        row++;
        rc = J->put_string(b, 0, line, strlen(line), err);
        if (!rc) rc = J->put_text(b, 1, comma + 1, strlen(comma + 1), err);
        if (rc) J->error_at(err, path, n, row, "value");
        if (!rc) rc = J->end_row(b, err);
    }
    fclose(f);
    if (rc) {
        J->builder_free(b);
        return rc;
    }
    jinpu_dataset_t *ds = J->builder_finish(b, err);
    if (!ds) return JINPU_E_NOMEM;
    if (scale == 1) {
        *out = ds;
        return JINPU_OK;
    }
    jinpu_builder_t *s = J->builder_new("cnum", err);
    J->builder_field(s, "key", JINPU_STRING, NULL, NULL, err);
    J->builder_field(s, "value", JINPU_NUMBER, "mu", NULL, err);
    for (size_t i = 0; i < J->dataset_rows(ds); i++) {
        size_t len;
        const char *k = J->cell_string(ds, 0, i, &len);
        J->put_string(s, 0, k, len, err);
        if (J->cell_is_null(ds, 1, i)) J->put_null(s, 1, err);
        else J->put_number(s, 1, J->cell_number(ds, 1, i) * (double)scale, J->cell_qualifier(ds, 1, i), err);
        J->end_row(s, err);
    }
    J->dataset_release(ds);
    *out = J->builder_finish(s, err);
    return *out ? JINPU_OK : JINPU_E_NOMEM;
}

static int cnum_write(void *ud, jinpu_dataset_t *ds, const char *path, const jinpu_options_t *o,
                      jinpu_error_t *err)
{
    (void)ud;
    (void)o;
    FILE *f = fopen(path, "w");
    if (!f) return J->error(err, JINPU_E_IO, "cannot write %s", path);
    for (size_t i = 0; i < J->dataset_rows(ds); i++) {
        char a[128], b[128];
        fprintf(f, "%s,%s\n", J->cell_text(ds, 0, i, a, sizeof a), J->cell_text(ds, 1, i, b, sizeof b));
    }
    return fclose(f) == 0 ? JINPU_OK : J->error(err, JINPU_E_IO, "cannot write %s", path);
}

static int cnum_export(void *ud, jinpu_dataset_t *const *list, size_t n, const char *path,
                       const jinpu_options_t *o, jinpu_error_t *err)
{
    (void)ud;
    (void)o;
    FILE *f = fopen(path, "w");
    if (!f) return J->error(err, JINPU_E_IO, "cannot write %s", path);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "# %s %zu\n", J->dataset_name(list[i]) ? J->dataset_name(list[i]) : "?",
                J->dataset_rows(list[i]));
    fclose(f);
    return JINPU_OK;
}

/* ds:cinfo() -> one row describing ds through the accessors */
static int cinfo(void *ud, jinpu_dataset_t *in, const jinpu_args_t *a, jinpu_dataset_t **out,
                 jinpu_error_t *err)
{
    (void)ud;
    char text[512] = "";
    size_t k = 0;
    for (size_t f = 0; f < J->dataset_fields(in); f++) {
        const char *u = J->field_unit(in, f);
        k += (size_t)snprintf(text + k, sizeof text - k, "%s:%d:%s;", J->field_name(in, f),
                              J->field_type(in, f), u ? u : "-");
    }
    long v = J->field_find(in, "value");
    double vals[8];
    unsigned char nulls[8], quals[8];
    size_t got = v >= 0 ? J->read_numbers(in, (size_t)v, 0, 8, vals, nulls, quals) : 0;
    for (size_t i = 0; i < got; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "%s%g/%d", i ? " " : "", nulls[i] ? -1.0 : vals[i],
                              quals[i]);
    jinpu_builder_t *b = J->builder_new("info", err);
    J->builder_field(b, "text", JINPU_STRING, NULL, NULL, err);
    J->builder_field(b, "args", JINPU_INTEGER, NULL, NULL, err);
    J->builder_field(b, "when", JINPU_DATE, NULL, NULL, err);
    J->builder_field(b, "period", JINPU_PERIOD, NULL, NULL, err);
    J->put_string(b, 0, text, strlen(text), err);
    J->put_int(b, 1, (int64_t)J->arg_count(a), JINPU_EXACT, err);
    J->put_date(b, 2, 2022, 8, 31, err);
    J->put_text(b, 3, "2022-01..2022-08", 16, err);
    if (J->end_row(b, err)) return J->builder_free(b), JINPU_E_ARG;
    *out = J->builder_finish(b, err);
    return *out ? JINPU_OK : JINPU_E_NOMEM;
}

/* ds:cbad() - a builder misused: the error names row and field */
static int cbad(void *ud, jinpu_dataset_t *in, const jinpu_args_t *a, jinpu_dataset_t **out,
                jinpu_error_t *err)
{
    (void)ud; (void)in; (void)a; (void)out;
    jinpu_builder_t *b = J->builder_new("bad", err);
    J->builder_field(b, "n", JINPU_INTEGER, NULL, NULL, err);
    int rc = J->put_text(b, 0, "12.5", 4, err);
    J->builder_free(b);
    return rc;
}

static int ccmd(void *ud, int argc, const char *const *argv, jinpu_error_t *err)
{
    (void)ud;
    if (argc > 0 && strcmp(argv[0], "fail") == 0) return J->error(err, JINPU_E_ARG, "ccmd: asked to fail");
    printf("ccmd");
    for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    fflush(stdout);
    return 4;
}

int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t size)
{
    JINPU_PLUGIN_CHECK(api, register_command, why, size);
    J = api;
    static const char *const exts[] = {".cnum", NULL};
    jinpu_format_t f = {sizeof f, "cnum", exts, "key,figure lines", NULL, cnum_read, cnum_write, cnum_export};
    if (api->register_format(p, &f, NULL) || api->register_verb(p, "cinfo", cinfo, NULL, NULL) ||
        api->register_verb(p, "cbad", cbad, NULL, NULL) || api->register_command(p, "ccmd", ccmd, NULL, NULL)) {
        snprintf(why, size, "registration failed");
        return JINPU_REFUSED;
    }
    return JINPU_OK;
}
]]

local ok_build, build_err = pcall(function()
  plugin("ctest", "  formats: [cnum]\n  verbs: [cinfo, cbad]\n  commands: [ccmd]\n", CTEST)
  -- built for another major version
  plugin("cmajor", "  verbs: [cm]\n", [[
#include <stddef.h>
#include "jinpu.h"
__attribute__((visibility("default"))) const int jinpu_plugin_api[2] = {2, 0};
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t n)
{ (void)api; (void)p; (void)why; (void)n; return JINPU_OK; }
]])
  -- built against a newer minor whose table holds a function this jinpu lacks
  plugin("cnewer", "  verbs: [cn]\n", [[
#include <stdio.h>
#include "jinpu.h"
__attribute__((visibility("default"))) const int jinpu_plugin_api[2] = {1, 7};
typedef struct { jinpu_api_t v1_0; int (*future_fn)(void); } api_1_7;
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t n)
{
    (void)p;
    if (!JINPU_API_HAS(api, api_1_7, future_fn)) {
        snprintf(why, n, "built for jinpu plugin API 1.7 (needs future_fn), but this jinpu has API %d.%d",
                 api->major, api->minor);
        return JINPU_REFUSED;
    }
    return JINPU_OK;
}
]])
  plugin("cnoinit", "  verbs: [cni]\n", "#include \"jinpu.h\"\nJINPU_PLUGIN_API;\n")
  plugin("cnoversion", "  verbs: [cnv]\n", [[
#include "jinpu.h"
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t n)
{ (void)api; (void)p; (void)why; (void)n; return JINPU_OK; }
]])
  plugin("crefuse", "  verbs: [cr]\n", [[
#include <stdio.h>
#include "jinpu.h"
JINPU_PLUGIN_API;
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t n)
{ (void)api; (void)p; snprintf(why, n, "libfoo 3 is missing"); return JINPU_REFUSED; }
]])
  plugin("cundeclared", "  verbs: [cu]\n", [[
#include <stdio.h>
#include "jinpu.h"
JINPU_PLUGIN_API;
static int v(void *ud, jinpu_dataset_t *in, const jinpu_args_t *a, jinpu_dataset_t **out, jinpu_error_t *e)
{ (void)ud; (void)a; (void)e; *out = 0; (void)in; return 0; }
int jinpu_plugin_init(const jinpu_api_t *api, jinpu_plugin_t *p, char *why, size_t n)
{
    JINPU_PLUGIN_CHECK(api, register_verb, why, n);
    api->register_verb(p, "cu", v, NULL, NULL);
    api->register_verb(p, "sneaky", v, NULL, NULL);
    return JINPU_OK;
}
]])
  plugin("cmissing", "  verbs: [cmi]\n", nil)
  plugin("cgarbage", "  verbs: [cg]\n", nil)
  write(P .. "/cgarbage/cgarbage.so", "this is not a shared object\n")
end)
check(ok_build, "the test plugins compile against include/jinpu.h", tostring(build_err))

local function jinpu(args)
  local code = run("cd " .. sh(dir) .. " && " .. sh(JINPU) .. " --plugins " .. sh(P) .. " " .. args .. " >"
    .. sh(dir .. "/out") .. " 2>" .. sh(dir .. "/err") .. " </dev/null")
  return code, slurp(dir .. "/out") or "", slurp(dir .. "/err") or ""
end
local function lua(code)
  write(dir .. "/s.lua", code)
  return jinpu("run s.lua")
end

write(dir .. "/a.cnum", "cherry,14.8万\npear,>200\nnone,\n")
write(dir .. "/bad.cnum", "a,1\nb,lots\n")

do
  local rc, out, err = lua([[
local ds = jp.load("a.cnum")
print(#ds, ds:name(), ds:schema().title, ds:column("value"):unit())
print(ds:column("value")[1], ds:qualifier(2, "value"), ds:column("value")[3])
print(jp.load("a.cnum", { scale = 10 }):column("value")[1])
print(table.concat(jp._plugins.provenance(ds), ";"))
]])
  check(rc == 0 and out == "3\tcnum\tnumbers from a .cnum file\tmu\n148000.0\tmore_than\tnil\n1480000.0\nctest 1.0.0\n",
    "a native format reads through the builder: figures, qualifiers, nulls, units, options, provenance",
    out .. err)
  rc, out, err = lua([[
local ds = jp.load("a.cnum")
local i = ds:cinfo("x", 2, true):row(1)
print(i.text) print(i.args, i.when, i.period)
ds:write("w.cnum")
io.write(io.open("w.cnum"):read("a"))
jp.export("all.cnum", { ds, ds:head(1) })
io.write(io.open("all.cnum"):read("a"))
]])
  check(rc == 0 and out == "key:3:-;value:2:mu;148000/0 200/3 -1/0\n3\t2022-08-31\t2022-01..2022-08\n"
    .. "cherry,148000\npear,>200\nnone,\n# cnum 3\n# cnum 1\n",
    "a native verb reads every accessor and builds every type; write and export", out .. err)
  rc, out, err = lua([[jp.load("bad.cnum")]])
  check(rc == 3 and err:find("bad.cnum:2: row 2, field 'value': 'lots' is not a figure", 1, true) ~= nil,
    "a native format's error names the file, line, row and field", err)
  rc, _, err = lua([[jp.load("a.cnum", { scale = "big" })]])
  check(rc == 3 and err:find("scale must be a whole number", 1, true) ~= nil, "options reach the format", err)
  rc, _, err = lua([[jp.load("a.cnum"):cbad()]])
  check(rc == 3 and err:find("row 1, field 'n'", 1, true) ~= nil and err:find("not a whole number", 1, true) ~= nil,
    "builder errors name the row and field", err)
  rc, out = jinpu("ccmd a b")
  check(rc == 4 and out == "ccmd a b\n", "a native command: its arguments and exit status", out)
  rc, _, err = jinpu("ccmd fail")
  check(rc == 3 and err:find("ccmd: asked to fail", 1, true) ~= nil, "a native command's error", err)
  rc, out = jinpu("info a.cnum")
  check(rc == 0 and out:find("rows 3, fields 2", 1, true) ~= nil, "jinpu info reads a native format", out)
end

do
  local rc, out = jinpu("plugins --check")
  local function refused(name, want, msg)
    check(out:find(name .. " refused: " .. want, 1, true) ~= nil, msg, out)
  end
  check(rc == 1, "plugins --check exits 1 with refused native plugins")
  check(out:find("ctest%s+1%.0%.0%s+ok") ~= nil, "the good native plugin loads", out)
  refused("cmajor", "cmajor.so was built for jinpu plugin API 2.0, but this jinpu has API 1.1",
    "another API major is refused, both versions named")
  refused("cnewer", "cnewer.so refused to load: built for jinpu plugin API 1.7 (needs future_fn), but this jinpu has API 1.1",
    "a table too small for the plugin is refused, both versions named")
  refused("cnoinit", "cnoinit.so is not a jinpu plugin (it exports no jinpu_plugin_init", "no entry point")
  refused("cnoversion", "cnoversion.so is not a jinpu plugin (it exports no jinpu_plugin_api", "no version")
  refused("crefuse", "crefuse.so refused to load: libfoo 3 is missing", "init refusing, with its reason")
  refused("cundeclared", "register_verb: verb 'sneaky' is not declared in plugin.yaml", "an undeclared native registration")
  refused("cmissing", "library cmissing.so not found (build it: make -C " .. P .. "/cmissing)", "a library not built")
  refused("cgarbage", "cannot load cgarbage.so:", "a file that is not a shared object")
  local rc2, _, err = lua([[jp.dataset{ columns = { v = { 1 } } }:cm()]])
  check(rc2 == 3 and err:find("plugin 'cmajor' (" .. P .. "/cmajor) was refused: cmajor.so was built for", 1, true) ~= nil,
    "using a refused native plugin's name says which plugin and why", err)
  rc2, out = lua([[print(#jp.load("a.cnum"))]])
  check(rc2 == 0 and out == "3\n", "broken native plugins take nothing else down")
end

do
  local S = dir .. "/scaffold"
  assert(run("mkdir -p " .. sh(S)) == 0)
  local rc = run("cd " .. sh(dir) .. " && " .. sh(JINPU) .. " plugins new cdemo --c --dir scaffold >/dev/null 2>&1")
  local rc2 = run("cd " .. sh(dir) .. " && " .. sh(JINPU) .. " --plugins scaffold plugins test cdemo >" .. sh(dir .. "/out")
    .. " 2>&1")
  local out = slurp(dir .. "/out") or ""
  check(rc == 0 and rc2 == 0 and out:find("ok 1 - cdemo tests/test_cdemo.lua", 1, true) ~= nil,
    "plugins new --c writes a native plugin that builds and passes its own test", out)
  rc = run("cd " .. sh(dir) .. " && " .. sh(JINPU) .. " plugins new cdemo --c --dir scaffold >/dev/null 2>&1")
  check(rc == 2, "plugins new refuses to overwrite")
end

os.execute("rm -rf " .. sh(dir))
t.done()
