"""Passwords (argon2), API tokens (only their SHA-256 stored), CSRF tokens, signed publish tickets."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> tuple[str, str]:
    """(the token shown once, its SHA-256 for the database)."""
    token = "dgm_" + secrets.token_urlsafe(32)
    return token, token_sha256(token)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class Tickets:
    """Short-lived signed statements, e.g. "this suite text passed its dry run" for the publish form."""

    def __init__(self, secret_key: str, salt: str, max_age_s: int = 3600):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)
        self._max_age_s = max_age_s

    def issue(self, payload: dict) -> str:  # type: ignore[type-arg]
        return self._serializer.dumps(payload)

    def read(self, ticket: str) -> dict | None:  # type: ignore[type-arg]
        try:
            return self._serializer.loads(ticket, max_age=self._max_age_s)
        except BadSignature:
            return None
