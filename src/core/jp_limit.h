/*
 * jp_limit.h - the limits that cover C work: one memory budget, a stop flag
 * for long loops, and the files that must not survive any exit path.
 *
 * Memory.  Every core allocation (jp_mem.h) is charged to one process-wide
 * budget; a host charges what other allocators hold for it (the Lua heap,
 * libdeflate, zlib streams) with jp_mem_reserve.  Past the limit an
 * allocation returns NULL and the caller reports JP_ERR_NOMEM as usual.
 * Charging is one relaxed atomic add per allocation: no lock.
 *
 * Stopping.  A time limit, Ctrl-C or SIGTERM sets one flag.  Long C loops
 * (sort, join, group, CSV scan, gzip, export, validation, expressions) call
 * jp_stop_pending() every ~64k iterations -- it is a relaxed atomic load --
 * and, when it is set, clean up and return jp_stop_check(err).  The flag is
 * set by a timer thread at the deadline or by jp_stop_request (from a
 * signal handler); nobody reads the clock per call.
 *
 * Temporary files.  Atomic-write temporaries and spill files are tracked so
 * that a hard stop (a signal handler about to _exit) can unlink them.
 *
 * Everything here is thread-safe; functions marked async-signal-safe may be
 * called from a signal handler.
 */
#ifndef JP_LIMIT_H
#define JP_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "jp_error.h"

/* ---- memory: one budget for the core's allocations and the host's ---- */

/* 0 = no limit (the default).  Lowering it below what is in use refuses
 * later allocations; nothing already held is taken back. */
void jp_mem_set_limit(size_t bytes);
size_t jp_mem_limit(void);
size_t jp_mem_in_use(void); /* bytes charged now */
size_t jp_mem_peak(void);   /* the most ever charged at once */
/* A byte count as JINPU_MAX_MEMORY and the sort's memory option take it:
 * digits with an optional fraction, then K, M, G or T (powers of 1024)
 * and an optional B or iB (512M, 1.5GiB, 1048576); false for anything
 * else, zero or past 2^63. */
bool jp_parse_size(const char *s, size_t *out);
/* The shortest spelling of n that jp_parse_size reads back as n ("64M",
 * "1.5G", else the digits), NUL-terminated in buf; returns buf. */
const char *jp_size_format(size_t n, char *buf, size_t size);
/* Seconds as JINPU_MAX_SECONDS takes them: digits with an optional
 * fraction (60, 0.5), above 0, at most 10^7; false for anything else. */
bool jp_parse_seconds(const char *s, double *out);

/*
 * Charge n bytes held by a foreign allocator (Lua's, libdeflate's,
 * zlib's).  false = the budget would be exceeded: nothing is charged and
 * jp_mem_refused() becomes true.  Every successful reserve is undone by
 * exactly one jp_mem_unreserve of the same n.
 */
bool jp_mem_reserve(size_t n);
/* Like jp_mem_reserve but a refusal is not recorded: for an allocator that
 * retries after freeing memory itself (Lua runs an emergency collection and
 * raises its own memory error only if the retry fails too). */
bool jp_mem_try_reserve(size_t n);
void jp_mem_unreserve(size_t n);

/* Sticky: some allocation was refused by the limit or failed in the C
 * library since start (or since jp_mem_clear_refused).  The CLI turns a
 * failing run into exit 4 when this is set. */
bool jp_mem_refused(void);
void jp_mem_clear_refused(void);

/*
 * A pipeline breaker that could not hold what it must, said so: when err
 * holds JP_ERR_NOMEM and a limit is in force, the message becomes
 *   "<verb>: out of memory holding <what> (<rows> rows) within
 *    JINPU_MAX_MEMORY=<limit>; raise the limit<advice>"
 * and the position is dropped (a reader's row where memory ran out is no
 * fault of the file: its name and row stay in the message as how far it
 * got).  rows < 0: not known.  Without a limit, or for another error, or
 * when an inner verb has already said so, err is left as it is.  Returns
 * err's code (JP_ERR_NOMEM for a NULL err).
 */
jp_status_t jp_mem_explain(jp_error_t *err, const char *verb, long rows, const char *advice,
                           const char *what, ...) __attribute__((format(printf, 5, 6)));

/* ---- stopping long C work: time limit, Ctrl-C, SIGTERM ---- */

enum { JP_STOP_NONE = 0, JP_STOP_TIME = 1, JP_STOP_INTERRUPT = 2, JP_STOP_TERM = 3 };

/* Arm the time limit: `seconds` from now the flag becomes JP_STOP_TIME (a
 * timer thread, started on first use, waits for it).  0 disarms. */
void jp_stop_set_deadline(double seconds_from_now);
/* The limit given to the last jp_stop_set_deadline (0 = none). */
double jp_stop_time_limit(void);

/* Set the flag; the first reason wins.  Async-signal-safe. */
void jp_stop_request(int reason);
/* The reason the flag holds, JP_STOP_NONE when clear.  One relaxed atomic
 * load: cheap enough for any loop.  Async-signal-safe. */
int jp_stop_pending(void);
/* For a loop over i: true every 65536 iterations when a stop is pending,
 * e.g.  if (jp_stop_due(i)) { ...clean up...; return jp_stop_check(err); } */
static inline bool jp_stop_due(size_t i)
{
    return (i & 0xffff) == 0 && jp_stop_pending() != JP_STOP_NONE;
}
/* Clear the flag (a prompt going on after Ctrl-C stopped one statement).
 * An expired deadline is not re-armed. */
void jp_stop_reset(void);

/*
 * JP_OK when no stop is pending; otherwise JP_ERR_TIMEOUT ("time limit of
 * 2 s exceeded") or JP_ERR_INTERRUPTED ("interrupted", "terminated"), with
 * the message in err.
 */
jp_status_t jp_stop_check(jp_error_t *err);

/* pthread_create with every signal blocked in the new thread, so that
 * Ctrl-C, SIGTERM and timers are handled by the thread running the host
 * (which may touch its interpreter), never by a worker.  Returns 0 or an
 * errno value, like pthread_create. */
int jp_thread_create(pthread_t *th, void *(*fn)(void *), void *arg);

/* ---- files that must not survive any exit path ---- */

/* Remember path (copied) until jp_tmp_untrack.  0 ok; -1 the table is full
 * or the path too long (the caller may go on: only a hard stop would leave
 * the file behind). */
int jp_tmp_track(const char *path);
void jp_tmp_untrack(const char *path);
/* unlink() every tracked file this process created.  Async-signal-safe;
 * the table is left as it is. */
void jp_tmp_remove_all(void);

#endif
