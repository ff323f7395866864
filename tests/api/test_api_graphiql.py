"""GraphiQL at /graphql: our page from assets inside the package, gated in production."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from app.graphql.ide import vendor
from app.graphql.ide.assets import STATIC
from app.settings import Settings
from tests.api.client import Api, make_settings, open_api
from tests.backends import SqliteTemplate

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MANIFEST: dict[str, Any] = json.loads((STATIC / "manifest.json").read_text(encoding="utf-8"))
BY_PATH = {entry["path"]: entry for entry in MANIFEST["files"]}
EXTERNAL_URL = re.compile(r"https?://(?!(?:localhost|127\.0\.0\.1)[:/])", re.IGNORECASE)

OpenApi = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def open_app(sqlite_template: SqliteTemplate, tmp_path: Path) -> OpenApi:
    """An API on a fresh SQLite file; keyword arguments are settings (env, graphiql)."""

    def opener(**overrides: Any) -> AbstractAsyncContextManager[Api]:
        settings = make_settings(sqlite_template.fresh(tmp_path), tmp_path)
        if overrides:
            production = {"issuer": "https://id.example"} if overrides.get("env") == "prod" else {}
            settings = Settings(**{**settings.model_dump(), **production, **overrides})
        return open_api(settings)

    return opener


@pytest.fixture
async def dev(open_app: OpenApi) -> AsyncIterator[Api]:
    async with open_app() as api:
        yield api


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text inside <script>s."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def linked(tags: Tags) -> list[dict[str, str | None]]:
    """The scripts and stylesheets the page loads."""
    return [
        attrs
        for tag, attrs in tags.tags
        if tag == "script" or (tag == "link" and attrs.get("rel") == "stylesheet")
    ]


async def test_a_browser_gets_our_page_with_a_strict_csp(dev: Api) -> None:
    response = await dev.http.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = {
        d.split(" ", 1)[0]: d.split(" ", 1)[1]
        for d in response.headers["content-security-policy"].split("; ")
    }
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert "unsafe" not in response.headers["content-security-policy"]
    tags = parse(response.text)
    assert tags.script_text.strip() == "", "no inline script"
    assert any(tag == "input" and attrs.get("id") == "tally-token" for tag, attrs in tags.tags)
    assert [a["src"] for a in linked(tags) if a.get("src")] == [
        "/graphql/ide/react-18.2.0/react.production.min.js",
        "/graphql/ide/react-dom-18.2.0/react-dom.production.min.js",
        "/graphql/ide/graphiql-3.8.3/graphiql.min.js",
        "/graphql/ide/graphiql-plugin-explorer-1.0.2/index.umd.js",
        f"/graphql/ide/tally/ide.js?v={vendor.sri((STATIC / 'tally/ide.js').read_bytes())[7:19]}",
    ]


async def test_the_page_names_no_other_origin(dev: Api) -> None:
    html = (await dev.http.get("/graphql", headers=BROWSER)).text
    own = [(STATIC / p).read_text(encoding="utf-8") for p in ("tally/ide.js", "tally/ide.css")]

    assert EXTERNAL_URL.findall(html) == []
    assert [EXTERNAL_URL.findall(text) for text in own] == [[], []]
    for _, attrs in parse(html).tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert value.startswith(("/", "data:")) or not value, value


async def test_every_linked_asset_is_served_with_its_type_and_manifest_hash(dev: Api) -> None:
    tags = parse((await dev.http.get("/graphql", headers=BROWSER)).text)

    for attrs in linked(tags):
        url = attrs.get("src") or attrs["href"]
        assert url is not None
        response = await dev.http.get(url)
        path = url.removeprefix("/graphql/ide/").split("?", 1)[0]

        assert response.status_code == 200, url
        expected = "text/javascript" if path.endswith(".js") else "text/css"
        assert response.headers["content-type"].startswith(expected), url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in response.headers["cache-control"]
        assert "max-age=31536000" in response.headers["cache-control"]
        assert vendor.sri(response.content) == attrs["integrity"], url
        if not path.startswith("tally/"):
            assert BY_PATH[path]["integrity"] == attrs["integrity"], url


async def test_only_listed_files_are_served(dev: Api) -> None:
    for path in (
        "/graphql/ide/vendor.py",
        "/graphql/ide/tally/../../page.py",
        "/graphql/ide/tally%2F..%2F..%2Fpage.py",
        "/graphql/ide/graphiql-3.8.3/graphiql.min.js.map",
    ):
        response = await dev.http.get(path)

        assert response.status_code == 404, path
        assert "import" not in response.text, path


def test_the_vendored_files_match_the_manifest_and_keep_their_licenses() -> None:
    packages = {(e["package"], e["version"]) for e in MANIFEST["files"]}

    assert vendor.check() == []
    assert packages == {(p.name, p.version) for p in vendor.PACKAGES}
    for entry in MANIFEST["files"]:
        assert entry["source"].startswith("https://registry.npmjs.org/"), entry
        assert entry["source"].endswith(f"-{entry['version']}.tgz"), entry
        assert entry["integrity"].startswith("sha384-"), entry
        assert entry["path"].split("/")[0] + "/LICENSE" in BY_PATH, entry


async def test_production_serves_no_page_to_a_browser(open_app: OpenApi) -> None:
    async with open_app(env="prod") as api:
        page = await api.http.get("/graphql", headers=BROWSER)
        with_token = await api.http.get(
            "/graphql", headers={**BROWSER, "Authorization": f"Bearer {api.partner}"}
        )
        asset = await api.http.get("/graphql/ide/graphiql-3.8.3/graphiql.min.js")
        query = await api.post("{ program { name } }", token=api.partner)

    assert page.status_code == 404
    assert page.headers["content-type"] == "application/json"
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "<html" not in page.text
    assert with_token.status_code == 404
    assert asset.status_code == 404
    assert query.status_code == 200, query.text


async def test_production_serves_the_page_when_turned_on(open_app: OpenApi) -> None:
    async with open_app(env="prod", graphiql="on") as api:
        page = await api.http.get("/graphql", headers=BROWSER)
        asset = await api.http.get("/graphql/ide/graphiql-3.8.3/graphiql.min.js")

    assert page.status_code == 200
    assert "tally-token" in page.text
    assert asset.status_code == 200


async def test_development_turned_off_serves_no_page(open_app: OpenApi) -> None:
    async with open_app(graphiql="off") as api:
        page = await api.http.get("/graphql", headers=BROWSER)

    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
