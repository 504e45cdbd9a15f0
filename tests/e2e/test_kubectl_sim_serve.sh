#!/bin/sh
# tests/e2e/test_kubectl_sim_serve.sh - `hoist sim serve` driven by a real
# kubectl: create, get (table and JSON), client-side apply, get -w, delete;
# the server is stopped at the end whatever happens. Skipped (77) only when
# kubectl is not installed.
set -u
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
S=${HOIST_SRCDIR:?run from make check (HOIST_SRCDIR unset)}
HOIST="$B/hoist"
D="$S/tests/data/apiserver"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "SKIP: kubectl is not installed; this test drives hoist sim serve with it"
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-kubectl.XXXXXX") || exit 1
SERVER=
WATCHER=
cleanup() {
    [ -n "$WATCHER" ] && kill "$WATCHER" 2>/dev/null
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { case "$2" in *"$1"*) ;; *) fail "$3: output lacks '$1': $2" ;; esac; }

# bad input: usage errors (2) and files that cannot be served (1), named
expect_fail() {
    want_rc=$1 want=$2
    shift 2
    err=$("$HOIST" sim serve --listen 127.0.0.1:0 "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq "$want_rc" ] || fail "hoist sim serve $*: exit $rc, wanted $want_rc ($err)"
    case "$err" in *"$want"*) ;; *) fail "hoist sim serve $*: message '$err' lacks '$want'" ;; esac
}
expect_fail 2 '--listen "nowhere": expected HOST:PORT' --listen nowhere
expect_fail 2 'port in 0..65535' --listen 127.0.0.1:99999
expect_fail 2 '--bookmark-interval "0"' --bookmark-interval 0
expect_fail 2 'unexpected argument "extra"' extra
expect_fail 1 "$T/missing.yaml" -f "$T/missing.yaml"
expect_fail 1 'unknown-kind.yaml:2: Deployment web: apiVersion/kind: not served (apps/v1)' \
    -f "$D/unknown-kind.yaml"
expect_fail 1 'bad-name.yaml:8: Pod default/Web_Two: Pod "Web_Two" is invalid: metadata.name' \
    -f "$D/bad-name.yaml"
expect_fail 1 'listen address "256.1.1.1": not an IPv4 or IPv6 address' --listen 256.1.1.1:0
out=$("$HOIST" sim --help 2>&1) || fail "hoist sim --help: $out"
has "hoist sim serve" "$out" "hoist sim --help"

# --no-scheduler: this test checks the API itself, so the world's pending pod stays pending
"$HOIST" sim serve --no-scheduler --listen 127.0.0.1:0 --port-file "$T/port" \
    --kubeconfig-out "$T/kubeconfig" -f "$D/world.yaml" >"$T/server.out" 2>"$T/server.err" &
SERVER=$!
i=0
while [ ! -s "$T/port" ] || [ ! -s "$T/kubeconfig" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$SERVER" 2>/dev/null; then
        echo "FAIL: hoist sim serve did not start: $(cat "$T/server.err")" >&2
        exit 1
    fi
    sleep 0.1
done
# kubectl keeps its discovery cache under HOME; keep it inside the test's directory
export HOME="$T"
K() { kubectl --kubeconfig "$T/kubeconfig" --request-timeout=10s "$@"; }

out=$(K version 2>&1) || fail "kubectl version: $out"
has "Server Version: v1.32.0-hoist-sim" "$out" "kubectl version"

# the preloaded world
out=$(K get nodes 2>&1) || fail "get nodes: $out"
has "node-a" "$out" "get nodes"
has "Ready" "$out" "get nodes"
out=$(K get nodepools.hoist.dev 2>&1) || fail "get nodepools: $out"
has "default" "$out" "get nodepools"
out=$(K get pdb -n shop 2>&1) || fail "get pdb: $out"
has "shop" "$out" "get pdb"

# create -f, with client-side validation left to the server as against a real one
out=$(K create -f "$D/namespace.yaml" 2>&1) || fail "create namespace: $out"
has "namespace/team-a created" "$out" "create namespace"
out=$(K create -f "$D/pod.yaml" 2>&1) || fail "create pod: $out"
has "pod/web-1 created" "$out" "create pod"
out=$(K create -f "$D/pod.yaml" 2>&1) && fail "create twice succeeded: $out"
has "AlreadyExists" "$out" "create twice"

out=$(K get pods -n team-a 2>&1) || fail "get pods: $out"
has "NAME" "$out" "get pods"
has "web-1" "$out" "get pods"
has "Pending" "$out" "get pods"
out=$(K get pod web-1 -n team-a -o json 2>&1) || fail "get -o json: $out"
has '"resourceVersion": "' "$out" "get -o json"
has '"uid": "' "$out" "get -o json"
out=$(K get pods -A -l app=shop --field-selector spec.nodeName=node-a 2>&1) ||
    fail "get with selectors: $out"
has "running" "$out" "get with selectors"
case "$out" in *pending*) fail "field selector let the pending pod through: $out" ;; esac

