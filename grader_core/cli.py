"""``dgm-grader``: grade a submission, validate and check suites, manage the sandbox image; submit to the
grading service (``login``, ``submit``) and operate it (``db upgrade``, ``course create``, ``reconcile``,
``settings``). The service's commands import ``grader_api`` and ``worker`` when run, not before."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .config import PROJECT_ROOT, get_settings, settings_table
from .intake import IntakeError
from .logging_setup import configure_logging
from .pipeline import grade_upload
from .report import render_report
from .results import GradingResult
from .sandbox import Sandbox, SandboxUnavailable, select_sandbox
from .suite import LoadedSuite, SuiteError, load_suite

if TYPE_CHECKING:
    from grader_api.client import GraderClient
    from grader_api.schemas import SubmissionOut

    from .suite.bundle import Bundle

app = typer.Typer(help="dgm-grader: the Deep Generative Models autograder.", no_args_is_help=True, pretty_exceptions_enable=False)
suite_app = typer.Typer(help="Validate and check test suites.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The sandbox backends.", no_args_is_help=True)
db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
course_app = typer.Typer(help="The service's course.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(db_app, name="db")
app.add_typer(course_app, name="course")

Backend = Annotated[Optional[str], typer.Option("--backend", help="docker, bwrap or auto (default: settings)")]
Unsafe = Annotated[bool, typer.Option("--unsafe-no-sandbox", help="run without isolation (your own files only)")]
Url = Annotated[Optional[str], typer.Option("--url", envvar="DGM_URL", show_default=False,
                                            help="the grading service (default: the DGM_PUBLIC_URL setting)")]


@app.callback()
def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _load(path: Path) -> LoadedSuite:
    try:
        return load_suite(path)
    except SuiteError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(1) from None


def _sandbox(backend: str | None, unsafe: bool) -> Sandbox:
    try:
        return select_sandbox(get_settings(), "none" if unsafe else backend, allow_unsafe=unsafe)
    except SandboxUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None


def _grade_reference(loaded: LoadedSuite, sandbox: Sandbox, seed: int | None = None) -> GradingResult:
    if loaded.reference_solution is None:
        typer.echo(f"{loaded.path}: the suite names no reference_solution", err=True)
        raise typer.Exit(1)
    return grade_upload(loaded, loaded.reference_solution, sandbox, get_settings(), secret_seed=seed)


@app.command()
def grade(
    submission: Annotated[Path, typer.Argument(help="a .zip, a folder, or one .py/.yaml/.ipynb file")],
    suite: Annotated[Path, typer.Option("--suite", help="the suite YAML")],
    out: Annotated[Path, typer.Option(help="where to write the results JSON")] = Path("results.json"),
    gradescope: Annotated[Optional[Path], typer.Option(help="also write Gradescope's results.json here")] = None,
    images: Annotated[Optional[Path], typer.Option(help="write the pictures checks made (sample grids) under this folder")] = None,
    seed: Annotated[Optional[int], typer.Option(help="fix the secret seed (reproduce a run)")] = None,
    backend: Backend = None,
    unsafe_no_sandbox: Unsafe = False,
) -> None:
    """Grade one submission and print a report."""
    loaded = _load(suite)
    sandbox = _sandbox(backend, unsafe_no_sandbox)
    try:
        result = grade_upload(loaded, submission, sandbox, get_settings(), secret_seed=seed)
    except IntakeError as exc:
        typer.echo(f"upload rejected: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(render_report(result, loaded))
    out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    if gradescope is not None:
        gradescope.write_text(json.dumps(result.to_gradescope(), indent=2), encoding="utf-8")
    if images is not None:
        result.write_images(images)


@suite_app.command("validate")
def suite_validate(path: Path) -> None:
    """Report every problem in a suite with its line number."""
    loaded = _load(path)
    suite = loaded.suite
    typer.echo(f"{path}: OK ({suite.id} v{suite.version}, {len(suite.tests)} tests, {suite.automatic_points:g} automatic points)")


@suite_app.command("check")
def suite_check(path: Path, backend: Backend = None, unsafe_no_sandbox: Unsafe = False,
                seed: Annotated[Optional[int], typer.Option(help="fix the secret seed")] = None,
                reference_only: Annotated[bool, typer.Option("--reference-only", help="skip the planted bugs")] = False) -> None:
    """Grade the suite's reference solution, then its planted bugs; fail unless the reference earns
    every automatic point and every bug loses exactly the tests it names."""
    from .mutants import run_matrix

    loaded = _load(path)
    sandbox = _sandbox(backend, unsafe_no_sandbox)
    result = _grade_reference(loaded, sandbox, seed)
    typer.echo(render_report(result, loaded))
    if result.score < result.automatic_max_score - 1e-9:
        typer.echo(f"FAILED: the reference solution scores {result.score:g} of {result.automatic_max_score:g}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: the reference solution scores all {result.automatic_max_score:g} automatic points")
    if reference_only:
        return
    try:
        matrix = run_matrix(loaded, result, sandbox, get_settings(), secret_seed=seed)
    except SuiteError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(1) from None
    if not matrix.verdicts:
        typer.echo("the suite plants no bugs (no `mutants:` file): nothing shows that its checks catch anything")
        return
    typer.echo(f"\nplanted bugs x tests (X lost as it must be, . kept, ! lost though it should be kept, o survived):\n{matrix.render()}")
    problems = matrix.problems()
    for problem in problems:
        typer.echo(f"FAILED: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"OK: each of the {len(matrix.verdicts)} planted bugs loses exactly the tests it names")


@suite_app.command("calibrate")
def suite_calibrate(path: Path, backend: Backend = None, unsafe_no_sandbox: Unsafe = False) -> None:
    """Grade the reference solution in the sandbox and store what each check measured (NLL, FID...)
    under the checksum of the data, so thresholds can be set relative to the reference."""
    from .calibration import calibration_path, record_calibration

    loaded = _load(path)
    result = _grade_reference(loaded, _sandbox(backend, unsafe_no_sandbox))
    calibration = record_calibration(loaded, result)
    for test in result.tests:
        if test.measured is not None:
            typer.echo(f"  {test.id:<28} {test.measured:.6g}")
            for name, value in test.also_measured.items():
                typer.echo(f"  {test.id + '/' + name:<28} {value:.6g}")
    typer.echo(f"wrote {calibration_path(loaded)} ({sum(len(v) for v in calibration.values.values())} values)")


@suite_app.command("power")
def suite_power(path: Path, seeds: Annotated[int, typer.Option(help="how many secret seeds")] = 30,
                first_seed: Annotated[int, typer.Option(help="the seeds are FIRST_SEED, FIRST_SEED + 1, ...")] = 1,
                backend: Backend = None) -> None:
    """Measure the suite's error rates: grade the reference and every planted bug under SEEDS secret
    seeds; print each test's false fails on the reference and each bug's detections."""
    from .mutants import power

    report = power(_load(path), _sandbox(backend, False), get_settings(), list(range(first_seed, first_seed + seeds)))
    typer.echo(report.render())
    if (any(report.false_fails().values()) or any(report.collateral().values())
            or any(count < seeds for count in report.detections().values())):
        raise typer.Exit(1)


@suite_app.command("export")
def suite_export(
    out: Annotated[Path, typer.Option(help="the bundle to write (.zip)")],
    path: Annotated[Optional[Path], typer.Argument(help="a suite file to seal")] = None,
    assignment: Annotated[Optional[str], typer.Option(help="instead: a published version of this assignment, "
                                                           "from the service's database (DGM_DATABASE_URL)")] = None,
    version: Annotated[Optional[int], typer.Option(help="with --assignment: the version (default: the current one)")] = None,
) -> None:
    """Seal a suite into a bundle: its YAML and every file it names inside its folder (support
    modules, reference solution, planted bugs, calibration), with the SHA-256 of the data it reads;
    or write the bundle a published version grades with (next semester's course starts from it)."""
    from .suite.bundle import build_bundle

    if path is not None and assignment is None:
        bundle = build_bundle(_load(path))
    elif assignment is not None and path is None:
        bundle = _published_bundle(assignment, version)
    else:
        typer.echo("error: give either a suite file or --assignment", err=True)
        raise typer.Exit(2)
    out.write_bytes(bundle.to_bytes())
    typer.echo(f"wrote {out}: {bundle.manifest.suite_id} v{bundle.manifest.suite_version}, "
               f"{len(bundle.manifest.files)} files, bundle {bundle.sha256}")


def _published_bundle(slug: str, number: int | None) -> Bundle:
    from grader_api.db import Database
    from grader_api.services.suites import published_bundle

    database = Database(get_settings().database_url)
    try:
        with database.session() as session:
            return published_bundle(session, slug, number)
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()


@suite_app.command("import")
def suite_import(bundle_file: Path, into: Annotated[Path, typer.Option(help="extract the suite under this folder")]) -> None:
    """Check a bundle (every file against its SHA-256) and extract it, read-only, under
    ``INTO/bundles/<hash>``; prints the suite's path there, ready for `suite check` or `grade`."""
    from .suite.bundle import open_bundle

    try:
        bundle, loaded = open_bundle(bundle_file.read_bytes(), into)
    except (OSError, SuiteError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for name, digest in bundle.manifest.data.items():
        typer.echo(f"  reads {name}: {digest[:16]}")
    typer.echo(f"{loaded.path} ({bundle.manifest.suite_id} v{bundle.manifest.suite_version}, bundle {bundle.sha256})")


@sandbox_app.command("build-image")
def sandbox_build_image(tag: Annotated[Optional[str], typer.Option(help="image tag")] = None) -> None:
    """Build the Docker sandbox image offline (debootstrap + docker import)."""
    from .sandbox.image import build_image

    build_image(tag or get_settings().sandbox_image)


@sandbox_app.command("info")
def sandbox_info() -> None:
    """Which backends are available here, and which one `auto` picks."""
    from .sandbox.bwrap_backend import BwrapSandbox
    from .sandbox.docker_backend import DockerSandbox

    typer.echo(f"docker: {'available' if DockerSandbox.available() else 'unavailable'}")
    typer.echo(f"bwrap:  {'available' if BwrapSandbox.available() else 'unavailable'}")


@app.command()
def demo(backend: Backend = None) -> None:
    """Grade the bundled example submissions of every homework and print the reports."""
    sandbox = _sandbox(backend, False)
    for suite_path in sorted((PROJECT_ROOT / "test_suites").glob("*.yaml")):
        loaded = _load(suite_path)
        examples = PROJECT_ROOT / "assignments" / loaded.suite.id / "examples"
        for example in sorted(examples.iterdir()) if examples.is_dir() else []:
            typer.echo(f"\n=== {loaded.suite.id}: {example.name} ===")
            try:
                result = grade_upload(loaded, example, sandbox, get_settings())
            except IntakeError as exc:
                typer.echo(f"upload rejected: {exc}")
                continue
            typer.echo(render_report(result, loaded))


@app.command()
def submit(
    assignment: Annotated[str, typer.Argument(help="the assignment's short name, e.g. hw1")],
    path: Annotated[Path, typer.Argument(help="a folder (sent as a .zip) or one file")],
    url: Url = None,
    token: Annotated[Optional[str], typer.Option("--token", envvar="DGM_API_TOKEN", show_default=False,
                                                 help="an API token (default: the one `login --save` stored)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait until it is graded and print the result")] = False,
    timeout: Annotated[float, typer.Option(help="how long --wait waits, in seconds")] = 900.0,
) -> None:
    """Send a submission to the grading service (exit code 1 if it is refused, or if --wait sees it fail)."""
    from grader_api.client import ApiError, saved_token, token_file

    token = token or saved_token(token_file())
    if token is None:
        typer.echo("error: no API token: pass --token, set DGM_API_TOKEN, or run `dgm-grader login --save`", err=True)
        raise typer.Exit(1)
    try:
        with _client(url, token) as client:
            submitted = client.submit(assignment, path)
            run = submitted.run
            where = f", position {run.position} in the {run.queue} queue" if run and run.position else ""
            typer.echo(f"submitted {assignment} #{submitted.number} (submission {submitted.id}): {submitted.status}{where}")
            typer.echo(f"  {client.url}/submissions/{submitted.id}")
            if wait:
                _print_result(client.wait(submitted.id, timeout))
    except ApiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _client(url: str | None, token: str | None = None) -> GraderClient:
    from grader_api.client import GraderClient

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise to a student
    return GraderClient(url or get_settings().public_url, token)


def _print_result(submission: SubmissionOut) -> None:
    if submission.status != "graded":
        error = submission.run.error if submission.run else None
        typer.echo(f"grading failed: {error or submission.status}", err=True)
        raise typer.Exit(1)
    typer.echo(f"graded: {submission.final_score:g} / {submission.max_score:g}")
    automatic = [test for test in submission.tests if test.status != "pending"]
    pending = sum(test.max_score for test in submission.tests if test.status == "pending")
    typer.echo(f"automatic points: {sum(t.score for t in automatic):g} / {sum(t.max_score for t in automatic):g}"
               + (f"; {pending:g} to be graded by hand" if pending else ""))
    if submission.late_penalty:
        typer.echo(f"late penalty: {submission.late_penalty:.0%} ({submission.late_days} day(s) late)")
    width = max((len(test.title) for test in submission.tests), default=0)
    for test in submission.tests:
        typer.echo(f"  {test.status:<8} {test.score:>5g} / {test.max_score:<5g} {test.title:<{width}}  {test.feedback}")
    if submission.withheld_tests:
        typer.echo(f"{submission.withheld_tests} test(s) are not shown yet.")


@app.command()
def login(
    email: Annotated[str, typer.Option("--email", prompt=True, help="your account's email")],
    url: Url = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin (scripts)")] = False,
    save: Annotated[bool, typer.Option("--save", help="store the token for `submit` (~/.config/dgm-grader/token, "
                                                       "mode 600) instead of printing it")] = False,
    name: Annotated[str, typer.Option(help="what the token is called on the API tokens page")] = "command line",
) -> None:
    """Trade your email and password for an API token."""
    from grader_api.client import ApiError, save_token, token_file

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True, err=True)
    try:
        with _client(url) as client:
            token = client.create_token(email, password, name)
    except ApiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if save:
        save_token(token, token_file())
        typer.echo(f"token saved to {token_file()}", err=True)
    else:
        typer.echo(token)


@app.command()
def reconcile(once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False) -> None:
    """Publish again every run the broker lost, every DGM_RECONCILE_INTERVAL_S seconds: the reconciler as
    a service of its own (set DGM_API_RUNS_RECONCILER=false for the API then)."""
    from worker.reconciler import serve

    settings = get_settings()
    if not once and settings.reconcile_interval_s <= 0:
        typer.echo("error: DGM_RECONCILE_INTERVAL_S must be positive (or pass --once)", err=True)
        raise typer.Exit(1)
    serve(settings, once)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database at DGM_DATABASE_URL to the latest schema."""
    from grader_api.migrate import upgrade

    upgrade(get_settings().database_url)


@course_app.command("create")
def course_create(
    code: Annotated[str, typer.Argument(help="a short code, e.g. DGM-2026")],
    title: Annotated[str, typer.Option(help="the course's name")],
    instructor: Annotated[str, typer.Option(help="the first instructor's email")],
    name: Annotated[str, typer.Option(help="the first instructor's name")] = "Instructor",
) -> None:
    """Create the course (once per deployment) and its first instructor, who gets a one-time password
    and then imports the roster and publishes suites on the pages."""
    import csv
    import io

    from grader_api.db import Database
    from grader_api.services.assignments import get_or_create_course
    from grader_api.services.roster import import_roster

    row = io.StringIO()
    csv.writer(row).writerows([["email", "name", "role"], [instructor, name, "instructor"]])
    database = Database(get_settings().database_url)
    try:
        with database.session() as session:
            course = get_or_create_course(session, code, title)
            outcome = import_roster(session, course, row.getvalue(), actor=None)
            session.commit()
    finally:
        database.dispose()
    for error in outcome.errors:
        typer.echo(f"error: {error}", err=True)
    if outcome.errors:
        raise typer.Exit(1)
    typer.echo(f"course {code} (id {course.id}); instructor {instructor}")
    for email, password in outcome.created:
        typer.echo(f"  {email}: one-time password {password}")


@app.command("settings")
def settings_command() -> None:
    """Every DGM_* setting with its default and meaning, as a Markdown table (the README's)."""
    typer.echo(settings_table(), nl=False)


if __name__ == "__main__":
    sys.exit(app())
