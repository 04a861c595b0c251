"""Configuration from the environment, and its errors."""
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from best_app import create_app
from config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_default_is_sqlite_and_an_in_process_cache():
    config = Config({"SECRET_KEY": "x"})
    assert config.SQLALCHEMY_DATABASE_URI is None
    assert config.CACHE_TYPE == "SimpleCache"
    app = create_app(config)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/best_app.sqlite3")


def test_postgres_scheme_is_normalised():
    config = Config({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u:p@db:5432/app"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql://u:p@db:5432/app"
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


def test_redis_url_selects_the_redis_cache_with_a_prefix():
    config = Config({"SECRET_KEY": "x", "REDIS_URL": "redis://cache:6379/0"})
    assert config.CACHE_TYPE == "RedisCache"
    assert config.CACHE_REDIS_URL == "redis://cache:6379/0"
    assert config.CACHE_KEY_PREFIX


def test_pool_sizes_come_from_the_environment():
    config = Config({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://db/app", "DB_POOL_SIZE": "12"})
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 12


def test_the_pool_keeps_a_connection_per_server_thread_by_default():
    # Fewer, and every request beyond the pool would open and close a connection.
    config = Config({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://db/app", "WAITRESS_THREADS": "6"})
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 6


@pytest.mark.parametrize("name,value", [("PORT", "eighty"), ("WAITRESS_THREADS", "0"),
                                        ("LOG_LEVEL", "LOUD"), ("SESSION_COOKIE_SECURE", "maybe")])
def test_bad_values_name_the_setting(name, value):
    with pytest.raises(ConfigError) as excinfo:
        Config({"SECRET_KEY": "x", name: value})
    assert name in str(excinfo.value.code)


def test_missing_secret_key_refuses_to_start(tmp_path):
    config = Config({})
    config.INSTANCE_PATH = str(tmp_path)
    with pytest.raises(ConfigError) as excinfo:
        create_app(config)
    assert "SECRET_KEY" in str(excinfo.value.code)


def test_generated_secret_key_in_the_instance_folder_is_used(tmp_path):
    (tmp_path / "secret_key").write_text("generated-by-make-run\n")
    config = Config({})
    config.INSTANCE_PATH = str(tmp_path)
    app = create_app(config)
    assert app.config["SECRET_KEY"] == "generated-by-make-run"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'best_app.sqlite3'}"


def test_missing_secret_key_is_one_clear_line_from_the_cli(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "FLASK_APP": "best_app", "HOME": str(tmp_path),
           "INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "flask", "db", "current"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SECRET_KEY" in lines[0]


def test_admin_sessions_last_twelve_hours_and_never_idle_out_by_default():
    config = Config({"SECRET_KEY": "x"})
    assert config.PERMANENT_SESSION_LIFETIME == timedelta(hours=12)
    assert config.SESSION_IDLE_TIMEOUT is None


def test_session_lifetime_and_idle_timeout_come_from_the_environment():
    config = Config({"SECRET_KEY": "x", "SESSION_LIFETIME_HOURS": "3", "SESSION_IDLE_MINUTES": "20"})
    assert config.PERMANENT_SESSION_LIFETIME == timedelta(hours=3)
    assert config.SESSION_IDLE_TIMEOUT == timedelta(minutes=20)
    assert create_app(config).permanent_session_lifetime == timedelta(hours=3)


@pytest.mark.parametrize("name,value", [("SESSION_LIFETIME_HOURS", "0"), ("SESSION_LIFETIME_HOURS", "1.5"),
                                        ("SESSION_IDLE_MINUTES", "-1")])
def test_bad_session_durations_name_the_setting(name, value):
    with pytest.raises(ConfigError) as excinfo:
        Config({"SECRET_KEY": "x", name: value})
    assert name in str(excinfo.value.code)


def test_trusted_proxies_are_parsed_as_networks():
    import ipaddress

    config = Config({"SECRET_KEY": "x", "TRUSTED_PROXIES": " 127.0.0.1/32, ::1/128,10.1.2.3 ,fd00::/8"})
    assert config.TRUSTED_PROXIES == tuple(ipaddress.ip_network(n) for n in
                                           ("127.0.0.1/32", "::1/128", "10.1.2.3/32", "fd00::/8"))
    assert Config({"SECRET_KEY": "x"}).TRUSTED_PROXIES == ()


@pytest.mark.parametrize("value", ["nginx", "10.0.0.0/33", "10.0.0.1/8", "::1/129", "127.0.0.1/32;::1"])
def test_bad_trusted_proxies_name_the_setting(value):
    with pytest.raises(ConfigError) as excinfo:
        Config({"SECRET_KEY": "x", "TRUSTED_PROXIES": value})
    assert "TRUSTED_PROXIES" in str(excinfo.value.code)


def test_proxy_fix_hops_without_trusted_proxies_is_one_clear_line_from_the_cli(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "FLASK_APP": "best_app", "HOME": str(tmp_path),
           "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "PROXY_FIX_HOPS": "1"}
    result = subprocess.run([sys.executable, "-m", "flask", "db", "current"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "TRUSTED_PROXIES" in lines[0], result.stderr


def test_postgres_connections_time_out_quickly():
    config = Config({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://db/app"})
    assert config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] == {"connect_timeout": 2}
    config = Config({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://db/app", "DB_CONNECT_TIMEOUT": "5"})
    assert config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] == {"connect_timeout": 5}
    with pytest.raises(ConfigError) as excinfo:
        Config({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://db/app", "DB_CONNECT_TIMEOUT": "1"})
    assert "DB_CONNECT_TIMEOUT" in str(excinfo.value.code)
