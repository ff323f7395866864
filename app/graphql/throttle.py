"""Rate limits as leaky buckets of cost points, one per principal (Shopify's model).

A bucket holds at most `capacity` points and refills at `restore_rate` points a second.
An operation takes its requested cost before it runs; when the bucket holds less, it is
refused with THROTTLED and takes nothing. Afterwards the difference between requested
and actual cost is given back.

Buckets live in this process (`MemoryBuckets`) or in Redis (`RedisBuckets`,
`TALLY_RATE_LIMIT_URL`), where every instance shares them: one Lua script per call, so
a take is atomic across instances. The `limits` library was considered: its windows
cannot give points back or report a refilling level the way a bucket does, and it
reads the wall clock itself, which a test cannot control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from app.services.clock import Clock


@dataclass(frozen=True, slots=True)
class Rate:
    capacity: int
    restore_rate: float  # points a second


@dataclass(frozen=True, slots=True)
class Level:
    """A bucket after a call: whether the take happened, and what it holds now."""

    allowed: bool
    available: float
    rate: Rate

    def retry_after(self, cost: int) -> float:
        """Seconds until `cost` points are available (0 if they are)."""
        missing = cost - self.available
        return 0.0 if missing <= 0 else math.ceil(missing / self.rate.restore_rate * 10) / 10


class Buckets(Protocol):
    async def take(self, key: str, cost: int, rate: Rate) -> Level: ...

    async def give_back(self, key: str, points: int, rate: Rate) -> Level: ...

    async def close(self) -> None: ...


def _level(stored: tuple[float, float] | None, now: float, rate: Rate) -> float:
    if stored is None:
        return float(rate.capacity)
    available, at = stored
    return min(float(rate.capacity), available + max(now - at, 0.0) * rate.restore_rate)


class MemoryBuckets:
    """Buckets of one process. Keys are principals; an idle full bucket is forgotten."""

    def __init__(self, clock: Clock, *, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _store(self, key: str, available: float, now: float, rate: Rate) -> None:
        if available >= rate.capacity:
            self._buckets.pop(key, None)  # full: the same as never seen
            return
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = (available, now)

    async def take(self, key: str, cost: int, rate: Rate) -> Level:
        now = self._now()
        available = _level(self._buckets.get(key), now, rate)
        if cost > available:
            return Level(False, available, rate)
        self._store(key, available - cost, now, rate)
        return Level(True, available - cost, rate)

    async def give_back(self, key: str, points: int, rate: Rate) -> Level:
        now = self._now()
        available = min(float(rate.capacity), _level(self._buckets.get(key), now, rate) + points)
        self._store(key, available, now, rate)
        return Level(True, available, rate)

    async def close(self) -> None:
        return None


# KEYS[1]: the bucket. ARGV: cost (negative gives back), capacity, restore rate, now in
# whole milliseconds (Lua's tostring keeps 14 digits: a float time in seconds would lose
# its fraction).
_TAKE = """
local stored = redis.call('HMGET', KEYS[1], 'available', 'at')
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local now = tonumber(ARGV[4]) / 1000
local available = capacity
if stored[1] then
  local elapsed = math.max(now - tonumber(stored[2]) / 1000, 0)
  available = math.min(capacity, tonumber(stored[1]) + elapsed * rate)
end
local cost = tonumber(ARGV[1])
local allowed = 1
if cost > available then
  allowed = 0
else
  available = math.min(capacity, available - cost)
end
redis.call('HSET', KEYS[1], 'available', string.format('%.6f', available), 'at', ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, string.format('%.6f', available)}
"""


class RedisBuckets:
    """Buckets every instance shares, in Redis. Times come from the app's clock."""

    def __init__(self, url: str, clock: Clock, *, prefix: str = "tally:bucket:") -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.clock = clock
        self.prefix = prefix
        self._script = self.redis.register_script(_TAKE)

    async def _run(self, key: str, cost: int, rate: Rate) -> Level:
        now = round(self.clock.now().timestamp() * 1000)
        allowed, available = await self._script(
            keys=[self.prefix + key], args=[cost, rate.capacity, rate.restore_rate, now]
        )
        return Level(bool(int(allowed)), float(available), rate)

    async def take(self, key: str, cost: int, rate: Rate) -> Level:
        return await self._run(key, cost, rate)

    async def give_back(self, key: str, points: int, rate: Rate) -> Level:
        return await self._run(key, -points, rate)

    async def close(self) -> None:
        await self.redis.aclose()
