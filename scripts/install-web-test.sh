#!/bin/sh
# Installs playwright-core and axe-core (tests/web/package.json; neither has dependencies, no browser download:
# the tests drive Debian's /usr/bin/chromium and evaluate axe's script from the local file) into build/npm-web
# for the web UI tests. Needs the npm registry once, offline after. A no-op when both are installed at the
# versions package.json names; exits non-zero (the tests then skip) when npm or the registry is missing.
set -eu
cd "$(dirname "$0")/.."
dest=build/npm-web
installed() {
	node -e 'const want = require(process.argv[1]).dependencies;
		for (const [n, v] of Object.entries(want)) if (require(process.argv[2] + "/" + n + "/package.json").version !== v) process.exit(1);' \
		"$PWD/tests/web/package.json" "$PWD/$dest/node_modules" 2>/dev/null
}
installed && exit 0
command -v npm >/dev/null 2>&1 || { echo "kiln: npm is not installed" >&2; exit 1; }
mkdir -p "$dest"
cp tests/web/package.json "$dest/package.json"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dest" --no-audit --no-fund --loglevel=error >&2
