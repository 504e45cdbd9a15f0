/*
 * fake_host.h - a virtual-time hoist_host for tests.
 *
 * Time only moves when the test says so: timers sit in a min-heap ordered by
 * due time, then by the order they were started, and fire from
 * fake_host_run_until() / fake_host_run_all(). Log lines are kept in a buffer;
 * metric counters are summed by name. No real sleeping, no threads. HTTP is
 * not provided (http_request returns NULL).
 */
#ifndef HOIST_TESTS_FAKE_HOST_H
#define HOIST_TESTS_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <hoist/host.h>

typedef struct fake_host fake_host;

/* Create a fake host whose clock starts at start_ms. Abort on out of memory. */
fake_host *fake_host_new(uint64_t start_ms);
/* Free the host and every timer still pending (their callbacks never run). */
void fake_host_free(fake_host *fh);
/* The host services table to lend a plugin (owned by fh). */
const hoist_host *fake_host_api(fake_host *fh);
/* Current virtual time, ms. */
uint64_t fake_host_now(const fake_host *fh);
/* Fire, in order, every timer due at or before `ms` (absolute virtual time),
 * moving the clock to each timer's due time, then to `ms`. Returns how many fired. */
size_t fake_host_run_until(fake_host *fh, uint64_t ms);
/* Advance the clock by delta_ms, firing due timers; returns how many fired. */
size_t fake_host_advance(fake_host *fh, uint64_t delta_ms);
/* Fire timers until none is left (at most `limit`); returns how many fired. */
size_t fake_host_run_all(fake_host *fh, size_t limit);
/* Number of timers armed and not yet fired or cancelled. */
size_t fake_host_pending(const fake_host *fh);
/* Due time of the earliest pending timer, or UINT64_MAX when none. */
uint64_t fake_host_next_due(const fake_host *fh);
/* Everything logged so far, one "LEVEL message\n" line per call (owned by fh). */
const char *fake_host_log(const fake_host *fh);
/* Forget the captured log. */
void fake_host_log_clear(fake_host *fh);
/* Sum of metric_counter_add deltas for `name` (all label sets). */
double fake_host_counter(const fake_host *fh, const char *name);

#endif
