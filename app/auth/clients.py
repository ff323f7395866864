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

    async def create(self, *, name: str, scopes: frozenset[str], now: datetime) -> tuple[str, str]:
        """Register a partner client; returns (client_id, secret). The secret is not stored."""
        granted = parse_scopes(" ".join(scopes))  # ValueError on an unknown scope
        client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(12)
        secret = secrets.token_urlsafe(32)
        secret_hash = await asyncio.to_thread(hash_secret, secret)
        async with self.db.write_lock or contextlib.nullcontext():
            async with self.db.write_engine.begin() as conn:
                await ClientStore(conn).create(
                    client_id=client_id,
                    name=name,
                    secret_hash=secret_hash,
                    scopes=format_scopes(frozenset(granted)),
                    now=now,
                )
        return client_id, secret

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
        if record.disabled or not ok:
            return None
        return record
