"""`python -m app.graphql.export` prints the SDL that `schema.graphql` must match."""

from __future__ import annotations

from app.graphql.schema import schema


def sdl() -> str:
    return schema.as_str().rstrip() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
