/*
 * kube/lease.h - leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection package does it.
 *
 * Timing defaults are client-go's (and kube-controller-manager's):
 * leaseDurationSeconds 15, renew deadline 10 s, retry period 2 s.
 *
 *   candidate  every retry period (jittered up to x2.2, client-go's
 *              JitterFactor 1.2) GET the Lease:
 *                404          POST a new Lease naming us: leader (409 =
 *                             someone else created it first)
 *                held by another, fresh
 *                             wait. "Fresh" is judged on OUR clock, as
 *                             client-go does: the time we last saw the
 *                             record change (its resourceVersion), plus its
 *                             leaseDurationSeconds; the holder's renewTime is
 *                             never compared with our clock (no skew issue).
 *                empty holder, expired, or ours
 *                             PUT it with our identity and the
 *                             resourceVersion we read: leader (409 = lost
 *                             the race to another candidate)
 *   leader     every retry period PUT the Lease we hold with a new renewTime
 *              and its resourceVersion. 409 = someone else wrote it: we
 *              lost it at once. Other failures are retried; when no renewal
 *              succeeded for the renew deadline, leadership is lost.
 *   release    on shutdown: PUT holderIdentity "" with leaseDurationSeconds 1
 *              (as client-go's ReleaseOnCancel), so a candidate takes over at
 *              its next try instead of waiting for the lease to expire.
 *
 * on_started runs when we become leader, on_stopped when we stop being it
 * (lost, or released); both from the loop.
 *
 * Time: every decision reads the injectable clock (unix ms). With `manual`
 * the lease arms no timer and the caller drives it with
 * hoist_kube_lease_tick(); otherwise a uv timer ticks every retry period.
 * A malformed Lease from the API (not JSON, no resourceVersion, wrong types
 * in spec) is logged and counted and the attempt fails; nothing crashes.
 */
#ifndef HOIST_KUBE_LEASE_H
#define HOIST_KUBE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/request.h"

#define HOIST_KUBE_LEASE_DURATION_S 15u
#define HOIST_KUBE_LEASE_RENEW_DEADLINE_MS 10000u
#define HOIST_KUBE_LEASE_RETRY_PERIOD_MS 2000u

typedef void (*hoist_kube_lease_cb)(void *arg);

typedef struct hoist_kube_lease_config {
    const char *ns;                 /* the Lease's namespace; required */
    const char *name;               /* the Lease's name; required (e.g. "hoist") */
    const char *identity;           /* NULL = "<hostname>_<pid>" */
    uint32_t lease_duration_s;      /* 0 = HOIST_KUBE_LEASE_DURATION_S */
    uint32_t renew_deadline_ms;     /* 0 = HOIST_KUBE_LEASE_RENEW_DEADLINE_MS */
    uint32_t retry_period_ms;       /* 0 = HOIST_KUBE_LEASE_RETRY_PERIOD_MS */
    hoist_kube_clock_fn now_ms;     /* NULL = the system's real-time clock */
    void *clock_arg;
    bool manual;                    /* no timer: call hoist_kube_lease_tick() */
    uint64_t seed;                  /* jitter */
    hoist_kube_lease_cb on_started; /* may be NULL */
    hoist_kube_lease_cb on_stopped; /* may be NULL */
    void *arg;
} hoist_kube_lease_config;

/* Counters (monotonic). */
typedef struct hoist_kube_lease_stats {
    hoist_kube_request_stats http;
    uint64_t attempts;              /* acquire attempts (GETs) */
    uint64_t acquired;              /* times we became leader */
    uint64_t renewals;              /* successful renewals */
    uint64_t renew_failures;        /* renewals that failed (not 409) */
    uint64_t conflicts;             /* 409 on create, take-over or renewal */
    uint64_t lost;                  /* leadership lost (409 or renew deadline) */
    uint64_t released;              /* releases the API server accepted */
    uint64_t malformed;             /* Lease answers that were not a usable Lease */
} hoist_kube_lease_stats;

typedef struct hoist_kube_lease hoist_kube_lease;

/* A candidate for the Lease through client (copied; pointers borrowed and
 * outliving the lease). Strings in cfg are copied. NULL with err naming the
 * missing field. Nothing is sent until start. */
hoist_kube_lease *hoist_kube_lease_new(const hoist_kube_client *client,
                                       const hoist_kube_lease_config *cfg, hoist_err *err);
/* Start competing: the first attempt now, then (unless manual) every retry period. */
int hoist_kube_lease_start(hoist_kube_lease *l, hoist_err *err);
/* One step at the clock's now: as a candidate, try to acquire; as the
 * leader, renew (or give up after the renew deadline). Does nothing while a
 * request is in flight or after release. */
void hoist_kube_lease_tick(hoist_kube_lease *l);
/* Give the Lease up (on SIGTERM): stop competing, on_stopped if we led,
 * and PUT an empty holder. done(arg) runs once the API answered (or at once
 * from the loop when there was nothing to release). 0, or -1 with err. */
int hoist_kube_lease_release(hoist_kube_lease *l, hoist_kube_lease_cb done, void *arg,
                             hoist_err *err);

/* True while we hold the Lease. */
bool hoist_kube_lease_is_leader(const hoist_kube_lease *l);
/* The holder we last saw ("" when none or not read yet); borrowed. */
const char *hoist_kube_lease_holder(const hoist_kube_lease *l);
/* Our identity; borrowed. */
const char *hoist_kube_lease_identity(const hoist_kube_lease *l);
/* True while a request is in flight. */
bool hoist_kube_lease_busy(const hoist_kube_lease *l);
/* The last malformed answer, naming the field ("" when none); borrowed. */
const char *hoist_kube_lease_last_error(const hoist_kube_lease *l);
/* Counters. */
const hoist_kube_lease_stats *hoist_kube_lease_get_stats(const hoist_kube_lease *l);
/* Stop (no callbacks afterwards; does NOT release - call release first for
 * that) and free once the loop ran the timer's close callback. NULL is fine. */
void hoist_kube_lease_close(hoist_kube_lease *l);

#endif
