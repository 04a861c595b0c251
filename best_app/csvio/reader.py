"""Reading an uploaded CSV file: bytes in, a header and numbered rows out, or a
FileProblem that says in one sentence what is wrong with the file as a whole.

A file must be UTF-8 (a byte order mark, as Excel writes, is fine), at most
CSV_IMPORT_MAX_BYTES long, and start with a header naming columns of the
resource (those its export writes, and write-only ones such as a password),
each once. Malformed quoting stops the read with its line number. Rows with
the wrong number of cells are row errors, reported by the importer.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from best_app.csvio.export import export_columns
from best_app.resources import Resource

# Larger than any field the forms accept (a task's description: 10,000), so an
# oversized cell reaches the form and gets its message.
FIELD_LIMIT = 100_000


class FileProblem(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class CsvFile:
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (line where the row starts, its cells)


def accepted_columns(resource: Resource) -> list[str]:
    return [*export_columns(resource), *(name for name in resource.writable if name in resource.write_only)]


def size_problem(limit: int) -> FileProblem:
    return FileProblem(f"The file is larger than the limit of {limit:,} bytes (CSV_IMPORT_MAX_BYTES); "
                       "split it into smaller files.", status=413)


def read_csv(resource: Resource, raw: bytes, limit: int) -> CsvFile:
    if len(raw) > limit:
        raise size_problem(limit)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise FileProblem(f"The file is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line}); "
                          "save it as UTF-8 (in Excel: \"CSV UTF-8\").") from None
    if not text.strip():
        raise FileProblem("The file is empty: it needs a header line naming the columns, then one line per row.")
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, header = [], None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise FileProblem(f"Line {start} is not valid CSV: {error}.") from None
        if not cells:
            continue  # a blank line
        if header is None:
            header = [cell.strip() for cell in cells]
        else:
            rows.append((start, tuple(cells)))  # a tuple of strings: the collector soon stops tracking it
    return CsvFile(check_header(resource, header), rows)


def check_header(resource: Resource, header: list[str]) -> list[str]:
    accepted = accepted_columns(resource)
    unknown = [name for name in header if name not in accepted]
    if unknown:
        raise FileProblem(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}. "
                          f"The first line must name columns of {resource.name}: {', '.join(accepted)}.")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileProblem(f"Column{'s' if len(repeated) > 1 else ''} given more than once: {', '.join(repeated)}.")
    if not any(name in resource.writable for name in header):
        raise FileProblem(f"No column to import: give at least one of {', '.join(resource.writable)}.")
    return header
