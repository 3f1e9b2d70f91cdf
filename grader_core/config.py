"""The one configuration object. Every setting can come from an environment variable ``DGM_<NAME>``;
each field's description is what the README's settings table says (``dgm-grader settings`` prints it)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_CACHE = Path.home() / ".cache" / "dgm-grader"  # the defaults: one user's development machine
DEV_SECRET_KEY = "dev-only-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DGM_", env_file=None, extra="ignore")

    # Sandbox
    sandbox_backend: Literal["auto", "docker", "bwrap", "none"] = Field(
        default="auto",
        description="where student code runs: `auto` (Docker if a daemon answers, else bubblewrap), `docker`, `bwrap`, "
                    "or `none` (no isolation: refused unless the command line's --unsafe-no-sandbox)")
    sandbox_image: str = Field(default="dgm-grader-sandbox:bookworm", description="the Docker image of the sandbox containers")
    sandbox_python: Literal["host", "image"] = Field(
        default="host",
        description="`host` bind-mounts this interpreter, its virtualenv and the runner read-only into the sandbox "
                    "(development, CI); `image` uses the Python and runner inside the sandbox image (production, "
                    "where the image is the project's own)")
    sandbox_image_python: str = Field(
        default="/opt/venv/bin/python",
        description="the interpreter inside the sandbox image when `DGM_SANDBOX_PYTHON` is `image`")
    max_restarts_per_stage: int = Field(
        default=2,
        description="fresh sandboxes a stage may get after a crash mid-run (the probe in flight is charged, the rest "
                    "run again in what is left of the stage's time budget)")

    # Intake
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="the largest upload the service accepts, in bytes (a suite may set a lower limit)")

    # Paths
    work_dir: Path = Field(default_factory=lambda: _CACHE / "work",
                           description="scratch space for grading: the staged copy of each submission")
    shared_data_dir: Path = Field(
        default_factory=lambda: PROJECT_ROOT.parent / "shared" / "data",
        description="the Hoda and MNIST files (not ours to redistribute: never in the repository or an image); "
                    "without Hoda, the offline generator's Persian digits stand in")
    cache_dir: Path = Field(default_factory=lambda: _CACHE,
                            description="decoded datasets and generated digits, reused between runs")

    # Service (grader_api, worker): the embedded defaults need no server (SQLite, in-process broker)
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{_CACHE / 'grader.db'}",
        description="SQLAlchemy URL of the database, e.g. `postgresql+psycopg://user:pw@host/db`")
    broker_url: str = Field(default="memory://", description="Celery broker URL, e.g. `redis://host:6379/0`")
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="signs session cookies; the API refuses to start with the default (the embedded mode makes "
                    "its own)")
    upload_dir: Path = Field(default_factory=lambda: _CACHE / "uploads",
                             description="where uploads are kept (the API writes, workers read: share it)")
    artifact_dir: Path = Field(
        default_factory=lambda: _CACHE / "artifacts",
        description="where workers keep the pictures checks make (sample grids); the API serves them: share it")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the service's address as users reach it; `dgm-grader submit` uses it when given no --url")
    session_max_age_s: int = Field(default=8 * 3600, description="how long a sign-in lasts, in seconds")
    secure_cookies: bool = Field(default=False, description="send the session cookie over HTTPS only (set behind TLS)")
    api_token_max_age_days: int = Field(
        default=90, description="an API token stops working this many days after it was made")
    login_failure_window_s: int = Field(
        default=15 * 60, description="failed sign-ins are counted over this many seconds for the two limits below")
    login_max_failures_per_account: int = Field(
        default=10, description="failed sign-ins to one email within the window before it is refused for a while")
    login_max_failures_per_ip: int = Field(
        default=50, description="failed sign-ins from one address within the window before it is refused for a while")
    max_queued_runs_per_student: int = Field(
        default=3, description="a student's submissions waiting to be graded at once; more are refused with 429")
    max_grading_attempts: int = Field(
        default=3,
        description="attempts at one grading run or dry run that may die (worker killed, out of memory) before it is "
                    "failed")
    broker_visibility_timeout_s: int = Field(
        default=12 * 3600,
        description="Redis redelivers an unacknowledged run after this long; a suite that may run longer is refused")
    reconcile_interval_s: float = Field(
        default=30.0,
        description="seconds between reconciler passes (runs the broker lost are published again); 0 turns the "
                    "API's reconciler thread off")
    api_runs_reconciler: bool = Field(
        default=True,
        description="run the reconciler in a thread of the API process; set false when `dgm-grader reconcile` runs "
                    "as a service of its own")
    worker_gpus: str = Field(
        default="", description="comma-separated GPU ids a GPU worker owns, one grading at a time on each")

    log_format: Literal["text", "json"] = Field(
        default="text", description="`json`: one JSON object per log line (production)")
    log_level: str = Field(default="INFO", description="the log level of every process")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as the ``DGM_*`` variables a child process (a worker, a reconciler) reads them from."""
    return {f"DGM_{name.upper()}": str(value) for name, value in settings.model_dump().items() if value is not None}


def _portable(default: object) -> str:
    """A default as the README shows it, the same on every machine: paths under the checkout, the
    home folder or beside the checkout written relative to them."""
    if isinstance(default, Path):
        for base, shown in ((PROJECT_ROOT, "<repo>"), (Path.home(), "~"), (PROJECT_ROOT.parent, "<repo>/..")):
            if default.is_relative_to(base):
                return f"{shown}/{default.relative_to(base).as_posix()}"
    return str(default).replace(str(Path.home()), "~")


def settings_table() -> str:
    """The settings as a Markdown table (the README's), from the fields and their descriptions."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = f"`{_portable(default)}`" if default != "" else "(empty)"
        rows.append(f"| `DGM_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"
