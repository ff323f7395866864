"""POS backend: get a token (client_credentials), enroll a customer, record a sale and a return.

    TALLY_CLIENT_ID=tly_... TALLY_CLIENT_SECRET=... \\
        python client_examples/partner_pos.py --member cust-42 --order till3-0815 --amount 25.00

Offline mode: `--queue sales.jsonl` appends the sale to a local file (fsync'd) and then sends
every queued sale with recordPurchases, 100 at a time, each with its own idempotency key
and original occurredAt. While Tally is unreachable the sales stay in the file; the next
run (or `--queue sales.jsonl --flush`) sends them. A refused sale goes to
sales.jsonl.rejected with its errors; a batch whose answer was lost is simply sent again.

Register the client first: `tally client create --name pos --scopes "members:write
points:write"`. Every write carries an idempotency key derived from what it records
(`purchase:<order>`), so a till that lost the answer simply sends the same request again
and gets the first answer back, never a second purchase.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
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
    parser.add_argument(
        "--queue",
        help="offline mode: append the sale to this file, then send every queued sale with "
        "recordPurchases (kept in the file while Tally is unreachable)",
    )
    parser.add_argument("--flush", action="store_true", help="with --queue: only send the queue")
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


QUEUE_BATCH = 100
PURCHASES = """
mutation Purchases($inputs: [RecordPurchaseBatchInput!]!) {
  recordPurchases(inputs: $inputs) {
    recorded
    results { idempotencyKey ok orderId pointsEarned userErrors { field code message } }
    userErrors { field code message }
  }
}"""


def read_queue(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_queue(path: Path, sales: list[dict[str, Any]]) -> None:
    """Replace the queue file atomically: a crash leaves the old queue or the new one."""
    spare = path.with_suffix(path.suffix + ".tmp")
    spare.write_text("".join(json.dumps(s) + "\n" for s in sales), encoding="utf-8")
    os.replace(spare, path)


def queue_sale(path: Path, sale: dict[str, Any]) -> None:
    """Append one sale, with its idempotency key, durably (fsync) before anything else."""
    with path.open("a", encoding="utf-8") as queue:
        queue.write(json.dumps(sale) + "\n")
        queue.flush()
        os.fsync(queue.fileno())


def flush_queue(args: argparse.Namespace, path: Path) -> int:
    """Send the queued sales in batches of QUEUE_BATCH. Answered items leave the queue
    (refused ones go to FILE.rejected with their errors); if Tally cannot be reached the
    queue stays as it is, to be sent next time. Returns how many are still queued."""
    queued = read_queue(path)
    if not queued:
        print("queue: empty")
        return 0
    try:
        token = fetch_token(args.url, args.client_id, args.client_secret, args.scope)
    except (httpx.HTTPError, OSError) as error:
        print(f"queue: Tally unreachable ({type(error).__name__}); {len(queued)} sale(s) kept")
        return len(queued)
    transport = HTTPXTransport(
        url=args.url.rstrip("/") + "/graphql",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=30,
    )
    rejected_path = path.with_suffix(path.suffix + ".rejected")
    with Client(transport=transport, execute_timeout=30) as client:
        while queued:
            batch = queued[:QUEUE_BATCH]
            request = GraphQLRequest(PURCHASES, variable_values={"inputs": batch})
            try:
                answer = client.execute(request)["recordPurchases"]
            except (TransportError, httpx.HTTPError, OSError) as error:
                print(f"queue: sending stopped ({type(error).__name__}); {len(queued)} kept")
                return len(queued)
            if answer["userErrors"]:
                raise PosError(f"batch refused: {errors_of(answer)}")
            rejected = []
            for sale, result in zip(batch, answer["results"], strict=True):
                if result["ok"]:
                    print(f"sent {result['orderId']}: +{result['pointsEarned']} points")
                else:
                    print(f"refused {result['orderId']}: {errors_of(result)}")
                    rejected.append({**sale, "errors": result["userErrors"]})
            if rejected:
                with rejected_path.open("a", encoding="utf-8") as out:
                    out.writelines(json.dumps(r) + "\n" for r in rejected)
            queued = queued[len(batch) :]
            write_queue(path, queued)  # answered: durable at Tally, off the queue
            print(f"batch: {answer['recorded']} recorded, {len(rejected)} refused")
    return 0


def run_offline(args: argparse.Namespace) -> int:
    path = Path(args.queue)
    if not args.flush:
        sale = {
            "idempotencyKey": f"purchase:{args.order}",
            "externalId": args.member,
            "orderId": args.order,
            "amount": args.amount,
            "currency": args.currency,
            "channel": "POS",
            "occurredAt": args.occurred_at,
        }
        queue_sale(path, sale)
        print(f"queued {args.order} ({len(read_queue(path))} in the queue)")
    return 1 if flush_queue(args, path) and args.flush else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.queue:
            return run_offline(args)
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
