import pytest

from tests.roles.cast import Cast, build_cast


@pytest.fixture
def cast(db) -> Cast:
    return build_cast("north")


@pytest.fixture
def other_cast(db) -> Cast:
    return build_cast("south")
