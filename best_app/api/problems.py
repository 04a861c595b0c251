"""The API's errors as exceptions, so any layer can stop a request with a problem.

best_app.errors renders every HTTPException under /api/ as problem+json and
copies `problem_extra` into the body and `get_headers()` into the response,
so raising ApiError is all a view or helper needs to do.
"""
from __future__ import annotations

from werkzeug.exceptions import HTTPException


class ApiError(HTTPException):
    def __init__(self, status: int, detail: str, headers: dict | None = None, **extra):
        super().__init__(description=detail)
        self.code = status
        self.problem_extra = extra
        self.extra_headers = headers or {}

    def get_headers(self, environ=None, scope=None):
        return [("Content-Type", "application/problem+json"), *self.extra_headers.items()]


def bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, f"Query parameter {name!r}: {message}", parameter=name)


def invalid(errors: dict[str, list[str]], detail: str | None = None) -> ApiError:
    fields = ", ".join(sorted(errors))
    return ApiError(422, detail or f"Invalid fields: {fields}.", errors=errors)
