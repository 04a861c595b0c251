"""Responses' JSON is encoded by orjson (best_app.json_provider), and says what
Flask's own provider said: the same values, in the same order."""
from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import date, datetime, timezone

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from best_app.json_provider import FastJSONProvider
from tests.conftest import make_user


def _flask_said(obj) -> bytes:
    """What Flask's default provider sends for `obj` (keys unsorted, as ours)."""
    reference = Flask(__name__)
    provider = DefaultJSONProvider(reference)
    provider.sort_keys = False
    with reference.app_context():
        return provider.response(obj).get_data()


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_responses_are_encoded_by_orjson(app, client, api_token):
    user = make_user("zoe", name="Zoë Åberg")
    response = client.get(f"/api/v1/users/{user.id}", headers={"Authorization": f"Bearer {api_token}"})
    assert isinstance(app.json, FastJSONProvider)
    # orjson writes text outside ASCII as UTF-8; Flask's provider escapes it.
    assert "Zoë Åberg".encode() in response.data
    assert response.json["name"] == "Zoë Åberg"


def test_the_document_is_flasks_up_to_escaping(app):
    document = {"b": 1, "a": [1.5, None, True, "x<y>&'\""], "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
                "day": date(2024, 5, 6), "price": decimal.Decimal("1.10"), "id": uuid.UUID(int=7),
                "point": Point(1, 2), 3: "a key that is not text", "naïve": "é"}
    with app.app_context():
        ours = app.json.response(document).get_data()
    assert ours != _flask_said(document)  # the escaping of "ï" and "é" differs ...
    assert json.loads(ours) == json.loads(_flask_said(document))  # ... the document does not
    assert list(json.loads(ours)) == ["b", "a", "when", "day", "price", "id", "point", "3", "naïve"]
    assert ours.startswith(b'{"b":1,"a":[1.5,null,true,') and ours.endswith(b"}\n")  # compact, one newline


def test_what_orjson_refuses_goes_through_flasks_provider(app):
    too_big = {"n": 2**70}  # past 64 bits
    too_deep: list = []
    for _ in range(300):  # past orjson's 254 levels
        too_deep = [too_deep]
    with app.app_context():
        assert app.json.response(too_big).get_data() == _flask_said(too_big)
        assert app.json.response(too_deep).get_data() == _flask_said(too_deep)


def test_debug_output_stays_pretty(app):
    app.debug = True
    with app.app_context():
        assert app.json.response({"a": 1}).get_data() == b'{\n  "a": 1\n}\n'
