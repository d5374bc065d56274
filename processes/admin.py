"""Viewflow's process and task records in the admin, read-only.

A process follows its cycle; editing one by hand (re-pointing it at another cycle, rewriting a
task's data, deleting it) could only put it out of step. Viewflow registers editable admins for
its ``Process`` and ``Task``; they are replaced here by read-only ones, which show staff who are
not superusers only the processes of the cycles they may see, as every other admin page does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task

from cycle import selectors
from cycle.models import CommissioningCycle


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _visible_artifacts(user: Any) -> dict[str, Any]:
    return {
        "artifact_content_type": ContentType.objects.get_for_model(CommissioningCycle),
        "artifact_object_id__in": selectors.cycles_visible_to(user).values("pk"),
    }


class ReadOnlyProcessAdmin(_ReadOnly, ProcessAdmin):  # type: ignore[misc]
    """Processes of the cycles the user may see (all of them for a superuser)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset  # type: ignore[no-any-return]
        return queryset.filter(**_visible_artifacts(request.user))  # type: ignore[no-any-return]


class ReadOnlyTaskAdmin(_ReadOnly, TaskAdmin):  # type: ignore[misc]
    """Tasks of the processes of the cycles the user may see (all for a superuser)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset  # type: ignore[no-any-return]
        visible = {
            f"process__{key}": value for key, value in _visible_artifacts(request.user).items()
        }
        return queryset.filter(**visible)  # type: ignore[no-any-return]


for model, model_admin in ((Process, ReadOnlyProcessAdmin), (Task, ReadOnlyTaskAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
