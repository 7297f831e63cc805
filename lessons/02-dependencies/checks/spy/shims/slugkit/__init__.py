"""Stand-in for slugkit in the no-system-tools check: it offers the API of
both versions of the index (1.2.0's make_code and 2.0.0's Slugger), so that
check runs whatever requirements.txt says; the smoke check judges the
declaration itself.
"""
try:
    import twelve_watch  # noqa: F401  (the watcher, if sitecustomize did not run)
except ImportError:
    pass
import secrets

__version__ = "1.2.0"

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def make_code(length=7):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


class Slugger:
    def __init__(self, alphabet=ALPHABET):
        self.alphabet = alphabet

    def new(self, length):
        return "".join(secrets.choice(self.alphabet) for _ in range(length))
