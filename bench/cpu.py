"""CPU seconds of processes and of the machine, from /proc (Linux), to explain a
benchmark's figures: who used the cores while it ran."""
from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICK


def reaped_children_seconds(pid: int) -> float:
    """CPU seconds of the children a process has waited for (a postmaster's finished backends)."""
    fields = _stat(pid)
    return (int(fields[13]) + int(fields[14])) / TICK


def children(pid: int) -> list[int]:
    """The live children of a process (an nginx master's workers)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return (total - idle) / TICK, total / TICK


class CpuMeter:
    """CPU used by named processes (and the whole machine) between start() and stop(),
    in percent of one core. A process's children are counted with it (`with_children`)."""

    def __init__(self, pids: dict[str, int], with_children: set[str] = frozenset()):
        self.pids, self.with_children = pids, with_children

    def _sample(self) -> dict[str, float]:
        sample = {}
        for name, pid in self.pids.items():
            pids = [pid, *children(pid)] if name in self.with_children else [pid]
            total = 0.0
            for each in pids:
                try:
                    total += process_seconds(each)
                except OSError:  # gone meanwhile
                    pass
            sample[name] = total
        busy, total = machine_busy_seconds()
        sample["machine (all cores)"], sample["_total"] = busy, total
        return sample

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        wall_core_seconds = (end["_total"] - self._start["_total"]) / os.cpu_count()
        return {name: 100 * (end[name] - self._start[name]) / wall_core_seconds
                for name in end if name != "_total"}
