"""The background job of shortlink: a preview for each new link.

make_preview(kv, code, url) works out a title for the page behind url and
stores it in the hash preview:<code>, with the name of the process that did
the work (its DYNO, e.g. web.1 or worker.2) and how many times it ran.
Keep these fields as they are: the lesson's check reads them.

The web process puts jobs on a queue in the store (enqueue_preview); any
number of worker processes (worker.py) take them off, one job each.
"""
import json
import os
import time
from urllib.parse import unquote, urlsplit

QUEUE = "queue:previews"  # a list: LPUSH on the left, BRPOP on the right


def enqueue_preview(kv, code, url):
    """Queue the preview of link code for a worker; returns at once."""
    kv.lpush(QUEUE, json.dumps({"code": code, "url": url}))


def make_preview(kv, code, url):
    """Make and store the preview of link code; takes a moment."""
    time.sleep(0.5)  # stands for fetching the page over the network
    parts = urlsplit(url)
    words = unquote(parts.path).replace("-", " ").replace("_", " ").split("/")
    last = next((w for w in reversed(words) if w.strip()), "")
    title = f"{last.strip().capitalize()} - {parts.netloc}" if last \
        else parts.netloc
    kv.hset(f"preview:{code}", mapping={
        "title": title,
        "processed_by": os.environ.get("DYNO", "local"),
    })
    kv.hincrby(f"preview:{code}", "runs", 1)
