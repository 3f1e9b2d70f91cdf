"""PostgreSQL, not the broker, is the source of truth. The reconciler publishes again every run
that the broker no longer holds: queued runs whose message is gone (a Redis restart without
persistence, a publish that failed) and running runs past their deadline (a worker lost whole).
Each re-published run gets a new task id, so a stale message that still turns up does nothing."""

from __future__ import annotations

import json
import logging
import signal
import threading
import uuid
from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy import and_, or_, select

from grader_api.db import utcnow
from grader_api.models import GradingRun
from grader_core.config import Settings

from .celery_app import PRIORITY_STEPS, QUEUES, configure, is_redis
from .periodic import PeriodicThread, run_every
from .queueing import enqueue
from .runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

PUBLISH_GRACE_S = 15.0  # a run committed this recently may not have been published yet
_REDIS_PRIORITY_SEP = "\x06\x16"


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


def reconcile(rt: Runtime, app: Celery, now: datetime | None = None, in_broker: set[str] | None = None) -> list[int]:
    """Re-publish lost runs; returns their ids. ``in_broker=set()`` says the broker is known empty."""
    now = now or utcnow()
    if in_broker is None:
        in_broker = broker_task_ids(app)
    lost_running = and_(GradingRun.status == "running", GradingRun.deadline_at < now)
    conditions = [lost_running]
    if in_broker is not None:
        conditions.append(and_(GradingRun.status == "queued", GradingRun.enqueued_at < now - timedelta(seconds=PUBLISH_GRACE_S)))
    requeued: list[tuple[GradingRun, float]] = []
    with rt.db.session() as session, session.begin():
        runs = session.scalars(select(GradingRun).where(or_(*conditions)).order_by(GradingRun.id).with_for_update(skip_locked=True))
        for run in runs:
            if run.status == "queued" and in_broker is not None and run.task_id in in_broker:
                continue
            log.warning("run %s is %s but lost by the broker; publishing it again", run.id, run.status)
            run.status = "queued"
            run.task_id = uuid.uuid4().hex
            run.submission.status = "queued"
            requeued.append((run, run.suite_version.time_limit_s))
    for run, soft_limit in requeued:
        enqueue(run, soft_limit)
    return [run.id for run, _ in requeued]


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
