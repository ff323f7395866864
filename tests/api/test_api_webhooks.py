"""Webhook endpoints over GraphQL (webhooks:manage): created with a secret shown once,
checked (https to a public address, known event types), changed, rotated (both secrets
sign for a day), disabled, deleted; every refusal a user error that changes nothing."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.client import Api

ENDPOINT = "endpoint { id url description eventTypes status disabledReason previousSecretUntil }"
CREATE = f"""
mutation($input: CreateWebhookEndpointInput!, $key: String!) {{
  createWebhookEndpoint(input: $input, idempotencyKey: $key) {{
    {ENDPOINT} secret userErrors {{ field code message }}
  }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateWebhookEndpointInput!, $key: String!) {{
  updateWebhookEndpoint(endpointId: $id, input: $input, idempotencyKey: $key) {{
    {ENDPOINT} userErrors {{ field code message }}
  }}
}}"""
ROTATE = f"""
mutation($id: ID!, $key: String!) {{
  rotateWebhookSecret(endpointId: $id, idempotencyKey: $key) {{
    {ENDPOINT} secret userErrors {{ field code message }}
  }}
}}"""
DISABLE = f"""
mutation($id: ID!, $key: String!) {{
  disableWebhookEndpoint(endpointId: $id, idempotencyKey: $key) {{
    {ENDPOINT} userErrors {{ field code message }}
  }}
}}"""
DELETE = """
mutation($id: ID!, $key: String!) {
  deleteWebhookEndpoint(endpointId: $id, idempotencyKey: $key) { endpoint { id } userErrors { code } }
}"""
LIST = "{ webhookEndpoints(first: 10) { edges { node { id url status eventTypes } } } }"


async def _create(api: Api, **given: Any) -> dict[str, Any]:
    body = await api.data(
        CREATE, {"input": {"url": "https://crm.example.com/hooks", **given}, "key": ops.key()}
    )
    return dict(body["createWebhookEndpoint"])


async def test_an_endpoint_is_created_changed_rotated_disabled_and_deleted(api: Api) -> None:
    made = await _create(api, eventTypes=["POINTS_EARNED", "TIER_CHANGED"], description="CRM")
    assert made["userErrors"] == []
    assert made["secret"].startswith("whsec_")
    endpoint = made["endpoint"]
    assert endpoint["status"] == "ENABLED"
    assert endpoint["eventTypes"] == ["POINTS_EARNED", "TIER_CHANGED"]
    listed = (await api.data(LIST))["webhookEndpoints"]["edges"]
    assert [e["node"]["url"] for e in listed] == ["https://crm.example.com/hooks"]
    assert "secret" not in str(listed)

    changed = (
        await api.data(
            UPDATE,
            {
                "id": endpoint["id"],
                "input": {"eventTypes": [], "description": "all"},
                "key": ops.key(),
            },
        )
    )["updateWebhookEndpoint"]
    assert changed["endpoint"]["eventTypes"] == []
    assert changed["endpoint"]["description"] == "all"

    rotated = (await api.data(ROTATE, {"id": endpoint["id"], "key": ops.key()}))[
        "rotateWebhookSecret"
    ]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != made["secret"]
    assert rotated["endpoint"]["previousSecretUntil"] is not None

    off = (await api.data(DISABLE, {"id": endpoint["id"], "key": ops.key()}))[
        "disableWebhookEndpoint"
    ]
    assert (off["endpoint"]["status"], off["endpoint"]["disabledReason"]) == (
        "DISABLED",
        "disabled by staff",
    )
    back = (
        await api.data(UPDATE, {"id": endpoint["id"], "input": {"enabled": True}, "key": ops.key()})
    )["updateWebhookEndpoint"]
    assert back["endpoint"]["status"] == "ENABLED"

    gone = (await api.data(DELETE, {"id": endpoint["id"], "key": ops.key()}))[
        "deleteWebhookEndpoint"
    ]
    assert gone["userErrors"] == []
    assert gone["endpoint"] is None
    assert (await api.data(LIST))["webhookEndpoints"]["edges"] == []
    again = (await api.data(DELETE, {"id": endpoint["id"], "key": ops.key()}))[
        "deleteWebhookEndpoint"
    ]
    assert ops.codes(again) == ["WEBHOOK_ENDPOINT_NOT_FOUND"]


async def test_an_endpoint_must_be_https_to_a_public_address(api: Api) -> None:
    for url in (
        "http://crm.example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest",
        "https://localhost/hooks",
        "ftp://crm.example.com",
        "not a url",
    ):
        refused = await _create(api, url=url)
        assert ops.codes(refused) == ["INVALID_INPUT"], url
        assert refused["userErrors"][0]["field"] == "url"
    assert (await api.data(LIST))["webhookEndpoints"]["edges"] == []


async def test_only_webhooks_manage_manages_endpoints(api: Api) -> None:
    await ops.enroll(api, "nosy")
    for token in (api.token(member="nosy"), api.token(scopes={"events:read", "members:write"})):
        body = await api.gql(
            CREATE,
            {"input": {"url": "https://crm.example.com/x"}, "key": ops.key()},
            token=token,
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        listed = await api.gql(LIST, token=token)
        assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_replayed_create_answers_the_same_endpoint_and_secret(api: Api) -> None:
    variables = {"input": {"url": "https://crm.example.com/once"}, "key": "same-key"}
    first = (await api.data(CREATE, variables))["createWebhookEndpoint"]
    again = (await api.data(CREATE, variables))["createWebhookEndpoint"]
    assert (again["endpoint"]["id"], again["secret"]) == (first["endpoint"]["id"], first["secret"])
    assert len((await api.data(LIST))["webhookEndpoints"]["edges"]) == 1
