#!/usr/bin/env bash
# scripts/bench/fairness.sh — can one inbound connection hold the loop? One client
# streams pipelined `GET /status` requests while reading the answers (two threads, one
# socket), and meanwhile a second client times single `GET /status` requests with curl.
# Prints curl's latency before and during the flood, the age of the agreed data (poll
# rounds every second: an age well above 1 s means rounds were held up) and, when perf
# is usable, how many epoll_wait / recvfrom / writev calls the loop made meanwhile.
#
# Needs: curl, python3, target/release/leanpoint; perf optional. Knobs: FLOOD_S (8),
# PROBES (15), LEANPOINT_BIN. Bounded: the flood stops after FLOOD_S; EXIT trap.

source "$(dirname "$0")/lib.sh"
need curl python3
[[ -x "$LEANPOINT_BIN" ]] || { echo "no $LEANPOINT_BIN: run cargo build --release" >&2; exit 1; }
FLOOD_S="${FLOOD_S:-8}"
PROBES="${PROBES:-15}"

cat >"$WORK/flood.py" <<'PY'
import socket, sys, threading, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
batch = b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n" * 256
stop = time.time() + secs
got = [0]
def reader():
    while time.time() < stop:
        try:
            d = s.recv(1 << 20)
        except OSError:
            return
        if not d:
            return
        got[0] += len(d)
threading.Thread(target=reader, daemon=True).start()
sent = 0
while time.time() < stop:
    try:
        s.sendall(batch)
    except OSError:
        break
    sent += len(batch)
print(f"flood: sent {sent} B of requests, read {got[0]} B of responses", file=sys.stderr)
PY

echo "## Fairness: one pipelining connection vs a second client"
machine_info
start_mock
start_leanpoint --lean-url "http://127.0.0.1:$MOCK_PORT" --poll-ms 1000 --log-level warn
wait_agreed "$LP_PORT" 18 30

probe() { # probe: "seconds age_ms" of one GET /status
    local t now age
    t=$(curl -s -m 10 -o "$WORK/st.json" -w '%{time_total}' "http://127.0.0.1:$LP_PORT/status")
    now=$(date +%s%3N)
    age=$((now - $(grep -o '"last_updated_ms":[0-9]*' "$WORK/st.json" | cut -d: -f2)))
    echo "$t $age"
}
summary() { # summary LABEL: reads "seconds age" lines, prints a table row
    sort -n | awk -v l="$1" '{t[NR] = $1 * 1000; if ($2 > a) a = $2}
        END {printf "| %s | %d | %.2f | %.2f | %.2f | %d |\n", l, NR, t[int((NR + 1) / 2)], t[NR], t[1], a}'
}

echo
echo "| phase | probes | curl median ms | curl max ms | curl min ms | max age of agreed data ms |"
echo "|---|---:|---:|---:|---:|---:|"
for ((i = 0; i < PROBES; i++)); do probe; sleep 0.2; done | summary "before"

bg_start "$WORK/flood.log" python3 "$WORK/flood.py" "$LP_PORT" "$FLOOD_S"
FLOOD_PID=$BG_PID
sleep 1
if command -v perf >/dev/null 2>&1 && perf stat -e syscalls:sys_enter_epoll_wait -- true >/dev/null 2>&1; then
    perf stat -x, -o "$WORK/perf.csv" -p "$LP_PID" -e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_recvfrom,syscalls:sys_enter_writev \
        -- sleep $((FLOOD_S - 3)) >/dev/null 2>&1 &
    PERF_PID=$!
    BENCH_PIDS+=("$PERF_PID")
fi
for ((i = 0; i < PROBES; i++)); do probe; sleep 0.2; done | summary "during flood"
stop "$FLOOD_PID"
if [[ -n "${PERF_PID:-}" ]]; then
    wait "$PERF_PID" || true
    echo
    echo "Loop syscalls during $((FLOOD_S - 3)) s of the flood (perf): $(awk -F, '/syscalls/ {sub("syscalls:sys_enter_", "", $3); printf "%s %s, ", $3, $1}' "$WORK/perf.csv")"
fi
echo
cat "$WORK/flood.log"
