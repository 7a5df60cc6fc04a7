#!/bin/bash
# kiln analyze: recommendations fit the code they talk about. A program's own function called `hashing` is not a
# hash library (name rules are keyed by module or library), compiler advice is not given for kernel frames, and
# the recommendations are printed most severe first.
. "$(dirname "$0")/lib.sh"

cd "$T_TMP" || exit 1
# 60 % in the program's `hashing`, no module: the hotspot rule speaks, the hashing rule does not
printf 'main;hashing 60\nmain;other 40\n' >own.folded
"$KILN" analyze own.folded --json >own.json
json_check "a user function named hashing is not the hashing rule's" own.json \
	"not any(r['rule']=='hashing' for r in d['recommendations']) and any(r['rule']=='hotspot' for r in d['recommendations'])"
# the same word in a library's source path counts (py-spy's "func (file:line)" frames)
printf 'main (app.py:1);digest (hashlib.py:9) 60\nmain (app.py:1);other (app.py:5) 40\n' >lib.folded
"$KILN" analyze lib.folded --json >lib.json
json_check "the hashing rule fires for a hash library's frames" lib.json \
	"any(r['rule']=='hashing' for r in d['recommendations'])"
# 120 tiny kernel functions (_[k]): no LTO/PGO/inlining advice
for i in $(seq 1 120); do printf 'main;sys_call_[k];kfn%d_[k] 1\n' "$i"; done >kernel.folded
"$KILN" analyze kernel.folded >kernel.txt
! grep -Eq 'LTO|-flto|PGO|inlin' kernel.txt && t_pass "no compiler advice for kernel frames" ||
	t_fail "no compiler advice for kernel frames" "$(grep -E 'LTO|PGO|inlin' kernel.txt)"
# severities in order: critical (60 % in 120 tiny functions) before high and medium
{ for i in $(seq 1 120); do printf 'main;f%d 5\n' "$i"; done; printf 'main;malloc 60\nmain;hot 120\nmain;rest 220\n'; } >mixed.folded
"$KILN" analyze mixed.folded >mixed.txt
sev=$(grep -Eo '^ +[0-9]+\. \[(critical|high|medium)\]' mixed.txt | grep -Eo 'critical|high|medium' | tr '\n' ' ')
if [ -n "$sev" ] && echo "$sev" | awk '{ r["critical"] = 3; r["high"] = 2; r["medium"] = 1
	for (i = 2; i <= NF; i++) if (r[$i] > r[$(i - 1)]) exit 1 }' && echo "$sev" | grep -q critical &&
	echo "$sev" | grep -q medium; then
	t_pass "recommendations are printed most severe first ($sev)"
else
	t_fail "recommendations are printed most severe first" "$sev $(cat mixed.txt)"
fi
t_done
