"""Browser tests of the pages: Playwright driving Debian's chromium against a live server.

The live server serves a database with the demo loaded: every scenario of ``fixtures/scenarios``
played through the services, and the demo accounts with their passwords (``demo_site``). A test
signs in as a demo account (``sign_in``), and :meth:`Journey.visit` checks each page it comes to:
one ``h1``, no content security policy violation, no console error, zero axe-core violations at
1280 px and at 360 px wide, and, with ``--screens``, a screenshot saved as
``docs/screens/<journey>-<nn>-<page>.png``:

    python3 manage.py test tests/web -m browser --screens -p no:xdist

The tests skip cleanly where chromium is not installed; the page tests that need no browser
(Django's test client) run everywhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDTHS = (1280, 360)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Skip the live-server tests on PostgreSQL before their database is set up (see demo_site)."""
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(
        reason="browser tests run on SQLite; PostgreSQL's ledger refuses the flush"
    )
    for item in items:
        if "demo_site" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def demo_site(transactional_db: None, live_server: Any) -> Any:
    """The live server, with every scenario and the demo accounts loaded.

    Browser tests run on SQLite only: the live server's data is committed, and the flush after
    the test would truncate the ledger, which PostgreSQL's append-only trigger refuses.
    """
    from tests import scenario_cache

    scenario_cache.load_demo()
    return live_server


def demo_password(username: str) -> str:
    from cycle import scenarios

    for account in scenarios.demo_accounts():
        if account.username == username:
            return account.password
    raise KeyError(username)


@dataclass
class Journey:
    """A walk through the pages as one person, checking and photographing each page."""

    name: str
    page: Any
    base_url: str
    screens: bool
    visited: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str, name: str) -> Any:
        self.page.goto(self.url(path))
        return self.visit(name)

    def visit(self, name: str) -> Any:
        """Check the page the browser is on, and save its screenshot under ``name``."""
        page = self.page
        page.wait_for_load_state("load")
        assert page.locator("h1").count() == 1, f"{name}: a page has exactly one h1"
        assert page.locator("a.nhsuk-skip-link[href='#maincontent']").count() == 1
        assert page.locator("#maincontent").count() == 1
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            settle(page)
            violations = axe_violations(page)
            assert violations == [], f"{name} at {width}px: {violations}"
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        self.visited.append(name)
        if self.screens:
            SCREENS.mkdir(parents=True, exist_ok=True)
            number = len(self.visited)
            if number == 1:  # the journey's screenshots of an earlier run go: none is left stale
                for old in SCREENS.glob(f"{self.name}-[0-9][0-9]-*.png"):
                    old.unlink()
            path = SCREENS / f"{self.name}-{number:02d}-{name}.png"
            page.screenshot(path=str(path), full_page=True)
        return page


def settle(page: Any) -> None:
    """Let the page finish laying out after a resize, with the pointer off every control.

    The header moves its links into the "More" menu on the next animation frame after a resize,
    and the pointer stays where the last click was, so without this axe can meet a link halfway
    through the move, or hovered under a pointer that no person left there.
    """
    page.mouse.move(0, 0)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page, one line each ("rule: where")."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']][:3]}"
        for violation in result["violations"]
    ]


@pytest.fixture
def journey(request: Any, browser: Any, demo_site: Any) -> Iterator[Any]:
    """Make a :class:`Journey`: ``journey("commissioner", "gillian.marsh")``, signed in."""
    contexts = []
    problems: list[str] = []

    def start(name: str, username: str | None = None, password: str | None = None) -> Journey:
        context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                problems.append(f"{name}: console {message.type}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"{name}: page error: {error}"))
        walk = Journey(name, page, demo_site.url, request.config.getoption("--screens"))
        if username is not None:
            sign_in(walk, username, password)
        return walk

    yield start
    for context in contexts:
        context.close()
    assert problems == [], "the pages logged errors (a CSP violation is one)"


def sign_in(walk: Journey, username: str, password: str | None = None) -> None:
    page = walk.page
    page.goto(walk.url("/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or demo_password(username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(walk.url("/"))


@pytest.fixture(scope="module")
def demo_data(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo loaded once for a module of test-client tests, rolled back at its end."""
    from tests import scenario_cache

    with django_db_blocker.unblock(), scenario_cache.rolled_back() as loaded:
        yield {item.scenario.key: item.cycle for item in loaded}


@pytest.fixture
def demo(demo_data: dict[str, Any], db: None) -> dict[str, Any]:
    """The demo's cycles by scenario key; each test's changes are rolled back."""
    for cycle in demo_data.values():
        cycle.refresh_from_db()
    return demo_data


@pytest.fixture
def client_as() -> Any:
    """A test client signed in as a user (by username)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    def make(username: str) -> Client:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return make
