"""slugkit 1.2.0: short random codes that are easy to read aloud.

A teaching fixture of twelve's offline package index (lesson 2), not a
real package.
"""
import secrets

__version__ = "1.2.0"

# No 0/O, 1/l/I: nobody misreads a code.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def make_code(length=7):
    """A random code of `length` characters from ALPHABET."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
