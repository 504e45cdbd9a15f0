#!/bin/sh
# contrib/setup.sh - install the Debian packages hoist needs to build and test.
#
# Idempotent: installs only what is missing. Works as root, or as a user with
# sudo. Debian 12 (bookworm) and later; Ubuntu 22.04 and later.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
libuv1-dev libcurl4-openssl-dev libjansson-dev liblua5.4-dev libyaml-dev
libmicrohttpd-dev libcmocka-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "setup: all build dependencies are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "setup: missing packages:$missing" >&2
    echo "setup: run as root or install sudo" >&2
    exit 1
fi

echo "setup: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
