"""Scopes on every root query and mutation: without one, FORBIDDEN and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES
from tests.api import ops
from tests.api.client import Api
from tests.api.ops import (
    ADJUST,
    CANCEL,
    ENROLL,
    ESTIMATE,
    FULFILL,
    MEMBER,
    NODE,
    PROGRAM,
    PURCHASE,
    REDEEM,
    RETURN,
    REWARDS,
    VIEWER,
    member_gid,
)

ALL = frozenset(str(s) for s in ALL_SCOPES)
MEMBER_ALL = frozenset(str(s) for s in MEMBER_SCOPES)


@dataclass(frozen=True)
class World:
    """Alice with 100 points from order o-1 and a held coffee redemption."""

    alice: int
    redemption: str
    coffee: str

    @property
    def alice_id(self) -> str:
        return member_gid(self.alice)


async def build_world(api: Api) -> World:
    alice = await ops.enroll(api, "alice")
    await ops.purchase(api, alice, "o-1", "100")
    held = await ops.redeem(api, alice, "coffee")
    return World(alice, held["id"], (await ops.reward_ids(api))["coffee"])


async def snapshot(api: Api, world: World) -> tuple[Any, ...]:
    """Everything any mutation below could write."""
    return (
        await ops.balance(api, world.alice),
        await ops.redemption_status(api, world.redemption),
        (await api.data(MEMBER, {"ext": "newbie"}))["member"],
    )


@dataclass(frozen=True)
class Tok:
    """A token to mint: a member token (for alice) or a partner token, with these scopes."""

    kind: str
    scopes: frozenset[str]

    def mint(self, api: Api) -> str:
        if self.kind == "member":
            return api.token(member="alice", scopes=self.scopes)
        return api.token(scopes=self.scopes)

    def __repr__(self) -> str:
        return f"{self.kind}({' '.join(sorted(self.scopes))})"


def member(*scopes: str) -> Tok:
    return Tok("member", frozenset(scopes))


def partner(*scopes: str) -> Tok:
    return Tok("partner", frozenset(scopes))


def partner_without(*scopes: str) -> Tok:
    return Tok("partner", ALL - set(scopes))


def member_without(*scopes: str) -> Tok:
    return Tok("member", MEMBER_ALL - set(scopes))


Vars = Callable[[World], dict[str, Any]]


def assert_forbidden(body: dict[str, Any], field: str) -> None:
    assert ops.error_codes(body) == ["FORBIDDEN"], body
    assert body["data"] is None or body["data"][field] is None, body


# --- queries --------------------------------------------------------------------------------

READERS = ("loyalty:read", "rewards:read", "members:read", "points:write")


@dataclass(frozen=True)
class QueryCase:
    field: str
    operation: str
    lacking: tuple[Tok, ...]
    #: token, variables, whether the field resolves to something (not null)
    granted: tuple[tuple[Tok, Vars, bool], ...]


def no_vars(world: World) -> dict[str, Any]:
    return {}


def alice_id(world: World) -> dict[str, Any]:
    return {"id": world.alice_id}


def coffee_id(world: World) -> dict[str, Any]:
    return {"id": world.coffee}


def estimate(world: World) -> dict[str, Any]:
    return {"amount": "10", "currency": "EUR"}


QUERY_CASES = [
    QueryCase(
        "viewer",
        VIEWER,
        (member_without("loyalty:read"), partner_without("loyalty:read")),
        ((member("loyalty:read"), no_vars, True),),
    ),
    QueryCase(
        "member",
        MEMBER,
        (
            member_without("loyalty:read"),
            partner_without("members:read", "loyalty:read"),
        ),
        ((partner("members:read"), alice_id, True), (member("loyalty:read"), alice_id, True)),
    ),
    QueryCase(
        "node",
        NODE,
        (partner_without(*READERS), member("loyalty:redeem")),
        (
            (partner("rewards:read"), coffee_id, True),
            (partner("members:read"), alice_id, True),
            (member("loyalty:read"), alice_id, True),
            (partner("points:write"), alice_id, False),  # may ask, but reads no member
        ),
    ),
    QueryCase(
        "program",
        PROGRAM,
        (partner_without(*READERS), member("loyalty:redeem")),
        tuple((partner(scope), no_vars, True) for scope in READERS),
    ),
    QueryCase(
        "rewards",
        REWARDS,
        (partner_without("rewards:read"), member_without("rewards:read")),
        ((partner("rewards:read"), no_vars, True), (member("rewards:read"), no_vars, True)),
    ),
    QueryCase(
        "estimatePoints",
        ESTIMATE,
        (partner_without("rewards:read", "points:write", "loyalty:read"), member("loyalty:redeem")),
        (
            (partner("rewards:read"), estimate, True),
            (partner("points:write"), estimate, True),
            (member("loyalty:read"), estimate, True),
        ),
    ),
]


@pytest.mark.parametrize("case", QUERY_CASES, ids=[c.field for c in QUERY_CASES])
async def test_query_needs_its_scope(api: Api, case: QueryCase) -> None:
    world = await build_world(api)
    _, first_vars, _ = case.granted[0]

    for tok in case.lacking:
        body = await api.gql(case.operation, first_vars(world), tok.mint(api))
        assert_forbidden(body, case.field)

    for tok, variables, resolves in case.granted:
        data = await api.data(case.operation, variables(world), tok.mint(api))
        assert (data[case.field] is not None) is resolves, (tok, data)


# --- mutations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MutationCase:
    name: str
    field: str
    operation: str
    variables: Vars
    lacking: tuple[Tok, ...]
    granted: Tok


def enroll_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "input": {"externalId": "newbie"}}


def purchase_vars(world: World) -> dict[str, Any]:
    given = {"memberId": world.alice_id, "orderId": "o-2", "amount": "5", "currency": "EUR"}
    return {"key": "k-1", "input": {**given, "occurredAt": ops.just_now()}}


def return_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "input": {"orderId": "o-1", "amount": "10"}}


def redeem_self_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "input": {"rewardId": world.coffee}}


def redeem_for_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "input": {"rewardId": world.coffee, "memberId": world.alice_id}}


def redemption_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "id": world.redemption}


def adjust_vars(world: World) -> dict[str, Any]:
    return {"key": "k-1", "input": {"memberId": world.alice_id, "points": 5, "reason": "x"}}


REDEEMERS = ("loyalty:redeem", "redemptions:write")
MUTATION_CASES = [
    MutationCase(
        "enrollMember",
        "enrollMember",
        ENROLL,
        enroll_vars,
        (partner_without("members:write"), Tok("member", MEMBER_ALL)),
        partner("members:write"),
    ),
    MutationCase(
        "recordPurchase",
        "recordPurchase",
        PURCHASE,
        purchase_vars,
        (partner_without("points:write"), Tok("member", MEMBER_ALL)),
        partner("points:write"),
    ),
    MutationCase(
        "recordReturn",
        "recordReturn",
        RETURN,
        return_vars,
        (partner_without("points:write"), Tok("member", MEMBER_ALL)),
        partner("points:write"),
    ),
    MutationCase(
        "redeemReward-member",
        "redeemReward",
        REDEEM,
        redeem_self_vars,
        (member("loyalty:read", "rewards:read"),),
        member("loyalty:redeem"),
    ),
    MutationCase(
        "redeemReward-partner",
        "redeemReward",
        REDEEM,
        redeem_for_vars,
        (partner_without(*REDEEMERS),),
        partner("redemptions:write"),
    ),
    MutationCase(
        "cancelRedemption-member",
        "cancelRedemption",
        CANCEL,
        redemption_vars,
        (member("loyalty:read", "rewards:read"),),
        member("loyalty:redeem"),
    ),
    MutationCase(
        "cancelRedemption-partner",
        "cancelRedemption",
        CANCEL,
        redemption_vars,
        (partner_without(*REDEEMERS),),
        partner("redemptions:write"),
    ),
    MutationCase(
        "fulfillRedemption",
        "fulfillRedemption",
        FULFILL,
        redemption_vars,
        (partner_without("redemptions:write"), Tok("member", MEMBER_ALL)),
        partner("redemptions:write"),
    ),
    MutationCase(
        "adjustPoints",
        "adjustPoints",
        ADJUST,
        adjust_vars,
        (partner_without("points:adjust"), Tok("member", MEMBER_ALL)),
        partner("points:adjust"),
    ),
]


@pytest.mark.parametrize("case", MUTATION_CASES, ids=[c.name for c in MUTATION_CASES])
async def test_mutation_needs_its_scope_and_writes_nothing_without_it(
    api: Api, case: MutationCase
) -> None:
    world = await build_world(api)
    before = await snapshot(api, world)

    for tok in case.lacking:
        body = await api.gql(case.operation, case.variables(world), tok.mint(api))
        assert_forbidden(body, case.field)
    unchanged = await snapshot(api, world)
    allowed = (await api.data(case.operation, case.variables(world), case.granted.mint(api)))[
        case.field
    ]

    assert unchanged == before
    assert allowed["userErrors"] == []
    assert await snapshot(api, world) != before


async def test_no_token_at_all_is_refused_before_graphql(api: Api) -> None:
    response = await api.post(VIEWER)

    assert response.status_code == 401


async def test_a_partner_with_only_a_member_scope_cannot_cancel_for_members(api: Api) -> None:
    world = await build_world(api)
    before = await snapshot(api, world)

    body = await api.gql(CANCEL, redemption_vars(world), partner("loyalty:redeem").mint(api))

    assert await snapshot(api, world) == before
    payload = (body.get("data") or {}).get("cancelRedemption")
    assert payload is None or payload["userErrors"], body
