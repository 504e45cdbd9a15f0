#!/bin/sh
# tests/e2e/out_of_tree_plugin.sh - install hoist into a staging directory,
# build a plugin against the installed headers only (pkg-config, no -I into
# the source tree), and load it with the built hoist.
set -eu
B=${HOIST_BUILDDIR:?run from make check (HOIST_BUILDDIR unset)}
S=${HOIST_SRCDIR:?run from make check (HOIST_SRCDIR unset)}
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hoist-oot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# a nested make must not join the parent's jobserver
unset MAKEFLAGS MFLAGS MAKELEVEL || true
make -C "$B" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "make install DESTDIR=$tmp/root failed"; }

pc=$(find "$tmp/root" -name hoist-provider.pc | head -n 1)
[ -n "$pc" ] || fail "hoist-provider.pc was not installed"
for h in types.h host.h provider.h; do
    [ -n "$(find "$tmp/root" -path "*/include/hoist/$h")" ] || fail "include/hoist/$h was not installed"
done

PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
PKG_CONFIG_SYSROOT_DIR="$tmp/root"
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS
cflags=$(pkg-config --cflags hoist-provider) || fail "pkg-config --cflags hoist-provider failed"
case "$cflags" in *"$tmp/root"*) ;; *) fail "cflags '$cflags' do not point into the staged install" ;; esac
case "$cflags" in *"$S/include"*) fail "cflags '$cflags' point into the source tree" ;; esac

# copy the source away from the tree so no relative include can reach it
cp "$S/tests/e2e/out_of_tree_plugin.c" "$tmp/plugin.c"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Wextra -Werror -fPIC -shared $cflags -o "$tmp/oot.so" "$tmp/plugin.c" ||
    fail "the out-of-tree plugin does not compile against the installed headers"

out=$("$B/hoist" plugin info "$tmp/oot.so") || fail "hoist plugin info refused the plugin"
echo "$out"
echo "$out" | grep -q '^name: *oot-example$' || fail "name missing"
echo "$out" | grep -q '^version: *0.0.1$' || fail "version missing"
echo "$out" | grep -q '^capabilities: on-demand$' || fail "capabilities missing"
"$B/hoist" plugin info --check "$tmp/oot.so" >/dev/null || fail "the plugin did not start"
echo "PASS: out-of-tree plugin built against installed headers and loaded"
