"""Encryption of SSO tokens at rest.

The Fernet key (AES-128-CBC + HMAC-SHA256) is derived with HKDF-SHA256 from
``settings.TOKEN_ENCRYPTION_KEY``, so any long random string works as the
environment value.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_SALT = b"evesite.accounts.token-encryption"
_INFO = b"eve-sso-tokens-v1"


class TokenDecryptionError(Exception):
    """A stored token cannot be decrypted (wrong key or damaged value)."""


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    """Build the Fernet cipher for one secret."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _cipher() -> Fernet:
    """Return the cipher for the configured key."""
    secret = settings.TOKEN_ENCRYPTION_KEY
    if not secret:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEY must be set to store EVE SSO tokens.")
    return _fernet(secret)


def token_encrypt(*, plaintext: str) -> str:
    """Encrypt a token for storage.

    Args:
        plaintext: The token.

    Returns:
        The Fernet token (URL-safe base64 text).
    """
    return _cipher().encrypt(plaintext.encode()).decode()


def token_decrypt(*, ciphertext: str) -> str:
    """Decrypt a stored token.

    Args:
        ciphertext: The value written by ``token_encrypt``.

    Returns:
        The token.

    Raises:
        TokenDecryptionError: When the key is wrong or the value is damaged.
    """
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("stored token cannot be decrypted with TOKEN_ENCRYPTION_KEY") from None
