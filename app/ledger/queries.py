"""Read side of the ledger: batched lookups for dataloaders and keyset-paged lists."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.accounts import MemberAccount, TransferKind
from app.domain.lots import LotState
from app.domain.published import EventType, PublishedEvent
from app.domain.records import (
    AuditEntry,
    Balance,
    BalanceChange,
    Entry,
    ExpiringPoints,
    Member,
    MemberExport,
    Order,
    Page,
    Redemption,
    RedemptionChange,
    Reward,
    RuleAward,
)
from app.domain.rewards import RedemptionStatus
from app.domain.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.ledger import mappers
from app.ledger.audit import audit_page
from app.ledger.awards import AwardStore
from app.ledger.catalog import SYSTEM
from app.ledger.event_log import events_by_outbox_ids, events_page, unsequenced
from app.ledger.export import member_export
from app.ledger.inbound import InboundEvent, InboundStore, OrderSource, inbound_page
from app.ledger.programs import ProgramStore
from app.ledger.redemptions import redemption_by_code
from app.ledger.tables import (
    activities,
    balances,
    entries,
    lots,
    members,
    orders,
    outbox,
    redemption_events,
    redemptions,
    rewards,
    transfers,
)
from app.ledger.tiers.measures import TierMeasures
from app.ledger.tiers.standings import TierStore
from app.ledger.transfers import BALANCE_TOPIC
from app.ledger.webhooks import attempts_of, deliveries_page, endpoints_page


class ReadLedger:
    """What a read may ask, on one connection: these queries, and the read-side stores."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.programs = ProgramStore(conn)
        self.awards = AwardStore(conn)
        self.tiers = TierStore(conn)
        self.tier_measures = TierMeasures(conn)

    async def member_export(self, member_id: int) -> MemberExport | None:
        """Every row Tally holds on the member, by table; None if there is no such member."""
        return await member_export(self.conn, member_id)

    async def audit_page(
        self, *, before_id: int | None, limit: int, member_id: int | None
    ) -> list[AuditEntry]:
        return await audit_page(self.conn, before_id=before_id, limit=limit, member_id=member_id)

    async def members_by_ids(self, ids: Sequence[int]) -> dict[int, Member]:
        rows = await self.conn.execute(select(members).where(members.c.id.in_(list(ids))))
        return {r.id: mappers.member(r) for r in rows}

    async def members_by_external_ids(self, ids: Sequence[str]) -> dict[str, Member]:
        rows = await self.conn.execute(select(members).where(members.c.external_id.in_(list(ids))))
        return {r.external_id: mappers.member(r) for r in rows}

    async def balances_by_member(self, ids: Sequence[int]) -> dict[int, Balance]:
        rows = await self.conn.execute(select(balances).where(balances.c.member_id.in_(list(ids))))
        return {r.member_id: mappers.balance(r) for r in rows}

    async def rewards_by_ids(self, ids: Sequence[int]) -> dict[int, Reward]:
        rows = await self.conn.execute(select(rewards).where(rewards.c.id.in_(list(ids))))
        return {r.id: mappers.reward(r) for r in rows}

    async def redemptions_by_ids(self, ids: Sequence[int]) -> dict[int, Redemption]:
        rows = await self.conn.execute(select(redemptions).where(redemptions.c.id.in_(list(ids))))
        return {r.id: mappers.redemption(r) for r in rows}

    async def redemption_histories(self, ids: Sequence[int]) -> dict[int, list[RedemptionChange]]:
        """Each redemption's changes, oldest first."""
        found: dict[int, list[RedemptionChange]] = {i: [] for i in ids}
        rows = await self.conn.execute(
            select(redemption_events)
            .where(redemption_events.c.redemption_id.in_(list(ids)))
            .order_by(redemption_events.c.redemption_id, redemption_events.c.id)
        )
        for row in rows:
            found[row.redemption_id].append(mappers.redemption_change(row))
        return found

    async def redemption_by_code(self, code: str) -> Redemption | None:
        return await redemption_by_code(self.conn, code)

    async def redemption_changes(
        self, member_id: int, *, after_version: int, limit: int = 500
    ) -> list[RedemptionChange]:
        """A member's redemption changes after `after_version`, in order."""
        c = redemption_events.c
        rows = await self.conn.execute(
            select(redemption_events)
            .where(c.member_id == member_id, c.version > after_version)
            .order_by(c.version)
            .limit(limit)
        )
        return [mappers.redemption_change(r) for r in rows]

    async def last_redemption_version(self, member_id: int) -> int:
        c = redemption_events.c
        result = await self.conn.execute(
            select(func.coalesce(func.max(c.version), 0)).where(c.member_id == member_id)
        )
        return int(result.scalar_one())

    async def order_by_ref(self, order_ref: str) -> Order | None:
        row = (
            await self.conn.execute(select(orders).where(orders.c.order_ref == order_ref))
        ).one_or_none()
        return None if row is None else mappers.order(row)

    async def events_page(
        self,
        *,
        after: int,
        limit: int,
        types: Collection[EventType] | None = None,
        member_id: int | None = None,
        since: datetime | None = None,
    ) -> Page[PublishedEvent]:
        return await events_page(
            self.conn, after=after, limit=limit, types=types, member_id=member_id, since=since
        )

    async def events_by_outbox_ids(self, ids: Sequence[int]) -> dict[int, PublishedEvent]:
        return await events_by_outbox_ids(self.conn, ids)

    async def webhook_endpoints_page(self, *, after: int, limit: int) -> Page[WebhookEndpoint]:
        return await endpoints_page(self.conn, after=after, limit=limit)

    async def webhook_deliveries_page(
        self,
        endpoint_id: int,
        *,
        before: int | None,
        limit: int,
        status: DeliveryStatus | None = None,
    ) -> Page[WebhookDelivery]:
        return await deliveries_page(
            self.conn, endpoint_id, before=before, limit=limit, status=status
        )

    async def webhook_attempts(
        self, delivery_ids: Sequence[int]
    ) -> dict[int, list[WebhookAttempt]]:
        return await attempts_of(self.conn, delivery_ids)

    async def order_source(self, name: str) -> OrderSource | None:
        return await InboundStore(self.conn, lock_rows=False).source(name)

    async def inbound_page(
        self, *, status: str | None, before: int | None, limit: int
    ) -> Page[InboundEvent]:
        return await inbound_page(self.conn, status=status, before=before, limit=limit)

    async def unsequenced_events(self) -> bool:
        return await unsequenced(self.conn)

    async def rewards_page(self, *, after: int, limit: int, active_only: bool) -> Page[Reward]:
        query = select(rewards).where(rewards.c.id > after, rewards.c.source != SYSTEM)
        if active_only:
            query = query.where(rewards.c.active.is_(True))
        rows = list(await self.conn.execute(query.order_by(rewards.c.id).limit(limit + 1)))
        return Page([mappers.reward(r) for r in rows[:limit]], len(rows) > limit)

    async def redemptions_page(
        self, member_id: int, *, before: int | None, limit: int
    ) -> Page[Redemption]:
        query = select(redemptions).where(redemptions.c.member_id == member_id)
        if before is not None:
            query = query.where(redemptions.c.id < before)
        rows = list(
            await self.conn.execute(query.order_by(redemptions.c.id.desc()).limit(limit + 1))
        )
        return Page([mappers.redemption(r) for r in rows[:limit]], len(rows) > limit)

    async def activity_page(self, member_id: int, *, before: int | None, limit: int) -> Page[Entry]:
        """The member's ledger entries, newest first."""
        query = _entry_query().where(entries.c.member_id == member_id)
        if before is not None:
            query = query.where(entries.c.id < before)
        rows = list(await self.conn.execute(query.order_by(entries.c.id.desc()).limit(limit + 1)))
        return Page([_entry(r) for r in rows[:limit]], len(rows) > limit)

    async def entries_by_ids(self, ids: Sequence[int]) -> dict[int, Entry]:
        """Member-side entries only: program-side entries are no member's activity."""
        query = _entry_query().where(entries.c.id.in_(list(ids)), entries.c.member_id.is_not(None))
        return {r.id: _entry(r) for r in await self.conn.execute(query)}

    async def expiring(
        self, ids: Sequence[int], until: datetime
    ) -> dict[int, list[ExpiringPoints]]:
        rows = await self.conn.execute(
            select(lots.c.member_id, lots.c.expires_at, func.sum(lots.c.remaining))
            .where(
                lots.c.member_id.in_(list(ids)),
                lots.c.state == LotState.AVAILABLE,
                lots.c.remaining > 0,
                lots.c.expires_at.is_not(None),
                lots.c.expires_at <= until,
            )
            .group_by(lots.c.member_id, lots.c.expires_at)
            .order_by(lots.c.member_id, lots.c.expires_at)
        )
        found: dict[int, list[ExpiringPoints]] = {i: [] for i in ids}
        for member_id, expires_at, points in rows:
            found[member_id].append(ExpiringPoints(int(points), expires_at))
        return found

    async def redeemed_quantities(
        self,
        member_id: int,
        reward_ids: Sequence[int],
        since: Mapping[int, datetime | None] | None = None,
    ) -> dict[int, int]:
        """Units the member redeemed of each reward (not returned), counting for a reward
        in `since` only those made from its moment on."""
        c = redemptions.c
        rows = await self.conn.execute(
            select(c.reward_id, c.quantity, c.created_at).where(
                c.member_id == member_id,
                c.reward_id.in_(list(reward_ids)),
                c.status.not_in((RedemptionStatus.CANCELLED, RedemptionStatus.FAILED)),
            )
        )
        found: dict[int, int] = {}
        for reward_id, quantity, created_at in rows:
            start = (since or {}).get(reward_id)
            if start is None or created_at >= start:
                found[reward_id] = found.get(reward_id, 0) + int(quantity)
        return found

    async def balance_changes(
        self, member_id: int, *, after_version: int, limit: int = 500
    ) -> list[BalanceChange]:
        rows = await self.conn.execute(
            select(outbox.c.payload)
            .where(
                outbox.c.topic == BALANCE_TOPIC,
                outbox.c.member_id == member_id,
                outbox.c.version > after_version,
            )
            .order_by(outbox.c.version)
            .limit(limit)
        )
        return [BalanceChange.from_payload(member_id, r.payload) for r in rows]

    async def outbox_tail(self, after_id: int, limit: int = 1000) -> list[tuple[int, int | None]]:
        rows = await self.conn.execute(
            select(outbox.c.id, outbox.c.member_id)
            .where(outbox.c.id > after_id)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [(r.id, r.member_id) for r in rows]

    async def outbox_last_id(self) -> int:
        return int(
            (await self.conn.execute(select(func.coalesce(func.max(outbox.c.id), 0)))).scalar_one()
        )


def _entry_query() -> Select[Any]:
    return (
        select(
            entries.c.id,
            entries.c.transfer_id,
            entries.c.member_id,
            entries.c.account,
            entries.c.amount,
            entries.c.balance_after,
            transfers.c.kind,
            transfers.c.occurred_at,
            transfers.c.reference,
            transfers.c.reason,
            orders.c.explanation,
            activities.c.explanation.label("activity_explanation"),
        )
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .outerjoin(orders, orders.c.id == transfers.c.order_id)
        .outerjoin(activities, activities.c.transfer_id == transfers.c.id)
    )


def _entry(r: Any) -> Entry:
    """An earn explains itself: a purchase by its order's rules, an activity by its own."""
    explanation = r.explanation if r.explanation is not None else r.activity_explanation
    return Entry(
        id=r.id,
        transfer_id=r.transfer_id,
        member_id=r.member_id,
        kind=TransferKind(r.kind),
        account=MemberAccount(r.account),
        points=r.amount,
        balance_after=r.balance_after,
        occurred_at=r.occurred_at,
        reference=r.reference,
        reason=r.reason,
        explanation=(
            tuple(RuleAward.from_data(a) for a in explanation)
            if r.kind == TransferKind.EARN.value and explanation is not None
            else None
        ),
    )
