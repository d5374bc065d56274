"""The report on involvement: its query count and time for an organisation with 1,000 and with
10,000 commissioning cycles (the goal: the query count does not grow).

    python bench/report.py [--cycles 1000 10000] [--neighbours 0.1]

Sets Django up itself. Without ``DATABASE_URL`` it works on a SQLite file in a temporary directory;
with ``DATABASE_URL`` it creates (and afterwards drops) a scratch database ``test_<name>`` on that
server, so the named database itself is not touched.

The data are built quickly rather than through the services, with ``bulk_create`` in the shapes
the services write (DOMAIN.md, seed 004's re-commissioning of day services), each ledger payload
built by the services' own builders (``cycle.records``):

* one organisation whose report is measured, and a neighbouring one with a tenth as many cycles
  whose records must not be read;
* each cycle on the default nine-stage template, started at a point spread over six years and
  carried to a random stage (some complete); each stage visit lasts 20 to 60 days and is left
  through its gate (one in ten by a governance override);
* a panel of 3 to 8 representatives of locally set groups (day service users, carers, …) on the
  decision forum or the reference group; role boundaries for every stage visited (a fifth agreed
  twice), acknowledged by the whole panel; a budget disclosed at the start and changed in a sixth
  of the cycles; every member's attestation per stage;
* a decision at the priorities stage (the strategy) and another at the decision stage (the award)
  when the cycle got that far; 0 to 4 inputs per cycle, answered "we did" (60%), "we couldn't,
  because …" (25%) or still considering, a third of the answers after an earlier "still
  considering", linked to the next decision of the cycle where there is one;
* the ledger: the events the services would have written for all of the above (cycle created,
  panel joined, boundaries agreed and acknowledged, budget disclosed, attestations, gate
  overridden, stage advanced, input submitted and answered, decision recorded), hashed and
  chained with the real
  functions of ``cycle.chain`` so that ``audit verify`` would accept it.

After each build the database's planner statistics are refreshed (``ANALYZE``), as they are on a
database in use. The sizes are built one after the other: the first measurement runs on the first
size, more cycles are then added up to the next size, and so on. For each size the bench times
building the report (``cycle.reports.involvement_report``) over the whole six years and over one
year, counting its queries, and rendering it as HTML and CSV (no queries); it also counts the
queries of the organisation's compliance (``cycle.compliance.organisation_compliance``). PDF is
left out: at these sizes the report runs to thousands of pages.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# Django and the project's modules are imported inside the functions below, after
# set_up_django() has chosen the settings and filled the app registry: models cannot be imported
# before that (an app-loading rule, not an import cycle).
ROOT = Path(__file__).resolve().parent.parent
START = datetime(2019, 4, 1, 9, 0, tzinfo=UTC)
SPAN_DAYS = 6 * 365
GROUPS = (
    "day service users",
    "carers",
    "people with learning disabilities",
    "older people",
    "mental health service users",
    "young carers",
)
SAYINGS = (
    "People at the Tuesday group said the hub is too far without transport.",
    "Keep a drop-in session at every hub, not only by appointment.",
    "The tender papers were full of jargon; we need plain-English summaries.",
    "Carers need the service to open before 8 so they can get to work.",
    "Ask people who do not use day services now why they stopped coming.",
    "Staff continuity matters more to us than new buildings.",
)
ANSWERS = {
    "we-did": "The specification now requires it of every provider.",
    "we-could-not": "It is outside this budget; it has been passed to the council's transport "
    "review.",
    "considering": "Costing it with the providers.",
}


def set_up_django(workdir: Path) -> tuple[str, str]:
    """Configure Django and create the scratch database; its description and the original name."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'report-bench.sqlite3'}"
    os.environ.setdefault("CYCLE_VAR_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cycle.conf.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(workdir / "report-bench-test.sqlite3")
    from django.db import connection

    original = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return f"{connection.vendor} ({name})", original


class Builder:
    """Adds cycles in bulk, with their records and their ledger events, in realistic shapes."""

    def __init__(self) -> None:
        from django.contrib.auth.models import User

        from cycle import chain, records
        from cycle.models import Organisation
        from cycle.stages import DEFAULT

        self.chain = chain
        self.records = records
        self.template = DEFAULT
        self.random = random.Random(20090701)  # go-live of seed 004's new services
        self.home = Organisation.objects.create(name="Northbridge City Council")
        self.neighbour = Organisation.objects.create(name="Southfield Borough Council")
        User.objects.bulk_create(
            [
                User(username=f"commissioner-{n}", first_name="Alex", last_name=f"Lead {n}")
                for n in range(20)
            ]
            + [
                User(username=f"decider-{n}", first_name="Jo", last_name=f"Bell {n}")
                for n in range(5)
            ]
            + [User(username=f"rep-{n}") for n in range(400)]
        )
        users = {user.username: user for user in User.objects.all()}
        self.leads = [users[f"commissioner-{n}"] for n in range(20)]
        self.deciders = [users[f"decider-{n}"] for n in range(5)]
        self.reps = [users[f"rep-{n}"] for n in range(400)]
        self.seq = 0
        self.prev_hash = chain.GENESIS
        self.cycles = {self.home.pk: 0, self.neighbour.pk: 0}

    @staticmethod
    def _record_passages(
        visits: list[Any], signoffs: list[Any], panels: list[Any], plans: list[Any], cycles: Any
    ) -> None:
        """What the advance records on each visit it closes: how many attestations counted (the
        whole panel here, as the ledger says) and, when the gate was passed, the attestation that
        completed the quorum of the panel."""
        from cycle.gates import quorum_for
        from cycle.models import StageVisit

        panel_size = {cycle.pk: len(panel) for cycle, panel in zip(cycles, panels, strict=True)}
        joined = {
            cycle.pk: plan[0] + timedelta(hours=2)
            for cycle, plan in zip(cycles, plans, strict=True)
        }
        by_visit: dict[int, list[Any]] = {}
        for signoff in signoffs:
            by_visit.setdefault(signoff.visit_id, []).append(signoff)
        closed = []
        for visit in visits:
            if visit.closed_at is None:
                continue
            visit.attesting = panel_size[visit.cycle_id]
            counted = sorted(by_visit.get(visit.pk, ()), key=lambda s: (s.recorded_at, s.pk))
            if visit.closure == "passed" and counted:
                active = (
                    panel_size[visit.cycle_id] if joined[visit.cycle_id] <= visit.closed_at else 0
                )
                visit.quorum_signoff_id = counted[min(quorum_for(active), len(counted)) - 1].pk
            closed.append(visit)
        StageVisit.objects.bulk_update(closed, ["attesting", "quorum_signoff"], batch_size=2000)

    def add(self, organisation: Any, count: int, chunk: int = 250) -> None:
        done = 0
        while done < count:
            size = min(chunk, count - done)
            self._chunk(organisation, size)
            done += size
        self.cycles[organisation.pk] += count

    def _event(
        self,
        events: list[Any],
        cycle_last: dict[int, str],
        at: datetime,
        actor: Any,
        action: str,
        cycle_id: int,
        stage_key: str,
        obj: tuple[str, Any],
        payload: dict[str, Any],
    ) -> None:
        from cycle.models import AuditEvent

        chain = self.chain
        self.seq += 1
        fields: dict[str, Any] = {
            "seq": self.seq,
            "at": chain.format_timestamp(at),
            "actor_id": actor.pk if actor else None,
            "actor_name": actor.username if actor else "",
            "action": action,
            "outcome": "done",
            "cycle_id": cycle_id,
            "stage_key": stage_key,
            "object_type": obj[0],
            "object_id": str(obj[1]),
            "payload": chain.canonical_json(payload),
            "prev_hash": self.prev_hash,
            "cycle_prev_hash": cycle_last.get(cycle_id, chain.GENESIS),
        }
        digest = chain.event_hash(fields)
        events.append(AuditEvent(hash=digest, **{**fields, "at": at}))
        self.prev_hash = digest
        cycle_last[cycle_id] = digest

    def _chunk(self, organisation: Any, size: int) -> None:
        """``size`` cycles of ``organisation``, each with its whole story so far."""
        from cycle.actions import LedgerAction
        from cycle.models import (
            AuditEvent,
            BoundaryAcknowledgement,
            BudgetDisclosure,
            CommissioningCycle,
            Decision,
            GateOverride,
            InputResponse,
            LedgerHead,
            RoleBoundaryAgreement,
            SignOff,
            StageVisit,
            UserInput,
        )
        from roles.models import PanelMembership

        rnd = self.random
        records = self.records
        keys = self.template.keys
        plans = []
        for _ in range(size):
            start = START + timedelta(days=rnd.uniform(0, SPAN_DAYS - 400))
            reached = rnd.choice(range(len(keys) + 1))  # len(keys): completed
            durations = [timedelta(days=rnd.uniform(20, 60)) for _ in keys]
            plans.append((start, reached, durations))
        cycles = CommissioningCycle.objects.bulk_create(
            [
                CommissioningCycle(
                    title=f"Day and vocational services {self.cycles[organisation.pk] + n}",
                    organisation=organisation,
                    service_area="Adult social care",
                    lead_commissioner=rnd.choice(self.leads),
                    template_key="default",
                    current_stage=keys[min(reached, len(keys) - 1)],
                    status="completed" if reached == len(keys) else "active",
                )
                for n, (_, reached, _) in enumerate(plans)
            ]
        )
        panels = [rnd.sample(self.reps, rnd.randint(3, 8)) for _ in cycles]
        memberships = PanelMembership.objects.bulk_create(
            [
                PanelMembership(
                    **records.membership_row(
                        cycle=cycle,
                        member=member,
                        represents=rnd.choice(GROUPS),
                        tier="decision-forum" if index < 3 else "reference-group",
                        tender_panel=False,
                        stage_key=keys[0],
                        at=plan[0] + timedelta(hours=2),
                    )
                )
                for cycle, plan, panel in zip(cycles, plans, panels, strict=True)
                for index, member in enumerate(panel)
            ]
        )
        visits: list[Any] = []
        for cycle, (start, reached, durations) in zip(cycles, plans, strict=True):
            opened = start
            for index in range(min(reached + 1, len(keys))):
                closed = opened + durations[index] if index < reached else None
                closure = ""
                if closed is not None:
                    closure = "overridden" if rnd.random() < 0.1 else "passed"
                visits.append(
                    StageVisit(
                        **records.stage_visit_row(
                            cycle=cycle,
                            stage_key=keys[index],
                            position=index + 1,
                            opened_by=cycle.lead_commissioner,
                            at=opened,
                        ),
                        closed_at=closed,
                        closed_by=cycle.lead_commissioner if closed else None,
                        closure=closure,
                    )
                )
                opened = closed or opened
        visits = StageVisit.objects.bulk_create(visits)
        by_cycle: dict[int, list[Any]] = {}
        for visit in visits:
            by_cycle.setdefault(visit.cycle_id, []).append(visit)

        boundaries = []
        budgets = []
        for cycle, (start, _, _) in zip(cycles, plans, strict=True):
            for visit in by_cycle[cycle.pk]:
                versions = 2 if rnd.random() < 0.2 else 1
                for version in range(1, versions + 1):
                    boundaries.append(
                        RoleBoundaryAgreement(
                            **records.boundary_agreement_row(
                                cycle=cycle,
                                stage_key=visit.stage_key,
                                previous=boundaries[-1] if version > 1 else None,
                                purpose="Shape the service with the people who use it.",
                                user_role="Co-author the outcomes; comment on the rest.",
                                influence=rnd.choice(
                                    ("consult", "influence", "influence", "co-decide")
                                ),
                                decision_maker="The cabinet member for adult social care.",
                                commissioner_authority="",
                                fixed_matters="The total budget.",
                                open_matters="Outcomes, locations and opening hours.",
                                recorded_by=cycle.lead_commissioner,
                                at=visit.opened_at + timedelta(days=version),
                            )
                        )
                    )
            budgets.append(
                BudgetDisclosure(
                    **records.budget_disclosure_row(
                        cycle=cycle,
                        version=1,
                        amount=Decimal("1200000.00"),
                        currency="GBP",
                        constraints="",
                        withheld_reason="",
                        signoffs_voided=0,
                        disclosed_by=cycle.lead_commissioner,
                        at=start + timedelta(days=1),
                    )
                )
            )
            later = by_cycle[cycle.pk][-1]
            if len(by_cycle[cycle.pk]) > 2 and rnd.random() < 1 / 6:
                budgets.append(
                    BudgetDisclosure(
                        **records.budget_disclosure_row(
                            cycle=cycle,
                            version=2,
                            amount=Decimal("950000.00"),
                            currency="GBP",
                            constraints="A saving of a fifth is required.",
                            withheld_reason="",
                            signoffs_voided=0,
                            disclosed_by=cycle.lead_commissioner,
                            at=later.opened_at + timedelta(days=3),
                        )
                    )
                )
        boundaries = RoleBoundaryAgreement.objects.bulk_create(boundaries)
        budgets = BudgetDisclosure.objects.bulk_create(budgets)
        latest_boundary = {(b.cycle_id, b.stage_key): b for b in boundaries}
        latest_budget: dict[int, Any] = {}
        for budget in budgets:
            latest_budget[budget.cycle_id] = budget

        acknowledgements = []
        signoffs = []
        overrides = []
        for cycle, panel in zip(cycles, panels, strict=True):
            for visit in by_cycle[cycle.pk]:
                agreement = latest_boundary[(cycle.pk, visit.stage_key)]
                for member in panel:
                    acknowledgements.append(
                        BoundaryAcknowledgement(
                            agreement=agreement,
                            member=member,
                            acknowledged_at=agreement.recorded_at + timedelta(hours=6),
                        )
                    )
                    if visit.closed_at is not None:
                        signoffs.append(
                            SignOff(
                                **records.signoff_row(
                                    visit=visit,
                                    cycle=cycle,
                                    member=member,
                                    kind="attest",
                                    boundary=agreement,
                                    budget=latest_budget[cycle.pk],
                                    reasons="",
                                    at=visit.closed_at - timedelta(days=rnd.uniform(1, 5)),
                                )
                            )
                        )
                if visit.closure == "overridden":
                    overrides.append(
                        GateOverride(
                            **records.override_row(
                                visit=visit,
                                cycle=cycle,
                                by=cycle.lead_commissioner,
                                reason="Deadline set by the board; panel chair consulted.",
                                departs_from=["signoff.quorum"],
                                boundary_version=agreement.version,
                                budget_version=latest_budget[cycle.pk].version,
                                at=visit.closed_at - timedelta(hours=1),
                            )
                        )
                    )
        BoundaryAcknowledgement.objects.bulk_create(acknowledgements, batch_size=5000)
        SignOff.objects.bulk_create(signoffs, batch_size=5000)
        GateOverride.objects.bulk_create(overrides)
        self._record_passages(visits, signoffs, panels, plans, cycles)

        decisions = []
        for cycle in cycles:
            for visit in by_cycle[cycle.pk]:
                if visit.stage_key in ("priorities", "decision") and visit.closed_at:
                    decisions.append(
                        Decision(
                            **records.decision_row(
                                cycle=cycle,
                                visit=visit,
                                stage_key=visit.stage_key,
                                summary="Re-provide the services as six resource hubs."
                                if visit.stage_key == "priorities"
                                else "Award five hubs to four third-sector providers.",
                                decided_by=rnd.choice(self.deciders),
                                forum="Cabinet",
                                veto_used=False,
                                veto_reason="",
                                at=visit.closed_at - timedelta(days=2),
                            )
                        )
                    )
        decisions = Decision.objects.bulk_create(decisions)
        decisions_of: dict[int, list[Any]] = {}
        for decision in decisions:
            decisions_of.setdefault(decision.cycle_id, []).append(decision)

        inputs = []
        for cycle, panel in zip(cycles, panels, strict=True):
            for _ in range(rnd.randint(0, 4)):
                visit = rnd.choice(by_cycle[cycle.pk])
                inputs.append(
                    UserInput(
                        **records.input_row(
                            cycle=cycle,
                            visit=visit,
                            stage_key=visit.stage_key,
                            submitted_by=rnd.choice(panel),
                            source=rnd.choice(("representative", "representative", "panel")),
                            method=rnd.choice(("meeting", "written", "workshop", "survey")),
                            text=rnd.choice(SAYINGS),
                            attachment_reference="",
                            at=visit.opened_at + timedelta(days=rnd.uniform(2, 15)),
                        )
                    )
                )
        responses = []
        previous_of: list[str] = []  # the input's status before each response
        for item in inputs:
            if rnd.random() < 0.1:
                continue  # still awaiting a response
            kind = rnd.choices(("we-did", "we-could-not", "considering"), (60, 25, 15))[0]
            decision = next(
                (
                    d
                    for d in decisions_of.get(item.cycle.pk, [])
                    if d.decided_at > item.submitted_at
                ),
                None,
            )
            answered_at = (decision.decided_at if decision else item.submitted_at) + timedelta(
                days=rnd.uniform(1, 20)
            )
            previous = "awaiting"
            if kind != "considering" and rnd.random() < 1 / 3:
                responses.append(
                    (item, "considering", None, answered_at - timedelta(days=1), answered_at)
                )
                previous_of.append(previous)
                previous = "considering"
            responses.append(
                (item, kind, decision if kind != "considering" else None, answered_at, None)
            )
            previous_of.append(previous)
            item.status = kind
            item.answered_at = answered_at if kind != "considering" else None
        inputs = UserInput.objects.bulk_create(inputs)
        response_rows = InputResponse.objects.bulk_create(
            [
                InputResponse(
                    **records.response_row(
                        user_input=item,
                        cycle=item.cycle,
                        kind=kind,
                        text=ANSWERS[kind],
                        decision=decision,
                        responded_by=item.cycle.lead_commissioner,
                        at=at,
                    ),
                    superseded_at=superseded,
                )
                for item, kind, decision, at, superseded in responses
            ]
        )

        # The ledger, cycle by cycle, in the order each cycle's story happened.
        members_of: dict[int, list[Any]] = {}
        for membership in memberships:
            members_of.setdefault(membership.cycle_id, []).append(membership)
        acks_of: dict[tuple[int, str], list[Any]] = {}
        for ack in acknowledgements:
            acks_of.setdefault((ack.agreement.cycle_id, ack.agreement.stage_key), []).append(ack)
        story: dict[int, list[tuple[datetime, Any, str, str, tuple[str, Any], dict[str, Any]]]] = {
            cycle.pk: [] for cycle in cycles
        }
        overridden = {override.visit_id: override for override in overrides}
        for cycle in cycles:
            story[cycle.pk].append(
                (
                    by_cycle[cycle.pk][0].opened_at,
                    cycle.lead_commissioner,
                    LedgerAction.CYCLE_CREATED,
                    keys[0],
                    ("cycle.commissioningcycle", cycle.pk),
                    records.cycle_created(
                        title=cycle.title,
                        organisation=organisation.name,
                        lead=cycle.lead_commissioner.username,
                        template="default",
                    ),
                )
            )
        for membership in memberships:
            story[membership.cycle_id].append(
                (
                    membership.joined_at,
                    membership.cycle.lead_commissioner,
                    LedgerAction.PANEL_JOINED,
                    keys[0],
                    ("roles.panelmembership", membership.pk),
                    records.panel_joined(
                        member=membership.member.username,
                        represents=membership.represents,
                        tier=membership.tier,
                        tender_panel=membership.tender_panel,
                    ),
                )
            )
        for agreement in boundaries:
            story[agreement.cycle_id].append(
                (
                    agreement.recorded_at,
                    agreement.recorded_by,
                    LedgerAction.BOUNDARIES_AGREED,
                    agreement.stage_key,
                    ("cycle.roleboundaryagreement", agreement.pk),
                    records.boundaries_agreed(
                        version=agreement.version,
                        influence=agreement.influence,
                        decision_maker=agreement.decision_maker,
                        unchanged=agreement.unchanged_from_previous,
                    ),
                )
            )
        for ack in acknowledgements:
            story[ack.agreement.cycle_id].append(
                (
                    ack.acknowledged_at,
                    ack.member,
                    LedgerAction.BOUNDARIES_ACKNOWLEDGED,
                    ack.agreement.stage_key,
                    ("cycle.boundaryacknowledgement", ack.pk),
                    records.boundaries_acknowledged(version=ack.agreement.version),
                )
            )
        first_budget: dict[int, Any] = {}
        for budget in budgets:
            previous = first_budget.setdefault(budget.cycle_id, budget)
            story[budget.cycle_id].append(
                (
                    budget.disclosed_at,
                    budget.disclosed_by,
                    LedgerAction.BUDGET_DISCLOSED,
                    keys[0] if budget.version == 1 else by_cycle[budget.cycle_id][-1].stage_key,
                    ("cycle.budgetdisclosure", budget.pk),
                    records.budget_disclosed(
                        version=budget.version,
                        amount=budget.amount,
                        currency=budget.currency,
                        withheld=bool(budget.withheld_reason),
                        previous_amount=previous.amount if previous is not budget else None,
                        # Every sign-off here is against the latest budget: a change voids none.
                        signoffs_voided=0,
                        panel=(m.member_id for m in members_of[budget.cycle_id]),
                    ),
                )
            )
        for signoff in signoffs:
            story[signoff.cycle_id].append(
                (
                    signoff.recorded_at,
                    signoff.member,
                    LedgerAction.SIGNOFF_ATTESTED,
                    signoff.visit.stage_key,
                    ("cycle.signoff", signoff.pk),
                    records.signoff_recorded(
                        boundary_version=signoff.boundary.version,
                        budget_version=signoff.budget.version,
                        reasons=signoff.reasons,
                    ),
                )
            )
        for override in overrides:
            story[override.cycle_id].append(
                (
                    override.recorded_at,
                    override.by,
                    LedgerAction.GATE_OVERRIDDEN,
                    override.visit.stage_key,
                    ("cycle.gateoverride", override.pk),
                    records.gate_overridden(
                        reason=override.reason,
                        unmet=override.unmet_codes.split(","),
                        departs_from={code: () for code in override.unmet_codes.split(",")},
                        boundary_version=override.boundary_version,
                        budget_version=override.budget_version,
                    ),
                )
            )
        for visit in visits:
            if visit.closed_at is None:
                continue
            following = keys[visit.position] if visit.position < len(keys) else None
            override = overridden.get(visit.pk)
            story[visit.cycle_id].append(
                (
                    visit.closed_at,
                    visit.closed_by,
                    LedgerAction.STAGE_ADVANCED,
                    visit.stage_key,
                    ("cycle.stagevisit", visit.pk),
                    records.stage_advanced(
                        from_stage=visit.stage_key,
                        to_stage=following,
                        closure=visit.closure,
                        attesting=(m.member_id for m in members_of[visit.cycle_id]),
                        overridden_unmet=override.unmet_codes.split(",") if override else [],
                    ),
                )
            )
        for decision in decisions:
            story[decision.cycle_id].append(
                (
                    decision.decided_at,
                    decision.decided_by,
                    LedgerAction.DECISION_RECORDED,
                    decision.stage_key,
                    ("cycle.decision", decision.pk),
                    records.decision_recorded(
                        summary=decision.summary,
                        forum=decision.forum,
                        veto_used=decision.veto_used,
                        veto_reason=decision.veto_reason,
                    ),
                )
            )
        for item in inputs:
            story[item.cycle_id].append(
                (
                    item.submitted_at,
                    item.submitted_by,
                    LedgerAction.INPUT_SUBMITTED,
                    item.stage_key,
                    ("cycle.userinput", item.pk),
                    records.input_submitted(
                        source=item.source,
                        method=item.method,
                        text=item.text,
                        attachment_reference=item.attachment_reference,
                    ),
                )
            )
        for response, previous_kind in zip(response_rows, previous_of, strict=True):
            story[response.cycle_id].append(
                (
                    response.responded_at,
                    response.responded_by,
                    LedgerAction.INPUT_RESPONDED,
                    response.user_input.stage_key,
                    ("cycle.inputresponse", response.pk),
                    records.input_responded(
                        input_id=response.user_input_id,
                        kind=response.kind,
                        text=response.text,
                        decision_id=response.decision_id,
                        previous=previous_kind,
                    ),
                )
            )
        events: list[Any] = []
        cycle_last: dict[int, str] = {}
        for cycle in cycles:
            for at, actor, action, stage_key, obj, payload in sorted(
                story[cycle.pk], key=lambda entry: entry[0]
            ):
                self._event(
                    events, cycle_last, at, actor, action, cycle.pk, stage_key, obj, payload
                )
        AuditEvent.objects.bulk_create(events, batch_size=5000)
        LedgerHead.objects.update_or_create(
            pk=1, defaults={"seq": self.seq, "hash": self.prev_hash}
        )


def measure(run: Callable[..., Any], *args: Any) -> tuple[int, float, Any]:
    """Queries, seconds and result of one call. With ``REPORT_BENCH_SQL_TIMES`` set, each query's
    own time goes to standard error."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = run(*args)
        seconds = time.perf_counter() - started
    if os.environ.get("REPORT_BENCH_SQL_TIMES"):
        for query in queries.captured_queries:
            print(f"  {query['time']}s  {query['sql'][:160]}", file=sys.stderr)
    return len(queries), seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--neighbours", type=float, default=0.1, help="The neighbour's cycles, as a share."
    )
    args = parser.parse_args()
    sizes = sorted(args.cycles)

    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        workdir = Path(tmp)
        database, original_name = set_up_django(workdir)
        from django.conf import settings
        from django.db import connection

        settings.DEBUG = False  # no query log while building; measure() counts queries itself

        from cycle import ledger
        from cycle.compliance import organisation_compliance
        from cycle.models import AuditEvent, Decision, UserInput
        from cycle.reports import involvement_report, render_csv, render_html

        results = []
        try:
            builder = Builder()
            built = 0
            for size in sizes:
                started = time.perf_counter()
                builder.add(builder.home, size - built)
                builder.add(builder.neighbour, int((size - built) * args.neighbours))
                built = size
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # the planner statistics a database in use has
                build_seconds = time.perf_counter() - started
                home = builder.home
                counts = {
                    "decisions": Decision.objects.filter(cycle__organisation=home).count(),
                    "inputs": UserInput.objects.filter(cycle__organisation=home).count(),
                    "events": AuditEvent.objects.count(),
                }
                whole = (START.date(), (START + timedelta(days=SPAN_DAYS)).date())
                one_year = (date(2022, 4, 1), date(2023, 3, 31))
                queries, seconds, report = measure(involvement_report, home, *whole)
                year_queries, year_seconds, year_report = measure(
                    involvement_report, home, *one_year
                )
                _, html_seconds, html = measure(render_html, report)
                _, csv_seconds, csv_text = measure(render_csv, report)
                compliance_queries, compliance_seconds, _ = measure(organisation_compliance, home)
                results.append(
                    {
                        "cycles": size,
                        "build_seconds": build_seconds,
                        **counts,
                        "queries": queries,
                        "seconds": seconds,
                        "decisions_reported": len(report.decisions),
                        "year_queries": year_queries,
                        "year_seconds": year_seconds,
                        "year_decisions": len(year_report.decisions),
                        "html_seconds": html_seconds,
                        "html_mb": len(html.encode()) / 1e6,
                        "csv_seconds": csv_seconds,
                        "csv_mb": len(csv_text.encode()) / 1e6,
                        "compliance_queries": compliance_queries,
                        "compliance_seconds": compliance_seconds,
                    }
                )
                print(
                    f"built {size:,} cycles ({counts['events']:,} ledger events in all) "
                    f"in {build_seconds:.1f} s",
                    file=sys.stderr,
                )
                if size == sizes[0]:
                    verification = ledger.verify_ledger()
                    assert verification.ok, verification
                    print(f"the ledger verifies: {verification.checked:,} events", file=sys.stderr)
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)

    print(f"Report on involvement benchmark — {database}, Python {sys.version.split()[0]}")
    print()
    print(
        "| cycles | decisions | inputs | report, six years: queries | seconds "
        "| one year: queries | seconds | HTML s (MB) | CSV s (MB) | compliance: queries | seconds |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        print(
            f"| {row['cycles']:,} | {row['decisions']:,} | {row['inputs']:,} "
            f"| {row['queries']} | {row['seconds']:.2f} "
            f"| {row['year_queries']} | {row['year_seconds']:.2f} "
            f"| {row['html_seconds']:.2f} ({row['html_mb']:.1f}) "
            f"| {row['csv_seconds']:.2f} ({row['csv_mb']:.1f}) "
            f"| {row['compliance_queries']} | {row['compliance_seconds']:.2f} |"
        )
    for row in results:
        assert row["decisions_reported"] == row["decisions"], "every decision must be reported"
    counts = {row["queries"] for row in results} | {row["year_queries"] for row in results}
    compliance_counts = {row["compliance_queries"] for row in results}
    print()
    steady = len(counts) == 1 and len(compliance_counts) == 1
    print(
        "Goal met: the query count does not grow with the number of cycles."
        if steady
        else "Goal NOT met: the query count grows with the number of cycles."
    )
    return 0 if steady else 1


if __name__ == "__main__":
    sys.exit(main())
