"""The load generator every benchmark uses: wrk (Debian package "wrk")."""
from __future__ import annotations

import re
import subprocess
import tempfile

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int, headers: dict | None = None, script: str | None = None) -> dict:
    """Load `url` with wrk; requests/s, p50 and p99 in ms. Any error response fails the run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses|Socket errors", output):
        raise RuntimeError(f"{url}: errors during the run:\n{output}")

    def percentile(p: int) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * UNITS[unit]

    misses = re.search(r"cache misses: (\d+) of (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": percentile(50), "p99": percentile(99),
            "note": f"{int(misses[1]) / max(int(misses[2]), 1):.0%} misses" if misses else ""}


def print_table(title: str, results: list, baseline_label: str, digits: int = 2) -> None:
    """Markdown table of (name, wrk result) rows; the first row is the baseline. A result's
    own "ratio" (measured round by round) is printed where it has one."""
    baseline = results[0][1]["rps"]
    print(f"## {title}")
    print(f"| measurement | requests/s | p50 ms | p99 ms | {baseline_label} |")
    print("|---|---:|---:|---:|---:|")
    for name, result in results:
        note = f" ({result['note']})" if result.get("note") else ""
        print(f"| {name}{note} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} | "
              f"{result.get('ratio', result['rps'] / baseline):.{digits}f} |")
