#!/usr/bin/env python3
"""The production topology on loopback, from installed binaries, for machines
without Docker: PostgreSQL, Redis, N waitress replicas (each started by
service_entrypoint.sh, exactly as in the container) and nginx rendered from
the same template as docker compose uses.

    scripts/stack.py [up] [--replicas 3] [--port 8080]   # prints the URL; Ctrl-C stops it
    scripts/stack.py stop                                 # stops a stack started elsewhere

Everything lives in one temporary directory on free ports and is removed on
stop. Tests import `Stack` and use it as a context manager.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from stack_nginx import TemplateError, precompressed_copy, render_nginx, upstream_servers

ROOT = Path(__file__).resolve().parent.parent
# Where `stop` finds the running stack; tests point it elsewhere.
STATE_FILE = Path(os.environ.get("STACK_STATE_FILE") or ROOT / "instance" / "stack.json")


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _redis_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait(check, what: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise StackError(f"{what} did not become ready\n{tail}")


class Stack:
    """PostgreSQL + Redis + `replicas` waitress processes + nginx on loopback."""

    def __init__(self, replicas: int = 2, port: int | None = None, threads: int = 4,
                 extra_env: dict[str, str] | None = None):
        if replicas < 1:
            raise StackError("at least one replica is needed")
        self.replica_count = replicas
        self.port = port or free_port()
        self.threads = threads
        self.extra_env = extra_env or {}
        self.dir: Path | None = None
        self.replica_ports: list[int] = []
        self.replicas: list[subprocess.Popen | None] = []
        self.redis: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None
        self.pg_data: Path | None = None
        self.pg_bin = Path(os.environ.get("PG_BIN") or self._find_pg_bin())
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @staticmethod
    def _find_pg_bin() -> str:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if found:
            return str(found[-1])
        initdb = shutil.which("initdb")
        if initdb:
            return str(Path(initdb).parent)
        raise StackError("PostgreSQL server binaries not found: install postgresql or set PG_BIN")

    # -- addresses ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.replica_ports]

    def app_env(self) -> dict[str, str]:
        """The environment every replica (and `flask` against this stack) gets:
        what .env gives the web containers."""
        venv_bin = str(Path(sys.executable).parent)
        env = {
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
            "FLASK_APP": "best_app",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": self.secret_key,
            "PROXY_FIX_HOPS": "1",
            # nginx reaches the replicas over loopback; nobody else may forward.
            "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
            "WAITRESS_THREADS": str(self.threads),
            "LOG_LEVEL": "WARNING",
            "DB_WAIT_SECONDS": "30",
        }
        env.update(self.extra_env)
        return env

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> "Stack":
        self._check_tools()
        self.dir = Path(tempfile.mkdtemp(prefix="best_app_stack."))
        self.dir.chmod(0o755)  # postgres and nginx workers run as other users
        (self.dir / "logs").mkdir()
        self.secret_key = secrets.token_hex(32)
        try:
            self._start_postgres()
            self._start_redis()
            # Migrate once, before any replica starts: N entrypoints migrating
            # an empty database at the same moment would race each other.
            self.flask("db", "upgrade")
            self.replica_ports = [free_port() for _ in range(self.replica_count)]
            self.replicas = [None] * self.replica_count
            for index in range(self.replica_count):
                self.start_replica(index)
            for index in range(self.replica_count):
                self.wait_replica(index)
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _check_tools(self) -> None:
        venv_bin = Path(sys.executable).parent
        if not (venv_bin / "flask").exists() or not (venv_bin / "waitress-serve").exists():
            raise StackError(f"flask or waitress-serve is not installed beside {sys.executable}: "
                             "run this with the project's virtualenv (.venv/bin/python scripts/stack.py)")
        missing = [name for name in ("nginx", "redis-server", "runuser" if self.as_postgres else "true")
                   if not shutil.which(name)]
        if missing or not (self.pg_bin / "initdb").exists():
            raise StackError(f"missing {', '.join(missing) or 'initdb'}: install the Debian packages "
                             "postgresql, redis-server and nginx")

    def _start_postgres(self) -> None:
        pg = self.dir / "pg"
        pg.mkdir()
        if self.as_postgres:
            shutil.chown(pg, "postgres", "postgres")
        self.pg_data = pg / "data"
        self.pg_port = free_port()
        self._run([*self.as_postgres, str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "-U", "postgres",
                   "-A", "trust", "--no-sync", "-E", "UTF8"], "initdb")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.pg_port} -c unix_socket_directories={pg} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run([*self.as_postgres, str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-l",
                   str(pg / "server.log"), "-w", "-t", "60", "-o", options, "start"], "pg_ctl start")
        self._run([str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                   "best_app"], "createdb")
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.pg_port}/best_app"

    def _start_redis(self) -> None:
        redis_dir = self.dir / "redis"
        redis_dir.mkdir()
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self._spawn_redis()

    def _spawn_redis(self) -> None:
        # No persistence, like the compose service: the cache is disposable,
        # and a restart that comes back empty starts a new cache epoch.
        self.redis = self._spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                  "--dir", str(self.dir / "redis"), "--save", "", "--appendonly", "no"],
                                 "redis")
        _wait(lambda: _redis_ok(self.redis_port), "redis-server", 15, self.redis, self.dir / "logs/redis.log")

    def start_replica(self, index: int) -> None:
        env = self.app_env() | {"HOST": "127.0.0.1", "PORT": str(self.replica_ports[index])}
        self.replicas[index] = self._spawn(["bash", str(ROOT / "service_entrypoint.sh")], f"web{index + 1}",
                                           env=env, cwd=ROOT)

    def wait_replica(self, index: int, timeout: float = 60) -> None:
        url = f"{self.replica_urls[index]}/api/v1/health"
        _wait(lambda: _http_ok(url), f"replica {index + 1}", timeout, self.replicas[index],
              self.dir / f"logs/web{index + 1}.log")

    def stop_replica(self, index: int, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        process = self.replicas[index]
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    # -- faults, for the fault suite (tests/faults) ----------------------------
    def pause_redis(self) -> None:
        """Freeze Redis (SIGSTOP): connections stay open, nothing answers."""
        os.kill(self.redis.pid, signal.SIGSTOP)

    def resume_redis(self) -> None:
        os.kill(self.redis.pid, signal.SIGCONT)

    def kill_redis(self) -> None:
        """Kill Redis outright (SIGKILL): connections are refused until restart_redis()."""
        os.kill(self.redis.pid, signal.SIGCONT)  # a paused process dies only once it runs
        self.redis.kill()
        self.redis.wait()

    def restart_redis(self) -> None:
        """Start Redis again on the same port, after kill_redis()."""
        self._spawn_redis()

    def restart_postgres(self, mode: str = "fast") -> None:
        """`pg_ctl restart`: every connection is cut; returns once the server accepts again."""
        self._run([*self.as_postgres, str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-m", mode,
                   "-w", "-t", "60", "-l", str(self.dir / "pg" / "server.log"), "restart"], "pg_ctl restart")

    def _start_nginx(self) -> None:
        run_dir = self.dir / "nginx"
        run_dir.mkdir()
        nginx_user = "nobody nogroup" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        if os.geteuid() == 0:
            shutil.chown(run_dir, "nobody", "nogroup")  # workers write temp files and the cache here
        values = {
            "NGINX_USER": nginx_user,
            "NGINX_LISTEN": f"127.0.0.1:{self.port}",
            "NGINX_UPSTREAM_SERVERS": upstream_servers([f"127.0.0.1:{p}" for p in self.replica_ports]),
            "NGINX_RUN_DIR": str(run_dir),
            "NGINX_LOG_DIR": str(self.dir / "logs"),
            "NGINX_STATIC_ROOT": str(self.dir / "static"),
            "NGINX_PAGES_ROOT": str(ROOT / "nginx"),
            "NGINX_UPSTREAM_HEADER": "$upstream_addr",  # which replica answered, for tests and debugging
        }
        # A snapshot: restart the stack to pick up changes to static/.
        precompressed_copy(ROOT / "static", self.dir / "static")
        self.nginx_conf = self.dir / "nginx.conf"
        self.nginx_conf.write_text(render_nginx(values))
        command = ["nginx", "-c", str(self.nginx_conf), "-e", str(self.dir / "logs/error.log")]
        self._run([*command, "-t", "-q"], "nginx -t")
        # The same foreground mode as the nginx image's CMD.
        self.nginx = self._spawn([*command, "-g", "daemon off;"], "nginx-stdout")
        _wait(lambda: _http_ok(f"{self.url}/api/v1/health"), "nginx", 15, self.nginx,
              self.dir / "logs/error.log")

    def stop(self) -> None:
        """Stop everything that was started, front to back, and remove the directory."""
        if self.nginx is not None:
            _terminate(self.nginx, signal.SIGQUIT)  # graceful: finish open requests
            self.nginx = None
        for index, process in enumerate(self.replicas):
            if process is not None:
                _terminate(process, signal.SIGTERM)
                self.replicas[index] = None
        if self.redis is not None:
            _terminate(self.redis, signal.SIGTERM)
            self.redis = None
        if self.pg_data is not None and (self.pg_data / "postmaster.pid").exists():
            subprocess.run([*self.as_postgres, str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-m", "fast",
                            "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.pg_data = None
        if self.dir is not None and not os.environ.get("STACK_KEEP_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------
    def flask(self, *args: str) -> str:
        """Run a `flask` command against this stack's database; returns stdout."""
        result = subprocess.run(["flask", *args], cwd=ROOT, env=self.app_env(), capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            raise StackError(f"flask {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def log(self, name: str) -> str:
        return (self.dir / "logs" / f"{name}.log").read_text(errors="replace")

    def _run(self, command: list[str], what: str) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise StackError(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def _spawn(self, command: list[str], name: str, env: dict | None = None, cwd: Path | None = None):
        log = open(self.dir / "logs" / f"{name}.log", "ab")
        # Own session: a Ctrl-C in the terminal reaches only this runner,
        # which then stops the children in order.
        try:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                    start_new_session=True)
        finally:
            log.close()

    def state(self) -> dict:
        return {"runner_pid": os.getpid(), "dir": str(self.dir), "url": self.url,
                "replicas": self.replica_urls}


def _terminate(process: subprocess.Popen, sig: int, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- command line ----------------------------------------------------------
def up(args) -> int:
    stopping = []

    def request_stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"starting PostgreSQL, Redis, {args.replicas} replica(s) and nginx ...", file=sys.stderr)
    try:
        stack = Stack(replicas=args.replicas, port=args.port, threads=args.threads).start()
    except (StackError, TemplateError) as error:
        print(f"stack: {error}", file=sys.stderr)
        return 1
    try:
        STATE_FILE.parent.mkdir(exist_ok=True)
        STATE_FILE.write_text(json.dumps(stack.state(), indent=2))
        print(stack.flask("ensure-admin").strip() or "An admin account exists already.")
        print(f"best_app is at {stack.url}/admin/  (API: {stack.url}/api/v1/, "
              f"replicas: {', '.join(stack.replica_urls)}, logs: {stack.dir}/logs)")
        print("Ctrl-C or `scripts/stack.py stop` stops it.", flush=True)
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(stack.replicas):
                if process is not None and process.poll() is not None:
                    print(f"replica {index + 1} exited with {process.returncode}; see its log",
                          file=sys.stderr)
                    stack.replicas[index] = None
    finally:
        print("stopping ...", file=sys.stderr)
        stack.stop()
        STATE_FILE.unlink(missing_ok=True)
    return 0


def stop(_args) -> int:
    if not STATE_FILE.exists():
        print(f"no stack is running (no {STATE_FILE})", file=sys.stderr)
        return 1
    state = json.loads(STATE_FILE.read_text())
    pid = state["runner_pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print(f"the runner (pid {pid}) is gone; remove {state['dir']} by hand if it is left",
              file=sys.stderr)
        STATE_FILE.unlink(missing_ok=True)
        return 1
    # The runner removes the state file once everything is down.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not STATE_FILE.exists():
            print("stopped")
            return 0
        time.sleep(0.2)
    print(f"the runner (pid {pid}) did not stop within 60 s", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="up", choices=["up", "stop"])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=None, help="nginx port (default: a free one)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per replica")
    args = parser.parse_args(argv)
    return up(args) if args.command == "up" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
