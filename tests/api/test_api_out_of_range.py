"""A member already out of range (issue 8): a database written before Tally refused such
writes may hold counts past a GraphQL Int. Such a member reads with a clear error on the
fields that overflow, naming the limit, not masked; the rest of the member answers; and a
staff adjustment brings it back in range. As found: `member { balance }` and even
`activity { points }` were masked errors for good."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from app.ledger.tables import balances, entries, lots
from tests.api import ops
from tests.api.client import Api

READ = """query($id: ID!) { member(id: $id) {
  externalId
  balance { available pending held lifetimeEarned version }
  activity(first: 5) { edges { node { points } } }
} }"""
PAST = 2_150_000_000  # 215 adjustments of +10,000,000, as found


async def _push_past_the_limit(api: Api, member_pk: int, lifetime: int = 3 * PAST) -> bool:
    """What an older Tally let through on SQLite (64-bit integers), written straight into
    the tables. PostgreSQL's INTEGER columns never held such a value: there it is refused
    by the database itself, and False says so."""
    if not api.runtime.db.is_sqlite:
        with pytest.raises(DBAPIError, match="out of int32 range"):
            async with api.runtime.db.write_engine.begin() as conn:
                await conn.execute(
                    update(balances).where(balances.c.member_id == member_pk).values(available=PAST)
                )
        return False
    async with api.runtime.db.write_engine.begin() as conn:
        await conn.execute(
            update(balances)
            .where(balances.c.member_id == member_pk)
            .values(available=PAST, lifetime_earned=lifetime)
        )
        await conn.execute(
            update(entries).where(entries.c.member_id == member_pk).values(amount=PAST)
        )
        # The member's one lot (the +5 adjustment) holds it all, as the ledger would.
        await conn.execute(
            update(lots).where(lots.c.member_id == member_pk).values(points=PAST, remaining=PAST)
        )
    return True


async def test_an_out_of_range_member_reads_with_errors_naming_the_limit(api: Api) -> None:
    pk = await ops.enroll(api, "big-1")
    await ops.adjust(api, pk, 5)
    if not await _push_past_the_limit(api, pk):
        return
    body = await api.gql(READ, {"id": ops.member_gid(pk)})
    member = body["data"]["member"]
    assert member["externalId"] == "big-1"  # the rest of the member answers
    assert member["balance"]["available"] == 2**31 - 1  # shown at the limit...
    assert member["balance"]["pending"] == 0
    assert member["balance"]["lifetimeEarned"] == 2**31 - 1
    assert member["activity"]["edges"][0]["node"]["points"] == 2**31 - 1
    errors = {tuple(e["path"]): e for e in body["errors"]}  # ...and the errors say so
    assert set(errors) == {
        ("member", "balance", "available"),
        ("member", "balance", "lifetimeEarned"),
        ("member", "activity", "edges", 0, "node", "points"),
    }
    available = errors[("member", "balance", "available")]
    assert available["extensions"]["code"] == "LIMIT_REACHED"
    assert "2,150,000,000" in available["message"]
    assert "2,147,483,647" in available["message"]
    assert "adjustPoints" in available["message"]
    assert "Unexpected error" not in str(body)


async def test_a_staff_adjustment_brings_it_back_in_range(api: Api) -> None:
    pk = await ops.enroll(api, "big-2")
    await ops.adjust(api, pk, 5)
    if not await _push_past_the_limit(api, pk, lifetime=5):
        return
    after = await ops.adjust(api, pk, -10_000_000)
    assert after["available"] == PAST - 10_000_000
    body = await api.gql(
        "query($id: ID!) { member(id: $id) { balance { available } } }", {"id": ops.member_gid(pk)}
    )
    assert "errors" not in body, body
    assert body["data"]["member"]["balance"]["available"] == PAST - 10_000_000
