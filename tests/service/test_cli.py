"""``dgm-grader login`` and ``dgm-grader submit`` as a student runs them: real subprocesses against the
app served over HTTP, with the real worker grading; ``suite export`` of a published version as an
instructor runs it against the service's database."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from grader_api.db import utcnow
from grader_api.models import Course, Submission
from grader_api.services.assignments import create_assignment
from grader_api.services.suites import SUITES_DIR, parse, publish
from grader_core.suite import load_suite
from grader_core.suite.bundle import Bundle, build_bundle
from tests.conftest import REPO

from .conftest import PASSWORD, REFERENCE_HW1, make_student

HW1 = load_suite(SUITES_DIR / "hw1.yaml").suite


def dgm(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
        home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command line with a private home (no saved token) and no DGM_API_TOKEN of the caller's."""
    environment = {key: value for key, value in os.environ.items() if key not in ("DGM_API_TOKEN", "DGM_URL")}
    if home is not None:
        environment |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run([sys.executable, "-m", "grader_core.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=REPO, env=environment | (env or {}), timeout=300)


def test_login_then_submit_and_wait_reports_the_full_automatic_score(rt, course, worker, live_url, tmp_path):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    login = dgm("login", "--url", live_url, "--email", student.email, "--password-stdin", stdin=PASSWORD + "\n", home=tmp_path)
    assert login.returncode == 0, login.stderr
    token = login.stdout.strip()
    assert re.fullmatch(r"dgm_\S+", token), login.stdout

    folder = tmp_path / "my_work"  # a folder goes zipped, with the clutter intake would ignore
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "answers.yaml").write_bytes(REFERENCE_HW1.read_bytes())
    (folder / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    done = dgm("submit", "hw1", str(folder), "--wait", "--timeout", "120",
               env={"DGM_API_TOKEN": token, "DGM_URL": live_url}, home=tmp_path)
    assert done.returncode == 0, done.stderr
    visible_automatic = sum(t.points for t in HW1.tests if t.visibility.value == "visible" and t.check != "manual")
    pending = sum(t.points for t in HW1.tests if t.visibility.value == "visible" and t.check == "manual")
    assert f"automatic points: {visible_automatic:g} / {visible_automatic:g}; {pending:g} to be graded by hand" in done.stdout
    assert "Q1 normalizing constant" in done.stdout and "q1.alpha: correct" in done.stdout  # visible feedback
    hidden = [t for t in HW1.tests if t.visibility.value != "visible"]
    assert f"{len(hidden)} test(s) are not shown yet." in done.stdout
    assert not any(t.title in done.stdout for t in hidden)
    print(f"\n{done.stdout}")


def test_login_save_stores_the_token_for_submit_readable_by_its_owner_only(rt, course, worker, live_url, tmp_path):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    saved = dgm("login", "--url", live_url, "--email", student.email, "--password-stdin", "--save",
                stdin=PASSWORD + "\n", home=tmp_path)
    assert saved.returncode == 0 and saved.stdout == "", saved.stderr
    token_file = tmp_path / ".config" / "dgm-grader" / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and token_file.read_text().startswith("dgm_")
    done = dgm("submit", "hw1", str(REFERENCE_HW1), "--url", live_url, home=tmp_path)  # a single file, as it is
    assert done.returncode == 0, done.stderr
    assert re.search(r"submitted hw1 #1 \(submission \d+\): (queued|running|graded)", done.stdout), done.stdout


def test_wrong_credentials_exit_non_zero_with_a_clear_message(rt, course, live_url, tmp_path):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], password=True)
    done = dgm("submit", "hw1", str(REFERENCE_HW1), "--url", live_url, "--token", "dgm_not-a-real-token", home=tmp_path)
    assert done.returncode == 1
    assert "refused the credentials (invalid API token)" in done.stderr and "dgm-grader login" in done.stderr
    assert "Traceback" not in done.stderr
    no_token = dgm("submit", "hw1", str(REFERENCE_HW1), "--url", live_url, home=tmp_path)
    assert no_token.returncode == 1 and "no API token" in no_token.stderr
    wrong_password = dgm("login", "--url", live_url, "--email", student.email, "--password-stdin", stdin="wrong\n", home=tmp_path)
    assert wrong_password.returncode == 1 and "wrong email or password" in wrong_password.stderr
    with rt.db.session() as session:
        assert session.query(Submission).filter(Submission.user_id == student.id).count() == 0


def test_suite_export_writes_a_published_versions_bundle_from_the_database(rt, course, tmp_path):  # type: ignore[no-untyped-def]
    loaded = parse((SUITES_DIR / "hw1.yaml").read_text().replace("id: hw1\n", "id: hw1-export\n", 1))
    with rt.db.session() as session:
        assignment = create_assignment(session, session.get_one(Course, course["course"]), loaded, utcnow(), rt.settings, None)
        second = build_bundle(loaded)
        publish(session, assignment, loaded, rt.settings, None, None, second)
        session.commit()
    env = {"DGM_DATABASE_URL": rt.settings.database_url}
    out = tmp_path / "hw1.bundle.zip"
    done = dgm("suite", "export", "--assignment", "hw1-export", "--version", "2", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == second.to_bytes() and Bundle.from_bytes(out.read_bytes()).sha256 in done.stdout
    imported = dgm("suite", "import", str(out), "--into", str(tmp_path / "next-semester"))
    assert imported.returncode == 0 and second.sha256 in imported.stdout, imported.stderr
    unsealed = dgm("suite", "export", "--assignment", "hw1-export", "--version", "1", "--out", str(out), env=env)
    assert unsealed.returncode == 1 and "published before suites were sealed" in unsealed.stderr
    missing = dgm("suite", "export", "--assignment", "hw1-export", "--version", "3", "--out", str(out), env=env)
    assert missing.returncode == 1 and "no published suite version 3" in missing.stderr
