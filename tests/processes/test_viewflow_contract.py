"""What ``processes.nodes`` relies on in viewflow's private API, one test per use.

An upgrade of viewflow that changes any of these fails here first, naming the use, before the
flow tests fail in ways that are harder to read.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Node
from viewflow.workflow.context import context
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from processes import nodes


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_node_create_takes_the_previous_activation_a_token_and_data() -> None:
    assert _parameters(Node._create)[:4] == ["self", "prev_activation", "token", "data"], (
        "viewflow changed Node._create: fix processes.nodes.add_branch_task and "
        "PerItemSplitActivation.create_next"
    )


def test_split_branch_tokens_are_the_start_token_then_split_pk_and_number() -> None:
    split_task = SimpleNamespace(token=Token("start/7_1"), pk=12)
    upstream = Token.split_token_source("start", 12)

    assert [str(nodes.branch_token(split_task, n)) for n in (1, 2)] == [
        str(next(upstream)),
        str(next(upstream)),
    ], "viewflow changed how split branches are named: fix processes.nodes.branch_token"


def test_a_split_keeps_its_branches_as_node_case_and_data_source() -> None:
    target = flow.End()
    split = flow.Split().Next(target, case=None)

    assert split._activate_next == [(target, None, None)], (
        "viewflow changed Split._activate_next: fix processes.nodes.Split and its activation"
    )


def test_a_split_activation_collects_next_tasks_and_creates_them_in_create_next() -> None:
    assert "next_tasks" in inspect.getsource(SplitActivation.__init__)
    assert {"activate", "create_next"} <= set(vars(SplitActivation)), (
        "viewflow changed SplitActivation: fix processes.nodes.PerItemSplitActivation"
    )


def test_nodes_resolve_against_the_flow_instance_and_are_told_when_the_flow_is_ready() -> None:
    assert _parameters(flow.Split._resolve) == ["self", "instance"], (
        "viewflow changed Node._resolve: fix processes.nodes.Split._resolve"
    )
    assert _parameters(flow.Split._ready) == ["self"], (
        "viewflow changed Node._ready: fix processes.nodes.Split._ready"
    )


def test_a_node_marks_itself_multi_instance_for_the_diagram() -> None:
    assert flow.End()._multi_instance is False, (
        "viewflow changed Node._multi_instance: fix processes.nodes.Split._ready"
    )


def test_activation_create_takes_the_node_the_previous_activation_a_token_data_and_seed() -> None:
    assert _parameters(Activation.create.__func__) == [  # type: ignore[attr-defined]
        "cls",
        "flow_task",
        "prev_activation",
        "token",
        "data",
        "seed",
    ], "viewflow changed Activation.create: fix processes.nodes._WrittenWhenDone.create"


def test_function_and_if_activations_run_their_callback_in_a_savepoint_and_nothing_else() -> None:
    function = inspect.getsource(FunctionActivation.activate._func)
    condition = inspect.getsource(IfActivation.activate._func)

    assert "task_started.send" in function and "self.flow_task._func(self)" in function, (
        "viewflow changed FunctionActivation.activate: fix processes.nodes"
        ".WrittenWhenDoneFunctionActivation.activate"
    )
    assert "self._condition_result = self.flow_task._condition(self)" in condition, (
        "viewflow changed IfActivation.activate: fix processes.nodes"
        ".WrittenWhenDoneIfActivation.activate"
    )
    assert context.propagate_exception is True, (
        "viewflow no longer propagates activation errors by default: the activations of "
        "processes.nodes would no longer write their tasks as viewflow does"
    )


def test_cancelling_a_human_task_sets_it_canceled_and_finished_from_new_or_assigned() -> None:
    transition = ViewActivation.cancel._descriptor.get_transition(STATUS.NEW)
    body = inspect.getsource(ViewActivation.cancel._func)

    assert transition is not None and transition.target == STATUS.CANCELED
    assert ViewActivation.cancel._descriptor.get_transition(STATUS.ASSIGNED) is not None
    assert ViewActivation.cancel._descriptor.get_transition(STATUS.STARTED) is None
    assert "self.task.finished = now()" in body and "self.task.save()" in body, (
        "viewflow changed ViewActivation.cancel: fix processes.nodes.cancel_waiting"
    )


def test_a_task_activation_is_the_flow_lock_a_fresh_read_and_the_node_activation() -> None:
    body = inspect.getsource(Task.activation)

    assert "lock(self.process_id)" in body and "refresh_from_db()" in body, (
        "viewflow changed Task.activation: fix processes.nodes.activation_of"
    )
    assert "self.flow_task.activation_class(self)" in body


def test_completing_a_human_task_sets_it_finished_saves_it_and_says_so() -> None:
    view_complete = inspect.getsource(ViewActivation.complete._func)
    complete = inspect.getsource(Activation.complete._func)
    transition = ViewActivation.complete._descriptor.get_transition(STATUS.STARTED)

    assert transition is not None and transition.target == STATUS.DONE
    assert "super().complete.original()" in view_complete
    assert "self.task.finished = now()" in complete and "self.task.save()" in complete
    assert "task_finished.send" in complete, (
        "viewflow changed ViewActivation.complete: fix processes.nodes"
        ".FinishedWithTheMoveViewActivation.complete"
    )
