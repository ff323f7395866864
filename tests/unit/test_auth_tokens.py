"""Access tokens: what the verifier accepts, what it must refuse, and JWKS key rotation."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from app.auth.keys import generate_keys, load_or_create_keys, public_jwks
from app.auth.principal import Principal
from app.auth.scopes import MEMBER_SCOPES, Scope, parse_scopes
from app.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier

ISS = "https://auth.tally.test"
AUD = "tally-api"
JWKS_URL = "https://auth.tally.test/.well-known/jwks.json"


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return generate_keys()


@pytest.fixture(scope="module")
def other_keys() -> KeySet:
    return generate_keys()


@pytest.fixture
def issuer(keys: KeySet) -> TokenIssuer:
    return TokenIssuer(keys, ISS, AUD)


@pytest.fixture
def verifier(keys: KeySet) -> TokenVerifier:
    return TokenVerifier(issuer=ISS, audience=AUD, keys=keys)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "m-1", "iat": now, "exp": now + 600, "scope": ""}
    claims.update(overrides)
    return claims


async def test_member_token_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(subject="member-42", scopes=MEMBER_SCOPES)
    principal = await verifier.verify(token)
    assert principal.kind == "member"
    assert principal.is_member
    assert principal.subject == "member-42"
    assert principal.client_id is None
    assert principal.scopes == {"loyalty:read", "loyalty:redeem", "rewards:read"}
    assert principal.has(Scope.LOYALTY_READ)
    assert not principal.has(Scope.POINTS_WRITE)
    assert principal.key == "member:member-42"
    assert principal.token_id


async def test_client_token_round_trip_and_header(
    issuer: TokenIssuer, verifier: TokenVerifier, keys: KeySet
) -> None:
    token = issuer.mint(subject="tly_abc", client_id="tly_abc", scopes=["points:write"])
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "kid": keys.keys[0].kid, "typ": "at+jwt"}
    principal = await verifier.verify(token)
    assert principal == Principal(
        subject="tly_abc",
        kind="client",
        scopes=frozenset({"points:write"}),
        client_id="tly_abc",
        token_id=principal.token_id,
        expires_at=principal.expires_at,
    )
    assert principal.key == "client:tly_abc"
    assert principal.expires_at is not None
    assert principal.expires_at > time.time() + 3500


async def test_client_id_different_from_sub_is_a_member_token(keys: KeySet) -> None:
    # RFC 9068 puts client_id in every token; only sub == client_id makes it a client token.
    token = jwt.encode({"alg": "RS256", "kid": keys.keys[0].kid}, _claims(client_id="app"), keys)
    principal = await TokenVerifier(issuer=ISS, audience=AUD, keys=keys).verify(token)
    assert principal.kind == "member"
    assert principal.subject == "m-1"


async def test_scp_list_and_audience_list_accepted(keys: KeySet) -> None:
    claims = _claims(aud=["other", AUD], scp=["members:read"])
    del claims["scope"]
    token = jwt.encode({"alg": "RS256"}, claims, keys)
    principal = await TokenVerifier(issuer=ISS, audience=AUD, keys=keys).verify(token)
    assert principal.scopes == {"members:read"}


async def test_es256_key_signs_and_verifies() -> None:
    keys = KeySet([ECKey.generate_key("P-256", auto_kid=True)])
    token = TokenIssuer(keys, ISS, AUD).mint(subject="m", scopes=[])
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == "ES256"
    assert (await TokenVerifier(issuer=ISS, audience=AUD, keys=keys).verify(token)).subject == "m"


async def test_expired_token_rejected(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(subject="m", scopes=[], ttl=60, now=int(time.time()) - 3600)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


async def test_leeway_accepts_recently_expired(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint(subject="m", scopes=[], ttl=60, now=int(time.time()) - 70)
    assert (await verifier.verify(token)).subject == "m"


async def test_future_token_rejected(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(subject="m", scopes=[], now=int(time.time()) + 600)
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_wrong_audience_rejected(keys: KeySet, verifier: TokenVerifier) -> None:
    token = TokenIssuer(keys, ISS, "someone-else").mint(subject="m", scopes=[])
    with pytest.raises(InvalidToken, match="audience"):
        await verifier.verify(token)


async def test_wrong_issuer_rejected(keys: KeySet, verifier: TokenVerifier) -> None:
    token = TokenIssuer(keys, "https://evil.test", AUD).mint(subject="m", scopes=[])
    with pytest.raises(InvalidToken, match="issuer"):
        await verifier.verify(token)


async def test_missing_exp_rejected(keys: KeySet, verifier: TokenVerifier) -> None:
    claims = _claims()
    del claims["exp"]
    with pytest.raises(InvalidToken):
        await verifier.verify(jwt.encode({"alg": "RS256"}, claims, keys))


async def test_tampered_payload_rejected(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    header, _, signature = issuer.mint(subject="m", scopes=["loyalty:read"]).split(".")
    forged = _b64(_claims(scope="points:adjust program:write"))
    with pytest.raises(InvalidToken):
        await verifier.verify(f"{header}.{forged}.{signature}")


async def test_tampered_signature_rejected(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    header, payload, signature = issuer.mint(subject="m", scopes=[]).split(".")
    flipped = ("A" if signature[5] != "A" else "B").join([signature[:5], signature[6:]])
    with pytest.raises(InvalidToken):
        await verifier.verify(f"{header}.{payload}.{flipped}")


async def test_token_from_another_key_set_rejected(
    keys: KeySet, other_keys: KeySet, verifier: TokenVerifier
) -> None:
    token = TokenIssuer(other_keys, ISS, AUD).mint(subject="m", scopes=[])
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    # Same kid as ours but signed by another key: the signature check still fails.
    forged = jwt.encode({"alg": "RS256", "kid": keys.keys[0].kid}, _claims(), other_keys.keys[0])
    with pytest.raises(InvalidToken):
        await verifier.verify(forged)


async def test_alg_none_rejected(verifier: TokenVerifier) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_hs256_with_public_key_as_secret_rejected(
    keys: KeySet, verifier: TokenVerifier
) -> None:
    public = json.dumps(public_jwks(keys)["keys"][0]).encode()
    hmac_key = OctKey.import_key(public)
    token = jwt.encode({"alg": "HS256"}, _claims(), hmac_key, algorithms=["HS256"])
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "....", "é.é.é"])
async def test_garbage_rejected(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        await verifier.verify(garbage)


def test_parse_scopes() -> None:
    assert parse_scopes("loyalty:read  points:write") == {Scope.LOYALTY_READ, Scope.POINTS_WRITE}
    assert parse_scopes("") == frozenset()
    with pytest.raises(ValueError, match="admin:all"):
        parse_scopes("loyalty:read admin:all")


def test_public_jwks_has_no_private_members(keys: KeySet) -> None:
    document = public_jwks(keys)
    assert len(document["keys"]) == 1
    for key in document["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        assert key["kid"] == keys.keys[0].kid
    assert not RSAKey.import_key(document["keys"][0]).is_private


def test_keys_file_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "jwks.json"
    first = load_or_create_keys(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    second = load_or_create_keys(path)
    assert first.keys[0].kid is not None
    assert second.keys[0].kid == first.keys[0].kid
    assert second.keys[0].is_private


class FakeJwks:
    """A JWKS endpoint behind httpx.MockTransport, with a hand-driven clock."""

    def __init__(self, keys: KeySet) -> None:
        self.document = public_jwks(keys)
        self.calls = 0
        self.now = 1000.0
        self.fail = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.calls += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json=self.document)

    def verifier(self, client: httpx.AsyncClient) -> TokenVerifier:
        return TokenVerifier(
            issuer=ISS, audience=AUD, jwks_url=JWKS_URL, http_client=client, clock=lambda: self.now
        )


async def test_remote_jwks_cached_refetched_on_rotation_and_ttl(
    keys: KeySet, other_keys: KeySet
) -> None:
    fake = FakeJwks(keys)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        verifier = fake.verifier(client)
        old_token = TokenIssuer(keys, ISS, AUD).mint(subject="m", scopes=[])
        assert (await verifier.verify(old_token)).subject == "m"
        assert (await verifier.verify(old_token)).subject == "m"
        assert fake.calls == 1  # cached

        # Key rotation: the issuer now signs with a key the cache has never seen.
        fake.document = public_jwks(KeySet([*keys.keys, *other_keys.keys]))
        new_token = TokenIssuer(other_keys, ISS, AUD).mint(subject="n", scopes=[])
        fake.now += 11
        assert (await verifier.verify(new_token)).subject == "n"
        assert fake.calls == 2

        fake.now += 301  # past jwks_ttl: refetched even for a known kid
        assert (await verifier.verify(old_token)).subject == "m"
        assert fake.calls == 3


async def test_unknown_kid_refetch_is_rate_limited(keys: KeySet, other_keys: KeySet) -> None:
    fake = FakeJwks(keys)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        verifier = fake.verifier(client)
        stranger = TokenIssuer(other_keys, ISS, AUD).mint(subject="x", scopes=[])
        for _ in range(5):
            with pytest.raises(InvalidToken):
                await verifier.verify(stranger)
        assert fake.calls == 1  # first fetch only: refetches are at least 10 s apart
        fake.now += 10
        with pytest.raises(InvalidToken):
            await verifier.verify(stranger)
        assert fake.calls == 2


async def test_jwks_outage_keeps_cached_keys_or_rejects(keys: KeySet) -> None:
    fake = FakeJwks(keys)
    fake.fail = True
    token = TokenIssuer(keys, ISS, AUD).mint(subject="m", scopes=[])
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        verifier = fake.verifier(client)
        with pytest.raises(InvalidToken, match="unavailable"):
            await verifier.verify(token)
        fake.fail = False
        fake.now += 10
        assert (await verifier.verify(token)).subject == "m"
        fake.fail = True
        fake.now += 1000
        assert (await verifier.verify(token)).subject == "m"  # stale keys beat no keys
        assert fake.calls == 3


async def test_remote_jwks_ignores_symmetric_keys(keys: KeySet) -> None:
    secret = OctKey.generate_key(256, auto_kid=True)
    fake = FakeJwks(keys)
    fake.document = {"keys": [secret.as_dict(private=True)]}
    token = jwt.encode({"alg": "HS256", "kid": secret.kid}, _claims(), secret, ["HS256"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        with pytest.raises(InvalidToken):
            await fake.verifier(client).verify(token)
