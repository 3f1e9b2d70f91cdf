"""Intake of uploads: zips, folders and single files; every hostile shape rejected with a reason."""

from __future__ import annotations

import io
import os
import stat
import struct
import tracemalloc
import warnings
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
        ({"answers.yaml": b"q: 1", "run.sh": b"x"}, "files not accepted for this assignment: .run.sh."),
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


def _zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytearray:
    """Members in order, duplicates included; a name ending in "/" is a folder entry."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as bundle:
        warnings.simplefilter("ignore")  # "Duplicate name"
        for name, data in members:
            bundle.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return bytearray(buffer.getvalue())


def _encrypted(data: bytearray) -> bytearray:
    """The first member marked encrypted (general purpose flag bit 0, in both of its headers)."""
    data[data.index(b"PK\x03\x04") + 6] |= 1
    data[data.index(b"PK\x01\x02") + 8] |= 1
    return data


def _bad_crc(data: bytearray) -> bytearray:
    data[data.index(b"q: 1")] ^= 0xFF  # a stored member's content, no longer matching its CRC
    return data


def _truncated(data: bytearray) -> bytearray:
    """The first (deflated) member's compressed size halved in both headers: its stream ends early."""
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    size = struct.unpack_from("<I", data, local + 18)[0]
    for offset in (local + 18, central + 20):
        struct.pack_into("<I", data, offset, size // 2)
    return data


ANSWERS = ("answers.yaml", b"q: 1\n" * 200)
MALFORMED_ZIPS = {
    "duplicate names": (_zip_bytes([ANSWERS, ANSWERS]), "same path: 'answers.yaml'"),
    "./a and a": (_zip_bytes([("./answers.yaml", b"q: 1"), ANSWERS]), "same path: 'answers.yaml'"),
    "a file, then a folder of its name": (_zip_bytes([ANSWERS, ("notes.md", b""), ("notes.md/x.md", b"")]), "same path"),
    "a folder, then a file of its name": (_zip_bytes([ANSWERS, ("notes.md/", b""), ("notes.md", b"")]), "same path"),
    "a member named '.'": (_zip_bytes([ANSWERS, (".", b"x")]), "has no name"),
    "an empty name": (_zip_bytes([ANSWERS, ("", b"x")]), "has no name"),
    "a 300-character name": (_zip_bytes([ANSWERS, ("n" * 297 + ".md", b"x")]), "file name too long"),
    "an encrypted member": (_encrypted(_zip_bytes([ANSWERS])), "encrypted file in upload: 'answers.yaml'"),
    "a bad CRC": (_bad_crc(_zip_bytes([ANSWERS])), "could not be read: .*Bad CRC-32"),
    "a truncated member": (_truncated(_zip_bytes([("answers.yaml", os.urandom(4000))], zipfile.ZIP_DEFLATED)),
                           "could not be read"),
    "the required file is a folder": (_zip_bytes([("answers.yaml/notes.md", b"x")]), "required file missing: answers.yaml"),
    "a folder holding one of its own name": (_zip_bytes([("hw1/hw1/answers.yaml", b"q: 1")]),
                                              "not accepted for this assignment: .hw1/answers.yaml."),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_ZIPS))
def test_malformed_zips_are_refused_with_their_reason_leaving_nothing(case: str, tmp_path: Path) -> None:
    data, reason = MALFORMED_ZIPS[case]
    upload = tmp_path / "up.zip"
    upload.write_bytes(data)
    with pytest.raises(IntakeError, match=reason):
        stage_submission(upload, SPEC, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_every_entry_counts_toward_the_budget_skipped_or_not(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "up.zip", {"answers.yaml": b"q: 1"} | {f"__MACOSX/._{i}": b"" for i in range(60)})
    with pytest.raises(IntakeError, match="more than 15 entries"):  # SPEC.max_files is 5
        stage_submission(upload, SPEC, tmp_path / "out")


def test_a_zip_from_macos_fits_the_budget(tmp_path: Path) -> None:
    """Finder's litter (a ``._`` twin of each file, ``.DS_Store``, folder entries) stays within it."""
    files = ["hw1/answers.yaml", "hw1/notes.md", "hw1/more.md", "hw1/.DS_Store"]
    members = files + ["__MACOSX/hw1/._" + Path(name).name for name in files]
    with zipfile.ZipFile(tmp_path / "up.zip", "w") as bundle:
        for folder in ("hw1/", "__MACOSX/", "__MACOSX/hw1/"):
            bundle.writestr(folder, b"")
        for name in members:
            bundle.writestr(name, b"q: 1\n")
    out = stage_submission(tmp_path / "up.zip", SPEC, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["answers.yaml", "more.md", "notes.md"]


@pytest.mark.parametrize(
    "members",
    [{"answers.yaml": b"q: 1", "x" * 250 + ".sh": b"x"}, {"../" + "x" * 3000: b"x"}, {"/" + "x" * 3000: b"x"}],
)
def test_error_messages_quote_only_a_little_of_a_name(tmp_path: Path, members: dict[str, bytes]) -> None:
    upload = make_zip(tmp_path / "up.zip", members)
    with pytest.raises(IntakeError) as refused:
        stage_submission(upload, SPEC, tmp_path / "out")
    assert len(str(refused.value)) < 300, str(refused.value)


def test_a_zip_of_many_entries_is_refused_before_its_directory_is_read(tmp_path: Path) -> None:
    """zipfile would hold every entry of the central directory in memory (about 1 KB each) before
    the first could be counted: 50,000 folder entries are refused without that."""
    upload = tmp_path / "up.zip"
    with zipfile.ZipFile(upload, "w") as bundle:
        for index in range(50_000):
            bundle.writestr(f"{index:x}/", b"")
    tracemalloc.start()
    try:
        with pytest.raises(IntakeError, match="more than 15 entries"):
            stage_submission(upload, SPEC, tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, f"{peak / 1024 / 1024:.0f} MiB"
