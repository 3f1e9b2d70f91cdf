"""Helpers the routers share: streaming an upload into storage and submitting it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from sqlalchemy.orm import Session

from grader_core.config import Settings

from ..models import Assignment, GradingRun, User
from ..services.submissions import SubmissionRefused, store_upload, submit
from ..services.suites import load_version

CHUNK = 1024 * 1024


def upload_limit(assignment: Assignment, settings: Settings) -> int:
    version = assignment.current_suite
    suite_limit = load_version(version).suite.submission.max_bytes if version else settings.max_upload_bytes
    return min(settings.max_upload_bytes, suite_limit)


def file_chunks(file: BinaryIO) -> Iterable[bytes]:
    return iter(lambda: file.read(CHUNK), b"")


def submit_chunks(session: Session, assignment: Assignment, user: User, chunks: Iterable[bytes], filename: str,
                  settings: Settings) -> GradingRun:
    stored = store_upload(chunks, filename, settings, upload_limit(assignment, settings))
    try:
        return submit(session, assignment, user, stored, settings)
    except SubmissionRefused:
        stored.path.unlink()
        stored.path.parent.rmdir()
        raise
