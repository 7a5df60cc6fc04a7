#!/bin/bash
# kiln profile's one option table: options in any order before the command, in every mode; an option that does
# not apply to the mode is a usage error naming both; --diff records both commands with every option.
. "$(dirname "$0")/lib.sh"

if ! "$KILN" profile -q -o "$T_TMP/probe.folded" -- true 2>"$T_TMP/probe.err"; then
	t_skip "kiln profile options" "perf_event_open is not allowed here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
cd "$T_TMP" || exit 1
cc -O1 -g -fno-omit-frame-pointer -Wl,--build-id -o shares "$KILN_ROOT/tests/helpers/prof_shares.c" ||
	{ t_fail "build the test program"; exit 0; }

# --- --mode is an option like the others: before, between or after the others, never inside the command ------
"$KILN" profile --json - --mode=mem -q -o m1.pb.gz true >m1.json 2>m1.err
json_check "--mode after --json FILE: mem mode, the report on stdout" m1.json "d['type'] == 'heap'"
"$KILN" profile -q --mode mem -o m2.pb.gz --json m2.json true 2>m2.err
json_check "--mode first, then the output options" m2.json "d['type'] == 'heap'"
"$KILN" profile -q -o c.folded ./shares 0.2 --mode mem >c.out 2>c.err
st=$?
# The command's own arguments are its own: `--mode mem` after the command goes to it, and CPU is sampled.
if [ $st -eq 0 ] && grep -q work_a c.folded; then t_pass "options after the command belong to the command"
else t_fail "options after the command belong to the command" "status $st $(cat c.err)"; fi
t_fails "-F does not apply to --mode mem" 2 "$KILN" profile -F 99 --mode mem true
"$KILN" profile -F 99 --mode mem true 2>f.err
grep -q -- "-F does not apply to --mode mem\|--frequency does not apply to --mode mem" f.err &&
	t_pass "the message names the option and the mode" || t_fail "the message names the option and the mode" "$(cat f.err)"
t_fails "--no-files does not apply to --mode cpu (either order)" 2 "$KILN" profile --no-files --mode cpu true
t_fails "--sample-bytes does not apply to --mode offcpu" 2 "$KILN" profile --mode offcpu --sample-bytes 1K true
"$KILN" profile --help --mode mem >hm.out
grep -q 'sample-bytes' hm.out && ! grep -q 'call-graph' hm.out && t_pass "--help after --mode shows that mode's options" ||
	t_fail "--help after --mode shows that mode's options" "$(head -5 hm.out)"

# --- --diff forwards every option to both recordings ----------------------------------------------------------
# strace -v shows each perf_event_open's attributes and the target pid: both commands' events must carry them.
if command -v strace >/dev/null 2>&1; then
	strace -v -f -e trace=perf_event_open,mmap -o st.txt "$KILN" profile -q --diff -g dwarf --stack-size 4096 \
		--mmap-pages 16 -o d1.svg "./shares 0.2" "./shares 0.2" >/dev/null 2>d1.err
	opens=$(grep -c 'perf_event_open.*PERF_COUNT_SW_CPU_CLOCK' st.txt)
	stack=$(grep 'perf_event_open.*PERF_COUNT_SW_CPU_CLOCK' st.txt | grep -c 'sample_stack_user=0x1000')
	targets=$(grep 'perf_event_open.*sample_stack_user=0x1000' st.txt | sed 's/.*}, \([0-9]*\), .*/\1/' | sort -u | wc -l)
	if [ "$opens" -ge 2 ] && [ "$stack" -eq "$opens" ] && [ "$targets" -eq 2 ]; then
		t_pass "--diff --stack-size reaches both recordings"
	else
		t_fail "--diff --stack-size reaches both recordings" "opens $opens, with 4096 bytes $stack, targets $targets"
	fi
	rings=$(grep -c 'mmap(NULL, 69632, PROT_READ|PROT_WRITE, MAP_SHARED' st.txt)
	if [ "$opens" -ge 2 ] && [ "$rings" -eq "$opens" ]; then t_pass "--diff --mmap-pages reaches both recordings"
	else t_fail "--diff --mmap-pages reaches both recordings" "opens $opens, rings of 16 pages $rings"; fi
else
	t_skip "--diff --stack-size and --mmap-pages" "no strace"
fi

# --no-inline: without it the always-inlined function is a frame of both; with it, of neither (had one run
# missed it, the report would list inl_mix as gone or new).
cc -O1 -g -fno-omit-frame-pointer -o inl "$KILN_ROOT/tests/helpers/prof_inline.c" || { t_fail "build prof_inline"; exit 0; }
"$KILN" profile -q --diff -o i1.svg "./inl 0.3" "./inl 0.3" >i1.txt 2>i1.err
"$KILN" profile -q --diff --no-inline -o i2.svg "./inl 0.3" "./inl 0.3" >i2.txt 2>i2.err
if grep -q inl_mix i1.txt && ! grep -q inl_mix i2.txt && grep -q outer_loop i2.txt; then
	t_pass "--diff --no-inline reaches both recordings"
else
	t_fail "--diff --no-inline reaches both recordings" "$(cat i1.txt i2.txt i2.err | head -30)"
fi

# --debuginfo-dir: a stripped binary whose debug info is only in that directory is named in both runs.
if command -v objcopy >/dev/null 2>&1 && command -v strip >/dev/null 2>&1; then
	cp shares stripped
	bid=$(readelf -n stripped | awk '/Build ID/ {print $3}')
	mkdir -p "dbg/.build-id/${bid:0:2}"
	objcopy --only-keep-debug stripped "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
	strip --strip-all stripped
	"$KILN" profile -q --diff --debuginfo-dir "$PWD/dbg" -o s1.svg "./stripped 0.3" "./stripped 0.3" >s1.txt 2>s1.err
	if grep -q work_a s1.txt && ! grep -q 'stripped+0x' s1.txt; then
		t_pass "--diff --debuginfo-dir reaches both recordings"
	else
		t_fail "--diff --debuginfo-dir reaches both recordings" "$(head -20 s1.txt s1.err)"
	fi
	# The same meaning in mem mode: the directory is searched (before /usr/lib/debug).
	cc -O1 -g -fno-omit-frame-pointer -Wl,--build-id -o leaks "$KILN_ROOT/tests/helpers/heap_leaks.c"
	lbid=$(readelf -n leaks | awk '/Build ID/ {print $3}')
	mkdir -p "dbg/.build-id/${lbid:0:2}"
	objcopy --only-keep-debug leaks "dbg/.build-id/${lbid:0:2}/${lbid:2}.debug"
	strip --strip-all leaks
	"$KILN" profile --mode mem -q --debuginfo-dir "$PWD/dbg" -o sm.pb.gz ./leaks >/dev/null 2>sm.err
	"$KILN" convert sm.pb.gz -o sm.folded 2>/dev/null
	grep -q 'leak_page' sm.folded && ! grep -q 'leaks+0x' sm.folded && t_pass "--debuginfo-dir names mem mode's frames" ||
		t_fail "--debuginfo-dir names mem mode's frames" "$(head -5 sm.folded sm.err)"
else
	t_skip "--debuginfo-dir" "no objcopy/strip"
fi
t_done
