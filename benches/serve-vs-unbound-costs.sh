#!/usr/bin/env bash
# The resolver's own costs, rootwalk serve against Unbound in one run:
# cache misses (throughput and CPU per miss), memory per cached name, and
# CPU and 99th-percentile latency per cached answer at a fixed rate.
#
# Usage: benches/serve-vs-unbound-costs.sh   (as root: the lab needs port 53)
#
# It installs nothing. It needs `unbound` (with unbound-checkconf and
# unbound-control) and `dnsperf`:   apt-get install unbound dnsperf
#
# Steps: build rootwalk (release) unless ROOTWALK_BIN is given, start the
# lab on port 53, then for each round, alternating which server goes
# first, start a fresh rootwalk serve or Unbound (2 threads each) and:
#   1. warm it with two names of the lab's wildcard zone (*.wild.a.tld1),
#      so the zone cut, its keys and the empty non-terminal wild.a.tld1 are
#      cached and each new name costs one upstream query;
#   2. misses: NAMES distinct names under the wildcard, each asked once
#      (dnsperf -n 1 -c CLIENTS -q OUTSTANDING): replies per second, the
#      server's CPU (utime + stime of all its threads, /proc/PID/stat) per
#      miss (and how much of it is user time, utime), and VmRSS growth
#      per name (/proc/PID/status) with caches big
#      enough that nothing is evicted (rootwalk --cache-size CACHE_SIZE,
#      Unbound msg-cache-size and rrset-cache-size UNBOUND_CACHE);
#   3. cached answers: 20 cached questions (answers, CNAME chains, NODATA,
#      NXDOMAIN) at a fixed RATE for DURATION seconds (dnsperf -Q -v): CPU
#      per answer, and the 99th percentile of every reply's latency;
# then stop it. The table gives both rounds' figures, their median and
# rootwalk's median as a ratio of Unbound's.
#
# The floor: each round also runs step 3 against examples/udp_floor.rs,
# threads that only send each query back with QR set (2, on FLOOR_PORT).
# Its CPU per answer is what the kernel alone takes here to receive a
# query, sleep and be woken, and deliver a reply to dnsperf: the least
# any server can pay. FLOOR=0 leaves it out.
#
# Validation: when rootwalk validates DNSSEC (the default: it gets the
# lab's trust anchor), Unbound gets the same anchor and its validator, so
# both verify each new wildcard answer's RRSIG and its denial proof.
# ROOTWALK_SERVE_ARGS=--no-dnssec turns both off (Unbound: iterator only).
# Unbound's aggressive-nsec is off: with it, Unbound synthesises the
# wildcard's answers from the cached NSEC and wildcard (RFC 8198 §5.4) and
# sends nothing upstream, which rootwalk does not do; the figure wanted
# here is the cost of a real miss.
#
# Settings (environment):
#   ROUNDS=2 NAMES=80000 CLIENTS=8 OUTSTANDING=100 RATE=30000 DURATION=10
#   CACHE_SIZE=1G UNBOUND_CACHE=256m LAB_LATENCY_MS=0
#   ROOTWALK_PORT=5391 UNBOUND_PORT=5392 METRICS_PORT=5393 FLOOR_PORT=5394 FLOOR=1
#   ROOTWALK_BIN=path (skip the cargo build)  LAB_BIN=path (default: ROOTWALK_BIN)
#   ROOTWALK_SERVE_ARGS="--no-dnssec" (extra flags for rootwalk serve)
#   KEEP=1 (keep the run directory with every log and dnsperf output)
#
# Everything started is stopped on exit (trap). dnsperf and the lab share
# the cores with the server measured: the q/s figures are the whole
# machine's, the CPU figures the server's own.
set -euo pipefail

ROUNDS=${ROUNDS:-2}
NAMES=${NAMES:-80000}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
RATE=${RATE:-30000}
DURATION=${DURATION:-10}
LAB_LATENCY_MS=${LAB_LATENCY_MS:-0}
CACHE_SIZE=${CACHE_SIZE:-1G}
UNBOUND_CACHE=${UNBOUND_CACHE:-256m}
ROOTWALK_PORT=${ROOTWALK_PORT:-5391}
UNBOUND_PORT=${UNBOUND_PORT:-5392}
METRICS_PORT=${METRICS_PORT:-5393}
FLOOR_PORT=${FLOOR_PORT:-5394}
FLOOR=${FLOOR:-1}
# How long to wait for a server to come up.
START_WAIT_S=15

