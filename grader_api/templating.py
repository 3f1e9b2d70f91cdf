"""Jinja2 templates (autoescaped: every student-controlled string is escaped)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from .deps import csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


def _csrf(request: Request) -> dict[str, str]:
    return {"csrf_token": csrf_token(request)}


templates.context_processors.append(_csrf)


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


templates.env.filters["score"] = score
templates.env.filters["when"] = lambda value: "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")
