#!/bin/sh
# The man pages (make man, docs/man/): each renders without a warning from man and groff; the
# pages and the programs cannot drift: every option and command of `nestrouterd --help` and
# `nestrouterctl --help` is on its page, every nestrouterctl command word and option is in the
# bash completion, and nestrouter.yaml(5) carries every section of docs/config.md. Needs
# build/nestrouterd and build/nestrouterctl (make all) and pandoc. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
MAKE=${MAKE:-make}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nr-man.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
COMPLETION=daemon/ctl/nestrouterctl.bash

run "man: make man builds the pages" "$MAKE" --no-print-directory -s man

# as man shows them on an 80-column terminal; its stderr must stay empty
render() {
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "build/man/$1" \
                2>"$WORK/$1.warn" | col -b >"$WORK/$1.txt"
        if ! [ -s "$WORK/$1.txt" ] || [ -s "$WORK/$1.warn" ]; then
                cat "$WORK/$1.warn"
                return 1
        fi
}
groff_quiet() {
        out=$(groff -man -t -ww -z -Tutf8 "build/man/$1" 2>&1)
        [ -z "$out" ] || { echo "$out"; return 1; }
}
for p in nestrouterd.8 nestrouterctl.8 nestrouter.yaml.5; do
        run "man: $p renders without warnings (man --warnings)" render "$p"
        run "man: $p: groff -ww says nothing" groff_quiet "$p"
done

# has_lines FILE < LINES: every line occurs in FILE
has_lines() {
        missing=$(while IFS= read -r w; do
                grep -qF -e "$w" "$1" || printf ' "%s"' "$w"
        done)
        [ -z "$missing" ] || { echo "not in $1:$missing"; return 1; }
}
# at_least N FILE: a parser that found nothing would make the checks pass vacuously
at_least() { [ "$(wc -l <"$2")" -ge "$1" ] || { echo "$2:"; cat "$2"; return 1; }; }

build/nestrouterd --help >"$WORK/d.help"
build/nestrouterctl --help >"$WORK/ctl.help"
# the long options; nestrouterctl's commands ("status", "vm list", "guests shutdown", ...)
grep -o -- '--[a-z][a-z-]*' "$WORK/d.help" | sort -u >"$WORK/d.opts"
grep -o -- '--[a-z][a-z-]*' "$WORK/ctl.help" | sort -u >"$WORK/ctl.opts"
sed -n 's/^  \([a-z][a-z]*\)\( [a-z][a-z]*\)\{0,1\}.*/\1\2/p' "$WORK/ctl.help" | sort -u >"$WORK/ctl.cmds"
run "man: nestrouterd --help lists at least 7 options" at_least 7 "$WORK/d.opts"
run "man: nestrouterctl --help lists at least 11 commands" at_least 11 "$WORK/ctl.cmds"
run "man: nestrouterd(8) has every option of nestrouterd --help" \
        has_lines "$WORK/nestrouterd.8.txt" <"$WORK/d.opts"
run "man: nestrouterctl(8) has every option of nestrouterctl --help" \
        has_lines "$WORK/nestrouterctl.8.txt" <"$WORK/ctl.opts"
run "man: nestrouterctl(8) has every command of nestrouterctl --help" \
        has_lines "$WORK/nestrouterctl.8.txt" <"$WORK/ctl.cmds"
# the completion: each word of each command, each option (--help included)
tr ' ' '\n' <"$WORK/ctl.cmds" | cat - "$WORK/ctl.opts" | sort -u >"$WORK/ctl.words"
run "man: the bash completion offers every command word and option of nestrouterctl --help" \
        has_lines "$COMPLETION" <"$WORK/ctl.words"

# nestrouter.yaml(5): every "## N. Title" and "### N.M Title" of config.md, as rendered
sed -n 's/^##\{1,2\} \([0-9].*\)/\1/p' docs/config.md | tr -d '`' >"$WORK/config.sections"
run "man: docs/config.md has at least 18 sections" at_least 18 "$WORK/config.sections"
run "man: nestrouter.yaml(5) has every section of docs/config.md" \
        has_lines "$WORK/nestrouter.yaml.5.txt" <"$WORK/config.sections"
summary
