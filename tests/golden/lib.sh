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
