"""Signing in and staying signed in: passwords checked with failed attempts throttled per account and
per address, server-side browser sessions, password changes, and API tokens that expire."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from grader_core.config import Settings

from ..db import utcnow
from ..models import ApiToken, BrowserSession, LoginAttempt, User
from ..security import hash_password, new_api_token, new_csrf_token, new_session_id, token_sha256, verify_password
from .audit import record

MIN_PASSWORD_LENGTH = 10
# last_seen_at is for people reading the table, not for expiry: writing it on every request would
# make every page view a database write.
_LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class SignInRefused(Exception):
    """A sign-in (or password change) that did not succeed; ``str()`` is the message for the user."""

    def __init__(self, message: str, status_code: int = 401, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


def sign_in(session: Session, email: str, password: str, ip: str, settings: Settings) -> User:
    """The account whose password this is, or :class:`SignInRefused` (401 wrong email or password, 429
    too many recent failures for this email or from this address)."""
    email, now = email.strip().lower(), utcnow()
    _refuse_if_throttled(session, email, ip, now, settings)
    # Recorded before the slow password check, so that attempts made at the same time count each other.
    attempt = LoginAttempt(email=email[:254], ip=ip[:45], at=now)
    session.add(attempt)
    session.commit()
    user = session.scalar(select(User).where(User.email == email))
    # The password is checked (against a dummy hash when there is no account) before anything else is
    # looked at, so that every refusal takes the same time.
    if verify_password(user.password_hash if user else None, password) and user is not None and user.is_active:
        session.delete(attempt)
        session.commit()
        return user
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - _window(settings)))
    session.commit()
    raise SignInRefused("wrong email or password")


def _refuse_if_throttled(session: Session, email: str, ip: str, now: datetime, settings: Settings) -> None:
    waits = [wait for wait in (
        _throttled_for(session, LoginAttempt.email == email, settings.login_max_failures_per_account, now, settings),
        _throttled_for(session, LoginAttempt.ip == ip, settings.login_max_failures_per_ip, now, settings),
    ) if wait is not None]
    if waits:
        wait_s = math.ceil(max(waits).total_seconds())
        minutes = max(1, math.ceil(wait_s / 60))
        raise SignInRefused(f"too many failed sign-ins; try again in {minutes} minute{'s' if minutes > 1 else ''}",
                            status_code=429, retry_after_s=wait_s)


def _throttled_for(session: Session, which: ColumnElement[bool], limit: int, now: datetime,
                   settings: Settings) -> timedelta | None:
    """How long until fewer than ``limit`` of the attempts ``which`` selects are within the window."""
    window = _window(settings)
    recent = session.scalars(select(LoginAttempt.at).where(which, LoginAttempt.at > now - window)
                             .order_by(LoginAttempt.at.desc()).limit(limit)).all()
    return recent[-1] + window - now if len(recent) >= limit else None


def _window(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.login_failure_window_s)


def start_session(session: Session, user: User, settings: Settings) -> str:
    """A new browser session for ``user``; returns the id for the cookie (only its SHA-256 is kept)."""
    session_id, digest = new_session_id()
    now = utcnow()
    session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= now))  # anyone's, expired
    session.add(BrowserSession(id_sha256=digest, user_id=user.id, csrf_token=new_csrf_token(), created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(seconds=settings.session_max_age_s)))
    session.commit()
    return session_id


def find_session(session: Session, session_id: str | None) -> BrowserSession | None:
    """The live session of an active user that the cookie's id names, if any."""
    if not session_id:
        return None
    found = session.scalar(select(BrowserSession).where(BrowserSession.id_sha256 == token_sha256(session_id)))
    now = utcnow()
    if found is None or found.expires_at <= now or not found.user.is_active:
        return None
    if now - found.last_seen_at >= _LAST_SEEN_RESOLUTION:
        found.last_seen_at = now
        session.commit()
    return found


def end_session(session: Session, session_id: str | None) -> None:
    if session_id:
        session.execute(delete(BrowserSession).where(BrowserSession.id_sha256 == token_sha256(session_id)))
        session.commit()


def end_sessions(session: Session, user: User) -> None:
    """Sign ``user`` out everywhere (in the caller's transaction): after a password change, a session
    opened with the old password must not outlive it."""
    session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))


def change_password(session: Session, user: User, current: str, new: str, settings: Settings) -> str:
    """Sets ``user``'s password and ends every session of theirs; returns the id of a fresh session
    for the browser that made the change."""
    if not verify_password(user.password_hash, current):
        raise SignInRefused("the current password is wrong", status_code=400)
    if len(new) < MIN_PASSWORD_LENGTH:
        raise SignInRefused(f"the new password needs at least {MIN_PASSWORD_LENGTH} characters", status_code=400)
    user.password_hash = hash_password(new)
    end_sessions(session, user)
    record(session, user, "password.change", f"user:{user.id}")
    return start_session(session, user, settings)  # commits


def create_api_token(session: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """A new token for ``user`` and its row; the token is shown once, only its SHA-256 is stored."""
    token, digest = new_api_token()
    api_token = ApiToken(user_id=user.id, token_sha256=digest, name=name[:100])
    session.add(api_token)
    session.commit()
    return token, api_token


def api_token_expires_at(token: ApiToken, settings: Settings) -> datetime:
    # From the setting rather than stored per token, so that shortening it applies to old tokens too.
    return token.created_at + timedelta(days=settings.api_token_max_age_days)


def user_of_api_token(session: Session, token: str, settings: Settings) -> User | None:
    """The active user whose unexpired token this is; notes when it was last used."""
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_sha256(token)))
    now = utcnow()
    if api_token is None or api_token_expires_at(api_token, settings) <= now or not api_token.user.is_active:
        return None
    api_token.last_used_at = now
    session.commit()
    return api_token.user


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    """Deletes one of ``user``'s own tokens; False when they have none with this id."""
    api_token = session.get(ApiToken, token_id)
    if api_token is None or api_token.user_id != user.id:
        return False
    session.delete(api_token)
    record(session, user, "token.revoke", f"token:{token_id}", {"name": api_token.name})
    session.commit()
    return True
