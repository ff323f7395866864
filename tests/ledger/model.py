"""A pure-Python model of the ledger: what every write command should answer and do.

Independent of `app`: the rules are re-derived from docs/ARCHITECTURE.md, the README and the program data, with
exact fractions where the ledger promises exact arithmetic. The model predicts each
reply (data or one error code) and keeps the balances, lots, orders, redemptions, stock
and idempotency keys that the real ledger must agree with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

ANY_ID = object()  # an id the database assigns; the model learns it from the reply
MAX_AMOUNT = Decimal(1_000_000_000)
PURCHASE_DECIMALS = 2  # the test program's currency is EUR
MAX_QUANTITY = 20
MAX_ADJUSTMENT = 10_000_000
QUALIFYING_DAYS = 365
DEADLINE = timedelta(hours=720)  # the default deadline of a discount-code redemption


class Refused(Exception):
    """An expected business failure; raised before the model changes anything."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Enroll:
    external_id: str


@dataclass(frozen=True)
class Purchase:
    member_id: int
    order_ref: str
    amount: str
    occurred_at: datetime


@dataclass(frozen=True)
class Return:
    order_ref: str
    amount: str


@dataclass(frozen=True)
class Redeem:
    member_id: int
    reward: str
    quantity: int


@dataclass(frozen=True)
class Resolve:
    redemption_id: int
    cancel: bool


@dataclass(frozen=True)
class Adjust:
    member_id: int
    points: int


Call = Enroll | Purchase | Return | Redeem | Resolve | Adjust


@dataclass
class Expected:
    code: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False
    bind: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)


@dataclass
class Member:
    external_id: str
    id: int | None = None
    available: int = 0
    pending: int = 0
    held: int = 0
    lifetime_earned: int = 0
    version: int = 0
    qualifying: list[tuple[datetime, int]] = field(default_factory=list)  # EARN +, RETURN -
    redeemed: dict[str, int] = field(default_factory=dict)  # not cancelled, per reward
    enrolled_at: datetime | None = None
    tier: str | None = None  # the stored tier; None: the first, never evaluated
    since: datetime | None = None  # when the tier was reached
    settled_at: datetime | None = None  # returns of earns from before this move no one
    period_ends_at: datetime | None = None  # when the tier is reviewed; None: never
    # how the member stood before each change since settled_at, and when it changed:
    # (tier, since, period_ends_at, changed_at), oldest first
    history: list[tuple[str, datetime | None, datetime | None, datetime]] = field(
        default_factory=list
    )

    def balance(self) -> dict[str, int]:
        return {
            "available": self.available,
            "pending": self.pending,
            "held": self.held,
            "lifetimeEarned": self.lifetime_earned,
            "version": self.version,
        }


@dataclass
class Lot:
    seq: int  # creation order, as the database's ids
    member: Member
    points: int
    remaining: int
    state: str  # PENDING | AVAILABLE
    release_at: datetime | None
    expires_at: datetime | None


@dataclass
class Order:
    ref: str
    member: Member
    amount: Decimal
    earned: int
    lot: Lot | None
    at: datetime  # when it was made (the till's clock): its reversals count for tiers then
    recorded: datetime  # when the ledger recorded it (the server's clock)
    returned: Decimal = Decimal(0)
    reversed: int = 0
    shortfall: int = 0


@dataclass
class Redemption:
    member: Member
    reward: str
    quantity: int
    points: int
    allocations: list[tuple[Lot, int]]
    status: str = "HELD"
    id: int | None = None
    deadline: datetime | None = None  # still HELD then: FAILED at the next sweep


@dataclass(frozen=True)
class Reward:
    key: str
    cost: int
    min_tier: str | None
    per_member_limit: int | None


def parse_money(raw: str, *, decimals: int, positive: bool = False) -> Decimal | None:
    """The amount, or None when the ledger must refuse it before claiming the key: a
    purchase has at most its currency's decimals (EUR: 2), a return at most 4."""
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        return None
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -decimals:
        return None
    return None if positive and amount == 0 else amount


def reversal_due(earned: int, order: Decimal, returned_total: Decimal, so_far: int) -> int:
    """Cumulative floor(earned x returned / order), exact, never above earned, less `so_far`."""
    if earned <= 0:
        return 0
    if order <= 0:
        target = earned if returned_total > 0 else 0
    else:
        target = math.floor(earned * Fraction(min(returned_total, order)) / Fraction(order))
    return max(0, min(target, earned) - so_far)


