#!/usr/bin/env bash
# scripts/bench/http.sh — /status throughput and latency: release leanpoint against
# nginx (one worker) serving a captured copy of the same /status body, measured with
# wrk in the same run, alternating (leanpoint, nginx, nginx-tuned, leanpoint, ...).
# "nginx" is the plain config (access_log off, keepalive_requests high); "nginx-tuned"
# is the same worker on a second port with open_file_cache and no ETag/Last-Modified.
#
# Needs: wrk, nginx, curl, python3 (apt-get install -y wrk nginx curl python3) and
# target/release/leanpoint (`make bench-http` builds it). Nothing is pinned: on a small
# machine wrk and the server share the same cores.
#
# Knobs (environment): DURATION (10s), CONNS (64), THREADS (1), ROUNDS (2),
# LEANPOINT_BIN, BENCH_OUT (directory to keep the raw wrk outputs; default: discarded).
# Bounded: every wrk run has a fixed duration; the EXIT trap kills everything started.

source "$(dirname "$0")/lib.sh"
need wrk nginx curl python3
[[ -x "$LEANPOINT_BIN" ]] || { echo "no $LEANPOINT_BIN: run cargo build --release" >&2; exit 1; }

DURATION="${DURATION:-10s}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-2}"
OUT="${BENCH_OUT:-$WORK/out}"
mkdir -p "$OUT"

echo "## /status: leanpoint vs nginx (wrk -t$THREADS -c$CONNS -d$DURATION --latency)"
machine_info

start_mock
start_leanpoint --lean-url "http://127.0.0.1:$MOCK_PORT" --poll-ms 1000 --log-level warn
wait_agreed "$LP_PORT" 18 30

# The body nginx serves: /status as leanpoint serves it now.
mkdir -p "$WORK/www" "$WORK/nginx"
chmod 755 "$WORK" "$WORK/www" # nginx's worker drops root for nobody/www-data
curl -s "http://127.0.0.1:$LP_PORT/status" >"$WORK/www/status"
NGINX_PORT=$(free_port)
NGINX_TUNED_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 65s;
    client_body_temp_path $WORK/nginx/client_body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/www;
        location = /status { default_type application/json; }
    }
    # Same worker, tuned for a small hot file: cached open fd, no ETag/Last-Modified.
    server {
        listen 127.0.0.1:$NGINX_TUNED_PORT;
        root $WORK/www;
        open_file_cache max=16 inactive=60s;
        open_file_cache_valid 60s;
        etag off;
        server_tokens off;
        add_header Last-Modified "" always;
        location = /status { default_type application/json; }
    }
}
EOF
bg_start "$WORK/nginx/stdout.log" nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
NGINX_PID=$BG_PID
for ((i = 0; i < 50; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/status" && break
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/status" || { tail -5 "$WORK/nginx/error.log" >&2; exit 1; }

show_head() { curl -s -D - -o /dev/null "$1" | tr -d "\r" | sed "s/^/    /"; }
resp_bytes() { curl -s -o /dev/null -w '%{size_header}+%{size_download}' "$1"; }
echo "- /status response (header+body bytes): leanpoint $(resp_bytes "http://127.0.0.1:$LP_PORT/status"), nginx $(resp_bytes "http://127.0.0.1:$NGINX_PORT/status"), nginx-tuned $(resp_bytes "http://127.0.0.1:$NGINX_TUNED_PORT/status")"
for u in "leanpoint $LP_PORT" "nginx $NGINX_PORT" "nginx-tuned $NGINX_TUNED_PORT"; do
    set -- $u
    echo "- $1 response head:"
    echo
    show_head "http://127.0.0.1:$2/status"
done
echo

# to_ms VALUE: wrk's "1.23ms" / "456.00us" / "1.02s" in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

echo "| run | server | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---:|---:|---:|---|"
for ((r = 1; r <= ROUNDS; r++)); do
    for server in leanpoint nginx nginx-tuned; do
        case $server in
        leanpoint) port=$LP_PORT ;;
        nginx) port=$NGINX_PORT ;;
        nginx-tuned) port=$NGINX_TUNED_PORT ;;
        esac
        f="$OUT/wrk.$r.$server.txt"
        wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$port/status" >"$f"
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
        p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")
        p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")
        errs=$(grep -E 'Socket errors|Non-2xx' "$f" | tr -s ' ' | paste -sd';' - || true)
        echo "| $r | $server | $rps | $p50 | $p99 | ${errs:-none} |"
    done
done
echo
echo "- leanpoint pid $LP_PID after the runs: VmRSS $(rss_kib "$LP_PID") KiB, VmHWM $(hwm_kib "$LP_PID") KiB"
stop "$NGINX_PID"
