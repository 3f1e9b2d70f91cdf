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
from .sandbox import SandboxUnavailable, select_sandbox
from .suite import LoadedSuite, SuiteError, load_suite

if TYPE_CHECKING:
    from grader_api.client import GraderClient
    from grader_api.schemas import SubmissionOut

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


def _sandbox(backend: str | None, unsafe: bool):  # type: ignore[no-untyped-def]
    try:
        return select_sandbox(get_settings(), "none" if unsafe else backend, allow_unsafe=unsafe)
    except SandboxUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None


def _grade_reference(loaded: LoadedSuite, backend: str | None, unsafe: bool):  # type: ignore[no-untyped-def]
    if loaded.reference_solution is None:
        typer.echo(f"{loaded.path}: the suite names no reference_solution", err=True)
        raise typer.Exit(1)
    return grade_upload(loaded, loaded.reference_solution, _sandbox(backend, unsafe), get_settings())


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
def suite_check(path: Path, backend: Backend = None, unsafe_no_sandbox: Unsafe = False) -> None:
    """Grade the suite's reference solution; fail unless it earns every automatic point."""
    loaded = _load(path)
    result = _grade_reference(loaded, backend, unsafe_no_sandbox)
    typer.echo(render_report(result, loaded))
    if result.score < result.automatic_max_score - 1e-9:
        typer.echo(f"FAILED: the reference solution scores {result.score:g} of {result.automatic_max_score:g}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: the reference solution scores all {result.automatic_max_score:g} automatic points")


@suite_app.command("calibrate")
def suite_calibrate(path: Path, backend: Backend = None, unsafe_no_sandbox: Unsafe = False) -> None:
    """Grade the reference solution in the sandbox and store what each check measured (NLL, FID...)
    under the checksum of the data, so thresholds can be set relative to the reference."""
    from .calibration import calibration_path, record_calibration

    loaded = _load(path)
    result = _grade_reference(loaded, backend, unsafe_no_sandbox)
    calibration = record_calibration(loaded, result)
    for test in result.tests:
        if test.measured is not None:
            typer.echo(f"  {test.id:<28} {test.measured:.6g}")
    typer.echo(f"wrote {calibration_path(loaded)} ({sum(len(v) for v in calibration.values.values())} values)")


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