SCRIPT=serve-vs-unbound-costs
# shellcheck source=benches/lib.sh
source "$(dirname "$0")/lib.sh"

missing=()
for tool in unbound unbound-checkconf unbound-control dnsperf; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing: ${missing[*]}; install them with: apt-get install unbound dnsperf"
fi
[[ $(id -u) -eq 0 ]] || die "run as root: the lab must listen on port 53 (Unbound only queries port 53)"

find_rootwalk
LAB_BIN=${LAB_BIN:-$ROOTWALK_BIN}
[[ -x $LAB_BIN ]] || die "no lab binary at $LAB_BIN"
if [[ $FLOOR == 1 ]]; then
    cargo build --release --locked --quiet --example udp_floor --manifest-path "$repo/Cargo.toml"
    floor_bin="$repo/target/release/examples/udp_floor"
fi

run=$(mktemp -d /tmp/serve-vs-unbound-costs.XXXXXX)
lab_pid=""
server_pid=""
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$server_pid"
    stop_pid "$lab_pid"
    if [[ ${KEEP:-0} == 1 ]]; then
        say "run directory kept: $run"
    else
        rm -rf "$run"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the lab ----------------------------------------------------------------
lab_extra=()
serve_extra=()
if "$LAB_BIN" lab --help 2>/dev/null | grep -q -- --anchor-out; then
    lab_extra=(--anchor-out "$run/lab.anchor")
    serve_extra=(--trust-anchor "$run/lab.anchor")
