"""``dgm-grader``: grade a submission, validate and check suites, manage the sandbox image."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .config import PROJECT_ROOT, get_settings
from .intake import IntakeError
from .logging_setup import configure_logging
from .pipeline import grade_upload
from .report import render_report
from .sandbox import SandboxUnavailable, select_sandbox
from .suite import LoadedSuite, SuiteError, load_suite

app = typer.Typer(help="dgm-grader: the Deep Generative Models autograder.", no_args_is_help=True, pretty_exceptions_enable=False)
suite_app = typer.Typer(help="Validate and check test suites.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The sandbox backends.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")
app.add_typer(sandbox_app, name="sandbox")

Backend = Annotated[Optional[str], typer.Option("--backend", help="docker, bwrap or auto (default: settings)")]
Unsafe = Annotated[bool, typer.Option("--unsafe-no-sandbox", help="run without isolation (your own files only)")]


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


if __name__ == "__main__":
    sys.exit(app())
