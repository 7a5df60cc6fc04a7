# Shared helpers for the end-to-end CLI tests. Each test script sources this file and reports one line per
# assertion: "ok - DESC", "not ok - DESC" (with details after), or "skip - DESC: REASON".
#
#   t_exact NAME [--stdin FILE] -- CMD...   run CMD; its stdout must equal tNNNN-*.d/NAME.stdout.exact and its
#                                           exit status tNNNN-*.d/NAME.exit (0 when that file is absent)
#   t_ok DESC CMD...                        CMD must succeed
#   t_fails DESC STATUS CMD...              CMD must exit with STATUS and print one line on stderr
#   t_same DESC FILE_A FILE_B               files must be byte-identical
#   t_pass DESC / t_fail DESC [DETAIL] / t_skip DESC REASON
#
# Run a test script with --update to (re)write the expected files of t_exact.
set -u
: "${KILN:?KILN must point at the kiln binary}"
T_NAME=$(basename "$0" .sh)
T_DIR=$(cd "$(dirname "$0")" && pwd)/$T_NAME.d
T_TMP=${T_TMP:-$(mktemp -d)}
T_UPDATE=0
[ "${1:-}" = "--update" ] && T_UPDATE=1
T_FAILED=0
SHARED=${KILN_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}

t_pass() { echo "ok - $1"; }
t_fail() { echo "not ok - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -40 | sed 's/^/#   /'; T_FAILED=1; }
t_skip() { echo "skip - $1: $2"; }

t_ok() {
	local desc=$1; shift
	local errf="$T_TMP/ok.err"
	if "$@" >"$T_TMP/ok.out" 2>"$errf"; then t_pass "$desc"; else t_fail "$desc" "exit $?: $(head -5 "$errf")"; fi
}

t_fails() {
	local desc=$1 want=$2; shift 2
	"$@" >"$T_TMP/fails.out" 2>"$T_TMP/fails.err"
	local got=$?
	local lines; lines=$(wc -l <"$T_TMP/fails.err")
	if [ "$got" -ne "$want" ]; then
		t_fail "$desc" "expected exit $want, got $got: $(head -3 "$T_TMP/fails.err")"
	elif [ "$lines" -ne 1 ]; then
		t_fail "$desc" "expected one line on stderr, got $lines: $(head -5 "$T_TMP/fails.err")"
	else
		t_pass "$desc"
	fi
}

t_same() {
	if cmp -s "$2" "$3"; then t_pass "$1"; else t_fail "$1" "$(diff "$2" "$3" | head -20)"; fi
}

t_exact() {
	local name=$1; shift
	local stdin=/dev/null
	if [ "${1:-}" = "--stdin" ]; then stdin=$2; shift 2; fi
	[ "${1:-}" = "--" ] && shift
	local out="$T_TMP/$name.stdout" status
	"$@" <"$stdin" >"$out" 2>"$T_TMP/$name.stderr"
	status=$?
	if [ $T_UPDATE = 1 ]; then
		mkdir -p "$T_DIR"
		cp "$out" "$T_DIR/$name.stdout.exact"
		if [ $status -ne 0 ]; then echo $status >"$T_DIR/$name.exit"; else rm -f "$T_DIR/$name.exit"; fi
		echo "ok - $name (updated)"
		return
	fi
	local want_status=0
	[ -f "$T_DIR/$name.exit" ] && want_status=$(cat "$T_DIR/$name.exit")
	if [ $status -ne "$want_status" ]; then
		t_fail "$name" "exit $status, expected $want_status: $(head -3 "$T_TMP/$name.stderr")"
	elif ! cmp -s "$out" "$T_DIR/$name.stdout.exact"; then
		t_fail "$name" "$(diff "$T_DIR/$name.stdout.exact" "$out" | head -20)"
	else
		t_pass "$name"
	fi
}

t_done() { return 0; }

# json_check DESC FILE EXPR: passes when the Python expression EXPR holds for the JSON document FILE (as `d`);
# skipped without python3.
json_check() {
	local desc=$1 file=$2 expr=$3 out
	if ! command -v python3 >/dev/null 2>&1; then
		t_skip "$desc" "python3 is not installed"
		return
	fi
	if out=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" \
		"$file" 2>&1); then
		t_pass "$desc"
	else
		t_fail "$desc" "$out $(head -c 600 "$file")"
	fi
}
