"""The one configuration object. Every setting can come from an environment variable ``DGM_<NAME>``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DGM_", env_file=None, extra="ignore")

    # Sandbox
    sandbox_backend: Literal["auto", "docker", "bwrap", "none"] = "auto"
    sandbox_image: str = "dgm-grader-sandbox:bookworm"
    # Where the sandbox finds Python: "host" bind-mounts this interpreter and virtualenv read-only
    # (development, CI); "image" uses the image's own (the production GPU image has them inside).
    sandbox_python: Literal["host", "image"] = "host"
    sandbox_image_python: str = "/opt/venv/bin/python"
    max_restarts_per_stage: int = 2

    # Intake
    max_upload_files: int = 200
    max_upload_bytes: int = 64 * 1024 * 1024

    # Paths
    work_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "dgm-grader" / "work")
    shared_data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"

    # Service (grader_api, worker): the embedded defaults need no server (SQLite, in-process broker)
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.home() / '.cache' / 'dgm-grader' / 'grader.db'}")
    broker_url: str = "memory://"
    secret_key: str = "dev-only-change-me"
    upload_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "dgm-grader" / "uploads")
    artifact_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "dgm-grader" / "artifacts")
    public_url: str = "http://127.0.0.1:8000"
    session_max_age_s: int = 8 * 3600
    secure_cookies: bool = False
    max_queued_runs_per_student: int = 3
    max_grading_attempts: int = 3
    broker_visibility_timeout_s: int = 12 * 3600
    reconcile_interval_s: float = 30.0
    worker_gpus: str = ""  # comma-separated GPU ids a GPU worker owns, one job per GPU

    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()
