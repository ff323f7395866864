"""Gift cards fulfilled through the sandbox (a real process, over HTTP), on both backends:
instant success with claim links; a refusal returns the points once; timeouts retried
with the same PONumber end in one order; pending then the provider's own webhook, or a
poll; an outage past the deadline fails the redemption and returns the points; a worker
that died mid-call is replaced without a second order; bad or stray webhooks change
nothing. Every count of orders is read from the sandbox, never from Tally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.domain.errors import ErrorCode
from app.domain.rewards import RedemptionStatus as S
from app.fulfilment.giftcard_orders import WebhookRejected
from app.services import enroll
from app.services.fulfil import FulfilmentRunner, apply_webhook, fail_overdue
from app.services.program import apply_program
from app.services.providers import ProviderRegistry
from tests.e2e.giftcard_sandbox import (
    ACCESS_TOKEN,
    EMAIL,
    SandboxControl,
    SandboxProcess,
    WebhookReceiver,
    sandbox_process_fixture,
)
from tests.ledger.harness import Ledger, program_data

SECRET = "hook-secret-tally"


sandbox_process = sandbox_process_fixture("fulfilment", 3)


@pytest.fixture
async def sandbox(sandbox_process: SandboxProcess) -> AsyncIterator[SandboxControl]:
    async with httpx.AsyncClient(timeout=10) as client:
        control = SandboxControl(sandbox_process.url, client)
        await control.reset()
        yield control


def _program(url: str) -> dict[str, Any]:
    data = program_data()
    data["providers"] = {"cards": {"kind": "giftcard-api", "base_url": url, "email": EMAIL}}
    data["rewards"] += [
        {
            "key": "zalando-25",
            "name": "Zalando 25",
            "cost": 20,
            "kind": "GIFT_CARD",
            "provider": "cards",
            "product_id": "ZALANDO-EUR",
            "face_value": "25",
            "face_currency": "EUR",
            "delivery": "EMAIL",
        },
        {
            "key": "amazon-link",
            "name": "Amazon 10 (link)",
            "cost": 10,
            "kind": "GIFT_CARD",
            "provider": "cards",
            "product_id": "AMAZON-DE",
            "face_value": "10",
            "face_currency": "EUR",
            "delivery": "LINK",
        },
    ]
    return data


class World:
    def __init__(self, ledger: Ledger, sandbox: SandboxControl) -> None:
        self.ledger = ledger
        self.sandbox = sandbox
        env = {
            "TALLY_PROVIDER_CARDS_ACCESS_TOKEN": ACCESS_TOKEN,
            "TALLY_PROVIDER_CARDS_WEBHOOK_SECRET": SECRET,
        }
        self.providers = ProviderRegistry(ledger.uow, env)
        self.runner = FulfilmentRunner(ledger.uow, ledger.clock, self.providers, lease=30)

    async def member(self, name: str, email: str | None = "fan@example.com") -> int:
        out = await enroll.enroll_member(
            self.ledger.uow,
            self.ledger.clock,
            principal="client:test",
            idempotency_key=self.ledger.key(),
            cmd=enroll.EnrollMember(external_id=name, email=email),
        )
        assert out.ok, out.errors
        member = int(out.value.member_id)
        assert (await self.ledger.purchase(member, f"o-{name}", "100")).ok
        return member

    async def redeem(self, member: int, reward: str) -> int:
        out = await self.ledger.redeem(member, await self.ledger.reward_id(reward))
        assert out.ok, out.errors
        return int(out.value.redemption_id)

    async def redemption(self, redemption_id: int) -> Any:
        return (await self.ledger.queries.redemptions([redemption_id]))[redemption_id]

    async def history(self, redemption_id: int) -> list[S]:
        found = await self.ledger.queries.redemption_histories([redemption_id])
        return [c.status for c in found[redemption_id]]

    async def orders_for(self, redemption_id: int) -> list[dict[str, Any]]:
        return [o for o in await self.sandbox.orders() if o["PONumber"] == f"TALLY-{redemption_id}"]


@pytest.fixture
async def world(db_url: str, sandbox: SandboxControl) -> AsyncIterator[World]:
    async with await Ledger.open(db_url) as ledger:
        await apply_program(ledger.uow, ledger.clock, _program(sandbox.url))
        made = World(ledger, sandbox)
        try:
            yield made
        finally:
            await made.providers.aclose()


async def test_a_gift_card_arrives_at_once_with_its_claim_link(world: World) -> None:
    m = await world.member("instant")
    r = await world.redeem(m, "zalando-25")
    assert (await world.redemption(r)).status is S.HELD
    assert await world.runner.run_due() == 1
    done = await world.redemption(r)
    assert done.status is S.FULFILLED
    assert done.delivery.sent_to == "fan@example.com"
    [link] = done.delivery.claim_links
    assert link.startswith(world.sandbox.url + "/claim/")
    assert await world.history(r) == [S.HELD, S.FULFILLING, S.FULFILLED]
    balance = await world.ledger.balance(m)
    assert (balance["available"], balance["held"]) == (80, 0)
    assert len(await world.orders_for(r)) == 1
    assert await world.runner.run_due() == 0  # nothing left to do


async def test_an_email_card_needs_an_email_and_a_link_card_does_not(world: World) -> None:
    m = await world.member("no-mail", email=None)
    out = await world.ledger.redeem(m, await world.ledger.reward_id("zalando-25"))
    assert out.errors[0].code is ErrorCode.INVALID_INPUT
    assert (await world.ledger.balance(m))["held"] == 0
    r = await world.redeem(m, "amazon-link")
    await world.runner.run_due()
    assert (await world.redemption(r)).status is S.FULFILLED


async def test_a_refusal_fails_the_redemption_and_returns_the_points_once(world: World) -> None:
    await world.sandbox.configure(balance=5)  # 25 EUR cannot be paid: 422
    m = await world.member("refused")
    r = await world.redeem(m, "zalando-25")
    await world.runner.run_due()
    failed = await world.redemption(r)
    assert failed.status is S.FAILED
    assert await world.history(r) == [S.HELD, S.FULFILLING, S.FAILED]
    assert (await world.ledger.balance(m))["available"] == 100
    world.ledger.clock.advance(hours=1)
    assert await world.runner.run_due() == 0  # a refusal is final: never asked again
    assert len(await world.sandbox.calls("POST", "/v1/Orders")) == 1
    assert (await world.ledger.balance(m))["available"] == 100


async def test_timeouts_are_retried_with_the_same_po_number_and_one_order_results(
    world: World,
) -> None:
    await world.sandbox.configure(timeout_rate=1.0)  # each order lands, its answer is a 504
    m = await world.member("timeouts")
    r = await world.redeem(m, "zalando-25")
    await world.runner.run_due()
    assert (await world.redemption(r)).status is S.FULFILLED
    assert len(await world.orders_for(r)) == 1  # the retry got the first order back (409)
    statuses = [c["status"] for c in await world.sandbox.calls("POST", "/v1/Orders")]
    assert statuses[0] == 504
    assert 409 in statuses


async def test_an_unreachable_provider_is_tried_again_later_from_the_job(world: World) -> None:
    await world.sandbox.configure(failure_rate=1.0)  # 500s: nothing created
    m = await world.member("later")
    r = await world.redeem(m, "zalando-25")
    await world.runner.run_due()  # the adapter's own retries all fail
    assert (await world.redemption(r)).status is S.FULFILLING
    assert (await world.ledger.balance(m))["held"] == 20  # still held while it is retried
    await world.sandbox.configure(failure_rate=0.0)
    assert await world.runner.run_due() == 0  # not due yet: the job backs off
    world.ledger.clock.advance(minutes=5)
    assert await world.runner.run_due() == 1
    assert (await world.redemption(r)).status is S.FULFILLED
    assert len(await world.orders_for(r)) == 1


async def test_a_pending_order_completes_by_the_providers_webhook(world: World) -> None:
    with WebhookReceiver().running() as receiver:
        await world.sandbox.configure(
            pending_over=5, webhook_url=receiver.url, webhook_secret=SECRET
        )
        m = await world.member("pending")
        r = await world.redeem(m, "zalando-25")
        await world.runner.run_due()
        assert (await world.redemption(r)).status is S.FULFILLING
        [order] = await world.orders_for(r)
        await world.sandbox.complete(order["Id"])
        hook = await receiver.next()
    stray = await apply_webhook(
        world.ledger.uow, world.ledger.clock, world.providers, "cards", hook.headers, b"{}"
    )
    assert not stray.changed
    with pytest.raises(WebhookRejected):
        await apply_webhook(
            world.ledger.uow,
            world.ledger.clock,
            world.providers,
            "cards",
            {**hook.headers, "X-Webhook-Secret": "guess"},
            hook.body,
        )
    assert (await world.redemption(r)).status is S.FULFILLING  # neither changed anything
    answer = await apply_webhook(
        world.ledger.uow, world.ledger.clock, world.providers, "cards", hook.headers, hook.body
    )
    assert answer.changed, answer
    assert (await world.redemption(r)).status is S.FULFILLED
    again = await apply_webhook(
        world.ledger.uow, world.ledger.clock, world.providers, "cards", hook.headers, hook.body
    )
    assert not again.changed  # a repeat changes nothing
    assert (await world.ledger.balance(m))["available"] == 80


async def test_a_pending_order_is_polled_until_it_completes(world: World) -> None:
    await world.sandbox.configure(pending_over=5)
    m = await world.member("polled")
    r = await world.redeem(m, "zalando-25")
    await world.runner.run_due()
    [order] = await world.orders_for(r)
    world.ledger.clock.advance(minutes=1)
    await world.runner.run_due()  # still pending at the provider
    assert (await world.redemption(r)).status is S.FULFILLING
    await world.sandbox.configure(webhook_url=None)
    await world.sandbox.complete(order["Id"])
    world.ledger.clock.advance(minutes=5)
    await world.runner.run_due()
    assert (await world.redemption(r)).status is S.FULFILLED
    assert len(await world.orders_for(r)) == 1


async def test_an_outage_past_the_deadline_fails_and_returns_the_points(world: World) -> None:
    await world.sandbox.configure(failure_rate=1.0)
    m = await world.member("outage")
    first = await world.redeem(m, "zalando-25")
    second = await world.redeem(m, "amazon-link")
    await world.runner.run_due()
    for _ in range(6):
        world.ledger.clock.advance(hours=13)
        await world.runner.run_due()
    assert (await world.redemption(first)).status is S.FAILED  # 78 h > 72 h
    assert (await world.ledger.balance(m))["held"] == 0
    assert (await world.ledger.balance(m))["available"] == 100
    assert (await world.redemption(second)).status is S.FAILED
    assert await fail_overdue(world.ledger.uow, world.ledger.clock) == 0  # nothing left
    assert await world.orders_for(first) == []


async def test_the_deadline_sweep_fails_what_no_worker_reached(world: World) -> None:
    m = await world.member("forgotten")
    r = await world.redeem(m, "zalando-25")
    world.ledger.clock.advance(hours=73)
    assert await fail_overdue(world.ledger.uow, world.ledger.clock) == 1
    assert (await world.redemption(r)).status is S.FAILED
    assert await world.runner.run_due() == 0  # its job ended with it
    assert await world.orders_for(r) == []
    assert (await world.ledger.balance(m))["available"] == 100


async def test_a_worker_that_died_mid_call_is_replaced_without_a_second_order(
    world: World,
) -> None:
    m = await world.member("crash")
    r = await world.redeem(m, "zalando-25")
    claims = await world.runner._claim()  # the worker claims, calls the provider, and dies
    [claim] = claims
    provider = await world.providers.get("cards")
    assert provider is not None
    await provider.fulfil(claim.request)  # the order landed; its answer was never recorded
    assert await world.runner.run_due() == 0  # leased: nobody else takes it yet
    world.ledger.clock.advance(seconds=31)  # the lease ran out
    assert await world.runner.run_due() == 1
    assert (await world.redemption(r)).status is S.FULFILLED
    assert len(await world.orders_for(r)) == 1
    assert (await world.ledger.balance(m))["held"] == 0


async def test_an_order_the_provider_accepted_is_not_failed_by_the_deadline(
    world: World,
) -> None:
    """Found in review: the sweep gave the points back for a card already bought."""
    await world.sandbox.configure(pending_over=5)
    m = await world.member("accepted")
    r = await world.redeem(m, "zalando-25")
    await world.runner.run_due()
    [order] = await world.orders_for(r)
    world.ledger.clock.advance(hours=73)
    assert await fail_overdue(world.ledger.uow, world.ledger.clock) == 0
    assert (await world.redemption(r)).status is S.FULFILLING
    await world.sandbox.configure(webhook_url=None)
    await world.sandbox.complete(order["Id"])
    await world.runner.run_due()
    assert (await world.redemption(r)).status is S.FULFILLED
    assert (await world.ledger.balance(m))["available"] == 80
