"""The admin for who takes part and who may do what; every change of access is a service.

Panel membership grants and revokes the object permissions a member acts with, and working
agreements, their signatures and declarations of interest are gate conditions, so they change only
through ``roles.services``, never by hand here and are read-only.

Accounts, their role groups and activation, an organisation's staff and a governance board's
members and organisations are edited on the usual admin pages, but saving one calls the services
of ``roles.accounts`` for each change, so each is checked and on the ledger; a refused change is
shown as an error and recorded. Nobody can grant superuser status or raw permissions here
(superusers are operator accounts, made with ``manage.py createsuperuser``), staff status follows
the Administrator role, and only a superuser may set another account's password. Role groups are
data (``fixtures/roles.json``): read-only here. Nothing of this is deleted here: an account is
deactivated instead, so that its records keep their author.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cycle.admin import ReadOnlyAdmin, apply_changes, register_the_rest_read_only
from cycle.errors import ServiceError

from . import accounts, definitions
from .models import (
    AgreementSignature,
    ConflictDeclaration,
    GovernanceBoard,
    PanelMembership,
    WorkingAgreement,
)

User = get_user_model()


def _role_groups() -> Any:
    names = [spec["name"] for spec in definitions.load_roles().values()]
    return Group.objects.filter(name__in=names).order_by("name")


class AccountForm(UserChangeForm):  # type: ignore[type-arg]
    """An account's details; its roles and activation are saved through ``roles.accounts``."""

    roles = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The Administrator role lets the account into this admin; no other does."),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive account cannot sign in or act. Deactivate instead of deleting."),
    )

    class Meta(UserChangeForm.Meta):
        fields = ("username", "password", "first_name", "last_name", "email")  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = _role_groups()  # type: ignore[attr-defined]
        if self.instance.pk is not None:
            self.fields["roles"].initial = list(self.instance.groups.values_list("pk", flat=True))
            self.fields["active"].initial = self.instance.is_active


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    form = AccountForm
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    readonly_fields = (
        "is_staff",
        "is_superuser",
        "staff_of",
        "boards",
        "last_login",
        "date_joined",
    )
    filter_horizontal = ()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        own = obj.pk == request.user.pk
        account = ("username", "password") if own or request.user.is_superuser else ("username",)
        access: tuple[str, ...] = ("is_staff", "is_superuser", "staff_of", "boards")
        if not own:
            access = ("active", "roles", *access)
        return (
            (None, {"fields": account}),
            (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
            (_("Access"), {"fields": access}),
            (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        )

    @admin.display(description=_("works for"))
    def staff_of(self, user: Any) -> str:
        return ", ".join(user.organisations.values_list("name", flat=True)) or "-"

    @admin.display(description=_("sits on the governance boards"))
    def boards(self, user: Any) -> str:
        return ", ".join(user.governance_boards.values_list("name", flat=True)) or "-"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return bool(super().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = accounts.account_create(
            actor=request.user,
            username=data["username"],
            password=data.get("password1") if data.get("set_usable_password") else None,
        )
        obj.pk, obj.password, obj._state.adding = created.pk, created.password, False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change or "roles" not in form.cleaned_data:
            return
        user, actor = form.instance, request.user
        if user.pk == actor.pk:
            return  # nobody changes their own access (the fields are not on their page)
        wanted = {group.name for group in form.cleaned_data["roles"]}
        held = set(user.groups.filter(pk__in=_role_groups()).values_list("name", flat=True))
        changes: list[Callable[[], Any]] = []
        if form.cleaned_data["active"] != user.is_active:
            service = (
                accounts.account_activate
                if form.cleaned_data["active"]
                else accounts.account_deactivate
            )
            changes.append(partial(service, actor=actor, user=user))
        changes += [
            partial(accounts.role_grant, actor=actor, user=user, role=role)
            for role in sorted(wanted - held)
        ]
        changes += [
            partial(accounts.role_revoke, actor=actor, user=user, role=role)
            for role in sorted(held - wanted)
        ]
        apply_changes(request, changes)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Set a password: one's own, or as a superuser anyone's, through the service."""
        user = self.get_object(request, unquote(id))
        if user is not None and user.pk != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        if user is None or request.method != "POST":
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid():
            return super().user_change_password(request, id, form_url)
        password = (
            form.cleaned_data["password1"] if form.cleaned_data["set_usable_password"] else None
        )
        try:
            changed = accounts.account_set_password(
                actor=request.user, user=user, password=password
            )
        except ServiceError as error:
            messages.error(request, f"{error.code}: {error.message!s}")
            return HttpResponseRedirect(request.get_full_path())
        if changed.pk == request.user.pk:
            update_session_auth_hash(request, changed)
        messages.success(request, _("The password is set."))
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:auth_user_change", args=[changed.pk])
        )


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(DjangoGroupAdmin):
    """Role groups are data (``fixtures/roles.json``): shown here, changed only in the file."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GovernanceBoard)
class GovernanceBoardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A board's name is edited here; its members and organisations through the services."""

    list_display = ("name",)
    search_fields = ("name",)
    filter_horizontal = ("organisations", "members")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        board, actor, data = form.instance, request.user, form.cleaned_data
        members = set(board.members.all())
        overseen = set(board.organisations.all())
        changes: list[Callable[[], Any]] = []
        board_id = board.pk
        changes += [
            partial(accounts.board_member_add, actor=actor, board_id=board_id, user=user)
            for user in sorted(set(data["members"]) - members, key=lambda user: user.pk)
        ]
        changes += [
            partial(accounts.board_member_remove, actor=actor, board_id=board_id, user=user)
            for user in sorted(members - set(data["members"]), key=lambda user: user.pk)
        ]
        changes += [
            partial(
                accounts.board_oversight_add, actor=actor, board_id=board_id, organisation_id=pk
            )
            for pk in sorted({o.pk for o in data["organisations"]} - {o.pk for o in overseen})
        ]
        changes += [
            partial(
                accounts.board_oversight_remove,
                actor=actor,
                board_id=board_id,
                organisation_id=pk,
            )
            for pk in sorted({o.pk for o in overseen} - {o.pk for o in data["organisations"]})
        ]
        apply_changes(request, changes)


@admin.register(PanelMembership)
class PanelMembershipAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "member", "represents", "tier", "tender_panel", "joined_at", "left_at")
    list_filter = ("tier", "tender_panel")
    list_select_related = ("cycle", "member")
    search_fields = ("cycle__title", "member__username", "represents")


@admin.register(WorkingAgreement)
class WorkingAgreementAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "version", "recorded_by", "recorded_at")
    list_select_related = ("cycle", "recorded_by")


@admin.register(AgreementSignature)
class AgreementSignatureAdmin(ReadOnlyAdmin):
    cycle_lookup = "agreement__cycle"
    list_display = ("agreement", "member", "signed_at")
    list_select_related = ("agreement", "member")


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "member", "interest", "declared_at")
    list_filter = ("interest",)
    list_select_related = ("cycle", "member")


register_the_rest_read_only("roles")
