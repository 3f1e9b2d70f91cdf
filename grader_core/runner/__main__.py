"""Entry point inside the sandbox: ``python -m dgm_runner /plan/plan.json /submission``."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .context import ProbeTimeout, RunnerContext, SubmissionError
from .ops import get_operation
from .protocol import (
    EVENT_FINISHED,
    EVENT_READY,
    EVENT_STARTED,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_TIMEOUT,
    Frame,
    write_frame,
)


def _on_alarm(signum: int, frame: Any) -> None:
    raise ProbeTimeout()


def _take_protocol_stream() -> BinaryIO:
    """Keep the real stdout for frames and send everything the student prints to stderr."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb", buffering=0)


def run_probe(ctx: RunnerContext, probe: dict[str, Any], plan_dir: Path, stream: BinaryIO) -> None:
    probe_id = probe["id"]
    write_frame(stream, Frame(event=EVENT_STARTED, probe=probe_id))
    started = time.monotonic()
    ctx.probe_timeout_s = float(probe.get("timeout_s", 60))
    signal.setitimer(signal.ITIMER_REAL, ctx.probe_timeout_s)
    try:
        arrays: dict[str, np.ndarray] = {}
        if probe.get("inputs"):
            with np.load(plan_dir / probe["inputs"], allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        output = get_operation(probe["op"])(ctx, probe.get("args", {}), arrays)
        signal.setitimer(signal.ITIMER_REAL, 0)
        frame = Frame(EVENT_FINISHED, probe_id, STATUS_OK, output.value, output.arrays)
    except ProbeTimeout as exc:
        message = str(exc) or (f"{_what(probe)} took longer than {ctx.probe_timeout_s:g} s; "
                               f"the grader allows {ctx.time_allowance()}")
        frame = Frame(EVENT_FINISHED, probe_id, STATUS_TIMEOUT, message=message)
    except SubmissionError as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        frame = Frame(EVENT_FINISHED, probe_id, STATUS_ERROR, message=str(exc))
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        signal.setitimer(signal.ITIMER_REAL, 0)
        traceback.print_exc()
        frame = Frame(EVENT_FINISHED, probe_id, STATUS_ERROR, message=f"{type(exc).__name__}: {_brief(exc)}")
    frame.duration_s = time.monotonic() - started
    try:
        write_frame(stream, frame)
    except (TypeError, ValueError) as exc:
        write_frame(stream, Frame(EVENT_FINISHED, probe_id, STATUS_ERROR, message=f"output not serializable: {exc}"))


def _what(probe: dict[str, Any]) -> str:
    """The submission's call a probe made, as the student wrote it (``sample(500)``)."""
    args = probe.get("args", {})
    if probe["op"] == "model.sample":
        return f"sample({args.get('n')})"
    if probe["op"] == "model.conditionals":
        return "conditionals()"
    if probe["op"] == "call":
        return f"{args.get('function')}()"
    return "this step"


def _brief(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else ""


def main(plan_path: str, submission_dir: str) -> int:
    stream = _take_protocol_stream()
    plan_file = Path(plan_path)
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    signal.signal(signal.SIGALRM, _on_alarm)
    ctx = RunnerContext(Path(submission_dir), plan.get("answers_file"), plan.get("entry_module"), float(plan.get("cpus", 1.0)))
    write_frame(stream, Frame(event=EVENT_READY))
    for probe in plan["probes"]:
        run_probe(ctx, probe, plan_file.parent, stream)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
