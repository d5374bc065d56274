"""The organisations and everyone in them, written with ``bulk_create``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db.models import Max

from cycle.models import Organisation
from roles.definitions import load_roles
from roles.models import GovernanceBoard

from .vocabulary import FIRST_NAMES, LAST_NAMES, ORGANISATION_KINDS, PLACES


@dataclass
class Staff:
    organisation: Organisation
    commissioners: list[int]
    decision_makers: list[int]
    involvement_leads: list[int]
    governors: list[int]
    representatives: list[int]


class People:
    """Creates the organisations and everyone in them, with ``bulk_create``."""

    def __init__(self, rng: random.Random, joined: datetime) -> None:
        self.rng = rng
        self.joined = joined
        self.user_model = get_user_model()
        self.next_number = (self.user_model.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.groups = {
            key: Group.objects.get(name=spec["name"]) for key, spec in load_roles().items()
        }
        self.usernames: dict[int, str] = {}
        self.password = make_password(None)

    def _users(self, count: int) -> list[Any]:
        users = []
        for _ in range(count):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            username = f"{first}.{last}.{self.next_number}".lower().replace("'", "")
            self.next_number += 1
            users.append(
                self.user_model(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.org",
                    password=self.password,  # unusable: nobody signs in as a generated person
                    date_joined=self.joined,
                )
            )
        return users

    def create(self, organisations: int, representatives_each: int) -> list[Staff]:
        rng = self.rng
        taken = set(Organisation.objects.values_list("name", flat=True))
        names = []
        for _ in range(organisations):
            base = f"{rng.choice(PLACES)} {rng.choice(ORGANISATION_KINDS)}"
            name, n = base, 2
            while name in taken:
                name, n = f"{base} {n}", n + 1
            taken.add(name)
            names.append(name)
        orgs = Organisation.objects.bulk_create([Organisation(name=name) for name in names])
        plan: list[tuple[Organisation, dict[str, list[Any]]]] = []
        everyone: list[Any] = []
        for org in orgs:
            roles = {
                "commissioner": self._users(rng.randint(3, 8)),
                "decision-maker": self._users(rng.randint(1, 3)),
                "involvement-lead": self._users(rng.randint(1, 3)),
                "governance": self._users(rng.randint(3, 5)),
                "representative": self._users(representatives_each),
            }
            plan.append((org, roles))
            for users in roles.values():
                everyone.extend(users)
        self.user_model.objects.bulk_create(everyone, batch_size=2000)
        self.usernames.update({user.pk: user.username for user in everyone})
        in_group = self.user_model.groups.through
        on_staff = Organisation.staff.through
        oversees = GovernanceBoard.organisations.through
        sits_on = GovernanceBoard.members.through
        boards = GovernanceBoard.objects.bulk_create(
            [GovernanceBoard(name=f"{org.name} governance board") for org, _ in plan]
        )
        groups, staff, overseen, seats, result = [], [], [], [], []
        for (org, roles), board in zip(plan, boards, strict=True):
            for key, users in roles.items():
                groups += [in_group(user_id=u.pk, group_id=self.groups[key].pk) for u in users]
            for user in roles["commissioner"] + roles["decision-maker"]:
                staff.append(on_staff(organisation_id=org.pk, user_id=user.pk))
            overseen.append(oversees(governanceboard_id=board.pk, organisation_id=org.pk))
            seats += [
                sits_on(governanceboard_id=board.pk, user_id=u.pk) for u in roles["governance"]
            ]
            result.append(
                Staff(
                    organisation=org,
                    commissioners=[u.pk for u in roles["commissioner"]],
                    decision_makers=[u.pk for u in roles["decision-maker"]],
                    involvement_leads=[u.pk for u in roles["involvement-lead"]],
                    governors=[u.pk for u in roles["governance"]],
                    representatives=[u.pk for u in roles["representative"]],
                )
            )
        in_group.objects.bulk_create(groups, batch_size=2000)
        on_staff.objects.bulk_create(staff, batch_size=2000)
        oversees.objects.bulk_create(overseen)
        sits_on.objects.bulk_create(seats, batch_size=2000)
        return result
