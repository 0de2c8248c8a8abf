#!/usr/bin/env bash
# Cached-answer throughput and latency of `rootwalk serve` against Unbound,
# both resolving from the embedded lab (rootwalk lab on port 53), measured
# with dnsperf on the same machine.
#
# Usage: benches/serve-vs-unbound.sh        (as root: the lab needs port 53)
#
# It installs nothing. It needs `unbound` (with unbound-checkconf) and
# `dnsperf`:   apt-get install unbound dnsperf
#
# Steps: build rootwalk (release), start the lab on port 53, start
# `rootwalk serve` and Unbound (2 threads, iterator only) on loopback ports,
# warm both caches with the same questions (answers, CNAME chains, glueless
# zones, NODATA and NXDOMAIN), then for each round, alternating the
# servers, run dnsperf twice against each:
#   1. saturating: dnsperf -c CLIENTS -q OUTSTANDING for DURATION seconds:
#      queries per second, average latency, and the server's CPU time per
#      query (utime+stime from /proc, all its threads);
#   2. fixed rate: dnsperf -Q RATE -v for DURATION seconds: every reply's
#      latency, hence average, median and 99th percentile at a load both
#      servers carry easily.
# Each figure printed is the median over the rounds; the last line gives
# rootwalk's figures as a ratio of Unbound's. Everything started is stopped
# on exit (trap), and the run directory removed (unless KEEP=1).
#
# Settings (environment):
#   DURATION=10 ROUNDS=3 CLIENTS=8 OUTSTANDING=100 RATE=20000
#   ROOTWALK_PORT=5391 UNBOUND_PORT=5392 METRICS_PORT=5393
#   ROOTWALK_BIN=path (skip the cargo build)  KEEP=1 (keep the run dir)
#   ROOTWALK_SERVE_ARGS="--no-dnssec" (extra flags for rootwalk serve)
#
# dnsperf shares the machine's cores with the server it measures, so on a
# small machine the saturating QPS is partly the client's limit; the CPU
# time per query is the server's own cost and the fairer efficiency figure.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
RATE=${RATE:-20000}
ROOTWALK_PORT=${ROOTWALK_PORT:-5391}
UNBOUND_PORT=${UNBOUND_PORT:-5392}
METRICS_PORT=${METRICS_PORT:-5393}
# How long to wait for a server to come up.
START_WAIT_S=15

SCRIPT=serve-vs-unbound
# shellcheck source=benches/lib.sh
source "$(dirname "$0")/lib.sh"

missing=()
for tool in unbound unbound-checkconf dnsperf; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing: ${missing[*]}; install them with: apt-get install unbound dnsperf"
fi
[[ $(id -u) -eq 0 ]] || die "run as root: the lab must listen on port 53 (Unbound only queries port 53)"

find_rootwalk

run=$(mktemp -d /tmp/serve-vs-unbound.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${KEEP:-0} == 1 ]]; then
        say "run directory kept: $run"
    else
        rm -rf "$run"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the lab, rootwalk, Unbound -------------------------------------------
# A rootwalk that validates DNSSEC is given the lab's own trust anchor
# (older builds without --anchor-out get none); ROOTWALK_SERVE_ARGS adds
# flags, e.g. --no-dnssec to measure the cost of validation.
lab_extra=()
serve_extra=()
if "$ROOTWALK_BIN" lab --help 2>/dev/null | grep -q -- --anchor-out; then
    lab_extra=(--anchor-out "$run/lab.anchor")
    serve_extra=(--trust-anchor "$run/lab.anchor")
fi
read -r -a user_extra <<<"${ROOTWALK_SERVE_ARGS:-}"
if [[ " ${user_extra[*]} " == *" --no-dnssec "* ]]; then
    serve_extra=()
fi
"$ROOTWALK_BIN" lab --port 53 --hints-out "$run/lab.hints" "${lab_extra[@]}" >"$run/lab.log" 2>&1 &
pids+=($!)
wait_for "$run/lab.hints" "root-servers" "the lab (is port 53 free?)"

"$ROOTWALK_BIN" serve --root-hints "$run/lab.hints" \
    --listen "127.0.0.1:$ROOTWALK_PORT" --metrics "127.0.0.1:$METRICS_PORT" \
    "${serve_extra[@]}" "${user_extra[@]}" \
    >"$run/rootwalk.log" 2>&1 &
rootwalk_pid=$!
pids+=("$rootwalk_pid")
wait_for "$run/rootwalk.log" "listening on 127.0.0.1:$ROOTWALK_PORT (UDP)" "rootwalk serve"

cat >"$run/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $UNBOUND_PORT
    num-threads: 2
    so-reuseport: yes
    username: ""
    chroot: ""
    directory: "$run"
    pidfile: "$run/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    root-hints: "$run/lab.hints"
    do-not-query-localhost: no
    module-config: "iterator"
    discard-timeout: 0
    infra-cache-max-rtt: 1000
EOF
unbound-checkconf "$run/unbound.conf" >/dev/null
unbound -d -c "$run/unbound.conf" >"$run/unbound.log" 2>&1 &
unbound_pid=$!
pids+=("$unbound_pid")
wait_for "$run/unbound.log" "start of service" "unbound"
unbound_version=$(unbound -V 2>/dev/null | awk '/^Version/ {print $2; exit}')

