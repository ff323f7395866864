"""Referrals over the API: a member's code, enrolment with it, the welcome points."""

from __future__ import annotations

from app.services.program import apply_program
from tests.api import ops
from tests.api.client import Api
from tests.ledger.programs import referral_program

ENROLL = """
mutation($key: String!, $input: EnrollMemberInput!) {
  enrollMember(idempotencyKey: $key, input: $input) {
    member { externalId referralCode } userErrors { field code } } }"""

PURCHASE = """
mutation($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) { pointsEarned referralPoints } }"""


async def test_a_referred_member_and_their_referrer_earn(api: Api) -> None:
    services = api.runtime.services
    await apply_program(services.uow, services.clock, referral_program())
    ann = (await api.data(ENROLL, {"key": "a", "input": {"externalId": "ann"}}))["enrollMember"]
    code = ann["member"]["referralCode"]
    assert code.startswith("REF-")
    bob = await api.data(ENROLL, {"key": "b", "input": {"externalId": "bob", "referralCode": code}})
    assert bob["enrollMember"]["userErrors"] == []
    bought = await api.data(
        PURCHASE,
        {
            "key": "p",
            "input": {
                "externalId": "bob",
                "orderId": "o-1",
                "amount": "25",
                "currency": "EUR",
                "occurredAt": ops.just_now(),
            },
        },
    )
    assert bought["recordPurchase"] == {"pointsEarned": 25, "referralPoints": 200}
    me = await api.data("{ viewer { balance { available } } }", token=api.token(member="ann"))
    assert me["viewer"]["balance"]["available"] == 500
    bad = await api.data(ENROLL, {"key": "c", "input": {"externalId": "cy", "referralCode": "X"}})
    assert bad["enrollMember"]["userErrors"] == [{"field": "referralCode", "code": "INVALID_INPUT"}]
