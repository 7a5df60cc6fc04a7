#!/bin/bash
# kiln pgo go: a kiln CPU profile of a stdlib-only Go program becomes a default.pgo that go tool pprof reads,
# whose functions carry the start lines of the source (counted here from the source text) and whose inlined
# call sit on the calling line, and that go build -pgo (1.21+) accepts and acts on as it does on Go's own
# -cpuprofile of the same program: the same hot functions in main get the larger inlining budget.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1

GO=
for g in go /usr/lib/go-1.2[1-9]/bin/go /usr/local/go/bin/go; do
	command -v "$g" >/dev/null 2>&1 || continue
	minor=$("$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
	if [ -n "$minor" ] && [ "$minor" -ge 21 ]; then GO=$g; break; fi
done
if [ -z "$GO" ]; then
	t_skip "kiln pgo go" "no Go 1.21+ (go build -pgo) is installed (Debian 12: golang-1.22-go from bookworm-backports)"
	exit 0
fi
"$KILN" profile -o probe.pb.gz true >/dev/null 2>probe.err || {
	t_skip "kiln pgo go" "kiln profile cannot sample here: $(head -1 probe.err)"
	exit 0
}
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$T_TMP/gocache"
cp "$T_DIR/main.go" . && printf 'module example.com/gopgo\n\ngo 1.21\n' >go.mod
"$GO" build -o app . 2>build.err || { t_fail "go build" "$(cat build.err)"; exit 0; }

"$KILN" profile -o kiln.pb.gz ./app -n 60000000 >/dev/null 2>&1
./app -n 60000000 -cpuprofile go.prof >/dev/null
t_ok "kiln pgo go" "$KILN" pgo go kiln.pb.gz -o default.pgo
"$GO" tool pprof -raw default.pgo >raw.txt 2>raw.err
if grep -q ' main.work ' raw.txt; then t_pass "go tool pprof reads it"; else t_fail "go tool pprof reads it" "$(cat raw.err)"; fi
work_start=$(grep -n '^func work' main.go | cut -d: -f1)
call_line=$(grep -n 'total += float64(score' main.go | cut -d: -f1)
if grep -q " main.work .*main.go:[0-9]* s=$work_start\$" raw.txt; then
	t_pass "start lines from the binary's DWARF (main.work at $work_start)"
else
	t_fail "start lines from the binary's DWARF" "$(grep main.work raw.txt | head -3)"
fi
# score() is inlined into work(): its Location has score's line first, then work's at the call.
if grep -A1 ' main.score ' raw.txt | grep -q "main.work .*main.go:$call_line "; then
	t_pass "inlined calls sit on the calling line ($call_line)"
else
	t_fail "inlined calls sit on the calling line" "$(grep -A1 main.score raw.txt | head -6)"
fi
hot() { # PROFILE: the main functions go build -pgo gives the hot budget, sorted
	"$GO" build -pgo="$1" -gcflags=example.com/gopgo=-d=pgodebug=1 -o "app-$2" . 2>&1 |
		sed -n 's/^hot-node enabled increased budget=.* for func=\(main\..*\)$/\1/p' | sort -u
}
hot default.pgo kiln >hot-kiln.txt
hot go.prof go >hot-go.txt
if [ -x app-kiln ] && [ -s hot-go.txt ] && grep -qx main.work hot-kiln.txt && [ -z "$(comm -13 hot-kiln.txt hot-go.txt)" ]; then
	t_pass "go build -pgo finds the hot functions Go's own profile gives ($(tr '\n' ' ' <hot-go.txt))"
else
	t_fail "go build -pgo finds the hot functions Go's own profile gives" "kiln: $(cat hot-kiln.txt) go: $(cat hot-go.txt)"
fi
t_fails "not a Go program's profile" 2 "$KILN" pgo go probe.pb.gz --binary ./app -o x.pgo
t_fails "no such profile" 2 "$KILN" pgo go nothere.pb.gz -o x.pgo
[ ! -e x.pgo ] && t_pass "failures write nothing" || t_fail "failures write nothing"
t_done
