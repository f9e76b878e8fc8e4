# Shared by the test scripts: counting, the closing "N passed, N failed" line, and bounded
# waiting (wait_for, poll_ms).
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

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for TENTHS CMD...: retries CMD every 0.1 s, at most TENTHS times
wait_for() {
        local n=$1
        shift
        while [ "$n" -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                n=$((n - 1))
                sleep 0.1
        done
        return 1
}

# poll_ms MAXMS CMD...: retries CMD in 20 ms steps until it succeeds; prints the milliseconds
# it took; fails after MAXMS (bounded both by the clock and by a step count).
poll_ms() {
        local max=$1 t0 t n
        shift
        t0=$(now_ms)
        n=$((max / 20 + 10))
        while [ "$n" -gt 0 ]; do
                if "$@" >/dev/null 2>&1; then
                        echo $(($(now_ms) - t0))
                        return 0
                fi
                t=$(($(now_ms) - t0))
                [ "$t" -gt "$max" ] && break
                n=$((n - 1))
                sleep 0.02
        done
        echo $(($(now_ms) - t0))
        return 1
}
