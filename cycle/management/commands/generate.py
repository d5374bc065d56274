"""``manage.py generate``: large synthetic data with realistic shapes, for benchmarks.

    manage.py generate --organisations 20 --cycles 1000 [--seed 7] [--years 3]

**Shapes.** Each organisation has 3-8 commissioners and 1-3 decision-makers on its staff, 1-3
involvement leads, a governance board of 3-5 and a pool of user representatives. Each cycle has a
panel of 5-14 (two or three in the decision forum, the rest in the reference group, two to four on
the tender panel where the template has a procurement stage) and moves through its template's
stages at a realistic pace from a random start in the last ``--years`` years: most are still
active, at every stage, some stalled and some completed. On the way members leave and some are
replaced, budgets are revised (mostly cut) after sign-off so the panel re-attests, boundaries are
re-agreed, members dissent (most dissents are withdrawn, the rest overridden by a governance board
member), advances are refused with the gate's own reasons, stages are reopened, decisions are
recorded, and the panel gives input that the commissioner answers ("we did", "we couldn't,
because …", sometimes "still considering" first) or has not answered yet.

**How it is written.** Through the services each change costs dozens of queries, and even Django's
``bulk_create`` spends most of its time preparing values, far too slow for ten thousand cycles. So
people, organisations and boards are written with ``bulk_create``, and everything else as raw
multi-row inserts (``COPY`` on PostgreSQL) with ids taken in advance from the tables' own
sequences: cycles, stage visits, role boundary versions and acknowledgements, budget versions,
working agreements and signatures, panel memberships, conflict declarations, sign-offs, dissents
and their withdrawals, gate overrides, decisions, input and responses, guardian object permissions
(the lead commissioner's and the active panel's, as the services grant them) and one ledger event
for every change and every refused advance, with the action names and payloads the services write.
What keeps it honest:

- each cycle is simulated with the same pure gate rules the services use (``cycle.gates.evaluate``
  on a ``StageSnapshot``), so every stage it leaves had its gate open or an override on record, and
  every refused advance carries exactly the unmet codes the gate gave;
- ledger events are hashed with the ledger's own definition of the chain (``cycle.chain``:
  ``format_timestamp``, ``canonical_json``, ``event_hash``, which ``cycle.ledger`` uses too),
  chained to the current ledger head, each cycle's chain too, and the head is moved on, so
  ``verify_ledger`` and ``verify_cycle`` hold;
- the events of all cycles are merged in time order before they are numbered, so the ledger's times
  rise with its sequence numbers (appended after events that are later in time, such as scenarios
  loaded today, they go back in time at that one join; the command says so).

Not generated: viewflow process records. The process entry points move a cycle that has none by
the plain service call, so generated cycles can be driven on through the services like any other.

Everything is written in one transaction holding the ledger head, so nothing else can append
meanwhile, foreign keys are checked at commit, and a failure leaves nothing behind.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils.functional import Promise
from guardian.ctypes import get_content_type
from guardian.utils import get_user_obj_perms_model

from cycle import chain, duty, records
from cycle.actions import LedgerAction, Operation
from cycle.errors import GateClosed
from cycle.gates import (
    Condition,
    Departure,
    DutyAssessmentState,
    GateResult,
    OverrideRecord,
    Signoff,
    SignoffKind,
    StageSnapshot,
    check_override,
    evaluate,
)
from cycle.management.base import CommandLine
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    DutyAssessment,
    GateOverride,
    GateOverrideDeparture,
    InputResponse,
    LedgerHead,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from cycle.stages import TEMPLATES, StageTemplate
from roles.definitions import load_roles
from roles.models import (
    AgreementSignature,
    ConflictDeclaration,
    GovernanceBoard,
    PanelMembership,
    WorkingAgreement,
)

DAY = 86400.0
Row = dict[str, Any]

WRITTEN: tuple[type[models.Model], ...] = (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    DutyAssessment,
    GateOverride,
    GateOverrideDeparture,
    InputResponse,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
    AgreementSignature,
    ConflictDeclaration,
    PanelMembership,
    WorkingAgreement,
)
"""The tables written raw (with guardian's object permission table)."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- Vocabulary ----------------------------------------------------------------------------------

FIRST_NAMES = _words(
    "Aaliyah Abdi Ada Aisha Alan Amir Anita Beatrice Bilal Carol Chen Chidi Colin Daniel "
    "Deborah Dev Doreen Eileen Emeka Farah Fatima Frank Gareth Gloria Grace Hamid Harriet Helen "
    "Ifeoma Imran Iris Jack Janet Joan Joseph Kamala Kevin Kirsty Leon Linda Lorraine Malik "
    "Margaret Marcus Maria Michael Nadia Neil Niamh Olu Owen Patrick Pauline Priya Rajesh "
    "Rhiannon Rosa Ruth Sahra Samuel Sandra Sean Sunita Tariq Tom Trevor Una Victor Wanjiru "
    "Yusuf Zainab"
)
LAST_NAMES = _words(
    "Adams Adeyemi Ahmed Ali Ashby Baxter Begum Bell Brennan Chauhan Chu Clarke Davies Dobson "
    "Egal Ellis Evans Fairclough Farah Fenwick Foster Gallagher Grant Hassan Heath Holt Hughes "
    "Hussain Jama Jones Kaur Kaye Khan Kowalski Lamb Lowe Marsden Marsh Mensah Murphy Nair Nur "
    "Nuttall O'Neill Okafor Okoye Osei Patel Pike Pritchard Quinn Rahman Rao Roberts Rowe Royce "
    "Shah Sharma Sheikh Singh Smith Taylor Thomas Walsh Warsame Whitfield Williams Wilson "
    "Wright Yilmaz"
)
PLACES = _words(
    "Ashvale Barrowmere Brookfield Calderbridge Castleford Deanhurst Eastmere Fairholme "
    "Glenmoor Hallbrook Harrowgate Ingleby Kingsford Langdale Marshfield Northvale Oakhampton "
    "Pendlebury Queensbury Riverside Rowanbury Southmoor Thornbury Upperton Wexcombe Westbrook "
    "Whitcliffe Wolverdale Yarrowby"
)
ORGANISATION_KINDS = (
    "Integrated Care Board",
    "Borough Council",
    "City Council",
    "County Council",
    "Primary Care Trust",
    "Health and Social Care Partnership",
)
SERVICE_AREAS = (
    "Community mental health",
    "Mental health day and vocational services",
    "Stroke rehabilitation",
    "Carers' support",
    "Learning disability day opportunities",
    "Musculoskeletal physiotherapy",
    "Home care",
    "Dementia support",
    "Diabetes care",
    "Drug and alcohol services",
    "Children's speech and language therapy",
    "Falls prevention",
    "End of life care",
    "Wheelchair services",
    "Community meals",
    "Sexual health",
    "Podiatry",
    "Community nursing",
    "Advocacy",
    "Dermatology",
    "Hearing services",
    "Pulmonary rehabilitation",
)
CYCLE_KINDS = (
    "re-commissioning",
    "service review",
    "redesign",
    "tender",
    "pathway redesign",
    "decommissioning review",
)
REPRESENTS = (
    "People who use the service",
    "Carers",
    "People waiting for the service",
    "Young adults",
    "Older people",
    "People from black and minority ethnic communities",
    "Disabled people",
    "People in work",
    "The local user forum",
    "Healthwatch",
    "People in rural areas",
    "People who have left the service",
)
DECIDERS = (
    "The ICB board decides, on the commissioner's recommendation.",
    "The council's cabinet member decides, on the commissioner's recommendation.",
    "Senior management gives final approval and may veto.",
    "The joint commissioning board decides.",
    "The director of commissioning decides under delegated authority.",
)
PROPOSALS = (
    "Re-commission the service across the area, with a tender where appropriate.",
    "Move the clinic to a new community site with longer opening hours.",
    "Bring two services together into one pathway.",
    "Change the provider when the contract ends; the service stays as it is.",
)
DUTY_QUESTIONS = (
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.PLANNING),
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.PROPOSALS, affects_delivery=True),
    duty.DutyQuestions(
        duty.BodyType.NHS_TRUST, duty.Activity.DECISION, affects_range=True, substantial=True
    ),
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.CONTRACTUAL),
    duty.DutyQuestions(duty.BodyType.LOCAL_AUTHORITY, duty.Activity.PLANNING),
)
"""Duty assessments the generated commissioners record, one of each kind of result."""
WITHHELD = (
    "Contract values are commercially confidential while the tender is open.",
    "The budget depends on the annual budget round, which has not yet concluded.",
    "The pooled budget is still being agreed between the partners.",
)
CONSTRAINTS = (
    "Recurrent funding; no growth this year.",
    "Includes a savings target agreed in the budget round.",
    "Pooled between health and social care under a section 75 agreement.",
    "Capital is not included; revenue only.",
)
CUT_REASONS = (
    "Cut in the budget round after the panel signed off.",
    "In-year savings required by the finance committee.",
    "Reduced after a partner withdrew its contribution.",
)
RISE_REASONS = (
    "Increased after the service was made a local priority.",
    "Non-recurrent money added for the transition.",
)
DISSENTS = (
    "We were not involved as agreed: the papers came two days before the meeting.",
    "The options were fixed before we saw them; our role was to comment, not to influence.",
    "Nobody told us the budget had changed until after the decision meeting.",
    "The meeting was rushed and we could not prepare; we agreed without understanding.",
    "Expenses have not been paid for three months, so two of us could not attend.",
)
OVERRIDES = (
    "The contract end date cannot move; the dissent is recorded and goes to the next review.",
    "A safety issue in the current service requires the move now; the panel's concerns are noted.",
    "The dissent concerns a previous stage's papers; the board will review the process separately.",
)
LEAVING = (
    "Got a job and can no longer attend daytime meetings.",
    "Stepped down for health reasons.",
    "Moved out of the area.",
    "Stopped attending; did not reply to the involvement lead.",
    "Felt the group was not listened to.",
)
REOPENING = (
    "The budget changed: the earlier stage must be revisited with the panel.",
    "New national guidance changes what is fixed and what can still be influenced.",
    "The needs assessment missed a group of users; it is reopened to reach them.",
    "A change of political control means the priorities are reviewed again.",
)
INPUTS = (
    "Meetings in the daytime exclude people in work; could some be in the evening?",
    "The papers are full of jargon; please add a glossary.",
    "People want a named worker they can ring, not a call centre.",
    "Transport to the service is the biggest barrier for people in rural areas.",
    "The survey only reached people already using the service.",
    "Peer support should be part of the specification.",
    "Carers need a break while the person they care for attends.",
    "Information should be available in community languages.",
)
WE_DID = (
    "Added to the specification.",
    "Changed in the next draft and sent to the panel.",
    "Agreed; the provider must report on it every quarter.",
)
WE_COULD_NOT = (
    "Not affordable within the budget as disclosed.",
    "Outside what the commissioner can change: it is set nationally.",
    "The procurement rules do not allow it at this stage.",
)
DECISIONS = (
    "Priorities agreed for the next stage.",
    "The preferred option is approved for the specification.",
    "The contract is awarded to the recommended bidder.",
    "No award: no bid met the quality threshold; the current service continues.",
    "The service specification is approved.",
    "The transition plan is approved.",
)
INFLUENCE_WEIGHTS = (("inform", 5), ("consult", 30), ("influence", 55), ("co-decide", 10))
DECISION_STAGE_HINTS = ("priorit", "decision", "contract", "outcomes", "strategic")
TEMPLATE_WEIGHTS = (("default", 80), ("guide", 10), ("self-assessment", 10))
PANEL_SIZE_WEIGHTS = tuple(zip(range(5, 15), (4, 8, 12, 14, 14, 12, 10, 8, 5, 3), strict=True))


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _stamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- Writing: ids taken in advance, raw multi-row inserts, the ledger chain ---------------------


