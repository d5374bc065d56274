"""Writing: raw multi-row inserts (``COPY`` on PostgreSQL) in batches, and the ledger chain.

Ledger events are hashed with the ledger's own definition of the chain (``cycle.chain``), chained
to the current ledger head and to each cycle's last event, and the head is moved on.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, models
from django.utils.functional import Promise

from cycle import chain
from cycle.models import AuditEvent, LedgerHead

from .ids import Ids

Row = dict[str, Any]


def stamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Table:
    """One model's table: its columns, defaults for what a row leaves out, and how to write.

    ``write`` uses only the DB-API connection it is given, so it can run in the writer thread.
    """

    def __init__(self, model: type[models.Model], postgres: bool) -> None:
        self.model = model
        self.postgres = postgres
        self.label = str(model._meta.verbose_name_plural)
        fields = model._meta.concrete_fields
        self.names = [f.attname for f in fields]
        self.defaults: dict[str, Any] = {}
        for f in fields:
            value = f.get_default() if f.has_default() else None
            self.defaults[f.attname] = str(value) if isinstance(value, Promise) else value
        self.times = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(str(f.column)) for f in fields)
        if postgres:
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            marks = ", ".join(["?"] * len(fields))
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        self.rows: list[Row] = []

    def take_rows(self) -> list[Row]:
        rows, self.rows = self.rows, []
        return rows

    def tuples(self, rows: list[Row]) -> list[list[Any]]:
        names, defaults, times, postgres = self.names, self.defaults, self.times, self.postgres
        out = []
        for row in rows:
            values = [row[name] if name in row else defaults[name] for name in names]
            for i in times:
                when = values[i]
                if when is None:
                    continue
                if type(when) is float:
                    when = stamp(when)
                values[i] = when if postgres else str(when.replace(tzinfo=None))
            out.append(values)
        return out

    def write(self, raw: Any, rows: list[Row]) -> None:
        values = self.tuples(rows)
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(self.sql) as copy:
                for value in values:
                    copy.write_row(value)
        else:
            raw.executemany(self.sql, values)


@dataclass
class Event:
    """A ledger event, numbered and hashed when it is written."""

    at: float
    actor_id: int | None
    action: str
    cycle_id: int
    stage_key: str
    object_type: str
    object_id: int | None
    payload: dict[str, Any]
    outcome: str = AuditEvent.Outcome.DONE


class Writer:
    """Takes rows and events in time order, hashes the events, and writes both in batches.

    The batches are written by a second thread, in order, on the same connection and
    transaction, so the database's work (SQLite's B-trees, which it updates without holding the
    interpreter; PostgreSQL's ``COPY``) runs alongside the simulation. The main thread touches the
    connection only to take a block of ids on PostgreSQL, under the same lock as each write.
    """

    def __init__(self, usernames: dict[int, str], ids: Ids) -> None:
        self.usernames = usernames
        self.ids = ids
        self.postgres = connection.vendor == "postgresql"
        head, _ = LedgerHead.objects.select_for_update().get_or_create(pk=1)
        self.seq = head.seq
        self.prev_hash = head.hash
        self.first_seq = head.seq + 1
        self.latest_existing = (
            AuditEvent.objects.order_by("-seq").values_list("at", flat=True).first()
        )
        quote = connection.ops.quote_name
        mark = "%s" if self.postgres else "?"
        self.head_sql = (
            f"UPDATE {quote(LedgerHead._meta.db_table)} SET {quote('seq')} = {mark}, "
            f"{quote('hash')} = {mark} WHERE {quote('id')} = 1"
        )
        self.cycle_hash: dict[int, str] = {}
        self.tables: dict[type[models.Model], Table] = {}
        self.events = Table(AuditEvent, self.postgres)
        self.pending = 0
        self.counts: Counter[str] = Counter()
        connection.ensure_connection()
        self.raw = connection.connection
        self.failure: BaseException | None = None
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = threading.Thread(
            target=self._work, name="generate-writer", daemon=True
        )
        self.thread.start()

    def add(self, model: type[models.Model], row: Row) -> None:
        if model not in self.tables:
            self.tables[model] = Table(model, self.postgres)
        self.tables[model].rows.append(row)
        self.pending += 1

    def put(self, item: Event | tuple[type[models.Model], Row]) -> None:
        """A ledger event, or a ``(model, row)``."""
        if isinstance(item, Event):
            self.add_event(item)
        else:
            self.add(*item)

    def add_event(self, spec: Event) -> None:
        self.seq += 1
        cycle_id = spec.cycle_id
        at = stamp(spec.at)
        fields: dict[str, Any] = {
            "seq": self.seq,
            "at": chain.format_timestamp(at),
            "actor_id": spec.actor_id,
            "actor_name": self.usernames.get(spec.actor_id, "") if spec.actor_id else "",
            "action": spec.action,
            "outcome": str(spec.outcome),
            "cycle_id": cycle_id,
            "stage_key": spec.stage_key,
            "object_type": spec.object_type,
            "object_id": "" if spec.object_id is None else str(spec.object_id),
            "payload": chain.canonical_json(spec.payload),
            "prev_hash": self.prev_hash,
            "cycle_prev_hash": self.cycle_hash.get(cycle_id, chain.GENESIS),
        }
        digest = chain.event_hash(fields)  # the ledger's own canonical form and hash
        fields.update(id=self.ids.take(AuditEvent), at=at, hash=digest)
        self.prev_hash = self.cycle_hash[cycle_id] = digest
        self.events.rows.append(fields)
        self.pending += 1

    def flush(self) -> None:
        batches = [(table, table.take_rows()) for table in (*self.tables.values(), self.events)]
        for table, rows in batches:
            self.counts["ledger events" if table is self.events else table.label] += len(rows)
        self.jobs.put(partial(self._write, batches, (self.seq, self.prev_hash)))
        self._raise()
        self.pending = 0

    def close(self, quietly: bool = False) -> None:
        """Wait until everything handed over is written; raise what the writer met, if anything."""
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
            self.thread = None
        if not quietly:
            self._raise()

    def _write(self, batches: list[tuple[Table, list[Row]]], head: tuple[int, str]) -> None:
        with self.ids.lock:
            for table, rows in batches:
                if rows:
                    table.write(self.raw, rows)
            self.raw.execute(self.head_sql, head)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.failure is None:
                try:
                    job()
                except BaseException as failure:  # handed to the main thread by _raise
                    self.failure = failure

    def _raise(self) -> None:
        if self.failure is not None:
            raise CommandError(f"writing failed: {self.failure}") from self.failure
