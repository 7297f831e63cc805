#!/usr/bin/env bash
# Load test: N concurrent `twelve check --all` (default 8), each on its own workspace holding
# every lesson's reference solution, while two more workspaces hold the starters of the
# lessons whose checks carry time bounds (3, 9, 10). On 2 cores this is far more load than the
# machine has CPUs. Every solution check must pass and every time-bound starter must still fail.
#
#   benches/load.sh [N]          (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-8}"
cargo build --release --quiet
bin="$PWD/target/release/twelve"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for i in $(seq "$n"); do
  "$bin" init "$work/sol-$i" >/dev/null
  for d in sandbox-apps/[0-9]*/; do
    name="$(basename "$d")"
    rm -rf "$work/sol-$i/$name"
    mkdir -p "$work/sol-$i/$name"
    cp -R "$d/solution/." "$work/sol-$i/$name/"
    cp -R sandbox-apps/_shared/. "$work/sol-$i/$name/"
  done
  # Lesson 1 deploys commits: commit its solution, as `lessons verify` does.
  (cd "$work/sol-$i/01-codebase" && git init -q && git add -A &&
    git -c user.name=bench -c user.email=bench@example.invalid commit -qm "One codebase")
done
for i in 1 2; do "$bin" init "$work/start-$i" >/dev/null; done

started=$(date +%s%N)
pids=()
for i in $(seq "$n"); do
  (cd "$work/sol-$i" && "$bin" check --all --format json >"$work/sol-$i.json" 2>"$work/sol-$i.err" || true) &
  pids+=($!)
done
for i in 1 2; do
  (cd "$work/start-$i" && for l in 3 9 10; do "$bin" check "$l" --format json >"$work/start-$i-$l.json" 2>/dev/null || true; done) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
took=$(( ($(date +%s%N) - started) / 1000000 ))

python3 - "$work" "$n" "$took" <<'PY'
import json, sys, glob, os
work, n, took = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000
failed, total = [], 0
for f in sorted(glob.glob(os.path.join(work, "sol-*.json"))):
    for lesson in json.load(open(f))["lessons"]:
        for c in lesson["checks"]:
            total += 1
            if c["outcome"] != "passed":
                msg = (c.get("failure") or {}).get("message", "")
                failed.append(f'{os.path.basename(f)} lesson {lesson["number"]} {c["id"]}: {c["outcome"]}: {msg[:160]}')
# Each starter must fail every check its lesson says it fails, with the words it declares.
import tomllib
starter_ok, starter_bad = 0, []
for f in sorted(glob.glob(os.path.join(work, "start-*-*.json"))):
    for lesson in json.load(open(f))["lessons"]:
        toml = tomllib.load(open(os.path.join("lessons", lesson["lesson"], "lesson.toml"), "rb"))
        checks = {c["id"]: c for c in lesson["checks"]}
        for want in toml.get("verify", {}).get("starter_fails", []):
            c = checks.get(want["check"], {})
            failure = c.get("failure") or {}
            # The same text `lessons verify` matches: message, detail, expected, observed.
            said = "\n".join(failure.get(k) or "" for k in ("message", "detail", "expected", "observed"))
            if c.get("outcome") == "failed" and want.get("message", "") in said:
                starter_ok += 1
            else:
                starter_bad.append(f'{os.path.basename(f)} {want["check"]}: {c.get("outcome")}: {said[:160]}')
print(f"{n} concurrent check --all on solutions: {len(failed)} of {total} checks judged failed ({took:.1f}s wall)")
for line in failed:
    print("  ", line)
print(f"time-bound starters (3, 9, 10) under the same load: {starter_ok} of {starter_ok + len(starter_bad)} intended failures seen")
for line in starter_bad:
    print("  ", line)
sys.exit(1 if failed or starter_bad else 0)
PY