class Ids:
    """Primary keys handed out before the rows are written, from each table's own sequence.

    On PostgreSQL they come from the table's sequence (``nextval``) in blocks, so nothing else can
    be given the same id; ``lock`` keeps those queries off the connection while the writer thread
    is using it. On SQLite the transaction holds the database's write lock from its start, so the
    ids after the largest one in use are free (SQLite moves its own counter past them on insert);
    the counters are read once, before writing starts.
    """

    BLOCK = 20000

    def __init__(self, models_used: tuple[type[models.Model], ...]) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.lock = threading.Lock()
        self.free: dict[str, list[int]] = defaultdict(list)
        self.counters: dict[str, itertools.count[int]] = {}
        if not self.postgres:
            for model in models_used:
                top = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
                self.counters[model._meta.db_table] = itertools.count(top + 1)

    def take(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        if not self.postgres:
            return next(self.counters[table])
        free = self.free[table]
        if not free:
            with self.lock, connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, self.BLOCK],
                )
                free.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return free.pop()


class Table:
    """One model's table: its columns, defaults for what a row leaves out, and how to write.

    ``write`` uses only the DB-API connection it is given, so it can run in the writer thread.
    """

    def __init__(self, model: type[models.Model], postgres: bool) -> None:
        self.model = model
        self.postgres = postgres
        self.label = str(model._meta.verbose_name_plural)
        fields = model._meta.concrete_fields
        self.names = [f.attname for f in fields]
        self.defaults: dict[str, Any] = {}
        for f in fields:
            value = f.get_default() if f.has_default() else None
            self.defaults[f.attname] = str(value) if isinstance(value, Promise) else value
        self.times = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(str(f.column)) for f in fields)
        if postgres:
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            marks = ", ".join(["?"] * len(fields))
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        self.rows: list[Row] = []

    def take_rows(self) -> list[Row]:
        rows, self.rows = self.rows, []
        return rows

    def tuples(self, rows: list[Row]) -> list[list[Any]]:
        names, defaults, times, postgres = self.names, self.defaults, self.times, self.postgres
        out = []
        for row in rows:
            values = [row[name] if name in row else defaults[name] for name in names]
            for i in times:
                stamp = values[i]
                if stamp is None:
                    continue
                if type(stamp) is float:
                    stamp = _stamp(stamp)
                values[i] = stamp if postgres else str(stamp.replace(tzinfo=None))
            out.append(values)
        return out

    def write(self, raw: Any, rows: list[Row]) -> None:
        values = self.tuples(rows)
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(self.sql) as copy:
                for value in values:
                    copy.write_row(value)
        else:
            raw.executemany(self.sql, values)


@dataclass
class Event:
    """A ledger event, numbered and hashed when it is written."""

    at: float
    actor_id: int | None
    action: str
    cycle_id: int
    stage_key: str
    object_type: str
    object_id: int | None
    payload: dict[str, Any]
    outcome: str = AuditEvent.Outcome.DONE


