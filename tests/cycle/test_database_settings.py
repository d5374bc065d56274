"""On PostgreSQL, the statements a connection repeats are planned once, not on every use."""

from __future__ import annotations

import pytest
from django.db import connection

from cycle import services
from tests.factories import CycleWorld

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
    pytest.mark.django_db,
]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_parameters_are_bound_by_the_server() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)
    assert connection.settings_dict["OPTIONS"].get("server_side_binding") is True


def test_the_gate_snapshot_of_repeated_advances_is_prepared_once() -> None:
    # Six advances on one connection: psycopg prepares a statement from its fifth use.
    worlds = [CycleWorld(panel_size=3) for _ in range(6)]
    for world in worlds:
        world.meet_gate()
    connection.ensure_connection()
    before = _prepared()
    for world in worlds:
        services.stage_advance(actor=world.lead, cycle_id=world.id)
    prepared = [statement for statement in _prepared() if statement not in before]
    assert any("UNION ALL" in statement for statement in prepared), prepared
    assert all("$1" in statement for statement in prepared if "UNION ALL" in statement)
