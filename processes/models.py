"""How viewflow stores the commissioning process: one run of the flow per cycle.

``CommissioningProcess`` and ``CommissioningTask`` are proxies of viewflow's own tables. A process
points at its cycle through viewflow's ``artifact`` reference; a cycle that is reopened after it was
completed gets a new run, so the cycle's process is always its latest run. Both querysets can narrow
themselves to the cycles a user may see (``cycle.selectors.cycles_visible_to``), which viewflow's
own list views do not do: they only check model-level permissions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Self, cast

from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Field
from django.db.models.query import get_related_populators
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.managers import ProcessQuerySet, TaskQuerySet
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from cycle.models import CommissioningCycle
from cycle.prepared import PreparedRead
from cycle.selectors import cycles_visible_to


def _cycle_content_type() -> ContentType:
    return ContentType.objects.get_for_model(CommissioningCycle)


class CommissioningProcessQuerySet(ProcessQuerySet):  # type: ignore[misc]
    def for_cycle(self, cycle_id: int) -> Self:
        return cast(
            Self,
            self.filter(artifact_content_type=_cycle_content_type(), artifact_object_id=cycle_id),
        )

    def running(self) -> Self:
        return cast(Self, self.filter(status=PROCESS.NEW))

    def visible_to(self, user: Any) -> Self:
        """Runs of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                artifact_content_type=_cycle_content_type(),
                artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))


class CommissioningProcess(Process):  # type: ignore[misc]
    """A run of the commissioning flow for one cycle."""

    objects = CommissioningProcessQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning process")
        verbose_name_plural = _("commissioning processes")
        # viewflow adds "manage" when the flow class is defined; declared here so that the
        # migration state does not depend on whether the flow module has been imported.
        default_permissions = ("add", "change", "delete", "view", "manage")

    @property
    def cycle(self) -> CommissioningCycle:
        """The cycle: the one a service holds locked while it moves this process
        (:func:`cycle_in_hand`), or else read afresh from the database."""
        hand = _in_hand.get()
        if hand is not None and hand.cycle.pk == self.artifact_object_id:
            return hand.cycle
        return CommissioningCycle.objects.get(pk=self.artifact_object_id)


@dataclass
class CycleInHand:
    """A cycle a service has locked and changed, and what the flow reads of it while the service
    moves the cycle's process, so that the flow does not read them again: the open visit (as the
    tasks' data), the active panel, and the users the flow assigns tasks to (the actor first).
    The tasks of the flow's function and gateway nodes, done as soon as made, wait here until a
    task needs their ids (:meth:`write_tasks`, one insert), and the links between the tasks the
    flow creates until the service's move ends (:meth:`link`, one insert). The human task the
    move completes waits too (:meth:`finish`): its row is updated with the sign-off tasks the
    flow then cancels (:meth:`cancel_waiting`), or before anything else is written."""

    cycle: CommissioningCycle
    process_pk: int
    visit: dict[str, Any] | None = None
    visit_just_opened: bool = False
    """Whether ``visit`` is the one the service opened in this transaction."""
    members: frozenset[int] | None = None
    users: dict[int, Any] = field(default_factory=dict)
    unwritten: list[Any] = field(default_factory=list)
    links: list[tuple[Any, Any]] = field(default_factory=list)
    finished: Any = None
    """A task done in this move whose row still says what it was before (:meth:`finish`)."""

    def keep(self, task: Any) -> None:
        """Write ``task`` later, with the others kept, when one of them is needed."""
        self.unwritten.append(task)

    def finish(self, task: Any) -> None:
        """Update ``task``'s row, done, with the next update of tasks or before the next write."""
        self.write_finished()
        self.finished = task

    def write_finished(self) -> None:
        if self.finished is not None:
            finish_tasks(self.finished)
            self.finished = None

    def cancel_waiting(self, process_pk: int, node: Any) -> None:
        """Cancel the tasks of ``node`` still waiting for someone (as ``nodes.cancel_waiting``
        cancels them), in the statement that writes the task finished in this move, if any."""
        finish_tasks(self.finished, cancel=(process_pk, node))
        self.finished = None

    def write_tasks(self) -> None:
        self.write_finished()
        if self.unwritten:
            for task in self.unwritten:
                task.flow_task_type = task.flow_task.task_type
            insert_tasks(self.unwritten)
            self.unwritten = []

    def link(self, task: Any, previous: Any) -> None:
        """Record that ``previous`` led to ``task`` (``task.previous``), written at the end."""
        self.links.append((task, previous))

    def write_links(self) -> None:
        self.write_tasks()
        if self.links:
            insert_links([(task.pk, previous.pk) for task, previous in self.links])
            self.links = []


_in_hand: ContextVar[CycleInHand | None] = ContextVar("cycle_in_hand", default=None)


