"""Suites as the service sees them: validated from text, dry-run against the reference, published
as numbered versions, routed to a queue with time limits derived from their stages."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_core.config import PROJECT_ROOT, Settings
from grader_core.mutants import MutantMatrix, load_mutants, run_matrix
from grader_core.pipeline import grade_upload
from grader_core.results import GradingResult
from grader_core.sandbox import Sandbox
from grader_core.suite import LoadedSuite, SuiteError, SuiteIssue, parse_suite
from grader_core.suite.bundle import Bundle, build_bundle, open_bundle

from ..models import Assignment, SuiteVersion, User
from .audit import record

log = logging.getLogger(__name__)

SUITES_DIR = PROJECT_ROOT / "test_suites"
_OVERHEAD_S = 60.0  # intake, planning, scoring, sandbox start-up


@dataclass(frozen=True)
class Routing:
    queue: str
    soft_limit_s: float


def routing(loaded: LoadedSuite) -> Routing:
    """GPU queue when any stage needs a GPU. The soft limit is the stages' budgets plus a constant:
    a stage's ``wall_seconds`` covers all of its sandbox runs, resumptions after a crash included
    (``grader_core.execution.execute_stage``), so however often a stage restarts, a grading needs no
    more than the sum of the budgets and the overhead around them."""
    stages = loaded.suite.stages.values()
    soft = _OVERHEAD_S + sum(stage.wall_seconds for stage in stages)
    return Routing("gpu" if any(stage.gpu for stage in stages) else "cpu", soft)


def dry_run_limit_s(loaded: LoadedSuite) -> float:
    """A dry run grades the reference and then every planted bug: one grading's limit for each."""
    return routing(loaded).soft_limit_s * (1 + len(load_mutants(loaded)[1]))


def parse(text: str, filename: str = "suite.yaml") -> LoadedSuite:
    """Parse uploaded suite text as if it lived in ``test_suites/`` (relative paths resolve from there).
    Line endings are normalized, so the same suite has the same hash however it was uploaded."""
    name = Path(filename).name or "suite.yaml"
    return parse_suite(text.replace("\r\n", "\n"), SUITES_DIR / name)


def check_limits(loaded: LoadedSuite, settings: Settings) -> None:
    from worker.queueing import DEADLINE_SLACK_S, hard_limit

    # The dry run (the reference and every planted bug) is the longest job a suite makes.
    longest = hard_limit(dry_run_limit_s(loaded)) + DEADLINE_SLACK_S
    if longest >= settings.broker_visibility_timeout_s:
        raise SuiteError([SuiteIssue(loaded.path.name, 1, f"the suite's dry run may run {longest:.0f} s, longer than the broker's "
                                     f"visibility timeout ({settings.broker_visibility_timeout_s} s); raise DGM_BROKER_VISIBILITY_TIMEOUT_S")])


def require_reference(loaded: LoadedSuite) -> Path:
    if loaded.reference_solution is None:
        raise SuiteError([SuiteIssue(loaded.path.name, 1, "the suite names no reference_solution to dry-run")])
    return loaded.reference_solution


@dataclass(frozen=True)
class DryRun:
    bundle: Bundle  # what publishing the checked text stores
    result: GradingResult  # the reference solution's
    matrix: MutantMatrix | None  # the planted bugs' verdicts; None when the reference misses a point


def dry_run(loaded: LoadedSuite, settings: Settings, sandbox: Sandbox, gpu_ids: tuple[str, ...] = ()) -> DryRun:
    """Seal the suite, then grade from that bundle (on a worker) the reference solution and, once it
    earns every automatic point, each planted bug under the same secret seed. Grading from the
    bundle means what is published is exactly what was checked, whatever changes on disk later."""
    bundle = build_bundle(loaded)
    _, sealed = open_bundle(bundle.to_bytes(), settings.cache_dir)
    seed = secrets.randbits(63)
    result = grade_upload(sealed, require_reference(sealed), sandbox, settings, secret_seed=seed, gpu_ids=gpu_ids)
    if result.score < result.automatic_max_score - 1e-9:
        return DryRun(bundle, result, None)
    return DryRun(bundle, result, run_matrix(sealed, result, sandbox, settings, secret_seed=seed, gpu_ids=gpu_ids))


