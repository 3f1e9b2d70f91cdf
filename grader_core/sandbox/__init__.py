"""Run untrusted code with limits. Backends share one interface (``Sandbox``) and one spec."""

from .base import Mount, ResourceLimits, Sandbox, SandboxResult, SandboxSpec, SandboxUnavailable
from .select import select_sandbox

__all__ = [
    "Mount",
    "ResourceLimits",
    "Sandbox",
    "SandboxResult",
    "SandboxSpec",
    "SandboxUnavailable",
    "select_sandbox",
]
