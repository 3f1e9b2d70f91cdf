"""The Celery app. Long jobs: late acks, re-delivery when a worker dies, prefetch of one, a broker
visibility timeout above the longest suite. Start a worker with
``celery -A worker.celery_app worker -Q cpu`` (or ``-Q gpu`` with ``DGM_WORKER_GPUS=0,1``)."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals
from kombu import Exchange, Queue

from grader_core.config import Settings, get_settings
from grader_core.logging_setup import configure_logging

from . import runtime
from .gpus import owned_gpus
from .housekeeping import docker_in_use, start_sweeper

QUEUES = ("cpu", "gpu")
PRIORITY_STEPS = [0, 3, 6, 9]
# The anonymous exchange routes by queue name and needs no binding; Redis keeps bindings as keys,
# which a restart without persistence loses, after which a named exchange drops messages silently.
_ANONYMOUS = Exchange("", type="direct")


def is_redis(broker_url: str) -> bool:
    return broker_url.startswith(("redis://", "rediss://"))


def transport_options(settings: Settings) -> dict[str, Any]:
    """Redis: a visibility timeout above the longest suite, priorities. The serverless brokers of the
    embedded mode (``sqla+sqlite://``) take none: theirs are engine arguments."""
    if not is_redis(settings.broker_url):
        return {}
    return {
        "visibility_timeout": settings.broker_visibility_timeout_s,
        "priority_steps": PRIORITY_STEPS,
        "queue_order_strategy": "priority",
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options(settings),
        "task_queues": [Queue(name, _ANONYMOUS, routing_key=name) for name in QUEUES],
        "task_default_queue": "cpu",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "worker_enable_remote_control": is_redis(settings.broker_url),  # needs a fanout exchange
    }


app = Celery("dgm_grader", include=["worker.tasks"])
app.conf.update(celery_config(get_settings()))


def configure(settings: Settings) -> Celery:
    """Point the app and the tasks at ``settings`` (tests, the embedded mode)."""
    app.conf.update(celery_config(settings))
    runtime.configure(settings)
    return app


@signals.setup_logging.connect
def _setup_logging(**_: object) -> None:
    """Workers log like every other process (JSON lines with ``DGM_LOG_FORMAT=json``); connecting
    here also keeps Celery from installing its own handlers."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


@signals.worker_init.connect
def _refuse_gpus_without_docker(**_: object) -> None:
    """A GPU worker whose sandbox cannot hand GPUs over would grade GPU suites on the CPU: stop at
    start-up instead of failing every run."""
    settings = get_settings()
    if owned_gpus(settings) and not docker_in_use(settings):
        raise SystemExit(f"DGM_WORKER_GPUS={settings.worker_gpus} needs the docker sandbox backend "
                         f"(DGM_SANDBOX_BACKEND is {settings.sandbox_backend!r} and no Docker daemon is in use)")


@signals.worker_ready.connect
def _start_housekeeping(**_: object) -> None:
    """In the worker's main process, once its pool is up (settings from the environment: a runtime
    here would leave a database engine for pool children forked later); the sweeper is a daemon
    thread, so it ends with the process."""
    start_sweeper(get_settings())
