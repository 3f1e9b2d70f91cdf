"""Dry runs of instructors' suites, on a worker like any grading: the reference solution runs where
the sandboxes (and, for a GPU suite, the GPUs) are, not in the web server, which then needs no
access to a container runtime.

A dry run is a job like a grading run (``worker.jobs``): only the message with the check's current
task id runs it, attempts are capped (a suite whose reference kills its worker every time is failed,
not delivered forever), only the attempt holding the claim writes the result, and the reconciler
publishes again a check the broker lost. A re-delivered dry run that already finished does nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_api.db import utcnow
from grader_api.models import SuiteCheck
from grader_api.services.suites import DryRun, dry_run, parse
from grader_core.intake import IntakeError
from grader_core.suite import SuiteError

from .gpus import my_gpu
from .grading import process_sandbox
from .jobs import Admission, admit, gave_up, holds_claim, start_attempt
from .runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DryRunClaim:
    check_id: int
    token: str
    yaml_text: str
    queue: str


def execute_dry_run(rt: Runtime, check_id: int, task_id: str) -> str:
    claim = _claim(rt, check_id, task_id)
    if claim is None:
        return "skipped"
    gpu = my_gpu(rt.settings) if claim.queue == "gpu" else None
    try:
        found = dry_run(parse(claim.yaml_text), rt.settings, process_sandbox(rt.settings), gpu_ids=(gpu,) if gpu else ())
    except SuiteError as exc:
        return _finish(rt, claim, None, "; ".join(f"line {issue.line}: {issue.message}" for issue in exc.issues))
    except IntakeError as exc:
        return _finish(rt, claim, None, f"the reference solution is rejected: {exc}")
    except Exception:  # noqa: BLE001 - the instructor gets a status, the log gets the traceback
        log.exception("dry run %s failed in the grader", check_id)
        return _finish(rt, claim, None, "internal error in the grader during the dry run; see the worker's log")
    return _finish(rt, claim, found, None)


def _claim(rt: Runtime, check_id: int, task_id: str) -> DryRunClaim | None:
    with rt.db.session() as session, session.begin():
        check = _locked(session, check_id)
        if check is None:
            return None
        admission = admit(check, task_id, rt.settings.max_grading_attempts)
        if admission is Admission.GIVE_UP:
            _record(check, None, gave_up(check, "the dry run's worker"))
        if admission is not Admission.RUN:
            return None
        token = start_attempt(check, check.time_limit_s, utcnow())
        return DryRunClaim(check.id, token, check.yaml_text, check.queue)


def _finish(rt: Runtime, claim: DryRunClaim, found: DryRun | None, error: str | None) -> str:
    with rt.db.session() as session, session.begin():
        check = _locked(session, claim.check_id)
        if check is None or not holds_claim(check, claim.token):
            return "discarded"
        return _record(check, found, error)


def _record(check: SuiteCheck, found: DryRun | None, error: str | None) -> str:
    check.finished_at = utcnow()
    if found is None:
        check.status, check.error = "failed", error
        return "failed"
    result = found.result
    check.status = "done"
    check.score, check.automatic_max_score = result.score, result.automatic_max_score
    check.failing_tests = [f"{t.id}: {t.feedback}" for t in result.tests if t.status not in ("passed", "pending")]
    check.bundle, check.bundle_sha256 = found.bundle.to_bytes(), found.bundle.sha256
    check.mutants = None if found.matrix is None else [
        {"id": v.mutant.id, "loses": v.mutant.loses, "lost": sorted(v.lost()), "problems": v.problems()}
        for v in found.matrix.verdicts]
    log.info("dry run %s of %s: %g/%g, bundle %s", check.id, check.suite_id, result.score, result.automatic_max_score,
             found.bundle.sha256[:12])
    return "done"


def _locked(session: Session, check_id: int) -> SuiteCheck | None:
    return session.scalar(select(SuiteCheck).where(SuiteCheck.id == check_id).with_for_update())
