"""Forms on the design system, and how a service's refusal lands on them.

Every form of the web pages derives from :class:`PageForm`. It renders each field as the NHS.UK
frontend's form group (label, hint, error message, input) through ``web/forms/field.html``, and
lists its errors for the page's error summary (:meth:`PageForm.summary_items`), each linked to
its field. :meth:`PageForm.add_service_error` puts a ``cycle.errors.ServiceError`` on the form:
on the field its code names (``service_fields``), or as an error of the whole form; a closed
gate becomes one error per unmet condition, each linked to the page that fixes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import BaseRenderer, DjangoTemplates
from django.utils.translation import gettext_lazy as _

from cycle.errors import GateClosed, ServiceError


class Renderer(DjangoTemplates):
    """Django's form renderer, with the design system's form and field templates."""

    form_template_name = "web/forms/form.html"
    field_template_name = "web/forms/field.html"


RENDERER = Renderer()


@dataclass(frozen=True)
class SummaryItem:
    """One line of an error summary: the message and, if any, where to go to fix it."""

    message: str
    href: str = ""


def field_anchor(bound_field: forms.BoundField) -> str:
    """The id the error summary links to: the input itself, or a group's first option."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound_field.auto_id}_0"
    return str(bound_field.auto_id)


class PageFormMixin:
    """What every form of the pages shares; mix into ``forms.Form`` (or Django's own forms)."""

    default_renderer: BaseRenderer | type[BaseRenderer] | None = RENDERER
    template_name_div = "web/forms/form.html"

    service_fields: Mapping[str, str] = {}
    """Service error codes that belong to one field: ``{"invalid.amount": "amount"}``."""

    fix_links: Mapping[str, str]
    """Gate codes (``boundaries.missing``...) to the page that fixes each, set by the view."""

    def __init__(self, *args: Any, fix_links: Mapping[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fix_links = fix_links if fix_links is not None else {}
        self.refusal_links: dict[str, str] = {}

    def add_service_error(self, error: ServiceError) -> None:
        """Show a refusal on the form; nothing was written when a service raised it."""
        form: Any = self
        if isinstance(error, GateClosed):
            for item in error.result.unmet:
                form.add_error(None, ValidationError(item.message, code=item.code))
                if item.code in self.fix_links:
                    # Keyed as the summary reads it: in the page's language (cycle.i18n).
                    self.refusal_links[str(item.message)] = self.fix_links[item.code]
            return
        field = self.service_fields.get(error.code)
        if field is not None and field in form.fields:
            form.add_error(field, ValidationError(error.message, code=error.code))
        else:
            form.add_error(None, ValidationError(error.message, code=error.code))

    def summary_items(self) -> list[SummaryItem]:
        """The form's errors, whole-form ones first, each linked to where it can be fixed."""
        form: Any = self
        items = [
            SummaryItem(str(message), self.refusal_links.get(str(message), ""))
            for message in form.non_field_errors()
        ]
        for name in form.fields:
            bound = form[name]
            for message in bound.errors:
                items.append(SummaryItem(str(message), "#" + field_anchor(bound)))
        return items

    def error_codes(self) -> list[str]:
        """Every error's code (whole-form first), for tests and logs."""
        form: Any = self
        codes = [error.code or "" for error in form.non_field_errors().as_data()]
        for name in form.fields:
            codes.extend(error.code or "" for error in form[name].errors.as_data())
        return codes


class PageForm(PageFormMixin, forms.Form):
    """The base of every form of the web pages."""

    def set_choices(self, name: str, choices: Iterable[tuple[Any, Any]]) -> None:
        """Offer ``choices`` (known only when the form is made) on the choice field ``name``."""
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(choices)


class SignInForm(PageFormMixin, AuthenticationForm):
    """Django's sign-in form, on the design system, in plain English."""

    error_messages = {
        "invalid_login": _(
            "The username or password is not right. Check them and try again. Both must be "
            "typed exactly, with capital letters where they have them."
        ),
        "inactive": _("This account is not active. Ask your administrator."),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].error_messages["required"] = _("Enter your username")
        self.fields["password"].error_messages["required"] = _("Enter your password")
        self.fields["username"].widget.attrs.pop("autofocus", None)
