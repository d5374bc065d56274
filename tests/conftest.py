import pytest


@pytest.fixture
def world(db):
    from tests.factories import CycleWorld

    return CycleWorld()
