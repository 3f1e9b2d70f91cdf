"""``python -m grader_api.embedded`` (what ``make run`` starts): the whole service on one machine
with no server to install. SQLite holds the data and a second SQLite file is the Celery broker
(kombu's ``sqla+sqlite://`` transport), so the web server and a real Celery worker subprocess run
the same code as production. Start-up migrates, seeds the demo course (every homework in
``test_suites/``, one account per role), sends a few HW1 examples to the queue, and prints the URL
and the accounts."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from grader_core.config import DEV_SECRET_KEY, PROJECT_ROOT, Settings, get_settings, settings_env
from grader_core.logging_setup import configure_logging

from .db import Database
from .main import create_app
from .migrate import upgrade
from .services.demo import DemoAccount, seed, submit_examples

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path.home() / ".cache" / "dgm-grader" / "embedded"
WORKER_STOP_S = 30.0


class _Stop(Exception):
    """SIGINT or SIGTERM, raised once the web server has shut down gracefully."""


def embedded_settings(base: Settings, data_dir: Path, host: str, port: int) -> Settings:
    """``base`` (the ``DGM_*`` environment) with everything stored under ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return base.model_copy(update={
        "database_url": f"sqlite:///{data_dir / 'grader.db'}",
        "broker_url": f"sqla+sqlite:///{data_dir / 'broker.db'}",
        "upload_dir": data_dir / "uploads",
        "artifact_dir": data_dir / "artifacts",
        "work_dir": data_dir / "work",
        "secret_key": base.secret_key if base.secret_key != DEV_SECRET_KEY else _saved_secret(data_dir / "secret_key"),
        "public_url": f"http://{host}:{port}",
    })


def _saved_secret(path: Path) -> str:
    """Generated once per data directory, so sessions survive a restart."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def start_worker(settings: Settings, concurrency: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "-Q", "cpu,gpu", "-P", "prefork",
               "-c", str(concurrency), "--without-mingle", "--without-gossip", "--without-heartbeat",
               "-n", "embedded@%h", "--loglevel", settings.log_level]
    log.info("starting a Celery worker (%d processes)", concurrency)
    return subprocess.Popen(command, env=os.environ | settings_env(settings), cwd=PROJECT_ROOT)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """A warm shutdown (running gradings finish) for up to ``WORKER_STOP_S``, then a kill."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(WORKER_STOP_S)
        except subprocess.TimeoutExpired:
            log.warning("the worker did not stop in %.0f s; killing it", WORKER_STOP_S)
            worker.kill()
            worker.wait()
    log.info("worker stopped (exit code %s)", worker.returncode)


def banner(url: str, data_dir: Path, accounts: Sequence[DemoAccount], examples: int, startup_s: float) -> str:
    width = max(len(a.email) for a in accounts)
    lines = [f"dgm-grader is running at {url}/  (started in {startup_s:.1f} s; data in {data_dir})", "Demo accounts:"]
    lines += [f"  {a.role:<11} {a.email:<{width}}  password: {a.password}" for a in accounts]
    if examples:
        lines.append(f"{examples} HW1 example submissions are being graded; sign in as the TA to see them.")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def _announce_when_up(server: uvicorn.Server, text: str) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        print(text, flush=True)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def serve(settings: Settings, data_dir: Path, host: str, port: int, concurrency: int) -> None:
    started = time.monotonic()
    for signum in (signal.SIGINT, signal.SIGTERM):  # uvicorn re-raises them after its graceful shutdown
        signal.signal(signum, _raise_stop)
    upgrade(settings.database_url)
    from worker.celery_app import configure

    configure(settings)
    db = Database(settings.database_url)
    with db.session() as session:
        accounts = seed(session, settings, data_dir / "demo-accounts.json")
    worker = start_worker(settings, concurrency)
    try:
        with db.session() as session:
            examples = submit_examples(session, settings)
        server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host=host, port=port, log_level="warning"))
        text = banner(settings.public_url, data_dir, accounts, examples, time.monotonic() - started)
        threading.Thread(target=_announce_when_up, args=(server, text), name="announce", daemon=True).start()
        server.run()
    except _Stop as stop:
        log.info("%s: shutting down", stop)
    finally:
        stop_worker(worker)
        db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader_api.embedded", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"where everything is kept (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--concurrency", type=int, default=2, help="grading processes of the worker")
    args = parser.parse_args(argv)
    base = get_settings()
    configure_logging(base.log_level, base.log_format)
    data_dir = args.data_dir.resolve()
    serve(embedded_settings(base, data_dir, args.host, args.port), data_dir, args.host, args.port, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
