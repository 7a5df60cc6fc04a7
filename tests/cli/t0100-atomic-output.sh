#!/bin/bash
# Output files are never half-written: a failing flush, close, fsync or rename, a full disk, or a SIGTERM in the middle
# leaves the previous file (or none) in place, no temporary behind, a one-line error and exit status 2.
. "$(dirname "$0")/lib.sh"

if ! cc -shared -fPIC -o "$T_TMP/faultinject.so" "$KILN_ROOT/tests/faultinject/faultinject.c" -ldl 2>"$T_TMP/cc.err"; then
	t_skip "fault injection" "cannot build the preload: $(head -1 "$T_TMP/cc.err")"
	exit 0
fi
# The preload must not be combined with ASan's runtime ordering; use the release build for these runs.
K=${KILN_RELEASE:+$KILN_RELEASE/kiln}
[ -x "${K:-}" ] || K=$KILN

# A folded input large enough that output spans several buffers.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "main;work_%d;leaf_%d %d\n", i % 97, i, i % 13 + 1 }' >"$T_TMP/in.folded"

# Commands that write a file with -o; each is exercised when it exists in this build.
run_cmds() {
	"$K" help flamegraph >/dev/null 2>&1 && echo "flamegraph $T_TMP/in.folded -o"
	"$K" help convert >/dev/null 2>&1 && echo "convert $T_TMP/in.folded -o"
}
if [ -z "$(run_cmds)" ]; then
	t_skip "fault injection" "'$K' has neither flamegraph nor convert (a stale release build? run make)"
	exit 0
fi

while read -r cmd; do
	[ -n "$cmd" ] || continue
	name=${cmd%% *}
	case $name in flamegraph) ext=svg ;; convert) ext=pb.gz ;; esac
	for fault in fflush fclose fsync rename; do
		dir="$T_TMP/$name-$fault"
		mkdir -p "$dir"
		echo "previous content" >"$dir/out.$ext"
		# shellcheck disable=SC2086
		LD_PRELOAD="$T_TMP/faultinject.so" KILN_FAULT=$fault KILN_FAULT_MATCH="$dir/" \
			"$K" $cmd "$dir/out.$ext" >/dev/null 2>"$dir/err"
		s=$?
		left=$(ls -A "$dir" | grep -v '^err$' | tr '\n' ' ')
		if [ $s -ne 2 ]; then
			t_fail "$name with a failing $fault exits 2" "exit $s: $(cat "$dir/err")"
		elif [ "$(wc -l <"$dir/err")" -ne 1 ]; then
			t_fail "$name with a failing $fault prints one line" "$(cat "$dir/err")"
		elif [ "$(cat "$dir/out.$ext")" != "previous content" ] || [ "$left" != "out.$ext " ]; then
			t_fail "$name with a failing $fault keeps the old file and no temporary" "files: $left"
		else
			t_pass "$name with a failing $fault: exit 2, one line, old file intact, no temporary"
		fi
	done
done < <(run_cmds)

# A real full disk: a 64 KiB tmpfs (needs root and mount).
mnt="$T_TMP/full"
mkdir -p "$mnt"
if mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
	while read -r cmd; do
		[ -n "$cmd" ] || continue
		name=${cmd%% *}
		case $name in flamegraph) ext=svg ;; convert) ext=pb.gz ;; esac
		# shellcheck disable=SC2086
		"$K" $cmd "$mnt/out.$ext" >/dev/null 2>"$T_TMP/enospc.err"
		s=$?
		left=$(ls -A "$mnt")
		if [ $s -eq 2 ] && [ -z "$left" ] && grep -q 'No space left' "$T_TMP/enospc.err"; then
			t_pass "$name on a full disk: exit 2, 'No space left', no file"
		else
			t_fail "$name on a full disk: exit 2, 'No space left', no file" "exit $s, left '$left': $(cat "$T_TMP/enospc.err")"
		fi
		rm -f "$mnt"/* "$mnt"/.[!.]* 2>/dev/null
	done < <(run_cmds)
	umount "$mnt"
else
	t_skip "full disk" "cannot mount a tmpfs here (not root?)"
fi
