/*
 * main.c - the jinpu command.  The only code that calls exit().
 *
 * Like lua.c, everything runs inside one lua_pcall(pmain) with a message
 * handler that keeps the script's file and line and adds a traceback.
 * Subcommands (info, validate, export, verify, ...) are embedded Lua
 * modules `jinpu.cli.<name>` returning function(args) -> exit status, so a
 * new command needs no change here.
 *
 * Exit status: 0 success, 1 data failed validation/verification (set by
 * the commands), 2 usage error, 3 runtime failure (script error, unreadable
 * input), 4 out of memory (JINPU_MAX_MEMORY), 5 time limit
 * (JINPU_MAX_SECONDS), 130 interrupted (SIGINT), 143 terminated (SIGTERM).
 */
#include <errno.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <yaml.h>
#include <zlib.h>
#include <openssl/opensslv.h>
#include "jp_embedded.h"
#include "jp_limit.h"
#include "jp_stream.h"
#include "jp_suggest.h"
#include "jp_version.h"
#include "jpl.h"
#include "jpl_plugin.h"
#include "jpl_policy.h"

enum {
    EXIT_USAGE = 2,
    EXIT_RUNTIME = 3,
    EXIT_NOMEM = 4,
    EXIT_TIME = 5,
    EXIT_INTERRUPTED = 130,
    EXIT_TERMINATED = 143
};

static const char *progname = "jinpu";
static lua_State *globalL;

/* ---- memory: the Lua heap shares the core's budget (JINPU_MAX_MEMORY) ---- */

/* The last request the budget refused.  Lua answers a refusal with an
 * emergency collection and asks again with the same arguments; only when
 * that retry is refused too is the script out of memory, and only then is
 * the refusal recorded (jp_mem_refused: exit 4 if the run then fails). */
typedef struct {
    void *ptr;
    size_t osize, nsize;
} refusal_t;

#ifdef JP_TEST_HOOKS
/* Test hooks (test builds only): the global table jinpu_test.
 *   jinpu_test.alloc_fails(n, f, ...) -> reached, ok, result-or-error
 *     runs f(...) protected while the n-th growing Lua allocation from now,
 *     and every one after it, fails (memory stays short: Lua's emergency
 *     collection and retry fail too); reached says whether f got that far.
 *   jinpu_test.core_bytes() -> what the budget holds besides Lua's heap. */
static long alloc_countdown; /* 0: off */
static bool alloc_failing;

static int t_alloc_fails(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1, 1, "must be at least 1");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    luaL_checkstack(L, 4, NULL); /* before, not while, allocations fail */
    alloc_countdown = (long)n;
    alloc_failing = false;
    int st = lua_pcall(L, lua_gettop(L) - 2, 1, 0);
    bool reached = alloc_failing;
    alloc_countdown = 0;
    alloc_failing = false;
    lua_pushboolean(L, reached);
    lua_pushboolean(L, st == LUA_OK);
    lua_rotate(L, -3, 2); /* [reached, ok, result] */
    return 3;
}

static int t_core_bytes(lua_State *L)
{
    size_t lua_heap = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
    lua_pushinteger(L, (lua_Integer)(jp_mem_in_use() - lua_heap));
    return 1;
}

static void open_test_hooks(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"alloc_fails", t_alloc_fails}, {"core_bytes", t_core_bytes}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "jinpu_test");
}

static bool test_alloc_fails(void)
{
    if (alloc_failing) return true;
    if (alloc_countdown > 0 && --alloc_countdown == 0) alloc_failing = true;
    return alloc_failing;
}
#endif

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    refusal_t *last = ud;
    if (!ptr) osize = 0; /* then osize is the kind of object, not a size */
    if (nsize == 0) {
        free(ptr);
        jp_mem_unreserve(osize);
        return NULL;
    }
#ifdef JP_TEST_HOOKS
    if (nsize > osize && test_alloc_fails()) return NULL;
