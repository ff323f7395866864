"""activateProgram: staff replace the program (rules, tiers, rewards) with a new version."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import IDEMPOTENCY_HELP, WritePayload, Writer
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.program import Program
from app.services.program import ActivateProgram, ProgramActivated, activate_program


@strawberry.type
class ActivateProgramPayload(WritePayload):
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

    async def command(w: Writer) -> ActivateProgram:
        return ActivateProgram(definition=definition)

    async def shown(w: Writer, done: ProgramActivated) -> ActivateProgramPayload:
        version = await w.services.queries.program()
        return ActivateProgramPayload(
            program=Program.of(version) if version else None,
            changed=done.changed,
            diff=list(done.diff),
            user_errors=[],
        )

    return await Writer(info).run(
        activate_program,
        command,
        idempotency_key=idempotency_key,
        shown=shown,
        failed=ActivateProgramPayload.failed,
    )
