"""Planted bugs ("mutants") that prove a suite: each is the reference solution with one mistake, and
says which tests it must lose. Graded after the reference, they form a matrix (bug x test) that
shows an instructor the suite still catches every bug, and catches nothing else.

A suite names its mutants file (``mutants: hw2_mutants/mutants.yaml``) inside its own folder::

    mutants:
      - id: sees_own_pixel
        replace: bn_digits.py           # the reference's module, copied in as _reference.py ...
        by: sees_own_pixel.py           # ... and replaced by this file of the mutants' folder
        loses: [p3_linear-parents]
        feedback: {p3_linear-parents: "the pixel itself"}
      - id: no_entropy
        edit: {file: elbo.py, old: "log_likelihood + entropy", new: "log_likelihood"}
        loses: [elbo-value, elbo-bound]
      - id: alpha_wrong
        answers: {q1.alpha: "1/pi"}     # keys of the answers file set to other values
        loses: [q1-alpha]

The verdict of a mutant holds when every test it ``loses`` scores below its maximum, every other test
scores what the reference scored, and each lost test's feedback contains the words given for it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from .config import Settings
from .pipeline import grade_upload
from .results import GradingResult
from .sandbox import Sandbox
from .suite import LoadedSuite, SuiteError, SuiteIssue
from .suite.schema import Strict, SuitePath, resolve_in_suite


class TextEdit(Strict):
    file: SuitePath
    old: str = Field(min_length=1)
    new: str


class Mutant(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    replace: SuitePath | None = Field(None, description="the reference's file that the bug replaces")
    by: SuitePath | None = Field(None, description="the buggy file, in the mutants' folder")
    edit: TextEdit | None = None
    answers: dict[str, Any] | None = Field(None, description="answers-file keys (dotted) set to other values")
    loses: list[str] = Field(min_length=1, description="the tests this bug must lose; it keeps every other point")
    feedback: dict[str, str] = Field(default_factory=dict, description="words a lost test's feedback must contain")
    why: str = Field("", description="why a bug necessarily loses more than the check named for it")

    @model_validator(mode="after")
    def _one_kind(self) -> Mutant:
        kinds = [self.replace is not None, self.edit is not None, self.answers is not None]
        if sum(kinds) != 1 or (self.replace is None) != (self.by is None):
            raise ValueError("a mutant is exactly one of: replace + by, edit, answers")
        return self


class MutantsFile(Strict):
    mutants: list[Mutant] = Field(min_length=1)


def load_mutants(loaded: LoadedSuite) -> tuple[Path, list[Mutant]]:
    """The mutants' folder and the mutants of a suite (none if it names no file); a file naming
    tests the suite lacks, or twice the same id, is a ``SuiteError``."""
    if loaded.suite.mutants is None:
        return loaded.path.parent, []
    path = resolve_in_suite(loaded.path.parent, loaded.suite.mutants)
    try:
        mutants = MutantsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).mutants
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise SuiteError([SuiteIssue(str(path), 1, f"cannot read the mutants: {str(exc)[:500]}")]) from None
    test_ids = {test.id for test in loaded.suite.tests}
    problems = [f"mutant {m.id} names unknown test {t}" for m in mutants for t in [*m.loses, *m.feedback] if t not in test_ids]
    problems += [f"mutant id {m.id} is used twice" for i, m in enumerate(mutants) if m.id in {n.id for n in mutants[:i]}]
    if problems:
        raise SuiteError([SuiteIssue(str(path), 1, problem) for problem in problems])
    return path.parent, mutants


def with_replaced_file(reference: Path, target: str, replacement: Path, folder: Path) -> Path:
    """A copy of the reference solution whose ``target`` is ``replacement``; a replaced module stays
    importable as ``_reference``, so the replacement changes only what it is about."""
    shutil.copytree(reference, folder)
    path = resolve_in_suite(folder, target)
    if path.suffix == ".py":
        shutil.copy(path, folder / "_reference.py")
    shutil.copy(replacement, path)
    return folder


def plant(mutant: Mutant, reference: Path, mutants_dir: Path, answers_file: str | None, folder: Path) -> Path:
    """A copy of the reference solution with the mutant's one mistake in it."""
    if mutant.replace is not None and mutant.by is not None:
        return with_replaced_file(reference, mutant.replace, resolve_in_suite(mutants_dir, mutant.by), folder)
    shutil.copytree(reference, folder)
    if mutant.edit is not None:
        target = resolve_in_suite(folder, mutant.edit.file)
        source = target.read_text(encoding="utf-8")
        if mutant.edit.old not in source:
            raise ValueError(f"mutant {mutant.id}: {mutant.edit.file} does not contain {mutant.edit.old[:80]!r}")
        target.write_text(source.replace(mutant.edit.old, mutant.edit.new), encoding="utf-8")
    elif mutant.answers is not None:
        if answers_file is None:
            raise ValueError(f"mutant {mutant.id} changes answers, but the suite has no answers file")
        target = resolve_in_suite(folder, answers_file)
        document = yaml.safe_load(target.read_text(encoding="utf-8"))
        for key, value in mutant.answers.items():
            *parents, leaf = key.split(".")
            node = document
            for part in parents:
                node = node[part]
            node[leaf] = value
        target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    result: GradingResult
    reference: GradingResult

    def lost(self) -> set[str]:
        return {test.id for test in self.result.tests if test.score < test.max_score - 1e-9 and test.status != "pending"}

    def problems(self) -> list[str]:
        """What makes this bug's row wrong: a test it survives, a test it should not cost, feedback
        that does not name it."""
        mine = {test.id: test for test in self.result.tests}
        theirs = {test.id: test for test in self.reference.tests}
        lost = self.lost()
        problems = [f"{self.mutant.id} survives {test_id} (scores {mine[test_id].score:g}/{mine[test_id].max_score:g})"
                    for test_id in self.mutant.loses if test_id not in lost]
        problems += [f"{self.mutant.id} also costs {test_id} ({mine[test_id].score:g} instead of {theirs[test_id].score:g}): "
                     f"{mine[test_id].feedback[:200]}"
                     for test_id in sorted(mine) if test_id not in self.mutant.loses
                     and abs(mine[test_id].score - theirs[test_id].score) > 1e-9]
        problems += [f"{self.mutant.id}: the feedback of {test_id} does not say {words!r}: {mine[test_id].feedback[:200]}"
                     for test_id, words in self.mutant.feedback.items() if words not in mine[test_id].feedback]
        return problems