class Writer:
    """Takes rows and events in time order, hashes the events, and writes both in batches.

    The batches are written by a second thread, in order, on the same connection and
    transaction, so the database's work (SQLite's B-trees, which it updates without holding the
    interpreter; PostgreSQL's ``COPY``) runs alongside the simulation. The main thread touches the
    connection only to take a block of ids on PostgreSQL, under the same lock as each write.
    """

    def __init__(self, usernames: dict[int, str], ids: Ids) -> None:
        self.usernames = usernames
        self.ids = ids
        self.postgres = connection.vendor == "postgresql"
        head, _ = LedgerHead.objects.select_for_update().get_or_create(pk=1)
        self.seq = head.seq
        self.prev_hash = head.hash
        self.first_seq = head.seq + 1
        self.latest_existing = (
            AuditEvent.objects.order_by("-seq").values_list("at", flat=True).first()
        )
        quote = connection.ops.quote_name
        mark = "%s" if self.postgres else "?"
        self.head_sql = (
            f"UPDATE {quote(LedgerHead._meta.db_table)} SET {quote('seq')} = {mark}, "
            f"{quote('hash')} = {mark} WHERE {quote('id')} = 1"
        )
        self.cycle_hash: dict[int, str] = {}
        self.tables: dict[type[models.Model], Table] = {}
        self.events = Table(AuditEvent, self.postgres)
        self.pending = 0
        self.counts: Counter[str] = Counter()
        connection.ensure_connection()
        self.raw = connection.connection
        self.failure: BaseException | None = None
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = threading.Thread(
            target=self._work, name="generate-writer", daemon=True
        )
        self.thread.start()

    def add(self, model: type[models.Model], row: Row) -> None:
        if model not in self.tables:
            self.tables[model] = Table(model, self.postgres)
        self.tables[model].rows.append(row)
        self.pending += 1

    def add_event(self, spec: Event) -> None:
        self.seq += 1
        cycle_id = spec.cycle_id
        at = _stamp(spec.at)
        fields: dict[str, Any] = {
            "seq": self.seq,
            "at": chain.format_timestamp(at),
            "actor_id": spec.actor_id,
            "actor_name": self.usernames.get(spec.actor_id, "") if spec.actor_id else "",
            "action": spec.action,
            "outcome": str(spec.outcome),
            "cycle_id": cycle_id,
            "stage_key": spec.stage_key,
            "object_type": spec.object_type,
            "object_id": "" if spec.object_id is None else str(spec.object_id),
            "payload": chain.canonical_json(spec.payload),
            "prev_hash": self.prev_hash,
            "cycle_prev_hash": self.cycle_hash.get(cycle_id, chain.GENESIS),
        }
        digest = chain.event_hash(fields)  # the ledger's own canonical form and hash
        fields.update(id=self.ids.take(AuditEvent), at=at, hash=digest)
        self.prev_hash = self.cycle_hash[cycle_id] = digest
        self.events.rows.append(fields)
        self.pending += 1

    def flush(self) -> None:
        batches = [(table, table.take_rows()) for table in (*self.tables.values(), self.events)]
        for table, rows in batches:
            self.counts["ledger events" if table is self.events else table.label] += len(rows)
        self.jobs.put(partial(self._write, batches, (self.seq, self.prev_hash)))
        self._raise()
        self.pending = 0

    def close(self, quietly: bool = False) -> None:
        """Wait until everything handed over is written; raise what the writer met, if anything."""
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
            self.thread = None
        if not quietly:
            self._raise()

    def _write(self, batches: list[tuple[Table, list[Row]]], head: tuple[int, str]) -> None:
        with self.ids.lock:
            for table, rows in batches:
                if rows:
                    table.write(self.raw, rows)
            self.raw.execute(self.head_sql, head)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.failure is None:
                try:
                    job()
                except BaseException as failure:  # handed to the main thread by _raise
                    self.failure = failure

    def _raise(self) -> None:
        if self.failure is not None:
            raise CommandError(f"writing failed: {self.failure}") from self.failure


# --- People --------------------------------------------------------------------------------------


@dataclass
class Staff:
    organisation: Organisation
    commissioners: list[int]
    decision_makers: list[int]
    involvement_leads: list[int]
    governors: list[int]
    representatives: list[int]


