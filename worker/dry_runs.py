"""Dry runs of instructors' suites, on a worker like any grading: the reference solution runs where
the sandboxes (and, for a GPU suite, the GPUs) are, not in the web server, which then needs no
access to a container runtime. Idempotent: a re-delivered dry run that already finished does nothing."""

from __future__ import annotations

import logging

from sqlalchemy import select

from grader_api.db import utcnow
from grader_api.models import SuiteCheck
from grader_api.services.suites import dry_run, parse
from grader_core.intake import IntakeError
from grader_core.results import GradingResult
from grader_core.suite import SuiteError

from .gpus import my_gpu
from .grading import process_sandbox
from .runtime import Runtime

log = logging.getLogger(__name__)


def execute_dry_run(rt: Runtime, check_id: int) -> str:
    with rt.db.session() as session, session.begin():
        check = session.scalar(select(SuiteCheck).where(SuiteCheck.id == check_id).with_for_update())
        if check is None or check.status in ("done", "failed"):
            return "skipped"
        check.status = "running"
        text, queue = check.yaml_text, check.queue
    gpu = my_gpu(rt.settings) if queue == "gpu" else None
    try:
        result = dry_run(parse(text), rt.settings, process_sandbox(rt.settings), gpu_ids=(gpu,) if gpu else ())
    except SuiteError as exc:
        return _finish(rt, check_id, None, "; ".join(f"line {issue.line}: {issue.message}" for issue in exc.issues))
    except IntakeError as exc:
        return _finish(rt, check_id, None, f"the reference solution is rejected: {exc}")
    except Exception:  # noqa: BLE001 - the instructor gets a status, the log gets the traceback
        log.exception("dry run %s failed in the grader", check_id)
        return _finish(rt, check_id, None, "internal error in the grader during the dry run; see the worker's log")
    return _finish(rt, check_id, result, None)


def _finish(rt: Runtime, check_id: int, result: GradingResult | None, error: str | None) -> str:
    with rt.db.session() as session, session.begin():
        check = session.get_one(SuiteCheck, check_id)
        check.finished_at = utcnow()
        if result is None:
            check.status, check.error = "failed", error
            return "failed"
        check.status = "done"
        check.score, check.automatic_max_score = result.score, result.automatic_max_score
        check.failing_tests = [f"{t.id}: {t.feedback}" for t in result.tests if t.status not in ("passed", "pending")]
        log.info("dry run %s of %s: %g/%g", check_id, check.suite_id, result.score, result.automatic_max_score)
        return "done"