@contextmanager
def cycle_in_hand(
    cycle: CommissioningCycle,
    process_pk: int,
    *,
    actor: Any = None,
    visit: dict[str, Any] | None = None,
    members: frozenset[int] | None = None,
) -> Iterator[CycleInHand]:
    """While the service that locked ``cycle`` moves its process ``process_pk``, the flow takes
    the cycle as the service holds it: locked already, and current. What the service has read
    or written already (its ``actor``, the ``visit`` it opened, the active ``members``) is handed
    on too."""
    hand = CycleInHand(
        cycle=cycle,
        process_pk=process_pk,
        visit=visit,
        visit_just_opened=visit is not None,
        members=members,
    )
    if actor is not None and actor.pk is not None:
        hand.users[actor.pk] = actor
    token = _in_hand.set(hand)
    try:
        yield hand
        hand.write_links()
    finally:
        _in_hand.reset(token)


def held_cycle(process_pk: int) -> CycleInHand | None:
    """The cycle in hand, if it belongs to the process ``process_pk``."""
    hand = _in_hand.get()
    return hand if hand is not None and hand.process_pk == process_pk else None


class CommissioningTaskQuerySet(TaskQuerySet):  # type: ignore[misc]
    def visible_to(self, user: Any) -> Self:
        """Tasks of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                process__artifact_content_type=_cycle_content_type(),
                process__artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))

    def user_queue(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_queue(user, flow_class=flow_class).visible_to(user))

    def user_archive(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_archive(user, flow_class=flow_class).visible_to(user))


class CommissioningTask(Task):  # type: ignore[misc]
    """A task of the commissioning flow: a stage task for the lead, or a member's sign-off."""

    objects = CommissioningTaskQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning task")
        verbose_name_plural = _("commissioning tasks")


# viewflow's task rows, written as the ORM writes them, with SQL built once per database -------


def _task_connection() -> Any:
    return connections[router.db_for_write(CommissioningTask)]


def _task_fields() -> list[Field[Any, Any]]:
    meta = CommissioningTask._meta
    return [f for f in meta.concrete_fields if not f.primary_key and not f.generated]


_INSERTS: dict[tuple[str, int, tuple[bool, ...]], str] = {}


def _insert_sql(connection: Any, rows: int, null: tuple[bool, ...]) -> str:
    """The insert of ``rows`` tasks, with ``NULL`` written out for each column that is null in
    every row (``null``): fewer values to send, and few enough for psycopg to keep the parsed
    statement (it keeps none with more than 50)."""
    key = (connection.alias, rows, null)
    if key not in _INSERTS:
        meta = CommissioningTask._meta
        quote = connection.ops.quote_name
        row = "({})".format(", ".join("NULL" if is_null else "%s" for is_null in null))
        _INSERTS[key] = "INSERT INTO {} ({}) VALUES {} RETURNING {}".format(
            quote(meta.db_table),
            ", ".join(quote(f.column) for f in _task_fields()),
            ", ".join([row] * rows),
            quote(meta.pk.column),
        )
    return _INSERTS[key]


def insert_tasks(tasks: Sequence[Any]) -> None:
    """Insert new ``tasks`` in one statement, as ``bulk_create`` inserts them: each column's
    value prepared by its field, the ids read back in order, no signals sent."""
    if not tasks:
        return
    connection = _task_connection()
    if not connection.features.can_return_rows_from_bulk_insert:
        CommissioningTask._default_manager.bulk_create(tasks)
        return
    fields = _task_fields()
    rows = [
        [f.get_db_prep_save(f.pre_save(task, True), connection) for f in fields] for task in tasks
    ]
    null = tuple(all(row[i] is None for row in rows) for i in range(len(fields)))
    params = [
        value for row in rows for value, is_null in zip(row, null, strict=True) if not is_null
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection, len(tasks), null), params)
        ids = cursor.fetchall()
    for task, (pk,) in zip(tasks, ids, strict=True):
        task.pk = pk
        task._state.adding = False
        task._state.db = connection.alias


def insert_links(pairs: Sequence[tuple[int, int]]) -> None:
    """Insert ``(task, previous)`` id pairs into ``Task.previous``, in one statement (as
    ``bulk_create`` of its through model does, which sends no ``m2m_changed``)."""
    if not pairs:
        return
    connection = _task_connection()
    link = CommissioningTask.previous.through._meta
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}, {}) VALUES {}".format(
        quote(link.db_table),
        quote(link.get_field("from_task").column),
        quote(link.get_field("to_task").column),
        ", ".join(["(%s, %s)"] * len(pairs)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk for pair in pairs for pk in pair])


_NODE_REFS: dict[Any, str] = {}


def node_ref(node: Any) -> str:
    """What a task's ``flow_task`` column holds for ``node`` (viewflow's ``get_task_ref``)."""
    if node not in _NODE_REFS:
        _NODE_REFS[node] = CommissioningTask._meta.get_field("flow_task").get_prep_value(node)
    return _NODE_REFS[node]


_FINISHED_COLUMNS = ("flow_task_type", "status", "started", "finished", "owner", "data")
"""What completing a human task changes in its row (``nodes.View``'s activation): the
update writes these, and leaves the other columns as they are, which the task was read with."""

