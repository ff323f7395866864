"""The change feed: wakes balance subscribers after a commit, in this process or another.

The feed carries only "member N changed"; subscribers then read the committed changes
from the outbox by version, so a lost or duplicated wake-up never loses or repeats one.
Sources: this process's commits; PostgreSQL LISTEN/NOTIFY (other instances); on SQLite,
a tail of the outbox (other processes, such as the `tally` CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from app.ledger.database import Database
from app.ledger.queries import ReadLedger
from app.ledger.uow import NOTIFY_CHANNEL

log = logging.getLogger("tally.events")


class ChangeFeed:
    """In-process fan-out of member wake-ups."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[None]]] = defaultdict(set)

    async def publish(self, member_ids: set[int]) -> None:
        for member_id in member_ids:
            for queue in self._queues.get(member_id, ()):
                if queue.empty():
                    queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[asyncio.Queue[None]]:
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._queues[member_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[member_id].discard(queue)
            if not self._queues[member_id]:
                del self._queues[member_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(q) for q in self._queues.values())


class FeedListener:
    """Feeds the ChangeFeed from outside this process: LISTEN/NOTIFY or an outbox tail."""

    def __init__(self, db: Database, feed: ChangeFeed, *, poll_interval: float = 0.5) -> None:
        self.db = db
        self.feed = feed
        self.poll_interval = poll_interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        runner = self._listen_postgres if self.db.dialect == "postgresql" else self._tail_outbox
        self._task = asyncio.create_task(runner(), name="tally-feed-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen_postgres(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the listener must outlive a database restart
                log.exception("LISTEN connection lost; reconnecting")
            await asyncio.sleep(1)

    async def _listen_once(self) -> None:
        """LISTEN on one connection until it closes."""
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            task = loop.create_task(self.feed.publish({int(payload)}))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def on_close(_conn: object) -> None:
            closed.set()

        async with self.db.read_engine.connect() as conn:
            raw: Any = await conn.get_raw_connection()
            driver = raw.driver_connection
            driver.add_termination_listener(on_close)
            await driver.add_listener(NOTIFY_CHANNEL, on_notify)
            try:
                await closed.wait()
            finally:
                if not driver.is_closed():
                    await driver.remove_listener(NOTIFY_CHANNEL, on_notify)

    async def _tail_outbox(self) -> None:
        last: int | None = None  # None until the starting point is known
        while True:
            try:
                async with self.db.read_engine.connect() as conn:
                    reads = ReadLedger(conn)
                    if last is None:
                        last = await reads.outbox_last_id()
                    rows = await reads.outbox_tail(last)
                if rows:
                    last = rows[-1][0]
                    await self.feed.publish({m for _, m in rows if m is not None})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox tail failed; retrying")
            await asyncio.sleep(self.poll_interval)
