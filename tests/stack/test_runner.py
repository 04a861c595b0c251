"""scripts/stack.py from the command line: one command starts the whole
topology and prints its URL; `stop` or Ctrl-C stops everything and leaves
nothing behind."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack.conftest import ROOT, request


def start_runner(tmp_path: Path) -> tuple[subprocess.Popen, str, dict]:
    env = {**os.environ, "STACK_STATE_FILE": str(tmp_path / "stack.json")}
    runner = subprocess.Popen([sys.executable, str(ROOT / "scripts/stack.py"), "--replicas", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in runner.stdout:
        lines.append(line)
        if "stops it" in line:
            break
    match = re.search(r"best_app is at (http://127\.0\.0\.1:\d+)/admin/", "".join(lines))
    assert match, "".join(lines)
    assert re.search(r"Created admin account 'admin' with password: \S+", "".join(lines))
    return runner, match.group(1), json.loads((tmp_path / "stack.json").read_text())


@pytest.mark.parametrize("how", ["stop command", "ctrl-c"])
def test_one_command_starts_and_stops_everything(tmp_path, how):
    runner, url, state = start_runner(tmp_path)
    try:
        assert request("GET", f"{url}/api/v1/health").json()["status"] == "ok"
        assert Path(state["dir"]).is_dir()
        if how == "ctrl-c":
            runner.send_signal(signal.SIGINT)
        else:
            stop = subprocess.run([sys.executable, str(ROOT / "scripts/stack.py"), "stop"], capture_output=True,
                                  text=True, timeout=90, env={**os.environ, "STACK_STATE_FILE": str(tmp_path / "stack.json")})
            assert stop.returncode == 0, stop.stderr
        assert runner.wait(60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        runner.stdout.close()
    assert not Path(state["dir"]).exists()
    assert not (tmp_path / "stack.json").exists()
    for address in [url, *state["replicas"]]:
        with pytest.raises(OSError):
            request("GET", f"{address}/api/v1/health", timeout=2)
