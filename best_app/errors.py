"""One error model: problem+json (RFC 9457) under /api/, HTML pages elsewhere."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException, InternalServerError

from best_app.extensions import db

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail: str | None = None, title: str | None = None,
            headers: dict | None = None, **extra) -> Response:
    """An application/problem+json response; `extra` become extension members."""
    from werkzeug.http import HTTP_STATUS_CODES

    body = {
        "type": extra.pop("type", "about:blank"),
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or title or HTTP_STATUS_CODES.get(status, "Error"),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _passthrough_headers(error: HTTPException) -> dict:
    # Keep headers such as Allow (405) and WWW-Authenticate (401).
    return {k: v for k, v in error.get_headers() if k.lower() != "content-type"}


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if is_api_request():
        extra = getattr(error, "problem_extra", None) or {}
        return problem(status, error.description, headers=_passthrough_headers(error), **extra)
    try:
        body = render_template(f"errors/{status}.html", error=error)
    except TemplateNotFound:
        body = render_template("errors/generic.html", error=error)
    return body, status, _passthrough_headers(error)


def handle_unexpected_error(error: Exception):
    # A 500 is a bug: log it with its traceback, undo half-done work and show
    # the client nothing of the internals.
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_error(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
