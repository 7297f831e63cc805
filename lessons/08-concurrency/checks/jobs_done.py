"""Every job was processed exactly once, by worker processes only, and
every worker took a share.

    REDIS_URL=... PYTHONPATH={app} python3 jobs_done.py WORKERS CODE...

WORKERS is how many worker processes run (their DYNO: worker.1 ...). Waits
up to 3 s for all previews (preview:<code>) to be made, then judges.
"""
import os
import re
import sys
import time

from kv import KV


def fail(message):
    print("FAILED:", message, flush=True)
    sys.exit(1)


DEADLINE = 3.0

workers, codes = int(sys.argv[1]), sys.argv[2:]
kv = KV.from_url(os.environ["REDIS_URL"])


def previews():
    return {code: kv.hgetall(f"preview:{code}") for code in codes}


began = time.monotonic()
end = began + DEADLINE
while True:
    seen = previews()
    missing = [c for c, p in seen.items() if not p]
    if not missing or time.monotonic() >= end:
        break
    time.sleep(0.02)

if missing:
    fail(f"after {DEADLINE:g}s, {len(missing)} of {len(codes)} jobs were "
             f"never processed (no preview:<code> for {', '.join(missing)})")

time.sleep(0.05)  # a job processed twice may land a moment later
seen = previews()
problems = []
by = {}
for code, p in seen.items():
    runs = int(p.get("runs") or 0)
    dyno = p.get("processed_by", "?")
    by.setdefault(dyno, []).append(code)
    if runs != 1:
        problems.append(f"job {code} was processed {runs} times")
    if not re.fullmatch(r"worker\.[0-9]+", dyno):
        problems.append(f"job {code} was processed by {dyno}, not a worker")
print("jobs per process: " + ", ".join(
    f"{d}: {len(c)}" for d, c in sorted(by.items())))
idle = [f"worker.{i}" for i in range(1, workers + 1)
        if f"worker.{i}" not in by]
if not problems and idle:
    problems.append(f"{' and '.join(idle)} processed no job: the workers "
                    f"do not share one queue")
if problems:
    fail("; ".join(problems[:4]))
took = (time.monotonic() - began) * 1000
print(f"OK: all {len(codes)} jobs processed once, by {len(by)} workers "
      f"(waited {took:.0f} ms)")
