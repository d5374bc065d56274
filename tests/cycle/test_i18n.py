"""The messages of the rules and the services pass through Django's translation on the pages, and
the ledger keeps them in English whatever language is active (``cycle.i18n``)."""

from __future__ import annotations

import copy
import gettext
import json
import pickle
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.translation import trans_real

from cycle import gates, services
from cycle.errors import Forbidden, GateClosed
from cycle.i18n import Joined, Message, english, ngettext_lazy
from cycle.i18n import gettext_lazy as _
from cycle.models import AuditEvent
from cycle.web.forms import PageForm, SummaryItem
from cycle.web.middleware import refusal_page
from tests.factories import CycleWorld
from tests.web.pages import error_summary, text

BUDGET_MISSING = "The budget has not been disclosed, nor a reason given for withholding it."
NOT_A_REPRESENTATIVE = (
    "Only an active user representative on this cycle's panel can do this, and only for themselves."
)
GATE_CLOSED = "The involvement gate of stage %(stage)s is closed: %(unmet)s"
UNACKNOWLEDGED = (
    "%(count)d member of the panel has not acknowledged version %(version)s of the role "
    "boundaries.",
    "%(count)d members of the panel have not acknowledged version %(version)s of the role "
    "boundaries.",
)

CATALOGUE = {
    BUDGET_MISSING: "[xx] No budget yet.",
    NOT_A_REPRESENTATIVE: "[xx] Not on the panel.",
    GATE_CLOSED: "[xx] Gate of %(stage)s closed (%(unmet)s).",
    UNACKNOWLEDGED[0]: "[xx] %(count)d has not acknowledged v%(version)s.",
    UNACKNOWLEDGED[1]: "[xx] %(count)d have not acknowledged v%(version)s.",
}


class PseudoLanguage(gettext.NullTranslations):
    """A language whose catalogue holds a few of the project's messages, marked ``[xx]``."""

    def gettext(self, message: str) -> str:
        return CATALOGUE.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return CATALOGUE.get(singular if n == 1 else plural, singular if n == 1 else plural)

    def to_language(self) -> str:
        return "xx"


@pytest.fixture
def pseudo_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Django's translation machinery answers for the language ``xx`` from :data:`CATALOGUE`."""
    monkeypatch.setitem(trans_real._translations, "xx", PseudoLanguage())
    with translation.override("xx"):
        yield


def test_a_message_is_english_as_a_value_and_translated_when_shown(pseudo_language) -> None:
    message = _(BUDGET_MISSING)

    assert message == BUDGET_MISSING
    assert message.english == BUDGET_MISSING
    assert json.dumps({"message": message}) == json.dumps({"message": BUDGET_MISSING})
    assert str(message) == "[xx] No budget yet."


def test_a_plural_message_chooses_its_form_in_both_languages(pseudo_language) -> None:
    one = ngettext_lazy(*UNACKNOWLEDGED, 1, count=1, version=2)
    three = ngettext_lazy(*UNACKNOWLEDGED, 3, count=3, version=2)

    assert one == "1 member of the panel has not acknowledged version 2 of the role boundaries."
    assert three == "3 members of the panel have not acknowledged version 2 of the role boundaries."
    assert str(one) == "[xx] 1 has not acknowledged v2."
    assert str(three) == "[xx] 3 have not acknowledged v2."


def test_messages_inside_a_message_are_translated_with_it(pseudo_language) -> None:
    inner = Joined("; ", [_(BUDGET_MISSING), "plain text"])
    outer = _(GATE_CLOSED, stage="'needs'", unmet=inner)

    assert outer == f"The involvement gate of stage 'needs' is closed: {BUDGET_MISSING}; plain text"
    assert str(outer) == "[xx] Gate of 'needs' closed ([xx] No budget yet.; plain text)."


def test_without_an_active_language_a_message_reads_in_english() -> None:
    with translation.override(None):
        assert str(_(BUDGET_MISSING)) == BUDGET_MISSING
    assert english("not a message") == "not a message"


def test_the_gate_rules_give_their_messages_for_translation(pseudo_language) -> None:
    result = gates.evaluate(
        gates.StageSnapshot(stage_key="needs", active_members=frozenset({1, 2}), boundary_version=2)
    )
    messages = {item.code: item.message for item in result.unmet}

    assert all(isinstance(message, Message) for message in messages.values())
    assert str(messages["budget.missing"]) == "[xx] No budget yet."
    assert str(messages["boundaries.unacknowledged"]) == "[xx] 2 have not acknowledged v2."
    assert messages["boundaries.unacknowledged"] == (
        "2 members of the panel have not acknowledged version 2 of the role boundaries."
    )


def test_the_cycle_page_shows_the_gate_in_the_active_language(world: CycleWorld) -> None:
    client = Client()
    client.force_login(world.lead)

    with translation.override(None):
        english_page = text(client.get(f"/cycles/{world.id}/"))
    assert BUDGET_MISSING in english_page

    trans_real._translations["xx"] = PseudoLanguage()
    try:
        with translation.override("xx"):
            page = text(client.get(f"/cycles/{world.id}/"))
    finally:
        del trans_real._translations["xx"]
    assert "[xx] No budget yet." in page
    assert BUDGET_MISSING not in page


def test_a_refusal_is_shown_translated_and_recorded_in_english(
    world: CycleWorld, pseudo_language
) -> None:
    with pytest.raises(Forbidden) as refused:
        services.signoff_record(actor=world.lead, cycle_id=world.id)

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    assert error_summary(refusal_page(request, refused.value)) == ["[xx] Not on the panel."]
    event = AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED)
    assert json.loads(event.payload)["message"] == NOT_A_REPRESENTATIVE


def test_a_closed_gate_is_recorded_in_english_under_another_language(
    world: CycleWorld, pseudo_language
) -> None:
    with pytest.raises(GateClosed) as closed:
        services.stage_advance(actor=world.lead, cycle_id=world.id)

    assert str(closed.value.message).startswith("[xx] Gate of ")
    payload = json.loads(AuditEvent.objects.get(outcome=AuditEvent.Outcome.REFUSED).payload)
    assert payload["message"].startswith("The involvement gate of stage ")
    assert payload["message"] == closed.value.message.english  # type: ignore[attr-defined]


def test_a_closed_gate_on_a_form_is_summarised_translated_with_its_links(pseudo_language) -> None:
    result = gates.evaluate(gates.StageSnapshot(stage_key="needs", active_members=frozenset({1})))
    form = PageForm(data={}, fix_links={"budget.missing": "/budget/"})
    form.is_valid()

    form.add_service_error(GateClosed(result, "needs"))

    assert SummaryItem("[xx] No budget yet.", "/budget/") in form.summary_items()


def test_a_message_copied_or_pickled_is_still_translated_when_shown(pseudo_language) -> None:
    message = Joined("; ", [ngettext_lazy(*UNACKNOWLEDGED, 2, count=2, version=1), "plain"])

    for copied in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert copied == message
        assert str(copied) == "[xx] 2 have not acknowledged v1.; plain"
