"""Errors raised by services, each with a stable code and a plain-English message.

A message is a :class:`cycle.i18n.Message` where it was written as one: English on the ledger,
translated where a page shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .i18n import gettext_lazy as _

if TYPE_CHECKING:
    from .gates import GateResult


class ServiceError(Exception):
    """A refused or invalid request. Nothing was written when this is raised."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_line(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequest(ServiceError):
    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"


class Forbidden(ServiceError):
    """The actor may not do this. A refusal event is written to the ledger."""

    code = "forbidden"


class Conflict(ServiceError):
    """The request was valid but the cycle is not in a state that allows it."""

    code = "conflict"


class GateClosed(ServiceError):
    """The gate at the end of the current stage is not passable."""

    code = "gate.closed"

    def __init__(self, result: GateResult, stage_key: str) -> None:
        super().__init__(
            _(
                "The involvement gate of stage %(stage)s is closed: %(unmet)s",
                stage=repr(stage_key),
                unmet="; ".join(result.codes),
            )
        )
        self.result = result
        self.stage_key = stage_key