fi
read -r -a user_extra <<<"${ROOTWALK_SERVE_ARGS:-}"
validating=1
if [[ " ${user_extra[*]} " == *" --no-dnssec "* ]] || ((${#serve_extra[@]} == 0)); then
    serve_extra=()
    validating=0
fi
# The lab's own manifest and zones, with every server's reply delay set to
# LAB_LATENCY_MS (the built-in lab waits 10 ms before each reply, which
# would make the miss rate a measure of outstanding queries / latency).
mkdir "$run/lab"
cp "$repo"/testdata/lab/*.zone "$run/lab/"
sed "s/^latency_ms = .*/latency_ms = $LAB_LATENCY_MS/" "$repo/testdata/lab/manifest.toml" >"$run/lab/manifest.toml"
"$LAB_BIN" lab --port 53 --manifest "$run/lab/manifest.toml" --hints-out "$run/lab.hints" "${lab_extra[@]}" \
    >"$run/lab.log" 2>&1 &
lab_pid=$!
wait_for "$run/lab.hints" "root-servers" "the lab (is port 53 free?)"

# --- the two servers --------------------------------------------------------
start_rootwalk() {
    "$ROOTWALK_BIN" serve --root-hints "$run/lab.hints" \
        --listen "127.0.0.1:$ROOTWALK_PORT" --metrics "127.0.0.1:$METRICS_PORT" \
        --cache-size "$CACHE_SIZE" "${serve_extra[@]}" "${user_extra[@]}" \
        >"$run/rootwalk.$round.log" 2>&1 &
    server_pid=$!
    wait_for "$run/rootwalk.$round.log" "listening on 127.0.0.1:$ROOTWALK_PORT (UDP)" "rootwalk serve"
}

if ((validating)); then
    unbound_modules="validator iterator"
    unbound_anchor="trust-anchor-file: \"$run/lab.anchor\""
else
    unbound_modules="iterator"
    unbound_anchor=""
fi
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
    module-config: "$unbound_modules"
    $unbound_anchor
    discard-timeout: 0
    infra-cache-max-rtt: 1000
    aggressive-nsec: no
    msg-cache-size: $UNBOUND_CACHE
    rrset-cache-size: $UNBOUND_CACHE
    extended-statistics: yes
remote-control:
    control-enable: yes
    control-use-cert: no
    control-interface: "$run/unbound.ctl"
EOF
unbound-checkconf "$run/unbound.conf" >/dev/null
unbound_version=$(unbound -V 2>/dev/null | awk '/^Version/ {print $2; exit}')

start_floor() {
    "$floor_bin" "$FLOOR_PORT" 2 $((DURATION + 60)) >"$run/floor.$round.log" 2>&1 &
    server_pid=$!
    wait_for "$run/floor.$round.log" "ready" "the floor (examples/udp_floor.rs)"
}

start_unbound() {
    unbound -d -c "$run/unbound.conf" >"$run/unbound.$round.log" 2>&1 &
    server_pid=$!
    wait_for "$run/unbound.$round.log" "start of service" "unbound"
}

# Upstream queries the server has sent so far (rootwalk: its metrics;
# Unbound: outgoing UDP and TCP queries from its statistics).
upstream_queries() {
    local server=$1 metrics
    if [[ $server == rootwalk ]]; then
        exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"
        printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
        metrics=$(cat <&3)
        exec 3>&-
        awk '/^rootwalk_upstream_queries_total / { print $2 }' <<<"$metrics"
    else
        unbound-control -c "$run/unbound.conf" stats_noreset |
            awk -F= '/^num\.query\.(udpout|tcpout)=/ { n += $2 } END { print n + 0 }'
    fi
}

# --- the questions ----------------------------------------------------------
printf 'warm1.wild.a.tld1 A\nwarm2.wild.a.tld1 A\n' >"$run/warm-names.txt"
awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "m%d.wild.a.tld1 A\n", i }' >"$run/names.txt"
cp "$repo/benches/cached-questions.txt" "$run/cached.txt"

# Sends FILE through the server on PORT, each name REPEAT times, one at a
# time; fails if anything is lost.
warm() {
    local port=$1 file=$2 repeat=$3 out
    out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$file" -n "$repeat" -c 1 -q 10 -t 5 2>&1)
    if ! grep -q "Queries lost: *0 " <<<"$out"; then
        say "$out"
        die "warming the server on port $port with $file lost queries"
    fi
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
ticks_per_s=$(getconf CLK_TCK)

# Misses: prints "qps cpu_us_per_miss rss_bytes_per_name upstream_per_miss
# lost user_us_per_miss", the last the part of the CPU spent in the server's
# own code (utime), the rest being the kernel's work for it (stime).
misses() {
    local server=$1 port=$2 pid=$3 out cpu0 cpu1 user0 user1 rss0 rss1 up0 up1
    up0=$(upstream_queries "$server")
    rss0=$(rss_kb "$pid")
    cpu0=$(cpu_ticks "$pid")
    user0=$(user_ticks "$pid")
    out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$run/names.txt" -n 1 \
        -c "$CLIENTS" -q "$OUTSTANDING" -t 5 2>&1)
    cpu1=$(cpu_ticks "$pid")
    user1=$(user_ticks "$pid")
    rss1=$(rss_kb "$pid")
    up1=$(upstream_queries "$server")
    printf '%s\n' "$out" >"$run/$server.misses.$round.txt"
    awk -v ticks=$((cpu1 - cpu0)) -v user=$((user1 - user0)) -v hz="$ticks_per_s" \
        -v rss=$((rss1 - rss0)) -v up=$((up1 - up0)) -v names="$NAMES" '
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $3 }
        /Queries per second:/ { qps = $4 }
        END {
            printf "%.0f %.2f %.0f %.2f %d %.2f\n", qps, (done ? ticks / hz / done * 1e6 : 0),
                rss * 1024 / names, (done ? up / done : 0), lost, (done ? user / hz / done * 1e6 : 0)
        }' <<<"$out"
}

# Cached answers at a fixed rate: prints "cpu_us_per_answer p99_us replies lost".
cached() {
    local server=$1 port=$2 pid=$3 cpu0 cpu1
    cpu0=$(cpu_ticks "$pid")
    dnsperf -s 127.0.0.1 -p "$port" -d "$run/cached.txt" -l "$DURATION" -Q "$RATE" \
        -c "$CLIENTS" -v >"$run/$server.cached.$round.txt" 2>&1
    cpu1=$(cpu_ticks "$pid")
    awk '/^> / { print $NF }' "$run/$server.cached.$round.txt" | sort -g |
        awk -v ticks=$((cpu1 - cpu0)) -v hz="$ticks_per_s" \
            -v lost="$(awk '/Queries lost:/ { print $3 }' "$run/$server.cached.$round.txt")" '
            { v[NR] = $1 }
            END {
                if (NR == 0) { print "0 0 0", lost; exit }
                printf "%.2f %.0f %d %d\n", ticks / hz / NR * 1e6, v[int((NR - 1) * 0.99) + 1] * 1e6, NR, lost
            }'
}

: >"$run/rootwalk.results"
: >"$run/unbound.results"
: >"$run/floor.results"
say "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    # Alternate who goes first, so drift in the machine's load hits both.
    if ((round % 2)); then order="rootwalk unbound"; else order="unbound rootwalk"; fi
    for server in $order; do
        if [[ $server == rootwalk ]]; then port=$ROOTWALK_PORT; start_rootwalk; else port=$UNBOUND_PORT; start_unbound; fi
        warm "$port" "$run/warm-names.txt" 1
        miss=$(misses "$server" "$port" "$server_pid")
        warm "$port" "$run/cached.txt" 2
        hit=$(cached "$server" "$port" "$server_pid")
        stop_pid "$server_pid"
        server_pid=""
        say "round $round $server: misses q/s, CPU µs/miss, RSS B/name, upstream/miss, lost, user µs/miss: $miss;" \
            "cached at $RATE q/s: CPU µs/answer, p99 µs, replies, lost: $hit (load $(cut -d' ' -f1 /proc/loadavg))"
        # Columns: the misses' first five, the cached answers' four, then
        # the misses' user time.
        read -r qps cpu rss up lost user <<<"$miss"
        echo "$qps $cpu $rss $up $lost $hit $user" >>"$run/$server.results"
    done
    if [[ $FLOOR == 1 ]]; then
        start_floor
        hit=$(cached floor "$FLOOR_PORT" "$server_pid")
        stop_pid "$server_pid"
        server_pid=""
        say "round $round floor: at $RATE q/s: CPU µs/answer, p99 µs, replies, lost: $hit"
        # Same columns as the servers' rows; the floor has no misses.
        echo "0 0 0 0 0 $hit 0" >>"$run/floor.results"
    fi
done

# Column N of SERVER's rounds: "a / b" and their median.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
runs() { awk -v c="$2" '{ printf "%s%s", (NR > 1 ? "/" : ""), $c }' "$run/$1.results"; }
med() { awk -v c="$2" '{ print $c }' "$run/$1.results" | median; }
# Row LABEL: column C of WHO's rounds (default rootwalk) beside Unbound's.
row() {
    local label=$1 c=$2 who=${3:-rootwalk}
    local a b
    a=$(med "$who" "$c")
    b=$(med unbound "$c")
    printf '%-40s %17s %9s   %17s %9s   %6s\n' "$label" "$(runs "$who" "$c")" "$a" "$(runs unbound "$c")" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')"
}

printf '\nrootwalk serve vs Unbound %s, %s; %d rounds, servers alternating, each started afresh per round\n' \
    "$unbound_version" "$( ((validating)) && echo "both validating DNSSEC" || echo "no DNSSEC validation")" "$ROUNDS"
printf 'misses: %d names under *.wild.a.tld1, dnsperf -n 1 -c %d -q %d; cached: 20 questions at dnsperf -Q %d -c %d for %d s\n' \
    "$NAMES" "$CLIENTS" "$OUTSTANDING" "$RATE" "$CLIENTS" "$DURATION"
printf 'caches: rootwalk --cache-size %s; Unbound msg-cache-size and rrset-cache-size %s; 2 threads each\n\n' \
    "$CACHE_SIZE" "$UNBOUND_CACHE"
printf '%-40s %17s %9s   %17s %9s   %6s\n' figure "rootwalk runs" median "unbound runs" median ratio
row "cache-miss q/s" 1
row "CPU µs per cache miss" 2
row "  of which user (utime; the rest stime)" 10
row "RSS growth B per cached name" 3
row "upstream queries per miss" 4
row "CPU µs per cached answer at fixed rate" 6
row "p99 µs at fixed rate" 7
row "replies lost (misses)" 5
row "replies lost (fixed rate)" 9
if [[ $FLOOR == 1 ]]; then
    printf '%-40s %17s\n' "floor (echo only, examples/udp_floor.rs)" "in rootwalk's columns"
    row "  CPU µs per answer at fixed rate" 6 floor
    row "  p99 µs at fixed rate" 7 floor
fi
printf 'load after the run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
