#!/usr/bin/env bash
# scripts/bench/rss.sh — resident memory (VmRSS, /proc/PID/status) of release leanpoint.
# leanpoint polls only the fork choice and the justified checkpoint every round and
# downloads the block and state of a new finalized checkpoint once, from one upstream,
# verifying them before they are served; the cases are:
#   A. idle, 1 upstream serving the 1254-byte fixture bundle;
#   B. idle, 16 upstreams (one mock node listed 16 times under different names) serving
#      a 16 MiB state whose checkpoint never changes: the bundle is fetched once, then
#      rounds fetch only JSON;
#   C. as B, while 32 clients download the state at 1 MiB/s each (curl --limit-rate 1M);
#   D. as B, but a new finalized checkpoint every round (the mock's --advance-every 16
#      moves to another consistent 16 MiB bundle every 16 fork-choice requests, that is
#      every round), so one block and one 16 MiB state are fetched and verified per round;
#   B1-3, D1-3 (MITIGATIONS=1, the default): B and D with MALLOC_MMAP_THRESHOLD_=131072
#      (the threshold leanpoint now sets itself, so expected to change nothing), with
#      --poll-concurrency 2, and with both.
# Every case starts its own mock and leanpoint and waits until leanpoint has agreed and
# verified the bundle; the 16-upstream cases also wait for a second round (in D, the
# first advance), so the window shows what is held between advances. Each idle case is sampled every 0.5 s over SAMPLE_S seconds
# (longer than one poll round), C over DL_SAMPLE_S seconds from 1 s after the downloads
# start; each row gives the smallest, median and largest VmRSS seen, VmHWM (peak since
# start) at the end, and, from leanpoint's /metrics over the sampling window, the rounds
# completed, the bundles verified and the state bytes fetched from upstreams.
#
# Needs: curl, python3, target/release/leanpoint. Knobs: POLL_MS (10000), SAMPLE_S (12),
# DL_SAMPLE_S (6), STATE_BYTES (16777216), DOWNLOADS (32), MITIGATIONS (1),
# LEANPOINT_BIN. Bounded: fixed sampling windows, curl --max-time 60; the EXIT trap
# kills everything started.

source "$(dirname "$0")/lib.sh"
need curl python3
[[ -x "$LEANPOINT_BIN" ]] || { echo "no $LEANPOINT_BIN: run cargo build --release" >&2; exit 1; }

POLL_MS="${POLL_MS:-10000}"
SAMPLE_S="${SAMPLE_S:-12}"
STATE_BYTES="${STATE_BYTES:-16777216}"
DOWNLOADS="${DOWNLOADS:-32}"
DL_SAMPLE_S="${DL_SAMPLE_S:-6}"

# sample PID SECONDS: prints "min median max" VmRSS in KiB over SECONDS, sampled every
# 0.5 s. Most samples fall between poll rounds, so the median is the between-rounds level.
sample() {
    local pid="$1" n=$(($2 * 2)) i
    for ((i = 0; i < n; i++)); do
        rss_kib "$pid"
        sleep 0.5
    done | sort -n | awk '{v[NR] = $1} END {print v[1], v[int((NR + 1) / 2)], v[NR]}'
}

# counters PORT: prints "rounds bundles_verified state_bytes_fetched" from leanpoint's
# /metrics.
counters() {
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '
        $1 == "leanpoint_poll_rounds_total" {r = $2}
        $1 == "leanpoint_bundles_verified_total" {b = $2}
        $1 == "leanpoint_upstream_fetched_bytes_total{request=\"state\"}" {s = $2}
        END {print r + 0, b + 0, s + 0}'
}

# window BEFORE AFTER: the note of a sampling window from two `counters` lines.
window() {
    local r0 b0 s0 r1 b1 s1
    read -r r0 b0 s0 <<<"$1"
    read -r r1 b1 s1 <<<"$2"
    awk -v r=$((r1 - r0)) -v b=$((b1 - b0)) -v s=$((s1 - s0)) \
        'function n(k, what) {return k " " what (k == 1 ? "" : "s")}
         BEGIN {printf "in the window: %s, %s verified, %.1f MiB of state fetched",
                n(r, "round"), n(b, "bundle"), s / 1048576}'
}

# wait_rounds PORT ROUNDS [SECONDS]: waits until leanpoint on PORT has completed ROUNDS
# poll rounds.
wait_rounds() {
    local port="$1" want="$2" secs="${3:-60}" i r
    for ((i = 0; i < secs * 10; i++)); do
        read -r r _ <<<"$(counters "$port")"
        ((r >= want)) && return 0
        sleep 0.1
    done
    echo "leanpoint on $port completed only $r of $want rounds" >&2
    return 1
}

