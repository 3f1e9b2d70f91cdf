"""Hostile submissions through BOTH backends: each ends with a clear status, nothing escapes, the
honest probe after the attack still scores, and the grader (this process) survives."""

from __future__ import annotations

import os
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, load_suite
from tests.conftest import REPO, grade_folder

HONEST = "\n\ndef honest():\n    return 1\n"


@pytest.fixture(scope="module")
def hostile_suite() -> LoadedSuite:
    return load_suite(Path(__file__).with_name("hostile.yaml"))


def run_attack(body: str, suite: LoadedSuite, sandbox: Sandbox, settings: Settings, tmp_path: Path) -> dict[str, object]:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "main.py").write_text(textwrap.dedent(body) + HONEST)
    result: GradingResult = grade_folder(suite, folder, sandbox, settings)
    return {test.id: test for test in result.tests} | {"result": result}


def assert_contained(tests: dict[str, object], *statuses: str, says: str = "") -> None:
    attack, honest = tests["attack"], tests["honest"]
    assert attack.status in statuses, (attack.status, attack.feedback)
    assert says in attack.feedback, attack.feedback
    assert honest.status == "passed", honest.feedback
    assert not _leftover_runner_processes()


def _leftover_runner_processes() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if "dgm_runner" in line and "ps -eo" not in line]