#endif
    if (nsize <= osize) {
        void *p = realloc(ptr, nsize);
        if (p) jp_mem_unreserve(osize - nsize);
        return p;
    }
    size_t more = nsize - osize;
    bool retry = last->ptr == ptr && last->osize == osize && last->nsize == nsize;
    void *p = NULL;
    if (retry ? jp_mem_reserve(more) : jp_mem_try_reserve(more)) {
        p = realloc(ptr, nsize);
        if (!p) jp_mem_unreserve(more);
    }
    *last = p ? (refusal_t){NULL, 0, 0} : (refusal_t){ptr, osize, nsize};
    return p;
}

/* ---- stopping: the time limit (JINPU_MAX_SECONDS), Ctrl-C, SIGTERM ----
 *
 * One flag for the three (jp_limit.h): a timer thread sets it at the
 * deadline, the signal handlers on a signal; C loops poll it and fail with
 * JP_ERR_TIMEOUT or JP_ERR_INTERRUPTED.  Lua code is stopped by stop_hook:
 * under a time limit it is a count hook on the main thread, which every
 * coroutine inherits (lua_newthread copies its creator's hook); a signal
 * installs it on the main thread as lua.c does.  Once the flag is set, the
 * hook raises at every instruction of the thread it runs on and of the
 * main thread, so neither pcall nor coroutine.resume can swallow it; and a
 * run that reaches its end with the flag set exits with the stop's status
 * whatever the script made of the error.
 *
 * For C work that polls nothing, a hard stop (SIGALRM) HARD_STOP seconds
 * after the deadline or a SIGTERM, or at once on a second signal, removes
 * the temporary files in flight (jp_tmp_*) and _exits.  Worker threads
 * block every signal (jp_thread_create), so the handlers run on the thread
 * that runs Lua. */

#define HARD_STOP 3 /* seconds of grace; more than jinpu batch gives a job (2 s) */

static double time_limit; /* 0 = none */
static char time_msg[96];
static volatile sig_atomic_t signals_seen;

static int stop_status(int why)
{
    switch (why) {
    case JP_STOP_TIME:
        return EXIT_TIME;
    case JP_STOP_TERM:
        return EXIT_TERMINATED;
    default:
        return EXIT_INTERRUPTED;
    }
}

static const char *stop_text(int why)
{
    switch (why) {
    case JP_STOP_TIME:
        return time_msg;
    case JP_STOP_TERM:
        return "terminated (SIGTERM)";
    default:
        return "interrupted (Ctrl-C)";
    }
}

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    int why = jp_stop_pending();
    if (!why) return;
    lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
    if (globalL && L != globalL) lua_sethook(globalL, stop_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", stop_text(why));
}

/* The hook the run starts with: a count hook under a time limit, none
 * otherwise (a count hook slows Lua down, so signals install it late). */
static void reset_hook(lua_State *L)
{
    if (time_limit > 0)
        lua_sethook(L, stop_hook, LUA_MASKCOUNT, 100000);
    else
        lua_sethook(L, NULL, 0, 0);
}

static void say(const char *s) /* async-signal-safe */
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

static void hard_stop(int why)
{
    jp_tmp_remove_all();
    say(progname);
    say(": ");
    say(stop_text(why));
    say("; stopped\n");
    _exit(stop_status(why));
}

static void on_alarm(int sig)
{
    (void)sig;
    int why = jp_stop_pending();
    hard_stop(why ? why : JP_STOP_TIME);
}

