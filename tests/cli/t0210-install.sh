#!/bin/bash
# Man pages and completions generated from the option tables (the same tables as --help), and `make install
# DESTDIR=... PREFIX=...`: every expected file, and the installed kiln finds its preload library. The .deb
# (dpkg-buildpackage, dpkg -i, dpkg -r) is slow and runs in `make check-long` (tests/deb.sh).
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
t_pass_if() { if eval "$2"; then t_pass "$1"; else t_fail "$1" "$3"; fi; }
ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
REL=${KILN_RELEASE:-$ROOT/build}

cmds=$("$KILN" --help-commands)
# The long options of a command's --help page: the option lines only, not the text and examples.
help_opts() { "$KILN" "$1" --help | grep -E '^    (-[^-], )?--' | grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
t_pass_if "the commands with a page" "[ \$(echo \"\$cmds\" | wc -l) -ge 8 ] && echo \"\$cmds\" | grep -qx profile" "$cmds"

# Each command's page from its table: rendered by man without warnings, with every option --help lists.
"$KILN" --help-man >kiln.1
for c in $cmds; do "$KILN" "$c" --help-man >"kiln-$c.1" || t_fail "kiln $c --help-man"; done
if command -v man >/dev/null; then
	bad=""
	for page in kiln.1 $(for c in $cmds; do echo "kiln-$c.1"; done); do
		MANWIDTH=200 man --warnings -l "$page" >"$page.txt" 2>"$page.err" || bad="$bad $page(exit)"
		[ -s "$page.err" ] && bad="$bad $page: $(head -2 "$page.err")"
		grep -q . "$page.txt" || bad="$bad $page(empty)"
	done
	t_pass_if "man -l renders every page without warnings" "[ -z \"\$bad\" ]" "$bad"
	missing=""
	for c in $cmds; do
		for o in $(help_opts "$c"); do
			grep -q -- "$o" "kiln-$c.1.txt" || missing="$missing $c:$o"
		done
	done
	t_pass_if "each page lists every option of the command's --help" "[ -z \"\$missing\" ]" "$missing"
	t_pass_if "kiln(1) names every command's page" \
		"for c in $(echo $cmds); do grep -q \"kiln-\$c(1)\" kiln.1.txt || exit 1; done" "$(cat kiln.1.txt)"
else
	t_skip "man -l renders every page" "man is not installed"
fi
t_fails "an unknown completion shell" 2 "$KILN" bench --help-completion=tcsh

# Completion scripts: bash loads them and completes commands, options and choices from the tables.
"$KILN" --help-completion=bash >kiln.bash
bash -c 'source ./kiln.bash && complete -p kiln' >load.out 2>load.err
t_pass_if "the bash completion loads without error" "grep -q '_kiln kiln\$' load.out && [ ! -s load.err ]" \
	"$(cat load.out load.err)"
complete_words() { bash -c 'source ./kiln.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kiln; echo "${COMPREPLY[*]}"' _ "$@"; }
t_pass_if "bash: commands" "[ \"\$(complete_words kiln fl)\" = flamegraph ]" "$(complete_words kiln fl)"
t_pass_if "bash: a command's options" "[ \"\$(complete_words kiln bench --ord)\" = --order ]" \
	"$(complete_words kiln bench --ord)"
t_pass_if "bash: an option's choices" "[ \"\$(complete_words kiln bench --order '')\" = 'round-robin shuffle' ]" \
	"$(complete_words kiln bench --order '')"
missing=""
for c in $cmds; do
	opts=$(complete_words kiln "$c" -)
	for o in $(help_opts "$c"); do
		case " $opts " in *" $o "*) ;; *) missing="$missing $c:$o" ;; esac
	done
done
t_pass_if "bash completes every option each --help lists" "[ -z \"\$missing\" ]" "$missing"
"$KILN" --help-completion=zsh >_kiln
"$KILN" --help-completion=fish >kiln.fish
if command -v zsh >/dev/null; then t_ok "zsh parses its completion" zsh -n _kiln; else
	t_skip "zsh parses its completion" "zsh is not installed"; fi
if command -v fish >/dev/null; then t_ok "fish parses its completion" fish -n kiln.fish; else
	t_skip "fish parses its completion" "fish is not installed"; fi
t_pass_if "zsh and fish scripts cover every command" \
	"for c in $(echo $cmds); do grep -q \"^_kiln_\${c//-/_}()\" _kiln && grep -q \"subcommand_from \$c'\" kiln.fish || exit 1; done"

# make install into a staging directory: every expected file.
if [ ! -x "$REL/kiln" ]; then
	t_skip "make install" "no release build in $REL"
	t_done
	exit 0
fi
make -s -C "$ROOT" BUILD="$REL" install DESTDIR="$T_TMP/inst" PREFIX=/usr >install.log 2>&1
t_pass_if "make install DESTDIR PREFIX" "[ $? -eq 0 ]" "$(cat install.log)"
want="usr/bin/kiln usr/lib/kiln/libkiln-heap.so usr/share/man/man1/kiln.1 usr/share/bash-completion/completions/kiln
usr/share/zsh/vendor-completions/_kiln usr/share/fish/vendor_completions.d/kiln.fish usr/share/doc/kiln/README.md"
for c in $cmds; do want="$want usr/share/man/man1/kiln-$c.1"; done
for d in "$ROOT"/docs/*.md; do want="$want usr/share/doc/kiln/docs/$(basename "$d")"; done
missing=""
for f in $want; do [ -s "inst/$f" ] || missing="$missing $f"; done
t_pass_if "every expected file is installed, none empty" "[ -z \"\$missing\" ]" "missing:$missing"
t_pass_if "the installed binary runs" "inst/usr/bin/kiln --version | grep -q '^kiln '"
# The installed binary finds the preload library in ../lib/kiln (no KILN_HEAP_LIB).
(unset KILN_HEAP_LIB; inst/usr/bin/kiln profile --mode mem -q -o heap.pb.gz -- /bin/true) >mem.log 2>&1
t_pass_if "the installed kiln finds its preload library" "[ -s heap.pb.gz ]" "$(cat mem.log)"
t_done
