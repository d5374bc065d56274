from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from .definitions import sync_role_groups


def sync_roles_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Bring the role groups in line with ``fixtures/roles.json`` once every app has migrated."""
    # Imported here, not at the top: the auth models may be imported only once the app registry
    # is ready, and this module is loaded while it is being filled (an app-loading rule).
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    if sender.label != RolesConfig.label:
        return
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups(Group, Permission)


class RolesConfig(AppConfig):
    name = "roles"
    label = "roles"
    verbose_name = _("Roles and panels")

    def ready(self) -> None:
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="roles.sync_role_groups")
