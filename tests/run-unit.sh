#!/bin/sh
# Runs each cmocka unit-test binary (built with ASan/UBSan) from the repository root.
set -u
. "$(dirname "$0")/lib.sh"
for t in "$@"; do
        run "unit: $(basename "$t")" "$t"
done
summary
