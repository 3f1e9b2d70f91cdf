"""Intake of uploads: zips, folders and single files; every hostile shape rejected with a reason."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader_core.intake import IntakeError, stage_submission
from grader_core.suite.schema import SubmissionSpec

SPEC = SubmissionSpec(answers_file="answers.yaml", allowed_files=["answers.yaml", "*.md"], max_files=5, max_bytes=1024)
CODE = SubmissionSpec(entry_module="main.py", required_files=["weights/*.safetensors"], allowed_files=["*.py", "weights/*"])


def make_zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, target)
    return path


def test_zip_is_extracted(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "up.zip", {"answers.yaml": b"q: 1\n", "notes.md": b"hi"})
    out = stage_submission(upload, SPEC, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["answers.yaml", "notes.md"]


def test_a_zipped_folder_is_unwrapped(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "up.zip", {"hw1/answers.yaml": b"q: 1\n", "__MACOSX/._x": b""})
    assert (stage_submission(upload, SPEC, tmp_path / "out") / "answers.yaml").is_file()


def test_a_single_file_takes_the_required_name(tmp_path: Path) -> None:
    upload = tmp_path / "my_hw1.yml"
    upload.write_text("q: 1\n")
    assert (stage_submission(upload, SPEC, tmp_path / "out") / "answers.yaml").read_text() == "q: 1\n"


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"../evil.yaml": b"x", "answers.yaml": b"q: 1"}, "path traversal"),
        ({"/etc/evil": b"x"}, "absolute path"),
        ({"C:/evil": b"x"}, "absolute path"),
        ({"a\\..\\b": b"x"}, "unsafe file name"),
        ({"answers.yaml": b"q: 1", "run.sh": b"x"}, "files not accepted for this assignment: run.sh"),
        ({"notes.md": b"x"}, "required file missing: answers.yaml"),
        ({f"{i}.md": b"x" for i in range(6)}, "more than 5 files"),
        ({"answers.yaml": b"x" * 2000}, "larger than"),
    ],
)
def test_hostile_zips_are_rejected(tmp_path: Path, members: dict[str, bytes], reason: str) -> None:
    upload = make_zip(tmp_path / "up.zip", members)
    with pytest.raises(IntakeError, match=reason.replace("\\", "\\\\")):
        stage_submission(upload, SPEC, tmp_path / "out")


def test_zip_bomb_is_measured_while_extracting(tmp_path: Path) -> None:
    # 100 MB of zeros compresses to ~100 KB; the limit is enforced on bytes actually produced.
    upload = tmp_path / "bomb.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("answers.yaml", "w", force_zip64=True) as member:
            for _ in range(100):
                member.write(bytes(1 << 20))
    big = SubmissionSpec(answers_file="answers.yaml", max_bytes=10 * 1024 * 1024)
    with pytest.raises(IntakeError, match="larger than 10 MiB"):
        stage_submission(upload, big, tmp_path / "out")


def test_symlinks_in_zips_are_rejected(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "up.zip", {"answers.yaml": b"q: 1"}, symlinks={"notes.md": "/etc/passwd"})
    with pytest.raises(IntakeError, match="symbolic link"):
        stage_submission(upload, SPEC, tmp_path / "out")


def test_symlinks_in_folders_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "answers.yaml").write_text("q: 1\n")
    os.symlink("/etc/passwd", folder / "notes.md")
    with pytest.raises(IntakeError, match="symbolic link"):
        stage_submission(folder, SPEC, tmp_path / "out")


def test_corrupt_zip_and_unknown_types_are_rejected(tmp_path: Path) -> None:
    corrupt = tmp_path / "up.zip"
    corrupt.write_bytes(make_zip(tmp_path / "ok.zip", {"answers.yaml": b"q: 1"}).read_bytes()[:-30])
    with pytest.raises(IntakeError):
        stage_submission(corrupt, SPEC, tmp_path / "out1")
    exe = tmp_path / "payload.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(IntakeError, match="unsupported upload"):
        stage_submission(exe, SPEC, tmp_path / "out2")


def test_required_glob_must_match(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "main.py").write_text("x = 1\n")
    with pytest.raises(IntakeError, match=r"required file missing: weights/\*.safetensors"):
        stage_submission(folder, CODE, tmp_path / "out")
    (folder / "weights").mkdir()
    (folder / "weights" / "model.safetensors").write_bytes(b"\0")
    assert (stage_submission(folder, CODE, tmp_path / "out2") / "weights" / "model.safetensors").is_file()
