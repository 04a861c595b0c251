#!/usr/bin/env bash
# The whole test suite: once on the embedded default (SQLite, in-process
# cache), then again on real PostgreSQL + Redis started on free loopback
# ports. With TEST_DATABASE_URL already set, runs once against those servers.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exec "$PYTHON" -m pytest "$@"
fi

echo "== tests on SQLite and the in-process cache"
"$PYTHON" -m pytest "$@"

echo "== tests on PostgreSQL and Redis"
services_dir=""
trap '[ -n "$services_dir" ] && scripts/test-services.sh stop "$services_dir"' EXIT
eval "$(scripts/test-services.sh start)"
services_dir=$TEST_SERVICES_DIR
"$PYTHON" -m pytest "$@"
