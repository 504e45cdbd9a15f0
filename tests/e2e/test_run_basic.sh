#!/bin/sh
# tests/e2e/test_run_basic.sh - `hoist run` against `hoist sim serve` over
# real HTTP, driven and checked with kubectl: bad input (exit 2 for usage,
# 1 for a broken kubeconfig naming the field), start, sync, /healthz /readyz
# /metrics, the Lease taken, a pending pod nominated (Event) for a machine
# of the in-process mock, the API server restarted on the same port (the
# watches fail and relist; the daemon decides on the new world), SIGTERM:
# exit 0 and the Lease released. Everything started is stopped (trap).
# Skipped (77) only when kubectl is not installed.
set -u
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
S=${HOIST_SRCDIR:?run from make check (HOIST_SRCDIR unset)}
HOIST="$B/hoist"
D="$S/tests/data/daemon"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "SKIP: kubectl is not installed; this test drives hoist run with it"
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-run.XXXXXX") || exit 1
SERVER=
DAEMON=
cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { case "$2" in *"$1"*) ;; *) fail "$3: output lacks '$1': $2" ;; esac; }
# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds
wait_for() {
    n=$(($1 * 10))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        n=$((n - 1))
        sleep 0.1
    done
    return 1
}

# ---- bad input --------------------------------------------------------------
expect_fail() {
    want_rc=$1 want=$2
    shift 2
    err=$("$HOIST" run "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq "$want_rc" ] || fail "hoist run $*: exit $rc, wanted $want_rc ($err)"
    case "$err" in *"$want"*) ;; *) fail "hoist run $*: message '$err' lacks '$want'" ;; esac
}
expect_fail 2 'unrecognized option' --frobnicate
expect_fail 2 'exclude each other' --kubeconfig "$D/broken-kubeconfig.yaml" --in-cluster
expect_fail 2 '--listen "nowhere"' --listen nowhere
expect_fail 2 'unexpected argument "extra"' extra
expect_fail 2 '--log-level "loud"' --log-level loud
expect_fail 1 'clusters[0].cluster.server' --kubeconfig "$D/broken-kubeconfig.yaml"
expect_fail 1 "$T/missing" --kubeconfig "$T/missing"

# ---- the API server and the daemon -----------------------------------------
start_server() {
    rm -f "$T/port"
    "$HOIST" sim serve --listen "127.0.0.1:$1" --port-file "$T/port" \
        --kubeconfig-out "$T/kubeconfig" --bookmark-interval 1 \
        >"$T/server.out" 2>>"$T/server.err" &
    SERVER=$!
    if ! wait_for 10 test -s "$T/port"; then
        echo "FAIL: hoist sim serve did not start: $(cat "$T/server.err")" >&2
        exit 1
    fi
    PORT=$(cat "$T/port")
}
start_server 0
export HOME="$T" # kubectl's discovery cache
K() { kubectl --kubeconfig "$T/kubeconfig" --request-timeout=10s "$@"; }

# a NodePool file with a Pod in it is refused, naming the object
expect_fail 1 'only NodePools are read from files' --kubeconfig "$T/kubeconfig" \
    -f "$D/pod.yaml"

"$HOIST" run --kubeconfig "$T/kubeconfig" --listen 127.0.0.1:0 --cluster e2e \
    --lease-namespace default --lease-name hoist-e2e --identity e2e-one \
    -f "$D/nodepool.yaml" --log-level debug >"$T/run.out" 2>"$T/run.err" &
DAEMON=$!
wait_for 10 grep -q 'serving /metrics' "$T/run.out" ||
    { echo "FAIL: hoist run did not start: $(cat "$T/run.err")" >&2; exit 1; }
MPORT=$(sed -n 's/.*on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/run.out" | head -1)
H() { kubectl --server "http://127.0.0.1:$MPORT" --request-timeout=5s get --raw "$1"; }

out=$(H /healthz 2>&1) || fail "/healthz: $out"
has ok "$out" "/healthz"
wait_for 20 H /readyz || fail "/readyz never ready: $(H /readyz 2>&1); $(tail -5 "$T/run.err")"
out=$(H /metrics 2>&1) || fail "/metrics: $out"
has 'hoist_watch_synced{resource="pods"} 1' "$out" "/metrics"
has 'hoist_leader 1' "$out" "/metrics"
has 'hoist_watch_restarts_total{resource="pods"} 0' "$out" "/metrics"
out=$(K get lease hoist-e2e -n default -o 'jsonpath={.spec.holderIdentity}' 2>&1)
[ "$out" = "e2e-one" ] || fail "Lease holder: '$out'"

# a pending pod: hoist launches a machine for it and says so in an Event
K create -f "$D/pod.yaml" >/dev/null 2>&1 || fail "create pod"
nominated() { K get events -o 'jsonpath={.items[*].reason}' | grep -q Nominated; }
wait_for 20 nominated || fail "no Nominated Event: $(K get events 2>&1); $(tail -5 "$T/run.err")"
out=$(H /metrics 2>&1)
has 'hoist_machines_launched_total{nodepool="general"} 1' "$out" "/metrics after the pod"
has 'hoist_decision_duration_seconds_bucket{le="+Inf"} ' "$out" "/metrics after the pod"
has '# TYPE hoist_decision_duration_seconds histogram' "$out" "/metrics after the pod"
has 'hoist_spending_efficiency_usd_per_vcpu_hour ' "$out" "/metrics after the pod"

# ---- the API server restarts on the same port, empty -----------------------
kill "$SERVER" && wait "$SERVER" 2>/dev/null
SERVER=
start_server "$PORT"
K create -f "$D/pod-two.yaml" >/dev/null 2>&1 || fail "create pod after the restart"
wait_for 30 nominated ||
    fail "no Nominated Event after the API server restart: $(tail -8 "$T/run.err")"
# (the restarted server starts its resourceVersions afresh: a watch resumed
# from the old server's version gets 410 Gone, and the reflectors list again)
# (whether a request also failed while the server was down depends on timing:
# the watch may end cleanly and come back after the server; not checked)
relisted() { H /metrics | grep -q '^hoist_watch_relists_total{resource="pods"} [1-9]'; }
wait_for 20 relisted || fail "no relist after the restart: $(H /metrics | grep watch_)"
wait_for 20 H /readyz || fail "/readyz after the restart: $(H /readyz 2>&1)"

# ---- SIGTERM: clean exit, Lease released ------------------------------------
kill -TERM "$DAEMON"
wait "$DAEMON"
rc=$?
DAEMON=
[ "$rc" -eq 0 ] || fail "hoist run exited $rc after SIGTERM: $(tail -5 "$T/run.err")"
has "Lease released" "$(cat "$T/run.err")" "hoist run log"
# (the restarted server may not have the Lease at all: then nobody holds it)
out=$(K get lease hoist-e2e -n default -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)
[ -z "$out" ] || fail "Lease still held after SIGTERM: '$out'"

if [ "$failures" -ne 0 ]; then
    echo "--- hoist run log (last 30 lines)" >&2
    tail -30 "$T/run.err" >&2
    exit 1
fi
echo "ok: hoist run against hoist sim serve"
