"""A published version is a sealed bundle: the same bundle grades the same way whatever happens to
the files on disk afterwards, and a bundle that was tampered with, or is not one, is refused."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from grader_core.config import Settings
from grader_core.pipeline import grade_upload
from grader_core.sandbox import Sandbox
from grader_core.suite import SuiteError, load_suite
from grader_core.suite.bundle import Bundle, build_bundle, open_bundle
from tests.conftest import SUITES

MINI = """\
id: mini-elbo
title: "The ELBO question alone"
version: "1"
reference_solution: reference
submission: {entry_module: elbo.py, allowed_files: ["*.py"]}
stages: {main: {wall_seconds: 60, probe_timeout_seconds: 20}}
tests:
  - {id: elbo-value, title: "ELBO value", check: reference_function, points: 6,
     params: {support: support/elbo.py, function: elbo, cases: 8}}
"""


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    folder = tmp_path / "suites"
    (folder / "support").mkdir(parents=True)
    (folder / "reference").mkdir()
    shutil.copy(SUITES / "hw3_support" / "elbo.py", folder / "support" / "elbo.py")
    shutil.copy(SUITES / "reference_solutions" / "hw3" / "elbo.py", folder / "reference" / "elbo.py")
    (folder / "mini.yaml").write_text(MINI)
    return folder / "mini.yaml"


def test_a_bundle_holds_every_file_the_suite_reaches_and_is_named_by_its_contents(mini: Path) -> None:
    bundle = build_bundle(load_suite(mini))
    assert sorted(bundle.manifest.files) == ["mini.yaml", "reference/elbo.py", "support/elbo.py"]
    again = build_bundle(load_suite(mini))
    assert again.to_bytes() == bundle.to_bytes() and again.sha256 == bundle.sha256
    assert Bundle.from_bytes(bundle.to_bytes()).sha256 == bundle.sha256
    (mini.parent / "support" / "elbo.py").write_text((mini.parent / "support" / "elbo.py").read_text() + "\n# edited\n")
    assert build_bundle(load_suite(mini)).sha256 != bundle.sha256


def test_a_published_bundle_grades_as_published_after_its_support_module_changes(
        mini: Path, bwrap_sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    sealed = build_bundle(load_suite(mini)).to_bytes()
    support = mini.parent / "support" / "elbo.py"
    support.write_text(support.read_text().replace("return sum(_terms(Q, w, sigma, v).values())",
                                                   "return 0.9 * sum(_terms(Q, w, sigma, v).values())"))
    reference = mini.parent / "reference"
    on_disk = grade_upload(load_suite(mini), reference, bwrap_sandbox, settings)
    assert on_disk.score == 0  # the edit is real: the disk's suite now disagrees with the reference
    bundle, published = open_bundle(sealed, tmp_path / "cache")
    result = grade_upload(published, reference, bwrap_sandbox, settings)
    assert result.score == result.automatic_max_score == 6
    assert result.environment.bundle_sha256 == bundle.sha256 and on_disk.environment.bundle_sha256 is None


def _rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, change.get(name, source.read(name)))
        for name, body in change.items():
            if name not in source.namelist():
                target.writestr(name, body)
    return buffer.getvalue()


def test_a_tampered_or_foreign_bundle_is_refused(mini: Path, tmp_path: Path) -> None:
    data = build_bundle(load_suite(mini)).to_bytes()
    with pytest.raises(SuiteError, match="does not match its SHA-256"):
        Bundle.from_bytes(_rezip(data, {"files/support/elbo.py": b"import os\n"}))
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json").replace(b'"reference/elbo.py"', b'"../../elbo.py"')
    with pytest.raises(SuiteError, match="unsafe path"):
        Bundle.from_bytes(_rezip(data, {"manifest.json": manifest}))
    with pytest.raises(SuiteError, match="not a suite bundle"):
        Bundle.from_bytes(b"PK\x03\x04 not really a zip")


def test_the_bundled_homeworks_record_the_data_and_weights_they_grade_with() -> None:
    manifest = build_bundle(load_suite(SUITES / "hw2.yaml")).manifest
    assert "calibration/hw2.json" in manifest.files and "hw2_mutants/mutants.yaml" in manifest.files
    names = sorted(manifest.data)
    assert any(name.startswith("dataset ") and name.endswith("/hidden") for name in names), names
    assert any(name.startswith("dataset ") and name.endswith("/train") for name in names), names
    assert any(name.startswith("feature weights digit_classifier_") for name in names), names
    assert all(len(digest) == 64 for digest in manifest.data.values())
