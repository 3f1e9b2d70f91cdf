"""What the upload routes share: the cheap checks before the body is read, then the body bounded by
the assignment's own limit while it streams in, then the submission."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from grader_core.config import Settings

from ..limits import limit_upload
from ..models import Assignment, GradingRun, User
from ..services import submissions, views

CHUNK = 1024 * 1024

# The routes read their multipart body themselves (a File() parameter would have FastAPI spool it
# before the cheap checks and the assignment's limit), so the schema is stated here.
UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "a .zip, or one .py/.yaml/.ipynb file"}},
}}}}}


def file_chunks(file: BinaryIO) -> Iterable[bytes]:
    return iter(lambda: file.read(CHUNK), b"")


async def submit_file(request: Request, session: Session, slug: str, user: User, settings: Settings) -> GradingRun:
    """The multipart field ``file`` of ``request``, submitted by ``user`` to the assignment ``slug``."""

    def admit() -> tuple[Assignment, int]:
        assignment = views.find_assignment(session, slug, user)
        return assignment, submissions.admit_upload(session, assignment, user, settings)

    assignment, limit = await run_in_threadpool(admit)
    limit_upload(request, limit)
    async with request.form(max_files=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise submissions.SubmissionRefused(422, "send the upload as the multipart file field 'file'")
        return await run_in_threadpool(submissions.submit_upload, session, assignment, user, file_chunks(upload.file),
                                       upload.filename or "upload", settings, limit)
