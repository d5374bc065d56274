"""The live BPMN diagram of a cycle, as SVG markup and as a small view for the cycle page.

``cycle_diagram_svg`` returns the markup (to embed inline); ``cycle_diagram`` serves it at
``/cycles/<id>/diagram.svg`` to whoever may see the cycle, and answers 404 to anyone else, as if
the cycle did not exist.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cycle import selectors
from cycle.models import CommissioningCycle

from . import bpmn
from .stages import get_template


def cycle_diagram_svg(cycle: CommissioningCycle) -> str:
    """The cycle's stage template drawn as BPMN, each stage marked as the cycle stands."""
    return bpmn.live_svg(
        get_template(cycle.template_key),
        selectors.stage_states(cycle),
        title=f"{cycle.title}: the stages of the commissioning cycle and where it stands",
    )


@require_GET
def cycle_diagram(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycles_visible_to(request.user), pk=cycle_id)
    response = HttpResponse(cycle_diagram_svg(cycle), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    return response
