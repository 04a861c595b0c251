#!/usr/bin/env bash
# Container entrypoint: wait for the database (bounded), migrate, then become
# the waitress server so that signals reach it directly.
set -euo pipefail

export FLASK_APP=best_app
: "${PORT:=8000}"
: "${WAITRESS_THREADS:=8}"
: "${DB_WAIT_SECONDS:=60}"

flask wait-for-db --timeout "$DB_WAIT_SECONDS"
flask db upgrade

# Waitress drops X-Forwarded-* headers unless told otherwise; the app's
# ProxyFix (PROXY_FIX_HOPS) is what decides how many of them to trust.
exec waitress-serve \
  --host 0.0.0.0 \
  --port "$PORT" \
  --threads "$WAITRESS_THREADS" \
  --ident best_app \
  --no-clear-untrusted-proxy-headers \
  --call best_app:create_app
