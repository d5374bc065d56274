"""Viewflow's process and task records in the admin, read-only.

A process follows its cycle; editing one by hand (re-pointing it at another cycle, rewriting a
task's data, deleting it) could only put it out of step. Viewflow registers editable admins for
its ``Process`` and ``Task``; they are replaced here by read-only ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyProcessAdmin(_ReadOnly, ProcessAdmin):  # type: ignore[misc]
    pass


class ReadOnlyTaskAdmin(_ReadOnly, TaskAdmin):  # type: ignore[misc]
    pass


for model, model_admin in ((Process, ReadOnlyProcessAdmin), (Task, ReadOnlyTaskAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
