"""Settings for best_app, read from the environment.

With no environment at all the app runs on the embedded default: a SQLite
file in the instance folder and an in-process cache. Production sets
DATABASE_URL (PostgreSQL), REDIS_URL and SECRET_KEY.
"""
import ipaddress
import logging
import os
from datetime import timedelta


class ConfigError(SystemExit):
    """A setting is missing or invalid.

    It is a SystemExit so that `flask`, waitress-serve and the entrypoint
    stop with the one-line message and exit status 1, not a traceback.
    """

    def __init__(self, message: str):
        super().__init__(f"best_app: configuration error: {message}")


def _int(environ, name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(environ, name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_networks(name: str, raw: str) -> tuple:
    """A comma-separated list of addresses and networks (IPv4 or IPv6, CIDR or
    bare address) as ip_network objects; errors name the setting."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            try:
                # Host bits set, as in 10.0.0.1/8: refuse rather than guess
                # whether the address or the prefix was the typo.
                loose = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(f"{name} must list IP addresses or networks such as 10.0.0.0/8 or "
                                  f"::1/128, got {item!r}") from None
            raise ConfigError(f"{name}: {item!r} has host bits set; did you mean {loose}?") from None
    return tuple(networks)


def normalise_database_url(url: str) -> str:
    # Heroku-style URLs say postgres://, which SQLAlchemy no longer accepts.
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://"):]
    return url


class Config:
    """Production and development settings, read from `environ` when built."""

    TESTING = False
    DEBUG = False
    MAX_CONTENT_LENGTH = 64 * 1024
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PASSWORD_HASH_METHOD = "scrypt"
    CACHE_DEFAULT_TIMEOUT = 300
    TOKEN_CACHE_SECONDS = 60
    # How stale a replica's idea of the cache era may get (best_app.cache_era).
    CACHE_ERA_POLL_SECONDS = 0.5
    # After a failed round trip to Redis, skip it this long rather than wait for its timeout on every call.
    CACHE_RETRY_SECONDS = 1.0
    # Redis pushes changed generations to each process (best_app.cache_tracking), so a warm
    # cached read makes no round trip; a local copy is trusted only while Redis answered a
    # PING sent less than this long ago (keep it below the cache's 0.5 s socket timeout).
    CACHE_TRACKING_TRUST_SECONDS = 0.25
    # With tracking: answer a repeated API read that Flask served from local copies with the
    # response it sent, while those copies stay current (best_app.hit_replay); bytes kept at most.
    CACHE_REPLAY = True
    CACHE_REPLAY_BYTES = 32 * 1024 * 1024
    # Record the change log (best_app.history). Off only to measure what recording costs (bench.history).
    HISTORY_ENABLED = True
    PROCESS_CACHE_SECONDS = 10  # entry lifetime when the cache is in-process (no REDIS_URL)
    LOGIN_RATE_LIMIT = "5 per minute"

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.SECRET_KEY = env.get("SECRET_KEY") or None
        self.DEBUG = _bool(env, "FLASK_DEBUG", False)

        database_url = env.get("DATABASE_URL")
        # None means "the embedded SQLite file"; the factory fills in the path
        # because only it knows the instance folder.
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url) if database_url else None
        # For psycopg2 the factory makes the pre-ping a look at the socket (best_app.db_pool).
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # Threads share one GIL: under load every thread past a few mostly waits for it, and
        # each hand-over costs the process CPU (context switches). bench.api measured list
        # misses and writes a half faster with 4 (waitress's own default) than with 8, and
        # cached reads no slower. More concurrency comes from more replicas.
        self.WAITRESS_THREADS = _int(env, "WAITRESS_THREADS", 4, minimum=1)
        if self.SQLALCHEMY_DATABASE_URI and not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            self.SQLALCHEMY_ENGINE_OPTIONS.update(
                # One kept connection per thread: with fewer, the threads beyond the pool
                # would each open (and close) an overflow connection per request.
                pool_size=_int(env, "DB_POOL_SIZE", self.WAITRESS_THREADS, minimum=1),
                max_overflow=_int(env, "DB_MAX_OVERFLOW", 10),
                pool_recycle=_int(env, "DB_POOL_RECYCLE", 1800, minimum=1),
                pool_timeout=_int(env, "DB_POOL_TIMEOUT", 10, minimum=1),
            )
        if self.SQLALCHEMY_DATABASE_URI and self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # A database that is down or unreachable must fail a new connection
            # quickly (503, a failing health check), not hold a request for the
            # system's TCP timeout. libpq counts whole seconds, 1 meaning 2.
            self.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] = {
                "connect_timeout": _int(env, "DB_CONNECT_TIMEOUT", 2, minimum=2)}

        redis_url = env.get("REDIS_URL")
        self.REDIS_URL = redis_url or None
        self.CACHE_KEY_PREFIX = env.get("CACHE_KEY_PREFIX", "best_app:")
        if redis_url:
            self.CACHE_TYPE = "RedisCache"
            self.CACHE_REDIS_URL = redis_url
            # RESP2: the server pushes nothing unasked on a cache connection (best_app.cache_thread
            # takes anything waiting on one for the server's goodbye).
            self.CACHE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "protocol": 2}
            # Off only to measure what it saves (bench.api), or for a Redis that lacks CLIENT TRACKING.
            self.CACHE_TRACKING = _bool(env, "CACHE_TRACKING", True)
            # Off only to measure what it saves (bench.api).
            self.CACHE_REPLAY = _bool(env, "CACHE_REPLAY", True)
        else:
            self.CACHE_TYPE = "SimpleCache"

        self.PORT = _int(env, "PORT", 8000, minimum=1)
        level = env.get("LOG_LEVEL", "INFO").upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ConfigError(f"LOG_LEVEL must be a logging level such as INFO, got {level!r}")
        self.LOG_LEVEL = level
        # Number of trusted proxies in front of the app (nginx: 1). 0 turns ProxyFix off.
        self.PROXY_FIX_HOPS = _int(env, "PROXY_FIX_HOPS", 0)
        # Only requests from these addresses may set X-Forwarded-*; anyone else
        # reaching a replica directly gets them stripped (best_app.proxies).
        # Required when PROXY_FIX_HOPS > 0: the factory refuses to start without it.
        self.TRUSTED_PROXIES = parse_networks("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", ""))
        self.SESSION_COOKIE_SECURE = _bool(env, "SESSION_COOKIE_SECURE", False)
        # An admin session ends this long after login (best_app.models.admin_session);
        # Flask refuses a session cookie signed longer ago than this too.
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=_int(env, "SESSION_LIFETIME_HOURS", 12, minimum=1))
        # ... or after this long without a request; 0 (the default) means never.
        idle_minutes = _int(env, "SESSION_IDLE_MINUTES", 0)
        self.SESSION_IDLE_TIMEOUT = timedelta(minutes=idle_minutes) if idle_minutes else None
        # `flask history prune` without --older-than keeps this many days of the change log; 0: no default.
        self.HISTORY_RETENTION_DAYS = _int(env, "HISTORY_RETENTION_DAYS", 0)
        self.HISTORY_ENABLED = _bool(env, "HISTORY_ENABLED", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # The largest CSV file an import accepts (admin upload, API body, CLI file); MAX_CONTENT_LENGTH
        # (64 KiB) stays the limit of every other request.
        self.CSV_IMPORT_MAX_BYTES = _int(env, "CSV_IMPORT_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)
        # Used by Flask-Limiter; memory:// is right for one process only.
        self.RATELIMIT_STORAGE_URI = redis_url or "memory://"


class TestConfig(Config):
    """Fast, isolated settings for the test suite.

    TEST_DATABASE_URL and TEST_REDIS_URL point the same tests at real
    PostgreSQL and Redis servers.
    """

    TESTING = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # cheap hashing keeps tests fast
    LOGIN_RATE_LIMIT = "5 per minute"

    def __init__(self, environ=None):
        env = dict(os.environ if environ is None else environ)
        test_env = {
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": env.get("TEST_DATABASE_URL", "sqlite://"),
            "REDIS_URL": env.get("TEST_REDIS_URL", ""),
            "CACHE_KEY_PREFIX": env.get("TEST_CACHE_KEY_PREFIX", "best_app_test:"),
        }
        super().__init__(test_env)
