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

# kiln pgo go needs go build -pgo (Go 1.21+); Debian 12's golang-go is 1.19, and bookworm-backports has 1.22
# (installed under /usr/lib/go-1.22/bin, where t9520 and bench/pgo.sh look). The backports source is added only
# where it is missing, and backports stay at their default low priority: only this package comes from there.
go_pkg=golang-1.22-go
if ! dpkg-query -W -f='${Status}' "$go_pkg" 2>/dev/null | grep -q "install ok installed" &&
	grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	if ! grep -rqsE --include='*.list' --include='*.sources' '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		echo "kiln: adding bookworm-backports for $go_pkg" >&2
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
			/usr/share/keyrings/debian-archive-keyring.gpg | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
	fi
	echo "kiln: installing $go_pkg from bookworm-backports" >&2
	# Neither a failed update nor a failed install stops the rest: the Go PGO tests then say skipped.
	{ $SUDO apt-get update -qq &&
		$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "$go_pkg" >/dev/null; } ||
		echo "kiln: could not install $go_pkg; the kiln pgo go tests will skip" >&2
fi

# The real Pyroscope Node.js client for the kiln serve tests (npm; prebuilt, offline after this).
"$(dirname "$0")/install-node-client.sh" || echo "kiln: could not install @pyroscope/nodejs; its tests will skip" >&2
