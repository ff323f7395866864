"""Every task the app starts, in one place, stopped with a bound when the app stops.

A new background loop goes here, never a bare create_task (docs/ARCHITECTURE.md).

Two kinds of task:
- a *service* runs until stopped (the change-feed listener, the sweeper): at shutdown it is
  cancelled at once;
- *work* finishes by itself (a dataloader's query whose callers went away): at shutdown it
  gets a grace period to finish, then it is cancelled too.

Nothing here waits without a bound: `close` returns within about `grace + cancel_wait`
seconds and names, in the log and in its answer, any task that would not stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("tally.tasks")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Shutdown:
    """What `close` found: how many tasks it stopped, and the names of any that would not."""

    stopped: int
    stuck: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.stuck


class TaskSupervisor:
    def __init__(self) -> None:
        self._services: set[asyncio.Task[Any]] = set()
        self._work: set[asyncio.Task[Any]] = set()
        self._closed = False

    def service(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Start a task that runs until the app stops."""
        return self._start(coro, name, self._services, log_failure=True)

    def work(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Start a task that finishes by itself; shutdown gives it a grace period."""
        return self._start(coro, name, self._work, log_failure=True)

    async def shielded(self, coro: Coroutine[Any, Any, T], *, name: str) -> T:
        """Run `coro` as work and await it; cancelling the caller does not cancel the work.

        For I/O that must not be cut in the middle (a database driver's query), when the
        caller may be cancelled and nobody would wait for the cleanup (a dataloader batch).
        """
        task = self._start(coro, name, self._work, log_failure=False)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_failure)  # nobody is left to see its outcome
            raise

    def open(self) -> None:
        """Accept tasks again: a lifespan that starts after an earlier one ended."""
        self._closed = False

    @property
    def closing(self) -> bool:
        return self._closed

    @property
    def running(self) -> tuple[str, ...]:
        return tuple(sorted(t.get_name() for t in self._services | self._work if not t.done()))

    async def close(self, *, grace: float = 5.0, cancel_wait: float = 5.0) -> Shutdown:
        """Cancel services; let work finish for up to `grace` s; cancel what is left and
        wait up to `cancel_wait` s more. Tasks started after this are refused."""
        self._closed = True
        services, work = set(self._services), set(self._work)
        for task in services:
            task.cancel()
        if work:
            _, late = await asyncio.wait(work, timeout=grace)
            for task in late:
                task.cancel()
        everything = services | work
        if everything:
            await asyncio.wait(everything, timeout=cancel_wait)
        stuck = tuple(sorted(t.get_name() for t in everything if not t.done()))
        if stuck:
            log.error("tasks still running after shutdown: %s", ", ".join(stuck))
        return Shutdown(stopped=len(everything) - len(stuck), stuck=stuck)

    def _start(
        self,
        coro: Coroutine[Any, Any, T],
        name: str,
        into: set[asyncio.Task[Any]],
        *,
        log_failure: bool,
    ) -> asyncio.Task[T]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"the app is shutting down; not starting {name}")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        into.add(task)
        task.add_done_callback(into.discard)
        if log_failure:
            task.add_done_callback(_log_failure)
        return task


def _log_failure(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        error = task.exception()
        if error is not None:
            log.error("task %s failed", task.get_name(), exc_info=error)
