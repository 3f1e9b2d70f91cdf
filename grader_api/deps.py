"""FastAPI dependencies: the database session, the signed-in user (browser session or API token),
role guards, and CSRF checks for every unsafe request made with the session cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from grader_core.config import Settings

from .db import Database
from .models import INSTRUCTOR_ROLES, STAFF_ROLES, User
from .security import new_csrf_token, same_token
from .services import auth

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
    """The token this request's forms must echo: the signed-in session's; before signing in, one kept
    in the cookie (the login form's, so that no other site can sign a browser in to its own account)."""
    signed_in = getattr(request.state, "csrf_token", None)
    if signed_in is not None:
        return signed_in
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_ip(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, uvicorn's --proxy-headers makes it
    the client's)."""
    return request.client.host if request.client else "unknown"


def authenticated_user(request: Request, session: DB, settings: AppSettings) -> User | None:
    """The user of the API token, or of the browser session the cookie names (whose CSRF token is
    then kept on ``request.state`` for :func:`csrf_checked_user` and the pages' forms)."""
    token = _bearer(request)
    if token is not None:
        user = auth.user_of_api_token(session, token, settings)
        if user is None:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})  # unknown, revoked or expired
        return user
    browser_session = auth.find_session(session, request.session.get("sid"))
    if browser_session is not None:
        request.state.csrf_token = browser_session.csrf_token
    session.rollback()  # give the connection back while the request waits for its next step
    return browser_session.user if browser_session is not None else None


async def csrf_checked_user(request: Request, user: Annotated[User | None, Depends(authenticated_user)]) -> User | None:
    """An unsafe request carried by the session cookie must echo the session's CSRF token (form field
    ``csrf_token`` or header ``X-CSRF-Token``); API-token requests carry no cookie."""
    expected = getattr(request.state, "csrf_token", None)
    if request.method in SAFE_METHODS or expected is None:
        return user
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        field = (await request.form()).get("csrf_token")
        given = field if isinstance(field, str) else None
    if not same_token(expected, given):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return user


CheckedUser = Annotated[User | None, Depends(csrf_checked_user)]


def api_user(user: CheckedUser) -> User:
    if user is None:
        raise HTTPException(401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"})
    return user


def page_user(user: CheckedUser) -> User:
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
