# Shared by the perf-script benchmarks (bench/collapse.sh, bench/analyze.sh); source it from bench/.
# perf_script_bench_setup NAME MB: builds $BUILD/kiln, makes a work directory, and the input: real captures (the
# shared stackcollapse-perf fixtures when present, else tests/fixtures/perf-script/) concatenated to MB megabytes,
# each copy with its PIDs renumbered and every sample relabelled to one event (kiln, like stackcollapse-perf.pl,
# keeps only the first event). Sets KILN, work, input, size (bytes) and mb. Needs BUILD; honours KILN_SHARED, KEEP=1.
perf_script_bench_setup() {
	local name=$1 want_mb=$2 shared src tag one copies
	shared=${KILN_SHARED:-$(cd .. && pwd)/shared}
	command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
	make --no-print-directory -s BUILD="$BUILD" "$BUILD/kiln" >&2
	KILN=$BUILD/kiln
	work=$(mktemp -d "/tmp/kiln-bench-$name.XXXXXX")
	[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
	if [ -d "$shared/fixtures/stackcollapse-perf/input" ]; then
		src=("$shared"/fixtures/stackcollapse-perf/input/*.txt)
		tag=shared
	else
		src=(tests/fixtures/perf-script/*.txt)
		tag=local
	fi
	input=/tmp/kiln-bench-collapse-${want_mb}M-$tag.txt
	if [ ! -s "$input" ]; then
		echo "generating $input from ${#src[@]} captures ..." >&2
		# One event for all: rename the event at the end of every header line.
		cat "${src[@]}" | sed -E 's/ [A-Za-z0-9_:-]+:[[:space:]]*$/ cpu-clock: /' >"$work/one.txt"
		one=$(stat -c %s "$work/one.txt")
		copies=$(((want_mb * 1000 * 1000 + one - 1) / one))
		for i in $(seq 1 "$copies"); do
			# Renumber the PID (or PID/TID) after the command name, so copies are distinct processes.
			awk -v off=$((i * 100000)) '
				/^[^ \t#]/ && match($0, /[ \t][0-9]+(\/[0-9]+)?[ \t]/) {
					pre = substr($0, 1, RSTART); num = substr($0, RSTART + 1, RLENGTH - 2)
					n = split(num, part, "/"); out = part[1] + off; if (n == 2) out = out "/" (part[2] + off)
					$0 = pre out substr($0, RSTART + RLENGTH - 1)
				}
				{ print }' "$work/one.txt"
		done >"$input.tmp"
		mv "$input.tmp" "$input"
	fi
	size=$(stat -c %s "$input")
	mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
}

# Runs a command under /usr/bin/time; prints "WALL_SECONDS CPU_SECONDS RSS_KB" (CPU = user + system: on a busy
# machine the wall time also counts waiting for a core). Its stdout is in $work/out.
measure() {
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
		{ tail -3 "$work/err" >&2; return 1; }
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$work/time"
}

# bench_serve_start KILN DIR: starts `kiln serve` on a free loopback port with its storage under DIR (removed
# with it at exit, when the caller's EXIT trap runs bench_serve_stop) and sets URL; exits when it cannot start.
bench_serve_start() {
	"$1" serve --listen 127.0.0.1:0 --storage "$2/store" 2>"$2/serve.log" &
	BENCH_SERVE_PID=$!
	for _ in $(seq 100); do grep -q 'serving on' "$2/serve.log" && break; sleep 0.1; done
	URL=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$2/serve.log")
	[ -n "$URL" ] || { echo "kiln serve did not start: $(cat "$2/serve.log")"; exit 1; }
}
bench_serve_stop() {
	kill "$BENCH_SERVE_PID" 2>/dev/null
	wait "$BENCH_SERVE_PID" 2>/dev/null
}
