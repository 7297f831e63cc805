"""With no worker running, the jobs wait in the store: none was processed,
and each one sits in a list (a queue) that a worker could take it from.

    REDIS_URL=... PYTHONPATH={app} python3 jobs_waiting.py CODE...
"""
import os
import sys
import time

from kv import KV


def fail(message):
    print("FAILED:", message, flush=True)
    sys.exit(1)


codes = sys.argv[1:]
kv = KV.from_url(os.environ["REDIS_URL"])
time.sleep(0.2)  # time enough for a job run inside the web to finish

done = {c: kv.hget(f"preview:{c}", "processed_by") for c in codes}
done = {c: d for c, d in done.items() if d}
if done:
    fail("with no worker running, jobs were processed anyway: " + ", ".join(
        f"{c} by {d}" for c, d in sorted(done.items())))

items = []
for key in kv.keys("*"):
    if kv.command("TYPE", key) == "list":
        items += [(key, item) for item in kv.lrange(key, 0, -1)]
lost = [c for c in codes if not any(c in item for _, item in items)]
if lost:
    fail(f"{len(lost)} of {len(codes)} jobs are in no list in the store "
         f"(looked for {', '.join(lost)}): they are not queued for a worker")
queues = sorted({k for k, item in items if any(c in item for c in codes)})
print(f"OK: all {len(codes)} jobs wait in {', '.join(queues)}")
