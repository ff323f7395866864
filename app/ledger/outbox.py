"""The outbox store: typed events in, typed events out (topics and payloads: domain/events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import OutboxEvent, Topic, decode, topic_of
from app.domain.published import event_type
from app.ledger.tables import outbox


class Outbox:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(
        self, event: OutboxEvent, *, now: datetime, version: int | None = None
    ) -> None:
        """Record `event` in the transaction of the change it describes."""
        topic = topic_of(event).value
        payload = event.payload()
        published = event_type(topic, payload)
        await self.conn.execute(
            insert(outbox).values(
                topic=topic,
                member_id=event.member_id,
                version=version,
                payload=payload,
                created_at=now,
                event_type=published.value if published else None,
            )
        )

    async def of_member(self, member_id: int, topic: Topic) -> list[OutboxEvent]:
        """A member's events of one topic, oldest first."""
        rows = await self.conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.topic == topic.value, outbox.c.member_id == member_id)
            .order_by(outbox.c.id)
        )
        return [decode(topic, member_id, row.payload) for row in rows]
