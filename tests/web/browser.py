"""Keyboard helpers for the browser tests: move by Tab alone, checking the focus can be seen."""

from __future__ import annotations

from typing import Any

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const shows = (style) => style && (
    (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
      && style.outlineColor !== 'rgba(0, 0, 0, 0)')
    || (style.boxShadow && style.boxShadow !== 'none')
    || style.backgroundColor === 'rgb(255, 235, 59)');
  if (el.matches('input[type=radio], input[type=checkbox]')) {
    const label = document.querySelector(`label[for="${el.id}"]`);
    return !!label && shows(getComputedStyle(label, '::before'));
  }
  return shows(getComputedStyle(el));
}"""

DESCRIBE = """() => {
  const el = document.activeElement;
  // Past the last control the focus leaves the page (the browser's own controls) and Tab goes
  // round to the first: nothing is focused meanwhile, so there is nothing to describe.
  if (!el || el === document.body || el === document.documentElement) return '';
  const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
  return ((label ? label.textContent : '') + ' ' + (el.textContent || '') + ' '
          + (el.value || '')).replace(/\\s+/g, ' ').trim();
}"""


def focus_visible(page: Any) -> bool:
    return bool(page.evaluate(FOCUS_VISIBLE))


def tab_to(page: Any, text: str, *, limit: int = 150) -> None:
    """Press Tab until the focused element's text or label contains ``text``; its focus must
    be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if text in page.evaluate(DESCRIBE):
            assert focus_visible(page), f"the focus on {text!r} cannot be seen"
            return
    raise AssertionError(f"Tab never reached {text!r}")


def activate(page: Any, text: str) -> None:
    """Tab to a link or button and press Enter; wait for the next page."""
    tab_to(page, text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Any, label: str, words: str) -> None:
    tab_to(page, label)
    page.keyboard.type(words)


def choose(page: Any, label: str) -> None:
    """Tab to a radio button by its label and select it with Space."""
    tab_to(page, label)
    page.keyboard.press("Space")


def press(page: Any, text: str) -> None:
    """Tab to a control and press Enter, on the same page (a "details" summary, say)."""
    tab_to(page, text)
    page.keyboard.press("Enter")


GROUP_OF = """text => {
  for (const label of document.querySelectorAll('label')) {
    const input = label.htmlFor && document.getElementById(label.htmlFor);
    if (input && input.type === 'radio' && label.textContent.includes(text)) return input.name;
  }
  return null;
}"""


def choose_among(page: Any, label: str, *, limit: int = 150) -> None:
    """Choose a radio button that Tab alone cannot reach: Tab stops once in a group of radio
    buttons, so Tab into the group, then move with the arrow keys (which select) to ``label``."""
    group = page.evaluate(GROUP_OF, label)
    assert group, f"no radio button is labelled {label!r}"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == group:
            break
    else:
        raise AssertionError(f"Tab never reached the choices with {label!r}")
    for _ in range(20):
        if label in page.evaluate(DESCRIBE):
            if not page.evaluate("document.activeElement.checked"):
                page.keyboard.press("Space")
            assert focus_visible(page), f"the focus on {label!r} cannot be seen"
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {label!r}")


SELECTED = """() => {
  const el = document.activeElement;
  return el && el.tagName === 'SELECT' ? el.options[el.selectedIndex].text : null;
}"""


def pick(page: Any, label: str, option: str, *, limit: int = 60) -> None:
    """Tab to a drop-down list by its label and move down it with the arrow keys to ``option``."""
    tab_to(page, label)
    for _ in range(limit):
        chosen = page.evaluate(SELECTED)
        assert chosen is not None, f"{label!r} is not a drop-down list"
        if option in chosen:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {option!r} in {label!r}")
