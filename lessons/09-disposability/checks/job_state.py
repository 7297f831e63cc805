"""Follow one preview job through the store, without asking the worker.

    job_state.py queued CODE STATE   the job waits somewhere in the store:
                                     write where (the keys) to STATE
    job_state.py taken CODE STATE [PGID SIGNAL]
                                     wait up to 3 s until a worker has
                                     taken it: it left those keys, and
                                     its preview is not made yet; then
                                     at once send SIGNAL (TERM, KILL) to
                                     the worker's process group PGID, so
                                     it arrives while the job is in hand
                                     however busy the machine is
    job_state.py done CODE           wait up to 3 s for preview:CODE; if it
                                     never comes, tell where the job is

Only make_preview's hash (preview:<code>) and the link (link:<code>) are
known by name; the queue is found by looking for the code in the store.
"""
import json
import os
import signal
import sys
import time

from kv import KV


def fail(message):
    print("FAILED:", message, flush=True)
    sys.exit(1)


def holding(kv, code):
    """The keys (other than link:CODE and preview:CODE) holding CODE."""
    found = []
    for key in kv.keys("*"):
        if key in (f"link:{code}", f"preview:{code}"):
            continue
        kind = kv.command("TYPE", key)
        if kind == "list":
            values = kv.lrange(key, 0, -1)
        elif kind == "hash":
            flat = kv.hgetall(key)
            values = list(flat) + list(flat.values())
        elif kind == "string":
            values = [kv.get(key) or ""]
        else:
            values = []
        if code in key or any(code in v for v in values):
            found.append(key)
    return sorted(found)


def where(kv, code):
    keys = holding(kv, code)
    return ("it is in " + ", ".join(keys)) if keys \
        else "it is in no key of the store"


what, code = sys.argv[1], sys.argv[2]
kv = KV.from_url(os.environ["REDIS_URL"])

if what == "queued":
    keys = holding(kv, code)
    if not keys:
        fail(f"the job for {code} is in no key of the store: nothing a "
             f"worker could take")
    with open(sys.argv[3], "w") as f:
        json.dump(keys, f)
    print(f"OK: the job for {code} waits in {', '.join(keys)}")

elif what == "taken":
    with open(sys.argv[3]) as f:
        queued = json.load(f)
    began = time.monotonic()
    while True:
        left = [k for k in holding(kv, code) if k in queued]
        made = kv.exists(f"preview:{code}")
        if not left or made:
            break
        if time.monotonic() - began > 3.0:
            fail(f"within 3s of the worker's start, the job for {code} was "
                 f"not taken: it is still in {', '.join(left)}")
        time.sleep(0.005)
    took = (time.monotonic() - began) * 1000
    sent = ""
    if len(sys.argv) > 5:
        # Also when the worker was faster than this check (a busy machine): it must still
        # exit on the signal, and a later step waits for that.
        os.killpg(int(sys.argv[4]), getattr(signal, "SIG" + sys.argv[5]))
        sent = f"; sent SIG{sys.argv[5]} to the worker at once"
    if made:
        print(f"OK: the preview of {code} was made already ({took:.0f} ms): "
              f"the worker was faster than this check" + sent)
    else:
        print(f"OK: a worker took the job for {code} ({took:.0f} ms); its "
              f"preview is not made yet; " + where(kv, code) + sent)

elif what == "done":
    began = time.monotonic()
    while not kv.exists(f"preview:{code}"):
        if time.monotonic() - began > 3.0:
            fail(f"no preview:{code} within 3s after a worker was started again; "
                 + where(kv, code))
        time.sleep(0.02)
    runs = kv.hget(f"preview:{code}", "runs")
    print(f"OK: the preview of {code} was made (runs: {runs})")