def test_network_is_unreachable(hostile_suite, sandbox, settings, tmp_path) -> None:
    # 127.0.0.1:5432 and :6379 are this machine's PostgreSQL and Redis: reachable from the host only.
    tests = run_attack(
        """
        import socket
        def attack():
            reached = 0
            for host, port in [("1.1.1.1", 80), ("127.0.0.1", 5432), ("127.0.0.1", 6379), ("deb.debian.org", 80)]:
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    reached += 1
                except OSError:
                    pass
            return reached
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert_contained(tests, "passed")


def test_nothing_outside_the_work_dir_is_writable(hostile_suite, sandbox, settings, tmp_path) -> None:
    marker = f"dgm-escape-{uuid.uuid4().hex}"
    targets = ["/submission", "/plan", "/opt/dgm/dgm_runner", str(REPO / ".venv"), "/usr", "/etc", "/", "/root"]
    tests = run_attack(
        f"""
        import os, sys
        def attack():
            written = 0
            for folder in {targets!r} + [sys.prefix]:
                try:
                    with open(os.path.join(folder, {marker!r}), "w") as handle:
                        handle.write("x")
                    written += 1
                except OSError:
                    pass
            with open("/work/scratch.txt", "w") as handle:  # the work dir itself is writable
                handle.write("fine")
            return written
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert_contained(tests, "passed")
    assert not any(Path(folder, marker).exists() for folder in targets)


def test_suite_and_other_submissions_are_invisible(hostile_suite, sandbox, settings, tmp_path) -> None:
    other = settings.work_dir / "other-student" / "answers.yaml"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text("secret: 42\n")
    paths = [str(REPO / "test_suites" / "hw1.yaml"), str(REPO / "test_suites" / "reference_solutions" / "hw1" / "answers.yaml"),
             str(hostile_suite.path), str(other)]
    os.environ["DGM_TEST_HOST_SECRET"] = "do-not-leak"
    tests = run_attack(
        f"""
        import os
        def attack():
            seen = 0
            for path in {paths!r}:
                try:
                    with open(path) as handle:
                        handle.read()
                    seen += 1
                except OSError:
                    pass
            seen += sum("do-not-leak" in value for value in os.environ.values())
            return seen
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert_contained(tests, "passed")


def test_fork_bomb_is_stopped(hostile_suite, sandbox, settings, tmp_path) -> None:
    tests = run_attack(
        """
        import os
        def attack():
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert tests["attack"].status in ("error", "timeout"), tests["attack"].feedback
    assert not _leftover_runner_processes()
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def test_memory_hog_is_stopped(hostile_suite, sandbox, settings, tmp_path) -> None:
    tests = run_attack(
        """
        def attack():
            blocks = []
            while True:
                blocks.append(bytearray(64 * 1024 * 1024))
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert_contained(tests, "error")


def test_infinite_loop_hits_the_probe_time_limit(hostile_suite, sandbox, settings, tmp_path) -> None:
    tests = run_attack("def attack():\n    while True:\n        pass\n", hostile_suite, sandbox, settings, tmp_path)
    assert_contained(tests, "error", says="took longer than")


def test_loop_that_blocks_the_timer_hits_the_wall_clock(hostile_suite, sandbox, settings, tmp_path) -> None:
    """Only the sandbox's wall clock stops it, and that clock is the stage's whole budget: the probe
    after it is charged, not run in a fresh sandbox with a budget of its own (see test_budget.py)."""
    tests = run_attack(
        """
        import signal
        def attack():
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            while True:
                pass
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    attack, honest = tests["attack"], tests["honest"]
    assert attack.status == "error" and "time limit" in attack.feedback, attack.feedback
    assert honest.status == "error" and "the stage's time budget of 8 s was spent" in honest.feedback, honest.feedback
    assert not _leftover_runner_processes()


def test_a_gigabyte_of_stdout_is_cut_off(hostile_suite, sandbox, settings, tmp_path) -> None:
    tests = run_attack(
        """
        import sys
        def attack():
            line = "x" * (1 << 20)
            for _ in range(1024):
                print(line)
            return 0
        """,
        hostile_suite, sandbox, settings, tmp_path,
    )
    assert_contained(tests, "error", says="too much output")
    assert len(tests["result"].logs) < 200_000


def test_exit_in_the_middle_fails_only_that_probe(hostile_suite, sandbox, settings, tmp_path) -> None:
    tests = run_attack("import os\ndef attack():\n    os._exit(3)\n", hostile_suite, sandbox, settings, tmp_path)
    assert_contained(tests, "error", says="exited with status 3")


def test_import_time_crash_fails_every_probe_clearly(hostile_suite, sandbox, settings, tmp_path) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "main.py").write_text("import os\nos._exit(9)\n")
    result = grade_folder(hostile_suite, folder, sandbox, settings)
    assert result.score == 0
    assert all(test.status == "error" and "exited with status 9" in test.feedback for test in result.tests)


def test_malicious_expression_strings_stay_inside(hw1: LoadedSuite, sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    marker = Path("/tmp") / f"dgm-pwned-{uuid.uuid4().hex}"
    quick = LoadedSuite(
        suite=hw1.suite.model_copy(update={"stages": {"main": hw1.suite.stages["main"].model_copy(update={"wall_seconds": 8})}}),
        path=hw1.path,
        text=hw1.text,
    )
    answers = (REPO / "test_suites/reference_solutions/hw1/answers.yaml").read_text()
    answers = answers.replace("alpha: 1/(2*pi)", f"alpha: \"__import__('os').system('touch {marker}') or 1/(2*pi)\"")
    answers = answers.replace("joint: 23", "joint: \"9**9**9**9\"")
    answers = answers.replace("alpha: 1\n", "alpha: \"open('/proc/self/environ').read() and 1\"\n")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "answers.yaml").write_text(answers)
    result = grade_folder(quick, folder, sandbox, settings)
    by_id = {test.id: test for test in result.tests}
    assert not marker.exists()
    # 9**9**9**9 would keep mpmath busy past any timer; it is refused in an instant instead.
    assert by_id["q5-joint"].status == "error" and "too large" in by_id["q5-joint"].feedback
    assert by_id["q1-alpha"].status == "error" and by_id["q2-alpha"].status == "error"
    # Everything that was not an attack still scored.
    attacked = {"q1-alpha", "q2-alpha", "q5-joint"}
    assert [test.id for test in result.tests if test.status not in ("passed", "pending") and test.id not in attacked] == []
