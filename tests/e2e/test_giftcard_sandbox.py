"""The gift-card API sandbox, as its own process over real HTTP: the provider's API
(tokens, products, orders, claim pages), its idempotency by PONumber, the failures it
injects, pending orders completed by a webhook, and its exit with its parent.

One sandbox serves the module (reset before each test); tests of start-up options and of
process life start their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.giftcard_sandbox import (
    ACCESS_TOKEN,
    ANNOUNCEMENT,
    EMAIL,
    REPO,
    SandboxControl,
    SandboxProcess,
    WebhookReceiver,
    eventually,
    read_announcement,
    sandbox_command,
    sandbox_process_fixture,
    start_sandbox,
)

SECRET = "hook-secret-1"


sandbox_process = sandbox_process_fixture("giftcard", 1)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
async def sandbox(sandbox_process: SandboxProcess, client: httpx.AsyncClient) -> SandboxControl:
    control = SandboxControl(sandbox_process.url, client)
    await control.reset()
    return control


def order_body(
    po_number: str,
    *,
    product: str = "ZALANDO-EUR",
    value: object = 25,
    quantity: int = 1,
    delivery: str = "DigitalDelivery",
    email: str | None = "member@example.com",
) -> dict[str, Any]:
    line: dict[str, Any] = {"ProductId": product, "Value": value, "Quantity": quantity}
    if email is not None:
        line["DigitalDeliveryAddress"] = {"Email": email}
    line["Personalization"] = {"To": "Ada", "FromName": "Tally", "Message": "Thanks!"}
    return {"Type": delivery, "LineItems": [line], "PONumber": po_number}


async def place(sandbox: SandboxControl, body: object, token: str | None = None) -> httpx.Response:
    token = token or await sandbox.token()
    return await sandbox.client.post(
        sandbox.url + "/v1/Orders", json=body, headers={"Authorization": f"Bearer {token}"}
    )


# --- tokens and products -----------------------------------------------------------------


async def test_tokens_need_the_right_credentials_and_calls_need_a_token(
    sandbox: SandboxControl,
) -> None:
    tokens = sandbox.url + "/v1/Tokens"
    wrong = await sandbox.client.post(tokens, headers={"Email": EMAIL, "AccessToken": "nope"})
    missing = await sandbox.client.post(tokens)
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "Value" not in wrong.json()

    products = sandbox.url + "/v1/Products"
    assert (await sandbox.client.get(products)).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await sandbox.client.get(products, headers=forged)).status_code == 401

    answer = await sandbox.client.post(
        tokens, headers={"Email": EMAIL, "AccessToken": ACCESS_TOKEN}
    )
    assert answer.json()["ExpiresIn"] == 3600
    bearer = {"Authorization": f"Bearer {answer.json()['Value']}"}
    assert (await sandbox.client.get(products, headers=bearer)).status_code == 200

    await sandbox.expire_tokens()
    assert (await sandbox.client.get(products, headers=bearer)).status_code == 401


async def test_products_list_fixed_and_variable_cards_in_eur_and_usd(
    sandbox: SandboxControl,
) -> None:
    token = await sandbox.token()
    response = await sandbox.client.get(
        sandbox.url + "/v1/Products", headers={"Authorization": f"Bearer {token}"}
    )
    products = {p["Id"]: p for p in response.json()}
    assert {p["CurrencyCode"] for p in products.values()} == {"EUR", "USD"}
    assert {p["DenominationType"] for p in products.values()} == {"Fixed", "Variable"}
    zalando = products["ZALANDO-EUR"]
    assert zalando["Denominations"] == [10, 25, 50, 100]
    assert zalando["AvailableDeliveryTypes"] == ["DigitalDelivery", "Links"]
    assert set(zalando["Cost"]) == {"Fee", "DiscountPercentage"}
    assert zalando["Translations"]
    assert zalando["Type"] == "Digital"
    assert "PhysicalShipment" in products["VISA-US"]["AvailableDeliveryTypes"]


# --- orders --------------------------------------------------------------------------------


async def test_a_digital_order_completes_at_once_with_claim_links(
    sandbox: SandboxControl,
) -> None:
    token = await sandbox.token()
    response = await place(sandbox, order_body("PO-1", quantity=2), token)

    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["PONumber"], order["Type"], order["Status"]) == (
        "PO-1",
        "DigitalDelivery",
        "Complete",
    )
    assert order["Total"] == 49  # 2 x 25 EUR less Zalando's 2 % discount
    cards = order["LineItems"][0]["Cards"]
    assert len(cards) == 2
    assert len({c["Id"] for c in cards}) == 2
    for card in cards:
        assert card["ClaimLink"] == f"{sandbox.url}/claim/{card['Id']}"
        assert (card["Value"], card["CurrencyCode"]) == (25, "EUR")
        assert card["SentTo"] == "member@example.com"
    assert (await sandbox.config())["balance"] == 10000 - 49

    bearer = {"Authorization": f"Bearer {token}"}
    again = await sandbox.client.get(f"{sandbox.url}/v1/Orders/{order['Id']}", headers=bearer)
    assert again.json() == order
    unknown = await sandbox.client.get(f"{sandbox.url}/v1/Orders/nope", headers=bearer)
    assert unknown.status_code == 404


async def test_the_claim_page_shows_the_card(sandbox: SandboxControl) -> None:
    order = (await place(sandbox, order_body("PO-claim", product="AMAZON-DE", value=12.5))).json()
    (card,) = order["LineItems"][0]["Cards"]

    page = await sandbox.client.get(card["ClaimLink"])

    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "12.5 EUR" in page.text
    assert "class='code'" in page.text
    assert (await sandbox.client.get(sandbox.url + "/claim/unknown")).status_code == 404


async def test_a_links_order_hands_out_links_without_sending_anything(
    sandbox: SandboxControl,
) -> None:
    response = await place(
        sandbox, order_body("PO-links", product="CVS", value=20, delivery="Links", email=None)
    )

    assert response.status_code == 201, response.text
    (card,) = response.json()["LineItems"][0]["Cards"]
    assert card["ClaimLink"].startswith(sandbox.url + "/claim/")
    assert card["CurrencyCode"] == "USD"
    assert "SentTo" not in card


async def test_a_repeated_po_number_answers_409_with_the_original_order(
    sandbox: SandboxControl,
) -> None:
    token = await sandbox.token()
    first = await place(sandbox, order_body("PO-twice"), token)
    second = await place(sandbox, order_body("PO-twice", value=50), token)

    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json()["Id"] == first.json()["Id"]
    assert second.json()["Message"]
    orders = await sandbox.orders()
    assert [o["Id"] for o in orders] == [first.json()["Id"]]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (order_body("PO-v", product="NOPE"), 422, "unknown product"),
        (order_body("PO-v", value=30), 422, "not a denomination"),
        (order_body("PO-v", product="AMAZON-DE", value=501), 422, "not a denomination"),
        (order_body("PO-v", email=None), 422, "Email is required"),
        (order_body("PO-v", product="VISA-US", value=50), 422, "not available"),
        (order_body("PO-v", quantity=0), 422, "Quantity"),
        ({**order_body("PO-v"), "Type": "Carrier pigeon"}, 400, "Type"),
        ({**order_body("PO-v"), "LineItems": []}, 400, "LineItems"),
        ({"Type": "Links", "LineItems": [{"ProductId": "CVS", "Value": 20}]}, 400, "PONumber"),
        ([], 400, "JSON object"),
    ],
)
async def test_an_invalid_order_is_refused_with_a_message_and_creates_nothing(
    sandbox: SandboxControl, body: object, status: int, says: str
) -> None:
    response = await place(sandbox, body)

    assert response.status_code == status, response.text
    assert says in response.json()["Message"]
    assert await sandbox.orders() == []
    assert (await sandbox.config())["balance"] == 10000


async def test_an_order_past_the_balance_is_refused_and_changes_nothing(
    sandbox: SandboxControl,
) -> None:
    await sandbox.configure(balance=60)
    token = await sandbox.token()
    assert (await place(sandbox, order_body("PO-a", value=50), token)).status_code == 201

    refused = await place(sandbox, order_body("PO-b", value=25), token)

    assert refused.status_code == 422
    assert "insufficient funds" in refused.json()["Message"]
    assert [o["PONumber"] for o in await sandbox.orders()] == ["PO-a"]
    assert (await sandbox.config())["balance"] == 11  # 60 - 49, untouched by the refusal


async def test_injected_500s_create_nothing_and_a_later_try_succeeds(
    sandbox: SandboxControl,
) -> None:
    await sandbox.configure(failure_rate=1)
    token = await sandbox.token()
    failures = [await place(sandbox, order_body("PO-500"), token) for _ in range(3)]
    assert [f.status_code for f in failures] == [500, 500, 500]
    assert await sandbox.orders() == []

    await sandbox.configure(failure_rate=0)
    assert (await place(sandbox, order_body("PO-500"), token)).status_code == 201
    assert len(await sandbox.orders()) == 1


async def test_a_504_after_create_then_a_retry_finds_the_one_original_order(
    sandbox: SandboxControl,
) -> None:
    await sandbox.configure(timeout_rate=1)
    token = await sandbox.token()

    timed_out = await place(sandbox, order_body("PO-504"), token)
    retry = await place(sandbox, order_body("PO-504"), token)

    assert timed_out.status_code == 504
    assert retry.status_code == 409
    (order,) = await sandbox.orders()
    assert retry.json()["Id"] == order["Id"]
    assert order["PONumber"] == "PO-504"
    assert order["Status"] == "Complete"


async def test_seeded_failures_repeat_after_a_reset(sandbox: SandboxControl) -> None:
    async def statuses() -> list[int]:
        await sandbox.reset()
        await sandbox.configure(failure_rate=0.5)
        token = await sandbox.token()
        return [(await place(sandbox, order_body(f"PO-{n}"), token)).status_code for n in range(12)]

    first, second = await statuses(), await statuses()

    assert first == second
    assert set(first) == {201, 500}


async def test_latency_is_added_to_every_call(sandbox: SandboxControl) -> None:
    await sandbox.configure(latency_ms=150)
    started = time.monotonic()
    await sandbox.token()
    assert time.monotonic() - started >= 0.15


async def test_an_unknown_option_is_refused(sandbox: SandboxControl) -> None:
    response = await sandbox.client.post(sandbox.url + "/_sandbox/config", json={"speed": 1})
    bad_rate = await sandbox.client.post(sandbox.url + "/_sandbox/config", json={"failure_rate": 2})
    assert (response.status_code, bad_rate.status_code) == (400, 400)
    assert "speed" in response.json()["Message"]


# --- pending orders and webhooks ------------------------------------------------------------


async def test_a_pending_order_completes_after_a_while_and_calls_the_webhook(
    tmp_path: Path, client: httpx.AsyncClient
) -> None:
    with WebhookReceiver().running() as receiver:
        process = start_sandbox(
            tmp_path,
            *("--seed", "1", "--pending-over", "40", "--complete-after", "0.3"),
            *("--webhook-url", receiver.url, "--webhook-secret", SECRET),
        )
        try:
            sandbox = SandboxControl(process.url, client)
            token = await sandbox.token()
            small = await place(sandbox, order_body("PO-small", value=25), token)
            large = await place(sandbox, order_body("PO-large", value=50), token)
            assert small.json()["Status"] == "Complete"
            pending = large.json()
            assert pending["Status"] == "Pending"
            assert pending["LineItems"][0]["Cards"] == []

            webhook = await receiver.next(within=5.0)

            assert webhook.path == "/hooks/giftcard"
            assert webhook.headers["X-Webhook-Secret"] == SECRET
            event = httpx.Response(200, content=webhook.body).json(parse_float=Decimal)
            assert (event["EventType"], event["Status"]) == ("FulfillmentComplete", "Complete")
            assert (event["OrderId"], event["PONumber"]) == (pending["Id"], "PO-large")
            (card,) = event["Order"]["LineItems"][0]["Cards"]
            assert card["ClaimLink"].startswith(process.url + "/claim/")
            bearer = {"Authorization": f"Bearer {token}"}
            now = await client.get(f"{process.url}/v1/Orders/{pending['Id']}", headers=bearer)
            assert now.json()["Status"] == "Complete"
            assert receiver.requests == 1  # the instant order sends no webhook
        finally:
            process.stop()


async def test_a_pending_order_completed_by_hand_retries_a_failing_receiver(
    sandbox: SandboxControl,
) -> None:
    with WebhookReceiver(fail_first=2).running() as receiver:
        await sandbox.configure(pending_over=0, webhook_url=receiver.url, webhook_secret=SECRET)
        pending = (await place(sandbox, order_body("PO-hand"))).json()
        assert pending["Status"] == "Pending"
        assert await sandbox.webhook_attempts() == []  # no --complete-after: it waits

        completed = await sandbox.complete(pending["Id"])

        assert completed["Status"] == "Complete"
        webhook = await receiver.next(within=5.0)
        assert webhook.headers["X-Webhook-Secret"] == SECRET

        async def recorded() -> bool:  # the sandbox logs an attempt once it has the answer
            return len(await sandbox.webhook_attempts()) == 3

        await eventually(recorded)
        attempts = await sandbox.webhook_attempts()
        assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 500), (3, 204)]
        again = await sandbox.client.post(f"{sandbox.url}/_sandbox/complete/{pending['Id']}")
        assert again.status_code == 409


# --- the process -----------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Running, and not a zombie nobody reaped (an orphan's parent may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_the_sandbox_exits_when_its_parent_dies() -> None:
    launcher = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen({sandbox_command('--seed', '1')!r}, stdout=subprocess.PIPE)\n"
        "print(child.pid, child.stdout.readline().decode().strip(), flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", launcher], cwd=REPO, stdout=subprocess.PIPE)
    child = 0
    try:
        assert parent.stdout is not None
        pid, _, line = read_announcement(parent.stdout, 15.0).partition(" ")
        found = ANNOUNCEMENT.match(line)
        assert found, line
        child = int(pid)
        assert httpx.get(found.group(1) + "/_sandbox/orders", timeout=5).json() == []

        parent.kill()
        parent.wait(timeout=5)

        deadline = time.monotonic() + 5.0
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the sandbox outlived its parent"
        with pytest.raises(httpx.ConnectError):
            httpx.get(found.group(1) + "/_sandbox/orders", timeout=2)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=5)
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
        if parent.stdout is not None:
            parent.stdout.close()


def test_the_sandbox_stops_on_sigterm(tmp_path: Path) -> None:
    process = start_sandbox(tmp_path)
    try:
        process.process.send_signal(signal.SIGTERM)
        status = process.process.wait(timeout=5)
    finally:
        process.stop()
    assert status in (0, -signal.SIGTERM), process.log()
    assert "Traceback" not in process.log()
