"""No isolation at all: only for an instructor's own files, and only when asked for explicitly.

It keeps the same contract (limits, capped streams, a private work dir) so that a suite behaves the
same way, but the code can read and write anything the grader can.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from .base import Mount, Sandbox, SandboxResult, SandboxSpec
from .process import run_process


class UnsafeNoSandbox(Sandbox):
    name = "none"

    @classmethod
    def available(cls) -> bool:
        return True

    @property
    def isolated(self) -> bool:
        return False

    def run(self, spec: SandboxSpec) -> SandboxResult:
        # Without mount namespaces, mounts become symlinks in a scratch root and paths are rewritten to it.
        root = tempfile.mkdtemp(prefix="dgm-unsafe-")
        try:
            for mount in _relocated(spec):
                link = os.path.join(root, mount.target.lstrip("/"))
                os.makedirs(os.path.dirname(link), exist_ok=True)
                if not os.path.exists(link):
                    os.symlink(mount.source, link)
            work = os.path.join(root, "work")
            os.makedirs(work, exist_ok=True)
            argv = [_rewrite(arg, spec, root) for arg in spec.argv]
            env = {"HOME": work, "TMPDIR": work, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            env.update({name: _rewrite(value, spec, root) for name, value in spec.env.items()})
            return run_process(self.name, argv, spec, env)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _relocated(spec: SandboxSpec) -> list[Mount]:
    return [mount for mount in spec.mounts if str(mount.source) != mount.target]


def _rewrite(value: str, spec: SandboxSpec, root: str) -> str:
    """Point a sandbox path (a mount target, a file under one, or a parent of one) into ``root``."""
    for mount in _relocated(spec):
        target = mount.target.rstrip("/")
        if value == target or value.startswith(target + "/") or target.startswith(value.rstrip("/") + "/"):
            return os.path.join(root, value.lstrip("/"))
    return value
