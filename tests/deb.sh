#!/bin/bash
# `make check-long` / `make check-deb`: builds the .deb from a copy of the tree with `dpkg-buildpackage -us -uc -b`,
# installs it with `dpkg -i` (binary, preload library, man pages, completions, docs), checks that they work
# (kiln runs, `man kiln-profile` renders, the heap mode finds its preload library, bash loads the completion),
# and that `dpkg -r` removes every file again. Slow (a full build); changes the system's /usr while it runs.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -30 | sed 's/^/#   /'; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else nok "$1" "${3:-}"; fi; }
finish() { echo; echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; }

if [ "$(id -u)" -ne 0 ]; then echo "skip - .deb install: dpkg -i needs root"; exit 77; fi
for t in dpkg-buildpackage dh man; do
	command -v $t >/dev/null || { echo "skip - .deb: '$t' is missing (scripts/install-deps.sh --deb)"; exit 77; }
done
if dpkg-query -W -f='${Status}' kiln 2>/dev/null | grep -q 'install ok installed'; then
	echo "skip - .deb: a kiln package is already installed on this system; not replacing it"
	exit 77
fi

work=$(mktemp -d /var/tmp/kiln-deb.XXXXXX)
trap 'dpkg -r kiln >/dev/null 2>&1; rm -rf "$work"' EXIT
# The tree as committed plus the working copy's changes, without build outputs (dpkg-buildpackage cleans).
mkdir "$work/kiln"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/kiln"
(cd "$work/kiln" && dpkg-buildpackage -us -uc -b -j2) >"$work/build.log" 2>&1
st=$?
deb=$(ls "$work"/kiln_*.deb 2>/dev/null | head -1)
check "dpkg-buildpackage -us -uc -b builds a .deb" "[ $st -eq 0 ] && [ -n '$deb' ]" "$(tail -30 "$work/build.log")"
[ -n "$deb" ] || finish || exit 1

dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort >"$work/files"
for f in /usr/bin/kiln /usr/lib/kiln/libkiln-heap.so /usr/share/man/man1/kiln.1.gz \
	/usr/share/bash-completion/completions/kiln /usr/share/zsh/vendor-completions/_kiln \
	/usr/share/fish/vendor_completions.d/kiln.fish /usr/share/doc/kiln/README.md.gz; do
	grep -qx "$f" "$work/files" || missing="${missing:-} $f"
done
for c in $("$ROOT/build/kiln" --help-commands 2>/dev/null || (cd "$work/kiln" && build/kiln --help-commands)); do
	grep -qx "/usr/share/man/man1/kiln-$c.1.gz" "$work/files" || missing="${missing:-} kiln-$c.1.gz"
done
check "the package holds the binary, preload library, man pages, completions and docs" "[ -z '${missing:-}' ]" \
	"missing:${missing:-}"

dpkg -i "$deb" >"$work/install.log" 2>&1
check "dpkg -i installs it" "[ $? -eq 0 ]" "$(cat "$work/install.log")"
check "the installed kiln runs" "/usr/bin/kiln --version | grep -q '^kiln '"
man kiln-profile >"$work/man.txt" 2>"$work/man.err"
check "man kiln-profile renders the installed page" "grep -q -- '--frequency' '$work/man.txt' && [ ! -s '$work/man.err' ]" \
	"$(cat "$work/man.err")"
check "bash loads the installed completion" \
	"bash -c 'source /usr/share/bash-completion/completions/kiln && complete -p kiln' >/dev/null 2>&1"
(cd "$work" && /usr/bin/kiln profile --mode mem -q -o heap.pb.gz -- /bin/true) >"$work/mem.log" 2>&1
check "the installed kiln finds its preload library (--mode mem)" "[ -s '$work/heap.pb.gz' ]" "$(cat "$work/mem.log")"

dpkg -r kiln >"$work/remove.log" 2>&1
check "dpkg -r removes it" "[ $? -eq 0 ]" "$(cat "$work/remove.log")"
left=""
while read -r f; do
	[ -e "$f" ] && left="$left $f"
done <"$work/files"
check "... and every installed file is gone" "[ -z '$left' ]" "left:$left"
finish
