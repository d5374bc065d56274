"""The project's settings, with ``bench`` installed as an app so viewflow can store the bare
flow of ``bench/bare_flow.py`` (viewflow refers to a flow through its application)."""

from cycle.conf.settings import *  # noqa: F403
from cycle.conf.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

# Measured as in production: no query log kept in memory, no debug pages; the test client's host.
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
