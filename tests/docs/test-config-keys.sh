#!/bin/sh
# docs/config.md's key tables say what the schema says: every key of a table-driven section
# (daemon/core/config/schema.h, printed by build/tests/config-keys) has a row in the section's
# "| Key | Type ..." table, the table lists no key the schema lacks, and the Type, Required and
# Default cells are the rows' doc_type, required and default text. A table without a Required
# column writes `required` in its Default cell for a required key.
set -u
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
$MAKE --no-print-directory -s build/tests/config-keys || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build/tests/config-keys >"$tmp/schema" || exit 1

# Each section's first key table after its heading (`## 17. \`libvirt\``, `### 7.6
# \`guests.dhcp\``; `## 4. Top-level keys` is "(top)"), or after a paragraph that starts with a
# key in bold (`**\`reservations\`.**` in guests.dhcp: guests.dhcp.reservations), as SECTION TAB
# KEY TAB TYPE TAB REQUIRED TAB DEFAULT lines; DEFAULT is "-" when the table has no such column.
awk -F'|' -v OFS='\t' '
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
/^#+ / {
        base = section = ""; table = 0; done = 0
        if ($0 ~ /^## 4\. Top-level keys/) section = "(top)"
        else if (match($0, /^#+ [0-9.]+ `[a-z_.*]+`$/)) {
                section = $0; sub(/^[^`]*`/, "", section); sub(/`$/, "", section)
        }
        base = section
        next
}
# a paragraph starting with a key in bold inside a section: the next table is for that key
base != "" && base != "(top)" && /^\*\*`[a-z_]+`\.\*\*/ {
        k = $0; sub(/^\*\*`/, "", k); sub(/`.*$/, "", k)
        section = base "." k; table = 0; done = 0
        next
}
section == "" || done { next }
/^\| Key \| Type/ && !table {
        table = 1; kc = tc = rc = dc = 0
        for (i = 2; i < NF; i++) {
                h = trim($i)
                if (h == "Key") kc = i; else if (h == "Type") tc = i
                else if (h == "Required") rc = i; else if (h == "Default") dc = i
        }
        next
}
table && /^\|---/ { next }
table && /^\|/ {
        key = trim($kc); sub(/^[^`]*`/, "", key); sub(/`.*$/, "", key)
        def = dc ? trim($dc) : "-"
        if (rc) {
                req = trim($rc); gsub(/\*/, "", req); req = (req ~ /^yes/) ? "yes" : "no"
        } else if (def == "required") {
                req = "yes"; def = "(none)"
        } else req = "no"
        print section, key, trim($tc), req, def
        next
}
table { done = 1 }
' docs/config.md >"$tmp/docs"

fails=0
bad() { echo "test-config-keys: $*" >&2; fails=$((fails + 1)); }
# the rows of section $1 in file $2, without the section
rows() { awk -F'\t' -v OFS='\t' -v s="$1" '$1 == s { $1 = ""; sub(/^\t/, ""); print }' "$2" | sort -t '	' -k1,1; }
for s in $(cut -f1 "$tmp/schema" | uniq); do
        rows "$s" "$tmp/schema" >"$tmp/want"
        rows "$s" "$tmp/docs" >"$tmp/have"
        [ -s "$tmp/have" ] || { bad "docs/config.md has no key table for section $s"; continue; }
        for k in $(cut -f1 "$tmp/want"); do
                cut -f1 "$tmp/have" | grep -qxF "$k" || bad "$s: key $k is in the schema but not in docs/config.md's table"
        done
        for k in $(cut -f1 "$tmp/have"); do
                cut -f1 "$tmp/want" | grep -qxF "$k" || bad "$s: docs/config.md lists key $k, which the schema does not have"
        done
        # keys in both: the cells must be the same (a table without a Default column: "-")
        join -t '	' "$tmp/want" "$tmp/have" | while IFS='	' read -r k wt wr wd ht hr hd; do
                [ "$wt" = "$ht" ] || echo "$s: $k: type is \"$ht\" in docs/config.md, \"$wt\" in the schema"
                [ "$wr" = "$hr" ] || echo "$s: $k: required is $hr in docs/config.md, $wr in the schema"
                [ "$hd" = "-" ] || [ "$wd" = "$hd" ] || echo "$s: $k: default is \"$hd\" in docs/config.md, \"$wd\" in the schema"
        done >"$tmp/diff"
        while IFS= read -r line; do bad "$line"; done <"$tmp/diff"
done
n=$(wc -l <"$tmp/schema")
[ $fails -eq 0 ] && echo "test-config-keys: docs/config.md's key tables match the schema ($n keys)"
[ $fails -eq 0 ]
