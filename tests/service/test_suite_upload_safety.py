"""A suite sent to the API is staff's text, not staff's code: its expected values are parsed, never
evaluated, and it cannot point the workers at code outside the suites' folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grader_api.services.suites import SUITES_DIR

from .conftest import csrf_of, login

HW1_TEXT = (SUITES_DIR / "hw1.yaml").read_text()
HW3_TEXT = (SUITES_DIR / "hw3.yaml").read_text()


def _check(client: TestClient, text: str) -> dict[str, object]:
    answer = client.post("/api/v1/suites/check", data={"yaml_text": text},
                         headers={"X-CSRF-Token": csrf_of(client, "/instructor/suites")})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_expected_value_that_is_python_never_runs_in_the_api(rt, course, client: TestClient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    login(client, "instructor@test")
    sentinel = tmp_path / "ran"
    hostile = HW1_TEXT.replace("id: hw1\n", "id: hw1-hostile\n", 1).replace(
        'expected: "1/(2*pi)"', f"expected: \"__import__('os').system('touch {sentinel}')*0+1\"", 1)
    answer = _check(client, hostile)
    assert not answer["valid"] and answer["check_id"] is None
    line = next(number for number, row in enumerate(hostile.splitlines(), 1) if "__import__" in row)
    assert [issue["line"] for issue in answer["issues"]] == [line]  # type: ignore[index, union-attr]
    assert not sentinel.exists()


@pytest.mark.parametrize(("field", "original", "path"), [
    ("reference_solution", "reference_solution: reference_solutions/hw3", "/etc"),
    ("reference_solution", "reference_solution: reference_solutions/hw3", "../../.."),
    ("support", "support: hw3_support/elbo.py", "/tmp/dgm-evil.py"),
    ("support", "support: hw3_support/elbo.py", "../grader_core/cli.py"),
])
def test_staff_code_outside_the_suites_folder_is_refused_before_any_worker_sees_it(  # type: ignore[no-untyped-def]
        field: str, original: str, path: str, rt, course, client: TestClient) -> None:
    login(client, "instructor@test")
    text = HW3_TEXT.replace("id: hw3\n", "id: hw3-paths\n", 1).replace(original, f"{field}: '{path}'")
    assert text != HW3_TEXT
    answer = _check(client, text)
    assert not answer["valid"] and answer["check_id"] is None
    assert all("inside the suite's own folder" in issue["message"] for issue in answer["issues"])  # type: ignore[index, union-attr]
