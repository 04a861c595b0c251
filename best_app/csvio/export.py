"""Streaming a list as CSV: every row the list's filters, search and sort select.

One statement read through a server-side cursor (yield_per) in chunks of
CHUNK rows, each written out as soon as it is read, so memory stays flat
whatever the size, and the file is one consistent snapshot (the statement's),
which a keyset walked in many statements would not be while rows change. The
columns are the resource's readable fields, id and version included, so the
file can be edited and imported back (best_app.csvio.importer); secret and
write-only fields never appear. Text cells are escaped against formula
injection (best_app.csvio.cells).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timezone

from flask import current_app, stream_with_context
from sqlalchemy import select

from best_app.csvio.cells import selected
from best_app.extensions import db
from best_app.resources import Resource
from best_app.resources.query import ListQuery, narrow

CHUNK = 5_000
MEDIA_TYPE = "text/csv"


def export_columns(resource: Resource) -> list[str]:
    hidden = set(resource.secret_fields) | set(resource.secret_fields.values()) | set(resource.write_only)
    return [name for name in resource.fields if name not in hidden]


def _row_writer(converters: list):
    """A function from a selected row to its cells, or None when the rows are the cells."""
    converters = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    if not converters:
        return None

    def cells(row) -> list:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i])
        return values
    return cells


def csv_chunks(resource: Resource, query: ListQuery) -> Iterator[bytes]:
    """The CSV file of every row `query` selects (its limit and cursor ignored), in UTF-8 pieces."""
    columns = export_columns(resource)
    dialect = db.session.get_bind().dialect.name
    selects, converters = zip(*(selected(resource.column(name), dialect) for name in columns))
    cells = _row_writer(list(converters))
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF, quotes doubled, quoted only where needed
    writer.writerow(columns)
    yield buffer.getvalue().encode()
    sort_column, id_column = resource.sort_expression(query.sort), resource.column("id")
    order = (sort_column.desc(), id_column.desc()) if query.descending else (sort_column, id_column)
    statement = narrow(resource, select(*selects), query).order_by(*order)
    result = db.session.execute(statement, execution_options={"yield_per": CHUNK})
    for rows in result.partitions():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows if cells is None else map(cells, rows))
        yield buffer.getvalue().encode()


def csv_response(resource: Resource, query: ListQuery):
    """A streamed download of the list; never stored by any cache."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    response = current_app.response_class(stream_with_context(csv_chunks(resource, query)), mimetype=MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{resource.name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Read from the database, never the cache; a list response always says which.
    response.headers["X-Cache"] = "BYPASS"
    return response
