"""Access tokens (RFC 9068 JWTs): minted by the dev issuer, verified against a JWKS."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import ECKey, JWKRegistry, Key, KeySet, OKPKey, RSAKey

from app.auth.principal import Principal, PrincipalKind

if TYPE_CHECKING:
    from app.auth.clients import ClientStatus

log = logging.getLogger(__name__)

#: Asymmetric algorithms only: never "none", never HS* (no key confusion).
ALLOWED_ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 30
MIN_REFETCH_INTERVAL = 10.0
_PUBLIC_KTY = frozenset({"RSA", "EC", "OKP"})


class InvalidToken(Exception):
    """The bearer token is not acceptable. The message is safe to show to the caller."""

    def __init__(self, message: str = "invalid token") -> None:
        super().__init__(message)
        self.message = message


def signing_algorithm(key: Key) -> str:
    if isinstance(key, RSAKey):
        return "RS256"
    if isinstance(key, ECKey) and key.curve_name == "P-256":
        return "ES256"
    if isinstance(key, OKPKey) and key.curve_name == "Ed25519":
        return "EdDSA"
    raise ValueError(f"no allowed signing algorithm for a {key.key_type} key")


class TokenIssuer:
    """Signs access tokens with the first key of a private key set."""

    def __init__(self, keys: KeySet, issuer: str, audience: str) -> None:
        if not keys.keys:
            raise ValueError("empty key set")
        self.key = keys.keys[0]
        if not self.key.is_private:
            raise ValueError("the signing key must be private")
        self.key.ensure_kid()
        self.algorithm = signing_algorithm(self.key)
        self.issuer = issuer
        self.audience = audience

    def mint(
        self,
        *,
        subject: str,
        scopes: Iterable[str],
        client_id: str | None = None,
        ttl: int = 3600,
        now: int | None = None,
    ) -> str:
        if not subject:
            raise ValueError("empty subject")
        if client_id is not None and client_id != subject:
            raise ValueError("a client token's subject is its client_id (RFC 9068)")
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(sorted({str(scope) for scope in scopes})),
        }
        if client_id is not None:
            claims["client_id"] = client_id
        header = {"alg": self.algorithm, "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self.key, algorithms=[self.algorithm])


def _public_key_set(document: Any) -> KeySet:
    """Signature keys of a fetched JWKS: asymmetric, not for encryption, public halves only."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    usable = [
        entry
        for entry in document["keys"]
        if isinstance(entry, dict) and entry.get("kty") in _PUBLIC_KTY and entry.get("use") != "enc"
    ]
    keys = KeySet.import_key_set({"keys": usable})
    return KeySet([JWKRegistry.import_key(key.as_dict(private=False)) for key in keys])


class TokenVerifier:
    """Verifies access tokens against a local key set or a remote JWKS (cached, rotated)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySet | None = None,
        jwks_url: str | None = None,
        jwks_ttl: float = 300.0,
        http_client: httpx.AsyncClient | None = None,
        leeway: int = LEEWAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        clients: ClientStatus | None = None,
    ) -> None:
        if (keys is None) == (jwks_url is None):
            raise ValueError("give exactly one of keys= or jwks_url=")
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.jwks_ttl = jwks_ttl
        self.leeway = leeway
        self.clients = clients  # revocation, checked on every token (cached briefly)
        self._clock = clock
        self._keys = keys
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch attempt, failed or not
        self._lock = asyncio.Lock()
        self._http = http_client
        self._owns_http = http_client is None

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def verify(self, token: str) -> Principal:
        if not isinstance(token, str) or not token or len(token) > 8192:
            raise InvalidToken("malformed token")
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError, KeyError, UnicodeError) as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken("unsupported token algorithm")
        kid = header.get("kid")
        keys = await self._key_set(kid if isinstance(kid, str) else None)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken("token signature is invalid or its key is unknown") from exc
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidToken(_claim_message(exc)) from exc
        principal = _principal(claims)
        if self.clients is not None and principal.client_id is not None:
            record = await self.clients.current(principal.client_id)
            if record is not None and not record.active:
                raise InvalidToken("the client this token was issued to is revoked")
        return principal

    async def _key_set(self, kid: str | None) -> KeySet:
        if self.jwks_url is None:
            assert self._keys is not None
            return self._keys
        async with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.jwks_ttl
            unknown = kid is not None and (
                self._keys is None or all(key.kid != kid for key in self._keys)
            )
            may_fetch = (
                self._attempted_at is None or now - self._attempted_at >= MIN_REFETCH_INTERVAL
            )
            if (stale or unknown) and may_fetch:
                await self._fetch(now)
            if self._keys is None:
                raise InvalidToken("signing keys unavailable")
            return self._keys

    async def _fetch(self, now: float) -> None:
        assert self.jwks_url is not None
        self._attempted_at = now
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            response = await self._http.get(self.jwks_url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = _public_key_set(response.json())
        except (httpx.HTTPError, JoseError, ValueError, TypeError, KeyError) as exc:
            # Keep the keys we had: a JWKS outage must not log everyone out at once.
            log.warning("JWKS fetch from %s failed: %s", self.jwks_url, exc)
            return
        self._keys = keys
        self._fetched_at = now


def _claim_message(exc: JoseError) -> str:
    if isinstance(exc, ExpiredTokenError):
        return "token expired"
    if isinstance(exc, MissingClaimError):
        return "token lacks required claims"
    claim = exc.claim if isinstance(exc, ClaimError) else ""
    return {
        "aud": "token audience mismatch",
        "iss": "token issuer mismatch",
        "nbf": "token not yet valid",
        "iat": "token issued in the future",
    }.get(claim, "token claims are invalid")


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list) and all(isinstance(item, str) for item in scp):
        return frozenset(scp)
    if isinstance(scp, str):
        return frozenset(scp.split())
    if scope is not None or scp is not None:
        raise InvalidToken("token scope claim is malformed")
    return frozenset()


def _principal(claims: dict[str, Any]) -> Principal:
    subject = claims["sub"]
    client_id = claims.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidToken("token client_id claim is malformed")
    jti = claims.get("jti")
    token_id = jti if isinstance(jti, str) else None
    kind: PrincipalKind = "client" if client_id is not None and client_id == subject else "member"
    exp = claims.get("exp")
    return Principal(
        subject=subject,
        kind=kind,
        scopes=_scopes(claims),
        client_id=client_id,
        token_id=token_id,
        expires_at=int(exp) if isinstance(exp, int | float) else None,
    )
