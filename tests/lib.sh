# Shared by the test scripts: counting and the closing "N passed, N failed" line.
PASSED=0
FAILED=0
FAILED_NAMES=""

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES="$FAILED_NAMES $1"; echo "FAIL - $1"; }

# run NAME CMD...: one test, passed when CMD exits 0; its output is shown on failure only.
run() {
        name=$1; shift
        out=$(mktemp)
        if "$@" >"$out" 2>&1; then pass "$name"; else cat "$out"; fail "$name"; fi
        rm -f "$out"
}

summary() {
        [ -n "$FAILED_NAMES" ] && echo "failed:$FAILED_NAMES"
        echo "$PASSED passed, $FAILED failed"
        [ "$FAILED" -eq 0 ]
}
