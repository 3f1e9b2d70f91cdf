"""FastAPI dependencies: the database session, the signed-in user (session cookie or API token),
role guards, and CSRF checks for every unsafe request made with the cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_core.config import Settings

from .db import Database, utcnow
from .models import INSTRUCTOR_ROLES, STAFF_ROLES, ApiToken, User
from .security import new_csrf_token, same_token, token_sha256

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a signed-in user; the app redirects to the login page."""


async def get_db(request: Request) -> AsyncIterator[Session]:
    """Async so its teardown needs no worker thread: a sync teardown waits for a free thread while
    holding a connection, and under load every thread waits for a connection (a deadlock)."""
    database: Database = request.app.state.db
    with database.session() as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def csrf_guard(request: Request) -> None:
    """An unsafe request carried by the session cookie must echo the session's CSRF token
    (form field ``csrf_token`` or header ``X-CSRF-Token``); API-token requests carry no cookie."""
    if request.method in SAFE_METHODS or _bearer(request) is not None or "uid" not in request.session:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        field = (await request.form()).get("csrf_token")
        given = field if isinstance(field, str) else None
    if not same_token(request.session.get("csrf"), given):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def _authenticate(request: Request, session: Session) -> User | None:
    token = _bearer(request)
    if token is not None:
        api_token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_sha256(token)))
        if api_token is None or not api_token.user.is_active:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})
        api_token.last_used_at = utcnow()
        session.commit()
        return api_token.user
    user_id = request.session.get("uid")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    session.rollback()  # give the connection back while the request waits for its next step
    return user if user is not None and user.is_active else None


CsrfChecked = Depends(csrf_guard)


def api_user(request: Request, session: DB, _: None = CsrfChecked) -> User:
    user = _authenticate(request, session)
    if user is None:
        raise HTTPException(401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"})
    return user


def page_user(request: Request, session: DB, _: None = CsrfChecked) -> User:
    user = _authenticate(request, session)
    if user is None:
        raise LoginRequired()
    return user


def _role_guard(base: Callable, roles: frozenset[str]) -> Callable:  # type: ignore[type-arg]
    def guard(user: User = Depends(base)) -> User:  # a default, not Annotated: "base" is a closure variable
        if user.role not in roles:
            raise HTTPException(403, "you do not have access to this page")
        return user

    return guard


ApiUser = Annotated[User, Depends(api_user)]
ApiStaff = Annotated[User, Depends(_role_guard(api_user, STAFF_ROLES))]
ApiInstructor = Annotated[User, Depends(_role_guard(api_user, INSTRUCTOR_ROLES))]
PageUser = Annotated[User, Depends(page_user)]
PageStaff = Annotated[User, Depends(_role_guard(page_user, STAFF_ROLES))]
PageInstructor = Annotated[User, Depends(_role_guard(page_user, INSTRUCTOR_ROLES))]
