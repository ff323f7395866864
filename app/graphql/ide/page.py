"""GraphiQL's HTML page: local scripts with SRI, a bearer-token field, a strict CSP."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.graphql.ide.assets import Asset, by_package

#: No inline script, nothing from another origin. `data:` only for the fonts and icons
#: GraphiQL's stylesheet embeds; 'self' in connect-src covers ws:/wss: to this host.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

SCRIPTS = [
    ("react", ".js"),
    ("react-dom", ".js"),
    ("graphiql", ".js"),
    ("@graphiql/plugin-explorer", ".js"),
    ("tally", ".js"),
]
STYLES = [("graphiql", ".css"), ("@graphiql/plugin-explorer", ".css"), ("tally", ".css")]

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tally · GraphiQL</title>
<link rel="icon" href="data:,">
{styles}
{scripts}
</head>
<body>
<header class="tally-bar">
  <strong class="tally-brand">Tally</strong>
  <label for="tally-token">Bearer token</label>
  <input id="tally-token" type="password" autocomplete="off" spellcheck="false"
         placeholder="paste a member or partner token">
  <button type="button" id="tally-token-clear">Clear</button>
  <span id="tally-token-info" aria-live="polite">no token: requests will be refused (401)</span>
</header>
<main id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</main>
<noscript>GraphiQL needs JavaScript; the API itself does not.</noscript>
</body>
</html>
"""


def _href(request: Request, asset: Asset) -> str:
    return escape(request.scope.get("root_path", "") + asset.url_path)


def page(request: Request) -> HTMLResponse:
    """The page for the GraphQL endpoint at `request.url.path`."""
    scripts = "\n".join(
        f'<script src="{_href(request, a)}" integrity="{a.integrity}" defer></script>'
        for a in (by_package(*s) for s in SCRIPTS)
    )
    styles = "\n".join(
        f'<link rel="stylesheet" href="{_href(request, a)}" integrity="{a.integrity}">'
        for a in (by_package(*s) for s in STYLES)
    )
    endpoint = escape(request.url.path)  # the full path, root_path included
    html = TEMPLATE.format(styles=styles, scripts=scripts, endpoint=endpoint)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
