"""The event feed over GraphQL (events:read): every published event in commit order,
paged without a gap, filtered by type and member, refused to tokens without the scope."""

from __future__ import annotations

from app.services.events import sequence_events
from tests.api import ops
from tests.api.client import Api

EVENTS = """
query($first: Int, $after: String, $types: [EventType!], $member: ID) {
  events(first: $first, after: $after, types: $types, memberId: $member) {
    edges { cursor node { id type sequence version memberId occurredAt data } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _all(api: Api, **variables: object) -> list[dict[str, object]]:
    await sequence_events(api.runtime.services.uow)
    nodes: list[dict[str, object]] = []
    after = None
    while True:
        page = (await api.data(EVENTS, {"first": 2, "after": after, **variables}))["events"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_the_feed_pages_through_every_event_in_order(api: Api) -> None:
    ana = await ops.enroll(api, "ana")
    bob = await ops.enroll(api, "bob")
    await ops.purchase(api, ana, "o-1", "30")
    await ops.adjust(api, bob, 20)
    await ops.redeem(api, ana, "coffee")
    nodes = await _all(api)
    assert [n["type"] for n in nodes] == [
        "MEMBER_ENROLLED",
        "MEMBER_ENROLLED",
        "POINTS_EARNED",
        "POINTS_ADJUSTED",
        "REDEMPTION_CREATED",
    ]
    sequences = [n["sequence"] for n in nodes]
    assert sequences == sorted(sequences)
    earned = nodes[2]
    assert earned["memberId"] == ops.member_gid(ana)
    assert earned["version"] == 1
    data = earned["data"]
    assert isinstance(data, dict)
    assert (data["externalId"], data["delta"], data["reference"]) == ("ana", 30, "o-1")
    assert str(earned["id"]).startswith("evt_")

    only = await _all(api, types=["POINTS_ADJUSTED", "REDEMPTION_CREATED"])
    assert [n["type"] for n in only] == ["POINTS_ADJUSTED", "REDEMPTION_CREATED"]
    bobs = await _all(api, member=ops.member_gid(bob))
    assert [n["type"] for n in bobs] == ["MEMBER_ENROLLED", "POINTS_ADJUSTED"]

    # A consumer continues from its last cursor and sees only what came after.
    page = (await api.data(EVENTS, {"first": 100}))["events"]
    cursor = page["pageInfo"]["endCursor"]
    await ops.adjust(api, ana, 5)
    await sequence_events(api.runtime.services.uow)
    newer = (await api.data(EVENTS, {"first": 100, "after": cursor}))["events"]["edges"]
    assert [e["node"]["type"] for e in newer] == ["POINTS_ADJUSTED"]


async def test_only_tokens_with_events_read_see_the_feed(api: Api) -> None:
    await ops.enroll(api, "someone")
    member = api.token(member="someone")
    refused = await api.gql(EVENTS, {"first": 5}, token=member)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    partner = api.token(scopes={"members:read"})
    refused = await api.gql(EVENTS, {"first": 5}, token=partner)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = api.token(scopes={"events:read"})
    body = await api.gql(EVENTS, {"first": 5}, token=allowed)
    assert "errors" not in body
