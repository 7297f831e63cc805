"""Put a link straight into the store, the way another deploy would have.

    REDIS_URL=... PYTHONPATH={app} python3 seed.py CODE URL

Writes link:CODE -> {"url": URL, "clicks": 0}, the app's own layout, and
prints what the store then holds.
"""
import os
import sys

from kv import KV

code, url = sys.argv[1], sys.argv[2]
store = KV.from_url(os.environ["REDIS_URL"])
store.hset(f"link:{code}", mapping={"url": url, "clicks": 0})
print(f"link:{code} = {store.hgetall(f'link:{code}')}")
