"""Fulfilment after commit: durable jobs hand gift-card redemptions to their provider.

One round (`FulfilmentRunner.run_due`): claim the due jobs under a lease (moving a HELD
redemption to FULFILLING), call each provider outside any transaction, then record what
it said in one transaction per job:

- done: FULFILLED with the claim links (the hold is spent);
- pending: the job waits and polls the provider (or its webhook arrives first);
- failed (a refusal): FAILED, the points come back;
- unreachable (timeout, 5xx): tried again with back-off and the same PONumber, so it can
  never buy twice; past the redemption's deadline it fails and the points come back.

A worker killed mid-call leaves its lease to run out; the next one asks again with the
same PONumber and gets the first order back. Deadlines are swept by `fail_overdue`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from app.domain.errors import DomainError
from app.domain.records import Delivery, FulfilmentJob, Redemption
from app.domain.rewards import RedemptionStatus
from app.fulfilment.giftcard_orders import ProviderUnavailable, WebhookRejected
from app.fulfilment.provider import FulfilmentRequest, FulfilmentResult, Outcome
from app.ledger.jobs import DONE, FAILED, QUEUED, WAITING
from app.ledger.uow import UnitOfWork, WriteTx
from app.services.clock import Clock
from app.services.lifecycle import move_redemption
from app.services.providers import ProviderRegistry

log = logging.getLogger("tally.fulfilment")

SYSTEM = "system"
RETRY_FIRST = 5.0  # seconds; doubling up to RETRY_MAX
RETRY_MAX = 3600.0
POLL_FIRST = 10.0  # a pending order is asked about again after this, doubling to POLL_MAX
POLL_MAX = 1800.0


@dataclass(frozen=True, slots=True)
class Claim:
    """A job leased to this worker, with what its provider needs."""

    job: FulfilmentJob
    request: FulfilmentRequest


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What an inbound provider callback did; `changed` False means it changed nothing."""

    changed: bool
    detail: str


