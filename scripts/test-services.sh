#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster and redis-server on free loopback ports,
# in a temporary directory, for the test suite.
#
#   eval "$(scripts/test-services.sh start)"   # exports TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SERVICES_DIR
#   scripts/test-services.sh stop "$TEST_SERVICES_DIR"
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir pg_port redis_port run_as=()
  dir=$(mktemp -d -t best_app_services.XXXXXX)
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/redis"
  # initdb refuses to run as root.
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir/pg"
    run_as=(runuser -u postgres --)
  fi
  pg_port=$(free_port)
  "${run_as[@]}" "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/pg/server.log" >&2; exit 1; }
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres best_app_test

  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { echo "redis-server did not start" >&2; exit 1; }

  echo "export TEST_SERVICES_DIR=$dir"
  echo "export TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$pg_port/best_app_test"
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
}

stop() {
  local dir=${1:?usage: test-services.sh stop DIR}
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    local run_as=()
    [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
    "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
