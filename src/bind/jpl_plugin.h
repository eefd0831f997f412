/*
 * jpl_plugin.h - the plugin host as the rest of the binding and the command
 * line see it.  The host itself is lua/jinpu/plugins.lua (discovery,
 * manifests, lazy loading, registration); lua_plugin.c gives it the few
 * things Lua cannot do (list directories, read YAML with positions, load a
 * file into an environment, stamp provenance, dlopen) and offers the entry
 * points below.  Everything here runs plugin code only through the policy
 * (jpl_policy.h), and a plugin that fails never raises out of discovery.
 */
#ifndef JPL_PLUGIN_H
#define JPL_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

/*
 * [-0, +0, e] Discover plugins: the directories given with --plugins (in
 * order), then JINPU_PLUGIN_PATH, the user's data directory and the
 * shipped plugins; `third_party` false (--no-plugins, JINPU_NO_PLUGINS=1)
 * keeps only the shipped ones.  Reads manifests, runs no plugin code
 * (except plugins providing units, which are loaded at once: the core
 * resolves units where no plugin can be loaded on demand).
 */
void jpl_plugins_init(lua_State *L, const char *const *dirs, size_t ndirs, bool third_party);

/* [-0, +(0|1), e] Push the function of plugin command NAME (loading its
 * plugin) and return 1, or return 0 when no plugin provides it. */
int jpl_plugin_command(lua_State *L, const char *name);

/*
 * [-0, +(0|1), -] For an error "attempt to call a nil value (method 'NAME')":
 * push a hint ("did you mean 'head'?", or that third-party plugins are off)
 * and return 1, or return 0.  Never raises: it runs in a message handler.
 */
int jpl_plugin_method_hint(lua_State *L, const char *name);

/*
 * [-0, +(0|1), e] For jp.load / ds:write / jp.export of `path` (format
 * named by `format`, or NULL for by extension): push the plugin's handler
 * and return 1 when a plugin format takes the file, else return 0 (the
 * core's registry does).  `op` is "read", "write" or "export".  Handlers:
 * read(path, opts) -> ds; write(ds, path, opts); export(list, path, opts).
 */
int jpl_plugin_format(lua_State *L, const char *path, const char *format, const char *op);

/* [-0, +1, e] Push the named schema NAME (a field list a plugin registered),
 * loading its plugin; raises when there is none. */
void jpl_plugin_schema(lua_State *L, const char *name);

/* [-0, +0, m] Add the native-plugin loader (lua_cplugin.c) to the host's
 * private helper table at `helpers`. */
void jpl_cplugin_helpers(lua_State *L, int helpers);

#endif
