"""Encryption at rest and keyed hashes for personal identifiers (ID numbers, informant identities).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) for values that must be readable again by an
authorised role; HMAC-SHA256 with a separate derived key as a blind index, so equal ID numbers match
without the plain value ever reaching the database or a log.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from earlywarn.config import Settings


class Vault:
    def __init__(self, settings: Settings):
        self._fernet = Fernet(settings.fernet_key())
        self._index_key = settings.derived_key("blind-index")

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # a wrong key is a deployment error, not a user error
            raise ValueError("cannot decrypt: the secret key does not match the one used to encrypt") from exc

    def encrypt_bytes(self, plain: bytes) -> bytes:
        return self._fernet.encrypt(plain)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: the secret key does not match the one used to encrypt") from exc

    def blind_index(self, plain: str, purpose: str = "id") -> str:
        return hmac.new(self._index_key, f"{purpose}:{plain}".encode(), hashlib.sha256).hexdigest()


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()
