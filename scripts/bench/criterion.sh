#!/usr/bin/env bash
# scripts/bench/criterion.sh — runs the criterion benches of the pure modules one at a
# time (`cargo bench --bench NAME -- --warm-up-time 1 --measurement-time 3`) and prints
# a table of their medians, read from target/criterion/*/new/{benchmark,estimates}.json.
# Knobs: BENCHES ("timer_wheel http1 consensus render"), WARMUP (1), MEASURE (3).

source "$(dirname "$0")/lib.sh"
BENCHES="${BENCHES:-timer_wheel http1 consensus render}"
WARMUP="${WARMUP:-1}"
MEASURE="${MEASURE:-3}"
cd "$ROOT"

echo "## Criterion medians (--warm-up-time $WARMUP --measurement-time $MEASURE)"
machine_info
echo
echo "| bench | id | median | 95% CI of median | throughput at median |"
echo "|---|---|---:|---|---:|"
for b in $BENCHES; do
    touch "$WORK/start"
    echo "running $b (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    cargo bench --bench "$b" -- --warm-up-time "$WARMUP" --measurement-time "$MEASURE" \
        >"$WORK/$b.log" 2>&1 || { cat "$WORK/$b.log" >&2; exit 1; }
    find target/criterion -path '*/new/estimates.json' -newer "$WORK/start" | sort |
        while read -r est; do
            python3 - "$b" "$est" "$(dirname "$est")/benchmark.json" <<'PY'
import json, sys
bench, est_path, meta_path = sys.argv[1:4]
est = json.load(open(est_path))["median"]
meta = json.load(open(meta_path))
def t(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3), ("ns", 1.0)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns * 1000:.3g} ps"
ci = est["confidence_interval"]
tp = meta.get("throughput") or {}
rate = ""
if "Bytes" in tp:
    rate = f"{tp['Bytes'] / est['point_estimate'] * 1e9 / 2**30:.2f} GiB/s"
elif "BytesDecimal" in tp:
    rate = f"{tp['BytesDecimal'] / est['point_estimate']:.2f} GB/s"
elif "Elements" in tp:
    rate = f"{tp['Elements'] / est['point_estimate'] * 1e3:.3g} M elem/s"
print(f"| {bench} | {meta['full_id']} | {t(est['point_estimate'])} | "
      f"{t(ci['lower_bound'])} – {t(ci['upper_bound'])} | {rate} |")
PY
        done
done
