"""urlcheck 1.0.0: is this a web address?

A teaching fixture of twelve's offline package index (lesson 2), not a
real package.
"""
from urllib.parse import urlsplit

__version__ = "1.0.0"


def is_web_url(url):
    """True for an absolute http(s) URL that fits in a Location header."""
    if not (isinstance(url, str) and url.isascii() and url.isprintable()):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
