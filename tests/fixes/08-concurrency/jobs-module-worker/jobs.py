"""The background job of shortlink: a preview for each new link.

make_preview(kv, code, url) works out a title for the page behind url and
stores it in the hash preview:<code>, with the name of the process that did
the work (its DYNO, e.g. web.1 or worker.2) and how many times it ran.
Keep these fields as they are: the lesson's check reads them.
"""
import os
import time
from urllib.parse import unquote, urlsplit


def make_preview(kv, code, url):
    """Make and store the preview of link code; takes a moment."""
    time.sleep(0.05)  # stands for fetching the page over the network
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


if __name__ == "__main__":
    import json
    from kv import KV

    store = KV.from_url(os.environ["REDIS_URL"])
    print(os.environ.get("DYNO"), "ready", flush=True)
    while True:
        popped = store.blpop(["jobs"], timeout=5)
        if popped:
            make_preview(store, *json.loads(popped[1]))
