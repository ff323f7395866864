"""GraphiQL in a real browser, offline: headless Chromium may reach 127.0.0.1 and nothing
else, yet the page loads, takes a pasted member token, answers a query and streams a
subscription. Proves the assets shipped in the package are all it needs, under its CSP.

Needs /usr/bin/chromium (`make test` installs it when missing, as root). Without it the
test skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.backends import in_ci
from tests.e2e.helpers import VIEWER, enroll, execute, purchase
from tests.e2e.server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 15_000
CSP_PROBE = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`));
"""

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

try:
    from playwright.async_api import Browser, Page, Route, WebSocketRoute, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extras install it
    if in_ci():
        raise
    pytest.skip("playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

# The browser drives the UI, not the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def local(url: str) -> bool:
    return urlsplit(url).hostname == "127.0.0.1"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # root in a container has no user namespace for Chromium's sandbox
            args=["--no-sandbox", "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield launched
        finally:
            await launched.close()


class Offline:
    """A page that reaches only 127.0.0.1, remembering what it tried and what went wrong."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.blocked: list[str] = []
        self.problems: list[str] = []

    @classmethod
    async def open(cls, browser: Browser) -> Offline:
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        offline = cls(page)
        await page.route("**/*", offline._http)
        await page.route_web_socket(lambda url: not local(url), offline._socket)
        await page.add_init_script(CSP_PROBE)
        page.on("pageerror", lambda error: offline.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: m.type == "error" and offline.problems.append(f"console: {m.text}"),
        )
        return offline

    async def _http(self, route: Route) -> None:
        if local(route.request.url):
            await route.continue_()
        else:
            self.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    async def _socket(self, socket: WebSocketRoute) -> None:
        self.blocked.append(socket.url)
        await socket.close()


async def open_tab(page: Page, operation: str) -> None:
    """Switch to an example tab and let GraphiQL take in its operation name (it does so
    100 ms after the editor changes; running sooner sends the previous tab's name)."""
    await page.click(f".graphiql-tab >> text={operation}")
    await expect(page.locator(".graphiql-query-editor")).to_contain_text(
        f" {operation} {{", timeout=WAIT_MS
    )
    await page.wait_for_timeout(500)


async def test_graphiql_runs_a_member_query_and_a_subscription_offline(
    live: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    partner = live.partner_token()
    member = await enroll(live, partner, "graphiql-alice")
    await purchase(live, partner, member["id"], "graphiql-1", "42.00")
    expected = (await execute(live, live.member_token("graphiql-alice"), VIEWER))["viewer"]
    offline = await Offline.open(browser)
    page = offline.page
    result = page.locator(".result-window")
    screenshot = tmp_path / "graphiql.png"

    try:
        await page.goto(live.graphql_url)
        await page.wait_for_selector(".graphiql-container", timeout=WAIT_MS)
        await page.fill("#tally-token", live.member_token("graphiql-alice"))
        await expect(page.locator("#tally-token-info")).to_contain_text(
            "member graphiql-alice", timeout=WAIT_MS
        )
        await open_tab(page, "MyBalance")
        await page.click(".graphiql-execute-button")
        await expect(result).to_contain_text('"externalId": "graphiql-alice"', timeout=WAIT_MS)
        await expect(result).to_contain_text(
            f'"available": {expected["balance"]["available"]}', timeout=WAIT_MS
        )
        await page.screenshot(path=str(screenshot))
        print(f"GraphiQL screenshot: {screenshot}")

        # The explorer plugin (its UMD build on GraphiQL 3.8.3's globals) lists the schema,
        # which GraphiQL fetched with the pasted token.
        await page.click("button[aria-label='Show GraphiQL Explorer']")
        await expect(page.locator(".graphiql-plugin")).to_contain_text("viewer", timeout=WAIT_MS)

        # graphql-transport-ws on the same URL, with the token in connection_init.
        await open_tab(page, "LiveBalance")
        await page.click(".graphiql-execute-button")
        await expect(page.locator(".graphiql-execute-button")).to_have_attribute(
            "aria-label", re.compile("Stop", re.IGNORECASE), timeout=WAIT_MS
        )
        # "Stop" shows before the socket has subscribed, and a change committed before
        # that is not live any more: buy again until one arrives.
        for attempt in range(10):
            bought = await purchase(live, partner, member["id"], f"graphiql-live-{attempt}", "7.00")
            try:
                await expect(result).to_contain_text(
                    f'"version": {bought["balance"]["version"]}', timeout=1500
                )
                break
            except AssertionError:
                continue
        else:
            pytest.fail("no balanceChanged reached GraphiQL's result pane")
        await expect(result).to_contain_text(
            f'"available": {bought["balance"]["available"]}', timeout=WAIT_MS
        )
    finally:
        if not screenshot.exists():
            await page.screenshot(path=str(screenshot))
            print(f"GraphiQL screenshot: {screenshot}")
        await page.close()

    assert offline.blocked == [], "the page tried to leave 127.0.0.1"
    assert offline.problems == []
