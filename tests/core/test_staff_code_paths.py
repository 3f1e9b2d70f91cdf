"""Staff code (support modules, the reference solution) runs on the trusted side, so a suite names it
only inside its own folder: validation refuses other paths by line, and a symbolic link that leads
outside is refused where the file would be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader_core.checks._staff import StaffFunctionParams
from grader_core.suite import SuiteError, load_suite, parse_suite
from tests.conftest import SUITES

HW3 = (SUITES / "hw3.yaml").read_text()


def _line_of(text: str, needle: str) -> int:
    return next(number for number, row in enumerate(text.splitlines(), 1) if needle in row)


@pytest.mark.parametrize("path", ["/etc", "../../..", "reference_solutions/../../grader_core", "..", "C:/evil", "a\\..\\b"])
def test_a_reference_solution_outside_the_suite_folder_is_a_validation_error(path: str) -> None:
    text = HW3.replace("reference_solution: reference_solutions/hw3", f"reference_solution: '{path}'", 1)
    assert text != HW3
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, SUITES / "hw3.yaml")
    assert [issue.line for issue in caught.value.issues] == [_line_of(text, "reference_solution:")]
    assert "inside the suite's own folder" in caught.value.issues[0].message


@pytest.mark.parametrize("path", ["/tmp/evil.py", "../grader_core/cli.py", "hw3_support/../../x.py"])
def test_a_support_module_outside_the_suite_folder_is_a_validation_error(path: str) -> None:
    text = HW3.replace("support: hw3_support/elbo.py", f"support: '{path}'")
    assert text != HW3
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, SUITES / "hw3.yaml")
    lines = sorted(issue.line for issue in caught.value.issues)
    assert lines == [number for number, row in enumerate(text.splitlines(), 1) if f"support: '{path}'" in row]
    assert all("inside the suite's own folder" in issue.message for issue in caught.value.issues)


def test_a_symbolic_link_out_of_the_suite_folder_is_never_imported(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = tmp_path / "imported"
    (outside / "evil.py").write_text(f"open({str(sentinel)!r}, 'w').close()\n")
    suite_dir = tmp_path / "suites"
    suite_dir.mkdir()
    (suite_dir / "support.py").symlink_to(outside / "evil.py")
    params = StaffFunctionParams(support="support.py", function="elbo")
    with pytest.raises(ValueError, match="leads outside the suite's folder"):
        params.staff(suite_dir)
    assert not sentinel.exists()


def test_a_reference_solution_linked_from_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    suite_dir = tmp_path / "suites"
    suite_dir.mkdir()
    (suite_dir / "reference").symlink_to(tmp_path / "elsewhere")
    text = (SUITES / "hw1.yaml").read_text().replace("reference_solution: reference_solutions/hw1", "reference_solution: reference")
    (suite_dir / "hw1.yaml").write_text(text)
    with pytest.raises(SuiteError, match="leads outside the suite's folder"):
        load_suite(suite_dir / "hw1.yaml")


def test_the_bundled_suites_keep_their_staff_code_inside_their_folder() -> None:
    for path in sorted(SUITES.glob("*.yaml")):
        loaded = load_suite(path)
        if loaded.reference_solution is not None:
            assert loaded.reference_solution.is_relative_to(SUITES)
