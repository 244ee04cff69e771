#!/usr/bin/env bash
# scripts/bench/idle.sh — idle CPU and wake-ups of release leanpoint with 16 upstreams
# (one mock node listed 16 times) and --poll-ms 10000, no inbound clients, for the
# fixture state (1254 B), a 16 MiB state that never changes, and a 16 MiB state that
# changes every round (its slot goes up, as when finality advances).
#
# For each case, over WINDOW_S seconds (30):
#   - CPU% from utime+stime in /proc/PID/stat, wake-ups from the voluntary context
#     switch delta in /proc/PID/status (each blocking epoll_wait that sleeps is one);
#   - epoll_wait calls counted with `perf stat -e syscalls:sys_enter_epoll_wait` when
#     perf and that tracepoint are usable (else skipped);
# then, over another WINDOW_S seconds, `strace -T -e trace=epoll_wait` on the loop thread
# to list every wait: how many returned 0 events (a timer deadline) versus >0 (I/O), and
# how many returned 0 events before their timeout was over (a wake-up between deadlines).
#
# Needs: curl, python3, strace (optional), perf (optional). Knobs: WINDOW_S, POLL_MS,
# STATE_BYTES, UPSTREAMS, LEANPOINT_BIN. Bounded: fixed windows; EXIT trap kills all.

source "$(dirname "$0")/lib.sh"
need curl python3
[[ -x "$LEANPOINT_BIN" ]] || { echo "no $LEANPOINT_BIN: run cargo build --release" >&2; exit 1; }

WINDOW_S="${WINDOW_S:-30}"
POLL_MS="${POLL_MS:-10000}"
STATE_BYTES="${STATE_BYTES:-16777216}"
UPSTREAMS="${UPSTREAMS:-16}"
HZ=$(getconf CLK_TCK)

have_perf=0
if command -v perf >/dev/null 2>&1 &&
    perf stat -e syscalls:sys_enter_epoll_wait -- true >/dev/null 2>&1; then
    have_perf=1
fi
have_strace=0
command -v strace >/dev/null 2>&1 && have_strace=1

echo "## Idle CPU and wake-ups ($UPSTREAMS upstreams, --poll-ms $POLL_MS, ${WINDOW_S} s windows)"
machine_info
echo
echo "| state | CPU % | wake-ups/s (vol. ctx switches) | epoll_wait/s (perf) | strace: waits, of which timed out (0 events) | strace: waits ending with 0 events before a deadline | strace: longest wait (s) |"
echo "|---|---:|---:|---:|---|---|---:|"

measure() { # measure LABEL MOCK_ARGS...
    local label="$1" size ups
    shift
    start_mock "$@"
    size=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$MOCK_PORT/lean/v0/states/finalized?probe")
    ups=$(upstreams_file "$UPSTREAMS" "http://127.0.0.1:$MOCK_PORT")
    start_leanpoint --upstreams-config "$ups" --poll-ms "$POLL_MS" --log-level warn
    wait_agreed "$LP_PORT" "" 60 "$UPSTREAMS"
    sleep 1

    local t0 c0 t1 c1 perf_rate="n/a"
    t0=$(cpu_ticks "$LP_PID")
    c0=$(vcsw "$LP_PID")
    if ((have_perf)); then
        perf stat -x, -o "$WORK/perf.csv" -p "$LP_PID" \
            -e syscalls:sys_enter_epoll_wait -- sleep "$WINDOW_S" >/dev/null 2>&1 || true
        perf_rate=$(awk -F, -v w="$WINDOW_S" '/epoll_wait/ {printf "%.2f", $1 / w}' "$WORK/perf.csv")
    else
        sleep "$WINDOW_S"
    fi
    t1=$(cpu_ticks "$LP_PID")
    c1=$(vcsw "$LP_PID")
    local cpu wake
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v w="$WINDOW_S" 'BEGIN {printf "%.2f", 100 * d / hz / w}')
    wake=$(awk -v d=$((c1 - c0)) -v w="$WINDOW_S" 'BEGIN {printf "%.2f", d / w}')

    local st="n/a" early="n/a" longest="n/a"
    if ((have_strace)); then
        timeout --signal=INT "$WINDOW_S" strace -T -e trace=epoll_wait -p "$LP_PID" \
            -o "$WORK/strace.txt" >/dev/null 2>&1 || true
        # Lines: "epoll_wait(FD, [EVENTS], CAP, TIMEOUT_MS) = N <SECONDS>".
        read -r st early longest < <(python3 - "$WORK/strace.txt" <<'PY'
import re, sys
pat = re.compile(r"epoll_wait\(\d+, .*, \d+, (-?\d+)\) += (\d+) <([\d.]+)>$")
waits = timed_out = early = 0
longest = 0.0
for line in open(sys.argv[1]):
    m = pat.search(line.rstrip())
    if not m:
        continue
    timeout, n, took = int(m.group(1)), int(m.group(2)), float(m.group(3))
    waits += 1
    longest = max(longest, took)
    if n == 0:
        timed_out += 1
        # 0 events although the timeout was not over: a wake-up between deadlines.
        if timeout < 0 or took * 1000 < timeout - 1:
            early += 1
print(f"{waits},{timed_out} {early} {longest:.2f}")
PY
)
        st=${st/,/, }
    fi
    echo "| $size B, $label | $cpu | $wake | $perf_rate | $st | $early | $longest |"
    stop "$LP_PID"
    stop "$MOCK_PID"
}

measure "fixture" --state-bytes 0
measure "unchanged" --state-bytes "$STATE_BYTES"
measure "new every round" --state-bytes "$STATE_BYTES" --advance-every "$UPSTREAMS"
echo
echo "Each poll round is $UPSTREAMS upstreams x 3 requests; a round every $POLL_MS ms is $((WINDOW_S * 1000 / POLL_MS)) rounds per window."
