"""Members (issue 8): profile updates, fraud holds (a suspended member earns but cannot
redeem), erasure (personal data gone, ledger kept), the export of everything held on a
member, and the audit row every write leaves. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from app.domain.errors import ErrorCode
from app.domain.members import ERASED_PREFIX, MemberStatus
from app.services import enroll, members
from app.services.audit import RequestInfo, current_request
from app.services.common import MemberRef
from app.services.outcome import Outcome
from tests.ledger.harness import Ledger


async def _update(
    ledger: Ledger, member_id: int, email: str | None = None, display_name: str | None = None
) -> Outcome[members.MemberUpdated]:
    return await members.update_member(
        ledger.uow,
        ledger.clock,
        principal=ledger.principal,
        idempotency_key=ledger.key(),
        cmd=members.UpdateMember(MemberRef(id=member_id), email, display_name),
    )


async def _standing(
    ledger: Ledger, member_id: int, *, suspend: bool, reason: str = "fraud check"
) -> Outcome[members.StandingChanged]:
    change = members.suspend_member if suspend else members.reactivate_member
    return await change(
        ledger.uow,
        ledger.clock,
        principal=ledger.principal,
        idempotency_key=ledger.key(),
        cmd=members.ChangeStanding(MemberRef(id=member_id), reason),
    )


async def _erase(ledger: Ledger, member_id: int, key: str) -> Outcome[members.MemberErased]:
    return await members.erase_member(
        ledger.uow,
        ledger.clock,
        principal=ledger.principal,
        idempotency_key=key,
        cmd=members.EraseMember(MemberRef(id=member_id), "access request 17"),
    )


async def test_a_profile_update_changes_only_what_it_names(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        out = await enroll.enroll_member(
            ledger.uow,
            ledger.clock,
            principal=ledger.principal,
            idempotency_key=ledger.key(),
            cmd=enroll.EnrollMember("p-1", email="ann@example.com", display_name="Ann"),
        )
        member_id = out.value.member_id
        assert (await _update(ledger, member_id, email="Ann@Example.COM")).ok
        found = (await ledger.queries.members([member_id]))[member_id]
        assert (found.email, found.display_name) == ("Ann@example.com", "Ann")
        assert (await _update(ledger, member_id, display_name="")).ok  # "" clears
        found = (await ledger.queries.members([member_id]))[member_id]
        assert (found.email, found.display_name) == ("Ann@example.com", None)
        bad = await _update(ledger, member_id, email="@")
        assert [e.code for e in bad.errors] == [ErrorCode.INVALID_INPUT]
        assert bad.errors[0].field == "email"
        nothing = await _update(ledger, member_id)
        assert [e.code for e in nothing.errors] == [ErrorCode.INVALID_INPUT]
        missing = await _update(ledger, 10**6, display_name="X")
        assert [e.code for e in missing.errors] == [ErrorCode.MEMBER_NOT_FOUND]


async def test_a_suspended_member_earns_but_cannot_redeem_until_reactivated(
    db_url: str,
) -> None:
    async with await Ledger.open(db_url) as ledger:
        member_id = await ledger.enroll("s-1")
        coffee = await ledger.reward_id("coffee")
        assert (await ledger.purchase(member_id, "s-o1", "30")).ok
        suspended = await _standing(ledger, member_id, suspend=True)
        assert suspended.value.status == MemberStatus.SUSPENDED
        found = (await ledger.queries.members([member_id]))[member_id]
        assert (found.status, found.status_reason) == (MemberStatus.SUSPENDED, "fraud check")
        refused = await ledger.redeem(member_id, coffee)
        assert [e.code for e in refused.errors] == [ErrorCode.MEMBER_SUSPENDED]
        assert (await ledger.purchase(member_id, "s-o2", "20")).ok  # still earns
        assert (await ledger.balance(member_id))["available"] == 50
        again = await _standing(ledger, member_id, suspend=True)
        assert [e.code for e in again.errors] == [ErrorCode.INVALID_STATE]
        assert (await _standing(ledger, member_id, suspend=False, reason="cleared")).ok
        assert (await ledger.redeem(member_id, coffee)).ok
        twice = await _standing(ledger, member_id, suspend=False)
        assert [e.code for e in twice.errors] == [ErrorCode.INVALID_STATE]


async def test_erasure_removes_personal_data_and_keeps_the_ledger(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        out = await enroll.enroll_member(
            ledger.uow,
            ledger.clock,
            principal=ledger.principal,
            idempotency_key=ledger.key(),
            cmd=enroll.EnrollMember("eve-ext-77", email="eve@example.com", display_name="Eve"),
        )
        member_id = out.value.member_id
        assert (await ledger.purchase(member_id, "e-o1", "42")).ok
        before = await ledger.balance(member_id)
        erased = await _erase(ledger, member_id, "erase-1")
        alias = erased.value.pseudonym
        assert alias.startswith(ERASED_PREFIX)
        assert "eve-ext-77" not in alias
        found = (await ledger.queries.members([member_id]))[member_id]
        assert (found.external_id, found.email, found.display_name) == (alias, None, None)
        assert found.referral_code is None
        assert found.status is MemberStatus.ERASED
        assert await ledger.queries.members_by_external_id(["eve-ext-77"]) == {}
        assert await ledger.balance(member_id) == before  # totals stay true
        # The same request again answers the same; no write reaches the member any more.
        assert (await _erase(ledger, member_id, "erase-1")).value == erased.value
        late = await ledger.purchase(member_id, "e-o2", "5")
        assert [e.code for e in late.errors] == [ErrorCode.MEMBER_NOT_FOUND]
        assert [e.code for e in (await _erase(ledger, member_id, "erase-2")).errors] == [
            ErrorCode.MEMBER_NOT_FOUND
        ]
        export = await ledger.queries.export_member(member_id)
        assert export is not None
        text = json.dumps(export.as_document())
        assert "eve@example.com" not in text
        assert "Eve" not in text
        assert "eve-ext-77" not in text


async def test_an_export_holds_every_row_about_the_member(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        member_id = await ledger.enroll("x-1")
        other = await ledger.enroll("x-2")
        assert (await ledger.purchase(member_id, "x-o1", "30")).ok
        assert (await ledger.purchase(other, "x-o2", "30")).ok
        redeemed = await ledger.redeem(member_id, await ledger.reward_id("coffee"))
        exported = await ledger.queries.export_member(member_id)
        assert exported is not None
        export: dict[str, Any] = json.loads(json.dumps(exported.as_document()))  # plain JSON
        assert export["member"]["external_id"] == "x-1"
        assert export["balances"][0]["available"] == 20
        assert [o["order_ref"] for o in export["orders"]] == ["x-o1"]
        assert {t["kind"] for t in export["transfers"]} == {"EARN", "HOLD"}
        assert [r["id"] for r in export["redemptions"]] == [redeemed.value.redemption_id]
        assert export["lot_holds"]
        assert all(e["member_id"] == member_id for e in export["entries"])
        assert len(export["audit_log"]) == 3  # enroll, purchase, redeem
        assert await ledger.queries.export_member(10**6) is None


async def test_every_write_leaves_an_audit_row_with_who_and_how_it_ended(db_url: str) -> None:
    async with await Ledger.open(db_url) as ledger:
        token = current_request.set(RequestInfo("req-1", "203.0.113.9", "pos-1"))
        try:
            member_id = await ledger.enroll("a-1")
            await ledger.purchase(member_id, "a-o1", "10", key="buy-1")
            await ledger.purchase(member_id, "a-o1", "10", key="buy-1")  # a replay
            await ledger.redeem(member_id, await ledger.reward_id("tote"))  # not enough
        finally:
            current_request.reset(token)
        trail = await ledger.queries.audit_trail(before_id=None, limit=10)
        assert [(e.operation, e.outcome) for e in trail] == [
            ("redeemReward", "INSUFFICIENT_POINTS"),
            ("recordPurchase", "REPLAYED OK"),
            ("recordPurchase", "OK"),
            ("enrollMember", "OK"),
        ]
        newest = trail[0]
        assert (newest.principal, newest.client_id) == (ledger.principal, "pos-1")
        assert (newest.request_id, newest.source_address) == ("req-1", "203.0.113.9")
        assert trail[1].idempotency_key == "buy-1"
        assert trail[1].member_id == member_id
        older = await ledger.queries.audit_trail(before_id=trail[1].id, limit=10)
        assert [e.id for e in older] == [trail[2].id, trail[3].id]
        mine = await ledger.queries.audit_trail(before_id=None, limit=10, member_id=member_id)
        assert len(mine) == 3  # the refused redemption names no member
