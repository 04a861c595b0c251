"""A real server and a real browser for the end-to-end tests.

The app runs under waitress in a subprocess on a free loopback port, on a
fresh database migrated with `flask db upgrade`: a temporary SQLite file, or
a new PostgreSQL database (created and dropped here) on the server that
TEST_DATABASE_URL points at. Chromium is Debian's, driven by Playwright.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ADMIN = ("e2e.admin", "e2e admin password")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(SECRET_KEY=secrets.token_hex(32), FLASK_APP="best_app", LOG_LEVEL="WARNING",
               CACHE_KEY_PREFIX=f"best_app_e2e_{secrets.token_hex(4)}:")
    with contextlib.ExitStack() as stack:
        if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
            env["DATABASE_URL"] = stack.enter_context(
                fresh_postgres_database(os.environ["TEST_DATABASE_URL"], prefix="best_app_e2e"))
        else:
            env["DATABASE_URL"] = f"sqlite:///{workdir / 'e2e.sqlite3'}"
        yield from _serve(env, workdir)


def _serve(env: dict, workdir: Path):
    """Migrate, add an admin and demo rows, run waitress; yield its URL, then stop it."""
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]

    def flask(*args):
        subprocess.run([_bin("flask"), *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)

    port = _free_port()
    process = None
    log = open(workdir / "waitress.log", "wb")
    try:
        flask("db", "upgrade")
        flask("users", "create-admin", "--username", ADMIN[0], "--email", "e2e.admin@example.com",
              "--name", "Erin Admin", "--password", ADMIN[1])
        # Enough rows that the screenshots show a populated product.
        flask("seed", "--users", "40", "--cars-per-user", "1", "--tasks", "60", "--random-seed", "7")
        process = subprocess.Popen(
            [_bin("waitress-serve"), "--host", "127.0.0.1", "--port", str(port), "--threads", "4",
             "--call", "best_app:create_app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app did not become healthy:\n" +
                                   (workdir / "waitress.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch_console(page)
    yield page
    context.close()


def watch_console(page):
    """Collect the page's console errors in `page.problems` (a test asserts it is empty)."""
    problems = page.problems = []

    def on_console(message):
        # A CSP violation, a script error or a missing asset shows up here; the
        # test fails on any. A page answered with 4xx on purpose (a form with
        # errors is a 400) is logged too, and is not a problem.
        url = message.location.get("url", "")
        if message.type == "error" and not (message.text.startswith("Failed to load resource")
                                            and "/static/" not in url):
            problems.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path
