"""Primary keys taken in advance, so rows can name each other before they are written."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

from django.db import connection, models
from django.db.models import Max


class Ids:
    """Primary keys handed out before the rows are written, from each table's own sequence.

    On PostgreSQL they come from the table's sequence (``nextval``) in blocks, so nothing else can
    be given the same id; ``lock`` keeps those queries off the connection while the writer thread
    is using it. On SQLite the transaction holds the database's write lock from its start, so the
    ids after the largest one in use are free (SQLite moves its own counter past them on insert);
    the counters are read once, before writing starts.
    """

    BLOCK = 20000

    def __init__(self, models_used: tuple[type[models.Model], ...]) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.lock = threading.Lock()
        self.free: dict[str, list[int]] = defaultdict(list)
        self.counters: dict[str, itertools.count[int]] = {}
        if not self.postgres:
            for model in models_used:
                top = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
                self.counters[model._meta.db_table] = itertools.count(top + 1)

    def take(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        if not self.postgres:
            return next(self.counters[table])
        free = self.free[table]
        if not free:
            with self.lock, connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, self.BLOCK],
                )
                free.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return free.pop()