class LedgerModel:
    """Tiers: upgrade at once after an earn (a 12-month period starts), a return undoes an
    upgrade of this period down to the period's starting tier, and a sweep reviews each
    period's end (policy SUPPORTED, no grace). Returns follow `return_policy`."""

    def __init__(self, program: dict[str, Any], stock: dict[str, int | None]) -> None:
        head = program["program"]
        self.negative = head.get("return_policy") == "NEGATIVE_BALANCE"
        self.rate = Fraction(Decimal(str(head["points_per_unit"])))
        self.pending_days = int(head.get("pending_days", 0))
        expiry = head.get("points_expiry_days")
        self.expiry = None if expiry is None else timedelta(days=int(expiry))
        self.tiers = [
            (t["key"], int(t["threshold"]), Fraction(Decimal(str(t["multiplier"]))))
            for t in sorted(program["tiers"], key=lambda t: t["threshold"])
        ]
        self.rewards = {
            r["key"]: Reward(r["key"], r["cost"], r.get("min_tier"), r.get("per_member_limit"))
            for r in program["rewards"]
        }
        self.stock = dict(stock)  # what is left; None: unlimited
        self.members: dict[str, Member] = {}
        self.by_id: dict[int, Member] = {}
        self.lots: list[Lot] = []
        self.orders: dict[str, Order] = {}
        self.redemptions: list[Redemption] = []
        self.keys: dict[str, tuple[tuple[Any, ...], Expected]] = {}

    # --- commands ---

    def execute(self, call: Call, key: str, now: datetime) -> Expected:
        """What the ledger should answer to `call` under idempotency `key` at `now`."""
        if not self._valid(call):
            return Expected("INVALID_INPUT")  # refused before the key is claimed
        request = _request(call)
        if key in self.keys:
            first_request, first = self.keys[key]
            if first_request != request:
                return Expected("IDEMPOTENCY_CONFLICT")
            return replace(first, replayed=True, bind=None)
        try:
            expected = self._run(call, now)
        except Refused as refused:
            expected = Expected(refused.code)
        self.keys[key] = (request, expected)
        return expected

    def _valid(self, call: Call) -> bool:
        if isinstance(call, Purchase):
            return parse_money(call.amount, decimals=PURCHASE_DECIMALS) is not None
        if isinstance(call, Return):
            return parse_money(call.amount, decimals=4, positive=True) is not None
        if isinstance(call, Redeem):
            return 1 <= call.quantity <= MAX_QUANTITY
        if isinstance(call, Adjust):
            return call.points != 0 and abs(call.points) <= MAX_ADJUSTMENT
        return True

    def _run(self, call: Call, now: datetime) -> Expected:
        if isinstance(call, Enroll):
            return self._enroll(call, now)
        if isinstance(call, Purchase):
            return self._purchase(call, now)
        if isinstance(call, Return):
            return self._return(call, now)
        if isinstance(call, Redeem):
            return self._redeem(call, now)
        if isinstance(call, Resolve):
            return self._resolve(call)
        return self._adjust(call, now)

    def _member(self, member_id: int) -> Member:
        if member_id not in self.by_id:
            raise Refused("MEMBER_NOT_FOUND")
        return self.by_id[member_id]

    def _enroll(self, call: Enroll, now: datetime) -> Expected:
        if call.external_id in self.members:
            raise Refused("MEMBER_EXISTS")
        member = Member(call.external_id, enrolled_at=now)
        self.members[call.external_id] = member
        expected = Expected(data={"memberId": ANY_ID})

        def bind(data: dict[str, Any]) -> None:
            member.id = data["memberId"]
            self.by_id[data["memberId"]] = member
            expected.data = dict(data)

        expected.bind = bind
        return expected

    def _purchase(self, call: Purchase, now: datetime) -> Expected:
        member = self._member(call.member_id)
        if call.order_ref in self.orders:
            raise Refused("ORDER_EXISTS")
        tier, multiplier = self._held(member)
        amount = Decimal(call.amount)
        points = math.floor(Fraction(amount) * self.rate * multiplier)
        pending = self.pending_days > 0
        lot = None
        if points > 0:
            self._post(member, pending=points if pending else 0, available=0 if pending else points)
            member.lifetime_earned += points
            member.qualifying.append((call.occurred_at, points))
            lot = Lot(
                len(self.lots),
                member,
                points,
                points,
                "PENDING" if pending else "AVAILABLE",
                call.occurred_at + timedelta(days=self.pending_days) if pending else None,
                None if self.expiry is None else call.occurred_at + self.expiry,
            )
            self.lots.append(lot)
            if not pending:
                self._repay(member, points, prefer=lot)
        self.orders[call.order_ref] = Order(
            call.order_ref, member, amount, points, lot, call.occurred_at, now
        )
        upgraded = self._follow_earn(member, now)
        return Expected(
            data={
                **({"upgradedTo": upgraded} if upgraded else {}),
                "memberId": member.id,
                "orderId": call.order_ref,
                "points": points,
                "pending": pending and points > 0,
                "tier": tier,
                "balance": member.balance(),
            }
        )

    def _return(self, call: Return, now: datetime) -> Expected:
        order = self.orders.get(call.order_ref)
        if order is None:
            raise Refused("ORDER_NOT_FOUND")
        member = order.member
        returned_total = order.returned + Decimal(call.amount)
        if returned_total > order.amount:
            raise Refused("INVALID_INPUT")
        so_far = order.reversed + order.shortfall
        left = reversal_due(order.earned, order.amount, returned_total, so_far)
        reversed_points = 0
        lot = order.lot
        if lot is not None and lot.state == "PENDING" and left > 0 and lot.remaining > 0:
            take = min(lot.remaining, left)
            lot.remaining -= take
            self._post(member, pending=-take)
            reversed_points, left = reversed_points + take, left - take
        take = min(left, max(0, member.available))
        owed = left - take if self.negative else 0
        if take > 0 or owed > 0:
            prefer = lot if lot is not None and lot.state == "AVAILABLE" else None
            self._take_lots(member, take, prefer=prefer)
            self._post(member, available=-(take + owed))
            reversed_points, left = reversed_points + take + owed, left - take - owed
        if reversed_points:
            member.lifetime_earned -= reversed_points
            member.qualifying.append((order.at, -reversed_points))
        order.returned = returned_total
        order.reversed += reversed_points
        order.shortfall += left
        if left:  # spent, so not taken back: still, returned goods never count for tiers
            member.qualifying.append((order.at, -left))
        self._follow_return(member, order.recorded, now)
        return Expected(
            data={
                "memberId": member.id,
                "orderId": order.ref,
                "points": reversed_points,
                "shortfall": left,
                "balance": member.balance(),
            }
        )

    def _redeem(self, call: Redeem, now: datetime) -> Expected:
        member = self._member(call.member_id)
        reward = self.rewards[call.reward]
        if reward.min_tier is not None and self._rank(self._held(member)[0]) < self._rank(
            reward.min_tier
        ):
            raise Refused("TIER_REQUIRED")
        already = member.redeemed.get(reward.key, 0)
        if (
            reward.per_member_limit is not None
            and already + call.quantity > reward.per_member_limit
        ):
            raise Refused("LIMIT_REACHED")
        left = self.stock.get(reward.key)
        if left is not None and left < call.quantity:
            raise Refused("OUT_OF_STOCK")
        points = reward.cost * call.quantity
        if member.available < points:
            raise Refused("INSUFFICIENT_POINTS")
        if left is not None:
            self.stock[reward.key] = left - call.quantity
        member.redeemed[reward.key] = already + call.quantity
        allocations = self._take_lots(member, points)
        self._post(member, available=-points, held=points)
        redemption = Redemption(
            member, reward.key, call.quantity, points, allocations, deadline=now + DEADLINE
        )
        self.redemptions.append(redemption)
        data = {"memberId": member.id, "redemptionId": ANY_ID, "points": points}
        expected = Expected(data={**data, "balance": member.balance()})

        def bind(reply: dict[str, Any]) -> None:
            redemption.id = reply["redemptionId"]
            expected.data = {**expected.data, "redemptionId": redemption.id}

        expected.bind = bind
        return expected

    def _resolve(self, call: Resolve) -> Expected:
        found = [r for r in self.redemptions if r.id == call.redemption_id]
        if not found:
            raise Refused("REDEMPTION_NOT_FOUND")
        redemption = found[0]
        if redemption.status != "HELD":
            raise Refused("INVALID_STATE")
        self._settle(redemption, cancel=call.cancel)
        return Expected(
            data={
                "memberId": redemption.member.id,
                "redemptionId": redemption.id,
                "points": redemption.points,
                "balance": redemption.member.balance(),
            }
        )

    def _settle(self, redemption: Redemption, *, cancel: bool, status: str | None = None) -> None:
        """Spend a held redemption (fulfilled) or give its points and stock back."""
        member = redemption.member
        redemption.status = status or ("CANCELLED" if cancel else "FULFILLED")
        if cancel:
            for lot, points in redemption.allocations:
                lot.remaining += points
            left = self.stock.get(redemption.reward)
            if left is not None:
                self.stock[redemption.reward] = left + redemption.quantity
            member.redeemed[redemption.reward] -= redemption.quantity
        self._post(member, held=-redemption.points, available=redemption.points if cancel else 0)
        if cancel:
            self._repay(member, redemption.points)

    def _adjust(self, call: Adjust, now: datetime) -> Expected:
        member = self._member(call.member_id)
        if call.points > 0:
            expires = None if self.expiry is None else now + self.expiry
            lot = Lot(len(self.lots), member, call.points, call.points, "AVAILABLE", None, expires)
            self.lots.append(lot)
            self._post(member, available=call.points)
            self._repay(member, call.points, prefer=lot)
        elif member.available < -call.points:
            raise Refused("INSUFFICIENT_POINTS")
        else:
            self._take_lots(member, -call.points)
            self._post(member, available=call.points)
        return Expected(
            data={"memberId": member.id, "points": call.points, "balance": member.balance()}
        )

    # --- sweeps: release pending lots, then expire what is due ---

    def sweep(self, now: datetime) -> None:
        due = [lot for lot in self.lots if lot.state == "PENDING" and lot.release_at is not None]
        for lot in sorted(due, key=lambda lot: (lot.release_at, lot.seq)):
            if lot.release_at is not None and lot.release_at <= now:
                lot.state = "AVAILABLE"
                if lot.remaining > 0:
                    self._post(lot.member, pending=-lot.remaining, available=lot.remaining)
                    self._repay(lot.member, lot.remaining, prefer=lot)
        for lot in self.lots:
            if lot.state == "AVAILABLE" and lot.remaining > 0 and lot.expires_at is not None:
                if lot.expires_at <= now:
                    self._post(lot.member, available=-lot.remaining)
                    lot.remaining = 0
        for member in self.members.values():
            while member.period_ends_at is not None and member.period_ends_at <= now:
                self._review(member, now)
        for redemption in self.redemptions:  # past its deadline: failed, points back
            if redemption.status == "HELD" and redemption.deadline and redemption.deadline <= now:
                self._settle(redemption, cancel=True, status="FAILED")

    # --- rules ---

    def _rank_for(self, points: int) -> int:
        return max(i for i, t in enumerate(self.tiers) if max(0, points) >= t[1])

    def _supported_now(self, member: Member, now: datetime) -> int:
        """The rank the points earned in the last 12 months, to now, support."""
        since = now - timedelta(days=QUALIFYING_DAYS)
        return self._rank_for(sum(p for at, p in member.qualifying if at >= since))

    def _supported_in_period(self, member: Member, ends: datetime) -> int:
        """The rank the points earned in the period support: after it began, to its end."""
        since = ends - timedelta(days=QUALIFYING_DAYS)
        return self._rank_for(sum(p for at, p in member.qualifying if since < at <= ends))

    def held_tier(self, member: Member) -> str:
        return self._held(member)[0]

    def _held(self, member: Member) -> tuple[str, Fraction]:
        tier = self.tiers[self._rank(member.tier or self.tiers[0][0])]
        return tier[0], tier[2]

    def _period_end(self, rank: int, start: datetime) -> datetime | None:
        return start + timedelta(days=QUALIFYING_DAYS) if rank > 0 else None

    def _follow_earn(self, member: Member, now: datetime) -> str | None:
        if member.tier is None:  # first evaluated: the first tier, settled at enrolment
            member.tier = self.tiers[0][0]
            member.since = member.settled_at = member.enrolled_at
        rank, best = self._rank(member.tier), self._supported_now(member, now)
        if best <= rank:
            return None
        member.history.append((member.tier, member.since, member.period_ends_at, now))
        member.tier, member.since = self.tiers[best][0], now
        member.period_ends_at = self._period_end(best, now)
        return member.tier

    def _follow_return(self, member: Member, recorded: datetime, now: datetime) -> None:
        """Undo the changes made since the returned earn was recorded (server time),
        keeping the latest one that stands without it (its tier reached by the measure at
        the moment it was made), and what came before; the rest go as far as the measure
        falls; then what passed meanwhile is reviewed, and today's measure counts."""
        if member.tier is None or member.settled_at is None or recorded < member.settled_at:
            return
        history = member.history
        changed = [i for i, h in enumerate(history) if h[3] >= recorded]
        back, then = None, 0
        for i in reversed(changed):
            reached = history[i + 1][0] if i + 1 < len(history) else member.tier
            at = history[i][3]
            start = at - timedelta(days=QUALIFYING_DAYS)
            supported = self._rank_for(
                sum(p for when, p in member.qualifying if start <= when <= at)
            )
            if supported >= self._rank(reached):
                break
            back, then = i, supported
        if back is None:
            return
        without = max(then, self._supported_now(member, now))
        if without >= self._rank(member.tier):
            return
        tier, since, period, _ = history[back]
        kept = history[:back]
        if without <= self._rank(tier):
            member.tier, member.since, member.period_ends_at = tier, since, period
            member.history = kept
        else:
            member.tier, member.since = self.tiers[without][0], now
            member.period_ends_at = self._period_end(without, now)
            member.history = [*kept, (tier, since, period, now)]
        while member.period_ends_at is not None and member.period_ends_at <= now:
            self._review(member, now)  # back in a standing whose period has ended
        best = self._supported_now(member, now)
        if best > self._rank(member.tier):  # later earns still reach a tier
            member.history.append((member.tier, member.since, member.period_ends_at, now))
            member.tier, member.since = self.tiers[best][0], now
            member.period_ends_at = self._period_end(best, now)

    def _review(self, member: Member, now: datetime) -> None:
        ends = member.period_ends_at
        assert ends is not None
        assert member.tier is not None
        rank = self._rank(member.tier)
        best = self._supported_in_period(member, ends)  # the period alone decides
        if best > rank:  # an earn would have upgraded at once: never seen at review
            raise AssertionError("model: an upgrade at review")
        member.settled_at, member.history = ends, []
        if best == rank:
            member.period_ends_at = ends + timedelta(days=QUALIFYING_DAYS)
        else:
            member.tier, member.since = self.tiers[best][0], ends
            member.period_ends_at = self._period_end(best, ends)

    def _repay(self, member: Member, credited: int, prefer: Lot | None = None) -> None:
        """A credit to a member below zero repays the debt first, from the credited lots."""
        before = member.available - credited
        repaid = min(-before, credited)
        if before < 0 and repaid > 0:
            self._take_lots(member, repaid, prefer=prefer)

    def _rank(self, tier: str) -> int:
        return [t[0] for t in self.tiers].index(tier)

    def _take_lots(
        self, member: Member, points: int, prefer: Lot | None = None
    ) -> list[tuple[Lot, int]]:
        """Earliest expiry first (never-expiring last, ties oldest first); `prefer` first."""
        lots = [lot for lot in self.lots if lot.member is member and lot.state == "AVAILABLE"]
        lots = [lot for lot in lots if lot.remaining > 0]
        lots.sort(key=lambda lot: (lot is not prefer, *_spend_order(lot)))
        taken: list[tuple[Lot, int]] = []
        for lot in lots:
            take = min(lot.remaining, points - sum(p for _, p in taken))
            if take > 0:
                lot.remaining -= take
                taken.append((lot, take))
        assert sum(p for _, p in taken) == points, "model: lots and available disagree"
        return taken

    def _post(self, member: Member, *, available: int = 0, pending: int = 0, held: int = 0) -> None:
        member.available += available
        member.pending += pending
        member.held += held
        member.version += 1
        assert min(member.pending, member.held) >= 0, "model went negative"
        assert self.negative or member.available >= 0, "model went negative"


def _spend_order(lot: Lot) -> tuple[int, float, int]:
    return (1, 0.0, lot.seq) if lot.expires_at is None else (0, lot.expires_at.timestamp(), lot.seq)


def _request(call: Call) -> tuple[Any, ...]:
    """What the idempotency key is bound to: the operation and its normalised request."""
    if isinstance(call, Purchase):
        return (
            "purchase",
            call.member_id,
            call.order_ref,
            str(Decimal(call.amount)),
            call.occurred_at,
        )
    if isinstance(call, Return):
        return ("return", call.order_ref, str(Decimal(call.amount)))
    if isinstance(call, Resolve):
        return ("cancel" if call.cancel else "fulfill", call.redemption_id)
    return (type(call).__name__, *vars(call).values())
