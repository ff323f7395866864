"""`python -m app.fulfilment.sandbox giftcard [options]`: serve a provider sandbox."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.fulfilment.sandbox.serve import add_sandbox_commands, run_sandbox


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the sandbox it names."""
    parser = argparse.ArgumentParser(
        prog="python -m app.fulfilment.sandbox", description="Provider sandboxes for tests"
    )
    add_sandbox_commands(parser.add_subparsers(dest="sandbox", required=True))
    return run_sandbox(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
