"""The files GraphiQL's page loads, each with its SRI hash, served with long cache headers.

Only files named in `static/manifest.json` (vendored) or in `OWN` (ours) are served: a
request can never reach another file of the package. Vendored files live under a
versioned directory and ours are linked with a content hash, so both are immutable.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.graphql.ide.vendor import sri

STATIC = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/graphql/ide"
OWN = ("tally/ide.js", "tally/ide.css")
CACHE_FOREVER = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    path: str
    body: bytes
    integrity: str
    package: str
    version: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(Path(self.path).suffix, "text/plain; charset=utf-8")

    @property
    def url_path(self) -> str:
        """Where the page links it: ours carry a content hash, theirs a versioned path."""
        if self.package == "tally":
            return f"{ASSETS_PATH}/{self.path}?v={self.integrity[7:19]}"
        return f"{ASSETS_PATH}/{self.path}"


@functools.cache
def assets() -> dict[str, Asset]:
    """Every servable file by its path under `static/`; read once per process."""
    manifest = json.loads((STATIC / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, Asset] = {}
    for entry in manifest["files"]:
        body = (STATIC / entry["path"]).read_bytes()
        if sri(body) != entry["integrity"]:
            raise RuntimeError(f"{entry['path']} does not match static/manifest.json")
        found[entry["path"]] = Asset(
            entry["path"], body, entry["integrity"], entry["package"], entry["version"]
        )
    for path in OWN:
        body = (STATIC / path).read_bytes()
        found[path] = Asset(path, body, sri(body), "tally", "")
    return found


def by_package(package: str, suffix: str) -> Asset:
    """The one asset of `package` whose name ends with `suffix` (e.g. ".js")."""
    (match,) = (
        a
        for a in assets().values()
        if a.package == package and a.path.endswith(suffix) and "LICENSE" not in a.path
    )
    return match


async def serve_asset(request: Request) -> Response:
    asset = assets().get(request.path_params["file"])
    if asset is None:
        body = {"errors": [{"message": "No such file.", "extensions": {"code": "NOT_FOUND"}}]}
        return JSONResponse(body, status_code=404)
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={
            "Cache-Control": CACHE_FOREVER,
            "ETag": f'"{asset.integrity}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def asset_routes() -> list[Route]:
    return [Route(f"{ASSETS_PATH}/{{file:path}}", serve_asset, methods=["GET", "HEAD"])]
