"""Shopify's webhooks read as Shopify documents them: the HMAC of the raw body, an
orders/paid body as a purchase by line, a refunds/create body as a return by line."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.shopify import NotAnOrder, parse_order, parse_refund, verify_hmac

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "shpss_0123456789abcdef"


def _body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_hmac_is_checked_exactly_as_shopify_signs() -> None:
    body = _body("shopify_order_paid.json")
    # Shopify: base64(HMAC-SHA256(client secret, raw body)), computed independently here.
    header = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert verify_hmac(SECRET, body, header)
    assert not verify_hmac(SECRET, body + b" ", header)
    assert not verify_hmac("another-secret", body, header)
    assert not verify_hmac(SECRET, body, None)
    assert not verify_hmac(SECRET, body, "")


def test_an_order_paid_is_a_purchase_by_line_after_discounts() -> None:
    order = parse_order(json.loads(_body("shopify_order_paid.json")))
    assert order.order_ref == "450789469"
    assert (order.customer_id, order.email) == ("207119551", "bob.norman@mail.example.com")
    assert order.currency == "EUR"
    assert order.amount == Decimal("389.00")  # 189 + 199 + 2 x 0.50
    assert [(line.sku, line.quantity, line.discount) for line in order.lines] == [
        ("IPOD2008GREEN", 1, "10.00"),
        ("IPOD2008RED", 1, "0.00"),
        ("shopify-line-703073504", 2, "0.00"),  # no SKU: its line
    ]
    assert order.occurred_at.utcoffset() is not None


def test_a_refund_is_a_return_of_its_lines() -> None:
    refund = parse_refund(json.loads(_body("shopify_refund_create.json")))
    assert (refund.refund_ref, refund.order_ref) == ("509562969", "450789469")
    assert refund.lines == (("IPOD2008RED", 1),)


@pytest.mark.parametrize(
    "body",
    [{}, {"id": 1}, {"id": 1, "line_items": [{"quantity": 1, "price": "abc"}], "created_at": "x"}],
)
def test_a_body_that_is_no_order_is_refused_with_a_reason(body: dict[str, object]) -> None:
    with pytest.raises(NotAnOrder):
        parse_order(body)


def test_tax_in_prices_and_free_shipping_are_not_earned_on() -> None:
    body = json.loads(_body("shopify_order_paid.json"))
    body["taxes_included"] = True
    body["line_items"][1]["tax_lines"] = [{"title": "VAT", "price": "33.17", "rate": 0.2}]
    body["shipping_lines"] = [
        {"price": "4.90", "discount_allocations": [{"amount": "4.90"}]},
    ]
    order = parse_order(body)
    assert order.amount == Decimal("355.83")  # 389.00 less the red iPod's 33.17 VAT
    assert order.shipping == Decimal("0.00")


def test_a_line_that_cannot_be_read_is_not_an_order() -> None:
    body = json.loads(_body("shopify_order_paid.json"))
    body["line_items"] = [{"quantity": "two", "price": "1"}]
    with pytest.raises(NotAnOrder):
        parse_order(body)
