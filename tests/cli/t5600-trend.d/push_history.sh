# Sourced by the trend tests (t5600, t5710, t5720, t5740) after gen_history.py wrote GEN/:
#   push_history GEN STEP ARGS...   pushes GEN/NNN.json with GEN/NNN.folded as its profile, one run per commit of
#                                   GEN/truth.json in order, at 1700000000 + i * STEP seconds, with ARGS (--history
#                                   DIR, --push URL, --branch, --machine); stderr is appended to push.err.
#                                   Prints how many pushes succeeded; GEN/commits.txt keeps the commits.
push_history() {
	local gen=$1 step=$2 i=0 ok=0 c f
	shift 2
	python3 -c "import json,sys;print('\n'.join(json.load(open(sys.argv[1]))['commits']))" "$gen/truth.json" \
		>"$gen/commits.txt"
	while read -r c; do
		f=$(printf %03d $i)
		"$KILN" push-bench "$gen/$f.json" "$@" --commit "$c" --time $((1700000000 + i * step)) \
			--profile "$gen/$f.folded" 2>>push.err && ok=$((ok + 1))
		i=$((i + 1))
	done <"$gen/commits.txt"
	echo $ok
}