def backoff(attempts: int, first: float, most: float) -> timedelta:
    """Exponential with full jitter: attempt n waits up to first * 2^(n-1), at most `most`."""
    ceiling = min(most, first * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not secret


class FulfilmentRunner:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        providers: ProviderRegistry,
        *,
        lease: float = 60.0,
        concurrency: int = 8,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.providers = providers
        self.lease = lease
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

    async def run_due(self) -> int:
        """One round; the number of jobs attempted."""
        claims = await self._claim()
        await asyncio.gather(*(self._attempt(c) for c in claims))
        return len(claims)

    async def _claim(self) -> list[Claim]:
        """Due jobs, no more than this worker can call at once (a lease runs from here)."""
        claims: list[Claim] = []
        async with self.uow.write() as tx:
            now = self.clock.now()
            for job in await tx.jobs.claim_due(now, lease=self.lease, limit=self.concurrency):
                try:
                    async with tx.savepoint():  # one job's trouble never holds up the rest
                        claim = await self._prepare(tx, job)
                except DomainError as error:
                    log.error("fulfilment job %s cannot start: %s", job.id, error.message)
                    await tx.jobs.settle(job.id, FAILED, now, error=error.message)
                    continue
                if claim is not None:
                    claims.append(claim)
        return claims

    async def _prepare(self, tx: WriteTx, job: FulfilmentJob) -> Claim | None:
        now = self.clock.now()
        redemption = await tx.redemptions.get(job.redemption_id)
        assert redemption is not None
        if redemption.status not in (RedemptionStatus.HELD, RedemptionStatus.FULFILLING):
            await tx.jobs.settle(job.id, DONE, now, error=f"{redemption.status} already")
            return None
        if redemption.status is RedemptionStatus.HELD:
            await move_redemption(
                tx,
                self.clock,
                redemption,
                RedemptionStatus.FULFILLING,
                actor=f"provider:{job.provider}",
                detail="handed to the provider",
            )
        return Claim(job, await _request(tx, redemption))

    async def _attempt(self, claim: Claim) -> None:
        async with self._slots:
            result: FulfilmentResult | None = None
            error = ""
            provider = await self.providers.get(claim.job.provider)
            if provider is None:
                error = f"no provider {claim.job.provider!r} is configured with its secrets"
            else:
                try:
                    if claim.job.status == WAITING and claim.job.provider_ref:
                        result = await provider.status(claim.job.provider_ref)
                    else:
                        result = await provider.fulfil(claim.request)
                except ProviderUnavailable as unavailable:
                    error = f"provider unavailable: {unavailable}"
                except Exception as crash:  # noqa: BLE001 - a provider's bug must not stop the worker
                    log.exception("fulfilment of redemption %s crashed", claim.job.redemption_id)
                    error = f"unexpected: {type(crash).__name__}"
            await self._record(claim.job, result, error)

    async def _record(
        self, job: FulfilmentJob, result: FulfilmentResult | None, error: str
    ) -> None:
        async with self.uow.write() as tx:
            now = self.clock.now()
            current = await tx.jobs.get(job.id)
            if (
                current is None
                or current.attempts != job.attempts
                or current.status
                not in (
                    QUEUED,
                    WAITING,
                )
            ):
                return  # another worker took the job over after our lease ran out
            redemption = await tx.redemptions.get(job.redemption_id)
            assert redemption is not None
            if result is None:
                if redemption.deadline_at is not None and now >= redemption.deadline_at:
                    await _end(tx, self.clock, job, redemption, None, f"{error}; deadline passed")
                    return
                await tx.jobs.settle(
                    job.id,
                    current.status,
                    now,
                    due_at=now + backoff(job.attempts, RETRY_FIRST, RETRY_MAX),
                    error=error,
                )
                return
            await settle_result(tx, self.clock, job, redemption, result)


async def _request(tx: WriteTx, redemption: Redemption) -> FulfilmentRequest:
    reward = await tx.rewards.get(redemption.reward_id)
    member = await tx.members.by_id(redemption.member_id)
    assert reward is not None
    assert member is not None
    return FulfilmentRequest(
        redemption_id=redemption.id,
        reward_key=reward.key,
        product_id=reward.product_id or "",
        face_value=reward.face_value or Decimal(0),
        currency=reward.face_currency or "",
        quantity=redemption.quantity,
        email=member.email,
        delivery="Links" if reward.delivery == "LINK" else "DigitalDelivery",
        recipient_name=member.display_name,
    )


async def settle_result(
    tx: WriteTx, clock: Clock, job: FulfilmentJob, redemption: Redemption, result: FulfilmentResult
) -> None:
    """What the provider said, recorded: the redemption moved and the job settled."""
    now = clock.now()
    if result.outcome is Outcome.PENDING:
        await tx.jobs.settle(
            job.id,
            WAITING,
            now,
            due_at=now + backoff(job.attempts, POLL_FIRST, POLL_MAX),
            provider_ref=result.ref,
            error="",
        )
        return
    await _end(tx, clock, job, redemption, result, result.detail)


async def _end(
    tx: WriteTx,
    clock: Clock,
    job: FulfilmentJob,
    redemption: Redemption,
    result: FulfilmentResult | None,
    detail: str,
) -> None:
    done = result is not None and result.outcome is Outcome.DONE
    delivery = None
    if result is not None:
        delivery = Delivery(
            claim_links=result.claim_links,
            sent_to=", ".join(result.sent_to) or None,
            provider_ref=result.ref,
        )
    try:
        await move_redemption(
            tx,
            clock,
            redemption,
            RedemptionStatus.FULFILLED if done else RedemptionStatus.FAILED,
            actor=f"provider:{job.provider}" if result is not None else SYSTEM,
            detail=detail,
            delivery=delivery,
        )
    except DomainError as error:  # final already (the deadline sweep got there first)
        detail = f"{detail} ({error.message})"
    await tx.jobs.settle(
        job.id,
        DONE if done else FAILED,
        clock.now(),
        provider_ref=result.ref if result is not None else None,
        error="" if done else detail,
    )


async def apply_webhook(
    uow: UnitOfWork,
    clock: Clock,
    providers: ProviderRegistry,
    name: str,
    headers: Mapping[str, str],
    body: bytes,
) -> WebhookAnswer:
    """A provider's callback: verified by the provider (WebhookRejected if it is not
    authentic), then applied only to a job still waiting on it; anything else changes
    nothing (an unknown order, a redemption already final, a repeat)."""
    provider = await providers.get(name)
    if provider is None:
        raise WebhookRejected(f"no provider {name!r}")
    result = await provider.webhook(headers, body)
    if result is None or result.redemption_id is None:
        return WebhookAnswer(False, "not an order of ours, or not an event we act on")
    async with uow.write() as tx:
        job = await tx.jobs.for_redemption(result.redemption_id)
        if job is None or job.provider != name or job.status not in (QUEUED, WAITING):
            return WebhookAnswer(False, "no fulfilment is waiting on that order")
        redemption = await tx.redemptions.get(job.redemption_id)
        if redemption is None or redemption.status is not RedemptionStatus.FULFILLING:
            return WebhookAnswer(False, "the redemption is not being fulfilled")
        if result.outcome is Outcome.PENDING:
            return WebhookAnswer(False, "still pending")
        await settle_result(tx, clock, job, redemption, result)
    return WebhookAnswer(True, f"redemption {result.redemption_id}: {result.outcome.value}")


async def fail_overdue(uow: UnitOfWork, clock: Clock) -> int:
    """Redemptions still holding points past their deadline fail and the points come back
    (a job waiting on them ends too). Not one a worker is calling its provider for right
    now (its answer decides), nor one whose order the provider has accepted and reports
    pending (the card is bought: it completes or fails there). The number failed."""
    failed = 0
    skipped: set[int] = set()
    while True:
        async with uow.write() as tx:
            now = clock.now()
            due = [r for r in await tx.redemptions.overdue(now, limit=50) if r.id not in skipped]
            for redemption in due:
                job = await tx.jobs.for_redemption(redemption.id)
                if job is not None and (
                    (job.lease_until is not None and job.lease_until > now)
                    or (job.status == WAITING and job.provider_ref)
                ):
                    skipped.add(redemption.id)
                    continue
                try:
                    async with tx.savepoint():
                        await move_redemption(
                            tx,
                            clock,
                            redemption,
                            RedemptionStatus.FAILED,
                            actor=SYSTEM,
                            detail="not fulfilled by its deadline; the points came back",
                        )
                        if job is not None and job.status in (QUEUED, WAITING):
                            await tx.jobs.settle(job.id, FAILED, now, error="deadline passed")
                    failed += 1
                except DomainError as error:
                    log.error("redemption %s could not lapse: %s", redemption.id, error.message)
                    skipped.add(redemption.id)
        if len(due) < 50:
            return failed
