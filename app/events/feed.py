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

import asyncpg

from app.ledger.database import Database, asyncpg_connect_args
from app.ledger.queries import ReadLedger
from app.ledger.uow import NOTIFY_CHANNEL
from app.supervisor import TaskSupervisor

log = logging.getLogger("tally.events")

#: Seconds to open the LISTEN connection and to subscribe on it.
CONNECT_TIMEOUT = 10.0


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
    """Feeds the ChangeFeed from outside this process: LISTEN/NOTIFY or an outbox tail.

    It runs as a supervised service: `start` hands its loop to the app's TaskSupervisor,
    which cancels it at shutdown. On PostgreSQL it LISTENs on a connection of its own,
    outside the pool, and drops that connection's socket when it stops: no UNLISTEN round
    trip, no connection returned to the pool still listening, nothing that waits on the
    network while the app shuts down.
    """

    def __init__(
        self, db: Database, feed: ChangeFeed, tasks: TaskSupervisor, *, poll_interval: float = 0.5
    ) -> None:
        self.db = db
        self.feed = feed
        self.tasks = tasks
        self.poll_interval = poll_interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        runner = self._listen_postgres if self.db.dialect == "postgresql" else self._tail_outbox
        self._task = self.tasks.service(runner(), name="tally-feed-listener")

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
        closed = asyncio.Event()

        def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            if not self.tasks.closing:
                self.tasks.work(self.feed.publish({int(payload)}), name="tally-feed-publish")

        def on_close(_conn: object) -> None:
            closed.set()

        conn = await asyncpg.connect(**asyncpg_connect_args(self.db.url), timeout=CONNECT_TIMEOUT)
        try:
            conn.add_termination_listener(on_close)
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await conn.add_listener(NOTIFY_CHANNEL, on_notify)
            await closed.wait()
        finally:
            conn.terminate()  # closes the socket at once; the server ends the session

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
