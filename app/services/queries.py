"""Read use cases: what the API shows. Batched so a page costs a fixed number of queries."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from app.domain.checkout import CheckoutOffer, offer
from app.domain.errors import DomainError, ErrorCode
from app.domain.order_lines import LineInput, parse_lines
from app.domain.points import currency_decimals, parse_amount
from app.domain.published import EventType, PublishedEvent
from app.domain.records import (
    AuditEntry,
    Balance,
    BalanceChange,
    Entry,
    ExpiringPoints,
    Member,
    MemberExport,
    Page,
    Redemption,
    RedemptionChange,
    Reward,
    RuleAward,
)
from app.domain.rewards import period_start, redeem_blocker
from app.domain.tiers.policy import Tier
from app.domain.tiers.progress import TierProgress
from app.domain.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.ledger.inbound import InboundEvent
from app.ledger.programs import ProgramVersion, activations
from app.ledger.queries import ReadLedger
from app.ledger.uow import UnitOfWork
from app.services.clock import Clock
from app.services.earning import explain, explanation_data, single_line
from app.services.redeem import reward_state
from app.services.tiers.standing import held_tiers, progress

EXPIRING_HORIZON = timedelta(days=30)
PROGRAM_TTL = 2.0
BACKLOG_PAGE = 500


@dataclass(frozen=True, slots=True)
class RewardAvailability:
    reward: Reward
    can_redeem: bool
    reason: ErrorCode | None


@dataclass(frozen=True, slots=True)
class Estimate:
    awards: tuple[RuleAward, ...]
    points: int
    base_points: int
    multiplier: Decimal
    tier: Tier | None
    currency: str
    checkout: CheckoutOffer | None = None  # None: the program takes no points at checkout


async def _visible_page(
    r: ReadLedger, *, after: int, limit: int, active_only: bool, tier_key: str | None
) -> Page[Reward]:
    """A page of `limit` rewards a member of tier `tier_key` may see, read on past the
    hidden ones (so a page is full whenever there are more to show)."""
    found: list[Reward] = []
    cursor = after
    while len(found) <= limit:
        page = await r.rewards_page(after=cursor, limit=limit + 1, active_only=active_only)
        found += [w for w in page.items if w.visible_to(tier_key)]
        if not page.has_next or not page.items:
            break
        cursor = page.items[-1].id
    return Page(found[:limit], len(found) > limit)


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    """Deliveries as an endpoint's log shows them: each with its event and its attempts."""

    page: Page[WebhookDelivery]
    events: dict[int, PublishedEvent]  # by outbox id
    attempts: dict[int, list[WebhookAttempt]]  # by delivery id