class People:
    """Creates the organisations and everyone in them, with ``bulk_create``."""

    def __init__(self, rng: random.Random, joined: datetime) -> None:
        self.rng = rng
        self.joined = joined
        self.user_model = get_user_model()
        self.next_number = (self.user_model.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.groups = {
            key: Group.objects.get(name=spec["name"]) for key, spec in load_roles().items()
        }
        self.usernames: dict[int, str] = {}
        self.password = make_password(None)

    def _users(self, count: int) -> list[Any]:
        users = []
        for _ in range(count):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            username = f"{first}.{last}.{self.next_number}".lower().replace("'", "")
            self.next_number += 1
            users.append(
                self.user_model(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.org",
                    password=self.password,  # unusable: nobody signs in as a generated person
                    date_joined=self.joined,
                )
            )
        return users

    def create(self, organisations: int, representatives_each: int) -> list[Staff]:
        rng = self.rng
        taken = set(Organisation.objects.values_list("name", flat=True))
        names = []
        for _ in range(organisations):
            base = f"{rng.choice(PLACES)} {rng.choice(ORGANISATION_KINDS)}"
            name, n = base, 2
            while name in taken:
                name, n = f"{base} {n}", n + 1
            taken.add(name)
            names.append(name)
        orgs = Organisation.objects.bulk_create([Organisation(name=name) for name in names])
        plan: list[tuple[Organisation, dict[str, list[Any]]]] = []
        everyone: list[Any] = []
        for org in orgs:
            roles = {
                "commissioner": self._users(rng.randint(3, 8)),
                "decision-maker": self._users(rng.randint(1, 3)),
                "involvement-lead": self._users(rng.randint(1, 3)),
                "governance": self._users(rng.randint(3, 5)),
                "representative": self._users(representatives_each),
            }
            plan.append((org, roles))
            for users in roles.values():
                everyone.extend(users)
        self.user_model.objects.bulk_create(everyone, batch_size=2000)
        self.usernames.update({user.pk: user.username for user in everyone})
        in_group = self.user_model.groups.through
        on_staff = Organisation.staff.through
        oversees = GovernanceBoard.organisations.through
        sits_on = GovernanceBoard.members.through
        boards = GovernanceBoard.objects.bulk_create(
            [GovernanceBoard(name=f"{org.name} governance board") for org, _ in plan]
        )
        groups, staff, overseen, seats, result = [], [], [], [], []
        for (org, roles), board in zip(plan, boards, strict=True):
            for key, users in roles.items():
                groups += [in_group(user_id=u.pk, group_id=self.groups[key].pk) for u in users]
            for user in roles["commissioner"] + roles["decision-maker"]:
                staff.append(on_staff(organisation_id=org.pk, user_id=user.pk))
            overseen.append(oversees(governanceboard_id=board.pk, organisation_id=org.pk))
            seats += [
                sits_on(governanceboard_id=board.pk, user_id=u.pk) for u in roles["governance"]
            ]
            result.append(
                Staff(
                    organisation=org,
                    commissioners=[u.pk for u in roles["commissioner"]],
                    decision_makers=[u.pk for u in roles["decision-maker"]],
                    involvement_leads=[u.pk for u in roles["involvement-lead"]],
                    governors=[u.pk for u in roles["governance"]],
                    representatives=[u.pk for u in roles["representative"]],
                )
            )
        in_group.objects.bulk_create(groups, batch_size=2000)
        on_staff.objects.bulk_create(staff, batch_size=2000)
        oversees.objects.bulk_create(overseen)
        sits_on.objects.bulk_create(seats, batch_size=2000)
        return result


# --- One cycle's story ---------------------------------------------------------------------------


@dataclass
class Member:
    user_id: int
    joined: float
    left: float | None
    tier: str
    tender_panel: bool
    represents: str
    reason: str = ""
    row: Row | None = None

    def active(self, at: float) -> bool:
        return self.joined <= at and (self.left is None or at < self.left)


@dataclass
class Visit:
    index: int
    opened: float
    closed: float | None
    closure: str | None
    planned: float
    reason: str = ""


@dataclass
class Current:
    """A member's latest position on the stage visit, as the gate sees it."""

    row: Row
    kind: SignoffKind
    boundary_version: int | None
    budget_version: int | None


def _default(model: type[models.Model], name: str) -> str:
    """A text column's default, as the services leave it when it is not given."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.get_default())


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


class Story:
    """One cycle, simulated stage by stage with the engine's gate rules, told in time order.

    Each stage is simulated in full before its rows and events are handed on, so rows that a
    service would change later in the stage (a sign-off superseded, a visit closed) are written
    once, in their final state. Long-lived rows whose end lies stages ahead (a panel membership
    that ends, the cycle itself) are planned from the start.
    """

    def __init__(self, gen: Generator, staff: Staff, seed: int, start: float) -> None:
        self.gen = gen
        self.staff = staff
        self.rng = random.Random(seed)
        self.start = start
        self.queue: list[tuple[float, int, Any]] = []
        self.counter = itertools.count()
        self.last_at = start

    # Scheduling: rows and events go into the cycle's own queue and come out in time order.

    def row(self, at: float, model: type[models.Model], **values: Any) -> Row:
        values["id"] = self.gen.ids.take(model)
        self.put(at, (model, values))
        return values

    def put(self, at: float, item: Any) -> None:
        heapq.heappush(self.queue, (at, next(self.counter), item))

    def event(
        self,
        at: float,
        actor_id: int | None,
        action: str,
        obj: tuple[type[models.Model], Row] | None,
        payload: dict[str, Any],
        stage_key: str | None = None,
        outcome: str = AuditEvent.Outcome.DONE,
    ) -> None:
        self.last_at = max(self.last_at, at)
        self.put(
            at,
            Event(
                at,
                actor_id,
                action,
                self.cycle["id"],
                self.visit["stage_key"] if stage_key is None else stage_key,
                _label(obj[0]) if obj is not None else "",
                obj[1]["id"] if obj is not None else None,
                payload,
                outcome,
            ),
        )

    def drain(self, before: float) -> Iterator[tuple[float, Any]]:
        waiting = self.queue
        while waiting and waiting[0][0] < before:
            at, _, item = heapq.heappop(waiting)
            if callable(item):
                for part in item():
                    yield at, part
            else:
                yield at, item

    # The story

    def __iter__(self) -> Iterator[tuple[float, Any]]:
        # Nothing is planned until the story's start comes round in the merged timeline.
        yield self.start, None
        self.plan()
        for number, visit in enumerate(self.visits):
            yield from self.drain(visit.opened)
            self.simulate(number, visit)
        yield from self.drain(math.inf)
        # The cycle row last, with the time of its last change (foreign keys are checked at commit).
        self.cycle["updated_at"] = self.last_at
        yield self.last_at, (CommissioningCycle, self.cycle)

    def duration(self, key: str) -> float:
        days = min(240.0, max(10.0, self.rng.lognormvariate(math.log(60), 0.6)))
        if key in ("monitoring", "revisit", "quality"):
            days = min(720.0, days * 3)
        return days * DAY

    def plan(self) -> None:
        rng, gen = self.rng, self.gen
        self.template: StageTemplate = TEMPLATES[_weighted(rng, TEMPLATE_WEIGHTS)]
        keys = self.template.keys
        self.visits: list[Visit] = []
        at, index, reopened = self.start, 0, False
        stall = rng.randrange(len(keys)) if rng.random() < 0.12 else None
        completed = False
        while True:
            close = at + self.duration(keys[index])
            if index == stall or close >= gen.now:
                self.visits.append(Visit(index, at, None, None, close))
                break
            if not reopened and index >= 2 and rng.random() < 0.05:
                reason = rng.choice(REOPENING)
                self.visits.append(
                    Visit(index, at, close, StageVisit.Closure.REOPENED, close, reason)
                )
                reopened = True
                index = max(0, index - rng.randint(1, 2))
                at = close
                continue
            self.visits.append(Visit(index, at, close, StageVisit.Closure.PASSED, close))
            if index == len(keys) - 1:
                completed = True
                break
            index += 1
            at = close
        self.end = self.visits[-1].closed if completed else None

        staff = self.staff
        self.lead = rng.choice(staff.commissioners)
        self.involvement_lead = rng.choice(staff.involvement_leads)
        self.lead_named_at = self.start + rng.uniform(0.5, 6) * DAY
        area = rng.choice(SERVICE_AREAS)
        self.cycle: Row = {
            "id": gen.ids.take(CommissioningCycle),
            "title": f"{area} {rng.choice(CYCLE_KINDS)} ({_stamp(self.start).year})",
            "organisation_id": staff.organisation.pk,
            "service_area": area,
            "lead_commissioner_id": self.lead,
            "involvement_lead_id": (
                self.involvement_lead if self.lead_named_at < gen.now else None
            ),
            "template_key": self.template.key,
            "followed_by_process": False,
            "current_stage": keys[self.visits[-1].index],
            "status": (
                CommissioningCycle.Status.COMPLETED
                if completed
                else CommissioningCycle.Status.ACTIVE
            ),
            "created_at": self.start,
            "updated_at": self.start,
        }
        self.last_at = self.start
        self.plan_panel()

        # What the gates look at, as the story goes
        self.boundaries: dict[str, Row] = {}
        self.acks: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.budget: Row | None = None
        self.agreement: Row | None = None
        self.signed: set[int] = set()
        self.declared: set[int] = set()
        self.answers: list[float | None] = []
        self.decisions: list[Row] = []
        self.lead_named = False
        self.duty: Row | None = None

    def plan_panel(self) -> None:
        rng = self.rng
        size = _weighted(rng, PANEL_SIZE_WEIGHTS)
        chosen = rng.sample(self.staff.representatives, size + 6)
        spare = chosen[size:]
        forum = rng.randint(2, 3)
        procurement = any(
            Condition.CONFLICTS_DECLARED in stage.entry_requires for stage in self.template.stages
        )
        tender = rng.randint(2, 4) if procurement else 0
        first = self.visits[0]
        self.members: list[Member] = [
            Member(
                user_id=user_id,
                joined=first.opened + rng.uniform(1, 8) * DAY,
                left=None,
                tier=(
                    PanelMembership.Tier.DECISION_FORUM
                    if position < forum
                    else PanelMembership.Tier.REFERENCE_GROUP
                ),
                tender_panel=position < tender,
                represents=rng.choice(REPRESENTS),
            )
            for position, user_id in enumerate(chosen[:size])
        ]
        # Attrition: some leave part-way through a stage; about half are replaced.
        for visit in self.visits[1:]:
            end = visit.closed if visit.closed is not None else self.gen.now
            for member in list(self.members):
                if member.left is not None or rng.random() > 0.035:
                    continue
                if sum(1 for m in self.members if m.left is None) <= 4:
                    break
                leave = visit.opened + (end - visit.opened) * rng.uniform(0.1, 0.5)
                if leave >= self.gen.now or leave <= member.joined + DAY:
                    continue
                member.left = leave
                member.reason = rng.choice(LEAVING)
                if spare and rng.random() < 0.5:
                    joined = leave + (end - leave) * rng.uniform(0.05, 0.3)
                    if joined < self.gen.now:
                        self.members.append(
                            Member(
                                user_id=spare.pop(),
                                joined=joined,
                                left=None,
                                tier=member.tier,
                                tender_panel=member.tender_panel,
                                represents=member.represents,
                            )
                        )

    # Stage simulation

    def active(self, at: float) -> list[Member]:
        return [member for member in self.members if member.active(at)]

    def simulate(self, number: int, visit: Visit) -> None:
        rng, gen = self.rng, self.gen
        key = self.template.keys[visit.index]
        span = visit.planned - visit.opened
        limit = visit.closed if visit.closed is not None else gen.now

        def at(fraction: float) -> float:
            return visit.opened + span * fraction

        self.visit = self.row(
            visit.opened,
            StageVisit,
            cycle_id=self.cycle["id"],
            stage_key=key,
            position=self.template.position(key),
            opened_at=visit.opened,
            opened_by_id=self.lead,
            opened_reason=self.visits[number - 1].reason if number else "",
            closed_at=visit.closed,
            closed_by_id=self.lead if visit.closed is not None else None,
            closure="",
        )
        self.current: dict[int, Current] = {}
        self.override_record: OverrideRecord | None = None
        actions: list[tuple[float, int, Callable[[float], None]]] = []
        order = itertools.count()

        def plan(when: float, action: Callable[[float], None]) -> None:
            if when < limit:
                actions.append((when, next(order), action))

        if number == 0:
            self.put(visit.opened, (gen.permission_model, self.grant(self.lead, gen.lead_perm)))
            self.event(
                visit.opened,
                self.lead,
                LedgerAction.CYCLE_CREATED,
                (CommissioningCycle, self.cycle),
                records.cycle_created(
                    title=self.cycle["title"],
                    organisation=self.staff.organisation.name,
                    lead=gen.usernames[self.lead],
                    template=self.template.key,
                ),
            )
            plan(self.lead_named_at, self.name_lead)
            plan(at(0.1), self.record_agreement)
        for member in self.members:
            if visit.opened <= member.joined < limit:
                plan(member.joined, partial(self.join, member=member))
            if member.left is not None and visit.opened <= member.left < limit:
                plan(member.left, partial(self.leave, member=member))
        requires = self.template.gate_requires(key)
        if key not in self.boundaries or rng.random() < 0.8:
            plan(at(0.08), self.agree_boundaries)
        if self.budget is None:
            plan(at(0.1), self.disclose_budget)
        if Condition.DUTY_ASSESSED in requires and self.duty is None and rng.random() < 0.9:
            plan(at(rng.uniform(0.1, 0.5)), self.assess_duty)
        for member in self.members:
            settled = member.joined + DAY
            # The working agreement binds every member at every stage, newcomers included.
            plan(max(at(rng.uniform(0.12, 0.4)), settled), partial(self.sign, member=member))
            plan(
                max(at(rng.uniform(0.15, 0.45)), settled),
                partial(self.acknowledge, member=member),
            )
            if Condition.CONFLICTS_DECLARED in requires and member.tender_panel:
                plan(
                    max(at(rng.uniform(0.3, 0.6)), settled),
                    partial(self.declare, member=member),
                )
            roll = rng.random()
            when = max(at(rng.uniform(0.5, 0.8)), settled + DAY)
            if roll < 0.012:
                plan(when, partial(self.dissent, member=member))
            elif roll < 0.9:
                plan(when, partial(self.attest, member=member))
        for _ in range(rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0]):
            plan(at(rng.uniform(0.2, 0.8)), self.give_input)
        change = rng.random()
        if change < 0.1:
            plan(at(0.6), self.revise_budget)
        elif change < 0.16:
            plan(at(0.58), self.agree_boundaries)
        if change < 0.16:
            for member in self.members:
                if rng.random() < 0.85:
                    plan(at(rng.uniform(0.62, 0.88)), partial(self.attest, member=member))
        plan(at(rng.uniform(0.84, 0.9)), self.resolve_dissents)
        if any(hint in key for hint in DECISION_STAGE_HINTS) or rng.random() < 0.12:
            plan(at(rng.uniform(0.7, 0.9)), self.decide)
        if visit.closed is not None and rng.random() < 0.12:
            plan(at(0.82), self.try_advance)

        actions.sort(key=itemgetter(0, 1))
        for when, _, action in actions:
            action(when)
        if visit.closed is not None:
            self.close(number, visit, key)

    def grant(self, user_id: int, permission_id: int) -> Row:
        gen = self.gen
        return {
            "id": gen.ids.take(gen.permission_model),
            "user_id": user_id,
            "permission_id": permission_id,
            "content_type_id": gen.cycle_type_id,
            "object_pk": str(self.cycle["id"]),
        }

    def snapshot(self, at: float) -> StageSnapshot:
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        version = boundary["version"] if boundary is not None else None
        active = self.active(at)
        return StageSnapshot(
            stage_key=key,
            active_members=frozenset(m.user_id for m in active),
            boundary_version=version,
            acknowledged_by=frozenset(self.acks[(key, version)]) if version else frozenset(),
            budget_version=self.budget["version"] if self.budget is not None else None,
            signoffs=tuple(
                Signoff(member_id, s.kind, s.boundary_version, s.budget_version)
                for member_id, s in self.current.items()
            ),
            requires=self.template.gate_requires(key),
            agreement_version=self.agreement["version"] if self.agreement is not None else None,
            agreement_signed_by=frozenset(self.signed),
            involvement_lead_named=self.lead_named,
            tender_panel=frozenset(m.user_id for m in active if m.tender_panel),
            conflicts_declared_by=frozenset(self.declared),
            override=self.override_record,
            unanswered_inputs=sum(1 for when in self.answers if when is None or when > at),
            duty_assessment=(
                DutyAssessmentState.CURRENT
                if self.duty is not None
                else DutyAssessmentState.MISSING
            ),
        )

    def gate(self, at: float) -> GateResult:
        return evaluate(self.snapshot(at))

    # Actions: each makes the rows a service would, and the event it would write.

    def assess_duty(self, at: float) -> None:
        if self.duty is not None:
            return
        questions = self.rng.choice(DUTY_QUESTIONS)
        result = duty.assess(questions)
        columns = records.assessment_columns(questions, result)
        columns["rules"] = json.dumps(columns["rules"])  # written raw, as the JSON column holds it
        row = self.row(
            at,
            DutyAssessment,
            cycle_id=self.cycle["id"],
            version=1,
            stage_key=self.visit["stage_key"],
            proposal=self.rng.choice(PROPOSALS),
            proposal_version=0,
            recorded_by_id=self.lead,
            recorded_at=at,
            **columns,
        )
        self.duty = row
        self.event(
            at,
            self.lead,
            LedgerAction.DUTY_ASSESSED,
            (DutyAssessment, row),
            records.duty_assessed(
                version=1, proposal_version=0, questions=questions, result=result
            ),
        )

    def name_lead(self, at: float) -> None:
        if self.lead_named:
            return
        self.lead_named = True
        self.event(
            at,
            self.lead,
            LedgerAction.INVOLVEMENT_LEAD_NAMED,
            (CommissioningCycle, self.cycle),
            records.involvement_lead_named(lead=self.gen.usernames[self.involvement_lead]),
        )

    def join(self, at: float, member: Member) -> None:
        row = self.row(
            at,
            PanelMembership,
            cycle_id=self.cycle["id"],
            member_id=member.user_id,
            represents=member.represents,
            tier=member.tier,
            tender_panel=member.tender_panel,
            joined_at=at,
            joined_stage=self.visit["stage_key"],
            left_at=member.left,
            left_reason=member.reason,
        )
        member.row = row
        if member.left is None:
            grant = self.grant(member.user_id, self.gen.represent_perm)
            self.put(at, (self.gen.permission_model, grant))
        self.event(
            at,
            self.involvement_lead if self.lead_named else self.lead,
            LedgerAction.PANEL_JOINED,
            (PanelMembership, row),
            records.panel_joined(
                member=self.gen.usernames[member.user_id],
                represents=member.represents,
                tier=member.tier,
                tender_panel=member.tender_panel,
            ),
        )

    def leave(self, at: float, member: Member) -> None:
        current = self.current.pop(member.user_id, None)
        assert member.row is not None
        self.event(
            at,
            member.user_id,
            LedgerAction.PANEL_LEFT,
            (PanelMembership, member.row),
            records.panel_left(
                member=self.gen.usernames[member.user_id],
                reason=member.reason,
                stepped_down=True,
                had_open_dissent=current is not None and current.kind is SignoffKind.DISSENT,
            ),
        )

    def record_agreement(self, at: float) -> None:
        version = records.next_version(self.agreement)
        self.agreement = self.row(
            at,
            WorkingAgreement,
            cycle_id=self.cycle["id"],
            version=version,
            task="Help shape the service with the commissioners: what people need, what the "
            "specification requires, and how providers are chosen.",
            responsibilities="Attend the panel's meetings; read the papers; speak for the people "
            "you represent; keep confidential what is marked confidential.",
            support="A named involvement lead, briefings before meetings, papers in plain English.",
            expenses=_default(WorkingAgreement, "expenses"),
            ground_rules=_default(WorkingAgreement, "ground_rules"),
            recorded_by_id=self.lead,
            recorded_at=at,
        )
        self.signed = set()
        self.event(
            at,
            self.lead,
            LedgerAction.AGREEMENT_RECORDED,
            (WorkingAgreement, self.agreement),
            records.agreement_recorded(
                version=version,
                task=self.agreement["task"],
                responsibilities=self.agreement["responsibilities"],
                support=self.agreement["support"],
                expenses=self.agreement["expenses"],
                ground_rules=self.agreement["ground_rules"],
            ),
        )

    def sign(self, at: float, member: Member) -> None:
        if self.agreement is None or not member.active(at) or member.user_id in self.signed:
            return
        self.signed.add(member.user_id)
        row = self.row(
            at,
            AgreementSignature,
            agreement_id=self.agreement["id"],
            member_id=member.user_id,
            signed_at=at,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.AGREEMENT_SIGNED,
            (AgreementSignature, row),
            records.agreement_signed(version=self.agreement["version"]),
        )

    def agree_boundaries(self, at: float) -> None:
        rng = self.rng
        key = self.visit["stage_key"]
        previous = self.boundaries.get(key)
        row = self.row(
            at,
            RoleBoundaryAgreement,
            cycle_id=self.cycle["id"],
            stage_key=key,
            version=records.next_version(previous),
            purpose=f"{self.template.get(key).name}: involve the people who use "
            f"{self.cycle['service_area'].lower()}.",
            user_role="The panel gives its views, checks the papers and comments before each "
            "decision; representatives take the reference group's views to the decision forum.",
            influence=_weighted(rng, INFLUENCE_WEIGHTS),
            decision_maker=rng.choice(DECIDERS),
            commissioner_authority="The commissioner makes the recommendation and can change the "
            "specification within the budget.",
            fixed_matters="The budget as disclosed and the statutory requirements.",
            open_matters="What the service offers, where and when.",
            recorded_by_id=self.lead,
            recorded_at=at,
        )
        self.boundaries[key] = row
        self.event(
            at,
            self.lead,
            LedgerAction.BOUNDARIES_AGREED,
            (RoleBoundaryAgreement, row),
            records.boundaries_agreed(
                version=row["version"],
                influence=row["influence"],
                decision_maker=row["decision_maker"],
                unchanged=records.boundaries_unchanged(previous, row),
            ),
        )

    def acknowledge(self, at: float, member: Member) -> None:
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        if boundary is None or not member.active(at):
            return
        done = self.acks[(key, boundary["version"])]
        if member.user_id in done:
            return
        done.add(member.user_id)
        row = self.row(
            at,
            BoundaryAcknowledgement,
            agreement_id=boundary["id"],
            member_id=member.user_id,
            acknowledged_at=at,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.BOUNDARIES_ACKNOWLEDGED,
            (BoundaryAcknowledgement, row),
            records.boundaries_acknowledged(version=boundary["version"]),
        )

    def _disclose(self, at: float, amount: Decimal | None, constraints: str, withheld: str) -> None:
        previous = self.budget
        row = self.row(
            at,
            BudgetDisclosure,
            cycle_id=self.cycle["id"],
            version=records.next_version(previous),
            amount=amount,
            currency="GBP",
            constraints=constraints,
            withheld_reason=withheld,
            disclosed_by_id=self.lead,
            disclosed_at=at,
        )
        voided = 0
        if previous is not None:
            voided = sum(
                1
                for s in self.current.values()
                if s.kind is SignoffKind.ATTEST and s.budget_version == previous["version"]
            )
        self.budget = row
        self.event(
            at,
            self.lead,
            LedgerAction.BUDGET_DISCLOSED,
            (BudgetDisclosure, row),
            records.budget_disclosed(
                version=row["version"],
                amount=amount,
                currency=row["currency"],
                withheld=bool(withheld),
                previous_amount=previous["amount"] if previous is not None else None,
                signoffs_voided=voided,
                panel=(m.user_id for m in self.active(at)),
            ),
        )

    def disclose_budget(self, at: float) -> None:
        rng = self.rng
        if rng.random() < 0.25:
            self._disclose(at, None, rng.choice(CONSTRAINTS), rng.choice(WITHHELD))
            return
        amount = Decimal(round(rng.lognormvariate(math.log(1_500_000), 1.0), -3))
        self._disclose(at, amount.quantize(Decimal("0.01")), rng.choice(CONSTRAINTS), "")

    def revise_budget(self, at: float) -> None:
        rng = self.rng
        previous = self.budget
        if previous is None or previous["amount"] is None:
            self.disclose_budget(at)
            return
        if rng.random() < 0.75:
            factor, reason = Decimal(rng.randint(75, 95)) / 100, rng.choice(CUT_REASONS)
        else:
            factor, reason = Decimal(rng.randint(105, 115)) / 100, rng.choice(RISE_REASONS)
        amount = (previous["amount"] * factor).quantize(Decimal("1000"))
        self._disclose(at, amount.quantize(Decimal("0.01")), reason, "")

    def declare(self, at: float, member: Member) -> None:
        if not member.active(at) or member.user_id in self.declared:
            return
        # A member who plans to bid would be taken off the tender panel (conflict_declare), so
        # only members off it are generated planning to bid.
        interest, details = self.rng.choices(
            (
                ("none", ""),
                ("uses-service", "Uses one of the services being re-commissioned."),
                ("bidder-link", "Volunteers with an organisation that is bidding."),
                ("plans-to-bid", "Part of a user-led group that may bid."),
            ),
            (75, 15, 7, 0 if member.tender_panel else 3),
        )[0]
        self.declared.add(member.user_id)
        row = self.row(
            at,
            ConflictDeclaration,
            cycle_id=self.cycle["id"],
            member_id=member.user_id,
            interest=interest,
            details=details,
            declared_at=at,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.CONFLICT_DECLARED,
            (ConflictDeclaration, row),
            records.conflict_declared(interest=interest, details=details, left_tender_panel=False),
        )

    def _signoff(self, at: float, member: Member, kind: SignoffKind, reasons: str) -> None:
        key = self.visit["stage_key"]
        boundary = self.boundaries.get(key)
        budget = self.budget
        if not member.active(at):
            return
        if kind is SignoffKind.ATTEST:
            if boundary is None or budget is None:
                return
            if member.user_id not in self.acks[(key, boundary["version"])]:
                self.acknowledge(at, member)
        versions = (
            boundary["version"] if boundary is not None else None,
            budget["version"] if budget is not None else None,
        )
        earlier = self.current.get(member.user_id)
        if earlier is not None:
            if kind is earlier.kind is SignoffKind.ATTEST and versions == (
                earlier.boundary_version,
                earlier.budget_version,
            ):
                return  # already attested to exactly these versions
            earlier.row["superseded_at"] = at
        row = self.row(
            at,
            SignOff,
            visit_id=self.visit["id"],
            cycle_id=self.cycle["id"],
            member_id=member.user_id,
            kind=kind.value,
            boundary_id=boundary["id"] if boundary is not None else None,
            budget_id=budget["id"] if budget is not None else None,
            reasons=reasons,
            recorded_at=at,
            superseded_at=None,
            withdrawn=False,
        )
        self.current[member.user_id] = Current(row, kind, *versions)
        self.event(
            at,
            member.user_id,
            LedgerAction.SIGNOFF_DISSENTED
            if kind is SignoffKind.DISSENT
            else LedgerAction.SIGNOFF_ATTESTED,
            (SignOff, row),
            records.signoff_recorded(
                boundary_version=versions[0], budget_version=versions[1], reasons=reasons
            ),
        )

    def attest(self, at: float, member: Member) -> None:
        current = self.current.get(member.user_id)
        if current is not None and current.kind is SignoffKind.DISSENT:
            return  # a dissent stands until it is withdrawn
        self._signoff(at, member, SignoffKind.ATTEST, "")

    def dissent(self, at: float, member: Member) -> None:
        self._signoff(at, member, SignoffKind.DISSENT, self.rng.choice(DISSENTS))

    def resolve_dissents(self, at: float) -> None:
        for member in self.active(at):
            current = self.current.get(member.user_id)
            if current is None or current.kind is not SignoffKind.DISSENT:
                continue
            if self.rng.random() < 0.65:
                current.row["superseded_at"] = at
                current.row["withdrawn"] = True
                del self.current[member.user_id]
                self.event(
                    at,
                    member.user_id,
                    LedgerAction.DISSENT_WITHDRAWN,
                    (SignOff, current.row),
                    records.dissent_withdrawn(),
                )
                self.attest(at + 3600, member)

    def give_input(self, at: float) -> None:
        rng, now = self.rng, self.gen.now
        members = self.active(at)
        if not members:
            return
        member = rng.choice(members)
        delay = min(120.0, max(2.0, rng.lognormvariate(math.log(21), 0.7))) * DAY
        # A completed cycle's last gate needed every answer, so its answers came before its end.
        answered: float | None = at + delay
        if self.end is not None:
            answered = min(at + delay, max(at + 3600, self.end - DAY))
        elif at + delay >= now:
            answered = None
        roll = rng.random()
        kind = InputResponse.Kind.WE_DID if roll < 0.65 else InputResponse.Kind.WE_COULD_NOT
        row = self.row(
            at,
            UserInput,
            cycle_id=self.cycle["id"],
            visit_id=self.visit["id"],
            stage_key=self.visit["stage_key"],
            submitted_by_id=member.user_id,
            source=rng.choice(("representative", "representative", "panel")),
            method=rng.choice(UserInput.Method.values),
            text=rng.choice(INPUTS),
            attachment_reference="",
            submitted_at=at,
            status=kind.value if answered is not None else UserInput.Status.AWAITING.value,
            answered_at=answered,
            overdue_flagged_at=None,
        )
        self.event(
            at,
            member.user_id,
            LedgerAction.INPUT_SUBMITTED,
            (UserInput, row),
            records.input_submitted(
                source=row["source"],
                method=row["method"],
                text=row["text"],
                attachment_reference=row["attachment_reference"],
            ),
        )
        self.answers.append(answered)
        previous = UserInput.Status.AWAITING.value
        if roll > 0.85 and answered is not None and answered - at > 4 * DAY:
            first_at = at + (answered - at) / 3
            self.put(
                first_at,
                lambda: self.respond(first_at, row, "considering", "", "awaiting", answered),
            )
            previous = "considering"
        if answered is not None:
            texts = WE_DID if kind == InputResponse.Kind.WE_DID else WE_COULD_NOT
            text = rng.choice(texts)
            when, before = answered, previous
            self.put(when, lambda: self.respond(when, row, kind.value, text, before, None))

    def respond(
        self,
        at: float,
        user_input: Row,
        kind: str,
        text: str,
        previous: str,
        superseded: float | None,
    ) -> list[Any]:
        """Runs when the response's time comes, so it can cite a decision made meanwhile."""
        made = [d for d in self.decisions if d["decided_at"] < at]
        decision = None
        if made and kind != "considering" and self.rng.random() < 0.4:
            decision = made[-1]
        row = {
            "id": self.gen.ids.take(InputResponse),
            "user_input_id": user_input["id"],
            "cycle_id": self.cycle["id"],
            "kind": kind,
            "text": text,
            "decision_id": decision["id"] if decision is not None else None,
            "responded_by_id": self.lead,
            "responded_at": at,
            "superseded_at": superseded,
        }
        self.last_at = max(self.last_at, at)
        return [
            (InputResponse, row),
            Event(
                at,
                self.lead,
                LedgerAction.INPUT_RESPONDED,
                self.cycle["id"],
                user_input["stage_key"],
                _label(InputResponse),
                row["id"],
                records.input_responded(
                    input_id=user_input["id"],
                    kind=kind,
                    text=text,
                    decision_id=row["decision_id"],
                    previous=previous,
                ),
            ),
        ]

    def decide(self, at: float) -> None:
        rng = self.rng
        veto = rng.random() < 0.01
        row = self.row(
            at,
            Decision,
            cycle_id=self.cycle["id"],
            visit_id=self.visit["id"],
            stage_key=self.visit["stage_key"],
            summary=rng.choice(DECISIONS),
            decided_by_id=rng.choice(self.staff.decision_makers),
            forum=rng.choice(("Board meeting", "Joint commissioning board", "Delegated decision")),
            decided_at=at,
            veto_used=veto,
            veto_reason="Overruled the panel's recommendation on affordability." if veto else "",
        )
        self.decisions.append(row)
        self.event(
            at,
            row["decided_by_id"],
            LedgerAction.DECISION_RECORDED,
            (Decision, row),
            records.decision_recorded(
                summary=row["summary"],
                forum=row["forum"],
                veto_used=veto,
                veto_reason=row["veto_reason"],
            ),
        )

    def try_advance(self, at: float) -> None:
        result = self.gate(at)
        if result.passable:
            return
        key = self.visit["stage_key"]
        self.event(
            at,
            self.lead,
            Operation.STAGE_ADVANCE,
            None,
            records.refused((LedgerAction.STAGE_ADVANCED,), GateClosed(result, key)),
            outcome=AuditEvent.Outcome.REFUSED,
        )

    def override(self, at: float, result: GateResult) -> None:
        check = check_override(result)
        if check.not_waivable or not check.departures:
            return
        boundary = self.boundaries.get(self.visit["stage_key"])
        versions = (
            boundary["version"] if boundary is not None else None,
            self.budget["version"] if self.budget is not None else None,
        )
        row = self.row(
            at,
            GateOverride,
            visit_id=self.visit["id"],
            cycle_id=self.cycle["id"],
            by_id=self.rng.choice(self.staff.governors),
            reason=self.rng.choice(OVERRIDES),
            recorded_at=at,
            **records.override_columns(
                check, boundary_version=versions[0], budget_version=versions[1]
            ),
        )
        for code, member_id in records.override_departures(check):
            self.row(
                at, GateOverrideDeparture, override_id=row["id"], code=code, member_id=member_id
            )
        self.override_record = OverrideRecord(
            boundary_version=versions[0],
            budget_version=versions[1],
            departures=tuple(Departure(d.code, d.members) for d in check.departures),
        )
        self.event(
            at,
            row["by_id"],
            LedgerAction.GATE_OVERRIDDEN,
            (GateOverride, row),
            records.gate_overridden(
                reason=row["reason"],
                unmet=result.codes,
                departs_from=records.departures_of(check),
                boundary_version=versions[0],
                budget_version=versions[1],
            ),
        )

    def close(self, number: int, visit: Visit, key: str) -> None:
        """Leave the stage at its planned time: first what a diligent commissioner would still
        chase, then the advance (or the reopening the plan calls for)."""
        assert visit.closed is not None
        closing = visit.closed
        if visit.closure == StageVisit.Closure.REOPENED:
            self.visit["closure"] = StageVisit.Closure.REOPENED.value
            target = self.template.keys[self.visits[number + 1].index]
            self.event(
                closing,
                self.lead,
                LedgerAction.STAGE_REOPENED,
                None,
                records.stage_reopened(from_stage=key, to_stage=target, reason=visit.reason),
                stage_key=target,
            )
            return
        chase = closing - 6 * 3600
        self.name_lead(chase)
        if not self.gate(chase).passable:
            if key not in self.boundaries:
                self.agree_boundaries(chase)
            if self.budget is None:
                self.disclose_budget(chase)
            requires = self.template.gate_requires(key)
            if Condition.DUTY_ASSESSED in requires:
                self.assess_duty(chase)
            if Condition.WORKING_AGREEMENT in requires and self.agreement is None:
                self.record_agreement(chase)
            for member in self.active(chase):
                self.sign(chase + 60, member)
                if Condition.CONFLICTS_DECLARED in requires and member.tender_panel:
                    self.declare(chase + 60, member)
                self.acknowledge(chase + 120, member)
            for member in self.active(chase):
                result = self.gate(chase + 180)
                if len(result.attesting) >= result.quorum:
                    break
                self.attest(chase + 240, member)
            result = self.gate(chase + 300)
            if not result.passable:
                self.override(chase + 3600, result)
        result = self.gate(closing)
        assert result.passable, (key, result.codes)
        closure = records.closure_of(result)
        self.visit["closure"] = closure.value
        following = self.template.next_after(key)
        self.event(
            closing,
            self.lead,
            LedgerAction.STAGE_ADVANCED,
            (StageVisit, self.visit),
            records.stage_advanced(
                from_stage=key,
                to_stage=following.key if following else None,
                closure=closure,
                attesting=result.attesting,
                overridden_unmet=result.codes,
            ),
        )


# --- The generator -------------------------------------------------------------------------------


class Generator:
    def __init__(self, *, seed: int, years: float, batch: int) -> None:
        self.rng = random.Random(seed)
        self.now = time.time()
        self.begin = self.now - years * 365.25 * DAY
        self.batch = batch
        self.permission_model = get_user_obj_perms_model()
        self.cycle_type_id = get_content_type(CommissioningCycle).pk

    def run(
        self,
        organisations: int,
        cycles: int,
        progress: Callable[[float], None] | None = None,
    ) -> Writer:
        """Write the data; ``progress(fraction)`` is told how far through the history it is."""
        people = People(self.rng, _stamp(self.begin - 30 * DAY))
        per_org = max(1, math.ceil(cycles / organisations))
        staff = people.create(organisations, representatives_each=max(20, per_org * 3))
        self.usernames = people.usernames
        self.lead_perm = Permission.objects.get(
            content_type__app_label="cycle", codename="lead_cycle"
        ).pk
        self.represent_perm = Permission.objects.get(
            content_type__app_label="cycle", codename="represent_on_cycle"
        ).pk
        self.ids = Ids((*WRITTEN, self.permission_model))
        writer = Writer(self.usernames, self.ids)
        stories = [
            iter(
                Story(
                    self,
                    staff[number % organisations],
                    self.rng.randrange(2**32),
                    self.rng.uniform(self.begin, self.now - 10 * DAY),
                )
            )
            for number in range(cycles)
        ]
        try:
            span = max(self.now - self.begin, 1.0)
            for number, (at, item) in enumerate(heapq.merge(*stories, key=itemgetter(0))):
                if progress is not None and number % 1000 == 0:
                    progress(min(max((at - self.begin) / span, 0.0), 1.0))
                if item is None:
                    continue
                if isinstance(item, Event):
                    writer.add_event(item)
                else:
                    writer.add(*item)
                if writer.pending >= self.batch:
                    writer.flush()
            writer.flush()
        except BaseException:
            writer.close(quietly=True)  # the writer must be idle before the transaction ends
            raise
        writer.close()
        return writer


class Command(CommandLine):
    help = "Generate large synthetic data with realistic shapes (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisations", type=int, required=True)
        parser.add_argument("--cycles", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        parser.add_argument(
            "--years", type=float, default=3.0, help="How far back the history starts (3)."
        )
        parser.add_argument(
            "--batch", type=int, default=20000, help="Rows and events written per batch (20000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisations, cycles = options["organisations"], options["cycles"]
        if organisations < 1 or cycles < 0:
            raise CommandError("--organisations must be at least 1 and --cycles at least 0.")
        if options["years"] <= 0 or options["batch"] < 1:
            raise CommandError("--years and --batch must be positive.")
        started = time.monotonic()
        if connection.vendor == "sqlite":
            # Random 64-character hashes make the ledger's unique index write all over the file;
            # a larger page cache for this connection keeps that in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        generator = Generator(seed=options["seed"], years=options["years"], batch=options["batch"])
        with (
            self.progress_bar("Generating the history", 1000, counts=False) as bar,
            transaction.atomic(),
        ):
            writer = generator.run(
                organisations, cycles, lambda fraction: bar.update(int(fraction * 1000))
            )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Generated {organisations} organisations and {cycles} cycles in {elapsed:.1f}s:"
        )
        for label, count in sorted(writer.counts.items()):
            self.stdout.write(f"  {label}: {count}")
        first_at = (
            AuditEvent.objects.filter(seq=writer.first_seq).values_list("at", flat=True).first()
        )
        if writer.latest_existing and first_at and first_at < writer.latest_existing:
            self.stdout.write(
                f"  Note: the ledger already held events up to {writer.latest_existing:%Y-%m-%d}; "
                f"the generated history (from event #{writer.first_seq}) is earlier in time."
            )
