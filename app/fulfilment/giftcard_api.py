"""The gift-card order API (GiftCard Partners "Engage2Reward" B2B API v1) over HTTP.

`GiftCardApi` holds the bearer token and the product list, and retries what may be retried:
timeouts, connection errors and 5xx are `ProviderUnavailable` and are tried again a few
times with the same PONumber (a retry of an order that landed answers 409 with the
original's Id, which this adapter fetches and returns, so a retry never buys twice); a
refusal (400/404/422) is `ProviderRefused` and is never retried.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Self

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from app.fulfilment.giftcard_orders import (
    Delivery,
    GiftCard,
    GiftCardOrder,
    GiftCardProduct,
    MalformedAnswer,
    OrderStatus,
    Personalization,
    ProviderAuthFailed,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    WebhookIgnored,
    WebhookRejected,
    parse_fulfillment_webhook,
    read_order,
    read_product,
)

__all__ = [
    "Delivery",
    "GiftCard",
    "GiftCardApi",
    "GiftCardOrder",
    "GiftCardProduct",
    "OrderStatus",
    "Personalization",
    "ProviderAuthFailed",
    "ProviderError",
    "ProviderRefused",
    "ProviderUnavailable",
    "WebhookIgnored",
    "WebhookRejected",
    "parse_fulfillment_webhook",
]

WEEK = 7 * 24 * 3600.0


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderUnavailable) and not isinstance(error, ProviderAuthFailed)


class GiftCardApi:
    """A client of one provider account. Pass `client` to share a connection pool (it is
    then yours to close); otherwise `aclose` (or `async with`) closes the one made here.

    `attempts` and `backoff_*` bound the in-adapter retry of `ProviderUnavailable`
    (exponential back-off with jitter); the caller's durable job retries beyond that."""

    def __init__(
        self,
        *,
        base_url: str,
        email: str,
        access_token: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_initial: float = 0.2,
        backoff_max: float = 2.0,
        products_ttl: float = WEEK,
        token_refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._credentials = {"Email": email, "AccessToken": access_token}
        self._own_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._timeout = httpx.Timeout(timeout)
        self._attempts = attempts
        self._backoff = (backoff_initial, backoff_max)
        self._products_ttl = products_ttl
        self._refresh_margin = token_refresh_margin
        self._clock = clock
        self._token: tuple[str, float] | None = None  # value, refresh at (clock)
        self._token_lock = asyncio.Lock()
        self._products: tuple[tuple[GiftCardProduct, ...], float] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter made it."""
        if self._own_client:
            await self._client.aclose()

    async def token(self) -> str:
        """The bearer token, reused until shortly before it expires."""
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token[1]:
                return self._token[0]
            response = await self._send("POST", "/v1/Tokens", headers=self._credentials)
            if response.status_code in (401, 403):
                raise ProviderAuthFailed(_message(response), status=response.status_code)
            data = _answer(response)
            value = data.get("Value") if isinstance(data, Mapping) else None
            expires_in = data.get("ExpiresIn") if isinstance(data, Mapping) else None
            if not isinstance(value, str) or not isinstance(expires_in, int) or expires_in <= 0:
                raise ProviderUnavailable("the token answer has no Value and ExpiresIn")
            margin = min(self._refresh_margin, expires_in / 2)
            self._token = (value, self._clock() + expires_in - margin)
            return value

    async def products(self) -> tuple[GiftCardProduct, ...]:
        """Every product of the account, cached for `products_ttl` seconds."""
        if self._products is not None and self._clock() < self._products[1]:
            return self._products[0]
        data: object = await self._retrying()(self._call, "GET", "/v1/Products")
        items = data.get("Items", data.get("Products")) if isinstance(data, Mapping) else data
        if not isinstance(items, list):
            raise ProviderUnavailable("the product list is malformed")
        try:
            products = tuple(read_product(item) for item in items)
        except MalformedAnswer as error:
            raise ProviderUnavailable(f"a product is malformed: {error}") from None
        self._products = (products, self._clock() + self._products_ttl)
        return products

    async def place_order(
        self,
        *,
        po_number: str,
        product_id: str,
        value: Decimal,
        quantity: int = 1,
        delivery: Delivery = "DigitalDelivery",
        email: str | None = None,
        personalization: Personalization | None = None,
    ) -> GiftCardOrder:
        """Order `quantity` cards of `value`. `po_number` is the idempotency key: an order
        that already exists under it (409) is fetched and returned, not bought again."""
        line: dict[str, object] = {"ProductId": product_id, "Value": value, "Quantity": quantity}
        if email is not None:
            line["DigitalDeliveryAddress"] = {"Email": email}
        if personalization is not None:
            line["Personalization"] = {
                key: text
                for key, text in (
                    ("To", personalization.to),
                    ("FromName", personalization.from_name),
                    ("Message", personalization.message),
                )
                if text
            }
        body = _encode({"Type": delivery, "LineItems": [line], "PONumber": po_number})
        order: GiftCardOrder = await self._retrying()(self._place_order_once, body)
        return order

    async def order(self, order_id: str) -> GiftCardOrder:
        """The order with this Id (ProviderRefused with status 404 if there is none)."""
        order: GiftCardOrder = await self._retrying()(self._order_once, order_id)
        return order

    # --- one attempt each ---------------------------------------------------------------

    async def _place_order_once(self, body: bytes) -> GiftCardOrder:
        response = await self._authorised("POST", "/v1/Orders", content=body)
        if response.status_code == 409:
            original = _answer_anyway(response).get("Id")
            if isinstance(original, bool) or not isinstance(original, str | int) or not original:
                raise ProviderRefused(_message(response), status=409)
            return await self._order_once(str(original))
        return _order(_answer(response))

    async def _order_once(self, order_id: str) -> GiftCardOrder:
        return _order(await self._call("GET", f"/v1/Orders/{order_id}"))

    async def _call(self, method: str, path: str) -> object:
        return _answer(await self._authorised(method, path))

    async def _authorised(
        self, method: str, path: str, *, content: bytes | None = None
    ) -> httpx.Response:
        """Send with the bearer token; on a 401, get a new token and send once more."""
        token = await self.token()
        response = await self._send(method, path, headers=_bearer(token), content=content)
        if response.status_code != 401:
            return response
        if self._token is not None and self._token[0] == token:
            self._token = None
        response = await self._send(
            method, path, headers=_bearer(await self.token()), content=content
        )
        if response.status_code == 401:
            raise ProviderAuthFailed("a fresh token was refused", status=401)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
    ) -> httpx.Response:
        if content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            return await self._client.request(
                method,
                self._base_url + path,
                headers=headers,
                content=content,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as error:
            raise ProviderUnavailable(f"{method} {path} timed out") from error
        except httpx.TransportError as error:
            raise ProviderUnavailable(f"{method} {path} failed: {error!r}") from error

    def _retrying(self) -> AsyncRetrying:
        initial, most = self._backoff
        return AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=initial, max=most) + wait_random(0, initial),
            reraise=True,
        )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _encode(payload: object) -> bytes:
    def number(value: object) -> object:
        if isinstance(value, Decimal):  # written as the number it is: 25, 12.5
            return int(value) if value == value.to_integral_value() else float(value)
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return json.dumps(payload, default=number).encode()


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, Mapping) and isinstance(data.get("Message"), str):
        return str(data["Message"])
    return response.text[:200] or response.reason_phrase


def _answer_anyway(response: httpx.Response) -> Mapping[str, object]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


def _answer(response: httpx.Response) -> Mapping[str, object] | list[object]:
    """The JSON of a 2xx; anything else becomes the error it means."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise ProviderUnavailable(_message(response), status=status)
    if status == 401 or status == 403:
        raise ProviderAuthFailed(_message(response), status=status)
    if not 200 <= status < 300:
        raise ProviderRefused(_message(response), status=status)
    try:
        data = response.json(parse_float=Decimal)
    except ValueError:
        raise ProviderUnavailable("the answer is not JSON", status=status) from None
    if not isinstance(data, Mapping | list):
        raise ProviderUnavailable("the answer is not a JSON object or array", status=status)
    return data


def _order(data: object) -> GiftCardOrder:
    try:
        return read_order(data)
    except MalformedAnswer as error:
        raise ProviderUnavailable(f"the order is malformed: {error}") from None
