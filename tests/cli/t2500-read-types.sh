#!/bin/bash
# One way to read a profile: every reading command (analyze, flamegraph, collapse, convert, diff) accepts the same
# --type names (src/formats/format.c's table), reads a file named by its type exactly as it reads it detected from
# its content, refuses an unknown name with the same one line, and "perf" means perf script text or perf.data.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
cd "$T_TMP" || exit 1

# What each command prints for FILE read with TYPE ("" = detected): folded text, an SVG, JSON reports (analyze's
# without its "formats" member, which names the reader: "pprof" reads plain pprof too, as "pprof-raw" does).
run() { # CMD TYPE FILE OUT
	local cmd=$1 type=$2 file=$3 out=$4 t=()
	[ -n "$type" ] && t=(--type "$type")
	case $cmd in
	analyze) "$KILN" analyze "${t[@]}" "$file" --json >"$out.json" && sed '/"formats": \[/,/\]/d' "$out.json" ;;
	flamegraph) "$KILN" flamegraph "${t[@]}" "$file" ;;
	collapse) "$KILN" collapse "${t[@]}" "$file" ;;
	convert) "$KILN" convert "${t[@]}" "$file" -o - --to folded ;;
	diff) "$KILN" diff "${t[@]}" "$file" "$file" --json ;;
	esac >"$out" 2>"$out.err"
}

# Each --type name on a file of its kind: the same output as detection gives (collapse reads perf script text
# when nothing is named, so its reference for the other kinds is --type of the format's own name).
cp "$FIX/analyze/mix.perf.txt" perf.txt
"$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o go.pb --to pprof-raw
"$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o go.folded
cases="perf:perf.txt:perf-script perf-script:perf.txt:perf-script pprof:$FIX/pprof/go-cpu.pb.gz:pprof
pprof:go.pb:pprof-raw pprof-raw:go.pb:pprof-raw folded:go.folded:folded collapsed:go.folded:folded
py-spy:go.folded:folded pyspy:go.folded:folded node:$FIX/cpuprofile/node-burn.cpuprofile:cpuprofile
cpuprofile:$FIX/cpuprofile/node-burn.cpuprofile:cpuprofile speedscope:$FIX/speedscope/evented.json:speedscope"
for cmd in analyze flamegraph collapse convert diff; do
	bad=
	n=0
	for c in $cases; do
		type=${c%%:*} rest=${c#*:}
		file=${rest%%:*} own=${rest#*:}
		ref=""
		[ "$cmd" = collapse ] && ref=$own
		run "$cmd" "$ref" "$file" ref.out || { bad="$bad $type(reference failed: $(head -1 ref.out.err))"; continue; }
		run "$cmd" "$type" "$file" got.out || { bad="$bad $type(exit $?: $(head -1 got.out.err))"; continue; }
		cmp -s ref.out got.out || bad="$bad $type(differs)"
		[ -s got.out ] || bad="$bad $type(empty)"
		n=$((n + 1))
	done
	[ -z "$bad" ] && [ "$n" -eq 12 ] && t_pass "kiln $cmd: every --type name reads its files as detection does ($n)" ||
		t_fail "kiln $cmd: every --type name reads its files as detection does" "$n read;$bad"
done

# An unknown name: exit 2, one line, the same message naming the known names, from every command.
for cmd in analyze flamegraph collapse convert diff; do
	case $cmd in
	diff) args=(perf.txt perf.txt) ;;
	convert) args=(perf.txt -o x.folded) ;;
	*) args=(perf.txt) ;;
	esac
	t_fails "kiln $cmd --type nope" 2 "$KILN" "$cmd" --type nope "${args[@]}"
	grep -q "unknown profile type 'nope' (known: perf, perf-data, pprof, .*folded" "$T_TMP/fails.err" &&
		t_pass "kiln $cmd --type nope lists the names" || t_fail "kiln $cmd --type nope lists the names" \
		"$(cat "$T_TMP/fails.err")"
done

# A named type that does not fit the content is that reader's refusal (exit 2, one line), not a guess.
t_fails "kiln flamegraph --type pprof on folded stacks" 2 "$KILN" flamegraph --type pprof go.folded
t_fails "kiln collapse --type perf on a pprof file" 2 "$KILN" collapse --type perf "$FIX/pprof/go-cpu.pb.gz"
t_fails "kiln analyze --type perf-data on perf script text" 2 "$KILN" analyze --type perf-data perf.txt

# "perf" on a perf.data file: every command reads it, and they agree on its samples.
if command -v perf >/dev/null && command -v cc >/dev/null; then
	cat >pd.c <<'CEOF'
static volatile double sink;
__attribute__((noinline)) void pd_leaf(int n) { for (int i = 0; i < n; i++) sink += i * 0.5; }
__attribute__((noinline)) void pd_mid(int n) { pd_leaf(n); sink += 1; }
int main(void) { for (int i = 0; i < 300; i++) pd_mid(400000); return 0; }
CEOF
	if cc -O1 -g -fno-omit-frame-pointer -o pd pd.c && perf record -q -F 499 -g -o pd.data -- ./pd >/dev/null 2>&1
	then
		for cmd in analyze flamegraph collapse convert diff; do
			run "$cmd" perf pd.data pd-$cmd.out && grep -q pd_leaf pd-$cmd.out &&
				t_pass "kiln $cmd --type perf reads a perf.data file" ||
				t_fail "kiln $cmd --type perf reads a perf.data file" "$(head -3 pd-$cmd.out.err)"
		done
		run analyze "" pd.data pd-detected.out
		t_same "kiln analyze --type perf on perf.data is what detection reads" pd-detected.out pd-analyze.out
		folded_total=$(awk '{ s += $NF } END { print s }' pd-collapse.out)
		json_check "analyze and collapse count the same samples of perf.data ($folded_total)" pd-analyze.out.json \
			"d['total'] == $folded_total and d['formats'] == ['perf.data']"
		fg_total=$(sed -n 's/.*<title>all (\([0-9,]*\) samples.*/\1/p' pd-flamegraph.out | tr -d ,)
		[ "$fg_total" = "$folded_total" ] && t_pass "kiln flamegraph --type perf draws all of perf.data's samples" ||
			t_fail "kiln flamegraph --type perf draws all of perf.data's samples" "$fg_total != $folded_total"
	else
		t_skip "--type perf on perf.data" "perf record cannot run here"
	fi
else
	t_skip "--type perf on perf.data" "perf or cc is not installed"
fi
t_done
