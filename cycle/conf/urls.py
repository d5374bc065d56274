"""URL configuration: the service's pages at the root, sign-in/out, the admin, the flow and the
REST API (``/api/``), and ``/healthz`` for monitoring."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cycle.health import healthz
from cycle.web.views.account import SignInView
from processes import bpmn_views

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("processes/", include("processes.urls")),
    path("api/", include("cycle.api.urls")),
    path("cycles/<int:cycle_id>/diagram.svg", bpmn_views.cycle_diagram, name="cycle-diagram"),
    path("healthz", healthz, name="healthz"),
    path("", include("cycle.web.urls")),
]

handler404 = "cycle.web.views.cycles.not_found"
