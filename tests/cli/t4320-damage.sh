#!/bin/bash
# Robustness: a few hundred damaged copies (cut, bytes flipped) of real files of every format kiln reads give a
# sane result or exit 2 with one line: never a crash, hang, negative total, sanitizer report, nor a file of a
# format kiln refuses read as another. The seed is fixed here (KILN_DAMAGE_SEED) so that make check is
# repeatable; `make check-long` runs 10,000 with a new seed each time (tests/damage.py prints it).
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	t_skip "damaged copies of real files" "python3 is not installed"
	exit 0
fi
if python3 "$KILN_ROOT/tests/damage.py" --kiln "$KILN" --count "${KILN_DAMAGE_COUNT:-300}" \
	--seed "${KILN_DAMAGE_SEED:-20261206}" --jobs 2 \
	>"$T_TMP/damage.log" 2>&1; then
	t_pass "$(tail -1 "$T_TMP/damage.log" | sed 's/^damage: //')"
else
	t_fail "damaged copies of real files" "$(grep -v '^damage: [0-9]* copies of' "$T_TMP/damage.log" | head -20)"
fi
t_done
