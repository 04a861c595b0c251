"""Helpers of the CSV tests: reading a CSV response, building files."""
from __future__ import annotations

import csv
import io

from tests.api.conftest import assert_problem, reader_headers  # noqa: F401  (fixture and helper reused)


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def csv_bytes(header: list[str], *rows: list) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()
