"""activateProgram: staff replace the program (rules, tiers, rewards) with a new version."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.auth.scopes import Scope
from app.graphql.context import Context
from app.graphql.mutations.write import (
    IDEMPOTENCY_HELP,
    USER_ERRORS_HELP,
    WritePayload,
    Writer,
)
from app.graphql.permissions import needs
from app.graphql.types.common import UserError
from app.graphql.types.program import Program
from app.services.program import ActivateProgram, ProgramActivated, activate_program


@strawberry.type(description="What activateProgram did.")
class ActivateProgramPayload(WritePayload):
    program: Program | None = strawberry.field(
        description="The active program after the write; null when the write failed."
    )
    changed: bool | None = strawberry.field(
        description="False when the definition was already the active version (no new "
        "version was made)."
    )
    diff: list[str] | None = strawberry.field(description="What changed, one line per change.")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS_HELP)


@strawberry.mutation(
    description="Validate a program definition (the TOML of `tally program apply`) and make "
    "it the active version (program:write). Each problem is a user error whose field is its "
    "place in the file.",
    extensions=needs(Scope.PROGRAM_WRITE),
)
async def activate_program_mutation(
    info: strawberry.Info[Context, None],
    definition: Annotated[
        str,
        strawberry.argument(description="The program file's TOML text, at most 262144 characters."),
    ],
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
