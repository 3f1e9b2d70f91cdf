"""A small client of the JSON API, for ``dgm-grader submit`` and ``dgm-grader login``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from grader_core.intake import zip_folder

from .schemas import SubmissionOut, TokenOut, TokenRequest

FINISHED = ("graded", "failed")
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """The service refused a request or could not be reached; the message says what to do."""


def token_file() -> Path:
    """Where ``dgm-grader login --save`` keeps the token (readable by its owner only)."""
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "dgm-grader" / "token"


def save_token(token: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.chmod(0o600)  # touch keeps the mode of a file that already exists
    path.write_text(token + "\n")


def saved_token(path: Path) -> str | None:
    return (path.read_text().strip() or None) if path.is_file() else None


def upload_payload(path: Path) -> tuple[str, bytes]:
    """(file name, content): a folder is sent zipped, a single file as it is."""
    if path.is_dir():
        return f"{path.resolve().name}.zip", zip_folder(path)
    if path.is_file():
        return path.name, path.read_bytes()
    raise ApiError(f"{path}: no such file or folder")


class GraderClient:
    def __init__(self, url: str, token: str | None = None, timeout_s: float = 60.0):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def __enter__(self) -> GraderClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def create_token(self, email: str, password: str, name: str = "command line") -> str:
        body = TokenRequest(email=email, password=password, name=name).model_dump()
        return self._call("POST", "/api/v1/tokens", TokenOut, json=body).token

    def submit(self, assignment: str, path: Path) -> SubmissionOut:
        name, content = upload_payload(path)
        return self._call("POST", f"/api/v1/assignments/{assignment}/submissions", SubmissionOut,
                          files={"file": (name, content)})

    def submission(self, submission_id: int) -> SubmissionOut:
        return self._call("GET", f"/api/v1/submissions/{submission_id}", SubmissionOut)

    def wait(self, submission_id: int, timeout_s: float, poll_s: float = 1.0) -> SubmissionOut:
        """Poll until the submission is graded or failed; ``ApiError`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            current = self.submission(submission_id)
            if current.status in FINISHED:
                return current
            if time.monotonic() > deadline:
                raise ApiError(f"submission {submission_id} is still {current.status} after {timeout_s:g} s; "
                               f"see {self.url}/submissions/{submission_id}")
            time.sleep(poll_s)

    def _call(self, method: str, path: str, model: type[M], **kwargs: object) -> M:
        try:
            response = self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}") from None
        if response.status_code == 401:
            raise ApiError(f"{self.url} refused the credentials ({_detail(response)}); "
                           "get a token with `dgm-grader login` or from the API tokens page")
        if response.is_error:
            raise ApiError(f"{self.url} refused the request: {response.status_code} {_detail(response)}")
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise ApiError(f"{self.url}{path} did not answer like a dgm-grader service (HTTP {response.status_code})") from None


def _detail(response: httpx.Response) -> str:
    """The service's own message (``{"detail": ...}``), else the HTTP reason (a proxy's error page)."""
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase
