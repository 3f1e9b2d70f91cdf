"""A GPU worker owns the GPUs in ``DGM_WORKER_GPUS`` and runs one pool process per GPU; each process
hands its own GPU (only that one) to the sandbox."""

from __future__ import annotations

from billiard.process import current_process

from grader_core.config import Settings


def owned_gpus(settings: Settings) -> list[str]:
    return [gpu.strip() for gpu in settings.worker_gpus.split(",") if gpu.strip()]


def my_gpu(settings: Settings) -> str | None:
    """The GPU of this pool process: its pool index picks one, so a replaced child keeps its GPU."""
    gpus = owned_gpus(settings)
    if not gpus:
        return None
    index = getattr(current_process(), "index", 0) or 0
    return gpus[index % len(gpus)]
