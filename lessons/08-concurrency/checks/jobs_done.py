"""Every job was processed exactly once, by worker processes only.

    jobs_done.py --post URL --count N --tag TAG   makes N links at once
                                                  through URL, then judges
    jobs_done.py CODE...                          judges links made before

Waits up to 5 s for every preview:<code>, then a moment more for a job
run twice to show, then judges runs == 1 and processed_by == worker.N.
"""
import sys
import time

from previews import WORKER, describe, fail, per_process, post_links, \
    previews, store, wait_all, where_in_store

WAIT = 5.0

args = sys.argv[1:]
kv = store()
began = time.monotonic()
if args[:1] == ["--post"]:
    base, count, tag = args[1], int(args[3]), args[5]
    urls = [f"https://example.org/{tag}/article-{i}" for i in range(count)]
    codes = post_links(base, urls)
    made = f"{count} links made at once through {base}"
else:
    codes = args
    made = f"the {len(codes)} links made before"

seen, missing = wait_all(kv, codes, WAIT)
if not missing:
    time.sleep(0.3)  # a job processed twice may land a moment later
    seen = previews(kv, codes)
by = per_process({c: p for c, p in seen.items() if p})
print(f"jobs per process: {describe(by) or 'none'}", flush=True)

odd = []
for code, p in seen.items():
    runs = int(p.get("runs") or 0)
    if not p:
        where = where_in_store(kv, code)
        odd.append(f"{code} never (after {WAIT:g}s it is "
                   + (f"still in {', '.join(where)})" if where
                      else "in no key of the store)"))
    elif runs != 1:
        odd.append(f"{code} {runs} times")
elsewhere = sorted((p["processed_by"], c) for c, p in seen.items()
                   if p and not WORKER.fullmatch(p.get("processed_by", "")))
problems = []
if odd:
    problems.append(f"{len(odd)} jobs were not processed exactly once: "
                    + ", ".join(odd[:4]) + (", ..." if len(odd) > 4 else ""))
if elsewhere:
    problems.append(f"{len(elsewhere)} jobs were processed outside the "
                    f"workers: " + ", ".join(f"{c} by {d}, not a worker"
                                             for d, c in elsewhere[:4]))
if problems:
    fail(f"of {made}: " + "; ".join(problems))
took = (time.monotonic() - began) * 1000
print(f"OK: all {len(codes)} jobs processed once, by workers "
      f"({describe(by)}; {took:.0f} ms)")
