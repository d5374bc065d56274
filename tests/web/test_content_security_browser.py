"""The content security policy in a real browser: the pages that bring their own markup (the
admin, viewflow's process pages, the API reference) work under it with no violation.

The service's own pages are checked by every journey (``conftest.journey`` fails on any console
error, and a blocked script or style is one); these are the pages no journey walks. Here the
browser's own ``securitypolicyviolation`` events are collected, so a missing icon is not mistaken
for a violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Journey, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""


@pytest.fixture
def signed_in(browser: Any, demo_site: Any) -> Iterator[Any]:
    contexts = []

    def start(username: str) -> Journey:
        context = browser.new_context()
        context.add_init_script(RECORD_VIOLATIONS)
        contexts.append(context)
        walk = Journey(username, context.new_page(), demo_site.url, screens=False)
        sign_in(walk, username)
        return walk

    yield start
    for context in contexts:
        context.close()


def open_page(walk: Journey, path: str) -> dict[str, list[str]]:
    """Go to ``path``; fail on any violation of the policy; the policy it was served with."""
    response = walk.page.goto(walk.url(path))
    walk.page.wait_for_load_state("networkidle")
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    assert walk.page.evaluate("window.__violations") == [], path
    header = response.headers.get("content-security-policy", "")
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def test_the_admin_and_the_api_reference_work_under_the_policy(signed_in):
    walk = signed_in("sam.carter")
    policy = open_page(walk, "/admin/")
    assert policy["style-src"] == ["'self'"], "no inline style on the admin"
    first_model = walk.page.locator("#content-main table a[href^='/admin/']").first
    open_page(walk, first_model.get_attribute("href"))

    policy = open_page(walk, "/api/docs/")
    assert (policy["style-src"], policy["script-src"]) == (["'self'"], ["'self'"])
    walk.page.wait_for_selector("#swagger-ui .opblock")  # the reference was drawn, by script


def test_the_process_pages_work_under_the_policy(signed_in):
    from viewflow.workflow.models import Process, Task

    walk = signed_in("gillian.marsh")
    process = Process.objects.order_by("pk").first()
    assert process is not None
    policy = open_page(walk, "/processes/")
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]
    open_page(walk, f"/processes/commissioning/{process.pk}/")
    task = Task.objects.filter(process=process).order_by("-pk").first()
    assert task is not None
    open_page(walk, f"/processes/commissioning/{process.pk}/{task.flow_task.name}/{task.pk}/")
