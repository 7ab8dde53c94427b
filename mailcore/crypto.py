"""Mail passwords at rest: AES-256-GCM, bound to the row and field they belong to.

The associated data names the account and the field, so a ciphertext copied into another row or
column fails to decrypt instead of revealing a password there.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mailcore.keyfile import read_or_create

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A stored secret could not be decrypted (wrong key, or moved to another row)."""


class SecretBox:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("the mail encryption key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_config(cls, env_value: str | None, key_file: Path) -> SecretBox:
        """Key from the environment (base64), else from key_file, created 0600 on first use."""
        if env_value:
            return cls(base64.urlsafe_b64decode(env_value))
        key = read_or_create(key_file, lambda: base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)))
        return cls(base64.urlsafe_b64decode(key))

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        if not sealed or sealed[:1] != _VERSION:
            raise SecretBoxError("unknown format")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode()).decode()
        except InvalidTag:
            raise SecretBoxError("cannot decrypt") from None
