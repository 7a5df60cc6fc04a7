#!/bin/bash
# `make bench`: runs every benchmark script in bench/ (each prints its figures as ratios against its anchor,
# measured in the same run). Usage: bench/run.sh [NAME...]
set -u
cd "$(dirname "$0")/.."
status=0
if [ $# -gt 0 ]; then
	scripts=()
	for n in "$@"; do scripts+=("bench/$n.sh"); done
else
	scripts=(bench/*.sh)
fi
for b in "${scripts[@]}"; do
	case $(basename "$b") in run.sh | lib.sh) continue ;; esac
	echo "==> $b"
	bash "$b" || { echo "bench: $b failed" >&2; status=1; }
	echo
done
exit $status
