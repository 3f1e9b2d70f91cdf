"""Turn an upload (a .zip, a folder, or one .py/.yaml/.ipynb file) into a clean submission folder.

Everything is checked before a byte is written where it matters: no absolute paths, no ``..``, no
links or device files, no encrypted members, no two members claiming the same path (``a`` and
``./a``, or a file and a folder of one name), names the file system can hold, bounded entry and file
counts and uncompressed size (zip bombs are measured while extracting, not trusted from the
archive's headers), only files the suite allows, and the files it requires are present. A rejected
upload leaves nothing behind: the destination folder is removed with whatever was written to it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import shutil
import stat
import struct
import uuid
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .quoting import quoted
from .suite.schema import SubmissionSpec

SINGLE_FILE_SUFFIXES = (".py", ".yaml", ".yml", ".ipynb")
_IGNORED = ("__MACOSX/*", "*/.DS_Store", ".DS_Store", "*/__pycache__/*", "__pycache__/*", "*.pyc")
_CHUNK = 1024 * 1024
# An archive holds more entries than files: folders, and the litter archivers add (macOS writes a
# ``__MACOSX/._name`` twin of every file and a ``.DS_Store`` per folder). Every entry counts,
# skipped or not, so a million of them cost the grader no more than a few hundred.
ENTRIES_PER_FILE = 3
MAX_NAME_BYTES = 255  # one path component, as Linux file systems allow
MAX_PATH_BYTES = 1024
_LISTED_NAME_CHARS = 60  # of each name in a list of them, in an error message
_ZIP_ENCRYPTED = 0x1  # general purpose flag bit 0
# zipfile reads the whole central directory into memory (about 1 KB an entry) before a single entry
# can be counted: a directory larger than the entry budget could need is refused unread. An entry
# is 46 bytes, its name and its extra fields (timestamps, owners; a few dozen bytes in practice).
_MAX_DIRECTORY_ENTRY_BYTES = 46 + MAX_PATH_BYTES + 256
_END_OF_DIRECTORY = b"PK\x05\x06"
_END_OF_DIRECTORY_MAX_BYTES = 22 + 0xFFFF  # the record and its comment
_UNREADABLE_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error,
                   UnicodeDecodeError)


class IntakeError(ValueError):
    """The upload is rejected; the message says why in words a student can act on."""


def stage_submission(upload: Path, spec: SubmissionSpec, destination: Path) -> Path:
    """Copy ``upload`` into the new folder ``destination`` and check it against the suite; on any
    failure ``destination`` is removed again."""
    upload = Path(upload)
    destination.mkdir(parents=True, exist_ok=False)
    try:
        _stage(upload, spec, destination)
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return destination


def _stage(upload: Path, spec: SubmissionSpec, destination: Path) -> None:
    budget = _Budget(spec.max_files, spec.max_bytes)
    if upload.is_symlink():
        raise IntakeError("the upload is a symbolic link")
    if upload.is_dir():
        _copy_folder(upload, destination, budget)
    elif zipfile.is_zipfile(upload):
        _extract_zip(upload, destination, budget)
    elif upload.suffix.lower() in SINGLE_FILE_SUFFIXES:
        budget.take_entry()
        _copy_file(upload, destination / _single_file_name(upload.name, spec), budget)
    else:
        raise IntakeError(f"unsupported upload {quoted(upload.name)}: send a .zip, a folder, "
                          f"or a {'/'.join(SINGLE_FILE_SUFFIXES)} file")
    _unwrap_single_folder(destination, spec)
    _check_files(destination, spec)


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
        self.entries_left = self.max_entries = ENTRIES_PER_FILE * max_files
        self.bytes_left = max_bytes
        self.max_files = max_files
        self.max_bytes = max_bytes

    def take_entry(self, count: int = 1) -> None:
        """Entries of the upload, whatever becomes of them (files, folders, skipped litter)."""
        self.entries_left -= count
        if self.entries_left < 0:
            raise IntakeError(f"the upload has more than {self.max_entries} entries "
                              "(folders and skipped files such as __MACOSX/ count too)")

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
        raise IntakeError(f"unsafe file name {quoted(name)}")
    path = PurePosixPath(name)  # also drops "." parts and repeated or trailing slashes: "./a/" is "a"
    if not path.parts:
        raise IntakeError(f"an entry of the upload has no name ({quoted(name)})")
    if path.is_absolute() or path.parts[0].endswith(":"):
        raise IntakeError(f"absolute path in upload: {quoted(name)}")
    if ".." in path.parts:
        raise IntakeError(f"path traversal in upload: {quoted(name)}")
    if len(os.fsencode(name)) > MAX_PATH_BYTES or any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
        raise IntakeError(f"file name too long (at most {MAX_NAME_BYTES} bytes a name, {MAX_PATH_BYTES} a path): "
                          f"{quoted(name)}")
    if any(fnmatch.fnmatch(str(path), pattern) for pattern in _IGNORED):
        return None
    return path


def _extract_zip(archive: Path, destination: Path, budget: _Budget) -> None:
    if _central_directory_bytes(archive) > budget.max_entries * _MAX_DIRECTORY_ENTRY_BYTES:
        budget.take_entry(budget.max_entries + 1)
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member, relative in _files_to_extract(bundle.infolist(), budget):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, _create(target) as sink:
                    while chunk := source.read(_CHUNK):
                        budget.take_bytes(len(chunk))
                        sink.write(chunk)
    except _UNREADABLE_ZIP as exc:
        raise IntakeError(f"the zip file could not be read: {quoted(str(exc))}") from None


def _central_directory_bytes(archive: Path) -> int:
    """The size the end-of-central-directory record gives (found as zipfile finds it); 0 when there is
    none, which zipfile then reports."""
    with archive.open("rb") as file:
        file.seek(0, os.SEEK_END)
        file.seek(max(0, file.tell() - _END_OF_DIRECTORY_MAX_BYTES))
        tail = file.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    return struct.unpack_from("<I", tail, at + 12)[0] if 0 <= at <= len(tail) - 22 else 0


def _files_to_extract(members: list[zipfile.ZipInfo], budget: _Budget) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every member checked before anything is written; the files to write, each with its path."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    planned = []
    for member in members:
        budget.take_entry()
        relative = _safe_relative(member.filename)
        if relative is None:
            continue
        if relative in files or (not member.is_dir() and relative in folders) \
                or any(parent in files for parent in relative.parents):
            raise IntakeError(f"two entries of the upload have the same path: {quoted(str(relative))}")
        folders.update(relative.parents)
        if member.is_dir():
            folders.add(relative)
            continue
        kind = stat.S_IFMT(member.external_attr >> 16)  # 0 when the archiver stored no type
        if kind == stat.S_IFLNK:
            raise IntakeError(f"symbolic link in upload: {quoted(member.filename)}")
        if kind not in (0, stat.S_IFREG):
            raise IntakeError(f"special file in upload: {quoted(member.filename)}")
        if member.flag_bits & _ZIP_ENCRYPTED:
            raise IntakeError(f"encrypted file in upload: {quoted(member.filename)}; zip it without a password")
        budget.take_file()
        files.add(relative)
        planned.append((member, relative))
    return planned


def _copy_folder(folder: Path, destination: Path, budget: _Budget) -> None:
    for root, directories, files in os.walk(folder, followlinks=False):
        for name in directories + files:
            budget.take_entry()
            path = Path(root) / name
            relative = _safe_relative(path.relative_to(folder).as_posix())
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise IntakeError(f"symbolic link in upload: {quoted(str(path.relative_to(folder)))}")
            if relative is None or stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise IntakeError(f"special file in upload: {quoted(str(path.relative_to(folder)))}")
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
    if len(entries) == 1 and entries[0].is_dir() and len(_missing_required(destination, spec)) == len(required):
        # Renamed first: the folder may hold an entry of its own name (hw1/hw1/...).
        inner = entries[0].rename(destination / f".unwrapping-{uuid.uuid4().hex}")
        for child in list(inner.iterdir()):
            child.rename(destination / child.name)
        inner.rmdir()


def _missing_required(destination: Path, spec: SubmissionSpec) -> list[str]:
    """The answers file and the entry module the upload lacks (an entry module may be a package)."""
    missing = []
    if spec.answers_file and not (destination / spec.answers_file).is_file():
        missing.append(spec.answers_file)
    entry = destination / spec.entry_module if spec.entry_module else None
    if entry is not None and not (entry.is_file() or (entry / "__init__.py").is_file()):
        missing.append(str(spec.entry_module))
    return missing


def _check_files(destination: Path, spec: SubmissionSpec) -> None:
    files = sorted(path.relative_to(destination).as_posix() for path in destination.rglob("*") if path.is_file())
    if not files:
        raise IntakeError("the upload is empty")
    not_allowed = [file for file in files if not any(fnmatch.fnmatch(file, pattern) for pattern in spec.allowed_files)]
    if not_allowed:
        shown = ", ".join(quoted(file, _LISTED_NAME_CHARS) for file in not_allowed[:5]) + (" ..." if len(not_allowed) > 5 else "")
        raise IntakeError(f"files not accepted for this assignment: {shown} (accepted: {', '.join(spec.allowed_files)})")
    missing = _missing_required(destination, spec)
    if missing:
        raise IntakeError(f"required file missing: {missing[0]}")
    for pattern in spec.required_files:
        if not any(fnmatch.fnmatch(file, pattern) for file in files):
            raise IntakeError(f"required file missing: {pattern}")
