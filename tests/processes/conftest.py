from typing import Any

import pytest

from tests.processes.worlds import FlowWorld


@pytest.fixture
def flow_world(db: Any) -> FlowWorld:
    return FlowWorld()