# a watch in the background sees a change made meanwhile
K get pods -n team-a -w >"$T/watch.out" 2>&1 &
WATCHER=$!
i=0
until grep -q web-1 "$T/watch.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done

# client-side apply: create, then change a label
out=$(K apply -f "$D/pod-apply.yaml" 2>&1) || fail "apply (create): $out"
has "pod/applied created" "$out" "apply (create)"
out=$(K apply -f "$D/pod-apply-labelled.yaml" 2>&1) || fail "apply (change): $out"
has "pod/applied configured" "$out" "apply (change)"
out=$(K get pod applied -n team-a -o jsonpath='{.metadata.labels.tier}' 2>&1)
[ "$out" = "gold" ] || fail "apply did not change the label: '$out'"
out=$(K get pod applied -n team-a -o jsonpath='{.spec.containers[*].name}' 2>&1)
[ "$out" = "app sidecar" ] || fail "apply changed the containers: '$out'"

i=0
until grep -q applied "$T/watch.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done
kill "$WATCHER" 2>/dev/null
wait "$WATCHER" 2>/dev/null
WATCHER=
w=$(cat "$T/watch.out")
has "web-1" "$w" "get -w"
has "applied" "$w" "get -w (the pod applied meanwhile)"

# a pending pod is deleted at once
out=$(K delete pod web-1 -n team-a 2>&1) || fail "delete: $out"
has 'pod "web-1" deleted' "$out" "delete"
out=$(K get pod web-1 -n team-a 2>&1) && fail "get after delete succeeded: $out"
has "NotFound" "$out" "get after delete"
has 'pods "web-1" not found' "$out" "get after delete"

# graceful deletion: the running pod on node-a terminates; its kubelet
# deletes it with grace 0 after a second, and a finalizer holds it until
# it is removed
out=$(K patch pod running -n shop --type merge \
    -p '{"metadata":{"finalizers":["example.com/hold"]}}' 2>&1) || fail "patch finalizer: $out"
out=$(K delete pod running -n shop --wait=false 2>&1) || fail "delete --wait=false: $out"
out=$(K get pod running -n shop 2>&1) || fail "get a terminating pod: $out"
has "Terminating" "$out" "get a terminating pod"
i=0
while :; do
    out=$(K get pod running -n shop -o jsonpath='{.metadata.deletionGracePeriodSeconds}' 2>&1)
    [ "$out" = "0" ] && break
    i=$((i + 1))
    [ $i -gt 100 ] && { fail "the kubelet did not delete the pod with grace 0: '$out'"; break; }
    sleep 0.1
done
out=$(K patch pod running -n shop --type merge -p '{"metadata":{"finalizers":null}}' 2>&1) ||
    fail "remove the finalizer: $out"
out=$(K get pod running -n shop 2>&1) && fail "the pod stayed without its finalizer: $out"
has "NotFound" "$out" "get after the finalizer went"

# a bad object is refused with the server's reason
out=$(printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{}}' |
    K create -f - 2>&1) && fail "create of a bad name succeeded: $out"
has 'The Pod "Bad_Name" is invalid: metadata.name: Invalid value' "$out" "create bad name"

# /healthz and /metrics on the same server
port=$(cat "$T/port")
out=$(K get --raw /healthz 2>&1)
[ "$out" = "ok" ] || fail "/healthz: '$out'"
out=$(K get --raw /metrics 2>&1)
has "hoist_sim_api_changes_total" "$out" "/metrics"

# the server stops on SIGTERM, exiting 0
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
SERVER=
[ "$rc" -eq 0 ] || fail "hoist sim serve exited $rc after SIGTERM: $(cat "$T/server.err")"
if command -v curl >/dev/null 2>&1 && curl -s -m 2 "http://127.0.0.1:$port/version" >/dev/null; then
    fail "the server still answers after SIGTERM"
fi

[ "$failures" -eq 0 ] || exit 1
echo "PASS: kubectl against hoist sim serve (port $port)"
