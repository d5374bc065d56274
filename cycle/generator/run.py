"""The whole history: people first, then every cycle's story merged in time order and written."""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from django.db import models
from guardian.utils import get_user_obj_perms_model

from cycle import models as domain
from roles import models as panel

from .actions import Context
from .ids import Ids
from .people import People
from .story import DAY, Story
from .writer import Writer, stamp

WRITTEN: tuple[type[models.Model], ...] = (
    domain.AuditEvent,
    domain.BoundaryAcknowledgement,
    domain.BudgetDisclosure,
    domain.CommissioningCycle,
    domain.Decision,
    domain.DutyAssessment,
    domain.GateOverride,
    domain.GateOverrideDeparture,
    domain.InputResponse,
    domain.RoleBoundaryAgreement,
    domain.SignOff,
    domain.StageVisit,
    domain.UserInput,
    panel.AgreementSignature,
    panel.ConflictDeclaration,
    panel.PanelMembership,
    panel.WorkingAgreement,
)
"""The tables written raw (with guardian's object permission table)."""


def ids() -> Ids:
    """Ids for every table the generator writes."""
    return Ids((*WRITTEN, get_user_obj_perms_model()))


def write(
    writer: Writer,
    timeline: Iterable[tuple[float, Any]],
    batch: int,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Hand every row and event of ``timeline`` (in time order) to ``writer``, in batches;
    ``progress`` is told the time reached every thousand items. The writer is closed at the end,
    and on any failure before it raises."""
    try:
        for number, (at, item) in enumerate(timeline):
            if progress is not None and number % 1000 == 0:
                progress(at)
            if item is None:
                continue
            writer.put(item)
            if writer.pending >= batch:
                writer.flush()
        writer.flush()
    except BaseException:
        writer.close(quietly=True)  # the writer must be idle before the transaction ends
        raise
    writer.close()


class Generator:
    def __init__(self, *, seed: int, years: float, batch: int) -> None:
        self.rng = random.Random(seed)
        self.now = time.time()
        self.begin = self.now - years * 365.25 * DAY
        self.batch = batch

    def run(
        self,
        organisations: int,
        cycles: int,
        progress: Callable[[float], None] | None = None,
    ) -> Writer:
        """Write the data; ``progress(fraction)`` is told how far through the history it is."""
        people = People(self.rng, stamp(self.begin - 30 * DAY))
        per_org = max(1, math.ceil(cycles / organisations))
        staff = people.create(organisations, representatives_each=max(20, per_org * 3))
        context = Context.load(ids(), people.usernames)
        writer = Writer(context.usernames, context.ids)
        stories = [
            iter(
                Story(
                    context,
                    self.now,
                    staff[number % organisations],
                    self.rng.randrange(2**32),
                    self.rng.uniform(self.begin, self.now - 10 * DAY),
                )
            )
            for number in range(cycles)
        ]
        span = max(self.now - self.begin, 1.0)

        def reached(at: float) -> None:
            if progress is not None:
                progress(min(max((at - self.begin) / span, 0.0), 1.0))

        write(writer, heapq.merge(*stories, key=itemgetter(0)), self.batch, reached)
        return writer
