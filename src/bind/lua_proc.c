/*
 * lua_proc.c - `jinpu.sys`, processes: what the batch runner needs from the
 * operating system and Lua lacks.  Starting a process (posix_spawn, never
 * fork: a forked copy of a Lua host could run atexit handlers or flush
 * stdio twice), reaping it with its resource usage (wait4), a self-pipe that
 * turns SIGCHLD, SIGINT and SIGTERM into a poll() wake-up, process groups,
 * limits and the CPUs granted to this process.
 *
 * `jinpu.sys` is preloaded for subcommands only (main.c), never for
 * scripts: a script that could spawn processes would walk out of the
 * sandbox.  It must never exit, never leave a signal handler installed
 * after sys.trap(false), and never hold malloc'd memory across a Lua call
 * that can raise (arrays handed to posix_spawn live in userdata).
 *
 * The file-system half of the module is lua_fs.c; the YAML reader with
 * line numbers is lua_yamldoc.c.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, sched_getaffinity */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "jpl.h"

extern char **environ;

/* ---- signals: a self-pipe ---------------------------------------------------------- */

static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_signal; /* the last SIGINT/SIGTERM not yet reported */
static volatile sig_atomic_t signal_count;
static volatile sig_atomic_t last_signal;
static struct sigaction old_chld, old_int, old_term, old_pipe;
static bool trapped;

static void on_signal(int sig)
{
    int saved = errno;
    if (sig != SIGCHLD) {
        got_signal = sig;
        last_signal = sig;
        signal_count++;
    }
    if (wake_pipe[1] >= 0) {
        ssize_t w = write(wake_pipe[1], "x", 1); /* full pipe: a wake-up is pending anyway */
        (void)w;
    }
    errno = saved;
}

/* sys.trap(on): install (true) or remove (false) the handlers (and ignore
 * SIGPIPE meanwhile). */
static int l_trap(lua_State *L)
{
    bool on = lua_toboolean(L, 1);
    if (on && !trapped) {
        if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            return luaL_error(L, "cannot create a pipe: %s", strerror(errno));
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        got_signal = 0;
        last_signal = 0;
        signal_count = 0;
        sigaction(SIGCHLD, &sa, &old_chld);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        /* a closed stdout (`| head`) must not kill a run before it has
         * stopped its jobs and written its record: writes just fail */
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &old_pipe);
        trapped = true;
    } else if (!on && trapped) {
        sigaction(SIGCHLD, &old_chld, NULL);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGPIPE, &old_pipe, NULL);
        trapped = false;
    }
    return 0;
}

static const struct {
    int sig;
    const char *name;
} signal_names[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},
    {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
};

static void push_signal_name(lua_State *L, int sig)
{
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (signal_names[i].sig == sig) {
            lua_pushstring(L, signal_names[i].name);
            return;
        }
    lua_pushfstring(L, "signal %d", sig);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * sys.wait(timeout) -> pid, "exit"|"signal", code|signame, max_rss_kb
 *                    | nil, "SIGINT"|"SIGTERM"   (a signal to this process)
 *                    | nil, "timeout"
 * Reaps one finished child, or reports a SIGINT/SIGTERM that arrived, or
 * waits up to `timeout` seconds for either.  Needs sys.trap(true).
 */
static int l_wait(lua_State *L)
{
    double timeout = luaL_optnumber(L, 1, 0);
    if (!trapped) return luaL_error(L, "sys.wait needs sys.trap(true)");
    double end = now() + (timeout > 0 ? timeout : 0);
    for (;;) {
        int status = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid > 0) {
            lua_pushinteger(L, pid);
            if (WIFSIGNALED(status)) {
                lua_pushliteral(L, "signal");
                push_signal_name(L, WTERMSIG(status));
            } else {
                lua_pushliteral(L, "exit");
                lua_pushinteger(L, WEXITSTATUS(status));
            }
            lua_pushinteger(L, ru.ru_maxrss); /* kilobytes on Linux */
            return 4;
        }
        if (got_signal) {
            int sig = got_signal;
            got_signal = 0;
            lua_pushnil(L);
            push_signal_name(L, sig);
            return 2;
        }
        double left = end - now();
        if (left <= 0) break;
        struct pollfd p = {wake_pipe[0], POLLIN, 0};
        int ms = left > 3600 ? 3600000 : (int)(left * 1000) + 1;
        if (poll(&p, 1, ms) > 0) {
            char drain[64];
            while (read(wake_pipe[0], drain, sizeof drain) > 0) {
            }
        }
    }
    lua_pushnil(L);
    lua_pushliteral(L, "timeout");
    return 2;
}

