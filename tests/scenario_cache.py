"""The seeded scenarios for tests that need them as their starting point, played once per process.

Playing the five scenarios through the services (``cycle.scenarios.load_all``) and setting up the
demo accounts takes several seconds, and many test modules start from them. The first time a test
process asks, they are played for real, and every row of every table is then copied into memory.
Each later ask puts the database back to exactly those rows, in one transaction: rows the copy has
not are deleted, rows it has are inserted or updated to match, so the tables are the same whatever
they held before (after a live-server test's flush, say, which recreates the content types with
new keys).

Tests about the scenarios themselves (``tests/fixtures/test_scenarios.py``, the ``scenarios``
command) play them for real each time; this is only for tests that start from them.

On PostgreSQL the rows travel as JSON, so every column type comes back as the server wrote it;
the ledger's append-only guards stay on, so the copy only ever appends events and moves the head
forward, or the restore fails loudly. On SQLite the stored values are read and written back as
they are, past Django's converters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction

from cycle import scenarios
from cycle.models import CommissioningCycle


@dataclass(frozen=True)
class _Table:
    name: str
    pk: str
    columns: tuple[str, ...]
    model: Any


@dataclass
class _Copy:
    tables: list[_Table]
    rows: dict[str, dict[Any, Any]]  # table -> primary key -> row (SQLite tuple, PostgreSQL JSON)
    loaded: list[tuple[str, int, bool]]  # scenario key, cycle key, created


_copies: dict[tuple[str, str], _Copy] = {}


def load_demo() -> list[scenarios.Loaded]:
    """What ``scenarios.load_all()`` gives, with the demo accounts and their passwords set up.

    Inside the caller's transaction if there is one, as the real load would be.
    """
    key = _key()
    copy = _copies.get(key)
    if copy is None:
        loaded = scenarios.load_all()
        for account in scenarios.demo_accounts():
            scenarios.ensure_demo_account(account)
        tables = _tables()
        _copies[key] = _Copy(
            tables=tables,
            rows=_read(tables),
            loaded=[(item.scenario.key, item.cycle.pk, item.created) for item in loaded],
        )
        return loaded
    _restore(copy)
    known = scenarios.discover()
    cycles = CommissioningCycle.objects.in_bulk([pk for _, pk, _ in copy.loaded])
    return [scenarios.Loaded(known[name], cycles[pk], created) for name, pk, created in copy.loaded]


def _key() -> tuple[str, str]:
    return (connection.vendor, connection.settings_dict["NAME"])


@contextmanager
def rolled_back() -> Iterator[list[scenarios.Loaded]]:
    """``load_demo`` in a transaction that is rolled back when the block ends (a module's data).

    The content types are looked up afresh afterwards: the rows rolled back to may carry other
    keys than the copy's.
    """
    with transaction.atomic():
        yield load_demo()
        transaction.set_rollback(True)
    ContentType.objects.clear_cache()


def _tables() -> list[_Table]:
    seen: dict[str, _Table] = {}
    existing = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table not in existing:
            continue
        # A generated column (the ledger's canonical bytes) is the database's to write.
        columns = tuple(
            field.column
            for field in meta.local_concrete_fields
            if not getattr(field, "generated", False)
        )
        seen.setdefault(meta.db_table, _Table(meta.db_table, meta.pk.column, columns, model))
    return sorted(seen.values(), key=lambda table: table.name)


def _read(tables: Iterable[_Table]) -> dict[str, dict[Any, Any]]:
    q = connection.ops.quote_name
    rows: dict[str, dict[Any, Any]] = {}
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT {q(table.pk)}, row_to_json(t)::text FROM {q(table.name)} t")
                rows[table.name] = dict(cursor.fetchall())
            else:
                # A unary + keeps the stored value but drops the declared type, so the driver's
                # converters leave it alone and it can be written back exactly.
                listed = ", ".join(f"+{q(column)}" for column in table.columns)
                cursor.execute(f"SELECT {listed} FROM {q(table.name)}")
                at = table.columns.index(table.pk)
                rows[table.name] = {row[at]: row for row in cursor.fetchall()}
    return rows


def _restore(copy: _Copy) -> None:
    with transaction.atomic():
        now = _read(copy.tables)
        changes = []
        for table in copy.tables:
            want, have = copy.rows[table.name], now[table.name]
            gone = [pk for pk in have if pk not in want]
            new = [row for pk, row in want.items() if pk not in have]
            moved = [(pk, row) for pk, row in want.items() if pk in have and have[pk] != row]
            changes.append((table, gone, new, moved))
        with connection.cursor() as cursor:
            # Deletes first, so that a row with the same natural key under another primary key
            # (a recreated content type) is out of the way; foreign keys are checked at commit.
            for table, gone, _, _ in changes:
                if gone:
                    _delete(cursor, table, gone)
            for table, _, new, _ in changes:
                if new:
                    _insert(cursor, table, new)
            for table, _, _, moved in changes:
                for pk, row in moved:
                    _update(cursor, table, pk, row)
            if connection.vendor == "postgresql":
                models = [table.model for table, _, new, _ in changes if new]
                for statement in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
    ContentType.objects.clear_cache()


def _delete(cursor: Any, table: _Table, keys: list[Any]) -> None:
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute(f"DELETE FROM {q(table.name)} WHERE {q(table.pk)} = ANY(%s)", [keys])
    else:
        cursor.executemany(
            f"DELETE FROM {q(table.name)} WHERE {q(table.pk)} = %s", [[pk] for pk in keys]
        )


def _insert(cursor: Any, table: _Table, rows: list[Any]) -> None:
    q = connection.ops.quote_name
    listed = ", ".join(q(column) for column in table.columns)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"INSERT INTO {q(table.name)} ({listed}) SELECT {listed} FROM json_populate_recordset("
            f"NULL::{q(table.name)}, %s::json)",
            ["[" + ",".join(rows) + "]"],
        )
    else:
        marks = ", ".join(["%s"] * len(table.columns))
        cursor.executemany(f"INSERT INTO {q(table.name)} ({listed}) VALUES ({marks})", rows)


def _update(cursor: Any, table: _Table, pk: Any, row: Any) -> None:
    q = connection.ops.quote_name
    listed = ", ".join(q(column) for column in table.columns)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {q(table.name)} SET ({listed}) = (SELECT {listed} FROM "
            f"json_populate_record(NULL::{q(table.name)}, %s::json)) WHERE {q(table.pk)} = %s",
            [row, pk],
        )
    else:
        sets = ", ".join(f"{q(column)} = %s" for column in table.columns)
        cursor.execute(f"UPDATE {q(table.name)} SET {sets} WHERE {q(table.pk)} = %s", [*row, pk])
