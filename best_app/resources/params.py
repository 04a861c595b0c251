"""Reading query parameters: one set of rules, one error, for the API and the admin pages.

A bad parameter raises BadParameter naming it; the API answers a 400
problem+json with `parameter`, the admin pages a 400 page with the message.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from best_app.forms import MAX_ID, SINGLE_LINE

TRUE, FALSE = ("true", "1"), ("false", "0")
TEXT_PATTERN = SINGLE_LINE.pattern(trimmed=False)  # what `q` and text filters accept


class BadParameter(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"Query parameter {name!r}: {message}")
        self.name = name
        self.message = message


def text(name: str, raw: str, max_length: int | None = None) -> str:
    # Nothing stored holds a control character (the forms refuse them), so a
    # search or filter with one could only match nothing: refuse it, as the
    # OpenAPI document says (TEXT_PATTERN).
    problem = SINGLE_LINE.find(raw)
    if problem is not None:
        raise BadParameter(name, problem)
    if max_length is not None and len(raw) > max_length:
        raise BadParameter(name, f"must be at most {max_length} characters")
    return raw


def whole_number(raw: str) -> int | None:
    """The whole number `raw` writes, or None. "10.0" is one: JSON Schema's integers
    are numbers without a fraction, so a client generated from the OpenAPI
    document may send one so written."""
    digits, point, zeros = raw.partition(".")
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses.
    if not (digits.isascii() and digits.isdigit()) or (point and zeros.strip("0")) or (point and not zeros):
        return None
    if len(digits) > 18:  # past any maximum asked (and int() refuses 4,301 digits and more)
        return None
    return int(digits)


def integer(name: str, raw: str, maximum: int = MAX_ID) -> int:
    value = whole_number(raw)
    if value is None or not 1 <= value <= maximum:
        raise BadParameter(name, f"must be an integer from 1 to {maximum}")
    return value


def boolean(name: str, raw: str) -> bool:
    if raw.lower() not in TRUE + FALSE:
        raise BadParameter(name, "must be true or false")
    return raw.lower() in TRUE


def moment(name: str, raw: str) -> datetime:
    """A date (its first moment, UTC) or a date and time (UTC unless it says otherwise)."""
    try:
        if len(raw) == 10:
            value = datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time())
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, "must be a date (2026-01-31) or a date and time (2026-01-31T12:00:00Z)") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        # "0001-01-01T00:00:00+04:29" is a valid date-time before the first moment a datetime
        # holds in UTC (and "9999-12-31T23:59:59-01:00" after the last). As a bound it means
        # the same as that first (or last) moment: no stored time lies beyond it.
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=timezone.utc)
