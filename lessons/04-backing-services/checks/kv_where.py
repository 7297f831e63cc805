"""Exit 1 unless keys naming CODE are in database DB of the store, and only there.

    PYTHONPATH={app} python3 kv_where.py STORE_URL DB CODE

Prints which databases (0-15) hold a key with CODE in its name.
"""
import sys

from kv import KV

url, want, code = sys.argv[1], int(sys.argv[2]), sys.argv[3]
where = []
for db in range(16):
    base = KV.from_url(url)
    kv = KV(base.host, base.port, db)
    if [k for k in kv.keys("*") if code in k]:
        where.append(db)
    kv.close()

shown = ", ".join(map(str, where)) or "none"
print(f"databases holding a key with {code} in its name: {shown}")
if where != [want]:
    sys.exit(1)
