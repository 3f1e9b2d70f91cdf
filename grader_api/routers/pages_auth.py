"""Signing in and out, the home redirect, and API tokens for the command line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from ..deps import DB, PageUser
from ..models import ApiToken, User
from ..security import new_api_token, new_csrf_token, same_token, verify_password
from ..templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=RedirectResponse)
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse("/staff/dashboard" if user.is_staff else "/assignments", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {"user": None, "next": next, "error": None})


@router.post("/login")
def login(request: Request, session: DB, email: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    if not same_token(request.session.get("csrf"), csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        return templates.TemplateResponse(request, "login.html", {"user": None, "next": next, "error": "wrong email or password"},
                                          status_code=401)
    request.session.clear()
    request.session.update({"uid": user.id, "csrf": new_csrf_token()})
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, user: PageUser) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, user: PageUser, session: DB) -> Response:
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return templates.TemplateResponse(request, "tokens.html", {"user": user, "tokens": tokens, "new_token": None})


@router.post("/tokens", response_class=HTMLResponse)
def create_token(request: Request, user: PageUser, session: DB, name: Annotated[str, Form()] = "command line") -> Response:
    token, digest = new_api_token()
    session.add(ApiToken(user_id=user.id, token_sha256=digest, name=name[:100]))
    session.commit()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return templates.TemplateResponse(request, "tokens.html", {"user": user, "tokens": tokens, "new_token": token})
