"""The journeys' rules through the test client: what each page shows, says and refuses."""

from __future__ import annotations

from cycle.models import BudgetDisclosure, RoleBoundaryAgreement, SignOff
from roles.models import PanelMembership
from tests.web.pages import error_summary, summary_links, text


def test_a_representatives_home_says_first_what_is_asked_and_by_when(demo, client_as):
    response = client_as("pauline.dobson").get("/")
    page = text(response)

    assert page.index("What we ask you to do") < page.index("Where you help")
    assert "Tell us if you took part in the way that was agreed." in page
    assert "Please do this by" in page


def test_revised_boundaries_show_what_changed_to_the_lead_and_to_the_member(demo, client_as):
    cycle = demo["day-services"]
    lead = client_as("gillian.marsh")
    current = RoleBoundaryAgreement.objects.filter(cycle=cycle, stage_key="monitoring").last()
    terms = {
        "purpose": current.purpose,
        "user_role": current.user_role,
        "influence": "co-decide",
        "decision_maker": current.decision_maker,
        "commissioner_authority": current.commissioner_authority,
        "fixed_matters": current.fixed_matters,
        "open_matters": "What is monitored, and the committee's own budget.",
    }

    saved = lead.post(f"/cycles/{cycle.pk}/boundaries/record/", terms, follow=True)

    assert "You recorded version 2 of the role boundaries." in text(saved)
    assert "Before: Influence Now: Co-decide" in text(saved)
    member = text(client_as("pauline.dobson").get(f"/cycles/{cycle.pk}/boundaries/"))
    assert "This has changed" in member
    assert "How much users can change Changed Co-decide Before, it said: Influence" in member
    assert "Why users are involved Changed" not in member


def test_a_budget_change_voids_sign_offs_and_is_marked_for_who_signed_off(demo, client_as):
    cycle = demo["day-services"]
    member = client_as("pauline.dobson")
    member.post(f"/cycles/{cycle.pk}/sign-off/", {"answer": "attest"})

    changed = client_as("gillian.marsh").post(
        f"/cycles/{cycle.pk}/budget/record/",
        {"choice": "amount", "amount": "4100000", "constraints": ""},
        follow=True,
    )

    version = BudgetDisclosure.objects.filter(cycle=cycle).count()
    assert (
        f"You told the panel £4,100,000.00 (version {version}). Sign-offs given against an "
        "earlier budget no longer count: the panel must sign off again." in text(changed)
    )
    page = text(member.get(f"/cycles/{cycle.pk}/budget/"))
    assert "The money has changed" in page
    assert "Before: we could not say how much. Now: £4,100,000.00." in page
    home = text(member.get("/"))
    assert "Something changed since you last told us how it went." in home


def test_a_budget_withheld_needs_its_reason_and_keeps_what_was_typed(demo, client_as):
    cycle = demo["day-services"]
    versions = BudgetDisclosure.objects.filter(cycle=cycle).count()

    response = client_as("gillian.marsh").post(
        f"/cycles/{cycle.pk}/budget/record/",
        {"choice": "withheld", "constraints": "Ring-fenced for day services."},
    )

    assert error_summary(response) == ["Say why the amount cannot be given"]
    assert summary_links(response) == ["#id_withheld_reason"]
    assert "Ring-fenced for day services." in response.content.decode()
    assert BudgetDisclosure.objects.filter(cycle=cycle).count() == versions


def test_dissent_needs_reasons_then_says_what_was_done_and_can_be_taken_back(demo, client_as):
    cycle = demo["day-services"]
    member = client_as("pauline.dobson")

    empty = member.post(f"/cycles/{cycle.pk}/sign-off/", {"answer": "dissent"})
    assert error_summary(empty) == ["Tell us what went wrong"]

    dissent = member.post(
        f"/cycles/{cycle.pk}/sign-off/",
        {"answer": "dissent", "reasons": "We were not told about the meeting."},
        follow=True,
    )
    assert (
        "You said it did not happen as agreed. We wrote down your reasons. The stage cannot end "
        "until you take this back, or a board looks at it." in text(dissent)
    )
    assert "Your sign-off is on the record" not in text(dissent)

    removal = client_as("maggie.rowe").post(
        f"/cycles/{cycle.pk}/panel/remove/",
        {
            "member": PanelMembership.objects.get(
                cycle=cycle, member__username="pauline.dobson", left_at=None
            ).member_id
        },
    )
    assert removal.context["form"].error_codes() == ["panel.dissent_open"]

    withdrawn = member.post(f"/cycles/{cycle.pk}/sign-off/withdraw/", follow=True)
    assert (
        "You took back what you said went wrong. It is still on the record that you said it."
        in text(withdrawn)
    )
    assert SignOff.objects.filter(cycle=cycle, withdrawn=True).count() == 1


def test_withdrawing_with_no_dissent_is_told_on_the_sign_off_page(demo, client_as):
    cycle = demo["day-services"]

    response = client_as("pauline.dobson").post(f"/cycles/{cycle.pk}/sign-off/withdraw/")

    assert response.status_code == 200
    assert error_summary(response) == ["You have no open dissent on this stage."]
    assert "Tell us if it went as agreed" in text(response)


def test_a_veto_needs_its_reasons(demo, client_as):
    cycle = demo["day-services"]

    response = client_as("catherine.holt").post(
        f"/cycles/{cycle.pk}/decisions/record/",
        {"summary": "Keep the committee.", "veto_used": "on"},
    )

    assert error_summary(response) == ["Say why the veto was used"]


def test_only_the_lead_may_answer_input(demo, client_as):
    cycle = demo["day-services"]
    given = cycle.inputs.first()

    response = client_as("maggie.rowe").post(
        f"/cycles/{cycle.pk}/inputs/{given.pk}/answer/", {"kind": "considering"}
    )

    assert response.context["form"].error_codes() == ["forbidden.lead"]
    assert error_summary(response) == [
        "Only the cycle's lead commissioner can record gate evidence or move its stages."
    ]
