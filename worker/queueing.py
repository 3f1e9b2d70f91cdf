"""Putting jobs (grading runs, dry runs) on the broker. The database row is committed first, with the
task id the message is sent under; a failed publish is left to the reconciler, so a broker outage
loses nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery import Task

    from grader_api.models import GradingRun, SuiteCheck

log = logging.getLogger(__name__)

# Redis serves lower numbers first: first submissions, then resubmissions, regrades last.
PRIORITY = {"first": 0, "resubmission": 3, "regrade": 9}
DRY_RUN_PRIORITY = 0  # ahead of every grading: an instructor is watching the page
HARD_LIMIT_GRACE_S = 30.0  # after the soft limit, before the child is killed
DEADLINE_SLACK_S = 60.0  # after the hard limit, before the reconciler calls a running run lost


def hard_limit(soft_limit_s: float) -> float:
    return soft_limit_s + HARD_LIMIT_GRACE_S


def enqueue(run: GradingRun, soft_limit_s: float) -> bool:
    """Publish ``run``; False (and logged) when the broker cannot take it now."""
    from .tasks import grade_run

    return _publish(grade_run, run.id, run.task_id, run.queue, run.priority, soft_limit_s)


def enqueue_dry_run(check: SuiteCheck) -> bool:
    """Publish an instructor's dry run; False (and logged) when the broker cannot take it now."""
    from .tasks import dry_run_suite

    return _publish(dry_run_suite, check.id, check.task_id, check.queue, DRY_RUN_PRIORITY, check.time_limit_s)


def _publish(task: Task, job_id: int, task_id: str, queue: str, priority: int, soft_limit_s: float) -> bool:
    try:
        task.apply_async(
            args=[job_id],
            task_id=task_id,
            queue=queue,
            priority=priority,
            soft_time_limit=soft_limit_s,
            time_limit=hard_limit(soft_limit_s),
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception:  # noqa: BLE001 - any broker failure: the reconciler publishes it later
        log.warning("could not publish %s %s; the reconciler will", task.name, job_id, exc_info=True)
        return False
    return True
