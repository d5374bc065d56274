"""Telling people: who hears what, in plain words, and the outbox that delivers it once.

Celery runs eagerly here; ``django_capture_on_commit_callbacks(execute=True)`` plays the commit, so
the delivery task runs as it would after a real one. The real worker and broker are in
``tests/cycle/test_outbox_broker.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from cycle import notifications, outbox, services
from cycle import tasks as cycle_tasks
from cycle.errors import Conflict, InvalidRequest, NotFound
from cycle.models import Notification
from roles import services as role_services
from tests.factories import CycleWorld, governance_member, representative, user_with_role

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def told(kind: str, world: CycleWorld | None = None) -> list[Notification]:
    rows = Notification.objects.filter(kind=kind)
    if world is not None:
        rows = rows.filter(cycle=world.cycle)
    return list(rows.order_by("recipient_id", "pk"))


def recipients(kind: str, world: CycleWorld) -> list[int]:
    return [row.recipient_id for row in told(kind, world)]


def empty_outbox() -> None:
    """Forget what setting up the world told people (the panel joining), to count from zero."""
    Notification.objects.all().delete()


# Who is told, and what


def test_one_budget_change_tells_each_active_panel_member_once_what_changed(
    world, django_capture_on_commit_callbacks
):
    world.disclose_budget("1200000")
    leaver = world.panel[2]
    role_services.membership_leave(actor=leaver, cycle_id=world.id, reason="Moving away.")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        disclosure = world.disclose_budget("900000", constraints="Must cover transport.")

    rows = [
        row
        for row in told(Kind.BUDGET_CHANGED, world)
        if row.idempotency_key.startswith(f"budget:{disclosure.pk}:")
    ]
    assert sorted(row.recipient_id for row in rows) == sorted(m.pk for m in world.panel[:2])
    for row in rows:
        assert row.subject == "Day services: The budget went down from £1,200,000 to £900,000."
        assert "The budget went down from £1,200,000 to £900,000." in row.body
        assert "What the money must cover, or other limits: Must cover transport." in row.body
        assert "no longer counts" in row.body
        assert row.delivered_at is not None
        assert row.attempts == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        m.email for m in world.panel[:2]
    )


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        (None, {"amount": "500000"}, "The budget is £500,000."),
        (
            {"amount": "500000"},
            {"amount": "650000.50"},
            "The budget went up from £500,000 to £650,000.50.",
        ),
        (
            {"amount": "500000"},
            {"amount": "500000", "constraints": "Two years only."},
            "The budget is £500,000 (it was £500,000).",
        ),
        (
            {"amount": "500000"},
            {"amount": None, "withheld_reason": "Cabinet has not set it."},
            "The budget is no longer given (it was £500,000). The reason: Cabinet has not set it.",
        ),
        (
            {"amount": None, "withheld_reason": "Not set yet."},
            {"amount": "420000"},
            "The budget is now given: £420,000. Before, it was withheld.",
        ),
        (
            None,
            {"amount": None, "withheld_reason": "Not set yet."},
            "The budget cannot be given yet. The reason: Not set yet.",
        ),
    ],
)
def test_the_budget_message_says_what_changed_in_plain_words(world, before, after, words):
    if before is not None:
        world.disclose_budget(**before)
    disclosure = world.disclose_budget(**after)

    [body] = {
        row.body
        for row in told(Kind.BUDGET_CHANGED, world)
        if row.idempotency_key.startswith(f"budget:{disclosure.pk}:")
    }
    assert body.startswith(words)


def test_changed_role_boundaries_list_each_change_to_every_member(world):
    world.agree_boundaries()
    agreement = world.agree_boundaries(influence="consult", open_matters="Opening hours only.")

    rows = [
        r
        for r in told(Kind.BOUNDARIES_CHANGED, world)
        if r.idempotency_key.startswith(f"boundaries:{agreement.pk}:")
    ]
    assert sorted(r.recipient_id for r in rows) == sorted(m.pk for m in world.panel)
    body = rows[0].body
    assert "- How much users can change: it was “Influence”, now “Consult”." in body
    assert (
        "- What can still change: it was “Outcomes, locations and opening hours.”, now “Opening hours only.”."
        in body
    )
    assert "Who decides" not in body  # unchanged terms are not listed
    assert "Please read it and say you have read it. This is version 2." in body
    assert rows[0].subject == (
        "Day services: your part in 'Agree the involvement framework' has changed"
    )


def test_boundaries_recorded_again_unchanged_still_ask_for_acknowledgement(world):
    world.agree_boundaries()
    world.agree_boundaries()
    latest = told(Kind.BOUNDARIES_CHANGED, world)[-1]
    assert "was written down again. Nothing in it changed." in latest.body
    assert "Please read it and say you have read it. This is version 2." in latest.body


def test_a_dissent_tells_the_involvement_lead_and_the_governance_board(world):
    lead = user_with_role("Involvement lead")
    services.involvement_lead_name(actor=world.lead, cycle_id=world.id, lead=lead)
    other_board = governance_member(username="elsewhere")  # oversees no organisation of ours
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="We were not asked.")

    assert recipients(Kind.DISSENT_RECORDED, world) == sorted([lead.pk, world.governor.pk])
    assert other_board.pk not in recipients(Kind.DISSENT_RECORDED, world)
    body = told(Kind.DISSENT_RECORDED, world)[0].body
    assert "We were not asked." in body


def test_an_attestation_tells_nobody(world):
    world.meet_gate()
    assert told(Kind.DISSENT_RECORDED, world) == []


def test_without_an_involvement_lead_the_lead_commissioner_is_told(world):
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")
    assert recipients(Kind.DISSENT_RECORDED, world) == sorted([world.lead.pk, world.governor.pk])


def test_an_override_tells_the_lead_the_board_and_the_panel_with_its_reasons(world):
    world.meet_gate()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Met her; resolved.")

    expected = sorted([world.lead.pk, world.governor.pk, *(m.pk for m in world.panel)])
    assert recipients(Kind.GATE_OVERRIDDEN, world) == expected
    body = told(Kind.GATE_OVERRIDDEN, world)[0].body
    assert "Met her; resolved." in body
    # What was let go is said in the words the panel's pages use, not as a condition's code.
    assert "What was not done:\n- Someone said it did not happen as agreed." in body
    assert "signoff.dissent" not in body


def test_joining_and_leaving_tell_the_member_and_the_involvement_lead(world):
    newcomer = representative()
    role_services.membership_add(
        actor=world.lead, cycle_id=world.id, member=newcomer, represents="carers"
    )
    role_services.membership_remove(
        actor=world.lead, cycle_id=world.id, member=newcomer, reason="Asked to stand down."
    )

    joined = {row.recipient_id: row for row in told(Kind.MEMBER_JOINED, world)}
    assert joined[newcomer.pk].subject == "Day services: you have joined the panel"
    assert joined[world.lead.pk].body.endswith("representing carers.")
    left = {
        row.recipient_id: row
        for row in told(Kind.MEMBER_LEFT, world)
        if row.idempotency_key.split(":")[1] != ""
    }
    assert set(left) == {newcomer.pk, world.lead.pk}
    assert "Asked to stand down." in left[newcomer.pk].body


def test_a_reopened_stage_tells_the_panel_why(world):
    world.pass_gate()
    services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="framework", reason="Two members left."
    )
    rows = told(Kind.STAGE_REOPENED, world)
    assert sorted(r.recipient_id for r in rows) == sorted(m.pk for m in world.panel)
    assert "Two members left." in rows[0].body
    assert rows[0].subject == "Day services: 'Agree the involvement framework' is open again"


def test_an_answer_to_input_tells_whoever_gave_it(world):
    user_input = services.input_submit(actor=world.panel[1], cycle_id=world.id, text="Saturdays.")
    services.input_respond(
        actor=world.lead,
        cycle_id=world.id,
        input_id=user_input.pk,
        kind="we-could-not",
        text="No staff at weekends.",
    )
    [row] = told(Kind.INPUT_ANSWERED, world)
    assert row.recipient_id == world.panel[1].pk
    assert row.body.startswith(
        "You said: “Saturdays.”\n\nWe couldn't, because: No staff at weekends."
    )


def test_an_answer_to_the_panels_input_tells_the_whole_panel(world):
    user_input = services.input_submit(
        actor=world.panel[1], cycle_id=world.id, text="Transport.", source="panel"
    )
    services.input_respond(
        actor=world.lead, cycle_id=world.id, input_id=user_input.pk, kind="we-did", text="Added."
    )
    assert recipients(Kind.INPUT_ANSWERED, world) == sorted(m.pk for m in world.panel)


def test_a_refused_change_tells_nobody(world):
    with pytest.raises(InvalidRequest):
        world.disclose_budget("-5")
    assert told(Kind.BUDGET_CHANGED, world) == []


def test_starting_a_stage_in_the_flow_asks_each_member_for_sign_off():
    from tests.processes.worlds import FlowWorld

    world = FlowWorld()
    from processes import commissioning

    commissioning.request_signoff(actor=world.lead, cycle_id=world.id)
    rows = told(Kind.SIGNOFF_REQUESTED, world)
    assert sorted(r.recipient_id for r in rows) == sorted(m.pk for m in world.panel)
    assert rows[0].subject == (
        "Day services: please tell us how 'Agree the involvement framework' went"
    )

    # Asking again tells nobody twice; a newcomer is asked.
    newcomer = representative()
    role_services.membership_add(actor=world.lead, cycle_id=world.id, member=newcomer)
    commissioning.request_signoff(actor=world.lead, cycle_id=world.id)
    assert sorted(recipients(Kind.SIGNOFF_REQUESTED, world)) == sorted(
        [*(m.pk for m in world.panel), newcomer.pk]
    )


# Channels and preferences


def test_in_app_only_sends_no_email_but_the_notification_is_there(
    world, django_capture_on_commit_callbacks
):
    member = world.panel[0]
    notifications.notification_preference_set(actor=member, channel="in-app")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        world.disclose_budget()

    row = Notification.objects.get(recipient=member, kind=Kind.BUDGET_CHANGED)
    assert row.channel == "in-app"
    assert row.delivered_at is not None and row.attempts == 0
    assert member.email not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == 2  # the other two members chose nothing: e-mail by default


def test_someone_without_an_email_address_is_told_in_the_app(world):
    member = world.panel[0]
    member.email = ""
    member.save()
    world.disclose_budget()
    row = Notification.objects.get(recipient=member, kind=Kind.BUDGET_CHANGED)
    assert row.channel == "in-app"
    assert row.delivered_at is not None


def test_an_unknown_channel_is_refused_with_its_code(world):
    with pytest.raises(InvalidRequest) as refused:
        notifications.notification_preference_set(actor=world.panel[0], channel="pigeon")
    assert refused.value.code == "invalid.notification_channel"
    assert notifications.channel_for(world.panel[0]) == "email"


# The outbox


def test_the_email_carries_a_message_id_made_from_the_idempotency_key(
    world, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        world.disclose_budget()
    row = Notification.objects.filter(kind=Kind.BUDGET_CHANGED).first()
    [message] = [m for m in mail.outbox if m.to == [row.recipient.email]]
    assert message.extra_headers["X-Cycle-Notification"] == row.idempotency_key
    assert message.extra_headers["Message-ID"].endswith("@cycle.invalid>")
    assert "Sign in to see this" in message.body


def test_nothing_is_sent_before_the_change_commits(world, django_capture_on_commit_callbacks):
    empty_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        world.disclose_budget()
    assert mail.outbox == []
    assert Notification.objects.undelivered().count() == 3
    assert len(callbacks) == 1


def test_delivering_twice_sends_once(world):
    empty_outbox()
    world.disclose_budget()  # the commit is not played: all three wait in the outbox
    row = Notification.objects.undelivered().first()
    mail.outbox.clear()

    assert outbox.deliver(row.pk) == outbox.Outcome.DELIVERED
    assert outbox.deliver(row.pk) == outbox.Outcome.ALREADY
    assert cycle_tasks.sweep_outbox.delay().get() == {"delivered": 2}
    assert cycle_tasks.sweep_outbox.delay().get() == {}

    assert len(mail.outbox) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in world.panel)
    assert outbox.deliver(987654) == outbox.Outcome.MISSING


def test_with_the_broker_down_the_change_succeeds_and_the_sweep_delivers_later(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(outbox.deliver_notification, "apply_async", broker_down)
    empty_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        disclosure = world.disclose_budget("750000")

    assert disclosure.pk is not None
    assert world.refresh().budget_disclosures.count() == 1
    assert Notification.objects.undelivered().count() == 3
    assert mail.outbox == []

    monkeypatch.undo()
    assert outbox.sweep() == {"delivered": 3}
    assert len(mail.outbox) == 3


def test_failed_delivery_is_retried_with_backoff_then_shown_to_the_involvement_lead(
    world, settings
):
    settings.EMAIL_BACKEND = "tests.mailsink.FailingBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_SECONDS = 60
    lead = user_with_role("Involvement lead")
    services.involvement_lead_name(actor=world.lead, cycle_id=world.id, lead=lead)
    member = world.panel[0]
    for other in world.panel[1:]:
        notifications.notification_preference_set(actor=other, channel="in-app")
    empty_outbox()
    world.disclose_budget()
    row = Notification.objects.undelivered().get()
    assert row.recipient_id == member.pk
    start = timezone.now()

    assert outbox.deliver(row.pk, now=start) == outbox.Outcome.RETRY
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.next_attempt_at == start + timedelta(seconds=60)
    assert row.last_error == "ConnectionRefusedError: the mail server refused the connection"
    # Not due yet: the sweep leaves it.
    assert outbox.sweep(now=start + timedelta(seconds=30)) == {}

    assert outbox.sweep(now=start + timedelta(seconds=61)) == {"retry": 1}
    row.refresh_from_db()
    assert row.next_attempt_at == start + timedelta(seconds=61 + 120)
    assert told(Kind.DELIVERY_FAILED, world) == []

    assert outbox.sweep(now=start + timedelta(seconds=200)) == {"gave-up": 1}
    row.refresh_from_db()
    assert row.failed_at is not None and row.delivered_at is None and row.attempts == 3
    [warning] = told(Kind.DELIVERY_FAILED, world)
    assert warning.recipient_id == lead.pk
    assert warning.channel == "in-app"
    assert f"We tried 3 times to e-mail {member.username}" in warning.body
    # Given up: never tried again, and not waiting in the outbox.
    assert outbox.sweep(now=start + timedelta(days=2)) == {}
    assert outbox.deliver(row.pk) == outbox.Outcome.ALREADY
    assert outbox.oldest_undelivered() is None


def test_the_age_of_the_oldest_undelivered_notification(world):
    empty_outbox()
    assert outbox.oldest_undelivered() is None
    world.disclose_budget()
    oldest = Notification.objects.order_by("created_at").first()
    assert outbox.oldest_undelivered(now=oldest.created_at + timedelta(minutes=5)) == timedelta(
        minutes=5
    )


def test_the_backoff_doubles_and_stops_at_a_day(settings):
    settings.NOTIFICATION_RETRY_SECONDS = 60
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert outbox.backoff(30) == timedelta(days=1)


def test_the_same_change_cannot_be_told_twice_to_the_same_person(world):
    from django.db import IntegrityError, transaction

    disclosure = world.disclose_budget()
    with pytest.raises(IntegrityError), transaction.atomic():
        notifications.budget_disclosed(cycle=world.cycle, disclosure=disclosure, previous=None)


# A person's own notifications


def test_the_inbox_shows_newest_first_and_marking_read_touches_only_ones_own(world):
    member, other = world.panel[0], world.panel[1]
    empty_outbox()
    world.disclose_budget("100")
    world.disclose_budget("200")
    assert notifications.unread_count(member) == 2
    newest, older = list(notifications.inbox(member))
    assert "£100 to £200" in newest.subject

    other_row = Notification.objects.filter(recipient=other).first()
    assert (
        notifications.notifications_mark_read(
            actor=member, notification_ids=[older.pk, other_row.pk]
        )
        == 1
    )
    assert notifications.unread_count(member) == 1
    assert notifications.unread_count(other) == 2
    assert notifications.notifications_mark_read(actor=member) == 1
    assert notifications.unread_count(member) == 0
    assert all(row.is_read for row in notifications.inbox(member))


def test_the_inbox_costs_one_query_however_many_notifications(world, django_assert_num_queries):
    empty_outbox()
    for amount in ("100", "200", "300", "400"):
        world.disclose_budget(amount)
    with django_assert_num_queries(1):
        rows = list(notifications.inbox(world.panel[0]))
        assert [row.cycle.title for row in rows] == ["Day services"] * 4


# The nightly check of the ledger


def test_a_ledger_that_does_not_verify_is_reported_to_the_governance_board(world):
    assert cycle_tasks.verify_ledger.delay().get()["ok"] is True
    assert Notification.objects.filter(kind=Kind.LEDGER_UNVERIFIED).count() == 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The table's owner can switch the append-only trigger off: the insider the nightly
            # check is there to catch (rolled back with the test).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks pending on the table
            cursor.execute(
                "ALTER TABLE cycle_auditevent DISABLE TRIGGER cycle_auditevent_append_only"
            )
        cursor.execute("UPDATE cycle_auditevent SET payload = '{}' WHERE seq = 2")
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE cycle_auditevent ENABLE TRIGGER cycle_auditevent_append_only"
            )

    result = cycle_tasks.verify_ledger.delay().get()
    assert result["ok"] is False and result["first_bad_seq"] == 2
    [row] = Notification.objects.filter(kind=Kind.LEDGER_UNVERIFIED)
    assert row.recipient_id == world.governor.pk
    assert "event #2" in row.body
    # Run again the same night: the board is not told twice.
    cycle_tasks.verify_ledger.delay().get()
    assert Notification.objects.filter(kind=Kind.LEDGER_UNVERIFIED).count() == 1


def test_the_beat_schedule_names_tasks_the_worker_knows(settings):
    from cycle.conf.celery import app as project_app

    project_app.loader.import_default_modules()  # what a starting worker does: autodiscovery
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"cycle.tasks.sweep_outbox", "cycle.tasks.fire_workflow_timers"} <= tasks
    assert "cycle.tasks.verify_ledger" in tasks
    for name in tasks:
        assert name in project_app.tasks, name
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert outbox.deliver_notification.acks_late is True


def given_up(world, settings, *, lead) -> Notification:
    """A budget change's e-mail to the first member, given up on after its tries."""
    settings.EMAIL_BACKEND = "tests.mailsink.FailingBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    services.involvement_lead_name(actor=world.lead, cycle_id=world.id, lead=lead)
    for other in world.panel[1:]:
        notifications.notification_preference_set(actor=other, channel="in-app")
    empty_outbox()
    world.disclose_budget()
    row = Notification.objects.undelivered().get()
    assert outbox.deliver(row.pk) == outbox.Outcome.GAVE_UP
    return row


