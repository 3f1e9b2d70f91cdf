"""The `dgm-grader` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SUITES


def dgm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader_core.cli", *args],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=300,
    )


def test_suite_check_passes_for_hw1_and_prints_the_planted_bugs_matrix() -> None:
    done = dgm("suite", "check", str(SUITES / "hw1.yaml"), "--backend", "bwrap")
    assert done.returncode == 0, done.stderr
    assert "OK: the reference solution scores all 41 automatic points" in done.stdout
    assert "OK: each of the 6 planted bugs loses exactly the tests it names" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("alpha_without_two "))
    assert row.split()[1:] == ["X", ".", ".", ".", ".", "."]


def test_suite_export_and_import_move_a_sealed_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "hw1.bundle.zip"
    exported = dgm("suite", "export", str(SUITES / "hw1.yaml"), "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    digest = exported.stdout.strip().rsplit(" ", 1)[-1]
    imported = dgm("suite", "import", str(bundle), "--into", str(tmp_path / "deployment"))
    assert imported.returncode == 0, imported.stderr
    suite_path = Path(imported.stdout.strip().splitlines()[-1].split(" (")[0])
    assert suite_path == tmp_path / "deployment" / "bundles" / digest / "hw1.yaml" and suite_path.is_file()
    bundle.write_bytes(bundle.read_bytes()[:-40])
    assert dgm("suite", "import", str(bundle), "--into", str(tmp_path / "other")).returncode == 1


@pytest.mark.parametrize(("suite", "points"), [("hw2", 60), ("hw3", 28)])
def test_suite_check_passes_without_the_hoda_files(suite: str, points: int, tmp_path: Path) -> None:
    """Where the shared Hoda files are absent (an empty data folder), the offline generator's digits
    stand in, with their own calibration: the references still earn every point."""
    done = dgm("suite", "check", str(SUITES / f"{suite}.yaml"), "--backend", "bwrap", "--reference-only",
               env={"DGM_SHARED_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK: the reference solution scores all {points} automatic points" in done.stdout


def test_suite_validate_reports_lines(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((SUITES / "hw1.yaml").read_text().replace("check: numeric_answer, points: 2,", "check: numeric_answer,", 1))
    done = dgm("suite", "validate", str(broken))
    assert done.returncode == 1
    assert f"{broken}:" in done.stderr and "missing required field 'points'" in done.stderr


def test_grade_writes_results_and_gradescope_json(tmp_path: Path) -> None:
    out, gradescope = tmp_path / "results.json", tmp_path / "gs.json"
    done = dgm("grade", "--suite", str(SUITES / "hw1.yaml"), str(REPO / "test_suites/reference_solutions/hw1/answers.yaml"),
               "--out", str(out), "--gradescope", str(gradescope), "--backend", "bwrap")
    assert done.returncode == 0, done.stderr
    assert "Score: 41 / 41 automatic points (+5 graded by hand)" in done.stdout
    results = json.loads(out.read_text())
    assert results["score"] == 41 and results["environment"]["sandbox_backend"] == "bwrap"
    exported = json.loads(gradescope.read_text())
    assert exported["score"] == 41 and len(exported["tests"]) == 25
    assert {test["visibility"] for test in exported["tests"]} == {"visible", "hidden", "after_due_date", "after_published"}


def test_rejected_upload_exits_2_with_the_reason(tmp_path: Path) -> None:
    upload = tmp_path / "payload.sh"
    upload.write_text("rm -rf /")
    done = dgm("grade", "--suite", str(SUITES / "hw1.yaml"), str(upload), "--backend", "bwrap")
    assert done.returncode == 2 and "unsupported upload" in done.stderr


def test_without_any_sandbox_student_code_is_refused(tmp_path: Path) -> None:
    # A real machine state: no Docker daemon at this address and no bwrap on PATH.
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "PATH": str(tmp_path)}
    done = dgm("grade", "--suite", str(SUITES / "hw1.yaml"), str(REPO / "test_suites/reference_solutions/hw1"), env=env)
    assert done.returncode == 3 and "refusing to run student code" in done.stderr
    unsafe = dgm("grade", "--suite", str(SUITES / "hw1.yaml"), str(REPO / "test_suites/reference_solutions/hw1"),
                 "--unsafe-no-sandbox", "--out", str(tmp_path / "r.json"), env=env)
    assert unsafe.returncode == 0, unsafe.stderr
    assert json.loads((tmp_path / "r.json").read_text())["environment"]["sandbox_backend"] == "none"
