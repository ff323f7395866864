"""Members over HTTP (issue 8): updateMember, suspendMember / reactivateMember (a suspended
member earns but cannot redeem), eraseMember (members:erase), exportMember, and the audit
trail (audit:read) with request id and source address."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.client import PARTNER_SCOPES, Api

UPDATE = """mutation($key: String!, $input: UpdateMemberInput!) {
  updateMember(idempotencyKey: $key, input: $input) {
    member { email displayName status }
    userErrors { code field message }
  }
}"""
SUSPEND = """mutation($key: String!, $input: MemberStandingInput!) {
  suspendMember(idempotencyKey: $key, input: $input) {
    member { status statusReason }
    userErrors { code field }
  }
}"""
REACTIVATE = """mutation($key: String!, $input: MemberStandingInput!) {
  reactivateMember(idempotencyKey: $key, input: $input) {
    member { status statusReason }
    userErrors { code field }
  }
}"""
ERASE = """mutation($key: String!, $input: MemberStandingInput!) {
  eraseMember(idempotencyKey: $key, input: $input) { erasedExternalId userErrors { code } }
}"""
REDEEM_OWN = """mutation($key: String!, $input: RedeemRewardInput!) {
  redeemReward(idempotencyKey: $key, input: $input) { redemption { id } userErrors { code } }
}"""
EXPORT = """query($externalId: String) { exportMember(externalId: $externalId) }"""
TRAIL = """query($first: Int, $after: String, $memberId: ID) {
  auditTrail(first: $first, after: $after, memberId: $memberId) {
    edges { node { operation outcome principal clientId idempotencyKey requestId
                   sourceAddress memberId } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    payload: dict[str, Any] = body["data"][name]
    return payload


async def test_a_partner_updates_a_members_profile(api: Api) -> None:
    await ops.enroll(api, "up-1", email="old@example.com", displayName="Old")
    body = await api.gql(
        UPDATE,
        {"key": ops.key(), "input": {"externalId": "up-1", "email": "New@Example.ORG"}},
    )
    out = _payload(body, "updateMember")
    assert out["member"] == {"email": "New@example.org", "displayName": "Old", "status": "ACTIVE"}
    bad = _payload(
        await api.gql(UPDATE, {"key": ops.key(), "input": {"externalId": "up-1", "email": "@"}}),
        "updateMember",
    )
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [("INVALID_INPUT", "email")]
    member = api.token(member="up-1")
    refused = await api.gql(
        UPDATE, {"key": ops.key(), "input": {"displayName": "Me"}}, token=member
    )
    assert ops.error_codes(refused) == ["FORBIDDEN"]  # members:write is a partner's


async def test_a_suspended_member_cannot_redeem_but_keeps_earning(api: Api) -> None:
    pk = await ops.enroll(api, "sus-1")
    await ops.purchase(api, pk, "sus-o1", "500")
    member = api.token(member="sus-1")
    held = _payload(
        await api.gql(
            SUSPEND, {"key": ops.key(), "input": {"externalId": "sus-1", "reason": "case 42"}}
        ),
        "suspendMember",
    )
    assert held["member"] == {"status": "SUSPENDED", "statusReason": "case 42"}
    rewards = await ops.reward_ids(api)
    reward = next(iter(rewards.values()))
    redeem = {"key": ops.key(), "input": {"rewardId": reward, "quantity": 1}}
    refused = _payload(await api.gql(REDEEM_OWN, redeem, token=member), "redeemReward")
    assert [e["code"] for e in refused["userErrors"]] == ["MEMBER_SUSPENDED"]
    await ops.purchase(api, pk, "sus-o2", "10")  # earning goes on
    lifted = _payload(
        await api.gql(
            REACTIVATE, {"key": ops.key(), "input": {"externalId": "sus-1", "reason": "cleared"}}
        ),
        "reactivateMember",
    )
    assert lifted["member"]["status"] == "ACTIVE"
    redeem["key"] = ops.key()
    done = _payload(await api.gql(REDEEM_OWN, redeem, token=member), "redeemReward")
    assert done["userErrors"] == []


async def test_erasure_needs_its_own_scope_and_leaves_no_personal_data(api: Api) -> None:
    pk = await ops.enroll(api, "gone-1", email="gone@example.com", displayName="Gone")
    await ops.purchase(api, pk, "gone-o1", "42")
    before = await ops.balance(api, pk)
    pos = api.token(scopes=PARTNER_SCOPES - {"members:erase"})
    request = {"key": ops.key(), "input": {"externalId": "gone-1", "reason": "request 9"}}
    assert ops.error_codes(await api.gql(ERASE, request, token=pos)) == ["FORBIDDEN"]
    out = _payload(await api.gql(ERASE, request), "eraseMember")
    assert out["erasedExternalId"].startswith("erased-")
    assert (await api.data(EXPORT, {"externalId": "gone-1"}))["exportMember"] is None
    assert await ops.balance(api, pk) == before  # the ledger stays
    found = await api.data(
        "query($id: ID) { member(id: $id) { externalId email displayName status } }",
        {"id": ops.member_gid(pk)},
    )
    assert found["member"] == {
        "externalId": out["erasedExternalId"],
        "email": None,
        "displayName": None,
        "status": "ERASED",
    }


async def test_an_export_is_everything_held_on_the_member(api: Api) -> None:
    pk = await ops.enroll(api, "exp-1", email="exp@example.com")
    await ops.purchase(api, pk, "exp-o1", "30")
    exported = (await api.data(EXPORT, {"externalId": "exp-1"}))["exportMember"]
    assert exported["member"]["email"] == "exp@example.com"
    assert [o["order_ref"] for o in exported["orders"]] == ["exp-o1"]
    assert exported["balances"][0]["member_id"] == pk
    own = api.token(member="exp-1")
    mine = (await api.data(EXPORT, {"externalId": "exp-1"}, token=own))["exportMember"]
    assert mine["member"]["id"] == pk
    other = api.token(member="someone-else")
    assert (await api.data(EXPORT, {"externalId": "exp-1"}, token=other))["exportMember"] is None


async def test_the_audit_trail_shows_every_write_to_staff_only(api: Api) -> None:
    response = await api.http.post(
        "/graphql",
        json={
            "query": ops.ENROLL,
            "variables": {"key": "aud-key-1", "input": {"externalId": "aud-1"}},
        },
        headers={"Authorization": f"Bearer {api.partner}", "X-Request-Id": "req-abc-123"},
    )
    assert response.status_code == 200
    pk = response.json()["data"]["enrollMember"]["member"]["id"]
    await api.gql(
        UPDATE, {"key": ops.key(), "input": {"externalId": "aud-1", "email": "@"}}
    )  # a refused write is in the trail too
    trail = (await api.data(TRAIL, {"first": 2}))["auditTrail"]
    newest, enrolled = (e["node"] for e in trail["edges"])
    assert (newest["operation"], newest["outcome"]) == ("updateMember", "INVALID_INPUT")
    assert enrolled == {
        "operation": "enrollMember",
        "outcome": "OK",
        "principal": "client:partner-1",
        "clientId": "partner-1",
        "idempotencyKey": "aud-key-1",
        "requestId": "req-abc-123",
        "sourceAddress": "127.0.0.1",
        "memberId": pk,
    }
    assert len(newest["requestId"]) == 32  # none given: Tally made one up
    mine = (await api.data(TRAIL, {"memberId": pk}))["auditTrail"]["edges"]
    assert [e["node"] for e in mine] == [enrolled]  # the refused update names no member
    assert trail["pageInfo"]["hasNextPage"] is False
    first = (await api.data(TRAIL, {"first": 1}))["auditTrail"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await api.data(TRAIL, {"after": first["pageInfo"]["endCursor"]}))["auditTrail"]
    assert [e["node"] for e in rest["edges"]] == [enrolled]
    pos = api.token(scopes=PARTNER_SCOPES - {"audit:read"})
    assert ops.error_codes(await api.gql(TRAIL, {}, token=pos)) == ["FORBIDDEN"]


def test_every_table_naming_a_member_is_in_its_export() -> None:
    from app.ledger import tables
    from app.ledger.export import _BY_MEMBER

    exported = {t.name for t in _BY_MEMBER} | {"outbox"}  # the outbox repeats the transfers
    missing = [
        t.name
        for t in tables.metadata.sorted_tables
        if "member_id" in t.c and t.name not in exported
    ]
    assert missing == []
