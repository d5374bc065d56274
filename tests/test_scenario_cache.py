"""The copy of the seeded scenarios that test modules start from is the real load, row for row."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from cycle.models import CommissioningCycle, Organisation
from roles.models import PanelMembership
from tests import scenario_cache


@pytest.mark.django_db
def test_a_restore_gives_back_every_row_of_the_real_load_whatever_was_changed_since():
    first = scenario_cache.load_demo()  # played for real, or restored if this process has a copy
    copy = scenario_cache._copies[scenario_cache._key()]
    assert scenario_cache._read(copy.tables) == copy.rows

    with transaction.atomic():
        cycle = first[0].cycle
        CommissioningCycle.objects.filter(pk=cycle.pk).update(title="Renamed")
        PanelMembership.objects.filter(cycle=cycle).delete()
        Organisation.objects.create(name="Not in the scenarios")
        ContentType.objects.filter(app_label="cycle", model="organisation").update(model="moved")
        assert scenario_cache._read(copy.tables) != copy.rows

        again = scenario_cache.load_demo()

        assert scenario_cache._read(copy.tables) == copy.rows
        assert [(item.scenario.key, item.cycle.pk, item.created) for item in again] == [
            (item.scenario.key, item.cycle.pk, item.created) for item in first
        ]
        assert again[0].cycle.title == first[0].cycle.title != "Renamed"
        assert ContentType.objects.get_for_model(Organisation).model == "organisation"


@pytest.mark.django_db
def test_a_restore_into_emptied_tables_reads_as_the_load_did():
    loaded = scenario_cache.load_demo()
    keys = {item.scenario.key: item.cycle.pk for item in loaded}
    with transaction.atomic():
        PanelMembership.objects.all().delete()
        scenario_cache.load_demo()
        for key, pk in keys.items():
            cycle = CommissioningCycle.objects.get(pk=pk)
            assert PanelMembership.objects.filter(cycle=cycle).exists(), key
