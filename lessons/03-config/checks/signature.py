"""Is X-Signature the HMAC-SHA256 of the code under the key this run set?"""
import hashlib
import hmac
import sys

key, code, got = sys.argv[1:4]
want = hmac.new(key.encode(), code.encode(), hashlib.sha256).hexdigest()
if not hmac.compare_digest(want, got.strip().lower()):
    sys.exit(f"X-Signature is {got!r}; the HMAC-SHA256 of {code!r} under "
             f"SECRET_KEY={key} is {want}")
print(f"X-Signature of {code} is the HMAC under SECRET_KEY={key}")
