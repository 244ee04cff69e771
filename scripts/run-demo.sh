#!/usr/bin/env bash
# The demo of `make run`: a simulated devnet (lean-devnet, 7 nodes on ports
# BASE_PORT..BASE_PORT+6: 3 healthy, 1 liar serving a tampered state under the true
# checkpoint, 1 lagging, 1 flapping between the chain and a fork every 4 slots, 1 silent,
# a slot every 2 s) and leanpoint
# on 127.0.0.1:PORT polling it through the upstreams file the devnet writes (a 1 s
# request deadline, so the silent node does not hold up the first round for 5 s).
# Ctrl-C (or SIGTERM) stops both cleanly.
#
# Environment: BIN_DIR (default target/release), PORT (5555), BASE_PORT (5052),
# SLOT_MS (2000), UPSTREAMS (target/devnet-upstreams.json).
set -euo pipefail

BIN_DIR=${BIN_DIR:-target/release}
PORT=${PORT:-5555}
BASE_PORT=${BASE_PORT:-5052}
SLOT_MS=${SLOT_MS:-2000}
UPSTREAMS=${UPSTREAMS:-target/devnet-upstreams.json}

devnet_pid=""
leanpoint_pid=""

stop() {
    trap - EXIT INT TERM
    for pid in $leanpoint_pid $devnet_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM

mkdir -p "$(dirname "$UPSTREAMS")"
rm -f "$UPSTREAMS"
"$BIN_DIR/lean-devnet" --nodes 7 --profiles healthy,healthy,healthy,liar,lagging,flapping,silent \
    --base-port "$BASE_PORT" --slot-ms "$SLOT_MS" --upstreams-out "$UPSTREAMS" &
devnet_pid=$!

# The devnet writes the file once every node listens.
for _ in $(seq 100); do
    [[ -s "$UPSTREAMS" ]] && break
    if ! kill -0 "$devnet_pid" 2>/dev/null; then
        echo "run-demo: lean-devnet did not start" >&2
        exit 1
    fi
    sleep 0.05
done
[[ -s "$UPSTREAMS" ]] || { echo "run-demo: no $UPSTREAMS after 5 s" >&2; exit 1; }

"$BIN_DIR/leanpoint" --bind 127.0.0.1 --port "$PORT" --upstreams-config "$UPSTREAMS" \
    --poll-ms 2000 --stale-ms 30000 --timeout-ms 1000 &
leanpoint_pid=$!

echo "leanpoint: http://127.0.0.1:$PORT/"
# Until either stops. Ctrl-C reaches both processes too: each stops cleanly, exit 0.
status=0
wait -n "$devnet_pid" "$leanpoint_pid" || status=$?
if ((status == 0)); then
    echo "stopped"
    exit 0
fi
echo "run-demo: a process exited with status $status; stopping the other" >&2
exit 1
