"""Putting runs on the broker. The database row is committed first; a failed publish is left to
the reconciler, so a broker outage loses nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader_api.models import GradingRun

log = logging.getLogger(__name__)

# Redis serves lower numbers first: first submissions, then resubmissions, regrades last.
PRIORITY = {"first": 0, "resubmission": 3, "regrade": 9}
HARD_LIMIT_GRACE_S = 30.0  # after the soft limit, before the child is killed
DEADLINE_SLACK_S = 60.0  # after the hard limit, before the reconciler calls a running run lost


def hard_limit(soft_limit_s: float) -> float:
    return soft_limit_s + HARD_LIMIT_GRACE_S


def enqueue(run: GradingRun, soft_limit_s: float) -> bool:
    """Publish ``run``; False (and logged) when the broker cannot take it now."""
    from .tasks import grade_run

    try:
        grade_run.apply_async(
            args=[run.id],
            task_id=run.task_id,
            queue=run.queue,
            priority=run.priority,
            soft_time_limit=soft_limit_s,
            time_limit=hard_limit(soft_limit_s),
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception:  # noqa: BLE001 - any broker failure: the reconciler publishes it later
        log.warning("could not publish run %s; the reconciler will", run.id, exc_info=True)
        return False
    return True


def enqueue_dry_run(check_id: int, queue: str, soft_limit_s: float) -> bool:
    """Publish an instructor's dry run ahead of every grading (someone is watching the page)."""
    from .tasks import dry_run_suite

    try:
        dry_run_suite.apply_async(args=[check_id], queue=queue, priority=0, soft_time_limit=soft_limit_s,
                                  time_limit=hard_limit(soft_limit_s))
    except Exception:  # noqa: BLE001 - the page says it is queued; checking again publishes it anew
        log.warning("could not publish dry run %s", check_id, exc_info=True)
        return False
    return True
