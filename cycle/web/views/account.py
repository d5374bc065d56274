"""Signing in and out, and the page that explains the service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.views.generic import TemplateView

from ..forms import SignInForm


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "web/account/sign_in.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if form.errors:
            context["error_summary"] = form.summary_items()
        return context


class HelpView(TemplateView):
    template_name = "web/help.html"
