"""A seeded cycle goes from where the demo leaves it to completion through the pages alone: no
command line, no override. Each person does their part in their own signed-in session."""

from __future__ import annotations

from cycle.models import AuditEvent, CommissioningCycle, GateOverride
from roles.models import PanelMembership
from tests.web.pages import error_summary, text


def test_day_services_is_completed_through_the_pages_alone(demo, client_as):
    cycle = demo["day-services"]
    base = f"/cycles/{cycle.pk}"
    lead = client_as("gillian.marsh")
    assert cycle.current_stage == "monitoring"  # the last stage; its gate is closed

    # The gate says what is missing; each line links to the page that fixes it.
    blocked = lead.post(f"{base}/")
    assert error_summary(blocked) != []

    members = [
        m.member.username
        for m in PanelMembership.objects.active().filter(cycle=cycle).select_related("member")
    ]
    for username in members:
        member = client_as(username)
        page = member.get(f"{base}/boundaries/")
        if "I have read this" in text(page):
            done = member.post(f"{base}/boundaries/acknowledge/", follow=True)
            assert "You said you have read your part in this stage" in text(done)
    for username in members[:4]:
        done = client_as(username).post(f"{base}/sign-off/", {"answer": "attest"}, follow=True)
        assert "You said you took part as agreed" in text(done)

    inputs = lead.get(f"{base}/inputs/")
    for row in inputs.context["unanswered"]:
        answered = lead.post(
            f"{base}/inputs/{row.user_input.pk}/answer/",
            {"kind": "we-did", "text": "The committee becomes user-run from April."},
            follow=True,
        )
        assert "You answered “We did”." in text(answered)

    moved = lead.post(f"{base}/", follow=True)

    cycle.refresh_from_db()
    assert cycle.status == CommissioningCycle.Status.COMPLETED
    assert "That was the last stage: it is complete." in text(moved)
    assert not GateOverride.objects.filter(cycle=cycle, visit__stage_key="monitoring").exists()
    assert (
        AuditEvent.objects.filter(cycle=cycle, action="stage.advanced")
        .last()
        .payload.find('"closure":"passed"')
        != -1
    )
