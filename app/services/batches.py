"""How every sweep walks what is due: in batches, one transaction per item, under its
member's lock, where the item is checked again, so two sweepers never do a thing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from app.ledger.uow import UnitOfWork, WriteTx
from app.services.common import MemberRef, lock_member

BATCH = 200
T = TypeVar("T")


async def each_due(
    uow: UnitOfWork,
    find: Callable[[WriteTx], Awaitable[Sequence[T]]],
    member_of: Callable[[T], int],
    handle: Callable[[WriteTx, T], Awaitable[int]],
) -> int:
    """Find up to BATCH due items, then handle each in its own transaction after locking
    its member; `handle` re-checks the item there and says how many things it did. Goes
    on until a batch comes back short. Returns the total done."""
    done = 0
    while True:
        async with uow.write() as tx:
            due = await find(tx)
        if not due:
            return done
        for item in due:
            async with uow.write() as tx:
                await lock_member(tx, MemberRef(id=member_of(item)))
                done += await handle(tx, item)
        if len(due) < BATCH:
            return done
