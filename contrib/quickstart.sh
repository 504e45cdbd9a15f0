#!/bin/sh
# contrib/quickstart.sh - the README's two quick-start commands.
#
#   contrib/quickstart.sh        install what is missing, build, run hoist's
#                                main job on the bundled example cluster
#   contrib/quickstart.sh test   install what is missing, then build and run
#                                the whole test suite: the normal build, the
#                                AddressSanitizer+UBSan build, and distcheck.
#                                Ends with the line "N passed, N failed".
#
# Builds out of tree in build/ and build-asan/ beside this script's checkout.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-demo}
jobs=$(nproc 2>/dev/null || echo 2)

"$top/contrib/setup.sh"

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null
fi

# configure_build DIR [configure args...]: configure DIR once.
configure_build() {
    dir=$1
    shift
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ]; then
        # configure's cleanup trips over the core/ folder ("cannot remove 'core'"): hide that noise
        (cd "$dir" && "$top/configure" -q "$@" 2>&1 | grep -v "cannot remove 'core'" >&2) || true
        [ -f "$dir/Makefile" ] || { echo "quickstart: configure failed in $dir" >&2; exit 1; }
    fi
}

case "$mode" in
demo)
    configure_build "$top/build"
    make -C "$top/build" -j"$jobs" -s
    echo
    echo "== hoist simulate: 24 hours of a diurnal web service, hoist next to Cluster"
    echo "   Autoscaler and Clusterman on the same trace (virtual time) =="
    "$top/build/hoist" simulate --trace "$top/contrib/traces/web-diurnal.jsonl" \
        -f "$top/contrib/traces/nodepools.yaml" \
        --compare cluster-autoscaler,clusterman \
        --report "$top/build/report.json" --html "$top/build/report.html"
    echo
    echo "(the report: build/report.html, plots readable offline; build/report.json."
    echo " One decision on a snapshot: build/hoist plan -f contrib/examples/nodepool.yaml"
    echo " -f contrib/examples/pods.yaml -o text)"
    ;;
test)
    exec "$top/tests/run-all.sh"
    ;;
*)
    echo "usage: $0 [demo|test]" >&2
    exit 2
    ;;
esac
