"""Run one stage's probes in one sandbox run, resuming after a crash so one bad probe costs only itself.

The normal path is a single sandbox run per submission and stage. When the run dies in the middle
(a timeout, ``os._exit``, the memory limit), the probe that was in flight is charged with the failure
and the probes not yet run are run again in a fresh sandbox, at most ``max_restarts_per_stage`` times.
A run that dies before the runner is ready (a broken import, say) fails every probe with that reason.

The stage's ``wall_seconds`` is one budget for all of its sandbox runs together: a resumption gets only
what the runs before it left, and none once it is spent, so a submission holds a worker for at most
its stages' budgets however it fails (``grader_api.services.suites.routing`` relies on this).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks.base import Probe, ProbeOutcome, ProbeStatus
from .config import Settings
from .runner.protocol import EVENT_FINISHED, EVENT_READY, EVENT_STARTED, decode_frames
from .sandbox import ResourceLimits, Sandbox, SandboxResult, SandboxSpec
from .sandbox.runtime import runner_command

log = logging.getLogger(__name__)

# Less than this left of a stage's budget is not worth a fresh sandbox: it would be stopped while the
# runner is still starting.
MIN_RUN_S = 1.0


@dataclass
class PlannedProbe:
    id: str
    probe: Probe


@dataclass
class StageOutcome:
    outcomes: dict[str, ProbeOutcome]
    runs: list[SandboxResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "\n".join(run.log for run in self.runs if run.log)


@dataclass
class StagePlan:
    name: str
    probes: list[PlannedProbe]
    limits: ResourceLimits
    probe_timeout_s: float
    answers_file: str | None
    entry_module: str | None


def execute_stage(plan: StagePlan, submission: Path, sandbox: Sandbox, settings: Settings, run_id: str) -> StageOutcome:
    result = StageOutcome(outcomes={})
    remaining = list(plan.probes)
    budget_s = plan.limits.wall_seconds
    deadline = time.monotonic() + budget_s
    for attempt in range(settings.max_restarts_per_stage + 1):
        if not remaining:
            break
        left_s = deadline - time.monotonic()
        if left_s < MIN_RUN_S:
            spent = f"the stage's time budget of {budget_s:g} s was spent"
            result.problems.append(f"{spent}; {len(remaining)} probe(s) not run")
            _fail(result, remaining, "not_run", f"not run: {spent}")
            return result
        limits = plan.limits.model_copy(update={"wall_seconds": left_s})
        run = _run_once(plan, limits, remaining, submission, sandbox, settings, f"{run_id}-{plan.name}-{attempt}")
        result.runs.append(run)
        frames, garbled = decode_frames(run.output)
        if garbled:
            result.problems.append(f"{garbled} unreadable line(s) on the output stream were ignored")
        ready = any(frame.event == EVENT_READY for frame in frames)
        wanted = {planned.id for planned in remaining}
        started: list[str] = []
        for frame in frames:
            if frame.probe not in wanted or frame.probe in result.outcomes:
                continue
            if frame.event == EVENT_STARTED:
                started.append(frame.probe)
            elif frame.event == EVENT_FINISHED:
                status = frame.status if frame.status in ("ok", "error", "timeout") else "error"
                result.outcomes[frame.probe] = ProbeOutcome(
                    status=status,  # type: ignore[arg-type]
                    value=frame.value,
                    arrays=frame.arrays,
                    message=frame.message,
                    duration_s=frame.duration_s,
                )
        problem = run.problem or ("the program exited before finishing" if len(result.outcomes) < len(plan.probes) else None)
        if not ready:
            reason = f"the submission could not be started: {problem or 'no output'}"
            result.problems.append(reason)
            _fail(result, remaining, "crashed", reason)
            return result
        for probe_id in started:
            if probe_id not in result.outcomes:
                result.problems.append(f"{probe_id}: {problem}")
                cut_short: ProbeStatus = "timeout" if run.timed_out else "crashed"
                result.outcomes[probe_id] = ProbeOutcome(status=cut_short, message=f"{problem} while computing this")
        remaining = [planned for planned in remaining if planned.id not in result.outcomes]
    _fail(result, remaining, "not_run", "not run: the sandbox failed repeatedly before reaching it")
    return result


def _fail(result: StageOutcome, probes: list[PlannedProbe], status: str, message: str) -> None:
    for planned in probes:
        result.outcomes.setdefault(planned.id, ProbeOutcome(status=status, message=message))  # type: ignore[arg-type]


def _run_once(
    plan: StagePlan,
    limits: ResourceLimits,
    probes: list[PlannedProbe],
    submission: Path,
    sandbox: Sandbox,
    settings: Settings,
    run_id: str,
) -> SandboxResult:
    with tempfile.TemporaryDirectory(prefix="dgm-plan-") as scratch:
        plan_dir = Path(scratch)
        plan_dir.chmod(0o755)
        entries = []
        for index, planned in enumerate(probes):
            entry: dict[str, object] = {
                "id": planned.id,
                "op": planned.probe.op,
                "args": planned.probe.args,
                "timeout_s": planned.probe.timeout_s or plan.probe_timeout_s,
            }
            if planned.probe.arrays:
                entry["inputs"] = f"inputs-{index}.npz"
                np.savez(plan_dir / f"inputs-{index}.npz", allow_pickle=False, **planned.probe.arrays)
            entries.append(entry)
        document = {
            "answers_file": plan.answers_file,
            "entry_module": plan.entry_module,
            "cpus": limits.cpus,  # so the runner can tell a student what a time limit allowed
            "probes": entries,
        }
        (plan_dir / "plan.json").write_text(json.dumps(document), encoding="utf-8")
        for path in plan_dir.iterdir():
            path.chmod(0o644)
        argv, mounts, env = runner_command(settings, submission, plan_dir)
        spec = SandboxSpec(argv=argv, env=env, mounts=mounts, limits=limits, run_id=run_id)
        log.info("sandbox run %s: %d probes on %s, %.0f s left of the stage's budget", run_id, len(probes), sandbox.name,
                 limits.wall_seconds)
        return sandbox.run(spec)
