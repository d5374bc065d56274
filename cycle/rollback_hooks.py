"""Run a callback when the transaction (or savepoint) it was registered in is rolled back by an
error: the counterpart of ``transaction.on_commit`` that the ledger needs for refusals.

A refusal must stay on the ledger even when the service was called inside the caller's own
transaction and the caller's work is then rolled back (the refusal propagates through the
caller's ``atomic`` block, which rolls back everything in it, the refusal event included). So the
refusal is written at once, in the caller's transaction, where the caller sees it and where a
commit keeps it; and it registers :func:`on_rollback`. If the block that holds it is rolled back
because an error passed through it, the callback appends the refusal again, after the rollback:

- a savepoint rolled back (a nested ``atomic`` block): at once, in the enclosing transaction,
  where it registers again, so a later rollback of that transaction is covered too;
- the whole transaction rolled back: when autocommit is back on, at the moment Django would run
  ``on_commit`` callbacks, in a transaction of its own.

A rollback asked for on purpose (``transaction.set_rollback(True)``: a dry run that keeps
nothing, or a test's own transaction) takes its callbacks with it, as it takes everything else.

Why not a second database connection: on SQLite it would wait on the caller's write lock until it
timed out, and on PostgreSQL on the ledger head row the caller may hold (the caller's own process
waiting on itself); nor could it name a cycle the caller created but has not committed.

Installed on every connection (``cycle.apps``) by giving the connection's class this mixin: the
overridden methods (``commit``, ``rollback``, ``savepoint_rollback``, ``set_autocommit``,
``set_rollback``) are public methods of Django's ``BaseDatabaseWrapper``, and the registration reads
``in_atomic_block`` and ``savepoint_ids`` as ``on_commit`` does; ``tests/cycle/test_refusals.py``
is the contract test that fails first if a Django upgrade changes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

Callback = Callable[[], None]


class RollbackHooks:
    """Mixed into a database connection's class (see the module's documentation)."""

    _rollback_hooks: list[tuple[frozenset[str | None], Callback]]
    _after_rollback: list[Callback]
    _rolled_back_on_purpose: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A copy Django makes of a connection (``_nodb_cursor``) is built from the class.
        super().__init__(*args, **kwargs)
        _reset(self)

    def on_rollback(self, func: Callback) -> None:
        """Call ``func`` after an error rolls back the block it is registered in."""
        if self.in_atomic_block:  # type: ignore[attr-defined]
            self._rollback_hooks.append((frozenset(self.savepoint_ids), func))  # type: ignore[attr-defined]

    def set_rollback(self, rollback: bool) -> None:
        super().set_rollback(rollback)  # type: ignore[misc]
        self._rolled_back_on_purpose = rollback

    def commit(self) -> None:
        super().commit()  # type: ignore[misc]
        self._rollback_hooks = []
        self._rolled_back_on_purpose = False

    def savepoint_rollback(self, sid: str) -> None:
        super().savepoint_rollback(sid)  # type: ignore[misc]
        lost = [func for sids, func in self._rollback_hooks if sid in sids]
        self._rollback_hooks = [(sids, f) for sids, f in self._rollback_hooks if sid not in sids]
        if not self._take_purpose():
            # Still inside the enclosing transaction: record again there, at once.
            _run(lost)

    def rollback(self) -> None:
        super().rollback()  # type: ignore[misc]
        lost = [func for _sids, func in self._rollback_hooks]
        self._rollback_hooks = []
        if self._take_purpose():
            return
        self._after_rollback.extend(lost)
        if self.get_autocommit():  # type: ignore[attr-defined]
            self._run_after_rollback()

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        super().set_autocommit(  # type: ignore[misc]
            autocommit, force_begin_transaction_with_broken_autocommit
        )
        if autocommit:
            self._run_after_rollback()

    def _take_purpose(self) -> bool:
        on_purpose, self._rolled_back_on_purpose = self._rolled_back_on_purpose, False
        return on_purpose

    def _run_after_rollback(self) -> None:
        due, self._after_rollback = self._after_rollback, []
        _run(due)


def _run(callbacks: list[Callback]) -> None:
    for func in callbacks:
        try:
            func()
        except Exception:  # a failed callback must not hide the error that rolled back
            logger.exception("A callback after a rollback failed: %r", func)


_CLASSES: dict[type, type] = {}


def install(connection: Any, **_: Any) -> None:
    """Give ``connection`` the rollback hooks (idempotent; a ``connection_created`` receiver)."""
    if isinstance(connection, RollbackHooks):
        return
    base = type(connection)
    if base not in _CLASSES:
        _CLASSES[base] = type(base.__name__, (RollbackHooks, base), {})
    connection.__class__ = _CLASSES[base]
    _reset(connection)


def _reset(connection: Any) -> None:
    connection._rollback_hooks = []
    connection._after_rollback = []
    connection._rolled_back_on_purpose = False


def on_rollback(func: Callback, using: str = DEFAULT_DB_ALIAS) -> None:
    """Register ``func`` on the connection ``using`` (see :meth:`RollbackHooks.on_rollback`)."""
    connection: Any = connections[using]
    install(connection)
    connection.on_rollback(func)
