"""What a representative reads is plain: no jargon, and a reading level of about a 9-year-old.

Measured with textstat (Flesch-Kincaid grade) over the words of every representative-facing
template (template tags, variables and HTML taken out), the labels, hints and error messages of
their forms, the confirmations they get, what their home page asks of them, and every
notification the panel is sent (``cycle.notifications``, one text per kind). The scores are printed:

    python3 manage.py test tests/web/test_reading_level.py -s -p no:xdist

Syllables are counted by textstat's hyphenation counter (pyphen, British English). For "en"
textstat would first look words up in NLTK's CMU dictionary, which it downloads on first use;
the tests must run offline, so the language is given as "en-GB", which textstat does not read as
English and so counts by hyphenation alone. Hyphenation counts slightly fewer syllables than the
dictionary, so the grades may read a little low.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import textstat
from django import forms
from django.utils import timezone

from cycle import notifications, reminders
from cycle.web import selectors
from cycle.web.views import representative

TEMPLATES = Path(representative.__file__).resolve().parents[1] / "templates" / "web"
REPRESENTATIVE_TEMPLATES = [
    *sorted((TEMPLATES / "representative").glob("*.html")),
    TEMPLATES / "home" / "asked_of_you.html",
    TEMPLATES / "meetings" / "coming.html",
    TEMPLATES / "meetings" / "list.html",
    TEMPLATES / "meetings" / "meeting.html",
    TEMPLATES / "duty" / "pressures.html",
    TEMPLATES / "help.html",
]
JARGON = re.compile(r"\b(task|tasks|process|processes|artifact|artefact|execute|executed)\b", re.I)

# Flesch-Kincaid grade 5 is a reader of about 10; grade 4, about 9.
MOST_PER_TEXT = 6.0
MOST_OVERALL = 5.0
SCORES: dict[str, float] = {}


def template_words(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    # Each piece of text between tags (a heading, a list item, a button) reads as a sentence.
    pieces = [re.sub(r"\s+", " ", piece).strip() for piece in re.split(r"<[^>]+>", source)]
    return " ".join(
        piece if piece.endswith((".", "?", "!", ":")) else piece + "."
        for piece in pieces
        if re.search(r"[A-Za-z]{2}", piece)
    )


def form_words(form_class: type[forms.Form]) -> str:
    parts = []
    for field in form_class.base_fields.values():
        parts.append(str(field.label or ""))
        parts.append(str(field.help_text or ""))
        parts.extend(str(message) for message in field.error_messages.values())
        parts.extend(str(label) for _, label in getattr(field, "choices", ()))
    return " ".join(
        part if part.endswith((".", "?", "!")) else part + "." for part in parts if part
    )


def confirmations() -> str:
    view = SimpleNamespace()
    agreement = SimpleNamespace(version=2)
    texts = [
        representative.AcknowledgeView.confirmation(view, SimpleNamespace(agreement=agreement)),
        representative.SignOffView.confirmation(view, SimpleNamespace(kind="attest")),
        representative.SignOffView.confirmation(view, SimpleNamespace(kind="dissent")),
        representative.WithdrawView.confirmation(view, None),
        representative.InputNewView.confirmation(view, None),
        representative.AgreementSignView.confirmation(view, SimpleNamespace(agreement=agreement)),
        representative.InterestsView.confirmation(view, SimpleNamespace(interest="none")),
        representative.InterestsView.confirmation(view, SimpleNamespace(interest="other")),
    ]
    return " ".join(texts)


def notifications_to_the_panel() -> dict[str, str]:
    """Every notification a representative gets, built by the functions that write them, with
    short plain stand-ins for what other people write (reasons, answers, the terms)."""
    sent: dict[str, list[str]] = {}

    def capture(**arguments: object) -> list[object]:
        message = arguments["message"]
        built = message(1) if callable(message) else message  # as the member (id 1) gets it
        sent.setdefault(str(arguments["kind"]), []).append(f"{built.subject}. {built.body}")
        return []

    cycle = SimpleNamespace(
        title="Day services",
        template_key="default",
        current_stage="design",
        organisation_id=1,
        lead_commissioner_id=2,
        involvement_lead_id=3,
    )

    def budget(amount: str | None, reason: str = "", constraints: str = "") -> SimpleNamespace:
        return SimpleNamespace(
            pk=1,
            amount=None if amount is None else Decimal(amount),
            currency="GBP",
            withheld_reason=reason,
            constraints=constraints,
            disclosed_by_id=2,
        )

    terms = {
        "purpose": "To plan the buses.",
        "user_role": "Tell us what works.",
        "influence": "influence",
        "decision_maker": "The council.",
        "commissioner_authority": "The plan.",
        "fixed_matters": "The money.",
        "open_matters": "The times.",
    }

    def boundaries(version: int, **changes: str) -> SimpleNamespace:
        return SimpleNamespace(
            pk=version,
            version=version,
            stage_key="design",
            get_influence_display=lambda: "Influence",
            **{**terms, **changes},
        )

    said = SimpleNamespace(submitted_by_id=1, source="member", text="Keep the Friday club.")
    meeting = SimpleNamespace(
        pk=1,
        held_on=date(2027, 3, 10),
        papers_issued_on=date(2027, 3, 1),
        forum="The cabinet",
        decision_maker_id=5,
    )
    with (
        mock.patch.object(notifications, "write", capture),
        mock.patch.object(notifications.selectors, "active_member_ids", lambda cycle: {1}),
        mock.patch.object(notifications, "board_member_ids", lambda cycle: set()),
        mock.patch.object(notifications, "person", lambda pk: "Gillian Marsh"),
        mock.patch.object(notifications, "_open_visit_id", lambda cycle: 1),
    ):
        for disclosure, previous in (
            (budget("500000", constraints="It must pay for the buses too."), None),
            (budget(None, "The council has not set it."), None),
            (budget("400000"), budget("500000")),
            (budget(None, "The council has not set it."), budget("500000")),
            (budget("400000"), budget(None, "Not set.")),
        ):
            notifications.budget_disclosed(cycle=cycle, disclosure=disclosure, previous=previous)
        for agreement, previous in (
            (boundaries(1), None),
            (boundaries(2, open_matters="The times and the stops."), boundaries(1)),
            (boundaries(2), boundaries(1)),
        ):
            notifications.boundaries_agreed(cycle=cycle, agreement=agreement, previous=previous)
        notifications.signoff_requested(cycle=cycle, member_ids=[1])
        for kind in ("we-did", "we-could-not", "considering"):
            answer = SimpleNamespace(kind=kind, text="It stays open.", responded_by_id=2, pk=1)
            notifications.input_responded(cycle=cycle, user_input=said, response=answer)
        notifications.gate_overridden(
            cycle=cycle,
            override=SimpleNamespace(
                pk=1,
                by_id=4,
                unmet_codes=",".join(sorted(notifications.WAIVED_IN_PLAIN_WORDS)),
                reason="The committee cannot wait.",
            ),
        )
        membership = SimpleNamespace(pk=1, member_id=1, represents="", left_reason="I moved.")
        notifications.member_joined(cycle=cycle, membership=membership)
        notifications.member_left(cycle=cycle, membership=membership)
        notifications.stage_reopened(
            cycle=cycle,
            visit=SimpleNamespace(
                pk=1, stage_key="design", opened_by_id=2, opened_reason="A new group came."
            ),
        )
        for disclosed, now in ((True, False), (True, True), (False, False)):
            pressure = SimpleNamespace(
                pk=1,
                title="The council must save money",
                disclosed=disclosed,
                implication="There may be fewer buses.",
                withheld_reason="The council has not voted yet.",
                reopened_stage="" if now else "design",
                get_category_display=lambda: "Money",
            )
            notifications.pressure_recorded(
                cycle=cycle, pressure=pressure, affected=["design"], disclosed_now=now
            )
        notifications.papers_issued(cycle=cycle, meeting=meeting)
        notifications.meeting_soon(cycle=cycle, meeting=meeting, member_ids=[1])
    for asked in (reminders.ASK_TO_READ, reminders.ASK_HOW_IT_WENT):
        item = reminders.Waiting(
            about=reminders.About.SIGNOFF,
            subject_key="",
            waiting_on=1,
            since=timezone.now(),
            what="",
            asked=asked.format(stage="Design"),
        )
        built = reminders._message(cycle, item, reminders.Level.REMINDER, 3, "Pauline Dobson")
        sent.setdefault("reminder", []).append(f"{built.subject}. {built.body}")
    return {f"message {kind}": " ".join(texts) for kind, texts in sent.items()}


def grade(words: str) -> float:
    textstat.set_lang("en-GB")
    return float(textstat.flesch_kincaid_grade(words))


def texts() -> dict[str, str]:
    found = {
        path.relative_to(TEMPLATES).as_posix(): template_words(path)
        for path in REPRESENTATIVE_TEMPLATES
    }
    for form in (
        representative.SignOffForm,
        representative.InputForm,
        representative.InterestsForm,
    ):
        found[f"form {form.__name__}"] = form_words(form)
    found["confirmations"] = confirmations()
    found["what we ask"] = " ".join(
        [
            "Read what your part is in this stage, and say you have read it.",
            "Tell us if you took part in the way that was agreed.",
            "Read the working agreement and sign it.",
            *selectors.ASK_TEXT.values(),
        ]
    )
    found["agreement labels"] = ". ".join(str(v) for v in representative.MEMBER_LABELS.values())
    found.update(notifications_to_the_panel())
    return found


@pytest.mark.parametrize("name", sorted(texts()))
def test_what_a_representative_reads_has_no_jargon(name):
    assert JARGON.findall(texts()[name]) == []


def test_what_a_representative_reads_is_at_about_a_nine_year_olds_level():
    found = texts()
    for name, words in found.items():
        SCORES[name] = grade(words)
    overall = grade(" ".join(found.values()))
    print()
    for name, score in sorted(SCORES.items(), key=lambda item: -item[1]):
        print(f"  {score:5.1f}  {name}")
    print(f"  {overall:5.1f}  all of it (Flesch-Kincaid grade)")
    assert max(SCORES.values()) <= MOST_PER_TEXT, SCORES
    assert overall <= MOST_OVERALL


REPRESENTATIVE_PAGES = [
    "",
    "boundaries/",
    "budget/",
    "sign-off/",
    "inputs/",
    "inputs/new/",
    "agreement/",
    "interests/",
    "meetings/",
]


def test_the_pages_a_representative_reads_are_scored_with_the_commissioners_words_in_them(
    demo, client_as
):
    """Not held to the level: the pages carry what commissioners wrote (role boundaries, budget
    reasons, answers), which the service shows as written. The scores show how far that text
    pulls the pages up, for whoever writes it."""
    cycle = demo["day-services"]
    client = client_as("pauline.dobson")
    scores = {}
    for page in ["/", *(f"/cycles/{cycle.pk}/{path}" for path in REPRESENTATIVE_PAGES)]:
        response = client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        main = html[html.index("<main") : html.index("</main>")]
        words = " ".join(
            piece if piece.endswith((".", "?", "!", ":")) else piece + "."
            for piece in (re.sub(r"\s+", " ", p).strip() for p in re.split(r"<[^>]+>", main))
            if re.search(r"[A-Za-z]{2}", piece)
        )
        scores[page] = (grade(words), sorted(set(JARGON.findall(words))))
    print()
    for page, (score, jargon) in scores.items():
        note = f"; jargon in the commissioners' words: {', '.join(jargon)}" if jargon else ""
        print(f"  {score:5.1f}  {page} (as rendered for pauline.dobson on day services{note})")
    assert len(scores) == len(REPRESENTATIVE_PAGES) + 1


def test_the_panel_is_never_sent_a_condition_code():
    """An override tells the panel what was let go in words, not as ``signoff.dissent``."""
    for name, words in notifications_to_the_panel().items():
        assert re.findall(r"\b[a-z]+\.[a-z_]+\b", words) == [], name
