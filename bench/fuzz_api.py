"""A long schemathesis campaign against the JSON API: CI's fuzz test (tests/service/test_fuzz_api.py),
with many more examples of every operation, for each role and anonymously.

    .venv/bin/python bench/fuzz_api.py [--examples 100] [-k student]

Prints, per role, the number of cases sent and of failures (a 5xx, or a reply the OpenAPI schema
does not declare), then pytest's summary with the first failures; exits 1 if there were any. Needs
PostgreSQL as the service tests do (``DGM_TEST_PG_ADMIN``); about 0.1 s per case on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

FUZZ_TEST = Path(__file__).resolve().parents[1] / "tests" / "service" / "test_fuzz_api.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="cases of each operation's valid and invalid requests")
    parser.add_argument("-k", dest="roles", help="only the roles matching this pytest expression, e.g. 'student or anonymous'")
    args = parser.parse_args()
    os.environ["DGM_FUZZ_EXAMPLES"] = str(args.examples)
    pytest_args = [str(FUZZ_TEST), "-q", "-s", "-p", "no:cacheprovider", "-o", "timeout=0"]
    if args.roles:
        pytest_args += ["-k", args.roles]
    return int(pytest.main(pytest_args))


if __name__ == "__main__":
    sys.exit(main())
