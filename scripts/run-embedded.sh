#!/usr/bin/env bash
# Run best_app on the embedded default (SQLite + in-process cache): keep a
# generated secret key in the instance folder, migrate, seed a little demo
# data and a first admin, then serve with waitress on 127.0.0.1:${PORT:-8000}.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p instance
if [ ! -s instance/secret_key ]; then
  (umask 077 && python -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key)
fi
# The app reads instance/secret_key itself when SECRET_KEY is not set.
export FLASK_APP=best_app
: "${PORT:=8000}"

flask db upgrade
flask seed --if-empty --users 50 --cars-per-user 1 --tasks 120
flask ensure-admin

echo "best_app is at http://127.0.0.1:$PORT/admin/ (API: http://127.0.0.1:$PORT/api/docs)"
exec python -m best_app.serve --host 127.0.0.1 --port "$PORT"