/* sys.signals() -> how many SIGINT/SIGTERM arrived since sys.trap(true),
 * and the name of the last one (nil when none) */
static int l_signals(lua_State *L)
{
    lua_pushinteger(L, signal_count);
    if (last_signal)
        push_signal_name(L, last_signal);
    else
        lua_pushnil(L);
    return 2;
}

/* ---- starting a process ------------------------------------------------------------ */

/* [-0, +1, m] A NULL-terminated array of the strings of table t (1..n), in
 * a userdata pushed on the stack; the strings stay owned by t. */
static char **string_array(lua_State *L, int t, const char *what)
{
    lua_Integer n = luaL_len(L, t);
    char **v = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *v, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, t, i) != LUA_TSTRING)
            luaL_error(L, "sys.spawn: %s[%d] is not a string", what, (int)i);
        v[i - 1] = (char *)lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    v[n] = NULL;
    return v;
}

#define MAX_ENV_OVERRIDES 32

/* [-0, +2, m] The child's environment: this process's environment with the
 * entries of table t applied (NAME = "value" replaces or adds, NAME = false
 * removes); pushes the array (userdata) and a table that keeps the new
 * "NAME=value" strings alive.  Called for every job: no Lua value is made
 * per inherited entry. */
static char **build_env(lua_State *L, int t)
{
    const char *names[MAX_ENV_OVERRIDES];
    size_t lens[MAX_ENV_OVERRIDES], nover = 0;
    if (t) {
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "sys.spawn: environment names must be strings");
            if (nover == MAX_ENV_OVERRIDES) luaL_error(L, "sys.spawn: too many environment names");
            names[nover] = lua_tolstring(L, -2, &lens[nover]); /* kept alive by t */
            nover++;
            lua_pop(L, 1);
        }
    }
    size_t n = 0;
    while (environ[n]) n++;
    char **v = lua_newuserdatauv(L, (n + nover + 1) * sizeof *v, 0);
    lua_newtable(L); /* keeps the strings */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool overridden = false;
        for (size_t j = 0; j < nover && !overridden; j++)
            overridden = strncmp(environ[i], names[j], lens[j]) == 0 && environ[i][lens[j]] == '=';
        if (!overridden) v[k++] = environ[i];
    }
    for (size_t j = 0; j < nover; j++) {
        lua_getfield(L, t, names[j]);
        if (lua_type(L, -1) == LUA_TSTRING) {
            v[k++] = (char *)lua_pushfstring(L, "%s=%s", names[j], lua_tostring(L, -1));
            lua_rawseti(L, -3, (lua_Integer)k); /* into the keep table */
        } else if (lua_toboolean(L, -1)) {
            luaL_error(L, "sys.spawn: env.%s must be a string or false", names[j]);
        }
        lua_pop(L, 1);
    }
    v[k] = NULL;
    return v;
}

static const char *opt_string(lua_State *L, int t, const char *key)
{
    lua_getfield(L, t, key);
    const char *s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_pop(L, 1); /* still referenced by the options table */
    return s;
}

/*
 * sys.spawn(path, argv, opts) -> pid | nil, message
 *   argv  {argv0, arg1, ...}
 *   opts  cwd = directory, log = file receiving stdout and stderr (created
 *         or truncated; stdin is /dev/null), env = {NAME = "value" | false},
 *         rlimit_as = bytes (address-space limit of the child)
 * The child leads a new process group (its pid), so sys.kill can stop it
 * with everything it started, and a Ctrl-C at the terminal reaches only
 * this process.  Signals ignored here are reset to their defaults, and no
 * descriptor but 0, 1 and 2 is inherited.
 */
