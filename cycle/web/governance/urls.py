"""URLs of the governance pages, mounted at /governance/ inside the ``web`` namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
