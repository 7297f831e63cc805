"""Worker: RPOPLPUSH into a per-worker list; SIGTERM becomes SystemExit,
and `finally` puts whatever is unfinished back on the queue."""
import json
import os
import signal
import sys
import time

from jobs import QUEUE, make_preview
from kv import KV

kv = KV.from_url(os.environ["REDIS_URL"])
dyno = os.environ.get("DYNO", "worker")
mine = QUEUE + ":" + dyno
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    while True:
        raw = kv.rpoplpush(QUEUE, mine)
        if raw is None:
            time.sleep(0.05)
            continue
        job = json.loads(raw)
        print(f"{dyno}: making the preview of {job['code']}", flush=True)
        make_preview(kv, job["code"], job["url"])
        kv.lrem(mine, 1, raw)
finally:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while kv.rpoplpush(mine, QUEUE) is not None:
        pass
