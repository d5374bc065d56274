"""What compliance and the report query become columns: the attestations that counted when a
stage was passed and the one that completed its quorum, the sign-offs a budget change voided,
and whether a version of the role boundaries changed nothing. Existing rows are filled from the
ledger payloads the services wrote (``stage.advanced``'s ``attesting``, ``budget.disclosed``'s
``signoffs_voided``, ``boundaries.agreed``'s ``unchanged_from_previous``), which stay as they are.
"""

import json
from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models


def _payloads(AuditEvent, action):
    """(object id, payload) of every done event of ``action``, failing loudly on a missing key."""
    rows = (
        AuditEvent.objects.filter(action=action, outcome="done")
        .exclude(object_id="")
        .values_list("object_id", "payload")
        .iterator(chunk_size=2000)
    )
    for object_id, payload in rows:
        yield int(object_id), json.loads(payload)


def _read(payload, key, action):
    try:
        return payload[key]
    except KeyError:
        raise KeyError(f"a {action} payload has no {key!r}; keys: {sorted(payload)}") from None


def _update_by_value(model, field, values):
    """Set ``field`` on each row to its value, in one statement per distinct value."""
    by_value = defaultdict(list)
    for pk, value in values.items():
        by_value[value].append(pk)
    for value, pks in by_value.items():
        for start in range(0, len(pks), 500):
            model.objects.filter(pk__in=pks[start : start + 500]).update(**{field: value})


def _quorum_signoff(visit, attesting, signoffs, memberships):
    """The attestation that completed the quorum of a passed visit, worked out as compliance did
    from the payload: the latest attestation of each attesting member given before the stage was
    left, in time order, the one that made up a majority of the panel active then."""
    latest = {}
    for signoff in signoffs:
        if signoff["member_id"] in attesting and signoff["recorded_at"] <= visit["closed_at"]:
            latest[signoff["member_id"]] = signoff
    times = sorted(latest.values(), key=lambda row: row["recorded_at"])
    if not times:
        return None
    closed_at = visit["closed_at"]
    active = sum(
        1
        for joined_at, left_at in memberships
        if joined_at <= closed_at and (left_at is None or left_at > closed_at)
    )
    needed = max(1, active // 2 + 1)
    return times[min(needed, len(times)) - 1]["id"]


def fill_from_the_ledger(apps, schema_editor):
    AuditEvent = apps.get_model("cycle", "AuditEvent")
    BudgetDisclosure = apps.get_model("cycle", "BudgetDisclosure")
    RoleBoundaryAgreement = apps.get_model("cycle", "RoleBoundaryAgreement")
    SignOff = apps.get_model("cycle", "SignOff")
    StageVisit = apps.get_model("cycle", "StageVisit")
    PanelMembership = apps.get_model("roles", "PanelMembership")

    unchanged = {
        pk: True
        for pk, payload in _payloads(AuditEvent, "boundaries.agreed")
        if _read(payload, "unchanged_from_previous", "boundaries.agreed")
    }
    _update_by_value(RoleBoundaryAgreement, "unchanged_from_previous", unchanged)

    voided = {}
    for pk, payload in _payloads(AuditEvent, "budget.disclosed"):
        count = int(_read(payload, "signoffs_voided", "budget.disclosed"))
        if count:
            voided[pk] = count
    _update_by_value(BudgetDisclosure, "signoffs_voided", voided)

    attesting = {
        pk: frozenset(_read(payload, "attesting", "stage.advanced"))
        for pk, payload in _payloads(AuditEvent, "stage.advanced")
    }
    _update_by_value(StageVisit, "attesting", {pk: len(ids) for pk, ids in attesting.items()})
    passed = list(
        StageVisit.objects.filter(pk__in=attesting, closure="passed", closed_at__isnull=False)
        .order_by("id")
        .values("id", "cycle_id", "closed_at")
    )
    completing = {}
    for start in range(0, len(passed), 500):
        visits = [visit for visit in passed[start : start + 500] if attesting[visit["id"]]]
        signoffs = defaultdict(list)
        for row in (
            SignOff.objects.filter(visit_id__in=[visit["id"] for visit in visits], kind="attest")
            .order_by("id")
            .values("id", "visit_id", "member_id", "recorded_at")
        ):
            signoffs[row["visit_id"]].append(row)
        memberships = defaultdict(list)
        for cycle_id, joined_at, left_at in PanelMembership.objects.filter(
            cycle_id__in={visit["cycle_id"] for visit in visits}
        ).values_list("cycle_id", "joined_at", "left_at"):
            memberships[cycle_id].append((joined_at, left_at))
        for visit in visits:
            signoff = _quorum_signoff(
                visit, attesting[visit["id"]], signoffs[visit["id"]], memberships[visit["cycle_id"]]
            )
            if signoff is not None:
                completing[visit["id"]] = signoff
    StageVisit.objects.bulk_update(
        [StageVisit(pk=pk, quorum_signoff_id=signoff) for pk, signoff in completing.items()],
        ["quorum_signoff"],
        batch_size=500,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cycle', '0018_ledger_canonical_column'),
        ('roles', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='budgetdisclosure',
            name='signoffs_voided',
            field=models.PositiveIntegerField(default=0, help_text='Attestations of the open stage, given against the version before, that this version voided.'),
        ),
        migrations.AddField(
            model_name='roleboundaryagreement',
            name='unchanged_from_previous',
            field=models.BooleanField(default=False, help_text="This version agrees the same terms as the stage's version before it."),
        ),
        migrations.AddField(
            model_name='stagevisit',
            name='attesting',
            field=models.PositiveSmallIntegerField(blank=True, help_text="How many members' attestations counted when the stage was left through its gate.", null=True),
        ),
        migrations.AddField(
            model_name='stagevisit',
            name='quorum_signoff',
            field=models.ForeignKey(blank=True, help_text='The attestation that completed the quorum, when the gate was passed.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cycle.signoff'),
        ),
        migrations.RunPython(fill_from_the_ledger, migrations.RunPython.noop, elidable=True),
    ]