static void on_signal(int sig)
{
    int why = sig == SIGTERM ? JP_STOP_TERM : JP_STOP_INTERRUPT;
    if (signals_seen++) hard_stop(jp_stop_pending() ? jp_stop_pending() : why);
    jp_stop_request(why);
    if (globalL) lua_sethook(globalL, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    if (sig == SIGTERM) alarm(HARD_STOP);
}

static void catch_signal(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void arm_time_limit(void)
{
    snprintf(time_msg, sizeof time_msg, "time limit of %g s exceeded (JINPU_MAX_SECONDS)",
             time_limit);
    jp_stop_set_deadline(time_limit);
    struct itimerval it;
    memset(&it, 0, sizeof it);
    double at = time_limit + HARD_STOP;
    it.it_value.tv_sec = (time_t)at;
    it.it_value.tv_usec = (suseconds_t)((at - (double)(time_t)at) * 1e6);
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- messages ---- */

static void print_error(const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* "attempt to call a nil value (method 'helo')" gains "; did you mean
 * 'head'?" (or that third-party plugins are off): Lua's own message names
 * the method but not why it is missing. */
static const char *with_method_hint(lua_State *L, const char *msg)
{
    static const char pat[] = "attempt to call a nil value (method '";
    const char *at = strstr(msg, pat);
    if (!at) return msg;
    const char *name = at + sizeof pat - 1, *end = strchr(name, '\'');
    if (!end || end - name > 200 || end[1] != ')') return msg;
    char buf[208];
    memcpy(buf, name, (size_t)(end - name));
    buf[end - name] = '\0';
    if (!jpl_plugin_method_hint(L, buf)) return msg;
    return lua_pushfstring(L, "%s; %s", msg, lua_tostring(L, -1));
}

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    msg = with_method_hint(L, msg);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function below `narg` arguments, protected, with a traceback. */
static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    globalL = L;
    catch_signal(SIGINT, on_signal);
    int status = lua_pcall(L, narg, nres, base);
    catch_signal(SIGINT, SIG_DFL);
    lua_remove(L, base);
    return status;
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        print_error(msg ? msg : "(error without a message)");
        lua_pop(L, 1);
    }
    return status;
}

/* A failure after the memory limit refused something -- to Lua or to the
 * C core, caught by the script on the way or not -- is out of memory. */
static int exit_status(int status)
{
    if (jp_stop_pending()) return stop_status(jp_stop_pending());
    if (status == LUA_OK) return 0;
    if (status == LUA_ERRMEM || jp_mem_refused()) return EXIT_NOMEM;
    return EXIT_RUNTIME;
}

/* ---- the progress line ---- */

/* One line on stderr (a terminal) while a stream has run for a while:
 * the file's name, bytes read, rows per second, elapsed seconds; erased
 * when the stream ends.  JINPU_PROGRESS_AFTER moves the delay (tests). */
static double progress_after = 2.0;
static double progress_t0, progress_last;
static bool progress_shown;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(const char *path, uint64_t bytes, uint64_t total, uint64_t rows,
                          bool done)
{
    double t = now();
    if (done) {
        if (progress_shown) fputs("\r\033[K", stderr);
        progress_shown = false;
        progress_t0 = 0;
        return;
    }
    if (progress_t0 == 0) progress_t0 = progress_last = t;
    double el = t - progress_t0;
    if (el < progress_after || (progress_shown && t - progress_last < 0.25) || el <= 0) return;
    progress_last = t;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char size[64] = "";
    if (total)
        snprintf(size, sizeof size, " of %.0f MB (%.0f%%)", (double)total / 1e6,
                 100.0 * (double)bytes / (double)total);
    fprintf(stderr, "\r%s: %.0f MB%s, %.2fM rows/s, %.1f s\033[K", base, (double)bytes / 1e6, size,
            (double)rows / el / 1e6, el);
    fflush(stderr);
    progress_shown = true;
}

/* ---- help ---- */

static void print_usage(FILE *f)
{
    fprintf(
        f,
        "usage: %s [options] [SCRIPT.lua [ARGS...]]\n"
        "       %s COMMAND [ARGS...]\n"
        "\n"
        "Scriptable data toolkit: typed datasets, Lua scripts, validation, archives.\n"
        "\n"
        "  run SCRIPT.lua [ARGS]   run a script (also: jinpu SCRIPT.lua, #!/usr/bin/env jinpu)\n"
        "  run --sandbox [--allow-read P]... [--allow-write P]... SCRIPT [ARGS]\n"
        "                          run it sandboxed: no commands, files only inside the\n"
        "                          roots (docs/sandbox.md)\n"
        "  -e CODE                 run a chunk of Lua (may be repeated)\n"
        "  -                       run the script on standard input\n"
        "  (no arguments)          interactive prompt on a terminal\n"
        "  info FILE...            schema, size and a preview of a dataset or archive\n"
        "  validate FILE...        validate datasets; exit 1 when the data fails\n"
        "  export -o OUT FILE...   export datasets to a .tar.gz or .zip archive (or\n"
        "                          .xlsx, .sqlite with the shipped plugins)\n"
        "  verify ARCHIVE          check an archive against its manifest\n"
        "  batch JOB.yaml [-j N] [--shard K/N|auto] [--force] [--explain] [--dry-run]\n"
        "                          run a script over many inputs, each job sandboxed,\n"
        "                          resumable (docs/batch.md); batch merge JOB.yaml\n"
        "                          joins the shards' summaries\n"
        "  plugins [info NAME|new NAME|test [NAME]]\n"
        "                          list plugins (and why any was refused); scaffold; test\n"
        "  NAME [ARGS]             a command a plugin provides\n"
        "  --plugins DIR ...       look for plugins in DIR first (before the command)\n"
        "  --no-plugins ...        only the shipped plugins (also JINPU_NO_PLUGINS=1)\n"
        "  -q, --quiet ...         no progress line on the terminal (nor with NO_COLOR set)\n"
        "  -h, --help              this text (COMMAND --help for a command's own)\n"
        "  -v, --version           version and library versions\n"
        "\n"
        "Exit status:\n"
        "  0 ok                    1 data failed validation or verification\n"
        "  2 usage error           3 runtime failure (script error, unreadable input)\n"
        "  4 out of memory         5 time limit (JINPU_MAX_SECONDS)\n"
        "  130 interrupted (Ctrl-C)  143 terminated (SIGTERM)\n"
        "Environment (docs/limits.md):\n"
        "  JINPU_MAX_MEMORY=SIZE   memory limit for Lua and the C core together\n"
        "                          (512M, 1.5G: K, M, G, T are powers of 1024)\n"
        "  JINPU_MAX_SECONDS=SECS  time limit for the whole run, C work included (60, 0.5)\n",
        progname, progname);
}

static void print_version(void)
{
    printf("jinpu %s (%s, libyaml %s, zlib %s, %s)\n", JP_VERSION, LUA_RELEASE,
           yaml_get_version_string(), zlibVersion(), OPENSSL_VERSION_TEXT);
}

/* ---- running code ---- */

/* arg table like lua.c: argv[script] at index 0, earlier words negative. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Push argv[from..argc) as arguments; returns how many. */
static int push_args(lua_State *L, char **argv, int argc, int from)
{
    luaL_checkstack(L, argc - from + 3, "too many arguments to script");
    for (int i = from; i < argc; i++) lua_pushstring(L, argv[i]);
    return argc - from;
}

static int run_file(lua_State *L, const char *fname, char **argv, int argc, int script)
{
    create_arg_table(L, argv, argc, script);
    if (fname && strcmp(fname, "-") == 0) fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_args(L, argv, argc, script + 1);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

static int run_string(lua_State *L, const char *code, const char *name)
{
    int status = luaL_loadbuffer(L, code, strlen(code), name);
    if (status == LUA_OK) status = docall(L, 0, 0);
    return report(L, status);
}

/* A subcommand: jinpu.cli.<name>(args) -> exit status. */
static int run_command(lua_State *L, const char *name, char **argv, int argc, int first, int *code)
{
    char mod[128];
    snprintf(mod, sizeof mod, "jinpu.cli.%s", name);
    /* commands may start processes; scripts never see this module */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_jinpu_sys);
    lua_setfield(L, -2, "jinpu.sys");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    int status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    lua_createtable(L, argc - first, 0);
    for (int i = first; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - first + 1);
    }
    status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    *code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : (lua_toboolean(L, -1) ? 0 : 1);
    lua_pop(L, 1);
    return LUA_OK;
}

/* A script must be a file: a directory named like a command (the tree's
 * plugins/) does not hide the command. */
static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static bool have_command(const char *name)
{
    char mod[128];
    snprintf(mod, sizeof mod, "jinpu.cli.%s", name);
    for (const jp_embedded_t *e = jp_embedded; e->name; e++)
        if (strcmp(e->name, mod) == 0) return true;
    return false;
}

/* ---- the interactive prompt ---- */

static bool incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        static const char eof[] = "<eof>";
        if (lmsg >= sizeof eof - 1 && strcmp(msg + lmsg - (sizeof eof - 1), eof) == 0) {
            lua_pop(L, 1);
            return true;
        }
    }
    return false;
}

