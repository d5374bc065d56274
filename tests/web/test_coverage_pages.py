"""Who is missing, through the pages: the groups set on the cycle, who speaks for each, and the flag
on the cycle's page, which never stops the lead moving on."""

from __future__ import annotations

from typing import Any

from cycle import duty_services
from cycle.models import CoverageGroup
from roles.models import PanelMembership
from tests.web.pages import h1_count
from tests.web.test_query_counts import measured

LEAD = "gillian.marsh"
INVOLVEMENT_LEAD = "maggie.rowe"


def test_a_group_nobody_speaks_for_is_flagged_on_the_cycle_page_until_someone_does(demo, client_as):
    cycle = demo["day-services"]
    lead = client_as(LEAD)
    assert 'id="who-is-missing"' not in lead.get(f"/cycles/{cycle.pk}/").content.decode()

    added = lead.post(
        f"/cycles/{cycle.pk}/coverage/add/",
        {"name": "Travellers", "kind": "easy-to-overlook"},
        follow=True,
    )
    assert "You added “Travellers”" in added.content.decode()
    page = lead.get(f"/cycles/{cycle.pk}/").content.decode()
    assert 'id="who-is-missing"' in page and "speaks for: Travellers." in page
    assert "This does not stop the stage ending" in page

    group = CoverageGroup.objects.get(cycle=cycle)
    member = PanelMembership.objects.active().filter(cycle=cycle).first()
    assert member is not None
    form = client_as(INVOLVEMENT_LEAD).get(f"/cycles/{cycle.pk}/coverage/{group.pk}/")
    assert form.status_code == 200 and h1_count(form) == 1
    saved = client_as(INVOLVEMENT_LEAD).post(
        f"/cycles/{cycle.pk}/coverage/{group.pk}/", {"members": [str(member.member_id)]}
    )
    assert saved.status_code == 302
    assert 'id="who-is-missing"' not in lead.get(f"/cycles/{cycle.pk}/").content.decode()
    listing = lead.get(f"/cycles/{cycle.pk}/coverage/").content.decode()
    assert 'data-missing="no"' in listing


def test_a_group_already_on_the_list_is_an_error_on_its_field(demo, client_as):
    cycle = demo["day-services"]
    lead = client_as(LEAD)
    lead.post(f"/cycles/{cycle.pk}/coverage/add/", {"name": "Age", "kind": "equality"})
    again = lead.post(f"/cycles/{cycle.pk}/coverage/add/", {"name": "age", "kind": "equality"})
    page = again.content.decode()
    assert again.status_code == 200 and "nhsuk-error-summary" in page
    assert "already on the list" in page
    assert CoverageGroup.objects.filter(cycle=cycle).count() == 1


def _more_groups(cycle: Any) -> Any:
    def more() -> None:
        members = list(
            PanelMembership.objects.active().filter(cycle=cycle).values_list("member_id", flat=True)
        )
        for n in range(3):
            group = duty_services.coverage_group_add(
                actor=cycle.lead_commissioner,
                cycle_id=cycle.pk,
                name=f"Group {CoverageGroup.objects.count()} {n}",
                kind="easy-to-overlook",
            )
            if n:
                duty_services.coverage_record(
                    actor=cycle.lead_commissioner,
                    cycle_id=cycle.pk,
                    group_id=group.pk,
                    member_ids=members[:n],
                )

    return more


def test_the_pages_cost_the_same_however_many_groups_there_are(demo, client_as):
    cycle = demo["day-services"]
    for path in ("", "coverage/"):
        before, after = measured(
            f"{path or 'cycle page'} with groups",
            client_as(LEAD),
            f"/cycles/{cycle.pk}/{path}",
            _more_groups(cycle),
        )
        assert after == before
