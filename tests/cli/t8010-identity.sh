#!/bin/bash
# Frame identity (docs/runtimes.md): functions of one name in different files, classes or lines stay different
# functions, each with its own share (within 3 points of what the program measures itself), in Python 3.11,
# Node.js and Java recordings, through pprof, and in .cpuprofile input.
. "$(dirname "$0")/lib.sh"

D=$T_DIR
cd "$T_TMP" || exit 1

# Samples of the folded stacks that hold a frame named exactly like the awk regex $2 (counted once a stack).
samples_of() {
	awk -v re="^($2)\$" '{ line = $0; sub(/ [0-9]+$/, "", line); n = split(line, a, ";")
		for (i = 1; i <= n; i++) if (a[i] ~ re) { s += $NF; break } } END { printf "%.0f\n", s }' "$1"
}

# check_shares DESC FOLDED OUT REGEX=NAME...: the share of each frame among the listed ones must be within 3
# points of the share the program measured for NAME (its "NAME SHARE" lines in OUT).
check_shares() {
	local desc=$1 folded=$2 out=$3
	shift 3
	local counts=() total=0 pair c want got bad= detail=
	for pair in "$@"; do
		c=$(samples_of "$folded" "${pair%=*}")
		counts+=("$c")
		total=$((total + c))
	done
	if [ "$total" -lt 100 ]; then
		t_fail "$desc" "too few samples ($total): $(head -5 "$out")"
		return
	fi
	local k=0
	for pair in "$@"; do
		want=$(awk -v n="${pair#*=}" '$1 == n { print $2 }' "$out")
		got=$(awk -v c="${counts[$k]}" -v t="$total" 'BEGIN { printf "%.1f", 100 * c / t }')
		detail="$detail ${pair#*=} kiln $got% script ${want:-?}%;"
		if [ -z "$want" ] || ! awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(d <= 3 && d >= -3) }'; then
			bad=1
		fi
		k=$((k + 1))
	done
	if [ -z "$bad" ]; then
		t_pass "$desc ($detail)"
	else
		t_fail "$desc" "$detail"$'\n'"$(awk '{ print $NF, $0 }' "$folded" | sort -rn | head -5 | cut -c1-300)"
	fi
}

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "frame identity" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

# --- .cpuprofile input: no recording needed ---------------------------------------------------------------
# Two functions named `work` in two scripts, two anonymous functions at two lines of one script.
cat >in.cpuprofile <<'EOF'
{"nodes":[
 {"id":1,"callFrame":{"functionName":"(root)","url":"","lineNumber":-1},"children":[2]},
 {"id":2,"callFrame":{"functionName":"","url":"file:///app/main.js","lineNumber":0},"children":[3,4,5,6]},
 {"id":3,"callFrame":{"functionName":"work","url":"file:///app/a.js","lineNumber":3},"hitCount":5},
 {"id":4,"callFrame":{"functionName":"work","url":"file:///app/b.js","lineNumber":3},"hitCount":3},
 {"id":5,"callFrame":{"functionName":"","url":"file:///app/main.js","lineNumber":6},"hitCount":2},
 {"id":6,"callFrame":{"functionName":"","url":"file:///app/main.js","lineNumber":11},"hitCount":1}]}
EOF
"$KILN" convert in.cpuprofile -o cpu.folded 2>cpu.err
printf '%s\n' '(anonymous) (main.js:1);(anonymous) (main.js:12) 1' '(anonymous) (main.js:1);(anonymous) (main.js:7) 2' \
	'(anonymous) (main.js:1);work (a.js:4) 5' '(anonymous) (main.js:1);work (b.js:4) 3' >cpu.want
t_same "cpuprofile: same-named and anonymous functions stay apart" cpu.want cpu.folded
"$KILN" convert in.cpuprofile -o cpu.pb.gz 2>/dev/null && "$KILN" convert cpu.pb.gz -o cpu2.folded 2>/dev/null
t_same "cpuprofile through pprof: the same functions" cpu.want cpu2.folded

