"""`GiftCardApi` and `GiftCardProvider` against the gift-card sandbox over real HTTP: token
reuse and refresh, retries that never buy twice, refusals that are never retried, the
provider's DONE / PENDING / FAILED answers, and the sandbox's real webhook.

Every assertion about what reached the provider is read from the sandbox's own logs
(`/_sandbox/calls`, `/_sandbox/orders`), never from the adapter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.fulfilment.giftcard_api import (
    GiftCardApi,
    OrderStatus,
    Personalization,
    ProviderAuthFailed,
    ProviderRefused,
    ProviderUnavailable,
    WebhookRejected,
    parse_fulfillment_webhook,
)
from app.fulfilment.provider import (
    FulfilmentRequest,
    GiftCardProvider,
    Outcome,
    Provider,
)
from tests.e2e.giftcard_sandbox import (
    ACCESS_TOKEN,
    EMAIL,
    SandboxControl,
    SandboxProcess,
    WebhookReceiver,
    eventually,
    sandbox_process_fixture,
)

SECRET = "hook-secret-2"
ApiFactory = Callable[..., GiftCardApi]


sandbox_process = sandbox_process_fixture("giftcard", 7)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
async def sandbox(sandbox_process: SandboxProcess, http: httpx.AsyncClient) -> SandboxControl:
    control = SandboxControl(sandbox_process.url, http)
    await control.reset()
    return control


@pytest.fixture
async def make_api(sandbox: SandboxControl) -> AsyncIterator[ApiFactory]:
    """Adapters on the sandbox with quick back-off; each is closed after the test."""
    made: list[GiftCardApi] = []

    def make(**options: Any) -> GiftCardApi:
        settings: dict[str, Any] = {
            "base_url": sandbox.url,
            "email": EMAIL,
            "access_token": ACCESS_TOKEN,
            "timeout": 5.0,
            "attempts": 3,
            "backoff_initial": 0.01,
            "backoff_max": 0.05,
        }
        api = GiftCardApi(**{**settings, **options})
        made.append(api)
        return api

    yield make
    for api in made:
        await api.aclose()


@pytest.fixture
def api(make_api: ApiFactory) -> GiftCardApi:
    return make_api()


def request(redemption_id: int, **changes: Any) -> FulfilmentRequest:
    fields: dict[str, Any] = {
        "redemption_id": redemption_id,
        "reward_key": "zalando-25",
        "product_id": "ZALANDO-EUR",
        "face_value": Decimal("25"),
        "currency": "EUR",
        "email": "member@example.com",
        **changes,
    }
    return FulfilmentRequest(**fields)


async def order_statuses(sandbox: SandboxControl) -> list[int]:
    return [c["status"] for c in await sandbox.calls("POST", "/v1/Orders")]


# --- the token ---------------------------------------------------------------------------


async def test_one_token_serves_many_calls(sandbox: SandboxControl, api: GiftCardApi) -> None:
    await api.products()
    first = await api.place_order(
        po_number="T-1", product_id="CVS", value=Decimal(20), delivery="Links"
    )
    await api.place_order(po_number="T-2", product_id="CVS", value=Decimal(10), delivery="Links")
    await api.order(first.id)

    assert len(await sandbox.calls("POST", "/v1/Tokens")) == 1
    assert len(await sandbox.calls()) == 5
    assert 401 not in [c["status"] for c in await sandbox.calls()]


async def test_a_token_is_renewed_shortly_before_it_expires(
    sandbox: SandboxControl, make_api: ApiFactory
) -> None:
    await sandbox.configure(token_ttl=1)
    api = make_api(token_refresh_margin=0.3)
    order = await api.place_order(
        po_number="T-ttl", product_id="CVS", value=Decimal(20), delivery="Links"
    )
    await api.order(order.id)
    assert len(await sandbox.calls("POST", "/v1/Tokens")) == 1

    await asyncio.sleep(0.8)  # past 1 s - 0.3 s: renewed before the sandbox would say 401
    await api.order(order.id)

    assert len(await sandbox.calls("POST", "/v1/Tokens")) == 2
    assert 401 not in [c["status"] for c in await sandbox.calls()]


async def test_a_401_gets_one_new_token_and_the_call_goes_through(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    order = await api.place_order(
        po_number="T-401", product_id="CVS", value=Decimal(20), delivery="Links"
    )
    await sandbox.expire_tokens()

    again = await api.order(order.id)

    assert again.id == order.id
    calls = [(c["method"], c["path"], c["status"]) for c in await sandbox.calls()]
    assert calls[-3:] == [
        ("GET", f"/v1/Orders/{order.id}", 401),
        ("POST", "/v1/Tokens", 200),
        ("GET", f"/v1/Orders/{order.id}", 200),
    ]


async def test_refused_credentials_are_an_operator_problem_not_retried(
    sandbox: SandboxControl, make_api: ApiFactory
) -> None:
    api = make_api(access_token="wrong")

    with pytest.raises(ProviderAuthFailed) as caught:
        await api.place_order(
            po_number="T-cred", product_id="CVS", value=Decimal(20), delivery="Links"
        )

    assert caught.value.status == 401
    assert isinstance(caught.value, ProviderUnavailable)  # the job retries after a fix
    assert len(await sandbox.calls()) == 1  # one token attempt, no order call


# --- products ------------------------------------------------------------------------------


async def test_products_are_typed_and_cached(sandbox: SandboxControl, make_api: ApiFactory) -> None:
    cached, uncached = make_api(), make_api(products_ttl=0)

    products = {p.id: p for p in await cached.products()}
    await cached.products()
    await uncached.products()
    await uncached.products()

    zalando, amazon = products["ZALANDO-EUR"], products["AMAZON-DE"]
    assert zalando.denominations == (Decimal(10), Decimal(25), Decimal(50), Decimal(100))
    assert zalando.accepts(Decimal("25.00"))
    assert not zalando.accepts(Decimal(30))
    assert amazon.accepts(Decimal("12.5"))
    assert not amazon.accepts(Decimal(501))
    assert products["CVS"].currency == "USD"
    assert amazon.fee == Decimal("0.5")
    assert len(await sandbox.calls("GET", "/v1/Products")) == 1 + 2


# --- orders --------------------------------------------------------------------------------


async def test_an_order_comes_back_typed_with_its_cards(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    order = await api.place_order(
        po_number="O-1",
        product_id="AMAZON-DE",
        value=Decimal("12.5"),
        quantity=2,
        email="member@example.com",
        personalization=Personalization(to="Ada", from_name="Tally", message="Thanks!"),
    )

    assert order.status is OrderStatus.COMPLETE
    assert order.po_number == "O-1"
    assert [c.value for c in order.cards] == [Decimal("12.5"), Decimal("12.5")]
    assert {c.sent_to for c in order.cards} == {"member@example.com"}
    (at_sandbox,) = await sandbox.orders()
    assert at_sandbox["Id"] == order.id
    assert at_sandbox["LineItems"][0]["Personalization"] == {
        "To": "Ada",
        "FromName": "Tally",
        "Message": "Thanks!",
    }
    assert [c.claim_link for c in order.cards] == [
        c["ClaimLink"] for c in at_sandbox["LineItems"][0]["Cards"]
    ]


async def test_place_order_through_injected_504s_buys_exactly_once(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    await sandbox.configure(timeout_rate=1)

    order = await api.place_order(
        po_number="O-504", product_id="CVS", value=Decimal(20), delivery="Links"
    )

    (at_sandbox,) = await sandbox.orders()
    assert order.id == at_sandbox["Id"]
    assert order.status is OrderStatus.COMPLETE
    assert len(order.cards) == 1
    assert await order_statuses(sandbox) == [504, 409]  # the retry found the original


async def test_seeded_timeouts_and_failures_still_give_one_order_per_po_number(
    sandbox: SandboxControl, make_api: ApiFactory
) -> None:
    await sandbox.configure(failure_rate=0.3, timeout_rate=0.3)
    api = make_api(attempts=10)

    orders = [
        await api.place_order(
            po_number=f"O-mix-{n}",
            product_id="ZALANDO-EUR",
            value=Decimal(10),
            email="m@example.com",
        )
        for n in range(8)
    ]

    at_sandbox = await sandbox.orders()
    assert sorted(o["PONumber"] for o in at_sandbox) == sorted(f"O-mix-{n}" for n in range(8))
    assert [o.id for o in orders] == [o["Id"] for o in at_sandbox]
    statuses = await order_statuses(sandbox)
    assert {500, 504, 409} <= set(statuses)  # the seed did inject both kinds of failure


async def test_a_repeated_po_number_returns_the_original_order(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    first = await api.place_order(
        po_number="O-409", product_id="CVS", value=Decimal(20), delivery="Links"
    )

    second = await api.place_order(
        po_number="O-409", product_id="CVS", value=Decimal(50), delivery="Links"
    )

    assert second == first
    assert [c.value for c in second.cards] == [Decimal(20)]
    assert len(await sandbox.orders()) == 1


@pytest.mark.parametrize(
    ("options", "value", "status", "says"),
    [
        ({"balance": 5}, Decimal(20), 422, "insufficient funds"),
        ({}, Decimal(30), 422, "not a denomination"),
    ],
)
async def test_a_refusal_is_never_retried(
    sandbox: SandboxControl,
    api: GiftCardApi,
    options: dict[str, object],
    value: Decimal,
    status: int,
    says: str,
) -> None:
    if options:
        await sandbox.configure(**options)

    with pytest.raises(ProviderRefused) as caught:
        await api.place_order(po_number="O-no", product_id="CVS", value=value, delivery="Links")

    assert caught.value.status == status
    assert says in caught.value.message
    assert await order_statuses(sandbox) == [status]  # one attempt
    assert await sandbox.orders() == []


async def test_500s_until_the_attempts_run_out_are_unavailable(
    sandbox: SandboxControl, make_api: ApiFactory
) -> None:
    await sandbox.configure(failure_rate=1)
    api = make_api(attempts=4)

    with pytest.raises(ProviderUnavailable) as caught:
        await api.place_order(
            po_number="O-500", product_id="CVS", value=Decimal(20), delivery="Links"
        )

    assert caught.value.status == 500
    assert await order_statuses(sandbox) == [500, 500, 500, 500]
    assert await sandbox.orders() == []


async def test_an_order_that_lands_after_our_timeout_is_found_by_the_next_try(
    sandbox: SandboxControl, make_api: ApiFactory
) -> None:
    impatient = make_api(timeout=0.1, attempts=2)
    await impatient.token()  # before the latency: only the order calls time out
    await sandbox.configure(latency_ms=400)

    with pytest.raises(ProviderUnavailable, match="timed out"):
        await impatient.place_order(
            po_number="O-late", product_id="CVS", value=Decimal(20), delivery="Links"
        )

    async def landed() -> bool:
        return len(await sandbox.orders()) == 1

    await eventually(landed)
    await sandbox.configure(latency_ms=0)
    found = await make_api().place_order(
        po_number="O-late", product_id="CVS", value=Decimal(20), delivery="Links"
    )
    (at_sandbox,) = await sandbox.orders()
    assert found.id == at_sandbox["Id"]


# --- the provider ----------------------------------------------------------------------------


async def test_a_complete_order_is_done_with_its_claim_links(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    provider: Provider = GiftCardProvider(api)

    result = await provider.fulfil(request(41, quantity=2))

    assert result.outcome is Outcome.DONE
    (at_sandbox,) = await sandbox.orders()
    assert (result.ref, at_sandbox["PONumber"]) == (at_sandbox["Id"], "TALLY-41")
    assert result.claim_links == tuple(c["ClaimLink"] for c in at_sandbox["LineItems"][0]["Cards"])
    assert len(result.claim_links) == 2
    assert result.sent_to == ("member@example.com",)
    assert result.redemption_id == 41


async def test_a_pending_order_is_pending_until_its_status_says_done(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    await sandbox.configure(pending_over=20)
    provider = GiftCardProvider(api)

    pending = await provider.fulfil(request(42))
    assert pending.outcome is Outcome.PENDING
    assert pending.claim_links == ()
    assert pending.ref is not None
    assert (await provider.status(pending.ref)).outcome is Outcome.PENDING

    await sandbox.complete(pending.ref)
    done = await provider.status(pending.ref)

    assert done.outcome is Outcome.DONE
    assert done.ref == pending.ref
    assert len(done.claim_links) == 1


async def test_a_refusal_is_failed_with_the_providers_message(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    provider = GiftCardProvider(api)

    result = await provider.fulfil(request(43, face_value=Decimal(30)))

    assert result.outcome is Outcome.FAILED
    assert result.ref is None
    assert "30 is not a denomination of ZALANDO-EUR" in result.detail
    assert await order_statuses(sandbox) == [422]
    assert (await provider.status("no-such-order")).outcome is Outcome.FAILED


async def test_a_reward_in_another_currency_fails_without_ordering(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    result = await GiftCardProvider(api).fulfil(request(44, currency="USD"))

    assert result.outcome is Outcome.FAILED
    assert "EUR" in result.detail
    assert "USD" in result.detail
    assert await sandbox.calls("POST", "/v1/Orders") == []


async def test_an_unreachable_provider_propagates_for_the_job_to_retry(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    provider = GiftCardProvider(api)
    await provider.fulfil(request(45))  # products are cached now
    await sandbox.configure(failure_rate=1)

    with pytest.raises(ProviderUnavailable):
        await provider.fulfil(request(46))

    await sandbox.configure(failure_rate=0)
    assert (await provider.fulfil(request(46))).outcome is Outcome.DONE
    assert [o["PONumber"] for o in await sandbox.orders()] == ["TALLY-45", "TALLY-46"]


# --- the webhook -----------------------------------------------------------------------------


async def test_the_sandboxs_webhook_is_accepted_and_a_wrong_secret_is_not(
    sandbox: SandboxControl, api: GiftCardApi
) -> None:
    provider = GiftCardProvider(api, webhook_secret=SECRET)
    with WebhookReceiver().running() as receiver:
        await sandbox.configure(pending_over=0, webhook_url=receiver.url, webhook_secret=SECRET)
        pending = await provider.fulfil(request(47))
        assert pending.outcome is Outcome.PENDING
        assert pending.ref is not None
        await sandbox.complete(pending.ref)
        webhook = await receiver.next(within=5.0)

    order = parse_fulfillment_webhook(webhook.headers, webhook.body, SECRET)
    assert (order.id, order.po_number, order.status) == (
        pending.ref,
        "TALLY-47",
        OrderStatus.COMPLETE,
    )
    assert len(order.cards) == 1
    assert order.cards[0].sent_to == "member@example.com"

    result = await provider.webhook(webhook.headers, webhook.body)
    assert result is not None
    assert (result.outcome, result.ref, result.redemption_id) == (Outcome.DONE, pending.ref, 47)

    without = {k: v for k, v in webhook.headers.items() if k.lower() != "x-webhook-secret"}
    forged = {**without, "X-Webhook-Secret": "guess"}
    for headers, body, secret in [
        (forged, webhook.body, SECRET),
        (without, webhook.body, SECRET),
        (webhook.headers, webhook.body, ""),
        (webhook.headers, b"{not json", SECRET),
        (webhook.headers, json.dumps({"EventType": "FulfillmentComplete"}).encode(), SECRET),
    ]:
        with pytest.raises(WebhookRejected):
            parse_fulfillment_webhook(headers, body, secret)
    with pytest.raises(WebhookRejected):
        await GiftCardProvider(api).webhook(webhook.headers, webhook.body)  # no secret set

    other = json.dumps({"EventType": "CardViewed", "OrderId": pending.ref}).encode()
    assert await provider.webhook(webhook.headers, other) is None