@dataclass(frozen=True)
class MutantMatrix:
    reference: GradingResult
    verdicts: list[Verdict]

    def problems(self) -> list[str]:
        missed = [f"the reference loses {t.id}: {t.feedback[:200]}" for t in self.reference.tests
                  if t.status not in ("passed", "pending")]
        return missed + [problem for verdict in self.verdicts for problem in verdict.problems()]

    def render(self) -> str:
        """One row per bug, one column per test some bug targets: ``X`` lost as it must be, ``.``
        kept, ``!`` lost though it should be kept, ``o`` kept though the bug must lose it."""
        lost_by = {verdict.mutant.id: verdict.lost() for verdict in self.verdicts}
        columns = [test.id for test in self.reference.tests
                   if any(test.id in v.mutant.loses or test.id in lost_by[v.mutant.id] for v in self.verdicts)]
        width = max([len(v.mutant.id) for v in self.verdicts] + [6])
        lines = [f"{'':<{width}}  " + " ".join(f"{index:>2}" for index in range(1, len(columns) + 1))]
        for verdict in self.verdicts:
            lost, must = lost_by[verdict.mutant.id], set(verdict.mutant.loses)
            marks = ["X" if c in lost and c in must else "!" if c in lost else "o" if c in must else "." for c in columns]
            lines.append(f"{verdict.mutant.id:<{width}}  " + " ".join(f"{mark:>2}" for mark in marks))
        lines += [f"{index:>{width + 4}} {column}" for index, column in enumerate(columns, 1)]
        return "\n".join(lines)