def test_the_lead_sees_the_emails_given_up_on_and_can_try_one_again(
    world, settings, django_capture_on_commit_callbacks
):
    lead = user_with_role("Involvement lead")
    row = given_up(world, settings, lead=lead)
    assert list(notifications.undeliverable_for(lead)) == [row]
    assert list(notifications.undeliverable_for(world.lead)) == []  # a lead is named
    assert list(notifications.undeliverable_for(world.panel[0])) == []

    # The address is put right and the mail server is back: the lead tries again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notification_retry(actor=lead, notification_id=row.pk)

    row.refresh_from_db()
    assert row.failed_at is None and row.delivered_at is not None and row.attempts == 1
    assert [message.to for message in mail.outbox] == [[world.panel[0].email]]
    assert list(notifications.undeliverable_for(lead)) == []


def test_trying_again_is_for_the_lead_told_of_the_failure_and_only_once_given_up(world, settings):
    lead = user_with_role("Involvement lead")
    row = given_up(world, settings, lead=lead)

    for stranger in (world.lead, world.panel[0], world.governor):
        with pytest.raises(NotFound) as refused:
            notifications.notification_retry(actor=stranger, notification_id=row.pk)
        assert refused.value.code == "notification.not_found"
    row.refresh_from_db()
    assert row.failed_at is not None

    notifications.notification_retry(actor=lead, notification_id=row.pk)
    with pytest.raises(Conflict) as refused:
        notifications.notification_retry(actor=lead, notification_id=row.pk)
    assert refused.value.code == "notification.not_given_up"


