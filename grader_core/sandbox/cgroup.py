"""Per-run cgroups for the process-based backends (bubblewrap, unsafe).

bubblewrap sets no resource limits of its own, and ``RLIMIT_NPROC`` counts processes per UID across
the whole host (and does not bind root at all), so a fork bomb is stopped with the cgroup ``pids``
controller and memory with the ``memory`` controller. cgroup v2 and v1 layouts are both handled;
where neither is writable the caller falls back to rlimits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

_ROOT = Path("/sys/fs/cgroup")
_PARENT = "dgm-grader"


class RunCgroup:
    """One run's cgroup (one directory per controller on v1, one directory on v2)."""

    def __init__(self, directories: list[Path], unified: bool):
        self.directories = directories
        self.unified = unified

    @classmethod
    def create(cls, run_id: str, pids: int, memory_bytes: int) -> RunCgroup | None:
        try:
            if (_ROOT / "cgroup.controllers").is_file():
                return cls._create_v2(run_id, pids, memory_bytes)
            if (_ROOT / "pids").is_dir() and (_ROOT / "memory").is_dir():
                return cls._create_v1(run_id, pids, memory_bytes)
        except OSError as exc:
            log.warning("cgroup unavailable, falling back to rlimits: %s", exc)
        return None

    @classmethod
    def _create_v2(cls, run_id: str, pids: int, memory_bytes: int) -> RunCgroup:
        parent = _ROOT / _PARENT
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text("+pids +memory")
        directory = parent / run_id
        directory.mkdir()
        (directory / "pids.max").write_text(str(pids))
        (directory / "memory.max").write_text(str(memory_bytes))
        (directory / "memory.swap.max").write_text("0")
        return cls([directory], unified=True)

    @classmethod
    def _create_v1(cls, run_id: str, pids: int, memory_bytes: int) -> RunCgroup:
        pid_dir = _ROOT / "pids" / _PARENT / run_id
        memory_dir = _ROOT / "memory" / _PARENT / run_id
        pid_dir.mkdir(parents=True)
        memory_dir.mkdir(parents=True)
        (pid_dir / "pids.max").write_text(str(pids))
        (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # only present when swap accounting is enabled
            (memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        return cls([pid_dir, memory_dir], unified=False)

    def enter(self) -> None:
        """Move the calling process in; called in the child between fork and exec."""
        for directory in self.directories:
            (directory / "cgroup.procs").write_text(str(os.getpid()))

    def memory_exhausted(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            if self.unified:
                events = (self.directories[0] / "memory.events").read_text()
                return any(line.split()[0] == "oom_kill" and int(line.split()[1]) > 0 for line in events.splitlines())
            return int((self.directories[1] / "memory.failcnt").read_text()) > 0
        return False

    def kill_all(self) -> None:
        """Kill every process left in the group, however it daemonized or re-parented itself."""
        for _ in range(50):
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for directory in self.directories:
            with contextlib.suppress(OSError):
                directory.rmdir()

    def _pids(self) -> list[int]:
        found: set[int] = set()
        for directory in self.directories:
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in (directory / "cgroup.procs").read_text().split())
        return sorted(found)
