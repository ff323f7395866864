"""Sandboxes of reward providers, served over real HTTP for tests and local runs.

`python -m app.fulfilment.sandbox giftcard --port 0` serves the gift-card order API;
`add_sandbox_commands` and `run_sandbox` put the same command into another CLI.
"""

from app.fulfilment.sandbox.serve import add_sandbox_commands, run_sandbox

__all__ = ["add_sandbox_commands", "run_sandbox"]
