#!/bin/bash
# kiln serve's web UI, accessibility (issue 19): axe-core from npm (tests/web/package.json) checks every page
# and view in both themes in Debian's Chromium (tests/web/ui-a11y.js): WCAG 2 A/AA rules, among them labels on
# inputs, names on controls and text contrast of 4.5:1 or more; tabbing reaches every visible control; the
# token form opens from the keyboard. Screenshots of each page and theme are left in the test's temp dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/web_lib.sh"

web_ready "web UI accessibility" || exit 0
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
NOW=$(date +%s)
web_shop "$U" "$NOW" prod dev
web_run "" 300 ui-a11y.js "$U" "$T_TMP" "$NOW"
serve_stop "$S_PID"
