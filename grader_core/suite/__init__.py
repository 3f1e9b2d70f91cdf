"""Test suites: the YAML instructors write, its schema, and a loader that reports errors by line."""

from .loader import LoadedSuite, SuiteError, SuiteIssue, load_suite, parse_suite
from .schema import (
    AnswerSpec,
    PartialCredit,
    StageResources,
    SubmissionSpec,
    Suite,
    TestSpec,
    Visibility,
)

__all__ = [
    "AnswerSpec",
    "LoadedSuite",
    "PartialCredit",
    "StageResources",
    "SubmissionSpec",
    "Suite",
    "SuiteError",
    "SuiteIssue",
    "TestSpec",
    "Visibility",
    "load_suite",
    "parse_suite",
]
