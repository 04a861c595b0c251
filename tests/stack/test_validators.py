"""Offline checks of what only Docker would run: the compose file with
docker-compose, the Dockerfile with hadolint, and both renderings of the
nginx template with `nginx -t`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stack_nginx import TemplateError, render_nginx, upstream_servers
from tests.stack.conftest import ROOT

SECRETS = {"SECRET_KEY": "0123456789abcdef", "POSTGRES_PASSWORD": "s3cret"}


def tool(name: str, *candidates: Path) -> str:
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (see docs/deployment.md, 'Checks without Docker')")
    return found


# -- hadolint ----------------------------------------------------------------
def hadolint(path: Path) -> subprocess.CompletedProcess:
    binary = tool("hadolint", Path(sys.executable).parent / "hadolint")
    return subprocess.run([binary, "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_dockerfile_passes_hadolint():
    result = hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the ":latest" tag


def test_dockerfile_final_stage_is_slim_non_root_and_checks_health():
    stages = (ROOT / "Dockerfile").read_text().split("\nFROM ")
    final = stages[-1]
    assert final.startswith("python:3.11-slim")
    user = [line.split()[1] for line in final.splitlines() if line.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert "HEALTHCHECK" in final and "/api/v1/health" in final and "PORT" in final
    assert not any(word in final for word in ("gcc", "build-essential", "apt-get install"))
    # The dependency layer is built before any code is copied, so it stays cached.
    build = next(stage for stage in stages if "requirements.txt" in stage)
    assert "COPY best_app" not in build
    assert final.index("COPY --from=build") < final.index("COPY best_app/")


def test_dockerignore_keeps_secrets_and_history_out_of_the_build_context():
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"  # an allow-list
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert not allowed & {".env", ".git", ".venv", "instance", "tests"}
    # Everything the Dockerfile copies from the context is allowed in.
    copied = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(part.rstrip("/").split("/")[0] for part in line.split()[1:-1] if not part.startswith("--"))
    assert copied <= allowed, copied - allowed


# -- docker-compose ------------------------------------------------------------
def compose(tmp_path: Path, env_text: str, *args: str) -> subprocess.CompletedProcess:
    """`docker-compose -f docker-compose.yml <args>` on a copy of the file
    beside an .env made from .env.example, as an operator would set it up."""
    binary = tool("docker-compose", Path(os.environ.get("DOCKER_COMPOSE", "/nonexistent")),
                  ROOT / ".venv/compose/bin/docker-compose")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text(env_text)
    return subprocess.run([binary, "-f", "docker-compose.yml", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)


def example_env(**values: str) -> str:
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={values[name]}" if name in values and not line.startswith("#") else line)
    return "\n".join(lines) + "\n"


def resolved_compose(tmp_path: Path) -> dict:
    result = compose(tmp_path, example_env(**SECRETS), "config")
    assert result.returncode == 0, result.stderr
    # docker-compose's own interpreter has PyYAML; ours need not.
    binary = Path(tool("docker-compose", ROOT / ".venv/compose/bin/docker-compose"))
    python = binary.parent / "python"
    parsed = subprocess.run([str(python), "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                            input=result.stdout, capture_output=True, text=True, check=True)
    return json.loads(parsed.stdout)


def test_compose_file_is_valid(tmp_path):
    result = compose(tmp_path, example_env(**SECRETS), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    result = compose(tmp_path, example_env(SECRET_KEY="x"), "config", "-q")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_compose_topology(tmp_path):
    services = resolved_compose(tmp_path)["services"]
    assert set(services) == {"web", "migrate", "nginx", "db", "redis", "adminer"}
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx", "adminer"}
    assert services["adminer"]["profiles"] == ["adminer"]
    assert services["adminer"]["ports"][0].startswith("127.0.0.1:")
    # --scale needs no fixed name and no fixed host port.
    assert "container_name" not in services["web"]
    for name, service in services.items():
        if name != "migrate":  # a one-shot job, not a service to watch
            assert service["healthcheck"].get("test"), name
        for dependency in service.get("depends_on", {}).values():
            assert dependency["condition"] in {"service_healthy", "service_completed_successfully"}, name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["db"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["image"].startswith("redis:7")
    redis_command = services["redis"]["command"]  # a cache: nothing persisted (see docs/deployment.md)
    assert redis_command[redis_command.index("--appendonly") + 1] == "no"
    assert redis_command[redis_command.index("--save") + 1] == ""
    assert services["web"]["environment"]["PROXY_FIX_HOPS"] == "1"
    assert services["web"]["environment"]["SECRET_KEY"] == SECRETS["SECRET_KEY"]  # from env_file
    # nginx cannot reach the database: it shares only the front network with web.
    assert set(services["nginx"]["networks"]) == {"front"}
    assert set(services["db"]["networks"]) == {"back"}


# -- nginx -t ------------------------------------------------------------------
def nginx_test(conf: Path, *, namespace_setup: str = "") -> subprocess.CompletedProcess:
    script = f"set -e\n{namespace_setup}\nexec nginx -t -c {conf} -e /dev/stderr\n"
    if namespace_setup:
        # A private mount namespace: the container's paths and names exist
        # only for this one command and nothing on the machine changes.
        unshare = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
        command = [*unshare, "sh", "-c", script]
    else:
        command = ["sh", "-c", script]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_loopback_rendering_passes_nginx_t(tmp_path):
    (tmp_path / "run").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx({
        "NGINX_USER": "nobody nogroup" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
        "NGINX_LISTEN": "127.0.0.1:8080",
        "NGINX_UPSTREAM_SERVERS": upstream_servers(["127.0.0.1:8001", "127.0.0.1:8002"]),
        "NGINX_RUN_DIR": str(tmp_path / "run"),
        "NGINX_LOG_DIR": str(tmp_path),
        "NGINX_STATIC_ROOT": str(ROOT / "static"),
        "NGINX_PAGES_ROOT": str(ROOT / "nginx"),
        "NGINX_UPSTREAM_HEADER": "$upstream_addr",
    }))
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    assert "server 127.0.0.1:8002 max_fails=0;" in conf.read_text()


def test_container_rendering_passes_nginx_t(tmp_path):
    values = resolved_compose(tmp_path)["services"]["nginx"]["environment"]
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx(values))  # every placeholder has a value in compose
    assert "server web:8000 max_fails=0;" in conf.read_text()
    # nginx sends no header with an empty value: replica addresses stay internal.
    assert 'add_header X-Upstream "" always;' in conf.read_text()
    # What the nginx container has and this machine lacks: the name "web"
    # (Docker's DNS), the "nginx" account, and its cache and log folders.
    (tmp_path / "hosts").write_text("127.0.0.1 localhost\n127.0.0.1 web\n")
    (tmp_path / "passwd").write_text(Path("/etc/passwd").read_text() + "nginx:x:101:101::/nonexistent:/bin/false\n")
    (tmp_path / "group").write_text(Path("/etc/group").read_text() + "nginx:x:101:\n")
    setup = "\n".join([
        f"mount --bind {tmp_path / 'hosts'} /etc/hosts",
        f"mount --bind {tmp_path / 'passwd'} /etc/passwd",
        f"mount --bind {tmp_path / 'group'} /etc/group",
        f"mount -t tmpfs tmpfs {values['NGINX_RUN_DIR']} 2>/dev/null || "
        f"{{ mount -t tmpfs tmpfs /var/cache && mkdir -p {values['NGINX_RUN_DIR']}; }}",
        f"mount -t tmpfs tmpfs {values['NGINX_LOG_DIR']} 2>/dev/null || "
        f"{{ mount -t tmpfs tmpfs /var/log && mkdir -p {values['NGINX_LOG_DIR']}; }}",
    ])
    result = nginx_test(conf, namespace_setup=setup)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_t_rejects_a_broken_rendering(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { server { listen 127.0.0.1:8080; proxy_cache no_such_zone; } }\n")
    result = nginx_test(conf)
    assert result.returncode != 0
    assert 'zone "no_such_zone" is unknown' in result.stderr


def test_rendering_needs_every_placeholder():
    with pytest.raises(TemplateError, match="NGINX_LISTEN"):
        render_nginx({"NGINX_USER": "nobody"})
