# syntax=docker/dockerfile:1
# dgm-grader on CPUs. Two targets (docker-compose.yml builds both):
#   sandbox  Python, the dependencies pinned in pyproject.toml (torch CPU) and the runner: the image
#            of the sandbox containers (DGM_SANDBOX_PYTHON=image). Student code runs in it, so it
#            holds no suite, reference solution or other submission.
#   service  the sandbox plus the project: the API, the CPU worker, the reconciler and the migration
#            (one image, four commands), run as an unprivileged user.

FROM python:3.11-slim AS sandbox
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# The venv's path is DGM_SANDBOX_IMAGE_PYTHON's default.
RUN python -m venv /opt/venv \
 && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
# The pinned dependencies alone, in a layer that is rebuilt only when pyproject.toml changes; the
# CPU torch above already satisfies its pin.
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/pyproject.toml /tmp/requirements.txt
# Where the sandbox imports the runner from (grader_core/sandbox/runtime.py: /opt/dgm/dgm_runner).
COPY grader_core/runner /opt/dgm/dgm_runner

FROM sandbox AS service
# Production defaults: sandboxes are containers of the `sandbox` target on the host's Docker daemon
# (docker-compose.yml says why the scratch folder, also TMPDIR for the sandbox plans, must be a host
# folder at the same path), and logs are JSON lines. A worker on another machine needs only the
# database, the broker (and its GPUs) on top of these.
ENV DGM_SANDBOX_BACKEND=docker DGM_SANDBOX_PYTHON=image DGM_SANDBOX_IMAGE=dgm-grader-sandbox:cpu \
    DGM_UPLOAD_DIR=/var/lib/dgm-grader/uploads DGM_ARTIFACT_DIR=/var/lib/dgm-grader/artifacts \
    DGM_WORK_DIR=/var/lib/dgm-grader/work TMPDIR=/var/lib/dgm-grader/work DGM_LOG_FORMAT=json
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin grader \
 && install -d -o grader -g grader /var/lib/dgm-grader/uploads /var/lib/dgm-grader/artifacts /var/lib/dgm-grader/work
WORKDIR /app
COPY . /app
# Editable on purpose: the service reads test_suites/ (with the reference solutions) and assignments/ beside
# its code (grader_core.config.PROJECT_ROOT); a wheel in site-packages would not find them.
RUN pip install --no-deps -e /app
USER grader
EXPOSE 8000
CMD ["uvicorn", "grader_api.main:app", "--host", "0.0.0.0", "--port", "8000"]
