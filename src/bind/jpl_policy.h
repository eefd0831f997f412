/*
 * jpl_policy.h - who is running Lua code right now, and what it may do
 * beyond computing on datasets: the script sandbox and plugin permissions.
 *
 * A principal is the script (sandboxed or not) or a plugin NAME with the
 * permissions its manifest declares: read (open files for reading), write
 * (create, replace, remove files), exec (run commands, load C code) and
 * env (read environment variables).  The script is always the outermost
 * principal; every call into plugin code pushes the plugin's principal for
 * the length of the call, and an action must be allowed by every principal
 * on that stack (a plugin called from a sandboxed script has at most the
 * sandbox's rights).  The library functions a plugin's environment holds
 * (io.open, os.execute, ...) are bound to the plugin as well, so they keep
 * its limits wherever they end up being called from.
 *
 * The sandbox (jinpu run --sandbox, every batch job) adds read roots and
 * write roots: a path is compared with them after canonicalisation
 * (jp_path.h: symlinks resolved, no ".."); write roots are readable too.
 * In the sandbox os.execute, io.popen, package.loadlib, the C module
 * searchers and debug (but debug.traceback) are refused, binary chunks do
 * not load, and the file functions of the standard library are checked
 * against the roots.  docs/plugins.md says what this does not protect
 * against.
 *
 * Errors are Lua errors naming the call, the principal and the path:
 *   "io.open: the sandboxed script may not write '/etc/x' (outside the
 *    writable roots: /tmp/job)"
 */
#ifndef JPL_POLICY_H
#define JPL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

enum {
    JPL_PERM_READ = 1,
    JPL_PERM_WRITE = 2,
    JPL_PERM_EXEC = 4,
    JPL_PERM_ENV = 8,
    JPL_PERM_ALL = 15
};

/* [-0, +0, m] Install the policy with an unrestricted script principal
 * (idempotent; luaopen_jinpu calls it). */
void jpl_policy_open(lua_State *L);

/*
 * [-0, +0, v] Sandbox the script: read and write roots (existing paths,
 * canonicalised here; a missing one raises), then the standard library is
 * wrapped in place (io, os, package, load*, dofile, require, debug).  Call
 * once, before any script code runs.
 */
void jpl_policy_sandbox(lua_State *L, const char *const *read_roots, size_t nread,
                        const char *const *write_roots, size_t nwrite);
/* [-0, +0, -] Is the script sandboxed? */
bool jpl_policy_sandboxed(lua_State *L);
/* [-0, +1, m] The roots as a table { read = {...}, write = {...} } (canonical). */
void jpl_policy_push_roots(lua_State *L);

/* [-0, +0, v] Raise "<call>: <principal> may not read '<path>' (...)"
 * unless every active principal allows it. */
void jpl_policy_check_read(lua_State *L, const char *call, const char *path);
void jpl_policy_check_write(lua_State *L, const char *call, const char *path);
/* [-0, +0, v] A permission without a path (JPL_PERM_EXEC, JPL_PERM_ENV, ...). */
void jpl_policy_check(lua_State *L, const char *call, int perm);

/* Permission bits from a name ("read", "write", "exec", "env"); 0 if unknown. */
int jpl_policy_perm_from_name(const char *name);

/* ---- plugins ---------------------------------------------------------------------- */

/* [-0, +1, m] A new principal "plugin 'NAME'" holding `perms`. */
void jpl_policy_new_principal(lua_State *L, const char *name, int perms);

/* [-1, +1, m] Replace the function on top with one that runs it as the
 * principal at `pidx` (pushed for the call, popped on return or error). */
void jpl_policy_wrap(lua_State *L, int pidx);

/* [-(nargs+1), +nresults, e] Call the function below nargs arguments as
 * the principal at `pidx` (unprotected, like lua_call). */
void jpl_policy_call(lua_State *L, int pidx, int nargs, int nresults);

/*
 * [-0, +0, m] Fill the environment table at `env` with the standard
 * library as the principal at `pidx` may use it: copies of string, table,
 * math, utf8 and coroutine; io, os, load, loadfile and dofile bound to the
 * principal; debug with traceback only; no package and no loadlib.
 * Binary chunks never load; `load` without an env uses `env`.
 */
void jpl_policy_fill_env(lua_State *L, int env, int pidx);

#endif
