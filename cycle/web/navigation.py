"""The header's menu: one entry per page a kind of user goes to often.

An entry is shown to the users its ``shown_to`` accepts. Add a page to the menu by adding an
entry to ``MENU`` (governance pages add theirs in ``cycle/web/governance/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from roles.permissions import AUDIT_PERM, CREATE_PERM


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    shown_to: Callable[[Any], bool]


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str
    current: bool


def _everyone(user: Any) -> bool:
    return True


MENU: list[MenuEntry] = [
    MenuEntry("Home", "web:home", _everyone),
    MenuEntry("Start a cycle", "web:cycle-create", lambda user: user.has_perm(CREATE_PERM)),
]


def register(entry: MenuEntry) -> None:
    """Add a menu entry (once) from another module of the pages."""
    if entry not in MENU:
        MENU.append(entry)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the menu items the signed-in user sees."""
    user = request.user
    if not user.is_authenticated:
        return {"service_name": "Commissioning cycle", "navigation": []}
    items = []
    for entry in MENU:
        if entry.shown_to(user):
            href = reverse(entry.url_name)
            items.append(MenuItem(entry.label, href, request.path == href))
    return {"service_name": "Commissioning cycle", "navigation": items}


__all__ = ["AUDIT_PERM", "MENU", "MenuEntry", "navigation", "register"]
