"""Request bodies are cut off while they stream in, before any of it is parsed or spooled.

Every request gets the service-wide cap; an upload route lowers it to the assignment's own limit with
``limit_upload`` before it reads the body. A declared length over the cap is refused at its first
chunk, a chunked body as soon as it passes the cap: 413, through the app's error handlers.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATE_KEY = "body_limit"
# What a multipart body carries besides the file: boundaries, part headers, the CSRF field.
MULTIPART_SLACK = 64 * 1024


class RequestTooLarge(HTTPException):
    """An HTTPException, so that it passes through FastAPI's body parsing (which turns any other
    error into a 400) to the app's error handlers."""

    def __init__(self, message: str):
        super().__init__(413, message)


class _BodyLimit:
    """How many bytes one request may send, and how many it has."""

    def __init__(self, max_bytes: int, declared: int | None):
        self.max_bytes = max_bytes
        self.message = f"the request is larger than {_size(max_bytes)}"
        self.declared = declared
        self.received = 0

    def lower_to(self, max_bytes: int, message: str) -> None:
        if max_bytes < self.max_bytes:
            self.max_bytes, self.message = max_bytes, message
        self.check()

    def take(self, count: int) -> None:
        self.received += count
        self.check()

    def check(self) -> None:
        if max(self.declared or 0, self.received) > self.max_bytes:
            raise RequestTooLarge(self.message)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        limit = _BodyLimit(self.max_bytes, int(declared) if declared.isdigit() else None)
        scope.setdefault("state", {})[_STATE_KEY] = limit

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                limit.take(len(message.get("body", b"")))
            return message

        await self.app(scope, counting_receive, send)


def limit_upload(request: Request, max_upload_bytes: int) -> None:
    """Cap this multipart request at an upload of ``max_upload_bytes``; raises 413 at once if it has
    declared (or already sent) more, and as soon as the rest of the body passes the cap."""
    limit: _BodyLimit | None = request.scope.get("state", {}).get(_STATE_KEY)
    if limit is None:
        raise RuntimeError("limit_upload needs the BodySizeLimit middleware")
    limit.lower_to(max_upload_bytes + MULTIPART_SLACK, f"the upload is larger than this assignment's limit of "
                                                       f"{_size(max_upload_bytes)}")


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB"
