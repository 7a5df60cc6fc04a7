#!/bin/bash
# kiln bench takes several commands like hyperfine: each argument is a command line run through `sh -c` with the
# shell's start-up subtracted (-N / --shell=none: split into words and executed directly), `--` starts one
# command with its arguments; the summary reads like hyperfine's; the progress line counts runs (only on a
# terminal); Ctrl-C reports and exports the runs done so far with exit status 130.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
t_pass_if() { if eval "$2"; then t_pass "$1"; else t_fail "$1" "$3"; fi; }

# Two commands whose true ratio is known: sleep 0.1 takes 5x sleep 0.02 (scheduling delays add a little to
# both, so the measured ratio is a bit below 5, never above it by more than noise).
# A loaded machine can delay a short sleep far beyond its length: up to three measurements are taken.
for attempt in 1 2 3; do
	"$KILN" bench --runs 6 --export-json two.json 'sleep 0.02' 'sleep 0.1' >two.out 2>two.err
	st=$?
	line=$(grep 'times faster than sleep 0.1$' two.out)
	python3 - "$line" two.json >ratio.err 2>&1 <<'PY'
import json, math, re, sys
m = re.fullmatch(r" *([0-9.]+) ± ([0-9.]+) times faster than sleep 0\.1", sys.argv[1])
assert m, sys.argv[1]
r = json.load(open(sys.argv[2]))["results"]
f, s = r[0], r[1]
ratio = s["mean"] / f["mean"]
sd = ratio * math.hypot(s["stddev"] / s["mean"], f["stddev"] / f["mean"])
# The printed numbers are the exported means' ratio and its propagated uncertainty (exit 3 otherwise).
if not (abs(float(m.group(1)) - ratio) < 0.006 and abs(float(m.group(2)) - sd) < 0.006):
    print(m.groups(), ratio, sd)
    sys.exit(3)
assert 3.5 < ratio < 5.2, ratio
PY
	rst=$?
	[ $rst -eq 0 ] || [ $rst -eq 3 ] && break
done
t_pass_if "two commands: exit 0" "[ $st -eq 0 ]" "exit $st: $(cat two.err)"
t_pass_if "summary names the fastest command as hyperfine does" "grep -qx '  sleep 0.02 ran' two.out" "$(cat two.out)"
json_check "both commands exported with their own runs" two.json \
	'[r["command"] for r in d["results"]] == ["sleep 0.02", "sleep 0.1"] and all(len(r["times"]) == 6 for r in d["results"])'
t_pass_if "the printed ratio and ± are those of the exported means" "[ $rst -ne 3 ]" "$line $(cat ratio.err)"
t_pass_if "the ratio is near the true 5x (attempt $attempt)" "[ $rst -eq 0 ]" "$line $(cat ratio.err)"

# The shell: sh by default, with its start-up subtracted; -N and --shell=none execute directly.
"$KILN" bench --runs 30 --export-json sh.json 'true && :' ':' >/dev/null 2>sh.err
json_check "commands run through sh by default, its start-up measured" sh.json \
	'd["kiln"]["shell"].endswith("/sh") and d["kiln"]["shell_spawn_time"] > 0'
# `sh -c :` costs what `sh -c ''` costs; uncorrected its median would be the shell's start-up time itself.
json_check "the shell's start-up is subtracted from the runs" sh.json \
	'sorted(d["results"][1]["times"])[15] < 0.5 * d["kiln"]["shell_spawn_time"] and min(d["results"][1]["times"]) >= 0'
"$KILN" bench --runs 2 -N --export-json n.json 'sleep 0.01' >/dev/null 2>&1
json_check "-N: no shell" n.json 'd["kiln"]["shell"] is None and d["results"][0]["times"][0] >= 0.01'
"$KILN" bench --runs 2 --shell=none --export-json none.json 'sleep 0.01' >/dev/null 2>&1
json_check "--shell=none: no shell" none.json 'd["kiln"]["shell"] is None'
if command -v bash >/dev/null; then
	"$KILN" bench --runs 2 --shell bash --export-json bash.json '[[ 1 == 1 ]]' >/dev/null 2>&1
	json_check "--shell NAME is looked up in PATH" bash.json 'd["kiln"]["shell"].endswith("/bash")'
fi
t_fails "-N executes directly: shell syntax is not a program" 2 "$KILN" bench --runs 1 -N 'exit 0'
t_fails "-N with --shell" 2 "$KILN" bench -N --shell bash true
t_fails "a shell that is not in PATH" 2 "$KILN" bench --shell no-such-shell true
t_fails "a command the shell cannot find" 2 "$KILN" bench --runs 1 ./no-such-program
grep -q "did not find" fails.err
t_pass_if "... says the shell did not find it" "[ $? -eq 0 ]" "$(cat fails.err)"

# `--`: one command and its arguments, executed directly.
printf '#!/bin/sh\necho "$#" >>"$0.log"\n' >old
cp old new
chmod +x old new
"$KILN" bench --runs 2 --export-json dd.json -- ./old ./new >/dev/null 2>dd.err
json_check "'--' takes one command with its arguments" dd.json \
	'[r["command"] for r in d["results"]] == ["./old ./new"] and d["kiln"]["shell"] is None'
t_pass_if "... run with its arguments" "[ \"\$(sort -u old.log)\" = 1 ] && [ ! -e new.log ]" "$(cat old.log)"
t_pass_if "... with a note when the arguments look like commands" \
	"grep -q \"to compare several commands give them without '--'\" dd.err" "$(cat dd.err)"
"$KILN" bench --runs 2 -- ./old --flag >/dev/null 2>dd2.err
t_pass_if "... and no note for ordinary arguments" "! grep -q \"without '--'\" dd2.err" "$(cat dd2.err)"
rm -f old.log
"$KILN" bench --runs 2 './old' './new' >dd3.out 2>/dev/null
t_pass_if "without '--' the two are two commands" "grep -q '^Benchmark 2: ./new' dd3.out && [ -s new.log ]" \
	"$(cat dd3.out)"

# The progress line: runs and time on a terminal, nothing otherwise.
if command -v script >/dev/null; then
	script -qfec "\"$KILN\" bench --runs 12 'sleep 0.1' >/dev/null" /dev/null >tty.out 2>&1
	t_pass_if "progress on a terminal counts runs and time" \
		"grep -aq 'Benchmarking: .*([0-9]* / 12 runs, [0-9.]* s' tty.out && ! grep -aq MB tty.out" \
		"$(cat -v tty.out | tail -c 400)"
else
	t_skip "progress on a terminal" "script(1) is not installed"
fi
t_pass_if "no progress line when stderr is a file" "! grep -q \$'\\r' two.err" "$(cat -v two.err)"

# Ctrl-C: the terminal sends SIGINT to the whole foreground group (kiln and the command it runs). Executed
# directly (-N), a run cut short would be shorter than its sleep: none is recorded.
set -m
"$KILN" bench -N --runs 1000 --export-json int.json --export-csv int.csv 'sleep 0.05' 'sleep 0.1' >int.out 2>int.err &
pid=$!
set +m
sleep 2.5
kill -INT -- -$pid
wait $pid
st=$?
t_pass_if "Ctrl-C: exit 130" "[ $st -eq 130 ]" "exit $st: $(cat int.err)"
t_pass_if "Ctrl-C: the runs so far are printed" "grep -q '^Benchmark 2: sleep 0.1' int.out && grep -q 'times faster' int.out" \
	"$(cat int.out)"
json_check "Ctrl-C: the runs so far are exported" int.json \
	'd["kiln"]["interrupted"] and 3 <= len(d["results"][0]["times"]) < 1000 and all(t >= 0.05 for t in d["results"][0]["times"])'
t_pass_if "Ctrl-C: the CSV too" "[ \$(wc -l <int.csv) -eq 3 ]" "$(cat int.csv)"
t_pass_if "Ctrl-C: one note on stderr" "grep -q 'interrupted: reporting the' int.err" "$(cat int.err)"
t_done
