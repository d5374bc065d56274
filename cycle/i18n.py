"""Messages the rules and the services give people: English on the ledger, translated on a page.

A message is written where it is given, as Django's are, so that ``makemessages`` finds it::

    from cycle.i18n import gettext_lazy as _, ngettext_lazy

    raise Forbidden(_("You may not sign off for %(name)s.", name=name), code="forbidden.x")
    ngettext_lazy("%(count)d member dissents.", "%(count)d members dissent.", count, count=count)

A :class:`Message` is a ``str`` whose value is its English source text, parameters filled in. So
whatever stores, compares or composes it (a ledger payload, JSON, ``==``, a join, an f-string)
reads English, whichever language is active, and the ledger's payloads stay as they always were.
Shown to someone, by ``str()`` (which is what a template, a form error and ``%s`` use), it is
translated into the active language through the translator the project installs when it starts
(``cycle.apps`` installs Django's ``gettext`` and ``ngettext``), then filled in; parameters that
are messages are translated too.

No Django here: the gate rules and error codes that use it stay pure (``pyproject.toml``). Without
a translator installed, a message reads in English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]

_translator: tuple[Gettext, Ngettext] | None = None


def install(gettext: Gettext, ngettext: Ngettext) -> None:
    """Translate every message shown from now on with these functions."""
    global _translator
    _translator = (gettext, ngettext)


class Message(str):
    """A message in English (its value) that is translated when shown (its ``str()``)."""

    singular: str
    plural: str
    number: int | None
    params: Mapping[str, Any]

    def __new__(
        cls,
        singular: str,
        plural: str = "",
        number: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Message:
        params = dict(params or {})
        chosen = plural if number is not None and number != 1 and plural else singular
        self = super().__new__(cls, _fill(chosen, params, english=True))
        self.singular, self.plural, self.number, self.params = singular, plural, number, params
        return self

    @property
    def english(self) -> str:
        """The source text, as the ledger records it."""
        return str.__str__(self)

    def translated(self) -> str:
        """The text in the active language (English without a translator)."""
        if _translator is None:
            return self.english
        gettext, ngettext = _translator
        if self.number is not None and self.plural:
            chosen = ngettext(self.singular, self.plural, self.number)
        else:
            chosen = gettext(self.singular)
        return _fill(chosen, self.params, english=False)

    def __str__(self) -> str:
        return self.translated()

    def __reduce__(self) -> tuple[Any, ...]:
        # Copied or pickled whole (a form's errors are deep-copied), not as its English.
        return (Message, (self.singular, self.plural, self.number, self.params))


class Joined(Message):
    """Messages (or plain text) joined by a separator, each part translated when shown."""

    separator: str
    parts: tuple[str, ...]

    def __new__(cls, separator: str, parts: Iterable[str]) -> Joined:
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(_text(part, english=True) for part in parts))
        self.singular, self.plural, self.number, self.params = str.__str__(self), "", None, {}
        self.separator, self.parts = separator, parts
        return self

    def translated(self) -> str:
        return self.separator.join(_text(part, english=False) for part in self.parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (self.separator, self.parts))


def gettext_lazy(message: str, **params: Any) -> Message:
    """A message, with its ``%(name)s`` parameters (filled in only when there are some)."""
    return Message(message, params=params)


def ngettext_lazy(singular: str, plural: str, number: int, **params: Any) -> Message:
    """A message whose wording depends on ``number`` (one member, two members)."""
    return Message(singular, plural, number, params)


def english(text: str) -> str:
    """A message's English text, as a plain ``str`` (any other text as it is)."""
    return text.english if isinstance(text, Message) else text


def _text(value: Any, *, english: bool) -> Any:
    if isinstance(value, Message):
        return value.english if english else value.translated()
    return value


def _fill(text: str, params: Mapping[str, Any], *, english: bool) -> str:
    if not params:
        return text
    return text % {name: _text(value, english=english) for name, value in params.items()}
