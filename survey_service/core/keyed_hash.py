"""HMAC-SHA256 under one key, its padded key blocks hashed once (RFC 2104).

An answer post computes seven HMACs under SURVEY_SECRET (its nonce and device tag, the device
cookie, the three signal hashes, the thank-you receipt) and the answer page four. `hmac.digest`
sets up the key each time: about 5 µs each on this machine, against 2 µs when the hash states of
the padded inner and outer keys are kept and copied. The output is HMAC's, byte for byte
(tests/core/test_keyed_hash.py compares it with the standard library's).
"""

from __future__ import annotations

import functools
import hashlib

BLOCK = 64  # SHA-256's block size in bytes


class KeyedHash:
    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes):
        if len(key) > BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@functools.lru_cache(maxsize=16)
def keyed_hash(secret: str) -> KeyedHash:
    """HMAC-SHA256 keyed with `secret` (UTF-8): one per secret a process uses."""
    return KeyedHash(secret.encode())
