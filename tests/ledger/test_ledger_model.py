"""Random command sequences against the real ledger, every reply checked against a model.

Each hypothesis example opens a Ledger on the test's database (SQLite or PostgreSQL),
enrolls fresh members (names unique to the example) and runs a list of commands:
enroll, purchase, return, redeem, cancel, fulfil, adjust, advance the clock and sweep,
and replays of earlier idempotency keys, with the same request or a different one. After
every command the reply and the members' balances must equal the model's; after the
example the ledger's invariants must hold and its lots, redemptions and stock must
equal the model's.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hypothesis import event, given, note
from hypothesis import strategies as st
from sqlalchemy import select

from app.ledger.tables import lots as lot_rows
from app.services import enroll, purchase
from app.services.clock import FixedClock
from app.services.common import MemberRef
from app.services.fulfil import fail_overdue
from app.services.outcome import Outcome
from app.services.program import apply_program
from app.services.sweeps import run_sweeps
from tests.ledger import model as m
from tests.ledger.audit import audit
from tests.ledger.harness import START, Ledger, answer, program_data

EXPIRY_DAYS = 30
STOCK = 5  # the tote's stock at the start of every example
LIMIT = 4  # per member, for the coffee and the tote (the harness sets none)
GOLD = 250  # qualifying points for gold (x2 earn, the lounge); the harness has 1000
SILVER = 100  # a tier between (x1), so returns can undo a chain of upgrades
UNKNOWN_ID = 1_999_999_000  # + slot: a member or redemption id no example creates
MIN_STEPS = 15  # lists this long reach redemptions, returns and replays of them
MAX_STEPS = 60
_examples = itertools.count()


@dataclass(frozen=True)
class EnrollCmd:
    slot: int


@dataclass(frozen=True)
class PurchaseCmd:
    member: int
    amount: str
    reuse: int | None  # None: a new order id; n: the (n+1)-th latest order's id again
    skew: int = 0  # minutes the till's clock is off: ahead (within 5) or backdated


@dataclass(frozen=True)
class ReturnCmd:
    order: int  # the (n+1)-th latest order of this example; UNKNOWN: one never recorded
    sixths: int  # that many sixths of what is left unreturned; 0: `amount` as given
    amount: str


@dataclass(frozen=True)
class RedeemCmd:
    member: int
    reward: str
    quantity: int


@dataclass(frozen=True)
class ResolveCmd:
    which: int  # the (n+1)-th latest redemption of this example; UNKNOWN: none such
    cancel: bool


@dataclass(frozen=True)
class AdjustCmd:
    member: int
    points: int


@dataclass(frozen=True)
class AdvanceCmd:
    days: int


@dataclass(frozen=True)
class ReplayCmd:
    which: int  # the (n+1)-th latest keyed call
    instead: Any  # None: the same call again; a command: that one under the old key


Command = (
    EnrollCmd
    | PurchaseCmd
    | ReturnCmd
    | RedeemCmd
    | ResolveCmd
    | AdjustCmd
    | AdvanceCmd
    | ReplayCmd
)

UNKNOWN = 9
members = st.sampled_from([0, 1, 0, 1, 0, 1, 2, 3])  # 0 and 1 enrolled first, 2 maybe, 3 never
cents = st.builds(
    "{}.{:02d}".format, st.integers(0, 300), st.integers(0, 99) | st.sampled_from([0, 0, 50])
)
specials = st.sampled_from(["0.00", "3.00", "7.50", "1000.00", "0.3333", "600.00", "12.3456"])
invalid = st.sampled_from(["-1.00", "1.23456", "abc"])  # refused before the key is claimed
amounts = st.sampled_from([cents] * 6 + [specials, invalid]).flatmap(lambda kind: kind)
enrolls = st.builds(EnrollCmd, st.integers(0, 2))
skews = st.sampled_from([0] * 8 + [1, -2, -2 * 24 * 60, -40 * 24 * 60])
purchases = st.builds(PurchaseCmd, members, amounts, st.sampled_from([None] * 8 + [0, 1]), skews)
returns = st.builds(
    ReturnCmd, st.integers(0, UNKNOWN), st.sampled_from([6, 2, 3, 2, 1, 4, 5, 0]), amounts
)
redeems = st.builds(
    RedeemCmd,
    members,
    st.sampled_from(["coffee", "tote", "coffee", "lounge"]),
    st.sampled_from([1, 2, 1, 3, 1, 2, 1, 3, 0, 21]),
)
resolves = st.builds(ResolveCmd, st.integers(0, UNKNOWN), st.booleans())
adjusts = st.builds(AdjustCmd, members, st.integers(-150, 150))
advances = st.builds(
    AdvanceCmd, st.sampled_from([1, 2, 3, 4, 6, 7, 8, 10, 13, 14, 20, 25, 29, 30, 31, 370])
)
keyed = st.one_of(enrolls, purchases, returns, redeems, resolves, adjusts)
replays = st.builds(ReplayCmd, st.integers(0, 8), st.none() | keyed)
opening_purchases = st.builds(PurchaseCmd, st.sampled_from([0, 1]), cents, st.none())
# one_of weighs its branches alike, whatever the repeats: pick the kind with weights.
commands = st.sampled_from(
    [purchases] * 4
    + [redeems] * 4
    + [returns] * 2
    + [replays] * 2
    + [advances] * 2
    + [resolves, adjusts, enrolls]
).flatmap(lambda kind: kind)


class Run:
    """One example: the real ledger and the model side by side."""

    def __init__(self, ledger: Ledger, model: m.LedgerModel, prefix: str, rewards: dict[str, int]):
        self.ledger = ledger
        self.model = model
        self.prefix = prefix
        self.rewards = rewards
        self.sent: list[tuple[m.Call, str]] = []
        self.first: dict[str, Outcome] = {}
        self.order_ids = itertools.count()

    def member_id(self, slot: int) -> int:
        member = self.model.members.get(f"{self.prefix}-m{slot}")
        return UNKNOWN_ID + slot if member is None or member.id is None else member.id

    def call_for(self, cmd: Command) -> m.Call:
        if isinstance(cmd, EnrollCmd):
            return m.Enroll(f"{self.prefix}-m{cmd.slot}")
        if isinstance(cmd, PurchaseCmd):
            orders = list(self.model.orders)
            ref = f"{self.prefix}-o{next(self.order_ids)}"
            if cmd.reuse is not None and orders:
                ref = orders[-1 - cmd.reuse % len(orders)]
            at = self.ledger.clock.now() + timedelta(minutes=cmd.skew)
            return m.Purchase(self.member_id(cmd.member), ref, cmd.amount, at)
        if isinstance(cmd, ReturnCmd):
            orders = list(self.model.orders.values())
            if cmd.order == UNKNOWN or not orders:
                return m.Return(f"{self.prefix}-o-unknown", cmd.amount)
            order = orders[-1 - cmd.order % len(orders)]
            if cmd.sixths == 0:
                return m.Return(order.ref, cmd.amount)
            left = order.amount - order.returned
            part = left if cmd.sixths == 6 else left * cmd.sixths / 6
            return m.Return(order.ref, str(part.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)))
        if isinstance(cmd, RedeemCmd):
            return m.Redeem(self.member_id(cmd.member), cmd.reward, cmd.quantity)
        if isinstance(cmd, ResolveCmd):
            known = self.model.redemptions
            if cmd.which == UNKNOWN or not known:
                return m.Resolve(UNKNOWN_ID, cmd.cancel)
            redemption_id = known[-1 - cmd.which % len(known)].id
            assert redemption_id is not None
            return m.Resolve(redemption_id, cmd.cancel)
        assert isinstance(cmd, AdjustCmd)
        return m.Adjust(self.member_id(cmd.member), cmd.points)

    async def send(self, call: m.Call, key: str) -> Outcome:
        ledger = self.ledger
        if isinstance(call, m.Enroll):
            return await enroll.enroll_member(
                ledger.uow,
                ledger.clock,
                principal=ledger.principal,
                idempotency_key=key,
                cmd=enroll.EnrollMember(external_id=call.external_id),
            )
        if isinstance(call, m.Purchase):
            return await purchase.record_purchase(
                ledger.uow,
                ledger.clock,
                principal=ledger.principal,
                idempotency_key=key,
                cmd=purchase.RecordPurchase(
                    MemberRef(id=call.member_id),
                    call.order_ref,
                    call.amount,
                    "EUR",
                    "POS",
                    call.occurred_at,
                ),
            )
        if isinstance(call, m.Return):
            return await ledger.return_(call.order_ref, call.amount, key=key)
        if isinstance(call, m.Redeem):
            reward_id = self.rewards[call.reward]
            return await ledger.redeem(call.member_id, reward_id, call.quantity, key=key)
        if isinstance(call, m.Resolve):
            resolve = ledger.cancel if call.cancel else ledger.fulfill
            return await resolve(call.redemption_id, key=key)
        return await ledger.adjust(call.member_id, call.points, key=key)

    async def step(self, cmd: Command) -> None:
        if isinstance(cmd, AdvanceCmd):
            now = self.ledger.clock.advance(days=cmd.days)
            await run_sweeps(self.ledger.uow, self.ledger.clock)
            self.model.sweep(now)
            note(f"advance {cmd.days} days and sweep")
        else:
            if isinstance(cmd, ReplayCmd):
                if not self.sent:
                    return
                call, key = self.sent[-1 - cmd.which % len(self.sent)]
                if cmd.instead is not None:
                    call = self.call_for(cmd.instead)
            else:
                call, key = self.call_for(cmd), f"{self.prefix}-k{len(self.sent)}"
                self.sent.append((call, key))
            tiers_before = {mb.external_id: mb.tier for mb in self.model.members.values()}
            expected = self.model.execute(call, key, self.ledger.clock.now())
            moved = [
                mb
                for mb in self.model.members.values()
                if mb.tier != tiers_before.get(mb.external_id)
            ]
            if moved and isinstance(call, m.Return):
                event("a return took a tier back")
            elif moved:
                event(f"{type(call).__name__} moved a tier")
            actual = await self.send(call, key)
            note(f"{key} {call} -> {actual}")
            event(f"{type(call).__name__}: {expected.code or 'ok'}{' (replay)' * actual.replayed}")
            self.check_reply(key, expected, actual)
        await self.check_balances()

    def check_reply(self, key: str, expected: m.Expected, actual: Outcome) -> None:
        code = actual.errors[0].code.value if actual.errors else None
        assert (code, actual.replayed) == (expected.code, expected.replayed), actual.errors
        if expected.code is None:
            data = answer(actual)
            want = {k: data.get(k) if v is m.ANY_ID else v for k, v in expected.data.items()}
            assert data == want
            if expected.bind is not None:
                expected.bind(data)
        else:
            assert actual.result is None
        if actual.replayed:  # the stored first answer, message and all
            first = self.first[key]
            assert (actual.result, actual.errors) == (first.result, first.errors)
        elif key in self.model.keys:  # the model stored this key now or earlier
            self.first.setdefault(key, actual)

    def member_ids(self) -> dict[int, m.Member]:
        return {mb.id: mb for mb in self.model.members.values() if mb.id is not None}

    async def check_balances(self) -> None:
        known = self.member_ids()
        real = await self.ledger.queries.balances(list(known))
        assert {i: b.as_data() for i, b in real.items()} == {
            i: mb.balance() for i, mb in known.items()
        }
        tiers = await self.ledger.queries.tiers(list(known))
        assert {i: (t.current.key, t.review_at) for i, t in tiers.items()} == {
            i: (self.model.held_tier(mb), mb.period_ends_at) for i, mb in known.items()
        }

    async def check_invariants(self) -> None:
        async with self.ledger.uow.read() as r:
            assert await audit(r).transfer_imbalances() == 0
            assert sum((await audit(r).account_totals()).values()) == 0
            for member_id, member in self.member_ids().items():
                row = member.balance()
                assert min(row["pending"], row["held"]) >= 0
                assert row["available"] >= 0 or self.model.negative
                assert await audit(r).member_account_sums(member_id) == {
                    "available": row["available"],
                    "pending": row["pending"],
                    "held": row["held"],
                }
                lots = await audit(r).lot_remainders(member_id)
                # Below zero (a debt), no lot holds anything: lots sum to what can be spent.
                spendable = max(0, row["available"])
                assert (lots["AVAILABLE"], lots["PENDING"]) == (spendable, row["pending"])
                assert await audit(r).versions(member_id) == list(range(1, row["version"] + 1))
                assert await audit(r).held_by_redemptions(member_id) == row["held"]
                found = await r.conn.execute(
                    select(lot_rows.c.points, lot_rows.c.remaining, lot_rows.c.state)
                    .where(lot_rows.c.member_id == member_id)
                    .order_by(lot_rows.c.id)
                )
                assert [tuple(x) for x in found] == [
                    (lot.points, lot.remaining, lot.state)
                    for lot in self.model.lots
                    if lot.member is member
                ]
        redemptions = self.model.redemptions
        real = await self.ledger.queries.redemptions([r.id for r in redemptions if r.id])
        assert {i: r.status for i, r in real.items()} == {r.id: r.status for r in redemptions}
        stock = await self.ledger.queries.rewards(list(self.rewards.values()))
        assert {
            key: stock[reward_id].remaining_stock for key, reward_id in self.rewards.items()
        } == self.model.stock


async def run_example(
    url: str, pending_days: int, steps: list[Command], return_policy: str = "RECORD_SHORTFALL"
) -> None:
    prefix = f"x{next(_examples)}"
    ledger = await Ledger.open(url, pending_days=pending_days, points_expiry_days=EXPIRY_DAYS)
    async with ledger:
        rewards = {key: await ledger.reward_id(key) for key in ("coffee", "tote", "lounge")}
        # Examples share the database: earlier examples' held redemptions end now (else
        # this example's clock would fail them at their deadline and give their stock
        # back), and the tote gets the same stock left in each.
        await fail_overdue(ledger.uow, FixedClock(START + timedelta(days=3650)))
        tote = (await ledger.queries.rewards([rewards["tote"]]))[rewards["tote"]]
        data = program_data(
            pending_days=pending_days, points_expiry_days=EXPIRY_DAYS, return_policy=return_policy
        )
        for reward in data["rewards"]:
            if "stock" in reward:
                reward["stock"] = tote.redeemed + STOCK
            reward.setdefault("per_member_limit", LIMIT)  # limits without the tier gate
        for tier in data["tiers"]:
            if tier["threshold"]:
                tier["threshold"] = GOLD  # within reach of a few purchases
        data["tiers"].insert(
            1, {"key": "silver", "name": "Silver", "threshold": SILVER, "multiplier": "1"}
        )
        await apply_program(ledger.uow, ledger.clock, data)
        stock = {r["key"]: STOCK if "stock" in r else None for r in data["rewards"]}
        model = m.LedgerModel(data, stock)
        run = Run(ledger, model, prefix, rewards)
        for cmd in [EnrollCmd(0), EnrollCmd(1), *steps]:
            await run.step(cmd)
        await run.check_invariants()


@given(
    pending_days=st.sampled_from([0, 7]),
    return_policy=st.sampled_from(["RECORD_SHORTFALL", "NEGATIVE_BALANCE"]),
    opening=st.lists(opening_purchases, min_size=1, max_size=3),
    steps=st.lists(commands, min_size=MIN_STEPS, max_size=MAX_STEPS),
)
def test_ledger_agrees_with_the_model(
    db_url: str,
    pending_days: int,
    return_policy: str,
    opening: list[Command],
    steps: list[Command],
) -> None:
    asyncio.run(run_example(db_url, pending_days, opening + steps, return_policy))


async def test_returning_a_third_of_an_order_reverses_a_third_of_its_points(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        member = await ledger.enroll("thirds")
        assert (await ledger.purchase(member, "o-1", "30.00", key="thirds-1")).value.points == 30
        out = await ledger.return_("o-1", "10.00", key="thirds-2")
        assert out.ok, out.errors
        assert out.value.points == 10  # floor(30 x 10.00 / 30.00), not floor(30 x 0.33...3)
