"""Grade one run, exactly once, with the database as the source of truth (a job as ``worker.jobs``
describes: attempts capped, results written only by the attempt holding the claim).

1. Claim (one transaction, row locked): a run already finished, or one whose current message is
   another, is left alone; a claim counts an attempt and gives up after ``max_grading_attempts``
   (a submission that kills its worker every time must not loop forever).
2. Grade, outside any transaction.
3. Record (one transaction, row locked): only the attempt holding the claim token writes results.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_api.db import utcnow
from grader_api.models import Artifact, GradingRun, Submission, TestResultRow
from grader_api.services.suites import load_for_grading, load_version
from grader_core.config import Settings
from grader_core.intake import IntakeError
from grader_core.pipeline import grade_upload
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox, select_sandbox

from .gpus import my_gpu
from .jobs import Admission, admit, gave_up, holds_claim, start_attempt
from .runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    run_id: int
    token: str
    upload: Path
    gpu: str | None


def execute_run(rt: Runtime, run_id: int, task_id: str, hostname: str) -> str:
    claim = claim_run(rt, run_id, task_id, hostname)
    if claim is None:
        return "skipped"
    with rt.db.session() as session:
        run = session.get_one(GradingRun, run_id)
        loaded = load_for_grading(run.suite_version, rt.settings)
    try:
        result = grade_upload(loaded, claim.upload, process_sandbox(rt.settings), rt.settings,
                              gpu_ids=(claim.gpu,) if claim.gpu else ())
    except IntakeError as exc:
        return finish_failed(rt, claim, f"upload rejected: {exc}")
    except SoftTimeLimitExceeded:
        return finish_failed(rt, claim, "grading took longer than this assignment allows")
    except Exception:
        log.exception("run %s failed in the grader", run_id)
        return finish_failed(rt, claim, "internal error in the grader; staff have been notified")
    return record_result(rt, claim, result)


def claim_run(rt: Runtime, run_id: int, task_id: str, hostname: str) -> Claim | None:
    with rt.db.session() as session, session.begin():
        run = _locked(session, run_id)
        if run is None:
            log.info("run %s: nothing to do (deleted)", run_id)
            return None
        admission = admit(run, task_id, rt.settings.max_grading_attempts)
        if admission is Admission.GIVE_UP:
            _finish(session, run, "failed", gave_up(run, "the grading process"))
        if admission is not Admission.RUN:
            return None
        now = utcnow()
        gpu = my_gpu(rt.settings) if run.queue == "gpu" else None
        token = start_attempt(run, run.suite_version.time_limit_s, now)
        run.worker = hostname
        run.worker_pid = os.getpid()
        run.gpu_id = gpu
        run.started_at = now
        run.current_stage = ", ".join(load_version(run.suite_version).suite.stages)
        run.submission.status = "running"
        log.info("run %s: attempt %s on %s pid %s", run_id, run.attempts, hostname, run.worker_pid)
        return Claim(run.id, token, Path(run.submission.stored_path), gpu)


def record_result(rt: Runtime, claim: Claim, result: GradingResult) -> str:
    with rt.db.session() as session, session.begin():
        run = _current_claim(session, claim)
        if run is None:
            return "discarded"
        run.tests = [
            TestResultRow(
                position=position, test_id=test.id, title=test.title, check=test.check, stage=test.stage,
                score=test.score, max_score=test.max_score, status=test.status, feedback=test.feedback,
                visibility=test.visibility.value, duration_s=test.duration_s,
                metrics={"items": [metric.model_dump() for metric in test.metrics]},
            )
            for position, test in enumerate(result.tests)
        ]
        run.score = result.score
        run.max_score = result.max_score
        run.automatic_max_score = result.automatic_max_score
        run.pending_manual_points = result.pending_manual_points
        run.environment = result.environment.model_dump(mode="json")
        run.stages = {"items": [stage.model_dump() for stage in result.stages]}
        run.logs = result.logs
        # One folder per attempt: a stale attempt cannot overwrite the files of the one recorded here.
        written = result.write_images(rt.settings.artifact_dir / str(run.id) / claim.token[:12])
        run.artifacts = [Artifact(test_id=test_id, kind="image", name=image.name, path=str(path), content_type="image/png")
                         for test_id, image, path in written]
        _finish(session, run, "graded", None)
        log.info("run %s graded: %g/%g", run.id, result.score, result.max_score)
        return "graded"


def finish_failed(rt: Runtime, claim: Claim, error: str) -> str:
    with rt.db.session() as session, session.begin():
        run = _current_claim(session, claim)
        if run is None:
            return "discarded"
        _finish(session, run, "failed", error)
        return "failed"


def _finish(session: Session, run: GradingRun, status: str, error: str | None) -> None:
    run.status = status
    run.error = error
    run.finished_at = utcnow()
    run.current_stage = None
    # The submission mirrors its latest run (the highest id, as its page shows), whatever order runs
    # finish in: a first run the reconciler published again may finish after a newer regrade, and
    # must not put its older score back. The lock serializes runs of one submission finishing at once.
    submission = session.scalar(select(Submission).where(Submission.id == run.submission_id).with_for_update())
    assert submission is not None  # the run's foreign key
    newer = list(session.scalars(select(GradingRun.status).where(
        GradingRun.submission_id == run.submission_id, GradingRun.id > run.id).order_by(GradingRun.id.desc())))
    submission.status = newer[0] if newer else status
    if status == "graded" and "graded" not in newer:
        submission.auto_score = run.score
        submission.max_score = run.max_score


def _locked(session: Session, run_id: int) -> GradingRun | None:
    return session.scalar(select(GradingRun).where(GradingRun.id == run_id).with_for_update())


def _current_claim(session: Session, claim: Claim) -> GradingRun | None:
    run = _locked(session, claim.run_id)
    return run if holds_claim(run, claim.token) else None


_sandboxes: dict[tuple[str, str], Sandbox] = {}


def process_sandbox(settings: Settings) -> Sandbox:
    """One sandbox per process (choosing one may build the Docker image)."""
    key = (settings.sandbox_backend, settings.sandbox_image)
    if key not in _sandboxes:
        _sandboxes[key] = select_sandbox(settings)
    return _sandboxes[key]
