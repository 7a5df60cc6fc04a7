#!/bin/sh
# Installs the real Pyroscope Node.js client (tests/node/package.json) into build/npm for the kiln serve tests.
# Its native part (@datadog/pprof) ships prebuilt, so this needs the npm registry once and works offline after.
# A no-op when it is installed; exits non-zero (the tests then skip) when npm or the registry is missing.
set -eu
cd "$(dirname "$0")/.."
dest=build/npm
[ -f "$dest/node_modules/@pyroscope/nodejs/package.json" ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "kiln: npm is not installed" >&2; exit 1; }
mkdir -p "$dest"
cp tests/node/package.json "$dest/package.json"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error >&2
