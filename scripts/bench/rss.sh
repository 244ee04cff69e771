#!/usr/bin/env bash
# scripts/bench/rss.sh — resident memory (VmRSS, /proc/PID/status) of release leanpoint:
#   A. idle, 1 upstream serving the 1254-byte fixture state;
#   B. idle, 16 upstreams (one mock node listed 16 times under different names) serving
#      a 16 MiB state;
#   C. as B, while 32 clients download the state at 1 MiB/s each (curl --limit-rate 1M);
#   D. as B, but the state changes every round (its slot goes up), as when finality
#      advances between rounds;
#   B1-3, D1-3 (MITIGATIONS=1, the default): B and D with MALLOC_MMAP_THRESHOLD_=131072,
#      with --poll-concurrency 2, and with both.
# Each idle case is sampled every 0.5 s over SAMPLE_S seconds (longer than one poll
# round), C over DL_SAMPLE_S seconds from 1 s after the downloads start; each row gives
# the smallest, median and largest VmRSS seen, and VmHWM (peak since start) at the end.
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

row() { # row CASE MIN MEDIAN MAX HWM NOTE
    echo "| $1 | $(kib_to_mib "$2") | $(kib_to_mib "$3") | $(kib_to_mib "$4") | $(kib_to_mib "$5") | $6 |"
}

echo "## RSS (VmRSS, MiB; poll every $POLL_MS ms; sampled every 0.5 s for $SAMPLE_S s)"
machine_info
echo
echo "| case | VmRSS min | VmRSS median | VmRSS max | VmHWM (peak) | note |"
echo "|---|---:|---:|---:|---:|---|"

# A. One upstream, fixture state.
start_mock
start_leanpoint --lean-url "http://127.0.0.1:$MOCK_PORT" --poll-ms "$POLL_MS"
wait_agreed "$LP_PORT" 18 30
sleep 1
read -r lo med hi < <(sample "$LP_PID" "$SAMPLE_S")
row "A. idle, 1 upstream, 1254 B state" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" "after first agreement"
stop "$LP_PID"
stop "$MOCK_PID"

# case16 LABEL DOWNLOADS [leanpoint args...]: runs leanpoint on the 16 upstreams of
# $ups, waits for 16 agreeing, samples, optionally starts DOWNLOADS slow downloads and
# samples again; prints one row per sampling.
case16() {
    local label="$1" downloads="$2" lo med hi open p i pids=()
    shift 2
    start_leanpoint --upstreams-config "$ups" --poll-ms "$POLL_MS" "$@"
    wait_agreed "$LP_PORT" "" 60 16
    sleep 1
    read -r lo med hi < <(sample "$LP_PID" "$SAMPLE_S")
    row "$label" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" "idle; max/peak include poll rounds"
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
        read -r lo med hi < <(sample "$LP_PID" "$DL_SAMPLE_S")
        open=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && open=$((open + 1)); done
        row "C. as B + $downloads downloads at 1 MiB/s" "$lo" "$med" "$hi" "$(hwm_kib "$LP_PID")" \
            "$open of $downloads downloads still running when sampling ended"
        for p in "${pids[@]}"; do stop "$p"; done
    fi
    stop "$LP_PID"
}

# mitigations LETTER: the case again under glibc with a fixed mmap threshold (freed
# large buffers go back to the kernel), with at most 2 upstream sockets at once, and both.
mitigations() {
    [[ "${MITIGATIONS:-1}" == 1 ]] || return 0
    MALLOC_MMAP_THRESHOLD_=131072 case16 "${1}1. as $1, env MALLOC_MMAP_THRESHOLD_=131072" 0
    case16 "${1}2. as $1, --poll-concurrency 2" 0 --poll-concurrency 2
    MALLOC_MMAP_THRESHOLD_=131072 case16 "${1}3. as $1, both" 0 --poll-concurrency 2
}

# B. 16 upstreams, the same 16 MiB state every round; C. the same with slow downloads.
start_mock --state-bytes "$STATE_BYTES"
size=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$MOCK_PORT/lean/v0/states/finalized?probe")
ups=$(upstreams_file 16 "http://127.0.0.1:$MOCK_PORT")
case16 "B. 16 upstreams, $size B state, unchanged" "$DOWNLOADS"
mitigations B
stop "$MOCK_PID"

# D. 16 upstreams, a new 16 MiB state every round (its slot goes up by one every 16
# state requests), as when finality advances between rounds.
start_mock --state-bytes "$STATE_BYTES" --advance-every 16
ups=$(upstreams_file 16 "http://127.0.0.1:$MOCK_PORT")
case16 "D. 16 upstreams, $size B state, new every round" 0
mitigations D
stop "$MOCK_PID"
