"""Settings from TALLY_* environment variables. Refuses development keys in production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.ledger.database import database_url

DEV_KEYS_FILE = Path("var/jwks.json")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/tally.db",
        description="postgresql://, postgres:// (both use asyncpg) or sqlite:// (aiosqlite).",
    )
    issuer: str = "http://127.0.0.1:8000"
    audience: str = "tally"
    jwks_url: str | None = Field(
        default=None, description="Validate tokens against this JWKS (your identity provider)."
    )
    keys_file: Path = Field(
        default=DEV_KEYS_FILE,
        description="Private key set the embedded token endpoint signs with; made if missing.",
    )
    token_ttl: int = Field(default=3600, ge=60, le=86400)
    token_leeway: int = Field(
        default=30, ge=0, le=300, description="Seconds a token is still good past its exp."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    sweep_interval: float = Field(default=60.0, ge=0, description="Seconds; 0 turns sweeps off.")
    feed_poll_interval: float = Field(default=0.5, gt=0)
    shutdown_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds each shutdown step may take: open requests and sockets, "
        "background work, closing the database pools.",
    )
    log_level: str = "info"

    # Limits on every request (README "Limits"). Defaults after graphql-armor and Shopify.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # a 500-item POS batch fits
    max_tokens: int = Field(default=2000, ge=100)
    max_depth: int = Field(default=15, ge=2)
    max_aliases: int = Field(default=30, ge=0)
    max_root_fields: int = Field(default=20, ge=1)
    max_directives: int = Field(default=50, ge=0)
    max_cost: int = Field(default=1000, ge=10, description="Query cost, Shopify's model.")
    fulfilment_interval: float = Field(
        default=1.0, ge=0, description="Seconds between fulfilment rounds; 0: none here."
    )
    webhooks_allow_private: bool = Field(
        default=False, description="on: endpoints may be http:// and loopback or private."
    )
    webhook_interval: float = Field(
        default=0.5, ge=0, description="Seconds between idle webhook rounds; 0: none here."
    )
    webhook_timeout: float = Field(
        default=15.0, gt=0, le=60, description="Seconds an endpoint has to answer."
    )
    webhook_retry_scale: float = Field(
        default=1.0, gt=0, le=1, description="Shrinks the retry schedule (tests, demos)."
    )
    webhook_lease: float = Field(
        default=60.0, gt=0, description="Seconds a delivery is held while being sent."
    )
    inbound_interval: float = Field(
        default=0.5, ge=0, description="Seconds between idle rounds of store webhooks in."
    )
    events_interval: float = Field(
        default=0.5, ge=0, description="Seconds between event sequencing rounds; 0: none here."
    )
    fulfilment_lease: float = Field(
        default=60.0, gt=0, description="Seconds a worker holds a job; then another may."
    )
    max_fields: int = Field(
        default=2000, ge=100, description="Field selections once fragments are expanded."
    )
    operation_timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds.")
    batch_timeout: float = Field(
        default=120.0, gt=0, le=600, description="Seconds a recordPurchases/Returns call may take."
    )
    member_rate: tuple[int, float] = Field(
        default=(1000, 100.0), description="A member's bucket: points, restored per second."
    )
    client_rate: tuple[int, float] = Field(
        default=(10_000, 1000.0), description="A partner client's bucket."
    )
    client_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a client's status (revoked, rate) is "
        "kept: a revocation takes effect within this.",
    )
    rate_limit_url: str | None = Field(
        default=None, description="redis://... to share rate-limit buckets across instances."
    )
    # WebSockets (README "Live balance"): caps per socket and per principal, slow consumers.
    max_subscriptions_per_socket: int = Field(default=20, ge=1)
    max_sockets_per_member: int = Field(default=10, ge=1)
    max_sockets_per_client: int = Field(default=1000, ge=1)
    socket_send_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a message may wait for a slow consumer."
    )
    graphiql: Literal["on", "off"] | None = Field(
        default=None, description="Serve GraphiQL; default on, except with TALLY_ENV=prod."
    )

    @property
    def production(self) -> bool:
        return self.env == "prod"

    @property
    def serves_graphiql(self) -> bool:
        return self.graphiql == "on" if self.graphiql is not None else not self.production

    @field_validator("database_url")
    @classmethod
    def _driver_we_use(cls, url: str) -> str:
        return database_url(url)

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("cors_origins"), str):
            raw = data["cors_origins"]
            data["cors_origins"] = [o.strip() for o in raw.split(",") if o.strip()]
        return data

    @model_validator(mode="after")
    def _no_dev_secrets_in_prod(self) -> Settings:
        if self.env == "prod":
            if self.jwks_url is None and self.keys_file == DEV_KEYS_FILE:
                raise ValueError(
                    "TALLY_ENV=prod needs TALLY_JWKS_URL (your identity provider) or a "
                    "TALLY_KEYS_FILE outside ./var; the development key set is refused"
                )
            if self.issuer.startswith("http://127.0.0.1"):
                raise ValueError("TALLY_ENV=prod needs TALLY_ISSUER set to your issuer")
        return self

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.port}"