/* Compile a line as "return <line>" first, so expressions print their
 * value; otherwise as a statement, reading more lines while it is
 * incomplete.  Leaves the function (or the error message) on the stack. */
#define LOAD_EOF (-1)
static int load_line(lua_State *L, const char *line)
{
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2);
        return status;
    }
    lua_pop(L, 2);
    lua_pushstring(L, line); /* [src] */
    for (;;) {
        size_t len;
        const char *src = lua_tolstring(L, -1, &len);
        status = luaL_loadbuffer(L, src, len, "=stdin"); /* [src, fn|msg] */
        if (!incomplete(L, status)) break;               /* incomplete() pops msg */
        char *more = readline(">> ");
        if (!more) {
            lua_pop(L, 1);
            return LOAD_EOF;
        }
        lua_pushfstring(L, "%s\n%s", src, more); /* [src, src'] */
        free(more);
        lua_remove(L, -2);
    }
    lua_remove(L, -2); /* [fn|msg] */
    return status;
}

static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        print_error(lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
        lua_pop(L, 1);
    }
}

static void repl(lua_State *L)
{
    char hist[1024] = "";
    /* line editing needs the terminal's character set for multibyte text
       (only LC_CTYPE: numbers must keep parsing with '.') */
    setlocale(LC_CTYPE, "");
    const char *home = getenv("HOME");
    if (home) {
        snprintf(hist, sizeof hist, "%s/.jinpu_history", home);
        read_history(hist);
    }
    printf("jinpu %s (%s) - type Lua; expressions print their value; Ctrl-D quits.\n", JP_VERSION,
           LUA_RELEASE);
    printf("The library is `jinpu` (also `jp`), e.g.  ds = jp.load(\"datasets/cherry.yaml\")\n");
    for (;;) {
        char *line = readline("jinpu> ");
        if (!line) break;
        if (*line) add_history(line);
        lua_settop(L, 0);
        int status = load_line(L, line);
        free(line);
        if (status == LOAD_EOF) continue;
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L);
        else
            report(L, status);
        /* Ctrl-C stops one statement; the time limit or SIGTERM the prompt */
        if (jp_stop_pending() && jp_stop_pending() != JP_STOP_INTERRUPT) break;
        jp_stop_reset();
        signals_seen = 0;
        reset_hook(L);
    }
    lua_settop(L, 0);
    putchar('\n');
    if (hist[0]) write_history(hist);
}

