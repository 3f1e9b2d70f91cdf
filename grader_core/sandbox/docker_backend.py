"""Docker backend (production): one throwaway container per run, created, attached, started, removed.

The container has no network, a read-only root, tmpfs /work and /tmp, runs as ``nobody`` with every
capability dropped and ``no-new-privileges``; cgroup limits on memory (no swap), CPU and pids; ulimits
on file size, open files and CPU time. GPUs arrive through ``device_requests`` only when asked for.
Streams are read through an attach made before start (nothing goes to the log driver, which would
otherwise fill the disk, moby#8911), and the container is removed explicitly rather than with
``auto_remove``, which races with reading its output (docker-py#1813).
"""

from __future__ import annotations

import contextlib
import logging
import struct
import threading
import time
from typing import Any

from .base import Sandbox, SandboxResult, SandboxSpec, SandboxUnavailable
from .streams import CappedBuffer

log = logging.getLogger(__name__)

RUN_LABEL = "dgm-grader.run"
_MB = 1024 * 1024
NOBODY = 65534


def docker_client() -> Any:
    import docker

    return docker.from_env(timeout=30)


class DockerSandbox(Sandbox):
    name = "docker"
    hands_over_gpus = True

    def __init__(self, image: str, client: Any = None):
        self.image = image
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    @classmethod
    def available(cls) -> bool:
        try:
            return bool(docker_client().ping())
        except Exception:  # noqa: BLE001 - any failure to reach the daemon means "not available"
            return False

    def run(self, spec: SandboxSpec) -> SandboxResult:
        import docker.errors

        try:
            container = self.client.containers.create(self.image, **self.container_options(spec))
        except docker.errors.ImageNotFound:
            raise SandboxUnavailable(f"sandbox image {self.image} is missing; run `dgm-grader sandbox build-image`") from None
        try:
            return self._run_container(container, spec)
        finally:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)

    def container_options(self, spec: SandboxSpec) -> dict[str, Any]:
        import docker.types

        limits = spec.limits
        options: dict[str, Any] = {
            "command": spec.argv,
            "environment": {"HOME": "/work", "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin", **spec.env},
            "working_dir": "/work",
            "user": f"{NOBODY}:{NOBODY}",
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {
                "/work": f"size={limits.work_dir_mb}m,mode=1777,exec,uid={NOBODY},gid={NOBODY}",
                "/tmp": f"size=64m,mode=1777,uid={NOBODY},gid={NOBODY}",
            },
            "mounts": [
                docker.types.Mount(target=mount.target, source=str(mount.source), type="bind", read_only=True)
                for mount in spec.mounts
            ],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "mem_limit": limits.memory_mb * _MB,
            "memswap_limit": limits.memory_mb * _MB,
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            "ulimits": [
                docker.types.Ulimit(name="fsize", soft=limits.file_size_mb * _MB, hard=limits.file_size_mb * _MB),
                docker.types.Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
                docker.types.Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
                docker.types.Ulimit(name="core", soft=0, hard=0),
            ],
            "log_config": docker.types.LogConfig(type="none"),
            "labels": {RUN_LABEL: spec.run_id},
            "init": True,
            "stdin_open": False,
            "detach": True,
        }
        if limits.gpu_ids:
            options["device_requests"] = [
                docker.types.DeviceRequest(device_ids=list(limits.gpu_ids), capabilities=[["gpu"]])
            ]
        return options

    def _run_container(self, container: Any, spec: SandboxSpec) -> SandboxResult:
        import docker.errors
        import requests.exceptions

        limits = spec.limits

        def kill() -> None:
            with contextlib.suppress(docker.errors.APIError, requests.exceptions.RequestException):
                container.kill()

        def kill_in_background() -> None:
            # Called from the stream reader: it must keep draining while the daemon kills, or the
            # container blocks on a full pipe and the kill request waits on it.
            threading.Thread(target=kill, daemon=True).start()

        output = CappedBuffer(limits.max_output_bytes, kill_in_background)
        logs = CappedBuffer(
            limits.max_log_bytes, kill_in_background, keep_head=limits.kept_log_bytes, keep_tail=limits.kept_log_bytes // 4
        )
        socket = container.attach_socket(params={"stdout": 1, "stderr": 1, "stream": 1})
        reader = threading.Thread(target=_demultiplex, args=(socket, output, logs), daemon=True)
        started = time.monotonic()
        container.start()
        reader.start()
        timed_out = False
        try:
            status = container.wait(timeout=limits.wall_seconds)
            exit_code = int(status.get("StatusCode", -1))
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            kill()
            exit_code = None
        reader.join(timeout=10)
        with contextlib.suppress(Exception):
            socket.close()
        oom = False
        with contextlib.suppress(docker.errors.APIError):
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        if oom and exit_code not in (None, 0):
            exit_code = 137
        return SandboxResult(
            backend=self.name,
            exit_code=exit_code,
            timed_out=timed_out,
            output_limit_exceeded=output.overflowed or logs.overflowed,
            output=output.data(),
            log=logs.text(),
            duration_s=time.monotonic() - started,
        )


def _demultiplex(socket: Any, output: CappedBuffer, logs: CappedBuffer) -> None:
    """Read Docker's multiplexed attach stream: 8-byte headers (stream id, size) before each chunk."""
    raw = getattr(socket, "_sock", socket)
    buffer = b""
    try:
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while len(buffer) >= 8:
                stream_id, size = struct.unpack(">BxxxL", buffer[:8])
                if len(buffer) < 8 + size:
                    break
                payload, buffer = buffer[8 : 8 + size], buffer[8 + size :]
                (output if stream_id == 1 else logs).feed(payload)
    except OSError:
        return


def sweep_stale_containers(older_than_s: float, client: Any = None) -> int:
    """Remove run containers older than any run may last: a crashed worker's leftovers.

    A Celery hard time limit kills the worker child, not the container it started.
    """
    from datetime import datetime, timezone

    client = client or docker_client()
    now = datetime.now(timezone.utc)
    removed = 0
    for container in client.containers.list(all=True, filters={"label": RUN_LABEL}):
        created = datetime.fromisoformat(container.attrs["Created"][:26].rstrip("Z") + "+00:00")
        if (now - created).total_seconds() > older_than_s:
            with contextlib.suppress(Exception):
                container.remove(force=True)
                removed += 1
    return removed
