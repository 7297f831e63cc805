"""Worker: on SIGTERM it finishes the job in hand, then exits 0."""
import json
import os
import signal

from jobs import QUEUE, make_preview
from kv import KV

kv = KV.from_url(os.environ["REDIS_URL"])
dyno = os.environ.get("DYNO", "worker")
doing = "inflight:" + dyno
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
while kv.rpoplpush(doing, QUEUE):  # left over by a crash: back to the queue
    pass
while not stop:
    raw = kv.blmove(QUEUE, doing, 0.2)  # wake up now and then to check stop
    if raw is None:
        continue
    job = json.loads(raw)
    print(f"{dyno}: making the preview of {job['code']}", flush=True)
    make_preview(kv, job["code"], job["url"])
    kv.lrem(doing, 1, raw)
print(f"{dyno}: finished the last job, bye", flush=True)
