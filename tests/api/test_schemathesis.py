"""Property-based: schemathesis drives every documented operation with generated
requests, valid and invalid, and checks each answer against the same OpenAPI
document: no 5xx, every status, header, content type and body as documented,
and every request the document calls valid accepted.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig

from best_app import create_app
from config import TestConfig as _TestConfig
from tests.conftest import make_car, make_task, make_user

# A request the document calls valid may still be refused for what a schema
# cannot state, and the document says so: a made-up If-Match is stale (412). For
# the other such rules the generated request is mended instead (see `realistic`),
# so that every other refusal of valid data still fails the run.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "304", "401", "403", "404", "409", "412"]}}})
# Invalid requests are refused, but not always for the reason schemathesis
# expects: text is trimmed before its pattern applies, so " x" is accepted as "x";
# and a filter or search that matches nothing is simply an empty page.
EXCLUDED = [negative_data_rejection]
EXAMPLES = 50


def load(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


# The operations, listed once at collection (building an app has no side effects).
OPERATIONS = [result.ok().label for result in load(create_app(_TestConfig())).get_all_operations()]


def realistic(case, user_ids: list[int]) -> None:
    """Mend a valid generated request where validity depends on the data, not the
    schema: a cursor must be one this list issued, an owner or assignee must be
    a user who exists, and an administrator needs a password unless made for
    tokens only (a user without one may be promoted). These rules have their own
    tests (test_listing, test_validation, tests/admin/test_account.py)."""
    if case.query:
        case.query.pop("cursor", None)
        case.query.pop("after", None)  # the change feed's cursor, likewise
    if isinstance(case.body, dict):
        for name in ("owner_id", "assignee_id"):
            if isinstance(case.body.get(name), (int, float)):
                case.body[name] = user_ids[int(case.body[name]) % len(user_ids)]
        if case.body.get("is_admin") is True and not case.body.get("password"):
            case.body["token_only"] = True


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_conforms(app, auth_headers, label, mode):
    user_ids = []
    for i in range(3):  # a few rows, so that generated ids sometimes exist
        user = make_user(f"seeded{i}")
        make_car(user)
        make_task(f"Seeded {i}", assignee=user)
        user_ids.append(user.id)
    operation = next(r.ok() for r in load(app).get_all_operations() if r.ok().label == label)
    if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()) and not operation.body:
        pytest.skip("an operation without inputs has no invalid requests")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        if mode is GenerationMode.POSITIVE:
            realistic(case, user_ids)
        case.call_and_validate(headers=auth_headers, excluded_checks=EXCLUDED)

    check()
