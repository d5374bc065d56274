"""Who sees which cycles (``cycles_visible_to``), and object permissions on proxy models."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cycle import services
from cycle.selectors import cycles_visible_to
from roles import definitions
from roles import services as role_services
from roles.models import GovernanceBoard
from tests.factories import OrganisationFactory, commissioner, fresh, representative
from tests.roles.cast import Cast, build_cast

pytestmark = pytest.mark.django_db


def visible(user) -> set[int]:
    return set(cycles_visible_to(fresh(user)).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "who",
    [
        "lead",
        "colleague",
        "involvement_lead",
        "representative",
        "decision_maker",
        "governor",
    ],
)
def test_each_kind_of_user_sees_their_own_cycle_and_nobody_elses(
    cast: Cast, other_cast: Cast, who: str
) -> None:
    assert visible(getattr(cast, who)) == {cast.id}
    assert visible(getattr(other_cast, who)) == {other_cast.id}


def test_a_commissioner_sees_every_cycle_of_their_organisation_not_only_those_they_lead(
    cast: Cast,
) -> None:
    second = services.cycle_create(
        actor=cast.colleague,
        title="Carers' breaks",
        organisation=cast.organisation,
        lead=cast.colleague,
    )
    assert visible(cast.lead) == {cast.id, second.pk}


def test_an_administrator_and_a_representative_not_on_a_panel_see_nothing(cast: Cast) -> None:
    assert visible(cast.administrator) == set()
    assert visible(cast.newcomer) == set()


def test_a_user_without_any_role_sees_nothing_even_on_the_staff(cast: Cast) -> None:
    clerk = User.objects.create_user("clerk")
    cast.organisation.staff.add(clerk)
    assert visible(clerk) == set()


def test_a_member_who_leaves_the_panel_no_longer_sees_the_cycle(cast: Cast) -> None:
    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)
    assert visible(cast.second_representative) == set()


def test_a_representative_sees_each_cycle_whose_panel_they_sit_on(
    cast: Cast, other_cast: Cast
) -> None:
    role_services.membership_add(
        actor=other_cast.lead, cycle_id=other_cast.id, member=cast.representative
    )
    assert visible(cast.representative) == {cast.id, other_cast.id}


def test_a_board_member_sees_the_cycles_of_every_organisation_the_board_oversees(
    cast: Cast, other_cast: Cast
) -> None:
    third = build_cast("east")
    GovernanceBoard.objects.get(members=cast.governor).organisations.add(other_cast.organisation)

    assert visible(cast.governor) == {cast.id, other_cast.id}
    assert third.id not in visible(cast.governor)


def test_anonymous_and_inactive_users_see_nothing(cast: Cast) -> None:
    assert not cycles_visible_to(AnonymousUser()).exists()
    cast.lead.is_active = False
    cast.lead.save()
    assert visible(cast.lead) == set()


def test_a_superuser_sees_every_cycle(cast: Cast, other_cast: Cast) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    assert visible(root) == {cast.id, other_cast.id}


def test_each_cycle_is_listed_once_however_many_ways_the_user_is_linked_to_it(
    cast: Cast,
) -> None:
    cast.lead.groups.add(Group.objects.get(name=definitions.GOVERNANCE))
    GovernanceBoard.objects.get(members=cast.governor).members.add(cast.lead)
    assert list(cycles_visible_to(fresh(cast.lead)).values_list("pk", flat=True)) == [cast.id]


def _queries_to_list_visible_cycles(user) -> int:
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        list(cycles_visible_to(user))
    return len(queries)


@pytest.mark.parametrize("who", ["lead", "representative", "governor"])
def test_listing_visible_cycles_costs_the_same_queries_however_much_data_there_is(
    cast: Cast, who: str
) -> None:
    user = getattr(cast, who)
    small = _queries_to_list_visible_cycles(user)
    assert small == 2  # the role's permissions (one), then the cycles (one)

    organisation = OrganisationFactory(name="Eastshire Council")
    GovernanceBoard.objects.get(members=cast.governor).organisations.add(organisation)
    for number in range(4):
        lead = commissioner(cast.organisation, f"lead-{number}")
        cycle = services.cycle_create(
            actor=lead, title=f"Cycle {number}", organisation=cast.organisation, lead=lead
        )
        role_services.membership_add(actor=lead, cycle_id=cycle.pk, member=cast.representative)
        for seat in range(3):
            role_services.membership_add(
                actor=lead, cycle_id=cycle.pk, member=representative(f"seat-{number}-{seat}")
            )
        elsewhere = commissioner(organisation, f"east-{number}")
        services.cycle_create(
            actor=elsewhere, title="East", organisation=organisation, lead=elsewhere
        )

    assert len(cycles_visible_to(fresh(user))) > 1
    assert _queries_to_list_visible_cycles(user) == small
