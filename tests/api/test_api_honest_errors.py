"""Expected mistakes are explained, never `Unexpected error.` (issue 8): variables that
cannot be coerced, dates Python cannot hold, text with control characters, bad emails.
Each as it was found, over HTTP; each writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import ops
from tests.api.client import Api

PURCHASE = """
mutation($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) { pointsEarned userErrors { field code message } } }"""

REDEEM = """
mutation($key: String!, $input: RedeemRewardInput!) {
  redeemReward(idempotencyKey: $key, input: $input) { userErrors { field code } } }"""

ENROLL = """
mutation($key: String!, $input: EnrollMemberInput!) {
  enrollMember(idempotencyKey: $key, input: $input) { member { id } userErrors { field code message } } }"""


def purchase_input(**changes: Any) -> dict[str, Any]:
    return {
        "externalId": "m-1",
        "orderId": "o-1",
        "amount": "10",
        "currency": "EUR",
        "channel": "POS",
        "occurredAt": ops.just_now(),
        **changes,
    }


async def _enrolled(api: Api) -> None:
    await api.data(ENROLL, {"key": "e-1", "input": {"externalId": "m-1"}})


def _bad_input(body: dict[str, Any], *names: str) -> str:
    """The one error is BAD_USER_INPUT and names each of `names`; returns its message."""
    assert body.get("data") in (None, {}), body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"] != "Unexpected error."
    for name in names:
        assert name in error["message"], error["message"]
    return str(error["message"])


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"channel": "BOGUS"}, ("channel", "BOGUS")),
        ({"occurredAt": "yesterday"}, ("occurredAt",)),
        ({"occurredAt": "2026-13-45T00:00:00Z"}, ("occurredAt",)),
        ({"amount": "1_000"}, ("amount", "plain decimal")),
        ({"amount": "\u0661\u0662"}, ("amount", "plain decimal")),
        ({"amount": "  5  "}, ("amount", "plain decimal")),
        ({"amount": "1e3"}, ("amount", "plain decimal")),
        ({"amount": 12.5}, ("amount", "as a string")),
        ({"amount": True}, ("amount",)),
        ({"quantity": 1}, ("quantity",)),
    ],
)
async def test_variables_that_cannot_be_coerced_are_bad_user_input(
    api: Api, changes: dict[str, Any], names: tuple[str, ...]
) -> None:
    await _enrolled(api)
    body = await api.gql(PURCHASE, {"key": "p-1", "input": purchase_input(**changes)})
    _bad_input(body, *names)
    assert (await api.gql(PURCHASE, {"key": "p-1", "input": purchase_input()}))["data"][
        "recordPurchase"
    ]["userErrors"] == []  # the key was never claimed


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("0001-01-01T00:00:00Z", "occurredAt may not be before 2000-01-01"),
        ("0001-01-01T00:00:00+05:00", "occurredAt may not be before 2000-01-01"),
        ("1900-06-01T00:00:00Z", "occurredAt may not be before 2000-01-01"),
        ("9999-12-31T23:59:59-05:00", "occurredAt is in the future"),
    ],
)
async def test_dates_at_the_edges_of_what_python_holds_are_user_errors(
    api: Api, when: str, message: str
) -> None:
    await _enrolled(api)
    answer = (await api.data(PURCHASE, {"key": "p-1", "input": purchase_input(occurredAt=when)}))[
        "recordPurchase"
    ]
    assert [(e["code"], e["field"], e["message"]) for e in answer["userErrors"]] == [
        ("INVALID_INPUT", "occurredAt", message)
    ]


@pytest.mark.parametrize("quantity", [2147483648, 1.5, "2", -(2**31) - 1])
async def test_an_int_out_of_range_or_of_the_wrong_type_is_bad_user_input(
    api: Api, quantity: object
) -> None:
    body = await api.gql(
        REDEEM,
        {"key": "r-1", "input": {"externalId": "m-1", "rewardId": "x", "quantity": quantity}},
    )
    _bad_input(body, "quantity")


async def test_an_inline_literal_of_the_wrong_type_is_a_validation_error(api: Api) -> None:
    body = await api.gql(
        'mutation { recordPurchase(idempotencyKey: "k", input: {externalId: "m", orderId: "o",'
        ' amount: "1", currency: "EUR", channel: BOGUS, occurredAt: "2026-01-01T00:00:00Z"})'
        " { pointsEarned } }"
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "BOGUS" in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("externalId", "a\x00b"),
        ("externalId", "tab\there"),
        ("externalId", "x" * 201),
        ("displayName", "Eve\x00"),
        ("displayName", "x" * 201),
        ("email", "@"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", "x" * 300 + "@example.com"),
    ],
)
async def test_enrolment_refuses_control_characters_long_text_and_bad_emails(
    api: Api, field: str, value: str
) -> None:
    given = {"externalId": "m-2", field: value}
    answer = (await api.data(ENROLL, {"key": "e-2", "input": given}))["enrollMember"]
    assert answer["member"] is None
    [error] = answer["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", field)


async def test_an_email_is_stored_normalised(api: Api) -> None:
    given = {"externalId": "m-3", "email": "Ada@EXAMPLE.com"}
    answer = (await api.data(ENROLL, {"key": "e-3", "input": given}))["enrollMember"]
    assert answer["userErrors"] == []
    member = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Member { email } } }",
        {"id": answer["member"]["id"]},
    )
    assert member["node"]["email"] == "Ada@example.com"


@pytest.mark.parametrize(
    ("field", "value"),
    [("orderId", "o\x00-1"), ("orderId", "o\n1"), ("orderId", "x" * 201)],
)
async def test_ids_refuse_control_characters(api: Api, field: str, value: str) -> None:
    await _enrolled(api)
    answer = (await api.data(PURCHASE, {"key": "p-2", "input": purchase_input(**{field: value})}))[
        "recordPurchase"
    ]
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [("INVALID_INPUT", field)]


@pytest.mark.parametrize("key", ["k\x00", "k\x1b[31m", " ", "x" * 201])
async def test_idempotency_keys_refuse_control_characters(api: Api, key: str) -> None:
    await _enrolled(api)
    answer = (await api.data(PURCHASE, {"key": key, "input": purchase_input()}))["recordPurchase"]
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [
        ("INVALID_INPUT", "idempotencyKey")
    ]


async def test_a_purchase_of_a_billion_is_refused_and_the_member_stays_readable(api: Api) -> None:
    """As found: `amount: "1000000000"` committed 20,000,000,100 pending points and made
    the member unreadable for good. Now it is refused and nothing is written."""
    await _enrolled(api)
    answer = (
        await api.data(PURCHASE, {"key": "p-3", "input": purchase_input(amount="1000000000")})
    )["recordPurchase"]
    if answer["userErrors"]:  # the demo program earns past the limit
        assert [e["code"] for e in answer["userErrors"]] == ["LIMIT_REACHED"]
    member = await api.data(
        'query { member(externalId: "m-1") { balance { available pending lifetimeEarned } '
        "activity(first: 5) { edges { node { points } } } } }"
    )
    assert member["member"]["balance"]["pending"] <= 2**31 - 1


async def test_a_failing_field_does_not_cancel_the_same_load_elsewhere(api: Api) -> None:
    """As found by the fuzz: two fields loading one member's tier share the loader's future.
    `a.activity` fails, so graphql-core cancels its sibling `a.tier`, and cancelling it
    cancelled the shared future: `b.tier` got CancelledError, which escaped the request
    (no response at all). Now `b` answers and `a` carries the one error."""
    await _enrolled(api)
    query = (
        '{ a: member(externalId: "m-1") { tier { pointsToNext } balance { available } '
        'activity(after: "bad") { pageInfo { hasNextPage } } } '
        'b: member(externalId: "m-1") { tier { pointsToNext } balance { available } } }'
    )
    for token in (api.partner, api.token(member="m-1")):
        body = await api.gql(query, token=token)
        assert body["data"]["a"] is None
        assert body["data"]["b"] == {"tier": {"pointsToNext": 1000}, "balance": {"available": 0}}
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["path"]) == ("INVALID_INPUT", ["a", "activity"])


async def test_looking_up_a_member_by_an_external_id_with_a_nul_is_bad_input(api: Api) -> None:
    """As found by the fuzz: `member(externalId: "\\u0000")` reached PostgreSQL, whose text
    cannot hold a NUL, and the driver's error was masked, for the `viewer` in the same
    document too (one batched lookup). Now the id is refused before any lookup, on SQLite
    and PostgreSQL alike, and the rest of the document answers."""
    await _enrolled(api)
    query = '{ viewer { externalId } member(externalId: "m\\u0000") { id } }'
    body = await api.gql(query, token=api.token(member="m-1"))
    assert body["data"] == {"viewer": {"externalId": "m-1"}, "member": None}
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "INVALID_INPUT",
        "externalId",
    )
    assert "control characters" in error["message"]


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        (
            'adjustPoints(idempotencyKey: "k", input: {externalId: "m\\u0000", points: 1,'
            ' reason: "r"})',
            "externalId",
        ),
        (
            'redeemReward(idempotencyKey: "k", input: {externalId: "m\\u0000",'
            ' rewardId: "UmV3YXJkOjE"})',  # Reward:1
            "externalId",
        ),
        (
            'recordActivity(idempotencyKey: "k", input: {externalId: "m\\u0000", kind: SIGNUP,'
            ' occurredAt: "2026-01-01T00:00:00Z"})',
            "externalId",
        ),
        ('recordReturn(idempotencyKey: "k", input: {orderId: "o\\u0000", amount: "1"})', "orderId"),
        ('confirmOrder(idempotencyKey: "k", orderId: "o\\u0000")', "orderId"),
    ],
)
async def test_writes_naming_a_member_or_order_with_a_nul_are_user_errors(
    api: Api, mutation: str, field: str
) -> None:
    """As found by the fuzz: the same NUL in a write's externalId or orderId was a masked
    crash on PostgreSQL. Now it is an INVALID_INPUT user error naming the field."""
    await _enrolled(api)
    name = mutation.split("(", 1)[0]
    payload = (await api.data(f"mutation {{ {mutation} {{ userErrors {{ field code }} }} }}"))[name]
    assert payload["userErrors"] == [{"field": field, "code": "INVALID_INPUT"}]