# --- Python 3.11 ------------------------------------------------------------------------------------------
PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3.11)
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	t_skip "python: frame identity" "no python3.11 (apt-get install python3.11)"
else
	"$KILN" profile -o py.pb.gz "$PY" "$D/py/main.py" 3 0.5 0.3 0.2 >py.out 2>py.err
	st=$?
	"$KILN" convert py.pb.gz -o py.folded 2>/dev/null
	[ $st -eq 0 ] && t_pass "python: exit status 0" || t_fail "python: exit status 0" "$st: $(head -3 py.err)"
	# modA.py and pkg/modA.py have a `work` on line 4 both: their base names would make one name of two.
	check_shares "python: three functions named work, each its own share" py.folded py.out \
		'work \(/.*/py/modA\.py:4\)=modA.py' 'work \(modB\.py:1\)=modB.py' \
		'work \(/.*/py/pkg/modA\.py:4\)=pkg/modA.py'
	# Every stack running a `work` starts at the script's own <module>, named with its file and first line.
	all=$(samples_of py.folded 'work \(.*')
	main=$(awk '{ line = $0; sub(/ [0-9]+$/, "", line); if (line ~ /(^|;)<module> \(main\.py:1\);work \(/) s += $NF }
		END { printf "%.0f\n", s }' py.folded)
	if [ "$all" -gt 0 ] && [ "$main" -eq "$all" ]; then
		t_pass "python: the script's <module> is named with its own file and first line ($main of $all samples)"
	else
		t_fail "python: the script's <module> is named with its own file and first line" \
			"$main of $all; $(grep -o '<module> ([^)]*)' py.folded | sort | uniq -c | sort -rn | head -5)"
	fi
	# The summary's tables name a placed function once: "work (modB.py:1)", not with its path again after it.
	if grep -q '%  work (modB\.py:1)$' py.err && ! grep -Eq '\.py:[0-9]+\) \(/[^)]*\.py:[0-9]+\)' py.err; then
		t_pass "python: the summary says a function's file:line once"
	else
		t_fail "python: the summary says a function's file:line once" "$(grep -m3 'work (' py.err)"
	fi
	"$KILN" convert py.pb.gz -o py.json 2>/dev/null
	if grep -Eq '"name": *"<module>", *"file": *"/[^"]*/py/main\.py", *"line": *1\b' py.json; then
		t_pass "python: <module> carries the script's path"
	else
		t_fail "python: <module> carries the script's path" "$(grep -o '"name": *"<module>"[^}]*' py.json | head -5)"
	fi
	# kiln analyze keeps them apart too: three `work` functions with their own inclusive shares (within 3 points
	# of the script's measure, over the three), and the script's <module> above them all, with its own file.
	"$KILN" analyze py.pb.gz --json --top 1000 >py-analyze.json 2>/dev/null
	json_check "python: analyze has three functions named work, each with its own share" py-analyze.json "(lambda w, want:
len(w) == 3 and all(abs(100.0 * w[k] / sum(w.values()) - want[k]) <= 3 for k in want))(
{f['file'].split('/py/')[-1]: f['total'] for f in d['inclusive'] if f['function'].startswith('work (')},
{l.split()[0]: float(l.split()[1]) for l in open('py.out') if l.strip()})"
	json_check "python: analyze names the script's <module> with its own file" py-analyze.json "
[f['file'].split('/py/')[-1] for f in d['inclusive'] if f['function'].startswith('<module> (')][:1] == ['main.py']"
fi

# --- Node.js ----------------------------------------------------------------------------------------------
if ! command -v node >/dev/null; then
	t_skip "node: frame identity" "no node (apt-get install nodejs)"
else
	"$KILN" profile -o node.folded node "$D/js/main.js" 3 0.4 0.3 0.2 0.1 >node.out 2>node.err
	st=$?
	[ $st -eq 0 ] && t_pass "node: exit status 0" || t_fail "node: exit status 0" "$st: $(head -3 node.err)"
	check_shares "node: work of a.js and b.js and two anonymous functions, each its own share" node.folded node.out \
		'work \(a\.js:2\)=a.js' 'work \(b\.js:4\)=b.js' '\(anonymous\) \(main\.js:7\)=main.js:7' \
		'\(anonymous\) \(main\.js:12\)=main.js:12'
	# The module's own code is a function of line 1, not one of the anonymous functions it calls.
	all=$(samples_of node.folded 'work \([ab]\.js:[0-9]+\)|\(anonymous\) \(main\.js:(7|12)\)')
	top=$(awk '{ line = $0; sub(/ [0-9]+$/, "", line); n = split(line, a, ";"); for (i = 1; i < n; i++)
		if (a[i] == "(anonymous) (main.js:1)" && a[i + 1] ~ /^(work \([ab]\.js|\(anonymous\) \(main\.js:(7|12)\))/) {
		s += $NF; break } } END { printf "%.0f\n", s }' node.folded)
	if [ "$all" -gt 0 ] && [ $((top * 100)) -ge $((all * 95)) ]; then
		t_pass "node: module code (main.js:1) calls the four ($top of $all samples)"
	else
		t_fail "node: module code (main.js:1) calls the four" "$top of $all"
	fi
fi

# --- Java 17 ----------------------------------------------------------------------------------------------
JAVAC=$(command -v javac)
if [ -z "$JAVAC" ] || ! command -v java >/dev/null; then
	t_skip "java: frame identity" "no JDK (apt-get install openjdk-17-jdk-headless)"
else
	mkdir -p jclasses && "$JAVAC" -d jclasses "$D"/java/*.java 2>javac.err
	# Methods the JIT inlines have no perf map entry of their own (docs/runtimes.md): keep them out of line.
	"$KILN" profile -o java.folded java -XX:CompileCommand=quiet '-XX:CompileCommand=dontinline,*::work' \
		-cp jclasses Identity 3 0.5 0.3 0.2 >java.out 2>java.err
	st=$?
	[ $st -eq 0 ] && t_pass "java: exit status 0" || t_fail "java: exit status 0" "$st: $(head -3 java.err)"
	check_shares "java: Alpha.work, Beta.work and its overload, each its own share" java.folded java.out \
		'Alpha\.work\(int\)=Alpha.work(int)' 'Beta\.work\(int\)=Beta.work(int)' \
		'Beta\.work\(long\)=Beta.work(long)'
fi
t_done
