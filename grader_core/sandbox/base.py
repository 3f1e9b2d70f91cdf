"""The sandbox interface: what to run, with which limits, and what came back."""

from __future__ import annotations

import abc
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run here (no daemon, no bubblewrap, ...)."""


class Mount(BaseModel):
    """A read-only view of a host path at ``target`` inside the sandbox."""

    model_config = ConfigDict(frozen=True)

    source: Path
    target: str


class ResourceLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    wall_seconds: float = 60.0
    cpu_seconds: int = 120
    memory_mb: int = 2048
    cpus: float = 1.0
    pids: int = 128
    file_size_mb: int = 16
    open_files: int = 256
    work_dir_mb: int = 256
    gpu_ids: tuple[str, ...] = ()
    # The protocol stream carries the outputs; the log stream carries whatever the student prints.
    max_output_bytes: int = 64 * 1024 * 1024
    max_log_bytes: int = 8 * 1024 * 1024
    kept_log_bytes: int = 64 * 1024


class SandboxSpec(BaseModel):
    """One process tree to run: argv, environment, read-only mounts, a tmpfs work dir at /work."""

    model_config = ConfigDict(frozen=True)

    argv: list[str]
    env: dict[str, str] = Field(default_factory=dict)
    mounts: list[Mount] = Field(default_factory=list)
    limits: ResourceLimits = Field(default_factory=ResourceLimits)
    run_id: str = "adhoc"


class SandboxResult(BaseModel):
    backend: str
    exit_code: int | None
    timed_out: bool = False
    output_limit_exceeded: bool = False
    output: bytes = b""
    log: str = ""
    duration_s: float = 0.0

    @property
    def problem(self) -> str | None:
        """Why the run ended abnormally, in words a student can act on; ``None`` for a clean exit."""
        if self.timed_out:
            return "the run was stopped at the time limit"
        if self.output_limit_exceeded:
            return "the run was stopped for printing or returning too much output"
        if self.exit_code == 137:
            return "the run was killed (memory limit exceeded?)"
        if self.exit_code not in (0, None):
            return f"the run exited with status {self.exit_code}"
        return None


class Sandbox(abc.ABC):
    name: str
    # Whether ``ResourceLimits.gpu_ids`` reach the code inside (Docker's device requests); a backend
    # without it would silently run a GPU suite on the CPU.
    hands_over_gpus: bool = False

    @classmethod
    @abc.abstractmethod
    def available(cls) -> bool:
        """Whether this backend can run here right now."""

    @abc.abstractmethod
    def run(self, spec: SandboxSpec) -> SandboxResult:
        """Run to completion or the wall-clock limit; never raises for anything the code inside does."""

    @property
    def isolated(self) -> bool:
        return True
