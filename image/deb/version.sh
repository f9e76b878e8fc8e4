#!/bin/sh
# The package version (make deb, the man pages' footer), from VERSION in the Makefile and git,
# so that every later commit sorts higher for dpkg:
#   VERSION~gitN.gSHA   no tag vVERSION yet: a snapshot on the way to VERSION (N commits in all)
#   VERSION             on the commit tagged vVERSION
#   VERSION+gitN.gSHA   N commits after the tag vVERSION
# plus ".dirty" when the work tree has uncommitted changes, and VERSION~nogit outside git.
#   version.sh VERSION
set -eu
V=${1:?usage: version.sh VERSION}
cd "$(dirname "$0")/../.."
if ! sha=$(git rev-parse --short=8 HEAD 2>/dev/null); then
        echo "$V~nogit"
        exit 0
fi
if git rev-parse -q --verify "refs/tags/v$V" >/dev/null; then
        n=$(git rev-list --count "v$V..HEAD")
        if [ "$n" = 0 ]; then v=$V; else v="$V+git$n.g$sha"; fi
else
        v="$V~git$(git rev-list --count HEAD).g$sha"
fi
git diff --quiet HEAD -- 2>/dev/null || v="$v.dirty"
echo "$v"
