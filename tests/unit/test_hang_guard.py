"""The hang guard: a test stuck in its event loop's teardown fails, says where, and the run
goes on. Run in a child pytest so the hang is real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STUCK = """
import asyncio
import contextlib


async def test_leaves_a_task_that_ignores_cancellation():
    async def stubborn_listener():
        while True:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()

    asyncio.get_running_loop().create_task(stubborn_listener(), name="stubborn-listener")


def test_the_next_test_still_runs():
    pass
"""


def test_a_hang_in_loop_teardown_fails_with_every_task_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_stuck.py").write_text(STUCK)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\ntimeout = 2\n"
    )
    run = _child_pytest(tmp_path, "test_stuck.py")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Timeout after 2s" in out
    assert "asyncio tasks" in out
    assert "'stubborn-listener' (cancelling)" in out  # the task, and that it was cancelled
    assert "in stubborn_listener" in out  # its await chain
    assert "_cancel_all_tasks" in out  # the main thread's stack: the runner's teardown
    assert "2 passed, 1 error" in out  # the stuck test's teardown errs; the next one runs


SWALLOWS = """
import time


def test_swallows_its_timeout():
    while True:
        try:
            time.sleep(60)
        except BaseException:
            pass


def test_never_reached():
    pass
"""


def test_a_test_that_swallows_its_timeout_ends_the_run_with_the_report(tmp_path: Path) -> None:
    (tmp_path / "test_swallows.py").write_text(SWALLOWS)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntimeout = 1\n")
    run = _child_pytest(tmp_path, "test_swallows.py", env={"TALLY_TEST_LAST_RESORT": "2"})
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Still stuck 2s after failing it: ending the run." in out
    assert "in test_swallows_its_timeout" in out  # the stack, shown past the capture


def _child_pytest(
    tmp_path: Path, test_file: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """pytest on one file in tmp_path, with the hang guard and tmp_path's pytest.ini."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.hang_guard",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path / test_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