/* ---- main ---- */

typedef struct {
    int argc;
    char **argv;
    int code; /* exit status */
} mainargs_t;

static int usage_error(mainargs_t *m, const char *fmt, const char *what)
{
    fprintf(stderr, "%s: ", progname);
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see '%s --help')\n", progname);
    m->code = EXIT_USAGE;
    return 0;
}

/* [-0, +1] the function of plugin command NAME (arg 1), or nil */
static int find_plugin_command(lua_State *L)
{
    if (!jpl_plugin_command(L, lua_tostring(L, 1))) lua_pushnil(L);
    return 1;
}

/* jinpu NAME ARGS... where a plugin provides command NAME: its status, or
 * -1 when no plugin does. */
static int run_plugin_command(lua_State *L, const char *name, char **argv, int argc, int *code)
{
    lua_pushcfunction(L, find_plugin_command);
    lua_pushstring(L, name);
    int status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return -1;
    }
    lua_createtable(L, argc - 2, 0);
    for (int i = 2; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    status = docall(L, 1, 1);
    if (status != LUA_OK) return report(L, status);
    *code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : (lua_toboolean(L, -1) ? 0 : 1);
    lua_pop(L, 1);
    return LUA_OK;
}

static bool option_flag(const char *arg, const char *name)
{
    return strcmp(arg, name) == 0;
}

