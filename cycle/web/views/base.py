"""What every page shares: sign-in, the cycle a page is about, and forms that call a service.

A page that changes something is a :class:`ServiceFormView`: its form checks the shape of the
input, :meth:`ServiceFormView.perform` calls one entry point of the flow or one service, and a
``ServiceError`` it raises goes back onto the form (and so into the error summary) with nothing
written. On success the user is told exactly what was done (:meth:`confirmation`) and sent on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, cached_property
from django.views.generic import FormView, TemplateView

from cycle.errors import ServiceError
from cycle.models import CommissioningCycle
from cycle.stages import get_template
from roles.permissions import Action, allowed, on_panel

from .. import selectors as page_selectors
from ..forms import PageFormMixin

Result = TypeVar("Result")


class Page(LoginRequiredMixin, TemplateView):
    """A page for signed-in users."""

    request: HttpRequest


class CycleMixin:
    """A page about one cycle the user may see (others are "not found", whoever asks)."""

    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def cycle(self) -> CommissioningCycle:
        cycle = page_selectors.page_cycle(self.request.user, self.kwargs["cycle_id"])
        if cycle is None:
            raise Http404("No such cycle")
        return cycle

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["cycle"] = self.cycle
        return context


class ServiceFormView(LoginRequiredMixin, FormView):  # type: ignore[type-arg]
    """A page whose form calls one service (through :meth:`perform`)."""

    request: HttpRequest
    submit_label = "Save"

    def perform(self, form: Any) -> Any:
        """Call the service with the form's cleaned data; return what it returned."""
        raise NotImplementedError

    def confirmation(self, result: Any) -> str:
        """What the user did, in words they would use; shown in the success banner."""
        return ""

    def fix_links(self) -> Mapping[str, str]:
        """Gate codes to the pages that fix them, for a closed gate's error summary."""
        return {}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        # Made only when read: a form reads its fix links only when a service refused it.
        kwargs["fix_links"] = SimpleLazyObject(self.fix_links)
        return kwargs

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            result = self.perform(form)
        except ServiceError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        message = self.confirmation(result)
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url_for(result))

    def get_success_url_for(self, result: Any) -> str:
        return self.get_success_url()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        form = context.get("form")
        if isinstance(form, PageFormMixin) and getattr(form, "errors", None):
            context["error_summary"] = form.summary_items()
        context["submit_label"] = self.submit_label
        return context


class CyclePage(CycleMixin, Page):
    """A read-only page about one cycle."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.cycle
        user = self.request.user
        template = get_template(cycle.template_key)
        return super().get_context_data(
            stage=template.get(cycle.current_stage),
            is_lead=allowed(user, Action.LEAD, cycle),
            manages_panel=allowed(user, Action.MANAGE_PANEL, cycle),
            decides=allowed(user, Action.DECIDE, cycle),
            on_panel=on_panel(user, cycle),
            **kwargs,
        )


class CycleFormView(CycleMixin, ServiceFormView):
    """A form about one cycle; back to ``success_url_name`` of the cycle when done."""

    success_url_name = "web:cycle"

    def get_success_url(self) -> str:
        return reverse(self.success_url_name, args=[self.cycle.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        template = get_template(self.cycle.template_key)
        return super().get_context_data(stage=template.get(self.cycle.current_stage), **kwargs)

    def call_service(self, service: Callable[..., Result], /, **arguments: Any) -> Result:
        """Call ``service`` as the signed-in user, on this cycle, with the form's ``arguments``."""
        return service(actor=self.request.user, cycle_id=self.cycle.pk, **arguments)


class CheckAnswersMixin:
    """Answer the form, see the answers on a "Check your answers" page, then confirm them.

    Goes before a :class:`ServiceFormView`. A valid form shows ``check_template_name`` with
    :meth:`check_context`; "change" shows the form again, answers kept; "confirm" calls the
    service as the view would (a refusal lands on the form's error summary).
    """

    request: Any
    check_template_name: str

    def check_context(self, form: Any) -> dict[str, Any]:
        """What the check page shows besides the form."""
        raise NotImplementedError

    def form_valid(self, form: Any) -> HttpResponse:
        view: Any = self
        response: HttpResponse
        if "change" in self.request.POST:
            response = view.render_to_response(view.get_context_data(form=form))
        elif "confirm" not in self.request.POST:
            response = view.response_class(
                request=self.request,
                template=[self.check_template_name],
                context=view.get_context_data(form=form, **self.check_context(form)),
                using=view.template_engine,
            )
        else:
            response = super().form_valid(form)  # type: ignore[misc]
        return response


class ButtonView(CycleFormView):
    """A button on another page (``page_view``) that calls one service.

    A refusal shows that page again, as it would be read, with the refusal as its error summary.
    """

    page_view: Any
    http_method_names = ["post"]

    def form_invalid(self, form: Any) -> Any:
        self.request.method = "GET"
        view = self.page_view()
        view.setup(self.request, *self.args, **self.kwargs)
        context = view.get_context_data()
        context["error_summary"] = form.summary_items()
        return view.render_to_response(context)
