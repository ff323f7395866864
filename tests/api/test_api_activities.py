"""recordActivity over the API: earns by activity rules, once, with points:write."""

from __future__ import annotations

from app.services.program import apply_program
from tests.api import ops
from tests.api.client import Api
from tests.ledger.programs import activity_program

ACTIVITY = """
mutation($key: String!, $input: RecordActivityInput!) {
  recordActivity(idempotencyKey: $key, input: $input) {
    pointsEarned balance { available } userErrors { field code } } }"""


async def test_record_activity(api: Api) -> None:
    services = api.runtime.services
    await apply_program(services.uow, services.clock, activity_program())
    await api.data(
        'mutation { enrollMember(idempotencyKey: "e", input: {externalId: "a"}) '
        "{ userErrors { code } } }"
    )
    review = {
        "externalId": "a",
        "kind": "REVIEW",
        "reference": "rv-9",
        "occurredAt": ops.just_now(),
    }
    first = (await api.data(ACTIVITY, {"key": "k1", "input": review}))["recordActivity"]
    assert first == {"pointsEarned": 20, "balance": {"available": 20}, "userErrors": []}
    again = (await api.data(ACTIVITY, {"key": "k2", "input": review}))["recordActivity"]
    assert again["userErrors"] == [{"field": "kind", "code": "LIMIT_REACHED"}]
    refused = await api.gql(
        ACTIVITY, {"key": "k3", "input": review}, token=api.token(scopes={"members:read"})
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    rules = await api.data("{ program { rules { key activities } } }")
    assert {"key": "welcome", "activities": ["SIGNUP"]} in rules["program"]["rules"]


ENTRIES = """
query($ext: String!) { member(externalId: $ext) { activity(first: 5) { edges { node {
  kind reference points explanation { rule name points cappedBy } } } } } }"""


async def test_an_activity_earn_explains_itself_in_the_member_activity(api: Api) -> None:
    services = api.runtime.services
    await apply_program(services.uow, services.clock, activity_program())
    await api.data(
        'mutation { enrollMember(idempotencyKey: "e", input: {externalId: "b"}) '
        "{ userErrors { code } } }"
    )
    review = {
        "externalId": "b",
        "kind": "REVIEW",
        "reference": "rv-1",
        "occurredAt": ops.just_now(),
    }
    assert (await api.data(ACTIVITY, {"key": "k1", "input": review}))["recordActivity"][
        "pointsEarned"
    ] == 20
    edges = (await api.data(ENTRIES, {"ext": "b"}))["member"]["activity"]["edges"]
    assert [e["node"] for e in edges] == [
        {
            "kind": "EARN",
            "reference": "activity:REVIEW",
            "points": 20,
            "explanation": [{"rule": "review", "name": "Review", "points": 20, "cappedBy": 0}],
        }
    ]
