"""Storefront checkout: what the order earns, which rewards the member can use, redeem one,
or pay part of the order with points.

    python client_examples/checkout.py --amount 59.90                # TALLY_TOKEN: member token
    python client_examples/checkout.py --member alice --reward coffee  # a partner token
    python client_examples/checkout.py --member alice --amount 59.90 \
        --pay-with-points 500 --cart cart-1 --order order-1          # partner: points:write too

Pay with points: the points are held against the cart (applyPointsAtCheckout) and come
back as a discount and a one-use code; with --order the storefront backend then records the
order with the cart's id (recordPurchase): the hold is spent and the order earns on what was
paid after the discount. --release gives the cart's points back instead. Applying points
to the same cart again replaces its hold, never adds a second one.

A member token (loyalty:read, loyalty:redeem, rewards:read) acts for its own member. A
partner token (members:read, redemptions:write, rewards:read) names the member with
--member (your externalId). The redemption carries an idempotency key: retrying with the
same key returns the same redemption and code, never a second one.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXTransport

MEMBER_FIELDS = """
  id externalId
  balance { available held }
  checkout { points value currency terms { minPoints step holdMinutes } }
  availableRewards(first: 50) {
    edges { node { canRedeem reason reward { id key name cost discount } } }
  }
"""
VIEWER = f"query Viewer {{ viewer {{ {MEMBER_FIELDS} }} }}"
MEMBER = f"query Member($externalId: String!) {{ member(externalId: $externalId) {{ {MEMBER_FIELDS} }} }}"
ESTIMATE = """
query Estimate($amount: Decimal!, $currency: String!, $memberId: ID) {
  estimatePoints(amount: $amount, currency: $currency, memberId: $memberId) {
    points basePoints multiplier currency tier { key name }
    checkout { points value }
  }
}"""
APPLY = """
mutation Apply($key: String!, $input: ApplyPointsAtCheckoutInput!) {
  applyPointsAtCheckout(idempotencyKey: $key, input: $input) {
    checkout { cartId points discount currency code expiresAt }
    replaced { id }
    balance { available held }
    userErrors { field code message }
  }
}"""
RELEASE = """
mutation Release($key: String!, $input: ReleaseCheckoutPointsInput!) {
  releaseCheckoutPoints(idempotencyKey: $key, input: $input) {
    points
    balance { available held }
    userErrors { field code message }
  }
}"""
PAY = """
mutation Pay($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) {
    pointsEarned pointsDiscount
    balance { available held }
    userErrors { field code message }
  }
}"""
REDEEM = """
mutation Redeem($key: String!, $input: RedeemRewardInput!) {
  redeemReward(idempotencyKey: $key, input: $input) {
    redemption { id status points codes reward { key discount } }
    balance { available held }
    userErrors { field code message }
  }
}"""


def run(client: Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = client.execute(GraphQLRequest(query, variable_values=variables))
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("TALLY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("TALLY_TOKEN"), help="bearer token")
    parser.add_argument("--member", help="the member's externalId (partner tokens only)")
    parser.add_argument("--amount", default="59.90", help="the order total, e.g. 59.90")
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--reward", help="reward key to redeem (default: the first redeemable)")
    parser.add_argument("--pay-with-points", type=int, metavar="POINTS", help="apply points")
    parser.add_argument("--cart", help="the cart's id, for points at checkout")
    parser.add_argument("--order", help="then record the order paying the cart (partner)")
    parser.add_argument("--release", action="store_true", help="give the cart's points back")
    parser.add_argument(
        "--idempotency-key",
        default=None,
        help="reuse the key of a failed attempt to retry it safely (default: a new one)",
    )
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set TALLY_TOKEN")
    if (args.pay_with_points or args.release) and not args.cart:
        parser.error("points at checkout need --cart")
    return args


def checkout(args: argparse.Namespace) -> int:
    transport = HTTPXTransport(
        url=args.url.rstrip("/") + "/graphql",
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=10,
    )
    with Client(transport=transport, execute_timeout=10) as client:
        if args.member:
            member = run(client, MEMBER, {"externalId": args.member})["member"]
        else:
            member = run(client, VIEWER)["viewer"]
        if member is None:
            print("member not found (or not visible to this token)", file=sys.stderr)
            return 1
        print(f"member: {member['externalId']} ({member['balance']['available']} points)")

        variables = {"amount": args.amount, "currency": args.currency, "memberId": member["id"]}
        estimate = run(client, ESTIMATE, variables)["estimatePoints"]
        tier = estimate["tier"]["key"] if estimate["tier"] else "none"
        print(
            f"estimate: {estimate['points']} points for {args.amount} {estimate['currency']} "
            f"(base {estimate['basePoints']} x {estimate['multiplier']}, tier {tier})"
        )

        offer = member["checkout"]
        if offer is not None:
            print(
                f"points at checkout: up to {offer['points']} points, {offer['value']} "
                f"{offer['currency']} off (in steps of {offer['terms']['step']})"
            )
        if args.pay_with_points or args.release:
            return pay_with_points(client, args, member)

        offers = [edge["node"] for edge in member["availableRewards"]["edges"]]
        for offer in offers:
            reward = offer["reward"]
            state = "can redeem" if offer["canRedeem"] else f"not now: {offer['reason']}"
            print(f"reward {reward['key']}: {reward['cost']} points, {reward['discount']}, {state}")

        chosen = next(
            (
                o
                for o in offers
                if (o["reward"]["key"] == args.reward if args.reward else o["canRedeem"])
            ),
            None,
        )
        if chosen is None:
            print("nothing to redeem" + (f": no reward {args.reward!r}" if args.reward else ""))
            return 0 if not args.reward else 1

        key = args.idempotency_key or f"checkout-{uuid.uuid4()}"
        redeem_input: dict[str, Any] = {"rewardId": chosen["reward"]["id"], "quantity": 1}
        if args.member:
            redeem_input["memberId"] = member["id"]
        payload = run(client, REDEEM, {"key": key, "input": redeem_input})["redeemReward"]
        if payload["userErrors"]:
            for error in payload["userErrors"]:
                print(f"cannot redeem: {error['code']}: {error['message']}")
            return 1
        redemption = payload["redemption"]
        print(
            f"redeemed {redemption['reward']['key']}: {redemption['points']} points held, "
            f"status {redemption['status']} (idempotency key {key})"
        )
        for code in redemption["codes"]:
            print(f"discount code: {code} ({redemption['reward']['discount']})")
        balance = payload["balance"]
        print(f"balance: {balance['available']} available, {balance['held']} held")
    return 0


def pay_with_points(client: Client, args: argparse.Namespace, member: dict[str, Any]) -> int:
    """Hold points against the cart (or release them), then record the order paying it."""
    who: dict[str, Any] = {"cartId": args.cart}
    if args.member:
        who["memberId"] = member["id"]
    key = args.idempotency_key or f"checkout-{uuid.uuid4()}"
    if args.release:
        payload = run(client, RELEASE, {"key": key, "input": who})["releaseCheckoutPoints"]
        if payload["userErrors"]:
            for error in payload["userErrors"]:
                print(f"cannot release: {error['code']}: {error['message']}")
            return 1
        balance = payload["balance"]
        print(f"released {payload['points']} points of cart {args.cart}")
        print(f"balance: {balance['available']} available, {balance['held']} held")
        return 0
    given = {**who, "points": args.pay_with_points, "cartTotal": args.amount}
    payload = run(client, APPLY, {"key": key, "input": given})["applyPointsAtCheckout"]
    if payload["userErrors"]:
        for error in payload["userErrors"]:
            print(f"cannot apply points: {error['code']}: {error['message']}")
        return 1
    hold = payload["checkout"]
    if payload["replaced"]:
        print("the cart's earlier points hold was released")
    print(
        f"points applied: {hold['points']} points take {hold['discount']} {hold['currency']} "
        f"off (code {hold['code']}, held until {hold['expiresAt']})"
    )
    to_pay = Decimal(args.amount) - Decimal(hold["discount"])
    print(f"to pay: {to_pay} {hold['currency']}")
    balance = payload["balance"]
    print(f"balance: {balance['available']} available, {balance['held']} held")
    if not args.order:
        return 0
    order = {
        "memberId": member["id"],
        "orderId": args.order,
        "amount": args.amount,
        "currency": args.currency,
        "occurredAt": datetime.now(UTC).isoformat(),
        "cartId": args.cart,
    }
    paid = run(client, PAY, {"key": f"{key}-order", "input": order})["recordPurchase"]
    if paid["userErrors"]:
        for error in paid["userErrors"]:
            print(f"cannot record the order: {error['code']}: {error['message']}")
        return 1
    print(
        f"order {args.order} paid: {paid['pointsDiscount']} {args.currency} with points, "
        f"earned {paid['pointsEarned']} points"
    )
    balance = paid["balance"]
    print(f"balance: {balance['available']} available, {balance['held']} held")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return checkout(args)
    except TransportQueryError as error:
        print(f"GraphQL error: {error.errors}", file=sys.stderr)
        return 1
    except (TransportError, httpx.HTTPError) as error:
        print(f"cannot reach Tally at {args.url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
