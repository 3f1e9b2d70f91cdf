"""bubblewrap backend, for development machines without a Docker daemon.

Every namespace is unshared (network included), the host is visible only through a few read-only
binds, /work and /tmp are size-capped tmpfs, the child runs as ``nobody`` in a new session
(CVE-2017-5226), and ``--die-with-parent`` plus the per-run cgroup guarantee the whole tree dies.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .base import Sandbox, SandboxResult, SandboxSpec, SandboxUnavailable
from .process import run_process

_SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime")
NOBODY = 65534


class BwrapSandbox(Sandbox):
    name = "bwrap"

    @classmethod
    def available(cls) -> bool:
        return shutil.which("bwrap") is not None

    def run(self, spec: SandboxSpec) -> SandboxResult:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
        return run_process(self.name, [bwrap, *self.arguments(spec), "--", *spec.argv], spec, env={})

    @staticmethod
    def arguments(spec: SandboxSpec) -> list[str]:
        limits = spec.limits
        args = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        for directory in _SYSTEM_DIRS:
            if os.path.islink(directory):
                args += ["--symlink", os.readlink(directory), directory]
            elif os.path.isdir(directory):
                args += ["--ro-bind", directory, directory]
        for path in _SYSTEM_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--size", str(limits.work_dir_mb * 1024 * 1024), "--tmpfs", "/work"]
        args += ["--size", str(64 * 1024 * 1024), "--tmpfs", "/tmp"]
        for mount in spec.mounts:
            args += ["--ro-bind", str(Path(mount.source).resolve()), mount.target]
        # bwrap's root is a writable tmpfs; only /work and /tmp should be.
        args += ["--remount-ro", "/", "--chdir", "/work", "--clearenv"]
        for name, value in {"HOME": "/work", "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin", **spec.env}.items():
            args += ["--setenv", name, value]
        return args
