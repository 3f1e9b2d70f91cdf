# The two commands of the README. Each installs what it needs first (scripts/bootstrap.sh).
.PHONY: run test bootstrap

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	.venv/bin/python -m grader_api.embedded $(RUN_ARGS)

test: bootstrap
	.venv/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)
