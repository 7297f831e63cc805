"""Helpers shared by this lesson's check scripts (standard library + kv).

Links are made through the service's own HTTP API, and what became of
their jobs is read from the store: the hash preview:<code> that
make_preview writes (fields title, processed_by, runs).
"""
import json
import os
import re
import sys
import threading
import time

from kv import KV

WORKER = re.compile(r"worker\.[0-9]+")


def fail(message):
    print("FAILED:", message, flush=True)
    sys.exit(1)


def store():
    return KV.from_url(os.environ["REDIS_URL"])


def post_links(base, urls):
    """POST /links for every url at once; returns their codes, in order."""
    import urllib.request

    codes = [None] * len(urls)
    errors = []

    def one(i, url):
        req = urllib.request.Request(
            base.rstrip("/") + "/links", method="POST",
            data=json.dumps({"url": url}).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                codes[i] = json.loads(resp.read())["code"]
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"POST /links {{\"url\": \"{url}\"}}: {exc}")

    threads = [threading.Thread(target=one, args=(i, u))
               for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(f"{len(errors)} of {len(urls)} links sent at once were not "
             f"created: {errors[0]}")
    return codes


def previews(kv, codes):
    return {code: kv.hgetall(f"preview:{code}") for code in codes}


def wait_all(kv, codes, seconds):
    """Wait until every code has its preview; returns (previews, missing)."""
    end = time.monotonic() + seconds
    while True:
        seen = previews(kv, codes)
        missing = [c for c, p in seen.items() if not p]
        if not missing or time.monotonic() >= end:
            return seen, missing
        time.sleep(0.02)


def per_process(seen):
    by = {}
    for code, p in seen.items():
        by.setdefault(p.get("processed_by", "?"), []).append(code)
    return by


def describe(by):
    return ", ".join(f"{d}: {len(c)}" for d, c in sorted(by.items()))


def where_in_store(kv, code):
    """Names of the keys (other than link:<code>) whose value holds code."""
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
            found.append(f"{key} ({kind})")
    return found
