"""Stand-in for urlcheck 1.0.0 in the no-system-tools check (see slugkit)."""
try:
    import twelve_watch  # noqa: F401  (the watcher, if sitecustomize did not run)
except ImportError:
    pass
from urllib.parse import urlsplit

__version__ = "1.0.0"


def is_web_url(url):
    if not (isinstance(url, str) and url.isascii() and url.isprintable()):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
