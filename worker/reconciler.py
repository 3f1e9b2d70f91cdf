"""PostgreSQL, not the broker, is the source of truth. The reconciler publishes again every job (a
grading run or a dry run, ``worker.jobs``) that the broker no longer holds: queued jobs whose message
is gone (a Redis restart without persistence, a publish that failed) and running jobs past their
deadline (a worker lost whole). Each re-published job gets a new task id, so a stale message that
still turns up does nothing."""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from celery import Celery
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from grader_api.db import utcnow
from grader_api.models import GradingRun, SuiteCheck
from grader_core.config import Settings

from .celery_app import PRIORITY_STEPS, QUEUES, configure, is_redis
from .jobs import describe, requeue
from .periodic import PeriodicThread, run_every
from .queueing import enqueue, enqueue_dry_run
from .runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

PUBLISH_GRACE_S = 15.0  # a run committed this recently may not have been published yet
_REDIS_PRIORITY_SEP = "\x06\x16"

JobRow = TypeVar("JobRow", GradingRun, SuiteCheck)


@dataclass(frozen=True)
class Republished:
    runs: list[int]
    dry_runs: list[int]


def broker_task_ids(app: Celery) -> set[str] | None:
    """Task ids the broker holds, waiting or delivered but unacknowledged; None if it cannot tell."""
    if not is_redis(app.conf.broker_url):
        return None
    with app.connection_for_read() as connection:
        client = connection.default_channel.client
        ids: set[str] = set()
        for queue in QUEUES:
            for step in PRIORITY_STEPS:
                name = queue if step == 0 else f"{queue}{_REDIS_PRIORITY_SEP}{step}"
                ids.update(json.loads(raw)["headers"]["id"] for raw in client.lrange(name, 0, -1))
        ids.update(json.loads(raw)[0]["headers"]["id"] for raw in client.hvals("unacked"))
        return ids


def reconcile(rt: Runtime, app: Celery, now: datetime | None = None, in_broker: set[str] | None = None) -> Republished:
    """Re-publish lost runs and dry runs; returns their ids. ``in_broker=set()`` says the broker is known empty."""
    now = now or utcnow()
    if in_broker is None:
        in_broker = broker_task_ids(app)
    with rt.db.session() as session, session.begin():
        runs = _requeue_lost(session, GradingRun, now, in_broker)
        for run in runs:
            run.submission.status = "queued"
        soft_limits = [run.suite_version.time_limit_s for run in runs]
        checks = _requeue_lost(session, SuiteCheck, now, in_broker)
    for run, soft_limit in zip(runs, soft_limits):
        enqueue(run, soft_limit)
    for check in checks:
        enqueue_dry_run(check)
    return Republished(runs=[run.id for run in runs], dry_runs=[check.id for check in checks])


def _requeue_lost(session: Session, model: type[JobRow], now: datetime, in_broker: set[str] | None) -> list[JobRow]:
    """Jobs of ``model`` the broker lost, each made to wait again under a new task id (rows locked;
    a row another reconciler holds is left to it). Without ``in_broker``, only running jobs past
    their deadline can be told lost."""
    conditions = [and_(model.status == "running", model.deadline_at < now)]
    if in_broker is not None:
        conditions.append(and_(model.status == "queued", model.enqueued_at < now - timedelta(seconds=PUBLISH_GRACE_S)))
    found = session.scalars(select(model).where(or_(*conditions)).order_by(model.id).with_for_update(skip_locked=True))
    lost = [job for job in found if not (job.status == "queued" and in_broker is not None and job.task_id in in_broker)]
    for job in lost:
        log.warning("%s is %s but lost by the broker; publishing it again", describe(job), job.status)
        requeue(job)
    return lost


def reconciler_thread(rt: Runtime, app: Celery) -> PeriodicThread:
    """The reconciler inside another process (the API's, the embedded mode's)."""
    return PeriodicThread("dgm-reconciler", rt.settings.reconcile_interval_s, lambda: reconcile(rt, app))


def serve(settings: Settings, once: bool = False) -> None:
    """``dgm-grader reconcile``: a pass every ``reconcile_interval_s`` until SIGTERM or SIGINT."""
    app = configure(settings)
    rt = get_runtime()
    try:
        if once:
            reconcile(rt, app)
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        log.info("reconciler: a pass every %g s", settings.reconcile_interval_s)
        run_every("reconciler", settings.reconcile_interval_s, lambda: reconcile(rt, app), stop)
        log.info("reconciler stopped")
    finally:
        rt.db.dispose()
