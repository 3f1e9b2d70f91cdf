"""Submitting and regrading: the upload is stored and the run committed before it is published.

The cheap checks (a published suite, the deadline, the submission cap, the student's queued runs)
come before an upload is read, stored or unpacked; a refused or failed submission leaves no file.

Fairness under a deadline rush: first submissions before resubmissions, regrades last (broker
priorities), a cap on each student's queued runs, and a position in the queue computed from the
database in the same order.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from grader_core.config import Settings
from grader_core.intake import IntakeError, stage_submission
from grader_core.suite.schema import SubmissionSpec
from worker.queueing import PRIORITY, enqueue

from ..db import utcnow
from ..models import Assignment, GradingRun, Submission, User
from .audit import record
from .suites import load_version

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")


class SubmissionRefused(Exception):
    """The submission is not accepted; ``status_code`` for the API, the message for the student."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Admission:
    late_days: int
    earlier_submissions: int


def upload_limit(assignment: Assignment, settings: Settings) -> int:
    """The largest upload the assignment takes: the suite's own limit within the service's."""
    version = assignment.current_suite
    suite_limit = load_version(version).suite.submission.max_bytes if version else settings.max_upload_bytes
    return min(settings.max_upload_bytes, suite_limit)


def admit(session: Session, assignment: Assignment, user: User, settings: Settings, now: datetime) -> Admission:
    """The cheap checks, which refuse a submission before its upload is read, stored or unpacked
    (and again under the student's lock when it is committed)."""
    if assignment.current_suite is None:
        raise SubmissionRefused(409, "this assignment has no published test suite yet")
    days = late_days(assignment, now)
    if days > assignment.late_days_allowed:
        raise SubmissionRefused(403, "the submission window for this assignment has closed")
    count = session.scalar(select(func.count()).select_from(Submission).where(
        Submission.assignment_id == assignment.id, Submission.user_id == user.id)) or 0
    if count >= assignment.max_submissions:
        raise SubmissionRefused(409, f"you have used all {assignment.max_submissions} submissions for this assignment")
    waiting = queued_runs_of(session, user.id)
    if waiting >= settings.max_queued_runs_per_student:
        raise SubmissionRefused(429, f"you already have {waiting} submissions waiting to be graded; "
                                     "submit again when one is done")
    return Admission(days, count)


def admit_upload(session: Session, assignment: Assignment, user: User, settings: Settings) -> int:
    """The cheap checks before an upload is received; the most bytes it may have (for ``submit_upload``).
    No transaction is left open while the upload arrives."""
    admit(session, assignment, user, settings, utcnow())
    limit = upload_limit(assignment, settings)
    session.rollback()
    return limit


def submit_upload(session: Session, assignment: Assignment, user: User, chunks: Iterable[bytes], filename: str,
                  settings: Settings, limit: int) -> GradingRun:
    """Store (413 past ``limit``, from ``admit_upload``), check and commit a submission; an upload
    refused or failed on the way is removed again."""
    return submit(session, assignment, user, store_upload(chunks, filename, settings, limit), settings)


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return cleaned[:120] or "upload"


def store_upload(chunks: Iterable[bytes], filename: str, settings: Settings, limit: int) -> StoredUpload:
    """Write the upload under the upload dir while hashing it; refuses (413) once it passes ``limit``."""
    name = safe_filename(filename)
    folder = settings.upload_dir / utcnow().strftime("%Y/%m/%d") / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("xb") as sink:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise SubmissionRefused(413, f"the upload is larger than {limit / (1024 * 1024):.1f} MiB")
                digest.update(chunk)
                sink.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StoredUpload(path, name, digest.hexdigest(), size)


def discard_upload(upload: StoredUpload) -> None:
    shutil.rmtree(upload.path.parent, ignore_errors=True)


