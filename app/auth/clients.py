"""Partner client secrets (scrypt) and the client registry behind `/oauth/token`."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from app.auth.scopes import format_scopes, parse_scopes
from app.ledger.clients import ClientRecord, ClientStore
from app.ledger.database import Database

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
_MAX_COST = 2**20  # refuse absurd parameters from a stored hash
CLIENT_ID_PREFIX = "tly_"
MAX_SECRET_LENGTH = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length
    )


def hash_secret(secret: str) -> str:
    """`scrypt$n$r$p$salt_b64$hash_b64` with a fresh random salt (blocking: ~50 ms)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, hashed: str) -> bool:
    """Whether `secret` matches `hashed`; False (not an error) for a malformed hash."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = hashed.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except (ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_COST and 0 < r <= 32 and 0 < p <= 16):
        return False
    if not expected or len(secret) > MAX_SECRET_LENGTH:
        return False
    try:
        actual = _scrypt(secret, salt, n, r, p, len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the client is unknown, so a miss costs as much as a hit."""
    return hash_secret(secrets.token_urlsafe(32))


def _burn(secret: str) -> bool:
    return verify_secret(secret, _dummy_hash())


class ClientRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        name: str,
        scopes: frozenset[str],
        now: datetime,
        rate: tuple[int, float] | None = None,
    ) -> tuple[str, str]:
        """Register a partner client; returns (client_id, secret). The secret is not stored."""
        granted = parse_scopes(" ".join(scopes))  # ValueError on an unknown scope
        if rate is not None:
            check_rate(rate)
        client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(12)
        secret = secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, secret)
        async with self._writing() as store:
            await store.create(
                client_id=client_id,
                name=name,
                secret_hash=secret_hash,
                scopes=format_scopes(frozenset(granted)),
                now=now,
                rate=rate,
            )
        return client_id, secret

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[ClientStore]:
        async with self.db.write_lock or contextlib.nullcontext():
            async with self.db.write_engine.begin() as conn:
                yield ClientStore(conn)

    async def list(self) -> list[ClientRecord]:
        async with self.db.read_engine.connect() as conn:
            return await ClientStore(conn).list()

    async def revoke(self, client_id: str, now: datetime) -> bool:
        """Revoke a client: its tokens stop working (within the cache's few seconds) and it
        gets no new ones. False if there is no such client."""
        async with self._writing() as store:
            return await store.revoke(client_id, now)

    async def rotate_secret(self, client_id: str, now: datetime) -> str | None:
        """A new secret for an active client (the old one stops at once); None if there is
        no such active client. Tokens already issued stay good until they expire."""
        secret = secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, secret)
        async with self._writing() as store:
            return secret if await store.set_secret(client_id, secret_hash, now) else None

    async def set_rate(self, client_id: str, rate: tuple[int, float] | None) -> bool:
        if rate is not None:
            check_rate(rate)
        async with self._writing() as store:
            return await store.set_rate(client_id, rate)

    async def get(self, client_id: str) -> ClientRecord | None:
        async with self.db.read_engine.connect() as conn:
            return await ClientStore(conn).get(client_id)

    async def authenticate(self, client_id: str, secret: str) -> ClientRecord | None:
        """The client, if it exists, is enabled and `secret` is its secret; else None."""
        record = await self.get(client_id) if client_id else None
        if record is None:
            await asyncio.to_thread(_burn, secret)
            return None
        ok = await asyncio.to_thread(verify_secret, secret, record.secret_hash)
        if not record.active or not ok:
            return None
        return record


def check_rate(rate: tuple[int, float]) -> None:
    capacity, restore = rate
    if not (1 <= capacity <= 10_000_000) or not (0 < restore <= capacity):
        raise ValueError(
            "a rate is CAPACITY/RESTORE: 1 to 10,000,000 points, restored 0 < r <= capacity "
            "per second"
        )


def parse_rate(text: str) -> tuple[int, float]:
    """`--rate 5000/500`: a bucket of 5000 cost points, 500 restored per second."""
    capacity, sep, restore = text.partition("/")
    try:
        rate = (int(capacity), float(restore))
    except ValueError:
        raise ValueError(
            f"--rate must be CAPACITY/RESTORE, such as 5000/500; got {text!r}"
        ) from None
    if not sep:
        raise ValueError(f"--rate must be CAPACITY/RESTORE, such as 5000/500; got {text!r}")
    check_rate(rate)
    return rate


class ClientStatus:
    """What each request asks of a client: is it still active, what is its own rate.
    Read from the registry, kept `ttl` seconds: a revocation takes effect within that."""

    def __init__(
        self,
        registry: ClientRegistry,
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.ttl = ttl
        self._clock = clock
        self._seen: dict[str, tuple[float, ClientRecord | None]] = {}

    async def current(self, client_id: str) -> ClientRecord | None:
        now = self._clock()
        hit = self._seen.get(client_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        record = await self.registry.get(client_id)
        if len(self._seen) > 10_000:  # a bound, whatever client ids tokens carry
            self._seen.clear()
        self._seen[client_id] = (now, record)
        return record

    def forget(self, client_id: str) -> None:
        self._seen.pop(client_id, None)
