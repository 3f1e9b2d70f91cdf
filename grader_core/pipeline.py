"""Grade one submission: plan probes (trusted) → run each stage in a sandbox → validate → score.

Data flows one way. Checks plan with a per-run secret seed, the sandbox computes, and the checks
score what came back on this side of the boundary, where the expected answers live.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import secrets
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from .calibration import load_calibration
from .checks import get_check
from .checks.base import FINDINGS, Check, CheckResult, OutputProblem, PlanContext, Probe, ScoreContext
from .config import Settings
from .execution import PlannedProbe, StageOutcome, StagePlan, execute_stage
from .intake import stage_submission, submission_sha256
from .results import Environment, GradingResult, ImageArtifact, Metric, StageRun, TestResult
from .sandbox import ResourceLimits, Sandbox, SandboxUnavailable
from .suite import LoadedSuite, Suite, TestSpec

log = logging.getLogger(__name__)

_KEPT_LOG_CHARS = 64 * 1024


@dataclass
class _PlannedTest:
    test: TestSpec
    check: Check
    params: object
    probes: list[Probe]
    runner_ids: dict[str, str] = field(default_factory=dict)  # probe name -> id of the probe that runs


def test_rng(secret_seed: int, test_id: str) -> np.random.Generator:
    salt = int.from_bytes(hashlib.sha256(test_id.encode()).digest()[:8], "little")
    return np.random.default_rng([secret_seed, salt])


def grade_upload(
    loaded: LoadedSuite,
    upload: Path,
    sandbox: Sandbox,
    settings: Settings,
    secret_seed: int | None = None,
    gpu_ids: tuple[str, ...] = (),
) -> GradingResult:
    """The whole pipeline from an upload; raises ``IntakeError`` for an upload that is rejected."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dgm-submission-", dir=settings.work_dir) as scratch:
        submission = stage_submission(upload, loaded.suite.submission, Path(scratch) / "submission")
        return grade(loaded, submission, sandbox, settings, secret_seed, gpu_ids)


def grade(
    loaded: LoadedSuite,
    submission: Path,
    sandbox: Sandbox,
    settings: Settings,
    secret_seed: int | None = None,
    gpu_ids: tuple[str, ...] = (),
) -> GradingResult:
    suite = loaded.suite
    if gpu_ids and not sandbox.hands_over_gpus and any(stage.gpu for stage in suite.stages.values()):
        raise SandboxUnavailable(f"the {sandbox.name} sandbox cannot hand a GPU to student code; "
                                 "GPU workers need the docker backend (DGM_SANDBOX_BACKEND=docker)")
    started_at = datetime.now(timezone.utc)
    secret_seed = secrets.randbits(63) if secret_seed is None else secret_seed
    run_id = uuid.uuid4().hex[:12]
    submission.chmod(0o755)

    planned = [_plan_test(test, loaded, secret_seed) for test in suite.tests]
    stage_outcomes: dict[str, StageOutcome] = {}
    stage_runs: list[StageRun] = []
    for stage_name, resources in suite.stages.items():
        probes = _deduplicate([item for item in planned if item.test.stage == stage_name])
        if not probes:
            continue
        limits = ResourceLimits(
            wall_seconds=resources.wall_seconds,
            cpu_seconds=resources.cpu_seconds,
            memory_mb=resources.memory_mb,
            cpus=resources.cpus,
            pids=resources.pids,
            max_output_bytes=resources.max_output_mb * 1024 * 1024,
            gpu_ids=gpu_ids if resources.gpu else (),
        )
        stage_plan = StagePlan(
            stage_name,
            probes,
            limits,
            resources.probe_timeout_seconds,
            suite.submission.answers_file,
            suite.submission.entry_module,
        )
        outcome = execute_stage(stage_plan, submission, sandbox, settings, run_id)
        stage_outcomes[stage_name] = outcome
        stage_runs.append(
            StageRun(
                stage=stage_name,
                backend=sandbox.name,
                attempts=len(outcome.runs),
                duration_s=sum(run.duration_s for run in outcome.runs),
                problems=outcome.problems,
            )
        )

    calibration = load_calibration(loaded)
    calibrated = calibration.values if calibration is not None else {}
    tests = _withhold([_score_test(item, loaded, stage_outcomes.get(item.test.stage), calibrated) for item in planned], suite)
    automatic = [test for test in tests if test.status != "pending"]
    logs = "\n".join(f"== stage {name} ==\n{outcome.log}" for name, outcome in stage_outcomes.items() if outcome.log)
    return GradingResult(
        score=sum(test.score for test in automatic),
        max_score=sum(test.max_score for test in tests),
        automatic_max_score=sum(test.max_score for test in automatic),
        pending_manual_points=sum(test.max_score for test in tests if test.status == "pending"),
        tests=tests,
        stages=stage_runs,
        logs=logs[:_KEPT_LOG_CHARS],
        environment=_environment(loaded, submission, secret_seed, sandbox, gpu_ids),
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
    )


