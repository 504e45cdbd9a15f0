#!/bin/sh
# tests/e2e/plugin_info.sh - `hoist plugin info` on good and broken plugins
# (tests/plugins) and on the mock provider by name.
set -u
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
HOIST="$B/hoist"
P="$B/tests/plugins/.libs"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_ok ARGS... : exit 0; stdout kept in $out
expect_ok() {
    out=$("$HOIST" plugin info "$@" 2>&1) || fail "hoist plugin info $* exited $?: $out"
}
# expect_fail STATUS MESSAGE ARGS... : that exit status and MESSAGE on stderr
expect_fail() {
    want_rc=$1 want=$2
    shift 2
    err=$("$HOIST" plugin info "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq "$want_rc" ] || fail "hoist plugin info $*: exit $rc, wanted $want_rc"
    case "$err" in *"$want"*) ;; *) fail "hoist plugin info $*: message '$err' lacks '$want'" ;; esac
}
has() { case "$out" in *"$1"*) ;; *) fail "output lacks '$1': $out" ;; esac; }

expect_ok "$P/good.so"
has "name:         testplugin"
has "version:      9.8.7"
has "abi:          1.0 (this hoist: 1.0)"
has "struct size:  "
has "capabilities: on-demand, spot, control"

expect_ok -o json "$P/good.so"
has '"name": "testplugin"'
has '"abiVersion": "1.0"'
has '"capabilities": ['
has '"control"'

expect_ok --check "$P/good.so"
has "check:        init and destroy succeeded"

expect_fail 1 "no such file" "$B/no/such/plugin.so"
expect_fail 1 "missing symbol hoist_provider_entry" "$P/no_symbol.so"
expect_fail 1 "returned NULL" "$P/null_entry.so"
expect_fail 1 "built for provider ABI 2.3, but this hoist supports ABI 1.0" "$P/bad_major.so"
expect_fail 1 "descriptor size 16 is smaller" "$P/small_size.so"
expect_fail 1 "missing required operation 'launch'" "$P/missing_op.so"
expect_fail 1 "init failed (unauthorized): test plugin: credentials rejected" --check "$P/init_fail.so"
expect_fail 1 "init failed (invalid)" --config '{"fail": true}' "$P/good.so"
notso="${TMPDIR:-/tmp}/hoist-notso.$$.so"
echo "plain text" >"$notso"
expect_fail 1 "cannot load shared object" "$notso"
rm -f "$notso"
expect_fail 1 "nosuchplugin.so not found in" nosuchplugin
expect_fail 2 "unknown output format 'yaml'" -o yaml "$P/good.so"
expect_fail 2 "which plugin?"

# a bare name: the uninstalled build tree (where libtool leaves .libs/mock.so)
# is searched when hoist runs from it, and $HOIST_PLUGIN_PATH before that
out=$("$HOIST" plugin info mock 2>&1) || fail "hoist plugin info mock: $out"
has "name:         mock"
out=$(HOIST_PLUGIN_PATH="/nonexistent:$B/tests/plugins" "$HOIST" plugin info good 2>&1) ||
    fail "hoist plugin info good: $out"
has "name:         testplugin"
has "$B/tests/plugins/.libs/good.so"

[ "$failures" -eq 0 ] || exit 1
echo "PASS: hoist plugin info"
