"""The caller's own notifications: the list (newest first, paged, ``?unread=true``), marking one
or all of them read, and how they want to be told (e-mail and in the app, or in the app only).

Everything here is about the caller alone, through ``cycle.notifications``: someone else's
notification is "not found", exactly as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cycle import notifications
from cycle.errors import NotFound
from cycle.models import Notification

from . import filters

TAG = "notifications"
MAX_ID = 2**63 - 1


class NotificationSerializer(serializers.ModelSerializer):
    cycle_title = serializers.CharField(source="cycle.title", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "cycle",
            "cycle_title",
            "subject",
            "body",
            "created_at",
            "read_at",
            "read",
        ]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")
    unread = serializers.IntegerField(help_text="How many are still unread.")


class PreferenceSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=Notification.Channel.choices,
        help_text="email: by e-mail and in the app; in-app: in the app only.",
    )


def _mine(user: Any) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient_id=user.pk)
        .select_related("cycle")
        .order_by("-created_at", "-id")
    )


class NotificationList(generics.ListAPIView):
    """The caller's notifications, newest first; ``unread=true`` for those not read yet."""

    serializer_class = NotificationSerializer
    filterset_class = filters.NotificationFilter

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return _mine(self.request.user)

    @extend_schema(tags=[TAG])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationRead(APIView):
    @extend_schema(
        request=None, responses=NotificationSerializer, tags=[TAG], operation_id="notification_read"
    )
    def post(self, request: Request, notification_id: int) -> Response:
        """Mark one of the caller's notifications read (already read: it stays as it was)."""
        found = (
            _mine(request.user).filter(pk=int(notification_id)).first()
            if int(notification_id) <= MAX_ID
            else None
        )
        if found is None:
            raise NotFound(
                f"You have no notification {notification_id}.", code="notification.not_found"
            )
        notifications.notifications_mark_read(actor=request.user, notification_ids=[found.pk])
        found.refresh_from_db(fields=["read_at"])
        return Response(NotificationSerializer(found).data)


class NotificationReadAll(APIView):
    @extend_schema(
        request=None, responses=MarkedSerializer, tags=[TAG], operation_id="notifications_read_all"
    )
    def post(self, request: Request) -> Response:
        """Mark every one of the caller's notifications read."""
        marked = notifications.notifications_mark_read(actor=request.user)
        unread = notifications.unread_count(request.user)
        return Response(MarkedSerializer({"marked": marked, "unread": unread}).data)


class NotificationPreferenceView(APIView):
    @extend_schema(responses=PreferenceSerializer, tags=[TAG])
    def get(self, request: Request) -> Response:
        """How the caller is told: by e-mail and in the app, or in the app only."""
        return Response({"channel": notifications.channel_for(request.user)})

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer, tags=[TAG])
    def put(self, request: Request) -> Response:
        """Choose how to be told, for everything from now on."""
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = notifications.notification_preference_set(
            actor=request.user, channel=serializer.validated_data["channel"]
        )
        return Response({"channel": preference.channel})
