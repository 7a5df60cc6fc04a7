#!/bin/sh
# Installs kiln's build and test dependencies from Debian 12 packages. A no-op when everything is present.
set -eu

PACKAGES="build-essential pkg-config libdw-dev libelf-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler
libjansson-dev libcmocka-dev clang libclang-rt-14-dev llvm libxml2-utils chromium linux-perf
hyperfine libbenchmark-dev golang-go libbpf-dev bpftool libcurl4-openssl-dev
nodejs libgoogle-perftools4 heaptrack python3 python3.11 openjdk-17-jdk-headless bc time strace"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "kiln: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
