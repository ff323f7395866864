"""Serving the sandbox: the `giftcard` command, uvicorn on 127.0.0.1, one announcement
line on stdout, and an exit when the parent process dies or on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys

import uvicorn

from app.fulfilment.sandbox.app import create_sandbox_app
from app.fulfilment.sandbox.config import SandboxConfig, add_options, config_from_args

HOST = "127.0.0.1"
PARENT_POLL = 0.2


def add_sandbox_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `giftcard` sandbox command to `subparsers` (`tally sandbox giftcard`)."""
    giftcard = subparsers.add_parser(
        "giftcard",
        help="a sandbox of the gift-card order API (Engage2Reward B2B v1) on 127.0.0.1",
        description="Serve an in-memory sandbox of the gift-card order API. Prints one line, "
        "'sandbox giftcard listening on http://127.0.0.1:PORT', once it accepts connections.",
    )
    giftcard.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    giftcard.add_argument("--log-level", default="warning", help="uvicorn's log level")
    add_options(giftcard)
    giftcard.set_defaults(sandbox_kind="giftcard")


def run_sandbox(args: argparse.Namespace) -> int:
    """Run the sandbox that `args` (parsed by `add_sandbox_commands`) names until it is
    stopped; the exit status."""
    if getattr(args, "sandbox_kind", None) != "giftcard":
        print("tally: unknown sandbox", file=sys.stderr)
        return 2
    return asyncio.run(
        serve_giftcard(config_from_args(args), port=args.port, log_level=args.log_level)
    )


async def serve_giftcard(
    config: SandboxConfig, *, port: int = 0, log_level: str = "warning"
) -> int:
    """Serve the gift-card sandbox on 127.0.0.1:`port` until SIGTERM/SIGINT or until the
    parent process goes away."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    base_url = f"http://{HOST}:{listener.getsockname()[1]}"
    server = _AnnouncingServer(
        uvicorn.Config(
            create_sandbox_app(config, base_url),
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        ),
        f"sandbox giftcard listening on {base_url}",
    )
    watch = asyncio.create_task(_exit_with_parent(server, os.getppid()))
    try:
        await server.serve(sockets=[listener])
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        listener.close()
    return 0 if server.started else 1


class _AnnouncingServer(uvicorn.Server):
    """Prints its announcement once it accepts connections (a port of 0 is known then)."""

    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(self.announcement, flush=True)


async def _exit_with_parent(server: uvicorn.Server, parent: int) -> None:
    """Stop the server once the process that started it is gone (we are re-parented)."""
    while os.getppid() == parent:  # noqa: ASYNC110 - no event tells of a parent's death
        await asyncio.sleep(PARENT_POLL)
    server.should_exit = True
