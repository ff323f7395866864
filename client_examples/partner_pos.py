"""POS backend: get a token (client_credentials), enroll a customer, record a sale and a return.

    TALLY_CLIENT_ID=tly_... TALLY_CLIENT_SECRET=... \\
        python client_examples/partner_pos.py --member cust-42 --order till3-0815 --amount 25.00

Register the client first: `tally client create --name pos --scopes "members:write
points:write"`. Every write carries an idempotency key derived from what it records
(`purchase:<order>`), so a till that lost the answer simply sends the same request again
and gets the first answer back, never a second purchase.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXTransport

ENROLL = """
mutation Enroll($key: String!, $input: EnrollMemberInput!) {
  enrollMember(idempotencyKey: $key, input: $input) {
    member { id externalId }
    userErrors { field code message }
  }
}"""
PURCHASE = """
mutation Purchase($key: String!, $input: RecordPurchaseInput!) {
  recordPurchase(idempotencyKey: $key, input: $input) {
    pointsEarned pending
    balance { available pending version }
    userErrors { field code message }
  }
}"""
RETURN = """
mutation Return($key: String!, $input: RecordReturnInput!) {
  recordReturn(idempotencyKey: $key, input: $input) {
    pointsReversed shortfall
    balance { available pending version }
    userErrors { field code message }
  }
}"""


class PosError(Exception):
    pass


def fetch_token(url: str, client_id: str, secret: str, scope: str | None) -> dict[str, Any]:
    """POST /oauth/token, grant_type=client_credentials, HTTP Basic client authentication."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    response = httpx.post(
        url.rstrip("/") + "/oauth/token", data=form, auth=(client_id, secret), timeout=10
    )
    if response.status_code != 200:
        raise PosError(f"token request failed ({response.status_code}): {response.text}")
    token: dict[str, Any] = response.json()
    return token


def write(client: Client, mutation: str, field: str, key: str, input: dict[str, Any]) -> Any:
    request = GraphQLRequest(mutation, variable_values={"key": key, "input": input})
    payload = client.execute(request)[field]
    return payload


def errors_of(payload: dict[str, Any]) -> str:
    return ", ".join(f"{e['code']}: {e['message']}" for e in payload["userErrors"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("TALLY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default=os.environ.get("TALLY_CLIENT_ID"))
    parser.add_argument("--client-secret", default=os.environ.get("TALLY_CLIENT_SECRET"))
    parser.add_argument("--scope", help="scopes to ask for (default: all the client has)")
    parser.add_argument("--member", default="pos-demo-customer", help="your customer id")
    parser.add_argument("--order", default=None, help="order id (default: pos-<timestamp>)")
    parser.add_argument("--amount", default="25.00")
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--occurred-at", default=None, help="sale time, ISO 8601 (default: now)")
    parser.add_argument("--return-amount", default="5.00", help="refunded part; 0 for none")
    parser.add_argument(
        "--return-id", default="1", help="your id of this return (one order may have several)"
    )
    args = parser.parse_args(argv)
    if not args.client_id or not args.client_secret:
        parser.error("give --client-id/--client-secret or set TALLY_CLIENT_ID/_SECRET")
    args.order = args.order or f"pos-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    args.occurred_at = args.occurred_at or datetime.now(UTC).isoformat()
    return args


def run_pos(args: argparse.Namespace) -> None:
    token = fetch_token(args.url, args.client_id, args.client_secret, args.scope)
    print(f"token: {token['token_type']}, expires in {token['expires_in']}s, {token['scope']}")
    transport = HTTPXTransport(
        url=args.url.rstrip("/") + "/graphql",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    with Client(transport=transport, execute_timeout=10) as client:
        enrolled = write(
            client, ENROLL, "enrollMember", f"enroll:{args.member}", {"externalId": args.member}
        )
        codes = {e["code"] for e in enrolled["userErrors"]}
        if codes == {"MEMBER_EXISTS"}:
            print(f"member {args.member}: already enrolled")
        elif codes:
            raise PosError(f"enroll failed: {errors_of(enrolled)}")
        else:
            print(f"member {args.member}: enrolled as {enrolled['member']['id']}")

        # Build the purchase once: a retry must send the very same request with the same key.
        sale = {
            "externalId": args.member,
            "orderId": args.order,
            "amount": args.amount,
            "currency": args.currency,
            "channel": "POS",
            "occurredAt": args.occurred_at,
        }
        key = f"purchase:{args.order}"
        bought = write(client, PURCHASE, "recordPurchase", key, sale)
        if bought["userErrors"]:
            raise PosError(f"purchase failed: {errors_of(bought)}")
        print(
            f"purchase {args.order}: +{bought['pointsEarned']} points"
            f"{' (pending)' if bought['pending'] else ''}, "
            f"balance {bought['balance']['available']} available"
        )
        again = write(client, PURCHASE, "recordPurchase", key, sale)
        same = again == bought
        print(f"retry of purchase {args.order}: {'same answer' if same else 'DIFFERENT ANSWER'}")
        if not same:
            raise PosError(f"a retry with the same key answered differently: {again}")

        if Decimal(args.return_amount) > 0:
            refund = {"orderId": args.order, "amount": args.return_amount}
            key = f"return:{args.order}:{args.return_id}"
            returned = write(client, RETURN, "recordReturn", key, refund)
            if returned["userErrors"]:
                raise PosError(f"return failed: {errors_of(returned)}")
            print(
                f"return {args.order} ({args.return_amount} {args.currency}): "
                f"-{returned['pointsReversed']} points, shortfall {returned['shortfall']}, "
                f"balance {returned['balance']['available']} available"
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run_pos(args)
    except PosError as error:
        print(error, file=sys.stderr)
        return 1
    except TransportQueryError as error:
        print(f"GraphQL error: {error.errors}", file=sys.stderr)
        return 1
    except (TransportError, httpx.HTTPError) as error:
        print(f"cannot reach Tally at {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
