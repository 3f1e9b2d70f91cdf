"""The FastAPI application: ``create_app(settings)``; ``uvicorn grader_api.main:app`` in production."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from grader_core.config import DEV_SECRET_KEY, Settings, get_settings
from grader_core.logging_setup import configure_logging
from grader_core.quoting import shortened

from .db import Database
from .deps import LoginRequired
from .limits import BodySizeLimit
from .routers import api, pages_auth, pages_instructor, pages_staff, pages_student
from .schemas import ErrorOut, FieldErrorOut
from .security import SecurityHeaders
from .services.submissions import SubmissionRefused
from .templating import templates

HERE = Path(__file__).resolve().parent
_MULTIPART_OVERHEAD = 1024 * 1024


def create_app(settings: Settings | None = None, db: Database | None = None, reconcile: bool = True) -> FastAPI:
    settings = settings or get_settings()
    if settings.secret_key == DEV_SECRET_KEY:
        raise RuntimeError("refusing to start with the development secret key: set DGM_SECRET_KEY to a long random "
                           "value (python -c 'import secrets; print(secrets.token_urlsafe(48))'), or run the "
                           "embedded demo (make run), which makes its own")
    db = db or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from worker.celery_app import configure
        from worker.reconciler import reconciler_thread
        from worker.runtime import configure as configure_runtime

        celery_app = configure(settings)
        reconciler = None
        if reconcile and settings.api_runs_reconciler and settings.reconcile_interval_s > 0:
            reconciler = reconciler_thread(configure_runtime(settings, db), celery_app)
            reconciler.start()
        yield
        if reconciler is not None:
            reconciler.stop()

    app = FastAPI(title="dgm-grader", version="1", lifespan=lifespan,
                  description="The Deep Generative Models autograder: submissions, results, gradebook, suites.")
    app.state.settings = settings
    app.state.db = db
    # The cookie (signed, HttpOnly, SameSite=Lax) carries only a session id, or before signing in the
    # login form's CSRF token; the session itself is a database row (services/auth.py).
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="dgm_session",
                       max_age=settings.session_max_age_s, same_site="lax", https_only=settings.secure_cookies)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + _MULTIPART_OVERHEAD)
    app.add_middleware(SecurityHeaders, exempt_paths=tuple(path for path in (app.docs_url, app.redoc_url) if path))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (api, pages_auth, pages_student, pages_staff, pages_instructor):
        app.include_router(module.router)
    _error_handlers(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_handlers(app: FastAPI) -> None:
    """Every error reply has one shape: ``ErrorOut`` from the JSON API (what its OpenAPI schema
    declares for every 4xx), the error page from the pages."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(SubmissionRefused)
    async def refused(request: Request, exc: SubmissionRefused) -> Response:
        return _error(request, exc.status_code, ErrorOut(detail=str(exc)))

    @app.exception_handler(StarletteHTTPException)  # Starlette's own too: an unknown path, a wrong method
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, ErrorOut(detail=str(exc.detail)), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _invalid_fields(exc.errors()))


_MAX_FIELD_ERRORS = 20


def _invalid_fields(errors: Sequence[Any]) -> ErrorOut:
    """Pydantic's errors, the first few of them; a location may name a key the client chose, so it is cut short."""
    fields = [FieldErrorOut(loc=[part if isinstance(part, int) else shortened(str(part), 100) for part in error["loc"]],
                            message=error["msg"]) for error in errors[:_MAX_FIELD_ERRORS]]
    if not fields:
        return ErrorOut(detail="the request is not valid")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return ErrorOut(detail=f"{' '.join(str(part) for part in fields[0].loc)}: {fields[0].message}{more}", errors=fields)


def _error(request: Request, status: int, body: ErrorOut, headers: Mapping[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": body.detail, "user": None},
                                      status_code=status, headers=headers)


def __getattr__(name: str) -> FastAPI:
    """``uvicorn grader_api.main:app`` builds the app from the environment on first use."""
    if name == "app":
        settings = get_settings()
        _log_like_every_process(settings)
        globals()["app"] = application = create_app(settings)
        return application
    raise AttributeError(name)


def _log_like_every_process(settings: Settings) -> None:
    """Our format (JSON lines with ``DGM_LOG_FORMAT=json``) for uvicorn's loggers too, which it had
    given handlers of their own before loading the app."""
    configure_logging(settings.log_level, settings.log_format)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
