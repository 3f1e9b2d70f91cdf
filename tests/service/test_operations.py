"""Running the service in production: the compose file's settings are real ones (so it does not rot),
the README's settings table is the one generated from ``Settings``, the reconciler runs as a process
of its own, only workers using Docker sweep stale sandbox containers, and a fresh deployment gets its
course and first instructor from the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import click
import pytest
import typer
import yaml

from grader_api.db import utcnow
from grader_api.models import Assignment, GradingRun, Submission
from grader_core.cli import app as cli
from grader_core.config import Settings, settings_env, settings_table
from grader_core.sandbox.docker_backend import DockerSandbox
from tests.conftest import REPO
from worker import housekeeping
from worker.celery_app import app as celery_app
from worker.reconciler import broker_task_ids

from .conftest import login, make_student

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
PROJECT_SERVICES = ("migrate", "api", "worker-cpu", "worker-gpu", "reconciler")
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _interpolated(value: object) -> str:
    """A compose value with each ``${VAR:-default}`` given its default (``${VAR:?error}`` a placeholder)."""
    return _VARIABLE.sub(lambda m: m.group(3) if m.group(2) == "-" else "set-in-dot-env", str(value))


def _image_environment(dockerfile: str) -> dict[str, str]:
    """The ENV lines of a Dockerfile's ``service`` stage, which the compose services start from."""
    stage = (REPO / dockerfile).read_text().replace("\\\n", " ").split(" AS service\n", 1)[1]
    pairs = [pair for line in stage.splitlines() if line.startswith("ENV ") for pair in line.split()[1:]]
    return dict(pair.split("=", 1) for pair in pairs)


def _environment(service: str) -> dict[str, str]:
    """What the service's processes see: the image's ENV, then the compose file's environment."""
    definition = COMPOSE["services"][service]
    compose = {name: _interpolated(value) for name, value in definition.get("environment", {}).items()}
    return _image_environment(definition["build"]["dockerfile"]) | compose


def _settings(service: str) -> Settings:
    """The service's settings, as it reads them (types and choices checked)."""
    environment = _environment(service)
    unknown = [name for name in environment if name.startswith("DGM_") and name[4:].lower() not in Settings.model_fields]
    assert not unknown, f"{service}: DGM_ variables that are no setting: {unknown}"
    return Settings.model_validate({name[4:].lower(): value for name, value in environment.items() if name.startswith("DGM_")})


@pytest.mark.parametrize("service", PROJECT_SERVICES)
def test_compose_services_use_real_settings_with_valid_values(service: str) -> None:
    environment = _environment(service)
    assert {"DGM_DATABASE_URL", "DGM_BROKER_URL", "DGM_SECRET_KEY"} <= set(environment)
    settings = _settings(service)
    assert settings.database_url.startswith("postgresql+psycopg://") and settings.broker_url.startswith("redis://")
    assert settings.api_runs_reconciler is False and settings.log_format == "json"


def test_compose_workers_sandboxes_gpus_and_volumes() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis", *PROJECT_SERVICES, "sandbox-cpu", "sandbox-gpu"} <= set(services)
    for name, queue, sandbox in (("worker-cpu", "cpu", "sandbox-cpu"), ("worker-gpu", "gpu", "sandbox-gpu")):
        worker = services[name]
        assert worker["command"][:6] == ["celery", "-A", "worker.celery_app", "worker", "-Q", queue]
        settings = _settings(name)
        assert (settings.sandbox_backend, settings.sandbox_python) == ("docker", "image")
        assert settings.sandbox_image == services[sandbox]["image"]  # built by the compose file
        assert services[sandbox]["build"]["dockerfile"] == worker["build"]["dockerfile"]
        assert services[sandbox]["build"]["target"] == "sandbox"
        mounts = {_interpolated(volume).split(":")[0]: _interpolated(volume).split(":")[1] for volume in worker["volumes"]}
        assert mounts["/var/run/docker.sock"] == "/var/run/docker.sock"
        assert mounts[str(settings.work_dir)] == str(settings.work_dir)  # the host daemon mounts from the same path
        assert _environment(name)["TMPDIR"] == str(settings.work_dir)  # sandbox plans are temporary folders
        assert mounts["uploads"] == str(settings.upload_dir) and mounts["artifacts"] == str(settings.artifact_dir)
    assert _settings("worker-gpu").worker_gpus
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in device["capabilities"] for device in devices)
    assert {"uploads", "artifacts"} <= set(COMPOSE["volumes"])
    api_mounts = {_interpolated(volume).split(":")[0]: _interpolated(volume).split(":")[1] for volume in services["api"]["volumes"]}
    assert api_mounts == {"uploads": str(_settings("api").upload_dir), "artifacts": str(_settings("api").artifact_dir)}
    assert "group_add" not in services["api"]  # no Docker socket: the API never runs code, workers dry-run suites


