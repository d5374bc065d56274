"""How viewflow stores the commissioning process: one run of the flow per cycle.

``CommissioningProcess`` and ``CommissioningTask`` are proxies of viewflow's own tables. A process
points at its cycle through viewflow's ``artifact`` reference; a cycle that is reopened after it was
completed gets a new run, so the cycle's process is always its latest run. Both querysets can narrow
themselves to the cycles a user may see (``cycle.selectors.cycles_visible_to``), which viewflow's
own list views do not do: they only check model-level permissions.
"""

from __future__ import annotations

from typing import Any, Self, cast

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.managers import ProcessQuerySet, TaskQuerySet
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS

from cycle.models import CommissioningCycle
from cycle.selectors import cycles_visible_to


def _cycle_content_type() -> ContentType:
    return ContentType.objects.get_for_model(CommissioningCycle)


class CommissioningProcessQuerySet(ProcessQuerySet):  # type: ignore[misc]
    def for_cycle(self, cycle_id: int) -> Self:
        return cast(
            Self,
            self.filter(artifact_content_type=_cycle_content_type(), artifact_object_id=cycle_id),
        )

    def running(self) -> Self:
        return cast(Self, self.filter(status=PROCESS.NEW))

    def visible_to(self, user: Any) -> Self:
        """Runs of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                artifact_content_type=_cycle_content_type(),
                artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))


class CommissioningProcess(Process):  # type: ignore[misc]
    """A run of the commissioning flow for one cycle."""

    objects = CommissioningProcessQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning process")
        verbose_name_plural = _("commissioning processes")
        # viewflow adds "manage" when the flow class is defined; declared here so that the
        # migration state does not depend on whether the flow module has been imported.
        default_permissions = ("add", "change", "delete", "view", "manage")

    @property
    def cycle(self) -> CommissioningCycle:
        """The cycle, read afresh from the database."""
        return CommissioningCycle.objects.get(pk=self.artifact_object_id)


class CommissioningTaskQuerySet(TaskQuerySet):  # type: ignore[misc]
    def visible_to(self, user: Any) -> Self:
        """Tasks of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                process__artifact_content_type=_cycle_content_type(),
                process__artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))

    def user_queue(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_queue(user, flow_class=flow_class).visible_to(user))

    def user_archive(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_archive(user, flow_class=flow_class).visible_to(user))


class CommissioningTask(Task):  # type: ignore[misc]
    """A task of the commissioning flow: a stage task for the lead, or a member's sign-off."""

    objects = CommissioningTaskQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning task")
        verbose_name_plural = _("commissioning tasks")
