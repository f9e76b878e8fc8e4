#!/bin/sh
# make deb: the Debian package, built by Debian's tooling (dpkg-buildpackage, debhelper) from a
# copy of this tree with image/deb/debian/ as its debian/ directory (the project keeps no
# top-level debian/). Run from anywhere; writes OUTDIR/nestrouter_VERSION_ARCH.deb, removes older
# nestrouter_*.deb there, and runs lintian (LINTIAN=0 skips it; errors fail the build).
#   build.sh VERSION OUTDIR       (VERSION from version.sh, through the Makefile)
# The copy is git's view of the work tree (tracked and new files, edits included, ignored ones
# not), or the whole tree but build/ outside git; it is built in build/deb/ (the log:
# build/deb/build.log).
set -eu
V=${1:?usage: build.sh VERSION OUTDIR}
OUT=${2:?usage: build.sh VERSION OUTDIR}
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=build/deb
SRC=$WORK/nestrouter-$V
rm -rf "$WORK" && mkdir -p "$SRC"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # files deleted in the work tree are listed too: tar skips them
        git ls-files -z --cached --others --exclude-standard |
                tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$SRC" -xf -
else
        tar --exclude=./build -cf - . | tar -C "$SRC" -xf -
fi
rm -rf "$SRC/debian"
cp -R image/deb/debian "$SRC/debian"

# the changelog carries the version; dated by the commit, so a rebuild gives the same package
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "no git")
cat >"$SRC/debian/changelog" <<CHANGELOG
nestrouter ($V) bookworm; urgency=medium

  * Built from commit $commit by make deb.

 -- $(sed -n 's/^Maintainer: //p' image/deb/debian/control)  $date
CHANGELOG

echo "deb: dpkg-buildpackage -b nestrouter $V (log: $WORK/build.log)" >&2
if ! (cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$WORK/build.log" 2>&1; then
        tail -40 "$WORK/build.log" >&2
        echo "deb: dpkg-buildpackage failed; the whole log is $WORK/build.log" >&2
        exit 1
fi
arch=$(dpkg --print-architecture)
deb=nestrouter_${V}_$arch.deb
for f in "$OUT"/nestrouter_*_"$arch".deb; do
        [ "$f" = "$OUT/$deb" ] || rm -f "$f"
done
cp "$WORK/$deb" "$OUT/$deb"
if [ "${LINTIAN:-1}" != 0 ]; then
        # errors fail; warnings (and info) are printed
        lintian --fail-on error --display-info "$OUT/$deb" >&2 || {
                echo "deb: lintian found errors in $OUT/$deb" >&2; exit 1; }
fi
echo "deb: $OUT/$deb" >&2
