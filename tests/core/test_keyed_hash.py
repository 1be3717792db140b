"""The answer path's HMACs with the key's padded blocks hashed once: the standard library's HMAC,
byte for byte, for any key length (short, one block, longer than a block: hashed first)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from survey_service.core.keyed_hash import keyed_hash


@pytest.mark.parametrize("secret", ["", "k", "bench-secret", "x" * 63, "y" * 64, "z" * 65, "长密钥" * 40])
@pytest.mark.parametrize("message", [b"", b"device|abc|6700", b"m" * 200])
def test_keyed_hash_is_hmac_sha256(secret, message):
    assert keyed_hash(secret).digest(message) == hmac.new(secret.encode(), message, hashlib.sha256).digest()


def test_each_message_is_hashed_from_the_key_alone():
    key = keyed_hash("bench-secret")
    first = key.digest(b"one")
    key.digest(b"two")
    assert key.digest(b"one") == first != key.digest(b"two")