def test_given_up_again_after_trying_again_the_lead_is_told_again(world, settings):
    lead = user_with_role("Involvement lead")
    row = given_up(world, settings, lead=lead)
    notifications.notification_retry(actor=lead, notification_id=row.pk)

    assert outbox.deliver(row.pk) == outbox.Outcome.GAVE_UP

    warnings = told(Kind.DELIVERY_FAILED, world)
    assert [warning.recipient_id for warning in warnings] == [lead.pk, lead.pk]
    assert "try again from the list of e-mails we could not deliver" in warnings[0].body


def test_an_address_removed_before_delivery_is_given_up_at_once_not_retried(world):
    empty_outbox()
    world.disclose_budget()
    member = world.panel[0]
    row = Notification.objects.undelivered().get(recipient=member)
    type(member).objects.filter(pk=member.pk).update(email="")

    assert outbox.deliver(row.pk) == outbox.Outcome.GAVE_UP

    row.refresh_from_db()
    assert row.attempts == 1 and row.failed_at is not None
    assert row.last_error == f"Undeliverable: {member.username} has no e-mail address"
    [warning] = told(Kind.DELIVERY_FAILED, world)
    assert warning.body.startswith(
        f"We tried once to e-mail {member.username}, who has no e-mail address, and could not."
    )
