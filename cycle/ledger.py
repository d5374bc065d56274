"""The append-only, hash-chained audit ledger: writing events and verifying chains.

Every service writes exactly one event per change (and one per refusal) through :func:`append`,
inside the same transaction as the change. Appends are serialised by locking the single
:class:`~cycle.models.LedgerHead` row, so the chain never forks. Verification recomputes each hash
from the stored fields alone, so an export can be verified without the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils import timezone

from .models import AuditEvent, CommissioningCycle, LedgerHead

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a ledger payload")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Sorted keys, no insignificant white space, UTF-8 kept as is."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "outcome",
    "cycle_id",
    "stage_key",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "cycle_prev_hash",
)


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed fields of one event."""
    body = canonical_json({name: fields[name] for name in HASHED_FIELDS})
    return hashlib.sha256(body.encode()).hexdigest()


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    cycle: CommissioningCycle | None = None,
    stage_key: str = "",
    obj: models.Model | None = None,
    payload: Mapping[str, Any] | None = None,
    outcome: str = AuditEvent.Outcome.DONE,
) -> AuditEvent:
    """Append one event to the ledger. Call inside the transaction that made the change."""
    head, _ = LedgerHead.objects.select_for_update().get_or_create(pk=1)
    cycle_prev = ""
    if cycle is not None:
        cycle_prev = (
            AuditEvent.objects.filter(cycle=cycle)
            .order_by("-seq")
            .values_list("hash", flat=True)
            .first()
            or GENESIS
        )
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": _timestamp(now),
        "actor_id": actor_id,
        "actor_name": actor.get_username() if actor is not None and actor_id is not None else "",
        "action": action,
        "outcome": str(outcome),
        "cycle_id": cycle.pk if cycle is not None else None,
        "stage_key": stage_key,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "payload": canonical_json(payload or {}),
        "prev_hash": head.hash,
        "cycle_prev_hash": cycle_prev,
    }
    digest = event_hash(fields)
    event = AuditEvent.objects.create(hash=digest, **{**fields, "at": now})
    LedgerHead.objects.filter(pk=1).update(seq=fields["seq"], hash=digest)
    return event


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The stored fields of an event in the form that was hashed (also the export form)."""
    return {
        "seq": event.seq,
        "at": _timestamp(event.at),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "outcome": event.outcome,
        "cycle_id": event.cycle_id,
        "stage_key": event.stage_key,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "cycle_prev_hash": event.cycle_prev_hash,
        "hash": event.hash,
    }


@dataclass(frozen=True)
class Verification:
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_records(
    records: Iterable[Mapping[str, Any]], *, per_cycle: bool = False
) -> Verification:
    """Verify a sequence of exported events: each hash, and each link to the one before.

    With ``per_cycle`` the records are one cycle's events and links are checked through
    ``cycle_prev_hash``; otherwise they are the whole ledger in order, linked by ``prev_hash``.
    """
    previous = GENESIS
    expected_seq: int | None = None
    checked = 0
    for record in records:
        seq = record["seq"]
        if not per_cycle:
            if expected_seq is None:
                expected_seq = 1
            if seq != expected_seq:
                return Verification(checked, seq, f"expected event #{expected_seq}, found #{seq}")
            expected_seq += 1
        link = record["cycle_prev_hash"] if per_cycle else record["prev_hash"]
        if link != previous:
            return Verification(checked, seq, "does not follow the event before it")
        if event_hash(record) != record["hash"]:
            return Verification(checked, seq, "its contents do not match its hash")
        previous = record["hash"]
        checked += 1
    return Verification(checked)


def iter_records(
    queryset: models.QuerySet[AuditEvent], chunk_size: int = 2000
) -> Iterator[dict[str, Any]]:
    for event in queryset.order_by("seq").iterator(chunk_size=chunk_size):
        yield event_fields(event)


def verify_ledger() -> Verification:
    return verify_records(iter_records(AuditEvent.objects.all()))


def verify_cycle(cycle: CommissioningCycle) -> Verification:
    return verify_records(iter_records(AuditEvent.objects.filter(cycle=cycle)), per_cycle=True)
