"""The redemption lifecycle against a simple model, on both backends: random sequences of
redeem (codes, goods, experiences), cancel, fulfil, updateRedemption to any status, and
the clock passing deadlines. After every step the member's held points equal the sum of
the unresolved redemptions, available points equal what the model says, every status is
the model's; at the end every hold resolved exactly once (one POST or VOID per resolved
redemption, none for open ones) and the history has one row per change, with no gap."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.domain.redemptions import FINAL, OPEN, next_statuses
from app.domain.rewards import RedemptionStatus as S
from app.domain.rewards import RewardKind
from app.ledger.tables import transfers
from app.services import enroll
from app.services import redemption_updates as updates
from app.services.fulfil import fail_overdue
from app.services.program import apply_program
from tests.ledger.harness import Ledger, program_data

START_POINTS = 500
REWARDS = {  # key: (kind, cost, deadline hours)
    "coffee": (RewardKind.DISCOUNT_CODE, 10, 48),
    "mug": (RewardKind.PHYSICAL, 30, 72),
    "tasting": (RewardKind.EXPERIENCE, 40, 24),
}
_examples = itertools.count()


@dataclass(frozen=True)
class Redeem:
    reward: str


@dataclass(frozen=True)
class Move:
    index: int  # which redemption (mod how many exist)
    to: S
    how: str  # "update" | "cancel" | "fulfil"


@dataclass(frozen=True)
class Wait:
    hours: int


Step = Redeem | Move | Wait
steps = st.one_of(
    st.builds(Redeem, st.sampled_from(sorted(REWARDS))),
    st.builds(
        Move,
        st.integers(0, 20),
        st.sampled_from(list(S)),
        st.sampled_from(["update", "cancel", "fulfil"]),
    ),
    st.builds(Wait, st.sampled_from([1, 12, 30])),
)


@dataclass
class Model:
    available: int = START_POINTS
    redemptions: list[tuple[str, S, int]] = field(default_factory=list)  # reward, status, hours

    def held(self) -> int:
        return sum(REWARDS[r][1] for r, s, _ in self.redemptions if s in OPEN)

    def move(self, i: int, to: S) -> bool:
        reward, current, age = self.redemptions[i]
        kind = REWARDS[reward][0]
        if current in FINAL or to not in next_statuses(kind, current):
            return False
        if to in (S.CANCELLED, S.FAILED) and current in OPEN:
            self.available += REWARDS[reward][1]
        self.redemptions[i] = (reward, to, age)
        return True


def _program() -> dict[str, Any]:
    data = program_data()
    data["rewards"] = [
        {"key": k, "name": k, "cost": cost, "kind": kind.value, "deadline_hours": hours}
        for k, (kind, cost, hours) in REWARDS.items()
    ]
    for reward in data["rewards"]:
        if reward["kind"] == RewardKind.EXPERIENCE.value:
            reward["experience_at"] = "2099-06-01T19:00:00+00:00"
    return data


async def run_example(db_url: str, plan: list[Step]) -> None:
    async with await Ledger.open(db_url) as ledger:
        await apply_program(ledger.uow, ledger.clock, _program())
        name = f"model-{next(_examples)}"
        ledger.principal = f"client:{name}"  # idempotency keys are the principal's
        out = await enroll.enroll_member(
            ledger.uow,
            ledger.clock,
            principal=ledger.principal,
            idempotency_key=ledger.key(),
            cmd=enroll.EnrollMember(external_id=name),
        )
        member = int(out.value.member_id)
        assert (await ledger.adjust(member, START_POINTS)).ok
        model = Model()
        ids: list[int] = []
        rewards = {k: await ledger.reward_id(k) for k in REWARDS}
        for step in plan:
            note(repr(step))
            if isinstance(step, Redeem):
                done = await ledger.redeem(member, rewards[step.reward])
                cost = REWARDS[step.reward][1]
                assert done.ok == (model.available >= cost), done.errors
                if done.ok:
                    ids.append(int(done.value.redemption_id))
                    model.available -= cost
                    model.redemptions.append((step.reward, S.HELD, 0))
            elif isinstance(step, Move) and ids:
                i = step.index % len(ids)
                to = {"cancel": S.CANCELLED, "fulfil": S.FULFILLED}.get(step.how, step.to)
                kind = REWARDS[model.redemptions[i][0]][0]
                if step.how == "update":
                    if kind not in updates.MANUAL_KINDS:
                        continue  # moved by code or provider: refused without a change
                    details = {"carrier": "DHL", "tracking_number": "1"} if to is S.SHIPPED else {}
                    result = await updates.update_redemption(
                        ledger.uow,
                        ledger.clock,
                        principal=f"client:3pl-{name}",
                        idempotency_key=ledger.key(),
                        cmd=updates.UpdateRedemption(redemption_id=ids[i], status=to, **details),
                    )
                elif step.how == "cancel":
                    result = await ledger.cancel(ids[i])
                else:
                    result = await ledger.fulfill(ids[i])
                assert result.ok == model.move(i, to), (result.errors, model.redemptions[i], to)
            elif isinstance(step, Wait):
                ledger.clock.advance(hours=step.hours)
                model.redemptions = [(r, s, age + step.hours) for r, s, age in model.redemptions]
                for i, (reward, status, age) in enumerate(model.redemptions):
                    if status in OPEN and age >= REWARDS[reward][2]:
                        model.move(i, S.FAILED)
                await fail_overdue(ledger.uow, ledger.clock)
            balance = await ledger.balance(member)
            assert (balance["held"], balance["available"]) == (model.held(), model.available)
        found = await ledger.queries.redemptions(ids)
        assert [found[i].status for i in ids] == [s for _, s, _ in model.redemptions]
        await _every_hold_resolved_once(ledger, member, ids)


async def _every_hold_resolved_once(ledger: Ledger, member: int, ids: list[int]) -> None:
    found = await ledger.queries.redemptions(ids)
    histories = await ledger.queries.redemption_histories(ids)
    async with ledger.uow.read() as r:
        rows = await r.conn.execute(
            select(transfers.c.redemption_id, transfers.c.kind, func.count())
            .where(transfers.c.redemption_id.in_(ids), transfers.c.kind.in_(["POST", "VOID"]))
            .group_by(transfers.c.redemption_id, transfers.c.kind)
        )
        resolutions: dict[int, list[tuple[str, int]]] = {}
        for redemption_id, kind, count in rows:
            resolutions.setdefault(redemption_id, []).append((kind, count))
        changes = await r.redemption_changes(member, after_version=0)
    for rid in ids:
        status = found[rid].status
        history = [c.status for c in histories[rid]]
        assert history[0] is S.HELD
        assert history[-1] is status
        spent = S.SHIPPED in history or S.FULFILLED in history
        returned = status in (S.CANCELLED, S.FAILED)
        expected = [("POST", 1)] if spent else [("VOID", 1)] if returned else []
        assert resolutions.get(rid, []) == expected, (rid, history)
    assert [c.version for c in changes] == list(range(1, len(changes) + 1))


@given(plan=st.lists(steps, min_size=5, max_size=40))
def test_the_lifecycle_agrees_with_the_model(db_url: str, plan: list[Step]) -> None:
    asyncio.run(run_example(db_url, plan))
