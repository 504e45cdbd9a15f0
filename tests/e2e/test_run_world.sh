#!/bin/sh
# tests/e2e/test_run_world.sh - `hoist run` in the living world of `hoist sim
# serve` (its mock cloud, kubelets and scheduler), the mock provider in
# remote mode on the world's cloud endpoint, driven by kubectl:
#   - three pods that need three new machines are all Running within 20 s;
#   - deleted, their machines are consolidated away;
#   - hoist run killed (-9) while a launch is in flight and started again:
#     the pod runs, no machine is leaked and none launched twice.
# Everything started is stopped (trap). Skipped (77) only without kubectl.
set -u
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
S=${HOIST_SRCDIR:?run from make check (HOIST_SRCDIR unset)}
HOIST="$B/hoist"
D="$S/tests/data/daemon"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "SKIP: kubectl is not installed; this test drives hoist run with it"
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-world.XXXXXX") || exit 1
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

# a world whose launches take 3 s, so a kill can land mid-launch
"$HOIST" sim serve --listen 127.0.0.1:0 --port-file "$T/port" --kubeconfig-out "$T/kubeconfig" \
    --cloud-endpoint-out "$T/endpoint" --launch-latency 3 \
    >"$T/server.out" 2>"$T/server.err" &
SERVER=$!
wait_for 10 test -s "$T/endpoint" ||
    { echo "FAIL: hoist sim serve did not start: $(cat "$T/server.err")" >&2; exit 1; }
export HOME="$T"
K() { kubectl --kubeconfig "$T/kubeconfig" --request-timeout=10s "$@"; }
machines() { K get --raw '/hoist-sim/cloud/v1/machines?cluster=world' | grep -o '"instance_id"' | wc -l; }
running() { [ "$(K get pods --no-headers 2>/dev/null | grep -c ' Running ')" -eq "$1" ]; }
machines_are() { [ "$(machines)" -eq "$1" ]; }

start_daemon() {
    "$HOIST" run --kubeconfig "$T/kubeconfig" --cluster world --no-leader-election \
        -f "$D/nodepool.yaml" --provider-config "{\"endpoint\": \"$(cat "$T/endpoint")\"}" \
        --log-level debug >>"$T/run.out" 2>>"$T/run.err" &
    DAEMON=$!
}
start_daemon

# three pods, three machines, all Running within 20 s
K create -f "$D/pods-three.yaml" >/dev/null 2>&1 || fail "create the three pods"
wait_for 20 running 3 || fail "not all Running within 20 s: $(K get pods -o wide 2>&1)"
[ "$(machines)" -eq 3 ] || fail "$(machines) machines for three pods, wanted 3"

# deleted: the machines are consolidated away
K delete -f "$D/pods-three.yaml" --wait=false >/dev/null 2>&1 || fail "delete the three pods"
wait_for 60 machines_are 0 || fail "machines left after consolidation: $(machines)"

# kill -9 while a launch is in flight, then start again
K create -f "$D/pod.yaml" >/dev/null 2>&1 || fail "create a pod"
wait_for 20 machines_are 1 || fail "no launch for the pod: $(tail -5 "$T/run.err")"
kill -9 "$DAEMON"
wait "$DAEMON" 2>/dev/null
DAEMON=
start_daemon
wait_for 20 running 1 || fail "the pod never ran after the restart: $(K get pods 2>&1)"
sleep 2 # a second launch would show up within the batch window
[ "$(machines)" -eq 1 ] || fail "$(machines) machines after the restart, wanted 1 (launched twice?)"
grep -q 'waiting for their Node\|adopted' "$T/run.err" || fail "no adoption logged"

# clean up through hoist itself: the pod goes, its machine is consolidated away
K delete -f "$D/pod.yaml" --wait=false >/dev/null 2>&1
wait_for 60 machines_are 0 || fail "machine leaked after the restart: $(machines)"
kill -TERM "$DAEMON"
wait "$DAEMON"
rc=$?
DAEMON=
[ "$rc" -eq 0 ] || fail "hoist run exited $rc after SIGTERM"

if [ "$failures" -ne 0 ]; then
    echo "--- hoist run log (last 40 lines)" >&2
    tail -40 "$T/run.err" >&2
    exit 1
fi
echo "ok: hoist run in the simulated world"
