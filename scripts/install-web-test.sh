#!/bin/sh
# Installs playwright-core (tests/web/package.json; no dependencies, no browser download: the tests drive
# Debian's /usr/bin/chromium) into build/npm-web for the web UI tests. Needs the npm registry once, offline after.
# A no-op when it is installed; exits non-zero (the tests then skip) when npm or the registry is missing.
set -eu
cd "$(dirname "$0")/.."
dest=build/npm-web
[ -f "$dest/node_modules/playwright-core/package.json" ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "kiln: npm is not installed" >&2; exit 1; }
mkdir -p "$dest"
cp tests/web/package.json "$dest/package.json"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dest" --no-audit --no-fund --loglevel=error >&2
