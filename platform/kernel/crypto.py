"""Encryption at rest for secrets that licensees hand us (Stripe keys, Firebase credentials).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`. `CALLRIX_ENCRYPTION_KEY` holds one or
more comma-separated Fernet keys: the first encrypts, all decrypt, so keys can be rotated.
Development derives a key from SECRET_KEY; production refuses to start without a real one.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _cipher(keys: str, secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key])
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(f"callrix-encryption:{secret_key}".encode()).digest()
    )
    return MultiFernet([Fernet(derived)])


def _current() -> MultiFernet:
    return _cipher(settings.CALLRIX_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong CALLRIX_ENCRYPTION_KEY?") from None


def mask(secret: str, *, keep: int = 4) -> str:
    """ "sk_test_51Habc…wxyz" style: the prefix (mode) and the last characters only."""
    if not secret:
        return ""
    prefix = secret.split("_", 2)
    head = "_".join(prefix[:2]) + "_" if len(prefix) == 3 else ""
    return f"{head}…{secret[-keep:]}"