static const char *option_value(mainargs_t *m, int *i, const char *name, bool *missing);

/*
 * The options before the command: --plugins DIR (repeatable), --no-plugins
 * (also JINPU_NO_PLUGINS=1: only the shipped plugins), -q/--quiet (no
 * progress line), then plugin discovery.  Removes them from m->argv.  false after a usage error.
 */
static bool plugin_options(lua_State *L, mainargs_t *m)
{
    const char **dirs = lua_newuserdatauv(L, (size_t)m->argc * sizeof *dirs + 1, 0);
    size_t ndirs = 0;
    const char *env = getenv("JINPU_NO_PLUGINS");
    bool third_party = !(env && *env && strcmp(env, "0") != 0);
    int i = 1;
    for (; i < m->argc; i++) {
        bool missing;
        const char *v;
        if (option_flag(m->argv[i], "--no-plugins")) {
            third_party = false;
        } else if (option_flag(m->argv[i], "--quiet") || strcmp(m->argv[i], "-q") == 0) {
            jp_stream_set_progress(NULL);
        } else if ((v = option_value(m, &i, "--plugins", &missing)) || missing) {
            if (missing) return usage_error(m, "%s needs a directory", "--plugins");
            struct stat st;
            if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode))
                return usage_error(m, "--plugins: '%s' is not a directory", v);
            dirs[ndirs++] = v;
        } else {
            break;
        }
    }
    jpl_plugins_init(L, dirs, ndirs, third_party);
    if (i > 1) {
        char **argv = lua_newuserdatauv(L, (size_t)(m->argc - i + 2) * sizeof *argv, 0);
        argv[0] = m->argv[0];
        for (int k = i; k < m->argc; k++) argv[k - i + 1] = m->argv[k];
        m->argc = m->argc - i + 1;
        argv[m->argc] = NULL;
        m->argv = argv;
        lua_setfield(L, LUA_REGISTRYINDEX, "jinpu.argv"); /* the prompt clears the stack */
    }
    return true;
}

/* The value of `--name VALUE` or `--name=VALUE` at argv[*i] (advancing *i),
 * or NULL when argv[*i] is not that option. */
static const char *option_value(mainargs_t *m, int *i, const char *name, bool *missing)
{
    const char *arg = m->argv[*i];
    size_t n = strlen(name);
    *missing = false;
    if (strncmp(arg, name, n) != 0) return NULL;
    if (arg[n] == '=') return arg + n + 1;
    if (arg[n] != '\0') return NULL;
    if (*i + 1 >= m->argc) {
        *missing = true;
        return NULL;
    }
    return m->argv[++*i];
}

