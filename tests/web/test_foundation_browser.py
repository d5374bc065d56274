"""The foundation in a real browser: sign-in and home on the design system, accessible, and
usable by keyboard alone with a visible focus."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused_is_visible(page) -> bool:
    """Whether the focused element shows the design system's focus style."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return false;
          const style = getComputedStyle(el);
          const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
          const shadow = style.boxShadow && style.boxShadow !== 'none';
          const yellow = style.backgroundColor === 'rgb(255, 235, 59)';
          return outline || shadow || yellow;
        }"""
    )


def test_signing_in_by_keyboard_alone_reaches_the_home_page(journey):
    walk = journey("sign-in")
    page = walk.page
    walk.goto("/", "sign-in")  # signed out: sent to the sign-in page

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    assert focused_is_visible(page)
    page.keyboard.press("Enter")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_username":
            break
    assert page.evaluate("document.activeElement.id") == "id_username"
    assert focused_is_visible(page)
    page.keyboard.type("gillian.marsh")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert "There is a problem" in page.locator(".nhsuk-error-summary").inner_text()
    walk.visit("wrong-password")

    page.get_by_label("Password").fill("commissioner-demo")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(walk.url("/"))
    assert "My cycles" in page.locator("main").inner_text()
    walk.visit("home")
