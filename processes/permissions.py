"""Guardian's content type lookup, keeping viewflow's proxy models apart from the concrete ones.

Django gives a proxy model its own content type and puts the proxy's permissions
(``processes.view_commissioningprocess``, ``processes.manage_commissioningprocess``) on it. Guardian
stores and checks object permissions against the content type this function returns, so it must be
the proxy's own: resolved to the concrete model (viewflow's ``Process``), guardian looks for the
proxy's permissions on the wrong content type, cannot assign them and never finds them. For a model
that is not a proxy both lookups are the same.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models


def own_content_type(obj: models.Model | type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(obj, for_concrete_model=False)