/* "unknown option '--sandbx' (did you mean '--sandbox'?)" */
static int unknown_option(mainargs_t *m, const char *where, const char *opt,
                          const char *const *known)
{
    char msg[512];
    const char *near = jp_suggest(opt, known, -1);
    snprintf(msg, sizeof msg, "%sunknown option '%s'%s%s%s", where, opt,
             near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return usage_error(m, "%s", msg);
}

/*
 * jinpu run [--sandbox [--allow-read P]... [--allow-write P]...] SCRIPT ARGS:
 * sandbox the state when asked (docs/sandbox.md) and return the index of
 * SCRIPT, or -1 after a usage error.  Without --allow-*, the sandbox reads
 * the script's folder and every ARG naming an existing path, and reads and
 * writes $TMPDIR; the --allow-* roots come on top.
 */
static int run_options(lua_State *L, mainargs_t *m)
{
    int argc = m->argc, i = 2;
    char **argv = m->argv;
    bool sandbox = false;
    const char **rd = lua_newuserdatauv(L, (size_t)(argc + 2) * sizeof *rd, 0);
    const char **wr = lua_newuserdatauv(L, (size_t)(argc + 2) * sizeof *wr, 0);
    size_t nrd = 0, nwr = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--sandbox") == 0) {
            sandbox = true;
            continue;
        }
        bool missing, w = false;
        const char *opt = argv[i];
        const char *v = option_value(m, &i, "--allow-read", &missing);
        if (!v && !missing) {
            v = option_value(m, &i, "--allow-write", &missing);
            w = true;
        }
        if (missing) return usage_error(m, "%s needs a path", opt) - 1;
        if (!v) {
            static const char *const known[] = {"--sandbox", "--allow-read", "--allow-write", NULL};
            return unknown_option(m, "run: ", opt, known) - 1;
        }
        if (access(v, F_OK) != 0)
            return usage_error(m, "cannot use '%s' as a sandbox root: no such file", v) - 1;
        if (w)
            wr[nwr++] = v;
        else
            rd[nrd++] = v;
    }
    if (i >= argc) return usage_error(m, "%s needs a script", "run") - 1;
    if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0)
        return usage_error(m, "cannot open script '%s'", argv[i]) - 1;
    if (!sandbox && nrd + nwr > 0)
        return usage_error(m, "%s: --allow-read and --allow-write need --sandbox", "run") - 1;
    if (!sandbox) return i;
    if (strcmp(argv[i], "-") != 0) { /* the script's folder */
        const char *slash = strrchr(argv[i], '/');
        rd[nrd++] = slash ? lua_pushlstring(L, argv[i], (size_t)(slash - argv[i]) + 1) : ".";
    }
    for (int k = i + 1; k < argc; k++)
        if (access(argv[k], F_OK) == 0) rd[nrd++] = argv[k];
    const char *tmp = getenv("TMPDIR");
    if (tmp && *tmp && access(tmp, F_OK) == 0) wr[nwr++] = tmp;
    jpl_policy_sandbox(L, rd, nrd, wr, nwr);
    return i;
}

static int pmain(lua_State *L)
{
    mainargs_t *m = lua_touserdata(L, 1);
    int argc = m->argc;
    char **argv = m->argv;
    luaL_openlibs(L);
    luaL_requiref(L, "jinpu", luaopen_jinpu, 0); /* package.loaded.jinpu = module */
    lua_pushvalue(L, -1);
    lua_setglobal(L, "jinpu");
    lua_setglobal(L, "jp");
#ifdef JP_TEST_HOOKS
    open_test_hooks(L);
#endif
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!plugin_options(L, m)) return 0;
    argc = m->argc;
    argv = m->argv;

    if (argc < 2) {
        if (isatty(0))
            repl(L);
        else
            m->code = exit_status(run_file(L, NULL, argv, argc, 0));
        return 0;
    }
    const char *a = argv[1];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        print_version();
        return 0;
    }
    if (strcmp(a, "-e") == 0) {
        int i = 1;
        while (i < argc && strcmp(argv[i], "-e") == 0) {
            if (i + 1 >= argc) return usage_error(m, "%s needs a chunk of code", "-e");
            i += 2;
        }
        create_arg_table(L, argv, argc, i - 1);
        for (int k = 1; k < i; k += 2) {
            int st = run_string(L, argv[k + 1], "=(command line)");
            if (st != LUA_OK) {
                m->code = exit_status(st);
                return 0;
            }
        }
        return 0;
    }
    if (strcmp(a, "run") == 0) {
        int script = run_options(L, m);
        if (script < 0) return 0;
        m->code = exit_status(run_file(L, argv[script], argv, argc, script));
        return 0;
    }
    if (strcmp(a, "-") == 0) {
        m->code = exit_status(run_file(L, "-", argv, argc, 1));
        return 0;
    }
    if (a[0] != '-' && have_command(a) && !is_file(a)) {
        int code = 0;
        int st = run_command(L, a, argv, argc, 2, &code);
        m->code = st == LUA_OK ? code : exit_status(st);
        return 0;
    }
    if (a[0] == '-') {
        static const char *const known[] = {
            "-e", "-h", "--help", "-v", "--version", "--plugins", "--no-plugins", "--quiet", NULL};
        return unknown_option(m, "", a, known);
    }
    if (!is_file(a)) {
        int code = 0, st = run_plugin_command(L, a, argv, argc, &code);
        if (st != -1) {
            m->code = st == LUA_OK ? code : exit_status(st);
            return 0;
        }
        size_t n = strlen(a);
        if (n > 4 && strcmp(a + n - 4, ".lua") == 0)
            return usage_error(m, "cannot open script '%s'", a);
        return usage_error(m, "unknown command or script '%s'", a);
    }
    m->code = exit_status(run_file(L, a, argv, argc, 1));
    return 0;
}