# --- the questions: every kind of cached answer the lab offers ------------
# (benches/cached-questions.txt, shared with the other serve scripts)
cp "$repo/benches/cached-questions.txt" "$run/queries.txt"
nqueries=$(wc -l <"$run/queries.txt")

# Sends the list through SERVER's cache twice; fails if anything is lost.
warm() {
    local port=$1 out
    out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$run/queries.txt" -n 2 -c 1 -q 10 -t 5 2>&1)
    if ! grep -q "Queries lost: *0 " <<<"$out"; then
        say "$out"
        die "warming the server on port $port lost queries"
    fi
    awk -F': *' '/Response codes/ {print $2}' <<<"$out"
}

# CPU ticks (user + system, all threads) of PID so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

# One saturating run: prints "qps avg_us lost cpu_us_per_query".
saturate() {
    local port=$1 pid=$2 before after out
    before=$(cpu_ticks "$pid")
    out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$run/queries.txt" -l "$DURATION" \
        -c "$CLIENTS" -q "$OUTSTANDING" 2>&1)
    after=$(cpu_ticks "$pid")
    awk -v ticks=$((after - before)) -v hz="$ticks_per_s" '
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $3 }
        /Queries per second:/ { qps = $4 }
        /Average Latency \(s\):/ { avg = $4 }
        END { printf "%.0f %.0f %d %.2f\n", qps, avg * 1e6, lost, (done ? ticks / hz / done * 1e6 : 0) }
    ' <<<"$out"
}

# One fixed-rate run: prints "avg_us p50_us p99_us replies lost".
fixed_rate() {
    local port=$1
    dnsperf -s 127.0.0.1 -p "$port" -d "$run/queries.txt" -l "$DURATION" -Q "$RATE" \
        -c "$CLIENTS" -v 2>&1 |
        awk '/^> / { print $NF }
             /Queries lost:/ { print "lost", $3 > "/dev/stderr" }' 2>"$run/lost" |
        sort -n |
        awk -v lostfile="$run/lost" '
            { v[NR] = $1; sum += $1 }
            END {
                getline line < lostfile; split(line, f, " ")
                if (NR == 0) { print "0 0 0 0", f[2]; exit }
                p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
                printf "%.0f %.0f %.0f %d %d\n", sum / NR * 1e6, p50 * 1e6, p99 * 1e6, NR, f[2]
            }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "warming: rootwalk $(warm "$ROOTWALK_PORT")"
say "warming: unbound  $(warm "$UNBOUND_PORT")"

: >"$run/rootwalk.results"
: >"$run/unbound.results"
for round in $(seq "$ROUNDS"); do
    # Alternate who goes first, so drift in the machine's load hits both.
    if ((round % 2)); then order="rootwalk unbound"; else order="unbound rootwalk"; fi
    for server in $order; do
        if [[ $server == rootwalk ]]; then port=$ROOTWALK_PORT pid=$rootwalk_pid; else port=$UNBOUND_PORT pid=$unbound_pid; fi
        warm "$port" >/dev/null # re-warm: negative answers live 300 s
        sat=$(saturate "$port" "$pid")
        fix=$(fixed_rate "$port")
        say "round $round $server: saturating qps/avg_us/lost/cpu_us_per_q: $sat; fixed $RATE q/s avg/p50/p99_us/replies/lost: $fix"
        echo "$sat $fix" >>"$run/$server.results"
    done
done

# Column N's median over the rounds of SERVER.
col() { awk -v c="$2" '{ print $c }' "$run/$1.results" | median; }

printf '\nrootwalk serve vs Unbound %s: cached answers, %d questions (answers, CNAME chains, NODATA, NXDOMAIN)\n' \
    "$unbound_version" "$nqueries"
printf 'medians of %d rounds of %d s each, servers alternating; rootwalk udp sockets: default (one per core), unbound num-threads: 2\n' \
    "$ROUNDS" "$DURATION"
printf 'saturating: dnsperf -c %d -q %d;  fixed rate: dnsperf -Q %d -c %d -v\n\n' "$CLIENTS" "$OUTSTANDING" "$RATE" "$CLIENTS"
printf '%-9s %10s %9s %7s %11s   %9s %9s %9s %7s\n' server "QPS" "avg µs" "lost" "CPU µs/q" "avg µs" "p50 µs" "p99 µs" "lost"
for server in rootwalk unbound; do
    printf '%-9s %10.0f %9.0f %7.0f %11.2f   %9.0f %9.0f %9.0f %7.0f\n' "$server" \
        "$(col "$server" 1)" "$(col "$server" 2)" "$(col "$server" 3)" "$(col "$server" 4)" \
        "$(col "$server" 5)" "$(col "$server" 6)" "$(col "$server" 7)" "$(col "$server" 9)"
done
ratio() { awk -v a="$(col rootwalk "$1")" -v b="$(col unbound "$1")" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '\nrootwalk / unbound: QPS %s, saturating avg latency %s, CPU per query %s, fixed-rate avg %s, p99 %s\n' \
    "$(ratio 1)" "$(ratio 2)" "$(ratio 4)" "$(ratio 5)" "$(ratio 7)"

# What rootwalk counted: every measured query should be a cache hit.
if exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"; then
    printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
    metrics=$(cat <&3)
    exec 3>&-
    printf 'rootwalk metrics: %s\n' "$(awk '/^rootwalk_(queries|cache_hits|resolutions|upstream_queries)_total / { printf "%s=%s ", $1, $2 }' <<<"$metrics")"
fi
