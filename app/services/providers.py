"""The fulfilment providers the active program names, built with their secrets from the
environment (TALLY_PROVIDER_<NAME>_ACCESS_TOKEN, ..._WEBHOOK_SECRET), rebuilt when a new
program version is activated."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

from app.domain.reward_definitions import ProviderDefinition
from app.fulfilment.giftcard_api import GiftCardApi
from app.fulfilment.provider import GiftCardProvider, Provider
from app.ledger.uow import UnitOfWork

log = logging.getLogger("tally.fulfilment")


class ProviderRegistry:
    """`get(name)`: the provider of that name in the active program, or None."""

    def __init__(self, uow: UnitOfWork, env: Mapping[str, str] | None = None) -> None:
        self._uow = uow
        self._env = env if env is not None else os.environ
        self._version: int | None = None
        self._providers: dict[str, Provider] = {}
        self._apis: list[GiftCardApi] = []  # every client built; closed at shutdown
        self._rebuilding = asyncio.Lock()

    async def get(self, name: str) -> Provider | None:
        async with self._uow.read() as r:
            version = await r.programs.active()
        if version is None:
            return None
        if version.version != self._version:
            async with self._rebuilding:  # one rebuild; calls in flight keep their client
                if version.version != self._version:
                    self._providers = {
                        d.name: built
                        for d in version.program.providers
                        if (built := self._build(d)) is not None
                    }
                    self._version = version.version
        return self._providers.get(name)

    def _build(self, definition: ProviderDefinition) -> Provider | None:
        if definition.kind != "giftcard-api":
            return None  # codes and manual need no calls: they are not jobs
        token = self._env.get(definition.env_name("access_token"))
        if not token:
            log.error(
                "provider %s: %s is not set; its redemptions wait, then fail at their deadline",
                definition.name,
                definition.env_name("access_token"),
            )
            return None
        api = GiftCardApi(
            base_url=definition.settings["base_url"],
            email=definition.settings["email"],
            access_token=token,
            timeout=float(definition.settings.get("timeout_seconds", "15")),
        )
        self._apis.append(api)
        return GiftCardProvider(
            api,
            webhook_secret=self._env.get(definition.env_name("webhook_secret")),
            po_prefix=definition.settings.get("po_prefix", "TALLY"),
        )

    async def aclose(self) -> None:
        for api in self._apis:
            await api.aclose()
        self._apis = []
        self._providers = {}
