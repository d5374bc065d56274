"""The outbox's prepared write (``cycle.outbox.write``): the rows and instances ``bulk_create``
gives, from SQL written once per database and number of rows.

Each case is written twice, once through the prepared insert and once through ``bulk_create``
(``outbox._bulk_created``, the way taken for rows too many for one statement), and the two are
held to each other: every column of every row, and every attribute of the returned instances.
Run on SQLite and PostgreSQL (``DATABASE_URL``), whose compilers lay the rows out differently
(one row after another, or one array a column).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cycle import outbox
from cycle.models import Notification, NotificationPreference
from cycle.prepared import PreparedWrite
from tests.factories import CycleWorld, UserFactory

pytestmark = pytest.mark.django_db

Channel = Notification.Channel

COLUMNS = [field.attname for field in Notification._meta.concrete_fields if not field.primary_key]


@pytest.fixture
def people() -> list[Any]:
    """Someone by e-mail, someone in the app only by choice, someone without an address,
    someone inactive, someone who chose e-mail, and a sixth to make the panel larger."""
    by_email = UserFactory()
    in_app = UserFactory()
    NotificationPreference.objects.create(
        user=in_app, channel=Channel.IN_APP, updated_at=timezone.now()
    )
    no_address = UserFactory(email="")
    inactive = UserFactory(is_active=False)
    chose_email = UserFactory()
    NotificationPreference.objects.create(
        user=chose_email, channel=Channel.EMAIL, updated_at=timezone.now()
    )
    return [by_email, in_app, no_address, inactive, chose_email, UserFactory()]


def written_both_ways(
    ids: list[int], key: str, **options: Any
) -> tuple[list[Notification], list[Notification]]:
    """The notifications written for ``ids`` under ``key`` by the prepared insert, and by
    ``bulk_create`` under ``key`` with ``:bulk`` added."""
    world = options.pop("cycle", None)
    message = options.pop("message", outbox.Message(subject="S" * 250, body="Body."))
    in_app_only = options.pop("in_app_only", False)
    kind = Notification.Kind.BUDGET_CHANGED
    now = timezone.now()
    recipients = outbox._recipients(sorted(ids))
    prepared = outbox._insert(kind, world, recipients, message, key, now, in_app_only)
    bulk = outbox._bulk_created(kind, world, recipients, message, f"{key}:bulk", now, in_app_only)
    return prepared, bulk


def as_stored(pk: int) -> dict[str, Any]:
    row = Notification.objects.filter(pk=pk).values(*COLUMNS).get()
    row["idempotency_key"] = row["idempotency_key"].replace(":bulk", "")
    return row


def as_returned(notification: Notification) -> dict[str, Any]:
    values = {name: getattr(notification, name) for name in COLUMNS}
    values["idempotency_key"] = values["idempotency_key"].replace(":bulk", "")
    return values


def assert_same(prepared: list[Notification], bulk: list[Notification]) -> None:
    assert len(prepared) == len(bulk)
    for mine, theirs in zip(prepared, bulk, strict=True):
        assert mine.pk is not None and mine.pk != theirs.pk
        assert as_returned(mine) == as_returned(theirs)
        assert as_stored(mine.pk) == as_stored(theirs.pk)
        assert as_returned(mine) == as_stored(mine.pk)
        assert mine._state.adding is False and mine._state.db == theirs._state.db
        assert mine.cycle_id == theirs.cycle_id
    assert [row.pk for row in prepared] == sorted(row.pk for row in prepared)


@pytest.mark.parametrize("count", [1, 2, 6])
def test_the_prepared_insert_writes_what_bulk_create_writes(people, count):
    world = CycleWorld()
    ids = [person.pk for person in people[:count]]

    prepared, bulk = written_both_ways(ids, f"case:{count}", cycle=world.cycle)

    assert_same(prepared, bulk)
    active = [person.pk for person in people[:count] if person.is_active]
    assert [row.recipient_id for row in prepared] == active
    with CaptureQueriesContext(connection) as queries:
        assert all(row.cycle is world.cycle for row in prepared)
    assert len(queries) == 0


def test_channels_and_delivery_as_before(people):
    by_email, in_app, no_address, inactive, chose_email, _ = people

    prepared, bulk = written_both_ways([p.pk for p in people], "channels")

    assert_same(prepared, bulk)
    by_recipient = {row.recipient_id: row for row in prepared}
    assert inactive.pk not in by_recipient
    assert by_recipient[by_email.pk].channel == Channel.EMAIL
    assert by_recipient[by_email.pk].delivered_at is None
    assert by_recipient[chose_email.pk].channel == Channel.EMAIL
    for shown in (in_app.pk, no_address.pk):
        assert by_recipient[shown].channel == Channel.IN_APP
        assert by_recipient[shown].delivered_at == by_recipient[shown].created_at
    assert all(len(row.subject) == 200 and row.cycle is None for row in prepared)


def test_in_app_only_and_a_message_for_each_recipient(people):
    def message(pk: int) -> outbox.Message:
        return outbox.Message(subject=f"For {pk}", body=f"Only for {pk}.")

    prepared, bulk = written_both_ways(
        [p.pk for p in people], "each", message=message, in_app_only=True
    )

    assert_same(prepared, bulk)
    assert {row.channel for row in prepared} == {Channel.IN_APP}
    assert [row.subject for row in prepared] == [f"For {row.recipient_id}" for row in prepared]


def test_write_is_one_read_and_one_insert_and_skips_those_told(people, django_assert_num_queries):
    ids = [p.pk for p in people]
    message = outbox.Message(subject="Hello", body="Hello.")

    with django_assert_num_queries(2):
        first = outbox.write(
            kind="reminder", cycle=None, recipient_ids=ids, message=message, key="k"
        )
    # Those told are looked for, and the one inactive account, never told, read again.
    with django_assert_num_queries(2):
        again = outbox.write(
            kind="reminder",
            cycle=None,
            recipient_ids=ids,
            message=message,
            key="k",
            skip_existing=True,
        )

    assert len(first) == 5 and again == []
    keys = set(Notification.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"k:{row.recipient_id}" for row in first}


def test_rows_too_many_for_one_statement_go_through_bulk_create(people, monkeypatch):
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 2)
    message = outbox.Message(subject="Hello", body="Hello.")

    created = outbox.write(
        kind="reminder", cycle=None, recipient_ids=[p.pk for p in people], message=message, key="b"
    )

    assert [row.idempotency_key for row in created] == [f"b:{p.pk}" for p in people if p.is_active]
    assert Notification.objects.filter(idempotency_key__startswith="b:").count() == 5


def test_rows_statement_returns_the_keys_in_order(people):
    write = PreparedWrite.inserting(Notification)
    now = timezone.now()
    rows = []
    for person in people[:3]:
        instance = Notification(
            recipient_id=person.pk,
            kind="reminder",
            subject="Hi",
            body="Hi.",
            created_at=now,
            next_attempt_at=now,
            idempotency_key=f"rows:{person.pk}",
        )
        rows.append(
            [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in write.fields]
        )

    sql, params = write.rows_statement(rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]

    assert write.rows_statement(rows)[0] is sql  # written once
    stored = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "recipient_id"))
    assert [stored[pk] for pk in ids] == [person.pk for person in people[:3]]
