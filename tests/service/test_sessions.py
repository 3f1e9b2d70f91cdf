"""Sessions and signing in, against the real app and PostgreSQL: server-side sessions that logout and
a password change end, throttled failed sign-ins (per account and per address, shared through the
database), the same time for known and unknown emails, no start with the development secret key,
API tokens that expire and can be revoked, and the security headers."""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from playwright.sync_api import Browser, expect
from sqlalchemy import delete, select, update

from grader_api.db import utcnow
from grader_api.main import create_app
from grader_api.models import ApiToken, BrowserSession, LoginAttempt, User
from grader_api.security import CONTENT_SECURITY_POLICY
from grader_core.config import DEV_SECRET_KEY, Settings
from tests.conftest import REPO
from worker.runtime import Runtime

from .conftest import PASSWORD, csrf_of, make_student
from .test_browser import browser  # noqa: F401 - the Chromium fixture

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)
def no_attempts_left(rt: Runtime) -> Iterator[None]:
    """Failed sign-ins of one test must not throttle the next (or another module's)."""
    yield
    with rt.db.session() as session:
        session.execute(delete(LoginAttempt))
        session.commit()


def _app(rt: Runtime, settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(settings.model_copy(update=overrides), rt.db, reconcile=False)


def _client(app: FastAPI, ip: str = "10.9.0.1") -> TestClient:
    return TestClient(app, client=(ip, 40000))


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False)


def _signed_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    assert _sign_in(client, email, password).status_code == 303
    return client


