"""The embedded mode (``make run``) as a user meets it: one process started on a free port with an
empty data directory, no database or broker server; over HTTP, every role signs in and the seeded
example submissions are graded by its real Celery worker; SIGTERM stops everything."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from grader_core.suite import load_suite
from tests.conftest import REPO, SUITES

START_TIMEOUT_S = 90.0
ACCOUNT = re.compile(r"^\s+(\w+)\s+(\S+@demo\.local)\s+password: (\S+)$")


@dataclass
class Embedded:
    process: subprocess.Popen[str]
    url: str
    passwords: dict[str, tuple[str, str]]  # role -> (email, password)
    startup_s: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def embedded(data_dir: Path) -> Iterator[Embedded]:
    env = os.environ | {"DGM_SANDBOX_BACKEND": "bwrap", "DGM_RECONCILE_INTERVAL_S": "5"}
    env.pop("DGM_DATABASE_URL", None)
    env.pop("DGM_BROKER_URL", None)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "grader_api.embedded", "--data-dir", str(data_dir), "--port", str(_free_port()), "--concurrency", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        url, passwords = _read_banner(process)
        yield Embedded(process, url, passwords, time.monotonic() - started)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        _assert_group_gone(process.pid)  # the worker and its pool too
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _read_banner(process: subprocess.Popen[str]) -> tuple[str, dict[str, tuple[str, str]]]:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    url, passwords = None, {}
    for line in process.stdout:  # the banner is the only thing on stdout; logs go to stderr
        if found := re.search(r"running at (http://\S+?)/? ", line):
            url = found.group(1)
        elif found := ACCOUNT.match(line):
            passwords[found.group(1)] = (found.group(2), found.group(3))
        elif line.startswith("Press Ctrl+C"):
            break
        assert time.monotonic() < deadline, "no banner"
    assert url is not None, f"the embedded server exited early (code {process.poll()})"
    return url, passwords


def _assert_group_gone(pgid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError("processes of the embedded mode are still running after it exited")


def _signed_in(url: str, email: str, password: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)  # type: ignore[union-attr]
    response = http.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 200 and "Log out" in response.text, (email, response.status_code)
    return http


def _wait_graded(http: httpx.Client, timeout: float = 90.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        mine = http.get("/api/v1/submissions").json()
        if mine and all(s["status"] in ("graded", "failed") for s in mine):
            return mine
        assert time.monotonic() < deadline, f"not graded in {timeout} s: {[s['status'] for s in mine]}"
        time.sleep(0.5)


def test_embedded_mode_serves_seeds_grades_and_stops(tmp_path: Path) -> None:
    homeworks = {load_suite(path).suite.id for path in SUITES.glob("*.yaml")}
    with embedded(tmp_path / "data") as first:
        assert set(first.passwords) == {"student", "ta", "instructor", "admin"}
        print(f"\nembedded start-up: {first.startup_s:.1f} s to the banner")
        sessions = {role: _signed_in(first.url, *account) for role, account in first.passwords.items()}
        assert {a["slug"] for a in sessions["student"].get("/api/v1/assignments").json()} == homeworks
        mine = _wait_graded(sessions["student"])
        assert len(mine) == 1 and mine[0]["status"] == "graded" and mine[0]["score"] is not None
        dashboard = sessions["ta"].get("/staff/dashboard")
        assert dashboard.status_code == 200
        graded_cells = re.findall(r'<a href="/staff/submissions/(\d+)">', dashboard.text)
        deadline = time.monotonic() + 60
        while len(graded_cells) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
            graded_cells = re.findall(r'<a href="/staff/submissions/(\d+)">', sessions["ta"].get("/staff/dashboard").text)
        assert len(graded_cells) == 3, "the three HW1 examples are graded"
        for role in ("instructor", "admin"):
            assert sessions[role].get("/instructor/suites").status_code == 200
        assert sessions["ta"].get("/instructor/suites").status_code == 403
        for http in sessions.values():
            http.close()
    with embedded(tmp_path / "data") as again:  # a restart: same accounts, nothing submitted twice
        assert again.passwords == first.passwords
        student = _signed_in(again.url, *again.passwords["student"])
        assert [s["id"] for s in student.get("/api/v1/submissions").json()] == [mine[0]["id"]]
        student.close()
