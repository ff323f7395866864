"""GraphiQL for partners, offline: our page, served from assets shipped in this package.

`static/` holds pinned npm builds (React, GraphiQL, the explorer plugin; see
`vendor.py` and `static/manifest.json`) and our own `tally/` files. No CDN is reached at
run time, and the page's Content-Security-Policy would refuse one.
"""

from __future__ import annotations

from app.graphql.ide.assets import ASSETS_PATH, Asset, asset_routes, assets
from app.graphql.ide.page import CSP, page

__all__ = ["ASSETS_PATH", "CSP", "Asset", "asset_routes", "assets", "page"]
