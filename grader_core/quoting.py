"""Quoting what a user sent in an error message: enough to recognize it, never all of it (a message
that echoes its input whole is as large as the largest input anyone sends)."""

from __future__ import annotations

import reprlib

MAX_QUOTED_CHARS = 200

# Bounded at every level, so a huge list or mapping is never rendered whole on the way to being cut.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlong = 3, 40
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 8
_REPR.maxstring = _REPR.maxother = MAX_QUOTED_CHARS


def shortened(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` itself when it is at most ``limit`` characters, else its start and an ellipsis."""
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


def quoted(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr(value)``, at most ``limit`` characters of it."""
    try:
        return shortened(_REPR.repr(value), limit)
    except ValueError:  # an integer past Python's limit on converting to decimal (4300 digits)
        return "<a number too long to show>"
