"""A cycle's decision meetings: the list (what is coming, and whether the panel had the papers in
time), scheduling one, changing one still to come, and recording the day its papers went to the
panel.

Each form is answered, then checked ("Check your answers") before the service in
``cycle.meetings`` is called; the service decides who may, and a refusal lands on the form's error
summary with nothing written. Papers sent less than 7 days before the meeting are shown as a
warning on the check page, on the list and on the gate.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.functional import cached_property

from cycle import meetings
from cycle.gates import PAPERS_NOTICE_DAYS
from cycle.models import DecisionMeeting

from .. import selectors
from ..selectors import MeetingLine
from .base import CheckAnswersMixin, CycleFormView, CyclePage
from .procurement_steps import MeetingForm, PapersForm, PapersIssueMixin, _day


class MeetingsView(CyclePage):
    """Every decision meeting of the cycle, with its papers; the lead's ways to change them."""

    template_name = "web/meetings/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        lines = selectors.meeting_lines(self.cycle)
        return super().get_context_data(
            upcoming=[line for line in lines if line.upcoming],
            held=[line for line in lines if not line.upcoming],
            notice_days=PAPERS_NOTICE_DAYS,
            **kwargs,
        )


class MeetingCheckMixin(CheckAnswersMixin):
    """The meeting pages' check: the answers, a warning where there is one, and the button."""

    check_template_name = "web/meetings/check.html"
    confirm_label = "Confirm"

    def answers(self, form: Any) -> list[tuple[str, str]]:
        raise NotImplementedError

    def warning(self, form: Any) -> str:
        return ""

    def check_context(self, form: Any) -> dict[str, Any]:
        return {
            "answers": self.answers(form),
            "warning": self.warning(form),
            "confirm_label": self.confirm_label,
        }


def _chosen(form: MeetingForm) -> str:
    names = dict(form.fields["decision_maker"].choices)  # type: ignore[attr-defined]
    return str(names.get(form.cleaned_data["decision_maker"], ""))


def _meeting_answers(form: MeetingForm) -> list[tuple[str, str]]:
    data = form.cleaned_data
    return [
        ("Date of the meeting", _day(data["held_on"])),
        ("Where it is decided", data["forum"]),
        ("Who decides", _chosen(form)),
    ]


class MeetingNewView(MeetingCheckMixin, CycleFormView):
    """Schedule a decision meeting in the current stage."""

    template_name = "web/meetings/schedule.html"
    form_class = MeetingForm
    submit_label = "Continue"
    confirm_label = "Schedule the meeting"
    success_url_name = "web:meetings"

    def answers(self, form: MeetingForm) -> list[tuple[str, str]]:
        return _meeting_answers(form)

    def perform(self, form: MeetingForm) -> DecisionMeeting:
        return self.call_service(meetings.meeting_schedule, **form.details())

    def confirmation(self, result: DecisionMeeting) -> str:
        return (
            f"You scheduled the decision meeting on {_day(result.held_on)}. Send the papers to "
            f"the panel at least {PAPERS_NOTICE_DAYS} days before it."
        )


class MeetingPageMixin:
    """A page about one decision meeting of the cycle ("not found" for any other id)."""

    kwargs: dict[str, Any]
    cycle: Any

    @cached_property
    def line(self) -> MeetingLine:
        line = selectors.meeting_line(self.cycle, self.kwargs["meeting_id"])
        if line is None:
            raise Http404("No such meeting")
        return line

    @property
    def meeting(self) -> DecisionMeeting:
        return self.line.meeting

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(  # type: ignore[misc]
            meeting=self.meeting, line=self.line, **kwargs
        )
        return context


class MeetingChangeView(MeetingPageMixin, MeetingCheckMixin, CycleFormView):
    """Move a meeting still to come, or change where it is decided or who decides."""

    template_name = "web/meetings/change.html"
    form_class = MeetingForm
    submit_label = "Continue"
    confirm_label = "Change the meeting"
    success_url_name = "web:meetings"

    def get_initial(self) -> dict[str, Any]:
        meeting = self.meeting
        return {
            "held_on": meeting.held_on,
            "forum": meeting.forum,
            "decision_maker": meeting.decision_maker_id,
        }

    def answers(self, form: MeetingForm) -> list[tuple[str, str]]:
        return _meeting_answers(form)

    def warning(self, form: MeetingForm) -> str:
        issued = self.meeting.papers_issued_on
        if issued is None:
            return ""
        notice = (form.cleaned_data["held_on"] - issued).days
        if 0 <= notice < PAPERS_NOTICE_DAYS:
            return (
                f"The papers went to the panel on {_day(issued)}. That is only {notice} days "
                f"before this date. They should have them at least {PAPERS_NOTICE_DAYS} days "
                "before."
            )
        return ""

    def perform(self, form: MeetingForm) -> DecisionMeeting:
        return self.call_service(
            meetings.meeting_change,
            meeting_id=self.meeting.pk,
            **form.details(),
        )

    def confirmation(self, result: DecisionMeeting) -> str:
        return (
            f"You changed the decision meeting. It is now {result.forum} on "
            f"{_day(result.held_on)}. The panel has been told."
        )


class MeetingPapersView(MeetingPageMixin, MeetingCheckMixin, PapersIssueMixin, CycleFormView):
    """Record the day a meeting's papers went to the panel; warn if that leaves under 7 days."""

    template_name = "web/meetings/papers.html"
    form_class = PapersForm
    submit_label = "Continue"
    confirm_label = "Record the date"
    success_url_name = "web:meetings"

    def answers(self, form: PapersForm) -> list[tuple[str, str]]:
        issued = form.cleaned_data["issued_on"]
        return [
            ("Meeting", f"{self.meeting.forum} on {_day(self.meeting.held_on)}"),
            ("Papers went to the panel on", _day(issued)),
            ("Days the panel had them", str((self.meeting.held_on - issued).days)),
        ]

    def warning(self, form: PapersForm) -> str:
        notice = (self.meeting.held_on - form.cleaned_data["issued_on"]).days
        if 0 <= notice < PAPERS_NOTICE_DAYS:
            return _late_words(notice)
        return ""

    def confirmation(self, result: DecisionMeeting) -> str:
        assert result.papers_issued_on is not None
        said = (
            f"You recorded that the papers for the meeting on {_day(result.held_on)} went to "
            f"the panel on {_day(result.papers_issued_on)}. The panel has been told."
        )
        notice = (result.held_on - result.papers_issued_on).days
        if notice < PAPERS_NOTICE_DAYS:
            said += " " + _late_words(notice)
        return said


def _late_words(notice: int) -> str:
    return (
        f"That is only {notice} days before the meeting: the panel should have the papers at "
        f"least {PAPERS_NOTICE_DAYS} days before. This is on the record. In the decision stage, "
        "the stage cannot end until the meeting moves to a later date or a governance board "
        "member accepts this, with reasons."
    )
