"""Build the sandbox image offline: a minimal Debian rootfs from debootstrap, imported into Docker.

No registry is reachable, so nothing is pulled. The image holds only a base system; the Python
runtime and the project's virtualenv are bind-mounted read-only at run time (see ``runtime.py``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .docker_backend import docker_client

log = logging.getLogger(__name__)


def image_exists(tag: str) -> bool:
    import docker.errors

    try:
        docker_client().images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_image(tag: str, suite: str = "bookworm", mirror: str = "http://deb.debian.org/debian") -> None:
    """debootstrap --variant=minbase, then ``docker import`` of the tarred rootfs."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="dgm-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        log.info("debootstrap %s into %s", suite, rootfs)
        subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(rootfs), mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # The host's Python may live under /root (pyenv); it is bind-mounted at the same path, so the
        # unprivileged sandbox user must be able to traverse /root.
        os.chmod(rootfs / "root", 0o755)
        shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
        tarball = Path(scratch) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        repository, _, version = tag.partition(":")
        with tarball.open("rb") as data:
            docker_client().api.import_image_from_data(data, repository=repository, tag=version or "latest")
    log.info("built sandbox image %s", tag)


def ensure_image(tag: str) -> None:
    if not image_exists(tag):
        build_image(tag)
