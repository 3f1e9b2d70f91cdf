"""Properties of intake over generated zips: an upload the grader accepts unpacks entirely inside the
destination folder; anything else raises IntakeError naming the reason in a short message; and
either way nothing else is left on disk (a refused upload leaves not even the destination)."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader_core.intake import IntakeError, stage_submission
from grader_core.suite.schema import SubmissionSpec

# Every file allowed, so that the zips which pass the safety checks are accepted and their
# extraction is checked too; small budgets, so that the limits are reached as well.
SPEC = SubmissionSpec(answers_file="answers.yaml", allowed_files=["*"], max_files=8, max_bytes=2048)
LONGEST_MESSAGE = 600
EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_segments = st.one_of(
    st.sampled_from(["answers.yaml", "notes.md", "a", "b", ".", "..", "", "__MACOSX", ".DS_Store", "C:", "ü.md",
                     "x" * 300]),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12),
)
_names = st.builds(
    lambda prefix, parts, suffix: prefix + "/".join(parts) + suffix,
    st.sampled_from(["", "", "", "/", "./", "../"]),
    st.lists(_segments, min_size=1, max_size=4),
    st.sampled_from(["", "", "/"]),
)
_FILE_TYPES = {"none": 0, "file": stat.S_IFREG, "link": stat.S_IFLNK, "fifo": stat.S_IFIFO, "dir": stat.S_IFDIR}


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes
    file_type: str
    deflated: bool


_members = st.builds(Member, _names, st.binary(max_size=600), st.sampled_from(sorted(_FILE_TYPES)), st.booleans())
_tame_members = st.builds(
    Member,
    st.lists(st.sampled_from(["a", "b", "notes.md", "ü.md", "__MACOSX", ".DS_Store", "answers.yaml"]), min_size=1,
             max_size=3).map("/".join),
    st.binary(max_size=300), st.sampled_from(["none", "file"]), st.booleans(),
)


def _zip(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": duplicates are what we want
        for member in members:
            info = zipfile.ZipInfo(member.name)
            info.external_attr = (_FILE_TYPES[member.file_type] | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED if member.deflated else zipfile.ZIP_STORED
            archive.writestr(info, member.data)
    return buffer.getvalue()


@st.composite
def _damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as it is, with bytes overwritten (a corrupt member or header), or cut short."""
    how = draw(st.sampled_from(["intact", "intact", "overwritten", "cut"]))
    if how == "overwritten" and data:
        damaged = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            damaged[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(damaged)
    if how == "cut":
        return data[:draw(st.integers(0, len(data)))]
    return data


_zips = st.lists(_members, max_size=10).map(_zip).flatmap(_damaged)
# The accepted shape (answers.yaml first) with hostile company, so that acceptance is often reached.
_mostly_good_zips = st.lists(st.one_of(_tame_members, _tame_members, _members), max_size=5).map(
    lambda rest: _zip([Member("answers.yaml", b"q: 1\n", "file", True), *rest]))


def _everything_under(root: Path) -> set[Path]:
    found = set()
    for folder, directories, files in os.walk(root, followlinks=False):
        found.update(Path(folder) / name for name in directories + files)
    return found


def _check_intake(upload_bytes: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="dgm-intake-property-") as scratch:
        root = Path(scratch)
        upload = root / "upload.zip"
        upload.write_bytes(upload_bytes)
        destination = root / "outer" / "submission"  # so that "../x" and "../../x" would show up in root
        try:
            stage_submission(upload, SPEC, destination)
        except IntakeError as exc:
            assert 0 < len(str(exc)) <= LONGEST_MESSAGE, str(exc)
            assert _everything_under(root) - {upload, root / "outer"} == set(), "a refused upload left files"
            return
        inside = _everything_under(destination)
        assert _everything_under(root) == {upload, root / "outer", destination} | inside, "written outside"
        real_destination = destination.resolve()
        for path in inside:
            assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
            assert path.resolve().is_relative_to(real_destination), path
        assert (destination / "answers.yaml").is_file()


@EXAMPLES
@given(_zips)
def test_any_zip_is_unpacked_inside_the_destination_or_refused_leaving_nothing(upload: bytes) -> None:
    _check_intake(upload)


@EXAMPLES
@given(_mostly_good_zips)
def test_zips_close_to_acceptable_are_unpacked_inside_the_destination_or_refused(upload: bytes) -> None:
    _check_intake(upload)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda tail: b"PK\x03\x04" + tail)))
def test_random_bytes_are_refused_with_a_reason(upload: bytes) -> None:
    _check_intake(upload)
