#!/bin/sh
# The layout the docs describe is the layout there is: every folder under daemon/ and every
# file in it is named in docs/architecture.md's "Layout" table (its folder row), no row names a
# file or folder that does not exist, every folder is in the README's layout table (itself or,
# for daemon/core/ and daemon/backend/, inside its parent's row), and daemon/core/ stays pure
# (no kernel, libnl, libnftables, libvirt or libsystemd includes).
set -u
cd "$(dirname "$0")/../.."
fails=0
bad() { echo "test-layout: $*" >&2; fails=$((fails + 1)); }

# the Layout section of docs/architecture.md, one "folder|files" line per table row
rows=$(awk '/^## Layout/{on=1; next} on && /^## /{exit} on && /^\| `daemon/ {print}' docs/architecture.md |
       awk -F'|' '{gsub(/[` ]/, "", $2); gsub(/[` ]/, "", $3); print $2 "|" $3}')
[ -n "$rows" ] || bad "docs/architecture.md has no Layout table"

for d in $(find daemon -type d | sort); do
        row=$(printf '%s\n' "$rows" | grep "^$d/|") || { bad "docs/architecture.md: no Layout row for $d/"; continue; }
        listed=$(printf '%s\n' "$row" | cut -d'|' -f2 | tr ',' '\n' | grep . | sort)
        present=$(find "$d" -maxdepth 1 -type f -printf '%f\n' | sort)
        for f in $present; do
                printf '%s\n' "$listed" | grep -qxF "$f" || bad "docs/architecture.md: $d/$f is not in the Layout row of $d/"
        done
        for f in $listed; do [ -f "$d/$f" ] || bad "docs/architecture.md: Layout names $d/$f, which does not exist"; done
done
for d in $(printf '%s\n' "$rows" | cut -d'|' -f1); do
        [ -d "$d" ] || bad "docs/architecture.md: Layout names $d, which does not exist"
done

readme=$(awk '/^## Layout/{on=1; next} on && /^## /{exit} on {print}' README.md)
for d in $(find daemon -mindepth 1 -maxdepth 1 -type d | sort) daemon; do
        printf '%s\n' "$readme" | grep -q "^| \`$d/\` |" || bad "README.md: no layout row for $d/"
done
for d in $(find daemon/core daemon/backend -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort); do
        printf '%s\n' "$readme" | grep -q "\`$d/\`" || bad "README.md: layout does not mention $d/"
done

impure=$(grep -rnE '#include <(linux/|netlink/|nftables/|libvirt/|systemd/|sys/socket|net/|libmnl/)' daemon/core)
[ -z "$impure" ] || bad "daemon/core is not pure: $impure"

[ "$fails" -eq 0 ] && echo "test-layout: docs match the tree ($(find daemon -type f | wc -l) files, $(find daemon -type d | wc -l) folders)"
exit "$((fails > 0))"
