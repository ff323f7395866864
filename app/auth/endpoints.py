"""`POST /oauth/token` (client_credentials, RFC 6749 §4.4) and the public JWKS document."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.auth.clients import ClientRegistry
from app.auth.scopes import format_scopes, parse_scopes
from app.auth.tokens import TokenIssuer

MAX_BODY_BYTES = 8192
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = 'Basic realm="tally"'


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = _BASIC_CHALLENGE
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


def _invalid_client(description: str = "client authentication failed") -> OAuthError:
    return OAuthError("invalid_client", description, 401)


async def _read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError("invalid_request", "request body too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "malformed form body") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be repeated
            raise OAuthError("invalid_request", f"parameter {name!r} repeated")
        form[name] = value
    return form


def _basic_credentials(header: str) -> tuple[str, str]:
    """client_id and secret from `Authorization: Basic`, each form-url-decoded (RFC 6749 2.3.1)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise _invalid_client("unsupported authorization scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid_client("malformed basic credentials") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("malformed basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    authorization = request.headers.get("authorization")
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if authorization is not None:
        if form_secret is not None:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        client_id, secret = _basic_credentials(authorization)
        if form_id is not None and form_id != client_id:
            raise OAuthError("invalid_request", "client_id does not match the credentials")
        return client_id, secret
    if form_id is None or form_secret is None:
        raise _invalid_client("client authentication required")
    return form_id, form_secret


def _granted_scopes(requested: str | None, allowed: frozenset[str]) -> frozenset[str]:
    if requested is None or not requested.strip():
        if not allowed:
            raise OAuthError("invalid_scope", "the client has no scopes")
        return allowed
    try:
        wanted = frozenset(str(scope) for scope in parse_scopes(requested))
    except ValueError as exc:
        raise OAuthError("invalid_scope", str(exc)) from exc
    missing = wanted - allowed
    if missing:
        raise OAuthError(
            "invalid_scope", f"scope not granted to this client: {' '.join(sorted(missing))}"
        )
    return wanted


def auth_routes(
    *,
    registry: ClientRegistry,
    issuer: TokenIssuer,
    public_keys: dict[str, Any] | None,
    token_ttl: int = 3600,
) -> list[Route]:
    async def token(request: Request) -> Response:
        try:
            form = await _read_form(request)
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant_type != "client_credentials":
                raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
            client_id, secret = _client_credentials(request, form)
            client = await registry.authenticate(client_id, secret)
            if client is None:
                raise _invalid_client()
            scopes = _granted_scopes(form.get("scope"), client.scopes)
        except OAuthError as error:
            return error.response()
        access_token = issuer.mint(
            subject=client.client_id, client_id=client.client_id, scopes=scopes, ttl=token_ttl
        )
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": token_ttl,
            "scope": format_scopes(scopes),
        }
        return JSONResponse(body, headers=_NO_STORE)

    async def jwks(request: Request) -> Response:
        return JSONResponse(public_keys, headers={"Cache-Control": "public, max-age=300"})

    routes = [Route("/oauth/token", token, methods=["POST"], name="oauth_token")]
    if public_keys is not None:
        routes.append(Route("/.well-known/jwks.json", jwks, methods=["GET"], name="jwks"))
    return routes
