"""The task supervisor: services stop at once, work gets its grace, nothing waits forever."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from app.supervisor import TaskSupervisor


async def test_close_cancels_services_and_lets_work_finish() -> None:
    tasks = TaskSupervisor()
    finished: list[str] = []

    async def forever() -> None:
        await asyncio.Event().wait()

    async def short_query() -> None:
        await asyncio.sleep(0.05)
        finished.append("query")

    service = tasks.service(forever(), name="listener")
    tasks.work(short_query(), name="loader")

    shutdown = await tasks.close(grace=5, cancel_wait=5)

    assert shutdown.clean
    assert shutdown.stopped == 2
    assert service.cancelled()
    assert finished == ["query"]  # work was not cut short
    assert tasks.running == ()


async def test_work_past_its_grace_is_cancelled() -> None:
    tasks = TaskSupervisor()
    slow = tasks.work(asyncio.sleep(60), name="slow")

    shutdown = await tasks.close(grace=0.05, cancel_wait=5)

    assert shutdown.clean
    assert slow.cancelled()


async def test_a_task_that_ignores_cancellation_is_named_not_waited_for() -> None:
    tasks = TaskSupervisor()
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    tasks.service(stubborn(), name="stubborn")
    await asyncio.sleep(0)  # it is running, inside its wait
    loop = asyncio.get_running_loop()
    started = loop.time()

    shutdown = await tasks.close(grace=0.05, cancel_wait=0.2)

    assert loop.time() - started < 2  # bounded, whatever the task does
    assert shutdown.stuck == ("stubborn",)
    release.set()
    await asyncio.sleep(0)


async def test_shielded_work_outlives_a_cancelled_caller_and_is_drained() -> None:
    tasks = TaskSupervisor()
    done = asyncio.Event()

    async def query() -> int:
        await asyncio.sleep(0.1)
        done.set()
        return 7

    caller = asyncio.create_task(tasks.shielded(query(), name="loader"))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller

    assert tasks.running == ("loader",)  # the query goes on without its caller
    assert (await tasks.close(grace=5, cancel_wait=5)).clean
    assert done.is_set()


async def test_nothing_starts_once_closing() -> None:
    tasks = TaskSupervisor()
    await tasks.close()

    async def late() -> None:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError, match="shutting down"):
        tasks.work(late(), name="late")
    assert tasks.closing
