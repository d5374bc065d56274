"""Reads built with the ORM once per database and run again as SQL with each call's values.

Building a queryset and compiling it costs the interpreter far more than a small indexed read costs
the database, and a gated advance makes the same reads every time with only their ids changed. A
:class:`PreparedRead` builds its queryset once per database alias, with stand-in values for its
parameters, keeps the SQL the ORM wrote, and runs that SQL with each call's values in place of the
stand-ins. The read is still written with the ORM (its filters, its joins, the querysets' own
methods); only its compilation is kept.

The rows come straight from the database driver, without the ORM's conversions: booleans may come
as 0 and 1 and dates as ISO strings on SQLite (:func:`as_date`), unless asked for converted
(:meth:`PreparedRead.converted_rows`, the ORM's own converters). A value of None matches nothing,
as ``= NULL`` does in SQL, where the ORM would have written ``IS NULL``.

A :class:`PreparedWrite` is the counterpart for the writes a service makes every time: the INSERT
of one row or the UPDATE of one row by its primary key, of named fields, its SQL written once per
database from the model's own fields (table and column names from ``_meta``, the INSERT by the
ORM's compiler), and each call's values prepared for the database by those fields, as ``save()``
prepares them. It sends no signal and runs no ``save()``: it is for rows whose models have none
that matter (``pre_save`` of ``auto_now`` fields included: give those fields their value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.sql import InsertQuery

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
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the read with ``values`` for its parameters, on the database ``using``."""
        sql, params = self.statement(using, **values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def converted_rows(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[list[Any]]:
        """The rows as the ORM would give its querysets' fields: through the fields' converters."""
        compiled = self._compiled.get(using) or self._compile(using)
        connection = connections[using]
        converted = []
        for row in self.rows(using, **values):
            values_ = list(row)
            for position, (converters, expression) in compiled.converters.items():
                value = values_[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                values_[position] = value
            converted.append(values_)
        return converted

    def statement(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> tuple[str, list[Any]]:
        """The SQL of the read and its parameters with ``values``, to run or to embed."""
        compiled = self._compiled.get(using) or self._compile(using)
        params = [constant if name is None else values[name] for name, constant in compiled.slots]
        return compiled.sql, params

    def _compile(self, using: str) -> _Compiled:
        queryset = self.build(**self.stand_ins)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = tuple((self._stand_in_for(value), value) for value in params)
        missing = set(self.stand_ins) - {name for name, _ in slots}
        if missing:
            raise ImproperlyConfigured(
                f"{', '.join(sorted(missing))} did not reach the SQL as a bound value"
            )
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        compiled = _Compiled(sql, slots, converters)
        self._compiled[using] = compiled
        return compiled

    def _stand_in_for(self, value: Any) -> str | None:
        for name, stand_in in self.stand_ins.items():
            if type(value) is type(stand_in) and value == stand_in:
                return name
        return None


class _Compiled:
    """A read's SQL, where each call's values go, and the converters of its columns (the ORM's,
    by position: given the connection of the call, as connections are the thread's)."""

    __slots__ = ("converters", "slots", "sql")

    def __init__(
        self,
        sql: str,
        slots: tuple[tuple[str | None, Any], ...],
        converters: dict[int, tuple[list[Any], Any]],
    ) -> None:
        self.sql = sql
        self.slots = slots
        self.converters = converters


class PreparedWrite:
    """The INSERT of one row of ``model`` (``insert=True``, returning its primary key) or the UPDATE
    of one row by its primary key, of the ``fields`` named, in that order."""

    def __init__(self, model: type[Model], *fields: str, insert: bool = False) -> None:
        self.model = model
        self.fields: tuple[Field[Any, Any], ...] = tuple(
            model._meta.get_field(name)  # type: ignore[misc]
            for name in fields
        )
        self.insert = insert
        self._sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self._by_column: set[tuple[str, tuple[str, ...]]] = set()

    def run(
        self,
        values: Sequence[Any],
        *,
        pk: Any = None,
        sql_values: Mapping[str, tuple[str, Sequence[Any]]] | None = None,
        using: str = DEFAULT_DB_ALIAS,
    ) -> Any:
        """Write ``values`` (one per field, in order) to the row ``pk``, or insert them as a new row
        and return its primary key. ``sql_values``: fields of an UPDATE given by an SQL expression
        with its parameters instead (a subquery: :meth:`PreparedRead.statement`), their places in
        ``values`` ignored."""
        connection = connections[using]
        sql, params = self.statement(values, pk=pk, sql_values=sql_values, using=using)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if not self.insert:
                return None
            if connection.features.can_return_columns_from_insert:
                return cursor.fetchone()[0]
            meta = self.model._meta
            return connection.ops.last_insert_id(cursor, meta.db_table, _column(meta.pk))

    def statement(
        self,
        values: Sequence[Any],
        *,
        pk: Any = None,
        sql_values: Mapping[str, tuple[str, Sequence[Any]]] | None = None,
        using: str = DEFAULT_DB_ALIAS,
    ) -> tuple[str, list[Any]]:
        """The SQL of the write and its parameters, as :meth:`run` would send them, to run or to
        fold into a larger statement (an INSERT returns the new row's primary key only where the
        database can return columns from an insert)."""
        connection = connections[using]
        given = sql_values or {}
        key = (using, tuple(given[name][0] if name in given else "" for name in self._names))
        sql = self._sql.get(key) or self._write(key, connection, given)
        params: list[Any] = []
        for field, value in zip(self.fields, values, strict=True):
            if field.name in given:
                params.extend(given[field.name][1])
            else:
                params.append(field.get_db_prep_save(value, connection))
        if not self.insert:
            params.append(pk)
        return sql, params

    def insert_from(self, source: str, using: str = DEFAULT_DB_ALIAS) -> str:
        """PostgreSQL's INSERT of the row, made once for each row of ``source`` (the name of a
        data-modifying ``WITH`` of the same statement) and so only after ``source`` has written,
        returning the new primary key. Its parameters are those of :meth:`statement`."""
        key = (using, ("from", source))
        sql = self._sql.get(key)
        if sql is None:
            connection = connections[using]
            if not self.insert or connection.vendor != "postgresql":
                raise ImproperlyConfigured("an insert from a WITH is written for PostgreSQL")
            quote = connection.ops.quote_name
            meta = self.model._meta
            table = quote(meta.db_table)
            columns = ", ".join(quote(_column(field)) for field in self.fields)
            casts = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in self.fields)
            sql = self._sql[key] = (
                f"INSERT INTO {table} ({columns}) SELECT {casts} FROM {quote(source)} "
                f"RETURNING {table}.{quote(_column(meta.pk))}"
            )
        return sql

    @classmethod
    def inserting(cls, model: type[Model]) -> PreparedWrite:
        """The INSERT of a whole row of ``model``: every concrete field but an automatic key."""
        meta = model._meta
        return cls(
            model,
            *(field.name for field in meta.local_concrete_fields if field is not meta.auto_field),
            insert=True,
        )

    def insert_instance(self, instance: Model, using: str = DEFAULT_DB_ALIAS) -> None:
        """Insert ``instance`` (made with the model's ``__init__``, so with its defaults) as a new
        row, and give it its primary key and the state of a saved instance."""
        pk = self.run([getattr(instance, field.attname) for field in self.fields], using=using)
        self.inserted(instance, pk, using)

    @staticmethod
    def inserted(instance: Model, pk: Any, using: str = DEFAULT_DB_ALIAS) -> None:
        """Give ``instance``, just inserted with primary key ``pk``, the state of a saved one."""
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = using

    def rows_statement(
        self, rows: Sequence[Sequence[Any]], using: str = DEFAULT_DB_ALIAS
    ) -> tuple[str, list[Any]]:
        """The INSERT of ``rows`` at once as ``bulk_create`` writes it, returning the new primary
        keys in the rows' order, and its parameters. Each row holds a value for each field, in
        order, prepared for the database as :meth:`statement` prepares them. The SQL is written
        once per database and number of rows by the ORM's compiler, which on PostgreSQL takes
        each column's values as one array (``UNNEST``), elsewhere the rows one after another.
        Only where the database returns rows from a bulk insert (else
        :class:`ImproperlyConfigured`)."""
        key = (using, ("rows", str(len(rows))))
        sql = self._sql.get(key)
        if sql is None:
            connection = connections[using]
            if not self.insert or not connection.features.can_return_rows_from_bulk_insert:
                raise ImproperlyConfigured("rows are inserted at once only where keys come back")
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()] * len(rows))
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = [self.model._meta.pk]
            ((written, params),) = compiler.as_sql()
            sql = self._sql[key] = str(written)
            if len(rows) > 1 and len(params) == len(self.fields):
                self._by_column.add(key)
        if key in self._by_column:
            return sql, list(map(list, zip(*rows, strict=True)))
        return sql, [value for row in rows for value in row]

    @property
    def _names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def _write(
        self,
        key: tuple[str, tuple[str, ...]],
        connection: BaseDatabaseWrapper,
        given: Mapping[str, tuple[str, Sequence[Any]]],
    ) -> str:
        meta = self.model._meta
        if self.insert:
            if given:
                raise ImproperlyConfigured("an insert takes values, not SQL")
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()])
            compiler = query.get_compiler(connection=connection)
            if connection.features.can_return_columns_from_insert:
                compiler.returning_fields = [meta.pk]
            ((sql, _),) = compiler.as_sql()
        else:
            quote = connection.ops.quote_name
            assignments = ", ".join(
                f"{quote(_column(field))} = "
                + (f"({given[field.name][0]})" if field.name in given else "%s")
                for field in self.fields
            )
            sql = (
                f"UPDATE {quote(meta.db_table)} SET {assignments} "
                f"WHERE {quote(_column(meta.pk))} = %s"
            )
        self._sql[key] = str(sql)
        return self._sql[key]


def _column(field: Any) -> str:
    """A concrete field's column (``Field.column`` is typed as optional: some fields have none)."""
    column: str = field.column
    return column


def as_date(value: date | str | None) -> date | None:
    """A date column's value as a date, whichever driver read it."""
    return date.fromisoformat(value) if isinstance(value, str) else value
