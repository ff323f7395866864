from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.client import Api, make_settings, open_api


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(make_settings(db_url, tmp_path)) as opened:
        yield opened