def test_compose_commands_exist() -> None:
    """Looked up, not run: running the CLI in-process would point the test process's logging at a
    stream the runner closes."""
    for service in PROJECT_SERVICES:
        command = COMPOSE["services"][service]["command"]
        if command[0] != "dgm-grader":
            continue
        found: click.Command | None = typer.main.get_command(cli)
        for word in command[1:]:
            if not isinstance(found, click.Group):
                break
            found = found.get_command(click.Context(found), word)
            assert found is not None, (service, word)
    assert COMPOSE["services"]["api"]["command"][:2] == ["uvicorn", "grader_api.main:app"]


def test_the_readme_settings_table_is_generated_from_settings() -> None:
    readme = (REPO / "README.md").read_text()
    assert settings_table() in readme, "regenerate the README's table with `dgm-grader settings`"
    assert all(field.description for field in Settings.model_fields.values())


def test_the_reconciler_runs_as_a_process_of_its_own(rt, course, service_settings):  # type: ignore[no-untyped-def]
    """A run the broker never got is published again by `dgm-grader reconcile`, which stops on SIGTERM."""
    student = make_student(rt, course["course"])
    with rt.db.session() as session:
        assignment = session.get_one(Assignment, course["hw1"])
        run = GradingRun(  # on the gpu queue, which no test worker consumes: it stays where the reconciler puts it
            submission=Submission(assignment_id=assignment.id, user_id=student.id, number=1, filename="a.yaml",
                                  stored_path="/nonexistent", file_sha256="0" * 64, size_bytes=1),
            suite_version_id=assignment.current_suite_version_id, kind="first", priority=0, queue="gpu",
            status="queued", task_id=f"lost-{uuid.uuid4().hex}", enqueued_at=utcnow() - timedelta(minutes=5))
        session.add(run)
        session.commit()
    env = os.environ | settings_env(service_settings) | {"DGM_RECONCILE_INTERVAL_S": "0.5"}
    process = subprocess.Popen([sys.executable, "-m", "grader_core.cli", "reconcile"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (task_id := _task_id(rt, run.id)) == run.task_id:
            assert process.poll() is None and time.monotonic() < deadline, "the reconciler did not republish the run"
            time.sleep(0.2)
        # The new task id is committed before the message is published: wait for the publish too.
        while task_id not in (broker_task_ids(celery_app) or set()):
            assert time.monotonic() < deadline, "the republished run never reached the broker"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert f"run {run.id} is queued but lost by the broker" in process.stderr.read()  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with rt.db.session() as session:  # leave the gpu queue empty for the other tests
            session.get_one(GradingRun, run.id).status = "failed"
            session.commit()


def _task_id(rt, run_id: int) -> str:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return session.get_one(GradingRun, run_id).task_id


def test_only_workers_using_docker_sweep_stale_sandbox_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    swept: list[float] = []

    def sweep_stale_containers(older_than_s: float) -> int:
        swept.append(older_than_s)
        return 0

    monkeypatch.setattr(housekeeping, "sweep_stale_containers", sweep_stale_containers)
    monkeypatch.setattr(DockerSandbox, "available", classmethod(lambda cls: False))
    assert housekeeping.start_sweeper(Settings(sandbox_backend="bwrap")) is None
    assert housekeeping.start_sweeper(Settings(sandbox_backend="auto")) is None  # no daemon: bubblewrap
    monkeypatch.setattr(DockerSandbox, "available", classmethod(lambda cls: True))
    for backend in ("auto", "docker"):
        swept.clear()
        sweeper: Any = housekeeping.start_sweeper(Settings(sandbox_backend=backend, broker_visibility_timeout_s=600))
        try:
            deadline = time.monotonic() + 10
            while not swept:  # at start-up, without waiting for the first interval
                assert time.monotonic() < deadline, backend
                time.sleep(0.01)
        finally:
            sweeper.stop()
        assert swept == [600]  # containers older than any run may last


def test_course_create_gives_the_first_instructor_a_working_password(rt, service_settings, client):  # type: ignore[no-untyped-def]
    email = f"prof-{uuid.uuid4().hex[:8]}@test"
    done = subprocess.run([sys.executable, "-m", "grader_core.cli", "course", "create", "DGM-OPS", "--title", "Ops course",
                           "--instructor", email, "--name", "Prof"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=os.environ | settings_env(service_settings))
    assert done.returncode == 0, done.stderr
    password = re.search(rf"{re.escape(email)}: one-time password (\S+)", done.stdout)
    assert password is not None, done.stdout
    login(client, email, password.group(1))
    assert client.get("/instructor/suites").status_code == 200  # an instructor


def test_a_gpu_worker_without_docker_refuses_to_start(redis_url: str) -> None:
    """bubblewrap cannot hand a GPU over: such a worker would grade GPU suites on the CPU."""
    env = os.environ | {"DGM_WORKER_GPUS": "0", "DGM_SANDBOX_BACKEND": "bwrap", "DGM_BROKER_URL": redis_url}
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "-Q", "gpu", "-c", "1",
                           "--without-mingle", "--without-gossip"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "DGM_WORKER_GPUS=0 needs the docker sandbox backend" in done.stdout + done.stderr
