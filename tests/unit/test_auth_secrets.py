"""Partner client secrets are stored as salted scrypt hashes and compared in constant time."""

from __future__ import annotations

import pytest

from app.auth.clients import hash_secret, verify_secret


def test_hash_then_verify() -> None:
    hashed = hash_secret("s3cret-value")
    assert hashed.startswith("scrypt$16384$8$1$")
    assert "s3cret-value" not in hashed
    assert verify_secret("s3cret-value", hashed)


def test_wrong_secret_fails() -> None:
    hashed = hash_secret("s3cret-value")
    assert not verify_secret("s3cret-valuf", hashed)
    assert not verify_secret("", hashed)


def test_two_hashes_of_one_secret_differ() -> None:
    first, second = hash_secret("same"), hash_secret("same")
    assert first != second  # random salt
    assert verify_secret("same", first)
    assert verify_secret("same", second)


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plain",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA$",
        "scrypt$1073741824$8$1$AAAA$AAAA",  # absurd cost from a tampered row
    ],
)
def test_malformed_hash_never_verifies(hashed: str) -> None:
    assert not verify_secret("anything", hashed)
