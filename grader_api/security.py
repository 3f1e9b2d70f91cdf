"""Passwords (argon2), API tokens and session ids (only their SHA-256 stored), CSRF tokens, and the
security headers of every response."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """False without a hash too, but only after the same argon2 work: an unknown email must take as
    long to refuse as a wrong password, or the time tells which emails have accounts."""
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(password_hash)


def new_api_token() -> tuple[str, str]:
    """(the token shown once, its SHA-256 for the database)."""
    token = "dgm_" + secrets.token_urlsafe(32)
    return token, token_sha256(token)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_id() -> tuple[str, str]:
    """(the id for the cookie, its SHA-256 for the database)."""
    session_id = secrets.token_urlsafe(32)
    return session_id, token_sha256(session_id)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# Pages run only our own script and style sheet. The one allowance: inline style attributes (the
# histogram's bar widths), which cannot run code.
CONTENT_SECURITY_POLICY = ("default-src 'self'; style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds headers to every response: no framing by other sites, no content-type sniffing, no full
    URLs in the Referer, and the Content-Security-Policy, except on FastAPI's interactive API docs
    (``exempt_paths``), which load Swagger UI from a CDN with inline script and carry no user data."""

    def __init__(self, app: ASGIApp, exempt_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_policy = not scope["path"].startswith(self.exempt_paths)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if with_policy:
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
