"""The web pages of the commissioning process: viewflow's frontend for ``CommissioningFlow``.

Every page about one process or one of its tasks first finds them among what the user may see:
a process of a cycle the user may not see, a task of another process than the URL's (or of
another node), and one that does not exist all answer the same "not found". Viewflow's own pages
look a task up by its number alone and would refuse a hidden one with 403, telling that it
exists; and they lock the process of the URL, not the task's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site

from .commissioning import CommissioningFlow
from .models import CommissioningProcess, CommissioningTask
from .views import CommissioningViewset

NODE_IN_PATH = re.compile(r"<int:process_pk>/(?P<node>\w+)/<int:task_pk>/")


def visible_or_404(user: Any, process_pk: int, task_pk: int | None, node: str | None) -> None:
    """Raise ``Http404`` unless the user may see the process and the task belongs to it."""
    process = CommissioningProcess.objects.filter(pk=process_pk).first()
    if (
        process is None
        or process.flow_class is not CommissioningFlow
        or not CommissioningFlow.instance.has_view_permission(user, process)
    ):
        raise Http404("No such process")
    if task_pk is None:
        return
    task = CommissioningTask.objects.filter(pk=task_pk, process_id=process_pk).first()
    if task is None or (node is not None and task.flow_task.name != node):
        raise Http404("No such task")


def _guarded(view: Callable[..., HttpResponse], node: str | None) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Signed-out visitors are sent to sign in by the page itself, whatever the number.
        if request.user.is_authenticated and "process_pk" in kwargs:
            visible_or_404(request.user, kwargs["process_pk"], kwargs.get("task_pk"), node)
        return view(request, *args, **kwargs)

    return guarded


def _guard_all(patterns: Iterable[Any], prefix: str = "") -> None:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            _guard_all(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and "<int:process_pk>" in route:
            match = NODE_IN_PATH.search(route)
            pattern.callback = _guarded(pattern.callback, match["node"] if match else None)


site = Site(
    title=_("Commissioning"),
    viewsets=[CommissioningViewset(CommissioningFlow, icon="assignment")],
)

urlpatterns = [path("", site.urls)]
_guard_all(urlpatterns)
