"""The Celery tasks: thin wrappers over ``worker.grading``."""

from __future__ import annotations

from .celery_app import app
from .dry_runs import execute_dry_run
from .grading import execute_run
from .runtime import get_runtime


@app.task(name="dgm.grade_run", bind=True, acks_late=True, reject_on_worker_lost=True)
def grade_run(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    return execute_run(get_runtime(), run_id, self.request.id, self.request.hostname or "worker")


@app.task(name="dgm.dry_run_suite", bind=True, acks_late=True, reject_on_worker_lost=True)
def dry_run_suite(self, check_id: int) -> str:  # type: ignore[no-untyped-def]
    return execute_dry_run(get_runtime(), check_id, self.request.id)