def check_upload(upload: StoredUpload, spec: SubmissionSpec, settings: Settings) -> None:
    """The worker's intake checks (paths, links, sizes, required and allowed files), made before the
    upload counts: a bad one is refused with the reason and costs the student no submission."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dgm-intake-", dir=settings.work_dir) as scratch:
        try:
            stage_submission(upload.path, spec, Path(scratch) / "submission")
        except IntakeError as exc:
            raise SubmissionRefused(422, f"upload rejected: {exc}") from None


def late_days(assignment: Assignment, at: datetime) -> int:
    overdue = (at - assignment.due_at).total_seconds()
    return max(0, math.ceil(overdue / 86400))


def submit(session: Session, assignment: Assignment, user: User, upload: StoredUpload, settings: Settings,
           now: datetime | None = None) -> GradingRun:
    """Commit a submission of the stored ``upload`` and its run, then publish the run. An upload
    refused, or one whose submission fails before it is committed, is removed."""
    now = now or utcnow()
    try:
        run = _commit_submission(session, assignment, user, upload, settings, now)
    except BaseException:
        discard_upload(upload)
        raise
    enqueue(run, run.suite_version.time_limit_s)
    log.info("submission %s (run %s) by user %s for %s", run.submission_id, run.id, user.id, assignment.slug)
    return run


def _commit_submission(session: Session, assignment: Assignment, user: User, upload: StoredUpload, settings: Settings,
                       now: datetime) -> GradingRun:
    """The cheap checks come before the upload is unpacked, and again under the student's lock:
    another submission may have been committed meanwhile."""
    admit(session, assignment, user, settings, now)
    version = assignment.current_suite
    assert version is not None  # admitted
    check_upload(upload, load_version(version).suite.submission, settings)
    session.scalar(select(User.id).where(User.id == user.id).with_for_update())  # one submission per student at a time
    admission = admit(session, assignment, user, settings, now)
    submission = Submission(
        assignment_id=assignment.id, user_id=user.id, number=admission.earlier_submissions + 1, created_at=now,
        filename=upload.filename, stored_path=str(upload.path), file_sha256=upload.sha256, size_bytes=upload.size,
        late_days=admission.late_days, late_penalty=min(1.0, admission.late_days * assignment.late_penalty_per_day),
        status="queued",
    )
    session.add(submission)
    session.flush()
    run = _new_run(submission, "first" if admission.earlier_submissions == 0 else "resubmission", now, None)
    session.add(run)
    session.commit()
    return run


def regrade(session: Session, submissions: Iterable[Submission], actor: User) -> list[GradingRun]:
    """Grade ``submissions`` again with their assignment's current suite, after everything else."""
    now = utcnow()
    runs = []
    for submission in submissions:
        if submission.assignment.current_suite is None:
            continue
        run = _new_run(submission, "regrade", now, actor)
        submission.status = "queued"
        session.add(run)
        runs.append(run)
    session.flush()
    record(session, actor, "regrade", "submissions", {"submission_ids": [run.submission_id for run in runs]})
    session.commit()
    for run in runs:
        enqueue(run, run.suite_version.time_limit_s)
    return runs


def _new_run(submission: Submission, kind: str, now: datetime, actor: User | None) -> GradingRun:
    version = submission.assignment.current_suite
    assert version is not None
    return GradingRun(
        submission=submission, suite_version=version, kind=kind, priority=PRIORITY[kind], queue=version.queue,
        status="queued", task_id=uuid.uuid4().hex, enqueued_at=now, requested_by_id=actor.id if actor else None,
    )


def queued_runs_of(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(GradingRun).join(Submission)
        .where(Submission.user_id == user_id, GradingRun.status.in_(ACTIVE), GradingRun.kind != "regrade")
    ) or 0


def queue_position(session: Session, run: GradingRun) -> int | None:
    """1 for the next run a worker of its queue takes; None when the run is not waiting."""
    if run.status != "queued":
        return None
    ahead = session.scalar(
        select(func.count()).select_from(GradingRun).where(
            GradingRun.status == "queued",
            GradingRun.queue == run.queue,
            or_(
                GradingRun.priority < run.priority,
                and_(GradingRun.priority == run.priority, GradingRun.enqueued_at < run.enqueued_at),
                and_(GradingRun.priority == run.priority, GradingRun.enqueued_at == run.enqueued_at, GradingRun.id < run.id),
            ),
        )
    ) or 0
    return ahead + 1


def latest_run(session: Session, submission_id: int) -> GradingRun | None:
    return session.scalar(
        select(GradingRun).where(GradingRun.submission_id == submission_id).order_by(GradingRun.id.desc()).limit(1)
    )
