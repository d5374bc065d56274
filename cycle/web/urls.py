"""The web pages' URLs (namespace ``web``), mounted at the site's root."""

from django.urls import include, path

from .views import account, cycles

app_name = "web"

urlpatterns = [
    path("", cycles.HomeView.as_view(), name="home"),
    path("help/", account.HelpView.as_view(), name="help"),
    path("cycles/new/", cycles.CycleCreateView.as_view(), name="cycle-create"),
    path("cycles/<int:cycle_id>/", cycles.CycleView.as_view(), name="cycle"),
    # Governance board members' pages.
    path("governance/", include("cycle.web.governance.urls")),
]
