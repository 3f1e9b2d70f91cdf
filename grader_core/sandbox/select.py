"""Choose a backend: Docker if a daemon answers, else bubblewrap; no sandbox only when asked for."""

from __future__ import annotations

from ..config import Settings
from .base import Sandbox, SandboxUnavailable
from .bwrap_backend import BwrapSandbox
from .docker_backend import DockerSandbox
from .unsafe_backend import UnsafeNoSandbox


def select_sandbox(settings: Settings, backend: str | None = None, allow_unsafe: bool = False) -> Sandbox:
    choice = backend or settings.sandbox_backend
    if choice == "none":
        if not allow_unsafe:
            raise SandboxUnavailable("running without a sandbox needs --unsafe-no-sandbox")
        return UnsafeNoSandbox()
    if choice in ("auto", "docker") and DockerSandbox.available():
        from .image import ensure_image

        ensure_image(settings.sandbox_image)
        return DockerSandbox(settings.sandbox_image)
    if choice == "docker":
        raise SandboxUnavailable("no Docker daemon answers")
    if BwrapSandbox.available():
        return BwrapSandbox()
    if allow_unsafe:
        return UnsafeNoSandbox()
    raise SandboxUnavailable(
        "no sandbox is available (no Docker daemon, no bubblewrap); refusing to run student code. "
        "Pass --unsafe-no-sandbox only for files you wrote yourself."
    )
