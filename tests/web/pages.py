"""Small readers of rendered pages for the test-client tests."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from typing import Any


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def text(response: Any) -> str:
    """The page's visible text, whitespace collapsed."""
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


def h1_count(response: Any) -> int:
    return len(re.findall(r"<h1[\s>]", response.content.decode()))


def error_summary(response: Any) -> list[str]:
    """The lines of the page's error summary (empty if it has none)."""
    html = response.content.decode()
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', html, re.S)
    if match is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", match.group(0), re.S)
    return [
        html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip())
        for item in items
    ]


def summary_links(response: Any) -> list[str]:
    html = response.content.decode()
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', html, re.S)
    return re.findall(r'href="([^"]+)"', match.group(0)) if match else []


def without_tokens(response: Any) -> bytes:
    """The page's bytes with its CSRF token (different on every response) blanked out."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", response.content)
