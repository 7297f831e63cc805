"""Reads the queue without taking jobs off it: every worker sees every job."""
import json
import os
import time

from jobs import QUEUE, make_preview
from kv import KV

kv = KV.from_url(os.environ["REDIS_URL"])
done = set()
while True:
    for raw in kv.lrange(QUEUE, 0, -1):
        if raw not in done:
            done.add(raw)
            job = json.loads(raw)
            make_preview(kv, job["code"], job["url"])
    time.sleep(0.01)
