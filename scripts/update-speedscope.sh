#!/bin/sh
# Puts speedscope's built release (the npm package's dist/release: a static page that works offline) with its
# licenses into web/vendor/speedscope/, which kiln embeds and serves under /speedscope/ ("Open in speedscope"
# in the web UI loads the server's own speedscope export into it). Run by hand to change the version; the files
# are committed, so building and testing need no network.
# usage: scripts/update-speedscope.sh [VERSION]
set -eu
cd "$(dirname "$0")/.."
version=${1:-1.25.0}
command -v npm >/dev/null 2>&1 || { echo "kiln: npm is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "speedscope@$version" >/dev/null && tar xzf "speedscope-$version.tgz")
rm -rf web/vendor/speedscope
mkdir -p web/vendor/speedscope
cp "$tmp"/package/dist/release/* web/vendor/speedscope/
cp "$tmp/package/LICENSE" web/vendor/speedscope/LICENSE.txt
echo "speedscope $version from npm (dist/release of the package, unchanged), MIT: LICENSE.txt;" \
	"its font: source-code-pro.LICENSE.md" >web/vendor/speedscope/README.kiln.txt