def _is_signed_in(client: TestClient) -> bool:
    response = client.get("/assignments", follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def _with_cookie(app: FastAPI, cookie: str) -> TestClient:
    client = _client(app)
    client.cookies.set("dgm_session", cookie)
    return client


def test_logout_ends_the_session_even_for_a_saved_cookie(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings)
    student = make_student(rt, course["course"], password=True)
    client = _signed_in(_client(app), student.email)
    saved = client.cookies["dgm_session"]
    assert _is_signed_in(_with_cookie(app, saved))

    assert client.post("/logout", data={"csrf_token": csrf_of(client, "/tokens")}, follow_redirects=False).status_code == 303
    assert not _is_signed_in(client)
    assert not _is_signed_in(_with_cookie(app, saved))
    with rt.db.session() as session:
        assert session.scalar(select(BrowserSession).where(BrowserSession.user_id == student.id)) is None


def test_a_session_ends_when_it_expires(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings)
    student = make_student(rt, course["course"], password=True)
    client = _signed_in(_client(app), student.email)
    with rt.db.session() as session:
        session.execute(update(BrowserSession).where(BrowserSession.user_id == student.id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert not _is_signed_in(client)


def test_the_cookie_carries_only_a_random_id_stored_as_its_hash(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings)
    student = make_student(rt, course["course"], password=True)
    client = _signed_in(_client(app), student.email)
    payload = json.loads(base64.b64decode(client.cookies["dgm_session"].split(".")[0]))
    assert list(payload) == ["sid"]
    with rt.db.session() as session:
        stored = session.scalars(select(BrowserSession.id_sha256).where(BrowserSession.user_id == student.id)).all()
    assert len(stored) == 1 and payload["sid"] not in stored[0]


def test_a_password_change_ends_every_session_of_the_user(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings)
    student = make_student(rt, course["course"], password=True)
    laptop, phone = _signed_in(_client(app), student.email), _signed_in(_client(app), student.email)
    saved = laptop.cookies["dgm_session"]

    wrong = laptop.post("/password", data={"current_password": "not it", "new_password": NEW_PASSWORD,
                                           "csrf_token": csrf_of(laptop, "/tokens")})
    assert wrong.status_code == 400 and "the current password is wrong" in wrong.text
    short = laptop.post("/password", data={"current_password": PASSWORD, "new_password": "short",
                                           "csrf_token": csrf_of(laptop, "/tokens")})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert _is_signed_in(phone)

    changed = laptop.post("/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                             "csrf_token": csrf_of(laptop, "/tokens")})
    assert changed.status_code == 200 and "Your password is changed" in changed.text
    assert _is_signed_in(laptop)  # on a fresh session
    assert not _is_signed_in(phone)
    assert not _is_signed_in(_with_cookie(app, saved))
    assert _sign_in(_client(app), student.email).status_code == 401
    assert _sign_in(_client(app), student.email, NEW_PASSWORD).status_code == 303


def test_a_forged_cookie_opens_nothing(rt, course, service_settings):  # type: ignore[no-untyped-def]
    """Even knowing the secret key, a cookie naming a user (as the old signed sessions did) or an
    invented session id is not signed in."""
    app = _app(rt, service_settings)
    with rt.db.session() as session:
        instructor_id = session.scalar(select(User.id).where(User.email == "instructor@test"))
    signer = TimestampSigner(service_settings.secret_key)
    for payload in ({"uid": instructor_id, "csrf": "x"}, {"sid": "made-up"}):
        forged = signer.sign(base64.b64encode(json.dumps(payload).encode())).decode()
        response = _with_cookie(app, forged).get("/instructor/roster", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), payload


def test_the_api_refuses_to_start_with_the_development_secret_key(rt, service_settings):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="DGM_SECRET_KEY"):
        _app(rt, service_settings, secret_key=DEV_SECRET_KEY)
    # What `uvicorn grader_api.main:app` does, with no DGM_SECRET_KEY in the environment.
    env = {k: v for k, v in os.environ.items() if k != "DGM_SECRET_KEY"}
    started = subprocess.run([sys.executable, "-c", "from grader_api.main import app"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode != 0 and "refusing to start with the development secret key" in started.stderr


def test_failed_sign_ins_are_throttled_per_account_across_api_processes(rt, course, service_settings):  # type: ignore[no-untyped-def]
    """The page and the API count the same attempts, kept in the database: failures through one app
    instance lock the account on another, from any address, until the window has passed."""
    limits = {"login_max_failures_per_account": 3, "login_max_failures_per_ip": 100}
    api = _client(_app(rt, service_settings, **limits), "10.9.1.1")
    pages = _client(_app(rt, service_settings, **limits), "10.9.1.2")  # another app instance, as another process
    student, other = (make_student(rt, course["course"], password=True) for _ in range(2))
    for _ in range(3):
        assert api.post("/api/v1/tokens", json={"email": student.email, "password": "guess"}).status_code == 401

    refused = api.post("/api/v1/tokens", json={"email": student.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.json()["detail"] == "too many failed sign-ins; try again in 15 minutes"
    assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    page = _sign_in(pages, student.email.upper())  # the right password, another address, the page
    assert page.status_code == 429 and "too many failed sign-ins; try again in 15 minutes" in page.text
    assert _sign_in(pages, other.email).status_code == 303  # other accounts are not locked

    with rt.db.session() as session:
        session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=16)))
        session.commit()
    assert _sign_in(pages, student.email).status_code == 303


def test_failed_sign_ins_are_throttled_per_address(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings, login_max_failures_per_account=100, login_max_failures_per_ip=4)
    attacker, elsewhere = _client(app, "10.9.2.1"), _client(app, "10.9.2.2")
    student = make_student(rt, course["course"], password=True)
    for n in range(4):  # one guess at each of several accounts
        assert _sign_in(attacker, f"someone-{n}@test", "guess").status_code == 401
    assert _sign_in(attacker, student.email).status_code == 429
    assert attacker.post("/api/v1/tokens", json={"email": student.email, "password": PASSWORD}).status_code == 429
    assert _sign_in(elsewhere, student.email).status_code == 303


def test_known_and_unknown_emails_take_the_same_time(rt, course, service_settings):  # type: ignore[no-untyped-def]
    api = _client(_app(rt, service_settings), "10.9.3.1")
    student = make_student(rt, course["course"], password=True)

    def seconds(email: str) -> float:
        start = time.perf_counter()
        assert api.post("/api/v1/tokens", json={"email": email, "password": "guess"}).status_code == 401
        return time.perf_counter() - start

    seconds("warm-up@test")
    known, unknown = [], []
    for n in range(5):  # 10 failures: within the default limits of one address
        known.append(seconds(student.email))
        unknown.append(seconds(f"nobody-{n}@test"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, (known, unknown)


def test_api_tokens_expire(rt, course, service_settings):  # type: ignore[no-untyped-def]
    api = _client(_app(rt, service_settings, api_token_max_age_days=90))
    student = make_student(rt, course["course"], password=True)
    made = api.post("/api/v1/tokens", json={"email": student.email, "password": PASSWORD}).json()
    assert abs((datetime.fromisoformat(made["expires_at"]) - utcnow()) - timedelta(days=90)) < timedelta(minutes=1)
    bearer = {"Authorization": f"Bearer {made['token']}"}
    for age_days, status in ((89, 200), (91, 401)):
        with rt.db.session() as session:
            session.execute(update(ApiToken).where(ApiToken.id == made["id"]).values(created_at=utcnow() - timedelta(days=age_days)))
            session.commit()
        response = api.get("/api/v1/me", headers=bearer)
        assert response.status_code == status, (age_days, response.text)


def test_api_tokens_are_revoked_by_their_owner_only(rt, course, service_settings):  # type: ignore[no-untyped-def]
    app = _app(rt, service_settings)
    api = _client(app)
    alice, bob = (make_student(rt, course["course"], password=True) for _ in range(2))
    alice_tokens = [api.post("/api/v1/tokens", json={"email": alice.email, "password": PASSWORD, "name": name}).json()
                    for name in ("laptop", "cluster")]
    bob_token = api.post("/api/v1/tokens", json={"email": bob.email, "password": PASSWORD}).json()
    as_alice = {"Authorization": f"Bearer {alice_tokens[0]['token']}"}

    listed = api.get("/api/v1/tokens", headers=as_alice).json()
    assert [(t["id"], t["name"]) for t in listed] == [(alice_tokens[0]["id"], "laptop"), (alice_tokens[1]["id"], "cluster")]
    assert api.delete(f"/api/v1/tokens/{bob_token['id']}", headers=as_alice).status_code == 404
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {bob_token['token']}"}).status_code == 200
    assert api.delete(f"/api/v1/tokens/{alice_tokens[1]['id']}", headers=as_alice).status_code == 204
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {alice_tokens[1]['token']}"}).status_code == 401

    # The tokens page: a Revoke button per token, behind the CSRF check.
    client = _signed_in(_client(app), alice.email)
    page = client.get("/tokens").text
    revoke = f'/tokens/{alice_tokens[0]["id"]}/revoke'
    assert f'action="{revoke}"' in page and "laptop" in page and "cluster" not in page
    assert client.post(revoke, data={"csrf_token": "forged"}).status_code == 403
    assert client.post(f'/tokens/{bob_token["id"]}/revoke', data={"csrf_token": csrf_of(client, "/tokens")}).status_code == 404
    assert client.post(revoke, data={"csrf_token": csrf_of(client, "/tokens")}, follow_redirects=False).status_code == 303
    assert api.get("/api/v1/me", headers=as_alice).status_code == 401
    assert "laptop" not in client.get("/tokens").text


def test_responses_carry_the_security_headers(rt, service_settings):  # type: ignore[no-untyped-def]
    client = _client(_app(rt, service_settings))
    for path in ("/login", "/static/app.js", "/api/v1/me", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert (headers["x-frame-options"], headers["x-content-type-options"]) == ("DENY", "nosniff"), path
        assert headers["referrer-policy"] == "same-origin", path
    cookie = _client(client.app).get("/login").headers["set-cookie"].lower()  # a client with no cookie yet
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    behind_tls = _client(_app(rt, service_settings, secure_cookies=True))
    assert "; secure" in behind_tls.get("/login").headers["set-cookie"].lower()



def test_in_chromium_the_pages_keep_to_the_policy_and_logout_signs_out(browser: Browser, live_url, rt, course):  # type: ignore[no-untyped-def]
    """No page needs more than the Content-Security-Policy allows (Chromium reports every refusal on
    the console); revoking a token and logging out work from the buttons."""
    student = make_student(rt, course["course"], password=True)
    page = browser.new_context(base_url=live_url).new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    for email, paths in ((student.email, ["/assignments", "/assignments/hw1", "/tokens"]),
                         ("ta@test", ["/staff/dashboard", "/staff/queue", "/staff/assignments/hw1"]),
                         ("instructor@test", ["/instructor/suites", "/instructor/roster"])):
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        expect(page.locator(".who")).to_be_visible()
        for path in paths:
            assert page.goto(path).status == 200, path  # type: ignore[union-attr]
        if email == student.email:
            page.click("text=Create a token")
            expect(page.locator("#new-token")).to_be_visible()
            page.click("#tokens >> text=Revoke")
            expect(page.locator("#tokens >> text=Revoke")).to_have_count(0)
        page.click("text=Log out")
        expect(page).to_have_url(re.compile("/login$"))
        page.goto("/assignments")
        expect(page).to_have_url(re.compile("/login"))
    assert refused == []
    page.context.close()
