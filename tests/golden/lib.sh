# Golden-file comparison: `golden_cmp EXPECTED ACTUAL_FILE` fails with a diff; with
# NR_UPDATE_GOLDEN=1 it rewrites EXPECTED instead (review the diff before committing).
golden_cmp() {
        if [ "${NR_UPDATE_GOLDEN:-}" = 1 ]; then
                mkdir -p "$(dirname "$1")"
                cp "$2" "$1"
                return 0
        fi
        if [ ! -f "$1" ]; then
                echo "missing golden file $1 (run with NR_UPDATE_GOLDEN=1)"
                return 1
        fi
        diff -u "$1" "$2"
}

# golden_run_fake NAME CMD...: runs CMD in $tmp with the stand-in for az ($fake) first in PATH
# and its state in $tmp/state; the golden $g/NAME.run holds the az calls, the exit status,
# stdout and stderr, with $tmp shown as TMP. A difference sets rc=1.
golden_run_fake() {
        name=$1
        shift
        (cd "$tmp" && PATH="$fake:$PATH" FAKE_AZ_DIR="$tmp/state" "$@" >"$tmp/stdout" \
                2>"$tmp/stderr") && r=0 || r=$?
        {
                cat "$tmp/state/log" 2>/dev/null || true
                echo "exit $r"
                sed 's/^/stdout: /' "$tmp/stdout"
                sed 's/^/stderr: /' "$tmp/stderr"
        } | sed "s|$tmp|TMP|g" >"$tmp/$name.run"
        golden_cmp "$g/$name.run" "$tmp/$name.run" || rc=1
}
