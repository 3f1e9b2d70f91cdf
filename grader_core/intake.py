"""Turn an upload (a .zip, a folder, or one .py/.yaml/.ipynb file) into a clean submission folder.

Everything is checked before a byte is written where it matters: no absolute paths, no ``..``, no
links or device files, bounded file count and uncompressed size (zip bombs are measured while
extracting, not trusted from the archive's headers), only files the suite allows, and the files it
requires are present.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .suite.schema import SubmissionSpec

SINGLE_FILE_SUFFIXES = (".py", ".yaml", ".yml", ".ipynb")
_IGNORED = ("__MACOSX/*", "*/.DS_Store", ".DS_Store", "*/__pycache__/*", "__pycache__/*", "*.pyc")
_CHUNK = 1024 * 1024


class IntakeError(ValueError):
    """The upload is rejected; the message says why in words a student can act on."""


def stage_submission(upload: Path, spec: SubmissionSpec, destination: Path) -> Path:
    """Copy ``upload`` into the empty folder ``destination`` and check it against the suite."""
    upload = Path(upload)
    destination.mkdir(parents=True, exist_ok=False)
    budget = _Budget(spec.max_files, spec.max_bytes)
    if upload.is_symlink():
        raise IntakeError("the upload is a symbolic link")
    if upload.is_dir():
        _copy_folder(upload, destination, budget)
    elif zipfile.is_zipfile(upload):
        _extract_zip(upload, destination, budget)
    elif upload.suffix.lower() in SINGLE_FILE_SUFFIXES:
        name = _single_file_name(upload.name, spec)
        _copy_file(upload, destination / name, budget)
    else:
        raise IntakeError(f"unsupported upload {upload.name!r}: send a .zip, a folder, or a {'/'.join(SINGLE_FILE_SUFFIXES)} file")
    _unwrap_single_folder(destination, spec)
    _check_files(destination, spec)
    return destination


def zip_folder(folder: Path) -> bytes:
    """The folder as a .zip upload, as a student's client sends it: relative paths, regular files
    only, without what intake would ignore anyway (``__pycache__``, macOS litter)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and not path.is_symlink() and not any(fnmatch.fnmatch(relative, p) for p in _IGNORED):
                archive.write(path, relative)
    return buffer.getvalue()


def submission_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class _Budget:
    def __init__(self, max_files: int, max_bytes: int):
        self.files_left = max_files
        self.bytes_left = max_bytes
        self.max_files = max_files
        self.max_bytes = max_bytes

    def take_file(self) -> None:
        self.files_left -= 1
        if self.files_left < 0:
            raise IntakeError(f"the upload has more than {self.max_files} files")

    def take_bytes(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise IntakeError(f"the upload is larger than {self.max_bytes // (1024 * 1024)} MiB uncompressed")


def _safe_relative(name: str) -> PurePosixPath | None:
    """The member's path inside the submission, ``None`` for entries to skip; raises for hostile ones."""
    if "\\" in name or "\0" in name:
        raise IntakeError(f"unsafe file name {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise IntakeError(f"absolute path in upload: {name!r}")
    if ".." in path.parts:
        raise IntakeError(f"path traversal in upload: {name!r}")
    if any(fnmatch.fnmatch(str(path), pattern) for pattern in _IGNORED):
        return None
    return path


def _extract_zip(archive: Path, destination: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                relative = _safe_relative(member.filename)
                if relative is None or member.is_dir():
                    continue
                kind = stat.S_IFMT(member.external_attr >> 16)  # 0 when the archiver stored no type
                if kind == stat.S_IFLNK:
                    raise IntakeError(f"symbolic link in upload: {member.filename!r}")
                if kind not in (0, stat.S_IFREG):
                    raise IntakeError(f"special file in upload: {member.filename!r}")
                budget.take_file()
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, _create(target) as sink:
                    while chunk := source.read(_CHUNK):
                        budget.take_bytes(len(chunk))
                        sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise IntakeError(f"the zip file could not be read: {exc}") from None


def _copy_folder(folder: Path, destination: Path, budget: _Budget) -> None:
    for root, directories, files in os.walk(folder, followlinks=False):
        for name in directories + files:
            path = Path(root) / name
            relative = _safe_relative(path.relative_to(folder).as_posix())
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise IntakeError(f"symbolic link in upload: {path.relative_to(folder)}")
            if relative is None or stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise IntakeError(f"special file in upload: {path.relative_to(folder)}")
            _copy_file(path, destination / relative, budget)


def _copy_file(source: Path, target: Path, budget: _Budget) -> None:
    budget.take_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as reader, _create(target) as sink:
        while chunk := reader.read(_CHUNK):
            budget.take_bytes(len(chunk))
            sink.write(chunk)


def _create(target: Path):  # type: ignore[no-untyped-def]
    return os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb")


def _single_file_name(name: str, spec: SubmissionSpec) -> str:
    """A lone uploaded file takes the name the suite requires for its kind (``my_hw1.yaml`` → ``answers.yaml``)."""
    wanted = [file for file in (spec.answers_file, spec.entry_module) if file and _kind(file) == _kind(name)]
    return wanted[0] if len(wanted) == 1 else name


def _kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return ".yaml" if suffix == ".yml" else suffix


def _unwrap_single_folder(destination: Path, spec: SubmissionSpec) -> None:
    """Students often zip the folder rather than its contents: lift a lone top-level folder."""
    entries = list(destination.iterdir())
    required = [file for file in (spec.answers_file, spec.entry_module) if file]
    if len(entries) == 1 and entries[0].is_dir() and not any((destination / file).exists() for file in required):
        inner = entries[0]
        for child in list(inner.iterdir()):
            shutil.move(str(child), destination / child.name)
        inner.rmdir()


def _check_files(destination: Path, spec: SubmissionSpec) -> None:
    files = sorted(path.relative_to(destination).as_posix() for path in destination.rglob("*") if path.is_file())
    if not files:
        raise IntakeError("the upload is empty")
    not_allowed = [file for file in files if not any(fnmatch.fnmatch(file, pattern) for pattern in spec.allowed_files)]
    if not_allowed:
        shown = ", ".join(not_allowed[:5]) + (" ..." if len(not_allowed) > 5 else "")
        raise IntakeError(f"files not accepted for this assignment: {shown} (accepted: {', '.join(spec.allowed_files)})")
    for required in [file for file in (spec.answers_file, spec.entry_module) if file]:
        if not (destination / required).exists():
            raise IntakeError(f"required file missing: {required}")
    for pattern in spec.required_files:
        if not any(fnmatch.fnmatch(file, pattern) for file in files):
            raise IntakeError(f"required file missing: {pattern}")
