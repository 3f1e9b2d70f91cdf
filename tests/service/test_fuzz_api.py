"""Schemathesis against the JSON API's own OpenAPI schema, signed in as each role and as no one:
every operation gets valid and invalid requests (``DGM_FUZZ_EXAMPLES`` of each per operation; a few
here, many more in ``bench/fuzz_api.py``), and no reply may be a 5xx or differ from what the schema
declares for its status.

The app runs in a uvicorn process of its own on a scratch PostgreSQL database with one course, HW1,
an account per role and a submission, so that the fuzzing mutates nothing other tests see. Its
broker is Kombu's in-memory transport: uploads, regrades and suite checks are queued for real but
never graded. Each operation is also called with the ids and slug of those rows, so that the
generated bodies and queries reach the code past the lookups."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from grader_api.db import Database, utcnow
from grader_api.migrate import upgrade
from grader_api.models import ROLES, Enrollment, User
from grader_api.scratch import scratch_database
from grader_api.security import hash_password
from grader_api.services.assignments import create_assignment, get_or_create_course
from grader_api.services.suites import SUITES_DIR
from grader_core.config import Settings, settings_env
from grader_core.suite import load_suite
from tests.conftest import REPO

from .conftest import PASSWORD, PG_ADMIN, REFERENCE_HW1

EXAMPLES = int(os.environ.get("DGM_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance]
Strategy = hypothesis.strategies.SearchStrategy[schemathesis.Case]
START_TIMEOUT_S = 60.0


@dataclass
class Target:
    url: str
    tokens: dict[str, str]  # role -> API token
    path_values: dict[str, object]  # a value naming something that exists, for each path parameter


@dataclass
class Campaign:
    cases: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("fuzz")
    with scratch_database(PG_ADMIN, prefix="dgm_fuzz") as url:
        settings = Settings(database_url=url, broker_url="memory://", secret_key="fuzz-secret", upload_dir=root / "uploads",
                            artifact_dir=root / "artifacts", work_dir=root / "work", reconcile_interval_s=0,
                            api_runs_reconciler=False)
        upgrade(url)
        course_id = _seed(Database(url), settings)
        with _served(settings) as base_url:
            tokens = {role: _token(base_url, f"{role}@fuzz") for role in ROLES}
            submitted = httpx.post(f"{base_url}/api/v1/assignments/hw1/submissions", headers=_bearer(tokens["student"]),
                                   files={"file": ("answers.yaml", REFERENCE_HW1.read_bytes())}, timeout=30)
            assert submitted.status_code == 201, submitted.text
            existing = {"slug": "hw1", "course_id": course_id, "submission_id": submitted.json()["id"], "test_id": "q4-proof"}
            yield Target(base_url, tokens, existing)


def _seed(database: Database, settings: Settings) -> int:
    with database.session() as session:
        course = get_or_create_course(session, "DGM", "Deep Generative Models")
        create_assignment(session, course, load_suite(SUITES_DIR / "hw1.yaml"), utcnow() + timedelta(days=7), settings, None)
        for role in ROLES:
            user = User(email=f"{role}@fuzz", name=role, role=role, password_hash=hash_password(PASSWORD))
            session.add(user)
            session.flush()
            session.add(Enrollment(course_id=course.id, user_id=user.id))
        session.commit()
        course_id = course.id
    database.dispose()
    return course_id


@contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """``uvicorn grader_api.main:app`` configured by ``settings``, on a socket bound here (the kernel picks
    the port: no race for a free one); yields its URL. A process of its own, because the app's startup
    points this process's Celery app and worker runtime at its settings, which the other tests share."""
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "grader_api.main:app", "--fd", str(listener.fileno()), "--log-level", "warning"],
        env=os.environ | settings_env(settings), cwd=REPO, pass_fds=(listener.fileno(),),
    )
    listener.close()
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start (exit status {process.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/openapi.json", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _token(url: str, email: str) -> str:
    response = httpx.post(f"{url}/api/v1/tokens", json={"email": email, "password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def plan(target: Target) -> list[Strategy]:
    """For every operation of the schema: valid requests with generated path values and with those
    of existing rows, and invalid requests."""
    schema = schemathesis.openapi.from_url(f"{target.url}/openapi.json")
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE))
        if any(len(part) for part in (operation.path_parameters, operation.query, operation.body)):  # else nothing can be invalid
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
        known = {name: value for name, value in target.path_values.items() if f"{{{name}}}" in operation.path}
        if known:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    return strategies


def fuzz(strategies: list[Strategy], headers: dict[str, str], examples: int) -> Campaign:
    """``examples`` cases of each strategy, each reply checked for a 5xx and against the schema."""
    campaign = Campaign()
    for strategy in strategies:
        _run(strategy, headers, examples, campaign)
    return campaign


def _run(strategy: Strategy, headers: dict[str, str], examples: int,
         campaign: Campaign) -> None:
    # Failures are collected rather than raised: one campaign reports all of them, unshrunk.
    @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=strategy)
    def call(case: schemathesis.Case) -> None:
        campaign.cases += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
        except FailureGroup as failed:
            campaign.failures.append(str(failed)[:3000])

    call()


@pytest.fixture(scope="module")
def strategies(target: Target) -> list[Strategy]:
    return plan(target)  # loading the schema takes seconds: once for every role


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_no_input_reaches_a_5xx_or_a_reply_the_schema_does_not_declare(role: str, target: Target, strategies: list[Strategy]) -> None:
    started = time.monotonic()
    campaign = fuzz(strategies, _bearer(target.tokens[role]) if role in target.tokens else {}, EXAMPLES)
    print(f"fuzz {role}: {len(strategies)} strategies, {campaign.cases} cases, {len(campaign.failures)} failures "
          f"in {time.monotonic() - started:.0f} s")
    assert campaign.cases >= len(strategies)
    assert not campaign.failures, f"{len(campaign.failures)} failing cases; the first:\n" + "\n".join(campaign.failures[:3])
