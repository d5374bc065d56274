"""Joins two migrations that were written side by side; it changes nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cycle", "0005_gate_override_departures"),
        ("cycle", "0005_notification_outbox"),
    ]

    operations = []