static int l_spawn(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *cwd = opt_string(L, 3, "cwd");
    const char *log = opt_string(L, 3, "log");
    lua_getfield(L, 3, "rlimit_as");
    lua_Integer as = lua_isnil(L, -1) ? 0 : luaL_checkinteger(L, -1);
    lua_getfield(L, 3, "env"); /* [.., as, env] */
    int envt = lua_istable(L, -1) ? lua_gettop(L) : 0;
    char **argv = string_array(L, 2, "argv");
    char **envp = build_env(L, envt);
    if (!argv[0]) return luaL_error(L, "sys.spawn: argv is empty");

    /* from here on: no Lua call until both objects are destroyed */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) goto fail_early;
    rc = posix_spawnattr_init(&at);
    if (rc) {
        posix_spawn_file_actions_destroy(&fa);
        goto fail_early;
    }
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGQUIT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGCHLD);
    if (!rc)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF);
    if (!rc) rc = posix_spawnattr_setpgroup(&at, 0);
    if (!rc) rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&at, &dflt);
    if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc && log)
        rc = posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!rc && log) rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (!rc && cwd) rc = posix_spawn_file_actions_addchdir_np(&fa, cwd);
    /* the runner's own files (spools, Lua's io handles) are not the child's */
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    /* The address-space backstop is in place before the child's first
     * instruction: it inherits this process's limit, lowered for the
     * moment of the spawn (only the soft limit: a hard limit cannot be
     * raised again).  This process is far below any such limit. */
    struct rlimit old_as;
    bool lowered = false;
    if (!rc && as > 0 && getrlimit(RLIMIT_AS, &old_as) == 0) {
        struct rlimit rl = old_as;
        rl.rlim_cur = (rlim_t)as < old_as.rlim_max ? (rlim_t)as : old_as.rlim_max;
        lowered = setrlimit(RLIMIT_AS, &rl) == 0;
    }
    if (!rc) rc = posix_spawn(&pid, path, &fa, &at, argv, envp);
    if (lowered) setrlimit(RLIMIT_AS, &old_as);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) goto fail_early;
    lua_pushinteger(L, pid);
    return 1;
fail_early:
    lua_pushnil(L);
    lua_pushfstring(L, "cannot start %s: %s", path, strerror(rc));
    return 2;
}

/* sys.kill(pid, "TERM"|"KILL"|"INT") -> true | nil, message: signals the
 * process group led by pid (a child of sys.spawn). */
static int l_kill(lua_State *L)
{
    lua_Integer pid = luaL_checkinteger(L, 1);
    static const char *const names[] = {"TERM", "KILL", "INT", NULL};
    static const int sigs[] = {SIGTERM, SIGKILL, SIGINT};
    int sig = sigs[luaL_checkoption(L, 2, "TERM", names)];
    if (pid <= 1) return luaL_argerror(L, 1, "not a child's pid");
    if (kill((pid_t)-pid, sig) != 0 && kill((pid_t)pid, sig) != 0 && errno != ESRCH) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.alive(pid) -> does a process with this pid exist (on this machine)? */
static int l_alive(lua_State *L)
{
    lua_Integer pid = luaL_checkinteger(L, 1);
    lua_pushboolean(L, pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM));
    return 1;
}

/* ---- this process ------------------------------------------------------------------ */

/* sys.affinity() -> the number of CPUs this process may run on */
static int l_affinity(lua_State *L)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n < 1) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    lua_pushinteger(L, n);
    return 1;
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, now());
    return 1;
}

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, getpid());
    return 1;
}

static int l_hostname(lua_State *L)
{
    char h[256];
    if (gethostname(h, sizeof h) != 0) strcpy(h, "localhost");
    h[sizeof h - 1] = '\0';
    lua_pushstring(L, h);
    return 1;
}

static int l_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* sys.exe() -> the path of the running jinpu binary (children run the same) */
static int l_exe(lua_State *L)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        lua_pushnil(L);
        lua_pushstring(L, "cannot find the jinpu binary (/proc/self/exe)");
        return 2;
    }
    buf[n] = '\0';
    lua_pushstring(L, buf);
    return 1;
}

/* sys.sanitized() -> true in an AddressSanitizer build, whose shadow memory
 * takes terabytes of address space: an RLIMIT_AS backstop would stop such
 * a child before its first line. */
static int l_sanitized(lua_State *L)
{
#if defined(__SANITIZE_ADDRESS__)
    lua_pushboolean(L, 1);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    lua_pushboolean(L, 1);
#else
    lua_pushboolean(L, 0);
#endif
#else
    lua_pushboolean(L, 0);
#endif
    return 1;
}

int luaopen_jinpu_sys(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"trap", l_trap},           {"wait", l_wait},     {"signals", l_signals},
        {"spawn", l_spawn},         {"kill", l_kill},     {"alive", l_alive},
        {"affinity", l_affinity},   {"now", l_now},       {"pid", l_pid},
        {"hostname", l_hostname},   {"isatty", l_isatty}, {"exe", l_exe},
        {"sanitized", l_sanitized}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
    jpl_open_fs(L);
    jpl_open_yamldoc(L);
    return 1;
}
