#!/usr/bin/env bash
# scripts/bench/size.sh — size of the stripped release binary (Cargo.toml's release
# profile sets strip = true, lto = true, codegen-units = 1, panic = "abort"), against the
# 2 MiB target. Needs target/release/leanpoint (`make bench-size` builds it).

source "$(dirname "$0")/lib.sh"
[[ -x "$LEANPOINT_BIN" ]] || { echo "no $LEANPOINT_BIN: run cargo build --release" >&2; exit 1; }

bytes=$(stat -c %s "$LEANPOINT_BIN")
limit=$((2 * 1024 * 1024))
echo "## Release binary size"
machine_info
echo
ls -l "$LEANPOINT_BIN"
command -v file >/dev/null 2>&1 && file -b "$LEANPOINT_BIN"
if command -v size >/dev/null 2>&1; then size "$LEANPOINT_BIN"; fi
echo
echo "| binary | bytes | MiB | target | met |"
echo "|---|---:|---:|---:|---|"
met=no
((bytes < limit)) && met=yes
echo "| target/release/leanpoint (stripped) | $bytes | $(awk -v b="$bytes" 'BEGIN {printf "%.2f", b / 1048576}') | < 2 MiB ($limit) | $met |"
[[ $met == yes ]]
