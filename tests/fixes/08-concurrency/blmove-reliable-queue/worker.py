"""A preview worker with a reliable queue: a job moves to this worker's own
processing list while it runs, and leaves it only once done."""
import os

from jobs import make_preview
from kv import KV

kv = KV.from_url(os.environ["REDIS_URL"])
mine = "previews:doing:" + os.environ.get("DYNO", "worker")
while True:
    code = kv.blmove("previews:todo", mine, 0, "LEFT", "RIGHT")
    make_preview(kv, code, kv.hget("link:" + code, "url"))
    kv.lrem(mine, 1, code)