_CANCELED_COLUMNS = ("status", "finished")
"""What cancelling a waiting human task changes in its row (``ViewActivation.cancel``)."""

_WAITING = (STATUS.NEW, STATUS.ASSIGNED)

_UPDATES: dict[tuple[str, bool, bool], str] = {}


def _update_sql(connection: Any, finished: bool, cancel: bool) -> str:
    """``UPDATE`` of a finished task's row (``finished``), of the waiting tasks of a node
    (``cancel``), or of both at once: each column takes the finished task's value on its row,
    and the cancelled value, or its own, on the others."""
    key = (connection.alias, finished, cancel)
    if key not in _UPDATES:
        meta = CommissioningTask._meta
        quote = connection.ops.quote_name
        pk = quote(meta.pk.column)
        sets = []
        for name in _FINISHED_COLUMNS:
            column = quote(meta.get_field(name).column)
            other = "%s" if name in _CANCELED_COLUMNS else column
            if finished and cancel:
                sets.append(f"{column} = CASE WHEN {pk} = %s THEN %s ELSE {other} END")
            elif finished or name in _CANCELED_COLUMNS:
                sets.append(f"{column} = %s")
        waiting = "{} = %s AND {} = %s AND {} IN (%s, %s)".format(
            quote(meta.get_field("process").column),
            quote(meta.get_field("flow_task").column),
            quote(meta.get_field("status").column),
        )
        where = {
            (True, False): f"{pk} = %s",
            (False, True): waiting,
            (True, True): f"{pk} = %s OR ({waiting})",
        }[finished, cancel]
        _UPDATES[key] = f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {where}"
    return _UPDATES[key]


def finish_tasks(task: Any, *, cancel: tuple[int, Any] | None = None) -> None:
    """Write the row of the human ``task`` just done (the columns completing it changes), and
    with ``cancel=(process_pk, node)`` cancel, in the same statement, the tasks of ``node`` still
    waiting for someone (new or assigned → canceled, finished now), as ``nodes.cancel_waiting``
    cancels them."""
    if task is None and cancel is None:
        return
    connection = _task_connection()
    meta = CommissioningTask._meta
    params: list[Any] = []
    canceled = {}
    if cancel is not None:
        finished_now = meta.get_field("finished").get_db_prep_save(timezone.now(), connection)
        canceled = {"status": STATUS.CANCELED, "finished": finished_now}
    for name in _FINISHED_COLUMNS if task is not None else _CANCELED_COLUMNS:
        if task is not None:
            field = meta.get_field(name)
            value = field.get_db_prep_save(field.pre_save(task, False), connection)
            params += [task.pk, value] if cancel is not None else [value]
        if name in canceled:
            params.append(canceled[name])
    if task is not None:
        params.append(task.pk)
    if cancel is not None:
        process_pk, node = cancel
        params += [process_pk, node_ref(node), *_WAITING]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(connection, task is not None, cancel is not None), params)


_POSITIVE_STAND_IN_BASE = 2_000_000_000
"""No query of the flow compares with such a number: the ids stay far below it."""


class PreparedInstances(PreparedRead):
    """A :class:`PreparedRead` whose rows come back as its queryset's model instances, each
    with the objects it selects related: converted and built as the queryset builds them."""

    def __init__(self, build: Any, **parameters: type) -> None:
        super().__init__(build, **parameters)
        # Positive stand-ins: Django finds that no row matches a negative value of a positive
        # integer field (the process's ``artifact_object_id``) and leaves it out of the SQL.
        for number, name in enumerate(self.stand_ins):
            if parameters[name] is int:
                self.stand_ins[name] = _POSITIVE_STAND_IN_BASE - number
        self._compilers: dict[str, Any] = {}
        self._wrappers: dict[str, dict[str, type]] = {}

    def _compile(self, using: str) -> Any:
        compiled = super()._compile(using)
        # PostgreSQL's backend wraps some integers (``Int4``): each call's value is wrapped alike.
        self._wrappers[using] = {
            name: type(value)
            for name, value in compiled.slots
            if name is not None and type(value) is not int
        }
        compiler = self.build(**self.stand_ins).query.get_compiler(using)
        compiler.as_sql()  # fills in what the compiler selects, to build instances from
        klass_info = compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self._compilers[using] = (
            compiler,
            klass_info["model"],
            (first, last),
            [column[0].target.attname for column in compiler.select[first:last]],
            get_related_populators(klass_info, compiler.select, using),  # type: ignore[call-arg]
        )
        return compiled

    def _stand_in_for(self, value: Any) -> str | None:
        for name, stand_in in self.stand_ins.items():
            if isinstance(value, type(stand_in)) and value == stand_in:
                return name
        return None

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[Any]:
        if using not in self._compilers:
            self._compile(using)
        for name, wrapper in self._wrappers[using].items():
            values[name] = wrapper(values[name])
        rows = self.rows(using, **values)
        compiler, model, (first, last), attnames, populators = self._compilers[using]
        instances = []
        for row in compiler.results_iter([rows]):
            instance = model.from_db(using, attnames, row[first:last])
            for populator in populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances
