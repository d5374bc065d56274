"""Reads built with the ORM once per database and run again as SQL with each call's values.

Building a queryset and compiling it costs the interpreter far more than a small indexed read costs
the database, and a gated advance makes the same reads every time with only their ids changed. A
:class:`PreparedRead` builds its queryset once per database alias, with stand-in values for its
parameters, keeps the SQL the ORM wrote, and runs that SQL with each call's values in place of the
stand-ins. The read is still written with the ORM (its filters, its joins, the querysets' own
methods); only its compilation is kept.

The rows come straight from the database driver, without the ORM's conversions: booleans may come
as 0 and 1 and dates as ISO strings on SQLite (:func:`as_date`). A value of None matches nothing,
as ``= NULL`` does in SQL, where the ORM would have written ``IS NULL``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

_STAND_IN_BASE = -2_000_000_000
"""Integer stand-ins count down from here: no query of the project compares with such a number."""


class PreparedRead:
    """A read whose queryset ``build`` makes, given a stand-in for each parameter.

    ``parameters`` names each parameter with its type (``int`` or ``str``): ``build`` is called
    with those names as keyword arguments, each given a stand-in value of that type, and every
    parameter must reach the compiled SQL as a bound value (else :class:`ImproperlyConfigured`).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **parameters: type) -> None:
        self.build = build
        self.stand_ins: dict[str, Any] = {}
        for number, (name, kind) in enumerate(parameters.items()):
            if kind is int:
                self.stand_ins[name] = _STAND_IN_BASE - number
            elif kind is str:
                self.stand_ins[name] = f"\x00{name}\x00"
            else:
                raise ImproperlyConfigured(f"parameter {name}: only int and str can be prepared")
        self._compiled: dict[str, tuple[str, tuple[tuple[str | None, Any], ...]]] = {}

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the read with ``values`` for its parameters, on the database ``using``."""
        sql, slots = self._compiled.get(using) or self._compile(using)
        params = [constant if name is None else values[name] for name, constant in slots]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def _compile(self, using: str) -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        queryset = self.build(**self.stand_ins)
        sql, params = queryset.query.get_compiler(using).as_sql()
        slots = tuple((self._stand_in_for(value), value) for value in params)
        missing = set(self.stand_ins) - {name for name, _ in slots}
        if missing:
            raise ImproperlyConfigured(
                f"{', '.join(sorted(missing))} did not reach the SQL as a bound value"
            )
        self._compiled[using] = (sql, slots)
        return sql, slots

    def _stand_in_for(self, value: Any) -> str | None:
        for name, stand_in in self.stand_ins.items():
            if type(value) is type(stand_in) and value == stand_in:
                return name
        return None


def as_date(value: date | str | None) -> date | None:
    """A date column's value as a date, whichever driver read it."""
    return date.fromisoformat(value) if isinstance(value, str) else value
