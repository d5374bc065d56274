"""The seam between the services and the workflow engine that follows each cycle.

The services are the one place a stage moves, the panel changes or a sign-off is recorded. Each
of them tells the registered :class:`Workflow` inside its own transaction, so the cycle and its
process never disagree, whichever face called the service: the flow, the command line, the
admin, the web pages or the API. ``processes`` registers the commissioning flow when the app
registry is ready; until then (and for cycles that have no process) nothing follows the cycle.
A workflow that refuses raises a ``ServiceError`` and the service's changes roll back with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .errors import Conflict
from .i18n import gettext_lazy as _

if TYPE_CHECKING:
    from .models import CommissioningCycle, SignOff, StageVisit


class Workflow(Protocol):
    def stage_moved(
        self,
        *,
        actor: Any,
        cycle: CommissioningCycle,
        outcome: dict[str, Any],
        visit: StageVisit | None = None,
        members: frozenset[int] | None = None,
    ) -> None:
        """The cycle has left its stage (advanced or reopened): end the stage task. ``visit`` is
        the stage visit the service opened, ``members`` the active panel if the service has read
        it, so that the workflow need not read them again."""

    def panel_changed(
        self, *, cycle: CommissioningCycle, ask: Iterable[int] | None = None, required: bool = False
    ) -> list[int]:
        """The panel changed (or the lead asks again): give members without an open sign-off
        task theirs (only those in ``ask``, when given) and close leavers'. Returns the members
        newly asked. With ``required``, refuse when there is no running process to ask through."""

    def signoff_recorded(self, *, actor: Any, cycle: CommissioningCycle, signoff: SignOff) -> None:
        """A member recorded their position: complete their sign-off task if it is open."""


class _NoWorkflow:
    def stage_moved(
        self,
        *,
        actor: Any,
        cycle: CommissioningCycle,
        outcome: dict[str, Any],
        visit: StageVisit | None = None,
        members: frozenset[int] | None = None,
    ) -> None:
        return None

    def panel_changed(
        self, *, cycle: CommissioningCycle, ask: Iterable[int] | None = None, required: bool = False
    ) -> list[int]:
        if required:
            raise Conflict(
                _(
                    "This cycle has no running process with an open stage, so there is nobody "
                    "to ask for sign-off through it.",
                ),
                code="process.not_running",
            )
        return []

    def signoff_recorded(self, *, actor: Any, cycle: CommissioningCycle, signoff: SignOff) -> None:
        return None


_NONE = _NoWorkflow()
_registered: list[Workflow] = [_NONE]


def register(workflow: Workflow) -> None:
    """Make ``workflow`` the one the services tell (``processes.apps`` does this at start-up)."""
    _registered[0] = workflow


def current() -> Workflow:
    return _registered[0]


def following(cycle: CommissioningCycle) -> Workflow:
    """The workflow that follows ``cycle``: the registered one, or none for a cycle without a
    process (so moving such a cycle costs no look-up of a process it does not have)."""
    return _registered[0] if cycle.followed_by_process else _NONE
