#!/bin/sh
# Builds one man page from its markdown source with pandoc (make man; the Debian package):
#   build.sh docs/man/PAGE.SECTION.md OUT.SECTION
# nestrouter.yaml.5.md carries a marker line where docs/config.md, from its first section on,
# is inserted (headings up one level), so the page and the reference cannot drift. man.lua turns
# tables into lists (tbl tables that wide do not fit 80 columns). The footer names the version
# (NR_VERSION) and the date is SOURCE_DATE_EPOCH's (set by dpkg-buildpackage), else the last
# commit's, so a rebuild gives the same page.
set -eu
SRC=${1:?usage: build.sh SRC.md OUT}
OUT=${2:?usage: build.sh SRC.md OUT}
HERE=$(dirname "$0")
CONFIG_MD=$HERE/../config.md
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
        date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
        date=$(git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)
fi
tmp=$OUT.md.tmp
trap 'rm -f "$tmp" "$OUT.tmp"' EXIT
# config.md after its table of contents (the first "---" line), with "## N." -> "# N." outside
# code blocks
awk -v body="$CONFIG_MD" '
        /^<!-- docs\/config.md: / {
                fence = 0; started = 0
                while ((getline line < body) > 0) {
                        if (!started) { if (line == "---") started = 1; continue }
                        if (line ~ /^```/) fence = !fence
                        if (!fence && line ~ /^##+ /) line = substr(line, 2)
                        print line
                }
                close(body)
                next
        }
        { print }' "$SRC" >"$tmp"
pandoc --from=gfm+yaml_metadata_block+definition_lists --to=man --standalone --lua-filter="$HERE/man.lua" \
        -M hyphenate=false -V adjusting=l -M footer="nestrouter ${NR_VERSION:-}" -M date="$date" -o "$OUT.tmp" "$tmp"
mv "$OUT.tmp" "$OUT"
