"""Till: scan a discount code, show what it is worth and whose it is, redeem it once.

    python client_examples/till.py TLY-7QK2-M9XD-4HRA        # TALLY_TOKEN: a partner token
    python client_examples/till.py TLY-7QK2-M9XD-4HRA --look  # only show it

The token needs redemptions:write (a till's client). The code is looked up with
redemptionByCode, then used with fulfillRedemption(code:): the held points are spent and
the code cannot be used again. A retry with the same --idempotency-key (say, after the
network dropped) answers the first result again instead of failing as "already used".
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXTransport

LOOK_UP = """
query LookUp($code: String!) {
  redemptionByCode(code: $code) {
    id status points kind createdAt
    reward { key name }
    delivery { codes codeValue }
  }
}"""
USE = """
mutation Use($code: String!, $key: String!) {
  fulfillRedemption(code: $code, idempotencyKey: $key) {
    redemption { status resolvedAt }
    userErrors { field code message }
  }
}"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("code", help="the code as scanned or typed")
    parser.add_argument("--url", default=os.environ.get("TALLY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("TALLY_TOKEN"), help="bearer token")
    parser.add_argument("--look", action="store_true", help="show the code, do not use it")
    parser.add_argument("--idempotency-key", default=None, help="reuse to retry safely")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set TALLY_TOKEN")
    return args


def run(client: Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.execute(GraphQLRequest(query, variable_values=variables))
    return result


def till(args: argparse.Namespace) -> int:
    transport = HTTPXTransport(
        url=args.url.rstrip("/") + "/graphql",
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=10,
    )
    code = args.code.strip()
    with Client(transport=transport, execute_timeout=10) as client:
        found = run(client, LOOK_UP, {"code": code})["redemptionByCode"]
        if found is None:
            print(f"unknown code {code}: not issued by Tally")
            return 1
        worth = found["delivery"]["codeValue"] or found["reward"]["name"]
        print(f"code {code}: {worth} ({found['reward']['key']}), {found['status']}")
        if args.look:
            return 0
        if found["status"] != "HELD":
            print(f"cannot use it: it is {found['status']}")
            return 1
        key = args.idempotency_key or f"till-{uuid.uuid4()}"
        payload = run(client, USE, {"code": code, "key": key})["fulfillRedemption"]
        if payload["userErrors"]:
            for error in payload["userErrors"]:
                print(f"cannot use it: {error['code']}: {error['message']}")
            return 1
        print(f"used: {found['points']} points spent, status {payload['redemption']['status']}")
        print(f"(idempotency key {key})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return till(args)
    except TransportQueryError as error:
        print(f"the server refused the request: {error.errors}", file=sys.stderr)
        return 2
    except (TransportError, httpx.HTTPError, OSError) as error:
        print(f"cannot reach Tally at {args.url}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
