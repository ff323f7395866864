"""Earning rules through the ledger: applied at earn, explained, capped per member period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.ledger.tables import orders
from app.services.program import apply_program
from tests.ledger.harness import Ledger, rules_program

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


async def _explanation(ledger: Ledger, order_ref: str) -> list[dict[str, Any]]:
    async with ledger.uow.read() as r:
        row = (
            await r.conn.execute(
                select(orders.c.explanation).where(orders.c.order_ref == order_ref)
            )
        ).one()
    return list(row.explanation)


async def test_rules_apply_in_priority_order_and_each_earn_stores_its_explanation(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, rules_program())
        ledger.clock.current = TUESDAY
        m = await ledger.enroll("rules")
        out = await ledger.purchase(m, "o-1", "120.00")
        assert out.value.points == 120 + 120 + 50
        explained = await _explanation(ledger, "o-1")
        assert [(e["rule"], e["points"], e["cappedBy"]) for e in explained] == [
            ("base", 120, 0),
            ("tuesday", 120, 0),
            ("big-basket", 50, 0),
        ]


async def test_a_cap_holds_across_orders_in_its_period_and_resets_in_the_next(
    db_url: str,
) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, rules_program())
        ledger.clock.current = TUESDAY
        m = await ledger.enroll("capped")
        assert (await ledger.purchase(m, "o-1", "100")).value.points == 100 + 100 + 50
        second = await ledger.purchase(m, "o-2", "100")
        assert second.value.points == 100 + 100 + 10  # 60 a day: 10 left
        assert (await _explanation(ledger, "o-2"))[-1]["cappedBy"] == 40
        ledger.clock.advance(days=1)  # Wednesday: no double points, a fresh cap
        assert (await ledger.purchase(m, "o-3", "100")).value.points == 100 + 50
        other = await ledger.enroll("other")  # caps are per member
        ledger.clock.current = TUESDAY
        assert (await ledger.purchase(other, "o-4", "100")).value.points == 250


async def test_tier_multiplier_scales_per_unit_rates_not_bonuses(db_url: str) -> None:
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, rules_program())
        ledger.clock.current = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
        m = await ledger.enroll("golden")
        assert (await ledger.adjust(m, 5)).ok
        assert (await ledger.purchase(m, "o-1", "1000")).value.points == 1000 + 50
        # 1000 qualifying points: gold (x2) from now on
        assert (await ledger.purchase(m, "o-2", "100")).value.points == 200 + 10


async def test_rules_select_lines_by_sku_and_category_after_discounts(db_url: str) -> None:
    from app.domain.errors import ErrorCode
    from app.domain.order_lines import LineInput
    from app.services import purchase
    from app.services.common import MemberRef

    data = rules_program()
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "beans",
            "name": "Triple on beans",
            "priority": 20,
            "effect": "MULTIPLIER",
            "value": "3",
            "conditions": {"categories": ["beans"]},
        },
        {
            "key": "ship",
            "name": "Shipping counts",
            "priority": 30,
            "effect": "PER_UNIT",
            "value": "1",
            "include_shipping": True,
            "conditions": {"skus": ["none"]},
        },
    ]
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, data)
        m = await ledger.enroll("lines")
        lines = (
            LineInput("espresso", 2, "3.50", "drinks"),
            LineInput("beans-1kg", 1, "24.90", "beans", discount="4.90"),
        )

        async def buy(order: str, amount: str, key: str) -> purchase.Outcome:
            return await purchase.record_purchase(
                ledger.uow,
                ledger.clock,
                principal="client:t",
                idempotency_key=key,
                cmd=purchase.RecordPurchase(
                    MemberRef(id=m),
                    order,
                    amount,
                    "EUR",
                    "ONLINE",
                    ledger.clock.now(),
                    lines=lines,
                    shipping="5",
                ),
            )

        out = await buy("o-1", "27.00", "k1")
        # base 7 + 20 on the lines (not shipping), beans x3 (+40), shipping 5 via its own rule
        assert out.value.points == 7 + 20 * 3 + 5
        explained = await _explanation(ledger, "o-1")
        assert explained[1]["lines"] == [[1, 40]]
        assert explained[2]["lines"] == [[-1, 5]]
        wrong = await buy("o-2", "30.00", "k2")
        assert wrong.errors[0].code == ErrorCode.INVALID_INPUT
        assert wrong.errors[0].field == "lines"


async def test_returning_lines_reverses_exactly_their_points(db_url: str) -> None:
    from app.domain.errors import ErrorCode
    from app.domain.line_returns import ReturnLine
    from app.domain.order_lines import LineInput
    from app.services import purchase, returns
    from app.services.common import MemberRef

    data = rules_program()
    data["rules"] = [
        {"key": "base", "name": "Base", "priority": 10, "effect": "PER_UNIT", "value": "1"},
        {
            "key": "beans",
            "name": "Triple on beans",
            "priority": 20,
            "effect": "MULTIPLIER",
            "value": "3",
            "conditions": {"categories": ["beans"]},
        },
    ]
    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, data)
        m = await ledger.enroll("returner")
        lines = (LineInput("cup", 3, "4.00"), LineInput("beans", 1, "20.00", "beans"))
        bought = await purchase.record_purchase(
            ledger.uow,
            ledger.clock,
            principal="client:t",
            idempotency_key="p",
            cmd=purchase.RecordPurchase(
                MemberRef(id=m), "o-1", "32.00", "EUR", "POS", ledger.clock.now(), lines=lines
            ),
        )
        assert bought.value.points == 12 + 60

        async def give_back(key: str, *items: ReturnLine, amount: str | None = None) -> Any:
            return await returns.record_return(
                ledger.uow,
                ledger.clock,
                principal="client:t",
                idempotency_key=key,
                cmd=returns.RecordReturn("o-1", amount=amount, lines=items),
            )

        assert (await give_back("r1", ReturnLine("beans", 1))).value.points == 60
        assert (await give_back("r2", ReturnLine("cup", 2))).value.points == 8
        refused = await give_back("r3", amount="4.00")
        assert refused.errors[0].code == ErrorCode.INVALID_INPUT  # this order has lines
        too_many = await give_back("r4", ReturnLine("cup", 2))
        assert too_many.errors[0].code == ErrorCode.INVALID_INPUT
        assert (await give_back("r5", ReturnLine("cup", 1))).value.points == 4
        assert await ledger.balance(m) == {
            "available": 0,
            "pending": 0,
            "held": 0,
            "lifetimeEarned": 0,
            "version": 4,
        }


async def test_a_backdated_purchase_is_capped_by_its_own_period_only(db_url: str) -> None:
    from datetime import timedelta

    from app.services import purchase
    from app.services.common import MemberRef

    ledger = await Ledger.open(db_url)
    async with ledger:
        await apply_program(ledger.uow, ledger.clock, rules_program())
        ledger.clock.current = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # Wednesday
        m = await ledger.enroll("offline-pos")
        assert (await ledger.purchase(m, "today", "100")).value.points == 150
        yesterday = await purchase.record_purchase(
            ledger.uow,
            ledger.clock,
            principal="client:t",
            idempotency_key="late",
            cmd=purchase.RecordPurchase(
                MemberRef(id=m),
                "yesterday",
                "100",
                "EUR",
                "POS",
                ledger.clock.now() - timedelta(days=1, hours=2),
            ),
        )
        assert yesterday.value.points == 100 + 100 + 50  # Tuesday x2, its own day's cap
