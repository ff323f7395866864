"""Member app: follow your balance live; after a dropped connection, resume where you left off.

    TALLY_TOKEN=<member token> python client_examples/mobile_subscribe.py

The app reads its balance version once, then subscribes to `balanceChanged(sinceVersion:)`
over graphql-transport-ws, the token in `connection_init`. It remembers the version of the
last change it showed; when the connection drops it reconnects (with backoff) from that
version, so the changes it missed come first and none is shown twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

VIEWER = "query Viewer { viewer { externalId balance { available version } } }"
BALANCE_CHANGED = """
subscription Follow($since: Int) {
  balanceChanged(sinceVersion: $since) {
    version kind delta pendingDelta heldDelta reference occurredAt
    balance { available pending held }
  }
}"""
REJECTED = 4403  # the server closes with this when it refuses the token


class TokenRejected(Exception):
    pass


def close_code(error: BaseException) -> int | None:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionClosed) and cause.rcvd is not None:
            return cause.rcvd.code
        cause = cause.__cause__ or cause.__context__
    return None


async def current_version(url: str, token: str) -> int:
    transport = HTTPXAsyncTransport(
        url=f"{url}/graphql", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    async with Client(transport=transport, execute_timeout=10) as session:
        viewer = (await session.execute(GraphQLRequest(VIEWER)))["viewer"]
    if viewer is None:
        raise TokenRejected("this token names no enrolled member")
    print(f"{viewer['externalId']}: {viewer['balance']['available']} points", flush=True)
    return int(viewer["balance"]["version"])


def show(change: dict[str, Any]) -> None:
    balance = change["balance"]
    print(
        f"v{change['version']} {change['kind']} {change['delta']:+d}"
        f" (pending {change['pendingDelta']:+d}, held {change['heldDelta']:+d})"
        f" -> {balance['available']} available, {balance['pending']} pending,"
        f" {balance['held']} held  [{change['reference'] or '-'}]",
        flush=True,
    )


async def follow(url: str, token: str, since: int, max_changes: int, max_delay: float) -> int:
    """Print changes until `max_changes` (0: forever); returns the last version shown."""
    ws_url = "ws" + url.removeprefix("http") + "/graphql"
    last, shown, delay = since, 0, 1.0
    while True:
        transport = WebsocketsTransport(
            url=ws_url,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {token}"},
            connect_timeout=10,
            ack_timeout=10,
        )
        try:
            async with Client(transport=transport) as session:
                print(f"connected; following from version {last}", flush=True)
                delay = 1.0
                request = GraphQLRequest(BALANCE_CHANGED, variable_values={"since": last})
                # aclosing: leaving the loop early must end the subscription at once, or
                # closing the client waits for it (close_timeout).
                async with contextlib.aclosing(session.subscribe(request)) as results:
                    async for result in results:
                        change = result["balanceChanged"]
                        show(change)
                        last = int(change["version"])
                        shown += 1
                        if max_changes and shown >= max_changes:
                            return last
        except TransportQueryError:
            raise  # refused by the server (scope, member): reconnecting will not help
        except (TransportError, OSError, TimeoutError) as error:
            if close_code(error) == REJECTED:
                raise TokenRejected("the server rejected the token (4403)") from error
            print(f"disconnected ({type(error).__name__}); retrying in {delay:.0f}s", flush=True)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("TALLY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("TALLY_TOKEN"), help="member token")
    parser.add_argument(
        "--since", type=int, default=None, help="resume after this version (default: now)"
    )
    parser.add_argument("--max-changes", type=int, default=0, help="stop after N (0: never)")
    parser.add_argument("--max-delay", type=float, default=30.0, help="reconnect backoff cap")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set TALLY_TOKEN")
    args.url = args.url.rstrip("/")
    return args


async def run(args: argparse.Namespace) -> int:
    since = args.since if args.since is not None else await current_version(args.url, args.token)
    last = await follow(args.url, args.token, since, args.max_changes, args.max_delay)
    print(f"stopped at version {last}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except TokenRejected as error:
        print(error, file=sys.stderr)
        return 2
    except TransportQueryError as error:
        print(f"GraphQL error: {error.errors}", file=sys.stderr)
        return 1
    except (TransportError, OSError) as error:
        print(f"cannot reach Tally at {args.url}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