# wait_verified PORT [SECONDS] [AGREEING]: waits until /status on PORT says the bundle
# served is verified (and, if given, agreeing_upstreams AGREEING).
wait_verified() {
    local port="$1" secs="${2:-60}" agreeing="${3:-}" i body
    for ((i = 0; i < secs * 10; i++)); do
        body=$(curl -s --max-time 1 "http://127.0.0.1:$port/status" || true)
        if [[ "$body" == *'"bundle_verified":true'* ]] &&
            [[ -z "$agreeing" || "$body" == *"\"agreeing_upstreams\":$agreeing,"* ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "leanpoint on $port never verified a bundle: $body" >&2
    return 1
}

row() { # row CASE MIN MEDIAN MAX HWM NOTE
    echo "| $1 | $(kib_to_mib "$2") | $(kib_to_mib "$3") | $(kib_to_mib "$4") | $(kib_to_mib "$5") | $6 |"
}

echo "## RSS (VmRSS, MiB; poll every $POLL_MS ms; sampled every 0.5 s for $SAMPLE_S s)"
machine_info
echo
echo "| case | VmRSS min | VmRSS median | VmRSS max | VmHWM (peak) | note |"
echo "|---|---:|---:|---:|---:|---|"

# A. One upstream, fixture bundle.
start_mock
start_leanpoint --lean-url "http://127.0.0.1:$MOCK_PORT" --poll-ms "$POLL_MS"
wait_agreed "$LP_PORT" 18 30
wait_verified "$LP_PORT" 30
sleep 1
c0=$(counters "$LP_PORT")
read -r lo med hi < <(sample "$LP_PID" "$SAMPLE_S")
row "A. idle, 1 upstream, 1254 B state" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" \
    "after the bundle is verified; $(window "$c0" "$(counters "$LP_PORT")")"
stop "$LP_PID"
stop "$MOCK_PID"

# case16 LABEL DOWNLOADS [leanpoint args...]: starts a mock with the args in
# ${MOCK_ARGS[@]} (a fresh one each time, so its fork-choice count starts at 0 with
# leanpoint's first round), runs leanpoint on 16 upstreams listing it, waits until all
# 16 agree, the bundle is verified and a second round is done (in D, the first advance:
# what leanpoint holds between advances, not only before the first), samples (a window
# with one more round), optionally starts DOWNLOADS slow downloads and samples again;
# prints one row per sampling.
case16() {
    local label="$1" downloads="$2" lo med hi open p i c0 c1 ups pids=()
    shift 2
    start_mock "${MOCK_ARGS[@]}"
    ups=$(upstreams_file 16 "http://127.0.0.1:$MOCK_PORT")
    start_leanpoint --upstreams-config "$ups" --poll-ms "$POLL_MS" "$@"
    wait_agreed "$LP_PORT" "" 60 16
    wait_verified "$LP_PORT" 60 16
    wait_rounds "$LP_PORT" 2 $((POLL_MS / 1000 * 2 + 30))
    wait_verified "$LP_PORT" 60 16
    sleep 1
    c0=$(counters "$LP_PORT")
    read -r lo med hi < <(sample "$LP_PID" "$SAMPLE_S")
    c1=$(counters "$LP_PORT")
    row "$label" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" \
        "idle; max/peak include poll rounds; $(window "$c0" "$c1")"
    if ((downloads > 0)); then
        for ((i = 0; i < downloads; i++)); do
            curl -s --limit-rate 1M --max-time 60 -o /dev/null \
                "http://127.0.0.1:$LP_PORT/lean/v0/states/finalized" &
            pids+=("$!")
            BENCH_PIDS+=("$!")
        done
        # curl's rate limit lets the first seconds burst into the socket buffers; the
        # downloads last 8-15 s, so sample from 1 s to 1 + DL_SAMPLE_S s.
        sleep 1
        c0=$(counters "$LP_PORT")
        read -r lo med hi < <(sample "$LP_PID" "$DL_SAMPLE_S")
        c1=$(counters "$LP_PORT")
        open=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && open=$((open + 1)); done
        row "C. as B + $downloads downloads at 1 MiB/s" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" \
            "$open of $downloads downloads still running when sampling ended; $(window "$c0" "$c1")"
        for p in "${pids[@]}"; do stop "$p"; done
    fi
    stop "$LP_PID"
    stop "$MOCK_PID"
}

# mitigations LETTER: the case again under glibc with a fixed mmap threshold (the one
# leanpoint sets itself unless the variable is set), with at most 2 upstream sockets at
# once, and both.
mitigations() {
    [[ "${MITIGATIONS:-1}" == 1 ]] || return 0
    MALLOC_MMAP_THRESHOLD_=131072 case16 "${1}1. as $1, env MALLOC_MMAP_THRESHOLD_=131072" 0
    case16 "${1}2. as $1, --poll-concurrency 2" 0 --poll-concurrency 2
    MALLOC_MMAP_THRESHOLD_=131072 case16 "${1}3. as $1, both" 0 --poll-concurrency 2
}

# The size of the state served (the mock grows it to exactly STATE_BYTES).
start_mock --state-bytes "$STATE_BYTES"
size=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$MOCK_PORT/lean/v0/states/finalized?probe")
stop "$MOCK_PID"

# B. 16 upstreams, one 16 MiB bundle that never changes; C. the same with slow downloads.
MOCK_ARGS=(--state-bytes "$STATE_BYTES")
case16 "B. 16 upstreams, $size B state, checkpoint unchanged" "$DOWNLOADS"
mitigations B

# D. 16 upstreams, a new finalized checkpoint (another consistent 16 MiB bundle) every
# round: the mock advances every 16 fork-choice requests.
MOCK_ARGS=(--state-bytes "$STATE_BYTES" --advance-every 16)
case16 "D. 16 upstreams, $size B state, new checkpoint every round" 0
mitigations D
