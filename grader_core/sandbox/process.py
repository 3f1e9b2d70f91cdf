"""Shared machinery of the process-based backends: limits in the child, capped streams, kill on timeout."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from typing import IO, Callable

from .base import ResourceLimits, SandboxResult, SandboxSpec
from .cgroup import RunCgroup
from .streams import CappedBuffer

_MB = 1024 * 1024


def child_setup(limits: ResourceLimits, cgroup: RunCgroup | None) -> Callable[[], None]:
    """Return the ``preexec_fn``: join the cgroup and set rlimits before the sandboxed exec."""

    def setup() -> None:
        if cgroup is not None:
            cgroup.enter()
        else:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * _MB, limits.memory_mb * _MB))
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids, limits.pids))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * _MB, limits.file_size_mb * _MB))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return setup


def run_process(backend: str, argv: list[str], spec: SandboxSpec, env: dict[str, str]) -> SandboxResult:
    limits = spec.limits
    cgroup = RunCgroup.create(f"{spec.run_id}-{os.getpid()}-{time.monotonic_ns()}", limits.pids, limits.memory_mb * _MB)
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=child_setup(limits, cgroup),
        close_fds=True,
    )

    def kill() -> None:
        _kill_tree(process, cgroup)

    output = CappedBuffer(limits.max_output_bytes, kill)
    log = CappedBuffer(limits.max_log_bytes, kill, keep_head=limits.kept_log_bytes, keep_tail=limits.kept_log_bytes // 4)
    readers = [_pump(process.stdout, output), _pump(process.stderr, log)]
    timed_out = False
    try:
        process.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill()
        process.wait()
    finally:
        for reader in readers:
            reader.join(timeout=5)
        memory_exhausted = cgroup.memory_exhausted() if cgroup else False
        if cgroup is not None:
            cgroup.remove()
    exit_code = process.returncode
    if exit_code is not None and exit_code < 0:
        exit_code = 128 - exit_code
    if memory_exhausted and exit_code not in (0, None):
        exit_code = 137
    return SandboxResult(
        backend=backend,
        exit_code=exit_code,
        timed_out=timed_out,
        output_limit_exceeded=output.overflowed or log.overflowed,
        output=output.data(),
        log=log.text(),
        duration_s=time.monotonic() - started,
    )


def _kill_tree(process: subprocess.Popen[bytes], cgroup: RunCgroup | None) -> None:
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    if cgroup is not None:
        cgroup.kill_all()


def _pump(stream: IO[bytes] | None, buffer: CappedBuffer) -> threading.Thread:
    def pump() -> None:
        assert stream is not None
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            buffer.feed(chunk)
        stream.close()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread
