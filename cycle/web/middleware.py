"""A refusal that reaches no form still becomes a page: the error summary, in plain English.

Views catch a service's ``ServiceError`` where a form can show it. Anything that escapes (a
permission refused on a page, a cycle that is not there) is rendered here as a page of the
design system with the right status, never as a server error or a bare status code.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest, NotFound, ServiceError

from .forms import SummaryItem

STATUS = {Forbidden: 403, NotFound: 404, Conflict: 409, GateClosed: 409, InvalidRequest: 400}


def status_for(error: ServiceError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def refusal_page(request: HttpRequest, error: ServiceError) -> HttpResponse:
    if isinstance(error, GateClosed):
        items = [SummaryItem(item.message) for item in error.result.unmet]
    else:
        items = [SummaryItem(error.message)]
    response = TemplateResponse(
        request,
        "web/refused.html",
        {"error_summary": items, "error": error},
        status=status_for(error),
    )
    return response.render()


class ServiceErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ServiceError):
            return refusal_page(request, exception)
        return None
