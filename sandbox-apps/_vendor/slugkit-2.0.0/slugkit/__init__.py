"""slugkit 2.0.0: short random codes that are easy to read aloud.

A teaching fixture of twelve's offline package index (lesson 2), not a
real package.

Changes in 2.0.0 (breaking): make_code() is gone. Make a Slugger, which
can take your own alphabet, and call its new() method:

    slugkit.Slugger().new(7)
"""
import secrets

__version__ = "2.0.0"

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Slugger:
    def __init__(self, alphabet=ALPHABET):
        self.alphabet = alphabet

    def new(self, length):
        """A random code of `length` characters from the alphabet."""
        return "".join(secrets.choice(self.alphabet) for _ in range(length))
