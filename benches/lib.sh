# Shared by the serve benchmark scripts (serve-vs-unbound.sh,
# serve-vs-unbound-costs.sh, profile-serve.sh); sourced, not run. The
# script sets SCRIPT (its name, for messages) and START_WAIT_S first.

say() { printf '%s\n' "$*" >&2; }
die() { say "$SCRIPT: $*"; exit 2; }

# The repository the sourcing script lives in.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Builds rootwalk (release) unless ROOTWALK_BIN names a binary; fails
# unless the binary is there.
find_rootwalk() {
    if [[ -z ${ROOTWALK_BIN:-} ]]; then
        say "building rootwalk (release)..."
        cargo build --release --locked --quiet --manifest-path "$repo/Cargo.toml"
        ROOTWALK_BIN="$repo/target/release/rootwalk"
    fi
    [[ -x $ROOTWALK_BIN ]] || die "no rootwalk binary at $ROOTWALK_BIN"
}

# Waits until FILE contains PATTERN, or fails naming WHAT (and shows FILE).
wait_for() {
    local file=$1 pattern=$2 what=$3
    for _ in $(seq $((START_WAIT_S * 10))); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    say "--- $file:"; cat "$file" >&2 || true
    die "$what did not start"
}
