#!/usr/bin/env bash
# Container entrypoint: wait for the database (bounded), migrate, then become
# the waitress server (exec, so that signals reach it directly). On SIGTERM
# the server stops accepting, finishes the requests in flight and exits.
set -euo pipefail

export FLASK_APP=best_app
: "${HOST:=0.0.0.0}"
: "${PORT:=8000}"
: "${DB_WAIT_SECONDS:=60}"

flask wait-for-db --timeout "$DB_WAIT_SECONDS"
flask db upgrade

exec python -m best_app.serve --host "$HOST" --port "$PORT"  # threads: WAITRESS_THREADS, read by config.py
