"""Every worker takes a share of the jobs: they wait on one queue.

    workers_share.py --post URL --workers N --tag TAG

Reads who made each preview so far (preview:*). A worker that made none
may only have been slow to start: it gets two more rounds of jobs, the
last one at least 2 s after this script began, before it is judged.
"""
import sys
import time

from previews import describe, fail, per_process, post_links, store, \
    wait_all

args = sys.argv[1:]
base, workers, tag = args[1], int(args[3]), args[5]
kv = store()
began = time.monotonic()
names = [f"worker.{i}" for i in range(1, workers + 1)]


def everything():
    codes = [k[len("preview:"):] for k in kv.keys("preview:*")]
    return per_process({c: kv.hgetall(f"preview:{c}") for c in codes})


by = everything()
rounds = 0
while any(n not in by for n in names) and rounds < 2:
    rounds += 1
    if rounds == 2:
        time.sleep(max(0.0, 2.0 - (time.monotonic() - began)))
    urls = [f"https://example.org/{tag}/more-{rounds}-{i}" for i in range(20)]
    codes = post_links(base, urls)
    _, missing = wait_all(kv, codes, 5.0)
    if missing:
        fail(f"{len(missing)} of 20 more links made through {base} had no "
             f"preview after 5s")
    by = everything()

idle = [n for n in names if n not in by]
total = sum(len(c) for c in by.values())
if idle:
    fail(f"{' and '.join(idle)} made none of the {total} previews "
         f"({describe(by)}), though every worker was running when this step "
         f"began and {20 * rounds} more jobs came in over the next "
         f"{time.monotonic() - began:.1f}s")
print(f"OK: every worker took a share of the {total} jobs ({describe(by)})")
