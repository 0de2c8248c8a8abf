#!/usr/bin/env bash
# Where `rootwalk serve` spends its CPU: perf profiles of the daemon under
# dnsperf, one for cache misses and one for cached answers, each reduced to
# its top symbols as text.
#
# Usage: benches/profile-serve.sh NAME   (as root: the lab needs port 53)
# writes benches/profiles/miss-NAME.txt and benches/profiles/cached-NAME.txt
# (or OUT_DIR/...).
#
# It needs `perf` (apt-get install linux-perf) and `dnsperf`. It builds
# rootwalk in release mode unless ROOTWALK_BIN is given; the release
# profile keeps line tables, so perf names the functions (for inlined
# frames and full call graphs, build with CARGO_PROFILE_RELEASE_DEBUG=true).
#
# Steps: start the lab on port 53 with no reply delay, start rootwalk serve
# (validating with the lab's anchor unless ROOTWALK_SERVE_ARGS says
# --no-dnssec), warm it with two wildcard names, then
#   1. misses: perf record -g on the daemon while dnsperf asks NAMES
#      distinct names under *.wild.a.tld1 once each;
#   2. cached: perf record -g while dnsperf asks the 20 cached questions of
#      serve-vs-unbound.sh at RATE q/s for DURATION seconds;
# and keep `perf report --no-children --sort dso,symbol` (self time) top
# TOP entries of each.
#
# Settings: NAMES=80000 CLIENTS=8 OUTSTANDING=100 RATE=30000 DURATION=10
#   TOP=15 ROOTWALK_PORT=5391 ROOTWALK_BIN=path ROOTWALK_SERVE_ARGS=...
#   OUT_DIR=benches/profiles KEEP=1 (keep perf.data and logs)
set -euo pipefail

name=${1:?usage: benches/profile-serve.sh NAME (e.g. before or after)}
NAMES=${NAMES:-80000}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
RATE=${RATE:-30000}
DURATION=${DURATION:-10}
TOP=${TOP:-15}
ROOTWALK_PORT=${ROOTWALK_PORT:-5391}
START_WAIT_S=15

SCRIPT=profile-serve
# shellcheck source=benches/lib.sh
source "$(dirname "$0")/lib.sh"

for tool in perf dnsperf; do
    command -v "$tool" >/dev/null 2>&1 || die "missing: $tool (apt-get install linux-perf dnsperf)"
done
[[ $(id -u) -eq 0 ]] || die "run as root: the lab must listen on port 53"

OUT_DIR=${OUT_DIR:-$repo/benches/profiles}
find_rootwalk
mkdir -p "$OUT_DIR"

run=$(mktemp -d /tmp/profile-serve.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then say "run directory kept: $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$run/lab"
cp "$repo"/testdata/lab/*.zone "$run/lab/"
sed 's/^latency_ms = .*/latency_ms = 0/' "$repo/testdata/lab/manifest.toml" >"$run/lab/manifest.toml"
"$ROOTWALK_BIN" lab --port 53 --manifest "$run/lab/manifest.toml" --hints-out "$run/lab.hints" \
    --anchor-out "$run/lab.anchor" >"$run/lab.log" 2>&1 &
pids+=($!)
wait_for "$run/lab.hints" "root-servers" "the lab (is port 53 free?)"

read -r -a user_extra <<<"${ROOTWALK_SERVE_ARGS:-}"
anchor=(--trust-anchor "$run/lab.anchor")
[[ " ${user_extra[*]} " == *" --no-dnssec "* ]] && anchor=()
"$ROOTWALK_BIN" serve --root-hints "$run/lab.hints" --listen "127.0.0.1:$ROOTWALK_PORT" \
    --cache-size 1G "${anchor[@]}" "${user_extra[@]}" >"$run/rootwalk.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$run/rootwalk.log" "listening on 127.0.0.1:$ROOTWALK_PORT (UDP)" "rootwalk serve"

printf 'warm1.wild.a.tld1 A\nwarm2.wild.a.tld1 A\n' >"$run/warm.txt"
awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "p%d.wild.a.tld1 A\n", i }' >"$run/names.txt"
cp "$repo/benches/cached-questions.txt" "$run/cached.txt"
dnsperf -s 127.0.0.1 -p "$ROOTWALK_PORT" -d "$run/warm.txt" -n 1 -c 1 -q 1 >/dev/null 2>&1
dnsperf -s 127.0.0.1 -p "$ROOTWALK_PORT" -d "$run/cached.txt" -n 2 -c 1 -q 10 >/dev/null 2>&1

# Profiles the daemon while the dnsperf command given runs; writes the top
# entries to OUT_DIR/KIND-NAME.txt.
profile() {
    local kind=$1
    shift
    local perf_pid out="$OUT_DIR/$kind-$name.txt"
    perf record -q -g -p "$pid" -o "$run/$kind.data" >"$run/$kind.perf.log" 2>&1 &
    perf_pid=$!
    sleep 0.5
    "$@" >"$run/$kind.dnsperf.txt" 2>&1
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null || true
    {
        printf '# %s: perf record -g -p PID of rootwalk serve %s while: %s\n' "$kind" "${ROOTWALK_SERVE_ARGS:-}" "$*"
        printf '# binary %s; load %s\n' "$ROOTWALK_BIN" "$(cut -d' ' -f1-3 /proc/loadavg)"
        grep -E 'Queries (completed|lost)|Queries per second' "$run/$kind.dnsperf.txt" | sed 's/^ */# dnsperf: /'
        printf '# perf report --no-children --sort dso,symbol (self time), top %d\n' "$TOP"
        perf report -i "$run/$kind.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
            grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | awk -v n="$TOP" 'NR <= n'
        printf '# by dso\n'
        perf report -i "$run/$kind.data" --no-children --sort dso --stdio -g none 2>/dev/null |
            grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | awk 'NR <= 6'
    } >"$out"
    say "wrote $out"
}

profile miss dnsperf -s 127.0.0.1 -p "$ROOTWALK_PORT" -d "$run/names.txt" -n 1 -c "$CLIENTS" -q "$OUTSTANDING" -t 5
profile cached dnsperf -s 127.0.0.1 -p "$ROOTWALK_PORT" -d "$run/cached.txt" -l "$DURATION" -Q "$RATE" -c "$CLIENTS"
