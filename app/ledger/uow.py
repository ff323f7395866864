"""Units of work: one write transaction per use case, reads on their own connections."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.audit import AuditStore
from app.ledger.awards import ActivityStore, AwardStore
from app.ledger.catalog import CatalogStore
from app.ledger.checkouts import CheckoutStore
from app.ledger.database import Database
from app.ledger.event_log import EventLog
from app.ledger.expiry import ExpiryStore
from app.ledger.idempotency import IdempotencyStore
from app.ledger.inbound import InboundStore
from app.ledger.jobs import JobStore
from app.ledger.programs import ProgramStore
from app.ledger.queries import ReadLedger
from app.ledger.redemptions import RedemptionStore
from app.ledger.referrals import ReferralStore
from app.ledger.stores import MemberStore, OrderStore, RewardStore
from app.ledger.tiers.measures import TierMeasures
from app.ledger.tiers.standings import TierStore
from app.ledger.transfers import LotStore, TransferStore
from app.ledger.webhooks import WebhookStore

NOTIFY_CHANNEL = "tally_balance"

OnCommit = Callable[[set[int]], Awaitable[None]]


@dataclass
class WriteTx:
    """Everything a use case may write, bound to one open transaction."""

    conn: AsyncConnection
    members: MemberStore
    orders: OrderStore
    rewards: RewardStore
    redemptions: RedemptionStore
    jobs: JobStore
    catalog: CatalogStore
    checkouts: CheckoutStore
    transfers: TransferStore
    lots: LotStore
    idempotency: IdempotencyStore
    programs: ProgramStore
    awards: AwardStore
    activities: ActivityStore
    referrals: ReferralStore
    expiry: ExpiryStore
    tiers: TierStore
    tier_measures: TierMeasures
    audit: AuditStore
    events: EventLog
    webhooks: WebhookStore
    inbound: InboundStore
    reads: ReadLedger = field(init=False)

    def __post_init__(self) -> None:
        self.reads = ReadLedger(self.conn)

    @classmethod
    def bind(cls, conn: AsyncConnection, *, lock_rows: bool) -> WriteTx:
        transfers = TransferStore(conn)
        return cls(
            conn=conn,
            members=MemberStore(conn, lock_rows=lock_rows),
            orders=OrderStore(conn, lock_rows=lock_rows),
            rewards=RewardStore(conn),
            # A redemption change wakes the member's subscribers, as a transfer does.
            redemptions=RedemptionStore(
                conn, lock_rows=lock_rows, touch=lambda m: transfers.touched_members.add(m)
            ),
            jobs=JobStore(conn, lock_rows=lock_rows),
            catalog=CatalogStore(conn, lock_rows=lock_rows),
            checkouts=CheckoutStore(conn, lock_rows=lock_rows),
            transfers=transfers,
            lots=LotStore(conn),
            idempotency=IdempotencyStore(conn),
            programs=ProgramStore(conn),
            awards=AwardStore(conn),
            activities=ActivityStore(conn),
            referrals=ReferralStore(conn),
            expiry=ExpiryStore(conn),
            tiers=TierStore(conn),
            tier_measures=TierMeasures(conn),
            audit=AuditStore(conn),
            events=EventLog(conn),
            webhooks=WebhookStore(conn, lock_rows=lock_rows),
            inbound=InboundStore(conn, lock_rows=lock_rows),
        )

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Undo the writes inside on error, keep those before (the idempotency claim)."""
        touched = set(self.transfers.touched_members)
        async with self.conn.begin_nested():
            try:
                yield
            except BaseException:
                self.transfers.touched_members = touched
                raise


class UnitOfWork:
    """Opens transactions; after a commit, tells `on_commit` which members changed."""

    def __init__(self, db: Database, on_commit: OnCommit | None = None) -> None:
        self.db = db
        self.on_commit = on_commit

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        lock = self.db.write_lock or contextlib.nullcontext()
        async with lock:
            async with self.db.write_engine.connect() as conn:
                async with conn.begin():
                    tx = WriteTx.bind(conn, lock_rows=not self.db.is_sqlite)
                    yield tx
                    touched = tx.transfers.touched_members
                    if touched and self.db.dialect == "postgresql":
                        # Delivered to every listening instance only when this commits.
                        for member_id in sorted(touched):
                            await conn.execute(
                                text("SELECT pg_notify(:channel, :payload)"),
                                {"channel": NOTIFY_CHANNEL, "payload": str(member_id)},
                            )
        if touched and self.on_commit is not None:
            await self.on_commit(set(touched))

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[ReadLedger]:
        async with self.db.read_engine.connect() as conn:
            yield ReadLedger(conn)


class TxUnitOfWork(UnitOfWork):
    """Writes inside one transaction already open, each in its own savepoint (a batch of
    use cases committed together). The outer unit of work commits and tells on_commit."""

    def __init__(self, outer: UnitOfWork, tx: WriteTx) -> None:
        super().__init__(outer.db, None)
        self.outer = outer
        self.tx = tx

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        async with self.tx.savepoint():
            yield self.tx
