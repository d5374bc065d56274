"""What a representative reads is plain: no jargon, and a reading level of about a 9-year-old.

Measured with textstat (Flesch-Kincaid grade) over the words of every representative-facing template (template tags,
variables and HTML taken out), the labels, hints and error messages of their forms, the
confirmations they get, and what their home page asks of them. The scores are printed:

    python3 manage.py test tests/web/test_reading_level.py -s -p no:xdist

Syllables are counted by textstat's hyphenation counter (pyphen, British English). For "en"
textstat would first look words up in NLTK's CMU dictionary, which it downloads on first use;
the tests must run offline, so the language is given as "en-GB", which textstat does not read as
English and so counts by hyphenation alone. Hyphenation counts slightly fewer syllables than the
dictionary, so the grades may read a little low.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import textstat
from django import forms

from cycle.web import selectors
from cycle.web.views import representative

TEMPLATES = Path(representative.__file__).resolve().parents[1] / "templates" / "web"
REPRESENTATIVE_TEMPLATES = [
    *sorted((TEMPLATES / "representative").glob("*.html")),
    TEMPLATES / "home" / "asked_of_you.html",
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
        representative.SignoffView.confirmation(view, SimpleNamespace(kind="attest")),
        representative.SignoffView.confirmation(view, SimpleNamespace(kind="dissent")),
        representative.WithdrawView.confirmation(view, None),
        representative.InputNewView.confirmation(view, None),
        representative.AgreementSignView.confirmation(view, SimpleNamespace(agreement=agreement)),
        representative.InterestsView.confirmation(view, SimpleNamespace(interest="none")),
        representative.InterestsView.confirmation(view, SimpleNamespace(interest="other")),
    ]
    return " ".join(texts)


def grade(words: str) -> float:
    textstat.set_lang("en-GB")
    return float(textstat.flesch_kincaid_grade(words))


def texts() -> dict[str, str]:
    found = {
        path.relative_to(TEMPLATES).as_posix(): template_words(path)
        for path in REPRESENTATIVE_TEMPLATES
    }
    for form in (
        representative.SignoffForm,
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
