"""A warning repeated for every request under load is written once per interval, with a count."""
from __future__ import annotations

import logging
import time

from best_app.log_summary import OncePerInterval


def test_a_repeated_warning_is_written_once_per_interval_with_how_many_were_held(caplog):
    logger = logging.getLogger("tests.repeating")
    logger.addFilter(OncePerInterval(0.2))
    caplog.set_level(logging.WARNING, logger="tests.repeating")
    for depth in range(1, 101):
        logger.warning("Task queue depth is %d", depth)
    assert [record.getMessage() for record in caplog.records] == ["Task queue depth is 1"]

    time.sleep(0.25)
    logger.warning("Task queue depth is %d", 7)
    assert caplog.records[-1].getMessage() == "Task queue depth is 7 (99 more like this in the 0.2 s before)"
    assert len(caplog.records) == 2


def test_the_app_summarises_the_queue_warnings_of_waitress(app):
    assert any(isinstance(each, OncePerInterval) for each in logging.getLogger("waitress.queue").filters)
    assert sum(isinstance(each, OncePerInterval) for each in logging.getLogger("waitress.queue").filters) == 1
