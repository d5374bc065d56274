"""The web pages of the commissioning process: viewflow's frontend for ``CommissioningFlow``."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site

from .commissioning import CommissioningFlow
from .views import CommissioningViewset

site = Site(
    title=_("Commissioning"),
    viewsets=[CommissioningViewset(CommissioningFlow, icon="assignment")],
)

urlpatterns = [path("", site.urls)]
