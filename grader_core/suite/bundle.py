"""A sealed suite: everything a suite version grades with, stored together and named by its hash.

A bundle holds the suite's YAML and every file it reaches inside its folder: support modules, the
reference solution, the planted bugs and the calibration values, each with its SHA-256 (a file
over ``MAX_STORED_BYTES`` is recorded by its SHA-256 only). It also records the SHA-256 of every
dataset split and feature-extractor weight file its checks read. The bundle's hash is the SHA-256
of that manifest, so two bundles with the same hash grade the same way, and a change to any file
on disk after publishing cannot reach a published version: grading extracts the bundle and loads
the suite from there (:func:`open_bundle`).

On disk and on the wire a bundle is a deterministic zip: ``manifest.json`` and ``files/<path>``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from ..datasets.cache import file_sha256
from .loader import LoadedSuite, SuiteError, SuiteIssue, load_suite
from .schema import resolve_in_suite

MAX_STORED_BYTES = 16 * 1024 * 1024
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BundleManifest(BaseModel):
    suite_id: str
    suite_version: str
    suite_file: str = Field(description="the suite's YAML, relative to the bundle's root")
    files: dict[str, str] = Field(description="path -> SHA-256 of the files stored in the bundle")
    large_files: dict[str, str] = Field(default_factory=dict, description="path -> SHA-256 of files too large to store")
    data: dict[str, str] = Field(default_factory=dict, description="dataset split or feature weights -> SHA-256")


@dataclass(frozen=True)
class Bundle:
    manifest: BundleManifest
    contents: dict[str, bytes]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(_canonical(self.manifest)).hexdigest()

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo("manifest.json", _ZIP_TIME), _canonical(self.manifest))
            for path in sorted(self.contents):
                archive.writestr(zipfile.ZipInfo(f"files/{path}", _ZIP_TIME), self.contents[path])
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Read a bundle, checking every stored file against the manifest; anything else is a
        ``SuiteError`` (a bundle comes from another deployment or a file an instructor sends)."""
        if len(data) > MAX_BUNDLE_BYTES:
            raise _invalid(f"the bundle is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                manifest = BundleManifest.model_validate_json(archive.read("manifest.json"))
                contents = {}
                for path, digest in manifest.files.items():
                    _check_path(path)
                    contents[path] = archive.read(f"files/{path}")
                    if hashlib.sha256(contents[path]).hexdigest() != digest:
                        raise _invalid(f"{path} does not match its SHA-256 in the manifest")
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            if isinstance(exc, SuiteError):
                raise
            raise _invalid(f"not a suite bundle: {str(exc)[:200]}") from None
        if manifest.suite_file not in contents:
            raise _invalid("the bundle does not contain its suite file")
        return cls(manifest, contents)


def build_bundle(loaded: LoadedSuite, data: dict[str, str] | None = None) -> Bundle:
    """The bundle of a suite as its files are now; ``data`` defaults to the fingerprints its checks
    report (which reads the datasets they use)."""
    root = loaded.path.parent
    contents: dict[str, bytes] = {loaded.path.name: loaded.text.encode("utf-8")}
    large: dict[str, str] = {}
    for relative in staff_paths(loaded):
        path = resolve_in_suite(root, relative)
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if not file.is_file() or "__pycache__" in file.parts:
                continue
            name = file.relative_to(root).as_posix()
            if file.stat().st_size > MAX_STORED_BYTES:
                large[name] = file_sha256(file)
            else:
                contents[name] = file.read_bytes()
    manifest = BundleManifest(
        suite_id=loaded.suite.id, suite_version=loaded.suite.version, suite_file=loaded.path.name,
        files={name: hashlib.sha256(body).hexdigest() for name, body in sorted(contents.items())},
        large_files=large, data=data_fingerprints(loaded) if data is None else data,
    )
    return Bundle(manifest, contents)


def staff_paths(loaded: LoadedSuite) -> list[str]:
    """Everything the suite names inside its folder, relative to it: the reference solution, the
    checks' support modules, the planted bugs, the calibration values."""
    from ..checks import get_check
    from ..mutants import load_mutants

    suite = loaded.suite
    paths = [suite.reference_solution] if suite.reference_solution else []
    for test in suite.tests:
        paths += get_check(test.check).Params.model_validate(test.params).suite_files()
    if suite.mutants:
        relative_dir = PurePosixPath(suite.mutants).parent
        paths.append(suite.mutants)
        paths += [str(relative_dir / mutant.by) for mutant in load_mutants(loaded)[1] if mutant.by]
    calibration = f"calibration/{suite.id}.json"
    if (loaded.path.parent / calibration).is_file():
        paths.append(calibration)
    return sorted(set(paths))


def data_fingerprints(loaded: LoadedSuite) -> dict[str, str]:
    from ..checks import get_check

    fingerprints: dict[str, str] = {}
    for test in loaded.suite.tests:
        check = get_check(test.check)
        fingerprints.update(check.fingerprints(check.Params.model_validate(test.params)))
    return dict(sorted(fingerprints.items()))


def open_bundle(data: bytes, cache_dir: Path) -> tuple[Bundle, LoadedSuite]:
    """Extract a bundle under ``cache_dir/bundles/<hash>`` (once; read-only afterwards) and load its
    suite from there, so support modules, the reference and calibration come from the bundle."""
    bundle = Bundle.from_bytes(data)
    root = cache_dir / "bundles" / bundle.sha256
    if not root.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{bundle.sha256[:12]}-", dir=root.parent))
        for name, body in bundle.contents.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            target.chmod(0o444)
        try:
            os.rename(staging, root)  # atomic: a concurrent extraction of the same bundle wins or loses whole
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return bundle, dataclasses.replace(load_suite(root / bundle.manifest.suite_file), bundle_sha256=bundle.sha256)


def _canonical(manifest: BundleManifest) -> bytes:
    return json.dumps(manifest.model_dump(), sort_keys=True, separators=(",", ":")).encode("utf-8")


def _check_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or "\\" in path or any(part in ("..", ".", "") for part in parts):
        raise _invalid(f"unsafe path {path[:200]!r} in the bundle")


def _invalid(message: str) -> SuiteError:
    return SuiteError([SuiteIssue("bundle", 1, message)])
