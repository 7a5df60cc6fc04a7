#!/bin/bash
# Issue 18's acceptance run of the real @pyroscope/nodejs client against kiln serve: a flush every 2 s for 60 s,
# >= 29 of its 30 wall flushes stored and queryable by service and tag (t9030 is the short version in make check).
# Usage: bench/serve-nodejs.sh [SECONDS [FLUSH_MS]]
set -u
cd "$(dirname "$0")/.."
make -s -j2 all >/dev/null || exit 1
export KILN="$PWD/build/kiln" KILN_ROOT="$PWD" KILN_RELEASE="$PWD/build" LC_ALL=C
export KILN_NODE_SECONDS=${1:-60} KILN_NODE_FLUSH_MS=${2:-2000}
T_TMP=$(mktemp -d) bash tests/cli/t9030-serve-nodejs.sh
