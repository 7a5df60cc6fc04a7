#!/bin/bash
# Dependencies point down (shared/DESIGN.md, "Layers"): scripts/check-layers.py passes on the tree and fails, naming
# the file, on each kind of upward include injected into a copy of it.
. "$(dirname "$0")/lib.sh"

CHECK=$KILN_ROOT/scripts/check-layers.py
if ! command -v python3 >/dev/null 2>&1; then
	t_skip "layering check" "python3 is not installed"
	t_done
	exit 0
fi

python3 "$CHECK" "$KILN_ROOT" >"$T_TMP/tree.out" 2>&1 && t_pass "the source tree's includes point down" ||
	t_fail "the source tree's includes point down" "$(cat "$T_TMP/tree.out")"

# inject FILE LINE: a fresh copy of src/ and preload/ with LINE added to FILE; the check must fail and name it.
inject() {
	local desc=$1 file=$2 line=$3 copy=$T_TMP/copy
	rm -rf "$copy" && mkdir -p "$copy" && cp -r "$KILN_ROOT/src" "$KILN_ROOT/preload" "$copy/"
	printf '%s\n' "$line" >>"$copy/$file"
	python3 "$CHECK" "$copy" >"$T_TMP/inj.out" 2>&1
	local st=$?
	if [ $st -eq 1 ] && grep -q "^$file:[0-9]*: " "$T_TMP/inj.out" && [ "$(wc -l <"$T_TMP/inj.out")" -eq 1 ]; then
		t_pass "$desc"
	else
		t_fail "$desc" "exit $st: $(cat "$T_TMP/inj.out")"
	fi
}
inject "profile/ including analyze/ is refused" src/profile/profile.c '#include "../analyze/analysis.h"'
inject "core/ including profile/ (via -Isrc) is refused" src/core/buf.c '#include "profile/profile.h"'
inject "formats/ including record/ anew is refused" src/formats/folded.c '#include "../record/session.h"'
inject "analyze/ including cmd/ is refused" src/analyze/report.c '#include "../cmd/cmds.h"'
inject "src/ reaching into preload/ is refused" src/record/session.c '#include "../../preload/heap.h"'
inject "preload/ including src/ is refused" preload/heap_hooks.c '#include "../src/core/buf.h"'
inject "a same-layer include (record/ -> analyze/) is refused" src/record/session.c '#include "../analyze/waitsite.h"'

# A known exception covers only its own file.
inject "an exception is one file's, not its folder's" src/formats/pprof.c '#include "../record/perf_record.h"'
t_done
