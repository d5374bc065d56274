"""Permission backends that answer a check in one query where Django's and guardian's take two.

Django's ``ModelBackend`` reads a user's own model permissions and their groups' in two queries
(then keeps the answer on the user object for the rest of the request); guardian's
``ObjectPermissionBackend`` reads the user's and their groups' object permissions in two queries on
every check. These subclasses ask the same questions once each, with the same answers: a user's
permissions through their groups count exactly as before, inactive users have none, superusers
all. Every other method is inherited unchanged.

A service checks both layers ("may this kind of user ever", then "on this cycle"): the object
check asked first brings the user's model permissions with it, in the same query, when they are
not yet known, and leaves them where the model backend keeps them for the rest of the request. So
the two layers cost one query together.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db.models import BooleanField, Exists, Model, OuterRef, Q, QuerySet, Value
from guardian.backends import ObjectPermissionBackend as GuardianObjectPermissionBackend
from guardian.backends import check_support
from guardian.ctypes import get_content_type
from guardian.exceptions import WrongAppError
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from cycle.prepared import PreparedRead


def holds_on(user_obj: Any, perm: str, obj: Model) -> bool:
    """Whether ``user_obj`` holds ``perm`` both as a model permission and on ``obj``: one query at
    most, and none for a user already known not to hold the model permission."""
    if model_permissions_known(user_obj):
        return bool(user_obj.has_perm(perm) and user_obj.has_perm(perm, obj))
    return bool(user_obj.has_perm(perm, obj) and user_obj.has_perm(perm))


class ModelBackend(DjangoModelBackend):
    """Django's model permissions: the user's own and their groups', in one query."""

    def get_all_permissions(self, user_obj: Any, obj: Model | None = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                permissions = _model_permissions(user_obj)
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache  # type: ignore[no-any-return]


def model_permissions_known(user_obj: Any) -> bool:
    """Whether :class:`ModelBackend` has already read the user's model permissions (it keeps them
    on the user object for the rest of the request)."""
    return hasattr(user_obj, "_perm_cache")


def holding(user_id: Any, perm: str) -> QuerySet[Permission]:
    """The model permission ``perm`` (``app_label.codename``) if the user ``user_id`` holds it,
    directly or through a group: :class:`ModelBackend`'s answer for an active user who is not a
    superuser, as a query another can embed (``Exists``)."""
    app_label, codename = perm.split(".", 1)
    return _model_permissions(user_id).filter(content_type__app_label=app_label, codename=codename)


def _model_permissions(user_obj: Any) -> QuerySet[Permission]:
    """The model permissions ``user_obj`` (a user or their id) holds, directly or through a group
    (perhaps repeated)."""
    return Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))


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
        values = {
            "user_id": user_obj.pk,
            "content_type_id": ctype.pk,
            "codename": perm.split(".", 1)[-1],
            "object_pk": str(obj.pk),
        }
        if hasattr(user_obj, "_perm_cache"):
            return bool(_HELD_ON_OBJECT.rows(**values))
        # The user's model permissions are not known yet: read them in the same query.
        user_obj._perm_cache = set()
        granted = False
        for app_label, codename, on_object in _HELD_WITH_MODEL_PERMISSIONS.rows(**values):
            if on_object:
                granted = True
            else:
                user_obj._perm_cache.add(f"{app_label}.{codename}")
        return granted


def _held_on_object(
    user_id: Any, content_type_id: Any, codename: Any, object_pk: Any
) -> QuerySet[Permission]:
    """The permission, if the user holds it on the object, directly or through a group."""
    user_model: Any = get_user_obj_perms_model()
    group_model: Any = get_group_obj_perms_model()
    held = {
        "content_type_id": content_type_id,
        "object_pk": object_pk,
        "permission": OuterRef("pk"),
    }
    return Permission.objects.filter(content_type_id=content_type_id, codename=codename).filter(
        Exists(user_model.objects.filter(user_id=user_id, **held))
        | Exists(group_model.objects.filter(group__user=user_id, **held))
    )


def _held_with_model_permissions(**values: Any) -> QuerySet[Any]:
    """:func:`_held_on_object`, and every model permission of the user, each row marked which."""
    return _labelled(_held_on_object(**values), True).union(
        _labelled(_model_permissions(values["user_id"]), False), all=True
    )


def _labelled(permissions: QuerySet[Permission], on_object: bool) -> QuerySet[Any]:
    return permissions.order_by().values(
        "content_type__app_label",
        "codename",
        on_object=Value(on_object, output_field=BooleanField()),
    )


# Built once per database, run with each check's values (cycle.prepared): the checks of every
# request and every service ask these same two questions.
_QUESTION = {"user_id": int, "content_type_id": int, "codename": str, "object_pk": str}
_HELD_ON_OBJECT = PreparedRead(
    lambda **values: _held_on_object(**values).values("pk")[:1], **_QUESTION
)
_HELD_WITH_MODEL_PERMISSIONS = PreparedRead(_held_with_model_permissions, **_QUESTION)
