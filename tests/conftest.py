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
    parser.addoption(
        "--require-broker",
        action="store_true",
        default=False,
        help="A test marked broker that skips (no broker, or SQLite) fails instead: CI's "
        "PostgreSQL run must start real workers, not skip them.",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and item.get_closest_marker("broker") is not None
        and item.config.getoption("--require-broker")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"--require-broker: this test needs a real broker and worker: {reason}"