def run_matrix(loaded: LoadedSuite, reference: GradingResult, sandbox: Sandbox, settings: Settings,
               secret_seed: int | None = None, gpu_ids: tuple[str, ...] = ()) -> MutantMatrix:
    """Grade every mutant of the suite (the reference already graded) under the same secret seed."""
    mutants_dir, mutants = load_mutants(loaded)
    if loaded.reference_solution is None:
        raise SuiteError([SuiteIssue(str(loaded.path), 1, "the suite names no reference_solution to plant bugs in")])
    verdicts = []
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dgm-mutants-", dir=settings.work_dir) as scratch:
        for mutant in mutants:
            folder = plant(mutant, loaded.reference_solution, mutants_dir, loaded.suite.submission.answers_file,
                           Path(scratch) / mutant.id)
            result = grade_upload(loaded, folder, sandbox, settings, secret_seed=secret_seed, gpu_ids=gpu_ids)
            verdicts.append(Verdict(mutant, result, reference))
    return MutantMatrix(reference, verdicts)


@dataclass(frozen=True)
class PowerReport:
    """The matrix under many secret seeds: how often each test fails the reference (false fails)
    and how often each bug loses each test it must lose (detections)."""

    seeds: list[int]
    matrices: list[MutantMatrix]

    def false_fails(self) -> dict[str, int]:
        """Test id -> seeds under which the reference lost it."""
        counts = {test.id: 0 for test in self.matrices[0].reference.tests}
        for matrix in self.matrices:
            for test in matrix.reference.tests:
                counts[test.id] += test.score < test.max_score - 1e-9 and test.status != "pending"
        return counts

    def detections(self) -> dict[tuple[str, str], int]:
        """(bug, test it must lose) -> seeds under which it lost it."""
        counts: dict[tuple[str, str], int] = {}
        for matrix in self.matrices:
            for verdict in matrix.verdicts:
                lost = verdict.lost()
                for test_id in verdict.mutant.loses:
                    counts[(verdict.mutant.id, test_id)] = counts.get((verdict.mutant.id, test_id), 0) + (test_id in lost)
        return counts

    def collateral(self) -> dict[str, int]:
        """Bug -> seeds under which it cost a test it should keep."""
        counts: dict[str, int] = {}
        for matrix in self.matrices:
            for verdict in matrix.verdicts:
                extra = verdict.lost() - set(verdict.mutant.loses)
                counts[verdict.mutant.id] = counts.get(verdict.mutant.id, 0) + bool(extra)
        return counts

    def render(self) -> str:
        n = len(self.seeds)
        lines = [f"{n} secret seeds", "false fails of the reference (target 0/n):"]
        lines += [f"  {test_id:<32} {count}/{n}" for test_id, count in self.false_fails().items()]
        lines.append("detections (target n/n), and seeds where the bug also cost another test (target 0/n):")
        collateral = self.collateral()
        lines += [f"  {bug:<32} {test_id:<28} {count}/{n}   other tests lost: {collateral[bug]}/{n}"
                  for (bug, test_id), count in self.detections().items()]
        return "\n".join(lines)


def power(loaded: LoadedSuite, sandbox: Sandbox, settings: Settings, seeds: list[int]) -> PowerReport:
    """Grade the reference and every planted bug under each secret seed."""
    if loaded.reference_solution is None:
        raise SuiteError([SuiteIssue(str(loaded.path), 1, "the suite names no reference_solution")])
    matrices = []
    for seed in seeds:
        reference = grade_upload(loaded, loaded.reference_solution, sandbox, settings, secret_seed=seed)
        matrices.append(run_matrix(loaded, reference, sandbox, settings, secret_seed=seed))
    return PowerReport(seeds, matrices)
