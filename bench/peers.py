"""The benchmark's yardsticks beside the product: the raw floor and SpiffWorkflow on PostgreSQL.

* The raw floor: one transaction that locks a row, updates it and inserts an audit row and a task
  row: the least a gated, audited transition can cost through Django's connection.
* SpiffWorkflow 3.2: a BPMN process of nine sequential user tasks (one per stage); each step reads
  the workflow's serialised state from a JSONB column (row locked), deserialises it, completes
  the ready user task, runs the engine, and writes the state back, in one transaction.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.db import connection, transaction

from bench.bare_flow import STAGES

SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_item (id bigserial PRIMARY KEY, stage int NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS bench_audit (id bigserial PRIMARY KEY, item_id bigint NOT NULL
    REFERENCES bench_item (id), at timestamptz NOT NULL, action text NOT NULL, payload jsonb);
CREATE TABLE IF NOT EXISTS bench_task (id bigserial PRIMARY KEY, item_id bigint NOT NULL
    REFERENCES bench_item (id), stage int NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS bench_spiff (id bigserial PRIMARY KEY, state jsonb NOT NULL);
"""


def create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)


# The raw floor ---------------------------------------------------------------------------------


def floor_items(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_item (stage) SELECT 0 FROM generate_series(1, %s) RETURNING id",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def floor_step(item_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT stage FROM bench_item WHERE id = %s FOR UPDATE", [item_id])
        (stage,) = cursor.fetchone()
        cursor.execute(
            "UPDATE bench_item SET stage = %s, updated_at = now() WHERE id = %s",
            [stage + 1, item_id],
        )
        cursor.execute(
            "INSERT INTO bench_audit (item_id, at, action, payload) VALUES (%s, now(), %s, %s)",
            [item_id, "stage.advanced", json.dumps({"from": stage, "to": stage + 1})],
        )
        cursor.execute(
            "INSERT INTO bench_task (item_id, stage, created_at) VALUES (%s, %s, now())",
            [item_id, stage + 1],
        )


# SpiffWorkflow ---------------------------------------------------------------------------------


def bpmn_xml() -> str:
    """Start, one user task per stage in sequence, end."""
    ids = ["start", *(f"stage_{key}" for key in STAGES), "end"]
    tasks = "".join(f'<bpmn:userTask id="stage_{key}" name="{key}" />' for key in STAGES)
    flows = "".join(
        f'<bpmn:sequenceFlow id="flow_{n}" sourceRef="{a}" targetRef="{b}" />'
        for n, (a, b) in enumerate(itertools.pairwise(ids))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="defs" targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:process id="cycle" isExecutable="true">'
        f'<bpmn:startEvent id="start" />{tasks}<bpmn:endEvent id="end" />{flows}'
        "</bpmn:process></bpmn:definitions>"
    )


class Spiff:
    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_str(bpmn_xml().encode())
        self.spec = parser.get_spec("cycle")
        self.serializer = BpmnWorkflowSerializer()

    def new(self, count: int) -> list[int]:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        state = self.serializer.serialize_json(workflow)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_spiff (state) SELECT %s::jsonb FROM generate_series(1, %s) "
                "RETURNING id",
                [state, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def step(self, row_id: int, user: str = "lead") -> None:
        from SpiffWorkflow.util.task import TaskState

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT state FROM bench_spiff WHERE id = %s FOR UPDATE", [row_id])
            (state,) = cursor.fetchone()
            if not isinstance(state, str):
                state = json.dumps(state)
            workflow = self.serializer.deserialize_json(state)
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data["done_by"] = user
            task.run()
            workflow.do_engine_steps()
            cursor.execute(
                "UPDATE bench_spiff SET state = %s::jsonb WHERE id = %s",
                [self.serializer.serialize_json(workflow), row_id],
            )


def spiff_instances(spiff: Spiff, count: int) -> list[Any]:
    return spiff.new(count)
