"""Root mutations, one file each under mutations/."""

from __future__ import annotations

import strawberry

from app.graphql.mutations.activate_program import activate_program_mutation
from app.graphql.mutations.adjust_points import adjust_points_mutation
from app.graphql.mutations.batches import record_purchases_mutation, record_returns_mutation
from app.graphql.mutations.catalog import (
    create_reward_mutation,
    import_reward_codes_mutation,
    retire_reward_mutation,
    update_reward_mutation,
)
from app.graphql.mutations.checkout import (
    apply_points_at_checkout_mutation,
    release_checkout_points_mutation,
)
from app.graphql.mutations.confirm_order import confirm_order_mutation
from app.graphql.mutations.enroll_member import enroll_member_mutation
from app.graphql.mutations.members import (
    erase_member_mutation,
    reactivate_member_mutation,
    suspend_member_mutation,
    update_member_mutation,
)
from app.graphql.mutations.record_activity import record_activity_mutation
from app.graphql.mutations.record_purchase import record_purchase_mutation
from app.graphql.mutations.record_return import record_return_mutation
from app.graphql.mutations.redeem_reward import redeem_reward_mutation
from app.graphql.mutations.resolve_redemption import (
    cancel_redemption_mutation,
    fulfill_redemption_mutation,
)
from app.graphql.mutations.update_redemption import update_redemption_mutation
from app.graphql.mutations.webhooks import (
    create_webhook_endpoint_mutation,
    delete_webhook_endpoint_mutation,
    disable_webhook_endpoint_mutation,
    replay_webhook_delivery_mutation,
    replay_webhook_events_mutation,
    rotate_webhook_secret_mutation,
    update_webhook_endpoint_mutation,
)
from app.graphql.types.inbound import retry_inbound_event_mutation


@strawberry.type(
    description="Writes. Each names the scopes that may call it and takes an idempotencyKey; "
    "expected failures come back in userErrors with a stable code and change nothing."
)
class Mutation:
    enroll_member = enroll_member_mutation
    update_member = update_member_mutation
    suspend_member = suspend_member_mutation
    reactivate_member = reactivate_member_mutation
    erase_member = erase_member_mutation
    record_purchase = record_purchase_mutation
    record_return = record_return_mutation
    record_purchases = record_purchases_mutation
    record_returns = record_returns_mutation
    confirm_order = confirm_order_mutation
    record_activity = record_activity_mutation
    redeem_reward = redeem_reward_mutation
    cancel_redemption = cancel_redemption_mutation
    fulfill_redemption = fulfill_redemption_mutation
    update_redemption = update_redemption_mutation
    apply_points_at_checkout = apply_points_at_checkout_mutation
    release_checkout_points = release_checkout_points_mutation
    adjust_points = adjust_points_mutation
    create_reward = create_reward_mutation
    update_reward = update_reward_mutation
    retire_reward = retire_reward_mutation
    import_reward_codes = import_reward_codes_mutation
    activate_program = activate_program_mutation
    create_webhook_endpoint = create_webhook_endpoint_mutation
    update_webhook_endpoint = update_webhook_endpoint_mutation
    rotate_webhook_secret = rotate_webhook_secret_mutation
    disable_webhook_endpoint = disable_webhook_endpoint_mutation
    delete_webhook_endpoint = delete_webhook_endpoint_mutation
    replay_webhook_delivery = replay_webhook_delivery_mutation
    replay_webhook_events = replay_webhook_events_mutation
    retry_inbound_event = retry_inbound_event_mutation
