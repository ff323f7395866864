"""Discount codes Tally generates for a redemption: unambiguous, hard to guess."""

from __future__ import annotations

import secrets

# Crockford's base32: no I, L, O or U, so a code read aloud at a till is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_discount_code(prefix: str = "TLY") -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{prefix}-{body[:4]}-{body[4:8]}-{body[8:]}"
