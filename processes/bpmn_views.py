"""The live BPMN diagram of a cycle, as SVG markup and as a small view for the cycle page.

``cycle_diagram_svg`` returns the markup (to embed inline) and ``cycle_diagram_text`` the same
states as sentences (for an accessible list beside it); ``cycle_diagram`` serves the SVG at
``/cycles/<id>/diagram.svg`` to whoever may see the cycle, and answers 404 to anyone else, as if
the cycle did not exist.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cycle import selectors
from cycle.models import CommissioningCycle
from cycle.stages import get_template

from . import bpmn


def cycle_diagram_svg(cycle: CommissioningCycle) -> str:
    """The cycle's stage template drawn as BPMN, each stage marked as the cycle stands."""
    return bpmn.live_svg(
        get_template(cycle.template_key),
        selectors.stage_states(cycle),
        title=f"{cycle.title}: the stages of the commissioning cycle and where it stands",
    )


def cycle_diagram_text(cycle: CommissioningCycle) -> list[str]:
    """The same states in words, one sentence per stage: for a list beside the diagram."""
    template = get_template(cycle.template_key)
    model, _ = bpmn.template_diagram(template)
    return bpmn.state_sentences(model, selectors.stage_states(cycle))


@require_GET
def cycle_diagram(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycles_visible_to(request.user), pk=cycle_id)
    response = HttpResponse(cycle_diagram_svg(cycle), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    return response
