"""How the runner is started inside a sandbox: which interpreter, which mounts, which environment."""

from __future__ import annotations

import sys
from pathlib import Path

from ..config import Settings
from .base import Mount

RUNNER_SOURCE = Path(__file__).resolve().parent.parent / "runner"
RUNNER_PARENT = "/opt/dgm"
RUNNER_PACKAGE = "dgm_runner"
SUBMISSION_DIR = "/submission"
PLAN_DIR = "/plan"


def runtime_mounts(settings: Settings) -> tuple[str, list[Mount]]:
    """The interpreter to run and the read-only mounts of the interpreter and the runner.

    In the ``image`` mode the sandbox image carries both at these paths (the production images copy
    the runner to ``/opt/dgm/dgm_runner``): there the worker talks to the host's Docker daemon, which
    resolves bind-mount sources on the host, where the worker container's files do not exist."""
    if settings.sandbox_python == "image":
        return settings.sandbox_image_python, []
    prefixes = sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}, key=lambda path: len(path.parts))
    kept: list[Path] = []
    for prefix in prefixes:
        if not any(prefix.is_relative_to(parent) for parent in kept):
            kept.append(prefix)
    mounts = [Mount(source=prefix, target=str(prefix)) for prefix in kept]
    mounts.append(Mount(source=RUNNER_SOURCE, target=f"{RUNNER_PARENT}/{RUNNER_PACKAGE}"))
    return str(Path(sys.prefix) / "bin" / "python"), mounts


def runner_command(settings: Settings, submission: Path, plan_dir: Path) -> tuple[list[str], list[Mount], dict[str, str]]:
    python, mounts = runtime_mounts(settings)
    mounts = [
        *mounts,
        Mount(source=submission, target=SUBMISSION_DIR),
        Mount(source=plan_dir, target=PLAN_DIR),
    ]
    env = {
        "PYTHONPATH": RUNNER_PARENT,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    argv = [python, "-s", "-m", RUNNER_PACKAGE, f"{PLAN_DIR}/plan.json", SUBMISSION_DIR]
    return argv, mounts, env
