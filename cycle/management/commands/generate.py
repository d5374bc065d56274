"""``manage.py generate``: large synthetic data with realistic shapes, for benchmarks.

    manage.py generate --organisations 20 --cycles 1000 [--seed 7] [--years 3]

What is generated, and how it is kept honest, is told in ``cycle.generator``; this is its command
line. Everything is written in one transaction holding the ledger head, so nothing else can
append meanwhile, foreign keys are checked at commit, and a failure leaves nothing behind.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction

from cycle.generator.run import Generator
from cycle.management.base import CommandLine
from cycle.models import AuditEvent


class Command(CommandLine):
    help = "Generate large synthetic data with realistic shapes (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisations", type=int, required=True)
        parser.add_argument("--cycles", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        parser.add_argument(
            "--years", type=float, default=3.0, help="How far back the history starts (3)."
        )
        parser.add_argument(
            "--batch", type=int, default=20000, help="Rows and events written per batch (20000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisations, cycles = options["organisations"], options["cycles"]
        if organisations < 1 or cycles < 0:
            raise CommandError("--organisations must be at least 1 and --cycles at least 0.")
        if options["years"] <= 0 or options["batch"] < 1:
            raise CommandError("--years and --batch must be positive.")
        started = time.monotonic()
        if connection.vendor == "sqlite":
            # Random 64-character hashes make the ledger's unique index write all over the file;
            # a larger page cache for this connection keeps that in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        generator = Generator(seed=options["seed"], years=options["years"], batch=options["batch"])
        with (
            self.progress_bar("Generating the history", 1000, counts=False) as bar,
            transaction.atomic(),
        ):
            writer = generator.run(
                organisations, cycles, lambda fraction: bar.update(int(fraction * 1000))
            )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Generated {organisations} organisations and {cycles} cycles in {elapsed:.1f}s:"
        )
        for label, count in sorted(writer.counts.items()):
            self.stdout.write(f"  {label}: {count}")
        first_at = (
            AuditEvent.objects.filter(seq=writer.first_seq).values_list("at", flat=True).first()
        )
        if writer.latest_existing and first_at and first_at < writer.latest_existing:
            self.stdout.write(
                f"  Note: the ledger already held events up to {writer.latest_existing:%Y-%m-%d}; "
                f"the generated history (from event #{writer.first_seq}) is earlier in time."
            )