def publish(session: Session, assignment: Assignment, loaded: LoadedSuite, settings: Settings,
            actor: User | None, dry_run_score: float | None, bundle: Bundle | None = None) -> SuiteVersion:
    """A new version of ``assignment``; with ``bundle`` (a dry run's), it grades from that bundle."""
    number = (session.scalar(select(func.max(SuiteVersion.number)).where(SuiteVersion.assignment_id == assignment.id)) or 0) + 1
    route = routing(loaded)
    version = SuiteVersion(
        assignment_id=assignment.id,
        number=number,
        yaml_text=loaded.text,
        source_path=str(loaded.path),
        sha256=loaded.sha256,
        suite_version=loaded.suite.version,
        queue=route.queue,
        time_limit_s=route.soft_limit_s,
        dry_run_score=dry_run_score,
        bundle=bundle.to_bytes() if bundle else None,
        bundle_sha256=bundle.sha256 if bundle else None,
        published_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    assignment.current_suite_version_id = version.id
    record(session, actor, "suite.publish", f"assignment:{assignment.id}",
           {"version": number, "sha256": loaded.sha256, "bundle_sha256": bundle.sha256 if bundle else None,
            "dry_run_score": dry_run_score})
    log.info("published %s v%s (%s) for assignment %s", loaded.suite.id, number, loaded.sha256[:12], assignment.id)
    return version


def published_bundle(session: Session, slug: str, number: int | None) -> Bundle:
    """The sealed bundle of version ``number`` of an assignment's suite (its current one when None),
    for ``dgm-grader suite export``; ``LookupError`` says what is missing."""
    assignment = session.scalar(select(Assignment).where(Assignment.slug == slug).order_by(Assignment.id).limit(1))
    if assignment is None:
        raise LookupError(f"no assignment {slug!r}")
    version = assignment.current_suite if number is None else session.scalar(
        select(SuiteVersion).where(SuiteVersion.assignment_id == assignment.id, SuiteVersion.number == number))
    if version is None:
        raise LookupError(f"{slug} has no published suite" + (f" version {number}" if number is not None else ""))
    if version.bundle is None:
        raise LookupError(f"{slug} v{version.number} was published before suites were sealed; export its suite file")
    return Bundle.from_bytes(version.bundle)


def load_version(version: SuiteVersion) -> LoadedSuite:
    """What the suite asks of a submission (its answers, limits, manual tests): from its text, which
    the web side reads without extracting a bundle."""
    return _load(version.yaml_text, version.source_path, version.sha256)


def load_for_grading(version: SuiteVersion, settings: Settings) -> LoadedSuite:
    """What grading and regrading version N use: its sealed bundle, extracted once under the cache;
    versions published before bundles grade from their text and the files on disk."""
    if version.bundle is None or version.bundle_sha256 is None:
        return load_version(version)
    return _open_sealed(version.bundle_sha256, version.bundle, settings.cache_dir)


@lru_cache(maxsize=64)
def _open_sealed(bundle_sha256: str, bundle: bytes, cache_dir: Path) -> LoadedSuite:
    _, loaded = open_bundle(bundle, cache_dir)
    if loaded.bundle_sha256 != bundle_sha256:
        raise ValueError(f"the bundle does not match its recorded hash {bundle_sha256[:12]}")
    return loaded


@lru_cache(maxsize=64)
def _load(text: str, source_path: str, sha256: str) -> LoadedSuite:
    loaded = parse_suite(text, Path(source_path))
    if loaded.sha256 != sha256:
        raise ValueError(f"suite text does not match its recorded hash {sha256[:12]}")
    return loaded