class Queries:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock
        self._program: tuple[float, int, ProgramVersion | None] | None = None

    async def program(self) -> ProgramVersion | None:
        """The active program, re-read at most every PROGRAM_TTL seconds (a new version
        applied by another process shows up within that time; writes always re-read)."""
        now = time.monotonic()
        cached = self._program
        if cached is not None and cached[1] == activations() and now - cached[0] < PROGRAM_TTL:
            return cached[2]
        generation = activations()
        async with self.uow.read() as r:
            version = await r.programs.active()
        self._program = (now, generation, version)
        return version

    async def members(self, ids: Sequence[int]) -> dict[int, Member]:
        async with self.uow.read() as r:
            return await r.members_by_ids(ids)

    async def export_member(self, member_id: int) -> MemberExport | None:
        """Everything Tally holds on the member (an access request), as JSON-ready data."""
        async with self.uow.read() as r:
            return await r.member_export(member_id)

    async def audit_trail(
        self, *, before_id: int | None, limit: int, member_id: int | None = None
    ) -> list[AuditEntry]:
        """Writes through the API, newest first."""
        async with self.uow.read() as r:
            return await r.audit_page(before_id=before_id, limit=limit, member_id=member_id)

    async def members_by_external_id(self, ids: Sequence[str]) -> dict[str, Member]:
        async with self.uow.read() as r:
            return await r.members_by_external_ids(ids)

    async def balances(self, ids: Sequence[int]) -> dict[int, Balance]:
        async with self.uow.read() as r:
            return await r.balances_by_member(ids)

    async def expiring_soon(self, ids: Sequence[int]) -> dict[int, list[ExpiringPoints]]:
        async with self.uow.read() as r:
            return await r.expiring(ids, self.clock.now() + EXPIRING_HORIZON)

    async def tiers(self, ids: Sequence[int]) -> dict[int, TierProgress]:
        version = await self.program()
        if version is None:
            return {}
        async with self.uow.read() as r:
            return await progress(r, version.program, ids, self.clock.now())

    async def rewards(self, ids: Sequence[int]) -> dict[int, Reward]:
        async with self.uow.read() as r:
            return await r.rewards_by_ids(ids)

    async def redemptions(self, ids: Sequence[int]) -> dict[int, Redemption]:
        async with self.uow.read() as r:
            return await r.redemptions_by_ids(ids)

    async def redemption_histories(self, ids: Sequence[int]) -> dict[int, list[RedemptionChange]]:
        async with self.uow.read() as r:
            return await r.redemption_histories(ids)

    async def redemption_by_code(self, code: str) -> Redemption | None:
        async with self.uow.read() as r:
            return await r.redemption_by_code(code)

    async def redemption_changes(
        self, member_id: int, *, after_version: int
    ) -> list[RedemptionChange]:
        async with self.uow.read() as r:
            return await r.redemption_changes(
                member_id, after_version=after_version, limit=BACKLOG_PAGE
            )

    async def last_redemption_version(self, member_id: int) -> int:
        async with self.uow.read() as r:
            return await r.last_redemption_version(member_id)

    async def reward_page(
        self,
        *,
        after: int,
        limit: int,
        active_only: bool = True,
        seen_by: int | None = None,
        member_token: bool = False,
    ) -> Page[Reward]:
        """A page of the catalog; for a member's own token (`member_token`, the member
        `seen_by` or None if not enrolled) only the rewards its tier may see."""
        version = await self.program() if member_token else None
        async with self.uow.read() as r:
            if not member_token:
                return await r.rewards_page(after=after, limit=limit, active_only=active_only)
            tier_key = None
            if version is not None and seen_by is not None:
                held = await held_tiers(r, version.program, [seen_by], self.clock.now())
                tier_key = held[seen_by].key
            return await _visible_page(
                r, after=after, limit=limit, active_only=active_only, tier_key=tier_key
            )

    async def available_rewards(
        self, member_id: int, *, after: int, limit: int
    ) -> Page[RewardAvailability]:
        """Active rewards this member's tier may see, each with whether this member can
        redeem one now and why not."""
        version = await self.program()
        now = self.clock.now()
        async with self.uow.read() as r:
            if version is None:
                rank, tier_key = -1, None
            else:
                tier = (await held_tiers(r, version.program, [member_id], now))[member_id]
                rank, tier_key = version.program.tier_rank(tier.key), tier.key
            page = await _visible_page(
                r, after=after, limit=limit, active_only=True, tier_key=tier_key
            )
            balance = (await r.balances_by_member([member_id])).get(member_id)
            since = {
                w.id: period_start(w.limit_period, now, version.program.time_zone)
                for w in page.items
                if version is not None
            }
            redeemed = await r.redeemed_quantities(member_id, [w.id for w in page.items], since)
        items = []
        for reward in page.items:  # those hidden from this tier are not there, not refused
            reason = (
                ErrorCode.REWARD_UNAVAILABLE
                if version is None or balance is None
                else redeem_blocker(
                    reward_state(reward, version),
                    now=now,
                    quantity=1,
                    tier_rank=rank,
                    already_redeemed=redeemed.get(reward.id, 0),
                    available=balance.available,
                )
            )
            items.append(RewardAvailability(reward, reason is None, reason))
        return Page(items, page.has_next)

    async def checkout_offer(self, member_id: int) -> CheckoutOffer | None:
        """What a checkout can take off for this member now (their available points, in
        the program's steps, and what they are worth); None without points at checkout."""
        version = await self.program()
        if version is None or version.program.checkout is None:
            return None
        program, terms = version.program, version.program.checkout
        async with self.uow.read() as r:
            balance = (await r.balances_by_member([member_id])).get(member_id)
        return offer(
            terms,
            program.currency,
            currency_decimals(program.currency),
            available=balance.available if balance is not None else 0,
        )

    async def events(
        self,
        *,
        after: int,
        limit: int,
        types: Collection[EventType] | None = None,
        member_id: int | None = None,
    ) -> Page[PublishedEvent]:
        """Published events after sequence `after`, in commit order."""
        async with self.uow.read() as r:
            return await r.events_page(after=after, limit=limit, types=types, member_id=member_id)

    async def webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        async with self.uow.read() as r:
            page = await r.webhook_endpoints_page(after=endpoint_id - 1, limit=1)
        found = page.items[0] if page.items else None
        return found if found is not None and found.id == endpoint_id else None

    async def webhook_endpoints(self, *, after: int, limit: int) -> Page[WebhookEndpoint]:
        async with self.uow.read() as r:
            return await r.webhook_endpoints_page(after=after, limit=limit)

    async def webhook_deliveries(
        self,
        endpoint_id: int,
        *,
        before: int | None,
        limit: int,
        status: DeliveryStatus | None = None,
    ) -> DeliveryLog:
        """A page of an endpoint's deliveries, newest first, with their events and attempts."""
        async with self.uow.read() as r:
            page = await r.webhook_deliveries_page(
                endpoint_id, before=before, limit=limit, status=status
            )
            events = await r.events_by_outbox_ids([d.outbox_id for d in page.items])
            attempts = await r.webhook_attempts([d.id for d in page.items])
        return DeliveryLog(page, events, attempts)

    async def inbound_events(
        self, *, status: str | None, before: int | None, limit: int
    ) -> Page[InboundEvent]:
        async with self.uow.read() as r:
            return await r.inbound_page(status=status, before=before, limit=limit)

    async def entries(self, ids: Sequence[int]) -> dict[int, Entry]:
        async with self.uow.read() as r:
            return await r.entries_by_ids(ids)

    async def activity(self, member_id: int, *, before: int | None, limit: int) -> Page[Entry]:
        async with self.uow.read() as r:
            return await r.activity_page(member_id, before=before, limit=limit)

    async def redemption_page(
        self, member_id: int, *, before: int | None, limit: int
    ) -> Page[Redemption]:
        async with self.uow.read() as r:
            return await r.redemptions_page(member_id, before=before, limit=limit)

    async def balance_changes(self, member_id: int, *, after_version: int) -> list[BalanceChange]:
        async with self.uow.read() as r:
            return await r.balance_changes(
                member_id, after_version=after_version, limit=BACKLOG_PAGE
            )

    async def estimate(
        self,
        *,
        amount: str,
        currency: str,
        member_id: int | None,
        channel: str = "ONLINE",
        lines: tuple[LineInput, ...] = (),
    ) -> Estimate:
        """What an order would earn now, with the member's tier and caps; writes nothing."""
        value = parse_amount(amount)
        parsed = parse_lines(lines, value)
        version = await self.program()
        if version is None:
            raise DomainError(ErrorCode.INVALID_STATE, "No program is active.", None)
        program = version.program
        if currency != program.currency:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"this program earns in {program.currency}", "currency"
            )
        base_tier = program.tiers[0]
        now = self.clock.now()
        purchase = single_line(value, channel, now)
        if parsed:
            purchase = replace(purchase, lines=parsed)
        async with self.uow.read() as r:
            tier: Tier | None = None
            if member_id is not None:
                tier = (await held_tiers(r, program, [member_id], now))[member_id]
            awards = r.awards
            applied = tier or base_tier
            explained = await explain(program, purchase, applied, awards, member_id)
            base = explained
            if applied.multiplier != 1:
                plain = replace(applied, multiplier=Decimal(1))
                base = await explain(program, purchase, plain, awards, member_id)
            balance = None
            if member_id is not None:
                balance = (await r.balances_by_member([member_id])).get(member_id)
        checkout = None
        if program.checkout is not None:
            checkout = offer(
                program.checkout,
                program.currency,
                currency_decimals(program.currency),
                available=balance.available if balance is not None else None,
                amount=value,
            )
        return Estimate(
            awards=tuple(RuleAward.from_data(a) for a in explanation_data(explained)),
            points=explained.total,
            base_points=base.total,
            multiplier=(tier or base_tier).multiplier,
            tier=tier,
            currency=program.currency,
            checkout=checkout,
        )
