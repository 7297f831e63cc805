"""With no worker running, no job is processed: they wait.

    jobs_waiting.py CODE...

Looks 0.3 s after the links were made: a job run inside a web process
has finished by then. Where each job waits is only reported; that a
worker started later finds them is judged by the next step.
"""
import sys
import time

from previews import fail, store, where_in_store

codes = sys.argv[1:]
kv = store()
time.sleep(0.3)

done = {c: kv.hget(f"preview:{c}", "processed_by") for c in codes}
done = {c: d for c, d in done.items() if d}
if done:
    fail("with no worker running, jobs were processed anyway: " + ", ".join(
        f"{c} by {d}" for c, d in sorted(done.items())))
for c in codes:
    where = where_in_store(kv, c)
    print(f"job {c}: waits in " + (", ".join(where) if where
                                   else "no key of the store"), flush=True)
print(f"OK: none of the {len(codes)} jobs was processed without a worker")
