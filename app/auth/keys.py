"""Development signing keys: a private JWK set in a file, and its public JWKS document."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def generate_keys() -> KeySet:
    """One RSA 2048 signing key with a `kid` (its RFC 7638 thumbprint)."""
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
    return KeySet([key])


def load_keys(path: Path) -> KeySet:
    """Load a private JWK set; ValueError if it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError(f"{path} is not a JWK set")
    keys = KeySet.import_key_set({"keys": data["keys"]})
    if not all(key.is_private for key in keys):
        raise ValueError(f"{path} holds a public key; signing needs private keys")
    return keys


def load_or_create_keys(path: Path) -> KeySet:
    """The key set in `path`, created (mode 0600) on first use."""
    if path.exists():
        return load_keys(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = generate_keys()
    document = json.dumps(keys.as_dict(private=True), indent=2)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(document)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            # link() never replaces: if another process won the race, use its keys.
            os.link(tmp, path)
        except FileExistsError:
            return load_keys(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return keys


def public_jwks(keys: KeySet) -> dict[str, Any]:
    """The public JWKS document of `keys`: no private members, ever."""
    public: list[dict[str, Any]] = []
    for key in keys:
        if key.key_type == "oct":
            continue  # a symmetric key has no public half
        data: dict[str, Any] = dict(key.as_dict(private=False))
        for member in _PRIVATE_MEMBERS:
            data.pop(member, None)
        public.append(data)
    return {"keys": public}
