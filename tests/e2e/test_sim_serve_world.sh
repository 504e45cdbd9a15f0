#!/bin/sh
# tests/e2e/test_sim_serve_world.sh - `hoist sim serve` as a living world:
# launch a machine through the cloud endpoint with curl, watch its Node
# register and turn Ready with kubectl, see a pod bound to it, terminate the
# machine and see the Node go NotReady and the pod go. Everything started is
# stopped at the end. Skipped (77) only when kubectl or curl is missing.
set -u
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
S=${HOIST_SRCDIR:?run from make check (HOIST_SRCDIR unset)}
HOIST="$B/hoist"
for tool in kubectl curl; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed; this test drives hoist sim serve with it"
        exit 77
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-world.XXXXXX") || exit 1
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { case "$2" in *"$1"*) ;; *) fail "$3: output lacks '$1': $2" ;; esac; }

# bad flags are named
for args in "--speed 0" "--speed fast" "--register-delay -1" "--launch-latency x"; do
    # shellcheck disable=SC2086
    err=$("$HOIST" sim serve --listen 127.0.0.1:0 $args 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq 2 ] || fail "hoist sim serve $args: exit $rc, wanted 2"
    has "${args%% *}" "$err" "hoist sim serve $args"
done
err=$("$HOIST" sim serve --listen 127.0.0.1:0 --catalog "$T/none.json" 2>&1 >/dev/null)
[ $? -eq 1 ] || fail "a missing catalog must fail"
has "$T/none.json" "$err" "missing catalog"

# speed 20: registration 150 ms, Ready 100 ms after
"$HOIST" sim serve --listen 127.0.0.1:0 --port-file "$T/port" --kubeconfig-out "$T/kubeconfig" \
    --cloud-endpoint-out "$T/endpoint" --cluster e2e --speed 20 --launch-latency 1 \
    >"$T/server.out" 2>"$T/server.err" &
SERVER=$!
i=0
while [ ! -s "$T/port" ] || [ ! -s "$T/endpoint" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$SERVER" 2>/dev/null; then
        echo "FAIL: hoist sim serve did not start: $(cat "$T/server.err")" >&2
        exit 1
    fi
    sleep 0.05
done
EP=$(cat "$T/endpoint")
PORT=$(cat "$T/port")
case "$EP" in "http://127.0.0.1:$PORT/hoist-sim/cloud/v1") ;; *) fail "endpoint $EP" ;; esac
K="kubectl --kubeconfig $T/kubeconfig"

# the catalog is served in the mock's file schema
cat=$(curl -sf "$EP/catalog") || fail "GET /catalog"
has '"instance_type":"m5.large"' "$cat" "catalog"

# launch (answered after the launch latency)
launch='{"claim": "e2e-1", "nodepool": "default",
  "offerings": [{"instance_type": "m5.large", "zone": "us-east-1b", "capacity_type": "on-demand"}],
  "labels": {"team": "blue"},
  "taints": [{"key": "hoist.dev/unregistered", "value": "", "effect": "NoExecute"}]}'
out=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$launch" "$EP/machines") ||
    fail "launch: $out"
has '"provider_id":"aws:///us-east-1b/i-0' "$out" "launch"
has '"hoist.dev/cluster":"e2e"' "$out" "launch tags"
ID=$(printf '%s' "$out" | sed -n 's/.*"instance_id":"\([^"]*\)".*/\1/p')
[ -n "$ID" ] || fail "no instance id in $out"
# idempotent by claim
again=$(curl -sf -X POST -d "$launch" "$EP/machines")
has "\"instance_id\":\"$ID\"" "$again" "second launch of the same claim"
list=$(curl -sf "$EP/machines?cluster=e2e&nodepool=default")
has "$ID" "$list" "list by tags"
none=$(curl -sf "$EP/machines?cluster=other")
has '"items":[]' "$none" "list for another cluster"
bad=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"offerings": []}' "$EP/machines")
[ "$bad" = 400 ] || fail "a launch without claim: HTTP $bad, wanted 400"

# the Node registers and turns Ready within a bounded number of polls
ready=
i=0
while [ $i -lt 100 ]; do
    st=$($K get node "$ID" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
    if [ "$st" = True ]; then ready=1; break; fi
    i=$((i + 1))
    sleep 0.1
done
[ -n "$ready" ] || fail "node $ID not Ready after $i polls"
pid=$($K get node "$ID" -o jsonpath='{.spec.providerID}')
[ "$pid" = "aws:///us-east-1b/$ID" ] || fail "providerID $pid"
lbl=$($K get node "$ID" -o jsonpath='{.metadata.labels.node\.kubernetes\.io/instance-type} {.metadata.labels.topology\.kubernetes\.io/zone} {.metadata.labels.team}')
[ "$lbl" = "m5.large us-east-1b blue" ] || fail "labels: $lbl"
taint=$($K get node "$ID" -o jsonpath='{.spec.taints[0].key}')
[ "$taint" = hoist.dev/unregistered ] || fail "startup taint: $taint"

# no pod lands while the startup taint is there; removing it (the daemon's job) lets it bind
$K run web --image=busybox --restart=Never --requests=cpu=100m >/dev/null 2>&1 ||
    $K run web --image=busybox --restart=Never >/dev/null || fail "kubectl run"
sleep 0.3
node=$($K get pod web -o jsonpath='{.spec.nodeName}')
[ -z "$node" ] || fail "pod bound to $node despite the NoExecute startup taint"
$K patch node "$ID" --type=json -p '[{"op": "remove", "path": "/spec/taints"}]' >/dev/null ||
    fail "untaint"
bound=
i=0
while [ $i -lt 50 ]; do
    phase=$($K get pod web -o jsonpath='{.spec.nodeName} {.status.phase}')
    if [ "$phase" = "$ID Running" ]; then bound=1; break; fi
    i=$((i + 1))
    sleep 0.1
done
[ -n "$bound" ] || fail "pod web not Running on $ID: $phase"

# terminate: NotReady at once, the pod goes
out=$(curl -sf -X DELETE "$EP/machines/$ID") || fail "terminate: $out"
[ "$out" = "{}" ] || fail "terminate answered $out"
st=$($K get node "$ID" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
[ "$st" = False ] || fail "node after terminate: Ready=$st"
left=$($K get pods -o name)
[ -z "$left" ] || fail "pods left on a terminated machine: $left"
out=$(curl -s "$EP/machines/i-0nonexistent")
has '"code":"not-found"' "$out" "GET an unknown machine"

kill "$SERVER"
wait "$SERVER"
rc=$?
SERVER=
[ "$rc" -eq 0 ] || fail "hoist sim serve exited $rc on SIGTERM: $(tail -3 "$T/server.err")"

if [ "$failures" -ne 0 ]; then
    echo "server log:" >&2
    tail -20 "$T/server.err" >&2
    exit 1
fi
echo "ok: hoist sim serve world (cloud, kubelet, scheduler) over curl and kubectl"
