import pytest


@pytest.fixture
def world(db):
    from tests.factories import CycleWorld

    return CycleWorld()


def pytest_addoption(parser):
    parser.addoption(
        "--screens",
        action="store_true",
        default=False,
        help="Browser tests save a screenshot of every page they visit under docs/screens/.",
    )
