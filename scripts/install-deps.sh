#!/bin/sh
# Installs kiln's build and test dependencies from Debian 12 packages. A no-op when everything is present.
# `--deb` adds what `dpkg-buildpackage` needs for the .deb (make check-deb / check-long), which make check does not.
set -eu

# libdebuginfod1: libdw loads it at run time to honour DEBUGINFOD_URLS (docs/symbols.md)
PACKAGES="build-essential pkg-config libdw-dev libelf-dev libdebuginfod1 zlib1g-dev libprotobuf-c-dev
protobuf-c-compiler libjansson-dev libcmocka-dev libmicrohttpd-dev libsqlite3-dev clang libclang-rt-14-dev llvm
libxml2-utils chromium linux-perf
hyperfine libbenchmark-dev golang-go libbpf-dev bpftool
libpq-dev postgresql-15 libcurl4-openssl-dev
nodejs libgoogle-perftools4 heaptrack python3 python3.11 openjdk-17-jdk-headless bc time strace"

[ "${1:-}" = "--deb" ] && PACKAGES="$PACKAGES debhelper dpkg-dev fakeroot man-db"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "kiln: installing missing packages:$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The real Pyroscope Node.js client for the kiln serve tests (npm; prebuilt, offline after this).
"$(dirname "$0")/install-node-client.sh" || echo "kiln: could not install @pyroscope/nodejs; its tests will skip" >&2
