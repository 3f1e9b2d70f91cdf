"""The life of a job the broker delivers and the database owns: a grading run or a dry run.

The row is the truth; a broker message carries only the job's id.

1. Publish: the row is committed with a fresh ``task_id``, then a message is sent under that id
   (``worker.queueing``). A failed publish is left to the reconciler.
2. Claim (row locked): a finished job, or a message whose id is not the row's ``task_id`` (stale: the
   reconciler has published the job again since), is skipped. Otherwise the attempt is counted and
   the job gets a claim token and a deadline. A job whose worker died ``max_grading_attempts`` times
   is given up on, not delivered again forever.
3. Record (row locked): only the attempt that holds the claim token writes a result.
4. Reconcile: a queued job whose message the broker no longer holds, or a running one past its
   deadline, gets a new task id and is published again (``worker.reconciler``).
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from .queueing import DEADLINE_SLACK_S, hard_limit

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "running")


class Job(Protocol):
    id: int
    status: str
    task_id: str
    claim_token: str | None
    attempts: int
    deadline_at: datetime | None


class Admission(enum.Enum):
    RUN = "run"  # count the attempt (start_attempt) and run the job
    SKIP = "skip"  # finished already, or the message is stale: do nothing
    GIVE_UP = "give up"  # out of attempts: the caller fails the job with gave_up(...)


def admit(job: Job, task_id: str, max_attempts: int) -> Admission:
    """What the message ``task_id`` may do with ``job`` (its row locked by the caller)."""
    if job.status not in UNFINISHED:
        log.info("%s: nothing to do (%s)", describe(job), job.status)
        return Admission.SKIP
    if job.task_id != task_id:
        log.info("%s: message %s is stale (current %s)", describe(job), task_id, job.task_id)
        return Admission.SKIP
    if job.attempts >= max_attempts:
        log.warning("%s: giving up after %s attempts", describe(job), job.attempts)
        return Admission.GIVE_UP
    return Admission.RUN


def gave_up(job: Job, process: str) -> str:
    """The error of a job given up on; ``process`` names what died, e.g. "the grading process"."""
    return f"gave up after {job.attempts} attempts: {process} died each time (out of memory, or killed)"


def start_attempt(job: Job, soft_limit_s: float, now: datetime) -> str:
    """Count an attempt and claim the job for it; returns the claim token its result must carry.
    Past the deadline (the worker's hard limit and some slack) the reconciler calls the job lost."""
    job.attempts += 1
    job.status = "running"
    job.claim_token = uuid.uuid4().hex
    job.deadline_at = now + timedelta(seconds=hard_limit(soft_limit_s) + DEADLINE_SLACK_S)
    return job.claim_token


def holds_claim(job: Job | None, token: str) -> bool:
    """Whether the attempt with ``token`` may still write the result of ``job`` (row locked)."""
    if job is not None and job.status == "running" and job.claim_token == token:
        return True
    log.warning("%s: attempt %s lost its claim; its result is discarded", describe(job), token[:8])
    return False


def requeue(job: Job) -> None:
    """Make ``job`` wait again under a new task id: any message still out there for it is now stale."""
    job.status = "queued"
    job.task_id = uuid.uuid4().hex


_KINDS = {"GradingRun": "run", "SuiteCheck": "dry run"}


def describe(job: Job | None) -> str:
    """How logs name a job: "run 12", "dry run 3"."""
    return "a deleted job" if job is None else f"{_KINDS.get(type(job).__name__, type(job).__name__)} {job.id}"