/* The core works in batches of a few to a few tens of megabytes, freed and
 * allocated again batch after batch.  glibc serves blocks past its mmap
 * threshold (which grows only up to 32 MB) with a fresh mapping each time,
 * so every batch faulted in and zeroed its pages anew: a tenth of a
 * streamed read's CPU time.  Blocks up to 64 MB come from the heap instead,
 * and the heap is given back only past 256 MB of free top, which costs
 * some megabytes of resident memory and no extra peak.  A user's own
 * GLIBC_TUNABLES wins. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    if (getenv("GLIBC_TUNABLES")) return;
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
    refusal_t refusal = {NULL, 0, 0};
    tune_malloc();
    const char *no_color = getenv("NO_COLOR"), *after = getenv("JINPU_PROGRESS_AFTER");
    if (!(no_color && *no_color) && isatty(2)) { /* --quiet turns it off again */
        if (after && *after) progress_after = atof(after);
        jp_stream_set_progress(show_progress);
    }
    const char *lim = getenv("JINPU_MAX_MEMORY");
    if (lim && *lim) {
        size_t bytes;
        if (!jp_parse_size(lim, &bytes)) {
            fprintf(stderr,
                    "%s: JINPU_MAX_MEMORY='%s' is not a size: a number of bytes, or a number "
                    "with K, M, G or T (e.g. 512M, 1.5G)\n",
                    progname, lim);
            return EXIT_USAGE;
        }
        jp_mem_set_limit(bytes);
    }
    const char *secs = getenv("JINPU_MAX_SECONDS");
    if (secs && *secs) {
        if (!jp_parse_seconds(secs, &time_limit)) {
            fprintf(stderr,
                    "%s: JINPU_MAX_SECONDS='%s' is not a number of seconds (e.g. 60 or 0.5, at "
                    "most 10000000)\n",
                    progname, secs);
            return EXIT_USAGE;
        }
    }
    lua_State *L = lua_newstate(l_alloc, &refusal);
    if (!L) {
        fprintf(stderr, "%s: cannot create the Lua state: not enough memory%s%s%s\n", progname,
                jp_mem_limit() ? " (JINPU_MAX_MEMORY=" : "", jp_mem_limit() ? lim : "",
                jp_mem_limit() ? ")" : "");
        return EXIT_NOMEM;
    }
    mainargs_t m = {argc, argv, 0};
    catch_signal(SIGTERM, on_signal);
    catch_signal(SIGALRM, on_alarm); /* the hard stop */
    if (time_limit > 0) arm_time_limit();
    reset_hook(L);
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &m);
    int status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        print_error(msg ? msg : "(error without a message)");
        m.code = exit_status(status);
    }
    int why = jp_stop_pending();
    if (why) { /* whatever the script made of it */
        m.code = stop_status(why);
        fprintf(stderr, "%s: stopped: %s\n", progname, stop_text(why));
    }
    lua_close(L);
    jp_tmp_remove_all(); /* files of writes that never finished (a commit untracks) */
    if (m.code == EXIT_NOMEM && jp_mem_limit())
        fprintf(stderr, "%s: out of memory: the limit JINPU_MAX_MEMORY=%s was reached\n", progname,
                lim);
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, "%s: error writing to standard output\n", progname);
        if (m.code == 0) m.code = EXIT_RUNTIME;
    }
    return m.code;
}
