"""Permission backends that answer a check in one query where Django's and guardian's take two.

Django's ``ModelBackend`` reads a user's own model permissions and their groups' in two queries
(then keeps the answer on the user object for the rest of the request); guardian's
``ObjectPermissionBackend`` reads the user's and their groups' object permissions in two queries on
every check. These subclasses ask the same questions once each, with the same answers: a user's
permissions through their groups count exactly as before, inactive users have none, superusers
all. Every other method is inherited unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Exists, Model, OuterRef, Q
from guardian.backends import ObjectPermissionBackend as GuardianObjectPermissionBackend
from guardian.backends import check_support
from guardian.ctypes import get_content_type
from guardian.exceptions import WrongAppError
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model


class ModelBackend(DjangoModelBackend):
    """Django's model permissions: the user's own and their groups', in one query."""

    def get_all_permissions(self, user_obj: Any, obj: Model | None = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                permissions = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache  # type: ignore[no-any-return]


class ObjectPermissionBackend(GuardianObjectPermissionBackend):
    """guardian's object permissions: held by the user or through a group, in one query."""

    def has_perm(self, user_obj: Any, perm: str, obj: Model | None = None) -> bool:
        user_model: Any = get_user_obj_perms_model(obj) if obj is not None else None
        group_model: Any = get_group_obj_perms_model(obj) if obj is not None else None
        if not (
            user_model is not None
            and group_model is not None
            and user_model.objects.is_generic()
            and group_model.objects.is_generic()
        ):
            return bool(super().has_perm(user_obj, perm, obj))
        assert obj is not None
        support, user_obj = check_support(user_obj, obj)
        if not support:
            return False
        ctype = get_content_type(obj)
        if "." in perm:
            app_label = perm.split(".", 1)[0]
            if app_label not in (obj._meta.app_label, ctype.app_label):
                raise WrongAppError(
                    f"Passed perm has app label of '{app_label}' while given obj has app label "
                    f"'{obj._meta.app_label}' and given obj content_type has app label "
                    f"'{ctype.app_label}'"
                )
        if not user_obj.is_active:
            return False
        if user_obj.is_superuser:
            return True
        codename = perm.split(".", 1)[-1]
        held = {"content_type": ctype, "object_pk": str(obj.pk), "permission": OuterRef("pk")}
        return bool(
            Permission.objects.filter(content_type=ctype, codename=codename)
            .filter(
                Exists(user_model.objects.filter(user=user_obj, **held))
                | Exists(group_model.objects.filter(group__user=user_obj, **held))
            )
            .exists()
        )
