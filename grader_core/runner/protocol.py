"""The wire format between the runner (untrusted) and the grader (trusted).

The runner writes one JSON object per line on its protocol stream. Arrays travel as a base64
``.npz`` archive written and read with ``allow_pickle=False``: nothing crosses the boundary as a
pickle. The trusted side treats every frame as hostile input (see ``decode_frames``).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

PLAN_FILE = "plan.json"

EVENT_STARTED = "started"
EVENT_FINISHED = "finished"
EVENT_READY = "ready"

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_TIMEOUT = "timeout"


@dataclass
class Frame:
    event: str
    probe: str | None = None
    status: str | None = None
    value: Any = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    message: str = ""
    duration_s: float = 0.0


def encode_arrays(arrays: dict[str, np.ndarray]) -> str:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_arrays(payload: str) -> dict[str, np.ndarray]:
    raw = base64.b64decode(payload.encode("ascii"), validate=True)
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_frame(stream: BinaryIO, frame: Frame) -> None:
    document = {
        "event": frame.event,
        "probe": frame.probe,
        "status": frame.status,
        "value": frame.value,
        "message": frame.message,
        "duration_s": frame.duration_s,
    }
    if frame.arrays:
        document["arrays"] = encode_arrays(frame.arrays)
    stream.write(json.dumps(document, allow_nan=True).encode("utf-8") + b"\n")
    stream.flush()


def decode_frames(data: bytes) -> tuple[list[Frame], int]:
    """Parse the protocol stream; returns the frames and the number of unreadable lines.

    Student code shares the runner's process and could write to the stream too, so a line that is
    not a well-formed frame is counted and skipped rather than trusted or allowed to crash us.
    """
    frames: list[Frame] = []
    garbled = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            if not isinstance(document, dict) or not isinstance(document.get("event"), str):
                raise ValueError("not a frame")
            arrays = document.get("arrays")
            frames.append(
                Frame(
                    event=document["event"],
                    probe=_optional_str(document.get("probe")),
                    status=_optional_str(document.get("status")),
                    value=document.get("value"),
                    arrays=decode_arrays(arrays) if isinstance(arrays, str) else {},
                    message=str(document.get("message") or "")[:4000],
                    duration_s=float(document.get("duration_s") or 0.0),
                )
            )
        except (ValueError, TypeError, OSError, KeyError):
            garbled += 1
    return frames, garbled


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