def _withhold(tests: list[TestResult], suite: Suite) -> list[TestResult]:
    """A test earns nothing when another test reports a finding its ``withheld_when`` names (a
    likelihood of conditionals that are not a distribution measures nothing), and says why."""
    by_id = {test.id: test for test in tests}
    kept = []
    for spec, test in zip(suite.tests, tests):
        found = [(other, finding) for other, finding in spec.withheld_when.items() if finding in by_id[other].findings]
        if found and test.score > 0:
            reasons = "; ".join(f"{other} found that {FINDINGS[finding]}" for other, finding in found)
            test = test.model_copy(update={"score": 0.0, "status": "failed",
                                           "feedback": f"no credit: {reasons}. (The measurement: {test.feedback})"})
        kept.append(test)
    return kept


def _plan_test(test: TestSpec, loaded: LoadedSuite, secret_seed: int) -> _PlannedTest:
    check = get_check(test.check)
    params = check.Params.model_validate(test.params)
    resources = loaded.suite.stages[test.stage]
    context = PlanContext(test, loaded.suite, test_rng(secret_seed, test.id), resources.probe_timeout_seconds, loaded.path.parent)
    return _PlannedTest(test, check, params, check.plan(params, context))


def _deduplicate(items: list[_PlannedTest]) -> list[PlannedProbe]:
    """One runner probe per distinct computation: checks that ask for the same samples share them."""
    unique: dict[str, PlannedProbe] = {}
    for item in items:
        for probe in item.probes:
            key = _fingerprint(probe)
            if key not in unique:
                unique[key] = PlannedProbe(f"{item.test.id}/{probe.name}", probe)
            item.runner_ids[probe.name] = unique[key].id
    return list(unique.values())


def _fingerprint(probe: Probe) -> str:
    digest = hashlib.sha256(json.dumps([probe.op, probe.args, probe.timeout_s], sort_keys=True).encode())
    for name in sorted(probe.arrays):
        array = np.ascontiguousarray(probe.arrays[name])
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _score_test(
    item: _PlannedTest, loaded: LoadedSuite, stage: StageOutcome | None, calibration: dict[str, dict[str, float]]
) -> TestResult:
    test = item.test
    base = {"id": test.id, "title": test.title, "check": test.check, "stage": test.stage,
            "max_score": test.points, "visibility": test.visibility}
    if item.check.manual:
        return TestResult(**base, score=0.0, status="pending", feedback="graded by hand: pending")
    outcomes = {}
    for probe in item.probes:
        outcome = stage.outcomes.get(item.runner_ids[probe.name]) if stage is not None else None
        if outcome is not None:
            outcomes[probe.name] = replace(outcome, inputs=probe.arrays)
    duration = sum(outcome.duration_s for outcome in outcomes.values())
    try:
        result: CheckResult = item.check.score(item.params, ScoreContext(test, loaded.suite, calibration, loaded.path.parent), outcomes)
    except OutputProblem as problem:
        return TestResult(**base, score=0.0, status="error", feedback=str(problem), duration_s=duration)
    except Exception:  # noqa: BLE001 - a bug in a check must not lose the other tests
        log.exception("check %s failed while scoring test %s", test.check, test.id)
        return TestResult(**base, score=0.0, status="error", feedback="internal error in the grader; staff have been notified", duration_s=duration)
    credit = test.partial_credit.credit(result.fraction, result.value)
    status = "passed" if credit >= 1.0 - 1e-12 else "failed" if credit <= 1e-12 else "partial"
    return TestResult(
        **base,
        score=round(test.points * credit, 6),
        status=status,
        feedback=result.feedback,
        duration_s=duration,
        metrics=[Metric(**vars(metric)) for metric in result.metrics],
        measured=result.value,
        calibration_key=result.calibration_key,
        findings=list(result.findings),
        also_measured=result.also_measured,
        images=[ImageArtifact(name=name, png=png) for name, png in result.images.items()],
    )


def _environment(loaded: LoadedSuite, submission: Path, secret_seed: int, sandbox: Sandbox, gpu_ids: tuple[str, ...]) -> Environment:
    return Environment(
        suite_id=loaded.suite.id,
        suite_version=loaded.suite.version,
        suite_sha256=loaded.sha256,
        bundle_sha256=loaded.bundle_sha256,
        submission_sha256=submission_sha256(submission),
        secret_seed=secret_seed,
        sandbox_backend=sandbox.name,
        python=platform.python_version(),
        torch=_version("torch"),
        numpy=np.__version__,
        device=f"cuda:{','.join(gpu_ids)}" if gpu_ids else "cpu",
        grader_version=_version("dgm-grader") or "unknown",
    )


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
