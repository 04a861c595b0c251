#!/usr/bin/env bash
# The whole test suite: once on the embedded default (SQLite, in-process
# cache), then again on real PostgreSQL + Redis started on free loopback
# ports, this time with the production-stack tests (nginx in front of waitress
# replicas, started by scripts/stack.py) and the offline checks of the Docker
# files. With TEST_DATABASE_URL already set, runs once against those servers.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

# docker-compose (for the offline compose check) lives in a virtualenv of its own.
tests/stack/install-compose.sh >/dev/null

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  STACK_TESTS=1 exec "$PYTHON" -m pytest "$@"
fi

echo "== tests on SQLite and the in-process cache"
"$PYTHON" -m pytest "$@"

echo "== tests on PostgreSQL and Redis, and through nginx"
services_dir=""
trap '[ -n "$services_dir" ] && scripts/test-services.sh stop "$services_dir"' EXIT
eval "$(scripts/test-services.sh start)"
services_dir=$TEST_SERVICES_DIR
STACK_TESTS=1 "$PYTHON" -m pytest "$@"
