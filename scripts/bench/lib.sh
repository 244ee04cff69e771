# scripts/bench/lib.sh — helpers shared by the bench scripts (sourced, not run):
# a work dir and a trap that kills every process the script started, free loopback
# ports, the mock lean node, leanpoint, and readers of /proc/PID/{status,stat}.
# Every process started goes through `bg_start` so the EXIT trap can kill it by PID.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LEANPOINT_BIN="${LEANPOINT_BIN:-$ROOT/target/release/leanpoint}"
MOCK="$ROOT/scripts/bench/mock_lean_node.py"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/leanpoint-bench.XXXXXX")"
BENCH_PIDS=()

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bg_start LOGFILE CMD...: starts CMD in the background, records its PID in BG_PID.
bg_start() {
    local log="$1"
    shift
    "$@" >"$log" 2>&1 &
    BG_PID=$!
    BENCH_PIDS+=("$BG_PID")
}

# stop PID: kills one process this script started and waits for it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "missing: $c (apt-get install -y $c)" >&2; exit 1; }
    done
}

# free_port: prints a loopback port that was free a moment ago.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_file FILE [TENTHS]: waits until FILE exists (default 10 s).
wait_for_file() {
    local i
    for ((i = 0; i < ${2:-100}; i++)); do
        [[ -s "$1" ]] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1" >&2
    return 1
}

# start_mock [--state-bytes N]: starts a mock lean node; sets MOCK_PID and MOCK_PORT.
start_mock() {
    local pf="$WORK/mock.$RANDOM.port"
    bg_start "$WORK/mock.log" python3 "$MOCK" --port 0 --port-file "$pf" "$@"
    MOCK_PID=$BG_PID
    wait_for_file "$pf" 300
    MOCK_PORT=$(cat "$pf")
}

# upstreams_file N URL: writes a file of N upstreams named n0..n(N-1), all at URL.
upstreams_file() {
    local n="$1" url="$2" f="$WORK/upstreams.$1.json" i sep=""
    {
        printf '{"upstreams": ['
        for ((i = 0; i < n; i++)); do
            printf '%s{"name": "n%d", "url": "%s", "path": "/status"}' "$sep" "$i" "$url"
            sep=", "
        done
        printf ']}\n'
    } >"$f"
    echo "$f"
}

# start_leanpoint ARGS...: starts leanpoint on a free loopback port; sets LP_PID, LP_PORT.
start_leanpoint() {
    LP_PORT=$(free_port)
    bg_start "$WORK/leanpoint.$LP_PORT.log" "$LEANPOINT_BIN" --bind 127.0.0.1 --port "$LP_PORT" "$@"
    LP_PID=$BG_PID
}

# wait_agreed PORT SLOT [SECONDS] [AGREEING]: waits until /status on PORT says
# finalized_slot SLOT (any slot if SLOT is empty; and, if given, agreeing_upstreams
# AGREEING).
wait_agreed() {
    local port="$1" slot="$2" secs="${3:-30}" agreeing="${4:-}" i body
    for ((i = 0; i < secs * 10; i++)); do
        body=$(curl -s --max-time 1 "http://127.0.0.1:$port/status" || true)
        if [[ ( -z "$slot" && "$body" == *'"has_consensus":true'* ) ||
            "$body" == *"\"finalized_slot\":$slot,"* ]] &&
            [[ -z "$agreeing" || "$body" == *"\"agreeing_upstreams\":$agreeing,"* ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "leanpoint on $port never agreed on slot $slot: $body" >&2
    return 1
}

# rss_kib PID: VmRSS of PID in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# hwm_kib PID: VmHWM (peak RSS) of PID in KiB.
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# cpu_ticks PID: utime + stime of PID in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# vcsw PID: voluntary context switches of PID (each is one blocking wait).
vcsw() { awk '/^voluntary_ctxt_switches:/ {print $2}' "/proc/$1/status"; }

# kib_to_mib KIB: prints KIB as MiB with two decimals.
kib_to_mib() { awk -v k="$1" 'BEGIN {printf "%.2f", k / 1024}'; }

machine_info() {
    echo "- nproc: $(nproc)"
    echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "- memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
    echo "- kernel: $(uname -r)"
    echo "- rustc: $(rustc --version 2>/dev/null || echo unknown)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
