"""Sandbox containers left behind: a worker child killed by its hard time limit or by the OOM killer
does not remove the container it started. Each worker using the Docker backend removes them at
start-up and every ``SWEEP_INTERVAL_S``: the containers live on the worker machine's own daemon,
which the reconciler (one per deployment, maybe on another machine) cannot reach."""

from __future__ import annotations

import logging

from grader_core.config import Settings
from grader_core.sandbox.docker_backend import DockerSandbox, sweep_stale_containers

from .periodic import PeriodicThread

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 15 * 60.0


def docker_in_use(settings: Settings) -> bool:
    """Whether ``select_sandbox`` picks Docker with these settings (asked without building its image)."""
    return settings.sandbox_backend == "docker" or (settings.sandbox_backend == "auto" and DockerSandbox.available())


def sweep(settings: Settings) -> int:
    """Remove run containers older than any run may last: no suite may run longer than the broker's
    visibility timeout (publishing refuses one that could)."""
    removed = sweep_stale_containers(settings.broker_visibility_timeout_s)
    if removed:
        log.warning("removed %d stale sandbox container(s)", removed)
    return removed


def start_sweeper(settings: Settings) -> PeriodicThread | None:
    """A thread sweeping now and every ``SWEEP_INTERVAL_S``; None when Docker is not the backend."""
    if not docker_in_use(settings):
        return None
    sweeper = PeriodicThread("dgm-sandbox-sweeper", SWEEP_INTERVAL_S, lambda: sweep(settings), immediately=True)
    sweeper.start()
    return sweeper
