"""Log a repeated warning once per interval, saying how many were held back.

waitress warns "Task queue depth is N" for every request that finds all its
threads busy. Under a sustained load that is every request: a minute of
benchmark load wrote 39,000 such lines, each formatted and written by the
thread that accepts connections while it holds the task queue's lock. The
signal is worth keeping (the replica is saturated); its repetition is not.
"""
from __future__ import annotations

import logging
import threading
import time

# Loggers whose every record says the same thing while a condition lasts.
REPEATING = ("waitress.queue",)


class OncePerInterval(logging.Filter):
    """Let one record through per `seconds`; the next one through says how many were dropped."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            held, self._held, self._next = self._held, 0, now + self.seconds
        if held:
            record.msg = f"{record.msg} ({held} more like this in the {self.seconds:g} s before)"
        return True


def summarise_repeating(seconds: float = 10.0) -> None:
    """Install the filter on each repeating logger, once per process."""
    for name in REPEATING:
        logger = logging.getLogger(name)
        if not any(isinstance(each, OncePerInterval) for each in logger.filters):
            logger.addFilter(OncePerInterval(seconds))
