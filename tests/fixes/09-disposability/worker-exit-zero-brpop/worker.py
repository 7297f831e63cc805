#!/usr/bin/env python3
"""worker: makes the previews of new links, one job at a time.

It waits on the queue in the store (REDIS_URL) and runs each job it takes.
To make previews faster, run more worker processes (the Procfile's
`worker` type), not more threads here.

    REDIS_URL=redis://127.0.0.1:6379/0 python3 worker.py

Python 3.8+, standard library only.
"""
import json
import os
import signal
import sys

from jobs import QUEUE, make_preview
from kv import KV


def main():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        sys.exit("worker: the environment variable REDIS_URL is required")
    kv = KV.from_url(url)  # our own connection: a blocking pop holds it
    dyno = os.environ.get("DYNO", "worker")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{dyno}: waiting for jobs on {QUEUE}", flush=True)
    while True:
        # Factor IX (Disposability): BRPOP takes the job off the queue for
        # good. From here until make_preview returns, the job exists only
        # in this process's memory: stopped mid-job (SIGTERM at a deploy,
        # which by default kills it at once) or crashed, it is lost.
        _, raw = kv.brpop(QUEUE, timeout=0)
        job = json.loads(raw)
        print(f"{dyno}: making the preview of {job['code']}", flush=True)
        make_preview(kv, job["code"], job["url"])
        print(f"{dyno}: made the preview of {job['code']}", flush=True)


if __name__ == "__main__":
    main()
