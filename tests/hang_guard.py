"""A hung test fails instead of eating the run, and says where everything was waiting.

pytest-timeout owns the limit (`timeout` in pyproject.toml, `@pytest.mark.timeout(N)` per
test, `--timeout` on the command line). This plugin takes over its timer so that, when a
test (setup and teardown included) runs past it, the report shows every thread's stack
*and* every pending asyncio task's await chain, down to the future it waits on. A hang in
an event loop's teardown (a task that ignores cancellation) shows nothing useful in a
thread dump alone: the main thread just sits in `select()`.

On the main thread the timer is SIGALRM: the handler prints, then fails the test, so the
run goes on with the next one. The failure is raised in whatever code runs at that moment;
when that is another asyncio task, the test may go on hanging, so a second stage, a thread
LAST_RESORT seconds later, prints the same report past pytest's capture and ends the run
(`os._exit(1)`, as pytest-timeout's thread method does). Elsewhere than the main thread it
falls back to pytest-timeout's own thread timer. Under a debugger nothing fires.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from types import CoroutineType, FrameType, GeneratorType
from typing import Any

import pytest
import pytest_timeout

#: Seconds after the first alarm before a still-stuck test ends the whole run.
LAST_RESORT = float(os.environ.get("TALLY_TEST_LAST_RESORT", "30"))


def _await_chain(awaitable: Any) -> Iterator[str]:
    """Where a coroutine is suspended, outermost first, ending with what it waits on."""
    seen = 0
    while awaitable is not None and seen < 64:
        seen += 1
        frame: FrameType | None = None
        if isinstance(awaitable, CoroutineType):
            frame, nxt = awaitable.cr_frame, awaitable.cr_await
        elif isinstance(awaitable, GeneratorType):
            frame, nxt = awaitable.gi_frame, awaitable.gi_yieldfrom
        elif hasattr(awaitable, "cr_frame") or hasattr(awaitable, "ag_frame"):
            frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
            nxt = getattr(awaitable, "cr_await", None) or getattr(awaitable, "ag_await", None)
        else:
            yield f"    waiting on {awaitable!r}"
            return
        if frame is not None:
            code = frame.f_code
            yield f'    File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}'
        awaitable = nxt


def _event_loops() -> list[asyncio.AbstractEventLoop]:
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_closed()
    ]


def describe_tasks() -> str:
    """Every pending task of every open event loop, with its await chain."""
    lines: list[str] = []
    for loop in _event_loops():
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        except RuntimeError:  # the set changed under us; a dump is best effort
            continue
        lines.append(f"--- event loop {loop!r}: {len(pending)} pending task(s)")
        for task in pending:
            state = " (cancelling)" if task.cancelling() else ""
            lines.append(f"  Task {task.get_name()!r}{state}: {task.get_coro()!r}")
            lines.extend(_await_chain(task.get_coro()))
    return "\n".join(lines) if lines else "--- no open event loop"


def describe_threads() -> str:
    lines: list[str] = []
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        lines.append(f"--- thread {names.get(ident, '?')} ({ident})")
        lines.append("".join(traceback.format_stack(frame)).rstrip())
    return "\n".join(lines)


def _last_resort(item: pytest.Item, timeout: float) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    _report(item, timeout)
    item.config.get_terminal_writer().line(
        f"Still stuck {LAST_RESORT:g}s after failing it: ending the run."
    )
    item.config.get_terminal_writer().flush()
    os._exit(1)


def _report(item: pytest.Item, timeout: float) -> None:
    terminal = item.config.get_terminal_writer()
    terminal.line()
    terminal.sep("+", title=f"Timeout after {timeout:g}s: {item.nodeid}")
    terminal.sep("~", title="threads")
    terminal.line(describe_threads())
    terminal.sep("~", title="asyncio tasks")
    terminal.line(describe_tasks())
    terminal.sep("+", title="Timeout")
    terminal.flush()


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if threading.current_thread() is not threading.main_thread() or settings.method != "signal":
        return None  # pytest-timeout's own timer

    stage_two = threading.Timer(
        settings.timeout + LAST_RESORT, _last_resort, (item, settings.timeout)
    )
    stage_two.daemon = True

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        __tracebackhide__ = True
        if not settings.disable_debugger_detection and pytest_timeout.is_debugging():
            stage_two.cancel()
            return
        _report(item, settings.timeout)
        pytest.fail(f"Timeout >{settings.timeout:g}s (stacks and tasks printed above)")

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        stage_two.cancel()

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # read by pytest-timeout
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    stage_two.start()
    return True
