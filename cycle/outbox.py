"""The transactional outbox: notifications written with the change, delivered after commit.

:func:`write` adds notifications in the caller's transaction, so they exist exactly when the change
they tell of does. After the commit, one :func:`deliver_notification` task per e-mail is sent to
the broker; if the broker is down the action still succeeds, and :func:`sweep` (celery beat, or
``manage.py cycle sweep``) delivers whatever is still waiting when it runs.

Each notification is delivered once. :func:`deliver` holds the notification's row lock from the
check of ``delivered_at`` until it is set, so a retried task, a second worker or the sweep finds it
delivered, or skips it while another has it in hand. A worker killed mid-delivery holds nothing
afterwards: its transaction rolls back, ``delivered_at`` stays empty and the next try delivers it.
The one window left is a worker killed after the mail server accepted a message and before the
commit; that message is sent again with the same ``Message-ID`` (derived from the idempotency
key), which mail systems and providers use to recognise the duplicate.

Failures are retried with exponential backoff (``next_attempt_at``); after
``NOTIFICATION_MAX_ATTEMPTS``, or at once for a message that can never be delivered as it stands
(:class:`cycle.mail.Undeliverable`), delivery is given up (``failed_at``) and the cycle's
involvement lead is told in the app, so somebody tells the person another way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.models import Model
from django.utils import timezone

from . import mail
from .models import CommissioningCycle, Notification
from .prepared import PreparedRead, PreparedWrite

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Channel = Notification.Channel


@dataclass(frozen=True)
class Message:
    """What one person is told: a subject line and a body in plain words."""

    subject: str
    body: str


class Outcome(StrEnum):
    DELIVERED = "delivered"
    ALREADY = "already"
    """Delivered before, or given up on: nothing to do."""
    BUSY = "busy"
    """Another worker is delivering it right now."""
    MISSING = "missing"
    RETRY = "retry"
    GAVE_UP = "gave-up"


def write(
    *,
    kind: str,
    cycle: CommissioningCycle | None,
    recipient_ids: Iterable[int],
    message: Message | Callable[[int], Message],
    key: str,
    skip_existing: bool = False,
    in_app_only: bool = False,
) -> list[Notification]:
    """Write one notification per recipient in the current transaction; deliver after commit.

    ``key`` names the change (``budget:17``); with the recipient it makes the idempotency key.
    ``message`` is one message for everyone, or a function of the recipient's id. With
    ``skip_existing``, recipients already told under this key are left out (for sweeps that may
    run twice); otherwise a repeat is a bug and fails on the unique key. ``in_app_only`` ignores
    people's choice of e-mail (for news that e-mail is failing). Inactive accounts are not told.
    Costs two queries (three with ``skip_existing``), whatever the number of recipients.
    """
    ids = sorted(set(recipient_ids))
    if not ids:
        return []
    if skip_existing:
        told = _already_told([f"{key}:{pk}" for pk in ids])
        ids = [pk for pk in ids if pk not in told]
        if not ids:
            return []
    now = timezone.now()
    created = _insert(kind, cycle, _recipients(ids), message, key, now, in_app_only)
    waiting = [row.pk for row in created if row.delivered_at is None]
    if waiting:
        transaction.on_commit(lambda: dispatch(waiting), robust=True)
    return created


_INSERT = PreparedWrite.inserting(Notification)
"""The notification's row: every field but its id, in ``_meta``'s order (the id first, then
these, are the concrete fields in the order ``Model.__init__`` takes them positionally)."""
assert Notification._meta.concrete_fields == (Notification._meta.pk, *_INSERT.fields)

_RECIPIENTS: dict[int, PreparedRead] = {}
"""The read of who is told, with their e-mail and chosen channel, for each number of ids."""

_TOLD: dict[int, PreparedRead] = {}
"""The read of who was told already under some idempotency keys, for each number of keys."""


def _rows_in(
    cache: dict[int, PreparedRead],
    values: Sequence[Any],
    kind: type,
    build: Callable[[list[Any]], Any],
    model: type[Model],
) -> list[tuple[Any, ...]]:
    """The rows of the read ``build`` makes of a list of ``values`` (each a ``kind``), prepared
    once per number of values."""
    names = [f"v{number}" for number in range(len(values))]
    read = cache.get(len(values))
    if read is None:
        read = cache[len(values)] = PreparedRead(
            lambda **given: build([given[name] for name in names]),
            **dict.fromkeys(names, kind),
        )
    return read.rows(router.db_for_read(model), **dict(zip(names, values, strict=True)))


def _recipients(ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """``(pk, email, chosen channel)`` of the active users among ``ids``, in order of pk."""
    return _rows_in(
        _RECIPIENTS,
        ids,
        int,
        lambda pks: (
            get_user_model()
            .objects.filter(pk__in=pks, is_active=True)
            .order_by("pk")
            .values_list("pk", "email", "notification_preference__channel")
        ),
        get_user_model(),
    )


def _already_told(keys: Sequence[str]) -> set[int]:
    """The recipients of the notifications with these idempotency keys."""
    told = _rows_in(
        _TOLD,
        keys,
        str,
        lambda keys: Notification.objects.filter(idempotency_key__in=keys).values_list(
            "recipient_id", flat=True
        ),
        Notification,
    )
    return {pk for (pk,) in told}


def _channel(email: str, chosen: Channel | None, in_app_only: bool) -> Channel:
    """How a recipient is told: as they chose (e-mail unless they chose otherwise), in the app
    for someone with no address or for news that must not wait on e-mail."""
    if not email or in_app_only:
        return Channel.IN_APP
    return chosen or Channel.EMAIL


def _insert(
    kind: str,
    cycle: CommissioningCycle | None,
    recipients: Sequence[tuple[Any, ...]],
    message: Message | Callable[[int], Message],
    key: str,
    now: datetime,
    in_app_only: bool,
) -> list[Notification]:
    """Insert a notification for each of ``recipients`` in one statement, as ``bulk_create``
    would, and return them as saved instances, in the same order.

    The statement is written once per database and number of rows; the values that are the same
    in every row are prepared for the database once, not once a row, and the instances are made
    from their values in order (``Model.__init__``'s positional way, as ``from_db`` makes them)."""
    if not recipients:
        return []
    using = router.db_for_write(Notification)
    connection = connections[using]
    fields = _INSERT.fields
    if not connection.features.can_return_rows_from_bulk_insert or len(
        recipients
    ) > connection.ops.bulk_batch_size(list(fields), recipients):
        return _bulk_created(kind, cycle, recipients, message, key, now, in_app_only)
    by_name = {field.name: field for field in fields}

    def prepared(name: str, value: Any) -> Any:
        return by_name[name].get_db_prep_save(value, connection)

    said = None if callable(message) else message
    # The values of a row as the instance holds them (by ``attname``) and as the database is
    # sent them: those the same in every row once, each row's own put in their places below.
    same = {
        "kind": kind,
        "cycle": cycle.pk if cycle is not None else None,
        "created_at": now,
        "read_at": None,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": now,
        "failed_at": None,
    }
    if said is not None:
        same |= {"subject": said.subject[:200], "body": said.body}
    names = [field.name for field in fields]
    python_row = [same.get(name) for name in names]
    db_row = [prepared(name, same[name]) if name in same else None for name in names]
    recipient, channel_at, shown_at, key_at, subject_at, body_at = (
        names.index(name)
        for name in ("recipient", "channel", "delivered_at", "idempotency_key", "subject", "body")
    )
    db_channel = {channel: prepared("channel", channel) for channel in Channel}
    db_shown = {None: None, now: prepared("delivered_at", now)}
    recipient_id = by_name["recipient"].get_db_prep_save  # wrapped on PostgreSQL
    db_rows: list[list[Any]] = []
    rows: list[list[Any]] = []
    for pk, email, chosen in recipients:
        channel = _channel(email, chosen, in_app_only)
        # Shown in the app as soon as it is committed; only e-mail waits in the outbox.
        shown = now if channel == Channel.IN_APP else None
        idempotency_key = f"{key}:{pk}"
        python_row[recipient], db_row[recipient] = pk, recipient_id(pk, connection)
        python_row[channel_at], db_row[channel_at] = channel, db_channel[channel]
        python_row[shown_at], db_row[shown_at] = shown, db_shown[shown]
        python_row[key_at] = db_row[key_at] = idempotency_key  # a str, prepared as itself
        if said is None:
            told = message(pk)  # type: ignore[operator]
            python_row[subject_at] = subject = told.subject[:200]
            python_row[body_at] = told.body
            db_row[subject_at], db_row[body_at] = (
                prepared("subject", subject),
                prepared("body", told.body),
            )
        db_rows.append(db_row.copy())
        rows.append(python_row.copy())
    with connection.cursor() as cursor:
        cursor.execute(*_INSERT.rows_statement(db_rows, using))
        ids = cursor.fetchall()
    created = []
    for (notification_id,), row in zip(ids, rows, strict=True):
        # Positionally, as ``from_db`` makes an instance: the key, then the fields in order.
        notification = Notification(notification_id, *row)  # type: ignore[misc]
        state = notification._state
        state.adding = False
        state.db = using
        state.fields_cache["cycle"] = cycle
        created.append(notification)
    return created


def _bulk_created(
    kind: str,
    cycle: CommissioningCycle | None,
    recipients: Sequence[tuple[Any, ...]],
    message: Message | Callable[[int], Message],
    key: str,
    now: datetime,
    in_app_only: bool,
) -> list[Notification]:
    """:func:`_insert` through ``bulk_create``, for rows too many for one statement (SQLite's
    limit on parameters) or a database that returns no rows from a bulk insert."""
    rows = []
    for pk, email, chosen in recipients:
        channel = _channel(email, chosen, in_app_only)
        said = message(pk) if callable(message) else message
        rows.append(
            Notification(
                recipient_id=pk,
                kind=kind,
                cycle=cycle,
                subject=said.subject[:200],
                body=said.body,
                created_at=now,
                channel=channel,
                delivered_at=now if channel == Channel.IN_APP else None,
                next_attempt_at=now,
                idempotency_key=f"{key}:{pk}",
            )
        )
    return Notification.objects.bulk_create(rows)


def dispatch(notification_ids: Sequence[int]) -> int:
    """Send a delivery task for each notification; return how many reached the broker.

    Called after the commit. A broker that cannot be reached costs nothing but a log line: the
    notifications wait in the outbox for the sweep.
    """
    sent = 0
    # One connection for them all, tried once: a user's request must not wait on a broker that
    # is down (kombu would otherwise retry the connection for several seconds).
    app = deliver_notification.app
    try:
        with app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            for pk in notification_ids:
                deliver_notification.apply_async((pk,), retry=False, connection=connection)
                sent += 1
    except Exception:  # the broker is down or refused them; the sweep will deliver them
        logger.warning(
            "%d notification(s) left for the outbox sweep",
            len(notification_ids) - sent,
            exc_info=True,
        )
    return sent


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most a day."""
    base = settings.NOTIFICATION_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 86_400))


def deliver(notification_id: int, *, now: datetime | None = None) -> Outcome:
    """Deliver one notification by e-mail, once. Safe to call any number of times, anywhere."""
    with transaction.atomic():
        notification = (
            # Only the notification's row: two notifications to one person go out side by side.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            exists = Notification.objects.filter(pk=notification_id).exists()
            return Outcome.BUSY if exists else Outcome.MISSING
        if notification.delivered_at is not None or notification.failed_at is not None:
            return Outcome.ALREADY
        now = now if now is not None else timezone.now()
        notification.attempts += 1
        try:
            mail.send(notification)
        except Exception as error:
            return _failed(notification, error, now)
        notification.delivered_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["attempts", "delivered_at", "last_error"])
        return Outcome.DELIVERED


def _failed(notification: Notification, error: Exception, now: datetime) -> Outcome:
    notification.last_error = f"{type(error).__name__}: {error}"[:1000]
    final = isinstance(error, mail.Undeliverable)  # would fail the same way every time
    if notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS and not final:
        notification.next_attempt_at = now + backoff(notification.attempts)
        notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        return Outcome.RETRY
    notification.failed_at = now
    notification.save(update_fields=["attempts", "last_error", "failed_at"])
    _tell_lead_of_failure(notification)
    return Outcome.GAVE_UP


def _tell_lead_of_failure(notification: Notification) -> None:
    cycle = notification.cycle
    if cycle is None:
        return
    lead_id = cycle.involvement_lead_id or cycle.lead_commissioner_id
    recipient = notification.recipient
    who = recipient.get_full_name() or recipient.get_username()
    tries = "once" if notification.attempts == 1 else f"{notification.attempts} times"
    address = f" ({recipient.email})" if recipient.email else ", who has no e-mail address,"
    write(
        kind=Kind.DELIVERY_FAILED,
        cycle=cycle,
        recipient_ids=[lead_id],
        message=Message(
            subject=f"We could not e-mail {who}",
            body=(
                f"We tried {tries} to e-mail {who}{address} and could not. They can still read "
                "it when they sign in, but please tell them another way, or put their e-mail "
                "address right and try again from the list of e-mails we could not deliver (on "
                "your notifications page).\n\n"
                f"The message was: {notification.subject}\n\n{notification.body}\n\n"
                f"The last error was: {notification.last_error}"
            ),
        ),
        # Once per giving up: tried again by the lead and given up again, they are told again.
        key=f"delivery-failed:{notification.pk}:{notification.failed_at:%Y%m%dT%H%M%S%f}",
        skip_existing=True,
        in_app_only=True,
    )


def sweep(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Deliver what is waiting in the outbox and due; return how many of each outcome."""
    now = now if now is not None else timezone.now()
    due = list(
        Notification.objects.undelivered()
        .filter(next_attempt_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for pk in due:
        outcome = deliver(pk, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def oldest_undelivered(now: datetime | None = None) -> timedelta | None:
    """How long the oldest notification still waiting in the outbox has waited (None if none)."""
    created = (
        Notification.objects.undelivered()
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if created is None:
        return None
    return (now if now is not None else timezone.now()) - created


def _task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``shared_task`` with a type mypy can see (celery ships no annotations)."""
    return shared_task(**options)  # type: ignore[no-any-return]


@_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_notification(self: Any, notification_id: int) -> str:
    """Deliver one notification from the outbox; on failure, try again after the backoff.

    Acknowledged only when it has finished, so a worker that dies mid-task leaves the message on
    the broker for another worker; :func:`deliver` makes the second run a no-op if the first got
    as far as the commit.
    """
    outcome = deliver(notification_id)
    if outcome is Outcome.RETRY and not self.request.is_eager:
        attempts = (
            Notification.objects.filter(pk=notification_id)
            .values_list("attempts", flat=True)
            .first()
        )
        raise self.retry(countdown=backoff(attempts or 1).total_seconds())
    return str(outcome)
