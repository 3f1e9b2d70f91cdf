"""The queue monitor: depth per queue, running jobs, grading-time percentiles, failures, workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..db import utcnow
from ..models import GradingRun, Submission

_RECENT = 500


@dataclass
class WorkerInfo:
    name: str
    gpus: list[str]
    running: int
    graded_last_hour: int


@dataclass
class QueueMonitor:
    depth: dict[str, int]
    running: list[GradingRun]
    percentiles: dict[str, float]  # p50/p90/p99 of recent grading times, seconds
    failures: list[GradingRun]
    workers: list[WorkerInfo]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def queue_monitor(session: Session) -> QueueMonitor:
    depth = {"cpu": 0, "gpu": 0} | dict(session.execute(
        select(GradingRun.queue, func.count()).where(GradingRun.status == "queued").group_by(GradingRun.queue)).all())
    running = list(session.scalars(
        select(GradingRun).options(joinedload(GradingRun.submission).joinedload(Submission.user))
        .where(GradingRun.status == "running").order_by(GradingRun.started_at)))
    recent = session.execute(
        select(GradingRun.started_at, GradingRun.finished_at).where(GradingRun.status == "graded")
        .order_by(GradingRun.finished_at.desc()).limit(_RECENT)).all()
    durations = [(done - start).total_seconds() for start, done in recent if start and done]
    failures = list(session.scalars(
        select(GradingRun).where(GradingRun.status == "failed").order_by(GradingRun.finished_at.desc()).limit(20)))
    since = utcnow() - timedelta(hours=1)
    rows = session.execute(
        select(GradingRun.worker, GradingRun.gpu_id, GradingRun.status, func.count())
        .where(GradingRun.worker.is_not(None), func.coalesce(GradingRun.finished_at, GradingRun.started_at) >= since)
        .group_by(GradingRun.worker, GradingRun.gpu_id, GradingRun.status)).all()
    workers: dict[str, WorkerInfo] = {}
    for name, gpu, status, count in rows:
        assert name is not None  # the query keeps runs that reached a worker
        info = workers.setdefault(name, WorkerInfo(name, [], 0, 0))
        if gpu and gpu not in info.gpus:
            info.gpus.append(gpu)
        info.running += count if status == "running" else 0
        info.graded_last_hour += count if status == "graded" else 0
    return QueueMonitor(depth, running, {f"p{q}": percentile(durations, q) for q in (50, 90, 99)}, failures,
                        sorted(workers.values(), key=lambda w: w.name))
