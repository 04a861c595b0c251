"""The Flask class best_app runs on: Flask, with two documented hooks overridden."""
from __future__ import annotations

from types import FunctionType
from typing import Any, Callable

from flask import Flask

from best_app.json_provider import FastJSONProvider


class BestFlask(Flask):
    """Flask whose responses' JSON is encoded by orjson (best_app.json_provider),
    and that decides once per function whether it is a coroutine function.

    Flask calls `ensure_sync` on every hook and view of every request (nine on
    a cached API read), and each call inspects the function's code flags. A
    plain function's answer never changes, so it is remembered; anything else
    (bound methods, partials, async functions) goes through Flask's own check.
    """

    json_provider_class = FastJSONProvider

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_functions: set[FunctionType] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if func in self._plain_functions:
            return func
        result = super().ensure_sync(func)
        if result is func and type(func) is FunctionType:
            self._plain_functions.add(func)
        return result
