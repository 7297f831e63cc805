#!/usr/bin/env bash
# Load test of the grader: N concurrent `twelve lessons verify` (default 3) of the built-in
# pack, every starter, solution and variant (right fixes written differently, wrong fixes that
# nap, hang, or keep state where they should not). Each run already checks as many at once as
# the machine has CPUs, so on 2 cores this is several times more work than CPUs. Every
# starter must fail as declared, every solution pass, every variant be judged as declared.
#
#   benches/load-verify.sh [N]          (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
cargo build --release --quiet
bin="$PWD/target/release/twelve"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
keep="${KEEP:-}"   # KEEP=dir copies every run's output there

started=$(date +%s%N)
pids=()
for i in $(seq "$n"); do
  ("$bin" --lessons "$PWD" lessons verify >"$work/verify-$i.txt" 2>&1 && echo 0 >"$work/verify-$i.rc" || echo $? >"$work/verify-$i.rc") &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
took=$(( ($(date +%s%N) - started) / 1000000 ))

bad=0
for i in $(seq "$n"); do
  rc="$(cat "$work/verify-$i.rc")"
  if [ "$rc" != 0 ]; then
    bad=$((bad + 1))
    echo "run $i exited $rc:"
    grep -E '^\s+✗ (variant|starter|solution)' "$work/verify-$i.txt" | sed 's/^/  /' || tail -5 "$work/verify-$i.txt"
  fi
done
variants="$(grep -o '([0-9]* variants)' "$work/verify-1.txt" | tr -dc 0-9)"
echo "$n concurrent lessons verify ($variants variants each): $bad of $n runs misjudged something ($((took / 1000))s wall)"
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$work"/verify-* "$keep"/; fi
[ "$bad" = 0 ]
