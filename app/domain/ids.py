"""Relay global ids as every consumer sees them: base64 of "Type:123", unpadded."""

from __future__ import annotations

import base64


def global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")
