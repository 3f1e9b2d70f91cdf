"""The audit log of staff actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditLog, User


def record(session: Session, actor: User | None, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    session.add(AuditLog(actor_id=actor.id if actor else None, action=action, target=target, details=details or {}))
