#!/usr/bin/env bash
# Install everything dgm-grader needs on a fresh Debian machine, idempotently:
# system packages (sandboxes, browser), a running Docker daemon, and the project's virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bootstrap] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

SYSTEM_PACKAGES=(docker.io bubblewrap debootstrap chromium)
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  as_root sh -c 'setsid dockerd >/var/log/dgm-dockerd.log 2>&1 < /dev/null &' || true
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || log "warning: dockerd did not start; see /var/log/dgm-dockerd.log (bubblewrap will be used)"
fi

PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  log "creating the virtualenv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
