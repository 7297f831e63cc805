"""Is the `created` time of a link the current UTC time, as ISO 8601?"""
import sys
from datetime import datetime, timezone

created = sys.argv[1]
try:
    when = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
except ValueError:
    sys.exit(f"created is {created!r}, not like 2024-05-17T09:30:00Z")
now = datetime.now(timezone.utc).replace(tzinfo=None)
drift = abs((now - when).total_seconds())
if drift > 300:
    sys.exit(f"created is {created}, but the time in UTC is "
             f"{now:%Y-%m-%dT%H:%M:%SZ}")
print(f"created {created}: the current UTC time")
