"""activateProgram: staff replace the program (rules, tiers, rewards) with a new version."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.base import IDEMPOTENCY_HELP, errors_of, writer_key
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.program import Program
from app.services.program import activate_program


@strawberry.type
class ActivateProgramPayload:
    program: Program | None
    changed: bool | None = strawberry.field(description="False when it was the active version.")
    diff: list[str] | None = strawberry.field(description="What changed, one line per change.")
    user_errors: list[UserError]


@strawberry.mutation(
    description="Validate a program definition (the TOML of `tally program apply`) and make "
    "it the active version. Each problem is a user error whose field is its place in the file.",
    extensions=needs(Scope.PROGRAM_WRITE),
)
async def activate_program_mutation(
    info: strawberry.Info[Context, None],
    definition: str,
    idempotency_key: Annotated[str, strawberry.argument(description=IDEMPOTENCY_HELP)],
) -> ActivateProgramPayload:
    services = info.context.services
    outcome = await activate_program(
        services.uow,
        services.clock,
        principal=writer_key(info),
        idempotency_key=idempotency_key,
        definition=definition,
    )
    if not outcome.ok:
        return ActivateProgramPayload(
            program=None, changed=None, diff=None, user_errors=errors_of(outcome)
        )
    version = await services.queries.program()
    return ActivateProgramPayload(
        program=Program.of(version) if version else None,
        changed=bool(outcome.data["changed"]),
        diff=list(outcome.data["diff"]),
        user_errors=[],
    )
